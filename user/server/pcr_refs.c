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

#include "user/common/line_file.h"
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

static int pcr_ref_add(void *ctx, char *line)
{
	struct pcr_ref **list = ctx, *ref = calloc(1, sizeof(*ref));

	if (!ref)
		return -ENOMEM;
	ref->next = *list;
	*list = ref;
	return parse_line(line, ref) ? -EINVAL : 0;
}

int pcr_refs_load(const char *path, struct pcr_ref **out)
{
	struct pcr_ref *list = NULL;
	int ret;

	*out = NULL;
	ret = line_file_read(path, "--expected-pcrs",
			     "AGENT_ID PCR=HEX64 ... (PCRs 0..23, 32-byte SHA-256 values)",
			     pcr_ref_add, &list);
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
