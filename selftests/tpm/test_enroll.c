// SPDX-License-Identifier: GPL-2.0-only
/*
 * Enrollment and re-attestation over the wire: a real vnfsec-server
 * (its own swtpm for MakeCredential) on loopback, and an agent whose TPM
 * is a second swtpm behind tpm2-abrmd (the TLS key lives in it). The
 * agent side is the agent's own code (user/agent/enroll.c); impostors
 * speak the protocol by hand with what they can get.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "kselftest_harness.h"
#include "selftests/tpm/swtpm.h"
#include "selftests/tpm/testcerts.h"
#include "tpm/vnfsec_tpm.h"
#include "user/agent/enroll.h"
#include "user/common/tls.h"

#define AGENT_ID	"agent-enroll-1"
#define SERVER_CN	"vnfsec-server"
#define AGENT_TCTI	"tabrmd:bus_type=session"
#define QUOTE_PCRS	(1U << 0 | 1U << 7)

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 +
	       (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Poll @fn for up to @secs: the server acts on its own schedule. */
static bool eventually(bool (*fn)(void *), void *ctx, int secs)
{
	int i;

	for (i = 0; i < secs * 10; i++) {
		const struct timespec ts = { .tv_nsec = 100 * 1000 * 1000 };

		if (fn(ctx))
			return true;
		nanosleep(&ts, NULL);
	}
	return fn(ctx);
}

FIXTURE(enroll) {
	struct swtpm sw_agent, sw_server;
	struct abrmd rm;
	pid_t server;
	int port;
	const char *extra[10];		/* more server options, NULL-ended */
	char dir[300];
	char ca[320], ca_key[320], srv_crt[320], srv_key[320];
	char ekca[320], other_ca[320];
	char cert[320], key[320];
	char log[320], alerts[320], sock[320], portfile[320];
};

FIXTURE_SETUP(enroll)
{
	EVP_PKEY *ca_key, *srv_key;
	X509 *ca, *srv;

	self->server = 0;
	ASSERT_EQ(0, swtpm_start(&self->sw_agent));
	if (swtpm_start(&self->sw_server)) {
		swtpm_stop(&self->sw_agent);
		ASSERT_TRUE(0);
	}
	if (abrmd_start(&self->rm, &self->sw_agent)) {
		swtpm_stop(&self->sw_agent);
		swtpm_stop(&self->sw_server);
		ASSERT_TRUE(0);
	}
	snprintf(self->dir, sizeof(self->dir), "%s", self->sw_server.dir);
#define P(f, name) snprintf(self->f, sizeof(self->f), "%s/" name, self->dir)
	P(ca, "ca.pem");
	P(ca_key, "ca.key");
	P(srv_crt, "server.pem");
	P(srv_key, "server.key");
	P(ekca, "ek-ca.pem");
	P(other_ca, "other-ca.pem");
	P(cert, "agent.pem");
	P(key, "agent.tss2");
	P(log, "server.log");
	P(alerts, "alerts.json");
	P(sock, "server.sock");
	P(portfile, "port");
#undef P
	/* The deployment's CA signs the server and enrolled agents. */
	ca_key = EVP_EC_gen("P-256");
	srv_key = EVP_EC_gen("P-256");
	ca = make_cert("vnfsec test CA", ca_key, NULL, ca_key, NULL);
	srv = make_cert(SERVER_CN, srv_key, ca, ca_key, CERT_SERVER);
	ASSERT_NE(NULL, srv);
	ASSERT_EQ(0, write_pem(self->ca, ca, NULL));
	ASSERT_EQ(0, write_pem(self->ca_key, NULL, ca_key));
	ASSERT_EQ(0, write_pem(self->srv_crt, srv, NULL));
	ASSERT_EQ(0, write_pem(self->srv_key, NULL, srv_key));
	X509_free(ca);
	X509_free(srv);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(srv_key);
	/* The TPM manufacturer's CA (swtpm_setup's), and one that is not. */
	ASSERT_EQ(0, swtpm_localca_file(self->ekca));
	ca_key = EVP_EC_gen("P-256");
	ca = make_cert("swtpm-localca", ca_key, NULL, ca_key, NULL);
	ASSERT_EQ(0, write_pem(self->other_ca, ca, NULL));
	X509_free(ca);
	EVP_PKEY_free(ca_key);
}

FIXTURE_TEARDOWN(enroll)
{
	int status = 0;

	/* A server that does not exit cleanly (a sanitizer report) fails. */
	if (self->server > 0) {
		kill(self->server, SIGTERM);
		waitpid(self->server, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			TH_LOG("vnfsec-server exited with status 0x%x", status);
			_metadata->passed = 0;
		}
	}
	/* The server's side of the story, when a case needs explaining. */
	if ((getenv("VNFSEC_TEST_VERBOSE") || !_metadata->passed) &&
	    self->log[0]) {
		char line[512];
		FILE *f = fopen(self->log, "r");

		while (f && fgets(line, sizeof(line), f))
			fprintf(stderr, "# server: %s", line);
		if (f)
			fclose(f);
	}
	abrmd_stop(&self->rm);
	swtpm_stop(&self->sw_agent);
	swtpm_stop(&self->sw_server);
}

static int read_port(const char *path)
{
	FILE *f = fopen(path, "r");
	int port = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%d", &port) != 1)
		port = 0;
	fclose(f);
	return port;
}

/* vnfsec-server with enrollment on, trusting @ek_ca for EK certificates. */
static int server_start(FIXTURE_DATA(enroll) *self, const char *ek_ca)
{
	const char *build = getenv("VNFSEC_BUILD") ?: "build";
	char bin[300];
	char *argv[] = {
		bin, "--listen", "127.0.0.1:0", "--port-file", self->portfile,
		"--ca", self->ca, "--cert", self->srv_crt, "--key", self->srv_key,
		"--alerts", self->alerts, "--control", self->sock,
		"--enroll-ca-key", self->ca_key, "--enroll-ca-cert", self->ca,
		"--ek-ca", (char *)ek_ca, "--enroll-tpm", self->sw_server.tcti,
		"--enroll-cert-hours", "24", "--attest-pcrs", "0,7",
		"--quote-timeout", "2", NULL, NULL, NULL, NULL, NULL, NULL,
		NULL, NULL, NULL, NULL, NULL };
	int i, fd, n = sizeof(argv) / sizeof(argv[0]) - 11;

	for (i = 0; i < 10 && self->extra[i]; i++)
		argv[n + i] = (char *)self->extra[i];

	snprintf(bin, sizeof(bin), "%s/bin/vnfsec-server", build);
	unlink(self->portfile);
	self->server = fork();
	if (self->server < 0)
		return -errno;
	if (self->server == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(self->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 2);
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		execv(bin, argv);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		const struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };

		self->port = read_port(self->portfile);
		if (self->port)
			return 0;
		if (waitpid(self->server, NULL, WNOHANG) == self->server) {
			self->server = 0;
			return -ECHILD;
		}
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

/* SIGTERM; the server's exit status (0 when clean), or -1. */
static int server_stop(FIXTURE_DATA(enroll) *self)
{
	int status;

	if (self->server <= 0)
		return -1;
	kill(self->server, SIGTERM);
	if (waitpid(self->server, &status, 0) != self->server)
		return -1;
	self->server = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void server_addr(FIXTURE_DATA(enroll) *self, char *buf, size_t len)
{
	snprintf(buf, len, "127.0.0.1:%d", self->port);
}

static int agent_enrolls(FIXTURE_DATA(enroll) *self)
{
	char server[64];

	server_addr(self, server, sizeof(server));
	return agent_enroll(&(struct enroll_opts){
		.tcti = AGENT_TCTI, .agent_id = AGENT_ID, .server = server,
		.server_name = SERVER_CN, .ca = self->ca, .cert = self->cert,
		.key = self->key });
}

/* A blocking TLS connection to the server, with or without a cert. */
static int dial(FIXTURE_DATA(enroll) *self, const struct tls_files *files,
		SSL_CTX **ctx, struct conn *c)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(self->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct timeval tv = { .tv_sec = 10 };
	int fd;

	if (files) {
		*ctx = tls_ctx_new(false, files);
	} else {
		*ctx = SSL_CTX_new(TLS_client_method());
		if (*ctx && SSL_CTX_load_verify_locations(*ctx, self->ca,
							  NULL) != 1) {
			SSL_CTX_free(*ctx);
			*ctx = NULL;
		}
	}
	if (!*ctx)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    conn_init(c, *ctx, fd, SERVER_CN)) {
		if (fd >= 0)
			close(fd);
		SSL_CTX_free(*ctx);
		*ctx = NULL;
		return -EIO;
	}
	return conn_handshake(c);
}

static void hangup(SSL_CTX *ctx, struct conn *c)
{
	conn_free(c);
	SSL_CTX_free(ctx);
}

static int send_frame(struct conn *c, Vnfsec__Frame *f)
{
	f->version = WIRE_VERSION;
	return conn_send(c, f);
}

/* The next frame; a server that hangs up gives -ECONNRESET. */
static Vnfsec__Frame *recv_frame(struct conn *c, int *err)
{
	Vnfsec__Frame *f = NULL;
	const char *why;

	*err = conn_recv(c, &f, &why);
	return f;
}

/* One request on the server's control socket; the parsed response. */
static json_object *control(FIXTURE_DATA(enroll) *self, const char *req)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[65536];
	size_t n = 0;
	ssize_t r;
	int fd;

	if (strlen(self->sock) >= sizeof(sun.sun_path))
		return NULL;
	memcpy(sun.sun_path, self->sock, strlen(self->sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (n < sizeof(buf) - 1 &&
	       (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0) {
		n += r;
		if (memchr(buf, '\n', n))
			break;
	}
	close(fd);
	buf[n] = '\0';
	return json_tokener_parse(buf);
}

/* A boolean of AGENT_ID in the server's agents list: 1, 0, or -1. */
static int agent_flag(FIXTURE_DATA(enroll) *self, const char *name)
{
	json_object *r = control(self, "{\"cmd\": \"agents\"}\n"), *res, *v;
	int ret = -1;
	size_t i;

	if (!r)
		return -1;
	if (json_object_object_get_ex(r, "result", &res) &&
	    json_object_is_type(res, json_type_array)) {
		for (i = 0; i < json_object_array_length(res); i++) {
			json_object *a = json_object_array_get_idx(res, i);

			if (json_object_object_get_ex(a, "id", &v) &&
			    !strcmp(json_object_get_string(v), AGENT_ID) &&
			    json_object_object_get_ex(a, name, &v))
				ret = json_object_get_boolean(v);
		}
	}
	json_object_put(r);
	return ret;
}

static int agent_trusted_now(FIXTURE_DATA(enroll) *self)
{
	return agent_flag(self, "trusted");
}

/*
 * The enrolled agent on its tunnel: hello, and answer the quote the
 * server asks for on connect. Leaves the connection open.
 */
static int tunnel_up(FIXTURE_DATA(enroll) *self, SSL_CTX **ctx,
		     struct conn *c)
{
	const struct tls_files files = { self->ca, self->cert, self->key };
	Vnfsec__Frame f = VNFSEC__FRAME__INIT, *in;
	Vnfsec__Hello hello = VNFSEC__HELLO__INIT;
	int ret;

	ret = dial(self, &files, ctx, c);
	if (ret)
		return ret;
	hello.agent_id = AGENT_ID;
	f.body_case = VNFSEC__FRAME__BODY_HELLO;
	f.hello = &hello;
	ret = send_frame(c, &f);
	if (ret)
		return ret;
	in = recv_frame(c, &ret);
	if (!in)
		return ret ? ret : -EIO;
	if (in->body_case != VNFSEC__FRAME__BODY_QUOTE_REQUEST)
		ret = -EPROTO;
	else
		ret = agent_answer_quote(AGENT_TCTI, c, in->quote_request);
	wire_free(in);
	return ret;
}

static bool agent_is_trusted(void *ctx)
{
	return agent_trusted_now(ctx) == 1;
}

static bool agent_is_untrusted(void *ctx)
{
	return agent_trusted_now(ctx) == 0;
}

TEST_F_TIMEOUT(enroll, enrollment_over_tls_gives_a_cert_the_server_accepts_for_mtls, 120)
{
	struct vnfsec_blob ak = { 0 }, attest = { 0 }, sig = { 0 };
	uint8_t pcrs[2][VNFSEC_PCR_DIGEST_LEN], nonce[32];
	struct vnfsec_tpm *t = NULL;
	struct timespec t0;
	const char *why = NULL;
	SSL_CTX *ctx = NULL;
	struct conn c = { .fd = -1 };
	char cn[64];

	ASSERT_EQ(0, server_start(self, self->ekca));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, agent_enrolls(self));
	fprintf(stderr, "# one enrollment over the wire (TLS on loopback, TPM key, EK/AK, MakeCredential, activation, quote, certificate): %.1f ms\n",
		ms_since(&t0));
	/* The TLS key is the TPM's: only its wrapped blob is on disk. */
	ASSERT_TRUE(file_has(self->key, "BEGIN TSS2 PRIVATE KEY"));
	ASSERT_EQ(0, tls_cert_cn(self->cert, cn, sizeof(cn)));
	ASSERT_STREQ(AGENT_ID, cn);
	/* A second start with a valid certificate does not enroll again. */
	ASSERT_EQ(0, agent_enrolls(self));
	ASSERT_EQ(1, file_has(self->log, "enrolled from"));

	/* The certificate opens the tunnel, and the quote on connect holds. */
	ASSERT_EQ(0, tunnel_up(self, &ctx, &c));
	ASSERT_TRUE(eventually(agent_is_trusted, self, 10));
	hangup(ctx, &c);

	/* One quote verification, as the server does it (for the report). */
	ASSERT_EQ(0, vnfsec_tpm_open(AGENT_TCTI, &t));
	ASSERT_EQ(0, vnfsec_tpm_ak_public(t, &ak));
	ASSERT_EQ(1, RAND_bytes(nonce, sizeof(nonce)));
	ASSERT_EQ(0, vnfsec_tpm_pcr_read(t, QUOTE_PCRS, pcrs));
	ASSERT_EQ(0, vnfsec_tpm_quote(t, QUOTE_PCRS, nonce, sizeof(nonce),
				      &attest, &sig));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, vnfsec_quote_verify(&ak, &attest, &sig, nonce,
					 sizeof(nonce), QUOTE_PCRS,
					 (const uint8_t (*)[32])pcrs, &why));
	fprintf(stderr, "# one quote verification: %.3f ms\n", ms_since(&t0));
	vnfsec_blob_free(&ak);
	vnfsec_blob_free(&attest);
	vnfsec_blob_free(&sig);
	vnfsec_tpm_close(t);
}

TEST_F_TIMEOUT(enroll, ek_cert_not_from_the_trusted_ca_refused, 120)
{
	ASSERT_EQ(0, server_start(self, self->other_ca));
	ASSERT_EQ(-EACCES, agent_enrolls(self));
	ASSERT_NE(0, access(self->cert, F_OK));
	ASSERT_NE(0, access(self->key, F_OK));
	ASSERT_TRUE(file_has(self->log, "refused"));
}

/* What an impostor shows: a genuine EK (public), its own AK. */
struct impostor {
	struct vnfsec_tpm *victim, *own;
	struct vnfsec_blob ek_cert, ek_pub, ak_pub;
};

static int send_request(struct conn *c, const struct vnfsec_blob *cert,
			const struct vnfsec_blob *ek,
			const struct vnfsec_blob *ak)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__EnrollRequest rq = VNFSEC__ENROLL_REQUEST__INIT;

	rq.agent_id = AGENT_ID;
	rq.ek_cert = (ProtobufCBinaryData){ cert->len, cert->data };
	rq.ek_public = (ProtobufCBinaryData){ ek->len, ek->data };
	rq.ak_public = (ProtobufCBinaryData){ ak->len, ak->data };
	f.body_case = VNFSEC__FRAME__BODY_ENROLL_REQUEST;
	f.enroll_request = &rq;
	return send_frame(c, &f);
}

/* TPM2_Certify of a TLS key by an AK, as the proof carries it. */
struct certification {
	struct vnfsec_blob key_pub, attest, sig;
};

static void certification_free(struct certification *cf)
{
	vnfsec_blob_free(&cf->key_pub);
	vnfsec_blob_free(&cf->attest);
	vnfsec_blob_free(&cf->sig);
}

static int send_proof(struct conn *c, const uint8_t *secret, size_t len,
		      const struct vnfsec_blob *attest,
		      const struct vnfsec_blob *sig,
		      uint8_t (*pcrs)[VNFSEC_PCR_DIGEST_LEN], unsigned int n,
		      const uint8_t *csr, size_t csr_len,
		      const struct certification *cf)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__EnrollProof p = VNFSEC__ENROLL_PROOF__INIT;
	ProtobufCBinaryData v[VNFSEC_PCR_MAX];
	unsigned int i;

	for (i = 0; i < n; i++)
		v[i] = (ProtobufCBinaryData){ VNFSEC_PCR_DIGEST_LEN, pcrs[i] };
	p.secret = (ProtobufCBinaryData){ len, (uint8_t *)secret };
	p.quote_attest = (ProtobufCBinaryData){ attest->len, attest->data };
	p.quote_signature = (ProtobufCBinaryData){ sig->len, sig->data };
	p.pcr_values = v;
	p.n_pcr_values = n;
	p.csr = (ProtobufCBinaryData){ csr_len, (uint8_t *)csr };
	if (cf) {
		p.tls_key_public = (ProtobufCBinaryData){ cf->key_pub.len,
							  cf->key_pub.data };
		p.certify_info = (ProtobufCBinaryData){ cf->attest.len,
							cf->attest.data };
		p.certify_signature = (ProtobufCBinaryData){ cf->sig.len,
							     cf->sig.data };
	}
	f.body_case = VNFSEC__FRAME__BODY_ENROLL_PROOF;
	f.enroll_proof = &p;
	return send_frame(c, &f);
}

/* The server's verdict on a proof: the EnrollResult's status. */
static int result_status(struct conn *c)
{
	Vnfsec__Frame *f;
	int err, status;

	f = recv_frame(c, &err);
	if (!f)
		return 1000 + (err < 0 ? -err : err);
	status = f->body_case == VNFSEC__FRAME__BODY_ENROLL_RESULT ?
		 f->enroll_result->status : 2000;
	wire_free(f);
	return status;
}

/* Any DER CSR will do for the counter-cases: they fail before it. */
static int some_csr(uint8_t **der, int *len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();

	*len = -1;
	if (k && req && X509_REQ_set_pubkey(req, k) &&
	    X509_REQ_sign(req, k, EVP_sha256()))
		*len = i2d_X509_REQ(req, der);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	return *len > 0 ? 0 : -EIO;
}

TEST_F_TIMEOUT(enroll, activation_by_a_different_tpm_refused, 120)
{
	struct vnfsec_blob cert = { 0 }, ek = { 0 }, ak = { 0 }, chal = { 0 };
	struct vnfsec_blob attest = { 0 }, sig = { 0 };
	uint8_t secret[32], qual[32], pcrs[2][32], *csr = NULL;
	struct vnfsec_tpm *victim = NULL, *own = NULL;
	struct swtpm sw_own;
	Vnfsec__Frame *f;
	SSL_CTX *ctx;
	struct conn c = { .fd = -1 };
	size_t len = 0;
	int csr_len, err;

	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, swtpm_start(&sw_own));
	/* The victim's EK certificate and EK are public; the AK is ours. */
	ASSERT_EQ(0, vnfsec_tpm_open(AGENT_TCTI, &victim));
	ASSERT_EQ(0, vnfsec_tpm_open(sw_own.tcti, &own));
	ASSERT_EQ(0, vnfsec_tpm_ek_cert(victim, &cert));
	ASSERT_EQ(0, vnfsec_tpm_ek_public(victim, &ek));
	ASSERT_EQ(0, vnfsec_tpm_ak_public(own, &ak));
	ASSERT_EQ(0, some_csr(&csr, &csr_len));

	ASSERT_EQ(0, dial(self, NULL, &ctx, &c));
	ASSERT_EQ(0, send_request(&c, &cert, &ek, &ak));
	f = recv_frame(&c, &err);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(VNFSEC__FRAME__BODY_ENROLL_CHALLENGE, f->body_case);
	/* Our TPM cannot open a credential made for the victim's EK. */
	chal = (struct vnfsec_blob){ f->enroll_challenge->credential.data,
				     f->enroll_challenge->credential.len };
	ASSERT_NE(0, vnfsec_tpm_activate_credential(own, &chal, secret,
						    sizeof(secret), &len));
	/* So it guesses, and quotes honestly with its own AK. */
	ASSERT_EQ(1, RAND_bytes(secret, sizeof(secret)));
	ASSERT_EQ(0, vnfsec_quote_binding(f->enroll_challenge->nonce.data,
					  f->enroll_challenge->nonce.len, csr,
					  csr_len, qual));
	ASSERT_EQ(0, vnfsec_tpm_pcr_read(own, QUOTE_PCRS, pcrs));
	ASSERT_EQ(0, vnfsec_tpm_quote(own, QUOTE_PCRS, qual, sizeof(qual),
				      &attest, &sig));
	wire_free(f);
	ASSERT_EQ(0, send_proof(&c, secret, sizeof(secret), &attest, &sig,
				pcrs, 2, csr, csr_len, NULL));
	ASSERT_EQ(-EACCES, result_status(&c));
	ASSERT_TRUE(file_has(self->log, "credential not activated"));
	hangup(ctx, &c);
	OPENSSL_free(csr);
	vnfsec_blob_free(&cert);
	vnfsec_blob_free(&ek);
	vnfsec_blob_free(&ak);
	vnfsec_blob_free(&attest);
	vnfsec_blob_free(&sig);
	vnfsec_tpm_close(victim);
	vnfsec_tpm_close(own);
	swtpm_stop(&sw_own);
}

TEST_F_TIMEOUT(enroll, quote_over_a_stale_nonce_refused, 120)
{
	struct vnfsec_blob cert = { 0 }, ek = { 0 }, ak = { 0 }, chal;
	struct vnfsec_blob attest = { 0 }, sig = { 0 };
	uint8_t secret[32], qual[32], pcrs[2][32], old_nonce[32], *csr = NULL;
	struct vnfsec_tpm *t = NULL;
	Vnfsec__Frame *f;
	SSL_CTX *ctx;
	struct conn c = { .fd = -1 };
	size_t len = 0;
	int csr_len, err;

	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, vnfsec_tpm_open(AGENT_TCTI, &t));
	ASSERT_EQ(0, vnfsec_tpm_ek_cert(t, &cert));
	ASSERT_EQ(0, vnfsec_tpm_ek_public(t, &ek));
	ASSERT_EQ(0, vnfsec_tpm_ak_public(t, &ak));
	ASSERT_EQ(0, some_csr(&csr, &csr_len));

	/* A first session's nonce, recorded and left unanswered. */
	ASSERT_EQ(0, dial(self, NULL, &ctx, &c));
	ASSERT_EQ(0, send_request(&c, &cert, &ek, &ak));
	f = recv_frame(&c, &err);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(VNFSEC__FRAME__BODY_ENROLL_CHALLENGE, f->body_case);
	memcpy(old_nonce, f->enroll_challenge->nonce.data, sizeof(old_nonce));
	wire_free(f);
	hangup(ctx, &c);

	/* A second session: genuine activation, a quote over the old nonce. */
	ASSERT_EQ(0, dial(self, NULL, &ctx, &c));
	ASSERT_EQ(0, send_request(&c, &cert, &ek, &ak));
	f = recv_frame(&c, &err);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(VNFSEC__FRAME__BODY_ENROLL_CHALLENGE, f->body_case);
	chal = (struct vnfsec_blob){ f->enroll_challenge->credential.data,
				     f->enroll_challenge->credential.len };
	ASSERT_EQ(0, vnfsec_tpm_activate_credential(t, &chal, secret,
						    sizeof(secret), &len));
	ASSERT_NE(0, memcmp(old_nonce, f->enroll_challenge->nonce.data, 32));
	wire_free(f);
	ASSERT_EQ(0, vnfsec_quote_binding(old_nonce, sizeof(old_nonce), csr,
					  csr_len, qual));
	ASSERT_EQ(0, vnfsec_tpm_pcr_read(t, QUOTE_PCRS, pcrs));
	ASSERT_EQ(0, vnfsec_tpm_quote(t, QUOTE_PCRS, qual, sizeof(qual),
				      &attest, &sig));
	ASSERT_EQ(0, send_proof(&c, secret, len, &attest, &sig, pcrs, 2, csr,
				csr_len, NULL));
	ASSERT_EQ(-EACCES, result_status(&c));
	ASSERT_TRUE(file_has(self->log, "nonce"));
	hangup(ctx, &c);
	OPENSSL_free(csr);
	vnfsec_blob_free(&cert);
	vnfsec_blob_free(&ek);
	vnfsec_blob_free(&ak);
	vnfsec_blob_free(&attest);
	vnfsec_blob_free(&sig);
	vnfsec_tpm_close(t);
}

/* A TLS key made in this host's TPM by the agent's code, and its DER CSR. */
static int tpm_key_and_csr(FIXTURE_DATA(enroll) *self, const char *key,
			   uint8_t **der, int *len)
{
	char csr[340];
	X509_REQ *req = NULL;
	FILE *f;
	int ret;

	snprintf(csr, sizeof(csr), "%s/hand.csr", self->dir);
	*der = NULL;
	*len = -1;
	ret = vnfsec_tls_key_create(key, AGENT_ID, csr);
	if (ret)
		return ret;
	f = fopen(csr, "r");
	if (f) {
		req = PEM_read_X509_REQ(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (req)
		*len = i2d_X509_REQ(req, der);
	X509_REQ_free(req);
	return *len > 0 ? 0 : -EBADMSG;
}

/*
 * What a hand-made enrollment shows besides this host's genuine
 * activation and a genuine quote that binds @csr.
 */
struct hand_proof {
	const uint8_t *csr;
	size_t csr_len;
	struct vnfsec_tpm *certifier;	/* whose AK certifies; NULL: nobody */
	const char *key;		/* the TSS2 key it certifies */
	const uint8_t *stale_nonce;	/* certify over this, not the fresh one */
	bool tamper;			/* flip a bit of the TPMS_ATTEST */
};

/* 0 when the exchange ran; *status is the server's EnrollResult. */
static int hand_enroll(FIXTURE_DATA(enroll) *self, const struct hand_proof *hp,
		       int *status)
{
	struct vnfsec_blob cert = { 0 }, ek = { 0 }, ak = { 0 }, chal;
	struct vnfsec_blob attest = { 0 }, sig = { 0 };
	uint8_t secret[32], qual[32], pcrs[2][32], nonce[32];
	struct certification cf = { 0 };
	struct vnfsec_tpm *t = NULL;
	struct conn c = { .fd = -1 };
	SSL_CTX *ctx = NULL;
	Vnfsec__Frame *f = NULL;
	size_t len = 0;
	int ret, err;

	ret = vnfsec_tpm_open(AGENT_TCTI, &t);
	if (!ret)
		ret = vnfsec_tpm_ek_cert(t, &cert);
	if (!ret)
		ret = vnfsec_tpm_ek_public(t, &ek);
	if (!ret)
		ret = vnfsec_tpm_ak_public(t, &ak);
	if (!ret)
		ret = dial(self, NULL, &ctx, &c);
	if (!ret)
		ret = send_request(&c, &cert, &ek, &ak);
	if (!ret) {
		f = recv_frame(&c, &err);
		if (!f || f->body_case != VNFSEC__FRAME__BODY_ENROLL_CHALLENGE ||
		    f->enroll_challenge->nonce.len != sizeof(nonce))
			ret = -EPROTO;
	}
	if (!ret) {
		memcpy(nonce, f->enroll_challenge->nonce.data, sizeof(nonce));
		chal = (struct vnfsec_blob){
			f->enroll_challenge->credential.data,
			f->enroll_challenge->credential.len };
		ret = vnfsec_tpm_activate_credential(t, &chal, secret,
						     sizeof(secret), &len);
	}
	if (!ret)
		ret = vnfsec_quote_binding(nonce, sizeof(nonce), hp->csr,
					   hp->csr_len, qual);
	if (!ret)
		ret = vnfsec_tpm_pcr_read(t, QUOTE_PCRS, pcrs);
	if (!ret)
		ret = vnfsec_tpm_quote(t, QUOTE_PCRS, qual, sizeof(qual),
				       &attest, &sig);
	if (!ret && hp->certifier)
		ret = vnfsec_tpm_certify_key(hp->certifier, hp->key,
					     hp->stale_nonce ?: nonce,
					     sizeof(nonce), &cf.key_pub,
					     &cf.attest, &cf.sig);
	if (!ret && hp->tamper)
		cf.attest.data[cf.attest.len - 1] ^= 1;
	if (!ret)
		ret = send_proof(&c, secret, len, &attest, &sig, pcrs, 2,
				 hp->csr, hp->csr_len,
				 hp->certifier ? &cf : NULL);
	if (!ret)
		*status = result_status(&c);
	wire_free(f);
	if (ctx)
		hangup(ctx, &c);
	certification_free(&cf);
	vnfsec_blob_free(&cert);
	vnfsec_blob_free(&ek);
	vnfsec_blob_free(&ak);
	vnfsec_blob_free(&attest);
	vnfsec_blob_free(&sig);
	vnfsec_tpm_close(t);
	return ret;
}

/* The nonce of a challenge this host asked for and never answered. */
static int old_nonce_of(FIXTURE_DATA(enroll) *self, uint8_t nonce[32])
{
	struct vnfsec_blob cert = { 0 }, ek = { 0 }, ak = { 0 };
	struct vnfsec_tpm *t = NULL;
	struct conn c = { .fd = -1 };
	SSL_CTX *ctx = NULL;
	Vnfsec__Frame *f = NULL;
	int ret, err;

	ret = vnfsec_tpm_open(AGENT_TCTI, &t);
	if (!ret)
		ret = vnfsec_tpm_ek_cert(t, &cert);
	if (!ret)
		ret = vnfsec_tpm_ek_public(t, &ek);
	if (!ret)
		ret = vnfsec_tpm_ak_public(t, &ak);
	if (!ret)
		ret = dial(self, NULL, &ctx, &c);
	if (!ret)
		ret = send_request(&c, &cert, &ek, &ak);
	if (!ret) {
		f = recv_frame(&c, &err);
		if (f && f->body_case == VNFSEC__FRAME__BODY_ENROLL_CHALLENGE &&
		    f->enroll_challenge->nonce.len == 32)
			memcpy(nonce, f->enroll_challenge->nonce.data, 32);
		else
			ret = -EPROTO;
	}
	wire_free(f);
	if (ctx)
		hangup(ctx, &c);
	vnfsec_blob_free(&cert);
	vnfsec_blob_free(&ek);
	vnfsec_blob_free(&ak);
	vnfsec_tpm_close(t);
	return ret;
}

TEST_F_TIMEOUT(enroll, certified_tpm_key_enrolls, 120)
{
	struct vnfsec_blob ak = { 0 }, key_pub = { 0 }, attest = { 0 };
	struct vnfsec_blob sig = { 0 };
	struct vnfsec_tpm *t = NULL;
	uint8_t nonce[32], *spki = NULL;
	struct timespec t0;
	const char *why = NULL;
	X509 *crt = NULL;
	FILE *f;
	int spki_len;

	/* --require-certify is on by default: the agent's code passes. */
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, agent_enrolls(self));
	ASSERT_TRUE(file_has(self->log, "TLS key certified by the AK"));

	/* One certification and one verification, timed for the report. */
	ASSERT_EQ(0, vnfsec_tpm_open(AGENT_TCTI, &t));
	ASSERT_EQ(0, vnfsec_tpm_ak_public(t, &ak));
	ASSERT_EQ(1, RAND_bytes(nonce, sizeof(nonce)));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, vnfsec_tpm_certify_key(t, self->key, nonce, sizeof(nonce),
					    &key_pub, &attest, &sig));
	fprintf(stderr, "# one TPM2_Certify of the TLS key (agent, through tpm2-abrmd): %.1f ms\n",
		ms_since(&t0));
	f = fopen(self->cert, "r");
	ASSERT_NE(NULL, f);
	crt = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ASSERT_NE(NULL, crt);
	spki_len = i2d_PUBKEY(X509_get0_pubkey(crt), &spki);
	ASSERT_LT(0, spki_len);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, vnfsec_certify_verify(&ak, &key_pub, &attest, &sig, nonce,
					   sizeof(nonce), spki, spki_len,
					   &why));
	fprintf(stderr, "# one certification verification (server, OpenSSL only): %.3f ms\n",
		ms_since(&t0));
	/* The issued certificate is for that very key; another nonce is not. */
	nonce[0] ^= 1;
	ASSERT_EQ(-EACCES, vnfsec_certify_verify(&ak, &key_pub, &attest, &sig,
						 nonce, sizeof(nonce), spki,
						 spki_len, &why));
	OPENSSL_free(spki);
	X509_free(crt);
	vnfsec_blob_free(&ak);
	vnfsec_blob_free(&key_pub);
	vnfsec_blob_free(&attest);
	vnfsec_blob_free(&sig);
	vnfsec_tpm_close(t);
}

TEST_F_TIMEOUT(enroll, csr_whose_key_is_a_software_key_refused, 120)
{
	struct vnfsec_tpm *t = NULL;
	uint8_t *tpm_csr = NULL, *soft_csr = NULL;
	char key[340];
	int tpm_len, soft_len, status = 0;

	snprintf(key, sizeof(key), "%s/hand.tss2", self->dir);
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, tpm_key_and_csr(self, key, &tpm_csr, &tpm_len));
	ASSERT_EQ(0, some_csr(&soft_csr, &soft_len));
	ASSERT_EQ(0, vnfsec_tpm_open(AGENT_TCTI, &t));
	/* The attested host shows a software key's CSR, uncertified... */
	ASSERT_EQ(0, hand_enroll(self, &(struct hand_proof){
		.csr = soft_csr, .csr_len = soft_len }, &status));
	ASSERT_EQ(-EACCES, status);
	ASSERT_TRUE(file_has(self->log, "TLS key not certified by the AK"));
	/* ...or with its TPM key's certification beside it. */
	ASSERT_EQ(0, hand_enroll(self, &(struct hand_proof){
		.csr = soft_csr, .csr_len = soft_len, .certifier = t,
		.key = key }, &status));
	ASSERT_EQ(-EACCES, status);
	ASSERT_TRUE(file_has(self->log, "the CSR's key is not the TPM key certified by the AK"));
	/* The TPM key's own CSR with the same certification: enrolled. */
	ASSERT_EQ(0, hand_enroll(self, &(struct hand_proof){
		.csr = tpm_csr, .csr_len = tpm_len, .certifier = t,
		.key = key }, &status));
	ASSERT_EQ(0, status);
	OPENSSL_free(tpm_csr);
	OPENSSL_free(soft_csr);
	vnfsec_tpm_close(t);
}

/*
 * A TLS key made by the agent's code in the TPM at @tcti, in a child
 * whose tpm2 provider talks to that TPM (the provider reads its TCTI
 * once per process). 0 when the child made it.
 */
static int key_in_tpm(const char *tcti, const char *key, const char *csr)
{
	int wstatus;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setenv("TPM2OPENSSL_TCTI", tcti, 1);
		_exit(vnfsec_tls_key_create(key, AGENT_ID, csr) ? 1 : 0);
	}
	if (waitpid(pid, &wstatus, 0) != pid)
		return -ECHILD;
	return WIFEXITED(wstatus) && !WEXITSTATUS(wstatus) ? 0 : -EIO;
}

TEST_F_TIMEOUT(enroll, key_certified_by_another_tpms_ak_refused, 120)
{
	struct vnfsec_tpm *own = NULL;
	struct swtpm sw_own;
	X509_REQ *req = NULL;
	uint8_t *csr = NULL;
	char key[340], csr_pem[340];
	int csr_len = -1, status = 0;
	FILE *f;

	snprintf(key, sizeof(key), "%s/own.tss2", self->dir);
	snprintf(csr_pem, sizeof(csr_pem), "%s/own.csr", self->dir);
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, swtpm_start(&sw_own));
	/* A key in the attacker's own TPM, made by the agent's code. */
	ASSERT_EQ(0, key_in_tpm(sw_own.tcti, key, csr_pem));
	f = fopen(csr_pem, "r");
	ASSERT_NE(NULL, f);
	req = PEM_read_X509_REQ(f, NULL, NULL, NULL);
	fclose(f);
	ASSERT_NE(NULL, req);
	csr_len = i2d_X509_REQ(req, &csr);
	ASSERT_LT(0, csr_len);
	/* The victim attests and quotes; the attacker's TPM certifies. */
	ASSERT_EQ(0, vnfsec_tpm_open(sw_own.tcti, &own));
	ASSERT_EQ(0, hand_enroll(self, &(struct hand_proof){
		.csr = csr, .csr_len = csr_len, .certifier = own,
		.key = key }, &status));
	ASSERT_EQ(-EACCES, status);
	ASSERT_TRUE(file_has(self->log, "does not verify with the enrolled AK"));
	vnfsec_tpm_close(own);
	swtpm_stop(&sw_own);
	OPENSSL_free(csr);
	X509_REQ_free(req);
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

/*
 * A bare swtpm (no resource manager) has 3 object slots: a handle left
 * behind by any path shows as TPM_RC_OBJECT_MEMORY within a few rounds.
 */
TEST_F_TIMEOUT(enroll, key_certification_flushes_its_handles_on_every_path, 120)
{
	struct vnfsec_blob key_pub = { 0 }, attest = { 0 }, sig = { 0 };
	struct vnfsec_tpm *bare = NULL;
	struct swtpm sw_bare;
	char own[340], other[340], csr[340], junk[340], missing[340];
	uint8_t nonce[32] = { 1 };
	EVP_PKEY *soft = EVP_EC_gen("P-256");
	int i;

	snprintf(own, sizeof(own), "%s/bare.tss2", self->dir);
	snprintf(other, sizeof(other), "%s/other.tss2", self->dir);
	snprintf(csr, sizeof(csr), "%s/bare.csr", self->dir);
	snprintf(junk, sizeof(junk), "%s/soft.pem", self->dir);
	snprintf(missing, sizeof(missing), "%s/none.tss2", self->dir);
	ASSERT_EQ(0, swtpm_start(&sw_bare));
	ASSERT_EQ(0, key_in_tpm(sw_bare.tcti, own, csr));
	/* A key of the agent's TPM: its parent there is another primary. */
	ASSERT_EQ(0, key_in_tpm(AGENT_TCTI, other, csr));
	ASSERT_EQ(0, write_pem(junk, NULL, soft));
	ASSERT_EQ(0, vnfsec_tpm_open(sw_bare.tcti, &bare));
	for (i = 0; i < 5; i++) {
		/* Not a TSS2 key, or no file: refused before any TPM work. */
		ASSERT_EQ(-EBADMSG, vnfsec_tpm_certify_key(bare, junk, nonce, 32,
							   &key_pub, &attest,
							   &sig));
		ASSERT_EQ(-ENOENT, vnfsec_tpm_certify_key(bare, missing, nonce,
							  32, &key_pub, &attest,
							  &sig));
		/* Another TPM's key: Load fails after the parent was made. */
		ASSERT_NE(0, vnfsec_tpm_certify_key(bare, other, nonce, 32,
						    &key_pub, &attest, &sig));
		/* Its own: parent, key and AK, all flushed after. */
		ASSERT_EQ(0, vnfsec_tpm_certify_key(bare, own, nonce, 32,
						    &key_pub, &attest, &sig));
		vnfsec_blob_free(&key_pub);
		vnfsec_blob_free(&attest);
		vnfsec_blob_free(&sig);
	}
	/* A nonce out of range is refused up front. */
	ASSERT_EQ(-EINVAL, vnfsec_tpm_certify_key(bare, own, nonce, 8,
						  &key_pub, &attest, &sig));
	ASSERT_EQ(0, write_text(junk, "-----BEGIN TSS2 PRIVATE KEY-----\nAAAA\n-----END TSS2 PRIVATE KEY-----\n"));
	ASSERT_EQ(-EBADMSG, vnfsec_tpm_certify_key(bare, junk, nonce, 32,
						   &key_pub, &attest, &sig));
	vnfsec_tpm_close(bare);
	swtpm_stop(&sw_bare);
	EVP_PKEY_free(soft);
}

TEST_F_TIMEOUT(enroll, key_certification_over_a_stale_nonce_refused, 120)
{
	struct vnfsec_tpm *t = NULL;
	uint8_t old[32], *csr = NULL;
	char key[340];
	int csr_len, status = 0;

	snprintf(key, sizeof(key), "%s/hand.tss2", self->dir);
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, tpm_key_and_csr(self, key, &csr, &csr_len));
	ASSERT_EQ(0, vnfsec_tpm_open(AGENT_TCTI, &t));
	ASSERT_EQ(0, old_nonce_of(self, old));
	/* Everything fresh but the certification, made for the old nonce. */
	ASSERT_EQ(0, hand_enroll(self, &(struct hand_proof){
		.csr = csr, .csr_len = csr_len, .certifier = t, .key = key,
		.stale_nonce = old }, &status));
	ASSERT_EQ(-EACCES, status);
	ASSERT_TRUE(file_has(self->log, "TLS key certification does not carry this challenge's nonce"));
	OPENSSL_free(csr);
	vnfsec_tpm_close(t);
}

TEST_F_TIMEOUT(enroll, tampered_key_certification_refused, 120)
{
	struct vnfsec_tpm *t = NULL;
	uint8_t *csr = NULL;
	char key[340];
	int csr_len, status = 0;

	snprintf(key, sizeof(key), "%s/hand.tss2", self->dir);
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, tpm_key_and_csr(self, key, &csr, &csr_len));
	ASSERT_EQ(0, vnfsec_tpm_open(AGENT_TCTI, &t));
	ASSERT_EQ(0, hand_enroll(self, &(struct hand_proof){
		.csr = csr, .csr_len = csr_len, .certifier = t, .key = key,
		.tamper = true }, &status));
	ASSERT_EQ(-EACCES, status);
	ASSERT_TRUE(file_has(self->log, "TLS key certification does not verify"));
	OPENSSL_free(csr);
	vnfsec_tpm_close(t);
}

TEST_F_TIMEOUT(enroll, uncertified_key_enrolls_only_with_require_certify_off, 120)
{
	uint8_t *csr = NULL;
	int csr_len, status = 0;

	/* A bad value stops the server with the option's name. */
	self->extra[0] = "--require-certify";
	self->extra[1] = "maybe";
	ASSERT_NE(0, server_start(self, self->ekca));
	ASSERT_TRUE(file_has(self->log, "--require-certify on|off"));
	self->extra[1] = "off";
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, some_csr(&csr, &csr_len));
	ASSERT_EQ(0, hand_enroll(self, &(struct hand_proof){
		.csr = csr, .csr_len = csr_len }, &status));
	ASSERT_EQ(0, status);
	ASSERT_TRUE(file_has(self->log, "TLS key NOT certified"));
	OPENSSL_free(csr);
}

static int extend_pcr7(void)
{
	uint8_t digest[VNFSEC_PCR_DIGEST_LEN];
	struct vnfsec_tpm *t = NULL;
	int ret;

	memset(digest, 0x5a, sizeof(digest));
	ret = vnfsec_tpm_open(AGENT_TCTI, &t);
	if (!ret)
		ret = vnfsec_tpm_pcr_extend(t, 7, digest);
	vnfsec_tpm_close(t);
	return ret;
}

TEST_F_TIMEOUT(enroll, pcr_values_other_than_the_enrolled_ones_refused, 120)
{
	ASSERT_EQ(0, server_start(self, self->ekca));
	/* First use records this boot state... */
	ASSERT_EQ(0, agent_enrolls(self));
	/* ...a changed one (a new bootloader, say) is refused from then on. */
	ASSERT_EQ(0, extend_pcr7());
	ASSERT_EQ(0, unlink(self->cert));
	ASSERT_EQ(-EACCES, agent_enrolls(self));
	ASSERT_TRUE(file_has(self->log, "PCR"));
	ASSERT_NE(0, access(self->cert, F_OK));
}

static bool server_refused_tls(void *ctx)
{
	FIXTURE_DATA(enroll) *self = ctx;

	return file_has(self->log, "TLS handshake failed");
}

TEST_F_TIMEOUT(enroll, tls_client_whose_key_is_not_the_enrolled_one_refused, 120)
{
	struct tls_files files = { self->ca, self->cert, NULL };
	Vnfsec__Frame f = VNFSEC__FRAME__INIT, *in;
	Vnfsec__Hello hello = VNFSEC__HELLO__INIT;
	char other_key[320], rogue_crt[320];
	int err;
	EVP_PKEY *other = EVP_EC_gen("P-256"), *rogue_key;
	X509 *rogue_ca, *crt;
	SSL_CTX *ctx;
	struct conn c = { .fd = -1 };

	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, agent_enrolls(self));
	snprintf(other_key, sizeof(other_key), "%s/other.key", self->dir);
	snprintf(rogue_crt, sizeof(rogue_crt), "%s/rogue.pem", self->dir);
	ASSERT_EQ(0, write_pem(other_key, NULL, other));
	/* The enrolled certificate does not go with another key. */
	files.key = other_key;
	ASSERT_EQ(NULL, tls_ctx_new(false, &files));
	/* A certificate of its own making for that key: the server refuses. */
	rogue_key = EVP_EC_gen("P-256");
	rogue_ca = make_cert("vnfsec test CA", rogue_key, NULL, rogue_key,
			     NULL);
	crt = make_cert(AGENT_ID, other, rogue_ca, rogue_key, CERT_AGENT);
	ASSERT_EQ(0, write_pem(rogue_crt, crt, NULL));
	files.cert = rogue_crt;
	/* TLS 1.3: the client is done first; the server's alert follows. */
	if (!dial(self, &files, &ctx, &c)) {
		hello.agent_id = AGENT_ID;
		f.body_case = VNFSEC__FRAME__BODY_HELLO;
		f.hello = &hello;
		send_frame(&c, &f);
		in = recv_frame(&c, &err);
		ASSERT_EQ(NULL, in);
		ASSERT_NE(0, err);
	}
	hangup(ctx, &c);
	ASSERT_TRUE(eventually(server_refused_tls, self, 10));
	ASSERT_FALSE(file_has(self->log, "agent " AGENT_ID " connected"));
	X509_free(rogue_ca);
	X509_free(crt);
	EVP_PKEY_free(rogue_key);
	EVP_PKEY_free(other);
}

TEST_F_TIMEOUT(enroll, connection_without_certificate_may_only_enroll, 120)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT, *in;
	Vnfsec__Hello hello = VNFSEC__HELLO__INIT;
	SSL_CTX *ctx;
	struct conn c = { .fd = -1 };
	int err;

	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, dial(self, NULL, &ctx, &c));
	hello.agent_id = AGENT_ID;
	f.body_case = VNFSEC__FRAME__BODY_HELLO;
	f.hello = &hello;
	ASSERT_EQ(0, send_frame(&c, &f));
	in = recv_frame(&c, &err);
	ASSERT_EQ(NULL, in);
	ASSERT_EQ(-ECONNRESET, err);
	ASSERT_TRUE(file_has(self->log, "only enrollment is allowed"));
	hangup(ctx, &c);
}

static bool metrics_show(const char *portfile, const char *needle);

TEST_F_TIMEOUT(enroll, failed_reattestation_marks_the_agent_untrusted, 120)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT, *in;
	Vnfsec__Assessment a = VNFSEC__ASSESSMENT__INIT;
	uint8_t src[4] = { 10, 0, 0, 66 }, dst[4] = { 10, 0, 0, 1 };
	SSL_CTX *ctx = NULL;
	struct conn c = { .fd = -1 };
	json_object *r;
	char mport[340];
	int err;

	snprintf(mport, sizeof(mport), "%s/metrics.port", self->dir);
	self->extra[0] = "--metrics";
	self->extra[1] = "127.0.0.1:0";
	self->extra[2] = "--metrics-port-file";
	self->extra[3] = mport;
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, agent_enrolls(self));
	ASSERT_EQ(0, tunnel_up(self, &ctx, &c));
	ASSERT_TRUE(eventually(agent_is_trusted, self, 10));
	EXPECT_TRUE(metrics_show(mport, "\nvnfsec_agents_untrusted 0\n"));

	/* The host's boot state changes; the operator asks for a quote. */
	ASSERT_EQ(0, extend_pcr7());
	r = control(self, "{\"cmd\": \"attest\", \"args\": {\"agent\": \"" AGENT_ID "\"}}\n");
	ASSERT_NE(NULL, r);
	json_object_put(r);
	in = recv_frame(&c, &err);
	ASSERT_NE(NULL, in);
	ASSERT_EQ(VNFSEC__FRAME__BODY_QUOTE_REQUEST, in->body_case);
	ASSERT_EQ(0, agent_answer_quote(AGENT_TCTI, &c, in->quote_request));
	wire_free(in);
	ASSERT_TRUE(eventually(agent_is_untrusted, self, 10));
	EXPECT_TRUE(metrics_show(mport, "\nvnfsec_agents_untrusted 1\n"));

	/* Its reports still arrive, flagged. */
	a.id = 1;
	a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD;
	a.severity = 5;
	a.src_addr = (ProtobufCBinaryData){ 4, src };
	a.dst_addr = (ProtobufCBinaryData){ 4, dst };
	a.count = 1000;
	f.body_case = VNFSEC__FRAME__BODY_ASSESSMENT;
	f.assessment = &a;
	ASSERT_EQ(0, send_frame(&c, &f));
	in = recv_frame(&c, &err);
	ASSERT_NE(NULL, in);
	wire_free(in);
	ASSERT_TRUE(file_has(self->alerts, "\"agent_trusted\":false"));
	hangup(ctx, &c);
}

TEST_F_TIMEOUT(enroll, missing_quote_marks_the_agent_untrusted, 120)
{
	SSL_CTX *ctx = NULL;
	json_object *r;
	struct conn c = { .fd = -1 };

	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, agent_enrolls(self));
	ASSERT_EQ(0, tunnel_up(self, &ctx, &c));
	ASSERT_TRUE(eventually(agent_is_trusted, self, 10));
	/* Asked again, the agent stays silent past --quote-timeout (2 s). */
	r = control(self, "{\"cmd\": \"attest\", \"args\": {\"agent\": \"" AGENT_ID "\"}}\n");
	ASSERT_NE(NULL, r);
	json_object_put(r);
	ASSERT_TRUE(eventually(agent_is_untrusted, self, 15));
	ASSERT_TRUE(file_has(self->log, "no quote within"));
	hangup(ctx, &c);
}

TEST_F_TIMEOUT(enroll, reattestation_repeats_at_the_interval, 120)
{
	SSL_CTX *ctx = NULL;
	struct conn c = { .fd = -1 };
	Vnfsec__Frame *in;
	int err, round;

	self->extra[0] = "--reattest-interval";
	self->extra[1] = "1";
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, agent_enrolls(self));
	ASSERT_EQ(0, tunnel_up(self, &ctx, &c));
	/* Unasked, the server keeps asking; good answers keep it trusted. */
	for (round = 0; round < 2; round++) {
		in = recv_frame(&c, &err);
		ASSERT_NE(NULL, in);
		ASSERT_EQ(VNFSEC__FRAME__BODY_QUOTE_REQUEST, in->body_case);
		ASSERT_EQ(0, agent_answer_quote(AGENT_TCTI, &c,
						in->quote_request));
		wire_free(in);
	}
	ASSERT_TRUE(eventually(agent_is_trusted, self, 10));
	hangup(ctx, &c);
}

TEST_F_TIMEOUT(enroll, attestation_survives_a_server_restart, 120)
{
	char db[340];
	SSL_CTX *ctx = NULL;
	struct conn c = { .fd = -1 };

	snprintf(db, sizeof(db), "%s/server.db", self->dir);
	self->extra[0] = "--db";
	self->extra[1] = db;
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, agent_enrolls(self));
	ASSERT_EQ(0, server_stop(self));
	ASSERT_EQ(0, server_start(self, self->ekca));
	/* It remembers the agent: a quote on connect, checked as before. */
	ASSERT_EQ(0, tunnel_up(self, &ctx, &c));
	ASSERT_TRUE(eventually(agent_is_trusted, self, 10));
	hangup(ctx, &c);
	/* And its boot state: a changed one is refused after the restart. */
	ASSERT_EQ(0, extend_pcr7());
	ASSERT_EQ(0, unlink(self->cert));
	ASSERT_EQ(-EACCES, agent_enrolls(self));
}

/* `attest` on the control socket, and the agent's answer to it. */
static int attest_and_answer(FIXTURE_DATA(enroll) *self, struct conn *c,
			     bool accept)
{
	json_object *r;
	Vnfsec__Frame *in;
	int err, ret;

	r = control(self, accept ?
		    "{\"cmd\": \"attest\", \"args\": {\"agent\": \"" AGENT_ID "\", \"accept_pcrs\": true}}\n" :
		    "{\"cmd\": \"attest\", \"args\": {\"agent\": \"" AGENT_ID "\"}}\n");
	if (!r)
		return -EIO;
	json_object_put(r);
	in = recv_frame(c, &err);
	if (!in)
		return err ? err : -EIO;
	ret = in->body_case == VNFSEC__FRAME__BODY_QUOTE_REQUEST ?
	      agent_answer_quote(AGENT_TCTI, c, in->quote_request) : -EPROTO;
	wire_free(in);
	return ret;
}

TEST_F_TIMEOUT(enroll, operator_accepts_a_new_boot_state, 120)
{
	SSL_CTX *ctx = NULL;
	struct conn c = { .fd = -1 };

	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, agent_enrolls(self));
	ASSERT_EQ(0, tunnel_up(self, &ctx, &c));
	/* A firmware update: the next quote fails... */
	ASSERT_EQ(0, extend_pcr7());
	ASSERT_EQ(0, attest_and_answer(self, &c, false));
	ASSERT_TRUE(eventually(agent_is_untrusted, self, 10));
	/* ...until the operator accepts the new values. */
	ASSERT_EQ(0, attest_and_answer(self, &c, true));
	ASSERT_TRUE(eventually(agent_is_trusted, self, 10));
	ASSERT_TRUE(file_has(self->log, "operator accepted"));
	/* They are the reference now: a plain quote holds. */
	ASSERT_EQ(0, attest_and_answer(self, &c, false));
	ASSERT_TRUE(eventually(agent_is_trusted, self, 10));
	ASSERT_FALSE(file_has(self->log, "quote nobody asked for"));
	hangup(ctx, &c);
}

static bool agent_is_isolated(void *ctx)
{
	return agent_flag(ctx, "isolated") == 1;
}

static bool agent_is_not_isolated(void *ctx)
{
	return agent_flag(ctx, "isolated") == 0;
}

/*
 * The agent reports a SYN flood from 10.0.0.@src; *ordered says whether
 * the server ordered an action for it. Actions are queued before the
 * round's acks, so once the ack is here every order it caused is too.
 */
static int report(struct conn *c, uint64_t id, uint8_t src_last, bool *ordered)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT, *in;
	Vnfsec__Assessment a = VNFSEC__ASSESSMENT__INIT;
	uint8_t src[4] = { 10, 0, 0, src_last }, dst[4] = { 10, 0, 0, 1 };
	int ret, err;

	a.id = id;
	a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD;
	a.severity = 5;
	a.src_addr = (ProtobufCBinaryData){ 4, src };
	a.dst_addr = (ProtobufCBinaryData){ 4, dst };
	a.count = 1000;
	a.src_count = 1000;
	f.body_case = VNFSEC__FRAME__BODY_ASSESSMENT;
	f.assessment = &a;
	ret = send_frame(c, &f);
	if (ret)
		return ret;
	*ordered = false;
	for (;;) {
		in = recv_frame(c, &err);
		if (!in)
			return err ? err : -EIO;
		if (in->body_case == VNFSEC__FRAME__BODY_ACTION ||
		    in->body_case == VNFSEC__FRAME__BODY_SIGNED_ACTION) {
			*ordered = true;
		} else if (in->body_case == VNFSEC__FRAME__BODY_ACK &&
			   in->ack->assessment_id == id) {
			wire_free(in);
			return 0;
		} else if (in->body_case != VNFSEC__FRAME__BODY_ACK) {
			wire_free(in);
			return -EPROTO;
		}
		wire_free(in);
	}
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

/*
 * The attack: a host that failed attestation reports a flood to get a
 * source blocked. Under the built-in playbook its report is recorded and
 * alerted, flagged agent_trusted: false, and orders nothing.
 */
TEST_F_TIMEOUT(enroll, untrusted_agent_orders_nothing_under_the_builtin_playbook, 120)
{
	SSL_CTX *ctx = NULL;
	struct conn c = { .fd = -1 };
	bool ordered;

	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, agent_enrolls(self));
	ASSERT_EQ(0, tunnel_up(self, &ctx, &c));
	ASSERT_TRUE(eventually(agent_is_trusted, self, 10));
	/* Trusted, its report leads to the built-in block. */
	ASSERT_EQ(0, report(&c, 1, 66, &ordered));
	ASSERT_TRUE(ordered);

	/* A failed quote: untrusted, and isolated with no rule asked for. */
	ASSERT_EQ(0, extend_pcr7());
	ASSERT_EQ(0, attest_and_answer(self, &c, false));
	ASSERT_TRUE(eventually(agent_is_untrusted, self, 10));
	ASSERT_TRUE(eventually(agent_is_isolated, self, 10));
	ASSERT_TRUE(file_has(self->log, "isolated by playbook"));
	/* Still connected and heard, flagged, but it steers no order. */
	ASSERT_EQ(0, report(&c, 2, 77, &ordered));
	ASSERT_FALSE(ordered);
	ASSERT_TRUE(file_has(self->alerts, "\"agent_trusted\":false"));
	ASSERT_TRUE(file_has(self->alerts, "\"agent_isolated\":true"));
	ASSERT_TRUE(file_has(self->alerts, "\"src_ip\":\"10.0.0.77\""));

	/* The operator vouches for the new boot state: it orders again. */
	ASSERT_EQ(0, attest_and_answer(self, &c, true));
	ASSERT_TRUE(eventually(agent_is_trusted, self, 10));
	ASSERT_TRUE(eventually(agent_is_not_isolated, self, 10));
	ASSERT_TRUE(file_has(self->log, "isolation is lifted"));
	ASSERT_EQ(0, report(&c, 3, 88, &ordered));
	ASSERT_TRUE(ordered);
	hangup(ctx, &c);
}

/*
 * The operator may say otherwise, playbook by playbook: one with
 * act_on_untrusted: true acts on an untrusted agent's reports too; the
 * others still do not.
 */
TEST_F_TIMEOUT(enroll, untrusted_agent_orders_through_an_act_on_untrusted_playbook, 120)
{
	SSL_CTX *ctx = NULL;
	struct conn c = { .fd = -1 };
	char pb[340];
	bool ordered;

	snprintf(pb, sizeof(pb), "%s/playbook.yaml", self->dir);
	self->extra[0] = "--playbook";
	self->extra[1] = pb;
	ASSERT_EQ(0, write_file(pb, "version: 1\n"
				    "playbooks:\n"
				    "  - name: floods\n"
				    "    on: syn_flood\n"
				    "    act_on_untrusted: true\n"
				    "    actions: [{type: block_source, ttl_s: 60}]\n"
				    "  - name: others\n"
				    "    on: any\n"
				    "    actions: [{type: block_source, ttl_s: 60}]\n"));
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, agent_enrolls(self));
	ASSERT_EQ(0, tunnel_up(self, &ctx, &c));
	ASSERT_EQ(0, extend_pcr7());
	ASSERT_EQ(0, attest_and_answer(self, &c, false));
	ASSERT_TRUE(eventually(agent_is_untrusted, self, 10));
	ASSERT_EQ(0, report(&c, 1, 66, &ordered));
	ASSERT_TRUE(ordered);
	ASSERT_TRUE(file_has(self->alerts, "\"agent_trusted\":false"));
	hangup(ctx, &c);
}

TEST_F_TIMEOUT(enroll, untrusted_agent_isolated_again_after_a_server_restart, 120)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT, *in;
	Vnfsec__Hello hello = VNFSEC__HELLO__INIT;
	const struct tls_files files = { self->ca, self->cert, self->key };
	SSL_CTX *ctx = NULL;
	struct conn c = { .fd = -1 };
	char db[340];
	int err;

	snprintf(db, sizeof(db), "%s/server.db", self->dir);
	/* The built-in playbook isolates untrusted agents. */
	self->extra[0] = "--db";
	self->extra[1] = db;
	/* Long enough that only the hello can isolate it below. */
	self->extra[2] = "--quote-timeout";
	self->extra[3] = "60";
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, agent_enrolls(self));
	ASSERT_EQ(0, tunnel_up(self, &ctx, &c));
	ASSERT_EQ(0, extend_pcr7());
	ASSERT_EQ(0, attest_and_answer(self, &c, false));
	ASSERT_TRUE(eventually(agent_is_isolated, self, 10));
	hangup(ctx, &c);
	ASSERT_EQ(0, server_stop(self));

	/* The store remembers it untrusted: isolated again at its hello. */
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, dial(self, &files, &ctx, &c));
	hello.agent_id = AGENT_ID;
	f.body_case = VNFSEC__FRAME__BODY_HELLO;
	f.hello = &hello;
	ASSERT_EQ(0, send_frame(&c, &f));
	in = recv_frame(&c, &err);		/* its quote request, unanswered */
	ASSERT_NE(NULL, in);
	ASSERT_EQ(VNFSEC__FRAME__BODY_QUOTE_REQUEST, in->body_case);
	wire_free(in);
	ASSERT_TRUE(eventually(agent_is_isolated, self, 10));
	ASSERT_FALSE(file_has(self->log, "no quote within"));
	hangup(ctx, &c);
}

/* The operator's reference file: AGENT_ID's PCRs 0 and 7, 7 as given. */
static int write_refs(FIXTURE_DATA(enroll) *self, const char *path,
		      const uint8_t *pcr7)
{
	uint8_t pcrs[2][VNFSEC_PCR_DIGEST_LEN];
	struct vnfsec_tpm *t = NULL;
	FILE *f;
	int ret, i, j;

	ret = vnfsec_tpm_open(AGENT_TCTI, &t);
	if (!ret)
		ret = vnfsec_tpm_pcr_read(t, QUOTE_PCRS, pcrs);
	vnfsec_tpm_close(t);
	if (ret)
		return ret;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "# reference boot state\n%s 7=", AGENT_ID);
	for (j = 0; j < VNFSEC_PCR_DIGEST_LEN; j++)
		fprintf(f, "%02x", pcr7 ? pcr7[j] : pcrs[1][j]);
	fprintf(f, " 0=");
	for (i = 0; i < VNFSEC_PCR_DIGEST_LEN; i++)
		fprintf(f, "%02x", pcrs[0][i]);
	fprintf(f, "\n");
	return fclose(f) ? -errno : 0;
}

TEST_F_TIMEOUT(enroll, operator_expected_pcrs_enforced, 120)
{
	uint8_t other[VNFSEC_PCR_DIGEST_LEN];
	char refs[340];
	FILE *f;

	snprintf(refs, sizeof(refs), "%s/expected-pcrs", self->dir);
	self->extra[0] = "--expected-pcrs";
	self->extra[1] = refs;
	/* A file the server cannot read right stops it at start. */
	f = fopen(refs, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "%s 7=1234\n", AGENT_ID);
	fclose(f);
	ASSERT_NE(0, server_start(self, self->ekca));
	ASSERT_TRUE(file_has(self->log, "expected-pcrs:1: expected"));
	/* The host does not show the operator's values: refused. */
	memset(other, 0x42, sizeof(other));
	ASSERT_EQ(0, write_refs(self, refs, other));
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(-EACCES, agent_enrolls(self));
	ASSERT_TRUE(file_has(self->log, "PCR digest differs"));
	ASSERT_EQ(0, server_stop(self));
	/* It does: enrolled, and attested on connect against the file. */
	ASSERT_EQ(0, write_refs(self, refs, NULL));
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, agent_enrolls(self));
}

/* How many lines of @path hold @needle. */
static int lines_with(const char *path, const char *needle)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* Does the server's /metrics (port in @portfile) show @needle? */
static bool metrics_show(const char *portfile, const char *needle)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(read_port(portfile)),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	static char buf[1 << 16];
	size_t n = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    write(fd, req, sizeof(req) - 1) != sizeof(req) - 1) {
		close(fd);
		return false;
	}
	while (n < sizeof(buf) - 1 &&
	       (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* An EnrollRequest with this host's genuine EK and AK: the server's answer. */
static int request_answer(FIXTURE_DATA(enroll) *self,
			  const struct vnfsec_blob *cert,
			  const struct vnfsec_blob *ek,
			  const struct vnfsec_blob *ak)
{
	struct conn c = { .fd = -1 };
	SSL_CTX *ctx = NULL;
	Vnfsec__Frame *f;
	int ret, err;

	ret = dial(self, NULL, &ctx, &c);
	if (!ret)
		ret = send_request(&c, cert, ek, ak);
	if (!ret) {
		f = recv_frame(&c, &err);
		if (!f)
			ret = 1000;
		else if (f->body_case == VNFSEC__FRAME__BODY_ENROLL_CHALLENGE)
			ret = 0;
		else if (f->body_case == VNFSEC__FRAME__BODY_ENROLL_RESULT)
			ret = f->enroll_result->status;
		else
			ret = 2000;
		wire_free(f);
	}
	if (ctx)
		hangup(ctx, &c);
	return ret;
}

TEST_F_TIMEOUT(enroll, enrollment_requests_rate_limited_per_source, 120)
{
	struct vnfsec_blob cert = { 0 }, ek = { 0 }, ak = { 0 };
	struct vnfsec_tpm *t = NULL;
	char mport[340];

	snprintf(mport, sizeof(mport), "%s/metrics.port", self->dir);
	self->extra[0] = "--enroll-rate";
	self->extra[1] = "1";
	self->extra[2] = "--enroll-burst";
	self->extra[3] = "2";
	self->extra[4] = "--metrics";
	self->extra[5] = "127.0.0.1:0";
	self->extra[6] = "--metrics-port-file";
	self->extra[7] = mport;
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, vnfsec_tpm_open(AGENT_TCTI, &t));
	ASSERT_EQ(0, vnfsec_tpm_ek_cert(t, &cert));
	ASSERT_EQ(0, vnfsec_tpm_ek_public(t, &ek));
	ASSERT_EQ(0, vnfsec_tpm_ak_public(t, &ak));
	vnfsec_tpm_close(t);
	/* The burst: challenged. One a minute after that: refused. */
	EXPECT_EQ(0, request_answer(self, &cert, &ek, &ak));
	EXPECT_EQ(0, request_answer(self, &cert, &ek, &ak));
	EXPECT_EQ(-EBUSY, request_answer(self, &cert, &ek, &ak));
	EXPECT_EQ(-EBUSY, request_answer(self, &cert, &ek, &ak));
	/* The agent's own enrollment from that address too, with the reason. */
	EXPECT_EQ(-EBUSY, agent_enrolls(self));
	EXPECT_NE(0, access(self->cert, F_OK));
	/* Logged once in the window, counted every time. */
	EXPECT_EQ(1, lines_with(self->log, "enrollment requests from 127.0.0.1 refused"));
	EXPECT_TRUE(metrics_show(mport, "vnfsec_enroll_refused_total{reason=\"rate\"} 3"));
	vnfsec_blob_free(&cert);
	vnfsec_blob_free(&ek);
	vnfsec_blob_free(&ak);
}

static int write_allow(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

TEST_F_TIMEOUT(enroll, enroll_allow_admits_only_registered_agents_and_their_ek, 120)
{
	struct vnfsec_blob cert = { 0 };
	struct vnfsec_tpm *t = NULL;
	uint8_t hash[32];
	char allow[340], text[512];
	int i, n;

	snprintf(allow, sizeof(allow), "%s/enroll-allow", self->dir);
	self->extra[0] = "--enroll-allow";
	self->extra[1] = allow;
	/* A malformed file stops the server at start with FILE:LINE. */
	ASSERT_EQ(0, write_allow(allow, "# ids\n" AGENT_ID " 00 extra\n"));
	ASSERT_NE(0, server_start(self, self->ekca));
	ASSERT_TRUE(file_has(self->log, "enroll-allow:2: expected"));

	/* An id the operator did not register. */
	ASSERT_EQ(0, write_allow(allow, "# ids\nhost-17\n"));
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(-EACCES, agent_enrolls(self));
	ASSERT_TRUE(file_has(self->log, "agent id not pre-registered"));
	ASSERT_EQ(0, server_stop(self));

	/* Registered, but with another TPM's EK certificate. */
	n = snprintf(text, sizeof(text), "%s ", AGENT_ID);
	for (i = 0; i < 32; i++)
		n += snprintf(text + n, sizeof(text) - n, "%s42", i ? ":" : "");
	snprintf(text + n, sizeof(text) - n, "\n");
	ASSERT_EQ(0, write_allow(allow, text));
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(-EACCES, agent_enrolls(self));
	ASSERT_TRUE(file_has(self->log, "EK certificate is not the one registered"));
	ASSERT_EQ(0, server_stop(self));

	/* Registered with this TPM's EK certificate: enrolled. */
	ASSERT_EQ(0, vnfsec_tpm_open(AGENT_TCTI, &t));
	ASSERT_EQ(0, vnfsec_tpm_ek_cert(t, &cert));
	vnfsec_tpm_close(t);
	ASSERT_EQ(1, EVP_Digest(cert.data, cert.len, hash, NULL, EVP_sha256(),
				NULL));
	vnfsec_blob_free(&cert);
	n = snprintf(text, sizeof(text), "host-17\n%s ", AGENT_ID);
	for (i = 0; i < 32; i++)
		n += snprintf(text + n, sizeof(text) - n, "%02x", hash[i]);
	snprintf(text + n, sizeof(text) - n, "\n");
	ASSERT_EQ(0, write_allow(allow, text));
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, agent_enrolls(self));
	ASSERT_TRUE(file_has(self->log, "only the 2 agent ids"));
}

/* How many lines of @path hold @needle. */
static int count_in(const char *path, const char *needle)
{
	char line[2048];
	FILE *f = fopen(path, "r");
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* One sample of the server's /metrics on @port, or -1. */
static long metric_at(int port, const char *sample)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	static char buf[1 << 16];
	size_t got = 0;
	ssize_t n;
	char *p;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    write(fd, req, sizeof(req) - 1) != sizeof(req) - 1) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (got + 1 < sizeof(buf) &&
	       (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	p = strstr(buf, sample);
	return p ? strtol(p + strlen(sample), NULL, 10) : -1;
}

/* The first frame the server answers an EnrollRequest of @tpm with. */
static int request_as(FIXTURE_DATA(enroll) *self, struct vnfsec_tpm *tpm)
{
	struct vnfsec_blob cert = { 0 }, ek = { 0 }, ak = { 0 };
	struct conn c = { .fd = -1 };
	Vnfsec__Frame *f;
	SSL_CTX *ctx;
	int ret, err;

	ret = vnfsec_tpm_ek_cert(tpm, &cert);
	if (!ret)
		ret = vnfsec_tpm_ek_public(tpm, &ek);
	if (!ret)
		ret = vnfsec_tpm_ak_public(tpm, &ak);
	if (!ret)
		ret = dial(self, NULL, &ctx, &c);
	if (!ret && !(ret = send_request(&c, &cert, &ek, &ak))) {
		f = recv_frame(&c, &err);
		ret = !f ? -1000 :
		      f->body_case == VNFSEC__FRAME__BODY_ENROLL_RESULT ?
		      f->enroll_result->status : (int)f->body_case;
		wire_free(f);
	}
	if (c.ssl)
		hangup(ctx, &c);
	vnfsec_blob_free(&cert);
	vnfsec_blob_free(&ek);
	vnfsec_blob_free(&ak);
	return ret;
}

TEST_F_TIMEOUT(enroll, foreign_tpm_under_an_enrolled_id_refused_until_released, 120)
{
	char mport[340];
	struct vnfsec_tpm *own = NULL;
	struct swtpm sw_own;
	json_object *r, *v;
	int port = 0;

	snprintf(mport, sizeof(mport), "%s/metrics-port", self->dir);
	self->extra[0] = "--metrics";
	self->extra[1] = "127.0.0.1:0";
	self->extra[2] = "--metrics-port-file";
	self->extra[3] = mport;
	ASSERT_EQ(0, server_start(self, self->ekca));
	ASSERT_EQ(0, agent_enrolls(self));
	/* The attack: a genuine TPM of its own, under the enrolled id. */
	ASSERT_EQ(0, swtpm_start(&sw_own));
	ASSERT_EQ(0, vnfsec_tpm_open(sw_own.tcti, &own));
	EXPECT_EQ(-EACCES, request_as(self, own));
	EXPECT_EQ(1, count_in(self->log, "already enrolled with another TPM"));
	EXPECT_TRUE(file_has(self->log, "vnfsecctl --server agent release ID"));
	port = read_port(mport);
	EXPECT_EQ(1, metric_at(port, "vnfsec_enroll_refused_total{reason=\"tpm_bound\"} "));
	/* The enrolled agent's own TPM renews as before. */
	EXPECT_EQ(0, agent_enrolls(self));
	/* The operator releases the id (a replaced host): the next request
	 * of another TPM gets its challenge. */
	r = control(self, "{\"cmd\":\"agent.release\",\"args\":{\"agent\":\"" AGENT_ID "\"}}\n");
	ASSERT_NE(NULL, r);
	EXPECT_TRUE(json_object_object_get_ex(r, "ok", &v) &&
		    json_object_get_boolean(v));
	json_object_put(r);
	EXPECT_TRUE(file_has(self->log, "released by the operator"));
	EXPECT_EQ(VNFSEC__FRAME__BODY_ENROLL_CHALLENGE, request_as(self, own));
	/* Released is not revoked: a second release has nothing to drop. */
	r = control(self, "{\"cmd\":\"agent.release\",\"args\":{\"agent\":\"" AGENT_ID "\"}}\n");
	ASSERT_NE(NULL, r);
	EXPECT_TRUE(json_object_object_get_ex(r, "error", &v) &&
		    strstr(json_object_get_string(v), "no TPM bound"));
	json_object_put(r);
	vnfsec_tpm_close(own);
	swtpm_stop(&sw_own);
}

/*
 * The attack: something with a certificate from the deployment's CA
 * for the server's name, but not a server's role, collects an agent's
 * TPM proofs. The agent sends it nothing and says why.
 */
TEST_F_TIMEOUT(enroll, agent_refuses_a_server_without_the_server_role, 120)
{
	EVP_PKEY *ca_key, *key;
	FILE *f;
	X509 *ca, *srv;

	f = fopen(self->ca, "r");
	ASSERT_NE(NULL, f);
	ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(self->ca_key, "r");
	ASSERT_NE(NULL, f);
	ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	key = EVP_EC_gen("P-256");
	srv = make_cert(SERVER_CN, key, ca, ca_key, CERT_TLS_SERVER);
	ASSERT_NE(NULL, srv);
	ASSERT_EQ(0, write_pem(self->srv_crt, srv, NULL));
	ASSERT_EQ(0, write_pem(self->srv_key, NULL, key));
	ASSERT_EQ(0, server_start(self, self->ekca));
	EXPECT_EQ(-EACCES, agent_enrolls(self));
	EXPECT_NE(0, access(self->cert, F_OK));
	/* Nothing reached the server: no request, no refusal of its own. */
	EXPECT_FALSE(file_has(self->log, "enrollment of"));
	X509_free(ca);
	X509_free(srv);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
}

TEST_HARNESS_MAIN
