// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading a detector (detector_load.h, docs/detectors.md).
 *
 * A detector is held to limits the fast path cannot enforce itself: two
 * entry programs (XDP and SCHED_CLS, as detectors/detector.h makes them),
 * at most DET_MAX_MAPS maps of its own, of plain types and bounded size,
 * at most DET_MAX_INSNS instructions each, and only the helpers a
 * detector needs (maps, clock, random, the hand-back tail call): nothing
 * that writes the packet, redirects it, or reads the kernel. The
 * instruction and helper checks read the programs as the verifier
 * accepted them (subprograms appended), before they are put in a slot:
 * a refused detector never runs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/vnfsec_abi.h"
#include "user/agent/detector_load.h"

static const char *const class_names[VNFSEC_DET_CLASS_MAX] =
	VNFSEC_DET_CLASS_NAMES;

int det_class_of(const char *name)
{
	int i;

	for (i = 0; i < VNFSEC_DET_CLASS_MAX; i++)
		if (!strcmp(name, class_names[i]))
			return i;
	return -EINVAL;
}

const char *det_class_name(int cls)
{
	return cls >= 0 && cls < VNFSEC_DET_CLASS_MAX ? class_names[cls] : "?";
}

/* The fast path's maps a detector shares, by name and descriptor. */
static const struct shared_map {
	const char *name;
	size_t fd_offset;
} shared_maps[] = {
	{ "scratch", offsetof(struct det_fastpath, scratch_fd) },
	{ "det_progs_xdp", offsetof(struct det_fastpath, progs_xdp_fd) },
	{ "det_progs_tc", offsetof(struct det_fastpath, progs_tc_fd) },
	{ "det_ext_stats", offsetof(struct det_fastpath, stats_fd) },
	{ "config", offsetof(struct det_fastpath, config_fd) },
};

#define NR_SHARED (sizeof(shared_maps) / sizeof(shared_maps[0]))
/* Of which a detector may declare (detectors/detector.h): */
#define NR_SHARED_BY_DETECTORS 3

static int *fp_fd(const struct det_fastpath *fp, size_t off)
{
	return (int *)((char *)fp + off);
}

int det_fastpath_open(struct det_fastpath *fp, const char *maps_dir)
{
	char path[512];
	unsigned int i;
	int fd;

	for (i = 0; i < NR_SHARED; i++)
		*fp_fd(fp, shared_maps[i].fd_offset) = -1;
	for (i = 0; i < NR_SHARED; i++) {
		snprintf(path, sizeof(path), "%s/%s", maps_dir,
			 shared_maps[i].name);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			fd = -errno;
			det_fastpath_close(fp);
			return fd;
		}
		*fp_fd(fp, shared_maps[i].fd_offset) = fd;
	}
	return 0;
}

void det_fastpath_close(struct det_fastpath *fp)
{
	unsigned int i;
	int *fd;

	for (i = 0; i < NR_SHARED; i++) {
		fd = fp_fd(fp, shared_maps[i].fd_offset);
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

int det_fastpath_set_finish(const struct det_fastpath *fp, int finish_xdp_fd,
			    int finish_tc_fd)
{
	__u32 slot = VNFSEC_DET_SLOT_FINISH;

	if (bpf_map_update_elem(fp->progs_xdp_fd, &slot, &finish_xdp_fd,
				BPF_ANY) ||
	    bpf_map_update_elem(fp->progs_tc_fd, &slot, &finish_tc_fd,
				BPF_ANY))
		return -errno;
	return 0;
}

int det_fastpath_ready(const struct det_fastpath *fp)
{
	__u32 slot = VNFSEC_DET_SLOT_FINISH, id;

	/* From userspace a program array's entry reads as the program id. */
	return !bpf_map_lookup_elem(fp->progs_xdp_fd, &slot, &id) &&
	       !bpf_map_lookup_elem(fp->progs_tc_fd, &slot, &id);
}

/* Helpers a detector may call: state, time, chance, the hand-back. */
static int helper_allowed(int id)
{
	switch (id) {
	case BPF_FUNC_map_lookup_elem:
	case BPF_FUNC_map_update_elem:
	case BPF_FUNC_map_delete_elem:
	case BPF_FUNC_ktime_get_ns:
	case BPF_FUNC_ktime_get_boot_ns:
	case BPF_FUNC_ktime_get_coarse_ns:
	case BPF_FUNC_get_prandom_u32:
	case BPF_FUNC_get_smp_processor_id:
	case BPF_FUNC_tail_call:
		return 1;
	default:
		return 0;
	}
}

static int map_type_allowed(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH ||
	       t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* Every call a helper of the list, no kfunc: 0, or why not. */
static int check_insns(const struct bpf_program *prog, char *why,
		       size_t why_len)
{
	const struct bpf_insn *insn = bpf_program__insns(prog);
	size_t i, n = bpf_program__insn_cnt(prog);

	if (n > DET_MAX_INSNS) {
		snprintf(why, why_len,
			 "program %s has %zu instructions, detectors may have %d",
			 bpf_program__name(prog), n, DET_MAX_INSNS);
		return -E2BIG;
	}
	for (i = 0; i < n; i++) {
		if (insn[i].code != (BPF_JMP | BPF_CALL))
			continue;
		if (insn[i].src_reg == BPF_PSEUDO_CALL)
			continue;	/* its own subprogram */
		if (insn[i].src_reg != 0 || !helper_allowed(insn[i].imm)) {
			snprintf(why, why_len,
				 "program %s calls %s %d at instruction %zu, which detectors may not",
				 bpf_program__name(prog),
				 insn[i].src_reg ? "kfunc" : "helper",
				 insn[i].imm, i);
			return -EPERM;
		}
	}
	return 0;
}

/* The programs: one XDP, one SCHED_CLS, nothing else. */
static int check_programs(struct bpf_object *obj, char *why, size_t why_len)
{
	struct bpf_program *prog;
	int xdp = 0, tc = 0, other = 0;

	bpf_object__for_each_program(prog, obj) {
		switch (bpf_program__type(prog)) {
		case BPF_PROG_TYPE_XDP:
			xdp++;
			break;
		case BPF_PROG_TYPE_SCHED_CLS:
			tc++;
			break;
		default:
			other++;
		}
	}
	if (xdp != 1 || tc != 1 || other) {
		snprintf(why, why_len,
			 "a detector has one XDP and one SCHED_CLS program (VNFSEC_DETECTOR()); this object has %d, %d and %d others",
			 xdp, tc, other);
		return -EINVAL;
	}
	return 0;
}

/* The fast path's maps by their descriptors; the detector's own, bounded. */
static int check_maps(struct bpf_object *obj, const struct det_fastpath *fp,
		      char *why, size_t why_len)
{
	struct bpf_map *map;
	unsigned int i, own = 0;
	int ret;

	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);

		if (bpf_map__is_internal(map))
			continue;	/* .rodata: thresholds */
		for (i = 0; i < NR_SHARED_BY_DETECTORS; i++)
			if (!strcmp(name, shared_maps[i].name))
				break;
		if (i < NR_SHARED_BY_DETECTORS) {
			ret = bpf_map__reuse_fd(map,
				*fp_fd(fp, shared_maps[i].fd_offset));
			if (ret) {
				snprintf(why, why_len,
					 "cannot give the detector the fast path's map %s: %s",
					 name, strerror(-ret));
				return ret;
			}
			continue;
		}
		if (++own > DET_MAX_MAPS) {
			snprintf(why, why_len,
				 "a detector may have %d maps of its own; map %s is one more",
				 DET_MAX_MAPS, name);
			return -E2BIG;
		}
		if (!map_type_allowed(bpf_map__type(map))) {
			snprintf(why, why_len,
				 "map %s has type %d; detectors may have hash, LRU hash and array maps",
				 name, bpf_map__type(map));
			return -EPERM;
		}
		if (bpf_map__max_entries(map) > DET_MAX_MAP_ENTRIES) {
			snprintf(why, why_len,
				 "map %s has %u entries, detectors may have %d",
				 name, bpf_map__max_entries(map),
				 DET_MAX_MAP_ENTRIES);
			return -E2BIG;
		}
	}
	return 0;
}

/* A threshold is a "const volatile __u32" of the detector's .rodata. */
static int set_threshold(struct bpf_object *obj, const struct det_threshold *t,
			 char *why, size_t why_len)
{
	const struct btf_var_secinfo *vs;
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *rodata = NULL, *map;
	const struct btf_type *sec;
	const void *init;
	size_t size = 0;
	char data[4096];
	int id, i;

	bpf_object__for_each_map(map, obj)
		if (bpf_map__is_internal(map) &&
		    strstr(bpf_map__name(map), ".rodata"))
			rodata = map;
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) :
		   -ENOENT;
	init = rodata ? bpf_map__initial_value(rodata, &size) : NULL;
	if (id > 0 && init && size <= sizeof(data)) {
		memcpy(data, init, size);
		sec = btf__type_by_id(btf, id);
		vs = btf_var_secinfos(sec);
		for (i = 0; i < btf_vlen(sec); i++, vs++) {
			const struct btf_type *var = btf__type_by_id(btf,
								     vs->type);

			if (strcmp(btf__name_by_offset(btf, var->name_off),
				   t->name))
				continue;
			if (vs->size != sizeof(__u32) ||
			    vs->offset + vs->size > size)
				break;
			memcpy(data + vs->offset, &t->value, sizeof(__u32));
			return bpf_map__set_initial_value(rodata, data, size);
		}
	}
	snprintf(why, why_len,
		 "threshold %s: the detector has no such setting (a const volatile __u32)",
		 t->name);
	return -ENOENT;
}

/* The verifier's statistics lines, which end every log: not a reason. */
static int stats_line(const char *line, size_t len)
{
	static const char *const stats[] = {
		"verification time", "stack depth", "processed ", NULL,
	};
	int i;

	for (i = 0; stats[i]; i++)
		if (len >= strlen(stats[i]) &&
		    !strncmp(line, stats[i], strlen(stats[i])))
			return 1;
	return 0;
}

/*
 * The verifier log's last lines (its statistics left out), on one line:
 * what a refusal says. The last line is the reason, the ones before it
 * the instructions that led there.
 */
static void log_tail(const char *log, char *why, size_t why_len)
{
	size_t n = strlen(log), keep = why_len / 2, off, start;
	char *p;

	for (;;) {
		while (n && (log[n - 1] == '\n' || log[n - 1] == ' '))
			n--;
		for (start = n; start && log[start - 1] != '\n'; start--)
			;
		if (!n || !stats_line(log + start, n - start))
			break;
		n = start;
	}
	off = n > keep ? n - keep : 0;
	/* Start at a line. */
	while (off && off < n && log[off - 1] != '\n')
		off++;
	snprintf(why, why_len, "the verifier refused it: %.*s",
		 (int)(n - off), log + off);
	for (p = why; *p; p++)
		if (*p == '\n')
			*p = '|';
}

int det_load(const void *elf, size_t len, const char *name, int cls,
	     const struct det_threshold *th, unsigned int nr_th,
	     const struct det_fastpath *fp, struct det_loaded *out,
	     char *why, size_t why_len)
{
	static char log[1 << 16];
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name);
	struct bpf_program *prog;
	struct bpf_object *obj;
	unsigned int i;
	int ret;

	memset(out, 0, sizeof(*out));
	out->xdp_fd = out->tc_fd = -1;
	if (cls < 0 || cls >= VNFSEC_DET_CLASS_MAX) {
		snprintf(why, why_len, "no detector class %d", cls);
		return -EINVAL;
	}
	obj = bpf_object__open_mem(elf, len, &opts);
	if (!obj) {
		ret = -errno;
		snprintf(why, why_len, "not a BPF object: %s", strerror(-ret));
		return ret;
	}
	ret = check_programs(obj, why, why_len);
	if (!ret)
		ret = check_maps(obj, fp, why, why_len);
	for (i = 0; !ret && i < nr_th; i++)
		ret = set_threshold(obj, &th[i], why, why_len);
	if (ret)
		goto fail;
	log[0] = 0;
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_log_buf(prog, log, sizeof(log));
	ret = bpf_object__load(obj);
	if (ret) {
		if (log[0])
			log_tail(log, why, why_len);
		else
			snprintf(why, why_len, "cannot load it: %s",
				 strerror(-ret));
		goto fail;
	}
	bpf_object__for_each_program(prog, obj) {
		ret = check_insns(prog, why, why_len);
		if (ret)
			goto fail;
		if (bpf_program__insn_cnt(prog) > out->insns)
			out->insns = bpf_program__insn_cnt(prog);
		if (bpf_program__type(prog) == BPF_PROG_TYPE_XDP)
			out->xdp_fd = bpf_program__fd(prog);
		else
			out->tc_fd = bpf_program__fd(prog);
	}
	out->obj = obj;
	out->cls = cls;
	return 0;
fail:
	bpf_object__close(obj);
	out->xdp_fd = out->tc_fd = -1;
	return ret;
}

static int set_class_bit(const struct det_fastpath *fp, int cls, int on)
{
	struct vnfsec_config cfg;
	__u32 zero = 0;

	/* config's other fields are the policy's: read, flip one bit. */
	if (bpf_map_lookup_elem(fp->config_fd, &zero, &cfg))
		return -errno;
	if (on)
		cfg.ext_detectors |= 1U << cls;
	else
		cfg.ext_detectors &= ~(1U << cls);
	if (bpf_map_update_elem(fp->config_fd, &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

int det_install(const struct det_loaded *d, const struct det_fastpath *fp)
{
	__u32 slot = d->cls;

	if (!det_fastpath_ready(fp))
		return -ENOENT;
	if (bpf_map_update_elem(fp->progs_xdp_fd, &slot, &d->xdp_fd,
				BPF_ANY) ||
	    bpf_map_update_elem(fp->progs_tc_fd, &slot, &d->tc_fd, BPF_ANY))
		return -errno;
	return set_class_bit(fp, d->cls, 1);
}

int det_uninstall(int cls, const struct det_fastpath *fp)
{
	__u32 slot = cls;
	int ret = set_class_bit(fp, cls, 0);

	if ((bpf_map_delete_elem(fp->progs_xdp_fd, &slot) && errno != ENOENT) ||
	    (bpf_map_delete_elem(fp->progs_tc_fd, &slot) && errno != ENOENT))
		return -errno;
	return ret;
}

void det_unload(struct det_loaded *d)
{
	bpf_object__close(d->obj);
	d->obj = NULL;
	d->xdp_fd = d->tc_fd = -1;
}

int det_stats(const struct det_fastpath *fp, int cls,
	      struct det_class_stats *st)
{
	int i, nr = libbpf_num_possible_cpus();
	struct vnfsec_det_stats v[nr > 0 ? nr : 1];
	__u32 key = cls;

	memset(st, 0, sizeof(*st));
	if (nr <= 0)
		return nr ? nr : -EINVAL;
	if (bpf_map_lookup_elem(fp->stats_fd, &key, v))
		return -errno;
	for (i = 0; i < nr; i++) {
		st->hits += v[i].hits;
		st->events += v[i].events;
		st->drops += v[i].drops;
		st->unreported += v[i].unreported;
	}
	return 0;
}
