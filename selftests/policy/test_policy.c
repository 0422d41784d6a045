// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy library through its public header, as the agent uses it:
 * the compiled form of the packet-core example, determinism, diff
 * callbacks, learn-mode proposals loaded back, and bounds on hostile
 * input. Files come from $VNFSEC_SRC (the repository).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/vnfsec_policy.h"
#include "kselftest_harness.h"

static const char *src_path(const char *rel, char *buf, size_t len)
{
	const char *src = getenv("VNFSEC_SRC");

	snprintf(buf, len, "%s/%s", src ? src : ".", rel);
	return buf;
}

static struct policy_compiled *load_ok(struct __test_metadata *_metadata,
				       const char *rel)
{
	struct policy_diag d = { 0 };
	struct policy_compiled *p = NULL;
	char path[4096];
	int err;

	err = policy_load_file(src_path(rel, path, sizeof(path)), &p, &d);
	if (err)
		policy_diag_print(&d, stderr);
	policy_diag_free(&d);
	EXPECT_EQ(0, err);
	return p;
}

static int vnf_index(const struct policy_compiled *p, const char *name)
{
	uint32_t i;

	for (i = 0; i < p->n_vnfs; i++)
		if (!strcmp(p->vnfs[i].name, name))
			return (int)i;
	return -1;
}

static const struct policy_pair_rule *
find_rule(const struct policy_compiled *p, const char *src, const char *dst,
	  uint8_t proto, uint16_t port)
{
	int s = vnf_index(p, src), d = vnf_index(p, dst);
	uint32_t i;

	for (i = 0; i < p->n_rules; i++) {
		const struct policy_pair_rule *r = &p->rules[i];

		if (r->src_vnf == s && r->dst_vnf == d && r->proto == proto &&
		    r->port_lo <= port && port <= r->port_hi)
			return r;
	}
	return NULL;
}

TEST(packet_core_compiles_to_agent_form)
{
	struct policy_compiled *p = load_ok(_metadata, "policy/examples/packet-core.yaml");
	const struct policy_pair_rule *r;
	const struct policy_vnf *sgw, *pgw, *billing;
	uint8_t v4[4];
	uint32_t i;

	ASSERT_NE(NULL, p);
	EXPECT_EQ(POLICY_SCHEMA_VERSION, p->schema);
	EXPECT_EQ(1, p->revision);
	EXPECT_EQ(POLICY_MODE_MONITOR, p->mode);
	ASSERT_EQ(5, p->n_vnfs);
	for (i = 1; i < p->n_vnfs; i++)
		EXPECT_LT(0, strcmp(p->vnfs[i].name, p->vnfs[i - 1].name));
	sgw = &p->vnfs[vnf_index(p, "sgw")];
	pgw = &p->vnfs[vnf_index(p, "pgw")];
	billing = &p->vnfs[vnf_index(p, "billing")];
	/* Per-VNF mode overrides the global one; the rest inherit it. */
	EXPECT_EQ(POLICY_MODE_PROTECT, sgw->mode);
	EXPECT_EQ(POLICY_MODE_MONITOR, billing->mode);
	/* Thresholds: defaults < global < profile < VNF. */
	EXPECT_EQ(1000000, pgw->thresholds.rate_pps);
	EXPECT_EQ(125000000, pgw->thresholds.volume_bps);
	EXPECT_EQ(200, billing->thresholds.syn_flood_pps);
	EXPECT_EQ(50, billing->thresholds.scan_ports);
	ASSERT_EQ(2, sgw->n_addrs);
	EXPECT_EQ(AF_INET, sgw->addrs[0].family);
	inet_pton(AF_INET, "10.77.0.1", v4);
	EXPECT_EQ(0, memcmp(v4, sgw->addrs[0].addr, 4));
	EXPECT_EQ(AF_INET6, sgw->addrs[1].family);
	ASSERT_EQ(2, sgw->n_ifaces);
	EXPECT_EQ(0, sgw->ifaces[0].vlan);
	EXPECT_EQ(100, sgw->ifaces[1].vlan);

	/* "from: sgw, to: pgw" takes GTP-U, GTP-C and PFCP from the profile. */
	r = find_rule(p, "sgw", "pgw", POLICY_PROTO_UDP, 2152);
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("gtp-u", r->l7);
	EXPECT_EQ(1, r->from_profile);
	ASSERT_NE(NULL, find_rule(p, "sgw", "pgw", POLICY_PROTO_UDP, 8805));
	r = find_rule(p, "pgw", "billing", POLICY_PROTO_TCP, 3868);
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("diameter", r->l7);
	EXPECT_EQ(0, r->from_profile);
	/* Not allowed: billing never talks GTP to the SGW. */
	EXPECT_EQ(NULL, find_rule(p, "billing", "sgw", POLICY_PROTO_UDP, 2152));
	/* Only the GTP-C part of the profile for "l7: gtp-c". */
	EXPECT_EQ(NULL, find_rule(p, "enb", "sgw", POLICY_PROTO_UDP, 8805));
	EXPECT_EQ(12, p->n_rules);

	ASSERT_EQ(2, p->n_block);
	EXPECT_EQ(AF_INET, p->block[0].family);
	EXPECT_EQ(24, p->block[0].len);
	EXPECT_EQ(AF_INET6, p->block[1].family);
	EXPECT_EQ(48, p->block[1].len);
	ASSERT_EQ(1, p->n_allow);

	ASSERT_EQ(2, p->n_shm);
	EXPECT_STREQ("billing-cdr", p->shm[0].name);
	EXPECT_STREQ("sgw-pgw-ring", p->shm[1].name);
	ASSERT_EQ(2, p->shm[1].n_mappers);
	EXPECT_EQ(vnf_index(p, "pgw"), p->shm[1].mappers[0]);
	EXPECT_EQ(vnf_index(p, "sgw"), p->shm[1].mappers[1]);
	ASSERT_EQ(1, p->shm[1].n_ranges);
	EXPECT_EQ(4096, p->shm[1].immutable[0].length);

	ASSERT_EQ(4, p->n_playbooks);
	EXPECT_STREQ("flood", p->playbooks[0].name);
	EXPECT_STREQ("syn_flood", p->playbooks[0].detector);
	ASSERT_EQ(2, p->playbooks[0].n_actions);
	EXPECT_EQ(POLICY_ACT_BLOCK_SOURCE, p->playbooks[0].actions[0].type);
	EXPECT_EQ(300, p->playbooks[0].actions[0].ttl_s);
	EXPECT_EQ(5000, p->cache.flush_per_s);
	policy_free(p);
}

/* What the agent asks on its event path, answered from the compiled form. */
TEST(flow_lookup_finds_rule_or_violation)
{
	struct policy_compiled *p = load_ok(_metadata, "policy/examples/packet-core.yaml");
	uint8_t sgw[4], pgw[4], billing[4], outside[4], sgw6[16];
	const struct policy_pair_rule *r;
	int s, d, b;

	ASSERT_NE(NULL, p);
	inet_pton(AF_INET, "10.77.0.1", sgw);
	inet_pton(AF_INET, "10.77.0.2", pgw);
	inet_pton(AF_INET, "10.77.0.3", billing);
	inet_pton(AF_INET, "10.77.0.4", outside);
	inet_pton(AF_INET6, "fd00:77::1", sgw6);
	s = policy_vnf_of(p, AF_INET, sgw);
	d = policy_vnf_of(p, AF_INET, pgw);
	b = policy_vnf_of(p, AF_INET, billing);
	EXPECT_EQ(vnf_index(p, "sgw"), s);
	EXPECT_EQ(vnf_index(p, "pgw"), d);
	EXPECT_EQ(s, policy_vnf_of(p, AF_INET6, sgw6));
	EXPECT_EQ(-1, policy_vnf_of(p, AF_INET, outside));

	r = policy_match(p, s, d, POLICY_PROTO_UDP, 2123);
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("gtp-c", r->l7);
	EXPECT_EQ(NULL, policy_match(p, s, d, POLICY_PROTO_TCP, 2123));
	EXPECT_EQ(NULL, policy_match(p, s, d, POLICY_PROTO_UDP, 2124));
	EXPECT_EQ(NULL, policy_match(p, d, b, POLICY_PROTO_TCP, 80));
	r = policy_match(p, d, b, POLICY_PROTO_TCP, 3868);
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("diameter", r->l7);
	EXPECT_EQ(NULL, policy_match(p, -1, d, POLICY_PROTO_UDP, 2152));
	policy_free(p);
}

TEST(same_policy_other_order_same_digest)
{
	struct policy_compiled *a, *b;

	a = load_ok(_metadata, "policy/examples/packet-core.yaml");
	b = load_ok(_metadata, "selftests/policy/good/packet-core-reordered.yaml");
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(0, memcmp(a->digest, b->digest, sizeof(a->digest)));
	EXPECT_EQ(0, policy_diff(a, b, stderr));
	ASSERT_EQ(a->n_rules, b->n_rules);
	EXPECT_EQ(0, memcmp(a->rules, b->rules, a->n_rules * sizeof(*a->rules)));
	policy_free(a);
	policy_free(b);
}

struct diff_count {
	int added, removed, changed;
};

static void count_change(void *ctx, char op, const char *key,
			 const char *old_val, const char *new_val)
{
	struct diff_count *c = ctx;

	(void)key;
	(void)old_val;
	(void)new_val;
	if (op == '+')
		c->added++;
	else if (op == '-')
		c->removed++;
	else
		c->changed++;
}

TEST(diff_counts_added_removed_changed)
{
	struct policy_compiled *a, *b;
	struct diff_count c = { 0 };

	a = load_ok(_metadata, "policy/examples/packet-core.yaml");
	b = load_ok(_metadata, "selftests/policy/good/packet-core-rev2.yaml");
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(8, policy_diff_each(a, b, count_change, &c));
	EXPECT_EQ(3, c.added);		/* a block, enb -> dns tcp and udp */
	EXPECT_EQ(1, c.removed);	/* billing -> dns */
	EXPECT_EQ(4, c.changed);	/* revision, pgw mode, l7, playbook ttl */
	EXPECT_NE(0, memcmp(a->digest, b->digest, sizeof(a->digest)));
	policy_free(a);
	policy_free(b);
}

static void prefix(struct policy_prefix *p, const char *addr)
{
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, addr, p->addr) == 1) {
		p->family = AF_INET;
		p->len = 32;
	} else {
		inet_pton(AF_INET6, addr, p->addr);
		p->family = AF_INET6;
		p->len = 128;
	}
}

static void flow(struct policy_observed_flow *f, const char *src,
		 const char *dst, uint8_t proto, uint16_t dport, const char *l7,
		 uint64_t packets, uint64_t bytes)
{
	memset(f, 0, sizeof(*f));
	prefix(&f->src, src);
	prefix(&f->dst, dst);
	f->proto = proto;
	f->dport = dport;
	snprintf(f->l7, sizeof(f->l7), "%s", l7);
	f->packets = packets;
	f->bytes = bytes;
	f->duration_ms = 1000;
}

static void vnf(struct policy_vnf *v, const char *name, const char *type,
		const char *addr)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->type, sizeof(v->type), "%s", type);
	prefix(&v->addrs[0], addr);
	v->n_addrs = 1;
}

static char *read_file(const char *path, size_t *len)
{
	char *buf = NULL;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	buf = calloc(1, 1 << 16);
	if (buf)
		*len = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

/* The whole of a file, NUL-terminated; NULL when it cannot be read. */
static char *slurp(const char *rel)
{
	char path[4096], *buf = NULL;
	FILE *f = fopen(src_path(rel, path, sizeof(path)), "r");
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 &&
	    !fseek(f, 0, SEEK_SET) && (buf = calloc(1, n + 1)) &&
	    fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

struct field_check {
	struct __test_metadata *md;
	const char *table;		/* docs/policy.md's "Every field" */
	unsigned int keys;
	unsigned int rows_seen;
};

/* "| `FIELD` | does | where | default | `TEST` |": every cell filled. */
static void field_has_row(void *ctx, const char *section, const char *key)
{
	struct field_check *fc = ctx;
	struct __test_metadata *_metadata = fc->md;
	char want[160], test[256], *line, *end, *name, *colon, *body;
	unsigned int cells = 0;
	const char *c;

	fc->keys++;
	snprintf(want, sizeof(want), "\n| `%s%s%s` |", section,
		 *section ? "." : "", key);
	line = strstr(fc->table, want);
	if (!line) {
		TH_LOG("docs/policy.md has no row for %s", want + 1);
		EXPECT_NE(NULL, line);
		return;
	}
	line++;
	end = strchr(line, '\n');
	for (c = line; c < end; c++)
		cells += *c == '|';
	EXPECT_EQ(6, cells);
	/* The last cell names the test: a file, maybe ":test name" in it. */
	c = end;
	while (c > line && c[-1] != '`')
		c--;
	c--;			/* the closing backquote */
	name = (char *)c;
	while (name > line && name[-1] != '`')
		name--;
	if (c <= name || (size_t)(c - name) >= sizeof(test)) {
		TH_LOG("row %.*s names no test", (int)(end - line), line);
		EXPECT_TRUE(0);
		return;
	}
	snprintf(test, sizeof(test), "%.*s", (int)(c - name), name);
	colon = strchr(test, ':');
	if (colon)
		*colon++ = 0;
	body = slurp(test);
	if (!body || (colon && !strstr(body, colon)))
		TH_LOG("row of %s names a test that does not exist: %s%s%s",
		       key, test, colon ? ":" : "", colon ? colon : "");
	EXPECT_NE(NULL, body);
	if (body && colon)
		EXPECT_NE(NULL, strstr(body, colon));
	free(body);
}

/*
 * Issue 15.1: docs/policy.md's field table has a row, with where it is
 * enforced and a test that exists, for every key the parser accepts, and
 * no row for a key it does not.
 */
TEST(field_table_names_every_key)
{
	struct field_check fc = { .md = _metadata };
	char *doc = slurp("docs/policy.md"), *start, *stop, *line;
	unsigned int rows = 0;

	ASSERT_NE(NULL, doc);
	start = strstr(doc, "\n## Every field\n");
	ASSERT_NE(NULL, start);
	stop = strstr(start + 1, "\n## ");
	if (stop)
		*stop = 0;
	fc.table = start;
	policy_schema_each(field_has_row, &fc);
	EXPECT_TRUE(fc.keys > 50);
	for (line = strstr(start, "\n| `"); line;
	     line = strstr(line + 1, "\n| `"))
		rows++;
	/* A row per key, none for keys the parser does not know. */
	EXPECT_EQ(fc.keys, rows);
	free(doc);
}

/*
 * A scripted mix: GTP-U both ways, PFCP, Diameter, DNS on two ports with
 * nDPI disagreeing once, ICMP, a flow from outside every VNF and GRE
 * (which the schema cannot name).
 */
TEST(learn_proposal_is_a_valid_policy)
{
	struct policy_observed_flow flows[10];
	struct policy_vnf vnfs[4];
	struct policy_learn_input in = {
		.name = "learned", .duration_s = 60, .headroom_pct = 200,
		.vnfs = vnfs, .n_vnfs = 4, .flows = flows, .n_flows = 10,
	};
	struct policy_compiled *p = NULL;
	struct policy_diag d = { 0 };
	const struct policy_pair_rule *r;
	char path[4096], *yaml, *golden;
	uint32_t unmatched;
	size_t len, glen = 0;

	vnf(&vnfs[0], "sgw", "gtp-gateway", "10.77.0.1");
	vnf(&vnfs[1], "pgw", "gtp-gateway", "10.77.0.2");
	vnf(&vnfs[2], "billing", "billing", "10.77.0.3");
	vnf(&vnfs[3], "dns", "", "10.77.0.53");
	flow(&flows[0], "10.77.0.1", "10.77.0.2", POLICY_PROTO_UDP, 2152, "GTP-U", 6000, 6000000);
	flow(&flows[1], "10.77.0.2", "10.77.0.1", POLICY_PROTO_UDP, 2152, "gtp-u", 5400, 5000000);
	flow(&flows[2], "10.77.0.1", "10.77.0.2", POLICY_PROTO_UDP, 8805, "pfcp", 60, 6000);
	flow(&flows[3], "10.77.0.2", "10.77.0.3", POLICY_PROTO_TCP, 3868, "Diameter", 120, 24000);
	flow(&flows[4], "10.77.0.1", "10.77.0.53", POLICY_PROTO_UDP, 53, "DNS", 30, 3000);
	flow(&flows[5], "10.77.0.1", "10.77.0.53", POLICY_PROTO_UDP, 53, "QUIC", 1, 60);
	flow(&flows[6], "10.77.0.1", "10.77.0.53", POLICY_PROTO_TCP, 53, "", 4, 400);
	flow(&flows[7], "10.77.0.3", "10.77.0.2", POLICY_PROTO_ICMP, 0, "", 2, 196);
	flow(&flows[8], "198.51.100.7", "10.77.0.1", POLICY_PROTO_TCP, 22, "ssh", 10, 1000);
	flow(&flows[9], "10.77.0.1", "10.77.0.2", 47, 0, "", 10, 1000);	/* GRE */

	ASSERT_EQ(0, policy_propose(&in, &yaml, &len, &unmatched));
	EXPECT_EQ(2, unmatched);	/* from outside, and GRE */
	/* The proposal is reviewed by people: keep its text stable. */
	golden = read_file(src_path("selftests/policy/golden/learned.yaml", path,
				    sizeof(path)), &glen);
	ASSERT_NE(NULL, golden);
	if (glen != len || memcmp(golden, yaml, len))
		fprintf(stderr, "# proposal differs from golden/learned.yaml:\n%s", yaml);
	EXPECT_EQ(glen, len);
	EXPECT_EQ(0, memcmp(golden, yaml, len < glen ? len : glen));
	free(golden);

	EXPECT_EQ(0, policy_load_buf("learned.yaml", yaml, len, &p, &d));
	policy_diag_print(&d, stderr);
	policy_diag_free(&d);
	free(yaml);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(POLICY_MODE_MONITOR, p->mode);
	r = find_rule(p, "sgw", "pgw", POLICY_PROTO_UDP, 2152);
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("gtp-u", r->l7);
	r = find_rule(p, "sgw", "dns", POLICY_PROTO_UDP, 53);
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("dns", r->l7);	/* more bytes said DNS than QUIC */
	EXPECT_NE(NULL, find_rule(p, "billing", "pgw", POLICY_PROTO_ICMP, 0));
	EXPECT_EQ(NULL, find_rule(p, "sgw", "pgw", POLICY_PROTO_TCP, 22));
	/*
	 * pgw received GTP-U, PFCP and ICMP bytes in 60 s, each flow within
	 * one second: its peak is what they carry together in that second,
	 * not the 60 s mean (which normal traffic would cross at once), with
	 * 100% headroom. billing's 120 Diameter packets: under the floor.
	 */
	EXPECT_EQ((6000000 + 6000 + 196) * 2 + 1,
		  p->vnfs[vnf_index(p, "pgw")].thresholds.volume_bps);
	EXPECT_EQ(POLICY_LEARN_FLOOR_PPS,
		  p->vnfs[vnf_index(p, "billing")].thresholds.rate_pps);
	EXPECT_EQ(POLICY_LEARN_FLOOR_BPS,
		  p->vnfs[vnf_index(p, "billing")].thresholds.volume_bps);
	policy_free(p);
}

/*
 * A reply (a DNS answer from port 53 to the client's port, which started
 * after the question) makes no rule of its own, but what it carries
 * counts for the client's limits: the agent counts every packet a VNF
 * receives.
 */
TEST(learn_reply_makes_no_rule_but_counts)
{
	struct policy_observed_flow flows[3];
	struct policy_vnf vnfs[2];
	struct policy_learn_input in = {
		.name = "learned", .duration_s = 60, .headroom_pct = 200,
		.vnfs = vnfs, .n_vnfs = 2, .flows = flows, .n_flows = 3,
	};
	struct policy_compiled *p = NULL;
	struct policy_diag d = { 0 };
	uint32_t unmatched;
	size_t len;
	char *yaml;

	vnf(&vnfs[0], "sgw", "", "10.77.0.1");
	vnf(&vnfs[1], "dns", "", "10.77.0.53");
	flow(&flows[0], "10.77.0.1", "10.77.0.53", POLICY_PROTO_UDP, 53, "dns", 10, 700);
	flows[0].sport = 40000;
	flows[0].first_ns = 1000;
	flow(&flows[1], "10.77.0.53", "10.77.0.1", POLICY_PROTO_UDP, 40000, "dns", 3000, 3000000);
	flows[1].sport = 53;
	flows[1].first_ns = 2000;
	/* GTP-U: the same port both ways, each direction opens its own. */
	flow(&flows[2], "10.77.0.53", "10.77.0.1", POLICY_PROTO_UDP, 2152, "gtp-u", 10, 1000);
	flows[2].sport = 2152;
	flows[2].role = POLICY_FLOW_OPENS;
	ASSERT_EQ(0, policy_propose(&in, &yaml, &len, &unmatched));
	EXPECT_EQ(0, policy_load_buf("learned.yaml", yaml, len, &p, &d));
	policy_diag_print(&d, stderr);
	policy_diag_free(&d);
	free(yaml);
	ASSERT_NE(NULL, p);
	EXPECT_NE(NULL, find_rule(p, "sgw", "dns", POLICY_PROTO_UDP, 53));
	EXPECT_EQ(NULL, find_rule(p, "dns", "sgw", POLICY_PROTO_UDP, 40000));
	EXPECT_NE(NULL, find_rule(p, "dns", "sgw", POLICY_PROTO_UDP, 2152));
	/* The answers' 3000 packets in a second, with 100% headroom. */
	EXPECT_EQ((3000 + 10) * 2 + 1,
		  p->vnfs[vnf_index(p, "sgw")].thresholds.rate_pps);
	policy_free(p);
}

/*
 * Issue 15.8: who opened decides, never the port numbers. Protect mode
 * passes a flow on its own rule or as the reply of one that passed the
 * other way, so a proposal must have a rule for every flow that opened:
 * - a client from port 33000 to a server on 50051 (above the client's
 *   port) whose answers came back is the request (the learner used to
 *   take the lower destination port for the answer: no rule, dropped);
 * - a flow the other way that started more than POLICY_LEARN_REPLY_S
 *   after the last packet of its reverse is not its reply (the fast
 *   path has forgotten the request by then): it opened;
 * - without times, nothing is taken for a reply;
 * - a flow the sensor said opens (POLICY_FLOW_OPENS) or answers
 *   (POLICY_FLOW_ANSWERS) is taken at its word.
 */
TEST(learn_rules_follow_who_opened)
{
	const uint64_t s = 1000000000ULL;
	struct policy_observed_flow flows[8];
	struct policy_vnf vnfs[3];
	struct policy_learn_input in = {
		.name = "learned", .duration_s = 600, .headroom_pct = 200,
		.vnfs = vnfs, .n_vnfs = 3, .flows = flows, .n_flows = 8,
	};
	struct policy_compiled *p = NULL;
	struct policy_diag d = { 0 };
	uint32_t unmatched;
	size_t len;
	char *yaml;

	vnf(&vnfs[0], "amf", "", "10.77.0.1");
	vnf(&vnfs[1], "smf", "", "10.77.0.2");
	vnf(&vnfs[2], "nrf", "", "10.77.0.3");
	/* amf:33000 -> smf:50051, the answers smf:50051 -> amf:33000. */
	flow(&flows[0], "10.77.0.1", "10.77.0.2", POLICY_PROTO_TCP, 50051, "", 10, 1000);
	flows[0].sport = 33000;
	flows[0].first_ns = 10 * s;
	flows[0].last_ns = 11 * s;
	flow(&flows[1], "10.77.0.2", "10.77.0.1", POLICY_PROTO_TCP, 33000, "", 10, 1000);
	flows[1].sport = 50051;
	flows[1].first_ns = 10 * s + 1000;
	flows[1].last_ns = 11 * s;
	/* nrf:5000 -> smf:6000, and 61 s after its end smf:6000 -> nrf:5000. */
	flow(&flows[2], "10.77.0.3", "10.77.0.2", POLICY_PROTO_UDP, 6000, "", 1, 100);
	flows[2].sport = 5000;
	flows[2].first_ns = 20 * s;
	flows[2].last_ns = 20 * s;
	flow(&flows[3], "10.77.0.2", "10.77.0.3", POLICY_PROTO_UDP, 5000, "", 1, 100);
	flows[3].sport = 6000;
	flows[3].first_ns = (20 + POLICY_LEARN_REPLY_S + 1) * s;
	flows[3].last_ns = flows[3].first_ns;
	/* No times: amf:53 -> nrf:40000 and back, both open. */
	flow(&flows[4], "10.77.0.1", "10.77.0.3", POLICY_PROTO_UDP, 40000, "", 1, 100);
	flows[4].sport = 53;
	flow(&flows[5], "10.77.0.3", "10.77.0.1", POLICY_PROTO_UDP, 53, "", 1, 100);
	flows[5].sport = 40000;
	/* The sensor's word: opens without a reverse, answers with none. */
	flow(&flows[6], "10.77.0.3", "10.77.0.1", POLICY_PROTO_TCP, 7777, "", 1, 100);
	flows[6].role = POLICY_FLOW_OPENS;
	flow(&flows[7], "10.77.0.2", "10.77.0.3", POLICY_PROTO_TCP, 8888, "", 1, 100);
	flows[7].sport = 443;
	flows[7].role = POLICY_FLOW_ANSWERS;
	ASSERT_EQ(0, policy_propose(&in, &yaml, &len, &unmatched));
	EXPECT_EQ(0, policy_load_buf("learned.yaml", yaml, len, &p, &d));
	policy_diag_print(&d, stderr);
	policy_diag_free(&d);
	free(yaml);
	ASSERT_NE(NULL, p);
	EXPECT_NE(NULL, find_rule(p, "amf", "smf", POLICY_PROTO_TCP, 50051));
	EXPECT_EQ(NULL, find_rule(p, "smf", "amf", POLICY_PROTO_TCP, 33000));
	EXPECT_NE(NULL, find_rule(p, "nrf", "smf", POLICY_PROTO_UDP, 6000));
	EXPECT_NE(NULL, find_rule(p, "smf", "nrf", POLICY_PROTO_UDP, 5000));
	EXPECT_NE(NULL, find_rule(p, "amf", "nrf", POLICY_PROTO_UDP, 40000));
	EXPECT_NE(NULL, find_rule(p, "nrf", "amf", POLICY_PROTO_UDP, 53));
	EXPECT_NE(NULL, find_rule(p, "nrf", "amf", POLICY_PROTO_TCP, 7777));
	EXPECT_EQ(NULL, find_rule(p, "smf", "nrf", POLICY_PROTO_TCP, 8888));
	EXPECT_EQ(0, unmatched);
	policy_free(p);
}

/*
 * The fast path's clock is coarse: a question and its answer can start
 * in the same tick. Then the side the sensor saw open (an opening from
 * the records, any source port) is the request; with no such evidence
 * both make a rule (one too many passes, one too few drops).
 */
TEST(learn_tie_broken_by_the_recorded_opening)
{
	struct policy_observed_flow flows[5];
	struct policy_vnf vnfs[2];
	struct policy_learn_input in = {
		.name = "learned", .duration_s = 60, .headroom_pct = 200,
		.vnfs = vnfs, .n_vnfs = 2, .flows = flows, .n_flows = 5,
	};
	struct policy_compiled *p = NULL;
	struct policy_diag d = { 0 };
	uint32_t unmatched;
	size_t len;
	char *yaml;

	vnf(&vnfs[0], "sgw", "", "10.77.0.1");
	vnf(&vnfs[1], "pgw", "", "10.77.0.2");
	/* sgw:40000 -> pgw:53 and its answer, one tick; the opening seen. */
	flow(&flows[0], "10.77.0.1", "10.77.0.2", POLICY_PROTO_UDP, 53, "", 1, 80);
	flows[0].sport = 40000;
	flows[0].first_ns = flows[0].last_ns = 5000;
	flow(&flows[1], "10.77.0.2", "10.77.0.1", POLICY_PROTO_UDP, 40000, "", 1, 120);
	flows[1].sport = 53;
	flows[1].first_ns = flows[1].last_ns = 5000;
	flow(&flows[2], "10.77.0.1", "10.77.0.2", POLICY_PROTO_UDP, 53, "", 0, 0);
	flows[2].role = POLICY_FLOW_OPENS;
	flows[2].first_ns = flows[2].last_ns = 4000;
	/* pgw:7000 <-> sgw:8000 in one tick, no opening seen: both rules. */
	flow(&flows[3], "10.77.0.2", "10.77.0.1", POLICY_PROTO_UDP, 8000, "", 1, 80);
	flows[3].sport = 7000;
	flows[3].first_ns = flows[3].last_ns = 9000;
	flow(&flows[4], "10.77.0.1", "10.77.0.2", POLICY_PROTO_UDP, 7000, "", 1, 80);
	flows[4].sport = 8000;
	flows[4].first_ns = flows[4].last_ns = 9000;
	ASSERT_EQ(0, policy_propose(&in, &yaml, &len, &unmatched));
	EXPECT_EQ(0, policy_load_buf("learned.yaml", yaml, len, &p, &d));
	policy_diag_print(&d, stderr);
	policy_diag_free(&d);
	free(yaml);
	ASSERT_NE(NULL, p);
	EXPECT_NE(NULL, find_rule(p, "sgw", "pgw", POLICY_PROTO_UDP, 53));
	EXPECT_EQ(NULL, find_rule(p, "pgw", "sgw", POLICY_PROTO_UDP, 40000));
	EXPECT_NE(NULL, find_rule(p, "pgw", "sgw", POLICY_PROTO_UDP, 8000));
	EXPECT_NE(NULL, find_rule(p, "sgw", "pgw", POLICY_PROTO_UDP, 7000));
	policy_free(p);
}

/*
 * The sensor's VNFs win over the addresses: a flow from a VNF's port
 * with an address of none (a GTP-U carrier given without addresses, a
 * source not in the list) is the named VNF's, as protect mode will
 * judge it; an unknown name falls back on the address.
 */
TEST(learn_uses_the_sensors_vnfs)
{
	struct policy_observed_flow flows[4];
	struct policy_vnf vnfs[2];
	struct policy_learn_input in = {
		.name = "learned", .duration_s = 60, .headroom_pct = 200,
		.vnfs = vnfs, .n_vnfs = 2, .flows = flows, .n_flows = 4,
	};
	struct policy_compiled *p = NULL;
	struct policy_diag d = { 0 };
	uint32_t unmatched;
	size_t len;
	char *yaml;

	vnf(&vnfs[0], "sgw", "", "10.77.0.1");
	vnf(&vnfs[1], "pgw", "", "10.77.0.2");
	/* A carrier: no addresses, both ways. */
	flow(&flows[0], "0.0.0.0", "0.0.0.0", POLICY_PROTO_UDP, 2152, "", 10, 1000);
	flows[0].role = POLICY_FLOW_OPENS;
	snprintf(flows[0].src_vnf, sizeof(flows[0].src_vnf), "sgw");
	snprintf(flows[0].dst_vnf, sizeof(flows[0].dst_vnf), "pgw");
	flows[1] = flows[0];
	snprintf(flows[1].src_vnf, sizeof(flows[1].src_vnf), "pgw");
	snprintf(flows[1].dst_vnf, sizeof(flows[1].dst_vnf), "sgw");
	/* An unknown name: the addresses decide. */
	flow(&flows[2], "10.77.0.2", "10.77.0.1", POLICY_PROTO_TCP, 22, "", 1, 100);
	snprintf(flows[2].src_vnf, sizeof(flows[2].src_vnf), "gone");
	/* IPv6 by address, as IPv4. */
	prefix(&vnfs[0].addrs[1], "2001:db8::1");
	prefix(&vnfs[1].addrs[1], "2001:db8::2");
	vnfs[0].n_addrs = vnfs[1].n_addrs = 2;
	flow(&flows[3], "2001:db8::1", "2001:db8::2", POLICY_PROTO_TCP, 443, "", 1, 100);
	ASSERT_EQ(0, policy_propose(&in, &yaml, &len, &unmatched));
	EXPECT_EQ(0, policy_load_buf("learned.yaml", yaml, len, &p, &d));
	policy_diag_print(&d, stderr);
	policy_diag_free(&d);
	free(yaml);
	ASSERT_NE(NULL, p);
	EXPECT_NE(NULL, find_rule(p, "sgw", "pgw", POLICY_PROTO_UDP, 2152));
	EXPECT_NE(NULL, find_rule(p, "pgw", "sgw", POLICY_PROTO_UDP, 2152));
	EXPECT_NE(NULL, find_rule(p, "pgw", "sgw", POLICY_PROTO_TCP, 22));
	EXPECT_NE(NULL, find_rule(p, "sgw", "pgw", POLICY_PROTO_TCP, 443));
	EXPECT_EQ(0, unmatched);
	policy_free(p);
}

/* Learnt under a running policy: its next revision, its settings kept. */
TEST(learn_proposal_continues_the_running_policy)
{
	static const char running[] =
		"version: 1\nname: core\nrevision: 7\nmode: learn\n"
		"thresholds: {syn_flood_pps: 150, scan_ports: 20}\n"
		"vnfs:\n  - {name: a, addresses: [10.0.0.1]}\n"
		"  - {name: b, addresses: [10.0.0.2]}\n"
		"blocklist: [198.51.100.0/24]\nallowlist: [10.78.0.0/30]\n";
	struct policy_observed_flow flows[1];
	struct policy_compiled *base = NULL, *p = NULL;
	struct policy_diag d = { 0 };
	struct policy_learn_input in = {
		.name = "learned", .duration_s = 10, .headroom_pct = 200,
		.flows = flows, .n_flows = 1,
	};
	uint32_t unmatched;
	size_t len;
	char *yaml;

	ASSERT_EQ(0, policy_load_buf("running.yaml", running,
				     sizeof(running) - 1, &base, &d));
	in.base = base;
	in.vnfs = base->vnfs;
	in.n_vnfs = base->n_vnfs;
	flow(&flows[0], "10.0.0.1", "10.0.0.2", POLICY_PROTO_TCP, 443, "", 10, 1000);
	ASSERT_EQ(0, policy_propose(&in, &yaml, &len, &unmatched));
	EXPECT_EQ(0, policy_load_buf("proposal.yaml", yaml, len, &p, &d));
	policy_diag_print(&d, stderr);
	policy_diag_free(&d);
	free(yaml);
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("core", p->name);
	EXPECT_EQ(8, p->revision);
	EXPECT_EQ(POLICY_MODE_MONITOR, p->mode);
	EXPECT_EQ(150, p->thresholds.syn_flood_pps);
	EXPECT_EQ(20, p->thresholds.scan_ports);
	EXPECT_EQ(1, p->n_block);
	EXPECT_EQ(1, p->n_allow);
	EXPECT_NE(NULL, find_rule(p, "a", "b", POLICY_PROTO_TCP, 443));
	policy_free(p);
	policy_free(base);
}

TEST(oversized_policy_refused)
{
	struct policy_compiled *p = (void *)1;
	struct policy_diag d = { 0 };
	size_t len = POLICY_MAX_BYTES + 1;
	char *buf = malloc(len);

	ASSERT_NE(NULL, buf);
	memset(buf, '#', len);
	EXPECT_EQ(-EFBIG, policy_load_buf("big.yaml", buf, len, &p, &d));
	EXPECT_EQ(NULL, p);
	ASSERT_EQ(1, d.n);
	EXPECT_STREQ("big.yaml:1:1: policy is 1048577 bytes, at most 1048576 allowed",
		     d.lines[0]);
	policy_diag_free(&d);
	free(buf);
}

TEST(deep_nesting_is_an_error_not_a_crash)
{
	struct policy_compiled *p;
	struct policy_diag d = { 0 };
	size_t n = 200000, i;
	char *buf = malloc(2 * n + 16);

	ASSERT_NE(NULL, buf);
	strcpy(buf, "version: ");
	for (i = 0; i < n; i++)
		buf[9 + i] = '[';
	for (i = 0; i < n; i++)
		buf[9 + n + i] = ']';
	buf[9 + 2 * n] = '\0';
	EXPECT_EQ(-EINVAL, policy_load_buf("deep.yaml", buf, strlen(buf), &p, &d));
	ASSERT_EQ(1, d.n);
	EXPECT_STREQ("deep.yaml:1:25: nested deeper than 16 levels: not a policy",
		     d.lines[0]);
	policy_diag_free(&d);
	free(buf);
}

TEST(nul_inside_a_name_refused)
{
	static const char text[] = "version: 1\nvnfs:\n  - name: \"a\\0b\"\n";
	struct policy_compiled *p;
	struct policy_diag d = { 0 };

	EXPECT_EQ(-EINVAL, policy_load_buf("nul.yaml", text, sizeof(text) - 1, &p, &d));
	ASSERT_EQ(1, d.n);
	EXPECT_STREQ("nul.yaml:3:11: vnfs[0].name: contains a NUL character",
		     d.lines[0]);
	policy_diag_free(&d);
}

/* A file of nothing but mistakes cannot grow the error list without end. */
TEST(error_list_is_bounded)
{
	struct policy_compiled *p;
	struct policy_diag d = { 0 };
	size_t i, off;
	char *buf = malloc(64 * 1024);

	ASSERT_NE(NULL, buf);
	off = (size_t)sprintf(buf, "version: 1\n");
	for (i = 0; i < 500; i++)
		off += (size_t)sprintf(buf + off, "bogus%zu: 1\n", i);
	EXPECT_EQ(-EINVAL, policy_load_buf("many.yaml", buf, off, &p, &d));
	EXPECT_EQ(POLICY_MAX_DIAG, d.n);
	EXPECT_EQ(500 - POLICY_MAX_DIAG, d.dropped);
	EXPECT_STREQ("many.yaml:2:1: policy: unknown key 'bogus0'", d.lines[0]);
	policy_diag_free(&d);
	free(buf);
}

/* unparsed and ethertypes: global defaults, per-VNF overrides, refusals. */
TEST(fastpath_knobs_global_and_per_vnf)
{
	static const char text[] =
		"version: 1\n"
		"unparsed: pass\n"
		"vnfs:\n"
		"  - {name: a, addresses: [192.0.2.1]}\n"
		"  - {name: b, addresses: [192.0.2.2], mode: protect,\n"
		"     unparsed: drop, ethertypes: [arp, lldp]}\n"
		"  - {name: c, addresses: [192.0.2.3], ethertypes: []}\n";
	static const char bad[] =
		"version: 1\n"
		"unparsed: maybe\n"
		"ethertypes: [ipx]\n";
	struct policy_compiled *p = NULL;
	struct policy_diag d = {};

	ASSERT_EQ(0, policy_load_buf("k.yaml", text, sizeof(text) - 1, &p,
				     &d));
	EXPECT_EQ(POLICY_UNPARSED_PASS, p->unparsed);
	EXPECT_EQ(POLICY_ETH_DEFAULT, p->ethertypes);
	EXPECT_EQ(POLICY_UNPARSED_PASS, p->vnfs[0].unparsed);
	EXPECT_EQ(POLICY_ETH_ARP, p->vnfs[0].ethertypes);
	EXPECT_EQ(POLICY_MODE_MONITOR, p->vnfs[0].mode);
	EXPECT_EQ(POLICY_UNPARSED_DROP, p->vnfs[1].unparsed);
	EXPECT_EQ(POLICY_ETH_ARP | POLICY_ETH_LLDP, p->vnfs[1].ethertypes);
	EXPECT_EQ(POLICY_MODE_PROTECT, p->vnfs[1].mode);
	EXPECT_EQ(0, p->vnfs[2].ethertypes);
	policy_free(p);
	policy_diag_free(&d);
	p = NULL;
	memset(&d, 0, sizeof(d));
	EXPECT_EQ(-EINVAL, policy_load_buf("k.yaml", bad, sizeof(bad) - 1, &p,
					   &d));
	EXPECT_EQ(2, d.n);
	policy_diag_free(&d);
}

/* l7_unknown: drop by default, global and per VNF, refused when bad. */
TEST(l7_unknown_global_and_per_vnf)
{
	static const char text[] =
		"version: 1\n"
		"l7_unknown: pass\n"
		"vnfs:\n"
		"  - {name: a, addresses: [192.0.2.1]}\n"
		"  - {name: b, addresses: [192.0.2.2], l7_unknown: drop}\n";
	static const char plain[] =
		"version: 1\n"
		"vnfs:\n"
		"  - {name: a, addresses: [192.0.2.1]}\n";
	static const char bad[] =
		"version: 1\n"
		"l7_unknown: maybe\n"
		"vnfs:\n"
		"  - {name: a, addresses: [192.0.2.1], l7_unknown: 1}\n";
	struct policy_compiled *p = NULL;
	struct policy_diag d = {};
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	ASSERT_EQ(0, policy_load_buf("k.yaml", text, sizeof(text) - 1, &p,
				     &d));
	EXPECT_EQ(POLICY_L7_UNKNOWN_PASS, p->l7_unknown);
	EXPECT_EQ(POLICY_L7_UNKNOWN_PASS, p->vnfs[0].l7_unknown);
	EXPECT_EQ(POLICY_L7_UNKNOWN_DROP, p->vnfs[1].l7_unknown);
	/* The dump says it (so the digest changes with it). */
	f = open_memstream(&out, &outlen);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(0, policy_dump(p, f));
	fclose(f);
	EXPECT_NE(NULL, strstr(out, "l7_unknown=pass"));
	free(out);
	policy_free(p);
	policy_diag_free(&d);
	p = NULL;
	memset(&d, 0, sizeof(d));
	ASSERT_EQ(0, policy_load_buf("k.yaml", plain, sizeof(plain) - 1, &p,
				     &d));
	EXPECT_EQ(POLICY_L7_UNKNOWN_DROP, p->l7_unknown);
	EXPECT_EQ(POLICY_L7_UNKNOWN_DROP, p->vnfs[0].l7_unknown);
	policy_free(p);
	policy_diag_free(&d);
	p = NULL;
	memset(&d, 0, sizeof(d));
	EXPECT_EQ(-EINVAL, policy_load_buf("k.yaml", bad, sizeof(bad) - 1, &p,
					   &d));
	EXPECT_EQ(2, d.n);
	policy_diag_free(&d);
}

TEST(missing_file_is_reported)
{
	struct policy_compiled *p;
	struct policy_diag d = { 0 };

	EXPECT_EQ(-ENOENT, policy_load_file("/nonexistent/policy.yaml", &p, &d));
	ASSERT_EQ(1, d.n);
	EXPECT_STREQ("/nonexistent/policy.yaml: cannot open: No such file or directory",
		     d.lines[0]);
	policy_diag_free(&d);
}

TEST_HARNESS_MAIN
