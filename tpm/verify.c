// SPDX-License-Identifier: GPL-2.0-only
/*
 * Server-side checks, OpenSSL only (the server needs no TPM for them):
 * the EK certificate chains to the manufacturer CA and names the EK the
 * agent showed; the AK is a restricted signing key; a quote is signed by
 * the enrolled AK over this server's nonce and the expected PCR values.
 */
#include <errno.h>
#include <string.h>
#include <tss2/tss2_mu.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "tpm/tpm_internal.h"
#include "user/common/log.h"

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *rsa_pkey(const TPMT_PUBLIC *p)
{
	const TPM2B_PUBLIC_KEY_RSA *n = &p->unique.rsa;
	uint32_t e = p->parameters.rsaDetail.exponent ?: 65537;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn = BN_bin2bn(n->buffer, n->size, NULL);
	BIGNUM *be = BN_new();
	EVP_PKEY *pkey = NULL;

	if (bld && bn && be && BN_set_word(be, e) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		pkey = pkey_from_params("RSA", bld);
	BN_free(bn);
	BN_free(be);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static EVP_PKEY *p256_pkey(const TPMT_PUBLIC *p)
{
	const TPMS_ECC_POINT *pt = &p->unique.ecc;
	OSSL_PARAM_BLD *bld;
	uint8_t oct[65] = { 0x04 };
	EVP_PKEY *pkey = NULL;

	if (pt->x.size > 32 || pt->y.size > 32)
		return NULL;
	/* Uncompressed point; TPM coordinates may drop leading zeros. */
	memcpy(oct + 1 + 32 - pt->x.size, pt->x.buffer, pt->x.size);
	memcpy(oct + 33 + 32 - pt->y.size, pt->y.buffer, pt->y.size);
	bld = OSSL_PARAM_BLD_new();
	if (bld && OSSL_PARAM_BLD_push_utf8_string(bld,
			OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
					     oct, sizeof(oct)))
		pkey = pkey_from_params("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

int vnfsec_ek_cert_verify(const struct vnfsec_blob *der, const char *ca_file,
			  const struct vnfsec_blob *ek_pub, const char **why)
{
	const unsigned char *p = der->data;
	X509_STORE_CTX *vctx = NULL;
	X509_STORE *store = NULL;
	EVP_PKEY *ek = NULL;
	TPM2B_PUBLIC pub;
	X509 *cert = NULL;
	int ret = -EACCES;

	if (!der->data || der->len > VNFSEC_BLOB_MAX) {
		*why = "EK certificate missing or too long";
		return -EMSGSIZE;
	}
	/* Some TPMs pad the NV index: trailing bytes are not read. */
	cert = d2i_X509(NULL, &p, der->len);
	if (!cert) {
		*why = "EK certificate is not DER X.509";
		return -EBADMSG;
	}
	if (!tpm_pub_unmarshal(ek_pub, &pub) &&
	    pub.publicArea.type == TPM2_ALG_RSA)
		ek = rsa_pkey(&pub.publicArea);
	if (!ek) {
		*why = "EK public is not an RSA TPM public area";
		ret = -EBADMSG;
		goto out;
	}
	store = X509_STORE_new();
	vctx = X509_STORE_CTX_new();
	if (!store || !vctx) {
		ret = -ENOMEM;
		*why = "out of memory";
		goto out;
	}
	if (X509_STORE_load_file(store, ca_file) != 1) {
		*why = "cannot read the trusted EK CA file";
		ret = -ENOENT;
		goto out;
	}
	if (X509_STORE_CTX_init(vctx, store, cert, NULL) != 1) {
		*why = "cannot set up certificate verification";
		ret = -ENOMEM;
		goto out;
	}
	if (X509_verify_cert(vctx) != 1) {
		*why = X509_verify_cert_error_string(
			X509_STORE_CTX_get_error(vctx));
		goto out;
	}
	/* A good certificate for some other TPM proves nothing. */
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), ek) != 1) {
		*why = "EK certificate is for another key than the EK shown";
		goto out;
	}
	ret = 0;
out:
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	EVP_PKEY_free(ek);
	X509_free(cert);
	return ret;
}

static int ak_parse(const struct vnfsec_blob *ak_pub, TPM2B_PUBLIC *pub,
		    const char **why)
{
	const TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM |
		TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
		TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
	const TPMS_ECC_PARMS *e = &pub->publicArea.parameters.eccDetail;

	if (tpm_pub_unmarshal(ak_pub, pub)) {
		*why = "AK public is not a TPM public area";
		return -EBADMSG;
	}
	if (pub->publicArea.type != TPM2_ALG_ECC ||
	    pub->publicArea.nameAlg != TPM2_ALG_SHA256 ||
	    e->curveID != TPM2_ECC_NIST_P256 ||
	    e->scheme.scheme != TPM2_ALG_ECDSA ||
	    e->scheme.details.ecdsa.hashAlg != TPM2_ALG_SHA256) {
		*why = "AK is not a P-256 ECDSA/SHA-256 key";
		return -EPROTONOSUPPORT;
	}
	/*
	 * Only a restricted key is limited to signing TPM-made structures;
	 * an unrestricted one could sign a forged quote.
	 */
	if ((pub->publicArea.objectAttributes & need) != need ||
	    (pub->publicArea.objectAttributes & TPMA_OBJECT_DECRYPT)) {
		*why = "AK is not a fixed, TPM-generated, restricted signing key";
		return -EACCES;
	}
	return 0;
}

int vnfsec_ak_check(const struct vnfsec_blob *ak_pub, const char **why)
{
	TPM2B_PUBLIC pub;

	return ak_parse(ak_pub, &pub, why);
}

/* A kind of signed TPMS_ATTEST: its type, and each refusal's reason. */
struct attest_kind {
	TPM2_ST type;
	const char *missing, *malformed, *scheme, *forged, *not_attest,
		   *not_type, *stale;
};

static const struct attest_kind quote_kind = {
	TPM2_ST_ATTEST_QUOTE,
	"quote is missing or too long",
	"quote signature is malformed",
	"quote signature is not ECDSA/SHA-256",
	"quote signature does not verify with the enrolled AK",
	"quote is not a TPMS_ATTEST",
	"signed data is not a TPM-generated quote",
	"quote does not carry this challenge's nonce (stale or replayed)",
};

static const struct attest_kind certify_kind = {
	TPM2_ST_ATTEST_CERTIFY,
	"TLS key certification is missing or too long",
	"TLS key certification's signature is malformed",
	"TLS key certification's signature is not ECDSA/SHA-256",
	"TLS key certification does not verify with the enrolled AK (another TPM's AK, or altered)",
	"TLS key certification is not a TPMS_ATTEST",
	"signed data is not a TPM-generated certification",
	"TLS key certification does not carry this challenge's nonce (stale or replayed)",
};

static int sig_check(EVP_PKEY *ak, const struct vnfsec_blob *attest,
		     const struct vnfsec_blob *sig,
		     const struct attest_kind *r, const char **why)
{
	TPMT_SIGNATURE s;
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *sv = NULL;
	unsigned char *der = NULL;
	EVP_MD_CTX *md = NULL;
	size_t off = 0;
	int dlen, ret = -EACCES;

	memset(&s, 0, sizeof(s));
	if (!sig->data || sig->len > VNFSEC_BLOB_MAX ||
	    Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig->data, sig->len, &off, &s) ||
	    off != sig->len) {
		*why = r->malformed;
		return -EBADMSG;
	}
	if (s.sigAlg != TPM2_ALG_ECDSA ||
	    s.signature.ecdsa.hash != TPM2_ALG_SHA256) {
		*why = r->scheme;
		return -EACCES;
	}
	br = BN_bin2bn(s.signature.ecdsa.signatureR.buffer,
		      s.signature.ecdsa.signatureR.size, NULL);
	sv = BN_bin2bn(s.signature.ecdsa.signatureS.buffer,
		       s.signature.ecdsa.signatureS.size, NULL);
	es = ECDSA_SIG_new();
	if (!br || !sv || !es || !ECDSA_SIG_set0(es, br, sv)) {
		BN_free(br);
		BN_free(sv);
		ret = -ENOMEM;
		*why = "out of memory";
		goto out;
	}
	dlen = i2d_ECDSA_SIG(es, &der);
	md = EVP_MD_CTX_new();
	if (dlen <= 0 || !md) {
		ret = -ENOMEM;
		*why = "out of memory";
		goto out;
	}
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, ak) != 1 ||
	    EVP_DigestVerify(md, der, dlen, attest->data, attest->len) != 1) {
		*why = r->forged;
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	return ret;
}

/*
 * What quotes and certifications share: an AK that is a P-256 key, its
 * signature over @attest (checked before anything in it is believed), a
 * TPM-generated TPMS_ATTEST of @k's type that carries @nonce. Fills @a.
 */
static int attest_check(const struct vnfsec_blob *ak_pub,
			const struct vnfsec_blob *attest,
			const struct vnfsec_blob *sig,
			const uint8_t *nonce, size_t nonce_len,
			const struct attest_kind *k, TPMS_ATTEST *a,
			const char **why)
{
	TPM2B_PUBLIC pub;
	EVP_PKEY *ak;
	size_t off = 0;
	int ret;

	ret = ak_parse(ak_pub, &pub, why);
	if (ret)
		return ret;
	ak = p256_pkey(&pub.publicArea);
	if (!ak) {
		*why = "AK public point is not on P-256";
		return -EBADMSG;
	}
	if (!attest->data || !attest->len || attest->len > VNFSEC_BLOB_MAX) {
		*why = k->missing;
		ret = -EMSGSIZE;
		goto out;
	}
	ret = sig_check(ak, attest, sig, k, why);
	if (ret)
		goto out;
	memset(a, 0, sizeof(*a));
	if (Tss2_MU_TPMS_ATTEST_Unmarshal(attest->data, attest->len, &off,
					  a) || off != attest->len) {
		*why = k->not_attest;
		ret = -EBADMSG;
		goto out;
	}
	ret = -EACCES;
	if (a->magic != TPM2_GENERATED_VALUE || a->type != k->type) {
		*why = k->not_type;
		goto out;
	}
	if (a->extraData.size != nonce_len ||
	    CRYPTO_memcmp(a->extraData.buffer, nonce, nonce_len)) {
		*why = k->stale;
		goto out;
	}
	ret = 0;
out:
	EVP_PKEY_free(ak);
	return ret;
}

int vnfsec_quote_verify(const struct vnfsec_blob *ak_pub,
			const struct vnfsec_blob *attest,
			const struct vnfsec_blob *sig,
			const uint8_t *nonce, size_t nonce_len, uint32_t mask,
			const uint8_t expected[][VNFSEC_PCR_DIGEST_LEN],
			const char **why)
{
	uint8_t digest[VNFSEC_PCR_DIGEST_LEN];
	const TPMS_QUOTE_INFO *q;
	TPMS_ATTEST a;
	EVP_MD_CTX *md = NULL;
	unsigned int i, n = __builtin_popcount(mask);
	int ret;

	if (nonce_len < VNFSEC_NONCE_MIN || nonce_len > VNFSEC_NONCE_MAX ||
	    !mask || mask >> VNFSEC_PCR_MAX) {
		*why = "bad nonce length or PCR set";
		return -EINVAL;
	}
	ret = attest_check(ak_pub, attest, sig, nonce, nonce_len, &quote_kind,
			   &a, why);
	if (ret)
		return ret;
	ret = -EACCES;
	q = &a.attested.quote;
	if (tpm_selection_mask(&q->pcrSelect) != mask) {
		*why = "quote covers other PCRs than requested";
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		*why = "out of memory";
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		EVP_DigestUpdate(md, expected[i], VNFSEC_PCR_DIGEST_LEN);
	EVP_DigestFinal_ex(md, digest, NULL);
	if (q->pcrDigest.size != sizeof(digest) ||
	    CRYPTO_memcmp(q->pcrDigest.buffer, digest, sizeof(digest))) {
		*why = "PCR digest differs from the expected boot state";
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	return ret;
}

/*
 * The certified key must be one the TPM made and will not let go of
 * (fixedTPM, fixedParent, sensitiveDataOrigin), a plain signing key
 * (sign, not restricted: a restricted key could not sign TLS), on P-256.
 */
static int tls_key_parse(const struct vnfsec_blob *key_pub, TPM2B_PUBLIC *pub,
			 const char **why)
{
	const TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM |
		TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
		TPMA_OBJECT_SIGN_ENCRYPT;
	TPMA_OBJECT attrs;

	if (tpm_pub_unmarshal(key_pub, pub)) {
		*why = "TLS key public is not a TPM public area";
		return -EBADMSG;
	}
	attrs = pub->publicArea.objectAttributes;
	if ((attrs & need) != need || (attrs & TPMA_OBJECT_RESTRICTED)) {
		*why = "TLS key is not a fixed, TPM-generated, unrestricted signing key";
		return -EACCES;
	}
	if (pub->publicArea.type != TPM2_ALG_ECC ||
	    pub->publicArea.nameAlg != TPM2_ALG_SHA256 ||
	    pub->publicArea.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256) {
		*why = "TLS key is not a P-256 key named with SHA-256";
		return -EPROTONOSUPPORT;
	}
	return 0;
}

int vnfsec_certify_verify(const struct vnfsec_blob *ak_pub,
			  const struct vnfsec_blob *key_pub,
			  const struct vnfsec_blob *attest,
			  const struct vnfsec_blob *sig,
			  const uint8_t *nonce, size_t nonce_len,
			  const uint8_t *spki, size_t spki_len,
			  const char **why)
{
	const unsigned char *p = spki;
	EVP_PKEY *key = NULL, *csr_key = NULL;
	TPM2B_PUBLIC kp;
	TPM2B_NAME name;
	TPMS_ATTEST a;
	int ret;

	if (nonce_len < VNFSEC_NONCE_MIN || nonce_len > VNFSEC_NONCE_MAX) {
		*why = "bad nonce length";
		return -EINVAL;
	}
	ret = attest_check(ak_pub, attest, sig, nonce, nonce_len,
			   &certify_kind, &a, why);
	if (ret)
		return ret;
	ret = tls_key_parse(key_pub, &kp, why);
	if (ret)
		goto out;
	/* The TPM certified an object by name: it must be this public area. */
	ret = -EACCES;
	if (tpm_pub_name(&kp, &name) ||
	    a.attested.certify.name.size != name.size ||
	    memcmp(a.attested.certify.name.name, name.name, name.size)) {
		*why = "the certified object is not the TLS key shown";
		goto out;
	}
	key = p256_pkey(&kp.publicArea);
	if (spki && spki_len <= VNFSEC_BLOB_MAX)
		csr_key = d2i_PUBKEY(NULL, &p, (long)spki_len);
	if (!key || !csr_key || p != spki + spki_len) {
		*why = "TLS key or the CSR's key does not parse";
		ret = -EBADMSG;
		goto out;
	}
	if (EVP_PKEY_eq(key, csr_key) != 1) {
		*why = "the CSR's key is not the TPM key certified by the AK";
		goto out;
	}
	ret = 0;
out:
	EVP_PKEY_free(csr_key);
	EVP_PKEY_free(key);
	return ret;
}

int vnfsec_quote_binding(const uint8_t *nonce, size_t nonce_len,
			 const uint8_t *data, size_t len,
			 uint8_t out[VNFSEC_PCR_DIGEST_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(md, nonce, nonce_len) == 1 &&
	     EVP_DigestUpdate(md, data, len) == 1 &&
	     EVP_DigestFinal_ex(md, out, NULL) == 1;
	EVP_MD_CTX_free(md);
	if (!ok) {
		log_err("tpm: SHA-256 unavailable for the quote binding");
		return -EIO;
	}
	return 0;
}
