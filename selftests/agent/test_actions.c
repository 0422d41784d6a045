// SPDX-License-Identifier: GPL-2.0-only
/*
 * Corrective actions of every type against real BPF maps of the fast
 * path's layouts (created here, no program attached): each lands in its
 * map with its expiry, comes back with status 0 or -errno, and is lifted
 * on its time or on order. Needs root (BPF maps).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <cmocka.h>

#include "user/agent/actions.h"
#include "user/agent/apply.h"
#include "user/agent/fastpath_policy.h"
#include "user/common/clock.h"
#include "user/common/log.h"
#include "user/common/wire.h"
#include <stdio.h>

#define S 1000000000ULL

static const char policy_text[] =
	"version: 1\n"
	"name: t\n"
	"mode: protect\n"
	"vnfs:\n"
	"  - {name: pgw, addresses: [10.77.0.2]}\n"
	"  - {name: sgw, addresses: [10.77.0.1]}\n"
	"pairs:\n"
	"  - {from: sgw, to: pgw, proto: udp}\n";

struct world {
	struct sensor s;
	struct agent_policy ap;
	struct event_ctx ev;
	struct enforcer *enf;
	struct actions *a;
};

static int map(enum bpf_map_type type, size_t key, size_t val,
	       unsigned int n)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);

	if (type == BPF_MAP_TYPE_LPM_TRIE)
		o.map_flags = BPF_F_NO_PREALLOC;
	return bpf_map_create(type, NULL, key, val, n, &o);
}

static int setup(void **state)
{
	static struct world w;
	struct policy_diag diag = {};
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
	if (w.s.flow_table_fd < 0 || w.s.config_fd < 0 ||
	    w.s.blocklist_v4_fd < 0 || w.s.blocklist_v6_fd < 0 ||
	    w.s.flow_override_fd < 0 || w.s.quarantine_fd < 0 ||
	    w.s.vnf_addrs_fd < 0 || w.s.vnf_ports_fd < 0 ||
	    w.s.vnf_pair_policy_fd < 0 || w.s.rate_override_fd < 0 ||
	    w.s.vnf_policy_fd < 0)
		return -1;
	bpf_map_update_elem(w.s.config_fd, &zero, &cfg, BPF_ANY);
	/* Two ports: the first with XDP only, the second with TC egress too. */
	w.s.nr_attached = 2;
	w.s.ifindex[0] = 10;
	w.s.ifindex[1] = 11;
	w.s.tc_egress[1] = true;
	if (policy_load_buf("t.yaml", policy_text, sizeof(policy_text) - 1,
			    &w.ap.p, &diag)) {
		policy_diag_print(&diag, stderr);
		policy_diag_free(&diag);
		return -1;
	}
	w.ev.policy = &w.ap;
	/* Gives the VNFs their fast-path ids, as the agent does. */
	if (fastpath_apply_policy(&w.s, NULL, w.ap.p))
		return -1;
	w.enf = enforcer_new(&w.s);
	w.a = actions_new(&w.s, w.enf, &w.ev);
	*state = &w;
	return w.enf && w.a ? 0 : -1;
}

static int teardown(void **state)
{
	struct world *w = *state;

	actions_free(w->a);
	enforcer_free(w->enf);
	policy_free(w->ap.p);
	close(w->s.flow_table_fd);
	close(w->s.config_fd);
	close(w->s.blocklist_v4_fd);
	close(w->s.blocklist_v6_fd);
	close(w->s.flow_override_fd);
	close(w->s.quarantine_fd);
	close(w->s.rate_override_fd);
	return 0;
}

static uint32_t policy_gen(const struct world *w)
{
	struct vnfsec_config cfg;
	__u32 zero = 0;

	assert_int_equal(0, bpf_map_lookup_elem(w->s.config_fd, &zero, &cfg));
	return cfg.policy_gen;
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

static Vnfsec__FlowTuple tuple(const char *src, const char *dst,
			       uint8_t *sbuf, uint8_t *dbuf)
{
	Vnfsec__FlowTuple t = VNFSEC__FLOW_TUPLE__INIT;
	int af = strchr(src, ':') ? AF_INET6 : AF_INET;

	inet_pton(af, src, sbuf);
	inet_pton(af, dst, dbuf);
	t.src_addr.data = sbuf;
	t.dst_addr.data = dbuf;
	t.src_addr.len = t.dst_addr.len = af == AF_INET ? 4 : 16;
	t.src_port = 40000;
	t.dst_port = 2123;
	t.proto = 17;
	return t;
}

static Vnfsec__Action action(uint64_t seq, Vnfsec__ActionType type,
			     uint32_t ttl_s)
{
	Vnfsec__Action a = VNFSEC__ACTION__INIT;

	a.seq = seq;
	a.type = type;
	a.ttl_s = ttl_s;
	return a;
}

static struct vnfsec_config config_of(const struct world *w)
{
	struct vnfsec_config cfg;
	__u32 zero = 0;

	assert_int_equal(0, bpf_map_lookup_elem(w->s.config_fd, &zero, &cfg));
	return cfg;
}

static void drop_flow_covers_every_port_and_direction(void **state)
{
	struct world *w = *state;
	uint8_t sb[16], db[16];
	Vnfsec__FlowTuple t = tuple("10.77.0.100", "10.77.0.1", sb, db);
	Vnfsec__Action act = action(1, VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW, 5);
	struct vnfsec_flow_key k = {};
	struct vnfsec_flow_override v;
	uint32_t gen = policy_gen(w);

	act.flow = &t;
	assert_null(wire_check_action(&act));
	assert_int_equal(0, actions_apply(w->a, &act));
	/* Port 10 ingress, port 11 ingress and egress. */
	assert_int_equal(3, map_entries(w->s.flow_override_fd, sizeof(k)));
	assert_true(policy_gen(w) > gen);
	/* The count that lets the programs look at the map (ABI 5). */
	assert_int_equal(3, config_of(w).nr_flow_overrides);

	memcpy(&k.saddr, sb, 4);
	memcpy(&k.daddr, db, 4);
	k.sport = htons(40000);
	k.dport = htons(2123);
	k.proto = 17;
	k.family = VNFSEC_AF_INET;
	k.ifindex = 11;
	k.dir = VNFSEC_DIR_EGRESS;
	assert_int_equal(0, bpf_map_lookup_elem(w->s.flow_override_fd, &k, &v));
	assert_int_equal(VNFSEC_OVERRIDE_DROP, v.actions);
	assert_true(v.expires_ns > clock_mono_ns() + 4 * S);
	assert_true(v.expires_ns <= clock_mono_ns() + 5 * S);

	/* Its time comes: every entry goes. */
	actions_tick(w->a, clock_mono_ns() + 4 * S);
	assert_int_equal(3, map_entries(w->s.flow_override_fd, sizeof(k)));
	actions_tick(w->a, clock_mono_ns() + 6 * S);
	assert_int_equal(0, map_entries(w->s.flow_override_fd, sizeof(k)));
	assert_int_equal(0, config_of(w).nr_flow_overrides);
	assert_int_equal(0, actions_count(w->a));
}

/*
 * The count follows the agent's own entries one by one, and is walked
 * when it would reach zero: an entry another writer (bpftool) put there
 * keeps the programs looking.
 */
static void count_keeps_another_writers_entry(void **state)
{
	struct world *w = *state;
	uint8_t sb[16], db[16];
	Vnfsec__FlowTuple t = tuple("10.77.0.100", "10.77.0.1", sb, db);
	Vnfsec__Action act = action(1, VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW, 5);
	struct vnfsec_flow_override o = { .actions = VNFSEC_OVERRIDE_DROP };
	struct vnfsec_flow_key k = { .family = VNFSEC_AF_INET, .proto = 6 };

	assert_int_equal(0, bpf_map_update_elem(w->s.flow_override_fd, &k, &o,
						BPF_ANY));
	act.flow = &t;
	assert_int_equal(0, actions_apply(w->a, &act));
	assert_int_equal(4, map_entries(w->s.flow_override_fd, sizeof(k)));
	assert_true(config_of(w).nr_flow_overrides >= 3);
	actions_tick(w->a, clock_mono_ns() + 6 * S);
	assert_int_equal(1, map_entries(w->s.flow_override_fd, sizeof(k)));
	assert_int_equal(1, config_of(w).nr_flow_overrides);
}

static void flow_already_seen_keeps_its_vlan(void **state)
{
	struct world *w = *state;
	uint8_t sb[16], db[16];
	Vnfsec__FlowTuple t = tuple("2001:db8::66", "2001:db8::1", sb, db);
	Vnfsec__Action act = action(2, VNFSEC__ACTION_TYPE__ACTION_MONITOR_FLOW, 0);
	struct vnfsec_flow_state st = {};
	struct vnfsec_flow_override v;
	struct vnfsec_flow_key k = {};

	/* The fast path has it on port 12, tagged VLAN 7. */
	memcpy(&k.saddr, sb, 16);
	memcpy(&k.daddr, db, 16);
	k.sport = htons(40000);
	k.dport = htons(2123);
	k.proto = 17;
	k.family = VNFSEC_AF_INET6;
	k.vlan = 7;
	k.ifindex = 12;
	assert_int_equal(0, bpf_map_update_elem(w->s.flow_table_fd, &k, &st,
						BPF_ANY));
	act.flow = &t;
	assert_int_equal(0, actions_apply(w->a, &act));
	assert_int_equal(4, map_entries(w->s.flow_override_fd, sizeof(k)));
	assert_int_equal(0, bpf_map_lookup_elem(w->s.flow_override_fd, &k, &v));
	assert_int_equal(VNFSEC_OVERRIDE_MONITOR, v.actions);
	assert_int_equal(0, v.expires_ns);	/* until lifted */
	/* Never lifted by time. */
	actions_tick(w->a, clock_mono_ns() + 86400 * S);
	assert_int_equal(4, map_entries(w->s.flow_override_fd, sizeof(k)));
}

static void drop_and_monitor_of_one_flow_lift_separately(void **state)
{
	struct world *w = *state;
	uint8_t sb[16], db[16];
	Vnfsec__FlowTuple t = tuple("10.77.0.100", "10.77.0.2", sb, db);
	Vnfsec__Action drop = action(3, VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW, 2);
	Vnfsec__Action mon = action(4, VNFSEC__ACTION_TYPE__ACTION_MONITOR_FLOW, 10);
	struct vnfsec_flow_override v;
	struct vnfsec_flow_key k = {};

	drop.flow = mon.flow = &t;
	assert_int_equal(0, actions_apply(w->a, &drop));
	assert_int_equal(0, actions_apply(w->a, &mon));
	memcpy(&k.saddr, sb, 4);
	memcpy(&k.daddr, db, 4);
	k.sport = htons(40000);
	k.dport = htons(2123);
	k.proto = 17;
	k.family = VNFSEC_AF_INET;
	k.ifindex = 10;
	assert_int_equal(0, bpf_map_lookup_elem(w->s.flow_override_fd, &k, &v));
	assert_int_equal(VNFSEC_OVERRIDE_DROP | VNFSEC_OVERRIDE_MONITOR,
			 v.actions);
	/* The map entry lasts as long as the longer of the two. */
	assert_true(v.expires_ns > clock_mono_ns() + 9 * S);
	actions_tick(w->a, clock_mono_ns() + 3 * S);
	assert_int_equal(0, bpf_map_lookup_elem(w->s.flow_override_fd, &k, &v));
	assert_int_equal(VNFSEC_OVERRIDE_MONITOR, v.actions);
	actions_tick(w->a, clock_mono_ns() + 11 * S);
	assert_int_not_equal(0, bpf_map_lookup_elem(w->s.flow_override_fd,
						    &k, &v));
}

static void mirror_without_port_is_refused_then_works(void **state)
{
	struct world *w = *state;
	uint8_t sb[16], db[16];
	Vnfsec__FlowTuple t = tuple("10.77.0.1", "10.77.0.2", sb, db);
	Vnfsec__Action act = action(5, VNFSEC__ACTION_TYPE__ACTION_MIRROR_FLOW, 1);
	struct vnfsec_config cfg;
	__u32 zero = 0;

	act.flow = &t;
	assert_int_equal(-ENODEV, actions_apply(w->a, &act));
	assert_int_equal(0, map_entries(w->s.flow_override_fd,
					sizeof(struct vnfsec_flow_key)));
	assert_int_equal(-ENODEV, actions_set_mirror(&w->s, "no-such-if0"));
	assert_int_equal(0, actions_set_mirror(&w->s, "lo"));
	assert_int_equal(0, bpf_map_lookup_elem(w->s.config_fd, &zero, &cfg));
	assert_int_equal(1, cfg.mirror_ifindex);
	assert_int_equal(0, actions_apply(w->a, &act));
	assert_int_equal(3, map_entries(w->s.flow_override_fd,
					sizeof(struct vnfsec_flow_key)));
	actions_tick(w->a, clock_mono_ns() + 2 * S);
	assert_int_equal(0, map_entries(w->s.flow_override_fd,
					sizeof(struct vnfsec_flow_key)));
}

static void quarantine_by_name_with_expiry_and_release(void **state)
{
	struct world *w = *state;
	Vnfsec__Action q = action(6, VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF, 30);
	Vnfsec__Action r = action(7, VNFSEC__ACTION_TYPE__ACTION_RELEASE_VNF, 0);
	Vnfsec__Action bad = action(8, VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF, 0);
	struct vnfsec_quarantine v;
	__u16 sgw = fastpath_vnf_id("sgw");

	assert_int_not_equal(0, sgw);
	q.vnf = r.vnf = "sgw";
	bad.vnf = "nosuch";
	assert_null(wire_check_action(&q));
	assert_int_equal(-ENOENT, actions_apply(w->a, &bad));
	assert_int_equal(0, actions_apply(w->a, &q));
	assert_int_equal(0, bpf_map_lookup_elem(w->s.quarantine_fd, &sgw, &v));
	assert_int_equal(VNFSEC_BLOCK_SERVER_ACTION, v.reason);
	assert_true(v.expires_ns > clock_mono_ns() + 29 * S);
	assert_int_equal(0, actions_apply(w->a, &r));
	assert_int_not_equal(0, bpf_map_lookup_elem(w->s.quarantine_fd, &sgw, &v));
	/* Released twice: nothing to release. */
	assert_int_equal(-ENOENT, actions_apply(w->a, &r));

	/* And by time. */
	q.ttl_s = 1;
	assert_int_equal(0, actions_apply(w->a, &q));
	actions_tick(w->a, clock_mono_ns() + 2 * S);
	assert_int_not_equal(0, bpf_map_lookup_elem(w->s.quarantine_fd, &sgw, &v));
	assert_int_equal(0, actions_count(w->a));
}

static void block_and_unblock_v4_and_v6(void **state)
{
	struct world *w = *state;
	Vnfsec__Action b = action(9, VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE, 60);
	Vnfsec__Action u = action(10, VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE, 0);
	struct vnfsec_lpm_v6_key k6 = { .prefixlen = 64 };
	struct vnfsec_block_entry v;
	uint8_t a4[4], a6[16];

	inet_pton(AF_INET, "10.77.0.100", a4);
	b.src_addr.data = u.src_addr.data = a4;
	b.src_addr.len = u.src_addr.len = 4;
	b.prefix_len = u.prefix_len = 32;
	assert_int_equal(0, actions_apply(w->a, &b));
	assert_int_equal(1, enforcer_count(w->enf));
	assert_int_equal(0, actions_apply(w->a, &u));
	assert_int_equal(0, enforcer_count(w->enf));
	assert_int_equal(-ENOENT, actions_apply(w->a, &u));

	/* IPv6, host bits of the prefix cleared. */
	inet_pton(AF_INET6, "2001:db8:1:2:ffff::66", a6);
	b.src_addr.data = u.src_addr.data = a6;
	b.src_addr.len = u.src_addr.len = 16;
	b.prefix_len = u.prefix_len = 64;
	assert_null(wire_check_action(&b));
	assert_int_equal(0, actions_apply(w->a, &b));
	inet_pton(AF_INET6, "2001:db8:1:2::", k6.addr);
	assert_int_equal(0, bpf_map_lookup_elem(w->s.blocklist_v6_fd, &k6, &v));
	assert_int_equal(VNFSEC_BLOCK_SERVER_ACTION, v.reason);
	assert_true(v.expires_ns > 0);
	assert_int_equal(0, actions_apply(w->a, &u));
	assert_int_not_equal(0, bpf_map_lookup_elem(w->s.blocklist_v6_fd, &k6, &v));
	/* And by time. */
	assert_int_equal(0, actions_apply(w->a, &b));
	actions_tick(w->a, clock_mono_ns() + 61 * S);
	assert_int_not_equal(0, bpf_map_lookup_elem(w->s.blocklist_v6_fd, &k6, &v));
}

static void restarted_agent_takes_over_and_lifts_on_time(void **state)
{
	struct world *w = *state;
	uint8_t sb[16], db[16], a6[16];
	Vnfsec__FlowTuple t = tuple("10.77.0.100", "10.77.0.1", sb, db);
	Vnfsec__Action drop = action(20, VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW, 5);
	Vnfsec__Action mir = action(21, VNFSEC__ACTION_TYPE__ACTION_MIRROR_FLOW, 0);
	Vnfsec__Action b6 = action(22, VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE, 5);

	assert_int_equal(0, actions_set_mirror(&w->s, "lo"));
	drop.flow = mir.flow = &t;
	inet_pton(AF_INET6, "2001:db8::66", a6);
	b6.src_addr.data = a6;
	b6.src_addr.len = 16;
	b6.prefix_len = 128;
	assert_int_equal(0, actions_apply(w->a, &drop));
	assert_int_equal(0, actions_apply(w->a, &mir));
	assert_int_equal(0, actions_apply(w->a, &b6));
	assert_int_equal(7, actions_count(w->a));	/* 3 places x 2 + 1 */

	/* The agent restarts: a new one adopts the same maps. */
	actions_free(w->a);
	w->a = actions_new(&w->s, w->enf, &w->ev);
	assert_non_null(w->a);
	assert_int_equal(7, actions_count(w->a));
	/*
	 * The IPv6 block goes on its time. The flow entry holds one expiry
	 * for its two reasons, the later ("until lifted", the mirror's):
	 * after a restart the drop is not known apart and lasts as long.
	 */
	actions_tick(w->a, clock_mono_ns() + 6 * S);
	assert_int_equal(6, actions_count(w->a));
	assert_int_equal(3, map_entries(w->s.flow_override_fd,
					sizeof(struct vnfsec_flow_key)));
	assert_int_equal(0, map_entries(w->s.blocklist_v6_fd,
					sizeof(struct vnfsec_lpm_v6_key)));
}

/* The server's 8 s order does not cut short protect mode's 60 s block. */
static void shorter_block_keeps_the_longer_one(void **state)
{
	struct world *w = *state;
	struct vnfsec_lpm_v4_key k = { .prefixlen = 32 };
	struct vnfsec_block_entry v;
	uint64_t long_expiry;

	inet_pton(AF_INET, "10.77.0.100", &k.addr);
	assert_int_equal(0, enforcer_block(w->enf, k.addr, 32, 60,
					   0, VNFSEC_BLOCK_LOCAL));
	assert_int_equal(0, bpf_map_lookup_elem(w->s.blocklist_v4_fd, &k, &v));
	long_expiry = v.expires_ns;
	assert_int_equal(0, enforcer_block(w->enf, k.addr, 32, 8,
					   2, VNFSEC_BLOCK_SERVER_ACTION));
	assert_int_equal(0, bpf_map_lookup_elem(w->s.blocklist_v4_fd, &k, &v));
	assert_int_equal(long_expiry, v.expires_ns);
	assert_int_equal(VNFSEC_BLOCK_LOCAL, v.reason);
	/* A longer one does extend it. */
	assert_int_equal(0, enforcer_block(w->enf, k.addr, 32, 600,
					   3, VNFSEC_BLOCK_SERVER_ACTION));
	assert_int_equal(0, bpf_map_lookup_elem(w->s.blocklist_v4_fd, &k, &v));
	assert_true(v.expires_ns > long_expiry);
	assert_int_equal(1, enforcer_count(w->enf));
}


static Vnfsec__Action rate_order(uint64_t seq, uint8_t *buf, const char *addr,
				 uint32_t prefix_len, uint32_t pps,
				 uint32_t ttl_s)
{
	Vnfsec__Action act = action(seq, VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE, ttl_s);
	bool v6 = strchr(addr, ':');

	inet_pton(v6 ? AF_INET6 : AF_INET, addr, buf);
	act.src_addr.data = buf;
	act.src_addr.len = v6 ? 16 : 4;
	act.prefix_len = prefix_len;
	act.rate_pps = pps;
	return act;
}

static struct vnfsec_det_key src_key(const char *addr)
{
	struct vnfsec_det_key k = {};
	bool v6 = strchr(addr, ':');

	k.family = v6 ? VNFSEC_AF_INET6 : VNFSEC_AF_INET;
	inet_pton(v6 ? AF_INET6 : AF_INET, addr, &k.addr);
	return k;
}

struct listed {
	unsigned int n;
	uint32_t pps;
	char target[128];
};

static void list_rate(void *ctx, const struct action_info *i)
{
	struct listed *l = ctx;

	if (strcmp(i->type, "rate_limit"))
		return;
	l->n++;
	l->pps = i->rate_pps;
	snprintf(l->target, sizeof(l->target), "%s", i->target);
}

static void rate_limit_written_counted_and_lifted_on_time(void **state)
{
	struct world *w = *state;
	uint8_t a4[16];
	Vnfsec__Action act = rate_order(11, a4, "10.77.0.100", 32, 100, 10);
	struct vnfsec_det_key k = src_key("10.77.0.100");
	struct vnfsec_rate_override v;
	struct listed l = {};
	uint64_t now = clock_mono_ns();

	assert_null(wire_check_action(&act));
	assert_int_equal(0, actions_apply(w->a, &act));
	assert_int_equal(0, bpf_map_lookup_elem(w->s.rate_override_fd, &k, &v));
	assert_int_equal(100, v.pps);
	assert_int_equal(0, v.burst);		/* one second of the rate */
	assert_int_equal(VNFSEC_BLOCK_SERVER_ACTION, v.reason);
	assert_true(v.expires_ns >= now + 10 * S &&
		    v.expires_ns <= clock_mono_ns() + 10 * S);
	assert_int_equal(1, config_of(w).nr_rate_overrides);
	assert_int_equal(0, config_of(w).rate_pps);	/* nobody else */
	actions_foreach(w->a, list_rate, &l);
	assert_int_equal(1, l.n);
	assert_int_equal(100, l.pps);
	assert_string_equal("10.77.0.100/32", l.target);

	actions_tick(w->a, clock_mono_ns() + 5 * S);	/* not yet */
	assert_int_equal(1, config_of(w).nr_rate_overrides);
	actions_tick(w->a, clock_mono_ns() + 11 * S);
	assert_int_not_equal(0, bpf_map_lookup_elem(w->s.rate_override_fd, &k, &v));
	assert_int_equal(0, config_of(w).nr_rate_overrides);
	assert_int_equal(0, actions_count(w->a));
}

static void rate_limit_v6_newer_order_replaces_older(void **state)
{
	struct world *w = *state;
	uint8_t a6[16];
	Vnfsec__Action first = rate_order(11, a6, "2001:db8::66", 128, 50, 0);
	Vnfsec__Action second = rate_order(12, a6, "2001:db8::66", 128, 10, 5);
	struct vnfsec_det_key k = src_key("2001:db8::66");
	struct vnfsec_rate_override v;

	assert_int_equal(0, actions_apply(w->a, &first));
	assert_int_equal(0, bpf_map_lookup_elem(w->s.rate_override_fd, &k, &v));
	assert_int_equal(50, v.pps);
	assert_int_equal(0, v.expires_ns);		/* until a new order */
	assert_int_equal(0, actions_apply(w->a, &second));
	assert_int_equal(0, bpf_map_lookup_elem(w->s.rate_override_fd, &k, &v));
	assert_int_equal(10, v.pps);
	assert_true(v.expires_ns > 0);
	assert_int_equal(1, actions_count(w->a));
	assert_int_equal(1, config_of(w).nr_rate_overrides);
	/* The newer order's time ends it. */
	actions_tick(w->a, clock_mono_ns() + 6 * S);
	assert_int_equal(0, map_entries(w->s.rate_override_fd,
					sizeof(struct vnfsec_det_key)));
	assert_int_equal(0, config_of(w).nr_rate_overrides);
}

static void rate_limit_of_prefix_refused(void **state)
{
	struct world *w = *state;
	uint8_t a4[16], a6[16];
	Vnfsec__Action v4 = rate_order(11, a4, "10.77.0.0", 24, 100, 10);
	Vnfsec__Action v6 = rate_order(12, a6, "2001:db8::", 64, 100, 10);

	assert_null(wire_check_action(&v4));	/* the wire allows it */
	assert_int_equal(-EINVAL, actions_apply(w->a, &v4));
	assert_int_equal(-EINVAL, actions_apply(w->a, &v6));
	assert_int_equal(0, map_entries(w->s.rate_override_fd,
					sizeof(struct vnfsec_det_key)));
	assert_int_equal(0, config_of(w).nr_rate_overrides);
	assert_int_equal(0, actions_count(w->a));
}

static void rate_limit_does_not_touch_blocks(void **state)
{
	struct world *w = *state;
	uint8_t a4[16], b4[4];
	Vnfsec__Action rl = rate_order(11, a4, "10.77.0.100", 32, 100, 0);
	Vnfsec__Action ub = action(12, VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE, 0);

	assert_int_equal(0, actions_apply(w->a, &rl));
	/* unblock_source lifts blocks only: the rate stays. */
	inet_pton(AF_INET, "10.77.0.100", b4);
	ub.src_addr.data = b4;
	ub.src_addr.len = 4;
	ub.prefix_len = 32;
	actions_apply(w->a, &ub);
	assert_int_equal(1, map_entries(w->s.rate_override_fd,
					sizeof(struct vnfsec_det_key)));
	assert_int_equal(0, map_entries(w->s.blocklist_v4_fd,
					sizeof(struct vnfsec_lpm_v4_key)));
	assert_int_equal(1, config_of(w).nr_rate_overrides);
}

static void restarted_agent_takes_over_rate_limits_and_recounts(void **state)
{
	struct world *w = *state;
	uint8_t a4[16];
	Vnfsec__Action act = rate_order(11, a4, "10.77.0.100", 32, 100, 5);
	struct vnfsec_config cfg;
	struct listed l = {};
	__u32 zero = 0;

	assert_int_equal(0, actions_apply(w->a, &act));
	/* The agent dies between an entry and its count, then restarts. */
	actions_free(w->a);
	cfg = config_of(w);
	cfg.nr_rate_overrides = 0;
	assert_int_equal(0, bpf_map_update_elem(w->s.config_fd, &zero, &cfg,
						BPF_ANY));
	w->a = actions_new(&w->s, w->enf, &w->ev);
	assert_non_null(w->a);
	assert_int_equal(1, config_of(w).nr_rate_overrides);
	actions_foreach(w->a, list_rate, &l);
	assert_int_equal(1, l.n);
	assert_int_equal(100, l.pps);
	actions_tick(w->a, clock_mono_ns() + 6 * S);
	assert_int_equal(0, map_entries(w->s.rate_override_fd,
					sizeof(struct vnfsec_det_key)));
	assert_int_equal(0, config_of(w).nr_rate_overrides);
}

static void malformed_actions_rejected_by_the_wire(void **state)
{
	Vnfsec__Action act = action(12, VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW, 0);
	uint8_t a4[4] = { 10, 0, 0, 1 };

	(void)state;
	assert_non_null(wire_check_action(&act));	/* no flow */
	act.type = VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF;
	act.vnf = "";
	assert_non_null(wire_check_action(&act));	/* no VNF */
	act.type = VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE;
	act.src_addr.data = a4;
	act.src_addr.len = 4;
	act.prefix_len = 33;
	assert_non_null(wire_check_action(&act));
	act.type = 99;
	assert_non_null(wire_check_action(&act));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(drop_flow_covers_every_port_and_direction, setup, teardown),
		cmocka_unit_test_setup_teardown(count_keeps_another_writers_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(flow_already_seen_keeps_its_vlan, setup, teardown),
		cmocka_unit_test_setup_teardown(drop_and_monitor_of_one_flow_lift_separately, setup, teardown),
		cmocka_unit_test_setup_teardown(mirror_without_port_is_refused_then_works, setup, teardown),
		cmocka_unit_test_setup_teardown(quarantine_by_name_with_expiry_and_release, setup, teardown),
		cmocka_unit_test_setup_teardown(block_and_unblock_v4_and_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(restarted_agent_takes_over_and_lifts_on_time, setup, teardown),
		cmocka_unit_test_setup_teardown(shorter_block_keeps_the_longer_one, setup, teardown),
		cmocka_unit_test_setup_teardown(rate_limit_written_counted_and_lifted_on_time, setup, teardown),
		cmocka_unit_test_setup_teardown(rate_limit_v6_newer_order_replaces_older, setup, teardown),
		cmocka_unit_test_setup_teardown(rate_limit_of_prefix_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(rate_limit_does_not_touch_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(restarted_agent_takes_over_rate_limits_and_recounts, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_actions_rejected_by_the_wire, setup, teardown),
	};

	log_init("test_actions", LOG_CRIT);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	if (geteuid()) {
		printf("1..0 # SKIP test_actions: BPF maps need root\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
