/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared between the files of tpm/: the context and ESAPI helpers. */
#ifndef VNFSEC_TPM_INTERNAL_H
#define VNFSEC_TPM_INTERNAL_H

#include <stdbool.h>
#include <tss2/tss2_esys.h>

#include "tpm/vnfsec_tpm.h"

struct vnfsec_tpm {
	ESYS_CONTEXT *esys;
	TSS2_TCTI_CONTEXT *tcti;
};

/* Log @what failed with @rc and map it to a negative errno. */
int tpm_fail(TSS2_RC rc, const char *what);
/* The errno tpm_fail() would return, without logging. */
int tpm_errno(TSS2_RC rc);

void tpm_flush(struct vnfsec_tpm *t, ESYS_TR *h);

int tpm_pcr_selection(uint32_t mask, TPML_PCR_SELECTION *sel);
uint32_t tpm_selection_mask(const TPML_PCR_SELECTION *sel);

/* Transient primaries: flush them with tpm_flush(). */
int tpm_storage_primary(struct vnfsec_tpm *t, ESYS_TR *out);
int tpm_ak_primary(struct vnfsec_tpm *t, ESYS_TR *out, TPM2B_PUBLIC **pub);
/*
 * The EK: the persistent one when it exists (*transient false), else a
 * fresh primary from the TCG template (*transient true, flush it).
 */
int tpm_ek_load(struct vnfsec_tpm *t, ESYS_TR *out, bool *transient);
void tpm_ek_release(struct vnfsec_tpm *t, ESYS_TR *ek, bool transient);

/* An ESYS handle for NV index @index; -ENOENT when it is not defined. */
int tpm_nv_open(struct vnfsec_tpm *t, uint32_t index, ESYS_TR *nv);
void tpm_nv_close(struct vnfsec_tpm *t, ESYS_TR *nv);

int tpm_blob_dup(struct vnfsec_blob *b, const void *data, size_t len);

/* Marshalled TPM2B_PUBLIC <-> structure, bounded by the blob length. */
int tpm_pub_marshal(const TPM2B_PUBLIC *pub, struct vnfsec_blob *out);
int tpm_pub_unmarshal(const struct vnfsec_blob *in, TPM2B_PUBLIC *pub);
/* nameAlg || H(TPMT_PUBLIC): how the TPM names an object. */
int tpm_pub_name(const TPM2B_PUBLIC *pub, TPM2B_NAME *name);

#endif /* VNFSEC_TPM_INTERNAL_H */
