// SPDX-License-Identifier: GPL-2.0-only
/*
 * Corrective actions of every type into the fast path (see actions.h).
 * The agent keeps one tracked entry per thing it wrote and per reason
 * (a flow may be dropped and mirrored at once, each until its own time);
 * the map entry is the union of the live ones, so lifting one action
 * never lifts another.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "user/agent/actions.h"
#include "user/agent/apply.h"
#include "user/agent/fastpath_policy.h"
#include "user/common/clock.h"
#include "user/common/log.h"

#define NS_PER_S 1000000000ULL

enum tracked_kind {
	TRACK_OVERRIDE = 1,	/* one VNFSEC_OVERRIDE_* bit of one flow key */
	TRACK_QUARANTINE,
	TRACK_BLOCK_V6,
	TRACK_RATE,		/* a rate_override entry of one source */
};

struct tracked {
	uint8_t kind;
	uint32_t bit;			/* TRACK_OVERRIDE */
	uint32_t pps;			/* TRACK_RATE */
	uint64_t expires_ns;		/* CLOCK_MONOTONIC, 0: until lifted */
	uint64_t seq;
	union {
		struct vnfsec_flow_key flow;
		struct vnfsec_lpm_v6_key v6;
		struct vnfsec_det_key src;	/* TRACK_RATE */
		char vnf[POLICY_NAME_LEN];
	} key;
};

struct actions {
	const struct sensor *sensor;
	struct enforcer *enf;
	const struct event_ctx *ev;
	struct tracked *t;
	unsigned int nr;
	unsigned int l7_refused;	/* l7_drop overrides not written */
};

/*
 * An adopted fast path keeps the flow actions and IPv6 blocks the agent
 * before us wrote: take them over, so they are listed and lifted on time
 * (IPv4 blocks are the enforcer's to take over). A flow entry's reasons
 * come back with the entry's one expiry; quarantines are left to the
 * fast path's own expiry (the entry holds no VNF name to track it by).
 */
static int count_rate_overrides(struct actions *a);
static int count_flow_overrides(struct actions *a);

static void take_over(struct actions *a)
{
	struct vnfsec_det_key rk, rnext;
	struct vnfsec_rate_override r;
	struct vnfsec_flow_key fk, fnext;
	struct vnfsec_lpm_v6_key bk, bnext;
	struct vnfsec_flow_override o;
	struct vnfsec_block_entry b;
	unsigned int bit, n = 0;
	void *prev = NULL;

	while (a->nr < ACTIONS_TRACKED_MAX - 3 &&
	       !bpf_map_get_next_key(a->sensor->flow_override_fd, prev,
				     &fnext)) {
		fk = fnext;
		prev = &fk;
		if (bpf_map_lookup_elem(a->sensor->flow_override_fd, &fk, &o))
			continue;
		for (bit = VNFSEC_OVERRIDE_DROP; bit <= VNFSEC_OVERRIDE_L7;
		     bit <<= 1) {
			if (!(o.actions & bit))
				continue;
			a->t[a->nr++] = (struct tracked){
				.kind = TRACK_OVERRIDE, .bit = bit,
				.expires_ns = o.expires_ns, .key.flow = fk,
			};
			n++;
		}
	}
	prev = NULL;
	while (a->nr < ACTIONS_TRACKED_MAX &&
	       !bpf_map_get_next_key(a->sensor->blocklist_v6_fd, prev,
				     &bnext)) {
		bk = bnext;
		prev = &bk;
		if (bpf_map_lookup_elem(a->sensor->blocklist_v6_fd, &bk, &b) ||
		    b.reason != VNFSEC_BLOCK_SERVER_ACTION)
			continue;
		a->t[a->nr++] = (struct tracked){
			.kind = TRACK_BLOCK_V6, .expires_ns = b.expires_ns,
			.key.v6 = bk,
		};
		n++;
	}
	prev = NULL;
	while (a->nr < ACTIONS_TRACKED_MAX &&
	       !bpf_map_get_next_key(a->sensor->rate_override_fd, prev,
				     &rnext)) {
		rk = rnext;
		prev = &rk;
		if (bpf_map_lookup_elem(a->sensor->rate_override_fd, &rk, &r) ||
		    r.reason != VNFSEC_BLOCK_SERVER_ACTION)
			continue;
		a->t[a->nr++] = (struct tracked){
			.kind = TRACK_RATE, .expires_ns = r.expires_ns,
			.pps = r.pps, .key.src = rk,
		};
		n++;
	}
	/* The agent before us may have died between entry and count. */
	count_rate_overrides(a);
	count_flow_overrides(a);
	if (n)
		log_info("actions: took over %u flow actions, IPv6 blocks and rate limits already in the fast path",
			 n);
}

struct actions *actions_new(const struct sensor *s, struct enforcer *enf,
			    const struct event_ctx *ev)
{
	struct actions *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->t = calloc(ACTIONS_TRACKED_MAX, sizeof(*a->t));
	if (!a->t) {
		free(a);
		return NULL;
	}
	a->sensor = s;
	a->enf = enf;
	a->ev = ev;
	take_over(a);
	return a;
}

void actions_free(struct actions *a)
{
	if (!a)
		return;
	free(a->t);
	free(a);
}

unsigned int actions_count(const struct actions *a)
{
	return a->nr;
}

static uint64_t expiry(uint32_t ttl_s)
{
	return ttl_s ? clock_mono_ns() + (uint64_t)ttl_s * NS_PER_S : 0;
}

static const char *type_name(int type)
{
	switch (type) {
	case VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW: return "drop_flow";
	case VNFSEC__ACTION_TYPE__ACTION_MONITOR_FLOW: return "monitor_flow";
	case VNFSEC__ACTION_TYPE__ACTION_MIRROR_FLOW: return "mirror_flow";
	default: return "action";
	}
}

static const char *bit_name(uint32_t bit)
{
	return bit == VNFSEC_OVERRIDE_DROP ? "drop_flow" :
	       bit == VNFSEC_OVERRIDE_MONITOR ? "monitor_flow" :
	       bit == VNFSEC_OVERRIDE_L7 ? "l7_drop" : "mirror_flow";
}

static void flow_str(const struct vnfsec_flow_key *k, char *buf, size_t len)
{
	int af = k->family == VNFSEC_AF_INET6 ? AF_INET6 : AF_INET;
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	inet_ntop(af, &k->saddr, s, sizeof(s));
	inet_ntop(af, &k->daddr, d, sizeof(d));
	snprintf(buf, len, "%s:%u -> %s:%u proto %u", s, ntohs(k->sport), d,
		 ntohs(k->dport), k->proto);
}

static void prefix6_str(const struct vnfsec_lpm_v6_key *k, char *buf,
			size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, k->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, k->prefixlen);
}

static struct tracked *find(struct actions *a, const struct tracked *want)
{
	unsigned int i;

	for (i = 0; i < a->nr; i++) {
		struct tracked *t = &a->t[i];

		if (t->kind != want->kind || t->bit != want->bit)
			continue;
		if (!memcmp(&t->key, &want->key, sizeof(t->key)))
			return t;
	}
	return NULL;
}

/* Add or renew; the caller has checked there is room. */
static struct tracked *track(struct actions *a, const struct tracked *want)
{
	struct tracked *t = find(a, want);

	if (!t)
		t = &a->t[a->nr++];
	*t = *want;
	return t;
}

static void untrack(struct actions *a, struct tracked *t)
{
	*t = a->t[--a->nr];
}

/*
 * The map entry of one flow key: the union of its live reasons; expires
 * with the last of them (the agent lifts the earlier ones on time). No
 * reason left: no entry.
 */
static int count_flow_overrides_by(struct actions *a, int delta);

static int write_override(struct actions *a, const struct vnfsec_flow_key *k)
{
	struct vnfsec_flow_override v = {}, old;
	bool forever = false, had;
	unsigned int i;

	for (i = 0; i < a->nr; i++) {
		const struct tracked *t = &a->t[i];

		if (t->kind != TRACK_OVERRIDE ||
		    memcmp(&t->key.flow, k, sizeof(*k)))
			continue;
		v.actions |= t->bit;
		if (!t->expires_ns)
			forever = true;
		else if (t->expires_ns > v.expires_ns)
			v.expires_ns = t->expires_ns;
	}
	if (forever)
		v.expires_ns = 0;
	had = !bpf_map_lookup_elem(a->sensor->flow_override_fd, k, &old);
	if (!v.actions) {
		if (bpf_map_delete_elem(a->sensor->flow_override_fd, k) &&
		    errno != ENOENT)
			return -errno;
		return had ? count_flow_overrides_by(a, -1) : 0;
	}
	if (bpf_map_update_elem(a->sensor->flow_override_fd, k, &v, BPF_ANY))
		return -errno;
	return had ? 0 : count_flow_overrides_by(a, 1);
}

/*
 * config.nr_rate_overrides and nr_flow_overrides are what let the programs
 * look at rate_override and flow_override at all: keep each at its map's
 * entry count (any writer's, bpftool's included), so an entry is never
 * skipped and the hit path pays nothing when there are none.
 */
static int count_overrides(struct actions *a, int fd, __u32 max,
			   size_t count_offset, const char *what)
{
	/* Room for either map's key. */
	__u8 k[sizeof(struct vnfsec_flow_key)], next[sizeof(k)];
	struct vnfsec_config cfg;
	void *prev = NULL;
	__u32 n = 0, zero = 0, *count;
	int err;

	while (n < max && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(k, next, sizeof(k));
		prev = k;
		n++;
	}
	if (bpf_map_lookup_elem(a->sensor->config_fd, &zero, &cfg))
		goto fail;
	count = (__u32 *)((char *)&cfg + count_offset);
	if (*count == n)
		return 0;
	*count = n;
	if (!bpf_map_update_elem(a->sensor->config_fd, &zero, &cfg, BPF_ANY))
		return 0;
fail:
	err = -errno;
	log_err("actions: cannot write the number of %s into the fast path's config: %s; %s may not be enforced",
		what, strerror(-err), what);
	return err;
}

_Static_assert(sizeof(struct vnfsec_det_key) <= sizeof(struct vnfsec_flow_key),
	       "count_overrides() key buffer");

static int count_flow_overrides(struct actions *a)
{
	return count_overrides(a, a->sensor->flow_override_fd,
			       VNFSEC_FLOW_OVERRIDE_ENTRIES,
			       offsetof(struct vnfsec_config,
					nr_flow_overrides), "flow actions");
}

/*
 * The count moved by one entry of ours, without walking the map (a walk
 * per L7 verdict made a flood of violating flows cost the agent a walk of
 * up to 4096 entries each); walked when it would reach zero, so an entry
 * another writer left is never skipped, and once a tick (actions_tick).
 */
static int count_flow_overrides_by(struct actions *a, int delta)
{
	struct vnfsec_config cfg;
	__u32 zero = 0;
	int err;

	if (bpf_map_lookup_elem(a->sensor->config_fd, &zero, &cfg))
		goto fail;
	if (delta < 0 && cfg.nr_flow_overrides <= 1)
		return count_flow_overrides(a);
	if (delta > 0 && cfg.nr_flow_overrides >= VNFSEC_FLOW_OVERRIDE_ENTRIES)
		return 0;
	cfg.nr_flow_overrides += delta;
	if (!bpf_map_update_elem(a->sensor->config_fd, &zero, &cfg, BPF_ANY))
		return 0;
fail:
	err = -errno;
	log_err("actions: cannot write the number of flow actions into the fast path's config: %s; flow actions may not be enforced",
		strerror(-err));
	return err;
}

static int count_rate_overrides(struct actions *a)
{
	return count_overrides(a, a->sensor->rate_override_fd,
			       VNFSEC_RATE_OVERRIDE_ENTRIES,
			       offsetof(struct vnfsec_config,
					nr_rate_overrides),
			       "per-source rates");
}

static void tuple_key(const Vnfsec__FlowTuple *t, struct vnfsec_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(&k->saddr, t->src_addr.data, t->src_addr.len);
	memcpy(&k->daddr, t->dst_addr.data, t->dst_addr.len);
	k->family = t->src_addr.len == 4 ? VNFSEC_AF_INET : VNFSEC_AF_INET6;
	k->sport = htons(t->src_port);
	k->dport = htons(t->dst_port);
	k->proto = t->proto;
}

static bool same_tuple(const struct vnfsec_flow_key *x,
		       const struct vnfsec_flow_key *y)
{
	return x->family == y->family && x->proto == y->proto &&
	       x->sport == y->sport && x->dport == y->dport &&
	       !memcmp(&x->saddr, &y->saddr, sizeof(x->saddr)) &&
	       !memcmp(&x->daddr, &y->daddr, sizeof(x->daddr));
}

static void add_key(struct vnfsec_flow_key *keys, unsigned int *n,
		    const struct vnfsec_flow_key *k)
{
	unsigned int i;

	for (i = 0; i < *n; i++)
		if (!memcmp(&keys[i], k, sizeof(*k)))
			return;
	if (*n < ACTIONS_FLOW_KEYS_MAX)
		keys[(*n)++] = *k;
}

/*
 * flow_override is keyed by the exact flow_table key, which names where
 * the flow is seen (interface, direction, VLAN, encapsulation); the order
 * names only the 5-tuple. So: every place the flow already is, and, for
 * a flow not seen yet, every port the agent watches, untagged, in each
 * direction it watches there.
 */
static unsigned int flow_keys(const struct actions *a,
			      const Vnfsec__FlowTuple *t,
			      struct vnfsec_flow_key *keys)
{
	const struct sensor *s = a->sensor;
	struct vnfsec_flow_key want, k, next;
	unsigned int i, n = 0;
	void *prev = NULL;

	tuple_key(t, &want);
	while (!bpf_map_get_next_key(s->flow_table_fd, prev, &next)) {
		k = next;
		prev = &k;
		if (same_tuple(&k, &want))
			add_key(keys, &n, &k);
	}
	for (i = 0; i < s->nr_attached; i++) {
		k = want;
		k.ifindex = s->ifindex[i];
		k.dir = VNFSEC_DIR_INGRESS;
		add_key(keys, &n, &k);
		if (s->tc_egress[i]) {
			k.dir = VNFSEC_DIR_EGRESS;
			add_key(keys, &n, &k);
		}
	}
	return n;
}

static uint32_t mirror_ifindex(const struct sensor *s)
{
	struct vnfsec_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(s->config_fd, &zero, &cfg))
		return 0;
	return cfg.mirror_ifindex;
}

int actions_set_mirror(const struct sensor *s, const char *ifname)
{
	struct vnfsec_config cfg;
	__u32 zero = 0;
	unsigned int ifindex;

	if (!ifname)
		return 0;
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		log_err("--mirror-iface %s: no such interface here: %s",
			ifname, strerror(errno));
		return -ENODEV;
	}
	if (bpf_map_lookup_elem(s->config_fd, &zero, &cfg))
		return -errno;
	cfg.mirror_ifindex = ifindex;
	if (bpf_map_update_elem(s->config_fd, &zero, &cfg, BPF_ANY)) {
		int err = -errno;

		log_err("cannot write the mirror port into the fast path's config: %s",
			strerror(-err));
		return err;
	}
	log_info("mirror_flow actions copy to %s (ifindex %u)", ifname,
		 ifindex);
	return 0;
}

static int flow_action(struct actions *a, const Vnfsec__Action *act)
{
	struct vnfsec_flow_key keys[ACTIONS_FLOW_KEYS_MAX];
	struct tracked want = {
		.kind = TRACK_OVERRIDE, .expires_ns = expiry(act->ttl_s),
		.seq = act->seq,
	};
	unsigned int i, n, before = a->nr;
	char buf[128];
	int ret = 0;

	switch (act->type) {
	case VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW:
		want.bit = VNFSEC_OVERRIDE_DROP;
		break;
	case VNFSEC__ACTION_TYPE__ACTION_MONITOR_FLOW:
		want.bit = VNFSEC_OVERRIDE_MONITOR;
		break;
	default:
		want.bit = VNFSEC_OVERRIDE_MIRROR;
		/* Without a port to copy to, a mirror would silently not be. */
		if (!mirror_ifindex(a->sensor)) {
			log_err("actions: refused mirror_flow (action %llu): no deep-inspection port; start the agent with --mirror-iface IF",
				(unsigned long long)act->seq);
			return -ENODEV;
		}
	}
	n = flow_keys(a, act->flow, keys);
	tuple_key(act->flow, &want.key.flow);
	flow_str(&want.key.flow, buf, sizeof(buf));
	if (!n) {
		log_err("actions: refused %s of %s (action %llu): the agent watches no port",
			type_name(act->type), buf,
			(unsigned long long)act->seq);
		return -ENODEV;
	}
	if (a->nr + n > ACTIONS_TRACKED_MAX) {
		log_err("actions: refused %s of %s (action %llu): %u actions already active",
			type_name(act->type), buf,
			(unsigned long long)act->seq, a->nr);
		return -ENOSPC;
	}
	for (i = 0; i < n && !ret; i++) {
		want.key.flow = keys[i];
		track(a, &want);
		ret = write_override(a, &keys[i]);
	}
	if (ret) {
		/* All or nothing: what this action added goes again. */
		log_err("actions: cannot write %s of %s into flow_override: %s",
			type_name(act->type), buf, strerror(-ret));
		while (a->nr > before)
			untrack(a, &a->t[a->nr - 1]);
		for (i = 0; i < n; i++)
			write_override(a, &keys[i]);
		fastpath_bump_generation(a->sensor);
		return ret;
	}
	/* Flows already judged are judged again, now. */
	fastpath_bump_generation(a->sensor);
	if (act->ttl_s)
		log_info("actions: %s %s at %u places for %u s (action %llu)",
			 type_name(act->type), buf, n, act->ttl_s,
			 (unsigned long long)act->seq);
	else
		log_info("actions: %s %s at %u places until lifted (action %llu)",
			 type_name(act->type), buf, n,
			 (unsigned long long)act->seq);
	return 0;
}

/*
 * The flow's own state, where the fast path holds it (flow_table, or its
 * flow_new slot): its cached verdict made again at its next packet, with
 * the L7 drop kept (VNFSEC_FLOW_F_L7_DROP). For this flow only: a
 * policy_gen bump would make every flow's verdict again, once per
 * violating flow, which a flood of them would turn into a slow path for
 * all. The state is written whole: a packet counted between our read
 * and write is lost from its counters, no more.
 */
static bool l7_mark_flow(struct actions *a, const struct vnfsec_flow_key *k)
{
	__u32 slot = vnfsec_flow_new_slot(k);
	struct vnfsec_flow_state st;
	struct vnfsec_flow_new e;
	bool marked = false;

	if (!bpf_map_lookup_elem(a->sensor->flow_table_fd, k, &st)) {
		st.verdict_until_ns = 0;
		st.flags |= VNFSEC_FLOW_F_L7_DROP;
		marked |= !bpf_map_update_elem(a->sensor->flow_table_fd, k,
					       &st, BPF_EXIST);
	}
	if (a->sensor->flow_new_fd > 0 &&
	    !bpf_map_lookup_elem_flags(a->sensor->flow_new_fd, &slot, &e,
				       BPF_F_LOCK) &&
	    !memcmp(&e.key, k, sizeof(*k))) {
		e.state.verdict_until_ns = 0;
		e.state.flags |= VNFSEC_FLOW_F_L7_DROP;
		marked |= !bpf_map_update_elem(a->sensor->flow_new_fd, &slot,
					       &e, BPF_F_LOCK);
	}
	return marked;
}

int actions_l7_drop(struct actions *a, const struct vnfsec_flow_key *k,
		    uint32_t ttl_s)
{
	struct tracked want = {
		.kind = TRACK_OVERRIDE, .bit = VNFSEC_OVERRIDE_L7,
		.expires_ns = expiry(ttl_s), .key.flow = *k,
	};
	struct tracked *t;
	char buf[128];
	bool marked;
	int ret;

	flow_str(k, buf, sizeof(buf));
	/* The flow's state first: it drops the flow even when the map is full. */
	marked = l7_mark_flow(a, k);
	if (!find(a, &want) && a->nr >= ACTIONS_TRACKED_MAX) {
		ret = -ENOSPC;
	} else {
		t = track(a, &want);
		ret = write_override(a, k);
		if (ret) {
			untrack(a, t);
			write_override(a, k);
		}
	}
	if (ret && !a->l7_refused++)
		log_err("actions: cannot write l7_drop of %s into flow_override: %s (%u actions active); %s (said once)",
			buf, strerror(-ret), a->nr,
			marked ? "its state in the fast path drops it" :
			"it is not dropped");
	if (ret && !marked)
		return ret;
	log_info("actions: l7_drop %s for %u s", buf, ttl_s);
	return 0;
}

static const struct policy_compiled *policy(const struct actions *a)
{
	return a->ev && a->ev->policy ? a->ev->policy->p : NULL;
}

/*
 * The quarantine entry fastpath_quarantine() wrote, given its expiry so
 * the fast path lifts it on time without us.
 */
static int quarantine_expiry(struct actions *a, const char *vnf,
			     uint64_t expires_ns)
{
	struct vnfsec_quarantine q;
	__u16 id = fastpath_vnf_id(vnf);

	if (!id)
		return -ENOENT;
	if (bpf_map_lookup_elem(a->sensor->quarantine_fd, &id, &q))
		return -errno;
	q.expires_ns = expires_ns;
	q.reason = VNFSEC_BLOCK_SERVER_ACTION;
	if (bpf_map_update_elem(a->sensor->quarantine_fd, &id, &q, BPF_EXIST))
		return -errno;
	return fastpath_bump_generation(a->sensor);
}

static int quarantine(struct actions *a, const Vnfsec__Action *act,
		      bool release)
{
	struct tracked want = {
		.kind = TRACK_QUARANTINE, .expires_ns = expiry(act->ttl_s),
		.seq = act->seq,
	};
	struct tracked *t;
	int ret;

	snprintf(want.key.vnf, sizeof(want.key.vnf), "%s", act->vnf);
	t = find(a, &want);
	if (!release && !t && a->nr == ACTIONS_TRACKED_MAX)
		return -ENOSPC;
	ret = fastpath_quarantine(a->sensor, policy(a), act->vnf, release);
	if (!ret && !release)
		ret = quarantine_expiry(a, act->vnf, want.expires_ns);
	if (ret) {
		log_err("actions: cannot %s VNF %s (action %llu): %s",
			release ? "release" : "quarantine", act->vnf,
			(unsigned long long)act->seq,
			ret == -ENOENT ? (release ? "it is not quarantined or not in the applied policy" :
					 "no such VNF in the applied policy") :
			strerror(-ret));
		return ret;
	}
	if (release) {
		if (t)
			untrack(a, t);
		return 0;
	}
	track(a, &want);
	if (act->ttl_s)
		log_info("actions: VNF %s quarantined for %u s (action %llu)",
			 act->vnf, act->ttl_s, (unsigned long long)act->seq);
	else
		log_info("actions: VNF %s quarantined until lifted (action %llu)",
			 act->vnf, (unsigned long long)act->seq);
	return 0;
}

static void v6_key(const Vnfsec__Action *act, struct vnfsec_lpm_v6_key *k)
{
	unsigned int i, bits = act->prefix_len;

	memset(k, 0, sizeof(*k));
	k->prefixlen = bits;
	memcpy(k->addr, act->src_addr.data, 16);
	/* Host bits set in a prefix would never match: clear them. */
	for (i = 0; i < 16; i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		k->addr[i] &= (uint8_t)(0xff00 >> bits);
		bits = 0;
	}
}

static int block_v6(struct actions *a, const Vnfsec__Action *act,
		    bool unblock)
{
	struct tracked want = {
		.kind = TRACK_BLOCK_V6, .expires_ns = expiry(act->ttl_s),
		.seq = act->seq,
	};
	struct vnfsec_block_entry v = {
		.expires_ns = want.expires_ns,
		.reason = VNFSEC_BLOCK_SERVER_ACTION,
	};
	int fd = a->sensor->blocklist_v6_fd;
	struct tracked *t;
	char buf[64];

	v6_key(act, &want.key.v6);
	prefix6_str(&want.key.v6, buf, sizeof(buf));
	t = find(a, &want);
	if (unblock) {
		if (bpf_map_delete_elem(fd, &want.key.v6) &&
		    (errno != ENOENT || !t))
			return -errno;
		if (t)
			untrack(a, t);
		log_info("actions: block of %s lifted on request (action %llu)",
			 buf, (unsigned long long)act->seq);
		return fastpath_bump_generation(a->sensor);
	}
	if (!t && a->nr == ACTIONS_TRACKED_MAX) {
		log_err("actions: cannot block %s: %u actions already active",
			buf, a->nr);
		return -ENOSPC;
	}
	if (bpf_map_update_elem(fd, &want.key.v6, &v, BPF_ANY)) {
		int err = -errno;

		log_err("actions: cannot write block of %s into blocklist_v6: %s",
			buf, strerror(-err));
		return err;
	}
	track(a, &want);
	if (act->ttl_s)
		log_info("actions: blocked source %s for %u s (action %llu)",
			 buf, act->ttl_s, (unsigned long long)act->seq);
	else
		log_info("actions: blocked source %s until lifted (action %llu)",
			 buf, (unsigned long long)act->seq);
	return fastpath_bump_generation(a->sensor);
}

static int block(struct actions *a, const Vnfsec__Action *act, bool unblock)
{
	uint32_t addr;

	if (act->src_addr.len == 16)
		return block_v6(a, act, unblock);
	memcpy(&addr, act->src_addr.data, sizeof(addr));
	if (unblock)
		return enforcer_unblock(a->enf, addr, act->prefix_len);
	return enforcer_block(a->enf, addr, act->prefix_len, act->ttl_s,
			      act->seq, VNFSEC_BLOCK_SERVER_ACTION);
}

static void src_str(const struct vnfsec_det_key *k, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	bool v6 = k->family == VNFSEC_AF_INET6;

	inet_ntop(v6 ? AF_INET6 : AF_INET, &k->addr, addr, sizeof(addr));
	snprintf(buf, len, "%s/%u", addr, v6 ? 128 : 32);
}


/*
 * A rate of its own for one source: rate_override, bucket depth one
 * second of the rate. A source has one rate: a newer order replaces the
 * older one's rate and time (a short ttl_s ends it early);
 * unblock_source leaves it alone. Only a host (/32, /128): the fast path
 * keys buckets by address, and a prefix's rate would be each host's.
 */
static int rate_limit(struct actions *a, const Vnfsec__Action *act)
{
	bool v6 = act->src_addr.len == 16;
	struct tracked want = {
		.kind = TRACK_RATE, .expires_ns = expiry(act->ttl_s),
		.seq = act->seq, .pps = act->rate_pps,
	};
	struct vnfsec_rate_override v = {
		.expires_ns = want.expires_ns, .pps = act->rate_pps,
		.reason = VNFSEC_BLOCK_SERVER_ACTION,
	};
	struct tracked *t;
	char buf[64];
	int ret;

	want.key.src.family = v6 ? VNFSEC_AF_INET6 : VNFSEC_AF_INET;
	memcpy(&want.key.src.addr, act->src_addr.data, act->src_addr.len);
	if (act->prefix_len != act->src_addr.len * 8) {
		inet_ntop(v6 ? AF_INET6 : AF_INET, act->src_addr.data, buf,
			  sizeof(buf));
		log_err("actions: refused rate_limit_source of %s/%u (action %llu): a rate applies to one host (/%u); block the prefix or order each host",
			buf, act->prefix_len, (unsigned long long)act->seq,
			(unsigned int)act->src_addr.len * 8);
		return -EINVAL;
	}
	src_str(&want.key.src, buf, sizeof(buf));
	t = find(a, &want);
	if (!t && a->nr == ACTIONS_TRACKED_MAX) {
		log_err("actions: cannot rate-limit %s: %u actions already active",
			buf, a->nr);
		return -ENOSPC;
	}
	if (bpf_map_update_elem(a->sensor->rate_override_fd, &want.key.src,
				&v, BPF_ANY)) {
		ret = -errno;
		log_err("actions: cannot write rate limit of %s into rate_override: %s",
			buf, strerror(-ret));
		return ret;
	}
	track(a, &want);
	ret = count_rate_overrides(a);
	if (ret) {
		/* Not counted, not enforced: say so, leave nothing behind. */
		untrack(a, find(a, &want));
		bpf_map_delete_elem(a->sensor->rate_override_fd, &want.key.src);
		return ret;
	}
	if (act->ttl_s)
		log_info("actions: rate-limited source %s to %u pps for %u s (action %llu)",
			 buf, act->rate_pps, act->ttl_s,
			 (unsigned long long)act->seq);
	else
		log_info("actions: rate-limited source %s to %u pps until a new order (action %llu)",
			 buf, act->rate_pps, (unsigned long long)act->seq);
	return 0;
}

int actions_apply(struct actions *a, const Vnfsec__Action *act)
{
	switch (act->type) {
	case VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE:
		return block(a, act, false);
	case VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE:
		return block(a, act, true);
	case VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW:
	case VNFSEC__ACTION_TYPE__ACTION_MONITOR_FLOW:
	case VNFSEC__ACTION_TYPE__ACTION_MIRROR_FLOW:
		return flow_action(a, act);
	case VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF:
		return quarantine(a, act, false);
	case VNFSEC__ACTION_TYPE__ACTION_RELEASE_VNF:
		return quarantine(a, act, true);
	case VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE:
		return rate_limit(a, act);
	default:
		log_err("actions: refused action %llu of unknown type %d",
			(unsigned long long)act->seq, act->type);
		return -EOPNOTSUPP;
	}
}

/*
 * One flow action covers several places; say once that it ended. @said
 * holds the (seq, bit) pairs this tick has logged already.
 */
struct said {
	uint64_t seq[16];
	uint32_t bit[16];
	unsigned int n;
};

static bool said_before(struct said *said, const struct tracked *t)
{
	unsigned int i;

	for (i = 0; i < said->n; i++)
		if (said->seq[i] == t->seq && said->bit[i] == t->bit)
			return true;
	if (said->n < 16) {
		said->seq[said->n] = t->seq;
		said->bit[said->n++] = t->bit;
	}
	return false;
}

static const char *kind_name(const struct tracked *t)
{
	switch (t->kind) {
	case TRACK_OVERRIDE: return bit_name(t->bit);
	case TRACK_QUARANTINE: return "quarantine";
	case TRACK_RATE: return "rate_limit";
	default: return "block";
	}
}

static void lift(struct actions *a, struct tracked *t, struct said *said)
{
	struct tracked gone = *t;
	char buf[128];
	int ret = 0;

	untrack(a, t);
	switch (gone.kind) {
	case TRACK_OVERRIDE:
		ret = write_override(a, &gone.key.flow);
		flow_str(&gone.key.flow, buf, sizeof(buf));
		break;
	case TRACK_QUARANTINE:
		ret = fastpath_quarantine(a->sensor, policy(a), gone.key.vnf,
					  true);
		/* Gone already (the fast path or a policy change): lifted. */
		if (ret == -ENOENT)
			ret = 0;
		snprintf(buf, sizeof(buf), "VNF %s", gone.key.vnf);
		break;
	case TRACK_BLOCK_V6:
		if (bpf_map_delete_elem(a->sensor->blocklist_v6_fd,
					&gone.key.v6) && errno != ENOENT)
			ret = -errno;
		prefix6_str(&gone.key.v6, buf, sizeof(buf));
		break;
	case TRACK_RATE:
		if (bpf_map_delete_elem(a->sensor->rate_override_fd,
					&gone.key.src) && errno != ENOENT)
			ret = -errno;
		if (!ret)
			ret = count_rate_overrides(a);
		src_str(&gone.key.src, buf, sizeof(buf));
		break;
	}
	if (!ret && said_before(said, &gone))
		return;
	if (ret)
		log_warn("actions: cannot lift expired %s of %s: %s (the fast path ignores it anyway)",
			 kind_name(&gone), buf, strerror(-ret));
	else
		log_info("actions: %s of %s lifted: its time is up (action %llu)",
			 kind_name(&gone), buf, (unsigned long long)gone.seq);
}

void actions_tick(struct actions *a, uint64_t now_ns)
{
	unsigned int i = 0, lifted = 0;
	struct said said = {};

	while (i < a->nr) {
		struct tracked *t = &a->t[i];

		if (!t->expires_ns || t->expires_ns > now_ns) {
			i++;
			continue;
		}
		lift(a, t, &said);	/* moves the last entry here: look again */
		lifted++;
	}
	/* Whatever another writer did to flow_override meanwhile. */
	count_flow_overrides(a);
	if (lifted)
		fastpath_bump_generation(a->sensor);
}

void actions_foreach(const struct actions *a,
		     void (*fn)(void *ctx, const struct action_info *i),
		     void *ctx)
{
	uint64_t now = clock_mono_ns();
	unsigned int i;

	for (i = 0; i < a->nr; i++) {
		const struct tracked *t = &a->t[i];
		struct action_info info = {
			.seq = t->seq,
			.expires_in_s = !t->expires_ns ? -1 :
				t->expires_ns > now ?
				(int64_t)((t->expires_ns - now) / NS_PER_S) : 0,
		};

		switch (t->kind) {
		case TRACK_OVERRIDE:
			info.type = bit_name(t->bit);
			flow_str(&t->key.flow, info.target,
				 sizeof(info.target));
			break;
		case TRACK_QUARANTINE:
			info.type = "quarantine";
			snprintf(info.target, sizeof(info.target), "%s",
				 t->key.vnf);
			break;
		case TRACK_RATE:
			info.type = "rate_limit";
			info.rate_pps = t->pps;
			src_str(&t->key.src, info.target, sizeof(info.target));
			break;
		default:
			info.type = "block";
			prefix6_str(&t->key.v6, info.target,
				    sizeof(info.target));
		}
		fn(ctx, &info);
	}
}
