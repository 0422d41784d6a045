// SPDX-License-Identifier: GPL-2.0-only
/*
 * The canonical text form of a compiled policy: one "key value" line per
 * setting, rule or list entry, in the compiled (sorted) order. Golden
 * tests compare it, the digest hashes it and "policy diff" compares two
 * of them key by key.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "policy/internal.h"
#include "policy/items.h"

const char *policy_mode_name(enum policy_mode m)
{
	return (unsigned int)m < 3 ? policy_mode_names[m] : "?";
}

const char *policy_proto_name(uint8_t proto)
{
	switch (proto) {
	case POLICY_PROTO_ANY:
		return "any";
	case POLICY_PROTO_ICMP:
		return "icmp";
	case POLICY_PROTO_TCP:
		return "tcp";
	case POLICY_PROTO_UDP:
		return "udp";
	case POLICY_PROTO_SCTP:
		return "sctp";
	}
	return "?";
}

const char *policy_action_name(enum policy_action_type t)
{
	if (t < 1 || (size_t)t > policy_n_actions)
		return "?";
	return policy_action_names[t - 1];
}

int policy_format_prefix(const struct policy_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family, p->addr, a, sizeof(a)))
		return -EINVAL;
	snprintf(buf, len, "%s/%u", a, p->len);
	return 0;
}

static unsigned int addr_bytes(const struct policy_prefix *p)
{
	return p->family == AF_INET ? 4 : 16;
}

bool prefix_overlaps(const struct policy_prefix *a,
		     const struct policy_prefix *b)
{
	unsigned int bits = a->len < b->len ? a->len : b->len, i;

	if (a->family != b->family)
		return false;
	for (i = 0; i < addr_bytes(a) && bits; i++) {
		unsigned int k = bits >= 8 ? 8 : bits;
		uint8_t mask = (uint8_t)(0xff << (8 - k));

		if ((a->addr[i] ^ b->addr[i]) & mask)
			return false;
		bits -= k;
	}
	return true;
}

int prefix_cmp(const struct policy_prefix *a, const struct policy_prefix *b)
{
	int d;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	d = memcmp(a->addr, b->addr, addr_bytes(a));
	if (d)
		return d;
	return (int)a->len - (int)b->len;
}

void policy_free(struct policy_compiled *p)
{
	if (!p)
		return;
	free(p->vnfs);
	free(p->rules);
	free(p->block);
	free(p->allow);
	free(p->shm);
	free(p->playbooks);
	free(p);
}

/* --- items --------------------------------------------------------------- */

static int add(struct item_list *l, char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int add(struct item_list *l, char *key, const char *fmt, ...)
{
	va_list ap;
	char *val;
	int ret;

	if (!key)
		return -ENOMEM;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct item *it = realloc(l->items, cap * sizeof(*it));

		if (!it) {
			free(key);
			return -ENOMEM;
		}
		l->items = it;
		l->cap = cap;
	}
	va_start(ap, fmt);
	ret = vasprintf(&val, fmt, ap);
	va_end(ap);
	if (ret < 0) {
		free(key);
		return -ENOMEM;
	}
	l->items[l->n].key = key;
	l->items[l->n].val = val;
	l->n++;
	return 0;
}

static char *keyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *keyf(const char *fmt, ...)
{
	va_list ap;
	char *k;
	int ret;

	va_start(ap, fmt);
	ret = vasprintf(&k, fmt, ap);
	va_end(ap);
	return ret < 0 ? NULL : k;
}

static void thr_text(const struct policy_thresholds *t, char *buf, size_t len)
{
	snprintf(buf, len,
		 "syn_flood_pps=%u scan_ports=%u scan_window_s=%u flow_cut_rst_ps=%u rate_pps=%llu volume_bps=%llu scan_hosts=%u slow_scan_ports=%u slow_scan_hosts=%u slow_scan_window_s=%u",
		 t->syn_flood_pps, t->scan_ports, t->scan_window_s,
		 t->flow_cut_rst_ps, (unsigned long long)t->rate_pps,
		 (unsigned long long)t->volume_bps, t->scan_hosts,
		 t->slow_scan_ports, t->slow_scan_hosts,
		 t->slow_scan_window_s);
}

/* "arp,lldp", "-" for none. */
static void eth_text(uint8_t bits, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", bits & POLICY_ETH_ARP ? "arp," : "",
		 bits & POLICY_ETH_LLDP ? "lldp," : "",
		 bits & POLICY_ETH_ANY ? "any," : "", bits ? "" : "-");
	if (bits && strlen(buf))
		buf[strlen(buf) - 1] = 0;
}

/* The fast-path knobs, only where not the defaults (older dumps hold). */
static size_t knobs_text(enum policy_unparsed u, uint8_t eth,
			 enum policy_l7_unknown l7u, char *buf, size_t len)
{
	char e[32];
	size_t off = 0;

	if (u != POLICY_UNPARSED_DROP && off < len)
		off += (size_t)snprintf(buf + off, len - off,
					" unparsed=pass");
	if (l7u != POLICY_L7_UNKNOWN_DROP && off < len)
		off += (size_t)snprintf(buf + off, len - off,
					" l7_unknown=pass");
	if (eth != POLICY_ETH_DEFAULT && off < len) {
		eth_text(eth, e, sizeof(e));
		off += (size_t)snprintf(buf + off, len - off,
					" ethertypes=%s", e);
	}
	return off;
}

static void vnf_text(const struct policy_vnf *v, char *buf, size_t len)
{
	size_t off;
	uint32_t i;

	off = (size_t)snprintf(buf, len, "type=%s mode=%s netns=%s ifaces=",
			       v->type[0] ? v->type : "-",
			       policy_mode_name(v->mode),
			       v->netns[0] ? v->netns : "-");
	for (i = 0; i < v->n_ifaces && off < len; i++) {
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
					v->ifaces[i].name);
		if (v->ifaces[i].vlan && off < len)
			off += (size_t)snprintf(buf + off, len - off, ".%u",
						v->ifaces[i].vlan);
	}
	if (!v->n_ifaces && off < len)
		off += (size_t)snprintf(buf + off, len - off, "-");
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, " addrs=");
	for (i = 0; i < v->n_addrs && off < len; i++) {
		char a[64];

		policy_format_prefix(&v->addrs[i], a, sizeof(a));
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
					a);
	}
	if (!v->n_addrs && off < len)
		off += (size_t)snprintf(buf + off, len - off, "-");
	if (off < len)
		knobs_text(v->unparsed, v->ethertypes, v->l7_unknown,
			   buf + off, len - off);
}

static void ports_text(const struct policy_pair_rule *r, char *buf, size_t len)
{
	if (r->port_lo == 0 && r->port_hi == 65535)
		snprintf(buf, len, "%s", policy_proto_name(r->proto));
	else if (r->port_lo == r->port_hi)
		snprintf(buf, len, "%s/%u", policy_proto_name(r->proto), r->port_lo);
	else
		snprintf(buf, len, "%s/%u-%u", policy_proto_name(r->proto),
			 r->port_lo, r->port_hi);
}

int policy_items(const struct policy_compiled *p, struct item_list *l)
{
	char buf[2048], a[64];
	uint32_t i, j;
	int err = 0;

	memset(l, 0, sizeof(*l));
	err |= add(l, keyf("policy"), "%s", p->name[0] ? p->name : "-");
	err |= add(l, keyf("schema"), "%u", p->schema);
	err |= add(l, keyf("revision"), "%llu", (unsigned long long)p->revision);
	err |= add(l, keyf("mode"), "%s", policy_mode_name(p->mode));
	if (knobs_text(p->unparsed, p->ethertypes, p->l7_unknown, buf,
		       sizeof(buf)))
		err |= add(l, keyf("fastpath"), "%s", buf + 1);
	thr_text(&p->thresholds, buf, sizeof(buf));
	err |= add(l, keyf("thresholds"), "%s", buf);
	for (i = 0, buf[0] = 0; i < p->cache.n_vnfs; i++) {
		size_t off = strlen(buf);

		snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "," : "",
			 p->vnfs[p->cache.vnfs[i]].name);
	}
	err |= add(l, keyf("cache"),
		   "flush_per_s=%u window_s=%u counter=%s vnfs=%s",
		   p->cache.flush_per_s,
		   p->cache.window_s,
		   policy_cache_counter_name(p->cache.counter),
		   buf[0] ? buf : "-");
	for (i = 0; i < p->n_vnfs; i++) {
		const struct policy_vnf *v = &p->vnfs[i];

		vnf_text(v, buf, sizeof(buf));
		err |= add(l, keyf("vnf %s", v->name), "%s", buf);
		thr_text(&v->thresholds, buf, sizeof(buf));
		err |= add(l, keyf("vnf %s thresholds", v->name), "%s", buf);
	}
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_pair_rule *r = &p->rules[i];

		ports_text(r, buf, sizeof(buf));
		err |= add(l, keyf("rule %s -> %s %s", p->vnfs[r->src_vnf].name,
				   p->vnfs[r->dst_vnf].name, buf),
			   "l7=%s%s", r->l7[0] ? r->l7 : "any",
			   r->from_profile ? " (profile)" : "");
	}
	for (i = 0; i < p->n_block; i++) {
		policy_format_prefix(&p->block[i], a, sizeof(a));
		err |= add(l, keyf("block %s", a), "%s", "");
	}
	for (i = 0; i < p->n_allow; i++) {
		policy_format_prefix(&p->allow[i], a, sizeof(a));
		err |= add(l, keyf("allow %s", a), "%s", "");
	}
	for (i = 0; i < p->n_shm; i++) {
		const struct policy_shm_region *s = &p->shm[i];
		size_t off = (size_t)snprintf(buf, sizeof(buf), "path=%s mappers=",
					      s->path);

		for (j = 0; j < s->n_mappers && off < sizeof(buf); j++)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
						j ? "," : "",
						p->vnfs[s->mappers[j]].name);
		if (off < sizeof(buf))
			off += (size_t)snprintf(buf + off, sizeof(buf) - off,
						" immutable=%s", s->n_ranges ? "" : "-");
		for (j = 0; j < s->n_ranges && off < sizeof(buf); j++)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off,
						"%s%llu+%llu", j ? "," : "",
						(unsigned long long)s->immutable[j].offset,
						(unsigned long long)s->immutable[j].length);
		err |= add(l, keyf("shm %s", s->name), "%s", buf);
	}
	for (i = 0; i < p->n_playbooks; i++) {
		policy_playbook_format(&p->playbooks[i], buf, sizeof(buf));
		err |= add(l, keyf("playbook %s", p->playbooks[i].name), "%s",
			   buf);
	}
	if (err) {
		items_free(l);
		return -ENOMEM;
	}
	return 0;
}

void items_free(struct item_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].val);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static void item_print(const struct item *it, FILE *f)
{
	if (it->val[0])
		fprintf(f, "%s %s\n", it->key, it->val);
	else
		fprintf(f, "%s\n", it->key);
}

static int dump_items(const struct policy_compiled *p, FILE *f)
{
	struct item_list l;
	size_t i;
	int err;

	err = policy_items(p, &l);
	if (err)
		return err;
	for (i = 0; i < l.n; i++)
		item_print(&l.items[i], f);
	items_free(&l);
	return ferror(f) ? -EIO : 0;
}

int policy_each_item(const struct policy_compiled *p,
		     void (*fn)(void *ctx, const char *key, const char *val),
		     void *ctx)
{
	struct item_list l;
	size_t i;
	int err;

	err = policy_items(p, &l);
	if (err)
		return err;
	for (i = 0; i < l.n; i++)
		fn(ctx, l.items[i].key, l.items[i].val);
	items_free(&l);
	return 0;
}

int policy_dump(const struct policy_compiled *p, FILE *f)
{
	char hex[65];

	policy_digest_hex(p, hex);
	fprintf(f, "digest %s\n", hex);
	return dump_items(p, f);
}

void policy_digest_hex(const struct policy_compiled *p, char out[65])
{
	unsigned int i;

	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", p->digest[i]);
}

/* Called once at the end of compiling: the digest covers the dump. */
int policy_set_digest(struct policy_compiled *p)
{
	unsigned int dlen = 0;
	size_t len = 0;
	char *text = NULL;
	FILE *f;
	int err;

	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	err = dump_items(p, f);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (!err && !EVP_Digest(text, len, p->digest, &dlen, EVP_sha256(), NULL))
		err = -EIO;
	free(text);
	return err;
}
