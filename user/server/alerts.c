// SPDX-License-Identifier: GPL-2.0-only
/*
 * Alerts as JSON lines close to Suricata's EVE format, so the tools that
 * read EVE (jq, Filebeat, a SIEM) read ours: every fact is a field. Each
 * line goes to the alert log, to syslog when asked, and to the control
 * socket's followers.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <json-c/json.h>

#include "user/common/log.h"
#include "user/server/control.h"
#include "user/server/server.h"

/* Per heuristic: the signature text and category an EVE reader sees. */
static const struct {
	const char *signature;
	const char *category;
	const char *proto;	/* when the evidence carries no flow */
} sigs[] = {
	[VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD] =
		{ "vnfsec SYN flood", "Denial of Service", "TCP" },
	[VNFSEC__HEURISTIC__HEURISTIC_HORIZONTAL_SCAN] =
		{ "vnfsec horizontal scan", "Network Scan", "TCP" },
	[VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN] =
		{ "vnfsec vertical port scan", "Network Scan", "TCP" },
	[VNFSEC__HEURISTIC__HEURISTIC_FLOW_CUT] =
		{ "vnfsec abnormal flow resets", "Denial of Service", "TCP" },
	[VNFSEC__HEURISTIC__HEURISTIC_DROP_SPIKE] =
		{ "vnfsec packet drop spike", "Denial of Service", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_POLICY_VIOLATION] =
		{ "vnfsec inter-VNF policy violation", "Policy Violation", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_VOLUME_ANOMALY] =
		{ "vnfsec traffic volume anomaly", "Anomaly", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL] =
		{ "vnfsec unexpected application protocol", "Protocol Anomaly", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_SHM_INTRUSION] =
		{ "vnfsec shared memory intrusion", "Host Intrusion", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_CACHE_SIDE_CHANNEL] =
		{ "vnfsec cache side-channel signs", "Host Intrusion", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_RATE_LIMIT] =
		{ "vnfsec source above its rate", "Denial of Service", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_MALFORMED_TRAFFIC] =
		{ "vnfsec frames the fast path cannot classify", "Protocol Anomaly", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_FRAGMENT_EVASION] =
		{ "vnfsec fragment evasion", "Evasion", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_SPOOFED_SOURCE] =
		{ "vnfsec spoofed source address", "Spoofing", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_POSTURE_CHANGE] =
		{ "vnfsec VNF appeared or went", "Informational", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_PUSHED_DETECTOR] =
		{ "vnfsec pushed detector fired", "Anomaly", NULL },
};

int alerts_open(struct server *srv)
{
	const char *path = srv->cfg->alerts_path;

	if (srv->cfg->syslog)
		openlog("vnfsec-server", LOG_PID, LOG_DAEMON);
	if (!strcmp(path, "-")) {
		srv->alerts = stdout;
		return 0;
	}
	srv->alerts = fopen(path, "a");
	if (!srv->alerts) {
		int err = errno;

		log_err("cannot open alert log %s: %s; check --alerts",
			path, strerror(err));
		return -err;
	}
	return 0;
}

void alerts_flush(struct server *srv)
{
	if (srv->alerts && fflush(srv->alerts))
		log_err("cannot write alert log: %s; check disk space",
			strerror(errno));
}

void alerts_close(struct server *srv)
{
	if (srv->alerts && srv->alerts != stdout)
		fclose(srv->alerts);
	srv->alerts = NULL;
	if (srv->cfg->syslog)
		closelog();
}

/*
 * Every key we add is a string literal, added once per object: json-c
 * need neither copy it nor look for an earlier one. Several events are
 * written per assessment, so this is on the server's hot path.
 */
static void put(json_object *o, const char *key, json_object *v)
{
	json_object_object_add_ex(o, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW |
				  JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

static void add_str(json_object *o, const char *key, const char *v)
{
	put(o, key, json_object_new_string(v));
}

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	put(o, key, json_object_new_uint64(v));
}

static void add_int(json_object *o, const char *key, int64_t v)
{
	put(o, key, json_object_new_int64(v));
}

/*
 * "YYYY-MM-DDTHH:MM:SS" of @t into @buf (20 bytes). Most events of a
 * second share their second: format it once, not with every event.
 */
static const char *second_str(time_t t, char *buf)
{
	static time_t cached_t[2] = { -1, -1 };
	static char cached[2][24];
	static unsigned int next;
	struct tm tm;
	int i;

	for (i = 0; i < 2; i++)
		if (cached_t[i] == t)
			return memcpy(buf, cached[i], 20);
	gmtime_r(&t, &tm);
	strftime(cached[next], sizeof(cached[next]), "%Y-%m-%dT%H:%M:%S",
		 &tm);
	cached_t[next] = t;
	memcpy(buf, cached[next], 20);
	next ^= 1;
	return buf;
}

static void add_time(json_object *o, const char *key, time_t t)
{
	char stamp[32];

	second_str(t, stamp);
	memcpy(stamp + 19, "+0000", 6);
	add_str(o, key, stamp);
}

static json_object *event_new(const char *agent_id, const char *type)
{
	json_object *ev = json_object_new_object();
	char stamp[40];
	struct timeval tv;
	long us;
	int i;

	gettimeofday(&tv, NULL);
	second_str(tv.tv_sec, stamp);
	/* ".uuuuuu+0000", as EVE writes it. */
	stamp[19] = '.';
	for (us = tv.tv_usec, i = 25; i >= 20; i--, us /= 10)
		stamp[i] = '0' + us % 10;
	memcpy(stamp + 26, "+0000", 6);
	add_str(ev, "timestamp", stamp);
	add_str(ev, "event_type", type);
	if (agent_id)
		add_str(ev, "agent_id", agent_id);
	return ev;
}

static void add_raw_addr(json_object *o, const char *key,
			 const uint8_t *addr, size_t len)
{
	ProtobufCBinaryData b = { .len = len, .data = (uint8_t *)addr };
	char buf[64];

	add_str(o, key, wire_addr_str(&b, buf, sizeof(buf)));
}

static void add_addr(json_object *o, const char *key,
		     const ProtobufCBinaryData *addr)
{
	add_raw_addr(o, key, addr->data, addr->len);
}

static const char *proto_name(unsigned int proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "TCP";
	case IPPROTO_UDP: return "UDP";
	case IPPROTO_ICMP: return "ICMP";
	case IPPROTO_ICMPV6: return "IPv6-ICMP";
	case IPPROTO_SCTP: return "SCTP";
	}
	return NULL;
}

static void emit(struct server *srv, json_object *ev)
{
	size_t len;
	const char *line = json_object_to_json_string_length(ev, JSON_LINE,
							     &len);

	/* Flushed once a round (alerts_flush()), not once a line. */
	if (fwrite(line, 1, len, srv->alerts) != len ||
	    putc('\n', srv->alerts) == EOF)
		log_err("cannot write alert log: %s; check disk space",
			strerror(errno));
	if (srv->cfg->syslog)
		syslog(LOG_NOTICE, "%s", line);
	control_publish(srv, ev);
	json_object_put(ev);
}

static json_object *indicator_json(const struct indicator *ind)
{
	json_object *o = json_object_new_object();

	add_str(o, "type", indicator_type_name(ind->type));
	add_str(o, "value", ind->value);
	add_str(o, "source", ind->source);
	add_int(o, "confidence", ind->confidence);
	if (ind->expires)
		add_time(o, "expires", ind->expires);
	return o;
}

/*
 * An incident automation may not act on: its source is a VNF's or the
 * management network's. What the server proposes the operator does.
 */
static void add_operator(json_object *o, const struct incident *inc)
{
	json_object *p;

	if (!inc->requires_operator)
		return;
	put(o, "requires_operator", json_object_new_boolean(true));
	add_str(o, "operator_reason", inc->operator_reason);
	if (!inc->proposed_vnf[0])
		return;
	p = json_object_new_object();
	add_str(p, "type", action_type_name(
		VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF));
	add_str(p, "vnf", inc->proposed_vnf);
	put(o, "proposed_action", p);
}

/*
 * As EVE writes them: "vlan" the tags, outermost first; "tunnel" the
 * outer flow of a GTP-U tunnel and its TEID (the alert's own addresses
 * are the inner ones).
 */
static void add_encap(json_object *ev, const Vnfsec__Assessment *a)
{
	const Vnfsec__FlowTuple *o;
	json_object *t;
	const char *proto;
	size_t i;

	if (a->n_vlan_ids) {
		json_object *v = json_object_new_array();

		for (i = 0; i < a->n_vlan_ids; i++)
			json_object_array_add(v,
				json_object_new_int(a->vlan_ids[i]));
		put(ev, "vlan", v);
	}
	if (!a->tunnel || !a->tunnel->outer)
		return;
	o = a->tunnel->outer;
	t = json_object_new_object();
	add_addr(t, "src_ip", &o->src_addr);
	add_int(t, "src_port", o->src_port);
	add_addr(t, "dest_ip", &o->dst_addr);
	add_int(t, "dest_port", o->dst_port);
	proto = proto_name(o->proto);
	if (proto)
		add_str(t, "proto", proto);
	else
		add_int(t, "proto", o->proto);
	add_u64(t, "teid", a->tunnel->teid);
	put(ev, "tunnel", t);
}

void alert_assessment(struct server *srv, const struct agent_record *agent,
		      const Vnfsec__Assessment *a, const struct incident *inc)
{
	json_object *ev = event_new(agent->id, "alert");
	json_object *alert = json_object_new_object();
	json_object *vs = json_object_new_object();
	unsigned int h = a->heuristic;
	const char *proto = NULL;
	size_t i;

	add_addr(ev, "src_ip", &a->src_addr);
	add_addr(ev, "dest_ip", &a->dst_addr);
	if (a->flow) {
		add_int(ev, "src_port", a->flow->src_port);
		proto = proto_name(a->flow->proto);
	}
	add_int(ev, "dest_port", a->dst_port);
	if (!proto && h < sizeof(sigs) / sizeof(sigs[0]))
		proto = sigs[h].proto;
	if (proto)
		add_str(ev, "proto", proto);
	if (a->iface[0])
		add_str(ev, "in_iface", a->iface);
	/* Reports of an enrolled agent that failed attestation are flagged. */
	if (agent_attested(agent))
		json_object_object_add(ev, "agent_trusted",
				       json_object_new_boolean(agent_trusted(agent)));
	/* ...and those of an isolated one led to no action (playbook). */
	if (agent->isolated)
		json_object_object_add(ev, "agent_isolated",
				       json_object_new_boolean(true));

	add_encap(ev, a);
	/* What the fast path did with it, as the agent reports. */
	add_str(alert, "action", a->fast_path_dropped ? "blocked" : "allowed");
	add_int(alert, "gid", 1);
	add_int(alert, "signature_id", a->heuristic);
	add_int(alert, "rev", 1);
	add_str(alert, "signature", h < sizeof(sigs) / sizeof(sigs[0]) &&
		sigs[h].signature ? sigs[h].signature : "vnfsec anomaly");
	add_str(alert, "category", h < sizeof(sigs) / sizeof(sigs[0]) &&
		sigs[h].category ? sigs[h].category : "Anomaly");
	add_int(alert, "severity", a->severity);
	put(ev, "alert", alert);

	add_str(vs, "heuristic", heuristic_name(a->heuristic));
	add_u64(vs, "assessment_id", a->id);
	add_u64(vs, "agent_time_ms", a->time_unix_ms);
	add_u64(vs, "count", a->count);
	add_u64(vs, "src_count", a->src_count);
	add_int(vs, "window_ms", a->window_ms);
	add_int(vs, "threshold", a->threshold);
	if (a->vnf_src[0])
		add_str(vs, "vnf_src", a->vnf_src);
	if (a->vnf_dst[0])
		add_str(vs, "vnf_dst", a->vnf_dst);
	if (a->n_evidence) {
		json_object *e = json_object_new_object();

		for (i = 0; i < a->n_evidence; i++) {
			const Vnfsec__Evidence *x = a->evidence[i];

			json_object_object_add(e, x->name, x->text[0] ?
				json_object_new_string(x->text) :
				json_object_new_uint64(x->value));
		}
		put(vs, "evidence", e);
	}
	if (inc) {
		add_u64(vs, "incident_id", inc->id);
		if (inc->has_indicator)
			put(vs, "indicator", indicator_json(&inc->indicator));
		add_operator(vs, inc);
	}
	put(ev, "vnfsec", vs);
	emit(srv, ev);
}

/* The target of its type, each part a field of its own. */
static void action_target_json(json_object *o, const struct action_record *act)
{
	const struct action_flow *f = &act->flow;
	json_object *fo;
	const char *proto;

	if (action_has_flow(act->type)) {
		fo = json_object_new_object();
		add_raw_addr(fo, "src_ip", f->src, f->len);
		add_int(fo, "src_port", f->src_port);
		add_raw_addr(fo, "dest_ip", f->dst, f->len);
		add_int(fo, "dest_port", f->dst_port);
		proto = proto_name(f->proto);
		if (proto)
			add_str(fo, "proto", proto);
		else
			add_int(fo, "proto", f->proto);
		put(o, "flow", fo);
	} else if (action_has_vnf(act->type)) {
		add_str(o, "vnf", act->vnf);
	} else {
		add_raw_addr(o, "addr", act->addr, act->addr_len);
		add_int(o, "prefix_len", act->prefix_len);
		if (act->rate_pps)
			add_int(o, "rate_pps", act->rate_pps);
	}
}

json_object *action_json(const struct action_record *act)
{
	json_object *o = json_object_new_object();

	add_str(o, "type", action_type_name(act->type));
	add_u64(o, "seq", act->seq);
	add_str(o, "agent", act->agent->id);
	action_target_json(o, act);
	add_int(o, "ttl_s", act->ttl_s);
	add_str(o, "state", action_state_name(act->state));
	if (act->incident_id)
		add_u64(o, "incident_id", act->incident_id);
	if (act->parent_seq)
		add_u64(o, "parent_seq", act->parent_seq);
	add_time(o, "sent", act->sent);
	if (act->acked)
		add_time(o, "acked_at", act->acked);
	return o;
}

/* EVE's top-level flow fields, so the usual queries find the order. */
static void add_event_target(json_object *ev, const struct action_record *act)
{
	const char *proto;

	if (action_has_flow(act->type)) {
		add_raw_addr(ev, "src_ip", act->flow.src, act->flow.len);
		add_int(ev, "src_port", act->flow.src_port);
		add_raw_addr(ev, "dest_ip", act->flow.dst, act->flow.len);
		add_int(ev, "dest_port", act->flow.dst_port);
		proto = proto_name(act->flow.proto);
		if (proto)
			add_str(ev, "proto", proto);
	} else if (action_has_source(act->type)) {
		add_raw_addr(ev, "src_ip", act->addr, act->addr_len);
	}
}

void alert_action(struct server *srv, const struct action_record *act)
{
	json_object *ev = event_new(act->agent->id, "action");

	add_event_target(ev, act);
	put(ev, "action", action_json(act));
	emit(srv, ev);
}

void alert_action_result(struct server *srv, const struct action_record *act,
			 const char *agent_id)
{
	json_object *ev = event_new(agent_id, "action_result");
	json_object *o = json_object_new_object();

	add_event_target(ev, act);
	add_u64(o, "seq", act->seq);
	add_str(o, "type", action_type_name(act->type));
	action_target_json(o, act);
	add_int(o, "status", act->status);
	add_str(o, "error", act->status ? strerror(-act->status) : "");
	if (act->incident_id)
		add_u64(o, "incident_id", act->incident_id);
	put(ev, "action_result", o);
	emit(srv, ev);
}

json_object *incident_json(const struct incident *inc)
{
	json_object *o = json_object_new_object();
	json_object *agents = json_object_new_array();
	unsigned int i;

	add_u64(o, "id", inc->id);
	add_str(o, "type", heuristic_name(inc->heuristic));
	add_int(o, "severity", inc->severity);
	add_str(o, "state", incident_state_name(inc->state));
	if (inc->src_len)
		add_raw_addr(o, "src_ip", inc->src, inc->src_len);
	else
		add_int(o, "dest_port", inc->dst_port);
	for (i = 0; i < inc->nr_agents; i++)
		json_object_array_add(agents, json_object_new_string(
			inc->agents[i].agent->id));
	put(o, "agents", agents);
	add_u64(o, "assessments", inc->assessments);
	add_u64(o, "revision", inc->revision);
	add_time(o, "first_seen", inc->first_seen);
	add_time(o, "last_seen", inc->last_seen);
	add_int(o, "actions_sent", inc->actions_sent);
	add_int(o, "actions_applied", inc->actions_ok);
	add_int(o, "actions_failed", inc->actions_failed);
	if (inc->has_indicator)
		put(o, "indicator", indicator_json(&inc->indicator));
	add_operator(o, inc);
	return o;
}

void alert_incident(struct server *srv, const struct incident *inc)
{
	json_object *ev = event_new(NULL, "incident");

	if (inc->src_len)
		add_raw_addr(ev, "src_ip", inc->src, inc->src_len);
	put(ev, "incident", incident_json(inc));
	emit(srv, ev);
}
