/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the server suite's tests share: a real vnfsec-server in a child
 * process, real TLS agents, the control socket and /metrics over HTTP.
 * No assertions here (the harness lives in each test file): every helper
 * returns 0 or a negative value and the test asserts on it.
 */
#ifndef VNFSEC_SELFTEST_SRVLIB_H
#define VNFSEC_SELFTEST_SRVLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "user/common/tls.h"

struct test_server {
	char dir[128];		/* per-server files: port, alerts, db */
	pid_t pid;
	int port;
	int metrics_port;
};

/* "DIR/NAME" in one of a few rotating buffers. */
char *tpath(const char *dir, const char *name);

/* A CA with server and agent certificates in a fresh temporary dir. */
int make_ca(char *dir, size_t len, const char *agents);

/*
 * Start vnfsec-server with its files in @ca_dir/@name/ and @extra
 * arguments (NULL-terminated) after the usual ones. @listen NULL means
 * 127.0.0.1:0. Waits for its port (and metrics port) files.
 */
int server_start(struct test_server *ts, const char *ca_dir,
		 const char *name, const char *listen,
		 const char *const *extra);
/* SIGTERM; returns its exit status (0 expected), -1 if it crashed. */
int server_stop(struct test_server *ts);

SSL_CTX *agent_ctx(const char *ca_dir, const char *id);
/* TCP to 127.0.0.1:@port with 5 s timeouts; the fd, or -1. */
int tcp_connect(int port);
/* Connect, handshake, hello as @id. */
int agent_connect(SSL_CTX *ctx, int port, const char *id, struct conn *c);
int send_assessment(struct conn *c, uint64_t id, int heuristic,
		    const uint8_t src[4], unsigned int dst_port,
		    unsigned int severity);
#define FLOW_SRC_PORT 40000	/* source port of send_flow_assessment() */

/*
 * A SYN-flood-like report with a flow (@src:FLOW_SRC_PORT -> 10.66.0.1:
 * @dst_port, TCP) and the VNFs it went between, for flow and VNF actions.
 */
int send_flow_assessment(struct conn *c, uint64_t id, int heuristic,
			 const uint8_t src[4], unsigned int dst_port,
			 const char *vnf_src, const char *vnf_dst);

struct signing_verifier;
/*
 * Read frames until an action arrives, plain or signed (then verified
 * with @v, NULL refusing every signed one): 0 and *out (free with
 * vnfsec__action__free_unpacked()), *kind the frame's body case; -1 when
 * the connection ends, times out or a signed action does not verify.
 */
int recv_action(struct conn *c, struct signing_verifier *v,
		Vnfsec__Action **out, int *kind);
/* Answer action @seq with @status (0 or -errno). */
int answer_action_status(struct conn *c, uint64_t seq, int status);

/*
 * Read frames until one of @body_case arrives (returned in *out, for
 * wire_free) or the connection ends or times out (5 s): then -1. Acks of
 * other types on the way are answered as an agent would: an Action gets
 * an ActionResult with status 0.
 */
int wait_frame(struct conn *c, int body_case, Vnfsec__Frame **out);

/* One control request; the response line in @resp. */
int ctl(const char *sock, const char *req, char *resp, size_t len);
/* GET @path from 127.0.0.1:@port; the body in @buf. */
int http_get(int port, const char *path, char *buf, size_t len);

int count_lines(const char *path, const char *needle);
/* Wait up to 5 s for at least @n lines of @path holding @needle. */
bool wait_lines(const char *path, const char *needle, int n);
/* Poll @fn until it returns true, for up to @secs seconds. */
bool wait_until(bool (*fn)(void *), void *arg, int secs);

#endif /* VNFSEC_SELFTEST_SRVLIB_H */
