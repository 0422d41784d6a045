// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fast path as the agent holds it. Whoever loads it (this agent, or an
 * operator with `bpftool prog loadall ... pinmaps`), the pins look the same:
 *   <pin-dir>/vnfsec_xdp        the XDP program
 *   <pin-dir>/maps/<map name>   every map
 * so a restarted agent adopts what is pinned, and enforcement never stops.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "user/agent/agent.h"
#include "user/common/log.h"
#include "vnfsec.skel.h"

/* What each pinned map must look like to be ours. */
static const struct map_spec {
	const char *name;
	__u32 type, key_size, value_size;
	size_t fd_offset;
} map_specs[] = {
	{ "flow_table", BPF_MAP_TYPE_LRU_HASH, sizeof(struct vnfsec_flow_key),
	  sizeof(struct vnfsec_flow_state),
	  offsetof(struct sensor, flow_table_fd) },
	{ "counters", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
	  sizeof(__u64), offsetof(struct sensor, counters_fd) },
	{ "blocklist_v4", BPF_MAP_TYPE_LPM_TRIE,
	  sizeof(struct vnfsec_lpm_v4_key), sizeof(struct vnfsec_block_entry),
	  offsetof(struct sensor, blocklist_v4_fd) },
	{ "events", BPF_MAP_TYPE_RINGBUF, 0, 0,
	  offsetof(struct sensor, events_fd) },
};

static int *spec_fd(struct sensor *s, const struct map_spec *m)
{
	return (int *)((char *)s + m->fd_offset);
}

static int ensure_bpffs(const char *pin_dir)
{
	struct statfs st;

	if (strncmp(pin_dir, "/sys/fs/bpf/", 12))
		return 0;	/* the operator chose another bpffs */
	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		int err = -errno;

		log_err("/sys/fs/bpf is not a bpffs and mounting one failed: %s; mount it with 'mount -t bpf bpf /sys/fs/bpf'",
			strerror(-err));
		return err;
	}
	log_info("mounted bpffs at /sys/fs/bpf (it was not mounted)");
	return 0;
}

static int check_map(int fd, const struct map_spec *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != m->type ||
	    (m->key_size && (info.key_size != m->key_size ||
			     info.value_size != m->value_size))) {
		log_err("pinned map %s has type %u key %u value %u, this agent expects %u/%u/%u (ABI %d): reload the sensor with --fresh",
			m->name, info.type, info.key_size, info.value_size,
			m->type, m->key_size, m->value_size,
			VNFSEC_ABI_VERSION);
		return -EPROTO;
	}
	return 0;
}

static int adopt(struct sensor *s, const char *pin_dir)
{
	char path[PATH_MAX];
	unsigned int i;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, VNFSEC_PROG_XDP);
	s->prog_fd = bpf_obj_get(path);
	if (s->prog_fd < 0)
		return -errno;
	for (i = 0; i < sizeof(map_specs) / sizeof(map_specs[0]); i++) {
		const struct map_spec *m = &map_specs[i];
		int fd;

		snprintf(path, sizeof(path), "%s/maps/%s", pin_dir, m->name);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			ret = -errno;
			log_err("program is pinned in %s but map %s is not (%s): load with 'bpftool prog loadall ... pinmaps %s/maps' or start the agent with --fresh",
				pin_dir, path, strerror(-ret), pin_dir);
			return ret;
		}
		*spec_fd(s, m) = fd;
		ret = check_map(fd, m);
		if (ret)
			return ret;
	}
	s->adopted = true;
	log_info("adopted the fast path pinned in %s", pin_dir);
	return 0;
}

static void unpin_all(const char *pin_dir)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < sizeof(map_specs) / sizeof(map_specs[0]); i++) {
		snprintf(path, sizeof(path), "%s/maps/%s", pin_dir,
			 map_specs[i].name);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%s", pin_dir, VNFSEC_PROG_XDP);
	unlink(path);
}

static int load_and_pin(struct sensor *s, const char *pin_dir)
{
	char maps_dir[PATH_MAX], path[PATH_MAX];
	unsigned int i;
	int ret;

	s->skel = vnfsec_bpf__open_and_load();
	if (!s->skel) {
		ret = -errno;
		log_err("cannot load the BPF fast path: %s (run as root; see the libbpf messages above)",
			strerror(-ret));
		return ret;
	}
	snprintf(maps_dir, sizeof(maps_dir), "%s/maps", pin_dir);
	snprintf(path, sizeof(path), "%s/%s", pin_dir, VNFSEC_PROG_XDP);
	if ((mkdir(pin_dir, 0700) && errno != EEXIST) ||
	    (mkdir(maps_dir, 0700) && errno != EEXIST)) {
		ret = -errno;
		log_err("cannot create pin directory %s: %s", maps_dir,
			strerror(-ret));
		return ret;
	}
	ret = bpf_object__pin_maps(s->skel->obj, maps_dir);
	if (!ret)
		ret = bpf_program__pin(s->skel->progs.vnfsec_xdp, path);
	if (ret) {
		log_err("cannot pin the fast path in %s: %s (stale pins? start with --fresh)",
			pin_dir, strerror(-ret));
		return ret;
	}
	s->prog_fd = bpf_program__fd(s->skel->progs.vnfsec_xdp);
	for (i = 0; i < sizeof(map_specs) / sizeof(map_specs[0]); i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(
			s->skel->obj, map_specs[i].name);

		*spec_fd(s, &map_specs[i]) = map ? bpf_map__fd(map) : -1;
		if (!map)
			return -ENOENT;
	}
	log_info("loaded the fast path and pinned it in %s", pin_dir);
	return 0;
}

static int attach(struct sensor *s, const struct agent_config *cfg)
{
	__u32 flags = cfg->xdp_skb_mode ? XDP_FLAGS_SKB_MODE :
					  XDP_FLAGS_DRV_MODE;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), our_id;
	unsigned int i;

	if (bpf_obj_get_info_by_fd(s->prog_fd, &info, &len))
		return -errno;
	our_id = info.id;
	for (i = 0; i < cfg->nr_ifaces; i++) {
		const char *name = cfg->ifaces[i];
		int ifindex = if_nametoindex(name);
		__u32 cur_id = 0;

		if (!ifindex) {
			log_err("interface %s: %s; check --iface", name,
				strerror(errno));
			return -ENODEV;
		}
		if (bpf_xdp_query_id(ifindex, 0, &cur_id) == 0 && cur_id &&
		    cur_id != our_id) {
			int fd = bpf_prog_get_fd_by_id(cur_id);

			memset(&info, 0, sizeof(info));
			len = sizeof(info);
			if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) &&
			    strcmp(info.name, VNFSEC_PROG_XDP)) {
				close(fd);
				log_err("interface %s already runs XDP program '%s' (id %u); vnfsec does not replace another XDP user: detach it first",
					name, info.name, cur_id);
				return -EBUSY;
			}
			if (fd >= 0)
				close(fd);
		}
		if (bpf_xdp_attach(ifindex, s->prog_fd, flags, NULL)) {
			int err = -errno;

			log_err("cannot attach XDP to %s in %s mode: %s", name,
				cfg->xdp_skb_mode ? "generic" : "native",
				strerror(-err));
			return err;
		}
		s->ifindex[s->nr_attached++] = ifindex;
		log_info("XDP fast path attached to %s (%s mode)", name,
			 cfg->xdp_skb_mode ? "generic" : "native");
	}
	return 0;
}

int sensor_open(struct sensor *s, const struct agent_config *cfg)
{
	char path[PATH_MAX];
	struct stat st;
	unsigned int i;
	int ret;

	memset(s, 0, sizeof(*s));
	s->prog_fd = -1;
	for (i = 0; i < sizeof(map_specs) / sizeof(map_specs[0]); i++)
		*spec_fd(s, &map_specs[i]) = -1;

	ret = ensure_bpffs(cfg->pin_dir);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", cfg->pin_dir, VNFSEC_PROG_XDP);
	if (cfg->fresh) {
		unpin_all(cfg->pin_dir);
		ret = load_and_pin(s, cfg->pin_dir);
	} else if (stat(path, &st) == 0) {
		ret = adopt(s, cfg->pin_dir);
	} else {
		ret = load_and_pin(s, cfg->pin_dir);
	}
	if (!ret)
		ret = attach(s, cfg);
	if (ret)
		sensor_close(s, cfg);
	return ret;
}

void sensor_close(struct sensor *s, const struct agent_config *cfg)
{
	__u32 flags = cfg->xdp_skb_mode ? XDP_FLAGS_SKB_MODE :
					  XDP_FLAGS_DRV_MODE;
	unsigned int i;

	if (cfg->detach_on_exit) {
		for (i = 0; i < s->nr_attached; i++)
			bpf_xdp_detach(s->ifindex[i], flags, NULL);
		if (s->nr_attached)
			log_info("detached the fast path from %u interfaces",
				 s->nr_attached);
	}
	s->nr_attached = 0;
	if (s->skel) {
		/* The skeleton owns its fds; pins keep the objects alive. */
		vnfsec_bpf__destroy(s->skel);
		s->skel = NULL;
		return;
	}
	if (s->prog_fd >= 0)
		close(s->prog_fd);
	for (i = 0; i < sizeof(map_specs) / sizeof(map_specs[0]); i++)
		if (*spec_fd(s, &map_specs[i]) >= 0)
			close(*spec_fd(s, &map_specs[i]));
}

int sensor_counter(const struct sensor *s, enum vnfsec_counter c,
		   uint64_t *out)
{
	int nr_cpus = libbpf_num_possible_cpus();
	__u32 key = c;
	__u64 *vals;
	int i, ret = 0;

	*out = 0;
	if (nr_cpus < 0)
		return nr_cpus;
	vals = calloc(nr_cpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(s->counters_fd, &key, vals))
		ret = -errno;
	for (i = 0; !ret && i < nr_cpus; i++)
		*out += vals[i];
	free(vals);
	return ret;
}
