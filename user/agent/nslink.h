/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which network namespaces are this agent's VNFs: those with a veth whose
 * other end is one of the ports the agent watches. An ifindex alone does
 * not say it (every namespace counts from 1, and several switches on one
 * host have ports of the same numbers): the peer's namespace id must be
 * the agent's namespace too, as rtnetlink reports both.
 */
#ifndef VNFSEC_NSLINK_H
#define VNFSEC_NSLINK_H

#include <stdbool.h>

/*
 * Call from inside the VNF's namespace (setns): has it a link whose peer
 * is one of @ports (ifindexes) in the namespace of @agent_ns_fd?
 */
bool nslink_peer_of(int agent_ns_fd, const int *ports, unsigned int nr);

#endif /* VNFSEC_NSLINK_H */
