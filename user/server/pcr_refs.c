// SPDX-License-Identifier: GPL-2.0-only
/*
 * The operator's reference PCR values (--expected-pcrs FILE), one agent
 * per line:
 *
 *   # agent id   PCR=SHA-256 value (hex), ascending or not
 *   host-17      0=3d45...  7=a1b2...
 *
 * An agent listed here is held to these values at enrollment and at
 * every quote, whatever it showed before; its PCR set is the one listed.
 * Agents not listed are held to the values of their first enrollment
 * (docs/trust.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/common/log.h"
#include "user/server/attest.h"

struct pcr_ref {
	struct pcr_ref *next;
	char id[WIRE_AGENT_ID_MAX + 1];
	uint32_t mask;
	uint8_t value[WIRE_PCR_COUNT][WIRE_PCR_LEN];	/* by PCR index */
	uint8_t pcrs[WIRE_PCR_COUNT][WIRE_PCR_LEN];	/* ascending, packed */
};

static int hex_value(const char *hex, uint8_t *out)
{
	unsigned int i, byte;

	if (strlen(hex) != 2 * WIRE_PCR_LEN)
		return -EINVAL;
	for (i = 0; i < WIRE_PCR_LEN; i++) {
		if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
			return -EINVAL;
		out[i] = byte;
	}
	return 0;
}

static int parse_line(char *line, struct pcr_ref *ref)
{
	char *save = NULL, *tok = strtok_r(line, " \t", &save);
	unsigned int i, n = 0;

	if (!tok || strlen(tok) > WIRE_AGENT_ID_MAX)
		return -EINVAL;
	snprintf(ref->id, sizeof(ref->id), "%s", tok);
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(tok, '='), *end;
		unsigned long pcr;

		if (!eq)
			return -EINVAL;
		*eq = '\0';
		pcr = strtoul(tok, &end, 10);
		if (*end || end == tok || pcr >= WIRE_PCR_COUNT ||
		    (ref->mask & 1U << pcr) || hex_value(eq + 1, ref->value[pcr]))
			return -EINVAL;
		ref->mask |= 1U << pcr;
	}
	if (!ref->mask)
		return -EINVAL;
	/* Packed in ascending PCR order: how a quote digests them. */
	for (i = 0; i < WIRE_PCR_COUNT; i++)
		if (ref->mask & 1U << i)
			memcpy(ref->pcrs[n++], ref->value[i], WIRE_PCR_LEN);
	return 0;
}

int pcr_refs_load(const char *path, struct pcr_ref **out)
{
	char line[4096];
	unsigned int lineno = 0;
	FILE *f = fopen(path, "r");
	struct pcr_ref *list = NULL;
	int ret = 0;

	*out = NULL;
	if (!f) {
		ret = -errno;
		log_err("--expected-pcrs %s: %s", path, strerror(errno));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		struct pcr_ref *ref;
		char *p = line;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		p += strspn(p, " \t");
		if (!*p || *p == '#')
			continue;
		ref = calloc(1, sizeof(*ref));
		if (!ref) {
			ret = -ENOMEM;
			break;
		}
		ref->next = list;
		list = ref;
		if (parse_line(p, ref)) {
			log_err("%s:%u: expected 'AGENT_ID PCR=HEX64 ...' (PCRs 0..23, 32-byte SHA-256 values)",
				path, lineno);
			ret = -EINVAL;
			break;
		}
	}
	fclose(f);
	if (ret) {
		pcr_refs_free(list);
		return ret;
	}
	*out = list;
	return 0;
}

void pcr_refs_free(struct pcr_ref *list)
{
	while (list) {
		struct pcr_ref *next = list->next;

		free(list);
		list = next;
	}
}

const struct pcr_ref *pcr_ref_find(const struct pcr_ref *list,
				   const char *id)
{
	for (; list; list = list->next)
		if (!strcmp(list->id, id))
			return list;
	return NULL;
}

uint32_t pcr_ref_mask(const struct pcr_ref *ref)
{
	return ref->mask;
}

const uint8_t (*pcr_ref_values(const struct pcr_ref *ref))[WIRE_PCR_LEN]
{
	return ref->pcrs;
}
