// SPDX-License-Identifier: GPL-2.0-only
/*
 * From the raw policy to the compiled form: resolve names, expand
 * profiles, merge thresholds, refuse overlapping or contradictory rules,
 * and sort everything so the same policy always compiles to the same
 * arrays (and the same digest), whatever order the file lists it in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/internal.h"
#include "policy/items.h"

/* A compiled rule and the pair entry it came from, for error messages. */
struct rule_src {
	struct policy_pair_rule r;
	uint32_t pair;
};

static int vnf_find(const struct pctx *c, const char *name)
{
	uint32_t lo = 0, hi = c->raw->n_vnfs;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		int d = strcmp(c->sorted[mid]->v.name, name);

		if (!d)
			return (int)mid;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static const struct raw_profile *profile_find(const struct raw_policy *r,
					      const char *name)
{
	uint32_t i;

	for (i = 0; i < r->n_profiles; i++)
		if (!strcmp(r->profiles[i].name, name))
			return &r->profiles[i];
	return NULL;
}

static int cmp_vnf_ptr(const void *a, const void *b)
{
	const struct raw_vnf *x = *(const struct raw_vnf *const *)a;
	const struct raw_vnf *y = *(const struct raw_vnf *const *)b;

	return strcmp(x->v.name, y->v.name);
}

static void check_vnfs(struct pctx *c)
{
	struct raw_policy *r = c->raw;
	uint32_t i, j, a, b;

	for (i = 0; i < r->n_vnfs; i++) {
		struct raw_vnf *v = &r->vnfs[i];

		for (j = 0; j < i; j++)
			if (!strcmp(r->vnfs[j].v.name, v->v.name))
				break;
		if (j < i) {
			perr(c, v->at, "vnfs[%u].name: duplicate VNF '%s' (first at line %zu)",
			     v->index, v->v.name, r->vnfs[j].at.line + 1);
			continue;
		}
		if (v->v.type[0] && !profile_find(r, v->v.type))
			perr(c, v->type_at,
			     "vnfs[%u].type: no profile named '%s' (built-in: gtp-gateway, billing, dns, web)",
			     v->index, v->v.type);
		for (j = 0; j < i; j++) {
			const struct raw_vnf *w = &r->vnfs[j];

			for (a = 0; a < v->v.n_addrs; a++)
				for (b = 0; b < w->v.n_addrs; b++)
					if (prefix_overlaps(&v->v.addrs[a], &w->v.addrs[b]))
						perr(c, v->addr_at[a],
						     "vnfs[%u].addresses[%u]: overlaps the addresses of VNF '%s' (line %zu)",
						     v->index, a, w->v.name,
						     w->addr_at[b].line + 1);
			for (a = 0; a < v->v.n_ifaces; a++)
				for (b = 0; b < w->v.n_ifaces; b++)
					if (!strcmp(v->v.ifaces[a].name, w->v.ifaces[b].name) &&
					    v->v.ifaces[a].vlan == w->v.ifaces[b].vlan)
						perr(c, v->iface_at[a],
						     "vnfs[%u].interfaces[%u]: '%s' already belongs to VNF '%s' (line %zu)",
						     v->index, a, v->v.ifaces[a].name,
						     w->v.name, w->iface_at[b].line + 1);
		}
	}
}

static bool ranges_overlap(uint16_t alo, uint16_t ahi, uint16_t blo,
			   uint16_t bhi)
{
	return alo <= bhi && blo <= ahi;
}

static bool protos_overlap(uint8_t a, uint8_t b)
{
	return a == b || a == POLICY_PROTO_ANY || b == POLICY_PROTO_ANY;
}

static void rule_text(const struct pctx *c, const struct policy_pair_rule *r,
		      char *buf, size_t len)
{
	const char *src = c->sorted[r->src_vnf]->v.name;
	const char *dst = c->sorted[r->dst_vnf]->v.name;

	if (r->port_lo == 0 && r->port_hi == 65535)
		snprintf(buf, len, "%s -> %s %s", src, dst,
			 policy_proto_name(r->proto));
	else if (r->port_lo == r->port_hi)
		snprintf(buf, len, "%s -> %s %s/%u", src, dst,
			 policy_proto_name(r->proto), r->port_lo);
	else
		snprintf(buf, len, "%s -> %s %s/%u-%u", src, dst,
			 policy_proto_name(r->proto), r->port_lo, r->port_hi);
}

/* Expand one pair entry into rules; profile accepts when it names no proto. */
static uint32_t expand_pair(struct pctx *c, uint32_t pi, struct rule_src *out,
			    uint32_t room)
{
	struct raw_policy *r = c->raw;
	const struct raw_pair *p = &r->pairs[pi];
	const struct raw_vnf *dv;
	const struct raw_profile *prof;
	struct traffic_spec t;
	int src, dst;
	uint32_t n = 0, i, k;

	/* Broken entries have their error already; nothing to expand. */
	if (!p->from[0] || !p->to[0] || (!p->t.has_proto && p->t.n_ports))
		return 0;
	src = vnf_find(c, p->from);
	dst = vnf_find(c, p->to);
	if (src < 0)
		perr(c, p->from_at, "pairs[%u].from: no VNF named '%s'", pi, p->from);
	if (dst < 0)
		perr(c, p->to_at, "pairs[%u].to: no VNF named '%s'", pi, p->to);
	if (src < 0 || dst < 0)
		return 0;
	dv = c->sorted[dst];
	prof = dv->v.type[0] ? profile_find(r, dv->v.type) : NULL;
	for (i = 0;; i++) {
		bool from_profile = !p->t.has_proto;

		if (!from_profile) {
			if (i)
				break;
			t = p->t;
		} else {
			if (!prof) {
				if (!dv->v.type[0])
					perr(c, p->at,
					     "pairs[%u]: VNF '%s' has no type to take ports from: give 'proto' (and 'ports')",
					     pi, p->to);
				return 0;
			}
			if (prof->builtin) {
				if (!profile_builtin_accept(prof->name, i, &t))
					break;
			} else {
				if (i >= prof->n_accepts)
					break;
				t = prof->accepts[i];
			}
			/* "l7: gtp-c" on a pair picks that part of the profile. */
			if (p->t.l7[0] && strcmp(p->t.l7, t.l7))
				continue;
		}
		for (k = 0; k < (t.n_ports ? t.n_ports : 1); k++) {
			struct policy_pair_rule *rule;

			if (n >= room) {
				perr(c, p->at, "pairs[%u]: more than %d rules in all",
				     pi, POLICY_MAX_RULES);
				return n;
			}
			rule = &out[n].r;
			out[n].pair = pi;
			memset(rule, 0, sizeof(*rule));
			rule->src_vnf = (uint16_t)src;
			rule->dst_vnf = (uint16_t)dst;
			rule->proto = t.proto;
			rule->from_profile = from_profile;
			rule->port_lo = t.n_ports ? t.ports[k].lo : 0;
			rule->port_hi = t.n_ports ? t.ports[k].hi : 65535;
			strcpy(rule->l7, from_profile || !p->t.l7[0] ? t.l7 : p->t.l7);
			n++;
		}
	}
	if (!n && prof && p->t.l7[0])
		perr(c, p->at, "pairs[%u]: profile '%s' of VNF '%s' accepts no l7 '%s'",
		     pi, prof->name, p->to, p->t.l7);
	else if (!n && prof)
		perr(c, p->at,
		     "pairs[%u]: profile '%s' of VNF '%s' accepts nothing: give 'proto' (and 'ports')",
		     pi, prof->name, p->to);
	return n;
}

static void check_rules(struct pctx *c, struct rule_src *rs, uint32_t n)
{
	uint32_t i, j, last_i = UINT32_MAX, last_j = UINT32_MAX;
	char text[128];

	for (j = 0; j < n; j++) {
		for (i = 0; i < j; i++) {
			const struct policy_pair_rule *a = &rs[i].r, *b = &rs[j].r;
			const struct raw_pair *pa = &c->raw->pairs[rs[i].pair];

			if (a->src_vnf != b->src_vnf || a->dst_vnf != b->dst_vnf ||
			    !protos_overlap(a->proto, b->proto) ||
			    !ranges_overlap(a->port_lo, a->port_hi, b->port_lo,
					    b->port_hi))
				continue;
			/* One message per pair of entries is enough. */
			if (rs[i].pair == last_i && rs[j].pair == last_j)
				continue;
			last_i = rs[i].pair;
			last_j = rs[j].pair;
			rule_text(c, b, text, sizeof(text));
			if (rs[i].pair == rs[j].pair)
				perr(c, c->raw->pairs[rs[j].pair].at,
				     "pairs[%u]: lists overlapping ports: %s",
				     rs[j].pair, text);
			else if (strcmp(a->l7, b->l7))
				perr(c, c->raw->pairs[rs[j].pair].at,
				     "pairs[%u]: contradicts pairs[%u] (line %zu): %s expects l7 '%s' there and '%s' here",
				     rs[j].pair, rs[i].pair, pa->at.line + 1, text,
				     a->l7[0] ? a->l7 : "any",
				     b->l7[0] ? b->l7 : "any");
			else
				perr(c, c->raw->pairs[rs[j].pair].at,
				     "pairs[%u]: overlaps pairs[%u] (line %zu): %s",
				     rs[j].pair, rs[i].pair, pa->at.line + 1, text);
			break;
		}
	}
}

static void check_prefix_list(struct pctx *c, const char *name,
			      const struct raw_prefix *l, uint32_t n)
{
	char text[64];
	uint32_t i, j;

	for (j = 0; j < n; j++)
		for (i = 0; i < j; i++)
			if (prefix_overlaps(&l[i].p, &l[j].p)) {
				policy_format_prefix(&l[i].p, text, sizeof(text));
				perr(c, l[j].at, "%s[%u]: overlaps %s[%u] %s (line %zu)",
				     name, j, name, i, text, l[i].at.line + 1);
				break;
			}
}

static void check_lists(struct pctx *c)
{
	const struct raw_policy *r = c->raw;
	char text[64];
	uint32_t i, j, a;

	check_prefix_list(c, "blocklist", r->block, r->n_block);
	check_prefix_list(c, "allowlist", r->allow, r->n_allow);
	for (i = 0; i < r->n_block; i++) {
		for (j = 0; j < r->n_allow; j++) {
			if (!prefix_overlaps(&r->block[i].p, &r->allow[j].p))
				continue;
			policy_format_prefix(&r->allow[j].p, text, sizeof(text));
			perr(c, r->block[i].at,
			     "blocklist[%u]: contradicts allowlist[%u] %s (line %zu)",
			     i, j, text, r->allow[j].at.line + 1);
		}
		for (j = 0; j < r->n_vnfs; j++)
			for (a = 0; a < r->vnfs[j].v.n_addrs; a++)
				if (prefix_overlaps(&r->block[i].p,
						    &r->vnfs[j].v.addrs[a]))
					perr(c, r->block[i].at,
					     "blocklist[%u]: blocks addresses of VNF '%s' (line %zu)",
					     i, r->vnfs[j].v.name,
					     r->vnfs[j].addr_at[a].line + 1);
	}
}

static void check_shm(struct pctx *c)
{
	struct raw_policy *r = c->raw;
	uint32_t i, j, k;

	for (i = 0; i < r->n_shm; i++) {
		struct raw_shm *s = &r->shm[i];

		for (j = 0; j < i; j++) {
			if (!strcmp(r->shm[j].r.name, s->r.name))
				perr(c, s->at, "shm[%u].name: duplicate region '%s' (first at line %zu)",
				     i, s->r.name, r->shm[j].at.line + 1);
			else if (s->r.path[0] && !strcmp(r->shm[j].r.path, s->r.path))
				perr(c, s->at, "shm[%u].path: '%s' is already region '%s' (line %zu)",
				     i, s->r.path, r->shm[j].r.name,
				     r->shm[j].at.line + 1);
		}
		for (j = 0; j < s->n_mappers; j++) {
			int v = vnf_find(c, s->mappers[j]);

			if (v < 0) {
				perr(c, s->mapper_at[j],
				     "shm[%u].allowed_mappers[%u]: no VNF named '%s'",
				     i, j, s->mappers[j]);
				continue;
			}
			for (k = 0; k < j; k++)
				if (!strcmp(s->mappers[k], s->mappers[j]))
					break;
			if (k < j) {
				perr(c, s->mapper_at[j],
				     "shm[%u].allowed_mappers[%u]: '%s' is listed twice",
				     i, j, s->mappers[j]);
				continue;
			}
			s->r.mappers[s->r.n_mappers++] = (uint16_t)v;
		}
		for (j = 0; j < s->r.n_ranges; j++)
			for (k = 0; k < j; k++) {
				const struct policy_range *a = &s->r.immutable[k];
				const struct policy_range *b = &s->r.immutable[j];

				if (a->offset < b->offset + b->length &&
				    b->offset < a->offset + a->length) {
					perr(c, s->range_at[j],
					     "shm[%u].immutable[%u]: overlaps immutable[%u] (line %zu)",
					     i, j, k, s->range_at[k].line + 1);
					break;
				}
			}
	}
}

/* The VNFs whose processes the cache monitors follow, by index. */
static void check_cache(struct pctx *c)
{
	struct raw_policy *r = c->raw;
	uint32_t i, k;

	for (i = 0; i < r->n_cache_vnfs; i++) {
		int v = vnf_find(c, r->cache_vnfs[i]);

		if (v < 0) {
			perr(c, r->cache_vnf_at[i],
			     "cache.vnfs[%u]: no VNF named '%s'", i,
			     r->cache_vnfs[i]);
			continue;
		}
		for (k = 0; k < i; k++)
			if (!strcmp(r->cache_vnfs[k], r->cache_vnfs[i]))
				break;
		if (k < i) {
			perr(c, r->cache_vnf_at[i],
			     "cache.vnfs[%u]: '%s' is listed twice", i,
			     r->cache_vnfs[i]);
			continue;
		}
		r->cache.vnfs[r->cache.n_vnfs++] = (uint16_t)v;
	}
}

static int cmp_rule(const void *a, const void *b)
{
	const struct policy_pair_rule *x = a, *y = b;

	if (x->src_vnf != y->src_vnf)
		return x->src_vnf < y->src_vnf ? -1 : 1;
	if (x->dst_vnf != y->dst_vnf)
		return x->dst_vnf < y->dst_vnf ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port_lo != y->port_lo)
		return x->port_lo < y->port_lo ? -1 : 1;
	if (x->port_hi != y->port_hi)
		return x->port_hi < y->port_hi ? -1 : 1;
	return strcmp(x->l7, y->l7);
}

static int cmp_prefix(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

static int cmp_name(const void *a, const void *b)
{
	/* Every named record starts with its name. */
	return strcmp(a, b);
}

static int cmp_iface(const void *a, const void *b)
{
	const struct policy_iface *x = a, *y = b;
	int d = strcmp(x->name, y->name);

	return d ? d : (int)x->vlan - (int)y->vlan;
}

static int cmp_u16(const void *a, const void *b)
{
	return *(const uint16_t *)a - *(const uint16_t *)b;
}

static int cmp_range(const void *a, const void *b)
{
	const struct policy_range *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int build(struct pctx *c, struct rule_src *rs, uint32_t n_rules,
		 struct policy_compiled *p)
{
	const struct raw_policy *r = c->raw;
	uint32_t i;

	p->schema = POLICY_SCHEMA_VERSION;
	p->revision = r->revision;
	strcpy(p->name, r->name);
	p->mode = r->mode;
	p->unparsed = r->unparsed;
	p->l7_unknown = r->l7_unknown;
	p->ethertypes = r->ethertypes;
	thresholds_defaults(&p->thresholds);
	thresholds_merge(&p->thresholds, &r->thr);
	p->cache = r->cache;
	qsort(p->cache.vnfs, p->cache.n_vnfs, sizeof(p->cache.vnfs[0]),
	      cmp_u16);

	p->n_vnfs = r->n_vnfs;
	p->vnfs = calloc(r->n_vnfs ? r->n_vnfs : 1, sizeof(*p->vnfs));
	p->n_rules = n_rules;
	p->rules = calloc(n_rules ? n_rules : 1, sizeof(*p->rules));
	p->n_shm = r->n_shm;
	p->shm = calloc(r->n_shm ? r->n_shm : 1, sizeof(*p->shm));
	p->n_playbooks = r->n_playbooks;
	p->has_playbooks = r->has_playbooks;
	p->playbooks = calloc(r->n_playbooks ? r->n_playbooks : 1,
			      sizeof(*p->playbooks));
	if (!p->vnfs || !p->rules || !p->shm || !p->playbooks)
		return -ENOMEM;

	for (i = 0; i < r->n_vnfs; i++) {
		const struct raw_vnf *v = c->sorted[i];
		const struct raw_profile *prof = profile_find(r, v->v.type);
		struct policy_vnf *o = &p->vnfs[i];

		*o = v->v;
		o->mode = v->has_mode ? v->v.mode : r->mode;
		o->unparsed = v->has_unparsed ? v->v.unparsed : r->unparsed;
		o->l7_unknown = v->has_l7_unknown ? v->v.l7_unknown :
				r->l7_unknown;
		o->ethertypes = v->has_ethertypes ? v->v.ethertypes :
				r->ethertypes;
		o->thresholds = p->thresholds;
		if (prof)
			thresholds_merge(&o->thresholds, &prof->thr);
		thresholds_merge(&o->thresholds, &v->thr);
		qsort(o->addrs, o->n_addrs, sizeof(o->addrs[0]), cmp_prefix);
		qsort(o->ifaces, o->n_ifaces, sizeof(o->ifaces[0]), cmp_iface);
	}
	for (i = 0; i < n_rules; i++)
		p->rules[i] = rs[i].r;
	qsort(p->rules, n_rules, sizeof(*p->rules), cmp_rule);

	p->n_block = r->n_block;
	p->n_allow = r->n_allow;
	p->block = calloc(r->n_block + 1, sizeof(*p->block));
	p->allow = calloc(r->n_allow + 1, sizeof(*p->allow));
	if (!p->block || !p->allow)
		return -ENOMEM;
	for (i = 0; i < r->n_block; i++)
		p->block[i] = r->block[i].p;
	for (i = 0; i < r->n_allow; i++)
		p->allow[i] = r->allow[i].p;
	qsort(p->block, p->n_block, sizeof(*p->block), cmp_prefix);
	qsort(p->allow, p->n_allow, sizeof(*p->allow), cmp_prefix);

	for (i = 0; i < r->n_shm; i++) {
		p->shm[i] = r->shm[i].r;
		qsort(p->shm[i].mappers, p->shm[i].n_mappers,
		      sizeof(p->shm[i].mappers[0]), cmp_u16);
		qsort(p->shm[i].immutable, p->shm[i].n_ranges,
		      sizeof(p->shm[i].immutable[0]), cmp_range);
	}
	qsort(p->shm, p->n_shm, sizeof(*p->shm), cmp_name);
	for (i = 0; i < r->n_playbooks; i++)
		p->playbooks[i] = r->playbooks[i].b;
	qsort(p->playbooks, p->n_playbooks, sizeof(*p->playbooks), cmp_name);
	return 0;
}

int compile_raw(struct pctx *c, struct policy_compiled **out)
{
	struct raw_policy *r = c->raw;
	struct policy_compiled *p = NULL;
	struct rule_src *rs = NULL;
	uint32_t i, n_rules = 0;
	int err;

	c->sorted = calloc(r->n_vnfs + 1, sizeof(*c->sorted));
	rs = calloc(POLICY_MAX_RULES, sizeof(*rs));
	if (!c->sorted || !rs) {
		err = -ENOMEM;
		goto out;
	}
	check_vnfs(c);
	for (i = 0; i < r->n_vnfs; i++)
		c->sorted[i] = &r->vnfs[i];
	qsort(c->sorted, r->n_vnfs, sizeof(*c->sorted), cmp_vnf_ptr);
	for (i = 0; i < r->n_pairs; i++)
		n_rules += expand_pair(c, i, rs + n_rules,
				       POLICY_MAX_RULES - n_rules);
	check_rules(c, rs, n_rules);
	check_lists(c);
	check_shm(c);
	check_cache(c);
	check_playbooks(c);
	if (c->err) {
		err = c->err;
		goto out;
	}
	if (c->n_errors) {
		err = -EINVAL;
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		err = -ENOMEM;
		goto out;
	}
	err = build(c, rs, n_rules, p);
	if (!err)
		err = policy_set_digest(p);
	if (err)
		goto out;
	*out = p;
	p = NULL;
out:
	policy_free(p);
	free(rs);
	free(c->sorted);
	c->sorted = NULL;
	return err;
}
