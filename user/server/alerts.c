// SPDX-License-Identifier: GPL-2.0-only
/*
 * Alerts as JSON lines close to Suricata's EVE format, so the tools that
 * read EVE (jq, Filebeat, a SIEM) read ours: every fact is a field.
 */
#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <json-c/json.h>

#include "user/common/log.h"
#include "user/server/server.h"

int alerts_open(struct server *srv)
{
	const char *path = srv->cfg->alerts_path;

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

void alerts_close(struct server *srv)
{
	if (srv->alerts && srv->alerts != stdout)
		fclose(srv->alerts);
	srv->alerts = NULL;
}

static json_object *event_new(const struct session *s, const char *type)
{
	json_object *ev = json_object_new_object();
	char stamp[64], frac[16];
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(frac, sizeof(frac), ".%06ld+0000", (long)tv.tv_usec);
	strncat(stamp, frac, sizeof(stamp) - strlen(stamp) - 1);
	json_object_object_add(ev, "timestamp", json_object_new_string(stamp));
	json_object_object_add(ev, "event_type", json_object_new_string(type));
	json_object_object_add(ev, "agent_id",
			       json_object_new_string(s->conn.peer_cn));
	return ev;
}

static void add_addr(json_object *o, const char *key,
		     const ProtobufCBinaryData *addr)
{
	char buf[64];

	json_object_object_add(o, key, json_object_new_string(
		wire_addr_str(addr, buf, sizeof(buf))));
}

static void emit(struct server *srv, json_object *ev)
{
	const char *line = json_object_to_json_string_ext(ev,
							  JSON_C_TO_STRING_PLAIN);

	if (fprintf(srv->alerts, "%s\n", line) < 0 || fflush(srv->alerts))
		log_err("cannot write alert log: %s; check disk space",
			strerror(errno));
	json_object_put(ev);
}

void alert_assessment(struct server *srv, const struct session *s,
		      const Vnfsec__Assessment *a)
{
	json_object *ev = event_new(s, "alert");
	json_object *alert = json_object_new_object();
	json_object *vs = json_object_new_object();

	add_addr(ev, "src_ip", &a->src_addr);
	add_addr(ev, "dest_ip", &a->dst_addr);
	json_object_object_add(ev, "dest_port", json_object_new_int(a->dst_port));
	json_object_object_add(ev, "proto", json_object_new_string("TCP"));
	json_object_object_add(ev, "in_iface", json_object_new_string(a->iface));

	json_object_object_add(alert, "signature",
			       json_object_new_string("vnfsec SYN flood"));
	json_object_object_add(alert, "signature_id",
			       json_object_new_int(a->heuristic));
	json_object_object_add(alert, "category",
			       json_object_new_string("syn_flood"));
	json_object_object_add(alert, "severity",
			       json_object_new_int(a->severity));
	json_object_object_add(ev, "alert", alert);

	json_object_object_add(vs, "assessment_id",
			       json_object_new_uint64(a->id));
	json_object_object_add(vs, "agent_time_ms",
			       json_object_new_uint64(a->time_unix_ms));
	json_object_object_add(vs, "count", json_object_new_uint64(a->count));
	json_object_object_add(vs, "src_count",
			       json_object_new_uint64(a->src_count));
	json_object_object_add(vs, "window_ms",
			       json_object_new_int64(a->window_ms));
	json_object_object_add(vs, "threshold",
			       json_object_new_int64(a->threshold));
	json_object_object_add(ev, "vnfsec", vs);
	emit(srv, ev);
}

void alert_action(struct server *srv, const struct session *s,
		  const Vnfsec__Action *act)
{
	json_object *ev = event_new(s, "action");
	json_object *o = json_object_new_object();

	add_addr(ev, "src_ip", &act->src_addr);
	json_object_object_add(o, "type", json_object_new_string("block_source"));
	json_object_object_add(o, "seq", json_object_new_uint64(act->seq));
	json_object_object_add(o, "prefix_len",
			       json_object_new_int(act->prefix_len));
	json_object_object_add(o, "ttl_s", json_object_new_int64(act->ttl_s));
	json_object_object_add(o, "assessment_id",
			       json_object_new_uint64(act->assessment_id));
	json_object_object_add(ev, "action", o);
	emit(srv, ev);
}

void alert_action_result(struct server *srv, const struct session *s,
			 const Vnfsec__ActionResult *r)
{
	json_object *ev = event_new(s, "action_result");
	json_object *o = json_object_new_object();

	json_object_object_add(o, "seq", json_object_new_uint64(r->seq));
	json_object_object_add(o, "status", json_object_new_int(r->status));
	json_object_object_add(o, "error", json_object_new_string(
		r->status ? strerror(-r->status) : ""));
	json_object_object_add(ev, "action_result", o);
	emit(srv, ev);
}
