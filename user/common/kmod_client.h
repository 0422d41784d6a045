/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Client of the vnfsec kernel module (/dev/vnfsec), for the agent and
 * tools: open and version check, shared-memory watches, events.
 *
 *	struct vnfsec_kmod *k;
 *	struct vnfsec_kmod_event ev[16];
 *	uint32_t id;
 *	int n;
 *
 *	if (vnfsec_kmod_open(&k) == -ENOENT)
 *		... module not loaded: run without it (already logged) ...
 *	vnfsec_kmod_watch_fd(k, memfd, 0, size, &allow, 0, &id);
 *	... add vnfsec_kmod_fd(k) to epoll for EPOLLIN ...
 *	n = vnfsec_kmod_read_events(k, ev, 16);	   (0: none yet)
 *	vnfsec_kmod_close(k);	   (ends every watch of k)
 *
 * Every function returns 0 (or a count) on success and a negative errno
 * on failure, after logging one line through user/common/log.h. Record
 * layouts and the other ioctls: kmod/uapi/vnfsec_kmod.h, docs/kmod.md;
 * vnfsec_kmod_fd() serves them directly.
 */
#ifndef VNFSEC_KMOD_CLIENT_H
#define VNFSEC_KMOD_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kmod/uapi/vnfsec_kmod.h"

struct vnfsec_kmod;

/* Who may map a watched region; unlisted mappers raise events. */
struct vnfsec_kmod_allow {
	const uint32_t *pids;		/* thread group ids */
	unsigned int nr_pids;		/* at most VNFSEC_KMOD_ALLOW_MAX */
	const uint64_t *cgroups;	/* cgroup v2 ids (VNF tags) */
	unsigned int nr_cgroups;
	const uint64_t *netns;		/* network namespace inode numbers */
	unsigned int nr_netns;
};

/*
 * Opens /dev/vnfsec read-write and non-blocking, and checks the module
 * speaks our ABI. -ENOENT: the module is not loaded (logged once per call
 * at info level: the caller runs without it). -EPROTONOSUPPORT: the
 * module's ABI is older than ours.
 */
int vnfsec_kmod_open(struct vnfsec_kmod **out);

/* Closes the device; the module ends the watches and monitors of @k. */
void vnfsec_kmod_close(struct vnfsec_kmod *k);

/* The descriptor, for epoll (EPOLLIN: events to read) and raw ioctls. */
int vnfsec_kmod_fd(const struct vnfsec_kmod *k);

/* The module's answer to VNFSEC_KMOD_IOC_VERSION, taken at open. */
const struct vnfsec_kmod_version *
vnfsec_kmod_version(const struct vnfsec_kmod *k);

/*
 * Watches bytes [offset, offset + len) of the file behind @fd (memfd,
 * /dev/shm file). @allow may be NULL (nobody allowed); @period_ms 0 takes
 * the module's default. Stores the watch id in @id.
 */
int vnfsec_kmod_watch_fd(struct vnfsec_kmod *k, int fd, uint64_t offset,
			 uint64_t len, const struct vnfsec_kmod_allow *allow,
			 uint32_t period_ms, uint32_t *id);

/* As vnfsec_kmod_watch_fd(), for a shared mapping at @addr in @pid. */
int vnfsec_kmod_watch_range(struct vnfsec_kmod *k, pid_t pid, uint64_t addr,
			    uint64_t len, const struct vnfsec_kmod_allow *allow,
			    uint32_t period_ms, uint32_t *id);

/*
 * Declares bytes [offset, offset + len) of watch @id immutable: the module
 * hashes them now and raises VNFSEC_KMOD_EV_SHM_TAMPER when they change.
 */
int vnfsec_kmod_protect(struct vnfsec_kmod *k, uint32_t id, uint64_t offset,
			uint64_t len);

/* Ends watch @id. -ENOENT: no such watch (or it ended: region gone). */
int vnfsec_kmod_watch_remove(struct vnfsec_kmod *k, uint32_t id);

/*
 * Reads up to @max queued events into @ev without blocking. Returns how
 * many (0: none queued). A VNFSEC_KMOD_EV_LOST record says how many were
 * dropped before the next one.
 */
int vnfsec_kmod_read_events(struct vnfsec_kmod *k,
			    struct vnfsec_kmod_event *ev, size_t max);

#endif /* VNFSEC_KMOD_CLIENT_H */
