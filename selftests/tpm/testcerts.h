/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Certificates and files for the trust tests: a throw-away CA and the
 * certificates it signs, PEM files, and a look into a daemon's log.
 */
#ifndef VNFSEC_SELFTESTS_TPM_TESTCERTS_H
#define VNFSEC_SELFTESTS_TPM_TESTCERTS_H

#include <stdbool.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* The vnfsec role of a certificate (user/common/roles.h). */
#define CERT_AGENT	"agent"
#define CERT_SERVER	"server"
#define CERT_CHILD	"child"
#define CERT_NO_ROLE	"none"		/* TLS client, no vnfsec role */
#define CERT_TLS_SERVER	"tls-server"	/* TLS server, no vnfsec role */

/* A certificate for @pub with CN (and DNS SAN) @cn, signed by @ca_key;
 * @ca NULL: self-signed. @role: one of CERT_*, or NULL for a CA. Valid
 * from a minute ago for an hour. */
X509 *make_cert(const char *cn, EVP_PKEY *pub, X509 *ca, EVP_PKEY *ca_key,
		const char *role);

/* @cert, or else @key, as PEM into @path; 0 or a negative errno. */
int write_pem(const char *path, X509 *cert, EVP_PKEY *key);

/* Do the first 64 KiB of @path contain @needle? */
bool file_has(const char *path, const char *needle);

#endif /* VNFSEC_SELFTESTS_TPM_TESTCERTS_H */
