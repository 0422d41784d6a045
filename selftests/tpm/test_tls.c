// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mutual TLS 1.3 on loopback where the agent's key lives in a TPM
 * (swtpm behind tpm2-abrmd, tpm2 OpenSSL provider), through the same
 * tls_ctx_new()/conn_* code the agent and server use.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/ec.h>
#include <openssl/err.h>
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

/*
 * Error isolation: a connection that dies must cost that connection
 * only. OpenSSL keeps its error queue per thread, not per connection,
 * and SSL_get_error() reads that queue first: an error one connection
 * leaves behind (SSL_shutdown() on an SSL in a fatal state queues "shutdown
 * while in init") is then taken as the fate of the next connection the
 * same thread reads, and a healthy session is cut. Software keys here:
 * what is tested is tls.c, not the TPM.
 */
FIXTURE(iso) {
	char dir[64];
	struct tls_files sf, cf, rogue;
	char ca_pem[96], srv_crt[96], srv_key[96], cli_crt[96], cli_key[96];
	char rogue_crt[96];
	SSL_CTX *sctx, *cctx;
	struct conn hs, hc;	/* the healthy session: server, client end */
	uint64_t sent;
};

static void iso_files(struct __test_metadata *_metadata,
		      FIXTURE_DATA(iso) *self)
{
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *rogue_ca_key;
	EVP_PKEY *srv_key = EVP_EC_gen("P-256"), *cli_key = EVP_EC_gen("P-256");
	X509 *ca, *srv, *cli, *rogue_ca, *rogue;

	rogue_ca_key = EVP_EC_gen("P-256");
	ASSERT_NE(NULL, ca_key);
	ASSERT_NE(NULL, rogue_ca_key);
	ca = make_cert("vnfsec-test-ca", ca_key, NULL, ca_key, NULL);
	srv = make_cert(SERVER_CN, srv_key, ca, ca_key, CERT_SERVER);
	cli = make_cert(AGENT_CN, cli_key, ca, ca_key, CERT_AGENT);
	/* Same names, another CA: what a stolen name without the key gives. */
	rogue_ca = make_cert("vnfsec-test-ca", rogue_ca_key, NULL,
			     rogue_ca_key, NULL);
	rogue = make_cert(AGENT_CN, cli_key, rogue_ca, rogue_ca_key,
			  CERT_AGENT);
	ASSERT_NE(NULL, rogue);
	ASSERT_EQ(0, write_pem(self->ca_pem, ca, NULL));
	ASSERT_EQ(0, write_pem(self->srv_crt, srv, NULL));
	ASSERT_EQ(0, write_pem(self->srv_key, NULL, srv_key));
	ASSERT_EQ(0, write_pem(self->cli_crt, cli, NULL));
	ASSERT_EQ(0, write_pem(self->cli_key, NULL, cli_key));
	ASSERT_EQ(0, write_pem(self->rogue_crt, rogue, NULL));
	X509_free(ca);
	X509_free(srv);
	X509_free(cli);
	X509_free(rogue_ca);
	X509_free(rogue);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(rogue_ca_key);
	EVP_PKEY_free(srv_key);
	EVP_PKEY_free(cli_key);
}

/* One frame from @from reaches @to, within a second. */
static int frame_through(struct conn *from, struct conn *to, uint64_t id)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT, *got = NULL;
	Vnfsec__Ack ack = VNFSEC__ACK__INIT;
	const char *why;
	int ret, i;

	ack.assessment_id = id;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ACK;
	f.ack = &ack;
	ret = conn_send(from, &f);
	if (ret)
		return ret;
	for (i = 0; i < 100; i++) {
		struct pollfd p = { .fd = to->fd, .events = POLLIN };

		ret = conn_recv(to, &got, &why);
		if (ret != -EAGAIN)
			break;
		if (conn_flush(from) && conn_wants_write(from))
			return -EIO;
		poll(&p, 1, 10);
	}
	if (ret)
		return ret;
	ret = got->body_case == VNFSEC__FRAME__BODY_ACK &&
	      got->ack->assessment_id == id ? 0 : -EBADMSG;
	wire_free(got);
	return ret;
}

/* The healthy session still carries frames both ways, and nothing else. */
static int healthy(FIXTURE_DATA(iso) *self)
{
	Vnfsec__Frame *f;
	const char *why;
	int ret;

	ret = conn_recv(&self->hs, &f, &why);
	if (ret != -EAGAIN)
		return ret ? ret : -EPROTO;
	ret = conn_recv(&self->hc, &f, &why);
	if (ret != -EAGAIN)
		return ret ? ret : -EPROTO;
	ret = frame_through(&self->hc, &self->hs, ++self->sent);
	if (!ret)
		ret = frame_through(&self->hs, &self->hc, ++self->sent);
	return ret;
}

FIXTURE_SETUP(iso)
{
	int fs, fc;

	/* As in the daemons: a write to a vanished peer is an error. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(self->dir, sizeof(self->dir), "/tmp/vnfsec-tls-iso.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->ca_pem, 96, "%s/ca.pem", self->dir);
	snprintf(self->srv_crt, 96, "%s/server.crt", self->dir);
	snprintf(self->srv_key, 96, "%s/server.key", self->dir);
	snprintf(self->cli_crt, 96, "%s/agent.crt", self->dir);
	snprintf(self->cli_key, 96, "%s/agent.key", self->dir);
	snprintf(self->rogue_crt, 96, "%s/rogue.crt", self->dir);
	iso_files(_metadata, self);
	self->sf = (struct tls_files){ self->ca_pem, self->srv_crt,
				       self->srv_key };
	self->cf = (struct tls_files){ self->ca_pem, self->cli_crt,
				       self->cli_key };
	self->rogue = (struct tls_files){ self->ca_pem, self->rogue_crt,
					  self->cli_key };
	self->sctx = tls_ctx_new(true, &self->sf);
	self->cctx = tls_ctx_new(false, &self->cf);
	ASSERT_NE(NULL, self->sctx);
	ASSERT_NE(NULL, self->cctx);
	ASSERT_EQ(0, tcp_pair(&fs, &fc));
	ASSERT_EQ(0, conn_init(&self->hs, self->sctx, fs, NULL));
	ASSERT_EQ(0, conn_init(&self->hc, self->cctx, fc, SERVER_CN));
	ASSERT_EQ(0, handshake(&self->hs, &self->hc));
	ASSERT_EQ(0, healthy(self));
}

FIXTURE_TEARDOWN(iso)
{
	char cmd[96];

	conn_free(&self->hs);
	conn_free(&self->hc);
	SSL_CTX_free(self->sctx);
	SSL_CTX_free(self->cctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		TH_LOG("cannot remove %s", self->dir);
}

enum death { DIE_FIN, DIE_RST, DIE_MID_FRAME };

static void die(int fd, enum death how)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[4096];

	/*
	 * A FIN needs an empty receive queue: closing over unread bytes
	 * (the server's session tickets) makes the kernel send RST.
	 */
	if (how != DIE_RST)
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;

	/* Linger 0: close() sends RST, as a killed host's stack may. */
	if (how == DIE_RST)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/*
 * An established victim session whose end @kill_client (else the server
 * end) vanishes @how, without close_notify; the survivor reads until its
 * connection reports the end, then frees it, as the daemons do.
 */
static int victim_vanishes(FIXTURE_DATA(iso) *self, bool kill_client,
			   enum death how)
{
	struct conn vs, vc, *dead, *left;
	Vnfsec__Frame *f;
	const char *why;
	int fs, fc, ret, i;

	if (tcp_pair(&fs, &fc) || conn_init(&vs, self->sctx, fs, NULL) ||
	    conn_init(&vc, self->cctx, fc, SERVER_CN) || handshake(&vs, &vc))
		return -EIO;
	dead = kill_client ? &vc : &vs;
	left = kill_client ? &vs : &vc;
	if (how == DIE_MID_FRAME) {
		/* A header that promises 100 bytes, then 2 of them. */
		static const uint8_t part[] = { 0, 0, 0, 100, 8, 1 };

		if (SSL_write(dead->ssl, part, sizeof(part)) != sizeof(part))
			return -EIO;
	}
	die(dead->fd, how);
	dead->fd = -1;
	/* The dead end's SSL goes without a word, as with a killed process. */
	SSL_free(dead->ssl);
	dead->ssl = NULL;
	conn_free(dead);
	for (i = 0; i < 100; i++) {
		struct pollfd p = { .fd = left->fd, .events = POLLIN };

		ret = conn_recv(left, &f, &why);
		if (ret != -EAGAIN)
			break;
		poll(&p, 1, 10);
	}
	conn_free(left);
	if (!ret) {
		wire_free(f);
		return -EPROTO;
	}
	return ret == -EAGAIN ? -ETIMEDOUT : 0;
}

static void vanish_check(struct __test_metadata *_metadata,
			 FIXTURE_DATA(iso) *self, bool kill_client,
			 enum death how)
{
	ASSERT_EQ(0, victim_vanishes(self, kill_client, how));
	/* Nothing of the victim's fate is left for the next connection. */
	EXPECT_EQ(0, ERR_peek_error());
	ASSERT_EQ(0, healthy(self));
}

TEST_F(iso, agent_killed_after_handshake_fin_healthy_session_stays)
{
	vanish_check(_metadata, self, true, DIE_FIN);
}

TEST_F(iso, agent_killed_after_handshake_rst_healthy_session_stays)
{
	vanish_check(_metadata, self, true, DIE_RST);
}

TEST_F(iso, agent_killed_mid_frame_healthy_session_stays)
{
	vanish_check(_metadata, self, true, DIE_MID_FRAME);
}

/* The agent's side: a server that vanishes costs that uplink only. */
TEST_F(iso, server_killed_mid_frame_other_uplink_stays)
{
	vanish_check(_metadata, self, false, DIE_MID_FRAME);
	vanish_check(_metadata, self, false, DIE_FIN);
	vanish_check(_metadata, self, false, DIE_RST);
}

/* Many victims in a row, interleaved with healthy traffic. */
TEST_F(iso, hundred_vanishing_peers_healthy_session_stays)
{
	int i;

	for (i = 0; i < 100; i++)
		vanish_check(_metadata, self, i % 2, (enum death)(i % 3));
}

/*
 * A client whose handshake cannot succeed: @cf NULL sends the first
 * @raw_bytes of a ClientHello and vanishes; else a client with @cf.
 */
static int refused_client(FIXTURE_DATA(iso) *self, const struct tls_files *cf,
			  bool with_cert, enum death how)
{
	struct conn vs, vc;
	SSL_CTX *ctx = NULL;
	int fs, fc, ret;

	if (tcp_pair(&fs, &fc) || conn_init(&vs, self->sctx, fs, NULL))
		return -EIO;
	if (!cf) {
		/* Killed mid-handshake: half a ClientHello, then gone. */
		static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00,
						 0x01, 0x00, 0x01, 0xfc, 0x03 };

		if (write(fc, hello, sizeof(hello)) != sizeof(hello))
			return -EIO;
		usleep(10000);
		conn_handshake(&vs);
		die(fc, how);
		ret = handshake(&vs, &vs);
		conn_free(&vs);
		return ret ? 0 : -EPROTO;
	}
	if (with_cert) {
		ctx = tls_ctx_new(false, cf);
	} else {
		ctx = SSL_CTX_new(TLS_client_method());
		if (ctx && SSL_CTX_load_verify_locations(ctx, cf->ca, NULL) != 1) {
			SSL_CTX_free(ctx);
			ctx = NULL;
		}
	}
	if (!ctx || conn_init(&vc, ctx, fc, SERVER_CN)) {
		SSL_CTX_free(ctx);
		return -EIO;
	}
	ret = handshake(&vs, &vc);
	/* TLS 1.3: the client may finish before the server refuses it. */
	if (!ret)
		ret = frame_through(&vc, &vs, 1) ? -EACCES : 0;
	conn_free(&vc);
	conn_free(&vs);
	SSL_CTX_free(ctx);
	return ret ? 0 : -EPROTO;
}

TEST_F(iso, refused_clients_healthy_session_stays)
{
	int i;

	for (i = 0; i < 3; i++) {
		/* Killed mid-handshake (FIN, RST). */
		ASSERT_EQ(0, refused_client(self, NULL, false, DIE_FIN));
		EXPECT_EQ(0, ERR_peek_error());
		ASSERT_EQ(0, healthy(self));
		ASSERT_EQ(0, refused_client(self, NULL, false, DIE_RST));
		EXPECT_EQ(0, ERR_peek_error());
		ASSERT_EQ(0, healthy(self));
		/* No certificate at all. */
		ASSERT_EQ(0, refused_client(self, &self->cf, false, DIE_FIN));
		EXPECT_EQ(0, ERR_peek_error());
		ASSERT_EQ(0, healthy(self));
		/* A certificate of another CA. */
		ASSERT_EQ(0, refused_client(self, &self->rogue, true,
					    DIE_FIN));
		EXPECT_EQ(0, ERR_peek_error());
		ASSERT_EQ(0, healthy(self));
	}
}

TEST_HARNESS_MAIN
