/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Scan detection: one source opening flows to many destinations
 * (horizontal) or to many ports (vertical) within a window. Run twice,
 * with a short window for fast scans and a long one with low thresholds
 * for slow scans that stay under any per-second rate.
 */
#ifndef VNFSEC_SCAN_H
#define VNFSEC_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "bpf/vnfsec_abi.h"

/* Thresholds of 0 turn that kind of scan off; window 0: both off. */
struct scan_config {
	uint64_t window_ns;
	unsigned int horizontal;	/* distinct destinations */
	unsigned int vertical;		/* distinct destination ports */
};

/* A connection attempt as the scan detector needs it. */
struct scan_probe {
	uint64_t ts_ns;
	union vnfsec_addr saddr, daddr;	/* network order */
	uint8_t family;			/* VNFSEC_AF_INET or _INET6 */
	uint16_t dport;			/* network order */
	uint8_t proto;
	/* The source's own settings (its VNF's), NULL: the detector's. */
	const struct scan_config *cfg;
};

struct scan_verdict {
	bool horizontal;		/* else vertical */
	uint8_t family;			/* VNFSEC_AF_* */
	union vnfsec_addr saddr;
	union vnfsec_addr daddr;	/* the last target, for vertical */
	unsigned int distinct;		/* estimated distinct targets */
	unsigned int threshold;
	uint64_t window_ms;
};

struct scan_detector;
struct scan_detector *scan_new(const struct scan_config *cfg);
void scan_free(struct scan_detector *sd);
/* New settings; what was counted so far is kept. */
void scan_set_config(struct scan_detector *sd, const struct scan_config *cfg);
/* Feed one probe; true (once per source and window) when it is a scan. */
bool scan_feed(struct scan_detector *sd, const struct scan_probe *p,
	       struct scan_verdict *v);

#endif /* VNFSEC_SCAN_H */
