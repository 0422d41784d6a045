// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "user/agent/fastpath_policy.h"
#include "user/common/log.h"

/* VNF ids are the policy's order (sorted by name) plus one: 0 is unknown. */
static int vnf_id(uint32_t index)
{
	return index + 1 < VNFSEC_MAX_VNFS ? (int)index + 1 : -1;
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
 * All rules of one VNF pair in one map value, ports per protocol (ABI 3):
 * a pair with TCP 80 and UDP 53 allows exactly those two.
 */
static void pair_value(const struct policy_compiled *p, uint16_t src,
		       uint16_t dst, struct vnfsec_pair_policy *v)
{
	uint8_t any_port = 0, overflow = 0, bits;
	uint32_t i;

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
		if (r->proto == POLICY_PROTO_ANY ||
		    (r->port_lo <= 1 && r->port_hi == 65535)) {
			any_port |= bits;
			continue;
		}
		if (v->nr_ports == VNFSEC_PAIR_MAX_PORTS) {
			overflow |= bits;
			continue;
		}
		v->ports[v->nr_ports].first = r->port_lo;
		v->ports[v->nr_ports].last = r->port_hi;
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

static int write_vnfs(const struct sensor *s, const struct policy_compiled *p)
{
	uint32_t i, j;

	for (i = 0; i < p->n_vnfs; i++) {
		struct vnfsec_vnf_id id = { .vnf = vnf_id(i) };

		if (vnf_id(i) < 0)
			return -E2BIG;
		for (j = 0; j < p->vnfs[i].n_addrs; j++) {
			struct vnfsec_lpm_v6_key k;

			addr_key(&p->vnfs[i].addrs[j], &k);
			if (bpf_map_update_elem(s->vnf_addrs_fd, &k, &id, BPF_ANY))
				return -errno;
		}
		for (j = 0; j < p->vnfs[i].n_ifaces; j++) {
			const struct policy_iface *pi = &p->vnfs[i].ifaces[j];
			struct vnfsec_port_key k = {
				.ifindex = if_nametoindex(pi->name),
				.vlan = pi->vlan ? pi->vlan : VNFSEC_VLAN_ANY,
			};

			/* Ports are named as this agent sees them. */
			if (!k.ifindex)
				continue;
			if (bpf_map_update_elem(s->vnf_ports_fd, &k, &id, BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

/*
 * The fast path judges each direction alone, so replies need a rule of
 * their own: the reverse of an allowed pair may use the same protocols,
 * to any port of them (TCP/UDP replies go to the client's ephemeral
 * port). A
 * new conversation started the other way is still a violation for the
 * agent, which knows replies from requests.
 */
static void add_replies(const struct policy_compiled *p, uint16_t src,
			uint16_t dst, struct vnfsec_pair_policy *v)
{
	struct vnfsec_pair_policy fwd;

	pair_value(p, dst, src, &fwd);
	if (!fwd.protos)
		return;
	v->protos |= fwd.protos;
	drop_ranges(v, fwd.protos & (VNFSEC_PROTO_TCP | VNFSEC_PROTO_UDP));
}

static int write_pair(const struct sensor *s, const struct policy_compiled *p,
		      uint16_t src, uint16_t dst)
{
	struct vnfsec_pair_key k = {
		.src_vnf = vnf_id(src), .dst_vnf = vnf_id(dst),
	};
	struct vnfsec_pair_policy v;

	pair_value(p, src, dst, &v);
	add_replies(p, src, dst, &v);
	if (!v.protos)
		return 0;
	return bpf_map_update_elem(s->vnf_pair_policy_fd, &k, &v, BPF_ANY) ?
	       -errno : 0;
}

static int write_pairs(const struct sensor *s, const struct policy_compiled *p)
{
	uint32_t i;
	int ret;

	for (i = 0; i < p->n_rules; i++) {
		ret = write_pair(s, p, p->rules[i].src_vnf,
				 p->rules[i].dst_vnf);
		if (!ret)
			ret = write_pair(s, p, p->rules[i].dst_vnf,
					 p->rules[i].src_vnf);
		if (ret)
			return ret;
	}
	return 0;
}

/* Delete what @old wrote and @new did not rewrite. */
static void delete_stale(const struct sensor *s,
			 const struct policy_compiled *old,
			 const struct policy_compiled *new)
{
	uint32_t i, j;

	for (i = 0; old && i < old->n_vnfs; i++) {
		for (j = 0; j < old->vnfs[i].n_addrs; j++) {
			struct vnfsec_lpm_v6_key k;

			if (policy_vnf_of(new, old->vnfs[i].addrs[j].family,
					  old->vnfs[i].addrs[j].addr) >= 0)
				continue;
			addr_key(&old->vnfs[i].addrs[j], &k);
			bpf_map_delete_elem(s->vnf_addrs_fd, &k);
		}
	}
	for (i = 0; old && i < old->n_rules; i++) {
		const struct policy_pair_rule *r = &old->rules[i];
		struct vnfsec_pair_key k = {
			.src_vnf = vnf_id(r->src_vnf),
			.dst_vnf = vnf_id(r->dst_vnf),
		};
		bool kept = false;

		struct vnfsec_pair_key rk = {
			.src_vnf = k.dst_vnf, .dst_vnf = k.src_vnf,
		};

		/* Written for the rule or for its replies: both directions. */
		for (j = 0; j < new->n_rules && !kept; j++)
			kept = (vnf_id(new->rules[j].src_vnf) == k.src_vnf &&
				vnf_id(new->rules[j].dst_vnf) == k.dst_vnf) ||
			       (vnf_id(new->rules[j].src_vnf) == k.dst_vnf &&
				vnf_id(new->rules[j].dst_vnf) == k.src_vnf);
		if (kept)
			continue;
		bpf_map_delete_elem(s->vnf_pair_policy_fd, &k);
		bpf_map_delete_elem(s->vnf_pair_policy_fd, &rk);
	}
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
		cfg.mode = p->mode == POLICY_MODE_PROTECT ? VNFSEC_MODE_PROTECT :
			   p->mode == POLICY_MODE_MONITOR ? VNFSEC_MODE_MONITOR :
							    VNFSEC_MODE_LEARN;
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

int fastpath_apply_policy(const struct sensor *s,
			  const struct policy_compiled *old,
			  const struct policy_compiled *new)
{
	int ret;

	ret = write_vnfs(s, new);
	if (!ret)
		ret = write_pairs(s, new);
	if (!ret)
		ret = update_config(s, new, false);
	if (ret) {
		log_err("fast path: cannot write the policy's maps: %s; the fast path keeps its previous rules where they were not overwritten",
			strerror(-ret));
		return ret;
	}
	delete_stale(s, old, new);
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
	id = vnf_id(i);
	if (release ? bpf_map_delete_elem(s->quarantine_fd, &id) :
		      bpf_map_update_elem(s->quarantine_fd, &id, &q, BPF_ANY))
		return -errno;
	log_info("VNF %s %s", vnf, release ? "released from quarantine" :
		 "quarantined: only management traffic passes");
	return fastpath_bump_generation(s);
}
