// SPDX-License-Identifier: GPL-2.0-only
/*
 * Threat database: indicators held in memory for matching (the store
 * keeps them across restarts) and the importers of the two feed formats
 * operators actually have: plain prefix lists and a small CSV.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/common/log.h"
#include "user/server/threatdb.h"

struct threatdb {
	struct indicator *ind;
	unsigned int nr, cap;
};

struct threatdb *threatdb_new(void)
{
	return calloc(1, sizeof(struct threatdb));
}

void threatdb_free(struct threatdb *tdb)
{
	if (!tdb)
		return;
	free(tdb->ind);
	free(tdb);
}

unsigned int threatdb_size(const struct threatdb *tdb)
{
	return tdb->nr;
}

static const char *const type_names[] = {
	[INDICATOR_CIDR] = "cidr",
	[INDICATOR_PORT] = "port",
};

const char *indicator_type_name(enum indicator_type type)
{
	if (type < INDICATOR_CIDR || type > INDICATOR_PORT)
		return "unknown";
	return type_names[type];
}

static bool prefix_match(const uint8_t *net, const uint8_t *addr,
			 unsigned int bits)
{
	unsigned int bytes = bits / 8, rest = bits % 8;

	if (memcmp(net, addr, bytes))
		return false;
	if (!rest)
		return true;
	return !((net[bytes] ^ addr[bytes]) & (0xff << (8 - rest)));
}

static int parse_cidr(struct indicator *ind, const char *text,
		      const char **why)
{
	char buf[INET6_ADDRSTRLEN + 8], out[INET6_ADDRSTRLEN];
	unsigned int max, bits, i;
	char *slash, *end;
	int af;

	if (strlen(text) >= sizeof(buf)) {
		*why = "prefix too long";
		return -EINVAL;
	}
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	af = strchr(buf, ':') ? AF_INET6 : AF_INET;
	max = af == AF_INET ? 32 : 128;
	if (inet_pton(af, buf, ind->addr) != 1) {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	bits = max;
	if (slash) {
		errno = 0;
		bits = strtoul(slash, &end, 10);
		if (errno || end == slash || *end || bits > max) {
			*why = "bad prefix length";
			return -EINVAL;
		}
	}
	ind->addr_len = max / 8;
	ind->prefix_len = bits;
	/* Host bits cleared: 10.1.2.3/8 and 10.0.0.0/8 are one indicator. */
	for (i = 0; i < ind->addr_len; i++) {
		unsigned int keep = bits > i * 8 ? bits - i * 8 : 0;

		if (keep < 8)
			ind->addr[i] &= keep ? 0xff << (8 - keep) : 0;
	}
	inet_ntop(af, ind->addr, out, sizeof(out));
	snprintf(ind->value, sizeof(ind->value), "%s/%u", out, bits);
	return 0;
}

int indicator_parse(struct indicator *ind, const char *type,
		    const char *value, const char **why)
{
	char *end;

	memset(ind, 0, sizeof(*ind));
	ind->confidence = 50;
	if (!strcmp(type, "cidr")) {
		ind->type = INDICATOR_CIDR;
		return parse_cidr(ind, value, why);
	}
	if (!strcmp(type, "port")) {
		ind->type = INDICATOR_PORT;
		errno = 0;
		ind->port = strtoul(value, &end, 10);
		if (errno || end == value || *end || ind->port > 65535) {
			*why = "port not in 0..65535";
			return -EINVAL;
		}
		snprintf(ind->value, sizeof(ind->value), "%u", ind->port);
		return 0;
	}
	/* They would match nothing and look like protection. */
	if (!strcmp(type, "signature") || !strcmp(type, "ja3")) {
		*why = "ja3 and signature indicators are not supported: no agent sends TLS fingerprints or payload samples to match them";
		return -EOPNOTSUPP;
	}
	*why = "unknown indicator type (cidr or port)";
	return -EINVAL;
}

int threatdb_add(struct threatdb *tdb, const struct indicator *ind)
{
	unsigned int i;

	for (i = 0; i < tdb->nr; i++) {
		if (tdb->ind[i].type == ind->type &&
		    !strcmp(tdb->ind[i].value, ind->value)) {
			tdb->ind[i] = *ind;
			return 0;
		}
	}
	if (tdb->nr == tdb->cap) {
		unsigned int cap = tdb->cap ? tdb->cap * 2 : 256;
		struct indicator *n = realloc(tdb->ind, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		tdb->ind = n;
		tdb->cap = cap;
	}
	tdb->ind[tdb->nr++] = *ind;
	return 0;
}

static bool live(const struct indicator *ind, time_t now)
{
	return !ind->expires || ind->expires > now;
}

static const struct indicator *stronger(const struct indicator *best,
					const struct indicator *ind)
{
	return !best || ind->confidence > best->confidence ? ind : best;
}

const struct indicator *threatdb_match_addr(const struct threatdb *tdb,
					    const uint8_t *addr,
					    unsigned int len, time_t now)
{
	const struct indicator *best = NULL;
	unsigned int i;

	for (i = 0; i < tdb->nr; i++) {
		const struct indicator *ind = &tdb->ind[i];

		if (ind->type == INDICATOR_CIDR && ind->addr_len == len &&
		    live(ind, now) &&
		    prefix_match(ind->addr, addr, ind->prefix_len))
			best = stronger(best, ind);
	}
	return best;
}

const struct indicator *threatdb_match(const struct threatdb *tdb,
				       const Vnfsec__Assessment *a,
				       time_t now)
{
	const struct indicator *best;
	unsigned int i;

	best = threatdb_match_addr(tdb, a->src_addr.data, a->src_addr.len,
				   now);
	for (i = 0; i < tdb->nr; i++) {
		const struct indicator *ind = &tdb->ind[i];

		if (!live(ind, now))
			continue;
		if (ind->type == INDICATOR_PORT && a->dst_port &&
		    ind->port == a->dst_port)
			best = stronger(best, ind);
	}
	return best;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* "1.10.16.0/20 ; SBL256894": the first word before any comment. */
static int cidr_line(char *line, struct indicator *ind, const char **why)
{
	char *word;

	line[strcspn(line, ";#")] = '\0';
	word = trim(line);
	if (!*word)
		return 1;
	word[strcspn(word, " \t")] = '\0';
	return indicator_parse(ind, "cidr", word, why);
}

/*
 * type,value,confidence,expires,source: no quoting, as none of the
 * fields can hold a comma. Empty confidence is 50, empty expires never.
 */
static int csv_line(char *line, struct indicator *ind, const char **why)
{
	char *field[5] = {}, *p = line, *end;
	unsigned long v;
	int n = 0, ret;

	if (!*trim(line) || *trim(line) == '#')
		return 1;
	while (n < 5) {
		field[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (n < 2 || p) {
		*why = "not 2 to 5 comma-separated fields";
		return -EINVAL;
	}
	ret = indicator_parse(ind, trim(field[0]), trim(field[1]), why);
	if (ret)
		return ret;
	if (field[2] && *trim(field[2])) {
		errno = 0;
		v = strtoul(trim(field[2]), &end, 10);
		if (errno || *end || v > 100) {
			*why = "confidence not in 0..100";
			return -EINVAL;
		}
		ind->confidence = v;
	}
	if (field[3] && *trim(field[3])) {
		errno = 0;
		ind->expires = strtoll(trim(field[3]), &end, 10);
		if (errno || *end || ind->expires < 0) {
			*why = "expires not a Unix time";
			return -EINVAL;
		}
	}
	if (field[4] && *trim(field[4])) {
		if (strlen(trim(field[4])) > WIRE_NAME_MAX) {
			*why = "source name too long";
			return -EINVAL;
		}
		snprintf(ind->source, sizeof(ind->source), "%s",
			 trim(field[4]));
	}
	return 0;
}

int threatdb_import(struct threatdb *tdb, const char *path,
		    const char *format, const char *source,
		    int (*save)(void *ctx, const struct indicator *ind),
		    void *ctx, unsigned int *imported, unsigned int *skipped)
{
	bool csv = !strcmp(format, "csv");
	unsigned int lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;
	FILE *f;

	*imported = *skipped = 0;
	if (!csv && strcmp(format, "cidr")) {
		log_err("threatdb import %s: unknown format '%s'; use cidr or csv",
			path, format);
		return -EINVAL;
	}
	if (source && strlen(source) > WIRE_NAME_MAX) {
		log_err("threatdb import %s: source name longer than %d",
			path, WIRE_NAME_MAX);
		return -EINVAL;
	}
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		log_err("threatdb import %s: %s", path, strerror(-ret));
		return ret;
	}
	while (getline(&line, &cap, f) > 0) {
		struct indicator ind;
		const char *why = "";
		int r;

		lineno++;
		/* The header names the columns; it is not an indicator. */
		if (csv && lineno == 1 && !strncmp(line, "type,", 5))
			continue;
		r = csv ? csv_line(line, &ind, &why) : cidr_line(line, &ind,
								 &why);
		if (r > 0)
			continue;
		if (r < 0) {
			if (++*skipped <= 5)
				log_warn("threatdb import %s:%u: skipped: %s",
					 path, lineno, why);
			continue;
		}
		if (!ind.source[0])
			snprintf(ind.source, sizeof(ind.source), "%s",
				 source ? source : "import");
		ret = threatdb_add(tdb, &ind);
		if (!ret && save)
			ret = save(ctx, &ind);
		if (ret)
			break;
		++*imported;
	}
	free(line);
	fclose(f);
	if (!ret)
		log_info("threatdb import %s: %u indicators, %u lines skipped",
			 path, *imported, *skipped);
	return ret;
}
