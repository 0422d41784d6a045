/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vnfsec TPM trust layer (tpm2-tss ESAPI). Agent side: sealed state
 * bound to PCRs and an NV counter, an attestation key (AK) in the
 * endorsement hierarchy, quotes, EK certificate, credential activation.
 * Server side: EK certificate and quote verification (OpenSSL only, no
 * TPM), and MakeCredential on any TPM the server can reach.
 *
 * Every function returns 0 or a negative errno after logging one line;
 * every transient TPM object it creates is flushed before it returns,
 * because a TPM without a resource manager keeps them until it runs out
 * of slots. PCR sets are bit masks over the SHA-256 bank (bit n = PCR n).
 * See docs/tpm.md.
 */
#ifndef VNFSEC_TPM_H
#define VNFSEC_TPM_H

#include <stddef.h>
#include <stdint.h>

#define VNFSEC_PCR_MAX		24
#define VNFSEC_PCR_DIGEST_LEN	32	/* SHA-256 bank only */
#define VNFSEC_NONCE_MIN	16	/* shorter nonces are guessable */
#define VNFSEC_NONCE_MAX	32
#define VNFSEC_CREDENTIAL_MAX	32	/* a SHA-256 sized secret */
#define VNFSEC_SEAL_MAX		128	/* TPM MAX_SYM_DATA */
/* TCG EK credential profile: the RSA 2048 EK certificate's NV index. */
#define VNFSEC_EK_CERT_NV_RSA	0x01c00002U
#define VNFSEC_EK_HANDLE_RSA	0x81010001U
/* An owner-range NV index for the agent state counter (changeable). */
#define VNFSEC_STATE_NV_DEFAULT	0x01500016U
#define VNFSEC_BLOB_MAX		(1U << 16)	/* any blob from a peer */

struct vnfsec_tpm;

/* A byte string the library allocated; free it with vnfsec_blob_free(). */
struct vnfsec_blob {
	uint8_t *data;
	size_t len;
};

void vnfsec_blob_free(struct vnfsec_blob *b);

/*
 * Open the TPM through @tcti, a tpm2-tss TCTI string:
 * "swtpm:host=127.0.0.1,port=2321", "device:/dev/tpmrm0",
 * "tabrmd:bus_type=system". NULL lets tpm2-tss pick its default.
 */
int vnfsec_tpm_open(const char *tcti, struct vnfsec_tpm **out);
void vnfsec_tpm_close(struct vnfsec_tpm *t);

/* Random bytes from the TPM's RNG (at most 48 per call on most TPMs). */
int vnfsec_tpm_random(struct vnfsec_tpm *t, uint8_t *buf, size_t len);

/* PCRs in @mask, ascending; @out holds popcount(mask) digests. */
int vnfsec_tpm_pcr_read(struct vnfsec_tpm *t, uint32_t mask,
			uint8_t out[][VNFSEC_PCR_DIGEST_LEN]);
int vnfsec_tpm_pcr_extend(struct vnfsec_tpm *t, unsigned int pcr,
			  const uint8_t digest[VNFSEC_PCR_DIGEST_LEN]);

/*
 * Seal up to VNFSEC_SEAL_MAX bytes under the storage primary key to the
 * current values of the PCRs in @mask. The blob holds only TPM-encrypted
 * material and may sit on any disk. Unseal fails with -EACCES once any
 * of those PCRs has changed.
 */
/* "0,7" into a PCR mask; -EINVAL unless a non-empty list of 0..23. */
int vnfsec_pcr_list_parse(const char *arg, uint32_t *mask);

int vnfsec_tpm_seal(struct vnfsec_tpm *t, uint32_t mask, const void *secret,
		    size_t len, struct vnfsec_blob *sealed);
int vnfsec_tpm_unseal(struct vnfsec_tpm *t, const struct vnfsec_blob *sealed,
		      uint8_t *buf, size_t cap, size_t *len);

/*
 * NV monotonic counter at @index (owner range). define is idempotent and
 * leaves a new counter readable; increment returns the new value.
 */
int vnfsec_tpm_counter_define(struct vnfsec_tpm *t, uint32_t index);
int vnfsec_tpm_counter_read(struct vnfsec_tpm *t, uint32_t index,
			    uint64_t *value);
int vnfsec_tpm_counter_increment(struct vnfsec_tpm *t, uint32_t index,
				 uint64_t *value);
/* As read, but -ENOENT without a log line when @index is not defined. */
int vnfsec_tpm_counter_peek(struct vnfsec_tpm *t, uint32_t index,
			    uint64_t *value);

/*
 * Agent state sealed to @pcr_mask and bound to the counter at @nv_index:
 * a blob older than the counter is refused with -ESTALE (rollback), a
 * changed PCR with -EACCES, a tampered file with -EBADMSG. The file is
 * replaced atomically; the state itself may be up to VNFSEC_BLOB_MAX.
 */
struct vnfsec_state_cfg {
	uint32_t pcr_mask;
	uint32_t nv_index;
};

int vnfsec_state_save(struct vnfsec_tpm *t, const struct vnfsec_state_cfg *cfg,
		      const char *path, const void *data, size_t len);
int vnfsec_state_load(struct vnfsec_tpm *t, const struct vnfsec_state_cfg *cfg,
		      const char *path, struct vnfsec_blob *data);

/*
 * Identity, agent side. Public areas are marshalled TPM2B_PUBLIC, the
 * form the server takes them in. The AK is an ECC P-256 restricted
 * signing primary key in the endorsement hierarchy: the same TPM
 * re-creates the same AK, so nothing about it is stored on disk.
 */
int vnfsec_tpm_ek_public(struct vnfsec_tpm *t, struct vnfsec_blob *ek_pub);
int vnfsec_tpm_ek_cert(struct vnfsec_tpm *t, struct vnfsec_blob *der);
int vnfsec_tpm_ak_public(struct vnfsec_tpm *t, struct vnfsec_blob *ak_pub);

/*
 * Quote the PCRs in @mask with the server's @nonce. @attest is the
 * marshalled TPMS_ATTEST the AK signed, @sig the marshalled TPMT_SIGNATURE.
 */
int vnfsec_tpm_quote(struct vnfsec_tpm *t, uint32_t mask,
		     const uint8_t *nonce, size_t nonce_len,
		     struct vnfsec_blob *attest, struct vnfsec_blob *sig);

/* Credential challenge answered by the agent's TPM (EK + AK). */
int vnfsec_tpm_activate_credential(struct vnfsec_tpm *t,
				   const struct vnfsec_blob *challenge,
				   uint8_t *secret, size_t cap, size_t *len);

/*
 * Server side. @why is set to a one-line reason on every refusal.
 *
 * The EK certificate must chain to @ca_file (PEM, root and
 * intermediates) and carry the key in @ek_pub.
 */
int vnfsec_ek_cert_verify(const struct vnfsec_blob *der, const char *ca_file,
			  const struct vnfsec_blob *ek_pub, const char **why);

/* The AK public must be a restricted, fixedTPM P-256 ECDSA signing key. */
int vnfsec_ak_check(const struct vnfsec_blob *ak_pub, const char **why);

/*
 * A quote is good when the enrolled AK signed it, it carries @nonce, it
 * covers exactly @mask and its PCR digest is that of @expected (the
 * enrolled values, ascending PCR order).
 */
int vnfsec_quote_verify(const struct vnfsec_blob *ak_pub,
			const struct vnfsec_blob *attest,
			const struct vnfsec_blob *sig,
			const uint8_t *nonce, size_t nonce_len, uint32_t mask,
			const uint8_t expected[][VNFSEC_PCR_DIGEST_LEN],
			const char **why);

/*
 * Enrollment's quote nonce: SHA-256(@nonce || @data), binding what the
 * agent sends with the quote (its TLS key's CSR) to the server's nonce.
 */
int vnfsec_quote_binding(const uint8_t *nonce, size_t nonce_len,
			 const uint8_t *data, size_t len,
			 uint8_t out[VNFSEC_PCR_DIGEST_LEN]);

/*
 * MakeCredential for (@ek_pub, name of @ak_pub) on the TPM @t: the
 * server's own, or any TPM it can reach (no secret of @t is involved).
 * @challenge goes to the agent; only the TPM holding that EK and that AK
 * can recover @secret.
 */
int vnfsec_tpm_make_credential(struct vnfsec_tpm *t,
			       const struct vnfsec_blob *ek_pub,
			       const struct vnfsec_blob *ak_pub,
			       const uint8_t *secret, size_t len,
			       struct vnfsec_blob *challenge);

/*
 * Agent: TPM2_Certify of the TLS key in @key_path (the tpm2 OpenSSL
 * provider's "TSS2 PRIVATE KEY" file, empty auth, parent the owner
 * hierarchy or a persistent key) by the AK, over the server's @nonce.
 * @key_pub gets the key's marshalled TPM2B_PUBLIC, @attest the
 * TPMS_ATTEST (ATTEST_CERTIFY) the AK signed, @sig its TPMT_SIGNATURE.
 */
int vnfsec_tpm_certify_key(struct vnfsec_tpm *t, const char *key_path,
			   const uint8_t *nonce, size_t nonce_len,
			   struct vnfsec_blob *key_pub,
			   struct vnfsec_blob *attest, struct vnfsec_blob *sig);

/*
 * Server: a certification is good when the enrolled AK signed it, the
 * TPM made it (ATTEST_CERTIFY) over @nonce, it names the public area
 * @key_pub, that is a fixedTPM, fixedParent, TPM-generated unrestricted
 * P-256 signing key, and its key is @spki (DER SubjectPublicKeyInfo: the
 * CSR's key).
 */
int vnfsec_certify_verify(const struct vnfsec_blob *ak_pub,
			  const struct vnfsec_blob *key_pub,
			  const struct vnfsec_blob *attest,
			  const struct vnfsec_blob *sig,
			  const uint8_t *nonce, size_t nonce_len,
			  const uint8_t *spki, size_t spki_len,
			  const char **why);

/*
 * The agent's TLS key, generated inside the TPM (tpm2 OpenSSL provider,
 * TPM2OPENSSL_TCTI; use tpm2-abrmd, see docs/tpm.md): @key_path gets the
 * TPM-wrapped blob (mode 0600) for tls_ctx_new(), @csr_path a PEM request
 * for subject CN @cn signed by that key.
 */
int vnfsec_tls_key_create(const char *key_path, const char *cn,
			  const char *csr_path);

#endif /* VNFSEC_TPM_H */
