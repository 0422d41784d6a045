/* SPDX-License-Identifier: GPL-2.0-only */
/* vnfsec-server: the security server agents report to. */
#ifndef VNFSEC_SERVER_H
#define VNFSEC_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "user/common/tls.h"
#include "user/server/attest.h"
#include "user/server/metrics.h"
#include "user/server/threatdb.h"

#define SERVER_MAX_IMPORTS	8
/* json-c flags of every line we write: one line, "/" left alone. */
#define JSON_LINE (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define INCIDENT_AGENTS_MAX	64	/* agents named in one incident */
#define INDEX_BUCKETS_MIN	4096	/* first size of the indexes; they double */

struct server_config {
	const char *listen;		/* ADDR:PORT, port 0 picks one */
	struct tls_files tls;
	const char *alerts_path;	/* JSON lines; "-" is stdout */
	const char *port_file;		/* where the bound port is written */
	unsigned int block_ttl_s;	/* TTL of the blocks the server orders */
	unsigned int max_sessions;
	unsigned int handshake_timeout_s;
	const char *db_path;		/* SQLite database; ":memory:" */
	const char *playbook_path;	/* playbooks only; built-in without */
	const char *policy_path;	/* VNF addresses, allowlist, playbooks */
	const char *hook;		/* run with incident JSON on stdin */
	const char *control_path;	/* Unix control socket; NULL: none */
	const char *control_group;	/* may run read-only commands */
	const char *control_admin_group; /* may run every command */
	const char *metrics_listen;	/* ADDR:PORT of /metrics; NULL: none */
	const char *metrics_port_file;
	const char *parent;		/* ADDR:PORT of the parent server */
	const char *parent_name;	/* CN on the parent's certificate */
	const char *parent_cert;	/* our identity there; --cert */
	const char *parent_key;
	unsigned int window_s;		/* correlation window */
	unsigned int idle_close_s;	/* quiet incidents close after this */
	bool syslog;			/* alerts to syslog as well */
	unsigned int nr_imports;
	const char *imports[SERVER_MAX_IMPORTS];	/* FORMAT:PATH */
	const char *signing_key;	/* PEM P-256: actions go out signed */
	const char *crl_path;		/* --crl: revoked serials (peers.c) */
	const char *nats_url;		/* --nats: the bus (bus.c); NULL: none */
	unsigned int heartbeat_timeout_s;	/* silent longer: a dead session */
	struct trust_config trust;	/* enrollment, attestation (attest.h) */
};

/* What the server remembers of an agent (or child server). */
struct agent_record {
	struct agent_record *next;
	char id[WIRE_AGENT_ID_MAX + 1];	/* its certificate's CN */
	char address[64];
	bool is_server;			/* a child security server */
	struct session *session;	/* NULL while disconnected */
	time_t last_seen;
	uint64_t last_assessment_id;	/* drops replays and duplicates */
	/* Highest in a committed round: a failed commit goes back to it. */
	uint64_t stored_assessment_id;
	/* Its stored reports read from a shared store at its hello. */
	bool synced;
	uint64_t next_action_seq;
	uint64_t assessments;
	uint64_t ringbuf_lost;		/* its last reported loss totals */
	uint64_t dropped_packets;
	/* Its fast path's drops per cause and its spool, as last reported. */
	struct agent_drops {
		char cause[WIRE_DROP_CAUSE_MAX + 1];
		uint64_t packets;
	} drops[WIRE_DROP_CAUSES_MAX];
	unsigned int nr_drops;
	uint32_t spool_pending;
	bool reported;			/* a heartbeat came: the above are its */
	struct action_record *actions;	/* its own, newest first */
	struct attestation *att;	/* NULL: never enrolled (attest.c) */
	/*
	 * Untrusted, and a playbook rule "on: agent_untrusted" isolated it:
	 * its reports are recorded and flagged but lead to no action, until
	 * it is trusted again (attest.c).
	 */
	bool isolated;
};

/* What an epoll event's pointer leads to: each such object starts so. */
enum ev_kind {
	EV_KIND_SESSION = 1,
	EV_KIND_CONTROL_CLIENT,
	EV_KIND_PARENT,
};

struct session {
	enum ev_kind kind;		/* first: see enum ev_kind */
	struct conn conn;
	struct session *next;
	time_t started;
	struct agent_record *agent;	/* NULL until its hello */
	unsigned int roles;		/* of its certificate (roles.h) */
	const char *cut;		/* close it at the next tick, for this */
	bool refused;			/* peers.c said why: no second line */
	bool admitted;			/* peers_on_handshake() passed */
	bool broken;			/* its queue overflowed: close it */
	uint32_t watched;		/* epoll events asked for now */
	/* Acks held until the round's commit (main.c round_end()). */
	uint64_t *acks;
	unsigned int nr_acks, cap_acks;
	bool ack_queued;		/* on srv->ack_sessions */
	struct session *ack_next;
	struct enroll_session *enroll;	/* without a certificate (enroll.c) */
	/* Frames queued in this round, sent at its end. */
	bool flush_queued;		/* on srv->flush_sessions */
	struct session *flush_next;
};

enum incident_state {
	INCIDENT_OPEN = 1,
	INCIDENT_ACKNOWLEDGED,
	INCIDENT_REMEDIATED,
	INCIDENT_CLOSED,
};

/* A flow as an order names it: what the fast path keys a flow on. */
struct action_flow {
	uint8_t src[16], dst[16];
	uint8_t len;			/* 4 or 16: both addresses */
	uint32_t src_port, dst_port, proto;
};

struct incident_agent {
	struct agent_record *agent;
	bool ordered;			/* its playbook action was sent */
};

/* Assessments of one attack, from one agent or many. */
struct incident {
	struct incident *next;
	struct incident *key_next;	/* in srv->by_key, while not closed */
	struct incident *id_next;	/* in srv->by_id */
	uint64_t id;
	uint64_t revision;		/* grows on every change */
	uint64_t forwarded;		/* revision the parent acknowledged */
	uint64_t sent;			/* revision sent on this parent link */
	uint64_t saved;			/* revision in the store */
	int heuristic;			/* Vnfsec__Heuristic: its type */
	unsigned int severity;		/* 1..10 */
	unsigned int max_reported;	/* highest severity reported */
	enum incident_state state;
	uint8_t src[16];
	uint8_t src_len;		/* 0 when it spans sources */
	uint32_t dst_port;
	/* Source-less spoofing: the VNF sending it (part of the key). */
	char sender[WIRE_NAME_MAX + 1];
	time_t first_seen, last_seen;
	uint64_t assessments;
	bool has_indicator;
	struct indicator indicator;	/* strongest that matched */
	unsigned int nr_agents, cap_agents;
	/* Grown as agents join, up to INCIDENT_AGENTS_MAX: most have one. */
	struct incident_agent *agents;
	unsigned int actions_sent, actions_ok, actions_failed;
	bool hook_run;
	/* Targets of flow and VNF actions, from the latest report naming them. */
	bool has_flow;
	struct action_flow flow;
	char vnf[WIRE_NAME_MAX + 1];
	/*
	 * Its source is a VNF's or the management network's: no automatic
	 * block, the operator decides; quarantine of @proposed_vnf ("":
	 * none, a management address) is what the server proposes.
	 */
	bool requires_operator;
	char proposed_vnf[WIRE_NAME_MAX + 1];
	char operator_reason[96];
};

enum action_state { ACTION_SENT = 1, ACTION_APPLIED, ACTION_FAILED };

/*
 * One order to one agent. Which target fields count depends on the type:
 * the source prefix (block, unblock, rate limit), the flow (drop,
 * monitor, mirror) or the VNF (quarantine, release).
 */
struct action_record {
	struct action_record *next;
	struct action_record *agent_next;	/* in agent->actions */
	struct action_record *order_next;	/* in srv->orders */
	uint64_t seq;			/* per agent */
	struct agent_record *agent;
	uint64_t incident_id;		/* 0: ordered by the parent */
	uint64_t parent_seq;		/* the parent's order it carries out */
	int type;			/* Vnfsec__ActionType */
	uint8_t addr[16];
	uint8_t addr_len;
	unsigned int prefix_len, ttl_s;
	struct action_flow flow;
	char vnf[WIRE_NAME_MAX + 1];
	unsigned int rate_pps;
	bool lifted;			/* a later unblock or release ended it */
	enum action_state state;
	int status;
	time_t sent, acked;
	void *bus_msg;			/* natsMsg it came in: acked when answered */
};


struct threatdb;
struct store;
struct playbook;
struct control;
struct metrics;
struct parent_link;
struct peers;
struct bus;

struct server_stats {
	uint64_t assessments, duplicates, indicator_matches;
	uint64_t actions_sent, actions_applied, actions_failed;
	uint64_t incidents_by_type[16];
	uint64_t frames_refused, sessions_closed, store_errors;
	uint64_t handshakes_refused;	/* HANDSHAKES_PER_SOURCE reached */
	uint64_t hooks_run, hooks_failed;
	uint64_t summaries_sent, summaries_received, parent_orders;
	/* Agent detection to stored, in the buckets of metrics.c. */
	uint64_t latency_buckets[METRICS_LATENCY_BUCKETS];
	uint64_t latency_count;
	double latency_sum_s;
};

struct server {
	const struct server_config *cfg;
	SSL_CTX *tls;
	int listen_fd;
	int epoll_fd;
	FILE *alerts;
	struct session *sessions;
	unsigned int nr_sessions;
	struct session *ack_sessions;	/* with acks waiting for the commit */
	bool in_round;			/* a store transaction is open */
	bool round_failed;		/* a commit inside the round failed */
	bool in_round_io;		/* frames wait for the round's end */
	struct session *flush_sessions;	/* with frames queued this round */
	unsigned int nr_agents_connected;
	struct agent_record *agents;
	struct incident *incidents;
	/* Indexes: correlation by key, results and acks by id. */
	struct incident **by_key;
	struct incident **by_id;
	unsigned int incident_buckets;	/* of both; a power of two */
	unsigned int nr_incidents;	/* on srv->incidents */
	uint64_t next_incident_id;
	struct action_record *actions;
	/* Orders by agent, type and target: is one already in force? */
	struct action_record **orders;
	unsigned int order_buckets;	/* a power of two */
	unsigned int nr_orders;		/* on srv->actions */
	struct store *store;
	struct threatdb *tdb;
	struct playbook *pb;
	struct control *ctl;
	struct metrics *metrics;
	struct parent_link *parent;
	struct peers *peers;		/* roles, one session, revocation */
	struct bus *bus;		/* NATS JetStream (bus.c); NULL: none */
	struct server_stats stats;
	EVP_PKEY *signing_key;		/* NULL: actions go out unsigned */
	char name[WIRE_AGENT_ID_MAX + 1];	/* our certificate's CN */
	uint64_t last_signed_seq;
	struct trust *trust;		/* NULL: no enrollment (attest.c) */
};

/* main.c: sessions, for the parts that order agents around. */
int session_send(struct server *srv, struct session *s,
		 const Vnfsec__Frame *f);

/*
 * main.c: store what the round did so far, now (a control command's
 * change before its answer leaves). 0, or -EIO and the round's acks are
 * withheld.
 */
int round_commit_now(struct server *srv);

/* session.c */
/* The record of agent @id, made (disconnected) when it is new; NULL: ENOMEM. */
struct agent_record *agent_get(struct server *srv, const char *id);
void agents_free(struct server *srv);
int session_on_frame(struct server *srv, struct session *s,
		     const Vnfsec__Frame *f);
void session_gone(struct server *srv, struct session *s);
void session_flush_acks(struct server *srv, struct session *s);

/* correlate.c: assessments and child summaries become incidents. */
int correlate_assessment(struct server *srv, struct agent_record *agent,
			 const Vnfsec__Assessment *a,
			 struct incident **out);
int correlate_summary(struct server *srv, struct agent_record *child,
		      const Vnfsec__IncidentSummary *sum);
void incidents_tick(struct server *srv, time_t now);
void incident_set_state(struct server *srv, struct incident *inc,
			enum incident_state state);
struct incident *incident_find(struct server *srv, uint64_t id);
/* Is @agent among the agents @inc names? */
bool incident_lists(const struct incident *inc,
		    const struct agent_record *agent);
void incidents_free(struct server *srv);
/* A stored incident back in memory at start, under its id (store.h). */
struct incident_row;
int incident_restore(struct server *srv, const struct incident_row *r);
int incident_from_row(const struct incident_row *r, struct incident *out);
const char *incident_state_name(enum incident_state state);
const char *heuristic_name(int heuristic);

/* remediate.c: playbooks, the hook, actions and their results. */
void remediate(struct server *srv, struct incident *inc,
	       struct agent_record *reporter, uint64_t cause);
/*
 * Automation is never aimed at a VNF: is @addr/@prefix_len one no
 * automatic block may target (a VNF of --policy, its allowlist, an
 * agent's address)? *vnf the VNF ("" for the others), *why in words.
 */
bool remediate_protected(const struct server *srv, const uint8_t *addr,
			 unsigned int len, unsigned int prefix_len,
			 const char **vnf, const char **why);
/*
 * Mark @inc requires_operator when its source is protected, or when the
 * reporting agent's policy names it a VNF (@vnf_src, may be NULL).
 */
void incident_guard(struct server *srv, struct incident *inc,
		    const char *vnf_src);
/*
 * Send @agent the order described by @o (type, target, ttl_s, rate_pps;
 * the rest is filled in here). -EALREADY when the same order is in
 * force, -ENOTCONN, -EAFNOSUPPORT/-EINVAL when @o lacks its target.
 */
/* Orders @agent never answered, still in force, sent again on its return. */
void actions_redeliver(struct server *srv, struct agent_record *agent);
int order_action(struct server *srv, struct agent_record *agent,
		 const struct action_record *o, uint64_t incident_id,
		 uint64_t parent_seq, uint64_t cause);
/* The same, *out the record of the order sent. */
int order_action_rec(struct server *srv, struct agent_record *agent,
		     const struct action_record *o, uint64_t incident_id,
		     uint64_t parent_seq, uint64_t cause,
		     struct action_record **out);
/* @act as the wire carries it; @a and @flow point into it. */
void action_to_wire(const struct action_record *act, Vnfsec__Action *a,
		    Vnfsec__FlowTuple *flow);
/* An order as the wire carries it (a parent's), for order_action(). */
void order_from_wire(struct action_record *o, const Vnfsec__Action *a);
bool action_has_source(int type);
bool action_has_flow(int type);
bool action_has_vnf(int type);
/* "10.0.0.1/32", "tcp 10.0.0.1:1234 > 10.0.0.2:80", "vnf pgw" */
void action_target_str(const struct action_record *act, char *buf,
		       size_t len);
void action_result(struct server *srv, struct agent_record *agent,
		   const Vnfsec__ActionResult *r);
void hooks_reap(struct server *srv);
void actions_tick(struct server *srv, time_t now);
void actions_free(struct server *srv);
const char *action_type_name(int type);
const char *action_state_name(enum action_state state);

/*
 * bundle.c: relay a policy bundle the operator signed offline (the file
 * at @path) to @agent; the agent's verdict comes back as a BundleResult.
 */
int bundle_push(struct server *srv, struct agent_record *agent,
		const char *path, const char **why);
void bundle_result(struct server *srv, struct agent_record *agent,
		   const Vnfsec__BundleResult *r);
/* The same for a detector bundle (docs/detectors.md). */
int bundle_push_detector(struct server *srv, struct agent_record *agent,
			 const char *path, const char **why);
void bundle_detector_result(struct server *srv, struct agent_record *agent,
			    const Vnfsec__DetectorResult *r);

/* parent.c: the link to our parent server, if any. */
int parent_open(struct server *srv);
void parent_close(struct server *srv);
void parent_io(struct server *srv, uint32_t events);
void parent_tick(struct server *srv, time_t now);
void parent_push(struct server *srv);
bool parent_connected(const struct server *srv);
/* An agent answered our part of the parent's action @seq. */
void parent_order_result(struct server *srv, uint64_t seq, int status);

/* main.c: a feed into the threat database and the store. */
int threatdb_import_stored(struct server *srv, const char *path,
			   const char *format, const char *source,
			   unsigned int *imported, unsigned int *skipped);

/* alerts.c: EVE-like JSON lines. */
int alerts_open(struct server *srv);
void alerts_flush(struct server *srv);
void alerts_close(struct server *srv);
void alert_assessment(struct server *srv, const struct agent_record *agent,
		      const Vnfsec__Assessment *a,
		      const struct incident *inc);
void alert_action(struct server *srv, const struct action_record *act);
void alert_action_result(struct server *srv, const struct action_record *act,
			 const char *agent_id);
void alert_incident(struct server *srv, const struct incident *inc);
struct json_object *incident_json(const struct incident *inc);
/* The same with @agents (names, taken over) in place of its own. */
struct json_object *incident_json_agents(const struct incident *inc,
					 struct json_object *agents);
struct json_object *action_json(const struct action_record *act);

#endif /* VNFSEC_SERVER_H */
