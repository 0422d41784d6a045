// SPDX-License-Identifier: GPL-2.0-only
/*
 * Playbooks: the one remediation language (docs/policy.md#playbooks).
 * The `playbooks:` section of a policy, and the server's own playbook
 * file (a policy document holding only `version` and `playbooks`), are
 * read here and nowhere else, with the validator's FILE:LINE:COL errors.
 * What an action does is the server's business (user/server/playbook.c);
 * this file only says what a playbook may say.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Values of `on:`; the server maps each to the heuristics it answers. */
const char *const policy_detector_names[] = {
	"syn_flood", "port_scan", "flow_cut", "rate", "volume",
	"policy_violation", "l7_violation", "shm_intrusion",
	"cache_side_channel", "malformed_traffic", "fragment_evasion",
	"spoofed_source", "pushed_detector", "threat_match", "any",
};
const size_t policy_n_detectors = ARRAY_SIZE(policy_detector_names);

/* Index = enum policy_action_type - 1. */
const char *const policy_action_names[] = {
	"alert", "block_source", "drop_flow", "mirror", "quarantine",
	"rate_limit_source", "unblock_source", "monitor_flow", "release",
};
const size_t policy_n_actions = ARRAY_SIZE(policy_action_names);

static const char *const scope_names[] = { "reporting", "all" };
static const char *const bool_names[] = { "false", "true" };

static size_t seq_len(const yaml_node_t *n)
{
	return n->data.sequence.items.top - n->data.sequence.items.start;
}

/* Actions whose target is the incident's source prefix. */
static bool acts_on_source(enum policy_action_type t)
{
	return t == POLICY_ACT_BLOCK_SOURCE || t == POLICY_ACT_UNBLOCK_SOURCE ||
	       t == POLICY_ACT_RATE_LIMIT_SOURCE;
}

/* A parsed action and where its optional keys were written. */
struct raw_action {
	struct policy_action *a;
	yaml_mark_t prefix_at, rate_at;
	bool has_prefix;
};

static void act_type(struct pctx *c, const char *path, yaml_node_t *n,
		     void *o)
{
	struct raw_action *ra = o;
	int t;

	if (get_enum(c, path, n, policy_action_names, policy_n_actions, &t))
		ra->a->type = (enum policy_action_type)(t + 1);
}

static void act_ttl(struct pctx *c, const char *path, yaml_node_t *n, void *o)
{
	struct raw_action *ra = o;

	if (get_u32(c, path, n, 0, 604800, &ra->a->ttl_s))
		ra->a->has_ttl = 1;
}

static void act_prefix(struct pctx *c, const char *path, yaml_node_t *n,
		       void *o)
{
	struct raw_action *ra = o;
	uint32_t x;

	ra->prefix_at = n->start_mark;
	if (get_u32(c, path, n, 1, 32, &x)) {
		ra->a->prefix_len = (uint8_t)x;
		ra->has_prefix = true;
	}
}

static void act_rate(struct pctx *c, const char *path, yaml_node_t *n,
		     void *o)
{
	struct raw_action *ra = o;

	ra->rate_at = n->start_mark;
	get_u32(c, path, n, 1, 100000000, &ra->a->rate_pps);
}

const struct key_spec action_keys[] = {
	{ "type", true, act_type },
	{ "ttl_s", false, act_ttl },
	{ "prefix_len", false, act_prefix },
	{ "rate_pps", false, act_rate },
	{ NULL },
};

/* Keys that mean something for one kind of action only. */
static void action_check(struct pctx *c, const char *path, yaml_node_t *it,
			 struct raw_action *ra)
{
	struct policy_action *a = ra->a;

	if (a->type == POLICY_ACT_ALERT && a->has_ttl)
		perr(c, it->start_mark, "%s: ttl_s has no meaning for 'alert'",
		     path);
	if (ra->has_prefix && !acts_on_source(a->type))
		perr(c, ra->prefix_at,
		     "%s: prefix_len belongs to block_source, unblock_source and rate_limit_source",
		     path);
	if (a->rate_pps && a->type != POLICY_ACT_RATE_LIMIT_SOURCE)
		perr(c, ra->rate_at,
		     "%s: rate_pps belongs to rate_limit_source only", path);
	if (a->type == POLICY_ACT_RATE_LIMIT_SOURCE && !a->rate_pps)
		perr(c, it->start_mark,
		     "%s: rate_limit_source needs rate_pps (packets/s, 1..100000000)",
		     path);
	if (!ra->has_prefix)
		a->prefix_len = acts_on_source(a->type) ? 32 : 0;
}

static void pb_name(struct pctx *c, const char *path, yaml_node_t *n, void *o)
{
	struct raw_playbook *b = o;

	get_name(c, path, n, b->b.name, sizeof(b->b.name));
}

static void pb_on(struct pctx *c, const char *path, yaml_node_t *n, void *o)
{
	struct raw_playbook *b = o;
	int d;

	if (get_enum(c, path, n, policy_detector_names, policy_n_detectors, &d))
		strcpy(b->b.detector, policy_detector_names[d]);
}

static void pb_sev(struct pctx *c, const char *path, yaml_node_t *n, void *o)
{
	struct raw_playbook *b = o;

	get_u32(c, path, n, 1, 10, &b->b.min_severity);
}

static void pb_scope(struct pctx *c, const char *path, yaml_node_t *n,
		     void *o)
{
	struct raw_playbook *b = o;
	int s;

	if (get_enum(c, path, n, scope_names, ARRAY_SIZE(scope_names), &s))
		b->b.scope = (uint8_t)s;
}

static void pb_untrusted(struct pctx *c, const char *path, yaml_node_t *n,
			 void *o)
{
	struct raw_playbook *b = o;
	int v;

	if (get_enum(c, path, n, bool_names, ARRAY_SIZE(bool_names), &v))
		b->b.act_on_untrusted = (uint8_t)v;
}

static void pb_actions(struct pctx *c, const char *path, yaml_node_t *n,
		       void *o)
{
	struct raw_playbook *b = o;
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	size_t i;

	if (!expect_seq(c, path, n, POLICY_MAX_ACTIONS))
		return;
	if (!seq_len(n))
		perr(c, n->start_mark, "%s: empty list: a playbook needs an action",
		     path);
	for (i = 0; i < seq_len(n); i++) {
		struct policy_action *a = &b->b.actions[b->b.n_actions];
		struct raw_action ra = { .a = a };

		it = node_get(c, n->data.sequence.items.start[i]);
		if (!it)
			break;
		path_index(sub, path, i);
		b->action_at[b->b.n_actions] = it->start_mark;
		if (!parse_map(c, sub, it, action_keys, &ra) || !a->type) {
			memset(a, 0, sizeof(*a));
			continue;
		}
		action_check(c, sub, it, &ra);
		b->b.n_actions++;
	}
}

const struct key_spec playbook_keys[] = {
	{ "name", true, pb_name },
	{ "on", true, pb_on },
	{ "min_severity", false, pb_sev },
	{ "scope", false, pb_scope },
	{ "act_on_untrusted", false, pb_untrusted },
	{ "actions", true, pb_actions },
	{ NULL },
};

void parse_playbooks(struct pctx *c, const char *path, yaml_node_t *n,
		     void *obj)
{
	struct raw_policy *r = obj;
	char sub[POLICY_PATH_MAX];
	yaml_node_t *it;
	size_t i;

	if (!expect_seq(c, path, n, POLICY_MAX_PLAYBOOKS))
		return;
	r->has_playbooks = true;
	r->playbooks = calloc(seq_len(n) + 1, sizeof(*r->playbooks));
	if (!r->playbooks) {
		c->err = -ENOMEM;
		return;
	}
	for (i = 0; i < seq_len(n); i++) {
		struct raw_playbook *b = &r->playbooks[r->n_playbooks];

		it = node_get(c, n->data.sequence.items.start[i]);
		if (!it)
			break;
		path_index(sub, path, i);
		b->at = it->start_mark;
		b->b.min_severity = 1;
		if (parse_map(c, sub, it, playbook_keys, b) && b->b.name[0] &&
		    b->b.detector[0])
			r->n_playbooks++;
		else
			memset(b, 0, sizeof(*b));
	}
}

/*
 * The server picks one playbook per incident by what it handles and its
 * min_severity: two that handle the same detector at the same severity
 * would leave the choice to their order in the file.
 */
void check_playbooks(struct pctx *c)
{
	const struct raw_policy *r = c->raw;
	uint32_t i, j;

	for (i = 0; i < r->n_playbooks; i++) {
		const struct raw_playbook *b = &r->playbooks[i];

		for (j = 0; j < i; j++) {
			const struct raw_playbook *o = &r->playbooks[j];

			if (!strcmp(o->b.name, b->b.name))
				perr(c, b->at, "playbooks[%u].name: duplicate playbook '%s' (first at line %zu)",
				     i, b->b.name, o->at.line + 1);
			else if (!strcmp(o->b.detector, b->b.detector) &&
				 o->b.min_severity == b->b.min_severity)
				perr(c, b->at,
				     "playbooks[%u]: contradicts playbooks[%u] '%s' (line %zu): both handle %s at min_severity %u",
				     i, j, o->b.name, o->at.line + 1, b->b.detector,
				     b->b.min_severity);
		}
		for (j = 1; j < b->b.n_actions; j++) {
			uint32_t k;

			for (k = 0; k < j; k++)
				if (b->b.actions[k].type == b->b.actions[j].type)
					break;
			if (k < j)
				perr(c, b->action_at[j],
				     "playbooks[%u].actions[%u]: '%s' is listed twice",
				     i, j, policy_action_name(b->b.actions[j].type));
		}
	}
}

int policy_playbook_format(const struct policy_playbook *b, char *buf,
			   size_t len)
{
	size_t off;
	uint32_t j;

	off = (size_t)snprintf(buf, len, "on=%s min_severity=%u", b->detector,
			       b->min_severity);
	/* Defaults left out: the canonical form of older policies holds. */
	if (b->scope && off < len)
		off += (size_t)snprintf(buf + off, len - off, " scope=all");
	if (b->act_on_untrusted && off < len)
		off += (size_t)snprintf(buf + off, len - off,
					" act_on_untrusted=true");
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, " actions=");
	for (j = 0; j < b->n_actions && off < len; j++) {
		const struct policy_action *a = &b->actions[j];

		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					j ? "," : "",
					policy_action_name(a->type));
		if (a->has_ttl && off < len)
			off += (size_t)snprintf(buf + off, len - off, ":%us",
						a->ttl_s);
		if (a->prefix_len && a->prefix_len != 32 && off < len)
			off += (size_t)snprintf(buf + off, len - off, "/%u",
						a->prefix_len);
		if (a->rate_pps && off < len)
			off += (size_t)snprintf(buf + off, len - off, "@%upps",
						a->rate_pps);
	}
	return off < len ? 0 : -ENOSPC;
}

/*
 * Keys of the root other than version and playbooks, each as an error:
 * a playbook file's mode or thresholds would otherwise be read and then
 * ignored. The file already loaded as a policy, so it is valid YAML.
 */
static int only_playbook_keys(const char *path, struct policy_diag *diag)
{
	yaml_parser_t yp;
	yaml_document_t doc;
	yaml_node_pair_t *pr;
	yaml_node_t *root;
	FILE *f = fopen(path, "r");
	int err = 0;

	if (!f) {
		diag_add(diag, "%s: cannot open: %s", path, strerror(errno));
		return -errno;
	}
	if (!yaml_parser_initialize(&yp)) {
		fclose(f);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&yp, f);
	if (!yaml_parser_load(&yp, &doc)) {
		diag_add(diag, "%s:1:1: changed while being read", path);
		err = -EINVAL;
		goto out;
	}
	root = yaml_document_get_root_node(&doc);
	for (pr = root && root->type == YAML_MAPPING_NODE ?
		  root->data.mapping.pairs.start : NULL;
	     pr && pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
		const char *key = k && k->type == YAML_SCALAR_NODE ?
				  (const char *)k->data.scalar.value : "?";

		if (!strcmp(key, "version") || !strcmp(key, "playbooks"))
			continue;
		diag_add(diag, "%s:%zu:%zu: %.64s: a playbook file holds only 'version' and 'playbooks'; give a whole policy with --policy",
			 path, k ? k->start_mark.line + 1 : 1,
			 k ? k->start_mark.column + 1 : 1, key);
		err = -EINVAL;
	}
	yaml_document_delete(&doc);
out:
	yaml_parser_delete(&yp);
	fclose(f);
	return err;
}

int policy_playbooks_load_file(const char *path,
			       struct policy_compiled **out,
			       struct policy_diag *diag)
{
	struct policy_compiled *p;
	int err = policy_load_file(path, &p, diag);

	*out = NULL;
	if (err)
		return err;
	err = only_playbook_keys(path, diag);
	if (err) {
		policy_free(p);
		return err;
	}
	if (!p->has_playbooks) {
		diag_add(diag, "%s:1:1: policy: missing required key 'playbooks' (an empty list orders nothing)",
			 path);
		policy_free(p);
		return -EINVAL;
	}
	*out = p;
	return 0;
}
