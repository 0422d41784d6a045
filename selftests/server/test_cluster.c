// SPDX-License-Identifier: GPL-2.0-only
/*
 * Many servers, one picture: two real vnfsec-server processes on one real
 * PostgreSQL 15 the test starts (pglib.c). An incident is one incident
 * across them, its id from the store's sequence; an agent that moves
 * from one server to the other has each report stored once; either
 * server lists the cluster's incidents. With a real NATS JetStream
 * (natslib.c) as well, an order for an agent that is away waits until it
 * says hello to any server, and NATS away stops no local decision.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "selftests/server/natslib.h"
#include "selftests/server/pglib.h"
#include "selftests/server/srvlib.h"

#define SYN_FLOOD	VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD

static const uint8_t scanner[4] = { 10, 66, 9, 9 };
static const uint8_t other[4] = { 10, 66, 9, 10 };

FIXTURE(cluster) {
	char ca[64];
	struct test_server srv[2];
	SSL_CTX *a1, *a2;
	struct test_pg pg;
	char resp[65536];
};

FIXTURE_SETUP(cluster)
{
	const char *why = pg_unavailable();

	self->pg.dir[0] = '\0';
	self->srv[0].pid = self->srv[1].pid = 0;
	self->a1 = self->a2 = NULL;
	self->ca[0] = '\0';
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, make_ca(self->ca, sizeof(self->ca), "agent-1 agent-2"));
	self->a1 = agent_ctx(self->ca, "agent-1");
	self->a2 = agent_ctx(self->ca, "agent-2");
	ASSERT_NE(NULL, self->a1);
	ASSERT_NE(NULL, self->a2);
	ASSERT_EQ(0, pg_start(&self->pg));
}

FIXTURE_TEARDOWN(cluster)
{
	char cmd[512];

	server_stop(&self->srv[0]);
	server_stop(&self->srv[1]);
	pg_stop(&self->pg);
	SSL_CTX_free(self->a1);
	SSL_CTX_free(self->a2);
	if (!self->ca[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->ca);
	if (system(cmd))
		TH_LOG("could not remove %s", self->ca);
}

/* A skip in the setup would still run the test: each test asks. */
#define PG_READY() do {							\
	if (!self->pg.dir[0])						\
		SKIP(return, "%s", pg_unavailable() ?: "no PostgreSQL");	\
} while (0)

static int start(FIXTURE_DATA(cluster) *self, int i)
{
	const char *extra[] = { "--db", self->pg.uri, NULL };

	return server_start(&self->srv[i], self->ca, i ? "s2" : "s1", NULL,
			    extra);
}

/* Incidents close after @idle_close s without a report. */
static int start_idle(FIXTURE_DATA(cluster) *self, int i,
		      const char *idle_close)
{
	const char *extra[] = { "--db", self->pg.uri, "--idle-close",
				idle_close, NULL };

	return server_start(&self->srv[i], self->ca, i ? "s2" : "s1", NULL,
			    extra);
}

static int report_acked(struct conn *c, uint64_t id, const uint8_t src[4])
{
	Vnfsec__Frame *f = NULL;
	int ret;

	if (send_assessment(c, id, SYN_FLOOD, src, 80, 5))
		return -1;
	ret = wait_frame(c, VNFSEC__FRAME__BODY_ACK, &f);
	if (!ret && f->ack->assessment_id != id)
		ret = -1;
	if (f)
		wire_free(f);
	return ret;
}

static int incidents(FIXTURE_DATA(cluster) *self, int i)
{
	return ctl(tpath(self->srv[i].dir, "ctl.sock"),
		   "{\"cmd\":\"incidents\"}", self->resp, sizeof(self->resp));
}

static long metric(struct test_server *ts, const char *sample)
{
	static char buf[1 << 16];
	char line[128];
	char *p;

	if (http_get(ts->metrics_port, "/metrics", buf, sizeof(buf)))
		return -1;
	snprintf(line, sizeof(line), "\n%s ", sample);
	p = strstr(buf, line);
	return p ? strtol(p + strlen(line), NULL, 10) : -1;
}

TEST_F(cluster, same_scanner_through_two_servers_is_one_incident)
{
	struct conn c1, c2;
	int i;

	PG_READY();
	ASSERT_EQ(0, start(self, 0));
	ASSERT_EQ(0, start(self, 1));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	ASSERT_EQ(0, agent_connect(self->a2, self->srv[1].port, "agent-2",
				   &c2));
	ASSERT_EQ(0, report_acked(&c1, 1, scanner));
	ASSERT_EQ(0, report_acked(&c2, 1, scanner));
	ASSERT_EQ(0, report_acked(&c1, 2, scanner));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, incidents(self, i));
		TH_LOG("server %d: %s", i + 1, self->resp);
		/* One incident, id 1, both reporters, every report. */
		EXPECT_NE(NULL, strstr(self->resp, "{\"id\":1,"));
		EXPECT_EQ(NULL, strstr(self->resp, "{\"id\":2,"));
		EXPECT_NE(NULL, strstr(self->resp, "\"agent-1\""));
		EXPECT_NE(NULL, strstr(self->resp, "\"agent-2\""));
		EXPECT_NE(NULL, strstr(self->resp, "\"assessments\":3"));
	}
	conn_free(&c1);
	conn_free(&c2);
}

TEST_F(cluster, incident_ids_are_unique_across_servers)
{
	struct conn c1, c2;
	int i;

	PG_READY();
	ASSERT_EQ(0, start(self, 0));
	ASSERT_EQ(0, start(self, 1));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	ASSERT_EQ(0, agent_connect(self->a2, self->srv[1].port, "agent-2",
				   &c2));
	/* Each server's first incident: 1 and 2, not 1 twice. */
	ASSERT_EQ(0, report_acked(&c1, 1, scanner));
	ASSERT_EQ(0, report_acked(&c2, 1, other));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, incidents(self, i));
		TH_LOG("server %d: %s", i + 1, self->resp);
		EXPECT_NE(NULL, strstr(self->resp, "{\"id\":1,"));
		EXPECT_NE(NULL, strstr(self->resp, "{\"id\":2,"));
		EXPECT_NE(NULL, strstr(self->resp, "\"src_ip\":\"10.66.9.9\""));
		EXPECT_NE(NULL, strstr(self->resp, "\"src_ip\":\"10.66.9.10\""));
	}
	conn_free(&c1);
	conn_free(&c2);
}

/*
 * The agent's server dies after storing three reports whose acks it
 * never sent; the agent sends them again to the other server, which
 * stores only the fourth and continues the incident under its id.
 */
TEST_F(cluster, reports_sent_again_to_another_server_are_stored_once)
{
	struct conn c;
	uint64_t id;

	PG_READY();
	ASSERT_EQ(0, start(self, 0));
	ASSERT_EQ(0, start(self, 1));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c));
	for (id = 1; id <= 3; id++)
		ASSERT_EQ(0, report_acked(&c, id, scanner));
	conn_free(&c);
	kill(self->srv[0].pid, SIGKILL);
	waitpid(self->srv[0].pid, NULL, 0);
	self->srv[0].pid = 0;

	ASSERT_EQ(0, agent_connect(self->a1, self->srv[1].port, "agent-1",
				   &c));
	for (id = 1; id <= 4; id++)
		ASSERT_EQ(0, report_acked(&c, id, scanner));
	EXPECT_EQ(3, metric(&self->srv[1],
			    "vnfsec_assessments_duplicate_total"));
	EXPECT_EQ(1, metric(&self->srv[1], "vnfsec_assessments_total"));
	ASSERT_EQ(0, incidents(self, 1));
	TH_LOG("%s", self->resp);
	EXPECT_NE(NULL, strstr(self->resp, "{\"id\":1,"));
	EXPECT_EQ(NULL, strstr(self->resp, "{\"id\":2,"));
	EXPECT_NE(NULL, strstr(self->resp, "\"assessments\":4"));
	conn_free(&c);
}

/* Closed by the operator on one server: the next report is a new one. */
TEST_F(cluster, incident_closed_on_one_server_is_closed_for_all)
{
	struct conn c1, c2;

	PG_READY();
	ASSERT_EQ(0, start(self, 0));
	ASSERT_EQ(0, start(self, 1));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	ASSERT_EQ(0, agent_connect(self->a2, self->srv[1].port, "agent-2",
				   &c2));
	ASSERT_EQ(0, report_acked(&c1, 1, scanner));
	ASSERT_EQ(0, report_acked(&c2, 1, scanner));
	ASSERT_EQ(0, ctl(tpath(self->srv[0].dir, "ctl.sock"),
			 "{\"cmd\":\"incident.close\",\"args\":{\"id\":1}}", self->resp,
			 sizeof(self->resp)));
	TH_LOG("close: %s", self->resp);
	EXPECT_NE(NULL, strstr(self->resp, "\"ok\":true"));
	ASSERT_EQ(0, report_acked(&c2, 2, scanner));
	ASSERT_EQ(0, incidents(self, 0));
	TH_LOG("%s", self->resp);
	EXPECT_NE(NULL, strstr(self->resp, "\"state\":\"closed\""));
	EXPECT_NE(NULL, strstr(self->resp, "{\"id\":2,"));
	conn_free(&c1);
	conn_free(&c2);
}

/*
 * Server 1 hears of the scanner once; server 2 goes on hearing of it.
 * Quiet on server 1 longer than --idle-close, the incident stays open:
 * the cluster still sees its key. Quiet everywhere, it closes.
 */
TEST_F(cluster, incident_stays_open_while_any_server_sees_it)
{
	struct conn c1, c2;
	uint64_t id;

	PG_READY();
	ASSERT_EQ(0, start_idle(self, 0, "3"));
	ASSERT_EQ(0, start_idle(self, 1, "3"));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	ASSERT_EQ(0, agent_connect(self->a2, self->srv[1].port, "agent-2",
				   &c2));
	ASSERT_EQ(0, report_acked(&c1, 1, scanner));
	for (id = 1; id <= 6; id++) {
		ASSERT_EQ(0, report_acked(&c2, id, scanner));
		sleep(1);
	}
	ASSERT_EQ(0, incidents(self, 0));
	TH_LOG("server 2 still reporting: %s", self->resp);
	EXPECT_NE(NULL, strstr(self->resp, "{\"id\":1,"));
	EXPECT_EQ(NULL, strstr(self->resp, "\"state\":\"closed\""));
	sleep(6);
	ASSERT_EQ(0, incidents(self, 0));
	TH_LOG("quiet everywhere: %s", self->resp);
	EXPECT_NE(NULL, strstr(self->resp, "\"state\":\"closed\""));
	conn_free(&c1);
	conn_free(&c2);
}

/* Closed on the server that never saw it: read from the store, closed. */
TEST_F(cluster, incident_closed_on_a_server_that_never_saw_it)
{
	struct conn c1;

	PG_READY();
	ASSERT_EQ(0, start(self, 0));
	ASSERT_EQ(0, start(self, 1));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	ASSERT_EQ(0, report_acked(&c1, 1, scanner));
	ASSERT_EQ(0, ctl(tpath(self->srv[1].dir, "ctl.sock"),
			 "{\"cmd\":\"incident.close\",\"args\":{\"id\":1}}",
			 self->resp, sizeof(self->resp)));
	TH_LOG("close on server 2: %s", self->resp);
	EXPECT_NE(NULL, strstr(self->resp, "\"state\":\"closed\""));
	ASSERT_EQ(0, report_acked(&c1, 2, scanner));
	ASSERT_EQ(0, incidents(self, 0));
	TH_LOG("%s", self->resp);
	EXPECT_NE(NULL, strstr(self->resp, "{\"id\":2,"));
	conn_free(&c1);
}

/* Two servers on PostgreSQL and NATS, a playbook ordering every agent. */
FIXTURE(bus) {
	char ca[64];
	struct test_server srv[2];
	SSL_CTX *a1, *a2;
	struct test_pg pg;
	struct test_nats nats;
	char resp[65536];
	const char *skip;
};

FIXTURE_SETUP(bus)
{
	self->pg.dir[0] = self->nats.dir[0] = self->ca[0] = '\0';
	self->nats.pid = 0;
	self->srv[0].pid = self->srv[1].pid = 0;
	self->a1 = self->a2 = NULL;
	self->skip = pg_unavailable() ?: nats_unavailable();
	if (self->skip)
		return;
	ASSERT_EQ(0, make_ca(self->ca, sizeof(self->ca), "agent-1 agent.2"));
	self->a1 = agent_ctx(self->ca, "agent-1");
	self->a2 = agent_ctx(self->ca, "agent.2");
	ASSERT_NE(NULL, self->a1);
	ASSERT_NE(NULL, self->a2);
	ASSERT_EQ(0, pg_start(&self->pg));
	ASSERT_EQ(0, nats_start(&self->nats));
}

FIXTURE_TEARDOWN(bus)
{
	char cmd[512];

	server_stop(&self->srv[0]);
	server_stop(&self->srv[1]);
	nats_stop(&self->nats);
	pg_stop(&self->pg);
	SSL_CTX_free(self->a1);
	SSL_CTX_free(self->a2);
	if (!self->ca[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->ca);
	if (system(cmd))
		TH_LOG("could not remove %s", self->ca);
}

#define BUS_READY() do {						\
	if (self->skip)							\
		SKIP(return, "%s", self->skip);				\
} while (0)

/* @playbook NULL: the fixture's, blocks of 300 s. */
static int bus_start_with(FIXTURE_DATA(bus) *self, int i,
			  const char *playbook)
{
	char path[300];
	const char *extra[] = { "--db", self->pg.uri, "--nats", self->nats.url,
				"--playbook", path, NULL };

	snprintf(path, sizeof(path), "%s", playbook ? playbook :
		 tpath(tpath(getenv("VNFSEC_SRC"), "selftests/server/fixtures"),
		       "cluster-playbook.yaml"));
	return server_start(&self->srv[i], self->ca, i ? "s2" : "s1", NULL,
			    extra);
}

static int bus_start(FIXTURE_DATA(bus) *self, int i)
{
	return bus_start_with(self, i, NULL);
}

/* "bus":{..."@key":N...} of server @i's status, or -1. */
static long bus_stat(FIXTURE_DATA(bus) *self, int i, const char *key)
{
	char needle[64];
	const char *p;

	if (ctl(tpath(self->srv[i].dir, "ctl.sock"), "{\"cmd\":\"status\"}",
		self->resp, sizeof(self->resp)))
		return -1;
	p = strstr(self->resp, "\"bus\":");
	snprintf(needle, sizeof(needle), "\"%s\":", key);
	p = p ? strstr(p, needle) : NULL;
	return p ? strtol(p + strlen(needle), NULL, 10) : -1;
}

/* Poll until server @i's bus @key reaches @want, for up to 10 s. */
static bool bus_stat_reaches(FIXTURE_DATA(bus) *self, int i, const char *key,
			     long want)
{
	int n;

	for (n = 0; n < 100; n++) {
		if (bus_stat(self, i, key) >= want)
			return true;
		usleep(100000);
	}
	return false;
}

/* Server @i's bus is connected to NATS (within 10 s). */
static bool bus_connected(FIXTURE_DATA(bus) *self, int i)
{
	int n;

	for (n = 0; n < 100; n++) {
		if (!ctl(tpath(self->srv[i].dir, "ctl.sock"),
			 "{\"cmd\":\"status\"}", self->resp,
			 sizeof(self->resp)) &&
		    strstr(self->resp, "\"connected\":true"))
			return true;
		usleep(100000);
	}
	return false;
}

/* An agent says hello and goes: the server knows it, it is away. */
static int hello_and_go(SSL_CTX *ctx, int port, const char *id)
{
	struct conn c;

	if (agent_connect(ctx, port, id, &c))
		return -1;
	conn_free(&c);
	return 0;
}

/* The agent's next order: a block of @src, answered with @status. */
static int block_arrives(struct conn *c, const uint8_t src[4])
{
	Vnfsec__Action *a = NULL;
	int kind, ret;

	if (recv_action(c, NULL, &a, &kind))
		return -1;
	ret = a->type == VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE &&
	      a->src_addr.len == 4 && !memcmp(a->src_addr.data, src, 4) &&
	      a->ttl_s > 0 && a->ttl_s <= 300 ? 0 : -1;
	if (!ret)
		ret = answer_action_status(c, a->seq, 0);
	vnfsec__action__free_unpacked(a, NULL);
	return ret;
}

/*
 * Server 1 orders every agent it knows to block the scanner; agent.2 is
 * away, so its order goes to JetStream and waits, also through a crash
 * and restart of NATS. agent.2 comes back to server 2, which carries the
 * order out; the result reaches server 1.
 */
TEST_F(bus, order_for_an_agent_away_waits_until_it_returns_to_any_server)
{
	struct conn c1, c2;

	BUS_READY();
	ASSERT_EQ(0, bus_start(self, 0));
	ASSERT_EQ(0, bus_start(self, 1));
	ASSERT_EQ(0, hello_and_go(self->a2, self->srv[0].port, "agent.2"));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	ASSERT_EQ(0, send_assessment(&c1, 1, SYN_FLOOD, scanner, 80, 5));
	/* Its own agent is ordered directly, as without NATS. */
	ASSERT_EQ(0, block_arrives(&c1, scanner));
	ASSERT_TRUE(bus_stat_reaches(self, 0, "orders_published", 1));
	ASSERT_EQ(0, nats_crash(&self->nats));
	ASSERT_EQ(0, nats_restart(&self->nats));
	ASSERT_TRUE(bus_connected(self, 0));
	ASSERT_TRUE(bus_connected(self, 1));

	ASSERT_EQ(0, agent_connect(self->a2, self->srv[1].port, "agent.2",
				   &c2));
	ASSERT_EQ(0, block_arrives(&c2, scanner));
	EXPECT_TRUE(bus_stat_reaches(self, 1, "orders_delivered", 1));
	EXPECT_TRUE(bus_stat_reaches(self, 1, "results_sent", 1));
	EXPECT_TRUE(bus_stat_reaches(self, 0, "results_received", 1));
	TH_LOG("server 1: %s", self->resp);
	conn_free(&c1);
	conn_free(&c2);
	/* The bus closes cleanly (and, in a sanitizer build, leaks nothing). */
	EXPECT_EQ(0, server_stop(&self->srv[0]));
	EXPECT_EQ(0, server_stop(&self->srv[1]));
}

/*
 * NATS is down when server 1 starts and while its agent reports: the
 * report is acked and its own agent ordered as always; the order for the
 * agent away waits in the server and is published when NATS is back,
 * then reaches the agent.
 */
TEST_F(bus, local_decisions_go_on_while_nats_is_away)
{
	struct conn c1, c2;

	BUS_READY();
	ASSERT_EQ(0, nats_crash(&self->nats));
	ASSERT_EQ(0, bus_start(self, 0));
	ASSERT_EQ(0, hello_and_go(self->a2, self->srv[0].port, "agent.2"));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	ASSERT_EQ(0, send_assessment(&c1, 1, SYN_FLOOD, scanner, 80, 5));
	ASSERT_EQ(0, block_arrives(&c1, scanner));
	EXPECT_TRUE(bus_stat_reaches(self, 0, "orders_waiting", 1));
	EXPECT_EQ(0, bus_stat(self, 0, "orders_published"));
	TH_LOG("NATS away: %s", self->resp);

	ASSERT_EQ(0, nats_restart(&self->nats));
	EXPECT_TRUE(bus_stat_reaches(self, 0, "orders_published", 1));
	EXPECT_EQ(0, bus_stat(self, 0, "orders_waiting"));
	ASSERT_EQ(0, agent_connect(self->a2, self->srv[0].port, "agent.2",
				   &c2));
	ASSERT_EQ(0, block_arrives(&c2, scanner));
	conn_free(&c1);
	conn_free(&c2);
}

/* Server 2's `alerts` hold an incident event of server 1 (within 10 s). */
static bool alerts_show_incident_from_other(FIXTURE_DATA(bus) *self)
{
	int n;

	for (n = 0; n < 100; n++) {
		if (!ctl(tpath(self->srv[1].dir, "ctl.sock"),
			 "{\"cmd\":\"alerts\"}", self->resp,
			 sizeof(self->resp)) &&
		    strstr(self->resp, "\"event_type\":\"incident\"") &&
		    strstr(self->resp, "\"server\":\"vnfsec-server\""))
			return true;
		usleep(100000);
	}
	return false;
}

/*
 * The scanner is reported on server 1 only: `alerts` on server 2 shows
 * its incident event (the cluster's incidents on any server), while
 * server 2's EVE file stays its own.
 */
TEST_F(bus, incident_events_of_other_servers_show_in_alerts)
{
	struct conn c1;

	BUS_READY();
	ASSERT_EQ(0, bus_start(self, 0));
	ASSERT_EQ(0, bus_start(self, 1));
	ASSERT_TRUE(bus_connected(self, 1));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	ASSERT_EQ(0, send_assessment(&c1, 1, SYN_FLOOD, scanner, 80, 5));
	ASSERT_EQ(0, block_arrives(&c1, scanner));
	EXPECT_TRUE(alerts_show_incident_from_other(self));
	TH_LOG("server 2's alerts: %.400s", self->resp);
	EXPECT_EQ(0, count_lines(tpath(self->srv[1].dir, "alerts.json"),
				 "\"event_type\":\"incident\""));
	/* Its own come back from NATS too: not shown twice. */
	EXPECT_EQ(0, bus_stat(self, 0, "events_received"));
	conn_free(&c1);
}

/* No order arrives on @c within wait_frame()'s 5 s. */
static bool no_order_arrives(struct conn *c)
{
	Vnfsec__Frame *f = NULL;
	int ret = wait_frame(c, VNFSEC__FRAME__BODY_ACTION, &f);

	if (f)
		wire_free(f);
	return ret != 0;
}

/*
 * agent.2 is on server 2 and blocks the scanner on server 2's order;
 * server 1 (which learnt of agent.2 from the store at its start) orders
 * it the same through the bus: server 2 finds that order in force and
 * acks it, the agent is not ordered twice.
 */
TEST_F(bus, order_in_force_where_the_agent_is_is_not_sent_twice)
{
	struct conn c1, c2;

	BUS_READY();
	ASSERT_EQ(0, bus_start(self, 1));
	ASSERT_EQ(0, agent_connect(self->a2, self->srv[1].port, "agent.2",
				   &c2));
	ASSERT_EQ(0, send_assessment(&c2, 1, SYN_FLOOD, scanner, 80, 5));
	ASSERT_EQ(0, block_arrives(&c2, scanner));

	ASSERT_EQ(0, bus_start(self, 0));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	ASSERT_EQ(0, send_assessment(&c1, 1, SYN_FLOOD, scanner, 80, 5));
	ASSERT_EQ(0, block_arrives(&c1, scanner));
	ASSERT_TRUE(bus_stat_reaches(self, 0, "orders_published", 1));
	EXPECT_TRUE(no_order_arrives(&c2));
	EXPECT_EQ(0, bus_stat(self, 1, "orders_delivered"));
	TH_LOG("server 2: %s", self->resp);
	conn_free(&c1);
	conn_free(&c2);
}

/*
 * A 2 s block for an agent away 3 s: its TTL ran out in the stream, so
 * the server it comes back to drops it instead of blocking late.
 */
TEST_F(bus, order_past_its_ttl_is_not_carried_out)
{
	char playbook[300];
	struct conn c1, c2;
	FILE *f;

	BUS_READY();
	snprintf(playbook, sizeof(playbook), "%s", tpath(self->ca, "short.yaml"));
	f = fopen(playbook, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "version: 1\nplaybooks:\n  - name: floods\n"
		"    on: syn_flood\n    min_severity: 1\n    scope: all\n"
		"    actions:\n      - {type: block_source, ttl_s: 2}\n");
	fclose(f);
	ASSERT_EQ(0, bus_start_with(self, 0, playbook));
	ASSERT_EQ(0, hello_and_go(self->a2, self->srv[0].port, "agent.2"));
	ASSERT_EQ(0, agent_connect(self->a1, self->srv[0].port, "agent-1",
				   &c1));
	ASSERT_EQ(0, send_assessment(&c1, 1, SYN_FLOOD, scanner, 80, 5));
	ASSERT_EQ(0, block_arrives(&c1, scanner));
	ASSERT_TRUE(bus_stat_reaches(self, 0, "orders_published", 1));
	sleep(3);
	ASSERT_EQ(0, agent_connect(self->a2, self->srv[0].port, "agent.2",
				   &c2));
	EXPECT_TRUE(no_order_arrives(&c2));
	EXPECT_EQ(0, bus_stat(self, 0, "orders_delivered"));
	conn_free(&c1);
	conn_free(&c2);
}

TEST_HARNESS_MAIN
