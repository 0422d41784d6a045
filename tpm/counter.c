// SPDX-License-Identifier: GPL-2.0-only
/*
 * NV monotonic counter: the TPM only ever increments it, and it survives
 * reboots, so a value sealed with the agent state dates that state.
 */
#include <errno.h>
#include <tss2/tss2_mu.h>

#include "tpm/tpm_internal.h"
#include "user/common/log.h"

int vnfsec_tpm_counter_increment(struct vnfsec_tpm *t, uint32_t index,
				 uint64_t *value)
{
	ESYS_TR nv;
	TSS2_RC rc;
	int ret;

	ret = tpm_nv_open(t, index, &nv);
	if (ret) {
		log_err("tpm: NV counter 0x%x missing; define it first", index);
		return ret;
	}
	rc = Esys_NV_Increment(t->esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD,
			       ESYS_TR_NONE, ESYS_TR_NONE);
	tpm_nv_close(t, &nv);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(rc, "NV_Increment");
	return value ? vnfsec_tpm_counter_read(t, index, value) : 0;
}

int vnfsec_tpm_counter_define(struct vnfsec_tpm *t, uint32_t index)
{
	TPM2B_NV_PUBLIC pub = {
		.nvPublic = {
			.nvIndex = index,
			.nameAlg = TPM2_ALG_SHA256,
			/* Only the owner moves it; anyone may read it. */
			.attributes = (TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT) |
				TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD |
				TPMA_NV_AUTHREAD | TPMA_NV_NO_DA,
			.dataSize = 8,
		},
	};
	TPM2B_AUTH auth = { 0 };
	ESYS_TR nv = ESYS_TR_NONE;
	TSS2_RC rc;

	if ((index >> 24) != TPM2_HT_NV_INDEX) {
		log_err("tpm: 0x%x is not an NV index (0x01xxxxxx)", index);
		return -EINVAL;
	}
	if (!tpm_nv_open(t, index, &nv)) {
		tpm_nv_close(t, &nv);
		return 0;
	}
	rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
				 ESYS_TR_NONE, ESYS_TR_NONE, &auth, &pub, &nv);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(rc, "defining the NV counter (owner auth?)");
	tpm_nv_close(t, &nv);
	/* A counter reads as uninitialised until its first increment. */
	return vnfsec_tpm_counter_increment(t, index, NULL);
}

static int counter_read(struct vnfsec_tpm *t, uint32_t index,
			uint64_t *value, bool quiet)
{
	TPM2B_MAX_NV_BUFFER *data = NULL;
	ESYS_TR nv;
	size_t off = 0;
	TSS2_RC rc;
	int ret;

	ret = tpm_nv_open(t, index, &nv);
	if (ret) {
		if (!quiet || ret != -ENOENT)
			log_err("tpm: NV counter 0x%x missing; define it first",
				index);
		return ret;
	}
	rc = Esys_NV_Read(t->esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD,
			  ESYS_TR_NONE, ESYS_TR_NONE, 8, 0, &data);
	tpm_nv_close(t, &nv);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(rc, "reading the NV counter");
	ret = 0;
	if (data->size != 8 ||
	    Tss2_MU_UINT64_Unmarshal(data->buffer, data->size, &off, value)) {
		log_err("tpm: NV counter 0x%x is not 8 bytes", index);
		ret = -EBADMSG;
	}
	Esys_Free(data);
	return ret;
}

int vnfsec_tpm_counter_read(struct vnfsec_tpm *t, uint32_t index,
			    uint64_t *value)
{
	return counter_read(t, index, value, false);
}

int vnfsec_tpm_counter_peek(struct vnfsec_tpm *t, uint32_t index,
			    uint64_t *value)
{
	return counter_read(t, index, value, true);
}
