// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target on the frame decoder: whatever bytes an attacker puts
 * in a frame, wire_decode() must refuse them or return a frame that
 * validates, re-encodes and decodes again; never crash, leak or read out
 * of bounds (ASan and UBSan watch). `make fuzz` runs it at length;
 * the server suite runs it briefly.
 */
#include <stdint.h>
#include <stdlib.h>

#include "user/common/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Vnfsec__Frame *f, *again;
	const char *why;
	uint8_t *buf;
	size_t len;

	if (wire_decode(data, size, &f, &why))
		return 0;
	/* What we accepted we must be able to send and accept again. */
	if (wire_encode(f, &buf, &len) == 0) {
		if (wire_decode(buf + WIRE_HDR_LEN, len - WIRE_HDR_LEN, &again,
				&why))
			abort();
		wire_free(again);
		free(buf);
	}
	wire_free(f);
	return 0;
}
