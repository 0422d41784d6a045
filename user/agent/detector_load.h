/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loading a detector (docs/detectors.md): its object checked against the
 * limits, its thresholds set, the verifier's verdict, and its programs put
 * in the fast path's det_progs_xdp/_tc slot of its class. libbpf only:
 * the agent's detectors.c and the detectors' own tests use it.
 */
#ifndef VNFSEC_DETECTOR_LOAD_H
#define VNFSEC_DETECTOR_LOAD_H

#include <stddef.h>
#include <stdint.h>

struct bpf_object;

/* Limits every detector is held to (refused beyond them). */
#define DET_MAX_INSNS		4096	/* per entry program, subprograms in */
#define DET_MAX_MAPS		4	/* its own, beyond the fast path's */
#define DET_MAX_MAP_ENTRIES	65536
#define DET_MAX_THRESHOLDS	16
#define DET_NAME_MAX		32
#define DET_WHY_MAX		1024	/* a refusal: a line, or the log's end */

struct det_threshold {
	char name[DET_NAME_MAX];
	uint32_t value;
};

/* The fast path's parts a detector uses, by descriptor. */
struct det_fastpath {
	int scratch_fd;
	int progs_xdp_fd;	/* det_progs_xdp */
	int progs_tc_fd;	/* det_progs_tc */
	int stats_fd;		/* det_ext_stats */
	int config_fd;
};

struct det_loaded {
	struct bpf_object *obj;
	int cls;		/* enum vnfsec_det_class */
	int xdp_fd;
	int tc_fd;
	unsigned int insns;	/* the larger entry program's */
};

/* "dns" -> VNFSEC_DET_CLASS_DNS; -EINVAL for a name no class has. */
int det_class_of(const char *name);
const char *det_class_name(int cls);

/* The fast path's maps pinned in maps_dir (the agent's pin dir's maps/). */
int det_fastpath_open(struct det_fastpath *fp, const char *maps_dir);
void det_fastpath_close(struct det_fastpath *fp);
/* Slot VNFSEC_DET_SLOT_FINISH of each program array. */
int det_fastpath_set_finish(const struct det_fastpath *fp, int finish_xdp_fd,
			    int finish_tc_fd);
/* 1 when both finish slots hold a program. */
int det_fastpath_ready(const struct det_fastpath *fp);

/*
 * Opens elf (len bytes) as detector name of class cls, sets its thresholds,
 * checks its maps, loads it through the verifier, and checks its programs'
 * size and helpers. 0 with *out filled; -errno with why: one line saying
 * what is wrong (the verifier log's last lines for a rejected program).
 */
int det_load(const void *elf, size_t len, const char *name, int cls,
	     const struct det_threshold *th, unsigned int nr_th,
	     const struct det_fastpath *fp, struct det_loaded *out,
	     char *why, size_t why_len);
/* Puts d's programs in its class's slots and sets the class's bit in
 * config.ext_detectors: one map update each, no gap. */
int det_install(const struct det_loaded *d, const struct det_fastpath *fp);
/* Empties the class's slots and clears its bit. */
int det_uninstall(int cls, const struct det_fastpath *fp);
void det_unload(struct det_loaded *d);

struct det_class_stats {
	uint64_t hits, events, drops, unreported;
};
int det_stats(const struct det_fastpath *fp, int cls,
	      struct det_class_stats *st);

#endif /* VNFSEC_DETECTOR_LOAD_H */
