// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-descriptor event queue: a bounded ring of fixed-size records,
 * read() whole records at a time, poll() for EPOLLIN. A record that finds
 * the ring full is dropped, never an older one: the reader keeps the
 * history it has not read yet and learns how much was lost from a
 * VNFSEC_KMOD_EV_LOST record and from the STATS counters.
 */

#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "vnfsec.h"

int vnfsec_events_init(struct vnfsec_client *c, u32 capacity)
{
	c->ev_ring = kvcalloc(capacity, sizeof(*c->ev_ring), GFP_KERNEL);
	if (!c->ev_ring)
		return -ENOMEM;
	c->ev_cap = capacity;
	spin_lock_init(&c->ev_lock);
	init_waitqueue_head(&c->ev_wait);
	return 0;
}

void vnfsec_events_free(struct vnfsec_client *c)
{
	kvfree(c->ev_ring);
	c->ev_ring = NULL;
}

static void vnfsec_ring_push(struct vnfsec_client *c,
			     const struct vnfsec_kmod_event *ev)
{
	c->ev_ring[(c->ev_head + c->ev_count) % c->ev_cap] = *ev;
	c->ev_count++;
}

/* A LOST record for the events dropped so far. c->ev_lock held. */
static void vnfsec_lost_record(struct vnfsec_client *c,
			       struct vnfsec_kmod_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->size = sizeof(*ev);
	ev->type = VNFSEC_KMOD_EV_LOST;
	ev->seq = c->ev_lost_seq;
	ev->time_ns = ktime_get_ns();
	ev->arg[0] = c->ev_lost_pending;
	c->ev_lost_pending = 0;
}

/*
 * Fills the header fields of @ev and queues a copy of it, or counts it
 * lost. After a loss, the LOST record takes the first free slot, so the
 * reader sees it exactly where the gap is.
 */
void vnfsec_event_raise(struct vnfsec_client *c, struct vnfsec_kmod_event *ev)
{
	struct vnfsec_kmod_event lost;

	ev->size = sizeof(*ev);
	ev->__pad0 = 0;
	ev->time_ns = ktime_get_ns();

	spin_lock(&c->ev_lock);
	ev->seq = c->ev_seq++;
	c->ev_raised++;
	if (c->ev_lost_pending && c->ev_count < c->ev_cap) {
		vnfsec_lost_record(c, &lost);
		vnfsec_ring_push(c, &lost);
	}
	if (!c->ev_lost_pending && c->ev_count < c->ev_cap) {
		vnfsec_ring_push(c, ev);
	} else {
		if (!c->ev_lost_pending)
			c->ev_lost_seq = ev->seq;
		c->ev_lost++;
		c->ev_lost_pending++;
	}
	spin_unlock(&c->ev_lock);

	wake_up_interruptible(&c->ev_wait);
}

static bool vnfsec_events_ready(struct vnfsec_client *c)
{
	bool ready;

	spin_lock(&c->ev_lock);
	ready = c->ev_count || c->ev_lost_pending;
	spin_unlock(&c->ev_lock);
	return ready;
}

/*
 * Takes the next record to deliver into @ev: the oldest queued one, or,
 * once the ring is drained, a LOST record for events dropped since.
 */
static bool vnfsec_event_take(struct vnfsec_client *c,
			      struct vnfsec_kmod_event *ev)
{
	bool got = true;

	spin_lock(&c->ev_lock);
	if (c->ev_count) {
		*ev = c->ev_ring[c->ev_head];
		c->ev_head = (c->ev_head + 1) % c->ev_cap;
		c->ev_count--;
	} else if (c->ev_lost_pending) {
		vnfsec_lost_record(c, ev);
	} else {
		got = false;
	}
	spin_unlock(&c->ev_lock);
	return got;
}

/* Puts back a record taken but not copied (bad buffer): nothing is lost. */
static void vnfsec_event_untake(struct vnfsec_client *c,
				const struct vnfsec_kmod_event *ev)
{
	spin_lock(&c->ev_lock);
	if (c->ev_count < c->ev_cap) {
		c->ev_head = (c->ev_head + c->ev_cap - 1) % c->ev_cap;
		c->ev_ring[c->ev_head] = *ev;
		c->ev_count++;
	} else {
		/* Raises refilled the ring meanwhile: this one is lost too. */
		if (!c->ev_lost_pending)
			c->ev_lost_seq = ev->seq;
		if (ev->type == VNFSEC_KMOD_EV_LOST) {
			c->ev_lost_pending += ev->arg[0];
		} else {
			c->ev_lost++;
			c->ev_lost_pending++;
		}
	}
	spin_unlock(&c->ev_lock);
}

ssize_t vnfsec_events_read(struct vnfsec_client *c, char __user *buf,
			   size_t count, bool nonblock)
{
	struct vnfsec_kmod_event ev;
	size_t done = 0;
	int ret;

	if (count < sizeof(ev))
		return -EINVAL;

	while (!vnfsec_events_ready(c)) {
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_interruptible(c->ev_wait,
					       vnfsec_events_ready(c));
		if (ret)
			return ret;
	}

	while (count - done >= sizeof(ev) && vnfsec_event_take(c, &ev)) {
		if (copy_to_user(buf + done, &ev, sizeof(ev))) {
			vnfsec_event_untake(c, &ev);
			return done ? done : -EFAULT;
		}
		done += sizeof(ev);
	}
	return done;
}

__poll_t vnfsec_events_poll(struct vnfsec_client *c, struct file *file,
			    poll_table *wait)
{
	poll_wait(file, &c->ev_wait, wait);
	return vnfsec_events_ready(c) ? EPOLLIN | EPOLLRDNORM : 0;
}

void vnfsec_events_stats(struct vnfsec_client *c,
			 struct vnfsec_kmod_stats *st)
{
	spin_lock(&c->ev_lock);
	st->queue_len = c->ev_cap;
	st->queued = c->ev_count;
	st->lost = c->ev_lost;
	st->raised = c->ev_raised;
	spin_unlock(&c->ev_lock);
}
