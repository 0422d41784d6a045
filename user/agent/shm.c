// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
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

struct shm_monitor {
	struct vnfsec_kmod *k;
	unsigned int nr;
	uint32_t ids[SHM_WATCHES_MAX];
	char names[SHM_WATCHES_MAX][POLICY_NAME_LEN];
	uint64_t lost;
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
		if (ret == -ENOENT) {
			log_info("kernel module not loaded: shared-memory and cache inspection are off (insmod vnfsec.ko to turn them on)");
			return 0;
		}
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

void shm_watch_policy(struct shm_monitor *m, const struct policy_compiled *p,
		      const struct posture *posture)
{
	uint64_t netns[POLICY_MAX_MAPPERS];
	uint32_t i, j;

	if (!m)
		return;
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
	case VNFSEC_KMOD_EV_CACHE_THRESHOLD:
		a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_CACHE_SIDE_CHANNEL;
		a.severity = 6;
		a.count = e->arg[0];
		log_warn("cache monitor %u: counter rose by %llu in one interval",
			 e->object_id, (unsigned long long)e->arg[0]);
		break;
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

unsigned int shm_watch_count(const struct shm_monitor *m)
{
	return m ? m->nr : 0;
}

uint64_t shm_lost_events(const struct shm_monitor *m)
{
	return m ? m->lost : 0;
}
