/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Signed instructions: every corrective action and every policy or
 * heuristic bundle a server sends is wrapped in an envelope signed with
 * an ECDSA P-256 key (the server key; the root key for bundles). The
 * agent acts only on envelopes that verify against its trusted key, name
 * it as target, come from the expected issuer, are not expired and carry
 * a sequence number above every one it accepted before.
 */
#ifndef VNFSEC_SIGNING_H
#define VNFSEC_SIGNING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "user/common/signed.pb-c.h"

#define SIGNED_NAME_MAX		63
#define SIGNED_PAYLOAD_MAX	(60 * 1024)	/* fits one wire frame */
#define SIGNED_ENVELOPE_MAX	(SIGNED_PAYLOAD_MAX + 1024)

struct signed_instruction {
	const char *issuer;
	const char *target;
	uint64_t sequence;
	uint64_t not_after;	/* Unix seconds */
	const uint8_t *payload;
	size_t payload_len;
};

/*
 * Read a PEM P-256 key: the private one that signs (@private_key) or the
 * public one that verifies. NULL after a log line naming @path.
 */
EVP_PKEY *signing_key_load(const char *path, bool private_key);

/* Sign @in with @key (P-256 private); *out is malloc'ed. */
int signing_seal(EVP_PKEY *key, const struct signed_instruction *in,
		 uint8_t **out, size_t *out_len);

/*
 * One verifier per (trusted key, issuer) on an agent. @last_sequence is
 * the highest sequence accepted so far: the agent keeps it in its sealed
 * state so a restart does not reopen the replay window.
 */
struct signing_verifier {
	EVP_PKEY *trusted;	/* public key; not owned */
	const char *issuer;
	const char *self;	/* this agent's id */
	uint64_t last_sequence;
};

/*
 * Verify @buf at time @now. On success *body is the unpacked body (free
 * with signing_body_free()) and last_sequence advances. Refusals, with
 * *why set to a one-line reason:
 *   -EMSGSIZE / -EBADMSG	oversized or malformed envelope
 *   -ENOKEY			unsigned
 *   -EKEYREJECTED		forged, or signed by another key
 *   -EPERM			other issuer or other target agent
 *   -EALREADY			replay of the last accepted sequence
 *   -ESTALE			older than the last accepted (out of order)
 *   -ETIME			expired
 */
int signing_verify(struct signing_verifier *v, const uint8_t *buf,
		   size_t len, uint64_t now, VnfsecSigned__Body **body,
		   const char **why);

void signing_body_free(VnfsecSigned__Body *body);

#endif /* VNFSEC_SIGNING_H */
