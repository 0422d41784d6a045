// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsecctl policy check|show|diff work offline on files; apply validates
 * locally before it bothers the agent, learn asks the agent to observe
 * and writes the proposal for review.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/vnfsec_policy.h"
#include "user/common/log.h"
#include "user/ctl/ctl.h"

static struct json_object *diag_json(const struct policy_diag *d)
{
	struct json_object *a = json_object_new_array();
	uint32_t i;

	for (i = 0; i < d->n; i++)
		json_object_array_add(a, json_object_new_string(d->lines[i]));
	return a;
}

/* Load one file; on failure print why and return the exit code. */
static int load(const struct ctl_opts *o, const char *path,
		struct policy_compiled **p, struct json_object *report)
{
	struct policy_diag d = { 0 };
	int err;

	err = policy_load_file(path, p, &d);
	if (report) {
		json_object_object_add(report, "file", json_object_new_string(path));
		json_object_object_add(report, "valid", json_object_new_boolean(!err));
		json_object_object_add(report, "errors", diag_json(&d));
	}
	if (!o->json || !report)
		policy_diag_print(&d, stderr);
	policy_diag_free(&d);
	return err ? CTL_EDAEMON : CTL_OK;
}

static int check(const struct ctl_opts *o, int argc, char **argv)
{
	int i, ret = CTL_OK;

	for (i = 0; i < argc; i++) {
		struct json_object *rep = o->json ? json_object_new_object() : NULL;
		struct policy_compiled *p = NULL;
		char hex[65];

		if (load(o, argv[i], &p, rep))
			ret = CTL_EDAEMON;
		if (p) {
			policy_digest_hex(p, hex);
			if (rep) {
				json_object_object_add(rep, "digest",
						       json_object_new_string(hex));
				json_object_object_add(rep, "rules",
						       json_object_new_int64(p->n_rules));
			} else {
				printf("%s: valid, %u VNFs, %u rules, digest %.16s\n",
				       argv[i], p->n_vnfs, p->n_rules, hex);
			}
		}
		if (rep) {
			ctl_print_json(rep);
			json_object_put(rep);
		}
		policy_free(p);
	}
	return ret;
}

static void item_json(void *ctx, const char *key, const char *val)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "value", json_object_new_string(val));
	json_object_array_add(ctx, o);
}

static int show(const struct ctl_opts *o, const char *path)
{
	struct policy_compiled *p;
	struct json_object *out, *items;
	char hex[65];
	int ret;

	ret = load(o, path, &p, NULL);
	if (ret)
		return ret;
	if (!o->json) {
		ret = policy_dump(p, stdout) ? CTL_EDAEMON : CTL_OK;
		policy_free(p);
		return ret;
	}
	out = json_object_new_object();
	items = json_object_new_array();
	policy_digest_hex(p, hex);
	json_object_object_add(out, "digest", json_object_new_string(hex));
	json_object_object_add(out, "revision", json_object_new_int64((int64_t)p->revision));
	if (policy_each_item(p, item_json, items))
		ret = CTL_EDAEMON;
	json_object_object_add(out, "items", items);
	ctl_print_json(out);
	json_object_put(out);
	policy_free(p);
	return ret;
}

struct diff_json {
	struct json_object *added, *removed, *changed;
};

static void change_json(void *ctx, char op, const char *key,
			const char *old_val, const char *new_val)
{
	struct diff_json *d = ctx;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "key", json_object_new_string(key));
	if (op != '+')
		json_object_object_add(o, "old", json_object_new_string(old_val));
	if (op != '-')
		json_object_object_add(o, "new", json_object_new_string(new_val));
	json_object_array_add(op == '+' ? d->added : op == '-' ? d->removed :
			      d->changed, o);
}

static int diff(const struct ctl_opts *o, const char *a, const char *b)
{
	struct policy_compiled *pa = NULL, *pb = NULL;
	struct diff_json d;
	struct json_object *out;
	int ret, n;

	ret = load(o, a, &pa, NULL);
	if (load(o, b, &pb, NULL))
		ret = CTL_EDAEMON;
	if (ret)
		goto out;
	if (!o->json) {
		n = policy_diff(pa, pb, stdout);
		if (n == 0)
			printf("no differences\n");
		ret = n < 0 ? CTL_EDAEMON : CTL_OK;
		goto out;
	}
	out = json_object_new_object();
	d.added = json_object_new_array();
	d.removed = json_object_new_array();
	d.changed = json_object_new_array();
	json_object_object_add(out, "added", d.added);
	json_object_object_add(out, "removed", d.removed);
	json_object_object_add(out, "changed", d.changed);
	n = policy_diff_each(pa, pb, change_json, &d);
	ret = n < 0 ? CTL_EDAEMON : CTL_OK;
	ctl_print_json(out);
	json_object_put(out);
out:
	policy_free(pa);
	policy_free(pb);
	return ret;
}

static int apply(const struct ctl_cmd *cmd, struct ctl_opts *o,
		 const char *file)
{
	struct policy_compiled *p;
	struct json_object *args, *res;
	char path[PATH_MAX];
	int ret;

	/* An invalid policy never reaches the agent. */
	ret = load(o, file, &p, NULL);
	if (ret)
		return ret;
	policy_free(p);
	if (!realpath(file, path))
		return ctl_usage_error(cmd, "%s: %s", file, strerror(errno));
	args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string(path));
	ret = ctl_request(cmd, o, "policy.apply", args, &res);
	json_object_put(args);
	if (ret)
		return ret;
	return ctl_show(o, res, NULL);
}

struct learn_ctx {
	const char *duration;
	const char *output;
};

static int learn_opt(int c, void *ctx)
{
	struct learn_ctx *l = ctx;

	if (c == 'd')
		l->duration = optarg;
	else if (c == 'o')
		l->output = optarg;
	else
		return -1;
	return 0;
}

static int learn(const struct ctl_cmd *cmd, struct ctl_opts *o,
		 struct learn_ctx *l)
{
	struct json_object *args, *res, *y = NULL;
	unsigned long secs;
	const char *text;
	char *end;
	FILE *f;
	int ret;

	errno = 0;
	secs = l->duration ? strtoul(l->duration, &end, 10) : 0;
	if (!l->duration || errno || *end || !secs || secs > 86400 ||
	    l->duration[0] == '-')
		return ctl_usage_error(cmd, "--duration: give 1..86400 seconds");
	args = json_object_new_object();
	json_object_object_add(args, "duration_s", json_object_new_int64((int64_t)secs));
	/* The agent answers when the period is over. */
	if (o->timeout_s < (int)secs + 30)
		o->timeout_s = (int)secs + 30;
	ret = ctl_request(cmd, o, "policy.learn", args, &res);
	json_object_put(args);
	if (ret)
		return ret;
	if (json_object_is_type(res, json_type_string))
		y = res;
	else if (!json_object_object_get_ex(res, "yaml", &y) ||
		 !json_object_is_type(y, json_type_string))
		y = NULL;
	if (!y) {
		log_err("the agent's policy.learn result has no YAML text");
		json_object_put(res);
		return CTL_EDAEMON;
	}
	text = json_object_get_string(y);
	if (o->json) {
		ctl_print_json(res);
	} else if (l->output) {
		f = fopen(l->output, "w");
		if (!f || fputs(text, f) < 0 || fclose(f)) {
			log_err("%s: cannot write the proposal: %s", l->output,
				strerror(errno));
			json_object_put(res);
			return CTL_EDAEMON;
		}
		printf("proposal written to %s: review it, then 'vnfsecctl policy apply %s'\n",
		       l->output, l->output);
	} else {
		fputs(text, stdout);
	}
	json_object_put(res);
	return CTL_OK;
}

int ctl_cmd_policy(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		   char **argv)
{
	static const struct option learn_opts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL },
	};
	const char *sub = cmd->name + strlen("policy ");
	bool is_learn = !strcmp(sub, "learn");
	struct learn_ctx l = { 0 };
	int i, n;

	i = ctl_parse_opts(cmd, o, argc, argv, is_learn ? "d:o:" : NULL,
			   is_learn ? learn_opts : NULL,
			   is_learn ? learn_opt : NULL, &l);
	if (i < 0)
		return i == CTL_HELP_DONE ? CTL_HELP_DONE : CTL_EUSAGE;
	n = argc - i;
	if (!strcmp(sub, "check")) {
		if (n < 1)
			return ctl_usage_error(cmd, "give at least one FILE");
		return check(o, n, argv + i);
	}
	if (!strcmp(sub, "show")) {
		if (n != 1)
			return ctl_usage_error(cmd, "give exactly one FILE");
		return show(o, argv[i]);
	}
	if (!strcmp(sub, "diff")) {
		if (n != 2)
			return ctl_usage_error(cmd, "give OLD and NEW");
		return diff(o, argv[i], argv[i + 1]);
	}
	if (!strcmp(sub, "apply")) {
		if (n != 1)
			return ctl_usage_error(cmd, "give exactly one FILE");
		return apply(cmd, o, argv[i]);
	}
	if (n)
		return ctl_usage_error(cmd, "unexpected argument '%s'", argv[i]);
	return learn(cmd, o, &l);
}
