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

/*
 * Enroll unless @o->cert is still valid: a new TLS key in the TPM, the
 * EK/AK/quote proof, and the server's certificate written to @o->cert.
 * Retries with backoff, not after a refusal. 0 or -errno, logged.
 */
int agent_enroll(const struct enroll_opts *o);

/*
 * Answer a QuoteRequest on @c with the TPM at @tcti. Failing to quote is
 * logged, not fatal: the server's timeout marks this agent untrusted.
 */
int agent_answer_quote(const char *tcti, struct conn *c,
		       const Vnfsec__QuoteRequest *rq);

#endif /* VNFSEC_AGENT_ENROLL_H */
