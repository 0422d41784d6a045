// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seal and unseal small secrets to PolicyPCR under the storage primary.
 * Blob: mask (UINT32) || TPM2B_PUBLIC || TPM2B_PRIVATE, TPM marshalling.
 * The private part is encrypted by the storage key, which never leaves
 * this TPM: a blob is worthless on another machine.
 */
#include <errno.h>
#include <string.h>
#include <tss2/tss2_mu.h>
#include <openssl/crypto.h>

#include "tpm/tpm_internal.h"
#include "user/common/log.h"

static int start_session(struct vnfsec_tpm *t, TPM2_SE type, ESYS_TR *s)
{
	const TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
	TSS2_RC rc;

	rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   NULL, type, &sym, TPM2_ALG_SHA256, s);
	if (rc != TSS2_RC_SUCCESS) {
		*s = ESYS_TR_NONE;
		return tpm_fail(rc, "starting a policy session");
	}
	return 0;
}

/* PolicyPCR with an empty digest: the TPM takes the current values. */
static int policy_pcr(struct vnfsec_tpm *t, ESYS_TR s,
		      const TPML_PCR_SELECTION *sel)
{
	const TPM2B_DIGEST none = { 0 };
	TSS2_RC rc;

	rc = Esys_PolicyPCR(t->esys, s, ESYS_TR_NONE, ESYS_TR_NONE,
			    ESYS_TR_NONE, &none, sel);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(rc, "PolicyPCR");
	return 0;
}

static int pcr_policy_digest(struct vnfsec_tpm *t,
			     const TPML_PCR_SELECTION *sel, TPM2B_DIGEST *out)
{
	TPM2B_DIGEST *d = NULL;
	ESYS_TR s;
	TSS2_RC rc;
	int ret;

	ret = start_session(t, TPM2_SE_TRIAL, &s);
	if (ret)
		return ret;
	ret = policy_pcr(t, s, sel);
	if (ret)
		goto out;
	rc = Esys_PolicyGetDigest(t->esys, s, ESYS_TR_NONE, ESYS_TR_NONE,
				  ESYS_TR_NONE, &d);
	if (rc != TSS2_RC_SUCCESS) {
		ret = tpm_fail(rc, "PolicyGetDigest");
		goto out;
	}
	*out = *d;
	Esys_Free(d);
out:
	tpm_flush(t, &s);
	return ret;
}

int vnfsec_tpm_seal(struct vnfsec_tpm *t, uint32_t mask, const void *secret,
		    size_t len, struct vnfsec_blob *sealed)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_PUBLIC tmpl = {
		.publicArea = {
			.type = TPM2_ALG_KEYEDHASH,
			.nameAlg = TPM2_ALG_SHA256,
			/* No userWithAuth: only the PCR policy opens it. */
			.objectAttributes = TPMA_OBJECT_FIXEDTPM |
				TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA,
			.parameters.keyedHashDetail.scheme.scheme =
				TPM2_ALG_NULL,
		},
	};
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION sel, none = { 0 };
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_CREATION_DATA *cdata = NULL;
	TPM2B_DIGEST *chash = NULL;
	TPMT_TK_CREATION *ticket = NULL;
	uint8_t buf[4 + sizeof(TPM2B_PUBLIC) + sizeof(TPM2B_PRIVATE)];
	ESYS_TR primary;
	size_t off = 0;
	TSS2_RC rc;
	int ret;

	if (!len || len > VNFSEC_SEAL_MAX) {
		log_err("tpm: cannot seal %zu bytes: 1..%u fit", len,
			VNFSEC_SEAL_MAX);
		return -EMSGSIZE;
	}
	ret = tpm_pcr_selection(mask, &sel);
	if (ret)
		return ret;
	ret = pcr_policy_digest(t, &sel, &tmpl.publicArea.authPolicy);
	if (ret)
		return ret;
	ret = tpm_storage_primary(t, &primary);
	if (ret)
		return ret;
	sens.sensitive.data.size = len;
	memcpy(sens.sensitive.data.buffer, secret, len);
	rc = Esys_Create(t->esys, primary, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			 ESYS_TR_NONE, &sens, &tmpl, &outside, &none, &priv,
			 &pub, &cdata, &chash, &ticket);
	OPENSSL_cleanse(&sens, sizeof(sens));
	tpm_flush(t, &primary);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(rc, "creating the sealed object");
	if (Tss2_MU_UINT32_Marshal(mask, buf, sizeof(buf), &off) ||
	    Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) ||
	    Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, sizeof(buf), &off)) {
		log_err("tpm: cannot marshal the sealed object");
		ret = -EIO;
	} else {
		ret = tpm_blob_dup(sealed, buf, off);
	}
	Esys_Free(priv);
	Esys_Free(pub);
	Esys_Free(cdata);
	Esys_Free(chash);
	Esys_Free(ticket);
	return ret;
}

int vnfsec_tpm_unseal(struct vnfsec_tpm *t, const struct vnfsec_blob *sealed,
		      uint8_t *buf, size_t cap, size_t *len)
{
	TPM2B_PUBLIC pub;
	TPM2B_PRIVATE priv;
	TPML_PCR_SELECTION sel;
	TPM2B_SENSITIVE_DATA *out = NULL;
	ESYS_TR primary = ESYS_TR_NONE, obj = ESYS_TR_NONE;
	ESYS_TR session = ESYS_TR_NONE;
	uint32_t mask;
	size_t off = 0;
	TSS2_RC rc;
	int ret;

	memset(&pub, 0, sizeof(pub));
	memset(&priv, 0, sizeof(priv));
	if (!sealed->data || sealed->len > VNFSEC_BLOB_MAX ||
	    Tss2_MU_UINT32_Unmarshal(sealed->data, sealed->len, &off, &mask) ||
	    Tss2_MU_TPM2B_PUBLIC_Unmarshal(sealed->data, sealed->len, &off,
					   &pub) ||
	    Tss2_MU_TPM2B_PRIVATE_Unmarshal(sealed->data, sealed->len, &off,
					    &priv) ||
	    off != sealed->len) {
		log_err("tpm: sealed blob is malformed (%zu bytes); it was not written by vnfsec_tpm_seal",
			sealed->len);
		return -EBADMSG;
	}
	ret = tpm_pcr_selection(mask, &sel);
	if (ret)
		return ret;
	ret = tpm_storage_primary(t, &primary);
	if (ret)
		return ret;
	rc = Esys_Load(t->esys, primary, ESYS_TR_PASSWORD, ESYS_TR_NONE,
		       ESYS_TR_NONE, &priv, &pub, &obj);
	if (rc != TSS2_RC_SUCCESS) {
		/* Integrity/size errors: tampered, or sealed by another TPM. */
		ret = tpm_fail(rc, "loading the sealed object (another TPM's blob, or tampered)");
		obj = ESYS_TR_NONE;
		goto out;
	}
	ret = start_session(t, TPM2_SE_POLICY, &session);
	if (ret)
		goto out;
	ret = policy_pcr(t, session, &sel);
	if (ret)
		goto out;
	rc = Esys_Unseal(t->esys, obj, session, ESYS_TR_NONE, ESYS_TR_NONE,
			 &out);
	if (rc != TSS2_RC_SUCCESS) {
		ret = tpm_errno(rc);
		if (ret == -EACCES)
			log_err("tpm: unseal refused: PCRs 0x%x differ from when the data was sealed (boot state changed)",
				mask);
		else
			tpm_fail(rc, "Unseal");
		goto out;
	}
	if (out->size > cap) {
		log_err("tpm: unsealed %u bytes, caller has room for %zu",
			out->size, cap);
		ret = -EMSGSIZE;
	} else {
		memcpy(buf, out->buffer, out->size);
		*len = out->size;
	}
	OPENSSL_cleanse(out, sizeof(*out));
	Esys_Free(out);
out:
	tpm_flush(t, &session);
	tpm_flush(t, &obj);
	tpm_flush(t, &primary);
	return ret;
}
