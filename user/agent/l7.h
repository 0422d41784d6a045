/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Application-protocol check of sampled packets with nDPI: a VNF pair
 * whose policy rule names the L7 protocol it carries (docs/policy.md,
 * "l7") must carry that and nothing else. A sample holds a packet's
 * headers and first bytes (VNFSEC_SAMPLE_BYTES), and samples of one flow
 * are not consecutive, so each is judged alone:
 *   - a protocol nDPI recognises that is not the expected one is a
 *     violation (HTTP to a GTP-C port, SSH on a Diameter pair);
 *   - a UDP datagram with a payload nDPI recognises as nothing is one
 *     too (UDP protocols show themselves in every datagram: DNS, GTP);
 *   - a TCP segment nDPI recognises as nothing says nothing (it may be
 *     the middle of a stream), nor does a packet without payload.
 */
#ifndef VNFSEC_L7_H
#define VNFSEC_L7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/vnfsec_abi.h"

#define L7_NAME_MAX	24

struct l7;

struct l7 *l7_new(void);
void l7_free(struct l7 *l);

/*
 * Can nDPI tell @expected (a policy l7 name)? "any", "" and the names
 * nDPI 4.2 has no dissector for (ngap, pfcp, s1ap) cannot be checked.
 */
bool l7_checkable(const char *expected);

/*
 * Can a flow be judged from its first packets (L7 enforcement)? Every
 * checkable name but "tls", whose ClientHello a sample cuts short.
 */
bool l7_enforceable(const char *expected);

enum l7_verdict {
	L7_EXPECTED = 0,	/* it is the expected protocol */
	L7_UNKNOWN,		/* nothing can be said from this packet */
	L7_VIOLATION,		/* it is something else: *detected says what */
	L7_PENDING,		/* l7_flow_feed(): no verdict (yet) */
};

/*
 * Judge the frame @frame (@cap_len bytes captured, from the Ethernet
 * header, VLAN tags allowed) against @expected. @detected gets nDPI's
 * name of what it found ("Unknown" when nothing). Returns an enum
 * l7_verdict, or -EINVAL for a frame that is not IP or is cut inside its
 * headers.
 */
int l7_judge(struct l7 *l, const char *expected, const uint8_t *frame,
	     size_t cap_len, uint64_t ts_ms, char *detected, size_t len);

/*
 * L7 enforcement (ABI 7): one of the first VNFSEC_L7_PACKETS packets of
 * an L7-pending flow (a sample of reason VNFSEC_SAMPLE_L7; @index its
 * number in the flow, @key the flow as the fast path keys it). The
 * packets of one flow go to one nDPI flow, in order. Returns L7_PENDING
 * until there is a verdict, then once: L7_EXPECTED, L7_VIOLATION
 * (@detected says what it is), or L7_UNKNOWN when nDPI recognised nothing
 * (a UDP flow: in its first datagram with a payload; a TCP flow: in its
 * first VNFSEC_L7_PACKETS packets). Later packets of a judged flow, and
 * packets without payload before the last, are L7_PENDING. A packet
 * numbered no higher than the last of its slot starts the flow anew (a
 * new flow on the same tuple). -ENOMEM when nDPI cannot be set up.
 */
int l7_flow_feed(struct l7 *l, const struct vnfsec_flow_key *key,
		 const char *expected, const uint8_t *frame, size_t cap_len,
		 unsigned int index, uint64_t now_ns, char *detected,
		 size_t len);

/*
 * True the first time in a minute @key (pair, protocol, port) is seen
 * violating: one assessment per conversation, not one per sample.
 */
bool l7_first_in_a_while(struct l7 *l, uint64_t key, uint64_t now_ns);

#endif /* VNFSEC_L7_H */
