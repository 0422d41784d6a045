/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Posture joined with policy: a VNF is in force in the fast path from its
 * first packet. The agent listens to rtnetlink for links of its own
 * network namespace (where the VNF ports are); when a port the policy or
 * --iface names appears, or comes back with a new ifindex as its VNF
 * restarts, the fast path is attached to it and the policy's maps are
 * rewritten so the port maps to its VNF, all on the link's creation
 * event, before the port is up and carries traffic. VNFs (named network
 * namespaces) that appear or go are matched with the policy by name or
 * by its "namespace" and reported to the server.
 *
 * Until the wire has a posture message, a report is an Assessment of
 * HEURISTIC_POLICY_VIOLATION with severity 1 (a VNF of the policy came
 * or went), no source address
 * (so no server playbook acts on it), and evidence "posture".
 */
#ifndef VNFSEC_JOIN_H
#define VNFSEC_JOIN_H

#include "user/agent/agent.h"
#include "user/agent/posture.h"

struct join;

/* Watch links in this network namespace; *fd is for epoll. */
int join_open(struct sensor *s, const struct agent_config *cfg,
	      struct event_ctx *ev, struct join **out, int *fd);
void join_close(struct join *j);

/* Links came or went (the rtnetlink socket is readable). */
void join_links(struct join *j);

/* Attach to every named port that exists now; rewrite the maps if any. */
void join_ports(struct join *j);

/* posture_set_notify() callback: a VNF namespace appeared or is gone. */
void join_posture(void *ctx, const struct vnf_posture *v, bool appeared);

#endif /* VNFSEC_JOIN_H */
