// SPDX-License-Identifier: GPL-2.0-only
/* Certificates and files for the trust tests (testcerts.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "selftests/tpm/testcerts.h"
#include "user/common/roles.h"

X509 *make_cert(const char *cn, EVP_PKEY *pub, X509 *ca, EVP_PKEY *ca_key,
		const char *role)
{
	X509 *c = X509_new();
	bool is_ca = !role;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char san[64];
	const char *eku = NULL;

	if (!c)
		return NULL;
	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), is_ca ? 1 : 2 + rand());
	X509_gmtime_adj(X509_getm_notBefore(c), -60);
	X509_gmtime_adj(X509_getm_notAfter(c), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN",
				   MBSTRING_ASC, (const unsigned char *)cn,
				   -1, -1, 0);
	X509_set_issuer_name(c, X509_get_subject_name(ca ? ca : c));
	X509_set_pubkey(c, pub);
	X509V3_set_ctx(&v3, ca ? ca : c, c, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
				  is_ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(c, ext, -1);
	X509_EXTENSION_free(ext);
	if (!is_ca) {
		snprintf(san, sizeof(san), "DNS:%s", cn);
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
		X509_add_ext(c, ext, -1);
		X509_EXTENSION_free(ext);
		if (!strcmp(role, CERT_AGENT))
			eku = "clientAuth," VNFSEC_OID_AGENT;
		else if (!strcmp(role, CERT_SERVER))
			eku = "serverAuth," VNFSEC_OID_SERVER;
		else if (!strcmp(role, CERT_CHILD))
			eku = "clientAuth," VNFSEC_OID_CHILD;
		else if (!strcmp(role, CERT_NO_ROLE))
			eku = "clientAuth";
		else if (!strcmp(role, CERT_TLS_SERVER))
			eku = "serverAuth";
	}
	if (eku) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, eku);
		X509_add_ext(c, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (!X509_sign(c, ca_key, EVP_sha256())) {
		X509_free(c);
		return NULL;
	}
	return c;
}

int write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
	/* 0600: the daemons refuse a private key others can read. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	ok = cert ? PEM_write_X509(f, cert) :
		    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	return ok ? 0 : -EIO;
}

bool file_has(const char *path, const char *needle)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}
