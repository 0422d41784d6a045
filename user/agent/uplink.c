// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tunnel to the security server: connect, TLS 1.3 handshake with both
 * certificates checked, hello, then assessments out and acks and actions
 * in. Every assessment is spooled to disk before it is sent and stays
 * there until the server acknowledges it; after a reconnect (or an agent
 * restart) the spool is sent again in order and the server drops the
 * duplicates by id. Reconnects back off exponentially so a dead server is
 * not hammered.
 *
 * --server may name several servers (sharing one PostgreSQL store,
 * docs/deploy.md): the agent connects to the first that answers; when its
 * server fails it moves to the next at once, and only when every one has
 * failed in turn does it wait (backing off) and start again from the
 * first. Its spool goes to whichever server it reaches; the shared store
 * knows what another server stored, so each report is stored once.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "user/agent/detectors.h"
#include "user/agent/actions.h"
#include "user/agent/agent.h"
#include "user/agent/apply.h"
#include "user/agent/enroll.h"
#include "user/agent/spool.h"
#include "user/agent/state.h"
#include "user/common/clock.h"
#include "user/common/log.h"
#include "user/common/netaddr.h"
#include "user/common/roles.h"
#include "user/common/signing.h"

#define BACKOFF_MAX_S 30
/* A server that neither answers nor refuses is given up after this. */
#define CONNECT_TIMEOUT_S 5
#define UPLINK_SERVERS_MAX 16

struct uplink_server {
	char name[64];			/* ADDR:PORT, as given */
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

enum uplink_state {
	UPLINK_IDLE,		/* waiting for the next attempt */
	UPLINK_CONNECTING,	/* TCP connect in progress */
	UPLINK_HANDSHAKE,
	UPLINK_READY,
};

struct uplink {
	const struct agent_config *cfg;
	int epoll_fd;
	struct enforcer *enf;
	struct actions *actions;	/* every type; NULL: blocks only */
	SSL_CTX *tls;			/* NULL until enrolled (--enroll) */
	bool own_tls;			/* made here after enrolling */
	char agent_id[WIRE_AGENT_ID_MAX + 1];
	struct uplink_server servers[UPLINK_SERVERS_MAX];
	unsigned int nr_servers;
	unsigned int cur;		/* the one connected or tried next */
	unsigned int tried;		/* failed in a row since the last hello */
	time_t attempt_started;
	enum uplink_state state;
	struct conn conn;
	unsigned int backoff_s;
	time_t next_attempt;
	unsigned int ticks;
	uint64_t next_id;
	struct spool *spool;		/* unacknowledged assessments */
	unsigned int q_sent;		/* of those, sent on this connection */
	uint64_t q_refused;
	/* With the server's key, only actions it signed are carried out. */
	EVP_PKEY *action_key;
	struct signing_verifier verifier;
	/* Last accepted sequences and bundle policy: sealed or plain. */
	struct agent_store *store;
	/*
	 * With the root key, policy bundles the operator signed are put in
	 * force (docs/trust.md); without, every bundle is refused.
	 */
	EVP_PKEY *bundle_key;
	struct signing_verifier bundle_verifier;
	struct event_ctx *ev;		/* where a bundle's policy goes */
};

static void watch(struct uplink *u, int op)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP,
		.data.u32 = AGENT_EV_UPLINK,
	};

	if (u->state == UPLINK_CONNECTING || conn_wants_write(&u->conn) ||
	    u->state == UPLINK_HANDSHAKE)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(u->epoll_fd, op, u->conn.fd, &ev))
		log_err("uplink: cannot watch socket: %s", strerror(errno));
}

static const char *server_name(const struct uplink *u)
{
	return u->servers[u->cur].name;
}

/*
 * The next server is tried at the next tick; after a whole round of
 * failures, the first again once the backoff has passed.
 */
static void disconnect(struct uplink *u, const char *why)
{
	char was[sizeof(u->servers[0].name)];
	bool round_over;

	snprintf(was, sizeof(was), "%s", server_name(u));
	if (u->conn.fd >= 0) {
		epoll_ctl(u->epoll_fd, EPOLL_CTL_DEL, u->conn.fd, NULL);
		conn_free(&u->conn);
	}
	round_over = ++u->tried >= u->nr_servers;
	u->cur = round_over ? 0 : (u->cur + 1) % u->nr_servers;
	if (u->state == UPLINK_READY && !round_over)
		log_warn("uplink: lost server %s: %s; %u assessments wait in the spool; trying %s",
			 was, why, spool_pending(u->spool), server_name(u));
	else if (u->state == UPLINK_READY)
		log_warn("uplink: lost server %s: %s; %u assessments wait for it in the spool",
			 was, why, spool_pending(u->spool));
	else if (!round_over)
		log_warn("uplink: cannot reach server %s: %s; trying %s",
			 was, why, server_name(u));
	else
		log_warn("uplink: cannot reach server %s: %s; retrying in %u s",
			 was, why, u->backoff_s);
	u->state = UPLINK_IDLE;
	u->q_sent = 0;
	if (!round_over) {
		u->next_attempt = 0;
		return;
	}
	u->tried = 0;
	u->next_attempt = time(NULL) + u->backoff_s;
	u->backoff_s = u->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S :
			u->backoff_s * 2;
}

/*
 * With --enroll, a missing or expiring certificate is renewed with the
 * TPM before connecting (enroll.c), and the TLS context made for it.
 */
static int enroll_if_needed(struct uplink *u)
{
	const struct agent_config *cfg = u->cfg;
	int ret;

	if (!cfg->enroll || (u->tls &&
	    agent_cert_valid(cfg->tls.cert, cfg->tls.key, u->agent_id)))
		return 0;
	ret = agent_enroll(&(struct enroll_opts){
		.tcti = cfg->tpm_tcti, .agent_id = u->agent_id,
		.server = server_name(u), .server_name = cfg->server_name,
		.ca = cfg->tls.ca, .cert = cfg->tls.cert, .key = cfg->tls.key });
	if (ret)
		return ret;
	if (u->own_tls)
		SSL_CTX_free(u->tls);
	u->tls = tls_ctx_new(false, &cfg->tls);
	u->own_tls = u->tls != NULL;
	return u->tls ? 0 : -EINVAL;
}

static void connect_server(struct uplink *u)
{
	struct uplink_server *srv = &u->servers[u->cur];
	int fd;

	if (enroll_if_needed(u)) {
		disconnect(u, "not enrolled");
		return;
	}

	u->attempt_started = time(NULL);
	fd = socket(srv->addr.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		disconnect(u, strerror(errno));
		return;
	}
	u->conn.fd = fd;
	if (connect(fd, (struct sockaddr *)&srv->addr, srv->addrlen) &&
	    errno != EINPROGRESS) {
		disconnect(u, strerror(errno));
		return;
	}
	u->state = UPLINK_CONNECTING;
	watch(u, EPOLL_CTL_ADD);
}

static int send_frame(struct uplink *u, Vnfsec__Frame *f)
{
	f->version = WIRE_VERSION;
	return conn_send(&u->conn, f);
}

/* Pack @a as the payload the spool keeps and the wire carries. */
int uplink_pack_assessment(const struct assessment *a, uint8_t *buf,
			   size_t cap, size_t *len)
{
	/* Named evidence, in wire order; an empty one is not sent. */
	const struct {
		const char *name, *text;
	} named[] = {
		{ "local_action", a->local_action },
		{ "process", a->process },
		{ "l7", a->l7 },
		{ "sample_sha256", a->sample_sha256 },
		{ "posture", a->posture },
		{ "requires_operator", a->requires_operator },
		{ "cause", a->cause },
		{ "mac", a->mac },
	};
	Vnfsec__Assessment m = VNFSEC__ASSESSMENT__INIT;
	Vnfsec__FlowTuple outer = VNFSEC__FLOW_TUPLE__INIT;
	Vnfsec__Tunnel tun = VNFSEC__TUNNEL__INIT;
	uint32_t vlan = a->vlan;
	Vnfsec__Evidence ev[sizeof(named) / sizeof(named[0])];
	Vnfsec__Evidence *evs[sizeof(named) / sizeof(named[0])];
	int family;
	size_t i;

	m.id = a->id;
	m.time_unix_ms = a->time_unix_ms;
	m.heuristic = a->heuristic;
	m.severity = a->severity;
	m.src_addr.data = (uint8_t *)assessment_src(a, &family);
	m.dst_addr.data = (uint8_t *)assessment_dst(a, &family);
	m.src_addr.len = m.dst_addr.len = family == AF_INET6 ? 16 : 4;
	m.dst_port = a->dport;
	m.count = a->count;
	m.src_count = a->src_count;
	m.window_ms = a->window_ms;
	m.threshold = a->threshold;
	m.iface = (char *)a->iface;
	m.fast_path_dropped = a->fast_path_dropped;
	/* 802.1Q ids only: the server refuses others (and the session). */
	if (a->vlan >= 1 && a->vlan <= 4094) {
		m.n_vlan_ids = 1;
		m.vlan_ids = &vlan;
	}
	/* GTP-U: the outer flow and TEID; the addresses above are inner. */
	if (a->tun_family == AF_INET || a->tun_family == AF_INET6) {
		outer.src_addr.data = (uint8_t *)a->tun_saddr;
		outer.dst_addr.data = (uint8_t *)a->tun_daddr;
		outer.src_addr.len = outer.dst_addr.len =
			a->tun_family == AF_INET6 ? 16 : 4;
		outer.src_port = a->tun_sport;
		outer.dst_port = a->tun_dport;
		outer.proto = IPPROTO_UDP;
		tun.outer = &outer;
		tun.teid = a->teid;
		m.tunnel = &tun;
	}
	m.vnf_src = (char *)a->vnf_src;
	m.vnf_dst = (char *)a->vnf_dst;
	m.evidence = evs;
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (!named[i].text[0])
			continue;
		vnfsec__evidence__init(&ev[m.n_evidence]);
		ev[m.n_evidence].name = (char *)named[i].name;
		ev[m.n_evidence].text = (char *)named[i].text;
		evs[m.n_evidence] = &ev[m.n_evidence];
		m.n_evidence++;
	}
	*len = vnfsec__assessment__get_packed_size(&m);
	if (*len > cap)
		return -EMSGSIZE;
	vnfsec__assessment__pack(&m, buf);
	return 0;
}

static int send_assessment(struct uplink *u, const struct spool_record *r)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	int ret;

	f.assessment = vnfsec__assessment__unpack(NULL, r->len, r->data);
	if (!f.assessment) {
		/* The CRC matched, so this is our own bug: say so, go on. */
		log_err("uplink: spooled assessment %llu does not decode; skipping it",
			(unsigned long long)r->id);
		return 0;
	}
	f.body_case = VNFSEC__FRAME__BODY_ASSESSMENT;
	ret = send_frame(u, &f);
	vnfsec__assessment__free_unpacked(f.assessment, NULL);
	return ret;
}

/* Send whatever the server has not seen on this connection. */
static int send_pending(struct uplink *u)
{
	int ret;

	while (u->q_sent < spool_pending(u->spool)) {
		ret = send_assessment(u, spool_get(u->spool, u->q_sent));
		if (ret)
			return ret;
		u->q_sent++;
	}
	return 0;
}

static int on_established(struct uplink *u)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Hello hello = VNFSEC__HELLO__INIT;
	int ret;

	/* Its orders change our fast path: it must be a server's cert. */
	if (!(cert_roles(SSL_get0_peer_certificate(u->conn.ssl)) &
	      ROLE_SERVER)) {
		log_err("uplink: server %s's certificate lacks the vnfsec server role; refused (issue it with tools/mkca)",
			server_name(u));
		return -EACCES;
	}
	hello.agent_id = u->agent_id;
	hello.bpf_abi_version = VNFSEC_ABI_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_HELLO;
	f.hello = &hello;
	ret = send_frame(u, &f);
	if (ret)
		return ret;
	u->state = UPLINK_READY;
	u->backoff_s = 1;
	u->tried = 0;
	log_info("uplink: connected to server %s as %s (TLS 1.3, certificates verified); %u spooled assessments to send",
		 server_name(u), u->agent_id, spool_pending(u->spool));
	return send_pending(u);
}

static void on_ack(struct uplink *u, uint64_t id)
{
	unsigned int before = spool_pending(u->spool), gone;

	/* Acks come in order: everything up to @id has arrived. */
	if (spool_ack(u->spool, id))
		return;
	gone = before - spool_pending(u->spool);
	u->q_sent -= gone < u->q_sent ? gone : u->q_sent;
}

static int on_action(struct uplink *u, const Vnfsec__Action *act)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__ActionResult r = VNFSEC__ACTION_RESULT__INIT;
	uint32_t addr;

	r.seq = act->seq;
	if (u->actions) {
		r.status = actions_apply(u->actions, act);
	} else if (act->type == VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE &&
		   act->src_addr.len == 4) {
		memcpy(&addr, act->src_addr.data, sizeof(addr));
		r.status = enforcer_block(u->enf, addr, act->prefix_len,
					  act->ttl_s, act->seq,
					  VNFSEC_BLOCK_SERVER_ACTION);
	} else {
		r.status = -EOPNOTSUPP;
	}
	f.body_case = VNFSEC__FRAME__BODY_ACTION_RESULT;
	f.action_result = &r;
	return send_frame(u, &f);
}

void uplink_set_actions(struct uplink *u, struct actions *a)
{
	u->actions = a;
}

void uplink_set_policy(struct uplink *u, struct event_ctx *ev)
{
	u->ev = ev;
}

static int send_action_result(struct uplink *u, uint64_t seq, int status);

static int on_plain_action(struct uplink *u, const Vnfsec__Action *act)
{
	if (!u->action_key)
		return on_action(u, act);
	log_warn("uplink: refused unsigned action %llu: this agent carries out only actions signed by %s (--action-key)",
		 (unsigned long long)act->seq, u->verifier.issuer);
	return send_action_result(u, act->seq, -ENOKEY);
}

static int send_action_result(struct uplink *u, uint64_t seq, int status)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__ActionResult r = VNFSEC__ACTION_RESULT__INIT;

	r.seq = seq;
	r.status = status;
	f.body_case = VNFSEC__FRAME__BODY_ACTION_RESULT;
	f.action_result = &r;
	return send_frame(u, &f);
}

/*
 * Its sequence is recorded (sealed with the TPM) before it is carried
 * out: a restart must not reopen the replay window, so an action whose
 * sequence cannot be recorded is not carried out.
 */
static int on_signed_action(struct uplink *u, const Vnfsec__SignedAction *sa)
{
	struct agent_state *st = agent_store_state(u->store);
	VnfsecSigned__Body *body;
	Vnfsec__Action *act;
	const char *why;
	int ret;

	if (!u->action_key) {
		log_warn("uplink: the server signs its actions but this agent has no --action-key to check them; ignored");
		return 0;
	}
	ret = signing_verify(&u->verifier, sa->envelope.data, sa->envelope.len,
			     time(NULL), &body, &why);
	if (ret) {
		log_warn("uplink: refused a signed action: %s", why);
		return 0;
	}
	st->action_seq = u->verifier.last_sequence;
	act = vnfsec__action__unpack(NULL, body->payload.len,
				     body->payload.data);
	why = act ? wire_check_action(act) : "payload is not an action";
	if (why) {
		/* Its sequence is spent all the same (logged if not saved). */
		log_warn("uplink: refused a signed action: %s", why);
		agent_store_save(u->store);
	} else if ((ret = agent_store_save(u->store))) {
		log_err("uplink: signed action %llu not carried out: its sequence could not be recorded (%s)",
			(unsigned long long)act->seq, strerror(-ret));
		ret = send_action_result(u, act->seq, ret);
	} else {
		ret = on_action(u, act);
	}
	if (act)
		vnfsec__action__free_unpacked(act, NULL);
	signing_body_free(body);
	return ret;
}

static int send_bundle_result(struct uplink *u, uint64_t seq, int status,
			      const char *why)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__BundleResult r = VNFSEC__BUNDLE_RESULT__INIT;
	char reason[WIRE_TEXT_MAX + 1];

	snprintf(reason, sizeof(reason), "%s", why ? why : "");
	r.seq = seq;
	r.status = status;
	r.reason = reason;
	r.revision = u->ev ? agent_policy_revision(u->ev) : 0;
	f.body_case = VNFSEC__FRAME__BODY_BUNDLE_RESULT;
	f.bundle_result = &r;
	return send_frame(u, &f);
}

/*
 * A policy the operator signed offline with the root key: verified
 * (signature, issuer "root", this agent as target, sequence above every
 * bundle accepted before, not expired), its sequence and its policy
 * recorded before it is applied so that it can never be replayed and a
 * restart puts it back in force, then applied as a policy file would be.
 * Every refusal is logged and answered with its reason.
 */
static int on_policy_bundle(struct uplink *u, const Vnfsec__PolicyBundle *pb)
{
	struct agent_state *st = agent_store_state(u->store);
	struct agent_state old = *st;
	struct policy_diag diag = {};
	VnfsecSigned__Body *body;
	char name[64];
	const char *why;
	int ret;

	if (!u->bundle_key || !u->ev) {
		why = "this agent has no --bundle-key to check it";
		log_warn("uplink: refused a policy bundle: %s", why);
		return send_bundle_result(u, 0, -ENOKEY, why);
	}
	ret = signing_verify(&u->bundle_verifier, pb->envelope.data,
			     pb->envelope.len, time(NULL), &body, &why);
	if (ret) {
		log_warn("uplink: refused a policy bundle: %s", why);
		return send_bundle_result(u, 0, ret, why);
	}
	st->bundle_seq = u->bundle_verifier.last_sequence;
	/* Keep the policy in force until the new one is. */
	st->policy = NULL;
	ret = agent_state_set_policy(st, body->sequence, body->payload.data,
				     body->payload.len);
	if (!ret)
		ret = agent_store_save(u->store);
	if (ret) {
		free(st->policy);
		st->policy = old.policy;
		st->policy_len = old.policy_len;
		st->policy_bundle_seq = old.policy_bundle_seq;
		why = "its sequence could not be recorded; not applied";
		log_err("uplink: policy bundle %llu: %s (%s)",
			(unsigned long long)body->sequence, why,
			strerror(-ret));
		ret = send_bundle_result(u, body->sequence, ret, why);
		signing_body_free(body);
		return ret;
	}
	snprintf(name, sizeof(name), "bundle-%llu",
		 (unsigned long long)body->sequence);
	ret = agent_policy_apply_buf(u->ev, name,
				     (const char *)body->payload.data,
				     body->payload.len, &diag);
	if (ret) {
		why = diag.n ? diag.lines[0] : strerror(-ret);
		log_warn("uplink: refused policy bundle %llu: its policy does not apply: %s",
			 (unsigned long long)body->sequence, why);
		/* Its sequence is spent; the policy in force stays. */
		free(st->policy);
		st->policy = old.policy;
		st->policy_len = old.policy_len;
		st->policy_bundle_seq = old.policy_bundle_seq;
		old.policy = NULL;
		agent_store_save(u->store);
	} else {
		why = NULL;
		log_info("uplink: policy bundle %llu signed by the root key is in force (revision %llu)",
			 (unsigned long long)body->sequence,
			 (unsigned long long)agent_policy_revision(u->ev));
	}
	free(old.policy);
	ret = send_bundle_result(u, body->sequence, ret, why);
	policy_diag_free(&diag);
	signing_body_free(body);
	return ret;
}

/* A detector bundle: detectors.c judges it; the answer goes back. */
static int on_detector_bundle(struct uplink *u,
			      const Vnfsec__DetectorBundle *db)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__DetectorResult r = VNFSEC__DETECTOR_RESULT__INIT;
	char name[32], digest[72], why[WIRE_TEXT_MAX + 1];
	uint64_t version;

	if (!u->ev || !u->ev->detectors) {
		snprintf(why, sizeof(why), "detectors are not available on this agent");
		name[0] = digest[0] = 0;
		version = 0;
		r.status = -ENODEV;
	} else {
		r.status = detectors_accept(u->ev->detectors,
					    db->envelope.data,
					    db->envelope.len, name,
					    sizeof(name), &version, digest,
					    sizeof(digest), why, sizeof(why));
	}
	r.name = name;
	r.version = version;
	r.reason = why;
	r.digest = digest;
	f.body_case = VNFSEC__FRAME__BODY_DETECTOR_RESULT;
	f.detector_result = &r;
	return send_frame(u, &f);
}

static int on_frame(struct uplink *u, const Vnfsec__Frame *f)
{
	switch (f->body_case) {
	case VNFSEC__FRAME__BODY_ACK:
		on_ack(u, f->ack->assessment_id);
		return 0;
	case VNFSEC__FRAME__BODY_ACTION:
		return on_plain_action(u, f->action);
	case VNFSEC__FRAME__BODY_SIGNED_ACTION:
		return on_signed_action(u, f->signed_action);
	case VNFSEC__FRAME__BODY_QUOTE_REQUEST:
		return agent_answer_quote(u->cfg->tpm_tcti, &u->conn,
					  f->quote_request);
	case VNFSEC__FRAME__BODY_POLICY_BUNDLE:
		return on_policy_bundle(u, f->policy_bundle);
	case VNFSEC__FRAME__BODY_DETECTOR_BUNDLE:
		return on_detector_bundle(u, f->detector_bundle);
	default:
		log_warn("uplink: server sent unexpected message %d; reconnecting",
			 f->body_case);
		return -EPROTO;
	}
}

static void read_frames(struct uplink *u)
{
	Vnfsec__Frame *f;
	const char *why;
	int ret;

	while ((ret = conn_recv(&u->conn, &f, &why)) == 0) {
		ret = on_frame(u, f);
		wire_free(f);
		if (ret) {
			disconnect(u, strerror(-ret));
			return;
		}
	}
	if (ret != -EAGAIN) {
		if (why)
			log_warn("uplink: bad frame from server: %s", why);
		disconnect(u, why ? "bad frame" : strerror(-ret));
	}
}

void uplink_io(struct uplink *u, uint32_t events)
{
	int err = 0, ret;
	socklen_t len = sizeof(err);

	if (u->state == UPLINK_CONNECTING) {
		if (getsockopt(u->conn.fd, SOL_SOCKET, SO_ERROR, &err, &len) ||
		    err) {
			disconnect(u, strerror(err ? err : errno));
			return;
		}
		if (conn_init(&u->conn, u->tls, u->conn.fd,
			      u->cfg->server_name)) {
			disconnect(u, "TLS set-up failed");
			return;
		}
		u->state = UPLINK_HANDSHAKE;
	}
	if (u->state == UPLINK_HANDSHAKE) {
		ret = conn_handshake(&u->conn);
		if (ret == -EAGAIN) {
			watch(u, EPOLL_CTL_MOD);
			return;
		}
		if (ret || on_established(u)) {
			disconnect(u, "TLS handshake failed (check the CA, the server name and the certificates)");
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		read_frames(u);
		if (u->state != UPLINK_READY)
			return;
	}
	ret = conn_flush(&u->conn);
	if (ret && ret != -EAGAIN) {
		disconnect(u, strerror(-ret));
		return;
	}
	watch(u, EPOLL_CTL_MOD);
}

int uplink_submit(struct uplink *u, struct assessment *a)
{
	uint8_t buf[SPOOL_RECORD_MAX];
	size_t len;
	int ret;

	a->id = ++u->next_id;
	ret = uplink_pack_assessment(a, buf, sizeof(buf), &len);
	if (!ret)
		ret = spool_append(u->spool, a->id, buf, len);
	if (ret) {
		/* Counted and said, never silent; the bound is the operator's. */
		if (!u->q_refused++ || ret != -ENOSPC)
			log_err("uplink: cannot spool assessment %llu: %s (%u await the server, %zu bytes); raise --spool-max-mb or bring the server back",
				(unsigned long long)a->id, strerror(-ret),
				spool_pending(u->spool), spool_bytes(u->spool));
		return ret;
	}
	if (u->state != UPLINK_READY)
		return 0;
	ret = send_pending(u);
	if (ret) {
		disconnect(u, strerror(-ret));
		return 0;
	}
	watch(u, EPOLL_CTL_MOD);
	return 0;
}

static void heartbeat(struct uplink *u, const struct sensor *s)
{
	static const char *const names[] = VNFSEC_COUNTER_NAMES;
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Heartbeat hb = VNFSEC__HEARTBEAT__INIT;
	Vnfsec__DropCount dc[WIRE_DROP_CAUSES_MAX], *dcs[WIRE_DROP_CAUSES_MAX];
	unsigned int i;
	int ret;

	hb.time_unix_ms = clock_wall_ms();
	sensor_counter(s, VNFSEC_CNT_RINGBUF_FULL, &hb.ringbuf_lost);
	sensor_counter(s, VNFSEC_CNT_DROP_BLOCKLIST, &hb.dropped_packets);
	hb.spool_pending = spool_pending(u->spool);
	/* Every drop_* counter: the server's metrics, per cause. */
	hb.drops = dcs;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) &&
		    hb.n_drops < WIRE_DROP_CAUSES_MAX; i++) {
		Vnfsec__DropCount *d = &dc[hb.n_drops];

		if (strncmp(names[i], "drop_", 5))
			continue;
		vnfsec__drop_count__init(d);
		d->cause = (char *)names[i];
		if (!sensor_counter(s, i, &d->packets))
			dcs[hb.n_drops++] = d;
	}
	f.body_case = VNFSEC__FRAME__BODY_HEARTBEAT;
	f.heartbeat = &hb;
	ret = send_frame(u, &f);
	if (ret)
		disconnect(u, strerror(-ret));
	else
		watch(u, EPOLL_CTL_MOD);
}

bool uplink_connected(const struct uplink *u)
{
	return u->state == UPLINK_READY;
}

unsigned int uplink_pending(const struct uplink *u)
{
	return spool_pending(u->spool);
}

void uplink_tick(struct uplink *u, const struct sensor *s)
{
	u->ticks++;
	if (u->state == UPLINK_IDLE && time(NULL) >= u->next_attempt)
		connect_server(u);
	else if ((u->state == UPLINK_CONNECTING ||
		  u->state == UPLINK_HANDSHAKE) &&
		 time(NULL) - u->attempt_started >= CONNECT_TIMEOUT_S)
		disconnect(u, "no answer in time");
	else if (u->state == UPLINK_READY &&
		 u->ticks % u->cfg->heartbeat_s == 0)
		heartbeat(u, s);
}

/* "A:P,B:Q": the servers in the order they are tried. */
static int parse_servers(struct uplink *u, const char *list)
{
	const char *p = list, *end;
	struct uplink_server *s;
	size_t n;

	for (; *p; p = *end ? end + 1 : end) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		n = end - p;
		if (!n)
			continue;
		if (u->nr_servers == UPLINK_SERVERS_MAX ||
		    n >= sizeof(s->name)) {
			log_err("--server: at most %d servers of ADDR:PORT each",
				UPLINK_SERVERS_MAX);
			return -EINVAL;
		}
		s = &u->servers[u->nr_servers];
		memcpy(s->name, p, n);
		s->name[n] = '\0';
		if (netaddr_parse(s->name, &s->addr, &s->addrlen, "--server"))
			return -EINVAL;
		u->nr_servers++;
	}
	if (!u->nr_servers) {
		log_err("--server: no ADDR:PORT given");
		return -EINVAL;
	}
	return 0;
}

int uplink_server_add(const char **list, const char *server)
{
	/* The list so far: lives as long as the configuration, as optarg. */
	static char *joined;
	char *longer;

	if (!*list) {
		*list = server;
		return 0;
	}
	if (asprintf(&longer, "%s,%s", *list, server) < 0) {
		log_err("--server: out of memory");
		return -ENOMEM;
	}
	free(joined);
	joined = longer;
	*list = joined;
	return 0;
}

struct uplink *uplink_new(const struct agent_config *cfg, int epoll_fd,
			  struct enforcer *enf, SSL_CTX *tls,
			  const char *agent_id, struct agent_store *store)
{
	struct uplink *u = calloc(1, sizeof(*u));
	struct timespec now;
	uint64_t floor_id;

	if (!u)
		return NULL;
	if (parse_servers(u, cfg->server) ||
	    spool_open(cfg->spool_dir, (size_t)cfg->spool_max_mb << 20,
		       &u->spool)) {
		free(u);
		return NULL;
	}
	if (cfg->action_key) {
		u->action_key = signing_key_load(cfg->action_key, false);
		if (!u->action_key) {
			spool_close(u->spool);
			free(u);
			return NULL;
		}
		u->verifier.trusted = u->action_key;
		u->verifier.issuer = cfg->action_issuer ?: cfg->server_name;
		u->verifier.self = u->agent_id;
		u->verifier.last_sequence =
			agent_store_state(store)->action_seq;
	}
	if (cfg->bundle_key) {
		u->bundle_key = signing_key_load(cfg->bundle_key, false);
		if (!u->bundle_key) {
			EVP_PKEY_free(u->action_key);
			spool_close(u->spool);
			free(u);
			return NULL;
		}
		u->bundle_verifier.trusted = u->bundle_key;
		u->bundle_verifier.issuer = "root";
		u->bundle_verifier.self = u->agent_id;
		/* Apart from actions': another issuer, another sequence. */
		u->bundle_verifier.last_sequence =
			agent_store_state(store)->bundle_seq;
	}
	u->cfg = cfg;
	u->store = store;
	u->epoll_fd = epoll_fd;
	u->enf = enf;
	u->tls = tls;
	snprintf(u->agent_id, sizeof(u->agent_id), "%s", agent_id);
	u->conn.fd = -1;
	u->backoff_s = 1;
	/*
	 * The server drops an id it has seen from this agent, so ids must
	 * keep growing across restarts: continue from the spool, and from
	 * the wall clock in us should the spool have been wiped.
	 */
	clock_gettime(CLOCK_REALTIME, &now);
	floor_id = (uint64_t)now.tv_sec * 1000000ULL + now.tv_nsec / 1000;
	u->next_id = spool_last_id(u->spool);
	if (u->next_id < floor_id)
		u->next_id = floor_id;
	if (spool_pending(u->spool))
		log_info("uplink: %u assessments from before the restart wait in the spool",
			 spool_pending(u->spool));
	/* Enrolling blocks: leave it to the first tick, once all is up. */
	if (!cfg->enroll)
		connect_server(u);
	return u;
}

void uplink_free(struct uplink *u)
{
	if (!u)
		return;
	if (u->conn.fd >= 0)
		conn_free(&u->conn);
	if (spool_pending(u->spool))
		log_warn("uplink: exiting with %u unacknowledged assessments kept in the spool for the next start",
			 spool_pending(u->spool));
	spool_close(u->spool);
	EVP_PKEY_free(u->action_key);
	EVP_PKEY_free(u->bundle_key);
	if (u->own_tls)
		SSL_CTX_free(u->tls);
	free(u);
}
