// SPDX-License-Identifier: GPL-2.0-only
/*
 * Remediation: the playbook turns an incident into actions for the agents
 * concerned, the external hook hears of it (an orchestrator may decide
 * more), and every action's result from the agent is tracked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>

#include "user/common/log.h"
#include "user/common/signing.h"
#include "user/server/bus.h"
#include "user/server/playbook.h"
#include "user/server/store.h"

extern char **environ;

#define HOOKS_MAX 16	/* hooks running at once; more are skipped */
#define SIGNED_ACTION_LIFETIME_S 300	/* an order not applied by then is void */

static pid_t hook_pids[HOOKS_MAX];

const char *action_type_name(int type)
{
	switch (type) {
	case VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE: return "block_source";
	case VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE: return "unblock_source";
	case VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW: return "drop_flow";
	case VNFSEC__ACTION_TYPE__ACTION_MONITOR_FLOW: return "monitor_flow";
	case VNFSEC__ACTION_TYPE__ACTION_MIRROR_FLOW: return "mirror_flow";
	case VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF: return "quarantine_vnf";
	case VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE: return "rate_limit_source";
	case VNFSEC__ACTION_TYPE__ACTION_RELEASE_VNF: return "release_vnf";
	}
	return "unknown";
}

const char *action_state_name(enum action_state state)
{
	switch (state) {
	case ACTION_SENT: return "sent";
	case ACTION_APPLIED: return "applied";
	case ACTION_FAILED: return "failed";
	}
	return "unknown";
}

bool action_has_source(int type)
{
	return type == VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE ||
	       type == VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE ||
	       type == VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE;
}

bool action_has_flow(int type)
{
	return type == VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW ||
	       type == VNFSEC__ACTION_TYPE__ACTION_MONITOR_FLOW ||
	       type == VNFSEC__ACTION_TYPE__ACTION_MIRROR_FLOW;
}

bool action_has_vnf(int type)
{
	return type == VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF ||
	       type == VNFSEC__ACTION_TYPE__ACTION_RELEASE_VNF;
}

/* The order an unblock or a release ends, 0 for the others. */
static int lifts(int type)
{
	if (type == VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE)
		return VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE;
	if (type == VNFSEC__ACTION_TYPE__ACTION_RELEASE_VNF)
		return VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF;
	return 0;
}

static const char *proto_str(uint32_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmp6";
	case 132: return "sctp";
	}
	snprintf(buf, len, "proto-%u", proto);
	return buf;
}

void action_target_str(const struct action_record *act, char *buf,
		       size_t len)
{
	ProtobufCBinaryData a = { .len = act->addr_len,
				  .data = (uint8_t *)act->addr };
	ProtobufCBinaryData s = { .len = act->flow.len,
				  .data = (uint8_t *)act->flow.src };
	ProtobufCBinaryData d = { .len = act->flow.len,
				  .data = (uint8_t *)act->flow.dst };
	char b1[64], b2[64], p[16];

	if (action_has_flow(act->type))
		snprintf(buf, len, "%s %s:%u > %s:%u",
			 proto_str(act->flow.proto, p, sizeof(p)),
			 wire_addr_str(&s, b1, sizeof(b1)), act->flow.src_port,
			 wire_addr_str(&d, b2, sizeof(b2)), act->flow.dst_port);
	else if (action_has_vnf(act->type))
		snprintf(buf, len, "vnf %s", act->vnf);
	else
		snprintf(buf, len, "%s/%u", wire_addr_str(&a, b1, sizeof(b1)),
			 act->prefix_len);
}

/* The same target: prefix, flow or VNF, as the type says. */
static bool same_target(const struct action_record *x,
			const struct action_record *y)
{
	if (action_has_flow(x->type))
		return x->flow.len == y->flow.len &&
		       !memcmp(x->flow.src, y->flow.src, x->flow.len) &&
		       !memcmp(x->flow.dst, y->flow.dst, x->flow.len) &&
		       x->flow.src_port == y->flow.src_port &&
		       x->flow.dst_port == y->flow.dst_port &&
		       x->flow.proto == y->flow.proto;
	if (action_has_vnf(x->type))
		return !strcmp(x->vnf, y->vnf);
	return x->addr_len == y->addr_len && x->prefix_len == y->prefix_len &&
	       !memcmp(x->addr, y->addr, x->addr_len);
}

/* FNV-1a over agent, type and target: where an order is indexed. */
static unsigned int order_hash(const struct server *srv,
			       const struct agent_record *agent, int type,
			       const struct action_record *o)
{
	uintptr_t ag = (uintptr_t)agent;
	uint32_t h = 2166136261u;
	const uint8_t *p;
	size_t i, n;

	for (i = 0; i < sizeof(ag); i++)
		h = (h ^ ((ag >> (8 * i)) & 0xff)) * 16777619u;
	h = (h ^ (uint32_t)type) * 16777619u;
	if (action_has_flow(type)) {
		p = o->flow.src;
		n = o->flow.len;
		h = (h ^ o->flow.src_port) * 16777619u;
		h = (h ^ o->flow.dst_port) * 16777619u;
	} else if (action_has_vnf(type)) {
		p = (const uint8_t *)o->vnf;
		n = strlen(o->vnf);
	} else {
		p = o->addr;
		n = o->addr_len;
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h & (srv->order_buckets - 1);
}

/*
 * The agent already enforces it: one order, not one per report. Found
 * through the index, not by walking the agent's every action: at 10,000
 * orders a second an agent's list grows long.
 */
static bool order_in_force(struct server *srv, struct agent_record *agent,
			   const struct action_record *o, time_t now)
{
	struct action_record *act;
	uint64_t lift = 0, order = 0;

	if (!srv->order_buckets)
		return false;

	/* An unblock or release stands until a newer order of its target. */
	if (lifts(o->type)) {
		for (act = srv->orders[order_hash(srv, agent, o->type, o)]; act;
		     act = act->order_next)
			if (act->agent == agent && act->type == o->type &&
			    act->state != ACTION_FAILED &&
			    same_target(act, o) && act->seq > lift)
				lift = act->seq;
		for (act = srv->orders[order_hash(srv, agent, lifts(o->type), o)];
		     lift && act; act = act->order_next)
			if (act->agent == agent &&
			    act->type == lifts(o->type) &&
			    act->state != ACTION_FAILED &&
			    same_target(act, o) && act->seq > order)
				order = act->seq;
		return lift > order;
	}
	for (act = srv->orders[order_hash(srv, agent, o->type, o)]; act;
	     act = act->order_next) {
		if (act->agent != agent || act->type != o->type ||
		    act->state == ACTION_FAILED || act->lifted ||
		    !same_target(act, o))
			continue;
		if (!act->ttl_s || now < act->sent + (time_t)act->ttl_s)
			return true;
	}
	return false;
}

/* An unblock ends the agent's block of that prefix; a release, its quarantine. */
static void order_lift(struct server *srv, struct agent_record *agent,
		       const struct action_record *o)
{
	struct action_record *act;
	int type = lifts(o->type);

	if (!type || !srv->order_buckets)
		return;
	for (act = srv->orders[order_hash(srv, agent, type, o)]; act;
	     act = act->order_next)
		if (act->agent == agent && act->type == type &&
		    same_target(act, o))
			act->lifted = true;
}

/*
 * The index doubles when it holds more orders than buckets, so the check
 * stays a few steps however many orders are remembered. Without memory
 * for a bigger one the old one goes on serving, slower.
 */
static int order_index_grow(struct server *srv)
{
	unsigned int n = srv->order_buckets ? srv->order_buckets * 2 :
			 INDEX_BUCKETS_MIN;
	struct action_record **t, *act;

	if (n < srv->order_buckets)
		return -EOVERFLOW;
	t = calloc(n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	free(srv->orders);
	srv->orders = t;
	srv->order_buckets = n;
	srv->nr_orders = 0;
	for (act = srv->actions; act; act = act->next) {
		unsigned int h = order_hash(srv, act->agent, act->type, act);

		act->order_next = t[h];
		t[h] = act;
		srv->nr_orders++;
	}
	return 0;
}

/* Before the order joins srv->actions: growing walks that list. */
static int order_index(struct server *srv, struct action_record *act)
{
	unsigned int h;

	if (srv->nr_orders >= srv->order_buckets &&
	    order_index_grow(srv) && !srv->order_buckets)
		return -ENOMEM;
	h = order_hash(srv, act->agent, act->type, act);
	act->order_next = srv->orders[h];
	srv->orders[h] = act;
	srv->nr_orders++;
	return 0;
}

static void order_unlink(struct server *srv, struct action_record *act)
{
	struct action_record **pp;

	if (!srv->order_buckets)
		return;
	pp = &srv->orders[order_hash(srv, act->agent, act->type, act)];
	for (; *pp; pp = &(*pp)->order_next) {
		if (*pp == act) {
			*pp = act->order_next;
			srv->nr_orders--;
			return;
		}
	}
}

void order_from_wire(struct action_record *o, const Vnfsec__Action *a)
{
	memset(o, 0, sizeof(*o));
	o->type = a->type;
	o->ttl_s = a->ttl_s;
	o->rate_pps = a->rate_pps;
	if (a->src_addr.len <= sizeof(o->addr)) {
		memcpy(o->addr, a->src_addr.data, a->src_addr.len);
		o->addr_len = a->src_addr.len;
	}
	o->prefix_len = a->prefix_len;
	if (a->flow && a->flow->src_addr.len <= sizeof(o->flow.src) &&
	    a->flow->dst_addr.len == a->flow->src_addr.len) {
		o->flow.len = a->flow->src_addr.len;
		memcpy(o->flow.src, a->flow->src_addr.data, o->flow.len);
		memcpy(o->flow.dst, a->flow->dst_addr.data, o->flow.len);
		o->flow.src_port = a->flow->src_port;
		o->flow.dst_port = a->flow->dst_port;
		o->flow.proto = a->flow->proto;
	}
	snprintf(o->vnf, sizeof(o->vnf), "%s", a->vnf);
}

/* Does @o carry what its type needs, in a form the agents accept? */
static int order_check(const struct action_record *o)
{
	if (action_has_source(o->type)) {
		/* The fast path enforces IPv4 prefixes only (vnfsec.proto). */
		if (o->addr_len != 4)
			return -EAFNOSUPPORT;
		if (o->prefix_len < 1 || o->prefix_len > 32)
			return -EINVAL;
		if (o->type == VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE &&
		    !o->rate_pps)
			return -EINVAL;
		return 0;
	}
	if (action_has_flow(o->type))
		return o->flow.len == 4 || o->flow.len == 16 ? 0 : -EINVAL;
	if (action_has_vnf(o->type))
		return o->vnf[0] ? 0 : -EINVAL;
	return -EINVAL;
}

/*
 * Plain, or signed for this agent alone with a sequence that keeps
 * growing across server restarts (the wall clock in us), so the agent's
 * replay check never refuses a fresh order.
 */
static int send_action(struct server *srv, struct agent_record *agent,
		       Vnfsec__Action *a, time_t now)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__SignedAction sa = VNFSEC__SIGNED_ACTION__INIT;
	uint8_t payload[1024], *env = NULL;
	struct signed_instruction in;
	struct timespec ts;
	size_t len;
	int ret;

	f.version = WIRE_VERSION;
	if (!srv->signing_key) {
		f.body_case = VNFSEC__FRAME__BODY_ACTION;
		f.action = a;
		return session_send(srv, agent->session, &f);
	}
	len = vnfsec__action__get_packed_size(a);
	if (len > sizeof(payload))
		return -EMSGSIZE;
	vnfsec__action__pack(a, payload);
	clock_gettime(CLOCK_REALTIME, &ts);
	srv->last_signed_seq++;
	if (srv->last_signed_seq < (uint64_t)ts.tv_sec * 1000000 +
				   ts.tv_nsec / 1000)
		srv->last_signed_seq = (uint64_t)ts.tv_sec * 1000000 +
				       ts.tv_nsec / 1000;
	in = (struct signed_instruction){
		.issuer = srv->name, .target = agent->id,
		.sequence = srv->last_signed_seq,
		.not_after = now + SIGNED_ACTION_LIFETIME_S,
		.payload = payload, .payload_len = len,
	};
	ret = signing_seal(srv->signing_key, &in, &env, &len);
	if (ret)
		return ret;
	sa.envelope.data = env;
	sa.envelope.len = len;
	f.body_case = VNFSEC__FRAME__BODY_SIGNED_ACTION;
	f.signed_action = &sa;
	ret = session_send(srv, agent->session, &f);
	free(env);
	return ret;
}

void action_to_wire(const struct action_record *act, Vnfsec__Action *a,
		    Vnfsec__FlowTuple *flow)
{
	a->seq = act->seq;
	a->type = act->type;
	a->ttl_s = act->ttl_s;
	if (action_has_source(act->type)) {
		a->src_addr.data = (uint8_t *)act->addr;
		a->src_addr.len = act->addr_len;
		a->prefix_len = act->prefix_len;
		a->rate_pps = act->rate_pps;
	} else if (action_has_flow(act->type)) {
		flow->src_addr.data = (uint8_t *)act->flow.src;
		flow->src_addr.len = act->flow.len;
		flow->dst_addr.data = (uint8_t *)act->flow.dst;
		flow->dst_addr.len = act->flow.len;
		flow->src_port = act->flow.src_port;
		flow->dst_port = act->flow.dst_port;
		flow->proto = act->flow.proto;
		a->flow = flow;
	} else {
		a->vnf = (char *)act->vnf;
	}
}

int order_action(struct server *srv, struct agent_record *agent,
		 const struct action_record *o, uint64_t incident_id,
		 uint64_t parent_seq, uint64_t cause)
{
	struct action_record *act;

	return order_action_rec(srv, agent, o, incident_id, parent_seq, cause,
				&act);
}

int order_action_rec(struct server *srv, struct agent_record *agent,
		     const struct action_record *o, uint64_t incident_id,
		     uint64_t parent_seq, uint64_t cause,
		     struct action_record **out)
{
	Vnfsec__Action a = VNFSEC__ACTION__INIT;
	Vnfsec__FlowTuple flow = VNFSEC__FLOW_TUPLE__INIT;
	struct action_record *act;
	time_t now = time(NULL);
	char target[128];
	int ret;

	if (!agent->session)
		return -ENOTCONN;
	ret = order_check(o);
	if (ret)
		return ret;
	if (order_in_force(srv, agent, o, now))
		return -EALREADY;
	act = calloc(1, sizeof(*act));
	if (!act)
		return -ENOMEM;
	act->seq = ++agent->next_action_seq;
	act->agent = agent;
	act->incident_id = incident_id;
	act->parent_seq = parent_seq;
	act->type = o->type;
	act->ttl_s = o->ttl_s;
	act->state = ACTION_SENT;
	act->sent = now;

	/* Only the fields of its type: an agent must not guess. */
	if (action_has_source(o->type)) {
		memcpy(act->addr, o->addr, o->addr_len);
		act->addr_len = o->addr_len;
		act->prefix_len = o->prefix_len;
		if (o->type == VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE)
			act->rate_pps = o->rate_pps;
	} else if (action_has_flow(o->type)) {
		act->flow = o->flow;
	} else {
		snprintf(act->vnf, sizeof(act->vnf), "%s", o->vnf);
	}
	action_to_wire(act, &a, &flow);
	a.assessment_id = cause;
	ret = send_action(srv, agent, &a, now);
	if (ret) {
		free(act);
		return ret;
	}
	order_lift(srv, agent, act);
	/* Sent: tracked even if it cannot be indexed (then sent again). */
	order_index(srv, act);
	act->next = srv->actions;
	srv->actions = act;
	act->agent_next = agent->actions;
	agent->actions = act;
	srv->stats.actions_sent++;
	if (store_action(srv->store, act))
		srv->stats.store_errors++;
	alert_action(srv, act);
	/* The action event says it all; a line each is too many at 10k/s. */
	action_target_str(act, target, sizeof(target));
	log_debug("%s %s: ordered %s of %s for %u s (action %llu, incident %llu)",
		  agent->is_server ? "child server" : "agent", agent->id,
		  action_type_name(act->type), target, act->ttl_s,
		  (unsigned long long)act->seq,
		  (unsigned long long)incident_id);
	*out = act;
	return 0;
}

static void run_hook(struct server *srv, struct incident *inc)
{
	posix_spawn_file_actions_t fa;
	json_object *o = incident_json(inc);
	const char *text = json_object_to_json_string_ext(o,
						JSON_LINE);
	char *argv[] = { "/bin/sh", "-c", (char *)srv->cfg->hook, NULL };
	int fds[2], slot, ret;
	size_t len = strlen(text), off = 0;
	pid_t pid;

	for (slot = 0; slot < HOOKS_MAX && hook_pids[slot]; slot++)
		;
	if (slot == HOOKS_MAX) {
		log_warn("hook: %d still running; incident %llu not handed over; make the hook return sooner",
			 HOOKS_MAX, (unsigned long long)inc->id);
		srv->stats.hooks_failed++;
		goto out;
	}
	if (pipe2(fds, O_CLOEXEC)) {
		log_err("hook: cannot make a pipe: %s", strerror(errno));
		srv->stats.hooks_failed++;
		goto out;
	}
	/* Its stdout must not mix with alerts on our stdout. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	ret = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	if (ret) {
		log_err("hook: cannot run '%s': %s", srv->cfg->hook,
			strerror(ret));
		srv->stats.hooks_failed++;
		close(fds[1]);
		goto out;
	}
	hook_pids[slot] = pid;
	/* Far below the pipe's 64 KiB: the write cannot block. */
	while (off < len) {
		ssize_t n = write(fds[1], text + off, len - off);

		if (n <= 0)
			break;
		off += n;
	}
	if (write(fds[1], "\n", 1) != 1 || off < len)
		log_warn("hook: it did not read incident %llu whole",
			 (unsigned long long)inc->id);
	close(fds[1]);
	srv->stats.hooks_run++;
	inc->hook_run = true;
out:
	json_object_put(o);
}

void hooks_reap(struct server *srv)
{
	int slot, status;

	for (slot = 0; slot < HOOKS_MAX; slot++) {
		if (!hook_pids[slot] ||
		    waitpid(hook_pids[slot], &status, WNOHANG) <= 0)
			continue;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			log_warn("hook '%s' failed (status %d); check the hook command",
				 srv->cfg->hook, status);
			srv->stats.hooks_failed++;
		}
		hook_pids[slot] = 0;
	}
}

static void order_agent(struct server *srv, struct incident *inc,
			const struct action_record *o,
			struct agent_record *agent, uint64_t cause)
{
	int ret = order_action(srv, agent, o, inc->id, 0, cause);

	/* Its session is on another server, or on none: by the bus. */
	if (ret == -ENOTCONN && srv->bus)
		ret = bus_order(srv, agent, o, inc->id, cause);
	if (!ret)
		inc->actions_sent++;
	else if (ret != -EALREADY && ret != -ENOTCONN &&
		 ret != -EAFNOSUPPORT)
		log_warn("incident %llu: cannot order %s: %s",
			 (unsigned long long)inc->id, agent->id,
			 strerror(-ret));
}

/* Does @addr/@prefix_len hold the address an agent connects from? */
static bool agent_address(const struct server *srv, const uint8_t *addr,
			  unsigned int len, unsigned int prefix_len)
{
	const struct agent_record *a;
	unsigned int full = prefix_len / 8, rest = prefix_len % 8;

	if (prefix_len > len * 8)
		return false;
	for (a = srv->agents; a; a = a->next) {
		char host[64];
		uint8_t peer[16];
		char *colon;

		/* "ADDR:PORT" (tls.c peer_name(), IPv6 without brackets). */
		snprintf(host, sizeof(host), "%s", a->address);
		colon = strrchr(host, ':');
		if (!colon)
			continue;
		*colon = '\0';
		if (inet_pton(len == 4 ? AF_INET : AF_INET6, host, peer) != 1)
			continue;
		if (!memcmp(peer, addr, full) &&
		    (!rest || !((peer[full] ^ addr[full]) & (0xff00 >> rest))))
			return true;
	}
	return false;
}

bool remediate_protected(const struct server *srv, const uint8_t *addr,
			 unsigned int len, unsigned int prefix_len,
			 const char **vnf, const char **why)
{
	if (playbook_protected(srv->pb, addr, len, prefix_len, vnf)) {
		*why = **vnf ? "an address of VNF" :
			       "in the policy's allowlist (management network)";
		return true;
	}
	if (agent_address(srv, addr, len, prefix_len)) {
		*vnf = "";
		*why = "an agent's address (management network)";
		return true;
	}
	return false;
}

void incident_guard(struct server *srv, struct incident *inc,
		    const char *vnf_src)
{
	const uint8_t *src = inc->src_len ? inc->src : inc->flow.src;
	unsigned int len = inc->src_len ? inc->src_len :
			   inc->has_flow ? inc->flow.len : 0;
	const char *vnf = "", *why = NULL;
	char addr[INET6_ADDRSTRLEN] = "?";

	if (inc->requires_operator)
		return;
	/*
	 * A spoofed source is a claim: the sender is the VNF behind the port
	 * the agent names, and only an operator may cut a VNF off.
	 */
	if (inc->heuristic == VNFSEC__HEURISTIC__HEURISTIC_SPOOFED_SOURCE &&
	    vnf_src && vnf_src[0]) {
		inc->requires_operator = true;
		snprintf(inc->proposed_vnf, sizeof(inc->proposed_vnf), "%s",
			 vnf_src);
		snprintf(inc->operator_reason, sizeof(inc->operator_reason),
			 "VNF %s sends with addresses not its own", vnf_src);
		log_warn("incident %llu: %s: no automatic action; an operator decides (proposed: quarantine_vnf %s)",
			 (unsigned long long)inc->id, inc->operator_reason,
			 vnf_src);
		inc->revision++;
		return;
	}
	if (!len)
		return;
	if (!remediate_protected(srv, src, len, len * 8, &vnf, &why)) {
		/* The agent's policy knows the source as one of its VNFs. */
		if (!vnf_src || !vnf_src[0])
			return;
		vnf = vnf_src;
		why = "an address of VNF";
	}
	inet_ntop(len == 4 ? AF_INET : AF_INET6, src, addr, sizeof(addr));
	inc->requires_operator = true;
	snprintf(inc->proposed_vnf, sizeof(inc->proposed_vnf), "%s", vnf);
	snprintf(inc->operator_reason, sizeof(inc->operator_reason),
		 "source %s is %s%s%s", addr, why, *vnf ? " " : "", vnf);
	log_warn("incident %llu: %s: no automatic block; an operator decides%s%s",
		 (unsigned long long)inc->id, inc->operator_reason,
		 *vnf ? " (proposed: quarantine_vnf " : "",
		 *vnf ? vnf : "");
	if (*vnf)
		log_warn("incident %llu: to follow the proposal, on the host of VNF %s: vnfsecctl quarantine %s",
			 (unsigned long long)inc->id, vnf, vnf);
	inc->revision++;
}

/*
 * Orders that cut a source off: block and rate-limit a prefix, drop a
 * flow from it. The address they aim at, or false for the others.
 */
static bool order_blocks(const struct action_record *o, const uint8_t **addr,
			 unsigned int *len, unsigned int *prefix_len)
{
	if (o->type == VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE ||
	    o->type == VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE) {
		*addr = o->addr;
		*len = o->addr_len;
		*prefix_len = o->prefix_len;
		return true;
	}
	if (o->type == VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW) {
		*addr = o->flow.src;
		*len = o->flow.len;
		*prefix_len = o->flow.len * 8;
		return true;
	}
	return false;
}

/*
 * An agent back after its session ended (a crash, a cut link) gets again
 * every order it never answered that is still in force: an order sent on
 * a session that died unread is not lost. The agent acts on a repeat as
 * on the first (blocks are idempotent) and answers it.
 */
void actions_redeliver(struct server *srv, struct agent_record *agent)
{
	time_t now = time(NULL);
	struct action_record *act;
	unsigned int n = 0;

	for (act = agent->actions; act && agent->session; act = act->agent_next) {
		Vnfsec__Action a = VNFSEC__ACTION__INIT;
		Vnfsec__FlowTuple flow = VNFSEC__FLOW_TUPLE__INIT;
		const uint8_t *addr;
		unsigned int len, prefix_len;
		const char *vnf, *why;

		if (act->state != ACTION_SENT || act->lifted ||
		    (act->ttl_s && now >= act->sent + (time_t)act->ttl_s))
			continue;
		/* Its target may have become protected since (a new --policy). */
		if (order_blocks(act, &addr, &len, &prefix_len) &&
		    remediate_protected(srv, addr, len, prefix_len, &vnf, &why))
			continue;
		action_to_wire(act, &a, &flow);
		/* What is left of its TTL, not a fresh one. */
		if (act->ttl_s)
			a.ttl_s = act->sent + act->ttl_s - now;
		if (send_action(srv, agent, &a, now))
			break;
		n++;
	}
	if (n)
		log_info("%s %s: %u unanswered orders sent again",
			 agent->is_server ? "child server" : "agent", agent->id,
			 n);
}

/* Automation is never aimed at a VNF (docs/server.md). */
static bool order_allowed(struct server *srv, struct incident *inc,
			  const struct action_record *o)
{
	const uint8_t *addr;
	unsigned int len, prefix_len;
	const char *vnf, *why;

	if (!order_blocks(o, &addr, &len, &prefix_len))
		return true;
	if (inc->requires_operator)
		return false;
	/* The incident's own source was checked when it was seen. */
	if (inc->src_len && len == inc->src_len && prefix_len == len * 8 &&
	    !memcmp(addr, inc->src, len))
		return true;
	if (!remediate_protected(srv, addr, len, prefix_len, &vnf, &why))
		return true;
	log_warn("incident %llu: not ordering %s: its target /%u covers %s%s%s",
		 (unsigned long long)inc->id, action_type_name(o->type),
		 prefix_len, why, *vnf ? " " : "", vnf);
	return false;
}

/*
 * The action's order for this incident, its target taken from the
 * incident: false when the incident lacks it (a flow action for a report
 * without a flow, a VNF action without a VNF name, a source action for a
 * pattern across sources).
 */
static bool incident_order(const struct server *srv,
			   const struct incident *inc,
			   const struct policy_action *pa,
			   struct action_record *o)
{
	memset(o, 0, sizeof(*o));
	o->type = playbook_action_type(pa->type);
	o->ttl_s = pa->has_ttl ? pa->ttl_s : srv->pb->default_ttl;
	if (action_has_source(o->type)) {
		if (!inc->src_len)
			return false;
		memcpy(o->addr, inc->src, inc->src_len);
		o->addr_len = inc->src_len;
		o->prefix_len = pa->prefix_len ? pa->prefix_len : 32;
		o->rate_pps = pa->rate_pps;
		return true;
	}
	if (action_has_flow(o->type)) {
		o->flow = inc->flow;
		return inc->has_flow;
	}
	if (action_has_vnf(o->type)) {
		snprintf(o->vnf, sizeof(o->vnf), "%s", inc->vnf);
		return inc->vnf[0];
	}
	return false;
}

static void order_all(struct server *srv, struct incident *inc,
		      const struct policy_playbook *b,
		      const struct action_record *o,
		      struct agent_record *reporter, uint64_t cause)
{
	struct agent_record *agent;
	unsigned int i;

	for (i = 0; i < inc->nr_agents; i++)
		if (!inc->agents[i].ordered)
			order_agent(srv, inc, o, inc->agents[i].agent, cause);
	/* Past INCIDENT_AGENTS_MAX the reporter is not listed: order it too. */
	if (!incident_lists(inc, reporter))
		order_agent(srv, inc, o, reporter, cause);
	if (b->scope == POLICY_SCOPE_ALL)
		for (agent = srv->agents; agent; agent = agent->next)
			order_agent(srv, inc, o, agent, cause);
}

/* Failed attestation, by its quotes (docs/trust.md). */
static bool reporter_untrusted(const struct agent_record *a)
{
	return a->isolated || (agent_attested(a) && !agent_trusted(a));
}

void remediate(struct server *srv, struct incident *inc,
	       struct agent_record *reporter, uint64_t cause)
{
	const struct policy_playbook *b;
	struct action_record o;
	unsigned int i, j;
	bool pending = !incident_lists(inc, reporter), targeted = true;

	/* A host that failed attestation must not steer our orders. */
	b = playbook_match(srv->pb, inc, reporter_untrusted(reporter));
	if (!b)
		return;
	for (j = 0; j < b->n_actions; j++)
		if (b->actions[j].type == POLICY_ACT_ALERT && srv->cfg->hook &&
		    !inc->hook_run)
			run_hook(srv, inc);
	/* Most reports add to an incident whose agents have their orders. */
	for (i = 0; i < inc->nr_agents && !pending; i++)
		pending = !inc->agents[i].ordered;
	if (!pending && b->scope != POLICY_SCOPE_ALL)
		return;
	for (j = 0; j < b->n_actions; j++) {
		if (b->actions[j].type == POLICY_ACT_ALERT)
			continue;
		/* Without its target yet: a later report may bring one. */
		if (!incident_order(srv, inc, &b->actions[j], &o)) {
			targeted = false;
			continue;
		}
		if (order_allowed(srv, inc, &o))
			order_all(srv, inc, b, &o, reporter, cause);
	}
	for (i = 0; i < inc->nr_agents && targeted; i++)
		inc->agents[i].ordered = true;
}

static struct action_record *action_find(struct agent_record *agent,
					 uint64_t seq)
{
	struct action_record *act;

	for (act = agent->actions; act; act = act->agent_next)
		if (act->seq == seq)
			return act;
	return NULL;
}

void action_result(struct server *srv, struct agent_record *agent,
		   const Vnfsec__ActionResult *r)
{
	struct action_record *act = action_find(agent, r->seq);
	struct incident *inc;

	if (!act || act->state != ACTION_SENT) {
		log_warn("%s: result for action %llu it was not sent or already answered; ignored",
			 agent->id, (unsigned long long)r->seq);
		return;
	}
	act->state = r->status ? ACTION_FAILED : ACTION_APPLIED;
	act->status = r->status;
	act->acked = time(NULL);
	if (r->status) {
		srv->stats.actions_failed++;
		log_warn("%s: action %llu failed: %s", agent->id,
			 (unsigned long long)r->seq, strerror(-r->status));
	} else {
		srv->stats.actions_applied++;
	}
	if (store_action(srv->store, act))
		srv->stats.store_errors++;
	bus_result(srv, act);
	if (act->parent_seq)
		parent_order_result(srv, act->parent_seq, act->status);
	alert_action_result(srv, act, agent->id);
	inc = act->incident_id ? incident_find(srv, act->incident_id) : NULL;
	if (!inc)
		return;
	if (r->status)
		inc->actions_failed++;
	else
		inc->actions_ok++;
	if (inc->actions_ok == inc->actions_sent &&
	    (inc->state == INCIDENT_OPEN ||
	     inc->state == INCIDENT_ACKNOWLEDGED))
		incident_set_state(srv, inc, INCIDENT_REMEDIATED);
}

/* Answered actions whose TTL ran out live on only in the store. */
void actions_tick(struct server *srv, time_t now)
{
	struct action_record **pp = &srv->actions, *act;

	while ((act = *pp)) {
		if (act->state != ACTION_SENT && act->ttl_s &&
		    now > act->sent + (time_t)act->ttl_s + 600) {
			struct action_record **ap = &act->agent->actions;

			while (*ap != act)
				ap = &(*ap)->agent_next;
			*ap = act->agent_next;
			*pp = act->next;
			order_unlink(srv, act);
			bus_forget(act);
			free(act);
			continue;
		}
		pp = &act->next;
	}
}

void actions_free(struct server *srv)
{
	while (srv->actions) {
		struct action_record *next = srv->actions->next;

		bus_forget(srv->actions);
		free(srv->actions);
		srv->actions = next;
	}
	free(srv->orders);
	srv->orders = NULL;
	srv->order_buckets = srv->nr_orders = 0;
}
