// SPDX-License-Identifier: GPL-2.0-only
/*
 * Agent side of docs/control.md: the agent's commands. The socket itself
 * (who may connect, which commands need root or --control-admin-group,
 * bounds, idle clients, pipelining) is user/common/ctlsock.c, shared
 * with the server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "user/agent/detectors.h"
#include "user/agent/apply.h"
#include "user/agent/actions.h"
#include "user/agent/control.h"
#include "user/agent/fastpath_policy.h"
#include "user/agent/learn.h"
#include "user/agent/rates.h"
#include "user/common/clock.h"
#include "user/common/ctlsock.h"
#include "user/common/heuristic.h"
#include "user/common/log.h"
#include "user/common/vnfsec.pb-c.h"

#define ALERTS_KEPT	256

/* What the agent keeps per control client. */
struct client {
	/* A policy.learn waiting for its observation period to end. */
	uint64_t learn_from_ns, learn_until_ns;
	uint32_t learn_duration_s;
	uint64_t learn_ring_lost;	/* lost new-flow records at its start */
};

struct control {
	int epfd;
	struct ctlsock *sock;
	struct control_ctx ctx;
	struct assessment alerts[ALERTS_KEPT];	/* ring, newest last */
	unsigned int alerts_head;
	unsigned int nr_alerts;
};

static json_object *ip_json(int family, const void *addr)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static json_object *alert_json(const struct assessment *a)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_uint64(a->id));
	json_object_object_add(o, "time_ms",
			       json_object_new_uint64(a->time_unix_ms));
	json_object_object_add(o, "heuristic", json_object_new_string(
		heuristic_name(a->heuristic)));
	json_object_object_add(o, "severity", json_object_new_int(a->severity));
	int af;
	const void *src = assessment_src(a, &af), *dst = assessment_dst(a, &af);

	json_object_object_add(o, "src_ip", ip_json(af, src));
	json_object_object_add(o, "dest_ip", ip_json(af, dst));
	if (a->requires_operator[0])
		json_object_object_add(o, "requires_operator",
			json_object_new_string(a->requires_operator));
	json_object_object_add(o, "dest_port", json_object_new_int(a->dport));
	json_object_object_add(o, "count", json_object_new_uint64(a->count));
	json_object_object_add(o, "src_count",
			       json_object_new_uint64(a->src_count));
	json_object_object_add(o, "window_ms",
			       json_object_new_int64(a->window_ms));
	json_object_object_add(o, "threshold",
			       json_object_new_int64(a->threshold));
	json_object_object_add(o, "in_iface", json_object_new_string(a->iface));
	return o;
}

static int get_str(json_object *args, const char *key, const char **out)
{
	json_object *v;

	if (!json_object_object_get_ex(args, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return -EINVAL;
	*out = json_object_get_string(v);
	return 0;
}

static int get_uint(json_object *args, const char *key, unsigned int max,
		    unsigned int *out)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(args, key, &v))
		return -ENOENT;
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	n = json_object_get_int64(v);
	if (n < 0 || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

/* "A.B.C.D" or "A.B.C.D/N" */
static int parse_prefix(const char *s, uint32_t *addr, uint32_t *len)
{
	char buf[INET_ADDRSTRLEN + 4];
	char *slash, *end;
	unsigned long n = 32;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		n = strtoul(slash, &end, 10);
		if (*end || end == slash || n < 1 || n > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, addr) != 1)
		return -EINVAL;
	*len = n;
	return 0;
}

static json_object *policy_json(struct control *c)
{
	const struct agent_policy *ap = c->ctx.ev->policy;
	json_object *o;

	if (!ap)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(ap->p->name));
	json_object_object_add(o, "revision",
			       json_object_new_uint64(ap->p->revision));
	json_object_object_add(o, "digest", json_object_new_string(ap->digest));
	json_object_object_add(o, "mode", json_object_new_string(
		policy_mode_name(ap->p->mode)));
	json_object_object_add(o, "vnfs", json_object_new_int(ap->p->n_vnfs));
	json_object_object_add(o, "rules", json_object_new_int(ap->p->n_rules));
	json_object_object_add(o, "origin", json_object_new_string(ap->origin));
	return o;
}

/* Every problem of a refused policy, one FILE:LINE:COL line each. */
static const char *diag_text(const struct policy_diag *d, char *buf,
			     size_t len)
{
	size_t off = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < d->n && off + 1 < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? "\n" : "",
				d->lines[i]);
	return buf;
}

static json_object *cmd_status(struct control *c)
{
	static const char *const names[] = VNFSEC_COUNTER_NAMES;
	const struct agent_config *cfg = c->ctx.cfg;
	json_object *o = json_object_new_object();
	json_object *ifs = json_object_new_array();
	json_object *cnt = json_object_new_object();
	unsigned int i;

	json_object_object_add(o, "agent_id",
			       json_object_new_string(c->ctx.agent_id));
	/* Standalone: no server, no uplink; alerts go to cfg->eve_path. */
	json_object_object_add(o, "server",
			       json_object_new_string(cfg->server ?: ""));
	json_object_object_add(o, "standalone",
			       json_object_new_boolean(cfg->standalone));
	if (cfg->standalone)
		json_object_object_add(o, "eve",
				       json_object_new_string(cfg->eve_path));
	json_object_object_add(o, "connected", json_object_new_boolean(
		c->ctx.uplink && uplink_connected(c->ctx.uplink)));
	json_object_object_add(o, "spooled", json_object_new_int(
		c->ctx.uplink ? uplink_pending(c->ctx.uplink) : 0));
	json_object_object_add(o, "blocks", json_object_new_int(
		enforcer_count(c->ctx.enf)));
	json_object_object_add(o, "fast_path_adopted",
			       json_object_new_boolean(c->ctx.sensor->adopted));
	for (i = 0; i < cfg->nr_ifaces; i++)
		json_object_array_add(ifs,
				      json_object_new_string(cfg->ifaces[i]));
	json_object_object_add(o, "interfaces", ifs);
	for (i = 0; i < VNFSEC_CNT_MAX && i < sizeof(names) / sizeof(*names);
	     i++) {
		uint64_t v;

		if (!sensor_counter(c->ctx.sensor, i, &v))
			json_object_object_add(cnt, names[i],
					       json_object_new_uint64(v));
	}
	json_object_object_add(o, "counters", cnt);
	json_object_object_add(o, "policy", policy_json(c));
	json_object_object_add(o, "policy_origin", json_object_new_string(
		c->ctx.ev->policy ? c->ctx.ev->policy->origin :
				    c->ctx.policy_note ? c->ctx.policy_note : ""));
	json_object_object_add(o, "protect_ttl_s",
			       json_object_new_int(c->ctx.ev->protect_ttl_s));
	json_object_object_add(o, "records",
			       json_object_new_uint64(c->ctx.ev->records));
	json_object_object_add(o, "samples_judged",
			       json_object_new_uint64(c->ctx.ev->samples_judged));
	return o;
}

static void add_block(void *ctx, const struct block_info *b)
{
	json_object *o = json_object_new_object();
	char buf[INET_ADDRSTRLEN + 4];
	char addr[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &b->addr, addr, sizeof(addr));
	snprintf(buf, sizeof(buf), "%s/%u", addr, b->prefix_len);
	json_object_object_add(o, "type", json_object_new_string("block"));
	json_object_object_add(o, "target", json_object_new_string(buf));
	json_object_object_add(o, "seq", json_object_new_uint64(b->seq));
	json_object_object_add(o, "expires_in_s",
			       json_object_new_int64(b->expires_in_s));
	json_object_object_add(o, "origin", json_object_new_string(
		b->reason == VNFSEC_BLOCK_OPERATOR ? "operator" :
		b->reason == VNFSEC_BLOCK_LOCAL ? "agent" : "server"));
	json_object_array_add(ctx, o);
}

static void add_action(void *ctx, const struct action_info *i)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string(i->type));
	json_object_object_add(o, "target", json_object_new_string(i->target));
	json_object_object_add(o, "seq", json_object_new_uint64(i->seq));
	json_object_object_add(o, "expires_in_s",
			       json_object_new_int64(i->expires_in_s));
	if (i->rate_pps)
		json_object_object_add(o, "rate_pps",
				       json_object_new_uint64(i->rate_pps));
	json_object_object_add(o, "origin", json_object_new_string("server"));
	json_object_array_add(ctx, o);
}

/* The applied policy's VNF in network namespace @netns, or NULL. */
static const struct policy_vnf *policy_vnf_in(const struct control *c,
					      const char *netns)
{
	const struct agent_policy *ap = c->ctx.ev->policy;
	uint32_t i;

	for (i = 0; ap && i < ap->p->n_vnfs; i++)
		if (!strcmp(ap->p->vnfs[i].netns, netns))
			return &ap->p->vnfs[i];
	return NULL;
}

/*
 * Every namespace posture sees, and whether it is a VNF of the policy
 * (its name, type and mode) or merely present on the host.
 */
static json_object *cmd_vnfs(struct control *c)
{
	json_object *arr = json_object_new_array();
	unsigned int i, j, k;

	for (i = 0; i < posture_count(c->ctx.posture); i++) {
		const struct vnf_posture *v = posture_get(c->ctx.posture, i);
		const struct policy_vnf *pv = policy_vnf_in(c, v->name);
		json_object *o = json_object_new_object();
		json_object *ifs = json_object_new_array();
		json_object *pids = json_object_new_array();

		json_object_object_add(o, "name", json_object_new_string(
			pv ? pv->name : v->name));
		json_object_object_add(o, "netns",
				       json_object_new_string(v->name));
		json_object_object_add(o, "in_policy",
				       json_object_new_boolean(pv != NULL));
		if (pv) {
			if (pv->type[0])
				json_object_object_add(o, "type",
					json_object_new_string(pv->type));
			json_object_object_add(o, "mode", json_object_new_string(
				policy_mode_name(pv->mode)));
		}
		json_object_object_add(o, "netns_inode",
				       json_object_new_uint64(v->netns_ino));
		for (j = 0; j < v->nr_ifaces; j++) {
			json_object *io = json_object_new_object();
			json_object *addrs = json_object_new_array();

			for (k = 0; k < v->ifaces[j].nr_addrs; k++)
				json_object_array_add(addrs,
					json_object_new_string(
						v->ifaces[j].addrs[k]));
			json_object_object_add(io, "name",
				json_object_new_string(v->ifaces[j].name));
			json_object_object_add(io, "addrs", addrs);
			json_object_array_add(ifs, io);
		}
		json_object_object_add(o, "ifaces", ifs);
		json_object_object_add(o, "processes",
				       json_object_new_int(v->nr_pids));
		for (j = 0; j < v->nr_pids && j < POSTURE_PIDS_MAX; j++) {
			json_object *po = json_object_new_object();

			json_object_object_add(po, "pid",
					       json_object_new_int(v->pids[j]));
			json_object_object_add(po, "comm",
				json_object_new_string(v->comms[j]));
			json_object_array_add(pids, po);
		}
		json_object_object_add(o, "pids", pids);
		json_object_array_add(arr, o);
	}
	return arr;
}

#define FLOWS_SCANNED_MAX VNFSEC_FLOW_TABLE_ENTRIES

struct flow_row {
	struct vnfsec_flow_key key;
	struct vnfsec_flow_state st;
};

static int busiest_first(const void *a, const void *b)
{
	const struct flow_row *x = a, *y = b;

	return x->st.bytes < y->st.bytes ? 1 : x->st.bytes > y->st.bytes ? -1 : 0;
}

static json_object *addr_json(const struct vnfsec_flow_key *k,
			      const union vnfsec_addr *a)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(k->family == VNFSEC_AF_INET ? AF_INET : AF_INET6, a, buf,
		  sizeof(buf));
	return json_object_new_string(buf);
}

static json_object *flow_json(const struct flow_row *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "src", addr_json(&r->key, &r->key.saddr));
	json_object_object_add(o, "dst", addr_json(&r->key, &r->key.daddr));
	json_object_object_add(o, "sport",
			       json_object_new_int(ntohs(r->key.sport)));
	json_object_object_add(o, "dport",
			       json_object_new_int(ntohs(r->key.dport)));
	json_object_object_add(o, "proto", json_object_new_string(
		policy_proto_name(r->key.proto)));
	json_object_object_add(o, "packets",
			       json_object_new_uint64(r->st.packets));
	json_object_object_add(o, "bytes", json_object_new_uint64(r->st.bytes));
	json_object_object_add(o, "tcp_flags",
			       json_object_new_int(r->st.tcp_flags_seen));
	json_object_object_add(o, "first_seen",
			       json_object_new_uint64(r->st.first_seen_ns));
	json_object_object_add(o, "last_seen",
			       json_object_new_uint64(r->st.last_seen_ns));
	if (fastpath_vnf_name(r->st.src_vnf))
		json_object_object_add(o, "src_vnf", json_object_new_string(
			fastpath_vnf_name(r->st.src_vnf)));
	if (fastpath_vnf_name(r->st.dst_vnf))
		json_object_object_add(o, "dst_vnf", json_object_new_string(
			fastpath_vnf_name(r->st.dst_vnf)));
	return o;
}

/* Rows being collected from flow_new for cmd_flows(). */
struct flow_rows {
	struct flow_row *rows;
	unsigned int n, vnf_id;
};

static void flow_row_add(void *ctx, const struct vnfsec_flow_key *k,
			 const struct vnfsec_flow_state *st)
{
	struct flow_rows *fr = ctx;

	if (fr->n >= FLOWS_SCANNED_MAX ||
	    (fr->vnf_id && st->src_vnf != fr->vnf_id &&
	     st->dst_vnf != fr->vnf_id))
		return;
	fr->rows[fr->n].key = *k;
	fr->rows[fr->n++].st = *st;
}

/*
 * The fast path's flows (flow_table, and flow_new's flows of one packet),
 * busiest first; @vnf keeps the flows of one VNF.
 */
static json_object *cmd_flows(struct control *c, json_object *args, int *err,
			      const char **why)
{
	const struct agent_policy *ap = c->ctx.ev->policy;
	const struct policy_compiled *p = ap ? ap->p : NULL;
	struct vnfsec_flow_key key, next;
	unsigned int limit = 100, n = 0, i, vnf_id = 0;
	struct flow_rows fr;
	struct flow_row *rows;
	json_object *arr;
	const char *vnf;
	void *prev = NULL;

	if (get_uint(args, "limit", 1000000, &limit) == -EINVAL) {
		*err = EINVAL;
		*why = "limit: not an integer in 0..1000000";
		return NULL;
	}
	if (!get_str(args, "vnf", &vnf)) {
		for (i = 0; p && i < p->n_vnfs && !vnf_id; i++)
			if (!strcmp(p->vnfs[i].name, vnf))
				vnf_id = fastpath_vnf_id(vnf);
		if (!vnf_id) {
			*err = ENOENT;
			*why = "vnf: no such VNF in the applied policy";
			return NULL;
		}
	}
	rows = malloc(FLOWS_SCANNED_MAX * sizeof(*rows));
	if (!rows) {
		*err = ENOMEM;
		*why = "out of memory";
		return NULL;
	}
	while (n < FLOWS_SCANNED_MAX &&
	       !bpf_map_get_next_key(c->ctx.sensor->flow_table_fd, prev,
				     &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(c->ctx.sensor->flow_table_fd, &key,
					&rows[n].st))
			continue;	/* evicted meanwhile */
		if (vnf_id && rows[n].st.src_vnf != vnf_id &&
		    rows[n].st.dst_vnf != vnf_id)
			continue;
		rows[n++].key = key;
	}
	fr.rows = rows;
	fr.n = n;
	fr.vnf_id = vnf_id;
	flows_new_each(c->ctx.sensor->flow_new_fd, flow_row_add, &fr);
	n = fr.n;
	qsort(rows, n, sizeof(*rows), busiest_first);
	arr = json_object_new_array();
	for (i = 0; i < n && i < limit; i++)
		json_object_array_add(arr, flow_json(&rows[i]));
	free(rows);
	return arr;
}

static void host_prefix(uint32_t addr, struct policy_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = AF_INET;
	p->len = 32;
	memcpy(p->addr, &addr, 4);
}

static void key_prefix(uint8_t family, const union vnfsec_addr *a,
		       struct policy_prefix *p)
{
	if (family == VNFSEC_AF_INET) {
		host_prefix(a->v4, p);
		return;
	}
	memset(p, 0, sizeof(*p));
	p->family = AF_INET6;
	p->len = 128;
	memcpy(p->addr, a->bytes, 16);
}

/*
 * The VNFs a proposal is about: the applied policy's, or without one
 * every namespace of the posture with its IPv4 addresses.
 */
static struct policy_vnf *learn_vnfs(struct control *c, uint32_t *n)
{
	const struct agent_policy *ap = c->ctx.ev->policy;
	const struct posture *po = c->ctx.posture;
	unsigned int i, j, k, linked = 0, nr;
	struct policy_vnf *v;

	*n = ap ? ap->p->n_vnfs : posture_count(po);
	v = calloc(*n ? *n : 1, sizeof(*v));
	if (!v || ap) {
		if (v && ap)
			memcpy(v, ap->p->vnfs, *n * sizeof(*v));
		return v;
	}
	/*
	 * The namespaces linked to our ports are this switch's VNFs; others
	 * (another switch's, a tool's) may reuse their addresses. Without
	 * any linked, every namespace is a candidate.
	 */
	for (i = 0; i < *n; i++)
		linked += posture_get(po, i)->linked;
	nr = *n;
	*n = 0;
	for (i = 0; i < nr; i++) {
		const struct vnf_posture *vp = posture_get(po, i);

		if (linked && !vp->linked)
			continue;
		snprintf(v[*n].name, sizeof(v[*n].name), "%.31s", vp->name);
		snprintf(v[*n].netns, sizeof(v[*n].netns), "%s", vp->name);
		for (j = 0; j < vp->nr_ifaces; j++)
			for (k = 0; k < vp->ifaces[j].nr_addrs &&
				    v[*n].n_addrs < POLICY_MAX_ADDRS; k++) {
				uint32_t a;
				char buf[INET6_ADDRSTRLEN + 8], *slash;

				snprintf(buf, sizeof(buf), "%s",
					 vp->ifaces[j].addrs[k]);
				slash = strchr(buf, '/');
				if (slash)
					*slash = '\0';
				if (inet_pton(AF_INET, buf, &a) == 1)
					host_prefix(a, &v[*n].addrs[v[*n].n_addrs++]);
			}
		(*n)++;
	}
	return v;
}

/* The flows a policy is learnt from, as they are read. */
struct learn_flows {
	struct policy_observed_flow *flows;
	uint32_t n;
	uint64_t from_ns;
	uint64_t until_ns;		/* the period's end; 0 none */
	/*
	 * Every flow that opened in the period came as a record (no record
	 * lost, none left out of the openings): a flow the tables show
	 * starting in it, up to the latest record read (seen_ns), only
	 * counts for the limits.
	 */
	bool openings_complete;
	uint64_t seen_ns;
	/* Ports new flows came in on (learn.h), for a posture's VNFs. */
	struct learn_port ports[LEARN_PORTS_MAX];
	uint32_t nr_ports;
};

static void learn_port_add(void *ctx, const struct learn_port *p)
{
	struct learn_flows *lf = ctx;
	uint32_t i;

	for (i = 0; i < lf->nr_ports; i++)
		if (lf->ports[i].ifindex == p->ifindex &&
		    lf->ports[i].vlan == p->vlan)
			return;
	if (lf->nr_ports < LEARN_PORTS_MAX)
		lf->ports[lf->nr_ports++] = *p;
}

/*
 * Without a running policy the fast path knew no VNF ports: a VNF of the
 * posture gets the ports its addresses were seen coming from, so protect
 * mode knows its packets for its own (learn.h, struct learn_port).
 */
static void learn_vnf_ports(struct policy_vnf *v, uint32_t n,
			    const struct learn_flows *lf)
{
	char name[IF_NAMESIZE];
	uint32_t i, j, k;

	for (i = 0; i < lf->nr_ports; i++) {
		const struct learn_port *p = &lf->ports[i];

		if (p->family != VNFSEC_AF_INET ||
		    !if_indextoname(p->ifindex, name))
			continue;
		for (j = 0; j < n; j++) {
			struct policy_vnf *vnf = &v[j];

			for (k = 0; k < vnf->n_addrs; k++)
				if (vnf->addrs[k].family == AF_INET &&
				    !memcmp(vnf->addrs[k].addr, &p->saddr.v4, 4))
					break;
			if (k == vnf->n_addrs)
				continue;
			for (k = 0; k < vnf->n_ifaces; k++)
				if (!strcmp(vnf->ifaces[k].name, name) &&
				    vnf->ifaces[k].vlan == p->vlan)
					break;
			if (k == vnf->n_ifaces && k < POLICY_MAX_IFACES) {
				snprintf(vnf->ifaces[k].name,
					 sizeof(vnf->ifaces[k].name), "%s",
					 name);
				vnf->ifaces[k].vlan = p->vlan;
				vnf->n_ifaces++;
			}
			break;
		}
	}
}

/* The VNFs as the fast path resolved them (what protect mode judges). */
static void flow_vnfs(struct policy_observed_flow *f, uint16_t src,
		      uint16_t dst)
{
	const char *s = fastpath_vnf_name(src), *d = fastpath_vnf_name(dst);

	snprintf(f->src_vnf, sizeof(f->src_vnf), "%s", s ? s : "");
	snprintf(f->dst_vnf, sizeof(f->dst_vnf), "%s", d ? d : "");
}

/*
 * A GTP-U flow is its carrier's: udp/2152 between the tunnel ends' VNFs
 * (the fast path judges the pair on it), which both ends open.
 */
static void flow_carrier(struct policy_observed_flow *f)
{
	memset(&f->src, 0, sizeof(f->src));
	memset(&f->dst, 0, sizeof(f->dst));
	f->proto = IPPROTO_UDP;
	f->sport = VNFSEC_GTPU_PORT;
	f->dport = VNFSEC_GTPU_PORT;
	f->role = POLICY_FLOW_OPENS;
}

static void learn_opening_add(void *ctx, const struct learn_opening *o)
{
	struct learn_flows *lf = ctx;
	struct policy_observed_flow *f;

	if (lf->n >= FLOWS_SCANNED_MAX)
		return;
	f = &lf->flows[lf->n++];
	memset(f, 0, sizeof(*f));
	key_prefix(o->key.family, &o->key.saddr, &f->src);
	key_prefix(o->key.family, &o->key.daddr, &f->dst);
	f->proto = o->key.proto;
	f->dport = ntohs(o->key.dport);
	f->first_ns = o->first_ns;
	f->last_ns = o->last_ns;
	f->role = POLICY_FLOW_OPENS;
	flow_vnfs(f, o->src_vnf, o->dst_vnf);
	if (o->key.encap == VNFSEC_ENCAP_GTPU)
		flow_carrier(f);
}

static void learn_flow_add(void *ctx, const struct vnfsec_flow_key *k,
			   const struct vnfsec_flow_state *st)
{
	struct learn_flows *lf = ctx;
	struct policy_observed_flow *f;

	/* The period's flows only: the tables are read a moment after it. */
	if (lf->n >= FLOWS_SCANNED_MAX || st->last_seen_ns < lf->from_ns ||
	    (lf->until_ns && st->first_seen_ns > lf->until_ns))
		return;
	if (k->dir == VNFSEC_DIR_INGRESS && k->encap == VNFSEC_ENCAP_NONE)
		learn_port_add(lf, &(struct learn_port){
			.ifindex = k->ifindex, .vlan = k->vlan,
			.family = k->family, .saddr = k->saddr });
	f = &lf->flows[lf->n++];
	memset(f, 0, sizeof(*f));
	key_prefix(k->family, &k->saddr, &f->src);
	key_prefix(k->family, &k->daddr, &f->dst);
	f->proto = k->proto;
	f->dport = ntohs(k->dport);
	f->sport = ntohs(k->sport);
	f->packets = st->packets;
	f->bytes = st->bytes;
	f->duration_ms = (st->last_seen_ns - st->first_seen_ns) / 1000000;
	f->first_ns = st->first_seen_ns;
	f->last_ns = st->last_seen_ns;
	flow_vnfs(f, st->src_vnf, st->dst_vnf);
	/*
	 * Which end opened: the fast path knows a reply (learn.h); a flow
	 * that started in the period opened only if its record said so; one
	 * older than the period, the learner judges by which way started
	 * first.
	 */
	if (st->flags & VNFSEC_FLOW_F_REPLY)
		f->role = POLICY_FLOW_ANSWERS;
	else if (lf->openings_complete && st->first_seen_ns >= lf->from_ns &&
		 st->first_seen_ns <= lf->seen_ns)
		f->role = POLICY_FLOW_ANSWERS;
	else
		f->role = POLICY_FLOW_JUDGE;
	if (k->encap == VNFSEC_ENCAP_GTPU)
		flow_carrier(f);
}

/*
 * Propose a policy from the flows seen since @from_ns (docs/policy.md):
 * the openings recorded in the period (learn.h), and flow_table's and
 * flow_new's flows for what each VNF received and for flows older than
 * the period. @ring_lost: the fast path's lost new-flow records when the
 * period began.
 */
static json_object *learn_result(struct control *c, uint64_t from_ns,
				 uint32_t duration_s, uint64_t ring_lost,
				 int *err, const char **why)
{
	struct policy_learn_input in = {
		.name = "learned", .duration_s = duration_s ?: 1,
		.headroom_pct = 200,
		.base = c->ctx.ev->policy ? c->ctx.ev->policy->p : NULL,
	};
	struct learn_flows lf = { .from_ns = from_ns };
	struct vnfsec_flow_key key, next;
	struct vnfsec_flow_state st;
	struct policy_observed_flow *flows;
	struct policy_vnf *vnfs;
	uint32_t n = 0, unmatched = 0;
	uint64_t lost = ring_lost;
	void *prev = NULL;
	json_object *o;
	char *yaml = NULL;
	size_t len;
	int ret;

	flows = calloc(FLOWS_SCANNED_MAX, sizeof(*flows));
	vnfs = learn_vnfs(c, &in.n_vnfs);
	if (!flows || !vnfs) {
		free(flows);
		free(vnfs);
		*err = ENOMEM;
		*why = "out of memory";
		return NULL;
	}
	lf.flows = flows;
	if (from_ns) {
		lf.until_ns = from_ns + duration_s * 1000000000ULL;
		sensor_counter(c->ctx.sensor, VNFSEC_CNT_RINGBUF_FULL_FLOW,
			       &lost);
		lf.openings_complete = lost == ring_lost &&
				       !learn_openings_lost(c->ctx.ev->learn);
		if (!lf.openings_complete)
			log_warn("learn: %llu new-flow records lost and %llu openings not kept in the period: flows that started in it are judged from the tables (which end opened may be wrong; review the proposal's pairs)",
				 (unsigned long long)(lost - ring_lost),
				 (unsigned long long)learn_openings_lost(
					 c->ctx.ev->learn));
		learn_openings_each(c->ctx.ev->learn, from_ns,
				    learn_opening_add, &lf);
		learn_ports_each(c->ctx.ev->learn, learn_port_add, &lf);
		lf.seen_ns = learn_openings_seen(c->ctx.ev->learn);
	}
	while (lf.n < FLOWS_SCANNED_MAX &&
	       !bpf_map_get_next_key(c->ctx.sensor->flow_table_fd, prev,
				     &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(c->ctx.sensor->flow_table_fd, &key,
					 &st))
			learn_flow_add(&lf, &key, &st);
	}
	flows_new_each(c->ctx.sensor->flow_new_fd, learn_flow_add, &lf);
	if (!c->ctx.ev->policy)
		learn_vnf_ports(vnfs, in.n_vnfs, &lf);
	n = lf.n;
	in.vnfs = vnfs;
	in.flows = flows;
	in.n_flows = n;
	ret = policy_propose(&in, &yaml, &len, &unmatched);
	free(flows);
	free(vnfs);
	if (ret) {
		*err = -ret;
		*why = "no proposal could be made (see the agent's log)";
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "yaml", json_object_new_string_len(yaml,
								     len));
	json_object_object_add(o, "flows", json_object_new_int(n));
	json_object_object_add(o, "unmatched", json_object_new_int(unmatched));
	free(yaml);
	log_info("learn: proposed a policy from %u flows (%u left out) over %u s",
		 n, unmatched, duration_s);
	return o;
}

static json_object *cmd_alerts(struct control *c, json_object *args)
{
	json_object *arr = json_object_new_array();
	unsigned int limit = ALERTS_KEPT, i, first;

	if (get_uint(args, "limit", UINT_MAX, &limit) == -EINVAL)
		limit = 0;
	/* Asking for more than the agent keeps gets all it keeps. */
	if (limit > ALERTS_KEPT)
		limit = ALERTS_KEPT;
	first = c->nr_alerts > limit ? c->nr_alerts - limit : 0;
	for (i = first; i < c->nr_alerts; i++)
		json_object_array_add(arr, alert_json(
			&c->alerts[(c->alerts_head + i) % ALERTS_KEPT]));
	return arr;
}

/* Run one request; returns the result, or NULL with *err and *why set. */
static json_object *dispatch(struct control *c, struct ctlsock_client *sc,
			     const char *cmd, json_object *args, int *err,
			     const char **why)
{
	struct client *cl = sc->priv;
	uint32_t addr, len;
	unsigned int ttl = 0;
	const char *s;
	json_object *v;

	if (!strcmp(cmd, "status"))
		return cmd_status(c);
	if (!strcmp(cmd, "vnfs"))
		return cmd_vnfs(c);
	if (!strcmp(cmd, "flows"))
		return cmd_flows(c, args, err, why);
	if (!strcmp(cmd, "policy.learn")) {
		unsigned int secs = 0;

		if (get_uint(args, "duration_s", 86400, &secs) == -EINVAL) {
			*err = EINVAL;
			*why = "duration_s: not an integer in 0..86400";
			return NULL;
		}
		if (!secs)
			return learn_result(c, 0, 0, 0, err, why);
		/* The answer comes when the period ends (control_tick). */
		cl->learn_from_ns = clock_mono_ns();
		cl->learn_until_ns = cl->learn_from_ns + secs * 1000000000ULL;
		cl->learn_duration_s = secs;
		cl->learn_ring_lost = 0;
		sensor_counter(c->ctx.sensor, VNFSEC_CNT_RINGBUF_FULL_FLOW,
			       &cl->learn_ring_lost);
		if (learn_openings_watch(c->ctx.ev->learn, cl->learn_until_ns))
			log_warn("learn: no memory to keep the openings: the proposal is judged from the tables alone (review its pairs)");
		log_info("learn: observing traffic for %u s", secs);
		*err = EINPROGRESS;
		return NULL;
	}
	if (!strcmp(cmd, "quarantine")) {
		const struct agent_policy *ap = c->ctx.ev->policy;
		bool release = json_object_object_get_ex(args, "release", &v) &&
			       json_object_get_boolean(v);

		if (get_str(args, "vnf", &s)) {
			*err = EINVAL;
			*why = "vnf: the VNF's name is required";
			return NULL;
		}
		*err = -fastpath_quarantine(c->ctx.sensor, ap ? ap->p : NULL, s,
					    release);
		*why = *err == ENOENT ? "vnf: no such VNF in the applied policy" :
					"quarantine failed (see the agent's log)";
		return *err ? NULL : json_object_new_object();
	}
	if (!strcmp(cmd, "alerts")) {
		if (json_object_object_get_ex(args, "follow", &v) &&
		    json_object_get_boolean(v))
			sc->follow = true;
		return cmd_alerts(c, args);
	}
	if (!strcmp(cmd, "actions")) {
		json_object *arr = json_object_new_array();

		enforcer_foreach(c->ctx.enf, add_block, arr);
		if (c->ctx.actions)
			actions_foreach(c->ctx.actions, add_action, arr);
		return arr;
	}
	if (!strcmp(cmd, "block") || !strcmp(cmd, "unblock")) {
		if (get_str(args, "addr", &s) || parse_prefix(s, &addr, &len)) {
			*err = EINVAL;
			*why = "addr: not an IPv4 address or prefix (A.B.C.D[/N])";
			return NULL;
		}
		if (!strcmp(cmd, "unblock")) {
			*err = -enforcer_unblock(c->ctx.enf, addr, len);
			*why = *err == ENOENT ? "no such block" : "unblock failed";
			return *err ? NULL : json_object_new_object();
		}
		if (get_uint(args, "ttl_s", 86400 * 365, &ttl) == -EINVAL) {
			*err = EINVAL;
			*why = "ttl_s: not an integer in 0..31536000";
			return NULL;
		}
		*err = -enforcer_block(c->ctx.enf, addr, len, ttl, 0,
				       VNFSEC_BLOCK_OPERATOR);
		*why = "block failed (see the agent's log)";
		return *err ? NULL : json_object_new_object();
	}
	if (!strcmp(cmd, "policy.apply")) {
		static char text[4096];
		struct policy_diag diag = {};
		int ret;

		if (get_str(args, "path", &s)) {
			*err = EINVAL;
			*why = "path: the policy file to apply is required";
			return NULL;
		}
		ret = agent_policy_apply(c->ctx.ev, s, &diag);
		*why = diag_text(&diag, text, sizeof(text));
		policy_diag_free(&diag);
		if (ret) {
			*err = -ret;
			return NULL;
		}
		return policy_json(c);
	}
	if (!strcmp(cmd, "detectors") || !strcmp(cmd, "detector.rollback"))
		return detectors_control(c->ctx.ev->detectors, cmd, args, err,
					 why);
	*err = EOPNOTSUPP;
	*why = "unknown command";
	return NULL;
}

/* Read-only: what a member of --control-group may run. */
static const char *const read_only_cmds[] = {
	"status", "vnfs", "flows", "alerts", "actions", "policy.learn",
	"detectors", NULL
};

static json_object *handle(void *ctx, struct ctlsock_client *sc,
			   const char *cmd, json_object *args, int *err,
			   const char **why)
{
	struct control *c = ctx;

	if (!sc->priv) {
		sc->priv = calloc(1, sizeof(struct client));
		if (!sc->priv) {
			*err = ENOMEM;
			*why = "out of memory";
			return NULL;
		}
	}
	return dispatch(c, sc, cmd, args, err, why);
}

static void client_gone(void *ctx, struct ctlsock_client *sc)
{
	(void)ctx;
	free(sc->priv);
	sc->priv = NULL;
}

static epoll_data_t ev_data(void *ctx, int slot)
{
	(void)ctx;
	return (epoll_data_t){ .u32 = slot < 0 ? CONTROL_EV_LISTEN :
					 CONTROL_EV_CLIENT + slot };
}

void control_io(struct control *c, uint32_t tag, uint32_t events)
{
	if (tag == CONTROL_EV_LISTEN)
		ctlsock_accept(c->sock);
	else
		ctlsock_io(c->sock, tag - CONTROL_EV_CLIENT, events);
}

void control_tick(struct control *c)
{
	uint64_t now = clock_mono_ns();
	bool learning = false;
	unsigned int slot;

	ctlsock_tick(c->sock);
	for (slot = 0; slot < ctlsock_max_clients(c->sock); slot++) {
		struct ctlsock_client *sc = ctlsock_client(c->sock, slot);
		struct client *cl = sc ? sc->priv : NULL;
		json_object *result;
		const char *why = NULL;
		int err = 0;

		if (!cl || !cl->learn_until_ns)
			continue;
		if (now < cl->learn_until_ns) {
			learning = true;
			continue;
		}
		result = learn_result(c, cl->learn_from_ns,
				      cl->learn_duration_s, cl->learn_ring_lost,
				      &err, &why);
		cl->learn_until_ns = 0;
		ctlsock_reply(c->sock, sc, result, err, why);
	}
	if (!learning)
		learn_openings_stop(c->ctx.ev->learn);
}

void control_publish(void *control, const struct assessment *a)
{
	struct control *c = control;
	unsigned int slot;

	if (c->nr_alerts == ALERTS_KEPT) {
		c->alerts_head = (c->alerts_head + 1) % ALERTS_KEPT;
		c->nr_alerts--;
	}
	c->alerts[(c->alerts_head + c->nr_alerts++) % ALERTS_KEPT] = *a;

	for (slot = 0; slot < ctlsock_max_clients(c->sock); slot++) {
		struct ctlsock_client *sc = ctlsock_client(c->sock, slot);
		json_object *o;

		if (!sc || !sc->follow)
			continue;
		o = alert_json(a);
		ctlsock_send_event(c->sock, sc, o);
		json_object_put(o);
	}
}

int control_open(const char *path, int epfd, const struct control_ctx *ctx,
		 struct control **out)
{
	struct control *c;
	int ret;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ctx = *ctx;
	c->epfd = epfd;
	ret = ctlsock_open(&(struct ctlsock_config){
		.path = path,
		.read_group = ctx->cfg->control_group,
		.admin_group = ctx->cfg->control_admin_group,
		.read_only = read_only_cmds,
		.max_clients = CONTROL_CLIENTS_MAX,
		.epfd = epfd, .ev_data = ev_data,
		.handle = handle, .client_gone = client_gone, .ctx = c,
	}, &c->sock);
	if (ret) {
		free(c);
		return ret;
	}
	*out = c;
	return 0;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	ctlsock_close(c->sock);
	free(c);
}
