// SPDX-License-Identifier: GPL-2.0-only
/*
 * Configuration files as command-line arguments: see conffile.h. libyaml
 * reads the file, so every error carries the mark of the node at fault.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "user/common/conffile.h"
#include "user/common/log.h"

#define CONF_MAX_ARGS	512

struct conf_build {
	const char *path;
	const struct option *opts;
	bool *on_cmdline;	/* per option: given on the command line */
	char *args[CONF_MAX_ARGS];
	char *where[CONF_MAX_ARGS];
	int n;
};

static int opt_count(const struct option *opts)
{
	int n = 0;

	while (opts[n].name)
		n++;
	return n;
}

/* getopt_long's own lookup: an exact name, or a unique prefix of one. */
static int opt_find_long(const struct option *opts, const char *name,
			 size_t len)
{
	int i, found = -1;

	for (i = 0; opts[i].name; i++) {
		if (strncmp(opts[i].name, name, len))
			continue;
		if (strlen(opts[i].name) == len)
			return i;
		found = found == -1 ? i : -2;
	}
	return found;
}

static int opt_find_short(const struct option *opts, int c)
{
	int i;

	for (i = 0; opts[i].name; i++)
		if (!opts[i].flag && opts[i].val == c)
			return i;
	return -1;
}

/*
 * Each option of @argv with its value (NULL for a switch), as getopt
 * would read them; what getopt would refuse is skipped (it says so).
 */
static void walk_args(const struct option *opts, int argc, char **argv,
		      void (*fn)(int o, const char *value, void *ctx),
		      void *ctx)
{
	int i, o;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			break;
		if (!strncmp(a, "--", 2)) {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

			o = opt_find_long(opts, a + 2, len);
			if (o < 0)
				continue;
			if (opts[o].has_arg != required_argument)
				fn(o, NULL, ctx);
			else if (eq)
				fn(o, eq + 1, ctx);
			else if (i + 1 < argc)
				fn(o, argv[++i], ctx);
			continue;
		}
		if (a[0] != '-' || !a[1])
			continue;
		for (a++; *a; a++) {
			o = opt_find_short(opts, *a);
			if (o < 0)
				break;
			if (opts[o].has_arg != required_argument) {
				fn(o, NULL, ctx);
				continue;
			}
			if (a[1])
				fn(o, a + 1, ctx);
			else if (i + 1 < argc)
				fn(o, argv[++i], ctx);
			break;
		}
	}
}

static void mark_seen(int o, const char *value, void *seen)
{
	(void)value;
	((bool *)seen)[o] = true;
}

/* Which options the command line sets, so the file's values yield. */
static void mark_cmdline(const struct option *opts, int argc, char **argv,
			 bool *seen)
{
	walk_args(opts, argc, argv, mark_seen, seen);
}

static void conf_err(const struct conf_build *b, const yaml_node_t *n,
		     const char *fmt, const char *arg)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, arg);
	log_err("%s:%zu:%zu: %s", b->path, n->start_mark.line + 1,
		n->start_mark.column + 1, msg);
}

static int conf_add(struct conf_build *b, const yaml_node_t *at,
		    const char *name, const char *value)
{
	char *arg, *where;

	if (b->n == CONF_MAX_ARGS) {
		conf_err(b, at, "more than %s option values in one file", "512");
		return -E2BIG;
	}
	if (value ? asprintf(&arg, "--%s=%s", name, value) < 0 :
		    asprintf(&arg, "--%s", name) < 0)
		return -ENOMEM;
	if (asprintf(&where, "%s:%zu:%zu", b->path, at->start_mark.line + 1,
		     at->start_mark.column + 1) < 0) {
		free(arg);
		return -ENOMEM;
	}
	b->args[b->n] = arg;
	b->where[b->n] = where;
	b->n++;
	return 0;
}

/* Options that make no sense in a file: they choose or explain it. */
static bool skipped(const char *name)
{
	return !strcmp(name, "config") || !strcmp(name, "help");
}

static int conf_scalar(struct conf_build *b, yaml_node_t *v, const char *name)
{
	if (v->type != YAML_SCALAR_NODE) {
		conf_err(b, v, "'%s' takes a value, not a list or a mapping",
			 name);
		return -EINVAL;
	}
	if (!v->data.scalar.length) {
		conf_err(b, v, "'%s' has an empty value", name);
		return -EINVAL;
	}
	return conf_add(b, v, name, (const char *)v->data.scalar.value);
}

static int conf_entry(struct conf_build *b, yaml_document_t *doc,
		      yaml_node_pair_t *p)
{
	yaml_node_t *k = yaml_document_get_node(doc, p->key);
	yaml_node_t *v = yaml_document_get_node(doc, p->value);
	const struct option *opt;
	const char *name;
	yaml_node_item_t *it;
	int o, err;

	if (!k || !v || k->type != YAML_SCALAR_NODE) {
		conf_err(b, k ? k : v, "%s", "keys are option names");
		return -EINVAL;
	}
	name = (const char *)k->data.scalar.value;
	o = opt_find_long(b->opts, name, strlen(name));
	if (o < 0 || strcmp(b->opts[o].name, name) || skipped(name)) {
		conf_err(b, k, "unknown option '%s' (the keys are the long "
			 "options of --help)", name);
		return -EINVAL;
	}
	opt = &b->opts[o];
	if (b->on_cmdline[o])
		return 0;
	if (opt->has_arg == no_argument) {
		const char *s = (const char *)v->data.scalar.value;

		if (v->type != YAML_SCALAR_NODE ||
		    (strcmp(s, "true") && strcmp(s, "false"))) {
			conf_err(b, v, "'%s' is a switch: true or false", name);
			return -EINVAL;
		}
		return strcmp(s, "true") ? 0 : conf_add(b, v, name, NULL);
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return conf_scalar(b, v, name);
	for (it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		err = conf_scalar(b, yaml_document_get_node(doc, *it), name);
		if (err)
			return err;
	}
	return 0;
}

static int conf_parse(struct conf_build *b, FILE *f)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_pair_t *p;
	int err = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		const yaml_mark_t *m = parser.context ? &parser.context_mark :
							&parser.problem_mark;

		log_err("%s:%zu:%zu: %s%s%s", b->path, m->line + 1,
			m->column + 1, parser.problem ? parser.problem : "bad YAML",
			parser.context ? " " : "",
			parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root)
		goto out;	/* an empty file sets nothing */
	if (root->type != YAML_MAPPING_NODE) {
		conf_err(b, root, "%s", "a configuration file is a mapping "
			 "of option: value");
		err = -EINVAL;
		goto out;
	}
	for (p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top && !err; p++)
		err = conf_entry(b, &doc, p);
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return err;
}

static int conffile_load(struct conffile *cf, const char *path,
			 bool required, const struct option *opts, int argc,
			 char **argv)
{
	struct conf_build b = { .path = path, .opts = opts };
	FILE *f;
	int i, err;

	memset(cf, 0, sizeof(*cf));
	cf->opts = opts;
	cf->path = strdup(path);
	b.on_cmdline = calloc(opt_count(opts) + 1, sizeof(bool));
	if (!b.on_cmdline || !cf->path) {
		free(b.on_cmdline);
		free(cf->path);
		cf->path = NULL;
		return -ENOMEM;
	}
	mark_cmdline(opts, argc, argv, b.on_cmdline);
	f = fopen(path, "r");
	if (!f) {
		err = -errno;
		if (err == -ENOENT && !required) {
			err = 0;
		} else {
			log_err("%s: %s: fix the path given with --config",
				path, strerror(-err));
		}
		if (err)
			goto out;
	} else {
		err = conf_parse(&b, f);
		fclose(f);
		if (err)
			goto out;
	}
	cf->argv = calloc(argc + b.n + 1, sizeof(char *));
	cf->where = calloc(b.n + 1, sizeof(char *));
	if (!cf->argv || !cf->where) {
		err = -ENOMEM;
		goto out;
	}
	cf->argv[0] = argv[0];
	for (i = 0; i < b.n; i++) {
		cf->argv[1 + i] = b.args[i];
		cf->where[i] = b.where[i];
	}
	for (i = 1; i < argc; i++)
		cf->argv[b.n + i] = argv[i];
	cf->argc = argc + b.n;
	cf->first = 1;
	cf->last = b.n;
	b.n = 0;	/* now owned by cf */
out:
	for (i = 0; i < b.n; i++) {
		free(b.args[i]);
		free(b.where[i]);
	}
	free(b.on_cmdline);
	if (err)
		conffile_free(cf);
	return err;
}

const char *conffile_where(const struct conffile *cf, int idx)
{
	if (!cf->where || idx < cf->first || idx > cf->last)
		return NULL;
	return cf->where[idx - cf->first];
}

void conffile_free(struct conffile *cf)
{
	int i;

	if (cf->argv)
		for (i = cf->first; i <= cf->last && i > 0; i++)
			free(cf->argv[i]);
	if (cf->where)
		for (i = 0; cf->where[i]; i++)
			free(cf->where[i]);
	free(cf->argv);
	free(cf->where);
	free(cf->path);
	memset(cf, 0, sizeof(*cf));
}

/* The values of one option, in order, for comparing two readings. */
struct opt_values {
	int o;
	char *text;
	size_t len;
	FILE *f;
};

static void add_value(int o, const char *value, void *ctx)
{
	struct opt_values *v = ctx;

	if (o == v->o)
		fprintf(v->f, "%s\n", value ? value : "true");
}

static char *values_of(const struct conffile *cf, int o)
{
	struct opt_values v = { .o = o };

	v.f = open_memstream(&v.text, &v.len);
	if (!v.f)
		return NULL;
	walk_args(cf->opts, cf->argc, cf->argv, add_value, &v);
	if (fclose(v.f))
		return NULL;
	return v.text;
}

static bool is_live(const char *name, const char *const *live)
{
	for (; *live; live++)
		if (!strcmp(name, *live))
			return true;
	return false;
}

int conffile_reread(struct conffile *now, const struct conffile *was,
		    const char *const *live,
		    int (*parse)(void *ctx, int *verbose, struct conffile *cf),
		    void *ctx)
{
	char format[8];
	int verbose = 0, ret;

	/* Parsing sets the format as it goes: a refusal puts it back. */
	snprintf(format, sizeof(format), "%s", log_format_name());
	memset(now, 0, sizeof(*now));
	ret = parse(ctx, &verbose, now);
	if (ret) {
		/* A refused value left its FILE:LINE:COL, which @now holds. */
		log_set_context(NULL);
		conffile_free(now);
		log_set_format(format);
		log_warn("SIGHUP: configuration refused (above); the one in force stays");
		return ret;
	}
	log_set_level(verbose ? LOG_DEBUG : LOG_INFO);
	conffile_report_restart(was, now, live);
	return 0;
}

unsigned int conffile_report_restart(const struct conffile *was,
				     const struct conffile *now,
				     const char *const *live)
{
	unsigned int n = 0;
	int o;

	for (o = 0; was->opts && was->opts[o].name; o++) {
		const char *name = was->opts[o].name;
		char *a, *b;

		if (skipped(name) || is_live(name, live))
			continue;
		a = values_of(was, o);
		b = values_of(now, o);
		if (a && b && strcmp(a, b)) {
			log_warn("--%s changed in %s; restart to apply", name,
				 now->path);
			n++;
		}
		free(a);
		free(b);
	}
	return n;
}

static const char *conffile_path(int argc, char **argv, const char *def,
				 bool *given)
{
	int i;

	*given = false;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strncmp(argv[i], "--config=", 9)) {
			*given = true;
			return argv[i] + 9;
		}
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			*given = true;
			return argv[i + 1];
		}
	}
	return def;
}

int conffile_apply(struct conffile *cf, const char *def,
		   const struct option *opts, int *argc, char ***argv)
{
	const char *path;
	bool given;
	int err;

	path = conffile_path(*argc, *argv, def, &given);
	err = conffile_load(cf, path, given, opts, *argc, *argv);
	if (err)
		return err;
	*argc = cf->argc;
	*argv = cf->argv;
	return 0;
}
