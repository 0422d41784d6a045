// SPDX-License-Identifier: GPL-2.0-only
/*
 * Faults and hostile clients against a real vnfsec-server: peers killed
 * mid-handshake, mid-frame and idle (FIN without close_notify, RST),
 * clients without certificates or with another CA's, slow and idle
 * clients on every listening socket, while simulated agents
 * (vnfsec-agentsim) report. What is asserted is what operations need:
 * no healthy session dropped, no assessment lost, services answering.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include "user/common/heuristic.h"

#include "kselftest_harness.h"
#include "selftests/server/srvlib.h"

#define CHAOS_IDS	8
#define OTHER_SOURCE	"127.0.0.2"	/* loopback too, another address */

FIXTURE(faults) {
	char ca[64];
	char rogue_ca[64];	/* another CA, same names */
	struct test_server srv;
	SSL_CTX *agent[CHAOS_IDS];
	SSL_CTX *rogue, *nocert;
	char resp[65536];
};

FIXTURE_SETUP(faults)
{
	char ids[256] = "", id[32];
	int i;

	for (i = 0; i < CHAOS_IDS; i++) {
		snprintf(id, sizeof(id), " chaos-%d", i);
		strcat(ids, id);
	}
	ASSERT_EQ(0, make_ca(self->ca, sizeof(self->ca), ids));
	ASSERT_EQ(0, make_ca(self->rogue_ca, sizeof(self->rogue_ca),
			     "chaos-0"));
	for (i = 0; i < CHAOS_IDS; i++) {
		snprintf(id, sizeof(id), "chaos-%d", i);
		self->agent[i] = agent_ctx(self->ca, id);
		ASSERT_NE(NULL, self->agent[i]);
	}
	/* The rogue CA's certificate, checked against our CA by the server. */
	self->rogue = agent_ctx(self->rogue_ca, "chaos-0");
	ASSERT_NE(NULL, self->rogue);
	ASSERT_EQ(1, SSL_CTX_load_verify_locations(self->rogue,
						   tpath(self->ca, "ca.pem"),
						   NULL));
	self->nocert = SSL_CTX_new(TLS_client_method());
	ASSERT_NE(NULL, self->nocert);
	ASSERT_EQ(1, SSL_CTX_load_verify_locations(self->nocert,
						   tpath(self->ca, "ca.pem"),
						   NULL));
	self->srv.pid = 0;
}

FIXTURE_TEARDOWN(faults)
{
	char cmd[256];
	int i;

	if (self->srv.pid > 0)
		server_stop(&self->srv);
	for (i = 0; i < CHAOS_IDS; i++)
		SSL_CTX_free(self->agent[i]);
	SSL_CTX_free(self->rogue);
	SSL_CTX_free(self->nocert);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", self->ca, self->rogue_ca);
	if (system(cmd))
		TH_LOG("cannot remove %s", self->ca);
}

enum chaos {
	MID_HANDSHAKE_FIN, MID_HANDSHAKE_RST, IDLE_FIN, IDLE_RST,
	MID_FRAME_FIN, MID_FRAME_RST, NO_CERT, OTHER_CA, CHAOS_KINDS
};

static void die(int fd, bool rst)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[4096];

	/*
	 * A FIN needs an empty receive queue: closing over unread bytes
	 * (the server's session tickets) makes the kernel send RST.
	 */
	if (!rst)
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;

	/* Linger 0: close() sends RST, as a killed host's stack may. */
	if (rst)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/*
 * One peer that goes wrong as @kind says and vanishes without
 * close_notify. Its own fate does not matter; the agents' does.
 */
static void chaos_peer(FIXTURE_DATA(faults) *self, enum chaos kind, int n)
{
	/* The first bytes of a ClientHello, then nothing. */
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01,
					 0x00, 0x01, 0xfc, 0x03 };
	/* A header promising 100 bytes, then two of them. */
	static const uint8_t part[] = { 0, 0, 0, 100, 8, 1 };
	SSL_CTX *ctx = self->agent[n % CHAOS_IDS];
	bool rst = kind == MID_HANDSHAKE_RST || kind == IDLE_RST ||
		   kind == MID_FRAME_RST;
	char id[32];
	struct conn c;
	int fd;

	snprintf(id, sizeof(id), "chaos-%d", n % CHAOS_IDS);
	switch (kind) {
	case MID_HANDSHAKE_FIN:
	case MID_HANDSHAKE_RST:
		fd = tcp_connect(self->srv.port);
		if (fd < 0)
			return;
		/* A short write is a peer going wrong too. */
		if (write(fd, hello, sizeof(hello)) < 0)
			fd = fd;
		usleep(20000);
		die(fd, rst);
		return;
	case NO_CERT:
	case OTHER_CA:
		ctx = kind == NO_CERT ? self->nocert : self->rogue;
		/* fall through */
	default:
		break;
	}
	if (agent_connect(ctx, self->srv.port, id, &c)) {
		conn_free(&c);
		return;
	}
	/* Let the server take the hello: the session is established. */
	usleep(20000);
	if (kind == MID_FRAME_FIN || kind == MID_FRAME_RST)
		SSL_write(c.ssl, part, sizeof(part));
	usleep(10000);
	die(c.fd, rst);
	c.fd = -1;
	/* Killed: the SSL goes without a close_notify. */
	SSL_free(c.ssl);
	c.ssl = NULL;
	conn_free(&c);
}

/*
 * vnfsec-agentsim with @args against the server, in the background; its
 * summary line is read by agentsim_wait().
 */
static FILE *agentsim_start(FIXTURE_DATA(faults) *self, const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "%s/bin/vnfsec-agentsim --server 127.0.0.1:%d --ca %s --ca-key %s %s --timeout 120",
		 getenv("VNFSEC_BUILD"), self->srv.port,
		 tpath(self->ca, "ca.pem"), tpath(self->ca, "ca.key"), args);
	return popen(cmd, "r");
}

static int agentsim_wait(FILE *p, char *line, size_t len)
{
	line[0] = '\0';
	if (!fgets(line, len, p))
		line[0] = '\0';
	return pclose(p);
}

static bool reporting(void *arg)
{
	FIXTURE_DATA(faults) *self = arg;
	const char *m;

	if (http_get(self->srv.metrics_port, "/metrics", self->resp,
		     sizeof(self->resp)))
		return false;
	m = strstr(self->resp, "\nvnfsec_assessments_total ");
	return m && strtoul(m + 27, NULL, 10) > 0;
}

/*
 * 200 peers killed in every way while 1,000 agents report: the agents'
 * sessions all stay up (agentsim fails on any drop) and every report is
 * acknowledged.
 */
TEST_F_TIMEOUT(faults, killed_peers_never_drop_healthy_sessions, 180)
{
	char line[512];
	FILE *sim;
	int i;

	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, NULL));
	sim = agentsim_start(self, "--agents 1000 --assessments 5 --sources 16 --rate 500");
	ASSERT_NE(NULL, sim);
	/* Reports flow once every agent is connected: kill among them. */
	ASSERT_TRUE(wait_until(reporting, self, 90));
	for (i = 0; i < 200; i++)
		chaos_peer(self, (enum chaos)(i % CHAOS_KINDS), i);
	EXPECT_EQ(0, agentsim_wait(sim, line, sizeof(line)));
	TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "agents 1000 connected 1000 "));
	EXPECT_NE(NULL, strstr(line, " failed 0;"));
	EXPECT_NE(NULL, strstr(line, "assessments 5000 acked"));
	ASSERT_EQ(0, http_get(self->srv.metrics_port, "/metrics",
			      self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp,
			       "\nvnfsec_assessments_total 5000\n"));
	EXPECT_EQ(0, server_stop(&self->srv));
	self->srv.pid = 0;
}

/* TCP from @src (NULL: 127.0.0.1) to 127.0.0.1:@port, 5 s timeouts. */
static int tcp_from(const char *src, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	inet_pton(AF_INET, src ? src : "127.0.0.1", &sin.sin_addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		goto fail;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* GET /metrics from @src; seconds it took, or -1 when it failed. */
static double metrics_from(const char *src, int port, char *buf, size_t len)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	double t0 = now_s();
	size_t got = 0;
	ssize_t n;
	int fd = tcp_from(src, port);

	if (fd < 0)
		return -1;
	if (write(fd, req, sizeof(req) - 1) != sizeof(req) - 1) {
		close(fd);
		return -1;
	}
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
	return strstr(buf, " 200 ") ? now_s() - t0 : -1;
}

/*
 * 64 clients trickle header bytes at /metrics and never finish: the
 * metrics still answer another address within a second throughout, the
 * trickling ones are cut at the request deadline, and once they are gone
 * their own address is answered at once.
 */
TEST_F_TIMEOUT(faults, slow_http_clients_never_starve_metrics, 60)
{
	int slow[64], i, round, cut = 0;
	double t;

	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, NULL));
	for (i = 0; i < 64; i++) {
		slow[i] = tcp_from(NULL, self->srv.metrics_port);
		ASSERT_LE(0, slow[i]);
		send(slow[i], "GET /metrics HTTP/1.1\r\nX-Slow: ", 31,
		     MSG_NOSIGNAL);
	}
	for (round = 0; round < 16; round++) {
		for (i = 0; i < 64; i++)
			send(slow[i], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		t = metrics_from(OTHER_SOURCE, self->srv.metrics_port,
				 self->resp, sizeof(self->resp));
		EXPECT_LE(0, t);
		EXPECT_GT(1.0, t);
		usleep(500000);
	}
	/* 8 s in: past the 5 s deadline, every slow one is cut or refused. */
	for (i = 0; i < 64; i++) {
		char c;

		cut += recv(slow[i], &c, 1, MSG_DONTWAIT) <= 0 &&
		       errno != EAGAIN;
		close(slow[i]);
	}
	EXPECT_EQ(64, cut);
	t = metrics_from(NULL, self->srv.metrics_port, self->resp,
			 sizeof(self->resp));
	EXPECT_LE(0, t);
	EXPECT_GT(1.0, t);
	/* 8 taken in (the per-address limit), 56 refused at once. */
	EXPECT_NE(NULL, strstr(self->resp,
			       "\nvnfsec_http_deadline_cut_total 8\n"));
}

/*
 * One address opens 140 connections and says nothing, with --max-agents
 * 140: only 128 of them are taken in, so an agent from elsewhere still
 * connects and reports within a second.
 */
TEST_F_TIMEOUT(faults, handshake_flood_from_one_source_leaves_room, 60)
{
	static const char *const extra[] = { "--max-agents", "140", NULL };
	uint8_t src[4] = { 198, 51, 100, 7 };
	Vnfsec__Frame hf = VNFSEC__FRAME__INIT, *f;
	Vnfsec__Hello h = VNFSEC__HELLO__INIT;
	int idle[140], i, fd, refused = 0;
	struct conn c;
	double t0;

	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	for (i = 0; i < 140; i++) {
		idle[i] = tcp_from(NULL, self->srv.port);
		ASSERT_LE(0, idle[i]);
	}
	usleep(500000);
	t0 = now_s();
	fd = tcp_from(OTHER_SOURCE, self->srv.port);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, conn_init(&c, self->agent[0], fd, "vnfsec-server"));
	ASSERT_EQ(0, conn_handshake(&c));
	h.agent_id = "chaos-0";
	hf.version = WIRE_VERSION;
	hf.body_case = VNFSEC__FRAME__BODY_HELLO;
	hf.hello = &h;
	ASSERT_EQ(0, conn_send(&c, &hf));
	ASSERT_EQ(0, send_assessment(&c, 1, VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD,
				     src, 80, 7));
	ASSERT_EQ(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACK, &f));
	wire_free(f);
	EXPECT_GT(1.0, now_s() - t0);
	conn_free(&c);
	for (i = 0; i < 140; i++) {
		char b;

		refused += recv(idle[i], &b, 1, MSG_DONTWAIT) == 0;
		close(idle[i]);
	}
	EXPECT_EQ(12, refused);
	ASSERT_EQ(0, http_get(self->srv.metrics_port, "/metrics", self->resp,
			      sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp,
			       "\nvnfsec_handshakes_refused_total 12\n"));
}

/* The one table of heuristic names, made from the wire enum. */
TEST(heuristic_names_come_from_the_wire_enum)
{
	EXPECT_STREQ("syn_flood", heuristic_name(1));
	EXPECT_STREQ("posture_change",
		     heuristic_name(VNFSEC__HEURISTIC__HEURISTIC_POSTURE_CHANGE));
	EXPECT_STREQ("unspecified", heuristic_name(0));
	EXPECT_STREQ("unknown", heuristic_name(-1));
	EXPECT_STREQ("unknown", heuristic_name(1000));
}

TEST_HARNESS_MAIN
