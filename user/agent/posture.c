// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user/agent/nslink.h"
#include "user/agent/posture.h"
#include "user/common/log.h"

#define POSTURE_PORTS_MAX	32

struct posture {
	char dir[PATH_MAX / 2];
	int inotify_fd;
	unsigned int nr;
	struct vnf_posture vnfs[POSTURE_VNFS_MAX];
	void (*notify)(void *ctx, const struct vnf_posture *v, bool appeared);
	void *notify_ctx;
	int ports[POSTURE_PORTS_MAX];
	unsigned int nr_ports;
};

void posture_set_ports(struct posture *p, const int *ports, unsigned int nr)
{
	p->nr_ports = nr < POSTURE_PORTS_MAX ? nr : POSTURE_PORTS_MAX;
	memcpy(p->ports, ports, p->nr_ports * sizeof(*ports));
}

void posture_set_notify(struct posture *p,
			void (*fn)(void *ctx, const struct vnf_posture *v,
				   bool appeared),
			void *ctx)
{
	p->notify = fn;
	p->notify_ctx = ctx;
}

static unsigned char prefix_len(const struct sockaddr *mask)
{
	const uint8_t *b;
	size_t n, i;
	unsigned char bits = 0;

	if (!mask)
		return 0;
	if (mask->sa_family == AF_INET) {
		b = (const uint8_t *)&((const struct sockaddr_in *)mask)->sin_addr;
		n = 4;
	} else {
		b = (const uint8_t *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		n = 16;
	}
	for (i = 0; i < n; i++)
		bits += __builtin_popcount(b[i]);
	return bits;
}

static struct vnf_iface *iface_of(struct vnf_posture *v, const char *name)
{
	unsigned int i;

	for (i = 0; i < v->nr_ifaces; i++)
		if (!strcmp(v->ifaces[i].name, name))
			return &v->ifaces[i];
	if (v->nr_ifaces == POSTURE_IFACES_MAX)
		return NULL;
	snprintf(v->ifaces[v->nr_ifaces].name, sizeof(v->ifaces[0].name),
		 "%s", name);
	return &v->ifaces[v->nr_ifaces++];
}

/* Interfaces and addresses, read from inside the VNF's namespace. */
static int read_ifaces(struct vnf_posture *v, int netns_fd, int self_fd,
		       const int *ports, unsigned int nr_ports)
{
	struct ifaddrs *ifa, *it;
	int ret = 0;

	if (setns(netns_fd, CLONE_NEWNET))
		return -errno;
	if (getifaddrs(&ifa))
		ret = -errno;
	v->linked = nr_ports && nslink_peer_of(self_fd, ports, nr_ports);
	/* Back home before anything else: all else runs in our netns. */
	if (setns(self_fd, CLONE_NEWNET)) {
		log_err("posture: cannot return to the agent's namespace: %s; exiting",
			strerror(errno));
		abort();
	}
	if (ret)
		return ret;
	for (it = ifa; it; it = it->ifa_next) {
		struct vnf_iface *vi;
		char addr[INET6_ADDRSTRLEN];
		const void *a;

		if (!strcmp(it->ifa_name, "lo"))
			continue;
		vi = iface_of(v, it->ifa_name);
		if (!vi || !it->ifa_addr ||
		    (it->ifa_addr->sa_family != AF_INET &&
		     it->ifa_addr->sa_family != AF_INET6) ||
		    vi->nr_addrs == POSTURE_ADDRS_MAX)
			continue;
		a = it->ifa_addr->sa_family == AF_INET ?
			(const void *)&((struct sockaddr_in *)it->ifa_addr)->sin_addr :
			(const void *)&((struct sockaddr_in6 *)it->ifa_addr)->sin6_addr;
		inet_ntop(it->ifa_addr->sa_family, a, addr, sizeof(addr));
		snprintf(vi->addrs[vi->nr_addrs++], sizeof(vi->addrs[0]),
			 "%s/%u", addr, prefix_len(it->ifa_netmask));
	}
	freeifaddrs(ifa);
	return 0;
}

/* Processes whose network namespace is the VNF's. */
static void read_pids(struct posture *p)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;

	if (!proc)
		return;
	while ((de = readdir(proc))) {
		char path[64], comm[16] = "";
		struct stat st;
		unsigned int i;
		pid_t pid;
		FILE *f;

		pid = strtol(de->d_name, NULL, 10);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (stat(path, &st))
			continue;
		for (i = 0; i < p->nr; i++) {
			struct vnf_posture *v = &p->vnfs[i];

			if (v->netns_ino != (uint64_t)st.st_ino)
				continue;
			if (v->nr_pids < POSTURE_PIDS_MAX) {
				snprintf(path, sizeof(path), "/proc/%d/comm",
					 pid);
				f = fopen(path, "r");
				if (f) {
					if (fgets(comm, sizeof(comm), f))
						comm[strcspn(comm, "\n")] = '\0';
					fclose(f);
				}
				v->pids[v->nr_pids] = pid;
				memcpy(v->comms[v->nr_pids], comm,
				       sizeof(comm));
			}
			v->nr_pids++;
			break;
		}
	}
	closedir(proc);
}

static const struct vnf_posture *find(const struct vnf_posture *vs,
				      unsigned int nr, const char *name)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (!strcmp(vs[i].name, name))
			return &vs[i];
	return NULL;
}

int posture_scan(struct posture *p)
{
	struct vnf_posture *old;
	unsigned int old_nr = p->nr, i;
	struct dirent *de;
	int self_fd;
	DIR *d;

	old = malloc(sizeof(p->vnfs));
	if (!old)
		return -ENOMEM;
	memcpy(old, p->vnfs, sizeof(p->vnfs));
	self_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	d = opendir(p->dir);
	p->nr = 0;
	while (d && self_fd >= 0 && (de = readdir(d)) &&
	       p->nr < POSTURE_VNFS_MAX) {
		struct vnf_posture *v = &p->vnfs[p->nr];
		char path[PATH_MAX];
		struct stat st;
		int fd;

		/* Longer names are not ip-netns ones: not a VNF of ours. */
		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(v->name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", p->dir, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(v, 0, sizeof(*v));
		snprintf(v->name, sizeof(v->name), "%s", de->d_name);
		if (!fstat(fd, &st) && !read_ifaces(v, fd, self_fd, p->ports, p->nr_ports)) {
			v->netns_ino = st.st_ino;
			p->nr++;
		}
		close(fd);
	}
	if (d)
		closedir(d);
	if (self_fd >= 0)
		close(self_fd);
	read_pids(p);

	for (i = 0; i < p->nr; i++) {
		if (find(old, old_nr, p->vnfs[i].name))
			continue;
		log_info("posture: VNF %s appeared (%u interfaces, %u processes)",
			 p->vnfs[i].name, p->vnfs[i].nr_ifaces,
			 p->vnfs[i].nr_pids);
		if (p->notify)
			p->notify(p->notify_ctx, &p->vnfs[i], true);
	}
	for (i = 0; i < old_nr; i++) {
		if (find(p->vnfs, p->nr, old[i].name))
			continue;
		log_info("posture: VNF %s is gone", old[i].name);
		if (p->notify)
			p->notify(p->notify_ctx, &old[i], false);
	}
	free(old);
	return 0;
}

bool posture_changed(struct posture *p)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;

	while (read(p->inotify_fd, buf, sizeof(buf)) > 0)
		changed = true;
	return changed;
}

int posture_open(const char *netns_dir, struct posture **out, int *fd)
{
	struct posture *p = calloc(1, sizeof(*p));
	int ret;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	snprintf(p->dir, sizeof(p->dir), "%s", netns_dir);
	/* ip-netns creates the folder with the first namespace. */
	mkdir(netns_dir, 0755);
	p->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (p->inotify_fd < 0 ||
	    inotify_add_watch(p->inotify_fd, netns_dir,
			      IN_CREATE | IN_DELETE | IN_MOVED_TO |
			      IN_MOVED_FROM) < 0) {
		ret = -errno;
		log_err("posture: cannot watch %s: %s", netns_dir,
			strerror(-ret));
		if (p->inotify_fd >= 0)
			close(p->inotify_fd);
		free(p);
		return ret;
	}
	ret = posture_scan(p);
	if (ret) {
		posture_close(p);
		return ret;
	}
	*out = p;
	*fd = p->inotify_fd;
	return 0;
}

void posture_close(struct posture *p)
{
	if (!p)
		return;
	close(p->inotify_fd);
	free(p);
}

unsigned int posture_count(const struct posture *p)
{
	return p->nr;
}

const struct vnf_posture *posture_get(const struct posture *p,
				      unsigned int i)
{
	return i < p->nr ? &p->vnfs[i] : NULL;
}
