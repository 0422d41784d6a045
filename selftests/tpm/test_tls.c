// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mutual TLS 1.3 on loopback where the agent's key lives in a TPM
 * (swtpm behind tpm2-abrmd, tpm2 OpenSSL provider), through the same
 * tls_ctx_new()/conn_* code the agent and server use.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/x509v3.h>

#include "kselftest_harness.h"
#include "selftests/tpm/swtpm.h"
#include "selftests/tpm/testcerts.h"
#include "tpm/vnfsec_tpm.h"
#include "user/common/tls.h"

#define AGENT_CN	"agent-7"
#define SERVER_CN	"vnfsec-server"

/* Connected non-blocking loopback pair. */
static int tcp_pair(int *srv, int *cli)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t sl = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(l, 1) || getsockname(l, (struct sockaddr *)&sin, &sl))
		goto fail;
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	if (*cli < 0 || connect(*cli, (struct sockaddr *)&sin, sizeof(sin)))
		goto fail;
	*srv = accept(l, NULL, NULL);
	if (*srv < 0)
		goto fail;
	close(l);
	fcntl(*srv, F_SETFL, O_NONBLOCK);
	fcntl(*cli, F_SETFL, O_NONBLOCK);
	return 0;
fail:
	if (l >= 0)
		close(l);
	return -1;
}

/* Drive both ends until both are done or either fails. */
static int handshake(struct conn *s, struct conn *c)
{
	int rs = -EAGAIN, rc = -EAGAIN, i;

	for (i = 0; i < 1000 && (rs == -EAGAIN || rc == -EAGAIN); i++) {
		struct pollfd p[2] = {
			{ .fd = s->fd, .events = POLLIN },
			{ .fd = c->fd, .events = POLLIN },
		};

		if (rs == -EAGAIN)
			rs = conn_handshake(s);
		if (rc == -EAGAIN)
			rc = conn_handshake(c);
		if (rs == -EAGAIN || rc == -EAGAIN)
			poll(p, 2, 100);
	}
	return rs ? rs : rc;
}

FIXTURE(tls) {
	struct swtpm sw;
	struct abrmd rm;
	EVP_PKEY *ca_key, *srv_key;
	X509 *ca;
	char dir[300];
	char ca_pem[320], srv_crt[320], srv_key_pem[320];
	char cli_key[320], cli_csr[320], cli_crt[320];
};

FIXTURE_SETUP(tls)
{
	X509 *srv;

	ASSERT_EQ(0, swtpm_start(&self->sw));
	if (abrmd_start(&self->rm, &self->sw)) {
		swtpm_stop(&self->sw);
		ASSERT_TRUE(0);
	}
	snprintf(self->dir, sizeof(self->dir), "%s", self->sw.dir);
	snprintf(self->ca_pem, 320, "%s/ca.pem", self->dir);
	snprintf(self->srv_crt, 320, "%s/server.crt", self->dir);
	snprintf(self->srv_key_pem, 320, "%s/server.key", self->dir);
	snprintf(self->cli_key, 320, "%s/agent.tss2", self->dir);
	snprintf(self->cli_csr, 320, "%s/agent.csr", self->dir);
	snprintf(self->cli_crt, 320, "%s/agent.crt", self->dir);
	/* Test CA and server: software keys, like the server's own. */
	self->ca_key = EVP_EC_gen("P-256");
	self->srv_key = EVP_EC_gen("P-256");
	self->ca = make_cert("vnfsec-test-ca", self->ca_key, NULL,
			     self->ca_key, NULL);
	srv = make_cert(SERVER_CN, self->srv_key, self->ca, self->ca_key,
			CERT_SERVER);
	ASSERT_NE(NULL, srv);
	ASSERT_EQ(0, write_pem(self->ca_pem, self->ca, NULL));
	ASSERT_EQ(0, write_pem(self->srv_crt, srv, NULL));
	ASSERT_EQ(0, write_pem(self->srv_key_pem, NULL, self->srv_key));
	X509_free(srv);
	/* The agent's key: made inside the TPM. */
	ASSERT_EQ(0, vnfsec_tls_key_create(self->cli_key, AGENT_CN,
					   self->cli_csr));
}

FIXTURE_TEARDOWN(tls)
{
	X509_free(self->ca);
	EVP_PKEY_free(self->ca_key);
	EVP_PKEY_free(self->srv_key);
	abrmd_stop(&self->rm);
	swtpm_stop(&self->sw);
}

/* The server side of enrollment's last step: CSR -> client certificate. */
static int issue_from_csr(const char *csr_path, X509 *ca, EVP_PKEY *ca_key,
			  const char *out)
{
	FILE *f = fopen(csr_path, "r");
	X509_REQ *req;
	EVP_PKEY *pub;
	X509 *c;
	int ret;

	if (!f)
		return -errno;
	req = PEM_read_X509_REQ(f, NULL, NULL, NULL);
	fclose(f);
	if (!req)
		return -EBADMSG;
	pub = X509_REQ_get_pubkey(req);
	/* Proof of possession: the TPM key signed the request. */
	if (!pub || X509_REQ_verify(req, pub) != 1) {
		EVP_PKEY_free(pub);
		X509_REQ_free(req);
		return -EKEYREJECTED;
	}
	c = make_cert(AGENT_CN, pub, ca, ca_key, CERT_AGENT);
	ret = c ? write_pem(out, c, NULL) : -EIO;
	X509_free(c);
	EVP_PKEY_free(pub);
	X509_REQ_free(req);
	return ret;
}

TEST_F(tls, tpm_key_mutual_tls13_handshake)
{
	const struct tls_files sf = { self->ca_pem, self->srv_crt,
				      self->srv_key_pem };
	const struct tls_files cf = { self->ca_pem, self->cli_crt,
				      self->cli_key };
	struct conn s, c;
	SSL_CTX *sctx, *cctx;
	int fs, fc;

	/* Only the TPM-wrapped blob ever touches the disk. */
	ASSERT_TRUE(file_has(self->cli_key, "BEGIN TSS2 PRIVATE KEY"));
	ASSERT_FALSE(file_has(self->cli_key, "BEGIN PRIVATE KEY"));
	ASSERT_FALSE(file_has(self->cli_key, "BEGIN EC PRIVATE KEY"));
	ASSERT_EQ(0, issue_from_csr(self->cli_csr, self->ca, self->ca_key,
				    self->cli_crt));
	sctx = tls_ctx_new(true, &sf);
	cctx = tls_ctx_new(false, &cf);
	ASSERT_NE(NULL, sctx);
	ASSERT_NE(NULL, cctx);
	ASSERT_EQ(0, tcp_pair(&fs, &fc));
	ASSERT_EQ(0, conn_init(&s, sctx, fs, NULL));
	ASSERT_EQ(0, conn_init(&c, cctx, fc, SERVER_CN));
	ASSERT_EQ(0, handshake(&s, &c));
	ASSERT_EQ(TLS1_3_VERSION, SSL_version(s.ssl));
	/* The server knows the agent by the certificate the TPM key holds. */
	ASSERT_STREQ(AGENT_CN, s.peer_cn);
	TH_LOG("cipher %s", SSL_get_cipher_name(c.ssl));
	conn_free(&s);
	conn_free(&c);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

TEST_F(tls, client_key_not_the_enrolled_one_refused)
{
	const struct tls_files sf = { self->ca_pem, self->srv_crt,
				      self->srv_key_pem };
	char other_key[320], other_crt[320], rogue_ca_key_pem[320];
	struct tls_files cf = { self->ca_pem, self->cli_crt, other_key };
	EVP_PKEY *other = EVP_EC_gen("P-256"), *rogue_key;
	X509 *rogue_ca, *rogue_crt;
	struct conn s, c;
	SSL_CTX *sctx, *cctx;
	int fs, fc;

	ASSERT_NE(NULL, other);
	snprintf(other_key, sizeof(other_key), "%s/other.key", self->dir);
	snprintf(other_crt, sizeof(other_crt), "%s/other.crt", self->dir);
	snprintf(rogue_ca_key_pem, sizeof(rogue_ca_key_pem), "%s/rogue.pem",
		 self->dir);
	ASSERT_EQ(0, issue_from_csr(self->cli_csr, self->ca, self->ca_key,
				    self->cli_crt));
	ASSERT_EQ(0, write_pem(other_key, NULL, other));
	/* The enrolled certificate with a key that is not the TPM's. */
	ASSERT_EQ(NULL, tls_ctx_new(false, &cf));

	/* A self-made certificate for that key: the server refuses it. */
	rogue_key = EVP_EC_gen("P-256");
	rogue_ca = make_cert("vnfsec-test-ca", rogue_key, NULL, rogue_key,
			     NULL);
	rogue_crt = make_cert(AGENT_CN, other, rogue_ca, rogue_key, CERT_AGENT);
	ASSERT_NE(NULL, rogue_crt);
	ASSERT_EQ(0, write_pem(other_crt, rogue_crt, NULL));
	cf.cert = other_crt;
	sctx = tls_ctx_new(true, &sf);
	cctx = tls_ctx_new(false, &cf);
	ASSERT_NE(NULL, sctx);
	ASSERT_NE(NULL, cctx);
	ASSERT_EQ(0, tcp_pair(&fs, &fc));
	ASSERT_EQ(0, conn_init(&s, sctx, fs, NULL));
	ASSERT_EQ(0, conn_init(&c, cctx, fc, SERVER_CN));
	ASSERT_NE(0, handshake(&s, &c));
	ASSERT_FALSE(s.established);
	/* Refused for its certificate, not for some other fault. */
	ASSERT_NE(X509_V_OK, SSL_get_verify_result(s.ssl));
	TH_LOG("server refused the client: %s", X509_verify_cert_error_string(
		SSL_get_verify_result(s.ssl)));
	conn_free(&s);
	conn_free(&c);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	X509_free(rogue_ca);
	X509_free(rogue_crt);
	EVP_PKEY_free(rogue_key);
	EVP_PKEY_free(other);
}

TEST_HARNESS_MAIN
