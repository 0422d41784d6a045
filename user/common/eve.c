// SPDX-License-Identifier: GPL-2.0-only
/*
 * EVE-style JSON events (eve.h): the server's alert log and the
 * standalone agent's --eve file.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/time.h>

#include "user/common/eve.h"
#include "user/common/heuristic.h"

/* Per heuristic: the signature text and category an EVE reader sees. */
static const struct {
	const char *signature;
	const char *category;
	const char *proto;	/* when the evidence carries no flow */
} sigs[] = {
	[VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD] =
		{ "vnfsec SYN flood", "Denial of Service", "TCP" },
	[VNFSEC__HEURISTIC__HEURISTIC_HORIZONTAL_SCAN] =
		{ "vnfsec horizontal scan", "Network Scan", "TCP" },
	[VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN] =
		{ "vnfsec vertical port scan", "Network Scan", "TCP" },
	[VNFSEC__HEURISTIC__HEURISTIC_FLOW_CUT] =
		{ "vnfsec abnormal flow resets", "Denial of Service", "TCP" },
	[VNFSEC__HEURISTIC__HEURISTIC_DROP_SPIKE] =
		{ "vnfsec packet drop spike", "Denial of Service", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_POLICY_VIOLATION] =
		{ "vnfsec inter-VNF policy violation", "Policy Violation", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_VOLUME_ANOMALY] =
		{ "vnfsec traffic volume anomaly", "Anomaly", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL] =
		{ "vnfsec unexpected application protocol", "Protocol Anomaly", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_SHM_INTRUSION] =
		{ "vnfsec shared memory intrusion", "Host Intrusion", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_CACHE_SIDE_CHANNEL] =
		{ "vnfsec cache side-channel signs", "Host Intrusion", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_RATE_LIMIT] =
		{ "vnfsec source above its rate", "Denial of Service", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_MALFORMED_TRAFFIC] =
		{ "vnfsec frames the fast path cannot classify", "Protocol Anomaly", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_FRAGMENT_EVASION] =
		{ "vnfsec fragment evasion", "Evasion", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_SPOOFED_SOURCE] =
		{ "vnfsec spoofed source address", "Spoofing", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_POSTURE_CHANGE] =
		{ "vnfsec VNF appeared or went", "Informational", NULL },
	[VNFSEC__HEURISTIC__HEURISTIC_PUSHED_DETECTOR] =
		{ "vnfsec pushed detector fired", "Anomaly", NULL },
};

/*
 * Every key we add is a string literal, added once per object: json-c
 * need neither copy it nor look for an earlier one. Several events are
 * written per assessment, so this is on the server's hot path.
 */
void eve_put(json_object *o, const char *key, json_object *v)
{
	json_object_object_add_ex(o, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW |
				  JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

void eve_add_str(json_object *o, const char *key, const char *v)
{
	eve_put(o, key, json_object_new_string(v));
}

void eve_add_u64(json_object *o, const char *key, uint64_t v)
{
	eve_put(o, key, json_object_new_uint64(v));
}

void eve_add_int(json_object *o, const char *key, int64_t v)
{
	eve_put(o, key, json_object_new_int64(v));
}

/*
 * "YYYY-MM-DDTHH:MM:SS" of @t into @buf (20 bytes). Most events of a
 * second share their second: format it once, not with every event.
 */
static const char *second_str(time_t t, char *buf)
{
	static time_t cached_t[2] = { -1, -1 };
	static char cached[2][24];
	static unsigned int next;
	struct tm tm;
	int i;

	for (i = 0; i < 2; i++)
		if (cached_t[i] == t)
			return memcpy(buf, cached[i], 20);
	gmtime_r(&t, &tm);
	strftime(cached[next], sizeof(cached[next]), "%Y-%m-%dT%H:%M:%S",
		 &tm);
	cached_t[next] = t;
	memcpy(buf, cached[next], 20);
	next ^= 1;
	return buf;
}

void eve_add_time(json_object *o, const char *key, time_t t)
{
	char stamp[32];

	second_str(t, stamp);
	memcpy(stamp + 19, "+0000", 6);
	eve_add_str(o, key, stamp);
}

json_object *eve_event_new(const char *agent_id, const char *type)
{
	json_object *ev = json_object_new_object();
	char stamp[40];
	struct timeval tv;
	long us;
	int i;

	gettimeofday(&tv, NULL);
	second_str(tv.tv_sec, stamp);
	/* ".uuuuuu+0000", as EVE writes it. */
	stamp[19] = '.';
	for (us = tv.tv_usec, i = 25; i >= 20; i--, us /= 10)
		stamp[i] = '0' + us % 10;
	memcpy(stamp + 26, "+0000", 6);
	eve_add_str(ev, "timestamp", stamp);
	eve_add_str(ev, "event_type", type);
	if (agent_id)
		eve_add_str(ev, "agent_id", agent_id);
	return ev;
}

void eve_add_raw_addr(json_object *o, const char *key,
			 const uint8_t *addr, size_t len)
{
	ProtobufCBinaryData b = { .len = len, .data = (uint8_t *)addr };
	char buf[64];

	eve_add_str(o, key, wire_addr_str(&b, buf, sizeof(buf)));
}

static void eve_add_addr(json_object *o, const char *key,
		     const ProtobufCBinaryData *addr)
{
	eve_add_raw_addr(o, key, addr->data, addr->len);
}

void eve_add_flow(json_object *o, const uint8_t *src, size_t src_len,
		  unsigned int src_port, const uint8_t *dst, size_t dst_len,
		  unsigned int dst_port, unsigned int proto)
{
	const char *name = eve_proto_name(proto);

	eve_add_raw_addr(o, "src_ip", src, src_len);
	eve_add_int(o, "src_port", src_port);
	eve_add_raw_addr(o, "dest_ip", dst, dst_len);
	eve_add_int(o, "dest_port", dst_port);
	if (name)
		eve_add_str(o, "proto", name);
	else
		eve_add_int(o, "proto", proto);
}

const char *eve_proto_name(unsigned int proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "TCP";
	case IPPROTO_UDP: return "UDP";
	case IPPROTO_ICMP: return "ICMP";
	case IPPROTO_ICMPV6: return "IPv6-ICMP";
	case IPPROTO_SCTP: return "SCTP";
	}
	return NULL;
}

/*
 * As EVE writes them: "vlan" the tags, outermost first; "tunnel" the
 * outer flow of a GTP-U tunnel and its TEID (the alert's own addresses
 * are the inner ones).
 */
static void add_encap(json_object *ev, const Vnfsec__Assessment *a)
{
	const Vnfsec__FlowTuple *o;
	json_object *t;
	size_t i;

	if (a->n_vlan_ids) {
		json_object *v = json_object_new_array();

		for (i = 0; i < a->n_vlan_ids; i++)
			json_object_array_add(v,
				json_object_new_int(a->vlan_ids[i]));
		eve_put(ev, "vlan", v);
	}
	if (!a->tunnel || !a->tunnel->outer)
		return;
	o = a->tunnel->outer;
	t = json_object_new_object();
	eve_add_flow(t, o->src_addr.data, o->src_addr.len, o->src_port,
		     o->dst_addr.data, o->dst_addr.len, o->dst_port, o->proto);
	eve_add_u64(t, "teid", a->tunnel->teid);
	eve_put(ev, "tunnel", t);
}

void eve_alert_flow(json_object *ev, const Vnfsec__Assessment *a)
{
	unsigned int h = a->heuristic;
	const char *proto = NULL;

	eve_add_addr(ev, "src_ip", &a->src_addr);
	eve_add_addr(ev, "dest_ip", &a->dst_addr);
	if (a->flow) {
		eve_add_int(ev, "src_port", a->flow->src_port);
		proto = eve_proto_name(a->flow->proto);
	}
	eve_add_int(ev, "dest_port", a->dst_port);
	if (!proto && h < sizeof(sigs) / sizeof(sigs[0]))
		proto = sigs[h].proto;
	if (proto)
		eve_add_str(ev, "proto", proto);
	if (a->iface[0])
		eve_add_str(ev, "in_iface", a->iface);
}

json_object *eve_alert_body(json_object *ev, const Vnfsec__Assessment *a)
{
	json_object *alert = json_object_new_object();
	json_object *vs = json_object_new_object();
	unsigned int h = a->heuristic;
	size_t i;

	add_encap(ev, a);
	/* What the fast path did with it, as the agent reports. */
	eve_add_str(alert, "action", a->fast_path_dropped ? "blocked" : "allowed");
	eve_add_int(alert, "gid", 1);
	eve_add_int(alert, "signature_id", a->heuristic);
	eve_add_int(alert, "rev", 1);
	eve_add_str(alert, "signature", h < sizeof(sigs) / sizeof(sigs[0]) &&
		    sigs[h].signature ? sigs[h].signature : "vnfsec anomaly");
	eve_add_str(alert, "category", h < sizeof(sigs) / sizeof(sigs[0]) &&
		    sigs[h].category ? sigs[h].category : "Anomaly");
	eve_add_int(alert, "severity", a->severity);
	eve_put(ev, "alert", alert);

	eve_add_str(vs, "heuristic", heuristic_name(a->heuristic));
	eve_add_u64(vs, "assessment_id", a->id);
	eve_add_u64(vs, "agent_time_ms", a->time_unix_ms);
	eve_add_u64(vs, "count", a->count);
	eve_add_u64(vs, "src_count", a->src_count);
	eve_add_int(vs, "window_ms", a->window_ms);
	eve_add_int(vs, "threshold", a->threshold);
	if (a->vnf_src[0])
		eve_add_str(vs, "vnf_src", a->vnf_src);
	if (a->vnf_dst[0])
		eve_add_str(vs, "vnf_dst", a->vnf_dst);
	if (a->n_evidence) {
		json_object *e = json_object_new_object();

		for (i = 0; i < a->n_evidence; i++) {
			const Vnfsec__Evidence *x = a->evidence[i];

			json_object_object_add(e, x->name, x->text[0] ?
				json_object_new_string(x->text) :
				json_object_new_uint64(x->value));
		}
		eve_put(vs, "evidence", e);
	}
	/* Last in the event, as before the caller's additions to it. */
	eve_put(ev, "vnfsec", vs);
	return vs;
}
