// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsec-server: accepts agents over mutually authenticated TLS 1.3,
 * records their assessments as JSON lines and answers with corrective
 * actions. One epoll loop; every socket is non-blocking so one slow or
 * hostile agent never stalls the others.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>

#include "user/common/evloop.h"
#include "user/common/log.h"
#include "user/common/netaddr.h"
#include "user/server/server.h"

#define EV_LISTEN ((void *)1)
#define EV_SIGNAL ((void *)2)
#define EV_TIMER  ((void *)3)

static void usage(FILE *out)
{
	fprintf(out,
"usage: vnfsec-server --listen ADDR:PORT --ca FILE --cert FILE --key FILE\n"
"                     [--alerts FILE|-] [--port-file FILE] [--block-ttl S]\n"
"                     [--max-agents N] [--handshake-timeout S] [--verbose]\n"
"\n"
"Accepts vnfsec agents over mutually authenticated TLS 1.3, writes their\n"
"assessments as EVE-style JSON lines to --alerts (default stdout) and\n"
"orders a block of a SYN flood's source for --block-ttl seconds (60).\n"
"With port 0, the bound port is written to --port-file.\n");
}

static int parse_args(int argc, char **argv, struct server_config *cfg,
		      int *verbose)
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
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "l:C:c:k:a:p:t:m:H:vh", opts,
				  NULL)) != -1) {
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
		case 'v': *verbose = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind != argc || !cfg->listen || !cfg->tls.ca || !cfg->tls.cert ||
	    !cfg->tls.key) {
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
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd, ret;

	ret = netaddr_parse(srv->cfg->listen, &ss, &len, "--listen");
	if (ret)
		return ret;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 512)) {
		ret = -errno;
		log_err("cannot listen on %s: %s", srv->cfg->listen,
			strerror(-ret));
		close(fd);
		return ret;
	}
	srv->listen_fd = fd;
	return write_port_file(srv->cfg->port_file, fd);
}

static void session_close(struct server *srv, struct session *s,
			  const char *why)
{
	struct session **pp;

	if (why)
		log_info("agent %s at %s: closed: %s",
			 s->conn.peer_cn[0] ? s->conn.peer_cn : "(unauthenticated)",
			 s->conn.peer, why);
	for (pp = &srv->sessions; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
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

	return epoll_ctl(srv->epoll_fd, op, s->conn.fd, &ev) ? -errno : 0;
}

static void accept_agents(struct server *srv)
{
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
		if (srv->nr_sessions >= srv->cfg->max_sessions) {
			log_warn("refusing connection: %u agents already connected; raise --max-agents",
				 srv->nr_sessions);
			close(fd);
			continue;
		}
		s = calloc(1, sizeof(*s));
		if (!s || conn_init(&s->conn, srv->tls, fd, NULL)) {
			free(s);
			close(fd);
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

	ret = conn_handshake(&s->conn);
	if (ret == -EAGAIN)
		return session_watch(srv, s, EPOLL_CTL_MOD);
	if (ret) {
		session_close(srv, s, "TLS handshake failed");
		return 1;
	}
	while ((ret = conn_recv(&s->conn, &f, &why)) == 0) {
		ret = session_on_frame(srv, s, f);
		wire_free(f);
		if (ret) {
			session_close(srv, s, strerror(-ret));
			return 1;
		}
	}
	if (ret != -EAGAIN) {
		if (why)
			log_warn("agent %s at %s: bad frame: %s; closing",
				 s->conn.peer_cn, s->conn.peer, why);
		session_close(srv, s, why ? NULL : "connection ended");
		return 1;
	}
	ret = conn_flush(&s->conn);
	if (ret && ret != -EAGAIN) {
		session_close(srv, s, "write failed");
		return 1;
	}
	return session_watch(srv, s, EPOLL_CTL_MOD);
}

/* Connections that never finish a handshake must not hold a slot. */
static void reap_stalled(struct server *srv)
{
	time_t now = time(NULL);
	struct session *s = srv->sessions, *next;

	for (; s; s = next) {
		next = s->next;
		if (!s->conn.established &&
		    now - s->started >= srv->cfg->handshake_timeout_s)
			session_close(srv, s, "no TLS handshake in time");
	}
}

static int serve(struct server *srv, int tick_fd)
{
	struct epoll_event evs[64];

	for (;;) {
		int n = epoll_wait(srv->epoll_fd, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			void *tag = evs[i].data.ptr;
			uint64_t ticks;

			if (tag == EV_LISTEN) {
				accept_agents(srv);
			} else if (tag == EV_SIGNAL) {
				log_info("signal received; shutting down");
				return 0;
			} else if (tag == EV_TIMER) {
				if (read(tick_fd, &ticks, sizeof(ticks)) > 0)
					reap_stalled(srv);
			} else {
				session_io(srv, tag);
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct server_config cfg = {
		.alerts_path = "-",
		.block_ttl_s = 60,
		.max_sessions = 4096,
		.handshake_timeout_s = 10,
	};
	struct server srv = { .cfg = &cfg, .listen_fd = -1, .epoll_fd = -1 };
	int verbose = 0, sig_fd = -1, tick_fd = -1, ret;

	log_init("vnfsec-server", LOG_INFO);
	if (parse_args(argc, argv, &cfg, &verbose))
		return 2;
	if (verbose)
		log_init("vnfsec-server", LOG_DEBUG);

	ret = -EINVAL;
	srv.tls = tls_ctx_new(true, &cfg.tls);
	if (!srv.tls)
		goto out;
	ret = alerts_open(&srv);
	if (ret)
		goto out;
	ret = open_listener(&srv);
	if (ret)
		goto out;
	srv.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	sig_fd = evloop_signalfd();
	tick_fd = evloop_tick(1);
	if (srv.epoll_fd < 0 || sig_fd < 0 || tick_fd < 0 ||
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
	ret = serve(&srv, tick_fd);
out:
	while (srv.sessions)
		session_close(&srv, srv.sessions, NULL);
	if (tick_fd >= 0)
		close(tick_fd);
	if (sig_fd >= 0)
		close(sig_fd);
	if (srv.epoll_fd >= 0)
		close(srv.epoll_fd);
	if (srv.listen_fd >= 0)
		close(srv.listen_fd);
	agents_free(&srv);
	alerts_close(&srv);
	SSL_CTX_free(srv.tls);
	return ret ? 1 : 0;
}
