// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cache monitors: a cache side channel (Prime+Probe, Flush+Reload) between
 * co-located VNFs shows as a burst of cache misses in the attacker, and
 * often in the victim. A monitor is one kernel perf counter, per task or
 * per CPU, sampled every period; when it grew by at least the threshold
 * within one period, a VNFSEC_KMOD_EV_CACHE_THRESHOLD event is raised.
 *
 * The source is configurable: hardware cache-miss or LLC read-miss events
 * where a PMU exists, software events (page faults, context switches, CPU
 * clock) everywhere, so that the whole path (counter, sampling, threshold,
 * event) runs in a VM without a PMU.
 *
 * The page-fault and context-switch sources enable a static key on the
 * first counter and disable it with the last (perf_swevent_enabled[]); a
 * per-task counter also enables perf_sched_events. The kernel then
 * live-patches jump labels in the fault path and in __schedule(). Correct
 * on hardware and KVM, but under QEMU TCG a vCPU can loop forever on a
 * stale translation of the patch's int3 (docs/kmod.md): tests that add
 * and remove monitors in a loop use the per-CPU CPU clock, which patches
 * nothing.
 *
 * Lifetime: see vnfsec.h. A monitor lives while it is in client->monitors;
 * its remover cancels the sampling work, then releases the counter.
 * Sampling takes mon->lock: perf_event_read_value() sleeps.
 */

#include <linux/cpumask.h>
#include <linux/perf_event.h>
#include <linux/pid.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "vnfsec.h"

#define VNFSEC_CACHE_PERIOD_MIN_MS	10
#define VNFSEC_CACHE_PERIOD_MAX_MS	3600000

struct vnfsec_cache_mon {
	u32 id;
	struct vnfsec_client *client;	/* outlives us: release() waits */
	struct perf_event *event;
	unsigned long period;		/* jiffies */
	u64 threshold;
	struct delayed_work work;

	struct mutex lock;		/* below */
	u64 last_value;
	u64 last_ns;
};

static int vnfsec_cache_attr(u32 source, struct perf_event_attr *attr,
			     bool *hw)
{
	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	*hw = false;
	switch (source) {
	case VNFSEC_KMOD_CACHE_HW_CACHE_MISSES:
		attr->type = PERF_TYPE_HARDWARE;
		attr->config = PERF_COUNT_HW_CACHE_MISSES;
		*hw = true;
		return 0;
	case VNFSEC_KMOD_CACHE_HW_LLC_READ_MISSES:
		attr->type = PERF_TYPE_HW_CACHE;
		attr->config = PERF_COUNT_HW_CACHE_LL |
			       (PERF_COUNT_HW_CACHE_OP_READ << 8) |
			       (PERF_COUNT_HW_CACHE_RESULT_MISS << 16);
		*hw = true;
		return 0;
	case VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS:
		attr->type = PERF_TYPE_SOFTWARE;
		attr->config = PERF_COUNT_SW_PAGE_FAULTS;
		return 0;
	case VNFSEC_KMOD_CACHE_SW_CONTEXT_SWITCHES:
		attr->type = PERF_TYPE_SOFTWARE;
		attr->config = PERF_COUNT_SW_CONTEXT_SWITCHES;
		return 0;
	case VNFSEC_KMOD_CACHE_SW_CPU_CLOCK:
		attr->type = PERF_TYPE_SOFTWARE;
		attr->config = PERF_COUNT_SW_CPU_CLOCK;
		return 0;
	default:
		return -EINVAL;
	}
}

/* Reads the counter, raises the event when over threshold. mon->lock held. */
static void vnfsec_cache_sample_locked(struct vnfsec_cache_mon *mon,
				       u64 *value, u64 *delta)
{
	struct vnfsec_kmod_event ev = {
		.type = VNFSEC_KMOD_EV_CACHE_THRESHOLD,
		.object_id = mon->id,
	};
	u64 enabled, running, now;

	*value = perf_event_read_value(mon->event, &enabled, &running);
	now = ktime_get_ns();
	*delta = *value - mon->last_value;
	if (*delta >= mon->threshold) {
		ev.arg[0] = *delta;
		ev.arg[1] = mon->threshold;
		ev.arg[2] = now - mon->last_ns;
		ev.arg[3] = *value;
		vnfsec_event_raise(mon->client, &ev);
	}
	mon->last_value = *value;
	mon->last_ns = now;
}

static void vnfsec_cache_work(struct work_struct *work)
{
	struct vnfsec_cache_mon *mon = container_of(to_delayed_work(work),
						    struct vnfsec_cache_mon,
						    work);
	u64 value, delta;

	mutex_lock(&mon->lock);
	vnfsec_cache_sample_locked(mon, &value, &delta);
	mutex_unlock(&mon->lock);
	queue_delayed_work(vnfsec_wq, &mon->work, mon->period);
}

static struct perf_event *vnfsec_cache_counter(struct perf_event_attr *attr,
					       const struct vnfsec_kmod_cache_add *a)
{
	struct perf_event *event;
	struct task_struct *t;
	struct pid *pid;

	if (!a->pid) {
		if (a->cpu < 0 || a->cpu >= nr_cpu_ids || !cpu_online(a->cpu))
			return ERR_PTR(-ENODEV);
		return perf_event_create_kernel_counter(attr, a->cpu, NULL,
							NULL, NULL);
	}
	pid = find_get_pid(a->pid);
	t = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	put_pid(pid);
	if (!t)
		return ERR_PTR(-ESRCH);
	/* A task's counters tell of its memory use: as readable as it. */
	if (!vnfsec_may_read_task(t)) {
		put_task_struct(t);
		return ERR_PTR(-EPERM);
	}
	event = perf_event_create_kernel_counter(attr, -1, t, NULL, NULL);
	put_task_struct(t);
	return event;
}

int vnfsec_cache_add(struct vnfsec_client *c, struct vnfsec_kmod_cache_add *a)
{
	struct vnfsec_cache_mon *mon;
	struct perf_event_attr attr;
	struct perf_event *event;
	u64 enabled, running;
	bool hw;
	int ret;

	if (a->__pad0 || a->__pad1 || !a->threshold ||
	    a->period_ms < VNFSEC_CACHE_PERIOD_MIN_MS ||
	    a->period_ms > VNFSEC_CACHE_PERIOD_MAX_MS ||
	    (a->pid && a->cpu != -1))
		return -EINVAL;
	ret = vnfsec_cache_attr(a->source, &attr, &hw);
	if (ret)
		return ret;

	event = vnfsec_cache_counter(&attr, a);
	if (IS_ERR(event)) {
		ret = PTR_ERR(event);
		/* No PMU (VMs, these test machines): say so, plainly. */
		if (hw && (ret == -ENOENT || ret == -EOPNOTSUPP ||
			   ret == -ENODEV || ret == -EINVAL)) {
			pr_notice_ratelimited("cache monitor: hardware source %u not supported here (no PMU, perf error %d); use a software source\n",
					      a->source, ret);
			return -EOPNOTSUPP;
		}
		return ret;
	}

	mon = kzalloc(sizeof(*mon), GFP_KERNEL);
	if (!mon) {
		ret = -ENOMEM;
		goto err_event;
	}
	mon->event = event;
	mon->client = c;
	mon->threshold = a->threshold;
	mon->period = msecs_to_jiffies(a->period_ms);
	mutex_init(&mon->lock);
	INIT_DELAYED_WORK(&mon->work, vnfsec_cache_work);
	mon->last_value = perf_event_read_value(event, &enabled, &running);
	mon->last_ns = ktime_get_ns();

	mutex_lock(&c->lock);
	if (c->nr_monitors >= READ_ONCE(vnfsec_max_watches)) {
		ret = -ENOSPC;
		goto err_unlock;
	}
	ret = idr_alloc(&c->monitors, mon, 1, 0, GFP_KERNEL);
	if (ret < 0)
		goto err_unlock;
	mon->id = ret;
	c->nr_monitors++;
	queue_delayed_work(vnfsec_wq, &mon->work, mon->period);
	mutex_unlock(&c->lock);

	a->monitor_id = mon->id;
	return 0;

err_unlock:
	mutex_unlock(&c->lock);
	kfree(mon);
err_event:
	perf_event_release_kernel(event);
	return ret;
}

static void vnfsec_cache_destroy(struct vnfsec_cache_mon *mon)
{
	cancel_delayed_work_sync(&mon->work);
	perf_event_release_kernel(mon->event);
	kfree(mon);
}

int vnfsec_cache_remove(struct vnfsec_client *c, u32 id)
{
	struct vnfsec_cache_mon *mon;

	mutex_lock(&c->lock);
	mon = idr_remove(&c->monitors, id);
	if (mon)
		c->nr_monitors--;
	mutex_unlock(&c->lock);
	if (!mon)
		return -ENOENT;
	vnfsec_cache_destroy(mon);
	return 0;
}

void vnfsec_cache_release(struct vnfsec_client *c)
{
	struct vnfsec_cache_mon *mon;
	int id;

	for (;;) {
		id = 0;
		mutex_lock(&c->lock);
		mon = idr_get_next(&c->monitors, &id);
		if (mon) {
			idr_remove(&c->monitors, id);
			c->nr_monitors--;
		}
		mutex_unlock(&c->lock);
		if (!mon)
			break;
		vnfsec_cache_destroy(mon);
	}
}

int vnfsec_cache_sample(struct vnfsec_client *c,
			struct vnfsec_kmod_cache_sample *a)
{
	struct vnfsec_cache_mon *mon;

	if (a->__reserved)
		return -EINVAL;
	mutex_lock(&c->lock);
	mon = idr_find(&c->monitors, a->monitor_id);
	if (!mon) {
		mutex_unlock(&c->lock);
		return -ENOENT;
	}
	mutex_lock(&mon->lock);
	vnfsec_cache_sample_locked(mon, &a->value, &a->delta);
	mutex_unlock(&mon->lock);
	mutex_unlock(&c->lock);
	return 0;
}
