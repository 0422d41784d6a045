// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every corrective action type a playbook can order reaches the agent
 * with the fields of its type filled from the report (the source prefix,
 * the flow, the VNF, the rate), plain and signed (--signing-key), and its
 * result is tracked. A real server and a TLS agent on loopback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "kselftest_harness.h"
#include "selftests/server/srvlib.h"
#include "user/common/log.h"
#include "user/common/signing.h"

#define SYN_FLOOD VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD

static const uint8_t scanner[4] = { 10, 66, 0, 50 };
static const uint8_t victim[4] = { 10, 66, 0, 1 };

static int count_str(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* Writes a one-playbook file for any incident with @actions' items. */
static int write_playbook(const char *path, const char *actions)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "version: 1\nplaybooks:\n  - name: p\n    on: any\n"
		"    scope: reporting\n    actions:\n%s", actions);
	return fclose(f) ? -1 : 0;
}

FIXTURE(actions) {
	char ca[64];
	struct test_server srv;
	SSL_CTX *ctx;
	struct conn c;
	bool connected;
	EVP_PKEY *pub;
	struct signing_verifier v;
	char resp[65536];
};

FIXTURE_VARIANT(actions) {
	int type;
	const char *name;
	const char *rule;	/* the playbook's action */
	bool sign;
};

#define RULE(name, more) "      - {type: " name ", ttl_s: 45" more "}\n"

FIXTURE_VARIANT_ADD(actions, block_source) {
	.type = VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE,
	.name = "block_source",
	.rule = RULE("block_source", ", prefix_len: 24"),
};
FIXTURE_VARIANT_ADD(actions, unblock_source) {
	.type = VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE,
	.name = "unblock_source",
	.rule = RULE("unblock_source", ", prefix_len: 24"),
};
FIXTURE_VARIANT_ADD(actions, rate_limit_source) {
	.type = VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE,
	.name = "rate_limit_source",
	.rule = RULE("rate_limit_source", ", prefix_len: 24, rate_pps: 5000"),
};
FIXTURE_VARIANT_ADD(actions, drop_flow) {
	.type = VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW,
	.name = "drop_flow",
	.rule = RULE("drop_flow", ""),
};
FIXTURE_VARIANT_ADD(actions, monitor_flow) {
	.type = VNFSEC__ACTION_TYPE__ACTION_MONITOR_FLOW,
	.name = "monitor_flow",
	.rule = RULE("monitor_flow", ""),
};
FIXTURE_VARIANT_ADD(actions, mirror_flow) {
	.type = VNFSEC__ACTION_TYPE__ACTION_MIRROR_FLOW,
	.name = "mirror_flow",
	.rule = RULE("mirror", ""),
};
FIXTURE_VARIANT_ADD(actions, quarantine_vnf) {
	.type = VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF,
	.name = "quarantine_vnf",
	.rule = RULE("quarantine", ""),
};
FIXTURE_VARIANT_ADD(actions, release_vnf) {
	.type = VNFSEC__ACTION_TYPE__ACTION_RELEASE_VNF,
	.name = "release_vnf",
	.rule = RULE("release", ""),
};
FIXTURE_VARIANT_ADD(actions, block_source_signed) {
	.type = VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE,
	.name = "block_source",
	.rule = RULE("block_source", ", prefix_len: 24"),
	.sign = true,
};
FIXTURE_VARIANT_ADD(actions, unblock_source_signed) {
	.type = VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE,
	.name = "unblock_source",
	.rule = RULE("unblock_source", ", prefix_len: 24"),
	.sign = true,
};
FIXTURE_VARIANT_ADD(actions, rate_limit_source_signed) {
	.type = VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE,
	.name = "rate_limit_source",
	.rule = RULE("rate_limit_source", ", prefix_len: 24, rate_pps: 5000"),
	.sign = true,
};
FIXTURE_VARIANT_ADD(actions, drop_flow_signed) {
	.type = VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW,
	.name = "drop_flow",
	.rule = RULE("drop_flow", ""),
	.sign = true,
};
FIXTURE_VARIANT_ADD(actions, monitor_flow_signed) {
	.type = VNFSEC__ACTION_TYPE__ACTION_MONITOR_FLOW,
	.name = "monitor_flow",
	.rule = RULE("monitor_flow", ""),
	.sign = true,
};
FIXTURE_VARIANT_ADD(actions, mirror_flow_signed) {
	.type = VNFSEC__ACTION_TYPE__ACTION_MIRROR_FLOW,
	.name = "mirror_flow",
	.rule = RULE("mirror", ""),
	.sign = true,
};
FIXTURE_VARIANT_ADD(actions, quarantine_vnf_signed) {
	.type = VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF,
	.name = "quarantine_vnf",
	.rule = RULE("quarantine", ""),
	.sign = true,
};
FIXTURE_VARIANT_ADD(actions, release_vnf_signed) {
	.type = VNFSEC__ACTION_TYPE__ACTION_RELEASE_VNF,
	.name = "release_vnf",
	.rule = RULE("release", ""),
	.sign = true,
};

FIXTURE_SETUP(actions)
{
	const char *extra[] = { "--playbook", NULL, "--signing-key", NULL,
				NULL };
	char *pb;

	ASSERT_NE(NULL, getenv("VNFSEC_SRC"));
	ASSERT_NE(NULL, getenv("VNFSEC_BUILD"));
	log_init("test", LOG_CRIT);
	memset(&self->srv, 0, sizeof(self->srv));
	self->connected = false;
	self->pub = NULL;
	self->ctx = NULL;
	ASSERT_EQ(0, make_ca(self->ca, sizeof(self->ca), "agent-1"));
	pb = strdup(tpath(self->ca, "playbook.yaml"));
	ASSERT_NE(NULL, pb);
	ASSERT_EQ(0, write_playbook(pb, variant->rule));
	extra[1] = pb;
	if (variant->sign)
		extra[3] = tpath(self->ca, "actions.key");
	else
		extra[2] = NULL;
	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	free(pb);
	self->pub = signing_key_load(tpath(self->ca, "actions.pub"), false);
	ASSERT_NE(NULL, self->pub);
	self->v = (struct signing_verifier){
		.trusted = self->pub, .issuer = "vnfsec-server",
		.self = "agent-1",
	};
	self->ctx = agent_ctx(self->ca, "agent-1");
	ASSERT_NE(NULL, self->ctx);
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1",
				   &self->c));
	self->connected = true;
}

FIXTURE_TEARDOWN(actions)
{
	char cmd[128];

	if (self->connected)
		conn_free(&self->c);
	SSL_CTX_free(self->ctx);
	EVP_PKEY_free(self->pub);
	/* Exit 0 after SIGTERM: no crash, and no leak under ASan. */
	EXPECT_EQ(0, server_stop(&self->srv));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->ca);
	system(cmd);
}

static bool has_flow(const Vnfsec__Action *a)
{
	const Vnfsec__FlowTuple *f = a->flow;

	return f && f->src_addr.len == 4 && f->dst_addr.len == 4 &&
	       !memcmp(f->src_addr.data, scanner, 4) &&
	       !memcmp(f->dst_addr.data, victim, 4) &&
	       f->src_port == FLOW_SRC_PORT && f->dst_port == 80 &&
	       f->proto == IPPROTO_TCP;
}

TEST_F(actions, reaches_the_agent_with_its_target_and_result_is_tracked)
{
	char needle[128];
	Vnfsec__Action *a;
	int kind;
	bool source, flow, vnf;

	/* From outside any VNF (no vnf_src): a source automation may cut. */
	ASSERT_EQ(0, send_flow_assessment(&self->c, 1, SYN_FLOOD, scanner, 80,
					  "", "pgw"));
	ASSERT_EQ(0, recv_action(&self->c, variant->sign ? &self->v : NULL,
				 &a, &kind));
	EXPECT_EQ(variant->sign ? VNFSEC__FRAME__BODY_SIGNED_ACTION :
				  VNFSEC__FRAME__BODY_ACTION, kind);
	EXPECT_EQ(variant->type, a->type);
	EXPECT_EQ(45, a->ttl_s);
	EXPECT_EQ(1, a->assessment_id);
	EXPECT_EQ(NULL, wire_check_action(a));

	source = variant->type == VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE ||
		 variant->type == VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE ||
		 variant->type == VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE;
	flow = variant->type == VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW ||
	       variant->type == VNFSEC__ACTION_TYPE__ACTION_MONITOR_FLOW ||
	       variant->type == VNFSEC__ACTION_TYPE__ACTION_MIRROR_FLOW;
	vnf = !source && !flow;
	/* Its own target, and no other type's fields for the agent to guess at. */
	EXPECT_EQ(source ? 4 : 0, a->src_addr.len);
	if (source) {
		EXPECT_EQ(0, memcmp(a->src_addr.data, scanner, 4));
		EXPECT_EQ(24, a->prefix_len);
	}
	EXPECT_EQ(flow, has_flow(a));
	EXPECT_EQ(flow, a->flow != NULL);
	EXPECT_STREQ(vnf ? "pgw" : "", a->vnf);
	EXPECT_EQ(variant->type == VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE ?
		  5000 : 0, a->rate_pps);

	ASSERT_EQ(0, answer_action_status(&self->c, a->seq, 0));
	snprintf(needle, sizeof(needle),
		 "\"action_result\":{\"seq\":%llu,\"type\":\"%s\"",
		 (unsigned long long)a->seq, variant->name);
	EXPECT_TRUE(wait_lines(tpath(self->srv.dir, "alerts.json"), needle,
			       1));
	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"),
			 "{\"cmd\":\"actions\"}", self->resp,
			 sizeof(self->resp)));
	snprintf(needle, sizeof(needle), "\"type\":\"%s\"", variant->name);
	EXPECT_NE(NULL, strstr(self->resp, needle));
	EXPECT_NE(NULL, strstr(self->resp, "\"state\":\"applied\""));
	if (vnf)
		EXPECT_NE(NULL, strstr(self->resp, "\"vnf\":\"pgw\""));
	if (flow)
		EXPECT_NE(NULL, strstr(self->resp, "\"dest_port\":80"));
	if (variant->type == VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE)
		EXPECT_NE(NULL, strstr(self->resp, "\"rate_pps\":5000"));
	vnfsec__action__free_unpacked(a, NULL);
}

FIXTURE(rules) {
	char ca[64];
	struct test_server srv, child;
	SSL_CTX *ctx;
	char resp[65536];
};

FIXTURE_SETUP(rules)
{
	ASSERT_NE(NULL, getenv("VNFSEC_SRC"));
	log_init("test", LOG_CRIT);
	memset(&self->srv, 0, sizeof(self->srv));
	memset(&self->child, 0, sizeof(self->child));
	ASSERT_EQ(0, make_ca(self->ca, sizeof(self->ca), "agent-1 child:child-1"));
	self->ctx = agent_ctx(self->ca, "agent-1");
	ASSERT_NE(NULL, self->ctx);
}

FIXTURE_TEARDOWN(rules)
{
	char cmd[128];

	SSL_CTX_free(self->ctx);
	server_stop(&self->child);
	server_stop(&self->srv);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->ca);
	system(cmd);
}

TEST_F(rules, rate_limit_without_a_rate_is_refused_with_its_line)
{
	char *pb = strdup(tpath(self->ca, "pb.yaml"));
	const char *extra[] = { "--playbook", pb, NULL };

	ASSERT_NE(NULL, pb);
	ASSERT_EQ(0, write_playbook(pb, "      - {type: rate_limit_source}\n"));
	EXPECT_NE(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	EXPECT_NE(0, server_stop(&self->srv));
	EXPECT_EQ(1, count_lines(tpath(self->srv.dir, "server.log"),
				 "needs rate_pps"));
	ASSERT_EQ(0, write_playbook(pb, "      - {type: drop_flow, rate_pps: 10}\n"));
	EXPECT_NE(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	EXPECT_NE(0, server_stop(&self->srv));
	EXPECT_EQ(1, count_lines(tpath(self->srv.dir, "server.log"),
				 "rate_pps belongs to rate_limit_source only"));
	free(pb);
}

/* A flow action for a report without a flow has nothing to act on. */
TEST_F(rules, flow_action_without_a_flow_orders_nothing)
{
	char *pb = strdup(tpath(self->ca, "pb.yaml"));
	const char *extra[] = { "--playbook", pb, NULL };
	Vnfsec__Frame *f;
	struct conn c;

	ASSERT_NE(NULL, pb);
	ASSERT_EQ(0, write_playbook(pb, "      - {type: drop_flow}\n"));
	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	free(pb);
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1", &c));
	ASSERT_EQ(0, send_assessment(&c, 1, SYN_FLOOD, scanner, 80, 6));
	ASSERT_EQ(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACK, &f));
	wire_free(f);
	/* The second report's ack comes after anything the first caused. */
	ASSERT_EQ(0, send_flow_assessment(&c, 2, SYN_FLOOD, scanner, 80,
					  "", ""));
	ASSERT_EQ(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACTION, &f));
	EXPECT_EQ(VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW, f->action->type);
	EXPECT_EQ(2, f->action->assessment_id);
	wire_free(f);
	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"),
			 "{\"cmd\":\"actions\"}", self->resp,
			 sizeof(self->resp)));
	EXPECT_EQ(1, count_str(self->resp, "\"type\":\"drop_flow\""));
	conn_free(&c);
}

/* An unblock ends the block: the next report blocks the source again. */
TEST_F(rules, unblock_lifts_the_block_so_it_is_ordered_again)
{
	char *pb = strdup(tpath(self->ca, "pb.yaml"));
	const char *extra[] = { "--playbook", pb, "--window", "1", NULL };
	Vnfsec__Frame *f;
	struct conn c;
	FILE *pf;

	ASSERT_NE(NULL, pb);
	/* Vertical scans block the source, SYN floods lift the block. */
	pf = fopen(pb, "w");
	ASSERT_NE(NULL, pf);
	fprintf(pf, "version: 1\nplaybooks:\n"
		"  - {name: scan, on: port_scan, actions: [{type: block_source}]}\n"
		"  - {name: flood, on: syn_flood, actions: [{type: unblock_source}]}\n");
	ASSERT_EQ(0, fclose(pf));
	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	free(pb);
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1", &c));
	ASSERT_EQ(0, send_assessment(&c, 1, VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN,
				     scanner, 22, 6));
	ASSERT_EQ(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACTION, &f));
	EXPECT_EQ(VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE, f->action->type);
	wire_free(f);
	ASSERT_EQ(0, send_assessment(&c, 3, SYN_FLOOD, scanner, 80, 6));
	ASSERT_EQ(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACTION, &f));
	EXPECT_EQ(VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE, f->action->type);
	EXPECT_EQ(0, memcmp(f->action->src_addr.data, scanner, 4));
	wire_free(f);
	/* Past the window the scanner's scan is a new incident: blocked again. */
	sleep(2);
	ASSERT_EQ(0, send_assessment(&c, 4, VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN,
				     scanner, 22, 6));
	ASSERT_EQ(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACTION, &f));
	EXPECT_EQ(VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE, f->action->type);
	EXPECT_EQ(4, f->action->assessment_id);
	wire_free(f);
	conn_free(&c);
}

/* A parent's order of another type passes through its child unchanged. */
TEST_F(rules, parent_orders_a_rate_limit_through_its_child)
{
	char *pb = strdup(tpath(self->ca, "parent.yaml"));
	char *child_pb = strdup(tpath(self->ca, "child.yaml"));
	char *cert = strdup(tpath(self->ca, "child-1.pem"));
	char *key = strdup(tpath(self->ca, "child-1.key"));
	char parent[64];
	const char *extra[] = { "--playbook", pb, NULL };
	const char *child_extra[] = { "--parent", parent, "--parent-cert", cert,
				      "--parent-key", key, "--playbook",
				      child_pb, NULL };
	Vnfsec__Frame *f;
	FILE *pf;
	struct conn c;

	ASSERT_TRUE(pb && child_pb && cert && key);
	ASSERT_EQ(0, write_playbook(pb, "      - {type: rate_limit_source, "
				    "rate_pps: 700, ttl_s: 20}\n"));
	/* The child decides nothing itself. */
	pf = fopen(child_pb, "w");
	ASSERT_NE(NULL, pf);
	fprintf(pf, "version: 1\nplaybooks: []\n");
	ASSERT_EQ(0, fclose(pf));
	ASSERT_EQ(0, server_start(&self->srv, self->ca, "parent", NULL, extra));
	snprintf(parent, sizeof(parent), "127.0.0.1:%d", self->srv.port);
	ASSERT_EQ(0, server_start(&self->child, self->ca, "child", NULL,
				  child_extra));
	ASSERT_EQ(0, agent_connect(self->ctx, self->child.port, "agent-1", &c));
	ASSERT_EQ(0, send_assessment(&c, 1, SYN_FLOOD, scanner, 80, 6));
	ASSERT_EQ(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACTION, &f));
	EXPECT_EQ(VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE,
		  f->action->type);
	EXPECT_EQ(700, f->action->rate_pps);
	EXPECT_EQ(20, f->action->ttl_s);
	EXPECT_EQ(32, f->action->prefix_len);
	ASSERT_EQ(4, f->action->src_addr.len);
	EXPECT_EQ(0, memcmp(f->action->src_addr.data, scanner, 4));
	wire_free(f);
	conn_free(&c);
	free(pb);
	free(child_pb);
	free(cert);
	free(key);
}

/*
 * Automation is never aimed at a VNF. The server's --policy names the
 * VNFs' addresses and the management network (its allowlist).
 */
static const uint8_t vnf_sgw[4] = { 10, 66, 0, 7 };
static const uint8_t mgmt[4] = { 10, 78, 0, 2 };

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f) ? -1 : 0;
}

#define GUARD_POLICY							\
	"version: 1\n"							\
	"vnfs:\n"							\
	"  - {name: sgw, addresses: [10.66.0.7]}\n"			\
	"  - {name: pgw, addresses: [10.66.0.1]}\n"			\
	"allowlist: [10.78.0.0/30]\n"

/* Report @src as @id and wait for its ack; false if an order comes. */
static bool report_acked(struct conn *c, uint64_t id, const uint8_t *src,
			 const char *vnf_src)
{
	Vnfsec__Frame *f;
	const char *why;
	bool acked = false, ordered = false;

	if (vnf_src ? send_flow_assessment(c, id, SYN_FLOOD, src, 80, vnf_src,
					   "pgw") :
		      send_assessment(c, id, SYN_FLOOD, src, 80, 6))
		return false;
	while (!acked && conn_recv(c, &f, &why) == 0) {
		acked = f->body_case == VNFSEC__FRAME__BODY_ACK &&
			f->ack->assessment_id == id;
		ordered |= f->body_case == VNFSEC__FRAME__BODY_ACTION;
		wire_free(f);
	}
	return acked && !ordered;
}

/*
 * The next order is a block of @src caused by report @id: an order of
 * an earlier report would come first (one TLS stream, in order).
 */
static bool blocked_next(struct conn *c, uint64_t id, const uint8_t *src)
{
	Vnfsec__Frame *f;
	const char *why;
	bool ok = false;

	while (conn_recv(c, &f, &why) == 0) {
		if (f->body_case != VNFSEC__FRAME__BODY_ACTION) {
			wire_free(f);
			continue;
		}
		ok = f->action->type == VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE &&
		     f->action->assessment_id == id &&
		     f->action->src_addr.len == 4 &&
		     !memcmp(f->action->src_addr.data, src, 4);
		wire_free(f);
		break;
	}
	return ok;
}

TEST_F(rules, flood_from_a_vnf_address_waits_for_the_operator)
{
	char *pol = strdup(tpath(self->ca, "policy.yaml"));
	char *db = strdup(tpath(self->ca, "server.db"));
	char *hook_out = strdup(tpath(self->ca, "hook.json"));
	char cmd[512], out[4096], hook[300];
	const char *extra[] = { "--policy", pol, "--db", db, "--hook", hook,
				NULL };
	struct conn c;
	FILE *p;
	size_t n;

	ASSERT_TRUE(pol && db && hook_out);
	snprintf(hook, sizeof(hook), "cat >> %s", hook_out);
	ASSERT_EQ(0, write_file(pol, GUARD_POLICY));
	/* The built-in playbook: it blocks any flood's source. */
	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	free(pol);
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1", &c));
	/* The attack: a flood "from" sgw (spoofed or not) to get sgw cut off. */
	ASSERT_TRUE(report_acked(&c, 1, vnf_sgw, NULL));
	/* A source outside every VNF still gets its block, and first. */
	ASSERT_EQ(0, send_assessment(&c, 2, SYN_FLOOD, scanner, 80, 6));
	ASSERT_TRUE(blocked_next(&c, 2, scanner));

	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"),
			 "{\"cmd\":\"actions\"}", self->resp,
			 sizeof(self->resp)));
	EXPECT_EQ(1, count_str(self->resp, "\"type\":\"block_source\""));
	EXPECT_EQ(NULL, strstr(self->resp, "10.66.0.7"));
	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"),
			 "{\"cmd\":\"incidents\"}", self->resp,
			 sizeof(self->resp)));
	EXPECT_EQ(1, count_str(self->resp, "\"requires_operator\":true"));
	EXPECT_NE(NULL, strstr(self->resp,
			       "\"proposed_action\":{\"type\":\"quarantine_vnf\",\"vnf\":\"sgw\"}"));
	EXPECT_NE(NULL, strstr(self->resp,
			       "\"operator_reason\":\"source 10.66.0.7 is an address of VNF sgw\""));
	/* The EVE alert of the report says so too. */
	EXPECT_EQ(1, count_lines(tpath(self->srv.dir, "alerts.json"),
				 "\"incident_id\":1,\"requires_operator\":true,"
				 "\"operator_reason\":\"source 10.66.0.7 is an address of VNF sgw\","
				 "\"proposed_action\":{\"type\":\"quarantine_vnf\",\"vnf\":\"sgw\"}"));
	/* And what the operator reads. */
	snprintf(cmd, sizeof(cmd), "%s/bin/vnfsecctl --server --socket %s incidents",
		 getenv("VNFSEC_BUILD"), tpath(self->srv.dir, "ctl.sock"));
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	EXPECT_EQ(0, pclose(p));
	EXPECT_NE(NULL, strstr(out, "OPERATOR"));
	EXPECT_NE(NULL, strstr(out, "quarantine_vnf"));
	EXPECT_NE(NULL, strstr(out, "sgw"));
	EXPECT_EQ(1, count_lines(tpath(self->srv.dir, "server.log"),
				 "source 10.66.0.7 is an address of VNF sgw: no automatic block"));
	conn_free(&c);
	/* The store keeps it: what was decided survives a restart. */
	ASSERT_EQ(0, server_stop(&self->srv));
	snprintf(cmd, sizeof(cmd),
		 "sqlite3 %s \"SELECT src, requires_operator, proposed FROM incidents ORDER BY id\"",
		 db);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	EXPECT_EQ(0, pclose(p));
	EXPECT_STREQ("10.66.0.7|1|quarantine_vnf sgw\n10.66.0.50|0|\n", out);
	/* The hook (an orchestrator) hears of it with the proposal. */
	EXPECT_EQ(1, count_lines(hook_out,
				 "\"requires_operator\":true,\"operator_reason\":\"source 10.66.0.7 is an address of VNF sgw\",\"proposed_action\":{\"type\":\"quarantine_vnf\",\"vnf\":\"sgw\"}"));
	free(db);
	free(hook_out);
}

/* The agent's policy knows the source as a VNF the server's does not. */
TEST_F(rules, source_the_agent_names_a_vnf_is_not_blocked)
{
	struct conn c;

	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, NULL));
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1", &c));
	ASSERT_TRUE(report_acked(&c, 1, scanner, "billing"));
	ASSERT_EQ(0, send_assessment(&c, 2, SYN_FLOOD, vnf_sgw, 80, 6));
	ASSERT_TRUE(blocked_next(&c, 2, vnf_sgw));
	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"),
			 "{\"cmd\":\"incidents\"}", self->resp,
			 sizeof(self->resp)));
	EXPECT_NE(NULL, strstr(self->resp,
			       "\"proposed_action\":{\"type\":\"quarantine_vnf\",\"vnf\":\"billing\"}"));
	conn_free(&c);
}

/* A spoofed_source report: sgw's address claimed from @vnf_src's port. */
static bool spoofing_acked(struct conn *c, uint64_t id, const char *vnf_src)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT, *r;
	Vnfsec__Assessment a = VNFSEC__ASSESSMENT__INIT;
	static uint8_t dst[4] = { 10, 66, 0, 1 };
	const char *why;
	bool acked = false;

	a.id = id;
	a.time_unix_ms = 1;
	a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_SPOOFED_SOURCE;
	a.severity = 7;
	a.src_addr.data = (uint8_t *)vnf_sgw;
	a.src_addr.len = 4;
	a.dst_addr.data = dst;
	a.dst_addr.len = 4;
	a.count = 40;		/* src_count 0: the address is only claimed */
	a.window_ms = 1000;
	a.iface = "veth-test";
	a.vnf_src = (char *)vnf_src;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ASSESSMENT;
	f.assessment = &a;
	if (conn_send(c, &f))
		return false;
	while (!acked && conn_recv(c, &r, &why) == 0) {
		acked = r->body_case == VNFSEC__FRAME__BODY_ACK &&
			r->ack->assessment_id == id;
		wire_free(r);
	}
	return acked;
}

/*
 * Two VNFs each spoofing sgw's address: two incidents, each proposing
 * the quarantine of its own sender (they merged under the first one's).
 */
TEST_F(rules, two_spoofing_vnfs_are_two_incidents_with_their_proposals)
{
	struct conn c;

	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, NULL));
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1", &c));
	ASSERT_TRUE(spoofing_acked(&c, 1, "billing"));
	ASSERT_TRUE(spoofing_acked(&c, 2, "dns"));
	ASSERT_TRUE(spoofing_acked(&c, 3, "billing"));
	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"),
			 "{\"cmd\":\"incidents\"}", self->resp,
			 sizeof(self->resp)));
	EXPECT_EQ(2, count_str(self->resp, "\"type\":\"spoofed_source\""));
	EXPECT_EQ(1, count_str(self->resp,
			       "\"proposed_action\":{\"type\":\"quarantine_vnf\",\"vnf\":\"billing\"}"));
	EXPECT_EQ(1, count_str(self->resp,
			       "\"proposed_action\":{\"type\":\"quarantine_vnf\",\"vnf\":\"dns\"}"));
	conn_free(&c);
}

/*
 * The management network: the policy's allowlist and the address an
 * agent connects from (127.0.0.1 here). Nothing to quarantine there.
 */
TEST_F(rules, management_addresses_are_never_blocked)
{
	static const uint8_t agent_addr[4] = { 127, 0, 0, 1 };
	char *pol = strdup(tpath(self->ca, "policy.yaml"));
	const char *extra[] = { "--policy", pol, NULL };
	struct conn c;

	ASSERT_NE(NULL, pol);
	ASSERT_EQ(0, write_file(pol, GUARD_POLICY));
	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	free(pol);
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1", &c));
	ASSERT_TRUE(report_acked(&c, 1, mgmt, NULL));
	ASSERT_TRUE(report_acked(&c, 2, agent_addr, NULL));
	ASSERT_EQ(0, send_assessment(&c, 3, SYN_FLOOD, scanner, 80, 6));
	ASSERT_TRUE(blocked_next(&c, 3, scanner));
	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"),
			 "{\"cmd\":\"incidents\"}", self->resp,
			 sizeof(self->resp)));
	EXPECT_EQ(2, count_str(self->resp, "\"requires_operator\":true"));
	EXPECT_EQ(0, count_str(self->resp, "\"proposed_action\""));
	EXPECT_NE(NULL, strstr(self->resp, "in the policy's allowlist (management network)"));
	EXPECT_NE(NULL, strstr(self->resp, "an agent's address (management network)"));
	conn_free(&c);
}

/* An operator's wide block may not cover a VNF either. */
TEST_F(rules, block_whose_prefix_covers_a_vnf_is_not_ordered)
{
	char *pol = strdup(tpath(self->ca, "policy.yaml"));
	char *pb = strdup(tpath(self->ca, "pb.yaml"));
	const char *extra[] = { "--policy", pol, "--playbook", pb, NULL };
	struct conn c;

	ASSERT_TRUE(pol && pb);
	ASSERT_EQ(0, write_file(pol, GUARD_POLICY));
	ASSERT_EQ(0, write_playbook(pb, "      - {type: block_source, prefix_len: 16}\n"
				    "      - {type: drop_flow}\n"));
	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	free(pol);
	free(pb);
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1", &c));
	/* 10.66.0.50/16 holds sgw and pgw: no block; the flow alone is cut. */
	ASSERT_EQ(0, send_flow_assessment(&c, 1, SYN_FLOOD, scanner, 80, "",
					  "pgw"));
	EXPECT_TRUE(wait_lines(tpath(self->srv.dir, "alerts.json"),
			       "\"event_type\":\"action\"", 1));
	ASSERT_EQ(0, ctl(tpath(self->srv.dir, "ctl.sock"),
			 "{\"cmd\":\"actions\"}", self->resp,
			 sizeof(self->resp)));
	EXPECT_EQ(0, count_str(self->resp, "\"type\":\"block_source\""));
	EXPECT_EQ(1, count_str(self->resp, "\"type\":\"drop_flow\""));
	EXPECT_EQ(1, count_lines(tpath(self->srv.dir, "server.log"),
				 "not ordering block_source: its target /16 covers an address of VNF"));
	conn_free(&c);
}

/* --policy and --playbook cannot both bring playbooks. */
TEST_F(rules, playbooks_from_policy_and_playbook_file_are_refused)
{
	char *pol = strdup(tpath(self->ca, "policy.yaml"));
	char *pb = strdup(tpath(self->ca, "pb.yaml"));
	const char *extra[] = { "--policy", pol, "--playbook", pb, NULL };

	ASSERT_TRUE(pol && pb);
	ASSERT_EQ(0, write_file(pol, GUARD_POLICY
		"playbooks:\n  - {name: f, on: syn_flood, actions: [{type: alert}]}\n"));
	ASSERT_EQ(0, write_playbook(pb, "      - {type: block_source}\n"));
	EXPECT_NE(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	EXPECT_NE(0, server_stop(&self->srv));
	EXPECT_EQ(1, count_lines(tpath(self->srv.dir, "server.log"),
				 "has playbooks and so has"));
	/* A playbook file is playbooks only: VNFs belong in --policy. */
	ASSERT_EQ(0, write_file(pb, GUARD_POLICY "playbooks: []\n"));
	extra[0] = "--playbook";
	extra[1] = pb;
	extra[2] = NULL;
	EXPECT_NE(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	EXPECT_NE(0, server_stop(&self->srv));
	EXPECT_EQ(1, count_lines(tpath(self->srv.dir, "server.log"),
				 "pb.yaml:2:1: vnfs: a playbook file holds only 'version' and 'playbooks'"));
	EXPECT_EQ(1, count_lines(tpath(self->srv.dir, "server.log"),
				 "pb.yaml:5:1: allowlist: a playbook file holds only"));
	free(pol);
	free(pb);
}

/* The policy's own playbooks decide when there is no --playbook. */
TEST_F(rules, policy_playbooks_decide_without_a_playbook_file)
{
	char *pol = strdup(tpath(self->ca, "policy.yaml"));
	const char *extra[] = { "--policy", pol, NULL };
	struct conn c;
	Vnfsec__Frame *f;

	ASSERT_NE(NULL, pol);
	ASSERT_EQ(0, write_file(pol, GUARD_POLICY
		"playbooks:\n  - name: f\n    on: syn_flood\n"
		"    actions: [{type: rate_limit_source, rate_pps: 99, ttl_s: 7}]\n"));
	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	free(pol);
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1", &c));
	ASSERT_EQ(0, send_assessment(&c, 1, SYN_FLOOD, scanner, 80, 6));
	ASSERT_EQ(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACTION, &f));
	EXPECT_EQ(VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE,
		  f->action->type);
	EXPECT_EQ(99, f->action->rate_pps);
	EXPECT_EQ(7, f->action->ttl_s);
	wire_free(f);
	conn_free(&c);
}

/* A signed detector's event (docs/detectors.md) answered by its playbook. */
TEST_F(rules, playbook_answers_a_pushed_detectors_incident)
{
	char *pol = strdup(tpath(self->ca, "policy.yaml"));
	const char *extra[] = { "--policy", pol, NULL };
	struct conn c;
	Vnfsec__Frame *f;

	ASSERT_NE(NULL, pol);
	ASSERT_EQ(0, write_file(pol, GUARD_POLICY
		"playbooks:\n  - name: d\n    on: pushed_detector\n"
		"    actions: [{type: rate_limit_source, rate_pps: 42, ttl_s: 9}]\n"));
	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	free(pol);
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1", &c));
	ASSERT_EQ(0, send_assessment(&c, 1,
				     VNFSEC__HEURISTIC__HEURISTIC_PUSHED_DETECTOR,
				     scanner, 53, 6));
	ASSERT_EQ(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACTION, &f));
	EXPECT_EQ(VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE,
		  f->action->type);
	EXPECT_EQ(42, f->action->rate_pps);
	wire_free(f);
	conn_free(&c);
}

/*
 * What the fast path did and how the traffic was carried: the agent
 * says it dropped (fast_path_dropped), the VLAN tags and the GTP-U
 * tunnel; EVE shows alert.action "blocked", "vlan" and "tunnel".
 */
static int send_encap(struct conn *c, uint64_t id, bool dropped,
		      const uint32_t *vlans, size_t n_vlans, bool tunnel)
{
	static uint8_t dst[4] = { 10, 66, 0, 1 };
	static uint8_t osrc[4] = { 192, 0, 2, 1 }, odst[4] = { 192, 0, 2, 2 };
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Assessment a = VNFSEC__ASSESSMENT__INIT;
	Vnfsec__FlowTuple outer = VNFSEC__FLOW_TUPLE__INIT;
	Vnfsec__Tunnel t = VNFSEC__TUNNEL__INIT;

	outer.src_addr = (ProtobufCBinaryData){ 4, osrc };
	outer.dst_addr = (ProtobufCBinaryData){ 4, odst };
	outer.src_port = 2152;
	outer.dst_port = 2152;
	outer.proto = IPPROTO_UDP;
	t.outer = &outer;
	t.teid = 0x1234;
	a.id = id;
	a.time_unix_ms = 1;
	a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_POLICY_VIOLATION;
	a.severity = 4;
	a.src_addr = (ProtobufCBinaryData){ 4, (uint8_t *)scanner };
	a.dst_addr = (ProtobufCBinaryData){ 4, dst };
	a.dst_port = 22;
	a.count = 1;
	a.fast_path_dropped = dropped;
	a.vlan_ids = (uint32_t *)vlans;
	a.n_vlan_ids = n_vlans;
	a.tunnel = tunnel ? &t : NULL;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ASSESSMENT;
	f.assessment = &a;
	return conn_send(c, &f);
}

TEST_F(rules, alert_says_blocked_and_carries_vlans_and_tunnel)
{
	static const uint32_t vlans[2] = { 100, 200 };
	char *pb = strdup(tpath(self->ca, "pb.yaml"));
	const char *extra[] = { "--playbook", pb, NULL };
	const char *alerts;
	Vnfsec__Frame *f;
	struct conn c;

	ASSERT_NE(NULL, pb);
	/* Record only: the alert, not an order, is under test. */
	ASSERT_EQ(0, write_file(pb, "version: 1\nplaybooks: []\n"));
	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	free(pb);
	alerts = tpath(self->srv.dir, "alerts.json");
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1", &c));
	ASSERT_EQ(0, send_encap(&c, 1, true, vlans, 2, true));
	ASSERT_EQ(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACK, &f));
	wire_free(f);
	ASSERT_EQ(0, send_encap(&c, 2, false, NULL, 0, false));
	ASSERT_EQ(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACK, &f));
	wire_free(f);
	ASSERT_TRUE(wait_lines(alerts, "\"event_type\":\"alert\"", 2));
	EXPECT_EQ(1, count_lines(alerts, "\"alert\":{\"action\":\"blocked\""));
	EXPECT_EQ(1, count_lines(alerts, "\"alert\":{\"action\":\"allowed\""));
	EXPECT_EQ(1, count_lines(alerts, "\"vlan\":[100,200]"));
	EXPECT_EQ(1, count_lines(alerts,
		"\"tunnel\":{\"src_ip\":\"192.0.2.1\",\"src_port\":2152,"
		"\"dest_ip\":\"192.0.2.2\",\"dest_port\":2152,\"proto\":\"UDP\","
		"\"teid\":4660}"));
	conn_free(&c);
}

/* Bounds on what the agent says of VLANs and tunnels. */
TEST_F(rules, bad_vlan_or_tunnel_closes_the_connection)
{
	static const uint32_t too_big[1] = { 4095 };
	static const uint32_t too_many[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	Vnfsec__Frame *f;
	struct conn c;

	ASSERT_EQ(0, server_start(&self->srv, self->ca, "s", NULL, NULL));
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1", &c));
	ASSERT_EQ(0, send_encap(&c, 1, false, too_big, 1, false));
	EXPECT_NE(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACK, &f));
	conn_free(&c);
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1", &c));
	ASSERT_EQ(0, send_encap(&c, 1, false, too_many, 9, false));
	EXPECT_NE(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACK, &f));
	conn_free(&c);
	EXPECT_EQ(1, count_lines(tpath(self->srv.dir, "server.log"),
				 "VLAN id out of 1..4094"));
	EXPECT_EQ(1, count_lines(tpath(self->srv.dir, "server.log"),
				 "too many VLAN ids"));
	/* A good one after them is heard. */
	ASSERT_EQ(0, agent_connect(self->ctx, self->srv.port, "agent-1", &c));
	ASSERT_EQ(0, send_encap(&c, 1, false, too_many, 8, true));
	ASSERT_EQ(0, wait_frame(&c, VNFSEC__FRAME__BODY_ACK, &f));
	wire_free(f);
	conn_free(&c);
}

TEST_HARNESS_MAIN
