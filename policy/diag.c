// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy diagnostics: a bounded list of "FILE:LINE:COL: message" lines, so
 * an operator sees every problem of a policy in one run, and a hostile file
 * cannot make the list grow without end.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy/internal.h"

int diag_add(struct policy_diag *d, const char *fmt, ...)
{
	va_list ap;
	char *line;
	int ret;

	if (!d)
		return 0;
	if (d->n >= POLICY_MAX_DIAG) {
		d->dropped++;
		return 0;
	}
	if (d->n == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 16;
		char **l = realloc(d->lines, cap * sizeof(*l));

		if (!l)
			return -ENOMEM;
		d->lines = l;
		d->cap = cap;
	}
	va_start(ap, fmt);
	ret = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (ret < 0)
		return -ENOMEM;
	d->lines[d->n++] = line;
	return 0;
}

void policy_diag_free(struct policy_diag *d)
{
	uint32_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	d->lines = NULL;
	d->n = d->cap = d->dropped = 0;
}

void policy_diag_print(const struct policy_diag *d, FILE *f)
{
	uint32_t i;

	for (i = 0; i < d->n; i++)
		fprintf(f, "%s\n", d->lines[i]);
	if (d->dropped)
		fprintf(f, "(%u more errors not shown)\n", d->dropped);
}
