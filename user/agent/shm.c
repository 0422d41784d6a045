// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/vnfsec_policy.h"
#include "user/agent/posture.h"
#include "user/agent/shm.h"
#include "user/common/clock.h"
#include "user/common/kmod_client.h"
#include "user/common/log.h"
#include "user/common/vnfsec.pb-c.h"

#define SHM_WATCHES_MAX POLICY_MAX_SHM
/* Every process the posture lists for each monitored VNF. */
#define CACHE_MONITORS_MAX (POLICY_MAX_CACHE_VNFS * POSTURE_PIDS_MAX)

struct cache_mon {
	uint32_t id;
	pid_t pid;
	char vnf[POLICY_NAME_LEN];
	char comm[16];
};

struct shm_monitor {
	struct vnfsec_kmod *k;
	unsigned int nr;
	uint32_t ids[SHM_WATCHES_MAX];
	char names[SHM_WATCHES_MAX][POLICY_NAME_LEN];
	uint64_t lost;
	unsigned int nr_cache;
	struct cache_mon cache[CACHE_MONITORS_MAX];
	bool cache_unsupported_said;
};

int shm_open_monitor(struct shm_monitor **out, int *fd)
{
	struct shm_monitor *m;
	int ret;

	*out = NULL;
	*fd = -1;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	ret = vnfsec_kmod_open(&m->k);
	if (ret) {
		free(m);
		/* vnfsec_kmod_open() said so, once (ARCHITECTURE.md). */
		if (ret == -ENOENT)
			return 0;
		return ret;
	}
	*out = m;
	*fd = vnfsec_kmod_fd(m->k);
	log_info("kernel module found: shared-memory and cache inspection on");
	return 0;
}

static void unwatch_all(struct shm_monitor *m)
{
	while (m->nr)
		vnfsec_kmod_watch_remove(m->k, m->ids[--m->nr]);
}

void shm_close_monitor(struct shm_monitor *m)
{
	if (!m)
		return;
	vnfsec_kmod_close(m->k);	/* ends every watch of ours */
	free(m);
}

static unsigned int allowed_netns(const struct policy_compiled *p,
				  const struct policy_shm_region *r,
				  const struct posture *posture, uint64_t *out)
{
	unsigned int n = 0, i, j;

	for (i = 0; i < r->n_mappers; i++) {
		const struct policy_vnf *v = &p->vnfs[r->mappers[i]];

		for (j = 0; j < posture_count(posture); j++) {
			const struct vnf_posture *vp = posture_get(posture, j);

			if (!strcmp(vp->name, v->netns[0] ? v->netns : v->name))
				out[n++] = vp->netns_ino;
		}
	}
	return n;
}

static void cache_remove_all(struct shm_monitor *m)
{
	int fd = vnfsec_kmod_fd(m->k);

	while (m->nr_cache) {
		struct vnfsec_kmod_watch_ref ref = {
			.size = sizeof(ref), .id = m->cache[--m->nr_cache].id,
		};

		if (ioctl(fd, VNFSEC_KMOD_IOC_CACHE_REMOVE, &ref) &&
		    errno != ENOENT)
			log_warn("cache: cannot stop monitor %u: %s", ref.id,
				 strerror(errno));
	}
}

static uint32_t cache_source(uint32_t counter)
{
	switch (counter) {
	case POLICY_CACHE_MISSES:
		return VNFSEC_KMOD_CACHE_HW_CACHE_MISSES;
	case POLICY_CACHE_PAGE_FAULTS:
		return VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS;
	case POLICY_CACHE_CONTEXT_SWITCHES:
		return VNFSEC_KMOD_CACHE_SW_CONTEXT_SWITCHES;
	default:
		return VNFSEC_KMOD_CACHE_HW_LLC_READ_MISSES;
	}
}

/*
 * The policy's cache section: one module monitor per process of each
 * named VNF (its namespace's processes, from the posture), following
 * the counter; over flush_per_s * window_s in one window of window_s,
 * the module raises an event (docs/agent.md). Hardware counters without
 * a PMU: said once, nothing else changes.
 */
static void cache_watch_policy(struct shm_monitor *m,
			       const struct policy_compiled *p,
			       const struct posture *posture)
{
	const struct policy_cache *c = &p->cache;
	int fd = vnfsec_kmod_fd(m->k);
	uint32_t i, j, k;

	cache_remove_all(m);
	if (!c->n_vnfs || !c->flush_per_s || !c->window_s)
		return;
	for (i = 0; i < c->n_vnfs; i++) {
		const struct policy_vnf *v = &p->vnfs[c->vnfs[i]];
		const char *ns = v->netns[0] ? v->netns : v->name;
		const struct vnf_posture *vp = NULL;
		unsigned int started = 0;

		for (j = 0; posture && j < posture_count(posture); j++)
			if (!strcmp(posture_get(posture, j)->name, ns))
				vp = posture_get(posture, j);
		if (!vp || !vp->nr_pids) {
			log_warn("cache: VNF %s has no process running (namespace %s): not monitored until the policy is applied again",
				 v->name, ns);
			continue;
		}
		for (k = 0; k < vp->nr_pids && k < POSTURE_PIDS_MAX &&
			    m->nr_cache < CACHE_MONITORS_MAX; k++) {
			struct vnfsec_kmod_cache_add add = {
				.size = sizeof(add),
				.source = cache_source(c->counter),
				.pid = (uint32_t)vp->pids[k],
				.cpu = -1,
				.period_ms = c->window_s * 1000,
				.threshold = (uint64_t)c->flush_per_s *
					     c->window_s,
			};
			struct cache_mon *cm = &m->cache[m->nr_cache];

			if (ioctl(fd, VNFSEC_KMOD_IOC_CACHE_ADD, &add)) {
				if (errno == EOPNOTSUPP) {
					if (!m->cache_unsupported_said)
						log_warn("cache: counter %s is unsupported here (no hardware performance counters); cache side channels are not monitored (a software counter, cache.counter: page_faults, drives the path in tests)",
							 policy_cache_counter_name(c->counter));
					m->cache_unsupported_said = true;
					return;
				}
				log_warn("cache: cannot monitor pid %d of VNF %s: %s",
					 vp->pids[k], v->name, strerror(errno));
				continue;
			}
			cm->id = add.monitor_id;
			cm->pid = vp->pids[k];
			snprintf(cm->vnf, sizeof(cm->vnf), "%s", v->name);
			snprintf(cm->comm, sizeof(cm->comm), "%s", vp->comms[k]);
			m->nr_cache++;
			started++;
		}
		log_info("cache %s: monitoring %u processes, %s over %u per %u s",
			 v->name, started,
			 policy_cache_counter_name(c->counter),
			 c->flush_per_s * c->window_s, c->window_s);
	}
}

static const struct cache_mon *cache_mon_of(const struct shm_monitor *m,
					    uint32_t id)
{
	unsigned int i;

	for (i = 0; i < m->nr_cache; i++)
		if (m->cache[i].id == id)
			return &m->cache[i];
	return NULL;
}

void shm_watch_policy(struct shm_monitor *m, const struct policy_compiled *p,
		      const struct posture *posture)
{
	uint64_t netns[POLICY_MAX_MAPPERS];
	uint32_t i, j;

	if (!m)
		return;
	cache_watch_policy(m, p, posture);
	unwatch_all(m);
	for (i = 0; i < p->n_shm && m->nr < SHM_WATCHES_MAX; i++) {
		const struct policy_shm_region *r = &p->shm[i];
		struct vnfsec_kmod_allow allow = { .netns = netns };
		struct stat st;
		uint32_t id;
		int fd;

		/* The module asks for a writable descriptor: proof of access. */
		fd = open(r->path, O_RDWR | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st)) {
			log_warn("shm %s: cannot open %s: %s; not watched",
				 r->name, r->path, strerror(errno));
			if (fd >= 0)
				close(fd);
			continue;
		}
		allow.nr_netns = allowed_netns(p, r, posture, netns);
		if (vnfsec_kmod_watch_fd(m->k, fd, 0, st.st_size, &allow, 0,
					 &id)) {
			close(fd);
			continue;
		}
		close(fd);
		for (j = 0; j < r->n_ranges; j++)
			vnfsec_kmod_protect(m->k, id, r->immutable[j].offset,
					    r->immutable[j].length);
		m->ids[m->nr] = id;
		snprintf(m->names[m->nr++], POLICY_NAME_LEN, "%s", r->name);
		log_info("shm %s: watching %s (%lld bytes, %u allowed VNFs, %u immutable ranges)",
			 r->name, r->path, (long long)st.st_size,
			 allow.nr_netns, r->n_ranges);
	}
}

static const char *region_name(const struct shm_monitor *m, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (m->ids[i] == id)
			return m->names[i];
	return "?";
}

static void to_assessment(struct shm_monitor *m, struct event_ctx *ev,
			  const struct vnfsec_kmod_event *e)
{
	struct assessment a = { .count = 1, .window_ms = 0 };

	switch (e->type) {
	case VNFSEC_KMOD_EV_SHM_MAPPER:
		a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_SHM_INTRUSION;
		a.severity = 8;
		log_warn("shm %s: mapped by %s (pid %u), a process of no allowed VNF",
			 region_name(m, e->object_id), e->comm, e->pid);
		break;
	case VNFSEC_KMOD_EV_SHM_TAMPER:
		a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_SHM_INTRUSION;
		a.severity = 9;
		log_warn("shm %s: an immutable range changed",
			 region_name(m, e->object_id));
		break;
	case VNFSEC_KMOD_EV_CACHE_THRESHOLD: {
		const struct cache_mon *cm = cache_mon_of(m, e->object_id);

		a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_CACHE_SIDE_CHANNEL;
		a.severity = 6;
		a.count = e->arg[0];
		a.threshold = e->arg[1] > UINT32_MAX ? UINT32_MAX :
			      (uint32_t)e->arg[1];
		a.window_ms = e->arg[2] / 1000000;
		if (cm) {
			snprintf(a.vnf_src, sizeof(a.vnf_src), "%s", cm->vnf);
			snprintf(a.process, sizeof(a.process), "%d %.15s",
				 cm->pid, cm->comm);
		}
		log_warn("cache side channel signs in VNF %s (pid %d %s): counter rose by %llu in one window (threshold %llu)",
			 cm ? cm->vnf : "?", cm ? cm->pid : 0,
			 cm ? cm->comm : "?", (unsigned long long)e->arg[0],
			 (unsigned long long)e->arg[1]);
		a.time_unix_ms = clock_wall_ms();
		events_submit(ev, &a, 0);
		return;
	}
	case VNFSEC_KMOD_EV_SHM_GONE:
		log_info("shm %s: region gone; its watch ended",
			 region_name(m, e->object_id));
		return;
	case VNFSEC_KMOD_EV_LOST:
		m->lost += e->arg[0];
		log_warn("kernel module dropped %llu events (%llu in all): its queue was full",
			 (unsigned long long)e->arg[0],
			 (unsigned long long)m->lost);
		return;
	default:
		return;
	}
	a.time_unix_ms = clock_wall_ms();
	snprintf(a.process, sizeof(a.process), "%u %.15s", e->pid, e->comm);
	events_submit(ev, &a, 0);
}

void shm_read_events(struct shm_monitor *m, struct event_ctx *ev)
{
	struct vnfsec_kmod_event evs[32];
	int n, i;

	while ((n = vnfsec_kmod_read_events(m->k, evs, 32)) > 0)
		for (i = 0; i < n; i++)
			to_assessment(m, ev, &evs[i]);
}

unsigned int shm_cache_count(const struct shm_monitor *m)
{
	return m ? m->nr_cache : 0;
}

unsigned int shm_watch_count(const struct shm_monitor *m)
{
	return m ? m->nr : 0;
}

uint64_t shm_lost_events(const struct shm_monitor *m)
{
	return m ? m->lost : 0;
}
