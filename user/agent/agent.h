/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vnfsec-agent: the sensor on one server. One file per duty:
 *   sensor.c      load or adopt the BPF fast path, pin, attach
 *   events.c      drain the ring buffer into the heuristics
 *   heuristics.c  local threat assessment (SYN flood), who opened a flow
 *   uplink.c      the TLS tunnel to the security server
 *   spool.c       assessments on disk until the server acknowledges them
 *   enforce.c     source blocks written into the fast path's maps
 *   actions.c     the server's corrective actions of every type
 *   control.c     the control socket vnfsecctl talks to
 *   scan.c        scan detection (fast and slow)
 *   posture.c     which VNFs run here: namespaces, interfaces, processes
 *   rates.c       drop spikes and volume anomalies against baselines
 *   apply.c       the operator's policy: thresholds, mode, blocks, names
 *   fastpath_policy.c  the policy in the fast path's maps
 *   shm.c         shared memory and cache, through the kernel module
 *   l7.c          application protocols of sampled packets (nDPI)
 *   join.c        posture joined with policy: new VNF ports enforced
 *   pairvol.c     volume per VNF pair against a learned baseline
 *   enroll.c      enrollment and quotes with the TPM (docs/trust.md)
 *   state.c       sequences and bundle policy, sealed by the TPM
 *   local_alerts.c  the standalone agent's EVE file (no server)
 *   main.c        options and the event loop
 */
#ifndef VNFSEC_AGENT_H
#define VNFSEC_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "bpf/vnfsec_abi.h"
#include "user/common/tls.h"

#define AGENT_MAX_IFACES 32

/* epoll_event.data.u32 of each source the agent's loop watches. */
enum agent_event_source {
	AGENT_EV_RINGBUF = 1,
	AGENT_EV_UPLINK,
	AGENT_EV_TIMER,
	AGENT_EV_SIGNAL,
	AGENT_EV_POSTURE,
	AGENT_EV_KMOD,
	AGENT_EV_LINK,		/* rtnetlink: ports came or went */
	AGENT_EV_HANGUP,	/* SIGHUP: read the configuration again */
};

/* How XDP is attached: agent_config.xdp_attach. */
enum agent_xdp_attach {
	AGENT_XDP_ATTACH_PLAIN = 0,	/* bpf_xdp_attach, sole XDP user */
	AGENT_XDP_ATTACH_AUTO,		/* libxdp, else plain */
	AGENT_XDP_ATTACH_LIBXDP,	/* libxdp's dispatcher or fail */
};

struct agent_config {
	const char *ifaces[AGENT_MAX_IFACES];
	unsigned int nr_ifaces;
	const char *pin_dir;
	bool xdp_skb_mode;		/* generic XDP instead of native */
	int xdp_attach;			/* enum agent_xdp_attach */
	bool tc_egress;			/* TC egress on every --iface too */
	bool tc_ingress;		/* TC ingress instead of XDP */
	const char *lo_netns[AGENT_MAX_IFACES];	/* TC on lo in these */
	unsigned int nr_lo_netns;
	bool fresh;			/* replace pinned programs and maps */
	bool detach_on_exit;
	const char *server;		/* ADDR:PORT */
	const char *server_name;	/* name in the server certificate */
	struct tls_files tls;
	unsigned int syn_threshold;	/* SYNs to one destination per window */
	unsigned int window_ms;
	unsigned int scan_hosts;	/* distinct hosts per window: a scan */
	unsigned int scan_ports;	/* distinct ports per window: a scan */
	unsigned int slow_scan_window_s;
	unsigned int slow_scan_hosts;
	unsigned int slow_scan_ports;
	unsigned int heartbeat_s;
	const char *spool_dir;		/* unacknowledged assessments */
	const char *control_path;	/* Unix socket for vnfsecctl */
	const char *control_group;	/* may run read-only commands */
	const char *control_admin_group; /* may run every command */
	const char *netns_dir;		/* where VNF namespaces are named */
	unsigned int protect_ttl_s;	/* block flood/scan sources locally */
	const char *policy_path;	/* applied at start, if set */
	const char *action_key;		/* server's public key: signed only */
	const char *action_issuer;	/* who signs; default server_name */
	const char *bundle_key;		/* root public key: signed bundles */
	unsigned int spool_max_mb;
	const char *mirror_iface;	/* mirror_flow target, NULL: none */
	int sample_every;		/* -1: leave the fast path's as is */
	const char *tpm_tcti;		/* the agent's TPM, for attestation */
	bool enroll;			/* enroll when --cert is not valid */
	const char *agent_id;		/* --agent-id, for enrollment */
	/* With --tpm: the sealed agent state (state.c); 0/NULL: defaults. */
	const char *state_path;		/* default SPOOL_DIR/agent.state */
	uint32_t state_nv;		/* its NV counter index */
	uint32_t state_pcrs;		/* PCR mask it is sealed to */
	bool state_reset;		/* start fresh though one was saved */
	bool standalone;		/* no server: alerts to eve_path */
	const char *eve_path;
};

/* The fast path as the agent holds it, loaded by itself or by bpftool. */
struct sensor {
	struct vnfsec_bpf *skel;	/* NULL when adopted */
	int prog_fd;			/* vnfsec_xdp */
	int egress_prog_fd;		/* vnfsec_egress, -1: not pinned */
	int ingress_prog_fd;		/* vnfsec_ingress, -1: not pinned */
	int lo_prog_fd;			/* vnfsec_lo, -1: not pinned */
	__u32 prog_id;
	/* One fd per map of docs/bpf-maps.md the agent reads or writes. */
	int flow_table_fd;
	int flow_new_fd;
	int counters_fd;
	int vnf_stats_fd;
	int config_fd;
	int blocklist_v4_fd;
	int blocklist_v6_fd;
	int allowlist_v4_fd;
	int allowlist_v6_fd;
	int vnf_ports_fd;
	int vnf_addrs_fd;
	int vnf_pair_policy_fd;
	int flow_override_fd;
	int quarantine_fd;
	int rate_override_fd;
	int vnf_policy_fd;		/* ABI 6 */
	int events_fd;
	bool adopted;
	int ifindex[AGENT_MAX_IFACES];
	char port[AGENT_MAX_IFACES][16];	/* each slot's interface name */
	unsigned int nr_attached;
	bool tc_egress[AGENT_MAX_IFACES];	/* TC egress attached too */
	void *libxdp_prog[AGENT_MAX_IFACES];	/* via libxdp's dispatcher */
	struct vnfsec_bpf *libxdp_skel[AGENT_MAX_IFACES];	/* its copy */
	unsigned int nr_lo_attached;
};

int sensor_open(struct sensor *s, const struct agent_config *cfg);
void sensor_close(struct sensor *s, const struct agent_config *cfg);
/*
 * A port comes with its VNF, or comes back with a new ifindex when its
 * VNF restarts: attach the fast path to @name now. Returns 1 when it
 * attached, 0 when it already was (or @name does not exist), or -errno.
 */
int sensor_follow_port(struct sensor *s, const struct agent_config *cfg,
		       const char *name);
/* config.sample_every: 1 packet in @every is sampled (0: off). */
int sensor_set_sampling(const struct sensor *s, unsigned int every);
unsigned int sensor_sampling(const struct sensor *s);
/* Sum a per-CPU counter over all CPUs. */
int sensor_counter(const struct sensor *s, enum vnfsec_counter c,
		   uint64_t *out);

/* An assessment before it is put on the wire. */
struct assessment {
	uint64_t id;
	uint64_t time_unix_ms;
	uint32_t severity;
	uint32_t heuristic;		/* Vnfsec__Heuristic */
	uint32_t saddr, daddr;		/* network order */
	/* AF_INET6: the addresses are these, and saddr/daddr are 0. */
	uint8_t family;			/* 0 or AF_INET: IPv4 */
	uint8_t saddr6[16], daddr6[16];
	uint16_t dport;			/* host order, 0: several ports */
	uint64_t count, src_count;
	uint32_t window_ms, threshold;
	char iface[16];
	char local_action[96];		/* what the agent did itself, if any */
	char process[32];		/* "PID COMM" behind it, if known */
	char vnf_src[32], vnf_dst[32];	/* from the policy, "" if unknown */
	char l7[64];			/* "expected X, detected Y" */
	char posture[224];		/* a VNF came or went */
	char sample_sha256[65];		/* of the packet sample judged */
	/*
	 * Not "": protect mode would have blocked a source it must never
	 * block on its own (a VNF's address, the allowlist, the server):
	 * what an operator should decide instead (docs/agent.md).
	 */
	char requires_operator[192];
	/* The fast path dropped what this reports (EVE alert.action). */
	bool fast_path_dropped;
	uint16_t vlan;			/* outer VLAN id, 0: untagged */
	char cause[32];			/* the fast path's counter naming it */
	char mac[18];			/* source MAC of the frames, if known */
	/*
	 * The GTP-U tunnel it came in (wire Tunnel, EVE "tunnel"): outer
	 * addresses (4 or 16 bytes by tun_family), UDP ports host order,
	 * TEID host order. tun_family 0: not tunnelled.
	 */
	uint8_t tun_family;		/* 0, AF_INET or AF_INET6 */
	uint8_t tun_saddr[16], tun_daddr[16];
	uint16_t tun_sport, tun_dport;
	uint32_t teid;
};

/* The tunnel of a new-flow record (GTP-U inner flow) into @a. */
static inline void assessment_set_tunnel(struct assessment *a,
					 const struct vnfsec_new_flow_record *r)
{
	if (r->key.encap != VNFSEC_ENCAP_GTPU ||
	    (r->outer_family != VNFSEC_AF_INET &&
	     r->outer_family != VNFSEC_AF_INET6))
		return;
	a->tun_family = r->outer_family == VNFSEC_AF_INET6 ? AF_INET6 :
							     AF_INET;
	memcpy(a->tun_saddr, &r->outer_saddr,
	       a->tun_family == AF_INET6 ? 16 : 4);
	memcpy(a->tun_daddr, &r->outer_daddr,
	       a->tun_family == AF_INET6 ? 16 : 4);
	a->tun_sport = ntohs(r->outer_sport);
	a->tun_dport = ntohs(r->outer_dport);
	a->teid = ntohl(r->teid);
}

/* The source of @a (4 or 16 bytes, by a->family) and its AF_*. */
static inline const void *assessment_src(const struct assessment *a,
					 int *family)
{
	*family = a->family == AF_INET6 ? AF_INET6 : AF_INET;
	return *family == AF_INET6 ? (const void *)a->saddr6 :
			       (const void *)&a->saddr;
}

static inline const void *assessment_dst(const struct assessment *a,
					 int *family)
{
	*family = a->family == AF_INET6 ? AF_INET6 : AF_INET;
	return *family == AF_INET6 ? (const void *)a->daddr6 :
			       (const void *)&a->daddr;
}

/* @s and @d of the fast path's family (VNFSEC_AF_*) into @a. */
static inline void assessment_set_addrs(struct assessment *a, uint8_t family,
					const union vnfsec_addr *s,
					const union vnfsec_addr *d)
{
	if (family == VNFSEC_AF_INET6) {
		a->family = AF_INET6;
		memcpy(a->saddr6, s, 16);
		memcpy(a->daddr6, d, 16);
	} else {
		a->family = AF_INET;
		a->saddr = s->v4;
		a->daddr = d->v4;
	}
}

struct syn_flood;
struct syn_flood *syn_flood_new(unsigned int threshold,
				unsigned int window_ms);
void syn_flood_set_threshold(struct syn_flood *sf, unsigned int threshold);
void syn_flood_free(struct syn_flood *sf);
/*
 * Feed one new-flow record (IPv4 or IPv6); returns true and fills @a when
 * it fires. @a->src_count is 0 when no one source is a heavy hitter (a
 * flood of spoofed sources): there is no source to blame.
 */
bool syn_flood_feed(struct syn_flood *sf,
		    const struct vnfsec_new_flow_record *rec,
		    struct assessment *a);
/* The same with the destination's own threshold; 0: detector off. */
bool syn_flood_feed_at(struct syn_flood *sf,
		       const struct vnfsec_new_flow_record *rec,
		       unsigned int threshold, struct assessment *a);

/*
 * Who opened a conversation. A new flow whose reverse (same addresses and
 * ports, swapped) was seen opening within FLOW_ORIGIN_TTL_S is its reply:
 * a DNS server answering its clients from port 53 opens nothing. Fixed
 * memory (a direct-mapped table of tuple hashes), so a flood of spoofed
 * sources can evict entries, never grow it: an evicted request makes its
 * reply count as opened, a missed reply never hides a request.
 */
#define FLOW_ORIGIN_SLOTS	(1U << 16)
#define FLOW_ORIGIN_TTL_S	120
struct flow_origins;
struct flow_origins *flow_origins_new(void);
void flow_origins_free(struct flow_origins *fo);
/* True when @rec opens a flow; false when it answers one seen before. */
bool flow_origins_opens(struct flow_origins *fo,
			const struct vnfsec_new_flow_record *rec);

struct uplink;
struct learn_openings;
/* --server given again: @server joins the list (comma-separated). */
int uplink_server_add(const char **list, const char *server);
struct enforcer;
struct actions;
struct event_ctx;
struct agent_store;

/* @store: the last accepted sequences (state.h), kept up to date. */
struct uplink *uplink_new(const struct agent_config *cfg, int epoll_fd,
			  struct enforcer *enf, SSL_CTX *tls,
			  const char *agent_id, struct agent_store *store);
void uplink_free(struct uplink *u);
/* Carry out the server's actions of every type with @a (actions.h). */
void uplink_set_actions(struct uplink *u, struct actions *a);
/* Put the policies of signed bundles (--bundle-key) in force through @ev. */
void uplink_set_policy(struct uplink *u, struct event_ctx *ev);
/* Queue an assessment for the server (assigns its id). */
int uplink_submit(struct uplink *u, struct assessment *a);
/* @a as the wire's Assessment, packed into @buf (what is spooled). */
int uplink_pack_assessment(const struct assessment *a, uint8_t *buf,
			   size_t cap, size_t *len);
/* Socket readiness for the uplink's fd. */
void uplink_io(struct uplink *u, uint32_t events);
/* Once a second: reconnect, heartbeat. */
void uplink_tick(struct uplink *u, const struct sensor *s);
bool uplink_connected(const struct uplink *u);
/* Assessments spooled and not yet acknowledged. */
unsigned int uplink_pending(const struct uplink *u);

struct enforcer *enforcer_new(const struct sensor *s);
void enforcer_free(struct enforcer *e);
/*
 * Block @addr/@prefix_len for @ttl_s seconds (0: until lifted); @seq is
 * the server's action number (0 for others), @reason who asked.
 */
int enforcer_block(struct enforcer *e, uint32_t addr, uint32_t prefix_len,
		   uint32_t ttl_s, uint64_t seq, enum vnfsec_block_reason reason);
/* Lift a block now; -ENOENT when there is none. */
int enforcer_unblock(struct enforcer *e, uint32_t addr, uint32_t prefix_len);
/* Lift blocks whose time is up. */
void enforcer_tick(struct enforcer *e);

struct block_info {
	uint32_t addr;			/* network order */
	uint32_t prefix_len;
	int64_t expires_in_s;		/* -1: never */
	uint64_t seq;
	uint32_t reason;		/* enum vnfsec_block_reason */
};
void enforcer_foreach(const struct enforcer *e,
		      void (*fn)(void *ctx, const struct block_info *b),
		      void *ctx);
unsigned int enforcer_count(const struct enforcer *e);

/* events.c */
struct scan_detector;
struct agent_policy;
struct shm_monitor;
struct posture;
struct l7;
struct event_ctx {
	struct syn_flood *syn_flood;
	struct scan_detector *scan_fast;
	struct scan_detector *scan_slow;	/* long window, low bar */
	struct uplink *uplink;
	struct enforcer *enf;		/* for protect mode */
	const struct agent_config *cfg;
	struct agent_policy *policy;	/* NULL: none applied */
	struct shm_monitor *shm;	/* NULL: no kernel module */
	const struct sensor *sensor;
	const struct posture *posture;
	struct l7 *l7;			/* nDPI on samples */
	struct flow_origins *origins;	/* NULL: every flow counts as opened */
	struct learn_openings *learn;	/* for policy.learn; NULL: none */
	struct actions *actions;	/* IPv6 blocks; NULL: none */
	struct unparsed_reports *unparsed;	/* made at the first record */
	struct detectors *detectors;	/* pushed detectors (detectors.c) */
	unsigned int protect_ttl_s;	/* effective: option or policy mode */
	/* Told of every assessment sent (the control socket's alerts). */
	void (*on_assessment)(void *ctx, const struct assessment *a);
	void *on_assessment_ctx;
	uint64_t records;
	uint64_t bad_records;
	uint64_t samples_judged;	/* by the application-protocol check */
};
int events_handle(void *ctx, void *data, size_t len);
/* unparsed.c: frames the fast path refused to classify, spoofed, evasive. */
struct vnfsec_unparsed_record;
void events_unparsed(struct event_ctx *ev,
		     const struct vnfsec_unparsed_record *r);
void unparsed_reports_free(struct unparsed_reports *u);
/* Protect (if on), send, and show on the control socket. */
void events_submit(struct event_ctx *ev, struct assessment *a,
		   uint32_t ifindex);

#endif /* VNFSEC_AGENT_H */
