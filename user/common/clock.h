/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The two clocks vnfsec uses: CLOCK_MONOTONIC, which the fast path's
 * bpf_ktime_get_ns() shares (expiries, windows), and the wall clock for
 * what people and servers read (assessment times).
 */
#ifndef VNFSEC_CLOCK_H
#define VNFSEC_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline uint64_t clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* VNFSEC_CLOCK_H */
