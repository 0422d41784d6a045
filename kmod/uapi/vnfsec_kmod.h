/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * vnfsec kernel module UAPI: the /dev/vnfsec ioctl interface.
 *
 * This header is the only place these layouts are written down. Every
 * structure uses fixed-width types, has its padding spelled out and its
 * size asserted, so it is the same for 32- and 64-bit callers.
 *
 * Extensible structures start with a __u32 size that the caller sets to
 * sizeof() of the layout it was compiled against. The kernel rejects a
 * size it does not know with -EINVAL and writes back the number of bytes
 * it filled. Unknown ioctl commands fail with -ENOTTY. Reserved fields
 * and explicit padding must be zero on input (-EINVAL otherwise) so that
 * a later ABI version can give them a meaning.
 */
#ifndef _UAPI_VNFSEC_KMOD_H
#define _UAPI_VNFSEC_KMOD_H

#include <linux/ioctl.h>
#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/build_bug.h>	/* static_assert() */
#else
#include <assert.h>		/* static_assert(): C11, C++11 */
#endif

#define VNFSEC_KMOD_ABI_VERSION		1
#define VNFSEC_KMOD_DEVICE_NAME		"vnfsec"
#define VNFSEC_KMOD_DEVICE_PATH		"/dev/vnfsec"

/* ioctl type byte; our command numbers start at 0xa0, clear of V4L2's. */
#define VNFSEC_KMOD_IOC_MAGIC		'V'

/* Feature bits reported in vnfsec_kmod_version.features (none in ABI 1). */
#define VNFSEC_KMOD_FEATURES_ALL	0ULL

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

#define VNFSEC_KMOD_VERSION_SIZE_VER0	40	/* ABI 1 */

static_assert(sizeof(struct vnfsec_kmod_version) ==
	      VNFSEC_KMOD_VERSION_SIZE_VER0,
	      "struct vnfsec_kmod_version: size changed");
static_assert(__builtin_offsetof(struct vnfsec_kmod_version, features) == 16,
	      "struct vnfsec_kmod_version: features misaligned");

/*
 * VNFSEC_KMOD_IOC_VERSION - query the ABI and module version.
 * Allowed on a read-only descriptor. Errors: EFAULT (bad pointer), EINVAL
 * (unknown size, non-zero reserved fields).
 */
#define VNFSEC_KMOD_IOC_VERSION \
	_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa0, struct vnfsec_kmod_version)

#endif /* _UAPI_VNFSEC_KMOD_H */
