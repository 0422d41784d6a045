/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * vnfsec kernel module UAPI: the /dev/vnfsec ioctl and read() interface.
 *
 * This header is the only place these layouts are written down. Every
 * structure uses fixed-width types, has its padding spelled out and its
 * size asserted, so it is the same for 32- and 64-bit callers. Pointers
 * travel as __u64.
 *
 * Extensible structures start with a __u32 size that the caller sets to
 * sizeof() of the layout it was compiled against. The kernel rejects a
 * size it does not know with -EINVAL and writes back the number of bytes
 * it filled. Unknown ioctl commands fail with -ENOTTY. Reserved fields
 * and explicit padding must be zero on input (-EINVAL otherwise) so that
 * a later ABI version can give them a meaning.
 *
 * Every command but VERSION and STATS changes state and needs a
 * descriptor opened for writing (-EPERM otherwise). Watches and cache
 * monitors belong to the descriptor that created them and end with it.
 */
#ifndef _UAPI_VNFSEC_KMOD_H
#define _UAPI_VNFSEC_KMOD_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/build_bug.h>	/* static_assert() */
#else
#include <assert.h>		/* static_assert(): C11, C++11 */
#endif

#define VNFSEC_KMOD_ABI_VERSION		2
#define VNFSEC_KMOD_DEVICE_NAME		"vnfsec"
#define VNFSEC_KMOD_DEVICE_PATH		"/dev/vnfsec"

/* ioctl type byte; our command numbers start at 0xa0, clear of V4L2's. */
#define VNFSEC_KMOD_IOC_MAGIC		'V'

/* Feature bits reported in vnfsec_kmod_version.features. */
#define VNFSEC_KMOD_FEAT_EVENTS		_BITULL(0)	/* read()/poll() */
#define VNFSEC_KMOD_FEAT_SHM_WATCH	_BITULL(1)
#define VNFSEC_KMOD_FEAT_CACHE_MON	_BITULL(2)
#define VNFSEC_KMOD_FEATURES_ALL	(VNFSEC_KMOD_FEAT_EVENTS | \
					 VNFSEC_KMOD_FEAT_SHM_WATCH | \
					 VNFSEC_KMOD_FEAT_CACHE_MON)

/**
 * struct vnfsec_kmod_version - answer of VNFSEC_KMOD_IOC_VERSION
 * @size:          in: sizeof(struct vnfsec_kmod_version) as the caller knows
 *                 it; out: number of bytes the kernel filled.
 * @abi_version:   out: VNFSEC_KMOD_ABI_VERSION of the loaded module.
 * @version_major: out: module release, major.
 * @version_minor: out: module release, minor.
 * @version_patch: out: module release, patch level.
 * @__pad0:        explicit padding, zero in and out.
 * @features:      out: feature bits the module supports, within
 *                 VNFSEC_KMOD_FEATURES_ALL.
 * @__reserved:    zero in and out.
 */
struct vnfsec_kmod_version {
	__u32 size;
	__u32 abi_version;
	__u16 version_major;
	__u16 version_minor;
	__u16 version_patch;
	__u16 __pad0;
	__u64 features;
	__u64 __reserved[2];
};

#define VNFSEC_KMOD_VERSION_SIZE_VER0	40	/* ABI 1 and 2 */

static_assert(sizeof(struct vnfsec_kmod_version) ==
	      VNFSEC_KMOD_VERSION_SIZE_VER0,
	      "struct vnfsec_kmod_version: size changed");
static_assert(__builtin_offsetof(struct vnfsec_kmod_version, features) == 16,
	      "struct vnfsec_kmod_version: features misaligned");

/*
 * Events: read() on the descriptor returns whole struct vnfsec_kmod_event
 * records (a buffer smaller than one record gets -EINVAL), oldest first;
 * poll() reports EPOLLIN while one is queued. The queue is bounded
 * (module parameter event_queue_len); an event that finds it full is
 * dropped and counted. The count reaches userspace twice: as a
 * VNFSEC_KMOD_EV_LOST record where the gap is (after the records queued
 * before the loss; its @seq is that of the first lost event, arg[0] the
 * number lost), and as the running total in VNFSEC_KMOD_IOC_STATS.
 */
enum vnfsec_kmod_event_type {
	VNFSEC_KMOD_EV_LOST		= 1, /* arg[0]: events dropped */
	VNFSEC_KMOD_EV_SHM_MAPPER	= 2, /* unauthorized mapper */
	VNFSEC_KMOD_EV_SHM_TAMPER	= 3, /* immutable range changed */
	VNFSEC_KMOD_EV_SHM_PATTERN	= 4, /* pattern found */
	VNFSEC_KMOD_EV_SHM_GONE		= 5, /* region freed, watch removed */
	VNFSEC_KMOD_EV_CACHE_THRESHOLD	= 6, /* counter rate over threshold */
};

/**
 * struct vnfsec_kmod_event - one record read() from /dev/vnfsec
 * @size:      sizeof(struct vnfsec_kmod_event) (96 in ABI 2).
 * @type:      enum vnfsec_kmod_event_type.
 * @__pad0:    zero.
 * @seq:       per-descriptor sequence number of the event, counting lost
 *             events too (a LOST record carries the first lost one's).
 * @time_ns:   CLOCK_MONOTONIC time the event was raised.
 * @object_id: watch id (SHM events) or monitor id (CACHE events).
 * @pid:       SHM_MAPPER: the mapping process (thread group id, in the pid
 *             namespace of the watch's creator); 0 otherwise.
 * @cgroup_id: SHM_MAPPER: cgroup v2 id of that process (its VNF tag).
 * @netns_ino: SHM_MAPPER: inode number of its network namespace.
 * @comm:      SHM_MAPPER: its command name, NUL-terminated.
 * @arg:       per type: LOST: [0] events dropped. SHM_TAMPER: [0] range
 *             index, [1] offset, [2] length. SHM_PATTERN: [0] offset in the
 *             region, [1] pattern length. CACHE_THRESHOLD: [0] counter
 *             increase in the interval, [1] threshold, [2] interval in ns,
 *             [3] counter total.
 */
struct vnfsec_kmod_event {
	__u32 size;
	__u16 type;
	__u16 __pad0;
	__u64 seq;
	__u64 time_ns;
	__u32 object_id;
	__u32 pid;
	__u64 cgroup_id;
	__u64 netns_ino;
	char comm[16];
	__u64 arg[4];
};

#define VNFSEC_KMOD_EVENT_SIZE_VER0	96

static_assert(sizeof(struct vnfsec_kmod_event) == VNFSEC_KMOD_EVENT_SIZE_VER0,
	      "struct vnfsec_kmod_event: size changed");
static_assert(__builtin_offsetof(struct vnfsec_kmod_event, arg) == 64,
	      "struct vnfsec_kmod_event: arg misaligned");

/**
 * struct vnfsec_kmod_stats - answer of VNFSEC_KMOD_IOC_STATS
 * @size:         in/out, as for the version.
 * @queue_len:    out: capacity of this descriptor's event queue.
 * @queued:       out: events waiting to be read.
 * @watches:      out: live shared-memory watches on this descriptor.
 * @lost:         out: events dropped since open (queue full).
 * @raised:       out: events raised since open, lost ones included.
 * @monitors:     out: live cache monitors on this descriptor.
 * @__pad0:       zero.
 * @__reserved:   zero in and out.
 */
struct vnfsec_kmod_stats {
	__u32 size;
	__u32 queue_len;
	__u32 queued;
	__u32 watches;
	__u64 lost;
	__u64 raised;
	__u32 monitors;
	__u32 __pad0;
	__u64 __reserved[2];
};

#define VNFSEC_KMOD_STATS_SIZE_VER0	56

static_assert(sizeof(struct vnfsec_kmod_stats) == VNFSEC_KMOD_STATS_SIZE_VER0,
	      "struct vnfsec_kmod_stats: size changed");

/* How a watch names its region (vnfsec_kmod_watch_add.kind). */
enum vnfsec_kmod_watch_kind {
	/* @fd: a memfd, a /dev/shm file: any file on tmpfs or hugetlbfs. */
	VNFSEC_KMOD_WATCH_FD		= 1,
	/*
	 * @pid + @addr: a shared mapping in that process of such a file: a
	 * SysV segment (shmat), MAP_SHARED of a memfd or tmpfs file,
	 * MAP_SHARED|MAP_ANONYMOUS (shmem).
	 */
	VNFSEC_KMOD_WATCH_PID_RANGE	= 2,
};

#define VNFSEC_KMOD_ALLOW_MAX		8

/**
 * struct vnfsec_kmod_watch_add - argument of VNFSEC_KMOD_IOC_WATCH_ADD
 * @size:          in/out, as for the version.
 * @kind:          enum vnfsec_kmod_watch_kind.
 * @fd:            WATCH_FD: the descriptor; else -1.
 * @pid:           WATCH_PID_RANGE: process (caller's pid namespace); else 0.
 * @offset:        WATCH_FD: start in the file. PID_RANGE: must be zero.
 * @addr:          WATCH_PID_RANGE: start address in @pid; else zero.
 * @len:           region length in bytes, 1 .. 1 GiB, inside the file
 *                 (WATCH_FD: within its current size) or the mapping.
 * @period_ms:     periodic check interval (mappers, integrity, region
 *                 gone); 0: module parameter check_period_ms; else
 *                 10 .. 3600000.
 * @nr_allow_pids: entries used in @allow_pids.
 * @nr_allow_cgroups: entries used in @allow_cgroups.
 * @nr_allow_netns: entries used in @allow_netns.
 * @allow_pids:    processes allowed to map the region (thread group ids
 *                 in the caller's pid namespace).
 * @allow_cgroups: cgroup v2 ids whose processes may map it.
 * @allow_netns:   network namespace inode numbers whose processes may.
 * @watch_id:      out: id of the new watch (>= 1).
 * @__pad0:        zero.
 */
struct vnfsec_kmod_watch_add {
	__u32 size;
	__u32 kind;
	__s32 fd;
	__u32 pid;
	__u64 offset;
	__u64 addr;
	__u64 len;
	__u32 period_ms;
	__u32 nr_allow_pids;
	__u32 nr_allow_cgroups;
	__u32 nr_allow_netns;
	__u32 allow_pids[VNFSEC_KMOD_ALLOW_MAX];
	__u64 allow_cgroups[VNFSEC_KMOD_ALLOW_MAX];
	__u64 allow_netns[VNFSEC_KMOD_ALLOW_MAX];
	__u32 watch_id;
	__u32 __pad0;
};

#define VNFSEC_KMOD_WATCH_ADD_SIZE_VER0	224

static_assert(sizeof(struct vnfsec_kmod_watch_add) ==
	      VNFSEC_KMOD_WATCH_ADD_SIZE_VER0,
	      "struct vnfsec_kmod_watch_add: size changed");

/**
 * struct vnfsec_kmod_watch_ref - argument of commands naming one watch or
 * monitor and nothing else (WATCH_REMOVE, CACHE_REMOVE)
 * @size:      in/out, as for the version.
 * @id:        watch or monitor id.
 */
struct vnfsec_kmod_watch_ref {
	__u32 size;
	__u32 id;
};

#define VNFSEC_KMOD_WATCH_REF_SIZE_VER0	8

static_assert(sizeof(struct vnfsec_kmod_watch_ref) ==
	      VNFSEC_KMOD_WATCH_REF_SIZE_VER0,
	      "struct vnfsec_kmod_watch_ref: size changed");

#define VNFSEC_KMOD_PROTECT_MAX		8
#define VNFSEC_KMOD_DIGEST_LEN		32	/* SHA-256 */

/**
 * struct vnfsec_kmod_watch_protect - argument of VNFSEC_KMOD_IOC_WATCH_PROTECT
 * @size:      in/out, as for the version.
 * @watch_id:  the watch.
 * @offset:    start of the immutable sub-range, relative to the region.
 * @len:       its length, >= 1, inside the region.
 * @index:     out: range index (0 .. VNFSEC_KMOD_PROTECT_MAX - 1).
 * @__pad0:    zero.
 * @digest:    out: SHA-256 of the range now, the baseline.
 */
struct vnfsec_kmod_watch_protect {
	__u32 size;
	__u32 watch_id;
	__u64 offset;
	__u64 len;
	__u32 index;
	__u32 __pad0;
	__u8 digest[VNFSEC_KMOD_DIGEST_LEN];
};

#define VNFSEC_KMOD_WATCH_PROTECT_SIZE_VER0	64

static_assert(sizeof(struct vnfsec_kmod_watch_protect) ==
	      VNFSEC_KMOD_WATCH_PROTECT_SIZE_VER0,
	      "struct vnfsec_kmod_watch_protect: size changed");

/**
 * struct vnfsec_kmod_watch_check - argument of VNFSEC_KMOD_IOC_WATCH_CHECK
 * @size:       in/out, as for the version.
 * @watch_id:   the watch.
 * @mappers:    out: processes mapping the region now.
 * @unauthorized: out: of those, not in the allowed set.
 * @ranges:     out: immutable ranges checked.
 * @tampered:   out: of those, differing from their baseline.
 * @__reserved: zero in and out.
 */
struct vnfsec_kmod_watch_check {
	__u32 size;
	__u32 watch_id;
	__u32 mappers;
	__u32 unauthorized;
	__u32 ranges;
	__u32 tampered;
	__u64 __reserved;
};

#define VNFSEC_KMOD_WATCH_CHECK_SIZE_VER0	32

static_assert(sizeof(struct vnfsec_kmod_watch_check) ==
	      VNFSEC_KMOD_WATCH_CHECK_SIZE_VER0,
	      "struct vnfsec_kmod_watch_check: size changed");

#define VNFSEC_KMOD_MAPPER_AUTHORIZED	_BITUL(0)

/**
 * struct vnfsec_kmod_mapper - one entry of VNFSEC_KMOD_IOC_WATCH_MAPPERS
 * @pid:       thread group id (pid namespace of the watch's creator).
 * @flags:     VNFSEC_KMOD_MAPPER_*.
 * @cgroup_id: cgroup v2 id.
 * @netns_ino: network namespace inode number.
 * @comm:      command name, NUL-terminated.
 */
struct vnfsec_kmod_mapper {
	__u32 pid;
	__u32 flags;
	__u64 cgroup_id;
	__u64 netns_ino;
	char comm[16];
};

static_assert(sizeof(struct vnfsec_kmod_mapper) == 40,
	      "struct vnfsec_kmod_mapper: size changed");

#define VNFSEC_KMOD_MAPPERS_MAX		256

/**
 * struct vnfsec_kmod_watch_mappers - argument of VNFSEC_KMOD_IOC_WATCH_MAPPERS
 * @size:      in/out, as for the version.
 * @watch_id:  the watch.
 * @capacity:  entries @mappers can hold, 1 .. VNFSEC_KMOD_MAPPERS_MAX.
 * @count:     out: entries written (at most @capacity).
 * @mappers:   user pointer to @capacity struct vnfsec_kmod_mapper.
 * @total:     out: processes mapping the region (may exceed @count).
 * @__pad0:    zero.
 */
struct vnfsec_kmod_watch_mappers {
	__u32 size;
	__u32 watch_id;
	__u32 capacity;
	__u32 count;
	__u64 mappers;
	__u32 total;
	__u32 __pad0;
};

#define VNFSEC_KMOD_WATCH_MAPPERS_SIZE_VER0	32

static_assert(sizeof(struct vnfsec_kmod_watch_mappers) ==
	      VNFSEC_KMOD_WATCH_MAPPERS_SIZE_VER0,
	      "struct vnfsec_kmod_watch_mappers: size changed");

enum vnfsec_kmod_scan_algo {
	VNFSEC_KMOD_SCAN_BM	= 1,	/* Boyer-Moore (lib/ts_bm.c) */
	VNFSEC_KMOD_SCAN_KMP	= 2,	/* Knuth-Morris-Pratt (lib/ts_kmp.c) */
};

#define VNFSEC_KMOD_PATTERN_MAX		64
#define VNFSEC_KMOD_SCAN_MATCHES_MAX	65536

/**
 * struct vnfsec_kmod_watch_scan - argument of VNFSEC_KMOD_IOC_WATCH_SCAN
 * @size:        in/out, as for the version.
 * @watch_id:    the watch.
 * @algo:        enum vnfsec_kmod_scan_algo.
 * @pattern_len: bytes used in @pattern, 1 .. VNFSEC_KMOD_PATTERN_MAX.
 * @offset:      start of the scanned range, relative to the region.
 * @len:         its length; the range must lie inside the region.
 * @max_matches: stop after this many, 1 .. VNFSEC_KMOD_SCAN_MATCHES_MAX;
 *               every match raises one VNFSEC_KMOD_EV_SHM_PATTERN event.
 * @matches:     out: matches found (and events raised).
 * @first:       out: offset of the first match, ~0 when none.
 * @pattern:     the byte pattern.
 */
struct vnfsec_kmod_watch_scan {
	__u32 size;
	__u32 watch_id;
	__u32 algo;
	__u32 pattern_len;
	__u64 offset;
	__u64 len;
	__u32 max_matches;
	__u32 matches;
	__u64 first;
	__u8 pattern[VNFSEC_KMOD_PATTERN_MAX];
};

#define VNFSEC_KMOD_WATCH_SCAN_SIZE_VER0	112

static_assert(sizeof(struct vnfsec_kmod_watch_scan) ==
	      VNFSEC_KMOD_WATCH_SCAN_SIZE_VER0,
	      "struct vnfsec_kmod_watch_scan: size changed");

/**
 * struct vnfsec_kmod_watch_snapshot - argument of
 * VNFSEC_KMOD_IOC_WATCH_SNAPSHOT
 * @size:      in/out, as for the version.
 * @watch_id:  the watch.
 * @offset:    start, relative to the region.
 * @len:       bytes wanted: 1 .. module parameter snapshot_max (-E2BIG
 *             above it); the range must lie inside the region.
 * @buf:       user pointer to @len writable bytes.
 * @copied:    out: bytes copied (@len).
 */
struct vnfsec_kmod_watch_snapshot {
	__u32 size;
	__u32 watch_id;
	__u64 offset;
	__u64 len;
	__u64 buf;
	__u64 copied;
};

#define VNFSEC_KMOD_WATCH_SNAPSHOT_SIZE_VER0	40

static_assert(sizeof(struct vnfsec_kmod_watch_snapshot) ==
	      VNFSEC_KMOD_WATCH_SNAPSHOT_SIZE_VER0,
	      "struct vnfsec_kmod_watch_snapshot: size changed");

/* Counter sources of a cache monitor (vnfsec_kmod_cache_add.source). */
enum vnfsec_kmod_cache_source {
	/* Hardware: need a PMU; -EOPNOTSUPP without one. */
	VNFSEC_KMOD_CACHE_HW_CACHE_MISSES	= 1,	/* all levels */
	VNFSEC_KMOD_CACHE_HW_LLC_READ_MISSES	= 2,	/* last level */
	/* Software: always there; drive the same path in tests. */
	VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS	= 16,
	VNFSEC_KMOD_CACHE_SW_CONTEXT_SWITCHES	= 17,
	VNFSEC_KMOD_CACHE_SW_CPU_CLOCK		= 18,	/* ns */
};

/**
 * struct vnfsec_kmod_cache_add - argument of VNFSEC_KMOD_IOC_CACHE_ADD
 * @size:       in/out, as for the version.
 * @source:     enum vnfsec_kmod_cache_source.
 * @pid:        per-task counter on this process (caller's pid namespace),
 *              or 0 for a per-CPU counter on @cpu.
 * @cpu:        per-CPU counter's CPU (with @pid 0); -1 with a @pid.
 * @period_ms:  sampling interval, 10 .. 3600000.
 * @__pad0:     zero.
 * @threshold:  raise VNFSEC_KMOD_EV_CACHE_THRESHOLD when the counter grew
 *              by at least this much (>= 1) within one interval.
 * @monitor_id: out: id of the new monitor (>= 1).
 * @__pad1:     zero.
 */
struct vnfsec_kmod_cache_add {
	__u32 size;
	__u32 source;
	__u32 pid;
	__s32 cpu;
	__u32 period_ms;
	__u32 __pad0;
	__u64 threshold;
	__u32 monitor_id;
	__u32 __pad1;
};

#define VNFSEC_KMOD_CACHE_ADD_SIZE_VER0	40

static_assert(sizeof(struct vnfsec_kmod_cache_add) ==
	      VNFSEC_KMOD_CACHE_ADD_SIZE_VER0,
	      "struct vnfsec_kmod_cache_add: size changed");

/**
 * struct vnfsec_kmod_cache_sample - argument of VNFSEC_KMOD_IOC_CACHE_SAMPLE
 * @size:       in/out, as for the version.
 * @monitor_id: the monitor.
 * @value:      out: counter total now.
 * @delta:      out: increase since the previous sample; the threshold is
 *              applied to it (and an event raised) as on a periodic sample.
 * @__reserved: zero in and out.
 */
struct vnfsec_kmod_cache_sample {
	__u32 size;
	__u32 monitor_id;
	__u64 value;
	__u64 delta;
	__u64 __reserved;
};

#define VNFSEC_KMOD_CACHE_SAMPLE_SIZE_VER0	32

static_assert(sizeof(struct vnfsec_kmod_cache_sample) ==
	      VNFSEC_KMOD_CACHE_SAMPLE_SIZE_VER0,
	      "struct vnfsec_kmod_cache_sample: size changed");

/*
 * VNFSEC_KMOD_IOC_VERSION - query the ABI and module version. Read-only
 * descriptors allowed. Errors: EFAULT, EINVAL (unknown size, reserved).
 */
#define VNFSEC_KMOD_IOC_VERSION \
	_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa0, struct vnfsec_kmod_version)
/* VNFSEC_KMOD_IOC_STATS - queue and object counters. Read-only allowed. */
#define VNFSEC_KMOD_IOC_STATS \
	_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa1, struct vnfsec_kmod_stats)
/*
 * VNFSEC_KMOD_IOC_WATCH_ADD - watch a shared-memory region. Errors: EBADF
 * (@fd), ESRCH (@pid), EFAULT (no mapping at @addr), EINVAL (fields,
 * not shared memory, range outside it), ENOSPC (module
 * parameter max_watches reached).
 */
#define VNFSEC_KMOD_IOC_WATCH_ADD \
	_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa2, struct vnfsec_kmod_watch_add)
/* VNFSEC_KMOD_IOC_WATCH_REMOVE - end a watch. ENOENT: no such watch. */
#define VNFSEC_KMOD_IOC_WATCH_REMOVE \
	_IOW(VNFSEC_KMOD_IOC_MAGIC, 0xa3, struct vnfsec_kmod_watch_ref)
/* VNFSEC_KMOD_IOC_WATCH_PROTECT - declare an immutable sub-range. */
#define VNFSEC_KMOD_IOC_WATCH_PROTECT \
	_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa4, struct vnfsec_kmod_watch_protect)
/* VNFSEC_KMOD_IOC_WATCH_CHECK - run the periodic check now. */
#define VNFSEC_KMOD_IOC_WATCH_CHECK \
	_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa5, struct vnfsec_kmod_watch_check)
/* VNFSEC_KMOD_IOC_WATCH_MAPPERS - list the processes mapping the region. */
#define VNFSEC_KMOD_IOC_WATCH_MAPPERS \
	_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa6, struct vnfsec_kmod_watch_mappers)
/* VNFSEC_KMOD_IOC_WATCH_SCAN - search the region for a byte pattern. */
#define VNFSEC_KMOD_IOC_WATCH_SCAN \
	_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa7, struct vnfsec_kmod_watch_scan)
/* VNFSEC_KMOD_IOC_WATCH_SNAPSHOT - copy a bounded range to userspace. */
#define VNFSEC_KMOD_IOC_WATCH_SNAPSHOT \
	_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa8, struct vnfsec_kmod_watch_snapshot)
/*
 * VNFSEC_KMOD_IOC_CACHE_ADD - start a cache monitor. EOPNOTSUPP: hardware
 * source without a PMU. ESRCH: no such @pid. ENODEV: @cpu offline.
 */
#define VNFSEC_KMOD_IOC_CACHE_ADD \
	_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa9, struct vnfsec_kmod_cache_add)
/* VNFSEC_KMOD_IOC_CACHE_REMOVE - stop a monitor. ENOENT: no such one. */
#define VNFSEC_KMOD_IOC_CACHE_REMOVE \
	_IOW(VNFSEC_KMOD_IOC_MAGIC, 0xaa, struct vnfsec_kmod_watch_ref)
/* VNFSEC_KMOD_IOC_CACHE_SAMPLE - sample a monitor now. */
#define VNFSEC_KMOD_IOC_CACHE_SAMPLE \
	_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xab, struct vnfsec_kmod_cache_sample)

#endif /* _UAPI_VNFSEC_KMOD_H */
