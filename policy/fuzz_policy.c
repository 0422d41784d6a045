// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: any byte string through the whole loader (YAML parse,
 * schema walk, cross-reference checks, compile, dump, diff against
 * itself). Bad input must give diagnostics, never a crash or a leak.
 */
#include <stdio.h>

#include "policy/vnfsec_policy.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct policy_diag diag = { 0 };
	struct policy_compiled *p;
	FILE *devnull;

	if (!policy_load_buf("fuzz", (const char *)data, size, &p, &diag)) {
		devnull = fopen("/dev/null", "w");
		if (devnull) {
			policy_dump(p, devnull);
			policy_diff(p, p, devnull);
			fclose(devnull);
		}
		policy_free(p);
	}
	policy_diag_free(&diag);
	return 0;
}
