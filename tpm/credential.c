// SPDX-License-Identifier: GPL-2.0-only
/*
 * Credential challenge: the server encrypts a secret to the agent's EK,
 * bound to the AK's name; the TPM decrypts it only when it holds both
 * that EK and a loaded object of that name. That proves the AK lives in
 * the TPM whose EK certificate the server checked.
 *
 * Challenge blob: TPM2B_ID_OBJECT || TPM2B_ENCRYPTED_SECRET, TPM
 * marshalling. The server side runs MakeCredential on a TPM (its own, or
 * a private swtpm) rather than a hand-written KDFa/OAEP/HMAC: it involves
 * no secret of that TPM, only the EK public loaded as an external key.
 */
#include <errno.h>
#include <string.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <openssl/crypto.h>

#include "tpm/tpm_internal.h"
#include "user/common/log.h"

int vnfsec_tpm_make_credential(struct vnfsec_tpm *t,
			       const struct vnfsec_blob *ek_pub,
			       const struct vnfsec_blob *ak_pub,
			       const uint8_t *secret, size_t len,
			       struct vnfsec_blob *challenge)
{
	TPM2B_DIGEST cred = { .size = len };
	TPM2B_ID_OBJECT *blob = NULL;
	TPM2B_ENCRYPTED_SECRET *seed = NULL;
	uint8_t buf[sizeof(TPM2B_ID_OBJECT) + sizeof(TPM2B_ENCRYPTED_SECRET)];
	TPM2B_PUBLIC ek, ak;
	TPM2B_NAME name;
	const char *why;
	ESYS_TR h;
	size_t off = 0;
	TSS2_RC rc;
	int ret;

	if (!len || len > VNFSEC_CREDENTIAL_MAX) {
		log_err("tpm: credential secret of %zu bytes; 1..%u fit", len,
			VNFSEC_CREDENTIAL_MAX);
		return -EINVAL;
	}
	if (tpm_pub_unmarshal(ek_pub, &ek) ||
	    ek.publicArea.type != TPM2_ALG_RSA) {
		log_err("tpm: credential: EK public is not an RSA public area");
		return -EBADMSG;
	}
	ret = vnfsec_ak_check(ak_pub, &why);
	if (ret) {
		log_err("tpm: credential: refusing the AK: %s", why);
		return ret;
	}
	if (tpm_pub_unmarshal(ak_pub, &ak) || tpm_pub_name(&ak, &name)) {
		log_err("tpm: credential: cannot compute the AK name");
		return -EBADMSG;
	}
	memcpy(cred.buffer, secret, len);
	rc = Esys_LoadExternal(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
			       ESYS_TR_NONE, NULL, &ek, ESYS_TR_RH_NULL, &h);
	if (rc != TSS2_RC_SUCCESS) {
		OPENSSL_cleanse(&cred, sizeof(cred));
		return tpm_fail(rc, "loading the agent EK public");
	}
	rc = Esys_MakeCredential(t->esys, h, ESYS_TR_NONE, ESYS_TR_NONE,
				 ESYS_TR_NONE, &cred, &name, &blob, &seed);
	OPENSSL_cleanse(&cred, sizeof(cred));
	tpm_flush(t, &h);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(rc, "MakeCredential");
	if (Tss2_MU_TPM2B_ID_OBJECT_Marshal(blob, buf, sizeof(buf), &off) ||
	    Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(seed, buf, sizeof(buf),
						   &off))
		ret = -EIO;
	else
		ret = tpm_blob_dup(challenge, buf, off);
	Esys_Free(blob);
	Esys_Free(seed);
	return ret;
}

/* The EK's policy is PolicySecret(endorsement): satisfy it. */
static int ek_session(struct vnfsec_tpm *t, ESYS_TR *s)
{
	const TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
	TPM2B_TIMEOUT *timeout = NULL;
	TPMT_TK_AUTH *ticket = NULL;
	TSS2_RC rc;

	rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256,
				   s);
	if (rc != TSS2_RC_SUCCESS) {
		*s = ESYS_TR_NONE;
		return tpm_fail(rc, "starting the EK policy session");
	}
	rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, *s,
			       ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
			       NULL, NULL, NULL, 0, &timeout, &ticket);
	Esys_Free(timeout);
	Esys_Free(ticket);
	if (rc != TSS2_RC_SUCCESS) {
		tpm_flush(t, s);
		return tpm_fail(rc, "PolicySecret for the EK (endorsement auth?)");
	}
	return 0;
}

int vnfsec_tpm_activate_credential(struct vnfsec_tpm *t,
				   const struct vnfsec_blob *challenge,
				   uint8_t *secret, size_t cap, size_t *len)
{
	TPM2B_ID_OBJECT blob;
	TPM2B_ENCRYPTED_SECRET seed;
	TPM2B_DIGEST *cert = NULL;
	ESYS_TR ak = ESYS_TR_NONE, ek = ESYS_TR_NONE, s = ESYS_TR_NONE;
	bool transient = false;
	size_t off = 0;
	TSS2_RC rc;
	int ret;

	memset(&blob, 0, sizeof(blob));
	memset(&seed, 0, sizeof(seed));
	if (!challenge->data || challenge->len > VNFSEC_BLOB_MAX ||
	    Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(challenge->data, challenge->len,
					      &off, &blob) ||
	    Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(challenge->data,
						     challenge->len, &off,
						     &seed) ||
	    off != challenge->len) {
		log_err("tpm: credential challenge is malformed (%zu bytes)",
			challenge->len);
		return -EBADMSG;
	}
	ret = tpm_ak_primary(t, &ak, NULL);
	if (ret)
		return ret;
	ret = tpm_ek_load(t, &ek, &transient);
	if (ret)
		goto out;
	ret = ek_session(t, &s);
	if (ret)
		goto out;
	rc = Esys_ActivateCredential(t->esys, ak, ek, ESYS_TR_PASSWORD, s,
				     ESYS_TR_NONE, &blob, &seed, &cert);
	if (rc != TSS2_RC_SUCCESS) {
		ret = tpm_errno(rc);
		log_err("tpm: credential activation failed: %s (0x%x); the challenge was not made for this TPM's EK and AK",
			Tss2_RC_Decode(rc), rc);
		if (ret == -EIO)
			ret = -EACCES;
		goto out;
	}
	if (cert->size > cap) {
		ret = -EMSGSIZE;
	} else {
		memcpy(secret, cert->buffer, cert->size);
		*len = cert->size;
	}
	OPENSSL_cleanse(cert, sizeof(*cert));
	Esys_Free(cert);
out:
	tpm_flush(t, &s);
	tpm_ek_release(t, &ek, transient);
	tpm_flush(t, &ak);
	return ret;
}
