// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "user/common/log.h"
#include "user/common/signing.h"

/* Domain separation: a signature over an envelope is never anything else. */
static const char sign_context[] = "vnfsec-signed-instruction-v1";

static int key_id(EVP_PKEY *key, uint8_t id[32])
{
	unsigned char *der = NULL;
	unsigned int n = 0;
	int len, ok;

	len = i2d_PUBKEY(key, &der);
	if (len <= 0)
		return -EINVAL;
	ok = EVP_Digest(der, len, id, &n, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return ok && n == 32 ? 0 : -EIO;
}

static bool name_ok(const char *s)
{
	return s && *s && strnlen(s, SIGNED_NAME_MAX + 1) <= SIGNED_NAME_MAX;
}

int signing_seal(EVP_PKEY *key, const struct signed_instruction *in,
		 uint8_t **out, size_t *out_len)
{
	VnfsecSigned__Body body = VNFSEC_SIGNED__BODY__INIT;
	VnfsecSigned__Envelope env = VNFSEC_SIGNED__ENVELOPE__INIT;
	uint8_t id[32], *packed = NULL, *sig = NULL;
	size_t plen, slen = 0;
	EVP_MD_CTX *md = NULL;
	int ret = -EIO;

	*out = NULL;
	if (!name_ok(in->issuer) || !name_ok(in->target) ||
	    in->payload_len > SIGNED_PAYLOAD_MAX) {
		log_err("signing: issuer/target must be 1..%d characters and the payload at most %d bytes",
			SIGNED_NAME_MAX, SIGNED_PAYLOAD_MAX);
		return -EINVAL;
	}
	if (key_id(key, id))
		goto fail;
	body.issuer = (char *)in->issuer;
	body.target = (char *)in->target;
	body.sequence = in->sequence;
	body.not_after = in->not_after;
	body.payload.data = (uint8_t *)in->payload;
	body.payload.len = in->payload_len;
	plen = vnfsec_signed__body__get_packed_size(&body);
	packed = malloc(plen + 1);
	md = EVP_MD_CTX_new();
	if (!packed || !md) {
		ret = -ENOMEM;
		goto out;
	}
	vnfsec_signed__body__pack(&body, packed);
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSignUpdate(md, sign_context, sizeof(sign_context)) != 1 ||
	    EVP_DigestSignUpdate(md, packed, plen) != 1 ||
	    EVP_DigestSignFinal(md, NULL, &slen) != 1)
		goto fail;
	sig = malloc(slen);
	if (!sig) {
		ret = -ENOMEM;
		goto out;
	}
	if (EVP_DigestSignFinal(md, sig, &slen) != 1)
		goto fail;
	env.body.data = packed;
	env.body.len = plen;
	env.signature.data = sig;
	env.signature.len = slen;
	env.key_id.data = id;
	env.key_id.len = sizeof(id);
	*out_len = vnfsec_signed__envelope__get_packed_size(&env);
	*out = malloc(*out_len);
	if (!*out) {
		ret = -ENOMEM;
		goto out;
	}
	vnfsec_signed__envelope__pack(&env, *out);
	ret = 0;
	goto out;
fail:
	log_err("signing: cannot sign the instruction; is the signing key an EC P-256 private key?");
out:
	EVP_MD_CTX_free(md);
	free(packed);
	free(sig);
	return ret;
}

static int sig_ok(EVP_PKEY *key, const VnfsecSigned__Envelope *env)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	if (!md)
		return -ENOMEM;
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	     EVP_DigestVerifyUpdate(md, sign_context,
				    sizeof(sign_context)) == 1 &&
	     EVP_DigestVerifyUpdate(md, env->body.data, env->body.len) == 1 &&
	     EVP_DigestVerifyFinal(md, env->signature.data,
				   env->signature.len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -EKEYREJECTED;
}

int signing_verify(struct signing_verifier *v, const uint8_t *buf,
		   size_t len, uint64_t now, VnfsecSigned__Body **out,
		   const char **why)
{
	VnfsecSigned__Envelope *env = NULL;
	VnfsecSigned__Body *body = NULL;
	uint8_t id[32];
	int ret;

	*out = NULL;
	if (len > SIGNED_ENVELOPE_MAX) {
		*why = "envelope larger than the maximum";
		log_warn("signing: refused an instruction: %s", *why);
		return -EMSGSIZE;
	}
	env = vnfsec_signed__envelope__unpack(NULL, len, buf);
	if (!env || !env->body.len) {
		*why = "not a signed envelope";
		ret = -EBADMSG;
		goto out;
	}
	if (!env->signature.len) {
		*why = "envelope carries no signature";
		ret = -ENOKEY;
		goto out;
	}
	ret = sig_ok(v->trusted, env);
	if (ret) {
		/* The key id is only a hint for the log: the signature decides. */
		if (ret == -EKEYREJECTED && !key_id(v->trusted, id) &&
		    (env->key_id.len != sizeof(id) ||
		     CRYPTO_memcmp(env->key_id.data, id, sizeof(id))))
			*why = "signed by a key other than the trusted one";
		else
			*why = "signature does not verify: forged or altered";
		goto out;
	}
	/* Only signed bytes are parsed beyond this point. */
	body = vnfsec_signed__body__unpack(NULL, env->body.len,
					   env->body.data);
	if (!body || !name_ok(body->issuer) || !name_ok(body->target) ||
	    body->payload.len > SIGNED_PAYLOAD_MAX) {
		*why = "signed body is malformed";
		ret = -EBADMSG;
		goto out;
	}
	if (strcmp(body->issuer, v->issuer)) {
		*why = "issued by someone other than the trusted issuer";
		ret = -EPERM;
		goto out;
	}
	if (strcmp(body->target, v->self)) {
		*why = "addressed to another agent";
		ret = -EPERM;
		goto out;
	}
	if (body->sequence == v->last_sequence) {
		*why = "sequence number already accepted: replayed";
		ret = -EALREADY;
		goto out;
	}
	if (body->sequence < v->last_sequence) {
		*why = "sequence number older than the last accepted: out of order";
		ret = -ESTALE;
		goto out;
	}
	if (now > body->not_after) {
		*why = "expired";
		ret = -ETIME;
		goto out;
	}
	v->last_sequence = body->sequence;
	*out = body;
	body = NULL;
	ret = 0;
out:
	if (ret)
		log_warn("signing: refused an instruction: %s", *why);
	vnfsec_signed__body__free_unpacked(body, NULL);
	vnfsec_signed__envelope__free_unpacked(env, NULL);
	return ret;
}

void signing_body_free(VnfsecSigned__Body *body)
{
	if (body)
		vnfsec_signed__body__free_unpacked(body, NULL);
}

EVP_PKEY *signing_key_load(const char *path, bool private_key)
{
	EVP_PKEY *key;
	FILE *f = fopen(path, "r");

	if (!f) {
		log_err("signing: cannot open key %s: %s", path, strerror(errno));
		return NULL;
	}
	key = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL) :
			    PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!key || !EVP_PKEY_is_a(key, "EC")) {
		log_err("signing: %s is not a PEM EC P-256 %s key", path,
			private_key ? "private" : "public");
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}
