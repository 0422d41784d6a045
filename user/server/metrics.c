// SPDX-License-Identifier: GPL-2.0-only
/*
 * Prometheus text exposition at /metrics. libmicrohttpd runs in its
 * external epoll mode: its epoll fd sits in the server's loop, so the
 * counters are read on the one thread that writes them, without locks.
 * Names follow Prometheus conventions (vnfsec_..._total for counters).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <microhttpd.h>

#include "user/common/evloop.h"
#include "user/common/log.h"
#include "user/common/netaddr.h"
#include "user/server/control.h"
#include "user/server/metrics.h"
#include "user/server/peers.h"
#include "user/server/server.h"

/*
 * Slow clients must not starve /metrics: at most METRICS_CONNECTIONS at
 * once, METRICS_PER_SOURCE of them from one address, and each request
 * has METRICS_DEADLINE_S from accept to the end of its answer, however
 * slowly it trickles bytes (libmicrohttpd's own timeout is only an idle
 * one, reset by every byte).
 */
#define METRICS_CONNECTIONS	64U
#define METRICS_PER_SOURCE	8U
#define METRICS_DEADLINE_S	5

struct metrics_conn {
	struct metrics_conn *next;
	int fd;
	bool cut;
	uint64_t started_ms;
};

struct metrics {
	struct MHD_Daemon *d;
	struct metrics_conn *conns;	/* open HTTP connections */
	uint64_t cut;			/* past the deadline */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void notify(void *cls, struct MHD_Connection *conn,
		   void **socket_context,
		   enum MHD_ConnectionNotificationCode toe)
{
	struct metrics *m = cls;
	struct metrics_conn *mc = *socket_context, **pp;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn,
					     MHD_CONNECTION_INFO_CONNECTION_FD);
		mc = ci ? calloc(1, sizeof(*mc)) : NULL;
		if (!mc)
			return;
		mc->fd = ci->connect_fd;
		mc->started_ms = mono_ms();
		mc->next = m->conns;
		m->conns = mc;
		*socket_context = mc;
		return;
	}
	if (!mc)
		return;
	for (pp = &m->conns; *pp; pp = &(*pp)->next) {
		if (*pp == mc) {
			*pp = mc->next;
			break;
		}
	}
	free(mc);
	*socket_context = NULL;
}

/*
 * Past its deadline: shut the socket down (not closed: libmicrohttpd
 * owns the descriptor), so libmicrohttpd sees the end and frees the
 * connection itself.
 */
static void cut_late(struct metrics *m)
{
	uint64_t now = mono_ms();
	struct metrics_conn *mc;

	for (mc = m->conns; mc; mc = mc->next) {
		if (mc->cut || now - mc->started_ms < METRICS_DEADLINE_S * 1000)
			continue;
		shutdown(mc->fd, SHUT_RDWR);
		mc->cut = true;
		m->cut++;
	}
}

static void metric(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * Assessment latency, from the agent's detection (its clock) to the
 * server's store (ours): seconds, up to the time an agent spooled while
 * the server was away. An agent clock ahead of ours counts as 0.
 */
static const double latency_le[METRICS_LATENCY_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 600,
};

void metrics_assessment_stored(struct server *srv, uint64_t agent_time_ms)
{
	struct server_stats *st = &srv->stats;
	struct timespec now;
	uint64_t now_ms;
	double s;
	unsigned int i;

	clock_gettime(CLOCK_REALTIME, &now);
	now_ms = (uint64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	s = now_ms > agent_time_ms ? (now_ms - agent_time_ms) / 1000.0 : 0;
	for (i = 0; i < METRICS_LATENCY_BUCKETS && s > latency_le[i]; i++)
		;
	if (i < METRICS_LATENCY_BUCKETS)
		st->latency_buckets[i]++;
	st->latency_count++;
	st->latency_sum_s += s;
}

void metrics_heartbeat(struct agent_record *a, const Vnfsec__Heartbeat *hb)
{
	size_t i;

	/* wire.c checked the names and their number. */
	a->nr_drops = 0;
	for (i = 0; i < hb->n_drops && i < WIRE_DROP_CAUSES_MAX; i++) {
		snprintf(a->drops[i].cause, sizeof(a->drops[i].cause), "%s",
			 hb->drops[i]->cause);
		a->drops[i].packets = hb->drops[i]->packets;
		a->nr_drops++;
	}
	a->spool_pending = hb->spool_pending;
	a->reported = true;
}

static void render_latency(const struct server_stats *st, FILE *f)
{
	uint64_t cum = 0;
	unsigned int i;

	metric(f, "vnfsec_assessment_latency_seconds", "histogram",
	       "From an agent's detection to the server's store (agent clock to server clock).");
	for (i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
		cum += st->latency_buckets[i];
		fprintf(f, "vnfsec_assessment_latency_seconds_bucket{le=\"%g\"} %llu\n",
			latency_le[i], (unsigned long long)cum);
	}
	fprintf(f, "vnfsec_assessment_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
		(unsigned long long)st->latency_count);
	fprintf(f, "vnfsec_assessment_latency_seconds_sum %.6f\n",
		st->latency_sum_s);
	fprintf(f, "vnfsec_assessment_latency_seconds_count %llu\n",
		(unsigned long long)st->latency_count);
}

/* What agents report of themselves (heartbeats) and what we hold of them. */
static void render_agents(struct server *srv, FILE *f)
{
	struct agent_record *a;
	unsigned int i, untrusted = 0;

	for (a = srv->agents; a; a = a->next)
		untrusted += agent_attested(a) && !agent_trusted(a);
	metric(f, "vnfsec_agents_untrusted", "gauge",
	       "Enrolled agents that failed re-attestation (docs/trust.md).");
	fprintf(f, "vnfsec_agents_untrusted %u\n", untrusted);
	/* Agent ids are [A-Za-z0-9._-] (wire.c): safe as label values. */
	metric(f, "vnfsec_agent_ringbuf_lost_total", "counter",
	       "Fast-path records an agent could not emit, as it reported.");
	for (a = srv->agents; a; a = a->next)
		fprintf(f, "vnfsec_agent_ringbuf_lost_total{agent=\"%s\"} %llu\n",
			a->id, (unsigned long long)a->ringbuf_lost);
	metric(f, "vnfsec_agent_dropped_packets_total", "counter",
	       "Packets an agent's fast path dropped by its blocklist, as it reported.");
	for (a = srv->agents; a; a = a->next)
		fprintf(f, "vnfsec_agent_dropped_packets_total{agent=\"%s\"} %llu\n",
			a->id, (unsigned long long)a->dropped_packets);
	/* Causes are drop_[a-z0-9_]+ (wire.c). */
	metric(f, "vnfsec_agent_fastpath_drops_total", "counter",
	       "Packets an agent's fast path dropped, by cause (its drop_* counters), as it reported.");
	for (a = srv->agents; a; a = a->next)
		for (i = 0; i < a->nr_drops; i++)
			fprintf(f, "vnfsec_agent_fastpath_drops_total{agent=\"%s\",cause=\"%s\"} %llu\n",
				a->id, a->drops[i].cause,
				(unsigned long long)a->drops[i].packets);
	metric(f, "vnfsec_agent_spool_pending", "gauge",
	       "Assessments an agent holds in its spool, not yet acknowledged, at its last heartbeat.");
	for (a = srv->agents; a; a = a->next)
		if (a->reported)
			fprintf(f, "vnfsec_agent_spool_pending{agent=\"%s\"} %u\n",
				a->id, a->spool_pending);
}

static void render(struct server *srv, FILE *f)
{
	const struct server_stats *st = &srv->stats;
	unsigned int open = 0, unforwarded = 0, followers, h;
	uint64_t agent_bytes = 0, ctl_bytes;
	struct incident *inc;
	struct session *s;

	for (inc = srv->incidents; inc; inc = inc->next) {
		open += inc->state != INCIDENT_CLOSED;
		unforwarded += inc->forwarded != inc->revision;
	}
	for (s = srv->sessions; s; s = s->next)
		agent_bytes += s->conn.wlen;
	control_queue(srv, &followers, &ctl_bytes);

	metric(f, "vnfsec_agents_connected", "gauge",
	       "Agents (and child servers) with a session now.");
	fprintf(f, "vnfsec_agents_connected %u\n", srv->nr_agents_connected);
	metric(f, "vnfsec_sessions", "gauge",
	       "TLS connections, including those still in their handshake.");
	fprintf(f, "vnfsec_sessions %u\n", srv->nr_sessions);
	metric(f, "vnfsec_handshakes_refused_total", "counter",
	       "connections refused: too many handshakes from their address");
	fprintf(f, "vnfsec_handshakes_refused_total %llu\n",
		(unsigned long long)srv->stats.handshakes_refused);
	metric(f, "vnfsec_http_deadline_cut_total", "counter",
	       "HTTP requests cut for not ending within their deadline");
	fprintf(f, "vnfsec_http_deadline_cut_total %llu\n",
		(unsigned long long)(srv->metrics ? srv->metrics->cut : 0));
	metric(f, "vnfsec_assessments_total", "counter",
	       "Assessments received and recorded.");
	fprintf(f, "vnfsec_assessments_total %llu\n",
		(unsigned long long)st->assessments);
	metric(f, "vnfsec_assessments_duplicate_total", "counter",
	       "Assessments resent by agents and acknowledged again.");
	fprintf(f, "vnfsec_assessments_duplicate_total %llu\n",
		(unsigned long long)st->duplicates);
	metric(f, "vnfsec_indicator_matches_total", "counter",
	       "Assessments that matched a threat indicator.");
	fprintf(f, "vnfsec_indicator_matches_total %llu\n",
		(unsigned long long)st->indicator_matches);
	metric(f, "vnfsec_threat_indicators", "gauge",
	       "Indicators in the threat database.");
	fprintf(f, "vnfsec_threat_indicators %u\n", threatdb_size(srv->tdb));
	metric(f, "vnfsec_incidents_total", "counter",
	       "Incidents opened, by type.");
	for (h = 1; h < 16 && strcmp(heuristic_name(h), "unknown"); h++)
		fprintf(f, "vnfsec_incidents_total{type=\"%s\"} %llu\n",
			heuristic_name(h),
			(unsigned long long)st->incidents_by_type[h]);
	metric(f, "vnfsec_incidents_open", "gauge",
	       "Incidents not closed yet.");
	fprintf(f, "vnfsec_incidents_open %u\n", open);
	metric(f, "vnfsec_actions_total", "counter",
	       "Corrective actions, by what became of them.");
	fprintf(f, "vnfsec_actions_total{result=\"sent\"} %llu\n",
		(unsigned long long)st->actions_sent);
	fprintf(f, "vnfsec_actions_total{result=\"applied\"} %llu\n",
		(unsigned long long)st->actions_applied);
	fprintf(f, "vnfsec_actions_total{result=\"failed\"} %llu\n",
		(unsigned long long)st->actions_failed);
	metric(f, "vnfsec_queue_bytes", "gauge",
	       "Bytes waiting to be sent, by queue.");
	fprintf(f, "vnfsec_queue_bytes{queue=\"agents\"} %llu\n",
		(unsigned long long)agent_bytes);
	fprintf(f, "vnfsec_queue_bytes{queue=\"control\"} %llu\n",
		(unsigned long long)ctl_bytes);
	metric(f, "vnfsec_parent_unforwarded", "gauge",
	       "Incident revisions the parent has not acknowledged yet.");
	fprintf(f, "vnfsec_parent_unforwarded %u\n",
		srv->cfg->parent ? unforwarded : 0);
	metric(f, "vnfsec_parent_connected", "gauge",
	       "1 while the link to the parent server is up.");
	fprintf(f, "vnfsec_parent_connected %d\n", parent_connected(srv));
	metric(f, "vnfsec_summaries_total", "counter",
	       "Incident summaries exchanged with parent and children.");
	fprintf(f, "vnfsec_summaries_total{direction=\"sent\"} %llu\n",
		(unsigned long long)st->summaries_sent);
	fprintf(f, "vnfsec_summaries_total{direction=\"received\"} %llu\n",
		(unsigned long long)st->summaries_received);
	metric(f, "vnfsec_hooks_total", "counter",
	       "Remediation hook runs.");
	fprintf(f, "vnfsec_hooks_total %llu\n",
		(unsigned long long)st->hooks_run);
	metric(f, "vnfsec_errors_total", "counter", "Errors, by kind.");
	fprintf(f, "vnfsec_errors_total{kind=\"frame_refused\"} %llu\n",
		(unsigned long long)st->frames_refused);
	fprintf(f, "vnfsec_errors_total{kind=\"store\"} %llu\n",
		(unsigned long long)st->store_errors);
	fprintf(f, "vnfsec_errors_total{kind=\"hook\"} %llu\n",
		(unsigned long long)st->hooks_failed);
	if (srv->trust) {
		metric(f, "vnfsec_enroll_refused_total", "counter",
		       "Enrollment requests refused before any TPM work, by reason.");
		fprintf(f, "vnfsec_enroll_refused_total{reason=\"rate\"} %llu\n",
			(unsigned long long)srv->trust->refused_rate);
		fprintf(f, "vnfsec_enroll_refused_total{reason=\"not_registered\"} %llu\n",
			(unsigned long long)srv->trust->refused_unlisted);
		fprintf(f, "vnfsec_enroll_refused_total{reason=\"tpm_bound\"} %llu\n",
			(unsigned long long)srv->trust->refused_tpm);
		fprintf(f, "vnfsec_enroll_refused_total{reason=\"revoked\"} %llu\n",
			(unsigned long long)srv->trust->refused_revoked);
	}
	peers_metrics(srv, f);
	render_latency(st, f);
	render_agents(srv, f);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct server *srv = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned int code = MHD_HTTP_OK;
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return MHD_NO;
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	if (!strcmp(url, "/metrics")) {
		render(srv, f);
	} else {
		fputs("not found: try /metrics\n", f);
		code = MHD_HTTP_NOT_FOUND;
	}
	if (fclose(f)) {
		free(body);
		return MHD_NO;
	}
	resp = MHD_create_response_from_buffer(len, body,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
				"text/plain; version=0.0.4");
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int write_port(const char *path, unsigned int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) ||
	    rename(tmp, path)) {
		log_err("cannot write metrics port file %s: %s", path,
			strerror(errno));
		return -EIO;
	}
	return 0;
}

int metrics_open(struct server *srv, void *tag)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	struct metrics *m;
	socklen_t len;
	int ret;

	if (!srv->cfg->metrics_listen)
		return 0;
	ret = netaddr_parse(srv->cfg->metrics_listen, &ss, &len, "--metrics");
	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->d = MHD_start_daemon(MHD_USE_EPOLL | (ss.ss_family == AF_INET6 ?
						 MHD_USE_IPv6 : 0),
				0, NULL, NULL, answer, srv,
				MHD_OPTION_SOCK_ADDR, &ss,
				MHD_OPTION_CONNECTION_LIMIT, METRICS_CONNECTIONS,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				METRICS_PER_SOURCE,
				MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned int)METRICS_DEADLINE_S,
				MHD_OPTION_NOTIFY_CONNECTION, notify, m,
				MHD_OPTION_END);
	if (!m->d) {
		log_err("cannot serve metrics on %s; check --metrics (address in use?)",
			srv->cfg->metrics_listen);
		free(m);
		return -EADDRNOTAVAIL;
	}
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
	ret = info ? evloop_add(srv->epoll_fd, info->epoll_fd,
				(epoll_data_t){ .ptr = tag }) : -EINVAL;
	if (ret) {
		log_err("cannot watch the metrics server: %s", strerror(-ret));
		MHD_stop_daemon(m->d);
		free(m);
		return ret;
	}
	srv->metrics = m;
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
	if (info) {
		log_info("metrics at http://%s/metrics (port %u)",
			 srv->cfg->metrics_listen, info->port);
		if (srv->cfg->metrics_port_file)
			return write_port(srv->cfg->metrics_port_file,
					  info->port);
	}
	return 0;
}

/* On its events and on every tick: deadlines need a clock, not input. */
void metrics_run(struct server *srv)
{
	if (!srv->metrics)
		return;
	cut_late(srv->metrics);
	MHD_run(srv->metrics->d);
}

void metrics_close(struct server *srv)
{
	if (!srv->metrics)
		return;
	MHD_stop_daemon(srv->metrics->d);
	while (srv->metrics->conns) {
		struct metrics_conn *mc = srv->metrics->conns;

		srv->metrics->conns = mc->next;
		free(mc);
	}
	free(srv->metrics);
	srv->metrics = NULL;
}
