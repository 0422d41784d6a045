// SPDX-License-Identifier: GPL-2.0-only
/* Heuristic names from the wire enum (heuristic.h). */
#include <stdbool.h>
#include <string.h>

#include "user/common/heuristic.h"
#include "user/common/vnfsec.pb-c.h"

#define HEURISTIC_NAMES_MAX	64
#define HEURISTIC_NAME_LEN	40

/* "HEURISTIC_SYN_FLOOD" -> "syn_flood", once for the whole enum. */
static char names[HEURISTIC_NAMES_MAX][HEURISTIC_NAME_LEN];

static void names_init(void)
{
	const ProtobufCEnumDescriptor *d = &vnfsec__heuristic__descriptor;
	unsigned int i;

	for (i = 0; i < d->n_values; i++) {
		const ProtobufCEnumValue *v = &d->values[i];
		const char *n = v->name;
		size_t j;

		if (v->value < 0 || v->value >= HEURISTIC_NAMES_MAX)
			continue;
		if (!strncmp(n, "HEURISTIC_", 10))
			n += 10;
		for (j = 0; n[j] && j + 1 < HEURISTIC_NAME_LEN; j++)
			names[v->value][j] = n[j] >= 'A' && n[j] <= 'Z' ?
					     n[j] + ('a' - 'A') : n[j];
		names[v->value][j] = '\0';
	}
}

int heuristic_from_name(const char *name)
{
	int i;

	heuristic_name(0);	/* the table, once */
	for (i = 0; i < HEURISTIC_NAMES_MAX; i++)
		if (names[i][0] && !strcmp(names[i], name))
			return i;
	return -1;
}

const char *heuristic_name(int heuristic)
{
	static bool ready;

	if (!ready) {
		names_init();
		ready = true;
	}
	if (heuristic < 0 || heuristic >= HEURISTIC_NAMES_MAX ||
	    !names[heuristic][0])
		return "unknown";
	return names[heuristic];
}
