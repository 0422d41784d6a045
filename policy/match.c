// SPDX-License-Identifier: GPL-2.0-only
/*
 * Questions the agent asks the compiled policy on its event path: which
 * VNF owns an address, and which rule (if any) makes a flow between two
 * VNFs normal. The rules are sorted by (src, dst, proto, ports), so one
 * binary search finds the pair's rules.
 */
#include <string.h>
#include <sys/socket.h>

#include "policy/internal.h"

int policy_vnf_of(const struct policy_compiled *p, int family,
		  const void *addr)
{
	struct policy_prefix host = { 0 };
	uint32_t i, k;

	if (family != AF_INET && family != AF_INET6)
		return -1;
	host.family = (uint8_t)family;
	host.len = family == AF_INET ? 32 : 128;
	memcpy(host.addr, addr, family == AF_INET ? 4 : 16);
	for (i = 0; i < p->n_vnfs; i++)
		for (k = 0; k < p->vnfs[i].n_addrs; k++)
			if (prefix_overlaps(&p->vnfs[i].addrs[k], &host))
				return (int)i;
	return -1;
}

const struct policy_pair_rule *
policy_match(const struct policy_compiled *p, int src_vnf, int dst_vnf,
	     uint8_t proto, uint16_t dport)
{
	uint32_t lo = 0, hi = p->n_rules, i;

	if (src_vnf < 0 || dst_vnf < 0)
		return NULL;
	/* First rule of the pair (lower bound on src, dst). */
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct policy_pair_rule *r = &p->rules[mid];

		if (r->src_vnf < src_vnf ||
		    (r->src_vnf == src_vnf && r->dst_vnf < dst_vnf))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < p->n_rules; i++) {
		const struct policy_pair_rule *r = &p->rules[i];

		if (r->src_vnf != src_vnf || r->dst_vnf != dst_vnf)
			break;
		if ((r->proto == POLICY_PROTO_ANY || r->proto == proto) &&
		    r->port_lo <= dport && dport <= r->port_hi)
			return r;
	}
	return NULL;
}
