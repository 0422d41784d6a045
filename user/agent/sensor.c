// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fast path as the agent holds it. Whoever loads it (this agent, or an
 * operator with `bpftool prog loadall ... pinmaps`), the pins look the same:
 *   <pin-dir>/vnfsec_xdp        XDP, ingress of every VNF port
 *   <pin-dir>/vnfsec_egress     TC clsact egress of every VNF port
 *   <pin-dir>/vnfsec_ingress    TC clsact ingress, in XDP's place
 *                               (--ingress-hook tc)
 *   <pin-dir>/vnfsec_lo         TC clsact egress of lo in a VNF namespace
 *   <pin-dir>/maps/<map name>   every map (docs/bpf-maps.md)
 * so a restarted agent adopts what is pinned, and enforcement never stops.
 *
 * XDP is attached plainly (bpf_xdp_attach) or through libxdp's dispatcher,
 * so that vnfsec shares an interface with other XDP programs. libxdp is
 * opened at run time (dlopen): an agent without it still runs, and a
 * dispatcher that cannot load (libxdp 1.3.1 on 6.18: EPERM) falls back to
 * the plain attach, saying so.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
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
#define MAP(n, t, k, v) { #n, BPF_MAP_TYPE_##t, k, v,			\
			  offsetof(struct sensor, n##_fd) }
	MAP(flow_table, LRU_HASH, sizeof(struct vnfsec_flow_key),
	    sizeof(struct vnfsec_flow_state)),
	/* ABI 5: an ABI-4 pin set lacks it, and adopt() says --fresh. */
	MAP(flow_new, ARRAY, sizeof(__u32), sizeof(struct vnfsec_flow_new)),
	MAP(counters, PERCPU_ARRAY, sizeof(__u32), sizeof(__u64)),
	MAP(vnf_stats, PERCPU_ARRAY, sizeof(__u32),
	    sizeof(struct vnfsec_vnf_stats)),
	MAP(config, ARRAY, sizeof(__u32), sizeof(struct vnfsec_config)),
	MAP(blocklist_v4, LPM_TRIE, sizeof(struct vnfsec_lpm_v4_key),
	    sizeof(struct vnfsec_block_entry)),
	MAP(blocklist_v6, LPM_TRIE, sizeof(struct vnfsec_lpm_v6_key),
	    sizeof(struct vnfsec_block_entry)),
	MAP(allowlist_v4, LPM_TRIE, sizeof(struct vnfsec_lpm_v4_key),
	    sizeof(struct vnfsec_block_entry)),
	MAP(allowlist_v6, LPM_TRIE, sizeof(struct vnfsec_lpm_v6_key),
	    sizeof(struct vnfsec_block_entry)),
	MAP(vnf_ports, HASH, sizeof(struct vnfsec_port_key),
	    sizeof(struct vnfsec_vnf_id)),
	MAP(vnf_addrs, LPM_TRIE, sizeof(struct vnfsec_lpm_v6_key),
	    sizeof(struct vnfsec_vnf_id)),
	MAP(vnf_pair_policy, HASH, sizeof(struct vnfsec_pair_key),
	    sizeof(struct vnfsec_pair_policy)),
	MAP(flow_override, HASH, sizeof(struct vnfsec_flow_key),
	    sizeof(struct vnfsec_flow_override)),
	MAP(quarantine, HASH, sizeof(__u16), sizeof(struct vnfsec_quarantine)),
	/* ABI 4: pins of an older object lack it, and adopt() says --fresh. */
	MAP(rate_override, HASH, sizeof(struct vnfsec_det_key),
	    sizeof(struct vnfsec_rate_override)),
	/* ABI 6: per-VNF mode, unparsed and EtherType settings. */
	MAP(vnf_policy, ARRAY, sizeof(__u32),
	    sizeof(struct vnfsec_vnf_policy)),
	MAP(events, RINGBUF, 0, 0),
#undef MAP
};

#define NR_MAP_SPECS (sizeof(map_specs) / sizeof(map_specs[0]))

/* The programs, by pin name; the XDP one is required, TC on demand. */
static const struct prog_spec {
	const char *name;
	size_t fd_offset;
} prog_specs[] = {
	{ VNFSEC_PROG_XDP, offsetof(struct sensor, prog_fd) },
	{ VNFSEC_PROG_TC_EGRESS, offsetof(struct sensor, egress_prog_fd) },
	{ VNFSEC_PROG_TC_INGRESS, offsetof(struct sensor, ingress_prog_fd) },
	{ VNFSEC_PROG_TC_LO, offsetof(struct sensor, lo_prog_fd) },
};

#define NR_PROG_SPECS (sizeof(prog_specs) / sizeof(prog_specs[0]))

/* tc filter handle and priority of ours on every clsact hook. */
#define VNFSEC_TC_HANDLE	0x5ec
#define VNFSEC_TC_PRIO		0x5ec

static int *spec_fd(struct sensor *s, size_t offset)
{
	return (int *)((char *)s + offset);
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

	for (i = 0; i < NR_PROG_SPECS; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir,
			 prog_specs[i].name);
		/* A pin of an older object may lack the TC programs. */
		*spec_fd(s, prog_specs[i].fd_offset) = bpf_obj_get(path);
	}
	if (s->prog_fd < 0)
		return -errno;
	for (i = 0; i < NR_MAP_SPECS; i++) {
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
		*spec_fd(s, m->fd_offset) = fd;
		ret = check_map(fd, m);
		if (ret)
			return ret;
	}
	s->adopted = true;
	log_info("adopted the fast path pinned in %s", pin_dir);
	return 0;
}

/* Every pin of ours, whatever object made it; other files stay. */
static void unpin_all(const char *pin_dir)
{
	char path[PATH_MAX];
	struct vnfsec_bpf *skel;
	struct bpf_map *map;
	unsigned int i;

	skel = vnfsec_bpf__open();
	if (skel) {
		bpf_object__for_each_map(map, skel->obj) {
			snprintf(path, sizeof(path), "%s/maps/%s", pin_dir,
				 bpf_map__name(map));
			unlink(path);
		}
		vnfsec_bpf__destroy(skel);
	}
	for (i = 0; i < NR_PROG_SPECS; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir,
			 prog_specs[i].name);
		unlink(path);
	}
}

static int load_and_pin(struct sensor *s, const char *pin_dir)
{
	struct bpf_program *progs[NR_PROG_SPECS];
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
	progs[0] = s->skel->progs.vnfsec_xdp;
	progs[1] = s->skel->progs.vnfsec_egress;
	progs[2] = s->skel->progs.vnfsec_ingress;
	progs[3] = s->skel->progs.vnfsec_lo;
	snprintf(maps_dir, sizeof(maps_dir), "%s/maps", pin_dir);
	if ((mkdir(pin_dir, 0700) && errno != EEXIST) ||
	    (mkdir(maps_dir, 0700) && errno != EEXIST)) {
		ret = -errno;
		log_err("cannot create pin directory %s: %s", maps_dir,
			strerror(-ret));
		return ret;
	}
	ret = bpf_object__pin_maps(s->skel->obj, maps_dir);
	for (i = 0; !ret && i < NR_PROG_SPECS; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir,
			 prog_specs[i].name);
		ret = bpf_program__pin(progs[i], path);
	}
	if (ret) {
		log_err("cannot pin the fast path in %s: %s (stale pins? start with --fresh)",
			pin_dir, strerror(-ret));
		return ret;
	}
	for (i = 0; i < NR_PROG_SPECS; i++)
		*spec_fd(s, prog_specs[i].fd_offset) =
			bpf_program__fd(progs[i]);
	for (i = 0; i < NR_MAP_SPECS; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(
			s->skel->obj, map_specs[i].name);

		*spec_fd(s, map_specs[i].fd_offset) = map ? bpf_map__fd(map) :
							    -1;
		if (!map)
			return -ENOENT;
	}
	log_info("loaded the fast path and pinned it in %s", pin_dir);
	return 0;
}

/* ---- XDP: plain or through libxdp's dispatcher -------------------------- */

/* libxdp's struct xdp_program_opts (libxdp.h, 1.3). */
struct libxdp_program_opts {
	size_t sz;
	struct bpf_object *obj;
	struct bpf_object_open_opts *opts;
	const char *prog_name;
	const char *find_filename;
	const char *open_filename;
	const char *pin_path;
	__u32 id;
	int fd;
	size_t :0;
};

/* The few libxdp calls we make, found at run time. */
struct libxdp_api {
	void *handle;
	void *(*create)(struct libxdp_program_opts *opts);
	int (*attach)(void *prog, int ifindex, int mode, unsigned int flags);
	int (*detach)(void *prog, int ifindex, int mode, unsigned int flags);
	void (*close)(void *prog);
	long (*get_error)(const void *ptr);
};

/* libxdp's enum xdp_attach_mode. */
#define LIBXDP_MODE_NATIVE	1
#define LIBXDP_MODE_SKB		2

static struct libxdp_api libxdp;

static bool libxdp_open(void)
{
	if (libxdp.handle)
		return true;
	libxdp.handle = dlopen("libxdp.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!libxdp.handle)
		return false;
	libxdp.create = dlsym(libxdp.handle, "xdp_program__create");
	libxdp.attach = dlsym(libxdp.handle, "xdp_program__attach");
	libxdp.detach = dlsym(libxdp.handle, "xdp_program__detach");
	libxdp.close = dlsym(libxdp.handle, "xdp_program__close");
	libxdp.get_error = dlsym(libxdp.handle, "libxdp_get_error");
	if (!libxdp.create || !libxdp.attach || !libxdp.detach ||
	    !libxdp.close || !libxdp.get_error) {
		dlclose(libxdp.handle);
		memset(&libxdp, 0, sizeof(libxdp));
		return false;
	}
	return true;
}

/*
 * A program in libxdp's dispatcher is an extension (freplace) of one of its
 * slots, loaded for that dispatcher: the pinned vnfsec_xdp cannot be put
 * there (6.1: EOPNOTSUPP). So each interface gets its own copy of the XDP
 * program, loaded by libxdp from the object with every map taken over from
 * the pins: the same maps, the same state. 0 attached; < 0 not (the caller
 * may fall back).
 */
static int attach_libxdp(struct sensor *s, const struct agent_config *cfg,
			 unsigned int i, int ifindex)
{
	struct libxdp_program_opts opts = { .sz = sizeof(opts) };
	char path[PATH_MAX];
	struct vnfsec_bpf *skel;
	struct bpf_map *map;
	void *prog;
	int err = 0, fd;

	if (!libxdp_open()) {
		log_warn("libxdp (libxdp.so.1) is not installed: no dispatcher");
		return -ENOENT;
	}
	skel = vnfsec_bpf__open();
	if (!skel)
		return -errno;
	bpf_object__for_each_map(map, skel->obj) {
		snprintf(path, sizeof(path), "%s/maps/%s", cfg->pin_dir,
			 bpf_map__name(map));
		fd = bpf_obj_get(path);
		if (fd < 0) {
			err = -errno;
			break;
		}
		err = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (err)
			break;
	}
	bpf_program__set_autoload(skel->progs.vnfsec_egress, false);
	bpf_program__set_autoload(skel->progs.vnfsec_ingress, false);
	bpf_program__set_autoload(skel->progs.vnfsec_lo, false);
	if (err) {
		vnfsec_bpf__destroy(skel);
		return err;
	}
	opts.obj = skel->obj;
	opts.prog_name = VNFSEC_PROG_XDP;
	prog = libxdp.create(&opts);
	err = libxdp.get_error(prog);
	if (err) {
		vnfsec_bpf__destroy(skel);
		return err;
	}
	err = libxdp.attach(prog, ifindex, cfg->xdp_skb_mode ? LIBXDP_MODE_SKB :
						       LIBXDP_MODE_NATIVE, 0);
	if (err) {
		libxdp.close(prog);
		vnfsec_bpf__destroy(skel);
		return err;
	}
	s->libxdp_prog[i] = prog;
	s->libxdp_skel[i] = skel;
	return 0;
}

static const char *xdp_mode_name(bool skb_mode)
{
	return skb_mode ? "generic" : "native";
}

/* The name of the program of @id; "" when it cannot be read. */
static void prog_name(__u32 id, char name[BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = id ? bpf_prog_get_fd_by_id(id) : -1;

	name[0] = '\0';
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		memcpy(name, info.name, BPF_OBJ_NAME_LEN);
	close(fd);
}

/* Is the program of @id one of ours: this run's, or any vnfsec_xdp? */
static bool xdp_prog_ours(__u32 id, __u32 our_id)
{
	char name[BPF_OBJ_NAME_LEN];

	if (!id || id == our_id)
		return id;
	prog_name(id, name);
	return !strcmp(name, VNFSEC_PROG_XDP);
}

/* Refuses to replace another XDP user's program outside libxdp. */
static int check_xdp_slot(const char *name, int ifindex, __u32 our_id)
{
	char cur[BPF_OBJ_NAME_LEN];
	__u32 cur_id = 0;

	if (bpf_xdp_query_id(ifindex, 0, &cur_id) || !cur_id ||
	    cur_id == our_id)
		return 0;
	prog_name(cur_id, cur);
	if (cur[0] && strcmp(cur, VNFSEC_PROG_XDP)) {
		log_err("interface %s already runs XDP program '%s' (id %u); vnfsec does not replace another XDP user: detach it first, or use --xdp-attach libxdp",
			name, cur, cur_id);
		return -EBUSY;
	}
	return 0;
}

static int attach_xdp(struct sensor *s, const struct agent_config *cfg,
		      unsigned int i, const char *name, int ifindex,
		      __u32 our_id)
{
	__u32 flags = cfg->xdp_skb_mode ? XDP_FLAGS_SKB_MODE :
					  XDP_FLAGS_DRV_MODE;
	int err;

	if (cfg->xdp_attach != AGENT_XDP_ATTACH_PLAIN) {
		err = attach_libxdp(s, cfg, i, ifindex);
		if (!err) {
			char cur[BPF_OBJ_NAME_LEN];
			__u32 cur_id = 0;

			/* libxdp falls back to a lone program by itself when
			 * its dispatcher cannot load: say which it was. */
			bpf_xdp_query_id(ifindex, 0, &cur_id);
			prog_name(cur_id, cur);
			log_info("XDP fast path attached to %s through libxdp, %s (%s mode)",
				 name, strcmp(cur, VNFSEC_PROG_XDP) ?
				 "in its dispatcher" :
				 "alone: its dispatcher did not load",
				 xdp_mode_name(cfg->xdp_skb_mode));
			return 0;
		}
		if (cfg->xdp_attach == AGENT_XDP_ATTACH_LIBXDP) {
			log_err("cannot attach XDP to %s through libxdp: %s",
				name, strerror(-err));
			return err;
		}
		log_warn("libxdp could not attach to %s (%s): falling back to a plain XDP attach",
			 name, strerror(-err));
	}
	err = check_xdp_slot(name, ifindex, our_id);
	if (err)
		return err;
	if (bpf_xdp_attach(ifindex, s->prog_fd, flags, NULL)) {
		err = -errno;
		log_err("cannot attach XDP to %s in %s mode: %s", name,
			xdp_mode_name(cfg->xdp_skb_mode), strerror(-err));
		return err;
	}
	log_info("XDP fast path attached to %s (%s mode)", name,
		 xdp_mode_name(cfg->xdp_skb_mode));
	return 0;
}

static void detach_xdp(struct sensor *s, const struct agent_config *cfg,
		       unsigned int i, int ifindex)
{
	__u32 flags = cfg->xdp_skb_mode ? XDP_FLAGS_SKB_MODE :
					  XDP_FLAGS_DRV_MODE;
	__u32 cur_id = 0;

	if (s->libxdp_prog[i]) {
		libxdp.detach(s->libxdp_prog[i], ifindex,
			      cfg->xdp_skb_mode ? LIBXDP_MODE_SKB :
						  LIBXDP_MODE_NATIVE, 0);
		return;
	}
	/* Only ours: another XDP user may have replaced it meanwhile. */
	if (!bpf_xdp_query_id(ifindex, flags, &cur_id) &&
	    xdp_prog_ours(cur_id, s->prog_id))
		bpf_xdp_detach(ifindex, flags, NULL);
}

/* ---- TC: VNF ports (egress, ingress), lo in VNF namespaces ------------ */

static const char *tc_point_name(enum bpf_tc_attach_point where)
{
	return where == BPF_TC_INGRESS ? "ingress" : "egress";
}

static int attach_tc(int prog_fd, int ifindex, const char *what,
		     enum bpf_tc_attach_point where)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd,
			    .handle = VNFSEC_TC_HANDLE,
			    .priority = VNFSEC_TC_PRIO,
			    .flags = BPF_TC_F_REPLACE);
	int err;

	if (prog_fd < 0) {
		log_err("no TC program pinned for %s: the pins predate it; restart with --fresh",
			what);
		return -ENOENT;
	}
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		log_err("cannot add a clsact qdisc to %s: %s", what,
			strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		log_err("cannot attach TC %s to %s: %s", tc_point_name(where),
			what, strerror(-err));
		return err;
	}
	return 0;
}

static void detach_tc(int ifindex, enum bpf_tc_attach_point where)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VNFSEC_TC_HANDLE,
			    .priority = VNFSEC_TC_PRIO);

	/* The clsact qdisc stays: other filters may hang on it. */
	bpf_tc_detach(&hook, &opts);
}

/* Runs fn(arg) inside the network namespace at path, then comes back. */
static int in_netns(const char *path, int (*fn)(struct sensor *, int),
		    struct sensor *s)
{
	int self_fd, ns_fd, ret, err;

	self_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self_fd < 0)
		return -errno;
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		ret = -errno;
		log_err("network namespace %s: %s", path, strerror(-ret));
		close(self_fd);
		return ret;
	}
	if (setns(ns_fd, CLONE_NEWNET)) {
		ret = -errno;
		log_err("cannot enter network namespace %s: %s", path,
			strerror(-ret));
	} else {
		ret = fn(s, if_nametoindex("lo"));
		if (setns(self_fd, CLONE_NEWNET)) {
			/* Stranded in the VNF's namespace: nothing is safe. */
			err = errno;
			log_err("cannot return from namespace %s: %s", path,
				strerror(err));
			abort();
		}
	}
	close(ns_fd);
	close(self_fd);
	return ret;
}

static int lo_attach(struct sensor *s, int ifindex)
{
	return attach_tc(s->lo_prog_fd, ifindex, "lo", BPF_TC_EGRESS);
}

static int lo_detach(struct sensor *s, int ifindex)
{
	(void)s;
	detach_tc(ifindex, BPF_TC_EGRESS);
	return 0;
}

/*
 * The ingress hook, XDP or TC, and TC egress on demand, on port slot @i.
 * Taking one ingress hook drops ours on the other: an agent restarted with
 * the other --ingress-hook must not leave every packet counted twice.
 */
static int attach_port(struct sensor *s, const struct agent_config *cfg,
		       unsigned int i, const char *name, int ifindex)
{
	int err;

	if (cfg->tc_ingress) {
		detach_xdp(s, cfg, i, ifindex);
		err = attach_tc(s->ingress_prog_fd, ifindex, name,
				BPF_TC_INGRESS);
		if (err)
			return err;
		log_info("TC ingress fast path attached to %s", name);
	} else {
		detach_tc(ifindex, BPF_TC_INGRESS);
		err = attach_xdp(s, cfg, i, name, ifindex, s->prog_id);
		if (err)
			return err;
	}
	if (cfg->tc_egress) {
		err = attach_tc(s->egress_prog_fd, ifindex, name,
				BPF_TC_EGRESS);
		if (err)
			return err;
		s->tc_egress[i] = true;
		log_info("TC egress fast path attached to %s", name);
	}
	return 0;
}

static void detach_port(struct sensor *s, const struct agent_config *cfg,
			unsigned int i)
{
	if (cfg->tc_ingress)
		detach_tc(s->ifindex[i], BPF_TC_INGRESS);
	else
		detach_xdp(s, cfg, i, s->ifindex[i]);
	if (s->tc_egress[i])
		detach_tc(s->ifindex[i], BPF_TC_EGRESS);
}

static int attach(struct sensor *s, const struct agent_config *cfg)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	unsigned int i;
	int err;

	if (bpf_obj_get_info_by_fd(s->prog_fd, &info, &len))
		return -errno;
	s->prog_id = info.id;
	for (i = 0; i < cfg->nr_ifaces; i++) {
		const char *name = cfg->ifaces[i];
		int ifindex = if_nametoindex(name);

		if (!ifindex) {
			log_err("interface %s: %s; check --iface", name,
				strerror(errno));
			return -ENODEV;
		}
		err = attach_port(s, cfg, i, name, ifindex);
		if (err)
			return err;
		snprintf(s->port[s->nr_attached], sizeof(s->port[0]), "%s",
			 name);
		s->ifindex[s->nr_attached++] = ifindex;
	}
	for (i = 0; i < cfg->nr_lo_netns; i++) {
		err = in_netns(cfg->lo_netns[i], lo_attach, s);
		if (err)
			return err;
		s->nr_lo_attached++;
		log_info("TC fast path attached to lo in %s", cfg->lo_netns[i]);
	}
	return 0;
}

/*
 * A config no agent has written (a fresh load, or bpftool's): until a
 * policy says which non-IP frames pass, ARP does, or no IPv4 neighbour
 * resolves across the ports (everything else not classified is dropped
 * in protect mode, the zero config's).
 */
static int config_defaults(const struct sensor *s)
{
	struct vnfsec_config c;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(s->config_fd, &zero, &c))
		return -errno;
	if (c.abi_version)
		return 0;
	c.ethertypes |= VNFSEC_ETH_ARP;
	if (bpf_map_update_elem(s->config_fd, &zero, &c, BPF_ANY)) {
		int err = -errno;

		log_err("cannot write the fast path's config: %s",
			strerror(-err));
		return err;
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
	for (i = 0; i < NR_PROG_SPECS; i++)
		*spec_fd(s, prog_specs[i].fd_offset) = -1;
	for (i = 0; i < NR_MAP_SPECS; i++)
		*spec_fd(s, map_specs[i].fd_offset) = -1;

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
		ret = config_defaults(s);
	if (!ret)
		ret = attach(s, cfg);
	if (ret)
		sensor_close(s, cfg);
	return ret;
}

void sensor_close(struct sensor *s, const struct agent_config *cfg)
{
	unsigned int i;

	if (cfg->detach_on_exit) {
		for (i = 0; i < s->nr_attached; i++)
			detach_port(s, cfg, i);
		for (i = 0; i < s->nr_lo_attached; i++)
			in_netns(cfg->lo_netns[i], lo_detach, s);
		if (s->nr_attached)
			log_info("detached the fast path from %u interfaces",
				 s->nr_attached);
	}
	for (i = 0; i < AGENT_MAX_IFACES; i++) {
		if (s->libxdp_prog[i])
			libxdp.close(s->libxdp_prog[i]);
		if (s->libxdp_skel[i])
			vnfsec_bpf__destroy(s->libxdp_skel[i]);
		s->libxdp_prog[i] = NULL;
		s->libxdp_skel[i] = NULL;
	}
	s->nr_attached = 0;
	s->nr_lo_attached = 0;
	if (s->skel) {
		/* The skeleton owns its fds; pins keep the objects alive. */
		vnfsec_bpf__destroy(s->skel);
		s->skel = NULL;
		return;
	}
	for (i = 0; i < NR_PROG_SPECS; i++)
		if (*spec_fd(s, prog_specs[i].fd_offset) >= 0)
			close(*spec_fd(s, prog_specs[i].fd_offset));
	for (i = 0; i < NR_MAP_SPECS; i++)
		if (*spec_fd(s, map_specs[i].fd_offset) >= 0)
			close(*spec_fd(s, map_specs[i].fd_offset));
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

int sensor_set_sampling(const struct sensor *s, unsigned int every)
{
	struct vnfsec_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(s->config_fd, &zero, &cfg))
		return -errno;
	cfg.sample_every = every;
	if (bpf_map_update_elem(s->config_fd, &zero, &cfg, BPF_ANY)) {
		int err = -errno;

		log_err("cannot write sample_every into the fast path's config: %s",
			strerror(-err));
		return err;
	}
	if (every)
		log_info("fast path samples 1 packet in %u (application-protocol checks)",
			 every);
	return 0;
}

unsigned int sensor_sampling(const struct sensor *s)
{
	struct vnfsec_config cfg;
	__u32 zero = 0;

	return bpf_map_lookup_elem(s->config_fd, &zero, &cfg) ? 0 :
	       cfg.sample_every;
}

int sensor_follow_port(struct sensor *s, const struct agent_config *cfg,
		       const char *name)
{
	int ifindex = if_nametoindex(name), err;
	unsigned int i;

	if (!ifindex)
		return 0;
	for (i = 0; i < s->nr_attached; i++)
		if (!strcmp(s->port[i], name))
			break;
	if (i < s->nr_attached && s->ifindex[i] == ifindex)
		return 0;
	if (i == AGENT_MAX_IFACES) {
		log_err("cannot attach the fast path to %s: already on %d ports",
			name, AGENT_MAX_IFACES);
		return -ENOSPC;
	}
	/* A re-created port is a new device: nothing of ours is on it. */
	err = attach_port(s, cfg, i, name, ifindex);
	if (err)
		return err;
	if (i == s->nr_attached)
		s->nr_attached++;
	snprintf(s->port[i], sizeof(s->port[0]), "%s", name);
	s->ifindex[i] = ifindex;
	return 1;
}
