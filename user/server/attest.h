/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The server's side of TPM trust (docs/trust.md): enrollment of agents
 * on connections without a client certificate (enroll.c), and their
 * attestation state and re-attestation with quotes (attest.c).
 */
#ifndef VNFSEC_SERVER_ATTEST_H
#define VNFSEC_SERVER_ATTEST_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "user/common/wire.h"

struct server;
struct session;
struct agent_record;

/* The server's options for enrollment and attestation. */
struct trust_config {
	const char *ca_key;		/* --enroll-ca-key: signs client certs */
	const char *ca_cert;		/* --enroll-ca-cert: its certificate */
	const char *ek_ca;		/* --ek-ca: TPM manufacturers' CAs */
	const char *tpm;		/* --enroll-tpm: TCTI for MakeCredential */
	unsigned int cert_hours;	/* lifetime of a client certificate */
	uint32_t pcr_mask;		/* PCRs quoted (--attest-pcrs) */
	unsigned int reattest_s;	/* 0: only on connect and on demand */
	unsigned int quote_timeout_s;
	const char *expected_pcrs;	/* operator's reference values */
	/* enroll.c: requests per source address, and who may enroll. */
	unsigned int enroll_rate;	/* per minute; 0: ENROLL_RATE_DEFAULT */
	unsigned int enroll_burst;	/* 0: ENROLL_BURST_DEFAULT */
	bool enroll_unlimited;		/* --enroll-rate 0 */
	const char *enroll_allow;	/* --enroll-allow FILE; NULL: anyone */
	/* --require-certify off: a CSR's key needs no TPM2_Certify. */
	bool certify_optional;
};

/* getopt_long values of these options: above any short option. */
enum {
	TRUST_OPT_CA_KEY = 0x1000,
	TRUST_OPT_CA_CERT,
	TRUST_OPT_EK_CA,
	TRUST_OPT_TPM,
	TRUST_OPT_CERT_HOURS,
	TRUST_OPT_PCRS,
	TRUST_OPT_REATTEST,
	TRUST_OPT_QUOTE_TIMEOUT,
	TRUST_OPT_EXPECTED_PCRS,
	TRUST_OPT_LAST = TRUST_OPT_EXPECTED_PCRS,
};

#define TRUST_OPTIONS \
	{ "enroll-ca-key", required_argument, NULL, TRUST_OPT_CA_KEY }, \
	{ "enroll-ca-cert", required_argument, NULL, TRUST_OPT_CA_CERT }, \
	{ "ek-ca", required_argument, NULL, TRUST_OPT_EK_CA }, \
	{ "enroll-tpm", required_argument, NULL, TRUST_OPT_TPM }, \
	{ "enroll-cert-hours", required_argument, NULL, TRUST_OPT_CERT_HOURS }, \
	{ "attest-pcrs", required_argument, NULL, TRUST_OPT_PCRS }, \
	{ "reattest-interval", required_argument, NULL, TRUST_OPT_REATTEST }, \
	{ "quote-timeout", required_argument, NULL, TRUST_OPT_QUOTE_TIMEOUT }, \
	{ "expected-pcrs", required_argument, NULL, TRUST_OPT_EXPECTED_PCRS }

/* enroll.c's own options, numbered after the others. */
enum {
	ENROLL_OPT_RATE = TRUST_OPT_LAST + 1,
	ENROLL_OPT_BURST,
	ENROLL_OPT_ALLOW,
	ENROLL_OPT_REQUIRE_CERTIFY,
	ENROLL_OPT_LAST = ENROLL_OPT_REQUIRE_CERTIFY,
};

#define ENROLL_RATE_DEFAULT	30	/* requests a minute per address */
#define ENROLL_BURST_DEFAULT	10

#define ENROLL_OPTIONS \
	{ "enroll-rate", required_argument, NULL, ENROLL_OPT_RATE }, \
	{ "enroll-burst", required_argument, NULL, ENROLL_OPT_BURST }, \
	{ "enroll-allow", required_argument, NULL, ENROLL_OPT_ALLOW }, \
	{ "require-certify", required_argument, NULL, ENROLL_OPT_REQUIRE_CERTIFY }

#define TRUST_USAGE \
"                     [--enroll-ca-key FILE --enroll-ca-cert FILE\n" \
"                      --ek-ca FILE --enroll-tpm TCTI] [--enroll-cert-hours N]\n" \
"                     [--attest-pcrs 0,7] [--reattest-interval S]\n" \
"                     [--quote-timeout S] [--expected-pcrs FILE]\n" \
"                     [--enroll-rate N] [--enroll-burst N]\n" \
"                     [--enroll-allow FILE] [--require-certify on|off]\n"

/* What the server holds for enrollment; srv->trust, NULL when off. */
struct trust {
	struct vnfsec_tpm *tpm;		/* MakeCredential only */
	EVP_PKEY *ca_key;
	X509 *ca_cert;
	struct attestation *list;	/* every enrolled agent */
	struct pcr_ref *refs;		/* --expected-pcrs, NULL: none */
	struct enroll_guard *guard;	/* rate limit, allow list (enroll.c) */
	/* Enrollment requests refused before any TPM work, for /metrics. */
	uint64_t refused_rate, refused_unlisted;
	/* Refused: the id is bound to another TPM, or revoked (peers.c). */
	uint64_t refused_tpm, refused_revoked;
};

/* pcr_refs.c: the operator's reference PCR values per agent. */
struct pcr_ref;
int pcr_refs_load(const char *path, struct pcr_ref **out);
void pcr_refs_free(struct pcr_ref *list);
const struct pcr_ref *pcr_ref_find(const struct pcr_ref *list,
				   const char *id);
uint32_t pcr_ref_mask(const struct pcr_ref *ref);
const uint8_t (*pcr_ref_values(const struct pcr_ref *ref))[WIRE_PCR_LEN];

void trust_config_defaults(struct trust_config *tc);
/* One of the options above; 0 or -EINVAL after saying why. */
int trust_parse_opt(struct trust_config *tc, int opt, const char *arg);

/*
 * Enrollment on when --enroll-ca-key is given: opens the server's TPM,
 * loads the CA, lets TLS accept clients without a certificate (they may
 * only enroll) and loads the attestation states from the store.
 */
int trust_open(struct server *srv);
void trust_close(struct server *srv);
bool trust_enabled(const struct server *srv);

/* enroll.c: one of ENROLL_OPTIONS; 0 or -EINVAL after saying why. */
int enroll_parse_opt(struct trust_config *tc, int opt, const char *arg);
/*
 * After trust_open(): the per-address rate limit and --enroll-allow
 * (a malformed file stops the server with FILE:LINE).
 */
int enroll_open(struct server *srv);
void enroll_close(struct server *srv);

/* enroll.c: frames of a session that has no client certificate. */
bool enroll_frame(const Vnfsec__Frame *f);
int enroll_on_frame(struct server *srv, struct session *s,
		    const Vnfsec__Frame *f);
void enroll_session_free(struct session *s);
/* An enrollment left hanging is closed after this many seconds. */
#define ENROLL_TIMEOUT_S 30
bool enroll_expired(const struct session *s, time_t now);

/* attest.c: attestation state of enrolled agents. */
struct attestation;
struct attestation *attestation_find(struct server *srv, const char *id);
/* Record a successful enrollment (in memory and the store). */
int attestation_enrolled(struct server *srv, const char *id,
			 const ProtobufCBinaryData *ek_pub,
			 const ProtobufCBinaryData *ak_pub, uint32_t mask,
			 const uint8_t (*pcrs)[WIRE_PCR_LEN], unsigned int n,
			 time_t cert_not_after);
/* Expected PCR values of @att, or NULL when none are recorded yet. */
const uint8_t (*attestation_pcrs(const struct attestation *att))[WIRE_PCR_LEN];
uint32_t attestation_mask(const struct attestation *att);
/*
 * The operator releases @id from its TPM (a replaced host): the next
 * enrollment of @id binds whichever TPM enrolls. 0 or -ENOENT.
 */
int attestation_release(struct server *srv, const char *id);
bool attestation_same_tpm(const struct attestation *att,
			  const ProtobufCBinaryData *ek_pub,
			  const ProtobufCBinaryData *ak_pub);

void attest_on_hello(struct server *srv, struct agent_record *a);
int attest_on_quote(struct server *srv, struct agent_record *a,
		    const Vnfsec__QuoteResponse *q);
/*
 * Ask @a for a quote now: 0, -ENOENT (not enrolled), -ENOTCONN. With
 * @accept_pcrs the PCR values of a good answer become its reference (the
 * operator's word after a firmware update) and it is trusted again;
 * -EPERM for an agent whose reference is in --expected-pcrs.
 */
int attest_request(struct server *srv, struct agent_record *a,
		   bool accept_pcrs);
void attest_tick(struct server *srv, time_t now);
/* For agents lists and alerts: enrolled at all, and trusted now. */
bool agent_attested(const struct agent_record *a);
bool agent_trusted(const struct agent_record *a);
const char *agent_trust_reason(const struct agent_record *a);
time_t agent_last_quote(const struct agent_record *a);

#endif /* VNFSEC_SERVER_ATTEST_H */
