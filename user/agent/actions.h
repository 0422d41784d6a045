/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Corrective actions of every type, as the server orders them: each one
 * is written into the fast path's maps (docs/bpf-maps.md) with its expiry,
 * so the fast path stops honouring it on time even when this agent is
 * gone, and the agent lifts it too (actions_tick) so the maps do not fill
 * with dead entries.
 *
 *   BLOCK/UNBLOCK_SOURCE   blocklist_v4 (through the enforcer), blocklist_v6
 *   DROP/MONITOR/MIRROR_FLOW  flow_override, one entry per place the flow
 *                          is or will be seen (interface and direction)
 *   QUARANTINE/RELEASE_VNF the quarantine map, by the VNF's policy name
 *   RATE_LIMIT_SOURCE      rate_override, one host's own rate (/32, /128
 *                          only: -EINVAL); a newer order for the source
 *                          replaces it, its ttl_s lifts it; keeps
 *                          config.nr_rate_overrides at the entry count
 */
#ifndef VNFSEC_ACTIONS_H
#define VNFSEC_ACTIONS_H

#include "user/agent/agent.h"
#include "user/common/vnfsec.pb-c.h"

/* Flow overrides, quarantines, IPv6 blocks, rate limits it follows. */
#define ACTIONS_TRACKED_MAX	4096
/* Places (interface, direction, known flow) one flow action covers. */
#define ACTIONS_FLOW_KEYS_MAX	64

struct actions;

/*
 * @ev gives the applied policy (VNF names for quarantines) when the
 * action comes; it may be NULL (no quarantine then).
 */
struct actions *actions_new(const struct sensor *s, struct enforcer *enf,
			    const struct event_ctx *ev);
void actions_free(struct actions *a);

/*
 * Make @ifname (NULL: none, leave as is) the port mirror_flow copies go
 * to: config.mirror_ifindex.
 */
int actions_set_mirror(const struct sensor *s, const char *ifname);

/* Carry out @act (checked by wire_check_action); 0 or a negative errno. */
int actions_apply(struct actions *a, const Vnfsec__Action *act);

/*
 * The agent's own verdict on one flow (@k exactly as the fast path keys
 * it): not the L7 protocol its rule names. flow_override
 * VNFSEC_OVERRIDE_L7 for @ttl_s, and the flow's cached verdict undone in
 * its state with VNFSEC_FLOW_F_L7_DROP set (no policy_gen bump: other
 * flows keep theirs), carried out in the flow's mode at its next packet;
 * listed as "l7_drop". 0 or a negative errno.
 */
int actions_l7_drop(struct actions *a, const struct vnfsec_flow_key *k,
		    uint32_t ttl_s);

/* Lift the actions whose time is up at @now_ns (CLOCK_MONOTONIC). */
void actions_tick(struct actions *a, uint64_t now_ns);

/* What is active besides IPv4 blocks (those are the enforcer's). */
struct action_info {
	const char *type;	/* drop_flow, monitor_flow, mirror_flow, l7_drop, quarantine, block, rate_limit */
	char target[128];	/* the flow, the VNF, the IPv6 prefix, the host */
	uint32_t rate_pps;	/* rate_limit: its rate; else 0 */
	uint64_t seq;
	int64_t expires_in_s;	/* -1: until lifted */
};
void actions_foreach(const struct actions *a,
		     void (*fn)(void *ctx, const struct action_info *i),
		     void *ctx);
unsigned int actions_count(const struct actions *a);

#endif /* VNFSEC_ACTIONS_H */
