// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's TLS key, made and used inside the TPM through the tpm2
 * OpenSSL provider. What reaches the disk is the TPM-wrapped blob ("TSS2
 * PRIVATE KEY"): useless without this TPM. The CSR is signed by the TPM
 * key, so the server sees proof of possession before it issues the
 * short-lived client certificate at the end of enrollment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "tpm/vnfsec_tpm.h"
#include "user/common/log.h"

static FILE *create_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	return fd < 0 ? NULL : fdopen(fd, "w");
}

int vnfsec_tls_key_create(const char *key_path, const char *cn,
			  const char *csr_path)
{
	static OSSL_PROVIDER *tpm2, *dflt;
	EVP_MD_CTX *md = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *key = NULL;
	FILE *f = NULL;
	int ret = -EIO;

	if (!tpm2)
		tpm2 = OSSL_PROVIDER_try_load(NULL, "tpm2", 1);
	if (!dflt)
		dflt = OSSL_PROVIDER_try_load(NULL, "default", 1);
	if (!tpm2 || !dflt) {
		log_err("tpm: the tpm2 OpenSSL provider does not load; install tpm2-openssl and set TPM2OPENSSL_TCTI");
		return -ENOENT;
	}
	key = EVP_PKEY_Q_keygen(NULL, "provider=tpm2", "EC", "P-256");
	if (!key) {
		log_err("tpm: no P-256 key from the TPM (TPM2OPENSSL_TCTI=%s): %s",
			getenv("TPM2OPENSSL_TCTI") ?: "(unset)",
			ERR_reason_error_string(ERR_get_error()));
		return -EIO;
	}
	f = create_private(key_path);
	if (!f || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)) {
		log_err("tpm: cannot write the TPM key blob to %s", key_path);
		goto out;
	}
	fclose(f);
	f = NULL;
	req = X509_REQ_new();
	md = EVP_MD_CTX_new();
	if (!req || !md || !X509_REQ_set_version(req, 0) ||
	    !X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
					MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_REQ_set_pubkey(req, key) ||
	    /*
	     * Ask for the TPM's signer by name: OpenSSL 3.0 would otherwise
	     * take the default provider's, which holds no private key.
	     */
	    EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, "?provider=tpm2",
				  key, NULL) != 1 ||
	    X509_REQ_sign_ctx(req, md) <= 0) {
		log_err("tpm: the TPM key cannot sign a certificate request for %s",
			cn);
		goto out;
	}
	f = fopen(csr_path, "w");
	if (!f || !PEM_write_X509_REQ(f, req)) {
		log_err("tpm: cannot write the certificate request to %s",
			csr_path);
		goto out;
	}
	ret = 0;
out:
	if (f && fclose(f) && !ret)
		ret = -EIO;
	EVP_MD_CTX_free(md);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return ret;
}
