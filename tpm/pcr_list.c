// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCR lists as operators write them on command lines ("0,7"), for every
 * option that takes one (the agent's --state-pcrs, the server's
 * --attest-pcrs).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tpm/vnfsec_tpm.h"

int vnfsec_pcr_list_parse(const char *arg, uint32_t *mask)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long n = strtoul(tok, &end, 10);

		if (*end || end == tok || n >= VNFSEC_PCR_MAX) {
			ret = -EINVAL;
			break;
		}
		*mask |= 1U << n;
	}
	free(copy);
	if (!ret && !*mask)
		ret = -EINVAL;
	return ret;
}
