// SPDX-License-Identifier: GPL-2.0-only
/*
 * The security server's picture of many agents: correlation into
 * incidents, the threat database, playbooks and the hook, the control
 * socket, /metrics, the store across restarts and the hierarchy of
 * servers. Real servers, real TLS agents on loopback.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "selftests/server/pglib.h"
#include "selftests/server/srvlib.h"
#include "user/common/log.h"

#define SYN_FLOOD VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD
#define VSCAN VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN

static const uint8_t scanner[4] = { 10, 66, 0, 50 };

static char *fixture(const char *name)
{
	return tpath(tpath(getenv("VNFSEC_SRC"), "selftests/server/fixtures"),
		     name);
}

FIXTURE(hier) {
	char ca[64];
	struct test_server srv[2];
	SSL_CTX *a1, *a2;
	char resp[65536];
	struct test_pg pg;	/* the restart test on PostgreSQL */
};

FIXTURE_SETUP(hier)
{
	ASSERT_NE(NULL, getenv("VNFSEC_SRC"));
	ASSERT_NE(NULL, getenv("VNFSEC_BUILD"));
	/* The client side's own log lines would break the TAP stream. */
	log_init("test", LOG_CRIT);
	memset(self->srv, 0, sizeof(self->srv));
	ASSERT_EQ(0, make_ca(self->ca, sizeof(self->ca),
			     "agent-1 agent-2 child:child-1"));
	self->a1 = agent_ctx(self->ca, "agent-1");
	self->a2 = agent_ctx(self->ca, "agent-2");
	ASSERT_NE(NULL, self->a1);
	ASSERT_NE(NULL, self->a2);
}

FIXTURE_TEARDOWN(hier)
{
	char cmd[128];
	int i;

	SSL_CTX_free(self->a1);
	SSL_CTX_free(self->a2);
	/* Exit 0 after SIGTERM: no crash, and no leak under ASan. */
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, server_stop(&self->srv[i]));
	pg_stop(&self->pg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->ca);
	system(cmd);
}

/*
 * Report @heuristic from @src as @id; true when acked and, if
 * @want_block, ordered to block @src (the order may come before the ack).
 */
static bool report(struct conn *c, uint64_t id, int heuristic,
		   const uint8_t *src, bool want_block, unsigned int *ttl)
{
	bool acked = false, blocked = !want_block, ok = true;
	Vnfsec__Frame *f;
	const char *why;

	if (send_assessment(c, id, heuristic, src, 22, 6))
		return false;
	while (!(acked && blocked) && conn_recv(c, &f, &why) == 0) {
		if (f->body_case == VNFSEC__FRAME__BODY_ACK) {
			acked = true;
			ok &= f->ack->assessment_id == id;
		} else if (f->body_case == VNFSEC__FRAME__BODY_ACTION) {
			Vnfsec__Frame r = VNFSEC__FRAME__INIT;
			Vnfsec__ActionResult res = VNFSEC__ACTION_RESULT__INIT;

			blocked = true;
			ok &= want_block && f->action->type ==
				VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE &&
			      f->action->src_addr.len == 4 &&
			      !memcmp(f->action->src_addr.data, src, 4);
			if (ttl)
				*ttl = f->action->ttl_s;
			res.seq = f->action->seq;
			r.version = WIRE_VERSION;
			r.body_case = VNFSEC__FRAME__BODY_ACTION_RESULT;
			r.action_result = &res;
			ok &= conn_send(c, &r) == 0;
		}
		wire_free(f);
	}
	return ok && acked && blocked;
}

static const char *ctl_sock(struct test_server *ts)
{
	return tpath(ts->dir, "ctl.sock");
}

TEST_F(hier, two_agents_same_scanner_make_one_incident_and_two_blocks)
{
	struct conn c1, c2;

	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "s", NULL, NULL));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	ASSERT_EQ(0, agent_connect(self->a2, self->srv[0].port, "agent-2",
				   &c2));
	EXPECT_TRUE(report(&c1, 1, VSCAN, scanner, true, NULL));
	EXPECT_TRUE(report(&c2, 1, VSCAN, scanner, true, NULL));
	/* A third report joins the incident and orders nothing new. */
	EXPECT_TRUE(report(&c1, 2, VSCAN, scanner, false, NULL));
	/* Both blocks applied: the incident is remediated. */
	EXPECT_TRUE(wait_lines(tpath(self->srv[0].dir, "alerts.json"),
			       "\"state\":\"remediated\"", 1));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]),
			 "{\"cmd\":\"incidents\",\"args\":{\"state\":\"remediated\"}}",
			 self->resp, sizeof(self->resp)));
	TH_LOG("%s", self->resp);
	EXPECT_NE(NULL, strstr(self->resp, "\"agents\":[\"agent-1\",\"agent-2\"]") ?:
		  strstr(self->resp, "\"agents\":[\"agent-2\",\"agent-1\"]"));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]), "{\"cmd\":\"incidents\"}",
			 self->resp, sizeof(self->resp)));
	EXPECT_EQ(NULL, strstr(strstr(self->resp, "\"id\":1") ?: "",
			       "\"id\":2"));
	EXPECT_NE(NULL, strstr(self->resp, "\"type\":\"vertical_scan\""));
	EXPECT_EQ(2, count_lines(tpath(self->srv[0].dir, "alerts.json"),
				 "\"event_type\":\"action\""));
	EXPECT_TRUE(wait_lines(tpath(self->srv[0].dir, "alerts.json"),
			       "\"event_type\":\"action_result\"", 2));
	conn_free(&c1);
	conn_free(&c2);
}

TEST_F(hier, different_sources_are_different_incidents)
{
	static const uint8_t other[4] = { 10, 66, 0, 51 };
	struct conn c1;

	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "s", NULL, NULL));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	EXPECT_TRUE(report(&c1, 1, SYN_FLOOD, scanner, true, NULL));
	EXPECT_TRUE(report(&c1, 2, SYN_FLOOD, other, true, NULL));
	/* Same source, other pattern: another incident, block in force. */
	EXPECT_TRUE(report(&c1, 3, VSCAN, scanner, false, NULL));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]), "{\"cmd\":\"incidents\"}",
			 self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"id\":3"));
	EXPECT_EQ(NULL, strstr(self->resp, "\"id\":4"));
	conn_free(&c1);
}

TEST_F(hier, feeds_import_and_known_bad_source_is_blocked_everywhere)
{
	static const uint8_t listed[4] = { 10, 66, 7, 9 };
	static const uint8_t expired[4] = { 10, 66, 9, 9 };
	char import[512], arg[300];
	const char *extra[] = { "--import", arg, NULL };
	Vnfsec__Frame *f;
	struct conn c1, c2;

	snprintf(arg, sizeof(arg), "cidr:%s", fixture("drop.txt"));
	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "s", NULL, extra));
	snprintf(import, sizeof(import),
		 "{\"cmd\":\"threatdb.import\",\"id\":7,\"args\":{\"path\":\"%s\",\"format\":\"csv\"}}",
		 fixture("indicators.csv"));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]), import, self->resp,
			 sizeof(self->resp)));
	TH_LOG("%s", self->resp);
	EXPECT_NE(NULL, strstr(self->resp, "\"id\":7"));
	/* ja3 and signature lines are refused: nothing could match them. */
	EXPECT_NE(NULL, strstr(self->resp, "\"imported\":3,\"skipped\":3"));
	EXPECT_EQ(2, count_lines(tpath(self->srv[0].dir, "server.log"),
				 "skipped: ja3 and signature indicators are not supported: no agent sends"));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]), "{\"cmd\":\"status\"}",
			 self->resp, sizeof(self->resp)));
	/* 5 prefixes from the drop list (2 lines skipped), 3 from CSV. */
	EXPECT_NE(NULL, strstr(self->resp, "\"indicators\":8"));

	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	ASSERT_EQ(0, agent_connect(self->a2, self->srv[0].port, "agent-2",
				   &c2));
	/* agent-2's hello must be in before the report orders everyone. */
	ASSERT_TRUE(report(&c2, 1, SYN_FLOOD, scanner, true, NULL));
	EXPECT_TRUE(report(&c1, 1, VSCAN, listed, true, NULL));
	/* agent-2 never saw it, but a listed source is kept out everywhere. */
	ASSERT_EQ(0, wait_frame(&c2, VNFSEC__FRAME__BODY_ACTION, &f));
	EXPECT_EQ(0, memcmp(f->action->src_addr.data, listed, 4));
	wire_free(f);
	/* The alert names the incident and the indicator behind it. */
	EXPECT_EQ(1, count_lines(tpath(self->srv[0].dir, "alerts.json"),
				 "\"incident_id\":2,\"indicator\":{\"type\":\"cidr\",\"value\":\"10.66.7.0/24\",\"source\":\"import\""));
	/* An expired indicator matches nothing. */
	EXPECT_TRUE(report(&c1, 2, VSCAN, expired, true, NULL));
	EXPECT_EQ(0, count_lines(tpath(self->srv[0].dir, "alerts.json"),
				 "expired-feed"));
	conn_free(&c1);
	conn_free(&c2);
}

static bool file_has_incident(void *path)
{
	return count_lines(path, "\"type\":\"vertical_scan\"") > 0;
}

TEST_F(hier, playbook_decides_and_hook_hears_of_incident)
{
	static const uint8_t other[4] = { 10, 66, 0, 77 };
	char hook[300];
	const char *extra[] = { "--playbook", fixture("playbook.yaml"),
				"--hook", hook, NULL };
	unsigned int ttl = 0;
	struct conn c1;

	snprintf(hook, sizeof(hook), "cat > %s/hook.json", self->ca);
	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "s", NULL, extra));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	EXPECT_TRUE(report(&c1, 1, VSCAN, scanner, true, &ttl));
	EXPECT_EQ(30, ttl);
	EXPECT_TRUE(wait_until(file_has_incident,
			       tpath(self->ca, "hook.json"), 5));
	EXPECT_EQ(1, count_lines(tpath(self->ca, "hook.json"),
				 "\"src_ip\":\"10.66.0.50\""));
	/* No playbook handles floods: the ack is all that comes. */
	EXPECT_TRUE(report(&c1, 2, SYN_FLOOD, other, false, NULL));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]), "{\"cmd\":\"actions\"}",
			 self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"addr\":\"10.66.0.50\""));
	EXPECT_EQ(NULL, strstr(self->resp, "10.66.0.77"));
	conn_free(&c1);
}

TEST_F(hier, bad_playbook_stops_the_server_with_its_line)
{
	const char *extra[] = { "--playbook", fixture("bad-playbook.yaml"),
				NULL };

	EXPECT_NE(0, server_start(&self->srv[0], self->ca, "s", NULL, extra));
	EXPECT_NE(0, server_stop(&self->srv[0]));
	EXPECT_EQ(1, count_lines(tpath(self->srv[0].dir, "server.log"),
				 "bad-playbook.yaml:6:30: playbooks[0].actions[0]: unknown key 'ttl'"));
}

TEST_F(hier, control_socket_answers_and_streams)
{
	struct conn c1;

	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "s", NULL, NULL));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	EXPECT_TRUE(report(&c1, 1, SYN_FLOOD, scanner, true, NULL));
	EXPECT_TRUE(wait_lines(tpath(self->srv[0].dir, "alerts.json"),
			       "\"event_type\":\"action_result\"", 1));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]), "{\"cmd\":\"status\"}",
			 self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"ok\":true"));
	EXPECT_NE(NULL, strstr(self->resp, "\"agents_connected\":1"));
	EXPECT_NE(NULL, strstr(self->resp, "\"incidents_open\":1"));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]), "{\"cmd\":\"agents\"}",
			 self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"id\":\"agent-1\""));
	EXPECT_NE(NULL, strstr(self->resp, "\"connected\":true"));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]),
			 "{\"cmd\":\"alerts\",\"args\":{\"limit\":2}}",
			 self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"event_type\":\"action_result\""));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]),
			 "{\"cmd\":\"incident.ack\",\"args\":{\"id\":1}}",
			 self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"state\":\"acknowledged\""));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]), "{\"cmd\":\"reboot\"}",
			 self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"errno\":95"));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]), "{\"cmd\":",
			 self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"errno\":22"));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]),
			 "{\"cmd\":\"threatdb.import\",\"args\":{\"path\":\"/nonexistent\",\"format\":\"csv\"}}",
			 self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"errno\":2"));
	conn_free(&c1);
}

TEST_F(hier, control_follow_streams_new_events)
{
	static const char req[] = "{\"cmd\":\"alerts\",\"args\":{\"follow\":true}}\n";
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	size_t got = 0;
	struct conn c1;
	ssize_t n;
	int fd;

	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "s", NULL, NULL));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
		 ctl_sock(&self->srv[0]));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sun, sizeof(sun)));
	ASSERT_EQ((ssize_t)strlen(req), write(fd, req, strlen(req)));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	EXPECT_TRUE(report(&c1, 1, SYN_FLOOD, scanner, true, NULL));
	while (got < sizeof(self->resp) - 1 &&
	       !strstr(self->resp, "\"event_type\":\"action_result\"") &&
	       (n = read(fd, self->resp + got,
			 sizeof(self->resp) - 1 - got)) > 0) {
		got += n;
		self->resp[got] = '\0';
	}
	EXPECT_NE(NULL, strstr(self->resp, "\"stream\":true"));
	EXPECT_NE(NULL, strstr(self->resp, "{\"event\":{\"timestamp\""));
	EXPECT_NE(NULL, strstr(self->resp, "\"event_type\":\"action_result\""));
	close(fd);
	conn_free(&c1);
}

TEST_F(hier, metrics_show_live_counters)
{
	struct conn c1;

	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "s", NULL, NULL));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	EXPECT_TRUE(report(&c1, 1, SYN_FLOOD, scanner, true, NULL));
	ASSERT_EQ(0, http_get(self->srv[0].metrics_port, "/metrics",
			      self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\nvnfsec_agents_connected 1\n"));
	EXPECT_NE(NULL, strstr(self->resp, "\nvnfsec_assessments_total 1\n"));
	EXPECT_NE(NULL, strstr(self->resp,
			       "\nvnfsec_incidents_total{type=\"syn_flood\"} 1\n"));
	EXPECT_NE(NULL, strstr(self->resp,
			       "\nvnfsec_actions_total{result=\"sent\"} 1\n"));
	EXPECT_NE(NULL, strstr(self->resp,
			       "vnfsec_agent_ringbuf_lost_total{agent=\"agent-1\"} 0\n"));
	EXPECT_NE(NULL, strstr(self->resp, "# TYPE vnfsec_assessments_total counter"));
	EXPECT_NE(0, http_get(self->srv[0].metrics_port, "/nothing",
			      self->resp, sizeof(self->resp)));
	conn_free(&c1);
}

static int send_heartbeat(struct conn *c, const char *cause, uint64_t packets,
			  uint32_t spool_pending)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Heartbeat hb = VNFSEC__HEARTBEAT__INIT;
	Vnfsec__DropCount d[2], *dp[2] = { &d[0], &d[1] };

	vnfsec__drop_count__init(&d[0]);
	vnfsec__drop_count__init(&d[1]);
	d[0].cause = "drop_pair_policy";
	d[0].packets = 7;
	d[1].cause = (char *)cause;
	d[1].packets = packets;
	hb.drops = dp;
	hb.n_drops = 2;
	hb.spool_pending = spool_pending;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_HEARTBEAT;
	f.heartbeat = &hb;
	return conn_send(c, &f);
}

/* Send @f and read until its ack (an action may come first). */
static bool sent_and_acked(struct conn *c, Vnfsec__Frame *f)
{
	Vnfsec__Frame *in;
	const char *why;
	bool ack;

	if (conn_send(c, f))
		return false;
	do {
		if (conn_recv(c, &in, &why))
			return false;
		ack = in->body_case == VNFSEC__FRAME__BODY_ACK;
		wire_free(in);
	} while (!ack);
	return true;
}

static bool metrics_have(void *self_)
{
	FIXTURE_DATA(hier) *self = self_;

	return !http_get(self->srv[0].metrics_port, "/metrics", self->resp,
			 sizeof(self->resp)) &&
	       strstr(self->resp, "vnfsec_agent_spool_pending{agent=\"agent-1\"} 5\n");
}

/*
 * Issue 19.6: drops per cause and spool depth as the agent's heartbeats
 * report them, the latency of its assessments (here one detected 3 s
 * before it reached the server, one stamped by a clock ahead of ours),
 * and a cause that is no counter's name
 * refused with the frame (it would become a label).
 */
TEST_F(hier, metrics_show_agent_drops_spool_and_latency)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT, *in;
	Vnfsec__Assessment a = VNFSEC__ASSESSMENT__INIT;
	static uint8_t dst[4] = { 10, 66, 0, 1 };
	struct conn c1, c2;
	struct timespec now;
	const char *why;

	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "s", NULL, NULL));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	ASSERT_EQ(0, send_heartbeat(&c1, "drop_spoofed", 2, 5));
	clock_gettime(CLOCK_REALTIME, &now);
	a.id = 1;
	a.time_unix_ms = (uint64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 -
			 3000;
	a.heuristic = SYN_FLOOD;
	a.severity = 6;
	a.src_addr = (ProtobufCBinaryData){ 4, (uint8_t *)scanner };
	a.dst_addr = (ProtobufCBinaryData){ 4, dst };
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ASSESSMENT;
	f.assessment = &a;
	/* Its block order may come first. */
	ASSERT_TRUE(sent_and_acked(&c1, &f));
	/* An agent clock a minute ahead of ours: counted as 0 s. */
	a.id = 2;
	a.time_unix_ms += 63000;
	ASSERT_TRUE(sent_and_acked(&c1, &f));
	ASSERT_TRUE(wait_until(metrics_have, self, 5));
	EXPECT_NE(NULL, strstr(self->resp,
		"vnfsec_agent_fastpath_drops_total{agent=\"agent-1\",cause=\"drop_pair_policy\"} 7\n"));
	EXPECT_NE(NULL, strstr(self->resp,
		"vnfsec_agent_fastpath_drops_total{agent=\"agent-1\",cause=\"drop_spoofed\"} 2\n"));
	EXPECT_NE(NULL, strstr(self->resp, "# TYPE vnfsec_assessment_latency_seconds histogram\n"));
	EXPECT_NE(NULL, strstr(self->resp, "vnfsec_assessment_latency_seconds_bucket{le=\"0.005\"} 1\n"));
	EXPECT_NE(NULL, strstr(self->resp, "vnfsec_assessment_latency_seconds_bucket{le=\"2.5\"} 1\n"));
	EXPECT_NE(NULL, strstr(self->resp, "vnfsec_assessment_latency_seconds_bucket{le=\"10\"} 2\n"));
	EXPECT_NE(NULL, strstr(self->resp, "vnfsec_assessment_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
	EXPECT_NE(NULL, strstr(self->resp, "vnfsec_assessment_latency_seconds_count 2\n"));
	EXPECT_NE(NULL, strstr(self->resp, "\nvnfsec_agents_untrusted 0\n"));

	/* A label it could forge: the session is closed, nothing exported. */
	ASSERT_EQ(0, agent_connect(self->a2, self->srv[0].port, "agent-2",
				   &c2));
	ASSERT_EQ(0, send_heartbeat(&c2, "drop_x\"} 1\nfake 1", 1, 0));
	EXPECT_NE(0, conn_recv(&c2, &in, &why));
	ASSERT_EQ(0, http_get(self->srv[0].metrics_port, "/metrics",
			      self->resp, sizeof(self->resp)));
	EXPECT_EQ(NULL, strstr(self->resp, "agent=\"agent-2\",cause"));
	EXPECT_EQ(NULL, strstr(self->resp, "\nfake 1"));
	conn_free(&c1);
	conn_free(&c2);
}

/* The same on either store backend: @store is a file or a postgresql:// URI. */
static void restart_keeps(struct __test_metadata *_metadata,
			  FIXTURE_DATA(hier) *self, const char *store)
{
	static const uint8_t listed[4] = { 10, 66, 8, 1 };
	char db[300], arg[300];
	const char *first[] = { "--db", db, "--import", arg, NULL };
	const char *second[] = { "--db", db, NULL };
	struct conn c1;

	snprintf(db, sizeof(db), "%s", store);
	snprintf(arg, sizeof(arg), "csv:%s", fixture("indicators.csv"));
	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "s", NULL, first));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	EXPECT_TRUE(report(&c1, 1, SYN_FLOOD, scanner, true, NULL));
	conn_free(&c1);
	ASSERT_EQ(0, server_stop(&self->srv[0]));

	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "s", NULL, second));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	EXPECT_TRUE(report(&c1, 2, SYN_FLOOD, listed, true, NULL));
	ASSERT_EQ(0, ctl(ctl_sock(&self->srv[0]), "{\"cmd\":\"incidents\"}",
			 self->resp, sizeof(self->resp)));
	TH_LOG("%s", self->resp);
	/* Incident 2, not a second incident 1; the CSV's cidr matched. */
	EXPECT_NE(NULL, strstr(self->resp, "{\"id\":2,"));
	EXPECT_NE(NULL, strstr(self->resp, "\"source\":\"test-csv\""));
	conn_free(&c1);
}

TEST_F(hier, store_keeps_indicators_and_incident_ids_across_restart)
{
	restart_keeps(_metadata, self, tpath(self->ca, "vnfsec.db"));
}

TEST_F(hier, postgres_store_keeps_indicators_and_incident_ids_across_restart)
{
	const char *why = pg_unavailable();

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, pg_start(&self->pg));
	restart_keeps(_metadata, self, self->pg.uri);
}

/* Hierarchy: a child that decides nothing, a parent that orders. */
static int start_pair(FIXTURE_DATA(hier) *self, const char *parent_listen)
{
	char parent[64];
	const char *extra[] = { "--parent", parent,
				"--parent-cert", tpath(self->ca, "child-1.pem"),
				"--parent-key", tpath(self->ca, "child-1.key"),
				"--playbook", fixture("record-only.yaml"), NULL };

	snprintf(parent, sizeof(parent), "%s", parent_listen);
	return server_start(&self->srv[1], self->ca, "child", NULL, extra);
}

static bool parent_has_incident(void *self_)
{
	FIXTURE_DATA(hier) *self = self_;

	return !ctl(ctl_sock(&self->srv[0]), "{\"cmd\":\"incidents\"}",
		    self->resp, sizeof(self->resp)) &&
	       strstr(self->resp, "\"agents\":[\"child-1\"]");
}

TEST_F(hier, child_forwards_parent_orders_agent_blocks)
{
	const char *result = "\"event_type\":\"action_result\",\"agent_id\":\"child-1\"";
	Vnfsec__Action *a = NULL;
	char listen[64];
	struct conn c1;
	int kind;

	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "parent", NULL,
				  NULL));
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", self->srv[0].port);
	ASSERT_EQ(0, start_pair(self, listen));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[1].port, "agent-1",
				   &c1));
	EXPECT_TRUE(report(&c1, 1, SYN_FLOOD, scanner, false, NULL));
	/* The block comes from the parent, through the child. */
	ASSERT_EQ(0, recv_action(&c1, NULL, &a, &kind));
	EXPECT_EQ(0, memcmp(a->src_addr.data, scanner, 4));
	EXPECT_TRUE(wait_until(parent_has_incident, self, 5));
	EXPECT_NE(NULL, strstr(self->resp, "\"type\":\"syn_flood\""));
	/* Applied, for the parent, only once the agent says it is. */
	sleep(1);
	EXPECT_EQ(0, count_lines(tpath(self->srv[0].dir, "alerts.json"),
				 result));
	ASSERT_EQ(0, answer_action_status(&c1, a->seq, 0));
	vnfsec__action__free_unpacked(a, NULL);
	EXPECT_TRUE(wait_lines(tpath(self->srv[0].dir, "alerts.json"),
			       result, 1));
	EXPECT_EQ(1, count_lines(tpath(self->srv[0].dir, "alerts.json"),
				 "\"status\":0"));
	conn_free(&c1);
}

/* The agent could not: the parent hears the agent's error, not "applied". */
TEST_F(hier, child_reports_its_agents_failure_to_the_parent)
{
	Vnfsec__Action *a = NULL;
	char listen[64];
	struct conn c1;
	int kind;

	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "parent", NULL,
				  NULL));
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", self->srv[0].port);
	ASSERT_EQ(0, start_pair(self, listen));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[1].port, "agent-1",
				   &c1));
	EXPECT_TRUE(report(&c1, 1, SYN_FLOOD, scanner, false, NULL));
	ASSERT_EQ(0, recv_action(&c1, NULL, &a, &kind));
	ASSERT_EQ(0, answer_action_status(&c1, a->seq, -ENOSPC));
	vnfsec__action__free_unpacked(a, NULL);
	EXPECT_TRUE(wait_lines(tpath(self->srv[0].dir, "alerts.json"),
			       "\"status\":-28", 1));
	conn_free(&c1);
}

TEST_F(hier, parent_away_then_back_nothing_lost)
{
	char listen[64];
	Vnfsec__Frame *f;
	struct conn c1;

	/* Learn a free port from a parent, then take the parent away. */
	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "parent", NULL,
				  NULL));
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", self->srv[0].port);
	ASSERT_EQ(0, server_stop(&self->srv[0]));
	ASSERT_EQ(0, start_pair(self, listen));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[1].port, "agent-1",
				   &c1));
	EXPECT_TRUE(report(&c1, 1, SYN_FLOOD, scanner, false, NULL));
	/* The child keeps serving alone. */
	EXPECT_TRUE(report(&c1, 2, SYN_FLOOD, scanner, false, NULL));
	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "parent", listen,
				  NULL));
	/* Reconnect backoff is at most a few seconds here. */
	EXPECT_TRUE(wait_until(parent_has_incident, self, 20));
	ASSERT_EQ(0, wait_frame(&c1, VNFSEC__FRAME__BODY_ACTION, &f));
	EXPECT_EQ(0, memcmp(f->action->src_addr.data, scanner, 4));
	wire_free(f);
	conn_free(&c1);
}

/*
 * Runs vnfsec-agentsim with @args against @srv; its summary line goes to
 * @line. Returns its exit status (-1 when it could not run).
 */
static int agentsim(const struct test_server *srv, const char *ca,
		    const char *args, char *line, size_t len)
{
	char cmd[1024];
	FILE *p;

	line[0] = '\0';
	snprintf(cmd, sizeof(cmd),
		 "%s/bin/vnfsec-agentsim --server 127.0.0.1:%d --ca %s --ca-key %s %s --timeout 240",
		 getenv("VNFSEC_BUILD"), srv->port, tpath(ca, "ca.pem"),
		 tpath(ca, "ca.key"), args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(line, len, p))
		line[0] = '\0';
	return pclose(p);
}

/* 1,000 real TLS agents from vnfsec-agentsim connect and report. */
TEST_F_TIMEOUT(hier, thousand_simulated_agents_connect_and_report, 300)
{
	char line[512];

	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "s", NULL, NULL));
	EXPECT_EQ(0, agentsim(&self->srv[0], self->ca,
			      "--agents 1000 --assessments 3 --sources 16",
			      line, sizeof(line)));
	TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "agents 1000 connected 1000 "));
	EXPECT_NE(NULL, strstr(line, "assessments 3000 acked"));
	EXPECT_NE(NULL, strstr(line, "actions 1000;"));
	ASSERT_EQ(0, http_get(self->srv[0].metrics_port, "/metrics",
			      self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\nvnfsec_assessments_total 3000\n"));
	/* 16 sources: 16 incidents however many agents saw each. */
	EXPECT_NE(NULL, strstr(self->resp,
			       "\nvnfsec_incidents_total{type=\"syn_flood\"} 16\n"));
	EXPECT_NE(NULL, strstr(self->resp,
			       "vnfsec_agent_ringbuf_lost_total{agent=\"sim-00999\"} 0\n"));
}

/*
 * 10,000 reports, each from a new attacker: 10,000 incidents and as many
 * orders, well past the indexes' first 4,096 buckets, so they grow while
 * in use; every order must still reach its agent exactly once.
 */
TEST_F_TIMEOUT(hier, ten_thousand_attackers_grow_the_indexes, 300)
{
	char line[512];

	ASSERT_EQ(0, server_start(&self->srv[0], self->ca, "s", NULL, NULL));
	EXPECT_EQ(0, agentsim(&self->srv[0], self->ca,
			      "--agents 100 --assessments 100 --sources 0",
			      line, sizeof(line)));
	TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "assessments 10000 acked"));
	EXPECT_NE(NULL, strstr(line, "actions 10000;"));
	ASSERT_EQ(0, http_get(self->srv[0].metrics_port, "/metrics",
			      self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp,
			       "\nvnfsec_incidents_total{type=\"syn_flood\"} 10000\n"));
	EXPECT_NE(NULL, strstr(self->resp,
			       "\nvnfsec_actions_total{result=\"sent\"} 10000\n"));
}

TEST_HARNESS_MAIN
