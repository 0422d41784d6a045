// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsec-server against real TLS 1.3 clients on loopback: a good agent is
 * acknowledged and answered with a block; every kind of bad input closes
 * only the offending connection, and the server keeps serving.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <openssl/err.h>

#include "kselftest_harness.h"
#include "selftests/server/srvlib.h"
#include "user/common/log.h"
#include "user/common/tls.h"

/* Blocking TLS client; returns 0 with @c established. */
static int tls_client(SSL_CTX *ctx, int port, struct conn *c)
{
	int fd = tcp_connect(port);

	if (fd < 0 || conn_init(c, ctx, fd, "vnfsec-server"))
		return -1;
	return conn_handshake(c);
}

static int send_hello(struct conn *c, const char *id)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Hello h = VNFSEC__HELLO__INIT;

	h.agent_id = (char *)id;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_HELLO;
	f.hello = &h;
	return conn_send(c, &f);
}

static int send_flood(struct conn *c, uint64_t id)
{
	static const uint8_t src[4] = { 10, 66, 0, 9 };

	return send_assessment(c, id, VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD,
			       src, 80, 7);
}

/* Raw bytes on the TLS stream, below the framing. */
static int send_raw(struct conn *c, const void *buf, int len)
{
	return SSL_write(c->ssl, buf, len) == len ? 0 : -1;
}

/* True when the server ends the connection instead of answering. */
static bool closed_by_server(struct conn *c)
{
	Vnfsec__Frame *f;
	const char *why;
	int ret = conn_recv(c, &f, &why);

	wire_free(f);
	return ret == -ECONNRESET || ret == -EIO;
}


/*
 * The server logs an action once it is queued to the agent: the agent
 * may hold it before the line is written. Wait a little for it.
 */
static int count_lines_settled(const char *path, const char *needle,
			       int want)
{
	int i, n = 0;

	for (i = 0; i < 100; i++) {
		n = count_lines(path, needle);
		if (n >= want)
			break;
		usleep(50000);
	}
	return n;
}

FIXTURE(server) {
	char dir[64];
	struct test_server ts;
	SSL_CTX *agent1;
};

FIXTURE_SETUP(server)
{
	static const char *const extra[] = { "--handshake-timeout", "2", NULL };

	ASSERT_NE(NULL, getenv("VNFSEC_SRC"));
	ASSERT_NE(NULL, getenv("VNFSEC_BUILD"));
	/* The client side's own log lines would break the TAP stream. */
	log_init("test", LOG_CRIT);
	ASSERT_EQ(0, make_ca(self->dir, sizeof(self->dir), "agent-1 agent-2"));
	ASSERT_EQ(0, server_start(&self->ts, self->dir, "srv", NULL, extra));
	self->agent1 = agent_ctx(self->dir, "agent-1");
	ASSERT_NE(NULL, self->agent1);
}

FIXTURE_TEARDOWN(server)
{
	char cmd[128];

	SSL_CTX_free(self->agent1);
	/* Exit 0 after SIGTERM: no crash, and no leak under ASan. */
	EXPECT_EQ(0, server_stop(&self->ts));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	system(cmd);
}

/* A full good session: hello, assessment, ack, block order. */
static bool good_session(struct __test_metadata *_metadata,
			 FIXTURE_DATA(server) *self, uint64_t id)
{
	bool got_ack = false, got_action = false;
	Vnfsec__Frame *f;
	struct conn c;
	const char *why;

	if (tls_client(self->agent1, self->ts.port, &c))
		return false;
	if (send_hello(&c, "agent-1") || send_flood(&c, id))
		goto out;
	while (!(got_ack && got_action) && conn_recv(&c, &f, &why) == 0) {
		if (f->body_case == VNFSEC__FRAME__BODY_ACK)
			got_ack = f->ack->assessment_id == id;
		if (f->body_case == VNFSEC__FRAME__BODY_ACTION)
			got_action = f->action->prefix_len == 32 &&
				     f->action->src_addr.len == 4 &&
				     f->action->src_addr.data[3] == 9;
		wire_free(f);
	}
out:
	conn_free(&c);
	TH_LOG("session %llu: ack %d action %d", (unsigned long long)id,
	       got_ack, got_action);
	return got_ack && got_action;
}

TEST_F(server, good_agent_is_acked_and_told_to_block)
{
	ASSERT_TRUE(good_session(_metadata, self, 1));
	EXPECT_EQ(1, count_lines(tpath(self->ts.dir, "alerts.json"),
				 "\"event_type\":\"alert\""));
	EXPECT_EQ(1, count_lines(tpath(self->ts.dir, "alerts.json"),
				 "\"src_ip\":\"10.66.0.9\",\"dest_ip\""));
	EXPECT_EQ(1, count_lines_settled(tpath(self->ts.dir, "alerts.json"),
					 "\"event_type\":\"action\"", 1));
}

TEST_F(server, plaintext_garbage_is_refused_and_server_serves_on)
{
	const char junk[] = "GET / HTTP/1.0\r\n\r\n";
	char buf[64];
	ssize_t n;
	int fd = tcp_connect(self->ts.port);

	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(junk), write(fd, junk, sizeof(junk)));
	/* At most a TLS alert, then the server hangs up (not a timeout). */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	EXPECT_TRUE(n == 0 || errno == ECONNRESET);
	close(fd);
	EXPECT_TRUE(good_session(_metadata, self, 1));
}

TEST_F(server, oversized_frame_closes_only_that_connection)
{
	const uint8_t hdr[4] = { 0x7f, 0xff, 0xff, 0xff };
	struct conn c;

	ASSERT_EQ(0, tls_client(self->agent1, self->ts.port, &c));
	ASSERT_EQ(0, send_hello(&c, "agent-1"));
	ASSERT_EQ(0, send_raw(&c, hdr, sizeof(hdr)));
	EXPECT_TRUE(closed_by_server(&c));
	conn_free(&c);
	EXPECT_TRUE(good_session(_metadata, self, 1));
}

TEST_F(server, truncated_frame_then_close_leaves_server_serving)
{
	const uint8_t part[8] = { 0, 0, 0, 100, 8, 1, 0x1a, 2 };
	struct conn c;

	ASSERT_EQ(0, tls_client(self->agent1, self->ts.port, &c));
	ASSERT_EQ(0, send_raw(&c, part, sizeof(part)));
	conn_free(&c);
	EXPECT_TRUE(good_session(_metadata, self, 1));
}

TEST_F(server, non_protobuf_payload_closes_connection)
{
	const uint8_t junk[12] = { 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff,
				   0xff, 0xff, 0xff, 0xff };
	struct conn c;

	ASSERT_EQ(0, tls_client(self->agent1, self->ts.port, &c));
	ASSERT_EQ(0, send_raw(&c, junk, sizeof(junk)));
	EXPECT_TRUE(closed_by_server(&c));
	conn_free(&c);
	EXPECT_TRUE(good_session(_metadata, self, 1));
}

TEST_F(server, unknown_protocol_version_closes_connection)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Heartbeat hb = VNFSEC__HEARTBEAT__INIT;
	struct conn c;

	ASSERT_EQ(0, tls_client(self->agent1, self->ts.port, &c));
	f.version = 99;
	f.body_case = VNFSEC__FRAME__BODY_HEARTBEAT;
	f.heartbeat = &hb;
	ASSERT_EQ(0, conn_send(&c, &f));
	EXPECT_TRUE(closed_by_server(&c));
	conn_free(&c);
	EXPECT_TRUE(good_session(_metadata, self, 1));
}

TEST_F(server, empty_frame_closes_connection)
{
	const uint8_t empty[4] = { 0, 0, 0, 0 };
	struct conn c;

	ASSERT_EQ(0, tls_client(self->agent1, self->ts.port, &c));
	ASSERT_EQ(0, send_raw(&c, empty, sizeof(empty)));
	EXPECT_TRUE(closed_by_server(&c));
	conn_free(&c);
}

TEST_F(server, assessment_before_hello_is_refused)
{
	struct conn c;

	ASSERT_EQ(0, tls_client(self->agent1, self->ts.port, &c));
	ASSERT_EQ(0, send_flood(&c, 1));
	EXPECT_TRUE(closed_by_server(&c));
	conn_free(&c);
	EXPECT_EQ(0, count_lines(tpath(self->ts.dir, "alerts.json"),
				 "\"event_type\":\"alert\""));
}

TEST_F(server, hello_naming_another_agent_is_refused)
{
	struct conn c;

	ASSERT_EQ(0, tls_client(self->agent1, self->ts.port, &c));
	ASSERT_EQ(0, send_hello(&c, "agent-2"));
	EXPECT_TRUE(closed_by_server(&c));
	conn_free(&c);
}

TEST_F(server, out_of_range_fields_close_connection)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Assessment a = VNFSEC__ASSESSMENT__INIT;
	uint8_t three[3] = { 1, 2, 3 };
	struct conn c;

	ASSERT_EQ(0, tls_client(self->agent1, self->ts.port, &c));
	ASSERT_EQ(0, send_hello(&c, "agent-1"));
	a.id = 1;
	a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD;
	a.severity = 7;
	a.src_addr.data = three;	/* neither IPv4 nor IPv6 */
	a.src_addr.len = 3;
	a.dst_addr = a.src_addr;
	a.iface = "";
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ASSESSMENT;
	f.assessment = &a;
	ASSERT_EQ(0, conn_send(&c, &f));
	EXPECT_TRUE(closed_by_server(&c));
	conn_free(&c);
	EXPECT_EQ(0, count_lines(tpath(self->ts.dir, "alerts.json"),
				 "\"event_type\":\"alert\""));
}

TEST_F(server, client_without_certificate_gets_no_session)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct conn c;

	ASSERT_NE(NULL, ctx);
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_load_verify_locations(ctx, tpath(self->dir, "ca.pem"),
				      NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* TLS 1.3 reports the refused certificate after the handshake. */
	if (tls_client(ctx, self->ts.port, &c) == 0 &&
	    send_hello(&c, "agent-1") == 0)
		EXPECT_TRUE(closed_by_server(&c));
	conn_free(&c);
	SSL_CTX_free(ctx);
	EXPECT_TRUE(good_session(_metadata, self, 1));
}

TEST_F(server, resent_assessment_is_acked_but_alerted_once)
{
	struct conn c;
	Vnfsec__Frame *f;
	const char *why;
	int acks = 0;

	EXPECT_TRUE(good_session(_metadata, self, 7));
	/* A reconnecting agent resends what was not acknowledged. */
	ASSERT_EQ(0, tls_client(self->agent1, self->ts.port, &c));
	ASSERT_EQ(0, send_hello(&c, "agent-1"));
	ASSERT_EQ(0, send_flood(&c, 7));
	ASSERT_EQ(0, send_flood(&c, 6));
	ASSERT_EQ(0, send_flood(&c, 8));
	while (acks < 3 && conn_recv(&c, &f, &why) == 0) {
		acks += f->body_case == VNFSEC__FRAME__BODY_ACK;
		wire_free(f);
	}
	conn_free(&c);
	EXPECT_EQ(3, acks);
	EXPECT_EQ(2, count_lines(tpath(self->ts.dir, "alerts.json"),
				 "\"event_type\":\"alert\""));
	/* The block ordered for the first report still stands. */
	EXPECT_EQ(1, count_lines_settled(tpath(self->ts.dir, "alerts.json"),
					 "\"event_type\":\"action\"", 1));
}

TEST_F(server, stalled_handshake_is_reaped)
{
	int fd = tcp_connect(self->ts.port);
	char buf[8];

	ASSERT_LE(0, fd);
	/* Say nothing: the server must cut us after --handshake-timeout. */
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
}

TEST_F(server, random_garbage_storm_leaves_server_serving)
{
	uint8_t junk[512];
	unsigned int seed = 1;
	int i, j;

	for (i = 0; i < 50; i++) {
		struct conn c;

		if (tls_client(self->agent1, self->ts.port, &c))
			continue;
		for (j = 0; j < (int)sizeof(junk); j++)
			junk[j] = rand_r(&seed);
		send_raw(&c, junk, 1 + rand_r(&seed) % sizeof(junk));
		conn_free(&c);
	}
	EXPECT_TRUE(good_session(_metadata, self, 1));
}

TEST(wire_decode_rejects_what_it_cannot_trust)
{
	const uint8_t junk[] = { 0xff, 0xff, 0xff };
	Vnfsec__Frame *f;
	const char *why;
	uint8_t big[1];

	EXPECT_EQ(-EBADMSG, wire_decode(junk, sizeof(junk), &f, &why));
	EXPECT_EQ(NULL, f);
	EXPECT_EQ(-EMSGSIZE, wire_decode(big, WIRE_FRAME_MAX + 1, &f, &why));
	/* An empty payload is a Frame with no version and no body. */
	EXPECT_EQ(-EPROTO, wire_decode(junk, 0, &f, &why));
}

TEST(wire_round_trip_keeps_every_field)
{
	Vnfsec__Frame in = VNFSEC__FRAME__INIT, *out;
	Vnfsec__Action act = VNFSEC__ACTION__INIT;
	uint8_t addr[4] = { 192, 0, 2, 7 };
	const char *why;
	uint8_t *buf;
	size_t len;

	act.seq = 3;
	act.type = VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE;
	act.src_addr.data = addr;
	act.src_addr.len = 4;
	act.prefix_len = 24;
	act.ttl_s = 60;
	in.version = WIRE_VERSION;
	in.body_case = VNFSEC__FRAME__BODY_ACTION;
	in.action = &act;
	ASSERT_EQ(0, wire_encode(&in, &buf, &len));
	ASSERT_EQ(len - WIRE_HDR_LEN, wire_hdr_len(buf));
	ASSERT_EQ(0, wire_decode(buf + WIRE_HDR_LEN, len - WIRE_HDR_LEN,
				 &out, &why));
	EXPECT_EQ(3, out->action->seq);
	EXPECT_EQ(24, out->action->prefix_len);
	EXPECT_EQ(60, out->action->ttl_s);
	EXPECT_EQ(0, memcmp(addr, out->action->src_addr.data, 4));
	act.prefix_len = 33;
	wire_free(out);
	free(buf);
	ASSERT_EQ(0, wire_encode(&in, &buf, &len));
	EXPECT_EQ(-EPROTO, wire_decode(buf + WIRE_HDR_LEN,
				       len - WIRE_HDR_LEN, &out, &why));
	free(buf);
}

TEST(incident_summary_fields_are_validated)
{
	Vnfsec__Frame in = VNFSEC__FRAME__INIT, *out;
	Vnfsec__IncidentSummary sum = VNFSEC__INCIDENT_SUMMARY__INIT;
	uint8_t addr[3] = { 192, 0, 2 };
	const char *why;
	uint8_t *buf;
	size_t len;

	sum.id = 4;
	sum.revision = 1;
	sum.heuristic = VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD;
	sum.severity = 5;
	sum.state = VNFSEC__INCIDENT_STATE__INCIDENT_OPEN;
	sum.first_seen_ms = 1;
	sum.last_seen_ms = 2;
	sum.indicator_source = "";
	in.version = WIRE_VERSION;
	in.body_case = VNFSEC__FRAME__BODY_INCIDENT_SUMMARY;
	in.incident_summary = &sum;
	ASSERT_EQ(0, wire_encode(&in, &buf, &len));
	ASSERT_EQ(0, wire_decode(buf + WIRE_HDR_LEN, len - WIRE_HDR_LEN,
				 &out, &why));
	EXPECT_EQ(4, out->incident_summary->id);
	wire_free(out);
	free(buf);
	/* Each defect alone is refused. */
	sum.src_addr.data = addr;
	sum.src_addr.len = 3;
	ASSERT_EQ(0, wire_encode(&in, &buf, &len));
	EXPECT_EQ(-EPROTO, wire_decode(buf + WIRE_HDR_LEN,
				       len - WIRE_HDR_LEN, &out, &why));
	free(buf);
	sum.src_addr.len = 0;
	sum.severity = 11;
	ASSERT_EQ(0, wire_encode(&in, &buf, &len));
	EXPECT_EQ(-EPROTO, wire_decode(buf + WIRE_HDR_LEN,
				       len - WIRE_HDR_LEN, &out, &why));
	free(buf);
	sum.severity = 5;
	sum.last_seen_ms = 0;
	ASSERT_EQ(0, wire_encode(&in, &buf, &len));
	EXPECT_EQ(-EPROTO, wire_decode(buf + WIRE_HDR_LEN,
				       len - WIRE_HDR_LEN, &out, &why));
	free(buf);
}

TEST(assessment_evidence_and_flow_are_validated)
{
	Vnfsec__Frame in = VNFSEC__FRAME__INIT, *out;
	Vnfsec__Assessment a = VNFSEC__ASSESSMENT__INIT;
	Vnfsec__FlowTuple t = VNFSEC__FLOW_TUPLE__INIT;
	Vnfsec__Evidence e = VNFSEC__EVIDENCE__INIT, *ev[1] = { &e };
	uint8_t src[4] = { 10, 0, 0, 1 }, dst6[16] = { 0x20, 0x01 };
	const char *why;
	uint8_t *buf;
	size_t len;

	a.id = 1;
	a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL;
	a.severity = 3;
	a.src_addr.data = src;
	a.src_addr.len = 4;
	a.dst_addr = a.src_addr;
	e.name = "";			/* an unnamed fact is refused */
	a.n_evidence = 1;
	a.evidence = ev;
	in.version = WIRE_VERSION;
	in.body_case = VNFSEC__FRAME__BODY_ASSESSMENT;
	in.assessment = &a;
	ASSERT_EQ(0, wire_encode(&in, &buf, &len));
	EXPECT_EQ(-EPROTO, wire_decode(buf + WIRE_HDR_LEN,
				       len - WIRE_HDR_LEN, &out, &why));
	free(buf);
	e.name = "ja3";
	t.src_addr = a.src_addr;	/* IPv4 to IPv6: not one flow */
	t.dst_addr.data = dst6;
	t.dst_addr.len = 16;
	a.flow = &t;
	ASSERT_EQ(0, wire_encode(&in, &buf, &len));
	EXPECT_EQ(-EPROTO, wire_decode(buf + WIRE_HDR_LEN,
				       len - WIRE_HDR_LEN, &out, &why));
	free(buf);
	t.dst_addr = a.src_addr;
	ASSERT_EQ(0, wire_encode(&in, &buf, &len));
	EXPECT_EQ(0, wire_decode(buf + WIRE_HDR_LEN, len - WIRE_HDR_LEN,
				 &out, &why));
	wire_free(out);
	free(buf);
}

/* A short libFuzzer run on the decoder; `make fuzz` runs a million. */
TEST(fuzz_wire_decode_short_run)
{
	const char *build = getenv("VNFSEC_BUILD"), *src = getenv("VNFSEC_SRC");
	char cmd[1024], dir[] = "/tmp/vnfsec-fuzz.XXXXXX";
	int status;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "%s/tests/server/fuzz_wire -runs=100000 -seed=1 -max_len=4096 -artifact_prefix=%s/ %s %s/selftests/server/fixtures/wire-seeds >%s/log 2>&1",
		 build, dir, dir, src, dir);
	status = system(cmd);
	if (status)
		TH_LOG("fuzzer failed; its log: %s/log", dir);
	EXPECT_EQ(0, status);
	if (!status) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		system(cmd);
	}
}

TEST_HARNESS_MAIN
