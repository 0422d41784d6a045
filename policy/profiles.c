// SPDX-License-Identifier: GPL-2.0-only
/*
 * Built-in filtering profiles and the word lists of the schema. A VNF
 * whose "type" names a profile accepts the traffic that profile lists, so
 * "pairs: [{from: sgw, to: pgw}]" needs no ports when pgw is a
 * gtp-gateway. A policy may define its own profiles or replace these.
 */
#include <string.h>

#include "policy/internal.h"

const char *const policy_mode_names[] = { "learn", "monitor", "protect" };

/* Names nDPI gives these protocols, lower-cased. */
const char *const policy_l7_names[] = {
	"any", "diameter", "dns", "gtp", "gtp-c", "gtp-u", "http", "ngap",
	"ntp", "pfcp", "radius", "s1ap", "sip", "ssh", "tls",
};
const size_t policy_n_l7 = sizeof(policy_l7_names) / sizeof(policy_l7_names[0]);

struct builtin_accept {
	uint8_t proto;
	uint16_t port;
	const char *l7;
};

struct builtin_profile {
	const char *name;
	struct builtin_accept accepts[4];
	struct thr_set thr;
};

/*
 * Thresholds follow the traffic each function sees in a small packet
 * core: a user-plane gateway carries far more packets than a billing
 * function, so its rate baseline is higher and SYN floods are not its
 * concern (GTP-U is UDP).
 */
static const struct builtin_profile builtin_profiles[] = {
	{ "gtp-gateway",
	  { { POLICY_PROTO_UDP, 2152, "gtp-u" },
	    { POLICY_PROTO_UDP, 2123, "gtp-c" },
	    { POLICY_PROTO_UDP, 8805, "pfcp" } },
	  { { .rate_pps = 1000000 }, THR_RATE } },
	{ "billing",
	  { { POLICY_PROTO_TCP, 3868, "diameter" },
	    { POLICY_PROTO_SCTP, 3868, "diameter" } },
	  { { .syn_flood_pps = 200, .rate_pps = 20000 },
	    THR_SYN_FLOOD | THR_RATE } },
	{ "dns",
	  { { POLICY_PROTO_UDP, 53, "dns" },
	    { POLICY_PROTO_TCP, 53, "dns" } },
	  { { .rate_pps = 50000 }, THR_RATE } },
	{ "web",
	  { { POLICY_PROTO_TCP, 80, "http" },
	    { POLICY_PROTO_TCP, 443, "tls" } },
	  { { 0 }, 0 } },
};

void profiles_add_builtin(struct raw_policy *r)
{
	size_t i, j;

	for (i = 0; i < sizeof(builtin_profiles) / sizeof(builtin_profiles[0]);
	     i++) {
		const struct builtin_profile *b = &builtin_profiles[i];
		struct raw_profile *p = &r->profiles[r->n_profiles++];

		memset(p, 0, sizeof(*p));
		strcpy(p->name, b->name);
		p->builtin = true;
		p->thr = b->thr;
		/* Point at static storage: never freed, see raw_policy_free. */
		p->accepts = NULL;
		for (j = 0; j < 4 && b->accepts[j].proto; j++)
			p->n_accepts++;
	}
}

/* Built-in accepts, expanded on demand into @t (index @i of profile). */
bool profile_builtin_accept(const char *name, uint32_t i,
			    struct traffic_spec *t)
{
	size_t k;

	for (k = 0; k < sizeof(builtin_profiles) / sizeof(builtin_profiles[0]);
	     k++) {
		const struct builtin_accept *a;

		if (strcmp(builtin_profiles[k].name, name))
			continue;
		if (i >= 4 || !builtin_profiles[k].accepts[i].proto)
			return false;
		a = &builtin_profiles[k].accepts[i];
		memset(t, 0, sizeof(*t));
		t->has_proto = true;
		t->proto = a->proto;
		t->n_ports = 1;
		t->ports[0].lo = t->ports[0].hi = a->port;
		strcpy(t->l7, a->l7);
		return true;
	}
	return false;
}

void thresholds_defaults(struct policy_thresholds *t)
{
	memset(t, 0, sizeof(*t));
	t->syn_flood_pps = 1000;
	t->scan_ports = 100;
	t->scan_window_s = 10;
	t->flow_cut_rst_ps = 200;
	t->scan_hosts = 50;
	t->slow_scan_ports = 60;
	t->slow_scan_hosts = 30;
	t->slow_scan_window_s = 300;
}

void thresholds_merge(struct policy_thresholds *dst, const struct thr_set *s)
{
	if (s->set & THR_SYN_FLOOD)
		dst->syn_flood_pps = s->v.syn_flood_pps;
	if (s->set & THR_SCAN_PORTS)
		dst->scan_ports = s->v.scan_ports;
	if (s->set & THR_SCAN_WINDOW)
		dst->scan_window_s = s->v.scan_window_s;
	if (s->set & THR_FLOW_CUT)
		dst->flow_cut_rst_ps = s->v.flow_cut_rst_ps;
	if (s->set & THR_RATE)
		dst->rate_pps = s->v.rate_pps;
	if (s->set & THR_VOLUME)
		dst->volume_bps = s->v.volume_bps;
	if (s->set & THR_SCAN_HOSTS)
		dst->scan_hosts = s->v.scan_hosts;
	if (s->set & THR_SLOW_SCAN_PORTS)
		dst->slow_scan_ports = s->v.slow_scan_ports;
	if (s->set & THR_SLOW_SCAN_HOSTS)
		dst->slow_scan_hosts = s->v.slow_scan_hosts;
	if (s->set & THR_SLOW_SCAN_WINDOW)
		dst->slow_scan_window_s = s->v.slow_scan_window_s;
}
