// SPDX-License-Identifier: GPL-2.0-only
/*
 * The link to a parent security server (hierarchy of nominated servers).
 * We are its agent, over the same protocol: a Hello that says we are a
 * server, then IncidentSummary frames for every incident revision the
 * parent has not acknowledged yet. The parent's orders (Action frames)
 * are fanned out to our agents and children, and answered once they
 * answered: an order is "applied" for the parent only when an agent of
 * ours applied it (or held it in force already). While the parent is
 * away we keep working; on reconnect every unacknowledged revision is
 * resent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "user/common/log.h"
#include "user/common/netaddr.h"
#include "user/common/roles.h"
#include "user/server/server.h"

#define PARENT_BACKOFF_MAX 30	/* seconds between reconnect attempts */
/* Agents that never answer: the parent hears what the others said. */
#define PARENT_ORDER_WAIT_S 30

/* A parent's order our agents are carrying out. */
struct parent_order {
	struct parent_order *next;
	uint64_t seq;			/* the parent's */
	unsigned int waiting;		/* orders sent, not answered yet */
	unsigned int applied;		/* answered 0, or in force already */
	int error;			/* the first failure an agent answered */
	time_t deadline;
};

struct parent_link {
	enum ev_kind kind;		/* first: see enum ev_kind */
	SSL_CTX *ctx;
	struct conn conn;
	bool active;			/* conn holds a socket */
	bool connecting;		/* TCP connect in progress */
	bool up;			/* handshake done, hello sent */
	bool was_up;			/* for one log line per outage */
	char id[WIRE_AGENT_ID_MAX + 1];	/* our CN on the parent link */
	time_t next_try;
	unsigned int backoff;
	struct parent_order *orders;	/* waiting for our agents' answers */
};

int parent_open(struct server *srv)
{
	const struct server_config *cfg = srv->cfg;
	struct tls_files files = cfg->tls;
	struct parent_link *p;
	int ret;

	if (!cfg->parent)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->kind = EV_KIND_PARENT;
	p->conn.fd = -1;
	p->backoff = 1;
	if (cfg->parent_cert)
		files.cert = cfg->parent_cert;
	if (cfg->parent_key)
		files.key = cfg->parent_key;
	ret = tls_cert_cn(files.cert, p->id, sizeof(p->id));
	if (ret)
		goto err;
	p->ctx = tls_ctx_new(false, &files);
	if (!p->ctx) {
		ret = -EINVAL;
		goto err;
	}
	srv->parent = p;
	return 0;
err:
	log_err("cannot set up the link to parent %s; check --parent-cert and --parent-key",
		cfg->parent);
	free(p);
	return ret;
}

bool parent_connected(const struct server *srv)
{
	return srv->parent && srv->parent->up;
}

static void parent_drop(struct server *srv, const char *why)
{
	struct parent_link *p = srv->parent;
	struct incident *inc;

	if (p->active) {
		epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, p->conn.fd, NULL);
		conn_free(&p->conn);
	}
	if (p->up || !p->was_up)
		log_warn("parent %s: %s; working on alone and retrying",
			 srv->cfg->parent, why);
	p->was_up = p->up || p->was_up;
	p->active = p->connecting = p->up = false;
	p->next_try = time(NULL) + p->backoff;
	if (p->backoff < PARENT_BACKOFF_MAX)
		p->backoff *= 2;
	/* What was sent on that connection may never have arrived. */
	for (inc = srv->incidents; inc; inc = inc->next)
		inc->sent = inc->forwarded;
}

static int parent_watch(struct server *srv, int op)
{
	struct parent_link *p = srv->parent;
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP |
			  (p->connecting || conn_wants_write(&p->conn) ||
			   !p->conn.established ? EPOLLOUT : 0),
		.data.ptr = p,
	};

	return epoll_ctl(srv->epoll_fd, op, p->conn.fd, &ev) ? -errno : 0;
}

static void parent_connect(struct server *srv)
{
	struct parent_link *p = srv->parent;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (netaddr_parse(srv->cfg->parent, &ss, &len, "--parent"))
		return parent_drop(srv, "bad address");
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return parent_drop(srv, strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS) {
		close(fd);
		return parent_drop(srv, strerror(errno));
	}
	if (conn_init(&p->conn, p->ctx, fd, srv->cfg->parent_name)) {
		close(fd);
		return parent_drop(srv, "cannot start TLS");
	}
	p->active = p->connecting = true;
	if (parent_watch(srv, EPOLL_CTL_ADD))
		parent_drop(srv, "cannot watch socket");
}

static void fill_summary(Vnfsec__IncidentSummary *s, const struct incident *inc)
{
	s->id = inc->id;
	s->revision = inc->revision;
	s->heuristic = inc->heuristic;
	s->severity = inc->severity;
	/* enum incident_state uses the wire's values. */
	s->state = (Vnfsec__IncidentState)inc->state;
	s->src_addr.data = (uint8_t *)inc->src;
	s->src_addr.len = inc->src_len;
	s->dst_port = inc->dst_port;
	s->agents = inc->nr_agents;
	s->assessments = inc->assessments;
	s->first_seen_ms = (uint64_t)inc->first_seen * 1000;
	s->last_seen_ms = (uint64_t)inc->last_seen * 1000;
	s->indicator_source = inc->has_indicator ?
			      (char *)inc->indicator.source : "";
}

/* Send every revision the parent has neither seen nor acknowledged. */
void parent_push(struct server *srv)
{
	struct parent_link *p = srv->parent;
	struct incident *inc;

	if (!p || !p->up)
		return;
	for (inc = srv->incidents; inc; inc = inc->next) {
		Vnfsec__Frame f = VNFSEC__FRAME__INIT;
		Vnfsec__IncidentSummary s = VNFSEC__INCIDENT_SUMMARY__INIT;
		int ret;

		if (inc->sent >= inc->revision)
			continue;
		fill_summary(&s, inc);
		f.version = WIRE_VERSION;
		f.body_case = VNFSEC__FRAME__BODY_INCIDENT_SUMMARY;
		f.incident_summary = &s;
		ret = conn_send(&p->conn, &f);
		/* A full queue drains as the parent reads; try later. */
		if (ret == -ENOBUFS)
			break;
		if (ret)
			return parent_drop(srv, "write failed");
		inc->sent = inc->revision;
		srv->stats.summaries_sent++;
	}
	if (parent_watch(srv, EPOLL_CTL_MOD))
		parent_drop(srv, "cannot watch socket");
}

static int send_hello(struct server *srv)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Hello h = VNFSEC__HELLO__INIT;

	h.agent_id = srv->parent->id;
	h.is_server = true;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_HELLO;
	f.hello = &h;
	return conn_send(&srv->parent->conn, &f);
}

static int send_result(struct server *srv, uint64_t seq, int status)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__ActionResult r = VNFSEC__ACTION_RESULT__INIT;

	r.seq = seq;
	r.status = status;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ACTION_RESULT;
	f.action_result = &r;
	return conn_send(&srv->parent->conn, &f);
}

/* Applied by at least one agent and refused by none that answered. */
static int order_status(const struct parent_order *po)
{
	if (po->error)
		return po->error;
	return po->applied ? 0 : -ETIMEDOUT;
}

/*
 * Answered when the last agent answers (or the wait ends). A link down
 * meanwhile loses the answer: the parent sends the order again at our
 * next hello, and agents holding it answer at once.
 */
static void order_done(struct server *srv, struct parent_order **pp)
{
	struct parent_order *po = *pp;

	*pp = po->next;
	if (srv->parent->up && send_result(srv, po->seq, order_status(po)))
		parent_drop(srv, "write failed");
	free(po);
}

void parent_order_result(struct server *srv, uint64_t seq, int status)
{
	struct parent_order **pp;

	if (!srv->parent)
		return;
	for (pp = &srv->parent->orders; *pp; pp = &(*pp)->next) {
		struct parent_order *po = *pp;

		if (po->seq != seq)
			continue;
		if (status && !po->error)
			po->error = status;
		po->applied += !status;
		if (po->waiting)
			po->waiting--;
		if (!po->waiting)
			order_done(srv, pp);
		return;
	}
}

/* The parent's order goes to every agent and child we have. */
static int on_parent_action(struct server *srv, const Vnfsec__Action *act)
{
	struct parent_order *po = calloc(1, sizeof(*po));
	struct action_record o;
	struct agent_record *a;
	char target[128];
	int ret;

	if (!po)
		return -ENOMEM;
	srv->stats.parent_orders++;
	order_from_wire(&o, act);
	po->seq = act->seq;
	for (a = srv->agents; a; a = a->next) {
		ret = order_action(srv, a, &o, 0, act->seq,
				   act->assessment_id);
		po->waiting += !ret;
		po->applied += ret == -EALREADY;
	}
	action_target_str(&o, target, sizeof(target));
	log_info("parent ordered %s of %s (its action %llu): sent to %u agents, in force at %u",
		 action_type_name(o.type), target,
		 (unsigned long long)act->seq, po->waiting, po->applied);
	if (!po->waiting) {
		ret = send_result(srv, po->seq,
				  po->applied ? 0 : -ENOTCONN);
		free(po);
		return ret;
	}
	po->deadline = time(NULL) + PARENT_ORDER_WAIT_S;
	po->next = srv->parent->orders;
	srv->parent->orders = po;
	return 0;
}

static int on_parent_frame(struct server *srv, const Vnfsec__Frame *f)
{
	struct incident *inc;

	switch (f->body_case) {
	case VNFSEC__FRAME__BODY_SUMMARY_ACK:
		inc = incident_find(srv, f->summary_ack->incident_id);
		if (inc && f->summary_ack->revision > inc->forwarded &&
		    f->summary_ack->revision <= inc->revision)
			inc->forwarded = f->summary_ack->revision;
		return 0;
	case VNFSEC__FRAME__BODY_ACTION:
		return on_parent_action(srv, f->action);
	default:
		log_warn("parent %s: unexpected message %d; reconnecting",
			 srv->cfg->parent, f->body_case);
		return -EPROTO;
	}
}

void parent_io(struct server *srv, uint32_t events)
{
	struct parent_link *p = srv->parent;
	Vnfsec__Frame *f;
	const char *why;
	int ret, err = 0;
	socklen_t len = sizeof(err);

	if (p->connecting) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(p->conn.fd, SOL_SOCKET, SO_ERROR, &err, &len) ||
		    err)
			return parent_drop(srv, strerror(err ? err : errno));
		p->connecting = false;
	}
	ret = conn_handshake(&p->conn);
	if (ret == -EAGAIN) {
		if (parent_watch(srv, EPOLL_CTL_MOD))
			parent_drop(srv, "cannot watch socket");
		return;
	}
	if (ret)
		return parent_drop(srv, "TLS handshake failed");
	/* Its orders reach every agent below us: it must be a server. */
	if (!p->up &&
	    !(cert_roles(SSL_get0_peer_certificate(p->conn.ssl)) & ROLE_SERVER))
		return parent_drop(srv, "its certificate lacks the vnfsec server role; refused (issue it with tools/mkca)");
	if (!p->up) {
		if (send_hello(srv))
			return parent_drop(srv, "cannot send hello");
		p->up = true;
		p->backoff = 1;
		log_info("connected to parent %s as %s", srv->cfg->parent,
			 p->id);
	}
	while ((ret = conn_recv(&p->conn, &f, &why)) == 0) {
		ret = on_parent_frame(srv, f);
		wire_free(f);
		if (ret)
			return parent_drop(srv, "protocol error");
	}
	if (ret != -EAGAIN)
		return parent_drop(srv, why ? why : "connection ended");
	ret = conn_flush(&p->conn);
	if (ret && ret != -EAGAIN)
		return parent_drop(srv, "write failed");
	parent_push(srv);
}

void parent_tick(struct server *srv, time_t now)
{
	struct parent_link *p = srv->parent;

	struct parent_order **pp;

	if (!p)
		return;
	for (pp = &p->orders; *pp; ) {
		if (now < (*pp)->deadline) {
			pp = &(*pp)->next;
			continue;
		}
		log_warn("parent's action %llu: %u agents did not answer in %d s; telling the parent what the others did",
			 (unsigned long long)(*pp)->seq, (*pp)->waiting,
			 PARENT_ORDER_WAIT_S);
		order_done(srv, pp);
	}
	if (!p->active && now >= p->next_try)
		parent_connect(srv);
	else
		parent_push(srv);
}

void parent_close(struct server *srv)
{
	struct parent_link *p = srv->parent;

	if (!p)
		return;
	if (p->active) {
		epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, p->conn.fd, NULL);
		conn_free(&p->conn);
	}
	while (p->orders) {
		struct parent_order *po = p->orders;

		p->orders = po->next;
		free(po);
	}
	SSL_CTX_free(p->ctx);
	free(p);
	srv->parent = NULL;
}
