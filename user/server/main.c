// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsec-server: accepts agents over mutually authenticated TLS 1.3,
 * records their assessments as JSON lines and answers with corrective
 * actions. One epoll loop; every socket is non-blocking so one slow or
 * hostile agent never stalls the others.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "user/common/conffile.h"
#include "user/common/evloop.h"
#include "user/common/log.h"
#include "user/common/service.h"
#include "user/common/signing.h"
#include "user/common/netaddr.h"
#include "user/common/roles.h"
#include "user/server/bus.h"
#include "user/server/control.h"
#include "user/server/metrics.h"
#include "user/server/peers.h"
#include "user/server/playbook.h"
#include "user/server/store.h"

/* Fixed epoll tags; every other tag points at a struct led by ev_kind. */
#define EV_LISTEN	((void *)1)
#define EV_SIGNAL	((void *)2)
#define EV_TIMER	((void *)3)
#define EV_CONTROL	((void *)4)
#define EV_METRICS	((void *)5)
#define EV_HANGUP	((void *)6)
#define EV_BUS		((void *)7)

#ifndef SERVER_CONF_PATH
#define SERVER_CONF_PATH "/etc/vnfsec/server.conf"
#endif

#define HANDSHAKES_PER_SOURCE	128

static void usage(FILE *out)
{
	fprintf(out,
"usage: vnfsec-server --listen ADDR:PORT --ca FILE --cert FILE --key FILE\n"
"                     [--alerts FILE|-] [--syslog] [--port-file FILE]\n"
"                     [--block-ttl S] [--max-agents N] [--handshake-timeout S]\n"
"                     [--db FILE|URI] [--import FORMAT:FILE]... [--playbook FILE]\n"
"                     [--policy FILE]\n"
"                     [--hook CMD] [--window S] [--idle-close S]\n"
"                     [--control PATH] [--control-group GROUP]\n"
"                     [--control-admin-group GROUP] [--metrics ADDR:PORT]\n"
"                     [--metrics-port-file FILE] [--parent ADDR:PORT]\n"
"                     [--parent-name CN] [--parent-cert FILE]\n"
"                     [--parent-key FILE] [--signing-key FILE] [--verbose]\n"
"                     [--crl FILE] [--heartbeat-timeout S] [--nats URL]\n"
"                     [--log-format text|json] [--config FILE]\n"
TRUST_USAGE
"\n"
"Accepts vnfsec agents (and child servers) over mutually authenticated\n"
"TLS 1.3, correlates their assessments into incidents against the threat\n"
"database (--db: SQLite, or postgresql:// URI; feeds by --import cidr:FILE or csv:FILE), orders\n"
"corrective actions by --playbook or --policy's playbooks (default: block\n"
"the source for --block-ttl seconds, 60; never a VNF of --policy), runs --hook with each incident as JSON on its\n"
"stdin, and writes EVE-style JSON lines to --alerts (default stdout).\n"
"Incidents are forwarded to --parent when set. With --signing-key (a PEM\n"
"P-256 private key) every action goes out signed for its agent.\n"
"With --enroll-ca-key agents without a certificate may enroll with their\n"
"TPM and are re-attested with quotes (docs/trust.md).\n"
"Peers' roles come from their certificates; certificates on --crl (read\n"
"again on SIGHUP and when the file changes) and identities revoked with\n"
"'vnfsecctl --server revoke' are refused (docs/security.md). A second\n"
"session of one identity is refused unless the first has been silent\n"
"for --heartbeat-timeout seconds (30).\n"
"With --nats (nats://HOST:PORT, a comma-separated list for a cluster),\n"
"servers sharing a PostgreSQL --db pass orders for agents whose session\n"
"is elsewhere, or nowhere yet, through NATS JetStream (docs/deploy.md).\n"
"Options may also come from --config FILE, a YAML mapping of long\n"
"option: value (default " SERVER_CONF_PATH ", skipped when absent); the\n"
"command line overrides it. SIGHUP reads it again and applies --verbose,\n"
"--log-format, --crl, --playbook, --policy and --import; other options\n"
"need a restart.\n"
"docs/server.md has more.\n");
}

/* Parsing again on SIGHUP: a refusal is one line, not the usage. */
static bool reparsing;

static int parse_args(int argc, char **argv, struct server_config *cfg,
		      int *verbose, struct conffile *conf)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "ca", required_argument, NULL, 'C' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "alerts", required_argument, NULL, 'a' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "block-ttl", required_argument, NULL, 't' },
		{ "max-agents", required_argument, NULL, 'm' },
		{ "handshake-timeout", required_argument, NULL, 'H' },
		{ "db", required_argument, NULL, 'D' },
		{ "import", required_argument, NULL, 'I' },
		{ "playbook", required_argument, NULL, 'P' },
		{ "policy", required_argument, NULL, 'O' },
		{ "hook", required_argument, NULL, 'K' },
		{ "window", required_argument, NULL, 'w' },
		{ "idle-close", required_argument, NULL, 'i' },
		{ "control", required_argument, NULL, 'S' },
		{ "control-group", required_argument, NULL, 0x2001 },
		{ "control-admin-group", required_argument, NULL, 0x2002 },
		{ "metrics", required_argument, NULL, 'M' },
		{ "metrics-port-file", required_argument, NULL, 'F' },
		{ "signing-key", required_argument, NULL, 'G' },
		{ "parent", required_argument, NULL, 'u' },
		{ "parent-name", required_argument, NULL, 'n' },
		{ "parent-cert", required_argument, NULL, 'e' },
		{ "parent-key", required_argument, NULL, 'y' },
		{ "crl", required_argument, NULL, 'R' },
		{ "heartbeat-timeout", required_argument, NULL, 'T' },
		{ "nats", required_argument, NULL, 0x2003 },
		{ "syslog", no_argument, NULL, 'g' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "log-format", required_argument, NULL, 0x1100 },
		{ "config", required_argument, NULL, 0x1101 },
		{ "help", no_argument, NULL, 'h' },
		TRUST_OPTIONS,
		ENROLL_OPTIONS,
		{}
	};
	int opt;

	if (conffile_apply(conf, SERVER_CONF_PATH, opts, &argc, &argv))
		return -EINVAL;
	optind = 0;	/* getopt starts afresh (SIGHUP parses again) */
	while ((opt = getopt_long(argc, argv,
				  "l:C:c:k:a:p:t:m:H:D:I:P:K:w:i:S:M:F:u:n:e:y:R:T:gvh",
				  opts, NULL)) != -1) {
		/* An option from the file is named by its FILE:LINE:COL. */
		log_set_context(conffile_where(conf, optind - 1));
		switch (opt) {
		case 'l': cfg->listen = optarg; break;
		case 'C': cfg->tls.ca = optarg; break;
		case 'c': cfg->tls.cert = optarg; break;
		case 'k': cfg->tls.key = optarg; break;
		case 'a': cfg->alerts_path = optarg; break;
		case 'p': cfg->port_file = optarg; break;
		case 't':
			if (parse_uint_opt(optarg, 0, 86400 * 365,
					   &cfg->block_ttl_s, "--block-ttl"))
				return -EINVAL;
			break;
		case 'm':
			if (parse_uint_opt(optarg, 1, 1000000,
					   &cfg->max_sessions, "--max-agents"))
				return -EINVAL;
			break;
		case 'H':
			if (parse_uint_opt(optarg, 1, 3600,
					   &cfg->handshake_timeout_s,
					   "--handshake-timeout"))
				return -EINVAL;
			break;
		case 'D': cfg->db_path = optarg; break;
		case 'I':
			if (cfg->nr_imports == SERVER_MAX_IMPORTS ||
			    !strchr(optarg, ':')) {
				log_err("--import FORMAT:FILE, at most %d times",
					SERVER_MAX_IMPORTS);
				return -EINVAL;
			}
			cfg->imports[cfg->nr_imports++] = optarg;
			break;
		case 'P': cfg->playbook_path = optarg; break;
		case 'O': cfg->policy_path = optarg; break;
		case 'K': cfg->hook = optarg; break;
		case 'w':
			if (parse_uint_opt(optarg, 1, 86400, &cfg->window_s,
					   "--window"))
				return -EINVAL;
			break;
		case 'i':
			if (parse_uint_opt(optarg, 1, 86400 * 30,
					   &cfg->idle_close_s, "--idle-close"))
				return -EINVAL;
			break;
		case 'S': cfg->control_path = optarg; break;
		case 0x2001: cfg->control_group = optarg; break;
		case 0x2002: cfg->control_admin_group = optarg; break;
		case 0x2003: cfg->nats_url = optarg; break;
		case 'M': cfg->metrics_listen = optarg; break;
		case 'F': cfg->metrics_port_file = optarg; break;
		case 'G': cfg->signing_key = optarg; break;
		case 'u': cfg->parent = optarg; break;
		case 'n': cfg->parent_name = optarg; break;
		case 'e': cfg->parent_cert = optarg; break;
		case 'y': cfg->parent_key = optarg; break;
		case 'R': cfg->crl_path = optarg; break;
		case 'T':
			if (parse_uint_opt(optarg, 1, 86400,
					   &cfg->heartbeat_timeout_s,
					   "--heartbeat-timeout"))
				return -EINVAL;
			break;
		case 'g': cfg->syslog = true; break;
		case 'v': *verbose = 1; break;
		case 0x1100:
			if (log_set_format(optarg))
				return -EINVAL;
			break;
		case 0x1101: break;	/* read by conffile_apply() */
		case 'h': usage(stdout); exit(0);
		case TRUST_OPT_CA_KEY ... TRUST_OPT_LAST:
			if (trust_parse_opt(&cfg->trust, opt, optarg))
				return -EINVAL;
			break;
		case ENROLL_OPT_RATE ... ENROLL_OPT_LAST:
			if (enroll_parse_opt(&cfg->trust, opt, optarg))
				return -EINVAL;
			break;
		default: usage(stderr); return -EINVAL;
		}
	}
	log_set_context(NULL);
	if (optind != argc || !cfg->listen || !cfg->tls.ca || !cfg->tls.cert ||
	    !cfg->tls.key) {
		if (reparsing)
			log_err("the configuration lacks --listen, --ca, --cert or --key");
		else
			usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int write_port_file(const char *path, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	unsigned int port;
	char tmp[4096];
	FILE *f;

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	port = ntohs(ss.ss_family == AF_INET ?
		     ((struct sockaddr_in *)&ss)->sin_port :
		     ((struct sockaddr_in6 *)&ss)->sin6_port);
	log_info("listening on port %u", port);
	if (!path)
		return 0;
	/* Written whole, then renamed: a reader never sees half a number. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) ||
	    rename(tmp, path)) {
		log_err("cannot write port file %s: %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

static int open_listener(struct server *srv)
{
	int fd = netaddr_listen(srv->cfg->listen, SOCK_NONBLOCK, 512,
				"--listen");

	if (fd < 0)
		return fd;
	srv->listen_fd = fd;
	return write_port_file(srv->cfg->port_file, fd);
}

static void session_close(struct server *srv, struct session *s,
			  const char *why)
{
	struct session **pp;

	if (why && !s->refused)
		log_info("agent %s at %s: closed: %s",
			 s->conn.peer_cn[0] ? s->conn.peer_cn : "(unauthenticated)",
			 s->conn.peer, why);
	for (pp = &srv->sessions; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (s->ack_queued) {
		for (pp = &srv->ack_sessions; *pp; pp = &(*pp)->ack_next) {
			if (*pp == s) {
				*pp = s->ack_next;
				break;
			}
		}
	}
	if (s->flush_queued) {
		for (pp = &srv->flush_sessions; *pp; pp = &(*pp)->flush_next) {
			if (*pp == s) {
				*pp = s->flush_next;
				break;
			}
		}
	}
	free(s->acks);
	enroll_session_free(s);
	session_gone(srv, s);
	srv->stats.sessions_closed++;
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, s->conn.fd, NULL);
	conn_free(&s->conn);
	free(s);
	srv->nr_sessions--;
}

static int session_watch(struct server *srv, struct session *s, int op)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP |
			  (conn_wants_write(&s->conn) ? EPOLLOUT : 0),
		.data.ptr = s,
	};

	/* A system call per wakeup saved: most wakeups change nothing. */
	if (op == EPOLL_CTL_MOD && ev.events == s->watched)
		return 0;
	if (epoll_ctl(srv->epoll_fd, op, s->conn.fd, &ev))
		return -errno;
	s->watched = ev.events;
	return 0;
}

/*
 * Inside a round frames are only queued, and leave at its end together
 * (round_end()): an action and the ack of the report that caused it then
 * cost one TLS record and one system call, not two.
 */
int session_send(struct server *srv, struct session *s,
		 const Vnfsec__Frame *f)
{
	int ret;

	if (srv->in_round_io) {
		ret = conn_queue(&s->conn, f);
		if (!ret && !s->flush_queued) {
			s->flush_queued = true;
			s->flush_next = srv->flush_sessions;
			srv->flush_sessions = s;
		}
	} else {
		ret = conn_send(&s->conn, f);
	}

	/* Closed on the next tick: the caller may be walking the lists. */
	if (ret) {
		if (!s->broken)
			log_warn("agent %s: cannot queue a frame: %s; closing its session",
				 s->conn.peer_cn, strerror(-ret));
		s->broken = true;
		return ret;
	}
	if (conn_wants_write(&s->conn))
		return session_watch(srv, s, EPOLL_CTL_MOD);
	return 0;
}

/*
 * Connections from one address still in their TLS handshake are bounded
 * (HANDSHAKES_PER_SOURCE): one host opening sockets and saying nothing
 * must not hold every slot of --max-agents until the handshake deadline.
 */
static bool handshakes_over_limit(const struct server *srv, const char *peer)
{
	const char *colon = strrchr(peer, ':');
	size_t host_len = colon ? (size_t)(colon - peer) : strlen(peer);
	const struct session *s;
	unsigned int n = 0;

	for (s = srv->sessions; s; s = s->next)
		if (!s->conn.established &&
		    !strncmp(s->conn.peer, peer, host_len) &&
		    s->conn.peer[host_len] == ':' &&
		    ++n >= HANDSHAKES_PER_SOURCE)
			return true;
	return false;
}

static void accept_agents(struct server *srv)
{
	int one = 1;

	for (;;) {
		struct session *s;
		int fd;

		fd = accept4(srv->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("accept failed: %s", strerror(errno));
			return;
		}
		/* Acks and actions are small and wanted now, not batched. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (srv->nr_sessions >= srv->cfg->max_sessions) {
			log_warn("refusing connection: %u agents already connected; raise --max-agents",
				 srv->nr_sessions);
			close(fd);
			continue;
		}
		s = calloc(1, sizeof(*s));
		if (s)
			s->kind = EV_KIND_SESSION;
		if (!s || conn_init(&s->conn, srv->tls, fd, NULL)) {
			free(s);
			close(fd);
			continue;
		}
		if (handshakes_over_limit(srv, s->conn.peer)) {
			/* A flood would flood the log too: 1st, 1001st, ... */
			if (srv->stats.handshakes_refused++ % 1000 == 0)
				log_warn("refusing connection from %s: %u handshakes from that address already in progress (%llu refused so far)",
					 s->conn.peer, HANDSHAKES_PER_SOURCE,
					 (unsigned long long)srv->stats.handshakes_refused);
			conn_free(&s->conn);
			free(s);
			continue;
		}
		s->started = time(NULL);
		s->next = srv->sessions;
		srv->sessions = s;
		srv->nr_sessions++;
		if (session_watch(srv, s, EPOLL_CTL_ADD))
			session_close(srv, s, "cannot watch socket");
	}
}

/* Returns non-zero when the session was closed. */
static int session_io(struct server *srv, struct session *s)
{
	Vnfsec__Frame *f;
	const char *why;
	int ret;

	/* Cut (revoked, replaced): not one more frame is read from it. */
	if (s->cut) {
		session_close(srv, s, s->cut);
		return 1;
	}
	ret = conn_handshake(&s->conn);
	if (ret == -EAGAIN)
		return session_watch(srv, s, EPOLL_CTL_MOD);
	if (ret) {
		session_close(srv, s, "TLS handshake failed");
		return 1;
	}
	if (!s->admitted) {
		if (peers_on_handshake(srv, s)) {
			session_close(srv, s, "refused");
			return 1;
		}
		s->admitted = true;
	}
	while ((ret = conn_recv(&s->conn, &f, &why)) == 0) {
		ret = session_on_frame(srv, s, f);
		wire_free(f);
		if (!ret && s->broken)
			ret = -ENOBUFS;
		if (ret) {
			session_close(srv, s, strerror(-ret));
			return 1;
		}
	}
	if (srv->parent)
		parent_push(srv);
	if (ret != -EAGAIN) {
		if (why)
			srv->stats.frames_refused++;
		if (why)
			log_warn("agent %s at %s: bad frame: %s; closing",
				 s->conn.peer_cn, s->conn.peer, why);
		session_close(srv, s, why ? NULL : "connection ended");
		return 1;
	}
	/* What this round queued leaves at its end (round_end()). */
	if (s->flush_queued)
		return 0;
	ret = conn_flush(&s->conn);
	if (ret && ret != -EAGAIN) {
		session_close(srv, s, "write failed");
		return 1;
	}
	return session_watch(srv, s, EPOLL_CTL_MOD);
}

/*
 * Connections that never finish a handshake must not hold a slot; those
 * whose send queue overflowed are cut here, outside any list walk.
 */
static void reap_stalled(struct server *srv, time_t now)
{
	struct session *s = srv->sessions, *next;

	for (; s; s = next) {
		next = s->next;
		if (s->cut)
			session_close(srv, s, s->cut);
		else if (s->broken)
			session_close(srv, s, "send queue overflowed");
		else if (!s->conn.established &&
			 now - s->started >= srv->cfg->handshake_timeout_s)
			session_close(srv, s, "no TLS handshake in time");
		else if (enroll_expired(s, now))
			session_close(srv, s, "no hello or enrollment in time");
	}
}

static void tick(struct server *srv)
{
	time_t now = time(NULL);

	peers_tick(srv);
	reap_stalled(srv, now);
	incidents_tick(srv, now);
	actions_tick(srv, now);
	attest_tick(srv, now);
	hooks_reap(srv);
	control_tick(srv);
	metrics_run(srv);
	parent_tick(srv, now);
	bus_tick(srv);
}

static void dispatch(struct server *srv, void *tag, uint32_t events)
{
	switch (*(enum ev_kind *)tag) {
	case EV_KIND_SESSION:
		session_io(srv, tag);
		break;
	case EV_KIND_CONTROL_CLIENT:
		control_io(srv, tag, events);
		break;
	case EV_KIND_PARENT:
		parent_io(srv, events);
		break;
	}
}

static int save_indicator(void *ctx, const struct indicator *ind)
{
	return store_indicator(ctx, ind);
}

static int load_indicator(void *ctx, const struct indicator *ind)
{
	return threatdb_add(ctx, ind);
}

int threatdb_import_stored(struct server *srv, const char *path,
			   const char *format, const char *source,
			   unsigned int *imported, unsigned int *skipped)
{
	int ret = store_begin(srv->store);

	if (ret)
		return ret;
	ret = threatdb_import(srv->tdb, path, format, source, save_indicator,
			      srv->store, imported, skipped);
	/* Half a feed is worse than none: the store keeps all or nothing. */
	if (ret) {
		store_rollback(srv->store);
		return ret;
	}
	return store_commit(srv->store);
}

/* Store, threat database, playbook: what the server knows and decides. */
/* Stored reports of an agent are duplicates when it sends them again. */
static int load_agent(void *ctx, const struct agent_row *r)
{
	struct agent_record *a = agent_get(ctx, r->id);

	if (!a)
		return -ENOMEM;
	a->is_server = r->is_server;
	a->last_seen = r->last_seen;
	a->last_assessment_id = a->stored_assessment_id =
		r->last_assessment_id;
	return 0;
}

static int load_incident(void *ctx, const struct incident_row *r)
{
	return incident_restore(ctx, r);
}

/* --import feeds, each all or nothing (a savepoint, see threatdb). */
static int import_feeds(struct server *srv)
{
	const struct server_config *cfg = srv->cfg;
	unsigned int i, imported, skipped;
	int ret;

	for (i = 0; i < cfg->nr_imports; i++) {
		char format[8];
		const char *colon = strchr(cfg->imports[i], ':');
		size_t n = colon - cfg->imports[i];

		snprintf(format, sizeof(format), "%.*s",
			 (int)(n < sizeof(format) ? n : sizeof(format) - 1),
			 cfg->imports[i]);
		ret = threatdb_import_stored(srv, colon + 1, format, NULL,
					     &imported, &skipped);
		if (ret)
			return ret;
	}
	return 0;
}

static int open_state(struct server *srv)
{
	const struct server_config *cfg = srv->cfg;
	int ret;

	ret = store_open(cfg->db_path, &srv->store);
	if (ret)
		return ret;
	ret = store_max_incident_id(srv->store, &srv->next_incident_id);
	if (!ret)
		ret = store_agents_load(srv->store, load_agent, srv);
	/* Open ones continue; closed ones are listed as long as they would be. */
	if (!ret)
		ret = store_incidents_load(srv->store,
					   time(NULL) - 4 * (time_t)cfg->idle_close_s,
					   load_incident, srv);
	if (ret)
		return ret;
	srv->tdb = threatdb_new();
	if (!srv->tdb)
		return -ENOMEM;
	ret = store_indicators_load(srv->store, time(NULL), load_indicator,
				    srv->tdb);
	if (ret)
		return ret;
	ret = import_feeds(srv);
	return ret ? ret : playbook_load(cfg, &srv->pb);
}

/*
 * SIGHUP: what an operator may change under a running server is read
 * again; a file that no longer loads leaves what is in force (and says
 * so). Everything else in the configuration needs a restart.
 */
static void reload(struct server *srv)
{
	struct playbook *pb;

	if (playbook_load(srv->cfg, &pb)) {
		log_warn("SIGHUP: the playbooks in force stay (fix the file above and send SIGHUP again)");
	} else {
		playbook_free(srv->pb);
		srv->pb = pb;
		log_info("SIGHUP: playbooks reloaded");
	}
	/* Each feed's import says what it added (threatdb.c). */
	if (import_feeds(srv))
		log_warn("SIGHUP: a feed did not import; the indicators in force stay");
}

/*
 * One round of events is one store transaction: a commit per round, not
 * per fact. Acks wait for that commit, so an agent forgets nothing the
 * store does not hold; a failed commit cuts those agents, and they send
 * again from their queue when they reconnect.
 */
static void round_begin(struct server *srv)
{
	srv->in_round = !store_batch_begin(srv->store);
	srv->in_round_io = true;
}

/* Send what the round queued; a failed write ends that session. */
static void round_flush(struct server *srv)
{
	struct session *s;
	int ret;

	srv->in_round_io = false;
	while ((s = srv->flush_sessions)) {
		srv->flush_sessions = s->flush_next;
		s->flush_queued = false;
		ret = conn_flush(&s->conn);
		if (ret && ret != -EAGAIN)
			session_close(srv, s, "write failed");
		else if (session_watch(srv, s, EPOLL_CTL_MOD))
			session_close(srv, s, "cannot watch socket");
	}
}

int round_commit_now(struct server *srv)
{
	int ret;

	if (!srv->in_round)
		return srv->round_failed ? -EIO : 0;
	ret = store_batch_commit(srv->store);
	if (ret) {
		srv->stats.store_errors++;
		srv->round_failed = true;
	}
	srv->in_round = !store_batch_begin(srv->store);
	return ret ? -EIO : 0;
}

static void round_end(struct server *srv)
{
	struct agent_record *a;
	struct session *s;
	int ret = 0;

	alerts_flush(srv);
	if (srv->in_round) {
		ret = store_batch_commit(srv->store);
		srv->in_round = false;
		if (ret)
			srv->stats.store_errors++;
	}
	/* An earlier commit of this round lost writes its acks vouch for. */
	if (srv->round_failed)
		ret = -EIO;
	srv->round_failed = false;
	/* Not stored: the resend of such a report is no duplicate. */
	if (ret)
		for (a = srv->agents; a; a = a->next)
			a->last_assessment_id = a->stored_assessment_id;
	while ((s = srv->ack_sessions)) {
		srv->ack_sessions = s->ack_next;
		s->ack_queued = false;
		if (ret) {
			s->broken = true;
		} else {
			session_flush_acks(srv, s);
			if (s->agent)
				s->agent->stored_assessment_id =
					s->agent->last_assessment_id;
		}
		s->nr_acks = 0;
	}
	round_flush(srv);
}

static const struct server_config cfg_defaults = {
	.alerts_path = "-",
	.block_ttl_s = 60,
	.max_sessions = 4096,
	.handshake_timeout_s = 10,
	.db_path = ":memory:",
	.parent_name = "vnfsec-server",
	.window_s = 60,
	.idle_close_s = 300,
	.heartbeat_timeout_s = 30,
};

/* What SIGHUP needs to read the configuration again. */
struct reread {
	int argc;			/* as started */
	char **argv;
	struct server_config *cfg;	/* srv->cfg, writable here */
	const struct conffile *conf;	/* the file as read at start */
	int hup_fd;
};

/* parse_args() again, on the command line the server was started with. */
struct reparse {
	const struct reread *rr;
	struct server_config cfg;
};

static int reparse(void *ctx, int *verbose, struct conffile *conf)
{
	struct reparse *rp = ctx;
	int ret;

	reparsing = true;
	ret = parse_args(rp->rr->argc, rp->rr->argv, &rp->cfg, verbose,
			 conf);
	reparsing = false;
	return ret;
}

/*
 * SIGHUP: the configuration (file and command line) is read again; the
 * log level and format, and the paths of --crl, --playbook, --policy and
 * --import take effect, and those files are read again (even when their
 * paths did not change). Every other option that changed gets one line:
 * it needs a restart. A configuration that no longer parses changes
 * nothing.
 */
static void hangup(struct server *srv, const struct reread *rr)
{
	static const char *const live[] = {
		"verbose", "log-format", "crl", "playbook", "policy", "import",
		NULL
	};
	static struct conffile held;	/* what the live paths point into */
	static char kept_crl[PATH_MAX];
	struct reparse rp = { .rr = rr, .cfg = cfg_defaults };
	struct server_config *now = &rp.cfg, *cfg = rr->cfg;
	struct conffile conf;

	evloop_drain(rr->hup_fd);
	trust_config_defaults(&now->trust);
	if (conffile_reread(&conf, rr->conf, live, reparse, &rp))
		return;
	/*
	 * Taking --crl away would un-revoke: that waits for a restart, and
	 * the path is kept here (the file it came from is about to go).
	 */
	if (cfg->crl_path && !now->crl_path) {
		log_warn("SIGHUP: --crl is no longer set; the revocations of %s stay in force until a restart",
			 cfg->crl_path);
		if (cfg->crl_path != kept_crl) {
			snprintf(kept_crl, sizeof(kept_crl), "%s",
				 cfg->crl_path);
			cfg->crl_path = kept_crl;
		}
	} else {
		cfg->crl_path = now->crl_path;
	}
	cfg->playbook_path = now->playbook_path;
	cfg->policy_path = now->policy_path;
	cfg->nr_imports = now->nr_imports;
	memcpy(cfg->imports, now->imports, sizeof(cfg->imports));
	log_info("SIGHUP: reading --crl, playbooks and feeds again");
	peers_crl_reload(srv);
	reload(srv);
	conffile_free(&held);
	held = conf;
	log_info("SIGHUP: configuration %s read again", conf.path);
	log_debug("SIGHUP: in force: log level debug, format %s, --playbook %s, --policy %s, %u feeds, --crl %s",
		  log_format_name(), cfg->playbook_path ?: "(none)",
		  cfg->policy_path ?: "(none)", cfg->nr_imports,
		  cfg->crl_path ?: "(none)");
}

static int serve(struct server *srv, int tick_fd, const struct reread *rr)
{
	struct epoll_event evs[64];
	bool stop = false, ticked;
	uint64_t ticks;

	while (!stop) {
		int n = epoll_wait(srv->epoll_fd, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		ticked = false;
		round_begin(srv);
		for (int i = 0; i < n; i++) {
			void *tag = evs[i].data.ptr;

			if (tag == EV_LISTEN) {
				accept_agents(srv);
			} else if (tag == EV_SIGNAL) {
				log_info("signal received; shutting down");
				stop = true;
			} else if (tag == EV_TIMER) {
				ticked = read(tick_fd, &ticks, sizeof(ticks)) > 0;
			} else if (tag == EV_CONTROL) {
				control_accept(srv);
			} else if (tag == EV_METRICS) {
				metrics_run(srv);
			} else if (tag == EV_HANGUP) {
				hangup(srv, rr);
			} else if (tag == EV_BUS) {
				bus_io(srv);
			} else {
				dispatch(srv, tag, evs[i].events);
			}
		}
		/* Last: it may close sessions later events of the round name. */
		if (ticked)
			tick(srv);
		round_end(srv);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct server_config cfg = cfg_defaults;
	struct server srv = { .cfg = &cfg, .listen_fd = -1, .epoll_fd = -1 };
	int verbose = 0, sig_fd = -1, tick_fd = -1, hup_fd = -1, ret;
	/* Holds the strings cfg points to: freed only at exit. */
	static struct conffile conf;

	trust_config_defaults(&cfg.trust);
	log_init("vnfsec-server", LOG_INFO);
	if (parse_args(argc, argv, &cfg, &verbose, &conf))
		return 2;
	if (verbose)
		log_init("vnfsec-server", LOG_DEBUG);

	ret = -EINVAL;
	if (key_file_private(cfg.signing_key, "--signing-key") ||
	    key_file_private(cfg.trust.ca_key, "--enroll-ca-key"))
		goto out;
	srv.tls = tls_ctx_new(true, &cfg.tls);
	if (!srv.tls ||
	    tls_cert_cn(cfg.tls.cert, srv.name, sizeof(srv.name)))
		goto out;
	/*
	 * Take every record the socket holds in one read instead of two
	 * reads (header, body) per record: an agent's frames are small and
	 * often arrive several at once.
	 */
	SSL_CTX_set_read_ahead(srv.tls, 1);
	if (cfg.signing_key) {
		srv.signing_key = signing_key_load(cfg.signing_key, true);
		if (!srv.signing_key)
			goto out;
	}
	ret = alerts_open(&srv);
	if (ret)
		goto out;
	ret = open_state(&srv);
	if (!ret)
		ret = peers_open(&srv);
	if (!ret)
		ret = trust_open(&srv);
	if (!ret)
		ret = enroll_open(&srv);
	if (ret)
		goto out;
	ret = open_listener(&srv);
	if (ret)
		goto out;
	srv.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	sig_fd = evloop_signalfd();
	tick_fd = evloop_tick(1);
	hup_fd = evloop_hupfd();
	if (srv.epoll_fd < 0 || sig_fd < 0 || tick_fd < 0 || hup_fd < 0 ||
	    evloop_add(srv.epoll_fd, hup_fd,
		       (epoll_data_t){ .ptr = EV_HANGUP }) ||
	    evloop_add(srv.epoll_fd, srv.listen_fd,
		       (epoll_data_t){ .ptr = EV_LISTEN }) ||
	    evloop_add(srv.epoll_fd, sig_fd,
		       (epoll_data_t){ .ptr = EV_SIGNAL }) ||
	    evloop_add(srv.epoll_fd, tick_fd,
		       (epoll_data_t){ .ptr = EV_TIMER })) {
		ret = -errno;
		log_err("cannot set up event loop: %s", strerror(errno));
		goto out;
	}
	ret = control_open(&srv, EV_CONTROL);
	if (!ret)
		ret = metrics_open(&srv, EV_METRICS);
	if (!ret)
		ret = parent_open(&srv);
	if (!ret)
		ret = bus_open(&srv, EV_BUS);
	if (ret)
		goto out;
	parent_tick(&srv, time(NULL));
	service_ready("accepting agents on %s", cfg.listen);
	ret = serve(&srv, tick_fd, &(struct reread){
		.argc = argc, .argv = argv, .cfg = &cfg, .conf = &conf,
		.hup_fd = hup_fd });
	service_stopping();
out:
	while (srv.sessions)
		session_close(&srv, srv.sessions, NULL);
	parent_close(&srv);
	metrics_close(&srv);
	control_close(&srv);
	incidents_free(&srv);
	actions_free(&srv);
	bus_close(&srv);
	playbook_free(srv.pb);
	threatdb_free(srv.tdb);
	store_close(srv.store);
	if (tick_fd >= 0)
		close(tick_fd);
	if (hup_fd >= 0)
		close(hup_fd);
	if (sig_fd >= 0)
		close(sig_fd);
	if (srv.epoll_fd >= 0)
		close(srv.epoll_fd);
	if (srv.listen_fd >= 0)
		close(srv.listen_fd);
	agents_free(&srv);
	peers_close(&srv);
	enroll_close(&srv);
	trust_close(&srv);
	alerts_close(&srv);
	EVP_PKEY_free(srv.signing_key);
	SSL_CTX_free(srv.tls);
	return ret ? 1 : 0;
}
