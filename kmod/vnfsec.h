/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vnfsec module internals shared by its files: the per-descriptor client,
 * its event queue, shared-memory watches and cache monitors.
 *
 * Lifetime, in one place:
 *  - struct vnfsec_client is created by open() and reference counted
 *    (@ref): the open file holds one reference, every watch another. The
 *    last put frees it, possibly from a watch's work after release().
 *  - A watch or a monitor lives while it sits in its client's idr. Whoever
 *    removes it from the idr (under client->lock) frees it: an ioctl, the
 *    release of the file, or a watch's own work when the region is gone.
 *    Every ioctl that uses one runs under client->lock, so it cannot be
 *    freed under the ioctl. A remover other than the work itself first
 *    cancels the work synchronously (outside client->lock: the work may
 *    take it).
 *  - The event ring is protected by client->ev_lock (a spinlock: raised
 *    from works and ioctls, never from interrupt context).
 *  - All works run on vnfsec_wq; module exit destroys it, which waits for
 *    a last self-removing work still running.
 */
#ifndef VNFSEC_H
#define VNFSEC_H

#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "uapi/vnfsec_kmod.h"

struct file;
struct pid_namespace;

struct vnfsec_client {
	struct kref ref;
	struct mutex lock;		/* @watches, @monitors, their objects */
	struct idr watches;
	struct idr monitors;
	u32 nr_watches;
	u32 nr_monitors;
	struct pid_namespace *pid_ns;	/* of the opener: pids in the ABI */

	spinlock_t ev_lock;		/* everything below */
	wait_queue_head_t ev_wait;
	struct vnfsec_kmod_event *ev_ring;
	u32 ev_cap;
	u32 ev_head;			/* oldest queued record */
	u32 ev_count;
	u64 ev_seq;
	u64 ev_raised;
	u64 ev_lost;			/* total since open */
	u64 ev_lost_pending;		/* not yet reported by a LOST record */
	u64 ev_lost_seq;		/* seq of the first of those */
};

extern struct workqueue_struct *vnfsec_wq;
extern unsigned int vnfsec_check_period_ms;
extern unsigned int vnfsec_snapshot_max;
extern unsigned int vnfsec_max_watches;

void vnfsec_client_put(struct vnfsec_client *c);

/* events.c */
int vnfsec_events_init(struct vnfsec_client *c, u32 capacity);
void vnfsec_events_free(struct vnfsec_client *c);
void vnfsec_event_raise(struct vnfsec_client *c, struct vnfsec_kmod_event *ev);
ssize_t vnfsec_events_read(struct vnfsec_client *c, char __user *buf,
			   size_t count, bool nonblock);
__poll_t vnfsec_events_poll(struct vnfsec_client *c, struct file *file,
			    poll_table *wait);
void vnfsec_events_stats(struct vnfsec_client *c,
			 struct vnfsec_kmod_stats *st);

/* shm_watch.c; the ioctls take a kernel copy of the argument. */
int vnfsec_shm_init(void);
void vnfsec_shm_exit(void);
bool vnfsec_may_read_task(struct task_struct *t);
int vnfsec_watch_add(struct vnfsec_client *c, struct vnfsec_kmod_watch_add *a);
int vnfsec_watch_remove(struct vnfsec_client *c, u32 id);
void vnfsec_watches_release(struct vnfsec_client *c);
int vnfsec_watch_protect(struct vnfsec_client *c,
			 struct vnfsec_kmod_watch_protect *a);
int vnfsec_watch_check(struct vnfsec_client *c,
		       struct vnfsec_kmod_watch_check *a);
int vnfsec_watch_mappers(struct vnfsec_client *c,
			 struct vnfsec_kmod_watch_mappers *a);
int vnfsec_watch_scan(struct vnfsec_client *c, struct vnfsec_kmod_watch_scan *a);
int vnfsec_watch_snapshot(struct vnfsec_client *c,
			  struct vnfsec_kmod_watch_snapshot *a);

/* cache_mon.c */
int vnfsec_cache_add(struct vnfsec_client *c, struct vnfsec_kmod_cache_add *a);
int vnfsec_cache_remove(struct vnfsec_client *c, u32 id);
void vnfsec_cache_release(struct vnfsec_client *c);
int vnfsec_cache_sample(struct vnfsec_client *c,
			struct vnfsec_kmod_cache_sample *a);

#endif /* VNFSEC_H */
