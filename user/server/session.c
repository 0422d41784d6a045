// SPDX-License-Identifier: GPL-2.0-only
/*
 * One agent's (or child server's) session: what the server believes from
 * it and what it answers. The peer's identity is its certificate's CN,
 * never a field it could forge in a frame.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "user/common/log.h"
#include "user/server/bus.h"
#include "user/server/metrics.h"
#include "user/server/peers.h"
#include "user/server/store.h"

/* Held until the round's commit: see round_end() in main.c. */
static int send_ack(struct server *srv, struct session *s, uint64_t id)
{
	if (s->nr_acks == s->cap_acks) {
		unsigned int cap = s->cap_acks ? s->cap_acks * 2 : 16;
		uint64_t *n;

		/* An agent has at most its queue in flight; bound it anyway. */
		if (cap > 65536)
			return -ENOBUFS;
		n = realloc(s->acks, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->acks = n;
		s->cap_acks = cap;
	}
	s->acks[s->nr_acks++] = id;
	if (!s->ack_queued) {
		s->ack_queued = true;
		s->ack_next = srv->ack_sessions;
		srv->ack_sessions = s;
	}
	return 0;
}

void session_flush_acks(struct server *srv, struct session *s)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Ack ack = VNFSEC__ACK__INIT;
	unsigned int i;

	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ACK;
	f.ack = &ack;
	for (i = 0; i < s->nr_acks && !s->broken; i++) {
		ack.assessment_id = s->acks[i];
		session_send(srv, s, &f);
	}
}

/*
 * In a shared store another server may have stored the agent's reports
 * since it was last here (it failed over): read how far, so that those
 * sent again are duplicates. Until the store answers, nothing of the
 * agent's is acknowledged. 0 once known.
 */
static int agent_sync(struct server *srv, struct agent_record *a)
{
	uint64_t last;

	if (a->synced)
		return 0;
	if (store_agent_last_assessment(srv->store, a->id, &last)) {
		srv->stats.store_errors++;
		return -EIO;
	}
	if (last > a->last_assessment_id)
		a->last_assessment_id = a->stored_assessment_id = last;
	a->synced = true;
	return 0;
}

/*
 * A report that cannot be stored is not acked, and the session is cut:
 * an agent sends its spool again only when it connects again (to this
 * server or the next of its list), by when the store may be back.
 */
static int not_stored(struct session *s)
{
	if (!s->cut)
		s->cut = "its reports cannot be stored now; it sends them again when it reconnects";
	return 0;
}

static int on_assessment(struct server *srv, struct session *s,
			 const Vnfsec__Assessment *a)
{
	struct agent_record *agent = s->agent;
	struct incident *inc;
	int ret;

	if (agent_sync(srv, agent))
		return not_stored(s);

	/* A resent assessment is acknowledged again but counted once. */
	if (a->id <= agent->last_assessment_id) {
		srv->stats.duplicates++;
		return send_ack(srv, s, a->id);
	}
	ret = correlate_assessment(srv, agent, a, &inc);
	/* Unrecorded means unacknowledged: the agent keeps it and resends. */
	if (ret == -EAGAIN)
		return not_stored(s);
	if (ret)
		return ret;
	ret = store_assessment(srv->store, agent->id, a, inc->id);
	/* Stored by another server of a shared store before a failover. */
	if (ret == -EEXIST) {
		agent->last_assessment_id = a->id;
		srv->stats.duplicates++;
		return send_ack(srv, s, a->id);
	}
	if (ret) {
		srv->stats.store_errors++;
		return not_stored(s);
	}
	agent->last_assessment_id = a->id;
	agent->assessments++;
	srv->stats.assessments++;
	metrics_assessment_stored(srv, a->time_unix_ms);
	alert_assessment(srv, agent, a, inc);
	ret = send_ack(srv, s, a->id);
	if (ret)
		return ret;
	remediate(srv, inc, agent, a->id);
	return 0;
}

static int send_summary_ack(struct server *srv, struct session *s,
			    const Vnfsec__IncidentSummary *sum)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__SummaryAck ack = VNFSEC__SUMMARY_ACK__INIT;

	ack.incident_id = sum->id;
	ack.revision = sum->revision;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_SUMMARY_ACK;
	f.summary_ack = &ack;
	return session_send(srv, s, &f);
}

static int on_summary(struct server *srv, struct session *s,
		      const Vnfsec__IncidentSummary *sum)
{
	int ret;

	if (!s->agent->is_server) {
		log_warn("agent %s: sent an incident summary but is no server; closing",
			 s->agent->id);
		return -EPROTO;
	}
	ret = correlate_summary(srv, s->agent, sum);
	/* The shared store cannot say which incident: no ack, it resends. */
	if (ret == -EAGAIN)
		return 0;
	if (ret)
		return ret;
	return send_summary_ack(srv, s, sum);
}

struct agent_record *agent_get(struct server *srv, const char *id)
{
	struct agent_record *a;

	for (a = srv->agents; a; a = a->next)
		if (!strcmp(a->id, id))
			return a;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	snprintf(a->id, sizeof(a->id), "%s", id);
	a->next = srv->agents;
	srv->agents = a;
	return a;
}

void agents_free(struct server *srv)
{
	while (srv->agents) {
		struct agent_record *next = srv->agents->next;

		free(srv->agents);
		srv->agents = next;
	}
}

void session_gone(struct server *srv, struct session *s)
{
	struct agent_record *a = s->agent;

	/* An older connection of a reconnected agent is not its session. */
	if (!a || a->session != s)
		return;
	a->session = NULL;
	bus_agent_gone(srv, a);
	a->last_seen = time(NULL);
	srv->nr_agents_connected--;
	if (store_agent_seen(srv->store, a, false))
		srv->stats.store_errors++;
}

static int on_hello(struct server *srv, struct session *s,
		    const Vnfsec__Hello *h)
{
	struct agent_record *a;
	int ret;

	if (strcmp(h->agent_id, s->conn.peer_cn)) {
		log_warn("agent at %s: hello names '%s' but its certificate '%s'; closing",
			 s->conn.peer, h->agent_id, s->conn.peer_cn);
		return -EACCES;
	}
	a = agent_get(srv, s->conn.peer_cn);
	if (!a)
		return -ENOMEM;
	ret = peers_one_session(srv, s, a);
	if (ret)
		return ret;
	if (!a->session)
		srv->nr_agents_connected++;
	a->session = s;
	/* peers_frame_allowed() checked the certificate holds this role. */
	a->is_server = h->is_server;
	a->last_seen = time(NULL);
	snprintf(a->address, sizeof(a->address), "%s", s->conn.peer);
	s->agent = a;
	a->synced = !store_shared(srv->store);
	agent_sync(srv, a);
	attest_on_hello(srv, a);
	if (store_agent_seen(srv->store, a, true))
		srv->stats.store_errors++;
	log_info("%s %s connected from %s",
		 a->is_server ? "child server" : "agent", a->id, s->conn.peer);
	actions_redeliver(srv, a);
	/* Orders other servers left for it come by the bus. */
	bus_agent_here(srv, a);
	return 0;
}

int session_on_frame(struct server *srv, struct session *s,
		     const Vnfsec__Frame *f)
{
	const Vnfsec__Heartbeat *hb;
	int ret;

	ret = peers_frame_allowed(srv, s, f);
	if (ret)
		return ret;
	if (!s->agent) {
		/* No client certificate: enrollment (enroll.c) or nothing. */
		if (!s->conn.peer_cn[0] || enroll_frame(f))
			return enroll_on_frame(srv, s, f);
		if (f->body_case != VNFSEC__FRAME__BODY_HELLO) {
			log_warn("agent %s at %s: first frame is not a hello; closing",
				 s->conn.peer_cn, s->conn.peer);
			return -EPROTO;
		}
		return on_hello(srv, s, f->hello);
	}

	s->agent->last_seen = time(NULL);
	switch (f->body_case) {
	case VNFSEC__FRAME__BODY_ASSESSMENT:
		return on_assessment(srv, s, f->assessment);
	case VNFSEC__FRAME__BODY_ACTION_RESULT:
		action_result(srv, s->agent, f->action_result);
		return 0;
	case VNFSEC__FRAME__BODY_HEARTBEAT:
		hb = f->heartbeat;
		if (hb->ringbuf_lost > s->agent->ringbuf_lost)
			log_warn("agent %s: its fast path has lost %llu records in all; raise its ring buffer or sampling",
				 s->conn.peer_cn,
				 (unsigned long long)hb->ringbuf_lost);
		s->agent->ringbuf_lost = hb->ringbuf_lost;
		s->agent->dropped_packets = hb->dropped_packets;
		metrics_heartbeat(s->agent, hb);
		return 0;
	case VNFSEC__FRAME__BODY_INCIDENT_SUMMARY:
		return on_summary(srv, s, f->incident_summary);
	case VNFSEC__FRAME__BODY_QUOTE_RESPONSE:
		return attest_on_quote(srv, s->agent, f->quote_response);
	case VNFSEC__FRAME__BODY_BUNDLE_RESULT:
		bundle_result(srv, s->agent, f->bundle_result);
		return 0;
	case VNFSEC__FRAME__BODY_DETECTOR_RESULT:
		bundle_detector_result(srv, s->agent, f->detector_result);
		return 0;
	default:
		log_warn("agent %s: unexpected message %d; closing",
			 s->conn.peer_cn, f->body_case);
		return -EPROTO;
	}
}
