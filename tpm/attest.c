// SPDX-License-Identifier: GPL-2.0-only
/* Agent-side identity: EK public and certificate, AK public, quotes. */
#include <errno.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "tpm/tpm_internal.h"
#include "user/common/log.h"

#define NV_CHUNK	512	/* below every TPM's MAX_NV_BUFFER_SIZE */

int vnfsec_tpm_ek_public(struct vnfsec_tpm *t, struct vnfsec_blob *ek_pub)
{
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_NAME *name = NULL, *qname = NULL;
	bool transient;
	ESYS_TR ek;
	TSS2_RC rc;
	int ret;

	ret = tpm_ek_load(t, &ek, &transient);
	if (ret)
		return ret;
	rc = Esys_ReadPublic(t->esys, ek, ESYS_TR_NONE, ESYS_TR_NONE,
			     ESYS_TR_NONE, &pub, &name, &qname);
	tpm_ek_release(t, &ek, transient);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(rc, "reading the EK public area");
	ret = tpm_pub_marshal(pub, ek_pub);
	Esys_Free(pub);
	Esys_Free(name);
	Esys_Free(qname);
	return ret;
}

int vnfsec_tpm_ek_cert(struct vnfsec_tpm *t, struct vnfsec_blob *der)
{
	TPM2B_NV_PUBLIC *npub = NULL;
	TPM2B_NAME *nname = NULL;
	uint16_t size, off = 0;
	ESYS_TR nv;
	TSS2_RC rc;
	int ret;

	ret = tpm_nv_open(t, VNFSEC_EK_CERT_NV_RSA, &nv);
	if (ret) {
		log_err("tpm: no EK certificate at NV 0x%x; provision the TPM with its manufacturer certificate",
			VNFSEC_EK_CERT_NV_RSA);
		return ret;
	}
	rc = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE,
				ESYS_TR_NONE, &npub, &nname);
	if (rc != TSS2_RC_SUCCESS) {
		ret = tpm_fail(rc, "reading the EK certificate index");
		goto out;
	}
	size = npub->nvPublic.dataSize;
	Esys_Free(npub);
	Esys_Free(nname);
	der->data = malloc(size ? size : 1);
	if (!der->data) {
		ret = -ENOMEM;
		goto out;
	}
	while (off < size) {
		TPM2B_MAX_NV_BUFFER *chunk = NULL;
		uint16_t n = size - off > NV_CHUNK ? NV_CHUNK : size - off;

		rc = Esys_NV_Read(t->esys, ESYS_TR_RH_OWNER, nv,
				  ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
				  n, off, &chunk);
		if (rc != TSS2_RC_SUCCESS || chunk->size != n) {
			ret = rc ? tpm_fail(rc, "reading the EK certificate") :
				   -EIO;
			if (!rc)
				log_err("tpm: EK certificate read came back short");
			Esys_Free(chunk);
			vnfsec_blob_free(der);
			goto out;
		}
		memcpy(der->data + off, chunk->buffer, n);
		off += n;
		Esys_Free(chunk);
	}
	der->len = size;
out:
	tpm_nv_close(t, &nv);
	return ret;
}

int vnfsec_tpm_ak_public(struct vnfsec_tpm *t, struct vnfsec_blob *ak_pub)
{
	TPM2B_PUBLIC *pub = NULL;
	ESYS_TR ak;
	int ret;

	ret = tpm_ak_primary(t, &ak, &pub);
	if (ret)
		return ret;
	tpm_flush(t, &ak);
	ret = tpm_pub_marshal(pub, ak_pub);
	Esys_Free(pub);
	return ret;
}

int vnfsec_tpm_quote(struct vnfsec_tpm *t, uint32_t mask,
		     const uint8_t *nonce, size_t nonce_len,
		     struct vnfsec_blob *attest, struct vnfsec_blob *sig)
{
	const TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPM2B_DATA qual = { .size = nonce_len };
	TPM2B_ATTEST *quoted = NULL;
	TPMT_SIGNATURE *signature = NULL;
	uint8_t buf[sizeof(TPMT_SIGNATURE)];
	TPML_PCR_SELECTION sel;
	size_t off = 0;
	ESYS_TR ak;
	TSS2_RC rc;
	int ret;

	if (nonce_len < VNFSEC_NONCE_MIN || nonce_len > VNFSEC_NONCE_MAX) {
		log_err("tpm: quote nonce of %zu bytes; %u..%u expected",
			nonce_len, VNFSEC_NONCE_MIN, VNFSEC_NONCE_MAX);
		return -EINVAL;
	}
	memcpy(qual.buffer, nonce, nonce_len);
	ret = tpm_pcr_selection(mask, &sel);
	if (ret)
		return ret;
	ret = tpm_ak_primary(t, &ak, NULL);
	if (ret)
		return ret;
	rc = Esys_Quote(t->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			ESYS_TR_NONE, &qual, &scheme, &sel, &quoted,
			&signature);
	tpm_flush(t, &ak);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(rc, "Quote");
	if (Tss2_MU_TPMT_SIGNATURE_Marshal(signature, buf, sizeof(buf),
					   &off)) {
		log_err("tpm: cannot marshal the quote signature");
		ret = -EIO;
		goto out;
	}
	ret = tpm_blob_dup(attest, quoted->attestationData, quoted->size);
	if (ret)
		goto out;
	ret = tpm_blob_dup(sig, buf, off);
	if (ret)
		vnfsec_blob_free(attest);
out:
	Esys_Free(quoted);
	Esys_Free(signature);
	return ret;
}
