/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Threat database: indicators of known-bad sources and destination
 * ports, each with where it came from, how sure that source is, and when
 * it stops counting. Only what assessments carry can match: no agent
 * sends TLS fingerprints (JA3) or payload samples, so those indicator
 * types are refused (docs/server.md).
 */
#ifndef VNFSEC_THREATDB_H
#define VNFSEC_THREATDB_H

#include <stdint.h>
#include <time.h>

#include "user/common/wire.h"

enum indicator_type {
	INDICATOR_CIDR = 1,		/* IPv4 or IPv6 prefix */
	INDICATOR_PORT,			/* a destination port */
};

struct indicator {
	enum indicator_type type;
	uint8_t addr[16];
	uint8_t addr_len;		/* 4 or 16 for a CIDR */
	unsigned int prefix_len;
	uint32_t port;
	char value[WIRE_TEXT_MAX + 1];	/* canonical text form */
	char source[WIRE_NAME_MAX + 1];
	unsigned int confidence;	/* 0..100 */
	time_t expires;			/* 0: never */
};

struct threatdb;

struct threatdb *threatdb_new(void);
void threatdb_free(struct threatdb *tdb);
unsigned int threatdb_size(const struct threatdb *tdb);

/* Add or refresh (same type and value) an indicator. 0 or -ENOMEM. */
int threatdb_add(struct threatdb *tdb, const struct indicator *ind);

/*
 * Parse one indicator from its type name and text ("cidr", "10.0.0.0/8").
 * Returns 0 or -EINVAL with *why set.
 */
int indicator_parse(struct indicator *ind, const char *type,
		    const char *value, const char **why);
const char *indicator_type_name(enum indicator_type type);

/*
 * The strongest live indicator an assessment matches (its source, its
 * destination port), or NULL.
 */
const struct indicator *threatdb_match(const struct threatdb *tdb,
				       const Vnfsec__Assessment *a,
				       time_t now);
const struct indicator *threatdb_match_addr(const struct threatdb *tdb,
					    const uint8_t *addr,
					    unsigned int len, time_t now);

/*
 * Import a feed: "cidr" (one prefix a line, ';' or '#' starts a comment,
 * as the public drop lists) or "csv" (type,value,confidence,expires,source
 * with a header line). Every indicator is added to @tdb and handed to
 * @save (the store) when not NULL. Lines that do not parse are counted in
 * *skipped and logged once each (up to a few).
 */
int threatdb_import(struct threatdb *tdb, const char *path,
		    const char *format, const char *source,
		    int (*save)(void *ctx, const struct indicator *ind),
		    void *ctx, unsigned int *imported, unsigned int *skipped);

#endif /* VNFSEC_THREATDB_H */
