// SPDX-License-Identifier: GPL-2.0-only
/*
 * The primary keys: storage (owner hierarchy), EK and AK (endorsement
 * hierarchy). Primaries are derived from the hierarchy seed and the
 * template, so re-creating one gives the same key: nothing is persisted
 * but the EK the manufacturer (swtpm_setup) made persistent.
 */
#include <errno.h>
#include <string.h>

#include "tpm/tpm_internal.h"
#include "user/common/log.h"

/* TCG EK Credential Profile 2.0, template L-1 (RSA 2048). */
static const uint8_t ek_policy[] = {
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
	0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
	0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

static int create_primary(struct vnfsec_tpm *t, ESYS_TR hierarchy,
			  const TPM2B_PUBLIC *tmpl, ESYS_TR *out,
			  TPM2B_PUBLIC **pub, const char *what)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION pcrs = { 0 };
	TPM2B_CREATION_DATA *cdata = NULL;
	TPM2B_DIGEST *chash = NULL;
	TPMT_TK_CREATION *ticket = NULL;
	TPM2B_PUBLIC *opub = NULL;
	TSS2_RC rc;

	*out = ESYS_TR_NONE;
	rc = Esys_CreatePrimary(t->esys, hierarchy, ESYS_TR_PASSWORD,
				ESYS_TR_NONE, ESYS_TR_NONE, &sens, tmpl,
				&outside, &pcrs, out, &opub, &cdata, &chash,
				&ticket);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(rc, what);
	Esys_Free(cdata);
	Esys_Free(chash);
	Esys_Free(ticket);
	if (pub)
		*pub = opub;
	else
		Esys_Free(opub);
	return 0;
}

int tpm_storage_primary(struct vnfsec_tpm *t, ESYS_TR *out)
{
	const TPM2B_PUBLIC tmpl = {
		.publicArea = {
			.type = TPM2_ALG_ECC,
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes = TPMA_OBJECT_FIXEDTPM |
				TPMA_OBJECT_FIXEDPARENT |
				TPMA_OBJECT_SENSITIVEDATAORIGIN |
				TPMA_OBJECT_USERWITHAUTH |
				TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |
				TPMA_OBJECT_DECRYPT,
			.parameters.eccDetail = {
				.symmetric = {
					.algorithm = TPM2_ALG_AES,
					.keyBits.aes = 128,
					.mode.aes = TPM2_ALG_CFB,
				},
				.scheme.scheme = TPM2_ALG_NULL,
				.curveID = TPM2_ECC_NIST_P256,
				.kdf.scheme = TPM2_ALG_NULL,
			},
		},
	};

	return create_primary(t, ESYS_TR_RH_OWNER, &tmpl, out, NULL,
			      "creating the storage primary key");
}

int tpm_ak_primary(struct vnfsec_tpm *t, ESYS_TR *out, TPM2B_PUBLIC **pub)
{
	const TPM2B_PUBLIC tmpl = {
		.publicArea = {
			.type = TPM2_ALG_ECC,
			.nameAlg = TPM2_ALG_SHA256,
			/*
			 * restricted + sign: the AK signs only what the TPM
			 * itself produced (quotes), never a forged attest.
			 */
			.objectAttributes = TPMA_OBJECT_FIXEDTPM |
				TPMA_OBJECT_FIXEDPARENT |
				TPMA_OBJECT_SENSITIVEDATAORIGIN |
				TPMA_OBJECT_USERWITHAUTH |
				TPMA_OBJECT_RESTRICTED |
				TPMA_OBJECT_SIGN_ENCRYPT,
			.parameters.eccDetail = {
				.symmetric.algorithm = TPM2_ALG_NULL,
				.scheme = {
					.scheme = TPM2_ALG_ECDSA,
					.details.ecdsa.hashAlg = TPM2_ALG_SHA256,
				},
				.curveID = TPM2_ECC_NIST_P256,
				.kdf.scheme = TPM2_ALG_NULL,
			},
		},
	};

	return create_primary(t, ESYS_TR_RH_ENDORSEMENT, &tmpl, out, pub,
			      "creating the attestation key");
}

static int ek_create(struct vnfsec_tpm *t, ESYS_TR *out)
{
	TPM2B_PUBLIC tmpl = {
		.publicArea = {
			.type = TPM2_ALG_RSA,
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes = TPMA_OBJECT_FIXEDTPM |
				TPMA_OBJECT_FIXEDPARENT |
				TPMA_OBJECT_SENSITIVEDATAORIGIN |
				TPMA_OBJECT_ADMINWITHPOLICY |
				TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT,
			.parameters.rsaDetail = {
				.symmetric = {
					.algorithm = TPM2_ALG_AES,
					.keyBits.aes = 128,
					.mode.aes = TPM2_ALG_CFB,
				},
				.scheme.scheme = TPM2_ALG_NULL,
				.keyBits = 2048,
				.exponent = 0,
			},
			.unique.rsa.size = 256,
		},
	};

	tmpl.publicArea.authPolicy.size = sizeof(ek_policy);
	memcpy(tmpl.publicArea.authPolicy.buffer, ek_policy,
	       sizeof(ek_policy));
	return create_primary(t, ESYS_TR_RH_ENDORSEMENT, &tmpl, out, NULL,
			      "creating the endorsement key");
}

int tpm_ek_load(struct vnfsec_tpm *t, ESYS_TR *out, bool *transient)
{
	TSS2_RC rc;

	rc = Esys_TR_FromTPMPublic(t->esys, VNFSEC_EK_HANDLE_RSA, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, out);
	if (rc == TSS2_RC_SUCCESS) {
		*transient = false;
		return 0;
	}
	/* No persistent EK: the template gives the certified key. */
	*transient = true;
	return ek_create(t, out);
}

void tpm_ek_release(struct vnfsec_tpm *t, ESYS_TR *ek, bool transient)
{
	if (transient) {
		tpm_flush(t, ek);
		return;
	}
	if (*ek != ESYS_TR_NONE)
		Esys_TR_Close(t->esys, ek);
	*ek = ESYS_TR_NONE;
}
