// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsec-agentsim: N real agents over mutually authenticated TLS 1.3 from
 * one process, for the server's tests and benchmarks. Each agent gets its
 * own certificate (CN sim-NNNNN), made here and signed with the test CA's
 * key, sends a hello and a stream of SYN-flood assessments, answers every
 * action (plain, or signed: then taken out of its envelope unverified) as
 * the agent would, and the run ends with one line of figures:
 * assessments per second and assessment -> action latency.
 *
 *   vnfsec-agentsim --server ADDR:PORT --ca ca.pem --ca-key ca.key
 *                   [--agents N] [--assessments M] [--sources K]
 *                   [--window W] [--rate R] [--warmup S] [--server-pid PID]
 *                   [--timeout S] [--churn PCT] [--kill PCT]
 *
 * --sources K spreads the reports over K attacker addresses (0: a new one
 * for each report, so that each orders an action and is timed); --rate
 * paces all agents together at R assessments a second, handing the
 * budget out one report per agent in turn. With --warmup S a second line
 * gives the steady state: the rate of acks and the latencies of the
 * reports sent from S seconds after the start until the last report was
 * sent, so start-up and the tail's drain do not colour them; with
 * --server-pid also the server's CPU time per assessment in that window
 * (from /proc/PID/schedstat), the figure a shared machine cannot blur.
 *
 * --churn PCT and --kill PCT (a soak, tools/soak): each minute once the
 * reports flow, PCT % of the agents close their session cleanly
 * (close_notify), and PCT % vanish without it (as a killed process: FIN
 * or RST); both reconnect at once and resend what was not acknowledged.
 * A session the server ends on its own counts as failed (a healthy
 * session dropped); actions are counted once per sequence number, and
 * one seen again is counted as resent.
 *
 * Exit 0 when every agent connected, every assessment was acknowledged
 * and every agent got its block; 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "user/common/evloop.h"
#include "user/common/log.h"
#include "user/common/netaddr.h"
#include "user/common/roles.h"
#include "user/common/signed.pb-c.h"
#include "user/common/tls.h"

#define HANDSHAKES_MAX 64	/* in flight: the server's backlog is finite */
#define CONNECT_TRIES	10	/* a connection refused: tried again, as an
				 * agent does, 200 ms more each time */

struct sim_agent {
	struct conn conn;
	char id[32];
	X509 *cert;
	bool connecting, up, done, ever_up;
	bool counted;			/* in sim->in_flight */
	uint64_t next_id, acked, actions;
	uint64_t last_seq, resent;	/* actions by sequence number */
	unsigned int tries;		/* connection attempts refused */
	uint64_t retry_ns;		/* when to try again, 0: not */
	uint64_t *sent_ns;	/* per assessment id, for latency */
};

struct sim {
	const char *server, *ca, *ca_key;
	unsigned int agents, assessments, sources, window, timeout_s, rate;
	int64_t budget;		/* assessments the --rate allows now */
	uint64_t sent, unique;	/* sent in all; sources handed out */
	unsigned int rr;	/* next agent to top up under --rate */
	struct sim_agent *a;
	SSL_CTX *ctx;
	EVP_PKEY *key;		/* one key for all: a simulator's shortcut */
	int epfd;
	unsigned int in_flight, connected, failed;
	uint64_t t_go;		/* when every agent was connected */
	double *lat_ms;
	size_t nr_lat;
	/* The steady window: from t_go + warmup to the last report sent. */
	unsigned int warmup_s;
	uint64_t t_steady, t_last_sent;
	uint64_t acked, acked_at_steady, acked_at_last;
	double *steady_ms;
	size_t nr_steady;
	/* --server-pid: the server's CPU time over the steady window. */
	unsigned int server_pid;
	/* --churn / --kill: per minute, in percent of the agents. */
	unsigned int churn_pct, kill_pct;
	uint64_t churned, killed, t_churn;
	uint64_t retries;		/* connections refused, tried again */
	uint64_t cpu_at_steady, cpu_at_last;
	uint64_t self_at_steady, self_at_last;	/* ours, likewise */
	uint64_t wait_at_steady, wait_at_last;	/* the server's run-queue waits */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * CPU time the process has used, in ns (/proc/PID/schedstat), so that a
 * run on a shared machine still tells what the server costs per report.
 */
static uint64_t sched_ns(unsigned int pid, bool waited)
{
	unsigned long long ns = 0, wait_ns = 0;
	char path[64];
	FILE *f;

	if (!pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/schedstat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &ns, &wait_ns) != 2)
		ns = wait_ns = 0;
	fclose(f);
	return waited ? wait_ns : ns;
}

static uint64_t cpu_ns(unsigned int pid)
{
	return sched_ns(pid, false);
}

/* Runnable but not running: the CPU was busy with other work. */
static uint64_t wait_ns(unsigned int pid)
{
	return sched_ns(pid, true);
}

static X509 *make_cert(struct sim *sim, X509 *ca, EVP_PKEY *ca_key,
		       const char *cn, long serial)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509_EXTENSION *ext;
	X509V3_CTX v3;

	if (!x)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, sim->key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(ca));
	X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
	/* The agent role: a server refuses a client cert without one. */
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage,
				  "clientAuth," VNFSEC_OID_AGENT);
	if (ext) {
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (!X509_sign(x, ca_key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int load_ca(struct sim *sim, X509 **ca, EVP_PKEY **ca_key)
{
	FILE *f = fopen(sim->ca, "r");

	*ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	f = fopen(sim->ca_key, "r");
	*ca_key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!*ca || !*ca_key) {
		log_err("cannot read the CA certificate %s and key %s",
			sim->ca, sim->ca_key);
		return -EINVAL;
	}
	return 0;
}

static int setup(struct sim *sim)
{
	X509 *ca;
	EVP_PKEY *ca_key;
	unsigned int i;
	int ret;

	ret = load_ca(sim, &ca, &ca_key);
	if (ret)
		return ret;
	sim->key = EVP_EC_gen("P-256");
	sim->ctx = SSL_CTX_new(TLS_client_method());
	sim->a = calloc(sim->agents, sizeof(*sim->a));
	sim->lat_ms = calloc((size_t)sim->agents * sim->assessments + 1,
			     sizeof(double));
	sim->steady_ms = calloc((size_t)sim->agents * sim->assessments + 1,
				sizeof(double));
	if (!sim->key || !sim->ctx || !sim->a || !sim->lat_ms ||
	    !sim->steady_ms ||
	    !SSL_CTX_set_min_proto_version(sim->ctx, TLS1_3_VERSION) ||
	    SSL_CTX_load_verify_locations(sim->ctx, sim->ca, NULL) != 1) {
		log_err("cannot set up TLS for the simulated agents");
		ret = -ENOMEM;
		goto out;
	}
	SSL_CTX_set_verify(sim->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(sim->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	for (i = 0; i < sim->agents; i++) {
		struct sim_agent *a = &sim->a[i];

		snprintf(a->id, sizeof(a->id), "sim-%05u", i);
		a->cert = make_cert(sim, ca, ca_key, a->id, 1000 + i);
		a->sent_ns = calloc(sim->assessments + 1, sizeof(uint64_t));
		a->conn.fd = -1;
		if (!a->cert || !a->sent_ns) {
			log_err("cannot make a certificate for %s", a->id);
			ret = -ENOMEM;
			goto out;
		}
	}
out:
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return ret;
}

static int watch(struct sim *sim, struct sim_agent *a, int op)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (a->connecting || !a->conn.established ||
				     conn_wants_write(&a->conn) ? EPOLLOUT : 0),
		.data.ptr = a,
	};

	return epoll_ctl(sim->epfd, op, a->conn.fd, &ev);
}

/*
 * A session that was up and ended by the server is a failure (a healthy
 * session dropped); a connection refused or cut before its session was
 * up is tried again later, as a real agent does (a server may bound the
 * handshakes one address has in progress, and all of ours share one).
 */
static void fail(struct sim *sim, struct sim_agent *a, const char *why)
{
	if (a->counted)
		sim->in_flight--;
	a->counted = false;
	if (a->conn.ssl)
		epoll_ctl(sim->epfd, EPOLL_CTL_DEL, a->conn.fd, NULL);
	conn_free(&a->conn);
	if (!a->up && a->tries < CONNECT_TRIES) {
		a->tries++;
		a->retry_ns = now_ns() + a->tries * 200000000ULL;
		sim->retries++;
		return;
	}
	log_warn("%s: %s", a->id, why);
	a->done = true;
	sim->failed++;
}

static int start(struct sim *sim, struct sim_agent *a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (netaddr_parse(sim->server, &ss, &len, "--server"))
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS) {
		close(fd);
		return -errno;
	}
	if (conn_init(&a->conn, sim->ctx, fd, "vnfsec-server") ||
	    SSL_use_certificate(a->conn.ssl, a->cert) != 1 ||
	    SSL_use_PrivateKey(a->conn.ssl, sim->key) != 1) {
		conn_free(&a->conn);	/* closes fd */
		return -EIO;
	}
	a->connecting = true;
	a->counted = true;
	sim->in_flight++;
	return watch(sim, a, EPOLL_CTL_ADD) ? -errno : 0;
}

static int send_hello(struct sim_agent *a)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Hello h = VNFSEC__HELLO__INIT;

	h.agent_id = a->id;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_HELLO;
	f.hello = &h;
	return conn_send(&a->conn, &f);
}

/*
 * Keep up to --window assessments unacknowledged per agent, sending at
 * most @max now.
 */
static int send_more(struct sim *sim, struct sim_agent *a, unsigned int idx,
		     unsigned int max)
{
	uint8_t src[4] = { 198, 18, 0, 0 }, dst[4] = { 10, 66, 0, 1 };
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Assessment m = VNFSEC__ASSESSMENT__INIT;
	unsigned int s = sim->sources ? idx % sim->sources : 0;
	int ret;

	src[2] = s >> 8;
	src[3] = s & 0xff;
	while (a->next_id <= sim->assessments &&
	       a->next_id - a->acked <= sim->window && sim->budget > 0 &&
	       max--) {
		/* --sources 0: each report a new source, so each an action. */
		if (!sim->sources) {
			uint64_t u = ++sim->unique;

			src[0] = 10;
			src[1] = u >> 16;
			src[2] = u >> 8;
			src[3] = u;
		}
		m.id = a->next_id;
		m.time_unix_ms = (uint64_t)time(NULL) * 1000;
		m.heuristic = VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD;
		m.severity = 6;
		m.src_addr.data = src;
		m.src_addr.len = 4;
		m.dst_addr.data = dst;
		m.dst_addr.len = 4;
		m.dst_port = 80;
		m.count = 1000;
		m.src_count = 900;
		m.window_ms = 1000;
		m.threshold = 500;
		m.iface = "sim0";
		f.version = WIRE_VERSION;
		f.body_case = VNFSEC__FRAME__BODY_ASSESSMENT;
		f.assessment = &m;
		a->sent_ns[a->next_id] = now_ns();
		ret = conn_send(&a->conn, &f);
		if (ret)
			return ret;
		a->next_id++;
		sim->sent++;
		sim->budget--;
		if (sim->sent == (uint64_t)sim->agents * sim->assessments) {
			sim->t_last_sent = a->sent_ns[m.id];
			sim->acked_at_last = sim->acked;
			sim->cpu_at_last = cpu_ns(sim->server_pid);
			sim->self_at_last = cpu_ns(getpid());
			sim->wait_at_last = wait_ns(sim->server_pid);
		}
	}
	return 0;
}

/* Under --rate, hand the budget out round-robin. */
static void top_up(struct sim *sim)
{
	uint64_t allowed;
	unsigned int n;

	if (!sim->rate || !sim->t_go)
		return;
	allowed = (now_ns() - sim->t_go) * sim->rate / 1000000000ULL;
	sim->budget = allowed > sim->sent ? (int64_t)(allowed - sim->sent) : 0;
	/* One report per agent in turn: no agent sends its window at once. */
	for (n = 0; n < sim->agents && sim->budget > 0; n++) {
		struct sim_agent *a = &sim->a[sim->rr];
		unsigned int idx = sim->rr;

		sim->rr = (sim->rr + 1) % sim->agents;
		if (a->done || !a->up)
			continue;
		if (send_more(sim, a, idx, 1))
			fail(sim, a, "cannot send");
		else
			watch(sim, a, EPOLL_CTL_MOD);
	}
}

/*
 * Every agent connected: the streams start together, so the figures
 * measure assessments, not handshakes queued behind each other.
 */
static void go(struct sim *sim)
{
	unsigned int i;

	sim->t_go = now_ns();
	if (sim->rate)
		return top_up(sim);
	for (i = 0; i < sim->agents; i++) {
		struct sim_agent *a = &sim->a[i];

		if (a->done)
			continue;
		if (send_more(sim, a, i, UINT_MAX)) {
			fail(sim, a, "cannot send");
			continue;
		}
		conn_flush(&a->conn);
		watch(sim, a, EPOLL_CTL_MOD);
	}
}

/* Time it by the report that caused it, and answer as an agent would. */
static int on_action(struct sim *sim, struct sim_agent *a,
		     const Vnfsec__Action *act)
{
	Vnfsec__Frame out = VNFSEC__FRAME__INIT;
	Vnfsec__ActionResult r = VNFSEC__ACTION_RESULT__INIT;
	uint64_t cause = act->assessment_id;

	/* Sent again after a reconnect: answered again, counted once. */
	if (act->seq && act->seq <= a->last_seq) {
		a->resent++;
		goto answer;
	}
	if (act->seq)
		a->last_seq = act->seq;
	if (cause && cause <= sim->assessments && a->sent_ns[cause]) {
		uint64_t t = a->sent_ns[cause];
		double ms = (now_ns() - t) / 1e6;

		sim->lat_ms[sim->nr_lat++] = ms;
		if (sim->t_steady && t >= sim->t_steady &&
		    (!sim->t_last_sent || t <= sim->t_last_sent))
			sim->steady_ms[sim->nr_steady++] = ms;
	}
	a->actions++;
answer:
	r.seq = act->seq;
	out.version = WIRE_VERSION;
	out.body_case = VNFSEC__FRAME__BODY_ACTION_RESULT;
	out.action_result = &r;
	return conn_send(&a->conn, &out);
}

/*
 * The action inside a signed one, its signature not checked: verifying
 * costs the simulator as much as signing costs the server, and this is
 * the server's benchmark (the agent's checks have their own tests).
 */
static Vnfsec__Action *signed_payload(const Vnfsec__SignedAction *sa)
{
	VnfsecSigned__Envelope *env;
	VnfsecSigned__Body *body = NULL;
	Vnfsec__Action *act = NULL;

	env = vnfsec_signed__envelope__unpack(NULL, sa->envelope.len,
					      sa->envelope.data);
	if (env)
		body = vnfsec_signed__body__unpack(NULL, env->body.len,
						   env->body.data);
	if (body)
		act = vnfsec__action__unpack(NULL, body->payload.len,
					     body->payload.data);
	if (body)
		vnfsec_signed__body__free_unpacked(body, NULL);
	if (env)
		vnfsec_signed__envelope__free_unpacked(env, NULL);
	return act;
}

static int on_frame(struct sim *sim, struct sim_agent *a, unsigned int idx,
		    const Vnfsec__Frame *f)
{
	Vnfsec__Action *signed_act;
	int ret;

	switch (f->body_case) {
	case VNFSEC__FRAME__BODY_SIGNED_ACTION:
		signed_act = signed_payload(f->signed_action);
		if (!signed_act)
			return -EBADMSG;
		ret = on_action(sim, a, signed_act);
		vnfsec__action__free_unpacked(signed_act, NULL);
		return ret;
	case VNFSEC__FRAME__BODY_ACK:
		if (f->ack->assessment_id > a->acked) {
			sim->acked += f->ack->assessment_id - a->acked;
			a->acked = f->ack->assessment_id;
		}
		/* Under --rate the budget, not the window, sets the pace. */
		return send_more(sim, a, idx, sim->rate ? 1 : UINT_MAX);
	case VNFSEC__FRAME__BODY_ACTION:
		return on_action(sim, a, f->action);
	default:
		return -EPROTO;
	}
}

static void io(struct sim *sim, struct sim_agent *a, uint32_t events)
{
	unsigned int idx = a - sim->a;
	Vnfsec__Frame *f;
	const char *why;
	int ret, err = 0;
	socklen_t len = sizeof(err);

	if (a->connecting) {
		if (getsockopt(a->conn.fd, SOL_SOCKET, SO_ERROR, &err, &len) ||
		    err)
			return fail(sim, a, strerror(err));
		a->connecting = false;
	}
	(void)events;
	ret = conn_handshake(&a->conn);
	if (ret == -EAGAIN) {
		watch(sim, a, EPOLL_CTL_MOD);
		return;
	}
	if (ret)
		return fail(sim, a, "TLS handshake failed");
	if (!a->up) {
		a->up = true;
		a->tries = 0;
		a->counted = false;
		sim->in_flight--;
		/* Back after churn: resend from the first report not acked. */
		if (!a->ever_up)
			sim->connected++;
		a->next_id = a->acked + 1;
		a->ever_up = true;
		if (send_hello(a))
			return fail(sim, a, "cannot send");
		if (sim->t_go && send_more(sim, a, idx,
					   sim->rate ? 0 : UINT_MAX))
			return fail(sim, a, "cannot send");
	}
	while ((ret = conn_recv(&a->conn, &f, &why)) == 0) {
		ret = on_frame(sim, a, idx, f);
		wire_free(f);
		if (ret)
			return fail(sim, a, "unexpected frame");
	}
	if (ret != -EAGAIN)
		return fail(sim, a, why ? why : "server closed the connection");
	ret = conn_flush(&a->conn);
	if (ret && ret != -EAGAIN)
		return fail(sim, a, "write failed");
	watch(sim, a, EPOLL_CTL_MOD);
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static bool finished(const struct sim *sim, const struct sim_agent *a)
{
	uint64_t want = sim->sources ? 1 : sim->assessments;

	return a->done || (a->up && a->acked >= sim->assessments &&
			   a->actions >= want);
}

/*
 * The steady state: acks that arrived, and the latencies of reports sent,
 * between the end of the warm-up and the last report sent.
 */
static void print_steady(struct sim *sim)
{
	double secs;

	if (!sim->t_steady || !sim->t_last_sent ||
	    sim->t_last_sent <= sim->t_steady) {
		printf("steady: no window (sending ended within --warmup %u s)\n",
		       sim->warmup_s);
		return;
	}
	secs = (sim->t_last_sent - sim->t_steady) / 1e9;
	qsort(sim->steady_ms, sim->nr_steady, sizeof(double), cmp_double);
	printf("steady: window %.2f s; acked %.0f/s; actions timed %zu; assessment->action latency ms p50 %.2f p99 %.2f max %.2f\n",
	       secs, (sim->acked_at_last - sim->acked_at_steady) / secs,
	       sim->nr_steady,
	       sim->nr_steady ? sim->steady_ms[sim->nr_steady / 2] : 0,
	       sim->nr_steady ? sim->steady_ms[sim->nr_steady * 99 / 100] : 0,
	       sim->nr_steady ? sim->steady_ms[sim->nr_steady - 1] : 0);
	if (sim->cpu_at_steady && sim->cpu_at_last > sim->cpu_at_steady &&
	    sim->acked_at_last > sim->acked_at_steady) {
		double cpu = (sim->cpu_at_last - sim->cpu_at_steady) / 1e9;
		double per = cpu * 1e6 /
			     (sim->acked_at_last - sim->acked_at_steady);

		printf("server cpu: %.1f%% of a core in the window, waiting for its CPU %.1f%% (other work); %.1f us per assessment; one core's worth: %.0f/s; simulator cpu: %.1f%% of a core\n",
		       100 * cpu / secs,
		       (sim->wait_at_last - sim->wait_at_steady) / 1e7 / secs,
		       per, 1e6 / per,
		       (sim->self_at_last - sim->self_at_steady) / 1e7 / secs);
	}
}

/*
 * Leave and come back at once: cleanly (close_notify) or as a killed
 * process would (no close_notify; RST when @rst).
 */
static void reconnect(struct sim *sim, struct sim_agent *a, bool clean,
		      bool rst)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	/*
	 * A clean leave takes in what already arrived first (an action is
	 * answered), as an agent shutting down in order does; a killed one
	 * takes nothing with it.
	 */
	if (clean) {
		Vnfsec__Frame *f;
		const char *why;

		while (!conn_recv(&a->conn, &f, &why)) {
			on_frame(sim, a, a - sim->a, f);
			wire_free(f);
		}
		conn_flush(&a->conn);
	}
	epoll_ctl(sim->epfd, EPOLL_CTL_DEL, a->conn.fd, NULL);
	if (!clean) {
		if (rst)
			setsockopt(a->conn.fd, SOL_SOCKET, SO_LINGER, &lg,
				   sizeof(lg));
		/* conn_free() sends no close_notify on a failed conn. */
		a->conn.failed = true;
	}
	conn_free(&a->conn);
	a->up = false;
	if (start(sim, a))
		fail(sim, a, "cannot reconnect");
}

/* Once a second after the start: this second's share of the churn. */
static void churn(struct sim *sim)
{
	uint64_t now = now_ns();
	unsigned int i;

	if (!sim->t_go || (!sim->churn_pct && !sim->kill_pct) ||
	    now - sim->t_churn < 1000000000ULL)
		return;
	sim->t_churn = now;
	for (i = 0; i < sim->agents; i++) {
		struct sim_agent *a = &sim->a[i];
		/* PCT % a minute: PCT in 6000 each second. */
		unsigned int r = (unsigned int)random() % 6000;

		if (!a->up || a->done || finished(sim, a))
			continue;
		if (r < sim->churn_pct) {
			sim->churned++;
			reconnect(sim, a, true, false);
		} else if (r < sim->churn_pct + sim->kill_pct) {
			sim->killed++;
			reconnect(sim, a, false, sim->killed % 2);
		}
	}
}

static int run(struct sim *sim)
{
	uint64_t t0 = now_ns(), deadline = t0 + sim->timeout_s * 1000000000ULL;
	unsigned int next = 0, i, done = 0;
	struct epoll_event evs[256];
	uint64_t acked = 0, actions = 0;
	double secs;

	sim->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sim->epfd < 0)
		return -errno;
	while (now_ns() < deadline) {
		int n;

		while (next < sim->agents && sim->in_flight < HANDSHAKES_MAX) {
			if (start(sim, &sim->a[next]))
				fail(sim, &sim->a[next], "cannot connect");
			next++;
		}
		for (i = 0; i < next && sim->in_flight < HANDSHAKES_MAX; i++) {
			struct sim_agent *a = &sim->a[i];

			if (!a->retry_ns || now_ns() < a->retry_ns)
				continue;
			a->retry_ns = 0;
			if (start(sim, a))
				fail(sim, a, "cannot connect");
		}
		if (!sim->t_go && sim->connected &&
		    sim->connected + sim->failed == sim->agents)
			go(sim);
		for (done = 0, i = 0; i < next; i++)
			done += finished(sim, &sim->a[i]);
		if (done == sim->agents)
			break;
		if (sim->t_go && !sim->t_steady &&
		    now_ns() >= sim->t_go + sim->warmup_s * 1000000000ULL) {
			sim->t_steady = now_ns();
			sim->acked_at_steady = sim->acked;
			sim->cpu_at_steady = cpu_ns(sim->server_pid);
			sim->self_at_steady = cpu_ns(getpid());
			sim->wait_at_steady = wait_ns(sim->server_pid);
		}
		top_up(sim);
		churn(sim);
		n = epoll_wait(sim->epfd, evs, 256, sim->rate ? 1 : 100);
		for (i = 0; i < (unsigned int)(n > 0 ? n : 0); i++) {
			struct sim_agent *a = evs[i].data.ptr;

			if (!a->done)
				io(sim, a, evs[i].events);
		}
	}
	secs = (now_ns() - (sim->t_go ? sim->t_go : t0)) / 1e9;
	for (i = 0; i < sim->agents; i++) {
		acked += sim->a[i].acked;
		actions += sim->a[i].actions;
	}
	qsort(sim->lat_ms, sim->nr_lat, sizeof(double), cmp_double);
	printf("agents %u connected %u in %.2f s failed %u; assessments %llu acked in %.2f s: %.0f/s; actions %llu; assessment->action latency ms p50 %.2f p99 %.2f max %.2f\n",
	       sim->agents, sim->connected,
	       sim->t_go ? (sim->t_go - t0) / 1e9 : 0, sim->failed,
	       (unsigned long long)acked, secs, acked / secs,
	       (unsigned long long)actions,
	       sim->nr_lat ? sim->lat_ms[sim->nr_lat / 2] : 0,
	       sim->nr_lat ? sim->lat_ms[sim->nr_lat * 99 / 100] : 0,
	       sim->nr_lat ? sim->lat_ms[sim->nr_lat - 1] : 0);
	if (sim->churn_pct || sim->kill_pct) {
		uint64_t resent = 0;

		for (i = 0; i < sim->agents; i++)
			resent += sim->a[i].resent;
		printf("churn: %llu clean reconnects, %llu killed without close_notify; actions resent after a reconnect %llu; connections refused and tried again %llu\n",
		       (unsigned long long)sim->churned,
		       (unsigned long long)sim->killed,
		       (unsigned long long)resent,
		       (unsigned long long)sim->retries);
	} else if (sim->retries) {
		printf("connections refused and tried again: %llu\n",
		       (unsigned long long)sim->retries);
	}
	if (sim->warmup_s)
		print_steady(sim);
	fflush(stdout);
	return done == sim->agents && !sim->failed &&
	       acked == (uint64_t)sim->agents * sim->assessments ? 0 : -EIO;
}

static void cleanup(struct sim *sim)
{
	unsigned int i;

	for (i = 0; sim->a && i < sim->agents; i++) {
		if (sim->a[i].conn.ssl)
			conn_free(&sim->a[i].conn);
		X509_free(sim->a[i].cert);
		free(sim->a[i].sent_ns);
	}
	free(sim->a);
	free(sim->lat_ms);
	free(sim->steady_ms);
	EVP_PKEY_free(sim->key);
	SSL_CTX_free(sim->ctx);
	if (sim->epfd > 0)
		close(sim->epfd);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "ca", required_argument, NULL, 'C' },
		{ "ca-key", required_argument, NULL, 'K' },
		{ "agents", required_argument, NULL, 'n' },
		{ "assessments", required_argument, NULL, 'm' },
		{ "sources", required_argument, NULL, 'S' },
		{ "window", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "server-pid", required_argument, NULL, 'P' },
		{ "churn", required_argument, NULL, 'c' },
		{ "kill", required_argument, NULL, 'k' },
		{}
	};
	struct sim sim = {
		.agents = 10, .assessments = 1, .sources = 16, .window = 8,
		.timeout_s = 60, .epfd = -1, .budget = INT64_MAX,
	};
	int opt, ret;

	log_init("vnfsec-agentsim", LOG_ERR);
	while ((opt = getopt_long(argc, argv, "s:C:K:n:m:S:w:t:r:W:P:c:k:", opts,
				  NULL)) != -1) {
		switch (opt) {
		case 's': sim.server = optarg; break;
		case 'C': sim.ca = optarg; break;
		case 'K': sim.ca_key = optarg; break;
		case 'n':
			if (parse_uint_opt(optarg, 1, 100000, &sim.agents,
					   "--agents"))
				return 2;
			break;
		case 'm':
			if (parse_uint_opt(optarg, 1, 10000000,
					   &sim.assessments, "--assessments"))
				return 2;
			break;
		case 'r':
			if (parse_uint_opt(optarg, 1, 10000000, &sim.rate,
					   "--rate"))
				return 2;
			break;
		case 'P':
			if (parse_uint_opt(optarg, 1, INT_MAX,
					   &sim.server_pid,
					   "--server-pid"))
				return 2;
			break;
		case 'W':
			if (parse_uint_opt(optarg, 0, 3600, &sim.warmup_s,
					   "--warmup"))
				return 2;
			break;
		case 'c':
			if (parse_uint_opt(optarg, 0, 100, &sim.churn_pct,
					   "--churn"))
				return 2;
			break;
		case 'k':
			if (parse_uint_opt(optarg, 0, 100, &sim.kill_pct,
					   "--kill"))
				return 2;
			break;
		case 'S':
			if (parse_uint_opt(optarg, 0, 65535, &sim.sources,
					   "--sources"))
				return 2;
			break;
		case 'w':
			if (parse_uint_opt(optarg, 1, 1024, &sim.window,
					   "--window"))
				return 2;
			break;
		case 't':
			if (parse_uint_opt(optarg, 1, 3600, &sim.timeout_s,
					   "--timeout"))
				return 2;
			break;
		default:
			fprintf(stderr, "usage: %s --server ADDR:PORT --ca FILE --ca-key FILE [--agents N] [--assessments M] [--sources K] [--window W] [--rate R] [--warmup S] [--server-pid PID] [--timeout S] [--churn PCT] [--kill PCT]\n",
				argv[0]);
			return 2;
		}
	}
	if (!sim.server || !sim.ca || !sim.ca_key) {
		fprintf(stderr, "%s: --server, --ca and --ca-key are required\n",
			argv[0]);
		return 2;
	}
	/* A server that hangs up must not kill the simulator. */
	signal(SIGPIPE, SIG_IGN);
	ret = setup(&sim);
	if (!ret)
		ret = run(&sim);
	cleanup(&sim);
	return ret ? 1 : 0;
}
