// SPDX-License-Identifier: GPL-2.0-only
/* Opening the TPM, error mapping, PCRs and the primary keys everyone uses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tpm/tpm_internal.h"
#include "user/common/log.h"

int tpm_errno(TSS2_RC rc)
{
	TSS2_RC base;

	if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
		return rc == TSS2_ESYS_RC_MEMORY ? -ENOMEM : -EIO;
	/* Format-one codes carry the failing handle/parameter in 0xf00. */
	base = (rc & TPM2_RC_FMT1) ? (rc & (TPM2_RC_FMT1 | 0x3f)) : rc;
	switch (base) {
	case TPM2_RC_POLICY_FAIL:
	case TPM2_RC_PCR_CHANGED:
	case TPM2_RC_AUTH_FAIL:
	case TPM2_RC_BAD_AUTH:
		return -EACCES;
	case TPM2_RC_INTEGRITY:
	case TPM2_RC_SIZE:
	case TPM2_RC_VALUE:
		return -EBADMSG;
	case TPM2_RC_OBJECT_MEMORY:
	case TPM2_RC_SESSION_MEMORY:
	case TPM2_RC_NV_SPACE:
		return -ENOSPC;
	case TPM2_RC_NV_DEFINED:
		return -EEXIST;
	case TPM2_RC_HANDLE:
		return -ENOENT;
	default:
		return -EIO;
	}
}

int tpm_fail(TSS2_RC rc, const char *what)
{
	log_err("tpm: %s failed: %s (0x%x)", what, Tss2_RC_Decode(rc), rc);
	return tpm_errno(rc);
}

void tpm_flush(struct vnfsec_tpm *t, ESYS_TR *h)
{
	TSS2_RC rc;

	if (*h == ESYS_TR_NONE)
		return;
	rc = Esys_FlushContext(t->esys, *h);
	if (rc != TSS2_RC_SUCCESS)
		log_warn("tpm: flush of a transient object failed: %s; the TPM may run out of slots",
			 Tss2_RC_Decode(rc));
	*h = ESYS_TR_NONE;
}

int vnfsec_tpm_open(const char *tcti, struct vnfsec_tpm **out)
{
	struct vnfsec_tpm *t;
	TSS2_RC rc;
	int ret;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		log_err("tpm: cannot open TCTI \"%s\": %s; check the TPM address (swtpm:host=..,port=.. or device:/dev/tpmrm0)",
			tcti ? tcti : "(default)", Tss2_RC_Decode(rc));
		ret = -ENODEV;
		goto err_free;
	}
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		ret = tpm_fail(rc, "ESAPI initialisation");
		goto err_tcti;
	}
	*out = t;
	return 0;
err_tcti:
	Tss2_TctiLdr_Finalize(&t->tcti);
err_free:
	free(t);
	return ret;
}

void vnfsec_tpm_close(struct vnfsec_tpm *t)
{
	if (!t)
		return;
	Esys_Finalize(&t->esys);
	Tss2_TctiLdr_Finalize(&t->tcti);
	free(t);
}

void vnfsec_blob_free(struct vnfsec_blob *b)
{
	if (!b)
		return;
	if (b->data) {
		/* Blobs may hold unsealed secrets: scrub before freeing. */
		OPENSSL_cleanse(b->data, b->len);
		free(b->data);
	}
	b->data = NULL;
	b->len = 0;
}

int tpm_blob_dup(struct vnfsec_blob *b, const void *data, size_t len)
{
	b->data = malloc(len ? len : 1);
	if (!b->data)
		return -ENOMEM;
	memcpy(b->data, data, len);
	b->len = len;
	return 0;
}

int vnfsec_tpm_random(struct vnfsec_tpm *t, uint8_t *buf, size_t len)
{
	while (len) {
		TPM2B_DIGEST *rnd = NULL;
		size_t n = len > 32 ? 32 : len;
		TSS2_RC rc;

		rc = Esys_GetRandom(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				    ESYS_TR_NONE, n, &rnd);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail(rc, "GetRandom");
		if (rnd->size == 0 || rnd->size > n) {
			Esys_Free(rnd);
			log_err("tpm: GetRandom returned a bad length");
			return -EIO;
		}
		memcpy(buf, rnd->buffer, rnd->size);
		buf += rnd->size;
		len -= rnd->size;
		Esys_Free(rnd);
	}
	return 0;
}

int tpm_pcr_selection(uint32_t mask, TPML_PCR_SELECTION *sel)
{
	if (!mask || mask >> VNFSEC_PCR_MAX) {
		log_err("tpm: PCR set 0x%x is empty or names PCRs beyond 23", mask);
		return -EINVAL;
	}
	memset(sel, 0, sizeof(*sel));
	sel->count = 1;
	sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel->pcrSelections[0].sizeofSelect = 3;
	sel->pcrSelections[0].pcrSelect[0] = mask & 0xff;
	sel->pcrSelections[0].pcrSelect[1] = (mask >> 8) & 0xff;
	sel->pcrSelections[0].pcrSelect[2] = (mask >> 16) & 0xff;
	return 0;
}

/* The SHA-256 bank of @sel as a mask; anything else makes it 0. */
uint32_t tpm_selection_mask(const TPML_PCR_SELECTION *sel)
{
	const TPMS_PCR_SELECTION *s = &sel->pcrSelections[0];
	uint32_t mask = 0;
	unsigned int i;

	if (sel->count != 1 || s->hash != TPM2_ALG_SHA256 ||
	    s->sizeofSelect > sizeof(s->pcrSelect))
		return 0;
	for (i = 0; i < s->sizeofSelect; i++) {
		if (i >= 3 && s->pcrSelect[i])
			return 0;
		if (i < 3)
			mask |= (uint32_t)s->pcrSelect[i] << (8 * i);
	}
	return mask;
}

int vnfsec_tpm_pcr_read(struct vnfsec_tpm *t, uint32_t mask,
			uint8_t out[][VNFSEC_PCR_DIGEST_LEN])
{
	uint32_t left = mask;
	TSS2_RC rc;

	/* The TPM answers at most 8 digests per call: ask until done. */
	while (left) {
		TPML_PCR_SELECTION sel, *got = NULL;
		TPML_DIGEST *vals = NULL;
		uint32_t done;
		unsigned int pcr, v = 0;
		int ret;

		ret = tpm_pcr_selection(left, &sel);
		if (ret)
			return ret;
		rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, &sel, NULL, &got, &vals);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail(rc, "PCR_Read");
		done = tpm_selection_mask(got) & left;
		for (pcr = 0; pcr < VNFSEC_PCR_MAX && v < vals->count; pcr++) {
			unsigned int idx;

			if (!(done & (1U << pcr)))
				continue;
			if (vals->digests[v].size != VNFSEC_PCR_DIGEST_LEN)
				break;
			idx = __builtin_popcount(mask & ((1U << pcr) - 1));
			memcpy(out[idx], vals->digests[v].buffer,
			       VNFSEC_PCR_DIGEST_LEN);
			v++;
		}
		Esys_Free(got);
		Esys_Free(vals);
		if (!done || v != (unsigned int)__builtin_popcount(done)) {
			log_err("tpm: PCR_Read gave no SHA-256 values for PCR set 0x%x; is the sha256 bank active?",
				left);
			return -EIO;
		}
		left &= ~done;
	}
	return 0;
}

int vnfsec_tpm_pcr_extend(struct vnfsec_tpm *t, unsigned int pcr,
			  const uint8_t digest[VNFSEC_PCR_DIGEST_LEN])
{
	TPML_DIGEST_VALUES vals = { .count = 1 };
	TSS2_RC rc;

	if (pcr >= VNFSEC_PCR_MAX)
		return -EINVAL;
	vals.digests[0].hashAlg = TPM2_ALG_SHA256;
	memcpy(vals.digests[0].digest.sha256, digest, VNFSEC_PCR_DIGEST_LEN);
	rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD,
			     ESYS_TR_NONE, ESYS_TR_NONE, &vals);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(rc, "PCR_Extend");
	return 0;
}

int tpm_pub_marshal(const TPM2B_PUBLIC *pub, struct vnfsec_blob *out)
{
	uint8_t buf[sizeof(TPM2B_PUBLIC)];
	size_t off = 0;
	TSS2_RC rc;

	rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(rc, "marshalling a public area");
	return tpm_blob_dup(out, buf, off);
}

int tpm_pub_unmarshal(const struct vnfsec_blob *in, TPM2B_PUBLIC *pub)
{
	size_t off = 0;
	TSS2_RC rc;

	memset(pub, 0, sizeof(*pub));
	if (!in->data || in->len > VNFSEC_BLOB_MAX)
		return -EMSGSIZE;
	rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(in->data, in->len, &off, pub);
	if (rc != TSS2_RC_SUCCESS || off != in->len)
		return -EBADMSG;
	return 0;
}

int tpm_pub_name(const TPM2B_PUBLIC *pub, TPM2B_NAME *name)
{
	uint8_t buf[sizeof(TPMT_PUBLIC)];
	unsigned int dlen = 0;
	size_t off = 0;

	if (pub->publicArea.nameAlg != TPM2_ALG_SHA256)
		return -EPROTONOSUPPORT;
	if (Tss2_MU_TPMT_PUBLIC_Marshal(&pub->publicArea, buf, sizeof(buf),
					&off) != TSS2_RC_SUCCESS)
		return -EBADMSG;
	name->name[0] = TPM2_ALG_SHA256 >> 8;
	name->name[1] = TPM2_ALG_SHA256 & 0xff;
	if (!EVP_Digest(buf, off, name->name + 2, &dlen, EVP_sha256(), NULL))
		return -EIO;
	name->size = 2 + dlen;
	return 0;
}

int tpm_nv_open(struct vnfsec_tpm *t, uint32_t index, ESYS_TR *nv)
{
	TSS2_RC rc;

	if ((index >> 24) != TPM2_HT_NV_INDEX) {
		log_err("tpm: 0x%x is not an NV index (0x01xxxxxx)", index);
		return -EINVAL;
	}
	rc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, nv);
	if (rc != TSS2_RC_SUCCESS) {
		*nv = ESYS_TR_NONE;
		return tpm_errno(rc) == -EIO ? -ENOENT : tpm_errno(rc);
	}
	return 0;
}

void tpm_nv_close(struct vnfsec_tpm *t, ESYS_TR *nv)
{
	if (*nv != ESYS_TR_NONE)
		Esys_TR_Close(t->esys, nv);
	*nv = ESYS_TR_NONE;
}
