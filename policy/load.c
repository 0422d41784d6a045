// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy entry points: read the file (bounded), let libyaml build the
 * node tree, walk it against the schema, compile. A YAML syntax error
 * stops at the parser's own position; everything after that is reported
 * in one pass.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/internal.h"

#define POLICY_MAX_DEPTH	16

/* Line @line (0-based) of @buf as written, cut to @len - 1 bytes. */
static const char *line_text(const char *buf, size_t len, size_t line,
			     char *out, size_t out_len)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t n;

	while (line-- && p < end) {
		nl = memchr(p, '\n', end - p);
		p = nl ? nl + 1 : end;
	}
	nl = memchr(p, '\n', end - p);
	n = (nl ? nl : end) - p;
	if (n && p[n - 1] == '\r')
		n--;
	if (n >= out_len)
		n = out_len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

/*
 * libyaml reports where it gave up, which for two common mistakes is the
 * line after the one to fix: a key without its ':' ("could not find
 * expected ':'", noticed on the next line) and an unclosed '[' or '{'.
 * For those the place to look is the context mark: the start of the key
 * or of the bracket. The message quotes that line as written.
 */
static int syntax_error(struct pctx *c, yaml_parser_t *yp, const char *buf,
			size_t len)
{
	const char *what = yp->problem ? yp->problem : "malformed YAML";
	const char *ctx = yp->context;
	yaml_mark_t at = yp->problem_mark;
	bool at_context = false;
	char text[80];

	if (yp->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (ctx && (!strcmp(ctx, "while scanning a simple key") ||
		    !strcmp(ctx, "while parsing a flow sequence") ||
		    !strcmp(ctx, "while parsing a flow mapping"))) {
		at = yp->context_mark;
		at_context = true;
	}
	line_text(buf, len, at.line, text, sizeof(text));
	/* A tab shows as '?' in the quote: name it. */
	if (!at_context && at.index < len && buf[at.index] == '\t')
		what = !strcmp(what, "found a tab character that violates indentation") ?
		       "found a tab character that violates indentation (indent with spaces)" :
		       "found a tab where YAML expects spaces";
	if (at_context)
		perr(c, at, "YAML syntax: %s %s starting here (noticed at line %zu): '%s'",
		     what, ctx, yp->problem_mark.line + 1, text);
	else if (ctx)
		perr(c, at, "YAML syntax: %s %s started at line %zu: '%s'",
		     what, ctx, yp->context_mark.line + 1, text);
	else
		perr(c, at, "YAML syntax: %s: '%s'", what, text);
	return -EINVAL;
}

/*
 * First pass over the events: refuse aliases where they are written (the
 * loader resolves them and forgets where), and stop at a syntax error.
 * Returns 0, -EINVAL with diagnostics, or -ENOMEM.
 */
static int scan_events(struct pctx *c, const char *buf, size_t len)
{
	yaml_parser_t yp;
	yaml_event_t ev;
	bool done = false;
	int docs = 0, depth = 0, err = 0;

	if (!yaml_parser_initialize(&yp))
		return -ENOMEM;
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	while (!done) {
		if (!yaml_parser_parse(&yp, &ev)) {
			err = syntax_error(c, &yp, buf, len);
			break;
		}
		if (ev.type == YAML_ALIAS_EVENT) {
			perr(c, ev.start_mark,
			     "alias '*%.32s': anchors and aliases are not supported",
			     (const char *)ev.data.alias.anchor);
			err = -EINVAL;
		}
		/*
		 * libyaml's scanner is quadratic in the nesting depth; the
		 * schema needs six levels. Stop long before it hurts.
		 */
		if (ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT) {
			if (++depth > POLICY_MAX_DEPTH) {
				perr(c, ev.start_mark,
				     "nested deeper than %d levels: not a policy",
				     POLICY_MAX_DEPTH);
				yaml_event_delete(&ev);
				err = -EINVAL;
				break;
			}
		} else if (ev.type == YAML_SEQUENCE_END_EVENT ||
			   ev.type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		/* A second document would be silently ignored: say so. */
		if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs == 2) {
			perr(c, ev.start_mark,
			     "a policy is one YAML document: remove this '---' and what follows or split the file");
			err = -EINVAL;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	return err;
}

int policy_load_buf(const char *name, const char *buf, size_t len,
		    struct policy_compiled **out, struct policy_diag *diag)
{
	struct policy_diag local = { 0 };
	struct raw_policy *raw = NULL;
	struct pctx c = { 0 };
	yaml_document_t doc;
	yaml_parser_t yp;
	yaml_node_t *root;
	bool have_doc = false;
	int err;

	*out = NULL;
	c.file = name;
	c.diag = diag ? diag : &local;
	if (len > POLICY_MAX_BYTES) {
		diag_add(c.diag, "%s:1:1: policy is %zu bytes, at most %u allowed",
			 name, len, POLICY_MAX_BYTES);
		err = -EFBIG;
		goto out;
	}
	err = scan_events(&c, buf, len);
	if (err)
		goto out;
	if (!yaml_parser_initialize(&yp)) {
		err = -ENOMEM;
		goto out;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&yp, &doc)) {
		err = syntax_error(&c, &yp, buf, len);
		goto out_parser;
	}
	have_doc = true;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		yaml_mark_t m = { 0 };

		perr(&c, m, "policy: empty, expected a mapping starting with 'version: %d'",
		     POLICY_SCHEMA_VERSION);
		err = -EINVAL;
		goto out_parser;
	}
	raw = calloc(1, sizeof(*raw));
	c.n_nodes = doc.nodes.top - doc.nodes.start;
	c.visited = calloc(c.n_nodes + 1, 1);
	if (!raw || !c.visited) {
		err = -ENOMEM;
		goto out_parser;
	}
	c.doc = &doc;
	c.raw = raw;
	profiles_add_builtin(raw);
	parse_root(&c, root);
	err = c.err ? c.err : compile_raw(&c, out);
	raw_policy_free(raw);
out_parser:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&yp);
out:
	free(raw);
	free(c.visited);
	if (err == -ENOMEM)
		diag_add(c.diag, "%s:1:1: out of memory while loading the policy",
			 name);
	policy_diag_free(&local);
	return err;
}

int policy_load_file(const char *path, struct policy_compiled **out,
		     struct policy_diag *diag)
{
	struct stat st;
	ssize_t got;
	size_t len = 0;
	char *buf;
	int fd, err;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		diag_add(diag, "%s: cannot open: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		diag_add(diag, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_size > POLICY_MAX_BYTES) {
		diag_add(diag, "%s:1:1: policy is %lld bytes, at most %u allowed",
			 path, (long long)st.st_size, POLICY_MAX_BYTES);
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* The file may change under us: never read more than we sized for. */
	while (len < (size_t)st.st_size) {
		got = read(fd, buf + len, (size_t)st.st_size - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	err = policy_load_buf(path, buf, len, out, diag);
	free(buf);
	return err;
}
