// SPDX-License-Identifier: GPL-2.0-only
/*
 * What survives a server that dies: a real vnfsec-server on a SQLite
 * store, killed with SIGKILL and started again on the same file, and a
 * store whose disk fills up under it. Agents resend what was not
 * acknowledged, as their spool does; the store is what the server knows.
 * And what an operator changes under a running server (SIGHUP).
 * Every test runs twice: on SQLite and on a real PostgreSQL 15 the test
 * starts (pglib.c), the same store tests against both backends.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "selftests/server/pglib.h"
#include "selftests/server/srvlib.h"

#define SYN_FLOOD	VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD

static const uint8_t attacker[4] = { 10, 66, 7, 7 };

FIXTURE(state) {
	char ca[64];
	char db[300];
	struct test_server srv;
	SSL_CTX *agent;
	char resp[65536];
	char tmpfs[300];	/* mounted by one test, "" otherwise */
	struct test_pg pg;
	const char *skip;	/* why this variant cannot run here */
};

FIXTURE_VARIANT(state) {
	bool postgres;
};

FIXTURE_VARIANT_ADD(state, sqlite) {
	.postgres = false,
};

FIXTURE_VARIANT_ADD(state, postgres) {
	.postgres = true,
};

/* A skip in the setup would still run the test: each test asks. */
#define BACKEND_READY() do {						\
	if (self->skip)							\
		SKIP(return, "%s", self->skip);				\
} while (0)

FIXTURE_SETUP(state)
{
	ASSERT_EQ(0, make_ca(self->ca, sizeof(self->ca), "agent-1"));
	self->agent = agent_ctx(self->ca, "agent-1");
	ASSERT_NE(NULL, self->agent);
	snprintf(self->db, sizeof(self->db), "%s/vnfsec.db", self->ca);
	self->srv.pid = 0;
	self->tmpfs[0] = '\0';
	self->pg.dir[0] = '\0';
	if (variant->postgres) {
		self->skip = pg_unavailable();
		if (self->skip)
			return;
		ASSERT_EQ(0, pg_start(&self->pg));
		snprintf(self->db, sizeof(self->db), "%s", self->pg.uri);
	}
}

FIXTURE_TEARDOWN(state)
{
	char cmd[512];

	if (self->srv.pid > 0)
		server_stop(&self->srv);
	pg_stop(&self->pg);
	if (self->tmpfs[0])
		umount2(self->tmpfs, MNT_DETACH);
	SSL_CTX_free(self->agent);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->ca);
	if (system(cmd))
		TH_LOG("could not remove %s", self->ca);
}

static int start(FIXTURE_DATA(state) *self)
{
	const char *extra[] = { "--db", self->db, NULL };

	return server_start(&self->srv, self->ca, "s", NULL, extra);
}

/* What kill -9 does to a server: nothing it did not commit survives. */
static void crash(FIXTURE_DATA(state) *self)
{
	kill(self->srv.pid, SIGKILL);
	waitpid(self->srv.pid, NULL, 0);
	self->srv.pid = 0;
}

/* The value of one sample in /metrics (a line of its own), or -1. */
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

/* Send report @id and wait for its ack: 0, or -1 when none came. */
static int report_acked(struct conn *c, uint64_t id)
{
	Vnfsec__Frame *f = NULL;
	int ret;

	if (send_assessment(c, id, SYN_FLOOD, attacker, 80, 5))
		return -1;
	ret = wait_frame(c, VNFSEC__FRAME__BODY_ACK, &f);
	if (!ret && f->ack->assessment_id != id)
		ret = -1;
	if (f)
		wire_free(f);
	return ret;
}

static int incidents(FIXTURE_DATA(state) *self)
{
	return ctl(tpath(self->srv.dir, "ctl.sock"), "{\"cmd\":\"incidents\"}",
		   self->resp, sizeof(self->resp));
}

TEST_F(state, reports_sent_again_after_a_crash_are_duplicates)
{
	struct conn c;
	uint64_t id;

	BACKEND_READY();
	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, agent_connect(self->agent, self->srv.port, "agent-1",
				   &c));
	for (id = 1; id <= 3; id++)
		ASSERT_EQ(0, report_acked(&c, id));
	conn_free(&c);
	crash(self);

	ASSERT_EQ(0, start(self));
	/* The registry is back before the agent is. */
	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"),
			 "{\"cmd\":\"agents\"}", self->resp,
			 sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"agent-1\""));
	ASSERT_EQ(0, agent_connect(self->agent, self->srv.port, "agent-1",
				   &c));
	/* Its acks were lost with the crash, as far as the agent knows. */
	for (id = 1; id <= 4; id++)
		ASSERT_EQ(0, report_acked(&c, id));
	EXPECT_EQ(3, metric(&self->srv, "vnfsec_assessments_duplicate_total"));
	EXPECT_EQ(1, metric(&self->srv, "vnfsec_assessments_total"));
	conn_free(&c);
}

TEST_F(state, open_incident_continues_under_its_id_after_a_crash)
{
	struct conn c;

	BACKEND_READY();
	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, agent_connect(self->agent, self->srv.port, "agent-1",
				   &c));
	ASSERT_EQ(0, report_acked(&c, 1));
	conn_free(&c);
	ASSERT_EQ(0, incidents(self));
	ASSERT_NE(NULL, strstr(self->resp, "{\"id\":1,"));
	crash(self);

	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, incidents(self));
	TH_LOG("after the restart: %s", self->resp);
	EXPECT_NE(NULL, strstr(self->resp, "{\"id\":1,"));
	EXPECT_NE(NULL, strstr(self->resp, "\"agent-1\""));
	ASSERT_EQ(0, agent_connect(self->agent, self->srv.port, "agent-1",
				   &c));
	ASSERT_EQ(0, report_acked(&c, 2));
	ASSERT_EQ(0, incidents(self));
	TH_LOG("after the next report: %s", self->resp);
	/* The same incident, with both reports; no second one. */
	EXPECT_NE(NULL, strstr(self->resp, "{\"id\":1,"));
	EXPECT_NE(NULL, strstr(self->resp, "\"assessments\":2"));
	EXPECT_EQ(NULL, strstr(self->resp, "{\"id\":2,"));
	conn_free(&c);
}

/*
 * The store's disk fills: the round's commit fails, so nothing of it is
 * acknowledged and the agent's session is cut. Once there is room, the
 * same report sent again is stored, not taken for a duplicate.
 */
TEST_F(state, report_of_a_failed_commit_is_stored_when_sent_again)
{
	char dir[200], filler[320], cmd[400];
	Vnfsec__Frame *f = NULL;
	struct conn c;
	int ret;

	/*
	 * SQLite only: a full disk under PostgreSQL's WAL makes the
	 * database server itself PANIC and restart, which is the case of
	 * report_sent_while_the_database_is_away_is_stored_when_it_is_back
	 * (below), not a failed commit on a live connection.
	 */
	if (variant->postgres)
		SKIP(return, "the full-disk case is SQLite's; PostgreSQL's failed commit is report_sent_while_the_database_is_away_is_stored_when_it_is_back");
	snprintf(dir, sizeof(dir), "%s/small", self->ca);
	ASSERT_EQ(0, mkdir(dir, 0700));
	ASSERT_EQ(0, mount("vnfsec-test", dir, "tmpfs", 0, "size=2m"));
	snprintf(self->tmpfs, sizeof(self->tmpfs), "%s", dir);
	snprintf(self->db, sizeof(self->db), "%s/vnfsec.db", dir);
	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, agent_connect(self->agent, self->srv.port, "agent-1",
				   &c));
	ASSERT_EQ(0, report_acked(&c, 1));

	snprintf(filler, sizeof(filler), "%s/filler", dir);
	snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of=%s bs=64k 2>/dev/null",
		 filler);
	ret = system(cmd);	/* fails when the disk is full: the point */
	(void)ret;
	ASSERT_EQ(0, send_assessment(&c, 2, SYN_FLOOD, attacker, 80, 5));
	EXPECT_NE(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACK, &f));
	if (f)
		wire_free(f);
	f = NULL;
	conn_free(&c);

	ASSERT_EQ(0, unlink(filler));
	ASSERT_EQ(0, agent_connect(self->agent, self->srv.port, "agent-1",
				   &c));
	ASSERT_EQ(0, report_acked(&c, 2));
	EXPECT_EQ(0, metric(&self->srv, "vnfsec_assessments_duplicate_total"));
	conn_free(&c);
	crash(self);

	/* It is in the store: sent once more, it is a duplicate now. */
	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, agent_connect(self->agent, self->srv.port, "agent-1",
				   &c));
	ASSERT_EQ(0, report_acked(&c, 2));
	EXPECT_EQ(1, metric(&self->srv, "vnfsec_assessments_duplicate_total"));
	conn_free(&c);
}

/*
 * PostgreSQL stops under a connected agent: the report sent meanwhile is
 * not acknowledged (its round cannot commit); once the database is back
 * the server reconnects on its own, the report sent again is stored, and
 * a server started afresh knows it (a duplicate then).
 */
static int report_acked_retry(FIXTURE_DATA(state) *self, uint64_t id)
{
	struct conn c;
	int i, ret = -1;

	/* The server opens the connection again at most once a second. */
	for (i = 0; i < 10 && ret; i++) {
		if (i)
			sleep(1);
		if (agent_connect(self->agent, self->srv.port, "agent-1", &c))
			continue;
		ret = report_acked(&c, id);
		conn_free(&c);
	}
	return ret;
}

TEST_F(state, report_sent_while_the_database_is_away_is_stored_when_it_is_back)
{
	Vnfsec__Frame *f = NULL;
	struct conn c;

	BACKEND_READY();
	if (!variant->postgres)
		SKIP(return, "PostgreSQL only: a SQLite file is never away");
	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, agent_connect(self->agent, self->srv.port, "agent-1",
				   &c));
	ASSERT_EQ(0, report_acked(&c, 1));

	ASSERT_EQ(0, pg_crash(&self->pg));
	ASSERT_EQ(0, send_assessment(&c, 2, SYN_FLOOD, attacker, 80, 5));
	EXPECT_NE(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACK, &f));
	if (f)
		wire_free(f);
	conn_free(&c);

	ASSERT_EQ(0, pg_restart(&self->pg));
	ASSERT_EQ(0, report_acked_retry(self, 2));
	EXPECT_EQ(0, metric(&self->srv, "vnfsec_assessments_duplicate_total"));
	EXPECT_EQ(2, metric(&self->srv, "vnfsec_assessments_total"));
	crash(self);

	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, report_acked_retry(self, 2));
	EXPECT_EQ(1, metric(&self->srv, "vnfsec_assessments_duplicate_total"));
}

/*
 * An agent names its interface in bytes that are not UTF-8 (the wire
 * does not check): PostgreSQL would refuse the text and with it the whole
 * round, so no report would ever be stored; the store repairs the text.
 */
TEST_F(state, report_whose_interface_name_is_not_utf8_is_stored)
{
	static uint8_t dst[4] = { 10, 66, 0, 1 };
	Vnfsec__Frame f = VNFSEC__FRAME__INIT, *ack = NULL;
	Vnfsec__Assessment a = VNFSEC__ASSESSMENT__INIT;
	struct conn c;

	BACKEND_READY();
	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, agent_connect(self->agent, self->srv.port, "agent-1",
				   &c));
	a.id = 1;
	a.time_unix_ms = 1;
	a.heuristic = SYN_FLOOD;
	a.severity = 5;
	a.src_addr.data = (uint8_t *)attacker;
	a.src_addr.len = 4;
	a.dst_addr.data = dst;
	a.dst_addr.len = 4;
	a.dst_port = 80;
	a.count = 900;
	a.src_count = 880;
	a.window_ms = 1000;
	a.threshold = 500;
	a.iface = "eth\xff\xc0\xaf\xed\xa0\x80";
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ASSESSMENT;
	f.assessment = &a;
	ASSERT_EQ(0, conn_send(&c, &f));
	ASSERT_EQ(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACK, &ack));
	EXPECT_EQ(1, ack->ack->assessment_id);
	wire_free(ack);
	/* The next round is not poisoned either. */
	ASSERT_EQ(0, report_acked(&c, 2));
	conn_free(&c);
	crash(self);

	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, report_acked_retry(self, 1));
	EXPECT_EQ(1, metric(&self->srv, "vnfsec_assessments_duplicate_total"));
}

/* An operator's revocation is in the store: a crash does not lift it. */
TEST_F(state, revocation_survives_a_crash_until_lifted)
{
	struct conn c;

	BACKEND_READY();
	/* The server cuts the revoked agent as it writes. */
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"),
			 "{\"cmd\":\"revoke\",\"args\":{\"agent\":\"agent-1\"}}",
			 self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"ok\":true"));
	/* Killed right after "ok": the answer came after the commit. */
	crash(self);

	ASSERT_EQ(0, start(self));
	/* The attack: the revoked identity comes back after the crash. */
	if (!agent_connect(self->agent, self->srv.port, "agent-1", &c)) {
		EXPECT_NE(0, report_acked(&c, 1));
		conn_free(&c);
	}
	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"),
			 "{\"cmd\":\"revoke\",\"args\":{\"agent\":\"agent-1\",\"lift\":true}}",
			 self->resp, sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"ok\":true"));
	crash(self);

	/* Lifted, and that is stored too. */
	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, report_acked_retry(self, 1));
}

/*
 * A feed imported through the control socket is a group of writes inside
 * the running server's round (a savepoint on PostgreSQL): all of it is in
 * the store after a crash, except what had expired.
 */
TEST_F(state, feed_imported_while_running_survives_a_crash)
{
	char req[512];

	BACKEND_READY();
	ASSERT_EQ(0, start(self));
	snprintf(req, sizeof(req),
		 "{\"cmd\":\"threatdb.import\",\"args\":{\"path\":\"%s/selftests/server/fixtures/indicators.csv\",\"format\":\"csv\"}}",
		 getenv("VNFSEC_SRC"));
	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"), req, self->resp,
			 sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"imported\":3,\"skipped\":3"));
	/* In force at once, and stored before the answer (crash below). */
	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"),
			 "{\"cmd\":\"status\"}", self->resp,
			 sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp, "\"indicators\":3"));
	crash(self);

	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"),
			 "{\"cmd\":\"status\"}", self->resp,
			 sizeof(self->resp)));
	TH_LOG("after the restart: %s", self->resp);
	/* 10.66.8.0/24 and port 4444; 10.66.9.0/24 expired long ago. */
	EXPECT_NE(NULL, strstr(self->resp, "\"indicators\":2"));
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* An action for report @id from @src arrives (1), or none in 5 s (0). */
static int ordered(struct conn *c, uint64_t id, const uint8_t src[4])
{
	Vnfsec__Action *a = NULL;
	int kind;

	if (send_assessment(c, id, SYN_FLOOD, src, 80, 5))
		return -1;
	if (recv_action(c, NULL, &a, &kind))
		return 0;
	vnfsec__action__free_unpacked(a, NULL);
	return 1;
}

TEST_F(state, sighup_reloads_playbooks_and_keeps_them_when_bad)
{
	static const uint8_t src2[4] = { 10, 66, 7, 8 }, src3[4] = { 10, 66, 7, 9 };
	char pb[300], log[300];
	const char *extra[] = { "--playbook", pb, NULL };
	struct conn c;

	if (variant->postgres)
		SKIP(return, "the reload reads files, not the store: SQLite only");
	snprintf(pb, sizeof(pb), "%s/playbook.yaml", self->ca);
	snprintf(log, sizeof(log), "%s/s/server.log", self->ca);
	ASSERT_EQ(0, write_file(pb, "version: 1\nplaybooks: []\n"));
	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	ASSERT_EQ(0, agent_connect(self->agent, self->srv.port, "agent-1",
				   &c));
	EXPECT_EQ(0, ordered(&c, 1, attacker));

	ASSERT_EQ(0, write_file(pb, "version: 1\nplaybooks:\n"
		"  - name: floods\n    on: syn_flood\n"
		"    actions: [{type: block_source, ttl_s: 30}]\n"));
	kill(self->srv.pid, SIGHUP);
	ASSERT_TRUE(wait_lines(log, "SIGHUP: playbooks reloaded", 1));
	EXPECT_EQ(1, ordered(&c, 2, src2));

	/* A broken file: the playbooks in force stay in force. */
	ASSERT_EQ(0, write_file(pb, "version: 1\nplaybooks: [\n"));
	kill(self->srv.pid, SIGHUP);
	ASSERT_TRUE(wait_lines(log, "SIGHUP: the playbooks in force stay", 1));
	EXPECT_EQ(1, ordered(&c, 3, src3));
	conn_free(&c);
}

/*
 * An order sent on a session that died before the agent read it is sent
 * again when the agent is back, until the agent answers it.
 */
TEST_F(state, unanswered_order_is_sent_again_when_the_agent_returns)
{
	Vnfsec__Action *a = NULL;
	struct conn c;
	int kind;

	if (variant->postgres)
		SKIP(return, "orders are the server's memory, not the store: SQLite only");
	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, agent_connect(self->agent, self->srv.port, "agent-1",
				   &c));
	/*
	 * The built-in playbook blocks the source; the order arrives, the
	 * agent dies before it can act on it or answer.
	 */
	ASSERT_EQ(0, send_assessment(&c, 1, SYN_FLOOD, attacker, 80, 5));
	ASSERT_EQ(0, recv_action(&c, NULL, &a, &kind));
	vnfsec__action__free_unpacked(a, NULL);
	a = NULL;
	conn_free(&c);

	ASSERT_EQ(0, agent_connect(self->agent, self->srv.port, "agent-1",
				   &c));
	ASSERT_EQ(0, recv_action(&c, NULL, &a, &kind));
	EXPECT_EQ(VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE, a->type);
	EXPECT_EQ(1, a->seq);
	ASSERT_EQ(0, answer_action_status(&c, a->seq, 0));
	vnfsec__action__free_unpacked(a, NULL);
	a = NULL;
	/* Answered: a later return gets nothing again. */
	ASSERT_EQ(0, report_acked(&c, 2));
	conn_free(&c);
	ASSERT_EQ(0, agent_connect(self->agent, self->srv.port, "agent-1",
				   &c));
	EXPECT_NE(0, recv_action(&c, NULL, &a, &kind));
	if (a)
		vnfsec__action__free_unpacked(a, NULL);
	conn_free(&c);
}

TEST_HARNESS_MAIN
