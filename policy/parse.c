// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy schema, section by section (docs/policy.md). Each section
 * parser fills the raw policy and leaves cross-references (VNF names,
 * profile names) and overlaps to compile.c, which sees the whole file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *last_key(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot ? dot + 1 : path;
}

static size_t seq_len(const yaml_node_t *n)
{
	return n->data.sequence.items.top - n->data.sequence.items.start;
}

#define SEQ_FOR_EACH(c, n, i, item)					\
	for ((i) = 0; (i) < seq_len(n) &&				\
	     ((item) = node_get((c), (n)->data.sequence.items.start[(i)])); \
	     (i)++)

/* --- thresholds ------------------------------------------------------- */

struct thr_field {
	const char *key;
	uint32_t flag;
	uint64_t min, max;
};

static const struct thr_field thr_fields[] = {
	{ "syn_flood_pps", THR_SYN_FLOOD, 0, 10000000 },
	{ "scan_ports", THR_SCAN_PORTS, 0, 65535 },
	{ "scan_window_s", THR_SCAN_WINDOW, 1, 3600 },
	{ "flow_cut_rst_ps", THR_FLOW_CUT, 0, 10000000 },
	{ "rate_pps", THR_RATE, 0, 1000000000 },
	{ "volume_bps", THR_VOLUME, 0, 1000000000000ULL },
	{ "scan_hosts", THR_SCAN_HOSTS, 0, 65535 },
	{ "slow_scan_ports", THR_SLOW_SCAN_PORTS, 0, 65535 },
	{ "slow_scan_hosts", THR_SLOW_SCAN_HOSTS, 0, 65535 },
	{ "slow_scan_window_s", THR_SLOW_SCAN_WINDOW, 1, 86400 },
};

static void thr_field(struct pctx *c, const char *path, yaml_node_t *n,
		      void *obj)
{
	struct thr_set *t = obj;
	const char *key = last_key(path);
	uint64_t x;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(thr_fields); i++)
		if (!strcmp(thr_fields[i].key, key))
			break;
	if (i == ARRAY_SIZE(thr_fields) ||
	    !get_u64(c, path, n, thr_fields[i].min, thr_fields[i].max, &x))
		return;
	t->set |= thr_fields[i].flag;
	switch (thr_fields[i].flag) {
	case THR_SYN_FLOOD:
		t->v.syn_flood_pps = (uint32_t)x;
		break;
	case THR_SCAN_PORTS:
		t->v.scan_ports = (uint32_t)x;
		break;
	case THR_SCAN_WINDOW:
		t->v.scan_window_s = (uint32_t)x;
		break;
	case THR_FLOW_CUT:
		t->v.flow_cut_rst_ps = (uint32_t)x;
		break;
	case THR_RATE:
		t->v.rate_pps = x;
		break;
	case THR_SCAN_HOSTS:
		t->v.scan_hosts = (uint32_t)x;
		break;
	case THR_SLOW_SCAN_PORTS:
		t->v.slow_scan_ports = (uint32_t)x;
		break;
	case THR_SLOW_SCAN_HOSTS:
		t->v.slow_scan_hosts = (uint32_t)x;
		break;
	case THR_SLOW_SCAN_WINDOW:
		t->v.slow_scan_window_s = (uint32_t)x;
		break;
	default:
		t->v.volume_bps = x;
		break;
	}
}

static const struct key_spec thr_keys[] = {
	{ "syn_flood_pps", false, thr_field },
	{ "scan_ports", false, thr_field },
	{ "scan_window_s", false, thr_field },
	{ "flow_cut_rst_ps", false, thr_field },
	{ "rate_pps", false, thr_field },
	{ "volume_bps", false, thr_field },
	{ "scan_hosts", false, thr_field },
	{ "slow_scan_ports", false, thr_field },
	{ "slow_scan_hosts", false, thr_field },
	{ "slow_scan_window_s", false, thr_field },
	{ NULL },
};

static void parse_thr(struct pctx *c, const char *path, yaml_node_t *n,
		      struct thr_set *t)
{
	parse_map(c, path, n, thr_keys, t);
}

/* --- traffic: proto, ports, l7 ----------------------------------------- */

static const char *const proto_names[] = { "any", "icmp", "tcp", "udp", "sctp" };
static const uint8_t proto_values[] = {
	POLICY_PROTO_ANY, POLICY_PROTO_ICMP, POLICY_PROTO_TCP, POLICY_PROTO_UDP,
	POLICY_PROTO_SCTP,
};

static void tr_proto(struct pctx *c, const char *path, yaml_node_t *n,
		     struct traffic_spec *t)
{
	int i;

	if (!get_enum(c, path, n, proto_names, ARRAY_SIZE(proto_names), &i))
		return;
	t->has_proto = true;
	t->proto = proto_values[i];
}

static bool port_num(const char *s, const char *end, uint32_t *out)
{
	uint32_t x = 0;

	if (s == end)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9' || x > 65535)
			return false;
		x = x * 10 + (uint32_t)(*s - '0');
	}
	*out = x;
	return true;
}

static void port_item(struct pctx *c, const char *path, yaml_node_t *n,
		      struct traffic_spec *t)
{
	const char *v, *dash;
	uint32_t lo, hi;

	if (!node_enter(c, n, path))
		return;
	if (n->type != YAML_SCALAR_NODE || node_is_null(n)) {
		perr(c, n->start_mark, "%s: expected a port or 'LO-HI', got %s",
		     path, node_kind(n));
		return;
	}
	v = (const char *)n->data.scalar.value;
	dash = strchr(v, '-');
	if (!dash) {
		if (!port_num(v, v + strlen(v), &lo)) {
			perr(c, n->start_mark, "%s: '%.40s' is not a port or 'LO-HI'",
			     path, v);
			return;
		}
		hi = lo;
	} else if (!port_num(v, dash, &lo) ||
		   !port_num(dash + 1, dash + 1 + strlen(dash + 1), &hi)) {
		perr(c, n->start_mark, "%s: '%.40s' is not a port or 'LO-HI'", path,
		     v);
		return;
	}
	if (lo < 1 || hi > 65535 || lo > 65535) {
		perr(c, n->start_mark, "%s: %.40s is out of range 1..65535", path, v);
		return;
	}
	if (lo > hi) {
		perr(c, n->start_mark, "%s: range %u-%u is reversed", path, lo, hi);
		return;
	}
	if (t->n_ports >= POLICY_MAX_PORTS)
		return;
	t->ports[t->n_ports].lo = (uint16_t)lo;
	t->ports[t->n_ports].hi = (uint16_t)hi;
	t->n_ports++;
}

static void tr_ports(struct pctx *c, const char *path, yaml_node_t *n,
		     struct traffic_spec *t)
{
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	size_t i;

	if (n->type != YAML_SEQUENCE_NODE) {
		port_item(c, path, n, t);
		return;
	}
	if (!expect_seq(c, path, n, POLICY_MAX_PORTS))
		return;
	if (!seq_len(n))
		perr(c, n->start_mark, "%s: empty list (leave 'ports' out for all ports)",
		     path);
	SEQ_FOR_EACH(c, n, i, it) {
		path_index(sub, path, i);
		port_item(c, sub, it, t);
	}
}

static void tr_l7(struct pctx *c, const char *path, yaml_node_t *n,
		  struct traffic_spec *t)
{
	int i;

	if (get_enum(c, path, n, policy_l7_names, policy_n_l7, &i) && i)
		strcpy(t->l7, policy_l7_names[i]);
}

/* Ports only make sense with a protocol that has them. */
static void tr_check(struct pctx *c, const char *path, struct traffic_spec *t)
{
	if (!t->n_ports)
		return;
	if (!t->has_proto)
		perr(c, t->at, "%s: 'ports' needs 'proto: tcp', 'udp' or 'sctp'",
		     path);
	else if (t->proto == POLICY_PROTO_ANY || t->proto == POLICY_PROTO_ICMP)
		perr(c, t->at, "%s: proto %s has no ports", path,
		     policy_proto_name(t->proto));
}

static void acc_proto(struct pctx *c, const char *p, yaml_node_t *n, void *o)
{
	tr_proto(c, p, n, o);
}

static void acc_ports(struct pctx *c, const char *p, yaml_node_t *n, void *o)
{
	tr_ports(c, p, n, o);
}

static void acc_l7(struct pctx *c, const char *p, yaml_node_t *n, void *o)
{
	tr_l7(c, p, n, o);
}

static const struct key_spec accept_keys[] = {
	{ "proto", true, acc_proto },
	{ "ports", false, acc_ports },
	{ "l7", false, acc_l7 },
	{ NULL },
};

/* --- profiles ---------------------------------------------------------- */

static void prof_accepts(struct pctx *c, const char *path, yaml_node_t *n,
			 void *obj)
{
	struct raw_profile *p = obj;
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	size_t i;

	if (!expect_seq(c, path, n, 16))
		return;
	p->accepts = calloc(seq_len(n) + 1, sizeof(*p->accepts));
	if (!p->accepts) {
		c->err = -ENOMEM;
		return;
	}
	SEQ_FOR_EACH(c, n, i, it) {
		struct traffic_spec *t = &p->accepts[p->n_accepts];

		path_index(sub, path, i);
		t->at = it->start_mark;
		if (!parse_map(c, sub, it, accept_keys, t))
			continue;
		tr_check(c, sub, t);
		p->n_accepts++;
	}
}

static void prof_thr(struct pctx *c, const char *path, yaml_node_t *n,
		     void *obj)
{
	parse_thr(c, path, n, &((struct raw_profile *)obj)->thr);
}

static const struct key_spec profile_keys[] = {
	{ "accepts", false, prof_accepts },
	{ "thresholds", false, prof_thr },
	{ NULL },
};

static void parse_profiles(struct pctx *c, const char *path, yaml_node_t *n,
			   void *obj)
{
	struct raw_policy *r = obj;
	yaml_node_pair_t *pr;

	if (!node_enter(c, n, path))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		perr(c, n->start_mark,
		     "%s: expected a mapping of profile names, got %s", path,
		     node_kind(n));
		return;
	}
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *kn = node_get(c, pr->key), *vn = node_get(c, pr->value);
		char name[POLICY_NAME_LEN], sub[POLICY_PATH_MAX];
		struct raw_profile *p = NULL;
		uint32_t i;

		if (!kn || !vn || !get_name(c, path, kn, name, sizeof(name)))
			continue;
		path_join(sub, path, name);
		for (i = 0; i < r->n_profiles; i++)
			if (!strcmp(r->profiles[i].name, name))
				p = &r->profiles[i];
		if (p && !p->builtin) {
			perr(c, kn->start_mark,
			     "%s: duplicate profile (first at line %zu)", sub,
			     p->at.line + 1);
			continue;
		}
		if (!p) {
			if (r->n_profiles >= POLICY_MAX_PROFILES) {
				perr(c, kn->start_mark, "%s: more than %d profiles",
				     sub, POLICY_MAX_PROFILES);
				continue;
			}
			p = &r->profiles[r->n_profiles++];
		}
		/* A policy's own profile replaces a built-in of that name. */
		memset(p, 0, sizeof(*p));
		strcpy(p->name, name);
		p->at = kn->start_mark;
		parse_map(c, sub, vn, profile_keys, p);
	}
}

/* --- vnfs --------------------------------------------------------------- */

static void vnf_name(struct pctx *c, const char *path, yaml_node_t *n, void *o)
{
	struct raw_vnf *v = o;

	get_name(c, path, n, v->v.name, sizeof(v->v.name));
}

static void vnf_type(struct pctx *c, const char *path, yaml_node_t *n, void *o)
{
	struct raw_vnf *v = o;

	v->type_at = n->start_mark;
	get_name(c, path, n, v->v.type, sizeof(v->v.type));
}

static void vnf_mode(struct pctx *c, const char *path, yaml_node_t *n, void *o)
{
	struct raw_vnf *v = o;
	int m;

	if (get_enum(c, path, n, policy_mode_names, 3, &m)) {
		v->v.mode = (enum policy_mode)m;
		v->has_mode = true;
	}
}

static const char *const unparsed_names[] = { "drop", "pass" };
static const char *const ethertype_names[] = { "arp", "lldp", "any" };
static const uint8_t ethertype_bits[] = {
	POLICY_ETH_ARP, POLICY_ETH_LLDP, POLICY_ETH_ANY,
};

static bool get_unparsed(struct pctx *c, const char *path, yaml_node_t *n,
			 enum policy_unparsed *out)
{
	int u;

	if (!get_enum(c, path, n, unparsed_names, 2, &u))
		return false;
	*out = (enum policy_unparsed)u;
	return true;
}

static bool get_l7_unknown(struct pctx *c, const char *path,
			   yaml_node_t *n, enum policy_l7_unknown *out)
{
	int u;

	if (!get_enum(c, path, n, unparsed_names, 2, &u))
		return false;
	*out = (enum policy_l7_unknown)u;
	return true;
}

/* "ethertypes: [arp, lldp]": the non-IP frames that pass. */
static bool get_ethertypes(struct pctx *c, const char *path, yaml_node_t *n,
			   uint8_t *out)
{
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	uint8_t bits = 0;
	bool ok = true;
	size_t i;
	int e;

	if (!expect_seq(c, path, n, 8))
		return false;
	SEQ_FOR_EACH(c, n, i, it) {
		path_index(sub, path, i);
		if (get_enum(c, sub, it, ethertype_names, 3, &e))
			bits |= ethertype_bits[e];
		else
			ok = false;
	}
	if (ok)
		*out = bits;
	return ok;
}

static void vnf_unparsed(struct pctx *c, const char *path, yaml_node_t *n,
			 void *o)
{
	struct raw_vnf *v = o;

	v->has_unparsed = get_unparsed(c, path, n, &v->v.unparsed);
}

static void vnf_l7_unknown(struct pctx *c, const char *path,
			   yaml_node_t *n, void *o)
{
	struct raw_vnf *v = o;

	v->has_l7_unknown = get_l7_unknown(c, path, n, &v->v.l7_unknown);
}

static void vnf_ethertypes(struct pctx *c, const char *path, yaml_node_t *n,
			   void *o)
{
	struct raw_vnf *v = o;

	v->has_ethertypes = get_ethertypes(c, path, n, &v->v.ethertypes);
}

static void vnf_netns(struct pctx *c, const char *path, yaml_node_t *n,
		      void *o)
{
	struct raw_vnf *v = o;

	get_name(c, path, n, v->v.netns, sizeof(v->v.netns));
}

static void if_name(struct pctx *c, const char *path, yaml_node_t *n, void *o)
{
	struct policy_iface *i = o;

	get_name(c, path, n, i->name, sizeof(i->name));
}

static void if_vlan(struct pctx *c, const char *path, yaml_node_t *n, void *o)
{
	struct policy_iface *i = o;
	uint32_t x;

	if (get_u32(c, path, n, 1, 4094, &x))
		i->vlan = (uint16_t)x;
}

static const struct key_spec iface_keys[] = {
	{ "name", true, if_name },
	{ "vlan", false, if_vlan },
	{ NULL },
};

static void vnf_ifaces(struct pctx *c, const char *path, yaml_node_t *n,
		       void *o)
{
	struct raw_vnf *v = o;
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	size_t i;

	if (!expect_seq(c, path, n, POLICY_MAX_IFACES))
		return;
	SEQ_FOR_EACH(c, n, i, it) {
		struct policy_iface *f = &v->v.ifaces[v->v.n_ifaces];

		path_index(sub, path, i);
		v->iface_at[v->v.n_ifaces] = it->start_mark;
		/* "- veth-sgw" is short for "- {name: veth-sgw}". */
		if (it->type == YAML_SCALAR_NODE) {
			if (!get_name(c, sub, it, f->name, sizeof(f->name)))
				continue;
		} else if (!parse_map(c, sub, it, iface_keys, f) || !f->name[0]) {
			continue;
		}
		v->v.n_ifaces++;
	}
}

static void vnf_addrs(struct pctx *c, const char *path, yaml_node_t *n,
		      void *o)
{
	struct raw_vnf *v = o;
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	size_t i;

	if (!expect_seq(c, path, n, POLICY_MAX_ADDRS))
		return;
	SEQ_FOR_EACH(c, n, i, it) {
		path_index(sub, path, i);
		v->addr_at[v->v.n_addrs] = it->start_mark;
		if (get_prefix(c, sub, it, &v->v.addrs[v->v.n_addrs]))
			v->v.n_addrs++;
	}
}

static void vnf_thr(struct pctx *c, const char *path, yaml_node_t *n, void *o)
{
	parse_thr(c, path, n, &((struct raw_vnf *)o)->thr);
}

static const struct key_spec vnf_keys[] = {
	{ "name", true, vnf_name },
	{ "type", false, vnf_type },
	{ "mode", false, vnf_mode },
	{ "unparsed", false, vnf_unparsed },
	{ "l7_unknown", false, vnf_l7_unknown },
	{ "ethertypes", false, vnf_ethertypes },
	{ "namespace", false, vnf_netns },
	{ "interfaces", false, vnf_ifaces },
	{ "addresses", false, vnf_addrs },
	{ "thresholds", false, vnf_thr },
	{ NULL },
};

static void parse_vnfs(struct pctx *c, const char *path, yaml_node_t *n,
		       void *obj)
{
	struct raw_policy *r = obj;
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	size_t i;

	if (!expect_seq(c, path, n, POLICY_MAX_VNFS))
		return;
	r->vnfs = calloc(seq_len(n) + 1, sizeof(*r->vnfs));
	if (!r->vnfs) {
		c->err = -ENOMEM;
		return;
	}
	SEQ_FOR_EACH(c, n, i, it) {
		struct raw_vnf *v = &r->vnfs[r->n_vnfs];

		path_index(sub, path, i);
		v->at = it->start_mark;
		v->index = (uint32_t)i;
		if (parse_map(c, sub, it, vnf_keys, v) && v->v.name[0])
			r->n_vnfs++;
		else
			memset(v, 0, sizeof(*v));
	}
}

/* --- pairs --------------------------------------------------------------- */

static void pair_from(struct pctx *c, const char *path, yaml_node_t *n,
		      void *o)
{
	struct raw_pair *p = o;

	p->from_at = n->start_mark;
	get_name(c, path, n, p->from, sizeof(p->from));
}

static void pair_to(struct pctx *c, const char *path, yaml_node_t *n, void *o)
{
	struct raw_pair *p = o;

	p->to_at = n->start_mark;
	get_name(c, path, n, p->to, sizeof(p->to));
}

static void pair_proto(struct pctx *c, const char *p, yaml_node_t *n, void *o)
{
	tr_proto(c, p, n, &((struct raw_pair *)o)->t);
}

static void pair_ports(struct pctx *c, const char *p, yaml_node_t *n, void *o)
{
	tr_ports(c, p, n, &((struct raw_pair *)o)->t);
}

static void pair_l7(struct pctx *c, const char *p, yaml_node_t *n, void *o)
{
	tr_l7(c, p, n, &((struct raw_pair *)o)->t);
}

static const struct key_spec pair_keys[] = {
	{ "from", true, pair_from },
	{ "to", true, pair_to },
	{ "proto", false, pair_proto },
	{ "ports", false, pair_ports },
	{ "l7", false, pair_l7 },
	{ NULL },
};

static void parse_pairs(struct pctx *c, const char *path, yaml_node_t *n,
			void *obj)
{
	struct raw_policy *r = obj;
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	size_t i;

	if (!expect_seq(c, path, n, POLICY_MAX_RULES))
		return;
	r->pairs = calloc(seq_len(n) + 1, sizeof(*r->pairs));
	if (!r->pairs) {
		c->err = -ENOMEM;
		return;
	}
	SEQ_FOR_EACH(c, n, i, it) {
		struct raw_pair *p = &r->pairs[r->n_pairs];

		path_index(sub, path, i);
		p->at = p->t.at = it->start_mark;
		if (!parse_map(c, sub, it, pair_keys, p))
			continue;
		tr_check(c, sub, &p->t);
		r->n_pairs++;
	}
}

/* --- block and allow lists --------------------------------------------- */

static void parse_prefixes(struct pctx *c, const char *path, yaml_node_t *n,
			   struct raw_prefix **out, uint32_t *count)
{
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	size_t i;

	if (!expect_seq(c, path, n, POLICY_MAX_PREFIXES))
		return;
	*out = calloc(seq_len(n) + 1, sizeof(**out));
	if (!*out) {
		c->err = -ENOMEM;
		return;
	}
	SEQ_FOR_EACH(c, n, i, it) {
		path_index(sub, path, i);
		(*out)[*count].at = it->start_mark;
		if (get_prefix(c, sub, it, &(*out)[*count].p))
			(*count)++;
	}
}

static void parse_block(struct pctx *c, const char *path, yaml_node_t *n,
			void *obj)
{
	struct raw_policy *r = obj;

	parse_prefixes(c, path, n, &r->block, &r->n_block);
}

static void parse_allow(struct pctx *c, const char *path, yaml_node_t *n,
			void *obj)
{
	struct raw_policy *r = obj;

	parse_prefixes(c, path, n, &r->allow, &r->n_allow);
}

/* --- shared memory -------------------------------------------------------- */

static void shm_name(struct pctx *c, const char *path, yaml_node_t *n, void *o)
{
	struct raw_shm *s = o;

	get_name(c, path, n, s->r.name, sizeof(s->r.name));
}

static void shm_path(struct pctx *c, const char *path, yaml_node_t *n, void *o)
{
	struct raw_shm *s = o;

	if (!get_str(c, path, n, s->r.path, sizeof(s->r.path)))
		return;
	if (s->r.path[0] != '/') {
		perr(c, n->start_mark, "%s: '%s' is not an absolute path", path,
		     s->r.path);
		s->r.path[0] = '\0';
	}
}

static void shm_mappers(struct pctx *c, const char *path, yaml_node_t *n,
			void *o)
{
	struct raw_shm *s = o;
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	size_t i;

	if (!expect_seq(c, path, n, POLICY_MAX_MAPPERS))
		return;
	if (!seq_len(n))
		perr(c, n->start_mark,
		     "%s: empty list: name at least one VNF that may map the region",
		     path);
	SEQ_FOR_EACH(c, n, i, it) {
		path_index(sub, path, i);
		s->mapper_at[s->n_mappers] = it->start_mark;
		if (get_name(c, sub, it, s->mappers[s->n_mappers],
			     POLICY_NAME_LEN))
			s->n_mappers++;
	}
}

static void rng_offset(struct pctx *c, const char *path, yaml_node_t *n,
		       void *o)
{
	get_u64(c, path, n, 0, 1ULL << 48, &((struct policy_range *)o)->offset);
}

static void rng_length(struct pctx *c, const char *path, yaml_node_t *n,
		       void *o)
{
	get_u64(c, path, n, 1, 1ULL << 48, &((struct policy_range *)o)->length);
}

static const struct key_spec range_keys[] = {
	{ "offset", true, rng_offset },
	{ "length", true, rng_length },
	{ NULL },
};

static void shm_immutable(struct pctx *c, const char *path, yaml_node_t *n,
			  void *o)
{
	struct raw_shm *s = o;
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	size_t i;

	if (!expect_seq(c, path, n, POLICY_MAX_RANGES))
		return;
	SEQ_FOR_EACH(c, n, i, it) {
		struct policy_range *rg = &s->r.immutable[s->r.n_ranges];

		path_index(sub, path, i);
		s->range_at[s->r.n_ranges] = it->start_mark;
		if (parse_map(c, sub, it, range_keys, rg) && rg->length)
			s->r.n_ranges++;
	}
}

static const struct key_spec shm_keys[] = {
	{ "name", true, shm_name },
	{ "path", true, shm_path },
	{ "allowed_mappers", true, shm_mappers },
	{ "immutable", false, shm_immutable },
	{ NULL },
};

static void parse_shm(struct pctx *c, const char *path, yaml_node_t *n,
		      void *obj)
{
	struct raw_policy *r = obj;
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	size_t i;

	if (!expect_seq(c, path, n, POLICY_MAX_SHM))
		return;
	r->shm = calloc(seq_len(n) + 1, sizeof(*r->shm));
	if (!r->shm) {
		c->err = -ENOMEM;
		return;
	}
	SEQ_FOR_EACH(c, n, i, it) {
		struct raw_shm *s = &r->shm[r->n_shm];

		path_index(sub, path, i);
		s->at = it->start_mark;
		if (parse_map(c, sub, it, shm_keys, s) && s->r.name[0])
			r->n_shm++;
		else
			memset(s, 0, sizeof(*s));
	}
}

/* --- cache ---------------------------------------------------------------- */

static const char *const cache_counter_names[] = {
	"llc_misses", "cache_misses", "page_faults", "context_switches",
};

const char *policy_cache_counter_name(uint32_t counter)
{
	return counter < ARRAY_SIZE(cache_counter_names) ?
	       cache_counter_names[counter] : "?";
}

static void cache_field(struct pctx *c, const char *path, yaml_node_t *n,
			void *o)
{
	struct raw_policy *r = o;
	struct policy_cache *k = &r->cache;
	const char *key = last_key(path);
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	size_t i;
	int t;

	if (!strcmp(key, "counter")) {
		if (get_enum(c, path, n, cache_counter_names,
			     ARRAY_SIZE(cache_counter_names), &t))
			k->counter = (uint32_t)t;
	} else if (!strcmp(key, "vnfs")) {
		if (!expect_seq(c, path, n, POLICY_MAX_CACHE_VNFS))
			return;
		SEQ_FOR_EACH(c, n, i, it) {
			path_index(sub, path, i);
			r->cache_vnf_at[r->n_cache_vnfs] = it->start_mark;
			if (get_name(c, sub, it, r->cache_vnfs[r->n_cache_vnfs],
				     POLICY_NAME_LEN))
				r->n_cache_vnfs++;
		}
	} else if (!strcmp(key, "llc_miss_pct")) {
		/* Known, so the operator learns why rather than "unknown". */
		perr(c, n->start_mark,
		     "%s: not supported: a monitor counts one event, not an LLC miss ratio; use counter: llc_misses with flush_per_s",
		     path);
	} else if (!strcmp(key, "flush_per_s"))
		get_u32(c, path, n, 0, 10000000, &k->flush_per_s);
	else
		get_u32(c, path, n, 1, 3600, &k->window_s);
}

static const struct key_spec cache_keys[] = {
	{ "llc_miss_pct", false, cache_field },
	{ "flush_per_s", false, cache_field },
	{ "window_s", false, cache_field },
	{ "counter", false, cache_field },
	{ "vnfs", false, cache_field },
	{ NULL },
};

static void parse_cache(struct pctx *c, const char *path, yaml_node_t *n,
			void *obj)
{
	parse_map(c, path, n, cache_keys, obj);
}

/* --- root ------------------------------------------------------------------ */

static void root_version(struct pctx *c, const char *path, yaml_node_t *n,
			 void *obj)
{
	struct raw_policy *r = obj;
	uint32_t v;

	if (!get_u32(c, path, n, 0, UINT32_MAX, &v))
		return;
	if (v != POLICY_SCHEMA_VERSION) {
		perr(c, n->start_mark,
		     "%s: schema version %u is not supported (this build reads %d)",
		     path, v, POLICY_SCHEMA_VERSION);
		return;
	}
	r->has_version = true;
}

static void root_name(struct pctx *c, const char *path, yaml_node_t *n,
		      void *obj)
{
	struct raw_policy *r = obj;

	get_name(c, path, n, r->name, sizeof(r->name));
}

static void root_revision(struct pctx *c, const char *path, yaml_node_t *n,
			  void *obj)
{
	get_u64(c, path, n, 0, UINT64_MAX, &((struct raw_policy *)obj)->revision);
}

static void root_mode(struct pctx *c, const char *path, yaml_node_t *n,
		      void *obj)
{
	struct raw_policy *r = obj;
	int m;

	if (get_enum(c, path, n, policy_mode_names, 3, &m))
		r->mode = (enum policy_mode)m;
}

static void root_unparsed(struct pctx *c, const char *path, yaml_node_t *n,
			  void *obj)
{
	get_unparsed(c, path, n, &((struct raw_policy *)obj)->unparsed);
}

static void root_l7_unknown(struct pctx *c, const char *path,
			    yaml_node_t *n, void *obj)
{
	get_l7_unknown(c, path, n, &((struct raw_policy *)obj)->l7_unknown);
}

static void root_ethertypes(struct pctx *c, const char *path,
			    yaml_node_t *n, void *obj)
{
	get_ethertypes(c, path, n, &((struct raw_policy *)obj)->ethertypes);
}

static void root_thr(struct pctx *c, const char *path, yaml_node_t *n,
		     void *obj)
{
	parse_thr(c, path, n, &((struct raw_policy *)obj)->thr);
}

static const struct key_spec root_keys[] = {
	{ "version", true, root_version },
	{ "name", false, root_name },
	{ "revision", false, root_revision },
	{ "mode", false, root_mode },
	{ "unparsed", false, root_unparsed },
	{ "l7_unknown", false, root_l7_unknown },
	{ "ethertypes", false, root_ethertypes },
	{ "thresholds", false, root_thr },
	{ "cache", false, parse_cache },
	{ "profiles", false, parse_profiles },
	{ "vnfs", false, parse_vnfs },
	{ "pairs", false, parse_pairs },
	{ "blocklist", false, parse_block },
	{ "allowlist", false, parse_allow },
	{ "shm", false, parse_shm },
	{ "playbooks", false, parse_playbooks },
	{ NULL },
};

/*
 * Every key the parser accepts, by section, from the tables above: the
 * docs' field table is checked against this (selftests/policy), so a key
 * added here without a row there fails a test.
 */
static const struct {
	const char *section;
	const struct key_spec *keys;
} schema_sections[] = {
	{ "", root_keys },
	{ "thresholds", thr_keys },
	{ "cache", cache_keys },
	{ "profiles.*", profile_keys },
	{ "profiles.*.accepts[]", accept_keys },
	{ "vnfs[]", vnf_keys },
	{ "vnfs[].interfaces[]", iface_keys },
	{ "pairs[]", pair_keys },
	{ "shm[]", shm_keys },
	{ "shm[].immutable[]", range_keys },
	{ "playbooks[]", playbook_keys },
	{ "playbooks[].actions[]", action_keys },
};

void policy_schema_each(void (*fn)(void *ctx, const char *section,
				   const char *key),
			void *ctx)
{
	const struct key_spec *k;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(schema_sections); i++)
		for (k = schema_sections[i].keys; k->key; k++)
			fn(ctx, schema_sections[i].section, k->key);
}

void parse_root(struct pctx *c, yaml_node_t *root)
{
	/* Safe default: a policy that does not say detects but never drops. */
	c->raw->mode = POLICY_MODE_MONITOR;
	/* IPv4 needs ARP; "ethertypes: []" refuses it too. */
	c->raw->ethertypes = POLICY_ETH_DEFAULT;
	parse_map(c, "", root, root_keys, c->raw);
}

void raw_policy_free(struct raw_policy *r)
{
	uint32_t i;

	for (i = 0; i < r->n_profiles; i++)
		free(r->profiles[i].accepts);
	free(r->vnfs);
	free(r->pairs);
	free(r->block);
	free(r->allow);
	free(r->shm);
	free(r->playbooks);
}
