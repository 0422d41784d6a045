/* SPDX-License-Identifier: GPL-2.0-only */
/* Enrollment and re-attestation, agent side (enroll.c, docs/trust.md). */
#ifndef VNFSEC_AGENT_ENROLL_H
#define VNFSEC_AGENT_ENROLL_H

#include "user/common/tls.h"

struct enroll_opts {
	const char *tcti;		/* the agent's TPM (--tpm) */
	const char *agent_id;		/* CN of the certificate to get */
	const char *server;		/* ADDR:PORT */
	const char *server_name;	/* name on the server certificate */
	const char *ca;			/* CA of the server certificate */
	const char *cert;		/* where the certificate goes (PEM) */
	const char *key;		/* where the TPM key blob goes */
};

/* @path is a certificate for @cn, with @key beside it, valid a while yet. */
bool agent_cert_valid(const char *path, const char *key, const char *cn);

/*
 * Enroll unless @o->cert is still valid: a new TLS key in the TPM, the
 * EK/AK/quote proof, and the server's certificate written to @o->cert.
 * One attempt; 0 or -errno, logged (a refusal names the server's reason).
 */
int agent_enroll(const struct enroll_opts *o);

/*
 * Answer a QuoteRequest on @c with the TPM at @tcti. Failing to quote is
 * logged, not fatal: the server's timeout marks this agent untrusted.
 */
int agent_answer_quote(const char *tcti, struct conn *c,
		       const Vnfsec__QuoteRequest *rq);

#endif /* VNFSEC_AGENT_ENROLL_H */
