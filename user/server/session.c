// SPDX-License-Identifier: GPL-2.0-only
/*
 * One agent's session: what the server believes from it and what it
 * answers. The agent's identity is its certificate's CN, never a field it
 * could forge in a frame.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "user/common/log.h"
#include "user/server/server.h"

static int send_ack(struct session *s, uint64_t id)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Ack ack = VNFSEC__ACK__INIT;

	ack.assessment_id = id;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ACK;
	f.ack = &ack;
	return conn_send(&s->conn, &f);
}

/* Playbook of the skeleton: a SYN flood's main source is blocked. */
static int remediate(struct server *srv, struct session *s,
		     const Vnfsec__Assessment *a)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Action act = VNFSEC__ACTION__INIT;
	time_t now = time(NULL);
	uint32_t src;
	char buf[64];
	int ret;

	if (a->src_addr.len != 4 || a->src_count == 0)
		return 0;
	memcpy(&src, a->src_addr.data, 4);
	/* The agent already enforces it: one order, not one per report. */
	if (src == s->agent->blocked_src && now < s->agent->blocked_until)
		return 0;

	act.seq = ++s->agent->next_action_seq;
	act.type = VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE;
	act.src_addr = a->src_addr;
	act.prefix_len = 32;
	act.ttl_s = srv->cfg->block_ttl_s;
	act.assessment_id = a->id;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ACTION;
	f.action = &act;
	ret = conn_send(&s->conn, &f);
	if (ret)
		return ret;
	s->agent->blocked_src = src;
	s->agent->blocked_until = now + (srv->cfg->block_ttl_s ?
					 srv->cfg->block_ttl_s : 1);
	alert_action(srv, s, &act);
	log_info("agent %s: ordered block of %s for %u s (action %llu)",
		 s->conn.peer_cn, wire_addr_str(&a->src_addr, buf, sizeof(buf)),
		 act.ttl_s, (unsigned long long)act.seq);
	return 0;
}

static int on_assessment(struct server *srv, struct session *s,
			 const Vnfsec__Assessment *a)
{
	int ret;

	/* A resent assessment is acknowledged again but counted once. */
	if (a->id <= s->agent->last_assessment_id)
		return send_ack(s, a->id);
	s->agent->last_assessment_id = a->id;
	alert_assessment(srv, s, a);
	ret = send_ack(s, a->id);
	if (ret)
		return ret;
	return remediate(srv, s, a);
}

static struct agent_record *agent_find_or_add(struct server *srv,
					      const char *id)
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

int session_on_frame(struct server *srv, struct session *s,
		     const Vnfsec__Frame *f)
{
	if (!s->agent) {
		if (f->body_case != VNFSEC__FRAME__BODY_HELLO) {
			log_warn("agent %s at %s: first frame is not a hello; closing",
				 s->conn.peer_cn, s->conn.peer);
			return -EPROTO;
		}
		if (strcmp(f->hello->agent_id, s->conn.peer_cn)) {
			log_warn("agent at %s: hello names '%s' but its certificate '%s'; closing",
				 s->conn.peer, f->hello->agent_id,
				 s->conn.peer_cn);
			return -EACCES;
		}
		s->agent = agent_find_or_add(srv, s->conn.peer_cn);
		if (!s->agent)
			return -ENOMEM;
		log_info("agent %s connected from %s", s->conn.peer_cn,
			 s->conn.peer);
		return 0;
	}

	switch (f->body_case) {
	case VNFSEC__FRAME__BODY_ASSESSMENT:
		return on_assessment(srv, s, f->assessment);
	case VNFSEC__FRAME__BODY_ACTION_RESULT:
		alert_action_result(srv, s, f->action_result);
		return 0;
	case VNFSEC__FRAME__BODY_HEARTBEAT:
		if (f->heartbeat->ringbuf_lost > s->agent->ringbuf_lost)
			log_warn("agent %s: its fast path has lost %llu records in all; raise its ring buffer or sampling",
				 s->conn.peer_cn,
				 (unsigned long long)f->heartbeat->ringbuf_lost);
		s->agent->ringbuf_lost = f->heartbeat->ringbuf_lost;
		return 0;
	default:
		log_warn("agent %s: unexpected message %d; closing",
			 s->conn.peer_cn, f->body_case);
		return -EPROTO;
	}
}
