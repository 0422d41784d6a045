// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "selftests/server/srvlib.h"
#include "user/common/signing.h"

char *tpath(const char *dir, const char *name)
{
	/* Enough slots for every path one call to execv() needs. */
	static char buf[16][256];
	static int i;

	i = (i + 1) % 16;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

int make_ca(char *dir, size_t len, const char *agents)
{
	char cmd[1024];

	snprintf(dir, len, "/tmp/vnfsec-srvtest.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/tools/mkca %s %s >/dev/null",
		 getenv("VNFSEC_SRC"), dir, agents);
	return system(cmd) ? -1 : 0;
}

static int read_port(const char *path)
{
	FILE *f;
	int port = -1, i;

	for (i = 0; i < 200; i++) {
		f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%d", &port) != 1)
				port = -1;
			fclose(f);
			return port;
		}
		usleep(25000);
	}
	return -1;
}

int server_start(struct test_server *ts, const char *ca_dir,
		 const char *name, const char *listen,
		 const char *const *extra)
{
	const char *argv[64];
	char bin[512];
	int n = 0, i;

	snprintf(ts->dir, sizeof(ts->dir), "%s/%s", ca_dir, name);
	mkdir(ts->dir, 0700);
	unlink(tpath(ts->dir, "port"));
	unlink(tpath(ts->dir, "metrics-port"));
	snprintf(bin, sizeof(bin), "%s/bin/vnfsec-server",
		 getenv("VNFSEC_BUILD"));
	argv[n++] = bin;
	argv[n++] = "--listen";
	argv[n++] = listen ? listen : "127.0.0.1:0";
	argv[n++] = "--ca";
	argv[n++] = tpath(ca_dir, "ca.pem");
	argv[n++] = "--cert";
	argv[n++] = tpath(ca_dir, "server.pem");
	argv[n++] = "--key";
	argv[n++] = tpath(ca_dir, "server.key");
	argv[n++] = "--alerts";
	argv[n++] = tpath(ts->dir, "alerts.json");
	argv[n++] = "--port-file";
	argv[n++] = tpath(ts->dir, "port");
	argv[n++] = "--control";
	argv[n++] = tpath(ts->dir, "ctl.sock");
	argv[n++] = "--metrics";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--metrics-port-file";
	argv[n++] = tpath(ts->dir, "metrics-port");
	for (i = 0; extra && extra[i] && n < 63; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	ts->pid = fork();
	if (ts->pid < 0)
		return -1;
	if (ts->pid == 0) {
		int log = open(tpath(ts->dir, "server.log"),
			       O_WRONLY | O_CREAT | O_APPEND, 0600);

		/* Dies with the test, even when an ASSERT ends it early. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Its log lines would interleave with TAP. */
		if (!getenv("VNFSEC_TEST_VERBOSE"))
			dup2(log, 2);
		execv(bin, (char **)argv);
		_exit(127);
	}
	ts->port = read_port(tpath(ts->dir, "port"));
	ts->metrics_port = read_port(tpath(ts->dir, "metrics-port"));
	return ts->port > 0 && ts->metrics_port > 0 ? 0 : -1;
}

int server_stop(struct test_server *ts)
{
	int status;

	if (ts->pid <= 0)
		return 0;
	kill(ts->pid, SIGTERM);
	if (waitpid(ts->pid, &status, 0) != ts->pid)
		return -1;
	ts->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

SSL_CTX *agent_ctx(const char *ca_dir, const char *id)
{
	char cert[64], key[64];
	struct tls_files files;

	snprintf(cert, sizeof(cert), "%s.pem", id);
	snprintf(key, sizeof(key), "%s.key", id);
	files.ca = tpath(ca_dir, "ca.pem");
	files.cert = tpath(ca_dir, cert);
	files.key = tpath(ca_dir, key);
	return tls_ctx_new(false, &files);
}

int tcp_connect(int port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	/* A server that never answers fails the test, not hangs it. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

int agent_connect(SSL_CTX *ctx, int port, const char *id, struct conn *c)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Hello h = VNFSEC__HELLO__INIT;
	int fd = tcp_connect(port);

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (fd < 0 || conn_init(c, ctx, fd, "vnfsec-server") ||
	    conn_handshake(c))
		return -1;
	h.agent_id = (char *)id;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_HELLO;
	f.hello = &h;
	return conn_send(c, &f);
}

int send_assessment(struct conn *c, uint64_t id, int heuristic,
		    const uint8_t src[4], unsigned int dst_port,
		    unsigned int severity)
{
	static uint8_t dst[4] = { 10, 66, 0, 1 };
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Assessment a = VNFSEC__ASSESSMENT__INIT;

	a.id = id;
	a.time_unix_ms = 1;
	a.heuristic = heuristic;
	a.severity = severity;
	a.src_addr.data = (uint8_t *)src;
	a.src_addr.len = 4;
	a.dst_addr.data = dst;
	a.dst_addr.len = 4;
	a.dst_port = dst_port;
	a.count = 900;
	a.src_count = 880;
	a.window_ms = 1000;
	a.threshold = 500;
	a.iface = "veth-test";
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ASSESSMENT;
	f.assessment = &a;
	return conn_send(c, &f);
}

int send_flow_assessment(struct conn *c, uint64_t id, int heuristic,
			 const uint8_t src[4], unsigned int dst_port,
			 const char *vnf_src, const char *vnf_dst)
{
	static uint8_t dst[4] = { 10, 66, 0, 1 };
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Assessment a = VNFSEC__ASSESSMENT__INIT;
	Vnfsec__FlowTuple flow = VNFSEC__FLOW_TUPLE__INIT;

	flow.src_addr.data = (uint8_t *)src;
	flow.src_addr.len = 4;
	flow.dst_addr.data = dst;
	flow.dst_addr.len = 4;
	flow.src_port = FLOW_SRC_PORT;
	flow.dst_port = dst_port;
	flow.proto = IPPROTO_TCP;
	a.id = id;
	a.time_unix_ms = 1;
	a.heuristic = heuristic;
	a.severity = 6;
	a.src_addr.data = (uint8_t *)src;
	a.src_addr.len = 4;
	a.dst_addr.data = dst;
	a.dst_addr.len = 4;
	a.dst_port = dst_port;
	a.count = 900;
	a.src_count = 880;
	a.window_ms = 1000;
	a.threshold = 500;
	a.iface = "veth-test";
	a.flow = &flow;
	a.vnf_src = (char *)vnf_src;
	a.vnf_dst = (char *)vnf_dst;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ASSESSMENT;
	f.assessment = &a;
	return conn_send(c, &f);
}

int answer_action_status(struct conn *c, uint64_t seq, int status)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__ActionResult r = VNFSEC__ACTION_RESULT__INIT;

	r.seq = seq;
	r.status = status;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ACTION_RESULT;
	f.action_result = &r;
	return conn_send(c, &f);
}

int recv_action(struct conn *c, struct signing_verifier *v,
		Vnfsec__Action **out, int *kind)
{
	VnfsecSigned__Body *body;
	Vnfsec__Frame *f;
	const char *why;
	int ret = -1;

	*out = NULL;
	*kind = 0;
	while (ret && conn_recv(c, &f, &why) == 0) {
		if (f->body_case == VNFSEC__FRAME__BODY_ACTION) {
			uint8_t buf[1024];
			size_t n = vnfsec__action__get_packed_size(f->action);

			*kind = f->body_case;
			/* Its own copy, as a signed one is: the frame goes now. */
			if (n <= sizeof(buf)) {
				vnfsec__action__pack(f->action, buf);
				*out = vnfsec__action__unpack(NULL, n, buf);
			}
			ret = *out ? 0 : -1;
		} else if (f->body_case == VNFSEC__FRAME__BODY_SIGNED_ACTION) {
			*kind = f->body_case;
			ret = -1;
			if (v && !signing_verify(v, f->signed_action->envelope.data,
						 f->signed_action->envelope.len,
						 time(NULL), &body, &why)) {
				*out = vnfsec__action__unpack(NULL,
							      body->payload.len,
							      body->payload.data);
				signing_body_free(body);
				ret = *out && !wire_check_action(*out) ? 0 : -1;
			}
			if (ret) {
				wire_free(f);
				return -1;
			}
		}
		wire_free(f);
	}
	return ret;
}

static int answer_action(struct conn *c, const Vnfsec__Action *act)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__ActionResult r = VNFSEC__ACTION_RESULT__INIT;

	r.seq = act->seq;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ACTION_RESULT;
	f.action_result = &r;
	return conn_send(c, &f);
}

int wait_frame(struct conn *c, int body_case, Vnfsec__Frame **out)
{
	Vnfsec__Frame *f;
	const char *why;

	*out = NULL;
	while (conn_recv(c, &f, &why) == 0) {
		if (f->body_case == VNFSEC__FRAME__BODY_ACTION)
			answer_action(c, f->action);
		if ((int)f->body_case == body_case) {
			*out = f;
			return 0;
		}
		wire_free(f);
	}
	return -1;
}

int ctl(const char *sock, const char *req, char *resp, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	size_t got = 0;
	ssize_t n;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req) ||
	    write(fd, "\n", 1) != 1) {
		close(fd);
		return -1;
	}
	while (got + 1 < len && (n = read(fd, resp + got, len - 1 - got)) > 0) {
		got += n;
		if (memchr(resp, '\n', got))
			break;
	}
	resp[got] = '\0';
	close(fd);
	return memchr(resp, '\n', got) ? 0 : -1;
}

int http_get(int port, const char *path, char *buf, size_t len)
{
	char req[256];
	size_t got = 0;
	ssize_t n;
	int fd = tcp_connect(port);

	if (fd < 0)
		return -1;
	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
	return strstr(buf, " 200 ") ? 0 : -1;
}

int count_lines(const char *path, const char *needle)
{
	char line[8192];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

bool wait_lines(const char *path, const char *needle, int n)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (count_lines(path, needle) >= n)
			return true;
		usleep(50000);
	}
	return false;
}

bool wait_until(bool (*fn)(void *), void *arg, int secs)
{
	int i;

	for (i = 0; i < secs * 20; i++) {
		if (fn(arg))
			return true;
		usleep(50000);
	}
	return false;
}
