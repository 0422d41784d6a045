// SPDX-License-Identifier: GPL-2.0-only
/*
 * The heuristics behind the policy, end to end inside the agent: records
 * of the fast path's layout go through events_handle() with a policy
 * applied by agent_policy_apply_buf(), against real BPF maps (created
 * here, no program attached), and what comes out is the assessments and
 * the blocks written. Needs root (BPF maps).
 *
 * What issue 15 and 13.6 asked, one behaviour each: a server answering
 * many clients is no scan; no automatic block of a VNF's address, the
 * allowlist or the server; a flood of spoofed sources blames no one;
 * per-VNF modes and thresholds; 0 turns a detector off; a new policy
 * takes effect without a restart; IPv6 as IPv4.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <cmocka.h>

#include "user/agent/actions.h"
#include "user/agent/apply.h"
#include "user/agent/fastpath_policy.h"
#include "user/agent/l7.h"
#include "user/agent/rates.h"
#include "user/agent/scan.h"
#include "user/common/log.h"
#include "user/common/vnfsec.pb-c.h"

#define MS 1000000ULL
#define SEEN_MAX 64

/*
 * pgw protects itself with a SYN-flood threshold of its own; sgw follows
 * the global monitor mode; billing is learning; dns is a DNS server.
 */
static const char policy_text[] =
	"version: 1\n"
	"name: t\n"
	"mode: monitor\n"
	"allowlist: [192.0.2.0/24]\n"
	"vnfs:\n"
	"  - name: pgw\n"
	"    mode: protect\n"
	"    addresses: [10.77.0.2, 'fd00::2']\n"
	"    thresholds: {syn_flood_pps: 100, rate_pps: 1000, volume_bps: 0}\n"
	"  - {name: sgw, addresses: [10.77.0.1, 'fd00::1'],"
	" thresholds: {volume_bps: 1000000}}\n"
	"  - {name: billing, mode: learn, addresses: [10.77.0.3]}\n"
	"  - {name: dns, type: dns, mode: protect, addresses: [10.77.0.53, 'fd00::53']}\n"
	"pairs:\n"
	"  - {from: sgw, to: pgw, proto: udp}\n"
	"  - {from: sgw, to: dns}\n";

struct world {
	struct sensor s;
	struct agent_config cfg;
	struct event_ctx ev;
	struct enforcer *enf;
	struct actions *a;
	unsigned int n;
	struct assessment seen[SEEN_MAX];
};

static struct world w;

static int map(enum bpf_map_type type, size_t key, size_t val,
	       unsigned int n)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);

	if (type == BPF_MAP_TYPE_LPM_TRIE)
		o.map_flags = BPF_F_NO_PREALLOC;
	return bpf_map_create(type, NULL, key, val, n, &o);
}

static void note(void *ctx, const struct assessment *a)
{
	struct world *x = ctx;

	if (x->n < SEEN_MAX)
		x->seen[x->n] = *a;
	x->n++;
}

static int apply(const char *text)
{
	struct policy_diag diag = {};
	int ret;

	ret = agent_policy_apply_buf(&w.ev, "t.yaml", text, strlen(text),
				     &diag);
	if (ret)
		policy_diag_print(&diag, stderr);
	policy_diag_free(&diag);
	return ret;
}

static int setup(void **state)
{
	struct vnfsec_config cfg = {};
	__u32 zero = 0;

	memset(&w, 0, sizeof(w));
	w.s.flow_table_fd = map(BPF_MAP_TYPE_HASH, sizeof(struct vnfsec_flow_key),
				sizeof(struct vnfsec_flow_state), 1024);
	w.s.config_fd = map(BPF_MAP_TYPE_ARRAY, 4, sizeof(cfg), 1);
	w.s.blocklist_v4_fd = map(BPF_MAP_TYPE_LPM_TRIE,
				  sizeof(struct vnfsec_lpm_v4_key),
				  sizeof(struct vnfsec_block_entry), 64);
	w.s.blocklist_v6_fd = map(BPF_MAP_TYPE_LPM_TRIE,
				  sizeof(struct vnfsec_lpm_v6_key),
				  sizeof(struct vnfsec_block_entry), 64);
	w.s.flow_override_fd = map(BPF_MAP_TYPE_HASH,
				   sizeof(struct vnfsec_flow_key),
				   sizeof(struct vnfsec_flow_override), 256);
	w.s.quarantine_fd = map(BPF_MAP_TYPE_HASH, 2,
				sizeof(struct vnfsec_quarantine), 256);
	w.s.vnf_addrs_fd = map(BPF_MAP_TYPE_LPM_TRIE,
			       sizeof(struct vnfsec_lpm_v6_key),
			       sizeof(struct vnfsec_vnf_id), 64);
	w.s.vnf_ports_fd = map(BPF_MAP_TYPE_HASH,
			       sizeof(struct vnfsec_port_key),
			       sizeof(struct vnfsec_vnf_id), 64);
	w.s.vnf_pair_policy_fd = map(BPF_MAP_TYPE_HASH,
				     sizeof(struct vnfsec_pair_key),
				     sizeof(struct vnfsec_pair_policy), 64);
	w.s.rate_override_fd = map(BPF_MAP_TYPE_HASH,
				   sizeof(struct vnfsec_det_key),
				   sizeof(struct vnfsec_rate_override), 64);
	w.s.vnf_policy_fd = map(BPF_MAP_TYPE_ARRAY, sizeof(__u32),
				sizeof(struct vnfsec_vnf_policy),
				VNFSEC_MAX_VNFS);
	if (w.s.vnf_policy_fd < 0 ||
	    w.s.flow_table_fd < 0 || w.s.config_fd < 0 ||
	    w.s.blocklist_v4_fd < 0 || w.s.blocklist_v6_fd < 0 ||
	    w.s.flow_override_fd < 0 || w.s.quarantine_fd < 0 ||
	    w.s.vnf_addrs_fd < 0 || w.s.vnf_ports_fd < 0 ||
	    w.s.vnf_pair_policy_fd < 0 || w.s.rate_override_fd < 0)
		return -1;
	bpf_map_update_elem(w.s.config_fd, &zero, &cfg, BPF_ANY);
	w.cfg = (struct agent_config){
		.window_ms = 1000, .syn_threshold = 500, .scan_hosts = 50,
		/* A list, as --server takes: each one is a server. */
		.scan_ports = 100, .server = "10.99.0.9:7443,10.99.0.1:7443",
	};
	w.ev.cfg = &w.cfg;
	w.ev.sensor = &w.s;
	w.ev.syn_flood = syn_flood_new(w.cfg.syn_threshold, w.cfg.window_ms);
	w.ev.scan_fast = scan_new(&(struct scan_config){
		.window_ns = 1000 * MS, .horizontal = 50, .vertical = 100 });
	w.ev.origins = flow_origins_new();
	w.enf = enforcer_new(&w.s);
	w.ev.enf = w.enf;
	w.a = actions_new(&w.s, w.enf, &w.ev);
	w.ev.actions = w.a;
	w.ev.on_assessment = note;
	w.ev.on_assessment_ctx = &w;
	if (!w.ev.syn_flood || !w.ev.scan_fast || !w.ev.origins || !w.enf ||
	    !w.a || apply(policy_text))
		return -1;
	*state = &w;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	agent_policy_free(&w.ev);
	actions_free(w.a);
	enforcer_free(w.enf);
	syn_flood_free(w.ev.syn_flood);
	scan_free(w.ev.scan_fast);
	scan_free(w.ev.scan_slow);
	flow_origins_free(w.ev.origins);
	close(w.s.flow_table_fd);
	close(w.s.config_fd);
	close(w.s.blocklist_v4_fd);
	close(w.s.blocklist_v6_fd);
	close(w.s.flow_override_fd);
	close(w.s.quarantine_fd);
	close(w.s.vnf_addrs_fd);
	close(w.s.vnf_ports_fd);
	close(w.s.vnf_pair_policy_fd);
	close(w.s.rate_override_fd);
	close(w.s.vnf_policy_fd);
	return 0;
}

/* One new-flow record from the fast path, IPv4 or IPv6 by the text. */
static void feed(uint64_t ts, const char *src, uint16_t sport,
		 const char *dst, uint16_t dport, uint8_t proto, uint8_t flags)
{
	struct vnfsec_new_flow_record r = {
		.hdr = { .type = VNFSEC_REC_NEW_FLOW,
			 .version = VNFSEC_ABI_VERSION,
			 .len = sizeof(r), .ts_ns = ts },
		.tcp_flags = flags,
	};
	bool v6 = strchr(src, ':');

	r.key.family = v6 ? VNFSEC_AF_INET6 : VNFSEC_AF_INET;
	assert_int_equal(1, inet_pton(v6 ? AF_INET6 : AF_INET, src,
				      &r.key.saddr));
	assert_int_equal(1, inet_pton(v6 ? AF_INET6 : AF_INET, dst,
				      &r.key.daddr));
	r.key.sport = htons(sport);
	r.key.dport = htons(dport);
	r.key.proto = proto;
	r.key.dir = VNFSEC_DIR_INGRESS;
	events_handle(&w.ev, &r, sizeof(r));
}

static unsigned int count_of(uint32_t heuristic)
{
	unsigned int i, n = 0;

	if (getenv("TEST_DEBUG"))
		for (i = 0; i < w.n && i < SEEN_MAX; i++)
			fprintf(stderr, "# seen %u: heuristic %u src_count %llu %s\n", i,
				w.seen[i].heuristic,
				(unsigned long long)w.seen[i].src_count,
				w.seen[i].local_action);

	for (i = 0; i < w.n && i < SEEN_MAX; i++)
		n += w.seen[i].heuristic == heuristic;
	return n;
}

static const struct assessment *nth_of(uint32_t heuristic, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < w.n && i < SEEN_MAX; i++)
		if (w.seen[i].heuristic == heuristic && !n--)
			return &w.seen[i];
	fail_msg("no assessment %u of heuristic %u", n, heuristic);
	return NULL;
}

static const struct assessment *first_of(uint32_t heuristic)
{
	return nth_of(heuristic, 0);
}

static unsigned int map_entries(int fd, size_t key_size)
{
	uint8_t key[64], next[64];
	unsigned int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

static bool blocked_v4(const char *addr)
{
	struct vnfsec_lpm_v4_key k = { .prefixlen = 32 };
	struct vnfsec_block_entry b;

	inet_pton(AF_INET, addr, &k.addr);
	return !bpf_map_lookup_elem(w.s.blocklist_v4_fd, &k, &b);
}

static bool blocked_v6(const char *addr)
{
	struct vnfsec_lpm_v6_key k = { .prefixlen = 128 };
	struct vnfsec_block_entry b;

	inet_pton(AF_INET6, addr, k.addr);
	return !bpf_map_lookup_elem(w.s.blocklist_v6_fd, &k, &b);
}

/* @n SYNs from @src (or from @n sources when NULL) to @dst port 80. */
static void syn_burst(uint64_t t0, const char *src, const char *dst,
		      unsigned int n)
{
	char spoofed[64];
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!src)
			snprintf(spoofed, sizeof(spoofed), "10.%u.%u.%u",
				 100 + i / 65536, i / 256 % 256, i % 256);
		feed(t0 + i * 100000ULL, src ?: spoofed, 1024 + i % 60000,
		     dst, 80, IPPROTO_TCP, VNFSEC_TCP_SYN);
	}
}

/*
 * Issue 15: a DNS server answering its clients from port 53 was reported
 * as a scan and blocked. Its answers belong to the clients' flows.
 */
static void dns_server_answering_many_clients_is_no_scan(void **state)
{
	char client[64];
	unsigned int i, v6;

	(void)state;
	for (v6 = 0; v6 < 2; v6++) {
		w.n = 0;
		for (i = 0; i < 300; i++) {
			uint64_t t = (v6 * 2000 + i) * MS;

			snprintf(client, sizeof(client),
				 v6 ? "2001:db8::%x" : "10.1.%u.%u",
				 v6 ? i + 1 : i / 200, i % 200 + 1);
			feed(t, client, 30000 + i, v6 ? "fd00::53" : "10.77.0.53",
			     53, IPPROTO_UDP, 0);
			feed(t + 1000, v6 ? "fd00::53" : "10.77.0.53", 53,
			     client, 30000 + i, IPPROTO_UDP, 0);
		}
		assert_int_equal(0, count_of(VNFSEC__HEURISTIC__HEURISTIC_HORIZONTAL_SCAN));
		assert_int_equal(0, count_of(VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN));
	}
	assert_int_equal(0, map_entries(w.s.blocklist_v4_fd,
					sizeof(struct vnfsec_lpm_v4_key)));
	assert_int_equal(0, map_entries(w.s.blocklist_v6_fd,
					sizeof(struct vnfsec_lpm_v6_key)));
	/* The same answers with no request seen are a scan: the test bites. */
	w.n = 0;
	for (i = 0; i < 300; i++) {
		snprintf(client, sizeof(client), "10.2.%u.%u", i / 200,
			 i % 200 + 1);
		feed(10000 * MS + i * MS, "10.77.0.53", 53, client, 30000 + i,
		     IPPROTO_UDP, 0);
	}
	/* In the fast window and the slow one. */
	assert_int_equal(2, count_of(VNFSEC__HEURISTIC__HEURISTIC_HORIZONTAL_SCAN));
	/* dns is a VNF: never blocked on the agent's own. */
	assert_false(blocked_v4("10.77.0.53"));
}

/* Thousands of spoofed sources, one SYN each: one destination's flood. */
static void spoofed_syn_flood_blames_no_source(void **state)
{
	const struct assessment *a;

	(void)state;
	w.n = 0;
	syn_burst(20000 * MS, NULL, "10.77.0.2", 5000);
	assert_int_equal(1, count_of(VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD));
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD);
	assert_int_equal(0, a->src_count);
	assert_int_equal(100, a->threshold);	/* pgw's own threshold */
	assert_string_equal("pgw", a->vnf_dst);
	assert_string_equal("", a->local_action);
	assert_int_equal(0, map_entries(w.s.blocklist_v4_fd,
					sizeof(struct vnfsec_lpm_v4_key)));
}

/*
 * Issue 13.6: a VNF flooding with another VNF's address (or that VNF
 * itself) is never blocked by the agent: the server gets the finding
 * marked requires_operator with a proposed quarantine.
 */
static void flood_from_a_vnf_address_is_never_blocked(void **state)
{
	const struct assessment *a;

	(void)state;
	w.n = 0;
	syn_burst(30000 * MS, "10.77.0.1", "10.77.0.2", 200);
	syn_burst(31000 * MS, "fd00::1", "fd00::2", 200);
	assert_int_equal(2, count_of(VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD));
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD);
	assert_string_equal("sgw", a->vnf_src);
	assert_non_null(strstr(a->requires_operator, "quarantine sgw"));
	assert_non_null(strstr(a->local_action, "not blocked"));
	a = nth_of(VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD, 1);
	assert_non_null(strstr(a->requires_operator, "quarantine sgw"));
	assert_int_equal(AF_INET6, a->family);
	assert_false(blocked_v4("10.77.0.1"));
	assert_false(blocked_v6("fd00::1"));
	/* Nor the allowlist, nor the security server. */
	w.n = 0;
	syn_burst(32000 * MS, "192.0.2.7", "10.77.0.2", 200);
	syn_burst(33000 * MS, "10.99.0.1", "10.77.0.2", 200);
	assert_int_equal(2, count_of(VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD));
	assert_non_null(strstr(nth_of(VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD,
				      0)->requires_operator, "allowlist"));
	assert_non_null(strstr(nth_of(VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD,
				      1)->requires_operator, "server"));
	assert_int_equal(0, map_entries(w.s.blocklist_v4_fd,
					sizeof(struct vnfsec_lpm_v4_key)));
}

/*
 * One policy, three modes side by side: an outsider flooding pgw
 * (protect) is blocked, IPv4 and IPv6; flooding sgw (monitor) or billing
 * (learn) is reported and not blocked.
 */
static void per_vnf_mode_decides_the_block(void **state)
{
	(void)state;
	w.n = 0;
	syn_burst(40000 * MS, "10.9.9.9", "10.77.0.2", 150);
	syn_burst(41000 * MS, "2001:db8::66", "fd00::2", 150);
	syn_burst(42000 * MS, "10.9.9.8", "10.77.0.1", 1500);
	syn_burst(43000 * MS, "10.9.9.7", "10.77.0.3", 1500);
	assert_int_equal(4, count_of(VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD));
	assert_true(blocked_v4("10.9.9.9"));
	assert_non_null(strstr(w.seen[0].local_action, "blocked 10.9.9.9/32"));
	assert_true(blocked_v6("2001:db8::66"));
	assert_non_null(strstr(w.seen[1].local_action,
			       "blocked 2001:db8::66/128"));
	assert_false(blocked_v4("10.9.9.8"));
	assert_false(blocked_v4("10.9.9.7"));
	assert_string_equal("", w.seen[2].local_action);
	assert_string_equal("", w.seen[3].local_action);
}

/* pgw's own threshold (100/s) fires where sgw's (global 1000/s) does not. */
static void per_vnf_thresholds_reach_the_heuristics(void **state)
{
	(void)state;
	w.n = 0;
	syn_burst(50000 * MS, "10.9.8.1", "10.77.0.1", 500);
	assert_int_equal(0, w.n);
	syn_burst(51000 * MS, "10.9.8.2", "10.77.0.2", 150);
	assert_int_equal(1, count_of(VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD));
	assert_int_equal(100, w.seen[0].threshold);
}

static struct vnfsec_config config_of(void)
{
	struct vnfsec_config c;
	__u32 zero = 0;

	assert_int_equal(0, bpf_map_lookup_elem(w.s.config_fd, &zero, &c));
	return c;
}

/*
 * 0 turns each detector off, in the agent and in the fast path, and a new
 * revision's thresholds apply at once (no restart); then back on.
 */
static void zero_turns_detectors_off_and_apply_changes_them(void **state)
{
	static const char off[] =
		"version: 1\nname: t\nmode: protect\n"
		"thresholds: {syn_flood_pps: 0, scan_ports: 0, scan_hosts: 0,"
		" slow_scan_ports: 0, slow_scan_hosts: 0, flow_cut_rst_ps: 0}\n"
		"vnfs:\n  - {name: pgw, addresses: [10.77.0.2]}\n";
	static const char on[] =
		"version: 1\nname: t\nmode: protect\n"
		"thresholds: {syn_flood_pps: 50, scan_ports: 20, scan_window_s: 5,"
		" scan_hosts: 0, flow_cut_rst_ps: 30, slow_scan_window_s: 60}\n"
		"vnfs:\n  - {name: pgw, addresses: [10.77.0.2]}\n";
	struct vnfsec_config c;
	unsigned int i;

	(void)state;
	assert_int_equal(0, apply(off));
	c = config_of();
	assert_int_equal((1U << VNFSEC_DET_SYN_FLOOD) |
			 (1U << VNFSEC_DET_PORT_SCAN) |
			 (1U << VNFSEC_DET_HOST_SCAN) |
			 (1U << VNFSEC_DET_SLOW_SCAN) |
			 (1U << VNFSEC_DET_RST_FLOOD), c.detectors_off);
	w.n = 0;
	syn_burst(60000 * MS, "10.9.7.1", "10.77.0.2", 3000);
	for (i = 0; i < 500; i++)
		feed(61000 * MS + i * MS, "10.9.7.2", 40000, "10.77.0.2",
		     1 + i, IPPROTO_TCP, VNFSEC_TCP_SYN);
	assert_int_equal(0, w.n);

	assert_int_equal(0, apply(on));
	c = config_of();
	assert_int_equal(1U << VNFSEC_DET_HOST_SCAN, c.detectors_off);
	assert_int_equal(50, c.syn_min);
	assert_int_equal(30, c.rst_min);
	assert_int_equal(1000, c.rst_window_ms);
	assert_int_equal(20, c.scan_ports);
	assert_int_equal(5000, c.scan_window_ms);
	assert_int_equal(60000, c.slow_scan_window_ms);
	assert_true(c.detectors_drop & 1U << VNFSEC_DET_SYN_FLOOD);
	w.n = 0;
	syn_burst(70000 * MS, "10.9.7.3", "10.77.0.2", 60);
	assert_int_equal(1, count_of(VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD));
	for (i = 0; i < 30; i++)
		feed(72000 * MS + i * MS, "10.9.7.4", 40000, "10.77.0.2",
		     1 + i, IPPROTO_TCP, VNFSEC_TCP_SYN);
	assert_int_equal(1, count_of(VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN));
	assert_int_equal(20, first_of(
		VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN)->threshold);
	assert_int_equal(0, apply(policy_text));
}

/* IPv6 as IPv4: a vertical scan and a policy violation between VNFs. */
static void ipv6_scans_and_violations_are_reported(void **state)
{
	const struct assessment *a;
	char addr[INET6_ADDRSTRLEN];
	unsigned int i;

	(void)state;
	w.n = 0;
	for (i = 0; i < 150; i++)
		feed(80000 * MS + i * MS, "2001:db8::77", 40000, "fd00::1",
		     1 + i, IPPROTO_TCP, VNFSEC_TCP_SYN);
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN);
	assert_non_null(a);
	assert_int_equal(AF_INET6, a->family);
	inet_ntop(AF_INET6, a->saddr6, addr, sizeof(addr));
	assert_string_equal("2001:db8::77", addr);
	assert_string_equal("sgw", a->vnf_dst);

	w.n = 0;
	feed(90000 * MS, "fd00::1", 40000, "fd00::2", 22, IPPROTO_TCP,
	     VNFSEC_TCP_SYN);
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_POLICY_VIOLATION);
	assert_non_null(a);
	assert_int_equal(AF_INET6, a->family);
	assert_string_equal("sgw", a->vnf_src);
	assert_string_equal("pgw", a->vnf_dst);
	assert_int_equal(22, a->dport);
}

/* A fast-path detector record of either family. */
static void detector(const char *src, const char *dst, uint8_t det,
		     uint32_t count)
{
	struct vnfsec_detector_record r = {
		.hdr = { .type = VNFSEC_REC_DETECTOR,
			 .version = VNFSEC_ABI_VERSION, .len = sizeof(r) },
		.detector = det, .count = count, .threshold = 100,
		.window_ms = 1000,
	};
	bool v6 = strchr(src, ':');

	r.key.family = v6 ? VNFSEC_AF_INET6 : VNFSEC_AF_INET;
	inet_pton(v6 ? AF_INET6 : AF_INET, src, &r.key.saddr);
	inet_pton(v6 ? AF_INET6 : AF_INET, dst, &r.key.daddr);
	r.key.proto = IPPROTO_TCP;
	r.key.dport = htons(80);
	events_handle(&w.ev, &r, sizeof(r));
}

/*
 * The fast path's detectors over IPv6 as over IPv4: abnormal flow cuts
 * are reported (nothing blocked: the sender of RSTs may be a victim), a
 * source over its rate towards pgw (protect) is blocked in blocklist_v6.
 */
static void ipv6_flow_cuts_and_rate_limits_as_ipv4(void **state)
{
	const struct assessment *a;
	char addr[INET6_ADDRSTRLEN];
	unsigned int v6;

	(void)state;
	for (v6 = 0; v6 < 2; v6++) {
		w.n = 0;
		detector(v6 ? "2001:db8::5" : "10.9.6.5", v6 ? "fd00::2" :
			 "10.77.0.2", VNFSEC_DET_RST_FLOOD, 300);
		detector(v6 ? "2001:db8::6" : "10.9.6.6", v6 ? "fd00::2" :
			 "10.77.0.2", VNFSEC_DET_RATE_LIMIT, 5000);
		a = first_of(VNFSEC__HEURISTIC__HEURISTIC_FLOW_CUT);
		assert_int_equal(v6 ? AF_INET6 : AF_INET, a->family);
		assert_string_equal("pgw", a->vnf_dst);
		assert_string_equal("", a->local_action);
		a = first_of(VNFSEC__HEURISTIC__HEURISTIC_RATE_LIMIT);
		inet_ntop(v6 ? AF_INET6 : AF_INET,
			  v6 ? (const void *)a->saddr6 : (const void *)&a->saddr,
			  addr, sizeof(addr));
		assert_string_equal(v6 ? "2001:db8::6" : "10.9.6.6", addr);
		assert_non_null(strstr(a->local_action, "blocked"));
	}
	assert_false(blocked_v6("2001:db8::5"));
	assert_false(blocked_v4("10.9.6.5"));
	assert_true(blocked_v6("2001:db8::6"));
	assert_true(blocked_v4("10.9.6.6"));
}

/* pgw's rate_pps (1000) is judged on what it receives; sgw has none. */
static void vnf_rate_over_its_policy_is_reported(void **state)
{
	static struct rates r;
	uint16_t pgw = fastpath_vnf_id("pgw"), sgw = fastpath_vnf_id("sgw");
	unsigned int s;

	(void)state;
	assert_true(pgw && sgw);
	rates_init(&r);
	w.n = 0;
	for (s = 1; s <= 5; s++) {
		r.intake[pgw].packets = s * 900ULL;
		r.intake[pgw].bytes = s * 900000ULL;
		r.intake[sgw].packets = s * 100000ULL;
		r.intake[sgw].bytes = s * 900000ULL;
		rates_check_intake(&r, &w.ev);
	}
	assert_int_equal(0, w.n);
	for (; s <= 8; s++) {
		r.intake[pgw].packets = 4500 + (s - 5) * 5000ULL;
		r.intake[pgw].bytes = s * 900000ULL;
		r.intake[sgw].packets = s * 100000ULL;
		r.intake[sgw].bytes = 4500000 + (s - 5) * 3000000ULL;
		rates_check_intake(&r, &w.ev);
	}
	/* One report per episode, each against its VNF's own limit. */
	assert_int_equal(1, count_of(VNFSEC__HEURISTIC__HEURISTIC_RATE_LIMIT));
	assert_string_equal("pgw", first_of(
		VNFSEC__HEURISTIC__HEURISTIC_RATE_LIMIT)->vnf_dst);
	assert_int_equal(1000, first_of(
		VNFSEC__HEURISTIC__HEURISTIC_RATE_LIMIT)->threshold);
	assert_int_equal(0, first_of(
		VNFSEC__HEURISTIC__HEURISTIC_RATE_LIMIT)->src_count);
	assert_int_equal(1, count_of(VNFSEC__HEURISTIC__HEURISTIC_VOLUME_ANOMALY));
	assert_string_equal("sgw", first_of(
		VNFSEC__HEURISTIC__HEURISTIC_VOLUME_ANOMALY)->vnf_dst);
	assert_int_equal(1000000, first_of(
		VNFSEC__HEURISTIC__HEURISTIC_VOLUME_ANOMALY)->threshold);
	rates_free(&r);
}

/* The policy's IPv6 blocklist reaches blocklist_v6, and leaves it. */
static void policy_blocklist_v6_in_the_fast_path(void **state)
{
	static const char with[] =
		"version: 1\nname: t\nmode: protect\n"
		"blocklist: ['2001:db8:dead::/48', 198.51.100.0/24]\n"
		"vnfs:\n  - {name: pgw, addresses: [10.77.0.2]}\n";
	struct vnfsec_lpm_v6_key k = { .prefixlen = 128 };
	struct vnfsec_block_entry b;

	(void)state;
	inet_pton(AF_INET6, "2001:db8:dead::1", k.addr);
	assert_int_equal(0, apply(with));
	assert_int_equal(0, bpf_map_lookup_elem(w.s.blocklist_v6_fd, &k, &b));
	assert_int_equal(VNFSEC_BLOCK_OPERATOR, b.reason);
	assert_int_equal(0, b.expires_ns);
	assert_true(blocked_v4("198.51.100.9") ||
		    map_entries(w.s.blocklist_v4_fd,
				sizeof(struct vnfsec_lpm_v4_key)) == 1);
	assert_int_equal(0, apply(policy_text));
	assert_int_not_equal(0, bpf_map_lookup_elem(w.s.blocklist_v6_fd, &k,
						    &b));
}

/* A record of a frame the fast path refused, as it sends them. */
static void feed_unparsed(uint32_t ifindex, uint8_t cause, uint16_t counter,
			  const char *src, uint16_t vlan, uint8_t verdict)
{
	struct vnfsec_unparsed_record r = {
		.hdr = { .type = VNFSEC_REC_UNPARSED,
			 .version = VNFSEC_ABI_VERSION, .len = sizeof(r) },
		.ifindex = ifindex, .vlan = vlan, .cause = cause,
		.counter = counter, .verdict = verdict, .pkt_len = 60,
		.smac = { 0x02, 0, 0, 0, 0, 0x66 },
	};

	r.family = VNFSEC_AF_INET;
	assert_int_equal(1, inet_pton(AF_INET, src, &r.saddr));
	events_handle(&w.ev, &r, sizeof(r));
}

static void unparsed_frames_reported_once_a_second_never_blocked(void **state)
{
	const struct assessment *a;
	unsigned int i;

	(void)state;
	w.n = 0;
	for (i = 0; i < 100; i++)
		feed_unparsed(1, VNFSEC_CAUSE_UNPARSED,
			      VNFSEC_CNT_IP6_EXT_LIMIT, "10.66.0.9", 100,
			      VNFSEC_VERDICT_DROP);
	/* A burst is one assessment (a second at most per port and cause). */
	assert_int_equal(1, count_of(VNFSEC__HEURISTIC__HEURISTIC_MALFORMED_TRAFFIC));
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_MALFORMED_TRAFFIC);
	assert_true(a->fast_path_dropped);
	assert_int_equal(100, a->vlan);
	assert_string_equal("ip6_ext_limit", a->cause);
	assert_string_equal("02:00:00:00:00:66", a->mac);
	/* The address of a frame nobody could parse is no one's to block. */
	assert_int_equal(0, a->src_count);
	assert_false(blocked_v4("10.66.0.9"));
	/* Another cause on the same port is its own report. */
	feed_unparsed(1, VNFSEC_CAUSE_FRAGMENT_EVASION,
		      VNFSEC_CNT_DROP_FRAGMENT_EVASION, "10.66.0.9", 0,
		      VNFSEC_VERDICT_WOULD_DROP);
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_FRAGMENT_EVASION);
	assert_false(a->fast_path_dropped);
}

/* A frame claiming pgw's address: the claim names no VNF, blocks nothing. */
static void spoofed_vnf_address_names_no_vnf_and_blocks_nothing(void **state)
{
	const struct assessment *a;

	(void)state;
	w.n = 0;
	feed_unparsed(7, VNFSEC_CAUSE_SPOOFED, VNFSEC_CNT_DROP_SPOOFED,
		      "10.77.0.2", 0, VNFSEC_VERDICT_DROP);
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_SPOOFED_SOURCE);
	assert_string_equal("", a->vnf_src);
	assert_int_equal(0, a->src_count);
	assert_true(a->fast_path_dropped);
	assert_false(blocked_v4("10.77.0.2"));
}

/* No pair can allow a source outside every VNF: its refusal is seen. */
static void outsider_refused_by_the_pairs_is_reported(void **state)
{
	struct vnfsec_new_flow_record r = {
		.hdr = { .type = VNFSEC_REC_NEW_FLOW,
			 .version = VNFSEC_ABI_VERSION, .len = sizeof(r) },
		.tcp_flags = VNFSEC_TCP_SYN,
		.verdict = VNFSEC_VERDICT_DROP,
		.cause = VNFSEC_CAUSE_PAIR_POLICY,
	};
	const struct assessment *a;

	(void)state;
	w.n = 0;
	r.key.family = VNFSEC_AF_INET;
	inet_pton(AF_INET, "198.51.100.7", &r.key.saddr);
	inet_pton(AF_INET, "10.77.0.2", &r.key.daddr);
	r.key.sport = htons(40000);
	r.key.dport = htons(22);
	r.key.proto = IPPROTO_TCP;
	r.key.dir = VNFSEC_DIR_INGRESS;
	events_handle(&w.ev, &r, sizeof(r));
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_POLICY_VIOLATION);
	assert_true(a->fast_path_dropped);
	assert_string_equal("pgw", a->vnf_dst);
	assert_int_equal(22, a->dport);
}

/* ---- L7 enforcement ------------------------------------------------------ */

/*
 * sgw -> pgw GTP-C and sgw -> dns DNS, each rule naming its protocol; mon
 * (monitor mode) -> pgw GTP-C; dns passes what nDPI cannot judge.
 */
static const char l7_policy[] =
	"version: 1\n"
	"name: l7\n"
	"mode: protect\n"
	"vnfs:\n"
	"  - {name: pgw, addresses: [10.77.0.2]}\n"
	"  - {name: sgw, addresses: [10.77.0.1]}\n"
	"  - {name: dns, addresses: [10.77.0.53], l7_unknown: pass}\n"
	"  - {name: mon, mode: monitor, addresses: [10.77.0.9]}\n"
	"pairs:\n"
	"  - {from: sgw, to: pgw, proto: udp, ports: [2123], l7: gtp-c}\n"
	"  - {from: sgw, to: dns, proto: udp, ports: [53], l7: dns}\n"
	"  - {from: mon, to: pgw, proto: udp, ports: [2123], l7: gtp-c}\n";

/* One L7 sample (reason VNFSEC_SAMPLE_L7): a UDP datagram of @payload. */
static void feed_l7(const char *src, uint16_t sport, const char *dst,
		    uint16_t dport, const char *payload, size_t n,
		    uint8_t index, uint8_t mode, struct vnfsec_flow_key *key)
{
	struct vnfsec_sample_record r = {
		.hdr = { .type = VNFSEC_REC_SAMPLE,
			 .version = VNFSEC_ABI_VERSION, .len = sizeof(r) },
		.reason = VNFSEC_SAMPLE_L7, .flags = VNFSEC_FLOW_F_L7,
		.index = index, .mode = mode,
	};
	uint8_t *ip = r.data + 14, *udp = ip + 20;

	r.key.family = VNFSEC_AF_INET;
	assert_int_equal(1, inet_pton(AF_INET, src, &r.key.saddr));
	assert_int_equal(1, inet_pton(AF_INET, dst, &r.key.daddr));
	r.key.sport = htons(sport);
	r.key.dport = htons(dport);
	r.key.proto = IPPROTO_UDP;
	r.key.dir = VNFSEC_DIR_INGRESS;
	r.key.ifindex = 3;
	r.data[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (20 + 8 + n) >> 8;
	ip[3] = (20 + 8 + n) & 0xff;
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &r.key.saddr, 4);
	memcpy(ip + 16, &r.key.daddr, 4);
	memcpy(udp, &r.key.sport, 2);
	memcpy(udp + 2, &r.key.dport, 2);
	udp[4] = (8 + n) >> 8;
	udp[5] = (8 + n) & 0xff;
	memcpy(udp + 8, payload, n);
	r.cap_len = r.pkt_len = 14 + 20 + 8 + n;
	*key = r.key;
	events_handle(&w.ev, &r, sizeof(r));
}

static bool l7_override(const struct vnfsec_flow_key *k)
{
	struct vnfsec_flow_override o;

	return !bpf_map_lookup_elem(w.s.flow_override_fd, k, &o) &&
	       (o.actions & VNFSEC_OVERRIDE_L7);
}

static const char http_get[] = "GET / HTTP/1.1\r\nHost: pgw\r\n\r\n";

/*
 * HTTP on sgw -> pgw's GTP-C port: nDPI cannot call it GTP-C; the flow
 * gets flow_override L7 (dropped: protect mode), one assessment for the
 * flow (fast_path_dropped, cause drop_l7), none for its later packets.
 */
static void l7_violation_drops_the_flow_and_reports_it_once(void **state)
{
	struct vnfsec_flow_state st = {};
	struct vnfsec_flow_key k;
	struct vnfsec_config cfg;
	const struct assessment *a;
	__u32 zero = 0, gen;

	(void)state;
	w.ev.l7 = l7_new();
	assert_non_null(w.ev.l7);
	assert_int_equal(0, apply(l7_policy));
	w.n = 0;
	/* The flow as the fast path holds it after its first packets. */
	memset(&k, 0, sizeof(k));
	k.family = VNFSEC_AF_INET;
	inet_pton(AF_INET, "10.77.0.1", &k.saddr);
	inet_pton(AF_INET, "10.77.0.2", &k.daddr);
	k.sport = htons(41000);
	k.dport = htons(2123);
	k.proto = IPPROTO_UDP;
	k.ifindex = 3;
	st.verdict_until_ns = ~0ULL;
	st.flags = VNFSEC_FLOW_F_L7;
	st.packets = 2;
	assert_int_equal(0, bpf_map_update_elem(w.s.flow_table_fd, &k, &st,
						BPF_ANY));
	assert_int_equal(0, bpf_map_lookup_elem(w.s.config_fd, &zero, &cfg));
	gen = cfg.policy_gen;
	feed_l7("10.77.0.1", 41000, "10.77.0.2", 2123, http_get, sizeof(http_get) - 1, 1,
		VNFSEC_MODE_PROTECT, &k);
	feed_l7("10.77.0.1", 41000, "10.77.0.2", 2123, http_get, sizeof(http_get) - 1, 2,
		VNFSEC_MODE_PROTECT, &k);
	assert_int_equal(1, count_of(VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL));
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL);
	assert_true(a->fast_path_dropped);
	assert_string_equal("drop_l7", a->cause);
	assert_string_equal("sgw", a->vnf_src);
	assert_string_equal("pgw", a->vnf_dst);
	assert_non_null(strstr(a->l7, "expected gtp-c"));
	assert_int_equal(0, a->src_count);	/* a VNF is never blocked */
	assert_true(l7_override(&k));
	assert_int_equal(0, bpf_map_lookup_elem(w.s.config_fd, &zero, &cfg));
	assert_int_equal(1, cfg.nr_flow_overrides);
	/* The flow's own verdict undone, F_L7_DROP kept; no global bump. */
	assert_int_equal(gen, cfg.policy_gen);
	assert_int_equal(0, bpf_map_lookup_elem(w.s.flow_table_fd, &k, &st));
	assert_int_equal(0, st.verdict_until_ns);
	assert_true(st.flags & VNFSEC_FLOW_F_L7_DROP);
	assert_int_equal(2, st.packets);
	/* A GTP-C echo on another flow of the pair is what it should be. */
	feed_l7("10.77.0.1", 41001, "10.77.0.2", 2123,
		"\x40\x01\x00\x09\x00\x00\x01\x00\x03\x00\x01\x00\x0a", 13, 1,
		VNFSEC_MODE_PROTECT, &k);
	assert_int_equal(1, count_of(VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL));
	assert_false(l7_override(&k));
	l7_free(w.ev.l7);
	w.ev.l7 = NULL;
	assert_int_equal(0, apply(policy_text));
}

/*
 * flow_override full (256 entries here): the flow's own state still says
 * drop, so the flow is dropped and the assessment says so.
 */
static void l7_drop_holds_when_flow_override_is_full(void **state)
{
	struct vnfsec_flow_state st = { .verdict_until_ns = ~0ULL,
					.flags = VNFSEC_FLOW_F_L7 };
	struct vnfsec_flow_override o = { .actions = VNFSEC_OVERRIDE_DROP };
	struct vnfsec_flow_key k = {}, junk = {};
	const struct assessment *a;
	unsigned int i;

	(void)state;
	w.ev.l7 = l7_new();
	assert_non_null(w.ev.l7);
	assert_int_equal(0, apply(l7_policy));
	/* Filled by others (earlier tests' entries stay): to the brim. */
	junk.family = VNFSEC_AF_INET;
	for (i = 0; i < 256; i++) {
		junk.sport = htons(i + 1);
		if (bpf_map_update_elem(w.s.flow_override_fd, &junk, &o,
					BPF_ANY))
			break;
	}
	assert_true(i < 256);	/* the map refused one: full */
	k.family = VNFSEC_AF_INET;
	inet_pton(AF_INET, "10.77.0.1", &k.saddr);
	inet_pton(AF_INET, "10.77.0.2", &k.daddr);
	k.sport = htons(43000);
	k.dport = htons(2123);
	k.proto = IPPROTO_UDP;
	k.ifindex = 3;
	assert_int_equal(0, bpf_map_update_elem(w.s.flow_table_fd, &k, &st,
						BPF_ANY));
	w.n = 0;
	feed_l7("10.77.0.1", 43000, "10.77.0.2", 2123, http_get,
		sizeof(http_get) - 1, 1, VNFSEC_MODE_PROTECT, &k);
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL);
	assert_true(a->fast_path_dropped);
	assert_false(l7_override(&k));
	assert_int_equal(0, bpf_map_lookup_elem(w.s.flow_table_fd, &k, &st));
	assert_true(st.flags & VNFSEC_FLOW_F_L7_DROP);
	for (i = 0; i < 256; i++) {
		junk.sport = htons(i + 1);
		bpf_map_delete_elem(w.s.flow_override_fd, &junk);
	}
	l7_free(w.ev.l7);
	w.ev.l7 = NULL;
	assert_int_equal(0, apply(policy_text));
}

/* Monitor mode: the same flow is alerted, not dropped (would_drop). */
static void l7_violation_in_monitor_mode_alerts_only(void **state)
{
	struct vnfsec_flow_key k;
	const struct assessment *a;

	(void)state;
	w.ev.l7 = l7_new();
	assert_non_null(w.ev.l7);
	assert_int_equal(0, apply(l7_policy));
	w.n = 0;
	feed_l7("10.77.0.9", 41000, "10.77.0.2", 2123, http_get, sizeof(http_get) - 1, 1,
		VNFSEC_MODE_MONITOR, &k);
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL);
	assert_false(a->fast_path_dropped);
	assert_string_equal("mon", a->vnf_src);
	assert_string_equal("", a->local_action);
	l7_free(w.ev.l7);
	w.ev.l7 = NULL;
	assert_int_equal(0, apply(policy_text));
}

/*
 * l7_unknown: what nDPI cannot judge passes when both VNFs say pass, and
 * is dropped when one says drop (the default).
 */
static void l7_unknown_takes_the_stricter_vnfs_setting(void **state)
{
	static const char both_pass[] =
		"version: 1\n"
		"name: l7p\n"
		"mode: protect\n"
		"l7_unknown: pass\n"
		"vnfs:\n"
		"  - {name: sgw, addresses: [10.77.0.1]}\n"
		"  - {name: dns, addresses: [10.77.0.53]}\n"
		"  - {name: pgw, addresses: [10.77.0.2], l7_unknown: drop}\n"
		"pairs:\n"
		"  - {from: sgw, to: dns, proto: udp, ports: [53], l7: dns}\n"
		"  - {from: sgw, to: pgw, proto: udp, ports: [2123], l7: gtp-c}\n";
	struct vnfsec_flow_key k;

	(void)state;
	w.ev.l7 = l7_new();
	assert_non_null(w.ev.l7);
	/* l7_policy: dns says pass, sgw the default drop: dropped. */
	assert_int_equal(0, apply(l7_policy));
	w.n = 0;
	feed_l7("10.77.0.1", 42000, "10.77.0.53", 53, http_get, sizeof(http_get) - 1, 1,
		VNFSEC_MODE_PROTECT, &k);
	assert_int_equal(1, count_of(VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL));
	assert_true(l7_override(&k));
	/* Both pass: passed, no override, no assessment. */
	assert_int_equal(0, apply(both_pass));
	w.n = 0;
	feed_l7("10.77.0.1", 42001, "10.77.0.53", 53, http_get, sizeof(http_get) - 1, 1,
		VNFSEC_MODE_PROTECT, &k);
	assert_int_equal(0, count_of(VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL));
	assert_false(l7_override(&k));
	/* pgw's own drop beats the global pass. */
	feed_l7("10.77.0.1", 42002, "10.77.0.2", 2123, http_get, sizeof(http_get) - 1, 1,
		VNFSEC_MODE_PROTECT, &k);
	assert_int_equal(1, count_of(VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL));
	assert_true(l7_override(&k));
	l7_free(w.ev.l7);
	w.ev.l7 = NULL;
	assert_int_equal(0, apply(policy_text));
}

/*
 * Item 13.7: a GTP-U subscriber flow's assessment names its tunnel, and
 * the wire's Assessment carries it (outer tuple, TEID).
 */
static void tunnelled_violation_names_its_tunnel_on_the_wire(void **state)
{
	struct vnfsec_new_flow_record r = {
		.hdr = { .type = VNFSEC_REC_NEW_FLOW,
			 .version = VNFSEC_ABI_VERSION, .len = sizeof(r) },
		.tcp_flags = VNFSEC_TCP_SYN,
		.teid = htonl(0x1234abcd),
		.outer_family = VNFSEC_AF_INET,
		.outer_sport = htons(2152), .outer_dport = htons(2152),
	};
	const struct assessment *a;
	Vnfsec__Assessment *m;
	uint8_t buf[4096];
	unsigned int i;
	size_t len;

	(void)state;
	w.n = 0;
	r.key.family = VNFSEC_AF_INET;
	r.key.encap = VNFSEC_ENCAP_GTPU;
	inet_pton(AF_INET, "10.77.0.1", &r.key.saddr);
	inet_pton(AF_INET, "10.77.0.2", &r.key.daddr);
	inet_pton(AF_INET, "192.0.2.81", &r.outer_saddr);
	inet_pton(AF_INET, "192.0.2.82", &r.outer_daddr);
	r.key.sport = htons(40000);
	r.key.dport = htons(22);
	r.key.proto = IPPROTO_TCP;
	r.key.dir = VNFSEC_DIR_INGRESS;
	events_handle(&w.ev, &r, sizeof(r));
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_POLICY_VIOLATION);
	assert_int_equal(AF_INET, a->tun_family);
	assert_int_equal(0x1234abcd, a->teid);
	assert_int_equal(2152, a->tun_dport);
	assert_int_equal(0, uplink_pack_assessment(a, buf, sizeof(buf), &len));
	m = vnfsec__assessment__unpack(NULL, len, buf);
	assert_non_null(m);
	assert_non_null(m->tunnel);
	assert_non_null(m->tunnel->outer);
	assert_int_equal(0x1234abcd, m->tunnel->teid);
	assert_int_equal(4, m->tunnel->outer->src_addr.len);
	assert_memory_equal(&r.outer_saddr, m->tunnel->outer->src_addr.data, 4);
	assert_memory_equal(&r.outer_daddr, m->tunnel->outer->dst_addr.data, 4);
	assert_int_equal(2152, m->tunnel->outer->src_port);
	assert_int_equal(2152, m->tunnel->outer->dst_port);
	assert_int_equal(IPPROTO_UDP, m->tunnel->outer->proto);
	vnfsec__assessment__free_unpacked(m, NULL);
	/* A SYN flood inside the tunnel names it too (pgw: 100/s). */
	w.n = 0;
	r.key.dport = htons(80);
	inet_pton(AF_INET, "100.64.0.9", &r.key.saddr);
	for (i = 0; i < 150; i++) {
		r.hdr.ts_ns = 70000 * MS + i * 100000ULL;
		r.key.sport = htons(1024 + i);
		events_handle(&w.ev, &r, sizeof(r));
	}
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD);
	assert_int_equal(AF_INET, a->tun_family);
	assert_int_equal(0x1234abcd, a->teid);
	assert_memory_equal(&r.outer_saddr, a->tun_saddr, 4);
	/* And a vertical scan inside it. */
	w.n = 0;
	inet_pton(AF_INET, "100.64.0.10", &r.key.saddr);
	for (i = 0; i < 300; i++) {
		r.hdr.ts_ns = 80000 * MS + i * 1000000ULL;
		r.key.dport = htons(2000 + i);
		events_handle(&w.ev, &r, sizeof(r));
	}
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN);
	assert_int_equal(AF_INET, a->tun_family);
	assert_int_equal(0x1234abcd, a->teid);
	/* An untunnelled one has no Tunnel on the wire. */
	w.n = 0;
	inet_pton(AF_INET, "10.77.0.1", &r.key.saddr);
	r.key.sport = htons(40000);
	r.key.encap = VNFSEC_ENCAP_NONE;
	r.key.dport = htons(23);
	events_handle(&w.ev, &r, sizeof(r));
	a = first_of(VNFSEC__HEURISTIC__HEURISTIC_POLICY_VIOLATION);
	assert_int_equal(0, a->tun_family);
	assert_int_equal(0, uplink_pack_assessment(a, buf, sizeof(buf), &len));
	m = vnfsec__assessment__unpack(NULL, len, buf);
	assert_non_null(m);
	assert_null(m->tunnel);
	vnfsec__assessment__free_unpacked(m, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dns_server_answering_many_clients_is_no_scan),
		cmocka_unit_test(spoofed_syn_flood_blames_no_source),
		cmocka_unit_test(flood_from_a_vnf_address_is_never_blocked),
		cmocka_unit_test(per_vnf_mode_decides_the_block),
		cmocka_unit_test(per_vnf_thresholds_reach_the_heuristics),
		cmocka_unit_test(zero_turns_detectors_off_and_apply_changes_them),
		cmocka_unit_test(ipv6_scans_and_violations_are_reported),
		cmocka_unit_test(vnf_rate_over_its_policy_is_reported),
		cmocka_unit_test(policy_blocklist_v6_in_the_fast_path),
		cmocka_unit_test(ipv6_flow_cuts_and_rate_limits_as_ipv4),
		cmocka_unit_test(unparsed_frames_reported_once_a_second_never_blocked),
		cmocka_unit_test(spoofed_vnf_address_names_no_vnf_and_blocks_nothing),
		cmocka_unit_test(outsider_refused_by_the_pairs_is_reported),
		cmocka_unit_test(l7_violation_drops_the_flow_and_reports_it_once),
		cmocka_unit_test(l7_violation_in_monitor_mode_alerts_only),
		cmocka_unit_test(l7_drop_holds_when_flow_override_is_full),
		cmocka_unit_test(l7_unknown_takes_the_stricter_vnfs_setting),
		cmocka_unit_test(tunnelled_violation_names_its_tunnel_on_the_wire),
	};

	log_init("test_protect", LOG_CRIT);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	if (geteuid()) {
		printf("1..0 # SKIP BPF maps need root\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
