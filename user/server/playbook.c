// SPDX-License-Identifier: GPL-2.0-only
/*
 * Playbook files, read with libyaml's document API:
 *
 *   rules:
 *     - on: agent_untrusted		# an agent failed attestation
 *       action: isolate_agent		# or none
 *     - incident: vertical_scan	# a heuristic name, or "any"
 *       indicator: false		# only when a threat indicator matched
 *       min_severity: 5
 *       action: block_source		# any action type, or "none"
 *       scope: reporting		# or "all"
 *       ttl_s: 300
 *       prefix_len: 32		# source actions
 *       rate_pps: 1000		# rate_limit_source only
 *       hook: true
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "user/common/log.h"
#include "user/server/playbook.h"

static void defaults(struct playbook *pb, unsigned int ttl)
{
	/* A known-bad source is kept out everywhere, not only where seen. */
	pb->rule[0] = (struct playbook_rule){
		.indicator = true, .min_severity = 1,
		.action = VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE,
		.scope = SCOPE_ALL, .ttl_s = ttl, .prefix_len = 32,
		.hook = true,
	};
	pb->rule[1] = (struct playbook_rule){
		.min_severity = 1,
		.action = VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE,
		.scope = SCOPE_REPORTING, .ttl_s = ttl, .prefix_len = 32,
		.hook = true,
	};
	pb->nr = 2;
}

struct pb_parse {
	yaml_document_t *doc;
	const char *path;
};

static int bad(struct pb_parse *p, yaml_node_t *n, const char *what)
{
	log_err("playbook %s:%lu: %s", p->path,
		(unsigned long)n->start_mark.line + 1, what);
	return -EINVAL;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
	       (const char *)n->data.scalar.value : NULL;
}

static int uint_value(struct pb_parse *p, yaml_node_t *n, unsigned int max,
		      unsigned int *out)
{
	const char *s = scalar(n);
	unsigned long v;
	char *end;

	if (!s)
		return bad(p, n, "expected a number");
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return bad(p, n, "number out of range");
	*out = v;
	return 0;
}

static int bool_value(struct pb_parse *p, yaml_node_t *n, bool *out)
{
	const char *s = scalar(n);

	if (s && (!strcmp(s, "true") || !strcmp(s, "yes")))
		*out = true;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "no")))
		*out = false;
	else
		return bad(p, n, "expected true or false");
	return 0;
}

static int heuristic_value(struct pb_parse *p, yaml_node_t *n, int *out)
{
	const char *s = scalar(n);
	int h;

	if (s && !strcmp(s, "any")) {
		*out = 0;
		return 0;
	}
	for (h = 1; s && strcmp(heuristic_name(h), "unknown"); h++) {
		if (!strcmp(s, heuristic_name(h))) {
			*out = h;
			return 0;
		}
	}
	return bad(p, n, "unknown incident type (a heuristic name or any)");
}

static int action_value(struct pb_parse *p, yaml_node_t *n, int *out)
{
	const char *s = scalar(n);
	int t;

	if (s && !strcmp(s, "none")) {
		*out = 0;
		return 0;
	}
	if (s && !strcmp(s, "unblock")) {
		*out = VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE;
		return 0;
	}
	if (s && !strcmp(s, "isolate_agent")) {
		*out = PLAYBOOK_ISOLATE_AGENT;
		return 0;
	}
	for (t = 1; s && strcmp(action_type_name(t), "unknown"); t++) {
		if (!strcmp(s, action_type_name(t))) {
			*out = t;
			return 0;
		}
	}
	return bad(p, n, "unknown action (block_source, unblock_source, rate_limit_source, drop_flow, monitor_flow, mirror_flow, quarantine_vnf, release_vnf, isolate_agent or none)");
}

static int trigger_value(struct pb_parse *p, yaml_node_t *n,
			 enum playbook_trigger *out)
{
	const char *s = scalar(n);

	if (s && !strcmp(s, "incident"))
		*out = TRIGGER_INCIDENT;
	else if (s && !strcmp(s, "agent_untrusted"))
		*out = TRIGGER_AGENT_UNTRUSTED;
	else
		return bad(p, n, "unknown trigger (incident or agent_untrusted)");
	return 0;
}

/*
 * An agent rule isolates the agent or does nothing; it has no incident
 * to match or take a target from, and the hook hears only of incidents.
 */
static int check_agent_rule(struct pb_parse *p, yaml_node_t *n,
			    struct playbook_rule *r, bool action_set,
			    bool incident_keys)
{
	if (r->on != TRIGGER_AGENT_UNTRUSTED) {
		if (r->action == PLAYBOOK_ISOLATE_AGENT)
			return bad(p, n, "isolate_agent belongs to rules 'on: agent_untrusted'");
		return 0;
	}
	if (incident_keys)
		return bad(p, n, "an 'on: agent_untrusted' rule takes only action (isolate_agent or none)");
	if (!action_set)
		r->action = PLAYBOOK_ISOLATE_AGENT;
	if (r->action && r->action != PLAYBOOK_ISOLATE_AGENT)
		return bad(p, n, "an 'on: agent_untrusted' rule isolates the agent (isolate_agent) or does nothing (none)");
	r->hook = false;
	return 0;
}

static int scope_value(struct pb_parse *p, yaml_node_t *n,
		       enum playbook_scope *out)
{
	const char *s = scalar(n);

	if (s && !strcmp(s, "reporting"))
		*out = SCOPE_REPORTING;
	else if (s && !strcmp(s, "all"))
		*out = SCOPE_ALL;
	else
		return bad(p, n, "unknown scope (reporting or all)");
	return 0;
}

static int parse_rule(struct pb_parse *p, yaml_node_t *n,
		      struct playbook_rule *r, unsigned int default_ttl)
{
	yaml_node_pair_t *pair;
	bool action_set = false, incident_keys = false;
	int ret = 0;

	if (n->type != YAML_MAPPING_NODE)
		return bad(p, n, "a rule must be a mapping");
	*r = (struct playbook_rule){
		.min_severity = 1,
		.action = VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE,
		.ttl_s = default_ttl, .prefix_len = 32, .hook = true,
	};
	for (pair = n->data.mapping.pairs.start;
	     !ret && pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		const char *key = scalar(k);

		if (key && !strcmp(key, "action"))
			action_set = true;
		else if (key && strcmp(key, "on"))
			incident_keys = true;
		if (!key)
			ret = bad(p, k, "keys must be plain words");
		else if (!strcmp(key, "on"))
			ret = trigger_value(p, v, &r->on);
		else if (!strcmp(key, "incident"))
			ret = heuristic_value(p, v, &r->heuristic);
		else if (!strcmp(key, "indicator"))
			ret = bool_value(p, v, &r->indicator);
		else if (!strcmp(key, "min_severity"))
			ret = uint_value(p, v, 10, &r->min_severity);
		else if (!strcmp(key, "action"))
			ret = action_value(p, v, &r->action);
		else if (!strcmp(key, "scope"))
			ret = scope_value(p, v, &r->scope);
		else if (!strcmp(key, "ttl_s"))
			ret = uint_value(p, v, 86400 * 365, &r->ttl_s);
		else if (!strcmp(key, "prefix_len"))
			ret = uint_value(p, v, 32, &r->prefix_len);
		else if (!strcmp(key, "rate_pps"))
			ret = uint_value(p, v, 100000000, &r->rate_pps);
		else if (!strcmp(key, "hook"))
			ret = bool_value(p, v, &r->hook);
		else
			ret = bad(p, k, "unknown key in a rule");
	}
	if (!ret)
		ret = check_agent_rule(p, n, r, action_set, incident_keys);
	if (!ret && action_has_source(r->action) && r->prefix_len < 1)
		ret = bad(p, n, "prefix_len must be 1..32");
	if (!ret && r->action == VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE &&
	    !r->rate_pps)
		ret = bad(p, n, "rate_limit_source needs rate_pps (packets/s, 1..100000000)");
	if (!ret && r->rate_pps &&
	    r->action != VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE)
		ret = bad(p, n, "rate_pps belongs to rate_limit_source only");
	return ret;
}

static int parse_doc(struct pb_parse *p, struct playbook *pb,
		     unsigned int default_ttl)
{
	yaml_node_t *root = yaml_document_get_root_node(p->doc);
	yaml_node_pair_t *pair;
	yaml_node_item_t *it;
	yaml_node_t *rules = NULL;
	int ret;

	if (!root || root->type != YAML_MAPPING_NODE) {
		log_err("playbook %s: expected a mapping with 'rules:'",
			p->path);
		return -EINVAL;
	}
	for (pair = root->data.mapping.pairs.start;
	     pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);

		if (scalar(k) && !strcmp(scalar(k), "rules"))
			rules = yaml_document_get_node(p->doc, pair->value);
		else
			return bad(p, k, "unknown top-level key (only rules)");
	}
	if (!rules || rules->type != YAML_SEQUENCE_NODE) {
		log_err("playbook %s: 'rules' must be a list", p->path);
		return -EINVAL;
	}
	for (it = rules->data.sequence.items.start;
	     it < rules->data.sequence.items.top; it++) {
		if (pb->nr == PLAYBOOK_RULES_MAX)
			return bad(p, rules, "more than 64 rules");
		ret = parse_rule(p, yaml_document_get_node(p->doc, *it),
				 &pb->rule[pb->nr], default_ttl);
		if (ret)
			return ret;
		pb->nr++;
	}
	return 0;
}

int playbook_load(const char *path, unsigned int default_ttl,
		  struct playbook **out)
{
	struct playbook *pb = calloc(1, sizeof(*pb));
	struct pb_parse p = { .path = path };
	yaml_parser_t parser;
	yaml_document_t doc;
	FILE *f;
	int ret;

	*out = NULL;
	if (!pb)
		return -ENOMEM;
	if (!path) {
		defaults(pb, default_ttl);
		*out = pb;
		return 0;
	}
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		log_err("playbook %s: %s; check --playbook", path,
			strerror(-ret));
		free(pb);
		return ret;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		log_err("playbook %s:%lu: not valid YAML: %s", path,
			(unsigned long)parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "?");
		ret = -EINVAL;
		goto out_parser;
	}
	p.doc = &doc;
	ret = parse_doc(&p, pb, default_ttl);
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
	fclose(f);
	if (ret) {
		free(pb);
		return ret;
	}
	log_info("playbook %s: %u rules", path, pb->nr);
	*out = pb;
	return 0;
}

void playbook_free(struct playbook *pb)
{
	free(pb);
}

const struct playbook_rule *playbook_match(const struct playbook *pb,
					   const struct incident *inc)
{
	unsigned int i;

	for (i = 0; i < pb->nr; i++) {
		const struct playbook_rule *r = &pb->rule[i];

		if (r->on != TRIGGER_INCIDENT)
			continue;
		if ((!r->heuristic || r->heuristic == inc->heuristic) &&
		    (!r->indicator || inc->has_indicator) &&
		    inc->severity >= r->min_severity)
			return r;
	}
	return NULL;
}

const struct playbook_rule *playbook_match_untrusted(const struct playbook *pb)
{
	unsigned int i;

	for (i = 0; i < pb->nr; i++)
		if (pb->rule[i].on == TRIGGER_AGENT_UNTRUSTED)
			return &pb->rule[i];
	return NULL;
}
