// SPDX-License-Identifier: GPL-2.0-only
/*
 * Typed access to a libyaml document tree. Each helper checks one value
 * against what the schema wants and, when it does not fit, records one
 * diagnostic at the value's own line and column, naming the key by its
 * path ("vnfs[2].interfaces[0].vlan"). Helpers return false on a problem
 * and the walk carries on, so one run reports every error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/internal.h"

void perr(struct pctx *c, yaml_mark_t m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	char *s;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages quote the file: keep its escapes off the terminal. */
	for (s = msg; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	c->n_errors++;
	if (diag_add(c->diag, "%s:%zu:%zu: %s", c->file, m.line + 1,
		     m.column + 1, msg) && !c->err)
		c->err = -ENOMEM;
}

yaml_node_t *node_get(struct pctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

/*
 * A YAML alias makes one node reachable from many places; a few nested
 * aliases describe an exponentially large tree ("billion laughs") and an
 * alias to an ancestor a cycle. A policy has no use for them: every node
 * is walked at most once.
 */
bool node_enter(struct pctx *c, yaml_node_t *n, const char *path)
{
	size_t i = n - c->doc->nodes.start;

	if (i >= c->n_nodes)
		return false;
	if (c->visited[i]) {
		perr(c, n->start_mark, "%s: anchors and aliases are not supported",
		     *path ? path : "policy");
		return false;
	}
	c->visited[i] = 1;
	return true;
}

bool node_is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null");
}

const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return node_is_null(n) ? "nothing" : "a scalar";
	}
}

void path_join(char *out, const char *base, const char *key)
{
	if (*base)
		snprintf(out, POLICY_PATH_MAX, "%s.%s", base, key);
	else
		snprintf(out, POLICY_PATH_MAX, "%s", key);
}

void path_index(char *out, const char *base, size_t i)
{
	snprintf(out, POLICY_PATH_MAX, "%s[%zu]", base, i);
}

bool parse_map(struct pctx *c, const char *path, yaml_node_t *n,
	       const struct key_spec *keys, void *obj)
{
	yaml_mark_t seen_at[64];
	uint64_t seen = 0;
	yaml_node_pair_t *pr;
	size_t k;

	if (!node_enter(c, n, path))
		return false;
	if (n->type != YAML_MAPPING_NODE) {
		perr(c, n->start_mark, "%s: expected a mapping, got %s",
		     *path ? path : "policy", node_kind(n));
		return false;
	}
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *kn = node_get(c, pr->key);
		yaml_node_t *vn = node_get(c, pr->value);
		char sub[POLICY_PATH_MAX];
		const char *key;

		if (!kn || !vn)
			continue;
		if (kn->type != YAML_SCALAR_NODE) {
			perr(c, kn->start_mark, "%s: keys must be plain words, got %s",
			     *path ? path : "policy", node_kind(kn));
			continue;
		}
		key = (const char *)kn->data.scalar.value;
		for (k = 0; keys[k].key; k++)
			if (!strcmp(keys[k].key, key))
				break;
		if (!keys[k].key) {
			perr(c, kn->start_mark, "%s: unknown key '%.64s'",
			     *path ? path : "policy", key);
			continue;
		}
		if (seen & (1ULL << k)) {
			path_join(sub, path, key);
			perr(c, kn->start_mark, "%s: duplicate key (first at line %zu)",
			     sub, seen_at[k].line + 1);
			continue;
		}
		seen |= 1ULL << k;
		seen_at[k] = kn->start_mark;
		path_join(sub, path, key);
		keys[k].parse(c, sub, vn, obj);
	}
	for (k = 0; keys[k].key; k++)
		if (keys[k].required && !(seen & (1ULL << k)))
			perr(c, n->start_mark, "%s: missing required key '%s'",
			     *path ? path : "policy", keys[k].key);
	return true;
}

bool expect_seq(struct pctx *c, const char *path, yaml_node_t *n, size_t max)
{
	size_t len;

	if (!node_enter(c, n, path))
		return false;
	if (n->type != YAML_SEQUENCE_NODE) {
		perr(c, n->start_mark, "%s: expected a list, got %s", path,
		     node_kind(n));
		return false;
	}
	len = n->data.sequence.items.top - n->data.sequence.items.start;
	if (len > max) {
		perr(c, n->start_mark, "%s: %zu entries, at most %zu allowed",
		     path, len, max);
		return false;
	}
	return true;
}

static bool want_scalar(struct pctx *c, const char *path, yaml_node_t *n,
			const char *what)
{
	if (!node_enter(c, n, path))
		return false;
	if (n->type != YAML_SCALAR_NODE || node_is_null(n)) {
		perr(c, n->start_mark, "%s: expected %s, got %s", path, what,
		     node_kind(n));
		return false;
	}
	return true;
}

bool get_str(struct pctx *c, const char *path, yaml_node_t *n, char *buf,
	     size_t size)
{
	const char *v;
	size_t len;

	if (!want_scalar(c, path, n, "a string"))
		return false;
	v = (const char *)n->data.scalar.value;
	len = n->data.scalar.length;
	if (strlen(v) != len) {
		perr(c, n->start_mark, "%s: contains a NUL character", path);
		return false;
	}
	if (len >= size) {
		perr(c, n->start_mark, "%s: longer than %zu characters", path,
		     size - 1);
		return false;
	}
	memcpy(buf, v, len + 1);
	return true;
}

/* Names end up in log lines, JSON and file names: keep them tame. */
bool get_name(struct pctx *c, const char *path, yaml_node_t *n, char *buf,
	      size_t size)
{
	const char *s;

	if (!get_str(c, path, n, buf, size))
		return false;
	for (s = buf; *s; s++) {
		bool alnum = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			     (*s >= '0' && *s <= '9');

		if (!alnum && (s == buf || !strchr("-_.", *s))) {
			perr(c, n->start_mark,
			     "%s: '%s' is not a name (letters, digits, '-', '_', '.'; starting with a letter or digit)",
			     path, buf);
			buf[0] = '\0';
			return false;
		}
	}
	return true;
}

bool get_u64(struct pctx *c, const char *path, yaml_node_t *n, uint64_t min,
	     uint64_t max, uint64_t *out)
{
	const char *v, *s;
	uint64_t x = 0;

	if (!want_scalar(c, path, n, "an integer"))
		return false;
	v = (const char *)n->data.scalar.value;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		perr(c, n->start_mark, "%s: expected an integer, got a quoted string",
		     path);
		return false;
	}
	for (s = v; *s; s++) {
		if (*s < '0' || *s > '9' || s - v > 19) {
			perr(c, n->start_mark, "%s: expected an integer, got '%.40s'",
			     path, v);
			return false;
		}
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
			perr(c, n->start_mark, "%s: %.40s is out of range %llu..%llu",
			     path, v, (unsigned long long)min,
			     (unsigned long long)max);
			return false;
		}
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if (x < min || x > max) {
		perr(c, n->start_mark, "%s: %llu is out of range %llu..%llu", path,
		     (unsigned long long)x, (unsigned long long)min,
		     (unsigned long long)max);
		return false;
	}
	*out = x;
	return true;
}

bool get_u32(struct pctx *c, const char *path, yaml_node_t *n, uint32_t min,
	     uint32_t max, uint32_t *out)
{
	uint64_t x;

	if (!get_u64(c, path, n, min, max, &x))
		return false;
	*out = (uint32_t)x;
	return true;
}

bool get_enum(struct pctx *c, const char *path, yaml_node_t *n,
	      const char *const *names, size_t n_names, int *out)
{
	char list[256] = "";
	const char *v;
	size_t i, off = 0;

	if (!want_scalar(c, path, n, "a word"))
		return false;
	v = (const char *)n->data.scalar.value;
	for (i = 0; i < n_names; i++) {
		if (!strcmp(v, names[i])) {
			*out = (int)i;
			return true;
		}
	}
	for (i = 0; i < n_names && off < sizeof(list); i++)
		off += snprintf(list + off, sizeof(list) - off, "%s%s",
				i ? ", " : "", names[i]);
	perr(c, n->start_mark, "%s: '%.40s' is not one of: %s", path, v, list);
	return false;
}

bool get_prefix(struct pctx *c, const char *path, yaml_node_t *n,
		struct policy_prefix *p)
{
	char buf[64], *slash;
	unsigned int i, max, len, bytes;
	uint64_t x;

	if (!want_scalar(c, path, n, "an address or prefix"))
		return false;
	if (n->data.scalar.length >= sizeof(buf) ||
	    strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		perr(c, n->start_mark, "%s: not an IPv4 or IPv6 prefix", path);
		return false;
	}
	memcpy(buf, n->data.scalar.value, n->data.scalar.length + 1);
	memset(p, 0, sizeof(*p));
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else {
		perr(c, n->start_mark, "%s: '%s' is not an IPv4 or IPv6 address",
		     path, buf);
		return false;
	}
	len = max;
	if (slash) {
		const char *s = slash + 1;

		for (x = 0; *s >= '0' && *s <= '9' && x <= max; s++)
			x = x * 10 + (uint64_t)(*s - '0');
		if (*s || s == slash + 1 || x > max) {
			perr(c, n->start_mark, "%s: prefix length '%s' is not 0..%u",
			     path, slash + 1, max);
			return false;
		}
		len = (unsigned int)x;
	}
	p->len = (uint8_t)len;
	bytes = max / 8;
	for (i = 0; i < bytes; i++) {
		unsigned int keep = len > i * 8 ? len - i * 8 : 0;
		uint8_t mask = keep >= 8 ? 0xff : (uint8_t)(0xff << (8 - keep));

		if (p->addr[i] & ~mask) {
			char fixed[INET6_ADDRSTRLEN + 4];
			struct policy_prefix q = *p;
			unsigned int j;

			for (j = i; j < bytes; j++) {
				keep = len > j * 8 ? len - j * 8 : 0;
				q.addr[j] &= keep >= 8 ? 0xff : (uint8_t)(0xff << (8 - keep));
			}
			policy_format_prefix(&q, fixed, sizeof(fixed));
			perr(c, n->start_mark,
			     "%s: '%s/%u' has host bits set (did you mean %s?)",
			     path, buf, len, fixed);
			return false;
		}
	}
	return true;
}
