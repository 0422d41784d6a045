/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a policy.learn needs from the stream of new-flow records: every
 * flow that *opened* while it ran (issue 15.8). A pair rule says what its
 * source may start, and protect mode passes a reply only as the reply of
 * a flow that passed the other way; so a proposal needs a rule for each
 * flow that opened and none for the answers. The tables read at the end
 * of the period cannot give that: flow_new is direct-mapped, so a busy
 * period overwrites one-packet flows (a DNS request) before the end, and
 * a table does not say which end spoke first. The records come in order,
 * one per new flow, and the event loop already tells which ones answer a
 * flow seen opening (flow_origins, VNFSEC_FLOW_F_REPLY).
 *
 * Fixed memory while learning (LEARN_OPENINGS_MAX distinct openings,
 * none when nobody learns): openings are kept by what a rule needs
 * (addresses, VNFs, protocol, destination port; a GTP-U tunnel by its
 * carrier), so a DNS server's thousand clients make one entry per client.
 * Openings that did not fit are counted: the proposal then falls back on
 * reading the tables (see control.c).
 */
#ifndef VNFSEC_AGENT_LEARN_H
#define VNFSEC_AGENT_LEARN_H

#include <stdbool.h>
#include <stdint.h>

#include "bpf/vnfsec_abi.h"

#define LEARN_OPENINGS_MAX	(1U << 16)

/* One distinct opening: key reduced (see learn_note). */
struct learn_opening {
	struct vnfsec_flow_key key;
	uint16_t src_vnf, dst_vnf;	/* fast-path VNF ids, 0 none */
	uint32_t pad;
	uint64_t first_ns, last_ns;	/* record times (CLOCK_MONOTONIC) */
};

/*
 * A port new flows came in on while learning, with the first source
 * address seen there: without a running policy the fast path knows no
 * VNF ports, and a proposal made from the posture must name them, or
 * protect mode takes its VNFs' packets for spoofed ones (a VNF's
 * address from a port of no VNF).
 */
#define LEARN_PORTS_MAX		256

struct learn_port {
	uint32_t ifindex;
	uint16_t vlan;			/* 0 untagged */
	uint8_t family;			/* VNFSEC_AF_* */
	uint8_t pad;
	union vnfsec_addr saddr;
};

struct learn_openings;

struct learn_openings *learn_openings_new(void);
void learn_openings_free(struct learn_openings *lo);
/*
 * Keep openings until @until_ns (a later call may extend it). Returns
 * -ENOMEM when the table cannot be had; then nothing is kept.
 */
int learn_openings_watch(struct learn_openings *lo, uint64_t until_ns);
/* Nobody learns any more: the memory goes back. */
void learn_openings_stop(struct learn_openings *lo);
/*
 * A new-flow record; @opens: it answers no flow seen opening the other
 * way. A TCP SYN (no ACK) always opens, an ICMP echo reply never; a
 * GTP-U flow always counts as its carrier's opening (both tunnel ends
 * send to udp/2152). NULL @lo or nobody learning: nothing.
 */
void learn_note(struct learn_openings *lo,
		const struct vnfsec_new_flow_record *rec, bool opens);
/* Openings whose last record is at or after @from_ns. */
void learn_openings_each(const struct learn_openings *lo, uint64_t from_ns,
			 void (*fn)(void *ctx, const struct learn_opening *o),
			 void *ctx);
/* The ports seen (ingress, not tunnelled) since the last watch began. */
void learn_ports_each(const struct learn_openings *lo,
		     void (*fn)(void *ctx, const struct learn_port *p),
		     void *ctx);
/*
 * The time of the latest record noted: a flow the tables show starting
 * after it has not had its record read yet (still in the ring buffer).
 */
uint64_t learn_openings_seen(const struct learn_openings *lo);
/* Openings not kept (the table was full) since the last watch began. */
uint64_t learn_openings_lost(const struct learn_openings *lo);

#endif /* VNFSEC_AGENT_LEARN_H */
