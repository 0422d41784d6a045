/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Remediation playbooks: which incidents (type, severity, whether a
 * threat indicator matched) get which action, on which agents, for how
 * long, and whether the external hook hears of them. First match wins.
 * Rules "on: agent_untrusted" say instead what happens to an agent whose
 * attestation failed (docs/trust.md): isolate it, or nothing.
 */
#ifndef VNFSEC_PLAYBOOK_H
#define VNFSEC_PLAYBOOK_H

#include <stdbool.h>

#include "user/server/server.h"

#define PLAYBOOK_RULES_MAX 64

/* What a rule answers: an incident (the default), or an agent's trust. */
enum playbook_trigger {
	TRIGGER_INCIDENT,
	TRIGGER_AGENT_UNTRUSTED,
};

/*
 * The server-side action of "on: agent_untrusted" rules: the agent's
 * reports stop leading to actions (no playbook, no hook) until it is
 * trusted again. Outside Vnfsec__ActionType: nothing goes on the wire.
 */
#define PLAYBOOK_ISOLATE_AGENT 1000

enum playbook_scope {
	SCOPE_REPORTING,		/* the agents that reported it */
	SCOPE_ALL,			/* every connected agent */
};

struct playbook_rule {
	enum playbook_trigger on;
	int heuristic;			/* 0: any type */
	bool indicator;			/* only when an indicator matched */
	unsigned int min_severity;
	int action;			/* ACTION_*, PLAYBOOK_ISOLATE_AGENT;
					 * 0: none (hook only) */
	enum playbook_scope scope;
	unsigned int ttl_s;
	unsigned int prefix_len;	/* source actions */
	unsigned int rate_pps;		/* rate_limit_source */
	bool hook;
};

struct playbook {
	unsigned int nr;
	struct playbook_rule rule[PLAYBOOK_RULES_MAX];
};

/*
 * Load @path (YAML), or the built-in defaults when @path is NULL: block
 * the source of any incident for @default_ttl, on every agent when a
 * threat indicator matched. 0 or -errno with a logged line naming the
 * line of the file at fault.
 */
int playbook_load(const char *path, unsigned int default_ttl,
		  struct playbook **out);
void playbook_free(struct playbook *pb);

const struct playbook_rule *playbook_match(const struct playbook *pb,
					   const struct incident *inc);
/* The first "on: agent_untrusted" rule, NULL when there is none. */
const struct playbook_rule *playbook_match_untrusted(const struct playbook *pb);

#endif /* VNFSEC_PLAYBOOK_H */
