/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Wire frames between agents and servers: a 32-bit big-endian length, then
 * one protobuf-c encoded vnfsec.Frame (user/common/vnfsec.proto). Decoding
 * validates every field an attacker controls before anyone acts on it.
 */
#ifndef VNFSEC_WIRE_H
#define VNFSEC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "user/common/vnfsec.pb-c.h"

#define WIRE_VERSION		1
#define WIRE_HDR_LEN		4
#define WIRE_FRAME_MAX		65536	/* payload bytes, header excluded */
#define WIRE_AGENT_ID_MAX	63
#define WIRE_NAME_MAX		63	/* feed names and other short labels */
#define WIRE_TEXT_MAX		255	/* an evidence item's text */
#define WIRE_EVIDENCE_MAX	32	/* evidence items in one assessment */
#define WIRE_VLANS_MAX		8	/* VLAN ids in one assessment */
#define WIRE_DROP_CAUSES_MAX	32	/* drop causes in one heartbeat */
#define WIRE_DROP_CAUSE_MAX	31	/* "drop_[a-z0-9_]+" */
/* Enrollment and quotes (docs/trust.md): bounds on every TPM blob. */
#define WIRE_CERT_MAX		4096	/* DER certificate or CSR */
#define WIRE_TPM_PUBLIC_MAX	1024	/* marshalled TPM2B_PUBLIC */
#define WIRE_CREDENTIAL_MAX	2048	/* MakeCredential challenge */
#define WIRE_ATTEST_MAX		1024	/* marshalled TPMS_ATTEST */
#define WIRE_SIGNATURE_MAX	512	/* marshalled TPMT_SIGNATURE */
#define WIRE_SECRET_MAX		32
#define WIRE_NONCE_MIN		16
#define WIRE_NONCE_MAX		32
#define WIRE_PCR_LEN		32	/* SHA-256 bank */
#define WIRE_PCR_COUNT		24

/* Encode @f with its length header into a malloc'ed buffer. */
int wire_encode(const Vnfsec__Frame *f, uint8_t **out, size_t *out_len);

/*
 * Decode and validate one frame payload (header already stripped).
 * Returns 0, -EMSGSIZE (too long), -EBADMSG (not a Frame), -EPROTO (a
 * version we do not speak, no body, or a field out of range); *why names
 * the defect for the log line.
 */
int wire_decode(const uint8_t *buf, size_t len, Vnfsec__Frame **out,
		const char **why);

void wire_free(Vnfsec__Frame *f);

/* NULL when @act is one the agent can carry out, else the defect. */
const char *wire_check_action(const Vnfsec__Action *act);

/* Length announced by a frame header. */
static inline uint32_t wire_hdr_len(const uint8_t *hdr)
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	       (uint32_t)hdr[2] << 8 | hdr[3];
}

/* Printable address of a wire address field, "?" when malformed. */
const char *wire_addr_str(const ProtobufCBinaryData *addr, char *buf,
			  size_t len);

#endif /* VNFSEC_WIRE_H */
