// SPDX-License-Identifier: GPL-2.0-only
/*
 * The server's events as EVE-style JSON lines (user/common/eve.c, shared
 * with the standalone agent). Each line goes to the alert log, to syslog
 * when asked, and to the control socket's followers.
 */
#include <errno.h>
#include <string.h>
#include <syslog.h>
#include <json-c/json.h>

#include "user/common/eve.h"
#include "user/common/log.h"
#include "user/server/bus.h"
#include "user/server/control.h"
#include "user/server/server.h"

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

	eve_add_str(o, "type", indicator_type_name(ind->type));
	eve_add_str(o, "value", ind->value);
	eve_add_str(o, "source", ind->source);
	eve_add_int(o, "confidence", ind->confidence);
	if (ind->expires)
		eve_add_time(o, "expires", ind->expires);
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
	eve_put(o, "requires_operator", json_object_new_boolean(true));
	eve_add_str(o, "operator_reason", inc->operator_reason);
	if (!inc->proposed_vnf[0])
		return;
	p = json_object_new_object();
	eve_add_str(p, "type", action_type_name(
		VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF));
	eve_add_str(p, "vnf", inc->proposed_vnf);
	eve_put(o, "proposed_action", p);
}

void alert_assessment(struct server *srv, const struct agent_record *agent,
		      const Vnfsec__Assessment *a, const struct incident *inc)
{
	json_object *ev = eve_event_new(agent->id, "alert");
	json_object *vs;

	eve_alert_flow(ev, a);
	/* Reports of an enrolled agent that failed attestation are flagged. */
	if (agent_attested(agent))
		json_object_object_add(ev, "agent_trusted",
				       json_object_new_boolean(agent_trusted(agent)));
	/* ...and those of an isolated one led to no action (playbook). */
	if (agent->isolated)
		json_object_object_add(ev, "agent_isolated",
				       json_object_new_boolean(true));
	vs = eve_alert_body(ev, a);
	if (inc) {
		eve_add_u64(vs, "incident_id", inc->id);
		if (inc->has_indicator)
			eve_put(vs, "indicator", indicator_json(&inc->indicator));
		add_operator(vs, inc);
	}
	emit(srv, ev);
}

/* The target of its type, each part a field of its own. */
static void action_target_json(json_object *o, const struct action_record *act)
{
	const struct action_flow *f = &act->flow;
	json_object *fo;

	if (action_has_flow(act->type)) {
		fo = json_object_new_object();
		eve_add_flow(fo, f->src, f->len, f->src_port, f->dst, f->len,
			     f->dst_port, f->proto);
		eve_put(o, "flow", fo);
	} else if (action_has_vnf(act->type)) {
		eve_add_str(o, "vnf", act->vnf);
	} else {
		eve_add_raw_addr(o, "addr", act->addr, act->addr_len);
		eve_add_int(o, "prefix_len", act->prefix_len);
		if (act->rate_pps)
			eve_add_int(o, "rate_pps", act->rate_pps);
	}
}

json_object *action_json(const struct action_record *act)
{
	json_object *o = json_object_new_object();

	eve_add_str(o, "type", action_type_name(act->type));
	eve_add_u64(o, "seq", act->seq);
	eve_add_str(o, "agent", act->agent->id);
	action_target_json(o, act);
	eve_add_int(o, "ttl_s", act->ttl_s);
	eve_add_str(o, "state", action_state_name(act->state));
	if (act->incident_id)
		eve_add_u64(o, "incident_id", act->incident_id);
	if (act->parent_seq)
		eve_add_u64(o, "parent_seq", act->parent_seq);
	eve_add_time(o, "sent", act->sent);
	if (act->acked)
		eve_add_time(o, "acked_at", act->acked);
	return o;
}

/* EVE's top-level flow fields, so the usual queries find the order. */
static void add_event_target(json_object *ev, const struct action_record *act)
{
	const char *proto;

	if (action_has_flow(act->type)) {
		eve_add_raw_addr(ev, "src_ip", act->flow.src, act->flow.len);
		eve_add_int(ev, "src_port", act->flow.src_port);
		eve_add_raw_addr(ev, "dest_ip", act->flow.dst, act->flow.len);
		eve_add_int(ev, "dest_port", act->flow.dst_port);
		proto = eve_proto_name(act->flow.proto);
		if (proto)
			eve_add_str(ev, "proto", proto);
	} else if (action_has_source(act->type)) {
		eve_add_raw_addr(ev, "src_ip", act->addr, act->addr_len);
	}
}

void alert_action(struct server *srv, const struct action_record *act)
{
	json_object *ev = eve_event_new(act->agent->id, "action");

	add_event_target(ev, act);
	eve_put(ev, "action", action_json(act));
	emit(srv, ev);
}

void alert_action_result(struct server *srv, const struct action_record *act,
			 const char *agent_id)
{
	json_object *ev = eve_event_new(agent_id, "action_result");
	json_object *o = json_object_new_object();

	add_event_target(ev, act);
	eve_add_u64(o, "seq", act->seq);
	eve_add_str(o, "type", action_type_name(act->type));
	action_target_json(o, act);
	eve_add_int(o, "status", act->status);
	eve_add_str(o, "error", act->status ? strerror(-act->status) : "");
	if (act->incident_id)
		eve_add_u64(o, "incident_id", act->incident_id);
	eve_put(ev, "action_result", o);
	emit(srv, ev);
}

json_object *incident_json(const struct incident *inc)
{
	return incident_json_agents(inc, NULL);
}

json_object *incident_json_agents(const struct incident *inc,
				  json_object *agents)
{
	json_object *o = json_object_new_object();
	bool own = !agents;
	unsigned int i;

	eve_add_u64(o, "id", inc->id);
	eve_add_str(o, "type", heuristic_name(inc->heuristic));
	eve_add_int(o, "severity", inc->severity);
	eve_add_str(o, "state", incident_state_name(inc->state));
	if (inc->src_len)
		eve_add_raw_addr(o, "src_ip", inc->src, inc->src_len);
	else
		eve_add_int(o, "dest_port", inc->dst_port);
	if (own)
		agents = json_object_new_array();
	for (i = 0; own && i < inc->nr_agents; i++)
		json_object_array_add(agents, json_object_new_string(
			inc->agents[i].agent->id));
	eve_put(o, "agents", agents);
	eve_add_u64(o, "assessments", inc->assessments);
	eve_add_u64(o, "revision", inc->revision);
	eve_add_time(o, "first_seen", inc->first_seen);
	eve_add_time(o, "last_seen", inc->last_seen);
	eve_add_int(o, "actions_sent", inc->actions_sent);
	eve_add_int(o, "actions_applied", inc->actions_ok);
	eve_add_int(o, "actions_failed", inc->actions_failed);
	if (inc->has_indicator)
		eve_put(o, "indicator", indicator_json(&inc->indicator));
	add_operator(o, inc);
	return o;
}

void alert_incident(struct server *srv, const struct incident *inc)
{
	json_object *ev = eve_event_new(NULL, "incident");

	if (inc->src_len)
		eve_add_raw_addr(ev, "src_ip", inc->src, inc->src_len);
	eve_put(ev, "incident", incident_json(inc));
	/* The other servers' control sockets show it too (bus.c). */
	bus_event(srv, ev);
	emit(srv, ev);
}
