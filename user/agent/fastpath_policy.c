// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "user/agent/fastpath_policy.h"
#include "user/agent/l7.h"
#include "user/common/log.h"

/*
 * A VNF keeps its id across policy revisions, by name: flows, per-VNF
 * counters and quarantines are keyed by id, so renumbering would re-key
 * live flows (counting them twice) and, between two map writes, judge a
 * packet by another pair's rule. Ids of VNFs gone from the policy are
 * reused only when no never-used id is left. One fast path per agent, so
 * one table; it starts empty, which numbers the first policy in order.
 */
static char id_names[VNFSEC_MAX_VNFS][POLICY_NAME_LEN];

static uint16_t id_of_name(const char *name)
{
	uint16_t id;

	for (id = 1; id < VNFSEC_MAX_VNFS; id++)
		if (!strcmp(id_names[id], name))
			return id;
	return 0;
}

static uint16_t free_id(const bool *taken)
{
	uint16_t id, reusable = 0;

	for (id = 1; id < VNFSEC_MAX_VNFS; id++) {
		if (taken[id])
			continue;
		if (!id_names[id][0])
			return id;
		if (!reusable)
			reusable = id;
	}
	return reusable;
}

/* Ids for @p's VNFs into @ids (indexed like p->vnfs); the table is kept. */
static int assign_ids(const struct policy_compiled *p, uint16_t *ids)
{
	bool taken[VNFSEC_MAX_VNFS] = { [0] = true };
	uint32_t i;

	if (p->n_vnfs >= VNFSEC_MAX_VNFS)
		return -E2BIG;
	for (i = 0; i < p->n_vnfs; i++) {
		ids[i] = id_of_name(p->vnfs[i].name);
		taken[ids[i]] = true;
	}
	for (i = 0; i < p->n_vnfs; i++) {
		if (ids[i])
			continue;
		ids[i] = free_id(taken);
		taken[ids[i]] = true;
	}
	return 0;
}

static void commit_ids(const struct policy_compiled *p, const uint16_t *ids)
{
	uint32_t i;

	for (i = 0; i < p->n_vnfs; i++)
		snprintf(id_names[ids[i]], POLICY_NAME_LEN, "%s",
			 p->vnfs[i].name);
}

const char *fastpath_vnf_name(uint16_t id)
{
	return id && id < VNFSEC_MAX_VNFS && id_names[id][0] ?
	       id_names[id] : NULL;
}

uint16_t fastpath_vnf_id(const char *name)
{
	return name[0] ? id_of_name(name) : 0;
}

static void addr_key(const struct policy_prefix *p,
		     struct vnfsec_lpm_v6_key *k)
{
	memset(k, 0, sizeof(*k));
	if (p->family == AF_INET) {
		/* One trie for both families: IPv4 as ::ffff:a.b.c.d. */
		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		memcpy(&k->addr[12], p->addr, 4);
		k->prefixlen = 96 + p->len;
	} else {
		memcpy(k->addr, p->addr, 16);
		k->prefixlen = p->len;
	}
}

static uint8_t proto_bits(uint8_t proto)
{
	switch (proto) {
	case POLICY_PROTO_ANY:
		return VNFSEC_PROTO_TCP | VNFSEC_PROTO_UDP | VNFSEC_PROTO_ICMP |
		       VNFSEC_PROTO_OTHER;
	case POLICY_PROTO_TCP:
		return VNFSEC_PROTO_TCP;
	case POLICY_PROTO_UDP:
		return VNFSEC_PROTO_UDP;
	case POLICY_PROTO_ICMP:
		return VNFSEC_PROTO_ICMP;
	default:
		return VNFSEC_PROTO_OTHER;
	}
}

/*
 * Takes the ranges of `protos` (TCP and/or UDP bits) out of v: with no
 * range left for a protocol, every port of it is allowed.
 */
static void drop_ranges(struct vnfsec_pair_policy *v, uint8_t protos)
{
	uint8_t i, n = 0;

	for (i = 0; i < v->nr_ports; i++) {
		v->ports[i].protos &= ~protos;
		if (v->ports[i].protos)
			v->ports[n++] = v->ports[i];
	}
	memset(&v->ports[n], 0,
	       (VNFSEC_PAIR_MAX_PORTS - n) * sizeof(v->ports[0]));
	v->nr_ports = n;
}

/*
 * Only what a rule says its source may start: replies pass in the fast
 * path because their request passed the other way (map "flow_reply",
 * docs/fastpath.md), never by a rule of their own, so a pair with rules
 * both ways keeps each direction's ports.
 *
 * All rules of one VNF pair in one map value, ports per protocol (ABI 3):
 * a pair with TCP 80 and UDP 53 allows exactly those two.
 */
static void pair_value(const struct policy_compiled *p, uint16_t src,
		       uint16_t dst, struct vnfsec_pair_policy *v)
{
	uint8_t any_port = 0, overflow = 0, bits;
	uint32_t i;
	bool l7;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_pair_rule *r = &p->rules[i];

		if (r->src_vnf != src || r->dst_vnf != dst)
			continue;
		v->protos |= proto_bits(r->proto);
		bits = proto_bits(r->proto) &
		       (VNFSEC_PROTO_TCP | VNFSEC_PROTO_UDP);
		if (!bits)
			continue;
		/*
		 * A rule naming an L7 protocol nDPI can tell keeps its
		 * range, every port included: the range's l7 makes its new
		 * flows L7 pending (ABI 7, docs/fastpath.md).
		 */
		l7 = l7_enforceable(r->l7);
		if (r->proto == POLICY_PROTO_ANY ||
		    (!l7 && r->port_lo <= 1 && r->port_hi == 65535)) {
			any_port |= bits;
			continue;
		}
		if (v->nr_ports == VNFSEC_PAIR_MAX_PORTS) {
			overflow |= bits;
			continue;
		}
		v->ports[v->nr_ports].first = r->port_lo;
		v->ports[v->nr_ports].last = r->port_hi;
		v->ports[v->nr_ports].l7 = l7;
		v->ports[v->nr_ports++].protos = bits;
	}
	if (overflow)
		log_warn("fast path: %s -> %s has more than %d port ranges; it allows every %s port of the pair (the agent still reports violations)",
			 p->vnfs[src].name, p->vnfs[dst].name,
			 VNFSEC_PAIR_MAX_PORTS,
			 overflow == VNFSEC_PROTO_TCP ? "TCP" :
			 overflow == VNFSEC_PROTO_UDP ? "UDP" : "TCP and UDP");
	drop_ranges(v, any_port | overflow);
}

static struct vnfsec_port_key port_key(const struct policy_iface *pi)
{
	return (struct vnfsec_port_key){
		.ifindex = if_nametoindex(pi->name),
		.vlan = pi->vlan ? pi->vlan : VNFSEC_VLAN_ANY,
	};
}

static int write_vnfs(const struct sensor *s, const struct policy_compiled *p,
		      const uint16_t *ids)
{
	uint32_t i, j;

	for (i = 0; i < p->n_vnfs; i++) {
		struct vnfsec_vnf_id id = { .vnf = ids[i] };

		for (j = 0; j < p->vnfs[i].n_addrs; j++) {
			struct vnfsec_lpm_v6_key k;

			addr_key(&p->vnfs[i].addrs[j], &k);
			if (bpf_map_update_elem(s->vnf_addrs_fd, &k, &id, BPF_ANY))
				return -errno;
		}
		for (j = 0; j < p->vnfs[i].n_ifaces; j++) {
			struct vnfsec_port_key k = port_key(&p->vnfs[i].ifaces[j]);

			/* Ports are named as this agent sees them. */
			if (!k.ifindex)
				continue;
			if (bpf_map_update_elem(s->vnf_ports_fd, &k, &id, BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

static int write_pair(const struct sensor *s, const struct policy_compiled *p,
		      const uint16_t *ids, uint16_t src, uint16_t dst)
{
	struct vnfsec_pair_key k = { .src_vnf = ids[src], .dst_vnf = ids[dst] };
	struct vnfsec_pair_policy v;

	pair_value(p, src, dst, &v);
	if (!v.protos)
		return 0;
	return bpf_map_update_elem(s->vnf_pair_policy_fd, &k, &v, BPF_ANY) ?
	       -errno : 0;
}

static int write_pairs(const struct sensor *s, const struct policy_compiled *p,
		       const uint16_t *ids)
{
	uint32_t i;
	int ret;

	for (i = 0; i < p->n_rules; i++) {
		ret = write_pair(s, p, ids, p->rules[i].src_vnf,
				 p->rules[i].dst_vnf);
		if (ret)
			return ret;
	}
	return 0;
}

/* Would writing @p with @ids put exactly this key into its map? */
static bool pair_written(const void *key, const struct policy_compiled *p,
			 const uint16_t *ids)
{
	const struct vnfsec_pair_key *k = key;
	uint32_t i;

	for (i = 0; i < p->n_rules; i++) {
		uint16_t a = ids[p->rules[i].src_vnf];
		uint16_t b = ids[p->rules[i].dst_vnf];

		if (k->src_vnf == a && k->dst_vnf == b)
			return true;
	}
	return false;
}

static bool addr_written(const void *key, const struct policy_compiled *p,
			 const uint16_t *ids)
{
	struct vnfsec_lpm_v6_key k;
	uint32_t i, j;

	(void)ids;	/* keys without VNF ids */

	for (i = 0; i < p->n_vnfs; i++)
		for (j = 0; j < p->vnfs[i].n_addrs; j++) {
			addr_key(&p->vnfs[i].addrs[j], &k);
			if (!memcmp(&k, key, sizeof(k)))
				return true;
		}
	return false;
}

static bool port_written(const void *key, const struct policy_compiled *p,
			 const uint16_t *ids)
{
	struct vnfsec_port_key k;
	uint32_t i, j;

	(void)ids;	/* keys without VNF ids */

	for (i = 0; i < p->n_vnfs; i++)
		for (j = 0; j < p->vnfs[i].n_ifaces; j++) {
			k = port_key(&p->vnfs[i].ifaces[j]);
			if (k.ifindex && !memcmp(&k, key, sizeof(k)))
				return true;
		}
	return false;
}

/*
 * Delete every entry of @fd that @p does not write: also what an earlier
 * agent run left behind. Keys are gathered first, as deleting while
 * walking a hash map restarts the walk.
 */
static void sweep(int fd, size_t key_size,
		  bool (*written)(const void *key,
				  const struct policy_compiled *p,
				  const uint16_t *ids),
		  const struct policy_compiled *p, const uint16_t *ids)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	uint8_t cur[32], next[32], *stale;
	unsigned int n = 0, i;
	void *prev = NULL;

	if (bpf_obj_get_info_by_fd(fd, &info, &len) || key_size > sizeof(cur) ||
	    !(stale = calloc(info.max_entries, key_size))) {
		log_err("fast path: cannot sweep a policy map: entries of the previous policy stay until the next apply");
		return;
	}
	while (n < info.max_entries && !bpf_map_get_next_key(fd, prev, next)) {
		if (!written(next, p, ids))
			memcpy(stale + (size_t)n++ * key_size, next, key_size);
		memcpy(cur, next, key_size);
		prev = cur;
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fd, stale + (size_t)i * key_size);
	free(stale);
}

static void sweep_all(const struct sensor *s, const struct policy_compiled *p,
		      const uint16_t *ids)
{
	sweep(s->vnf_pair_policy_fd, sizeof(struct vnfsec_pair_key),
	      pair_written, p, ids);
	sweep(s->vnf_addrs_fd, sizeof(struct vnfsec_lpm_v6_key), addr_written,
	      p, ids);
	sweep(s->vnf_ports_fd, sizeof(struct vnfsec_port_key), port_written,
	      p, ids);
}

static __u8 fast_mode(enum policy_mode m)
{
	return m == POLICY_MODE_PROTECT ? VNFSEC_MODE_PROTECT :
	       m == POLICY_MODE_MONITOR ? VNFSEC_MODE_MONITOR :
					  VNFSEC_MODE_LEARN;
}

static __u8 fast_ethertypes(uint8_t bits)
{
	return (bits & POLICY_ETH_ARP ? VNFSEC_ETH_ARP : 0) |
	       (bits & POLICY_ETH_LLDP ? VNFSEC_ETH_LLDP : 0) |
	       (bits & POLICY_ETH_ANY ? VNFSEC_ETH_ANY : 0);
}

/*
 * Each VNF's own mode, unparsed verdict and EtherTypes (its effective
 * values: own or global), and whether its addresses bind its ports'
 * sources; every other id back to the global ones. One
 * entry each, replaced whole: a packet sees the old or the new VNF's.
 */
static int write_vnf_policies(const struct sensor *s,
			      const struct policy_compiled *p,
			      const uint16_t *ids)
{
	struct vnfsec_vnf_policy v[VNFSEC_MAX_VNFS];
	__u32 id;
	uint32_t i;

	memset(v, 0, sizeof(v));
	for (i = 0; i < p->n_vnfs; i++) {
		struct vnfsec_vnf_policy *e = &v[ids[i]];

		e->own = 1;
		e->mode = fast_mode(p->vnfs[i].mode);
		e->unparsed = p->vnfs[i].unparsed == POLICY_UNPARSED_PASS ?
			      VNFSEC_UNPARSED_PASS : VNFSEC_UNPARSED_DROP;
		e->ethertypes = fast_ethertypes(p->vnfs[i].ethertypes);
		/* Its ports may source its addresses only (anti-spoofing). */
		if (p->vnfs[i].n_addrs)
			e->flags |= VNFSEC_VNF_F_BOUND;
	}
	for (id = 0; id < VNFSEC_MAX_VNFS; id++)
		if (bpf_map_update_elem(s->vnf_policy_fd, &id, &v[id],
					BPF_ANY))
			return -errno;
	return 0;
}

static int update_config(const struct sensor *s,
			 const struct policy_compiled *p, bool bump_only)
{
	struct vnfsec_config cfg;
	__u32 key = 0;

	if (bpf_map_lookup_elem(s->config_fd, &key, &cfg))
		return -errno;
	if (!bump_only) {
		cfg.abi_version = VNFSEC_ABI_VERSION;
		cfg.mode = fast_mode(p->mode);
		cfg.unparsed = p->unparsed == POLICY_UNPARSED_PASS ?
			       VNFSEC_UNPARSED_PASS : VNFSEC_UNPARSED_DROP;
		cfg.ethertypes = fast_ethertypes(p->ethertypes);
		/* A policy names what is normal; other pairs are violations. */
		cfg.pair_default = p->n_vnfs ? 1 : 0;
	}
	cfg.policy_gen++;
	if (bpf_map_update_elem(s->config_fd, &key, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

int fastpath_bump_generation(const struct sensor *s)
{
	return update_config(s, NULL, true);
}

/*
 * Every entry is one map element, replaced whole, and ids do not move, so
 * each packet is judged by the old or the new rule of its pair, never by
 * none; what only the old policy had goes last.
 */
int fastpath_apply_policy(const struct sensor *s,
			  const struct policy_compiled *old,
			  const struct policy_compiled *new)
{
	uint16_t ids[VNFSEC_MAX_VNFS], old_ids[VNFSEC_MAX_VNFS];
	int ret;

	ret = assign_ids(new, ids);
	if (!ret)
		ret = write_vnfs(s, new, ids);
	if (!ret)
		ret = write_vnf_policies(s, new, ids);
	if (!ret)
		ret = write_pairs(s, new, ids);
	if (!ret)
		ret = update_config(s, new, false);
	if (ret) {
		/* Old VNFs kept their names' ids: rewrite it, drop the rest. */
		if (old && !assign_ids(old, old_ids) &&
		    !write_vnfs(s, old, old_ids) &&
		    !write_vnf_policies(s, old, old_ids) &&
		    !write_pairs(s, old, old_ids)) {
			sweep_all(s, old, old_ids);
			log_err("fast path: cannot write the policy's maps: %s; the previous policy stays in force",
				strerror(-ret));
		} else {
			log_err("fast path: cannot write the policy's maps: %s; they hold part of it: apply a policy again (or restart with --fresh)",
				strerror(-ret));
		}
		fastpath_bump_generation(s);
		return ret;
	}
	commit_ids(new, ids);
	sweep_all(s, new, ids);
	return fastpath_bump_generation(s);
}

int fastpath_quarantine(const struct sensor *s,
			const struct policy_compiled *p, const char *vnf,
			bool release)
{
	struct vnfsec_quarantine q = { .reason = VNFSEC_BLOCK_OPERATOR };
	uint32_t i;
	__u16 id;

	for (i = 0; p && i < p->n_vnfs; i++)
		if (!strcmp(p->vnfs[i].name, vnf))
			break;
	if (!p || i == p->n_vnfs)
		return -ENOENT;
	id = fastpath_vnf_id(vnf);
	if (!id)
		return -ENOENT;
	if (release ? bpf_map_delete_elem(s->quarantine_fd, &id) :
		      bpf_map_update_elem(s->quarantine_fd, &id, &q, BPF_ANY))
		return -errno;
	log_info("VNF %s %s", vnf, release ? "released from quarantine" :
		 "quarantined: only management traffic passes");
	return fastpath_bump_generation(s);
}
