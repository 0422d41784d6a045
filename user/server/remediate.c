// SPDX-License-Identifier: GPL-2.0-only
/*
 * Remediation: the playbook turns an incident into actions for the agents
 * concerned, the external hook hears of it (an orchestrator may decide
 * more), and every action's result from the agent is tracked.
 */
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

/* The agent already enforces it: one order, not one per report. */
static bool block_in_force(struct agent_record *agent,
			   const uint8_t *addr, uint8_t len, time_t now)
{
	struct action_record *act;

	for (act = agent->actions; act; act = act->agent_next) {
		if (act->addr_len != len ||
		    act->type != VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE ||
		    act->state == ACTION_FAILED || memcmp(act->addr, addr, len))
			continue;
		if (!act->ttl_s || now < act->sent + (time_t)act->ttl_s)
			return true;
	}
	return false;
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

int order_block(struct server *srv, struct agent_record *agent,
		const uint8_t *addr, uint8_t addr_len, unsigned int prefix_len,
		unsigned int ttl_s, uint64_t incident_id, uint64_t parent_seq,
		uint64_t cause)
{
	Vnfsec__Action a = VNFSEC__ACTION__INIT;
	struct action_record *act;
	time_t now = time(NULL);
	char buf[64];
	int ret;

	if (!agent->session)
		return -ENOTCONN;
	/* The fast path enforces IPv4 prefixes only (vnfsec.proto). */
	if (addr_len != 4)
		return -EAFNOSUPPORT;
	if (block_in_force(agent, addr, addr_len, now))
		return -EALREADY;
	act = calloc(1, sizeof(*act));
	if (!act)
		return -ENOMEM;
	act->seq = ++agent->next_action_seq;
	act->agent = agent;
	act->incident_id = incident_id;
	act->parent_seq = parent_seq;
	act->type = VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE;
	memcpy(act->addr, addr, addr_len);
	act->addr_len = addr_len;
	act->prefix_len = prefix_len;
	act->ttl_s = ttl_s;
	act->state = ACTION_SENT;
	act->sent = now;

	a.seq = act->seq;
	a.type = act->type;
	a.src_addr.data = act->addr;
	a.src_addr.len = addr_len;
	a.prefix_len = prefix_len;
	a.ttl_s = ttl_s;
	a.assessment_id = cause;
	ret = send_action(srv, agent, &a, now);
	if (ret) {
		free(act);
		return ret;
	}
	act->next = srv->actions;
	srv->actions = act;
	act->agent_next = agent->actions;
	agent->actions = act;
	srv->stats.actions_sent++;
	if (store_action(srv->store, act))
		srv->stats.store_errors++;
	alert_action(srv, act);
	/* The action event says it all; a line each is too many at 10k/s. */
	log_debug("%s %s: ordered block of %s/%u for %u s (action %llu, incident %llu)",
		 agent->is_server ? "child server" : "agent", agent->id,
		 wire_addr_str(&a.src_addr, buf, sizeof(buf)), prefix_len,
		 ttl_s, (unsigned long long)act->seq,
		 (unsigned long long)incident_id);
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
			const struct playbook_rule *r,
			struct agent_record *agent, uint64_t cause)
{
	int ret = order_block(srv, agent, inc->src, inc->src_len,
			      r->prefix_len, r->ttl_s, inc->id, 0, cause);

	if (!ret)
		inc->actions_sent++;
	else if (ret != -EALREADY && ret != -ENOTCONN &&
		 ret != -EAFNOSUPPORT)
		log_warn("incident %llu: cannot order %s: %s",
			 (unsigned long long)inc->id, agent->id,
			 strerror(-ret));
}

void remediate(struct server *srv, struct incident *inc,
	       struct agent_record *reporter, uint64_t cause)
{
	const struct playbook_rule *r = playbook_match(srv->pb, inc);
	struct agent_record *agent;
	unsigned int i;

	if (!r)
		return;
	if (r->hook && srv->cfg->hook && !inc->hook_run)
		run_hook(srv, inc);
	if (r->action != VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE ||
	    !inc->src_len)
		return;
	for (i = 0; i < inc->nr_agents; i++) {
		if (inc->agents[i].ordered)
			continue;
		order_agent(srv, inc, r, inc->agents[i].agent, cause);
		inc->agents[i].ordered = true;
	}
	/* Past INCIDENT_AGENTS_MAX the reporter is not listed: order it too. */
	if (inc->nr_agents == INCIDENT_AGENTS_MAX)
		order_agent(srv, inc, r, reporter, cause);
	if (r->scope == SCOPE_ALL)
		for (agent = srv->agents; agent; agent = agent->next)
			order_agent(srv, inc, r, agent, cause);
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

		free(srv->actions);
		srv->actions = next;
	}
}
