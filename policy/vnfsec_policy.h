/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vnfsec policy: load a YAML policy (docs/policy.md), validate it with every
 * error reported as "FILE:LINE:COL: message", and compile it into the
 * neutral form below. The agent turns this form into fast-path map entries
 * and heuristic settings; nothing here knows the BPF map layouts, so the
 * fast path's ABI can change without touching the policy language.
 *
 * The compiled form is deterministic: the same policy text (up to key
 * order, comments and layout) gives the same arrays in the same order and
 * the same digest. Addresses are in network byte order, numbers in host
 * byte order.
 */
#ifndef VNFSEC_POLICY_H
#define VNFSEC_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define POLICY_SCHEMA_VERSION	1
#define POLICY_MAX_BYTES	(1U << 20)	/* a policy file, at most */

#define POLICY_NAME_LEN		32	/* VNF, profile, region, playbook names */
#define POLICY_IFNAME_LEN	16	/* IFNAMSIZ */
#define POLICY_NETNS_LEN	64
#define POLICY_PATH_LEN		108	/* sun_path; shm paths */
#define POLICY_L7_LEN		16

#define POLICY_MAX_VNFS		256
#define POLICY_MAX_IFACES	8	/* per VNF */
#define POLICY_MAX_ADDRS	16	/* per VNF */
#define POLICY_MAX_RULES	4096	/* after profile expansion */
#define POLICY_MAX_PREFIXES	4096	/* per block or allow list */
#define POLICY_MAX_PROFILES	64
#define POLICY_MAX_SHM		64
#define POLICY_MAX_RANGES	16	/* immutable ranges per region */
#define POLICY_MAX_MAPPERS	16	/* allowed mappers per region */
#define POLICY_MAX_PLAYBOOKS	64
#define POLICY_MAX_ACTIONS	8	/* per playbook */

enum policy_mode {
	POLICY_MODE_LEARN = 0,	/* observe only, build a proposal */
	POLICY_MODE_MONITOR,	/* detect and report, never drop */
	POLICY_MODE_PROTECT,	/* detect, report and enforce */
};

/*
 * A packet the fast path cannot classify to its L4 header (truncated,
 * lengths that lie, walk limits, unknown encapsulation): its verdict.
 * drop is carried out in protect mode and only counted in monitor and
 * learn (docs/fastpath.md).
 */
enum policy_unparsed {
	POLICY_UNPARSED_DROP = 0,
	POLICY_UNPARSED_PASS,
};

/*
 * A flow of a rule naming an L7 protocol that nDPI cannot judge from its
 * first VNFSEC_L7_PACKETS packets (l7_unknown:): drop is carried out in
 * protect mode and only alerted in monitor and learn, as unparsed is
 * (docs/policy.md).
 */
enum policy_l7_unknown {
	POLICY_L7_UNKNOWN_DROP = 0,
	POLICY_L7_UNKNOWN_PASS,
};

/* Non-IP EtherTypes that pass (ethertypes:); any other is dropped. */
#define POLICY_ETH_ARP		0x01
#define POLICY_ETH_LLDP		0x02
#define POLICY_ETH_ANY		0x80
#define POLICY_ETH_DEFAULT	POLICY_ETH_ARP	/* no "ethertypes:" */

enum policy_proto {
	POLICY_PROTO_ANY = 0,
	POLICY_PROTO_ICMP = 1,
	POLICY_PROTO_TCP = 6,
	POLICY_PROTO_UDP = 17,
	POLICY_PROTO_SCTP = 132,
};

/* A CIDR prefix; addr holds 4 (AF_INET) or 16 (AF_INET6) bytes. */
struct policy_prefix {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t len;		/* prefix length in bits */
	uint8_t addr[16];	/* network byte order, host bits zero */
};

/* Detector thresholds; 0 means "detector off". */
struct policy_thresholds {
	uint32_t syn_flood_pps;		/* bare SYNs/s towards one destination */
	uint32_t scan_ports;		/* distinct ports from one source ... */
	uint32_t scan_window_s;		/* ... within this window */
	uint32_t scan_hosts;		/* distinct hosts, same window */
	uint32_t slow_scan_ports;	/* the same over a long window */
	uint32_t slow_scan_hosts;
	uint32_t slow_scan_window_s;
	uint32_t flow_cut_rst_ps;	/* RSTs/s between one pair */
	uint64_t rate_pps;		/* packets/s into one VNF */
	uint64_t volume_bps;		/* bytes/s into one VNF */
};

struct policy_iface {
	char name[POLICY_IFNAME_LEN];
	uint16_t vlan;			/* 0: untagged */
};

struct policy_vnf {
	char name[POLICY_NAME_LEN];
	char type[POLICY_NAME_LEN];	/* profile name, "" for none */
	char netns[POLICY_NETNS_LEN];
	enum policy_mode mode;		/* effective: own or global */
	enum policy_unparsed unparsed;	/* effective: own or global */
	uint8_t ethertypes;		/* effective: POLICY_ETH_* */
	enum policy_l7_unknown l7_unknown;	/* effective: own or global */
	uint32_t n_ifaces;
	struct policy_iface ifaces[POLICY_MAX_IFACES];
	uint32_t n_addrs;
	struct policy_prefix addrs[POLICY_MAX_ADDRS];
	struct policy_thresholds thresholds;	/* effective, merged */
};

/* Traffic from VNF src to VNF dst that is normal (indices into vnfs). */
struct policy_pair_rule {
	uint16_t src_vnf;
	uint16_t dst_vnf;
	uint8_t proto;			/* enum policy_proto */
	uint8_t from_profile;		/* 1: expanded from dst's profile */
	uint16_t port_lo;		/* destination ports, inclusive; */
	uint16_t port_hi;		/* 0-65535 for "any" */
	char l7[POLICY_L7_LEN];		/* expected L7 protocol, "" any */
};

struct policy_range {
	uint64_t offset;
	uint64_t length;
};

struct policy_shm_region {
	char name[POLICY_NAME_LEN];
	char path[POLICY_PATH_LEN];
	uint32_t n_mappers;
	uint16_t mappers[POLICY_MAX_MAPPERS];	/* VNF indices, sorted */
	uint32_t n_ranges;
	struct policy_range immutable[POLICY_MAX_RANGES];	/* sorted */
};

#define POLICY_MAX_CACHE_VNFS	16

/* The counter a cache monitor follows (the module's sources). */
enum policy_cache_counter {
	POLICY_CACHE_LLC_MISSES = 0,	/* hardware: last-level misses */
	POLICY_CACHE_MISSES,		/* hardware: misses, all levels */
	POLICY_CACHE_PAGE_FAULTS,	/* software: any machine, tests */
	POLICY_CACHE_CONTEXT_SWITCHES,	/* software */
};

/* Cache side-channel signs; 0 means off. */
struct policy_cache {
	uint32_t flush_per_s;		/* counter events/s of one process */
	uint32_t window_s;
	uint32_t counter;		/* enum policy_cache_counter */
	uint32_t n_vnfs;		/* whose processes are monitored */
	uint16_t vnfs[POLICY_MAX_CACHE_VNFS];	/* VNF indices, sorted */
};

/*
 * Playbooks (docs/policy.md#playbooks): what the security server orders
 * when a detector fires. The one remediation language: the policy's
 * section and the server's own playbook file are both read by
 * policy/playbook.c.
 */
enum policy_action_type {
	POLICY_ACT_ALERT = 1,		/* hand the incident to the hook */
	POLICY_ACT_BLOCK_SOURCE,
	POLICY_ACT_DROP_FLOW,
	POLICY_ACT_MIRROR,
	POLICY_ACT_QUARANTINE,
	POLICY_ACT_RATE_LIMIT_SOURCE,
	POLICY_ACT_UNBLOCK_SOURCE,
	POLICY_ACT_MONITOR_FLOW,
	POLICY_ACT_RELEASE,
};

struct policy_action {
	enum policy_action_type type;
	uint32_t ttl_s;			/* 0: until lifted */
	uint8_t has_ttl;		/* 0: the server's --block-ttl */
	uint8_t prefix_len;		/* source actions: 1..32, default 32 */
	uint32_t rate_pps;		/* rate_limit_source only */
};

enum policy_scope {
	POLICY_SCOPE_REPORTING = 0,	/* the agents that reported it */
	POLICY_SCOPE_ALL,		/* every connected agent */
};

struct policy_playbook {
	char name[POLICY_NAME_LEN];
	char detector[POLICY_NAME_LEN];	/* a detector, threat_match or any */
	uint32_t min_severity;		/* 1 .. 10, as assessments say */
	uint8_t scope;			/* enum policy_scope */
	uint8_t act_on_untrusted;	/* also for agents that failed
					 * attestation (default: not) */
	uint32_t n_actions;
	struct policy_action actions[POLICY_MAX_ACTIONS];
};

struct policy_compiled {
	uint32_t schema;		/* POLICY_SCHEMA_VERSION */
	uint64_t revision;		/* operator's "revision:" */
	uint8_t digest[32];		/* SHA-256 of policy_dump() output */
	char name[POLICY_NAME_LEN];
	enum policy_mode mode;		/* global */
	enum policy_unparsed unparsed;	/* global */
	uint8_t ethertypes;		/* global, POLICY_ETH_* */
	enum policy_l7_unknown l7_unknown;	/* global */
	struct policy_thresholds thresholds;	/* global */
	struct policy_cache cache;
	uint32_t n_vnfs;
	struct policy_vnf *vnfs;		/* sorted by name */
	uint32_t n_rules;
	struct policy_pair_rule *rules;		/* sorted */
	uint32_t n_block;
	struct policy_prefix *block;		/* sorted, v4 first */
	uint32_t n_allow;
	struct policy_prefix *allow;
	uint32_t n_shm;
	struct policy_shm_region *shm;		/* sorted by name */
	uint32_t n_playbooks;
	struct policy_playbook *playbooks;	/* sorted by name */
	uint8_t has_playbooks;		/* the key was written, maybe [] */
};

/*
 * Diagnostics: one line per problem, "FILE:LINE:COL: message", in the
 * order found. The loader collects all it can find in one pass.
 */
struct policy_diag {
	uint32_t n;
	uint32_t cap;
	char **lines;
	uint32_t dropped;		/* beyond POLICY_MAX_DIAG */
};
#define POLICY_MAX_DIAG	200

void policy_diag_free(struct policy_diag *d);
void policy_diag_print(const struct policy_diag *d, FILE *f);

/*
 * Load, validate and compile. @name is what diagnostics call the file.
 * Returns 0 and *out, or -EINVAL with every problem in @diag, or another
 * negative errno (file unreadable, no memory) with one line in @diag.
 */
int policy_load_file(const char *path, struct policy_compiled **out,
		     struct policy_diag *diag);
int policy_load_buf(const char *name, const char *buf, size_t len,
		    struct policy_compiled **out, struct policy_diag *diag);
void policy_free(struct policy_compiled *p);

/* Canonical text form: golden tests, the digest and "policy show". */
int policy_dump(const struct policy_compiled *p, FILE *f);
/* Lower-case hex digest, 65 bytes with the NUL. */
void policy_digest_hex(const struct policy_compiled *p, char out[65]);

/*
 * Rules added (+), removed (-) and changed (~) from @old to @new, one per
 * line, deterministic order. Returns the number of differences.
 */
int policy_diff(const struct policy_compiled *old,
		const struct policy_compiled *new, FILE *f);

/* The same, one call per difference; @op is '+', '-' or '~'. */
typedef void (*policy_change_fn)(void *ctx, char op, const char *key,
				 const char *old_val, const char *new_val);
int policy_diff_each(const struct policy_compiled *old,
		     const struct policy_compiled *new,
		     policy_change_fn fn, void *ctx);

/*
 * The canonical form as (key, value) pairs, for JSON output: calls @fn
 * once per item in dump order. Returns 0 or -ENOMEM.
 */
int policy_each_item(const struct policy_compiled *p,
		     void (*fn)(void *ctx, const char *key, const char *val),
		     void *ctx);

/*
 * On the agent's event path: the index of the VNF owning @addr (4 or 16
 * bytes in network order, by @family), or -1; and the rule that makes a
 * flow from VNF @src_vnf to @dst_vnf normal, or NULL (a policy violation).
 * @dport is in host order; ICMP and "any" rules match any port.
 */
int policy_vnf_of(const struct policy_compiled *p, int family,
		  const void *addr);
const struct policy_pair_rule *
policy_match(const struct policy_compiled *p, int src_vnf, int dst_vnf,
	     uint8_t proto, uint16_t dport);

/*
 * Every key of the language as the parser knows it: @section is where it
 * sits ("" top level, "vnfs[]", "profiles.*.accepts[]", "thresholds" for
 * the thresholds of every level), @key its name.
 */
void policy_schema_each(void (*fn)(void *ctx, const char *section,
				   const char *key),
			void *ctx);

const char *policy_mode_name(enum policy_mode m);
const char *policy_cache_counter_name(uint32_t counter);
const char *policy_proto_name(uint8_t proto);
const char *policy_action_name(enum policy_action_type t);
/* "on=syn_flood min_severity=2 actions=block_source:300s,alert" */
int policy_playbook_format(const struct policy_playbook *b, char *buf,
			   size_t len);

/*
 * The server's playbook file: a policy document with only `version` and
 * `playbooks` (an empty list orders nothing). Errors as for a policy.
 */
int policy_playbooks_load_file(const char *path,
			       struct policy_compiled **out,
			       struct policy_diag *diag);
int policy_format_prefix(const struct policy_prefix *p, char *buf,
			 size_t len);

/*
 * Learn mode: turn what the agent observed into a proposed policy that
 * the operator reviews and applies. @vnfs gives the VNFs the agent knows
 * (name, type, namespace, interfaces, addresses). Flows left out are
 * counted in *unmatched: ends not in two known VNFs, a protocol other than
 * TCP, UDP, SCTP or ICMP, or more than POLICY_MAX_RULES distinct rules.
 * The proposal is YAML text (the caller frees it) that policy_load_buf()
 * accepts, in monitor mode. Limits per VNF (rate_pps, volume_bps) come
 * from the peak it received: the larger of its mean over @duration_s and
 * the sum of its flows' own rates (each over its lifetime, at least 1 s),
 * times @headroom_pct / 100 (0: POLICY_LEARN_HEADROOM_PCT), and never
 * below the floors, so a short or quiet learning window does not propose
 * a limit normal traffic crosses. Flows on one port whose L7 protocols
 * disagree get the one that carried most bytes.
 */
#define POLICY_LEARN_HEADROOM_PCT	300
#define POLICY_LEARN_FLOOR_PPS		1000
#define POLICY_LEARN_FLOOR_BPS		1000000
struct policy_observed_flow {
	struct policy_prefix src;	/* full-length prefixes (/32, /128) */
	struct policy_prefix dst;
	uint8_t proto;
	uint16_t dport;
	char l7[POLICY_L7_LEN];		/* what nDPI said, "" unknown */
	uint64_t packets;
	uint64_t bytes;
	uint64_t duration_ms;		/* first to last packet */
	uint16_t sport;			/* 0 unknown */
	/*
	 * Its VNFs as the sensor resolved them (the port it came from, the
	 * address it goes to: what protect mode will judge it by), "" when
	 * unknown: then @src and @dst are looked up in the VNFs' addresses.
	 * A GTP-U flow is given as its carrier (udp/2152 between the two
	 * tunnel ends' VNFs, POLICY_FLOW_OPENS), the fast path's unit.
	 */
	char src_vnf[POLICY_NAME_LEN];
	char dst_vnf[POLICY_NAME_LEN];
	/* Its first and last packet, one clock for all flows; 0 unknown. */
	uint64_t first_ns, last_ns;
	uint8_t role;			/* enum policy_flow_role */
};

/*
 * Does a flow make a rule? A pair rule says what its source may *start*:
 * protect mode passes a reply only as the reply of a flow that passed
 * the other way (docs/fastpath.md), so a proposal needs a rule for every
 * flow that opened, and none for the answers.
 */
enum policy_flow_role {
	/*
	 * The learner decides: a TCP, UDP or SCTP flow is a reply when a flow
	 * the other way (same ends, ports swapped) started before it and was
	 * active less than POLICY_LEARN_REPLY_S before it started, as the
	 * fast path's "flow_reply" would see it; otherwise it opened. Started
	 * at the same time (a coarse clock), the side given as opening
	 * (POLICY_FLOW_OPENS, any source port) to its port is the request.
	 * Without times nothing is taken for a reply (a rule too many
	 * passes; one too few drops).
	 */
	POLICY_FLOW_JUDGE = 0,
	POLICY_FLOW_OPENS,		/* it opened: a rule */
	POLICY_FLOW_ANSWERS,		/* only its packets count (limits) */
};
#define POLICY_LEARN_REPLY_S		60	/* VNFSEC_REPLY_TTL_NS */

struct policy_learn_input {
	const char *name;		/* policy name, unless @base has one */
	/*
	 * The policy running while it learnt, or NULL: the proposal keeps its
	 * name, global thresholds, block and allow lists, and is its next
	 * revision, so a review shows only what was learnt.
	 */
	const struct policy_compiled *base;
	uint32_t duration_s;		/* observation period */
	uint32_t headroom_pct;		/* e.g. 200: baseline is 2x peak */
	const struct policy_vnf *vnfs;	/* name, type, netns, ifaces, addrs */
	uint32_t n_vnfs;
	const struct policy_observed_flow *flows;
	uint32_t n_flows;
};

int policy_propose(const struct policy_learn_input *in, char **yaml,
		   size_t *len, uint32_t *unmatched);

#endif /* VNFSEC_POLICY_H */
