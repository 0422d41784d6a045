// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM2_Certify of the agent's TLS key by its AK. The quote binds the CSR
 * to the attested TPM, but only a certification tells the server that the
 * key in the CSR is an object of that TPM: fixedTPM, fixedParent and
 * generated inside it, not a software key the attested code chose to
 * show. The AK is restricted, so it signs only what the TPM itself
 * produced; a TPMS_ATTEST of type ATTEST_CERTIFY naming the key is the
 * TPM's word that it holds that key.
 *
 * The key comes as the tpm2 OpenSSL provider wrote it: a "TSS2 PRIVATE
 * KEY" (ASN.1 per the TPM 2.0 key file format: type OID, emptyAuth,
 * parent handle, TPM2B_PUBLIC, TPM2B_PRIVATE). Its parent is a persistent
 * handle, or TPM2_RH_OWNER, which the provider means as a primary it
 * derives from the owner seed with its ECC template; that template is
 * exactly our storage primary's (tpm2-openssl, tpm2-provider-pkey.c,
 * primaryEccTemplate), so re-deriving it gives the same parent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <tss2/tss2_mu.h>
#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "tpm/tpm_internal.h"
#include "user/common/log.h"

#define TSS2_KEY_PEM_NAME	"TSS2 PRIVATE KEY"
#define TSS2_LOADABLE_KEY_OID	"2.23.133.10.1.3"

/*
 * OpenSSL's ASN.1 template macros name the C type by a single token,
 * hence the typedef.
 */
typedef struct tss2_key {
	ASN1_OBJECT *type;
	ASN1_BOOLEAN empty_auth;
	ASN1_INTEGER *parent;
	ASN1_OCTET_STRING *pub;
	ASN1_OCTET_STRING *priv;
} TSS2_KEY;

ASN1_SEQUENCE(TSS2_KEY) = {
	ASN1_SIMPLE(TSS2_KEY, type, ASN1_OBJECT),
	ASN1_EXP_OPT(TSS2_KEY, empty_auth, ASN1_BOOLEAN, 0),
	ASN1_SIMPLE(TSS2_KEY, parent, ASN1_INTEGER),
	ASN1_SIMPLE(TSS2_KEY, pub, ASN1_OCTET_STRING),
	ASN1_SIMPLE(TSS2_KEY, priv, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(TSS2_KEY)

/* What Esys_Load needs of the key file. */
struct loadable_key {
	uint32_t parent;
	TPM2B_PUBLIC pub;
	TPM2B_PRIVATE priv;
};

static int key_decode(const uint8_t *der, long len, struct loadable_key *k,
		      const char **why)
{
	const unsigned char *p = der;
	ASN1_OBJECT *loadable = NULL;
	TSS2_KEY *key;
	uint64_t parent;
	size_t off;
	int ret = -EBADMSG;

	key = (TSS2_KEY *)ASN1_item_d2i(NULL, &p, len,
					ASN1_ITEM_rptr(TSS2_KEY));
	if (!key || p != der + len) {
		*why = "not one DER TSS2 key";
		goto out;
	}
	loadable = OBJ_txt2obj(TSS2_LOADABLE_KEY_OID, 1);
	if (!loadable || OBJ_cmp(key->type, loadable)) {
		*why = "not a loadable TSS2 key (type OID)";
		goto out;
	}
	/*
	 * Certify needs the key's auth: only an empty one is known here.
	 * An absent emptyAuth decodes as -1 and means a password is set.
	 */
	if (key->empty_auth == -1 || !key->empty_auth) {
		*why = "the key has a password (emptyAuth is not set)";
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (!ASN1_INTEGER_get_uint64(&parent, key->parent) ||
	    parent > UINT32_MAX) {
		*why = "parent handle out of range";
		goto out;
	}
	k->parent = parent ? (uint32_t)parent : TPM2_RH_OWNER;
	off = 0;
	memset(&k->pub, 0, sizeof(k->pub));
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(key->pub->data, key->pub->length,
					   &off, &k->pub) ||
	    off != (size_t)key->pub->length) {
		*why = "public part is not a TPM2B_PUBLIC";
		goto out;
	}
	off = 0;
	memset(&k->priv, 0, sizeof(k->priv));
	if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(key->priv->data,
					    key->priv->length, &off,
					    &k->priv) ||
	    off != (size_t)key->priv->length) {
		*why = "private part is not a TPM2B_PRIVATE";
		goto out;
	}
	ret = 0;
out:
	ASN1_OBJECT_free(loadable);
	ASN1_item_free((ASN1_VALUE *)key, ASN1_ITEM_rptr(TSS2_KEY));
	return ret;
}

static int key_read(const char *path, struct loadable_key *k)
{
	const char *why = "not a PEM TSS2 PRIVATE KEY";
	unsigned char *der = NULL;
	long len = 0;
	FILE *f;
	BIO *bio;
	int ret = -EBADMSG;

	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		log_err("tpm: cannot open the TLS key %s to certify it: %s",
			path, strerror(errno));
		return ret;
	}
	bio = BIO_new_fp(f, BIO_CLOSE);
	if (!bio) {
		fclose(f);
		return -ENOMEM;
	}
	if (PEM_bytes_read_bio(&der, &len, NULL, TSS2_KEY_PEM_NAME, bio, NULL,
			       NULL) == 1)
		ret = key_decode(der, len, k, &why);
	if (ret) {
		log_err("tpm: TLS key %s cannot be certified: %s", path, why);
		/* Later TLS errors must not be reported as this one. */
		ERR_clear_error();
	}
	OPENSSL_free(der);
	BIO_free(bio);
	return ret;
}

/* The key's parent as the provider made it; *transient: flush it. */
static int parent_load(struct vnfsec_tpm *t, uint32_t handle, ESYS_TR *out,
		       bool *transient)
{
	TSS2_RC rc;

	*transient = false;
	if (handle == TPM2_RH_OWNER) {
		*transient = true;
		return tpm_storage_primary(t, out);
	}
	if ((handle >> 24) != TPM2_HT_PERSISTENT) {
		log_err("tpm: the TLS key's parent 0x%x is neither the owner hierarchy nor a persistent key",
			handle);
		return -EOPNOTSUPP;
	}
	rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, out);
	if (rc != TSS2_RC_SUCCESS) {
		*out = ESYS_TR_NONE;
		return tpm_fail(rc, "opening the TLS key's persistent parent");
	}
	return 0;
}

static void parent_release(struct vnfsec_tpm *t, ESYS_TR *h, bool transient)
{
	if (transient) {
		tpm_flush(t, h);
		return;
	}
	if (*h != ESYS_TR_NONE)
		Esys_TR_Close(t->esys, h);
	*h = ESYS_TR_NONE;
}

/* Load the key under its parent; the parent is let go at once. */
static int key_load(struct vnfsec_tpm *t, const struct loadable_key *k,
		    ESYS_TR *out)
{
	ESYS_TR parent = ESYS_TR_NONE;
	bool transient;
	TSS2_RC rc;
	int ret;

	*out = ESYS_TR_NONE;
	ret = parent_load(t, k->parent, &parent, &transient);
	if (ret)
		return ret;
	rc = Esys_Load(t->esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE,
		       ESYS_TR_NONE, &k->priv, &k->pub, out);
	parent_release(t, &parent, transient);
	if (rc != TSS2_RC_SUCCESS) {
		*out = ESYS_TR_NONE;
		ret = tpm_fail(rc, "loading the TLS key (made by another TPM, or under another parent?)");
	}
	return ret;
}

int vnfsec_tpm_certify_key(struct vnfsec_tpm *t, const char *key_path,
			   const uint8_t *nonce, size_t nonce_len,
			   struct vnfsec_blob *key_pub,
			   struct vnfsec_blob *attest, struct vnfsec_blob *sig)
{
	const TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPM2B_DATA qual = { .size = nonce_len };
	TPM2B_ATTEST *info = NULL;
	TPMT_SIGNATURE *signature = NULL;
	uint8_t buf[sizeof(TPMT_SIGNATURE)];
	ESYS_TR key = ESYS_TR_NONE, ak = ESYS_TR_NONE;
	struct loadable_key k;
	size_t off = 0;
	TSS2_RC rc;
	int ret;

	if (nonce_len < VNFSEC_NONCE_MIN || nonce_len > VNFSEC_NONCE_MAX) {
		log_err("tpm: certify nonce of %zu bytes; %u..%u expected",
			nonce_len, VNFSEC_NONCE_MIN, VNFSEC_NONCE_MAX);
		return -EINVAL;
	}
	memcpy(qual.buffer, nonce, nonce_len);
	ret = key_read(key_path, &k);
	if (ret)
		return ret;
	ret = key_load(t, &k, &key);
	if (ret)
		goto out;
	ret = tpm_ak_primary(t, &ak, NULL);
	if (ret)
		goto out;
	/* The key's admin role and the AK's user role: both empty auth. */
	rc = Esys_Certify(t->esys, key, ak, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD,
			  ESYS_TR_NONE, &qual, &scheme, &info, &signature);
	if (rc != TSS2_RC_SUCCESS) {
		ret = tpm_fail(rc, "Certify of the TLS key by the AK");
		goto out;
	}
	if (Tss2_MU_TPMT_SIGNATURE_Marshal(signature, buf, sizeof(buf),
					   &off)) {
		log_err("tpm: cannot marshal the certification's signature");
		ret = -EIO;
		goto out;
	}
	ret = tpm_pub_marshal(&k.pub, key_pub);
	if (ret)
		goto out;
	ret = tpm_blob_dup(attest, info->attestationData, info->size);
	if (!ret)
		ret = tpm_blob_dup(sig, buf, off);
	if (ret) {
		vnfsec_blob_free(key_pub);
		vnfsec_blob_free(attest);
	}
out:
	tpm_flush(t, &ak);
	tpm_flush(t, &key);
	Esys_Free(info);
	Esys_Free(signature);
	return ret;
}
