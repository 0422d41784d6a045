// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client of /dev/vnfsec: see kmod_client.h. A thin layer: the kernel
 * validates every argument again; this side fills the size handshake,
 * turns errors into negative errnos and logs one line each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "user/common/kmod_client.h"
#include "user/common/log.h"

struct vnfsec_kmod {
	int fd;
	struct vnfsec_kmod_version version;
};

int vnfsec_kmod_open(struct vnfsec_kmod **out)
{
	const uint64_t need = VNFSEC_KMOD_FEAT_EVENTS |
			      VNFSEC_KMOD_FEAT_SHM_WATCH;
	struct vnfsec_kmod *k;
	int ret;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k) {
		log_err("kmod: out of memory opening %s", VNFSEC_KMOD_DEVICE_PATH);
		return -ENOMEM;
	}
	k->fd = open(VNFSEC_KMOD_DEVICE_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0) {
		ret = -errno;
		if (ret == -ENOENT || ret == -ENXIO || ret == -ENODEV) {
			log_info("kmod: %s absent: shared-memory and cache inspection off (load kmod/vnfsec.ko to enable)",
				 VNFSEC_KMOD_DEVICE_PATH);
			ret = -ENOENT;
		} else {
			log_err("kmod: cannot open %s: %s (needs CAP_NET_ADMIN)",
				VNFSEC_KMOD_DEVICE_PATH, strerror(-ret));
		}
		goto err_free;
	}
	k->version.size = sizeof(k->version);
	if (ioctl(k->fd, VNFSEC_KMOD_IOC_VERSION, &k->version)) {
		ret = -errno;
		log_err("kmod: version handshake with %s failed: %s (module and tools from different releases?)",
			VNFSEC_KMOD_DEVICE_PATH, strerror(-ret));
		goto err_close;
	}
	if (k->version.abi_version < VNFSEC_KMOD_ABI_VERSION ||
	    (k->version.features & need) != need) {
		log_err("kmod: module ABI %u (features 0x%llx) is older than ours (%u): load a matching kmod/vnfsec.ko",
			k->version.abi_version,
			(unsigned long long)k->version.features,
			VNFSEC_KMOD_ABI_VERSION);
		ret = -EPROTONOSUPPORT;
		goto err_close;
	}
	*out = k;
	return 0;

err_close:
	close(k->fd);
err_free:
	free(k);
	return ret;
}

void vnfsec_kmod_close(struct vnfsec_kmod *k)
{
	if (!k)
		return;
	close(k->fd);
	free(k);
}

int vnfsec_kmod_fd(const struct vnfsec_kmod *k)
{
	return k->fd;
}

const struct vnfsec_kmod_version *
vnfsec_kmod_version(const struct vnfsec_kmod *k)
{
	return &k->version;
}

static int allow_fill(struct vnfsec_kmod_watch_add *a,
		      const struct vnfsec_kmod_allow *allow)
{
	if (!allow)
		return 0;
	if (allow->nr_pids > VNFSEC_KMOD_ALLOW_MAX ||
	    allow->nr_cgroups > VNFSEC_KMOD_ALLOW_MAX ||
	    allow->nr_netns > VNFSEC_KMOD_ALLOW_MAX) {
		log_err("kmod: allowed set too large (at most %d of each kind)",
			VNFSEC_KMOD_ALLOW_MAX);
		return -EINVAL;
	}
	a->nr_allow_pids = allow->nr_pids;
	a->nr_allow_cgroups = allow->nr_cgroups;
	a->nr_allow_netns = allow->nr_netns;
	if (allow->nr_pids)
		memcpy(a->allow_pids, allow->pids,
		       allow->nr_pids * sizeof(*allow->pids));
	if (allow->nr_cgroups)
		memcpy(a->allow_cgroups, allow->cgroups,
		       allow->nr_cgroups * sizeof(*allow->cgroups));
	if (allow->nr_netns)
		memcpy(a->allow_netns, allow->netns,
		       allow->nr_netns * sizeof(*allow->netns));
	return 0;
}

static int watch_add(struct vnfsec_kmod *k, struct vnfsec_kmod_watch_add *a,
		     uint32_t *id)
{
	if (ioctl(k->fd, VNFSEC_KMOD_IOC_WATCH_ADD, a)) {
		int ret = -errno;

		log_err("kmod: cannot add a shared-memory watch (fd %d, pid %u, %llu bytes): %s",
			a->fd, a->pid, (unsigned long long)a->len,
			strerror(-ret));
		return ret;
	}
	*id = a->watch_id;
	return 0;
}

int vnfsec_kmod_watch_fd(struct vnfsec_kmod *k, int fd, uint64_t offset,
			 uint64_t len, const struct vnfsec_kmod_allow *allow,
			 uint32_t period_ms, uint32_t *id)
{
	struct vnfsec_kmod_watch_add a = {
		.size = sizeof(a),
		.kind = VNFSEC_KMOD_WATCH_FD,
		.fd = fd,
		.offset = offset,
		.len = len,
		.period_ms = period_ms,
	};
	int ret = allow_fill(&a, allow);

	return ret ? ret : watch_add(k, &a, id);
}

int vnfsec_kmod_watch_range(struct vnfsec_kmod *k, pid_t pid, uint64_t addr,
			    uint64_t len, const struct vnfsec_kmod_allow *allow,
			    uint32_t period_ms, uint32_t *id)
{
	struct vnfsec_kmod_watch_add a = {
		.size = sizeof(a),
		.kind = VNFSEC_KMOD_WATCH_PID_RANGE,
		.fd = -1,
		.pid = (uint32_t)pid,
		.addr = addr,
		.len = len,
		.period_ms = period_ms,
	};
	int ret = allow_fill(&a, allow);

	return ret ? ret : watch_add(k, &a, id);
}

int vnfsec_kmod_protect(struct vnfsec_kmod *k, uint32_t id, uint64_t offset,
			uint64_t len)
{
	struct vnfsec_kmod_watch_protect p = {
		.size = sizeof(p), .watch_id = id, .offset = offset, .len = len,
	};

	if (ioctl(k->fd, VNFSEC_KMOD_IOC_WATCH_PROTECT, &p)) {
		int ret = -errno;

		log_err("kmod: cannot protect bytes %llu+%llu of watch %u: %s",
			(unsigned long long)offset, (unsigned long long)len,
			id, strerror(-ret));
		return ret;
	}
	return 0;
}

int vnfsec_kmod_watch_remove(struct vnfsec_kmod *k, uint32_t id)
{
	struct vnfsec_kmod_watch_ref ref = { .size = sizeof(ref), .id = id };

	if (ioctl(k->fd, VNFSEC_KMOD_IOC_WATCH_REMOVE, &ref)) {
		int ret = -errno;

		log_err("kmod: cannot remove watch %u: %s", id, strerror(-ret));
		return ret;
	}
	return 0;
}

int vnfsec_kmod_read_events(struct vnfsec_kmod *k,
			    struct vnfsec_kmod_event *ev, size_t max)
{
	ssize_t n;

	if (!max)
		return 0;
	if (max > 4096)
		max = 4096;	/* keeps the count an int */
	n = read(k->fd, ev, max * sizeof(*ev));
	if (n < 0) {
		if (errno == EAGAIN)
			return 0;
		n = -errno;
		log_err("kmod: reading events from %s failed: %s",
			VNFSEC_KMOD_DEVICE_PATH, strerror((int)-n));
		return (int)n;
	}
	return (int)(n / (ssize_t)sizeof(*ev));
}
