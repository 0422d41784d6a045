// SPDX-License-Identifier: GPL-2.0-only
/*
 * Learn mode's last step: turn the flows the agent observed into a policy
 * the operator can read, edit and apply. The proposal is emitted with
 * libyaml and is itself a valid policy (the tests load it back), in
 * monitor mode: nothing is dropped until the operator says protect.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/internal.h"

struct learned {
	int src, dst;			/* indices into the sorted VNFs */
	uint8_t proto;
	uint16_t dport;
	char l7[POLICY_L7_LEN];
	uint64_t bytes;
};

struct lctx {
	yaml_emitter_t e;
	int err;
	const struct policy_vnf **by_name;	/* the input VNFs, sorted */
};

static int cmp_vnf(const void *a, const void *b)
{
	return strcmp((*(const struct policy_vnf *const *)a)->name,
		      (*(const struct policy_vnf *const *)b)->name);
}

static int owner(const struct lctx *l, const struct policy_learn_input *in,
		 const struct policy_prefix *a)
{
	uint32_t i, k;

	for (i = 0; i < in->n_vnfs; i++)
		for (k = 0; k < l->by_name[i]->n_addrs; k++)
			if (prefix_overlaps(&l->by_name[i]->addrs[k], a))
				return (int)i;
	return -1;
}

static int cmp_learned(const void *a, const void *b)
{
	const struct learned *x = a, *y = b;

	if (x->src != y->src)
		return x->src - y->src;
	if (x->dst != y->dst)
		return x->dst - y->dst;
	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (strcmp(x->l7, y->l7))
		return strcmp(x->l7, y->l7);
	return x->dport - y->dport;
}

static void ev(struct lctx *l, yaml_event_t *e, int ok)
{
	if (!ok) {
		l->err = -ENOMEM;
		return;
	}
	if (!l->err && !yaml_emitter_emit(&l->e, e))
		l->err = -EIO;
	else if (l->err)
		yaml_event_delete(e);
}

static void scalar(struct lctx *l, const char *s)
{
	yaml_event_t e;

	ev(l, &e, yaml_scalar_event_initialize(&e, NULL, NULL,
			(yaml_char_t *)s, (int)strlen(s), 1, 1,
			YAML_PLAIN_SCALAR_STYLE));
}

static void number(struct lctx *l, uint64_t x)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)x);
	scalar(l, buf);
}

static void map_start(struct lctx *l, bool flow)
{
	yaml_event_t e;

	ev(l, &e, yaml_mapping_start_event_initialize(&e, NULL, NULL, 1,
			flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE));
}

static void map_end(struct lctx *l)
{
	yaml_event_t e;

	ev(l, &e, yaml_mapping_end_event_initialize(&e));
}

static void seq_start(struct lctx *l, bool flow)
{
	yaml_event_t e;

	ev(l, &e, yaml_sequence_start_event_initialize(&e, NULL, NULL, 1,
			flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE));
}

static void seq_end(struct lctx *l)
{
	yaml_event_t e;

	ev(l, &e, yaml_sequence_end_event_initialize(&e));
}

/*
 * What one VNF received while learning: totals, and the sum over its
 * flows of each flow's own rate (packets or bytes over its lifetime, at
 * least a second). The mean over the whole period hides bursts (a few
 * seconds of traffic in ten minutes averages to almost nothing); the sum
 * of flow rates is what its flows carry when they all run at once, an
 * estimate of the peak from above.
 */
struct intake {
	uint64_t bytes, pkts;
	uint64_t bps, pps;		/* sums of per-flow rates */
};

static uint64_t headroom(uint64_t peak, uint64_t pct, uint64_t floor,
			 uint64_t max)
{
	uint64_t x = peak > max / pct ? max : peak * pct / 100 + 1;

	return x < floor ? floor : x > max ? max : x;
}

static void emit_vnf(struct lctx *l, const struct policy_learn_input *in,
		     const struct policy_vnf *v, const struct intake *t)
{
	uint32_t i, dur = in->duration_s ? in->duration_s : 1;
	uint64_t pct = in->headroom_pct ? in->headroom_pct :
		       POLICY_LEARN_HEADROOM_PCT;
	char a[64];

	map_start(l, false);
	scalar(l, "name");
	scalar(l, v->name);
	if (v->type[0]) {
		scalar(l, "type");
		scalar(l, v->type);
	}
	if (v->netns[0]) {
		scalar(l, "namespace");
		scalar(l, v->netns);
	}
	if (v->n_ifaces) {
		scalar(l, "interfaces");
		seq_start(l, true);
		for (i = 0; i < v->n_ifaces; i++) {
			if (!v->ifaces[i].vlan) {
				scalar(l, v->ifaces[i].name);
				continue;
			}
			map_start(l, true);
			scalar(l, "name");
			scalar(l, v->ifaces[i].name);
			scalar(l, "vlan");
			number(l, v->ifaces[i].vlan);
			map_end(l);
		}
		seq_end(l);
	}
	if (v->n_addrs) {
		scalar(l, "addresses");
		seq_start(l, true);
		for (i = 0; i < v->n_addrs; i++) {
			policy_format_prefix(&v->addrs[i], a, sizeof(a));
			scalar(l, a);
		}
		seq_end(l);
	}
	/* Limits: the peak seen, with headroom, never under the floors. */
	if (t->bytes) {
		uint64_t pps = t->pps > t->pkts / dur ? t->pps : t->pkts / dur;
		uint64_t bps = t->bps > t->bytes / dur ? t->bps : t->bytes / dur;

		scalar(l, "thresholds");
		map_start(l, true);
		scalar(l, "rate_pps");
		number(l, headroom(pps, pct, POLICY_LEARN_FLOOR_PPS,
				   1000000000));
		scalar(l, "volume_bps");
		number(l, headroom(bps, pct, POLICY_LEARN_FLOOR_BPS,
				   1000000000000ULL));
		map_end(l);
	}
	map_end(l);
}

/*
 * The running policy's global thresholds, all of them: a 0 is a detector
 * the operator turned off, which the proposal must not turn back on.
 */
static void emit_thresholds(struct lctx *l, const struct policy_thresholds *t)
{
	const struct {
		const char *key;
		uint64_t value;
	} f[] = {
		{ "syn_flood_pps", t->syn_flood_pps },
		{ "scan_ports", t->scan_ports },
		{ "scan_window_s", t->scan_window_s },
		{ "flow_cut_rst_ps", t->flow_cut_rst_ps },
		{ "rate_pps", t->rate_pps },
		{ "volume_bps", t->volume_bps },
		{ "scan_hosts", t->scan_hosts },
		{ "slow_scan_ports", t->slow_scan_ports },
		{ "slow_scan_hosts", t->slow_scan_hosts },
		{ "slow_scan_window_s", t->slow_scan_window_s },
	};
	size_t i;

	scalar(l, "thresholds");
	map_start(l, true);
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		/* Windows cannot be 0: a zeroed struct (tests) has none. */
		if (!f[i].value && strstr(f[i].key, "window"))
			continue;
		scalar(l, f[i].key);
		number(l, f[i].value);
	}
	map_end(l);
}

static void emit_prefixes(struct lctx *l, const char *key,
			  const struct policy_prefix *p, uint32_t n)
{
	char a[64];
	uint32_t i;

	if (!n)
		return;
	scalar(l, key);
	seq_start(l, true);
	for (i = 0; i < n; i++) {
		policy_format_prefix(&p[i], a, sizeof(a));
		scalar(l, a);
	}
	seq_end(l);
}

static bool known_l7(const char *s, char *out)
{
	size_t i;

	for (i = 1; i < policy_n_l7; i++)
		if (!strcasecmp(s, policy_l7_names[i])) {
			strcpy(out, policy_l7_names[i]);
			return true;
		}
	out[0] = '\0';
	return false;
}

static void emit_pairs(struct lctx *l, struct learned *f, size_t n)
{
	size_t i = 0, j;

	seq_start(l, false);
	while (i < n) {
		bool ports = f[i].proto == POLICY_PROTO_TCP ||
			     f[i].proto == POLICY_PROTO_UDP ||
			     f[i].proto == POLICY_PROTO_SCTP;

		for (j = i + 1; j < n && f[j].src == f[i].src &&
		     f[j].dst == f[i].dst && f[j].proto == f[i].proto &&
		     !strcmp(f[j].l7, f[i].l7) &&
		     j - i < POLICY_MAX_PORTS; j++)
			;
		map_start(l, false);
		scalar(l, "from");
		scalar(l, l->by_name[f[i].src]->name);
		scalar(l, "to");
		scalar(l, l->by_name[f[i].dst]->name);
		scalar(l, "proto");
		scalar(l, policy_proto_name(f[i].proto));
		if (ports) {
			size_t k;

			scalar(l, "ports");
			seq_start(l, true);
			for (k = i; k < j; k++)
				number(l, f[k].dport);
			seq_end(l);
		}
		if (f[i].l7[0]) {
			scalar(l, "l7");
			scalar(l, f[i].l7);
		}
		map_end(l);
		i = ports ? j : i + 1;
		while (!ports && i < n && f[i].src == f[i - 1].src &&
		       f[i].dst == f[i - 1].dst && f[i].proto == f[i - 1].proto)
			i++;
	}
	seq_end(l);
}

/* A flow's ends and when it ran: what finding its request needs. */
struct flow_end_key {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t proto;
	uint8_t pad[3];
	uint64_t first_ns, last_ns;	/* not compared */
	bool opens;			/* a POLICY_FLOW_OPENS one among them */
};

#define END_KEY_CMP_LEN	offsetof(struct flow_end_key, first_ns)

static int cmp_end_key(const void *a, const void *b)
{
	return memcmp(a, b, END_KEY_CMP_LEN);
}

static void end_key(const struct policy_observed_flow *f, bool reverse,
		    struct flow_end_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->src, reverse ? f->dst.addr : f->src.addr, 16);
	memcpy(k->dst, reverse ? f->src.addr : f->dst.addr, 16);
	k->sport = reverse ? f->dport : f->sport;
	k->dport = reverse ? f->sport : f->dport;
	k->proto = f->proto;
	k->first_ns = f->first_ns;
	k->last_ns = f->last_ns;
	k->opens = f->role == POLICY_FLOW_OPENS;
}

/*
 * Every flow's ends, sorted, one entry per ends: the earliest start and
 * the latest packet of the flows (or sightings of one flow: ingress and
 * egress, the tables and the records) with those ends. NULL (no memory):
 * none is taken for a reply. *n: the entries.
 */
static struct flow_end_key *flow_ends(const struct policy_learn_input *in,
				      size_t *n)
{
	struct flow_end_key *keys = calloc(in->n_flows + 1, sizeof(*keys));
	size_t i, m = 0;

	*n = 0;
	if (!keys)
		return NULL;
	for (i = 0; i < in->n_flows; i++)
		end_key(&in->flows[i], false, &keys[i]);
	qsort(keys, in->n_flows, sizeof(*keys), cmp_end_key);
	for (i = 0; i < in->n_flows; i++) {
		struct flow_end_key *k = m ? &keys[m - 1] : NULL;

		if (!k || cmp_end_key(k, &keys[i])) {
			keys[m++] = keys[i];
			continue;
		}
		if (keys[i].first_ns &&
		    (!k->first_ns || keys[i].first_ns < k->first_ns))
			k->first_ns = keys[i].first_ns;
		if (keys[i].last_ns > k->last_ns)
			k->last_ns = keys[i].last_ns;
		k->opens |= keys[i].opens;
	}
	*n = m;
	return keys;
}

/*
 * Did the sensor see @f's ends open to its destination port (@reverse:
 * the other way, to its source port)? Openings come without a source
 * port (user/agent/learn.h).
 */
static bool seen_opening(const struct flow_end_key *keys, size_t n,
			 const struct policy_observed_flow *f, bool reverse)
{
	const struct flow_end_key *r;
	struct flow_end_key k;

	end_key(f, reverse, &k);
	k.sport = 0;
	r = bsearch(&k, keys, n, sizeof(k), cmp_end_key);
	return r && r->opens;
}

/* See POLICY_FLOW_JUDGE. */
static bool is_reply(const struct flow_end_key *keys, size_t n,
		     const struct policy_observed_flow *f)
{
	const uint64_t ttl = POLICY_LEARN_REPLY_S * 1000000000ULL;
	const struct flow_end_key *r;
	struct flow_end_key k;

	if (f->role != POLICY_FLOW_JUDGE)
		return f->role == POLICY_FLOW_ANSWERS;
	if (!keys || !f->sport || !f->first_ns ||
	    (f->proto != POLICY_PROTO_UDP && f->proto != POLICY_PROTO_TCP &&
	     f->proto != POLICY_PROTO_SCTP))
		return false;
	end_key(f, true, &k);
	r = bsearch(&k, keys, n, sizeof(k), cmp_end_key);
	if (!r || !r->first_ns || r->first_ns > f->first_ns ||
	    f->first_ns >= (r->last_ns > r->first_ns ? r->last_ns :
				    r->first_ns) + ttl)
		return false;
	if (r->first_ns < f->first_ns)
		return true;
	/*
	 * Started in the same tick of the sensor's clock (the fast path's is
	 * coarse): the request is the side seen opening, if only one was.
	 */
	return seen_opening(keys, n, f, true) && !seen_opening(keys, n, f, false);
}

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, (*(const struct policy_vnf *const *)elem)->name);
}

/* A flow's end: its VNF by the sensor's name, else by its address. */
static int end_owner(const struct lctx *l, const struct policy_learn_input *in,
		     const char *name, const struct policy_prefix *a)
{
	const struct policy_vnf *const *v;

	if (!name[0])
		return owner(l, in, a);
	v = bsearch(name, l->by_name, in->n_vnfs, sizeof(*v), cmp_name);
	return v ? (int)(v - l->by_name) : owner(l, in, a);
}

/*
 * One rule per (pair, proto, port): when flows disagree about the L7
 * protocol on one port, the one that carried most bytes wins, so the
 * proposal never contradicts itself.
 */
static size_t collect(const struct lctx *l,
		      const struct policy_learn_input *in, struct learned *out,
		      struct intake *intake, uint32_t *unmatched)
{
	size_t n = 0, i, k, n_ends;
	struct flow_end_key *ends = flow_ends(in, &n_ends);
	uint64_t ms;

	for (i = 0; i < in->n_flows; i++) {
		const struct policy_observed_flow *fl = &in->flows[i];
		int s = end_owner(l, in, fl->src_vnf, &fl->src);
		int d = end_owner(l, in, fl->dst_vnf, &fl->dst);
		struct learned x = { 0 };

		/* The schema names these protocols only; others stay out. */
		if (s < 0 || d < 0 ||
		    (fl->proto != POLICY_PROTO_TCP && fl->proto != POLICY_PROTO_UDP &&
		     fl->proto != POLICY_PROTO_SCTP && fl->proto != POLICY_PROTO_ICMP)) {
			(*unmatched)++;
			continue;
		}
		x.src = s;
		x.dst = d;
		x.proto = fl->proto;
		x.dport = fl->proto == POLICY_PROTO_TCP || fl->proto == POLICY_PROTO_UDP ||
			  fl->proto == POLICY_PROTO_SCTP ? fl->dport : 0;
		known_l7(fl->l7, x.l7);
		x.bytes = fl->bytes;
		intake[d].bytes += fl->bytes;
		intake[d].pkts += fl->packets;
		ms = fl->duration_ms > 1000 ? fl->duration_ms : 1000;
		intake[d].bps += fl->bytes * 1000 / ms;
		intake[d].pps += fl->packets * 1000 / ms;
		if (is_reply(ends, n_ends, fl))
			continue;	/* its request's rule covers it */
		for (k = 0; k < n; k++)
			if (out[k].src == s && out[k].dst == d &&
			    out[k].proto == x.proto && out[k].dport == x.dport)
				break;
		if (k == n) {
			if (n == POLICY_MAX_RULES) {
				(*unmatched)++;
				continue;
			}
			out[n++] = x;
			continue;
		}
		if (strcmp(out[k].l7, x.l7)) {
			uint64_t theirs = out[k].bytes;

			if (x.bytes > theirs || (!out[k].l7[0] && x.l7[0]))
				strcpy(out[k].l7, x.l7);
		}
		out[k].bytes += x.bytes;
	}
	free(ends);
	qsort(out, n, sizeof(*out), cmp_learned);
	return n;
}

int policy_propose(const struct policy_learn_input *in, char **yaml,
		   size_t *len, uint32_t *unmatched)
{
	struct learned *fl = NULL;
	struct intake *intake = NULL;
	struct lctx l = { 0 };
	yaml_event_t e;
	uint32_t i;
	size_t n;
	FILE *f = NULL;

	*yaml = NULL;
	*len = 0;
	*unmatched = 0;
	if (in->n_vnfs > POLICY_MAX_VNFS)
		return -E2BIG;
	l.by_name = calloc(in->n_vnfs + 1, sizeof(*l.by_name));
	fl = calloc(POLICY_MAX_RULES, sizeof(*fl));
	intake = calloc(in->n_vnfs + 1, sizeof(*intake));
	if (!l.by_name || !fl || !intake) {
		l.err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < in->n_vnfs; i++)
		l.by_name[i] = &in->vnfs[i];
	qsort(l.by_name, in->n_vnfs, sizeof(*l.by_name), cmp_vnf);
	n = collect(&l, in, fl, intake, unmatched);

	f = open_memstream(yaml, len);
	if (!f || !yaml_emitter_initialize(&l.e)) {
		l.err = -ENOMEM;
		goto out;
	}
	yaml_emitter_set_output_file(&l.e, f);
	yaml_emitter_set_unicode(&l.e, 1);
	ev(&l, &e, yaml_stream_start_event_initialize(&e, YAML_UTF8_ENCODING));
	ev(&l, &e, yaml_document_start_event_initialize(&e, NULL, NULL, NULL, 1));
	map_start(&l, false);
	scalar(&l, "version");
	number(&l, POLICY_SCHEMA_VERSION);
	scalar(&l, "name");
	scalar(&l, in->base && in->base->name[0] ? in->base->name :
		   in->name && in->name[0] ? in->name : "learned");
	if (in->base) {
		scalar(&l, "revision");
		number(&l, in->base->revision + 1);
	}
	scalar(&l, "mode");
	scalar(&l, "monitor");
	if (in->base)
		emit_thresholds(&l, &in->base->thresholds);
	scalar(&l, "vnfs");
	seq_start(&l, false);
	for (i = 0; i < in->n_vnfs; i++)
		emit_vnf(&l, in, l.by_name[i], &intake[i]);
	seq_end(&l);
	if (n) {
		scalar(&l, "pairs");
		emit_pairs(&l, fl, n);
	}
	if (in->base) {
		emit_prefixes(&l, "blocklist", in->base->block,
			      in->base->n_block);
		emit_prefixes(&l, "allowlist", in->base->allow,
			      in->base->n_allow);
	}
	map_end(&l);
	ev(&l, &e, yaml_document_end_event_initialize(&e, 1));
	ev(&l, &e, yaml_stream_end_event_initialize(&e));
	yaml_emitter_delete(&l.e);
out:
	if (f && fclose(f) && !l.err)
		l.err = -ENOMEM;
	if (l.err) {
		free(*yaml);
		*yaml = NULL;
		*len = 0;
	}
	free(l.by_name);
	free(fl);
	free(intake);
	return l.err;
}
