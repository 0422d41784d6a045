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

/* Writes a one-rule playbook ordering @rule's lines to @path. */
static int write_playbook(const char *path, const char *rule)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "rules:\n  - incident: any\n    scope: reporting\n%s", rule);
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
	const char *rule;	/* the playbook rule's lines after its scope */
	bool sign;
};

#define RULE(name, more) "    action: " name "\n    ttl_s: 45\n" more

FIXTURE_VARIANT_ADD(actions, block_source) {
	.type = VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE,
	.name = "block_source",
	.rule = RULE("block_source", "    prefix_len: 24\n"),
};
FIXTURE_VARIANT_ADD(actions, unblock_source) {
	.type = VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE,
	.name = "unblock_source",
	.rule = RULE("unblock", "    prefix_len: 24\n"),
};
FIXTURE_VARIANT_ADD(actions, rate_limit_source) {
	.type = VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE,
	.name = "rate_limit_source",
	.rule = RULE("rate_limit_source", "    prefix_len: 24\n    rate_pps: 5000\n"),
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
	.rule = RULE("mirror_flow", ""),
};
FIXTURE_VARIANT_ADD(actions, quarantine_vnf) {
	.type = VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF,
	.name = "quarantine_vnf",
	.rule = RULE("quarantine_vnf", ""),
};
FIXTURE_VARIANT_ADD(actions, release_vnf) {
	.type = VNFSEC__ACTION_TYPE__ACTION_RELEASE_VNF,
	.name = "release_vnf",
	.rule = RULE("release_vnf", ""),
};
FIXTURE_VARIANT_ADD(actions, block_source_signed) {
	.type = VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE,
	.name = "block_source",
	.rule = RULE("block_source", "    prefix_len: 24\n"),
	.sign = true,
};
FIXTURE_VARIANT_ADD(actions, unblock_source_signed) {
	.type = VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE,
	.name = "unblock_source",
	.rule = RULE("unblock_source", "    prefix_len: 24\n"),
	.sign = true,
};
FIXTURE_VARIANT_ADD(actions, rate_limit_source_signed) {
	.type = VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE,
	.name = "rate_limit_source",
	.rule = RULE("rate_limit_source", "    prefix_len: 24\n    rate_pps: 5000\n"),
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
	.rule = RULE("mirror_flow", ""),
	.sign = true,
};
FIXTURE_VARIANT_ADD(actions, quarantine_vnf_signed) {
	.type = VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF,
	.name = "quarantine_vnf",
	.rule = RULE("quarantine_vnf", ""),
	.sign = true,
};
FIXTURE_VARIANT_ADD(actions, release_vnf_signed) {
	.type = VNFSEC__ACTION_TYPE__ACTION_RELEASE_VNF,
	.name = "release_vnf",
	.rule = RULE("release_vnf", ""),
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

	ASSERT_EQ(0, send_flow_assessment(&self->c, 1, SYN_FLOOD, scanner, 80,
					  "sgw", "pgw"));
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
	ASSERT_EQ(0, write_playbook(pb, "    action: rate_limit_source\n"));
	EXPECT_NE(0, server_start(&self->srv, self->ca, "s", NULL, extra));
	EXPECT_NE(0, server_stop(&self->srv));
	EXPECT_EQ(1, count_lines(tpath(self->srv.dir, "server.log"),
				 "needs rate_pps"));
	ASSERT_EQ(0, write_playbook(pb, "    action: drop_flow\n    rate_pps: 10\n"));
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
	ASSERT_EQ(0, write_playbook(pb, "    action: drop_flow\n"));
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
	fprintf(pf, "rules:\n"
		"  - incident: vertical_scan\n    action: block_source\n"
		"  - incident: syn_flood\n    action: unblock\n");
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
	ASSERT_EQ(0, write_playbook(pb, "    action: rate_limit_source\n"
				    "    rate_pps: 700\n    ttl_s: 20\n"));
	/* The child decides nothing itself. */
	pf = fopen(child_pb, "w");
	ASSERT_NE(NULL, pf);
	fprintf(pf, "rules: []\n");
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

TEST_HARNESS_MAIN
