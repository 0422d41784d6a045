// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who may be a peer of vnfsec-server, and as what (docs/security.md).
 * Each test is an attack first, with real certificates from tools/mkca
 * (or signed here with its CA when mkca would not make such a thing):
 * an agent certificate posing as a child server, a certificate without a
 * role, a second session under a live identity, a revoked identity or
 * certificate, a CRL nobody trusted signed, a private key others can
 * read. Each must be refused, logged in one line and counted, while the
 * legitimate peer beside it keeps working.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "kselftest_harness.h"
#include "selftests/server/srvlib.h"
#include "user/common/log.h"
#include "user/common/roles.h"
#include "user/common/tls.h"

static const uint8_t src[4] = { 10, 66, 0, 9 };

/* Sends one assessment and waits for its ack: the session works. */
static int works(struct conn *c, uint64_t id)
{
	Vnfsec__Frame *f;
	int ret;

	if (send_assessment(c, id, VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD,
			    src, 80, 7))
		return -1;
	for (;;) {
		ret = wait_frame(c, VNFSEC__FRAME__BODY_ACK, &f);
		if (ret)
			return ret;
		ret = f->ack->assessment_id == id;
		wire_free(f);
		if (ret)
			return 0;
	}
}

/* True when the server ends the connection instead of answering. */
static bool closed_by_server(struct conn *c)
{
	Vnfsec__Frame *f;
	const char *why;
	int ret = conn_recv(c, &f, &why);

	wire_free(f);
	return ret == -ECONNRESET || ret == -EIO;
}

/*
 * Connect and say hello as @id: true when the server hangs up instead
 * of serving (refused at the handshake the hello may not even leave).
 */
static bool refused(SSL_CTX *ctx, int port, const char *id)
{
	struct conn c;
	bool ret;

	ret = agent_connect(ctx, port, id, &c) || closed_by_server(&c);
	conn_free(&c);
	return ret;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The value of one sample in /metrics, or -1. */
static long metric(struct test_server *ts, const char *sample)
{
	static char buf[1 << 16];
	char *p;

	if (http_get(ts->metrics_port, "/metrics", buf, sizeof(buf)))
		return -1;
	p = strstr(buf, sample);
	if (!p || p[strlen(sample)] != ' ')
		return -1;
	return strtol(p + strlen(sample) + 1, NULL, 10);
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return c;
}

static EVP_PKEY *read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return k;
}

static int write_file_0600(const char *path, X509 *cert, EVP_PKEY *key,
			   X509_CRL *crl)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok;

	if (!f)
		return -1;
	ok = cert ? PEM_write_X509(f, cert) :
	     key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) :
		   PEM_write_X509_CRL(f, crl);
	return fclose(f) || !ok ? -1 : 0;
}

/*
 * DIR/NAME.{pem,key}: CN @cn with extended key usage @eku, signed by the
 * CA of @dir (or, @rogue, by a CA of its own): what mkca will not make.
 */
static int sign_cert(const char *dir, const char *name, const char *cn,
		     const char *eku)
{
	X509 *ca = read_cert(tpath(dir, "ca.pem")), *c = X509_new();
	EVP_PKEY *ca_key = read_key(tpath(dir, "ca.key"));
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char file[64], san[80];
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	int ret = -1;

	if (!ca || !c || !ca_key || !key)
		goto out;
	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), 1000 + rand() % 100000);
	X509_gmtime_adj(X509_getm_notBefore(c), -60);
	X509_gmtime_adj(X509_getm_notAfter(c), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN",
				   MBSTRING_ASC, (const unsigned char *)cn,
				   -1, -1, 0);
	X509_set_issuer_name(c, X509_get_subject_name(ca));
	X509_set_pubkey(c, key);
	X509V3_set_ctx(&v3, ca, c, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, eku);
	X509_add_ext(c, ext, -1);
	X509_EXTENSION_free(ext);
	snprintf(san, sizeof(san), "DNS:%s", cn);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	X509_add_ext(c, ext, -1);
	X509_EXTENSION_free(ext);
	if (!X509_sign(c, ca_key, EVP_sha256()))
		goto out;
	snprintf(file, sizeof(file), "%s.pem", name);
	if (write_file_0600(tpath(dir, file), c, NULL, NULL))
		goto out;
	snprintf(file, sizeof(file), "%s.key", name);
	ret = write_file_0600(tpath(dir, file), NULL, key, NULL);
out:
	X509_free(ca);
	X509_free(c);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	return ret;
}

/*
 * A CRL at @path revoking the certificates DIR/<name>.pem of @names
 * (NULL-ended), signed by DIR's CA, or by a key of its own (@forged).
 * Written beside and renamed: the server never reads half a file.
 */
static int write_crl(const char *dir, const char *path,
		     const char *const *names, bool forged)
{
	X509 *ca = read_cert(tpath(dir, "ca.pem"));
	EVP_PKEY *key = forged ? EVP_EC_gen("P-256") :
			read_key(tpath(dir, "ca.key"));
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	char tmp[300], file[64];
	int ret = -1;

	if (!ca || !key || !crl || !t)
		goto out;
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
	X509_gmtime_adj(t, 0);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 86400);
	X509_CRL_set1_nextUpdate(crl, t);
	for (; names && *names; names++) {
		X509_REVOKED *r = X509_REVOKED_new();
		X509 *c;

		snprintf(file, sizeof(file), "%s.pem", *names);
		c = read_cert(tpath(dir, file));
		if (!c || !r) {
			X509_free(c);
			X509_REVOKED_free(r);
			goto out;
		}
		X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(c));
		X509_gmtime_adj(t, 0);
		X509_REVOKED_set_revocationDate(r, t);
		X509_CRL_add0_revoked(crl, r);
		X509_free(c);
	}
	X509_CRL_sort(crl);
	if (!X509_CRL_sign(crl, key, EVP_sha256()))
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!write_file_0600(tmp, NULL, NULL, crl) && !rename(tmp, path))
		ret = 0;
out:
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(key);
	return ret;
}

FIXTURE(trust) {
	char dir[64];
	struct test_server ts, child;
	SSL_CTX *a1, *a2;
	const char *log;
};

FIXTURE_SETUP(trust)
{
	ASSERT_NE(NULL, getenv("VNFSEC_SRC"));
	ASSERT_NE(NULL, getenv("VNFSEC_BUILD"));
	log_init("test", LOG_CRIT);
	/* Writing to a connection the server refused: an error, no signal. */
	signal(SIGPIPE, SIG_IGN);
	memset(&self->ts, 0, sizeof(self->ts));
	memset(&self->child, 0, sizeof(self->child));
	ASSERT_EQ(0, make_ca(self->dir, sizeof(self->dir),
			     "agent-1 agent-2 child:child-1 operator:ops-1"));
	self->a1 = agent_ctx(self->dir, "agent-1");
	self->a2 = agent_ctx(self->dir, "agent-2");
	ASSERT_NE(NULL, self->a1);
	ASSERT_NE(NULL, self->a2);
	self->log = strdup(tpath(self->dir, "srv/server.log"));
}

FIXTURE_TEARDOWN(trust)
{
	char cmd[128];

	SSL_CTX_free(self->a1);
	SSL_CTX_free(self->a2);
	EXPECT_EQ(0, server_stop(&self->child));
	/* Exit 0 after SIGTERM: no crash, and no leak under ASan. */
	EXPECT_EQ(0, server_stop(&self->ts));
	if (!_metadata->passed || getenv("VNFSEC_TEST_VERBOSE")) {
		snprintf(cmd, sizeof(cmd), "sed 's/^/# server: /' %s >&2",
			 self->log);
		system(cmd);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	system(cmd);
	free((void *)self->log);
}

static int start(FIXTURE_DATA(trust) *self, const char *const *extra)
{
	return server_start(&self->ts, self->dir, "srv", NULL, extra);
}

static int hello(struct conn *c, const char *id, bool is_server)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__Hello h = VNFSEC__HELLO__INIT;

	h.agent_id = (char *)id;
	h.is_server = is_server;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_HELLO;
	f.hello = &h;
	return conn_send(c, &f);
}

/* TLS to the server as @ctx's identity, without any frame yet. */
static int dial(SSL_CTX *ctx, int port, struct conn *c)
{
	int fd = tcp_connect(port);

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (fd < 0 || conn_init(c, ctx, fd, "vnfsec-server"))
		return -1;
	return conn_handshake(c);
}

static int send_summary(struct conn *c)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__IncidentSummary s = VNFSEC__INCIDENT_SUMMARY__INIT;

	s.id = 1;
	s.revision = 1;
	s.heuristic = VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD;
	s.severity = 9;
	s.src_addr.data = (uint8_t *)src;
	s.src_addr.len = 4;
	s.state = VNFSEC__INCIDENT_STATE__INCIDENT_OPEN;
	s.first_seen_ms = 1;
	s.last_seen_ms = 1;
	s.assessments = 1;
	s.agents = 1;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_INCIDENT_SUMMARY;
	f.incident_summary = &s;
	return conn_send(c, &f);
}

TEST_F(trust, agent_certificate_posing_as_child_server_refused)
{
	SSL_CTX *child = agent_ctx(self->dir, "child-1");
	Vnfsec__Frame *f;
	struct conn c, good, kid;

	ASSERT_NE(NULL, child);
	ASSERT_EQ(0, start(self, NULL));
	ASSERT_EQ(0, agent_connect(self->a2, self->ts.port, "agent-2", &good));
	/* The attack: an agent's certificate says hello as a server. */
	ASSERT_EQ(0, dial(self->a1, self->ts.port, &c));
	ASSERT_EQ(0, hello(&c, "agent-1", true));
	EXPECT_TRUE(closed_by_server(&c));
	conn_free(&c);
	EXPECT_EQ(1, count_lines(self->log, "agent-1 at 127.0.0.1:"));
	EXPECT_EQ(1, count_lines(self->log, "sent a hello as a child server"));
	EXPECT_EQ(1, metric(&self->ts,
			    "vnfsec_sessions_refused_total{reason=\"role\"}"));
	/* A real child server's certificate may: its summary is acked. */
	ASSERT_EQ(0, dial(child, self->ts.port, &kid));
	ASSERT_EQ(0, hello(&kid, "child-1", true));
	ASSERT_EQ(0, send_summary(&kid));
	ASSERT_EQ(0, wait_frame(&kid, VNFSEC__FRAME__BODY_SUMMARY_ACK, &f));
	wire_free(f);
	/* And may not report as an agent: a role it does not hold. */
	ASSERT_EQ(0, dial(child, self->ts.port, &c));
	ASSERT_EQ(0, hello(&c, "child-1", false));
	EXPECT_TRUE(closed_by_server(&c));
	conn_free(&c);
	EXPECT_EQ(2, metric(&self->ts,
			    "vnfsec_sessions_refused_total{reason=\"role\"}"));
	EXPECT_EQ(0, works(&good, 1));
	conn_free(&good);
	conn_free(&kid);
	SSL_CTX_free(child);
}

TEST_F(trust, agent_sending_an_incident_summary_is_cut)
{
	struct conn c;

	ASSERT_EQ(0, start(self, NULL));
	ASSERT_EQ(0, agent_connect(self->a1, self->ts.port, "agent-1", &c));
	ASSERT_EQ(0, works(&c, 1));
	/* The attack: a summary naming a source, for blocks everywhere. */
	ASSERT_EQ(0, send_summary(&c));
	EXPECT_TRUE(closed_by_server(&c));
	conn_free(&c);
	EXPECT_EQ(1, count_lines(self->log, "sent an incident summary"));
	EXPECT_EQ(1, metric(&self->ts,
			    "vnfsec_sessions_refused_total{reason=\"role\"}"));
	EXPECT_EQ(0, metric(&self->ts,
			    "vnfsec_summaries_total{direction=\"received\"}"));
	/* The same agent, behaving, is served again. */
	ASSERT_EQ(0, agent_connect(self->a1, self->ts.port, "agent-1", &c));
	EXPECT_EQ(0, works(&c, 2));
	conn_free(&c);
}

TEST_F(trust, certificate_without_a_session_role_refused)
{
	SSL_CTX *ops, *plain;
	struct conn c;

	/* An operator's certificate, and a bare TLS client certificate. */
	ASSERT_EQ(0, sign_cert(self->dir, "plain-1", "plain-1", "clientAuth"));
	ops = agent_ctx(self->dir, "ops-1");
	plain = agent_ctx(self->dir, "plain-1");
	ASSERT_NE(NULL, ops);
	ASSERT_NE(NULL, plain);
	ASSERT_EQ(0, start(self, NULL));
	EXPECT_TRUE(refused(ops, self->ts.port, "ops-1"));
	EXPECT_TRUE(refused(plain, self->ts.port, "plain-1"));
	EXPECT_EQ(1, count_lines(self->log, "roles 'operator' are neither"));
	EXPECT_EQ(1, count_lines(self->log, "roles 'none' are neither"));
	EXPECT_EQ(2, metric(&self->ts,
			    "vnfsec_sessions_refused_total{reason=\"role\"}"));
	ASSERT_EQ(0, agent_connect(self->a1, self->ts.port, "agent-1", &c));
	EXPECT_EQ(0, works(&c, 1));
	conn_free(&c);
	SSL_CTX_free(ops);
	SSL_CTX_free(plain);
}

static bool parent_refused(void *arg)
{
	return count_lines(arg, "lacks the vnfsec server role") == 1;
}

TEST_F(trust, child_refuses_a_parent_without_the_server_role)
{
	char parent[64], resp[4096];
	/* Copies: tpath()'s buffers rotate under server_start(). */
	char *cc = strdup(tpath(self->dir, "child-1.pem"));
	char *ck = strdup(tpath(self->dir, "child-1.key"));
	char *fc = strdup(tpath(self->dir, "fake.pem"));
	char *fk = strdup(tpath(self->dir, "fake.key"));
	const char *extra[] = { "--parent", parent, "--parent-cert", cc,
				"--parent-key", ck, NULL };
	const char *fake[] = { "--cert", fc, "--key", fk, NULL };
	char *child_log;

	/* A TLS server certificate for the right name, but no role. */
	ASSERT_EQ(0, sign_cert(self->dir, "fake", "vnfsec-server",
			       "serverAuth"));
	ASSERT_EQ(0, start(self, fake));
	snprintf(parent, sizeof(parent), "127.0.0.1:%d", self->ts.port);
	ASSERT_EQ(0, server_start(&self->child, self->dir, "child", NULL,
				  extra));
	child_log = strdup(tpath(self->dir, "child/server.log"));
	EXPECT_TRUE(wait_until(parent_refused, child_log, 5));
	ASSERT_EQ(0, ctl(tpath(self->ts.dir, "ctl.sock"),
			 "{\"cmd\":\"agents\"}", resp, sizeof(resp)));
	EXPECT_EQ(NULL, strstr(resp, "child-1"));
	free(child_log);
	/* With the real server certificate the same child connects. */
	EXPECT_EQ(0, server_stop(&self->child));
	EXPECT_EQ(0, server_stop(&self->ts));
	ASSERT_EQ(0, start(self, NULL));
	snprintf(parent, sizeof(parent), "127.0.0.1:%d", self->ts.port);
	ASSERT_EQ(0, server_start(&self->child, self->dir, "child", NULL,
				  extra));
	EXPECT_TRUE(wait_lines(self->log, "child server child-1 connected", 1));
	free(cc);
	free(ck);
	free(fc);
	free(fk);
}

TEST_F(trust, second_session_of_a_live_identity_refused)
{
	struct sockaddr_in la, lb;
	socklen_t len = sizeof(la);
	char line[200];
	struct conn a, b;

	ASSERT_EQ(0, start(self, NULL));
	ASSERT_EQ(0, agent_connect(self->a1, self->ts.port, "agent-1", &a));
	ASSERT_EQ(0, works(&a, 1));
	/* The attack: the same certificate from elsewhere, while alive. */
	ASSERT_EQ(0, agent_connect(self->a1, self->ts.port, "agent-1", &b));
	EXPECT_TRUE(closed_by_server(&b));
	/* Both addresses in the one line: where each session comes from. */
	ASSERT_EQ(1, count_lines(self->log, "second connection from"));
	ASSERT_EQ(0, getsockname(a.fd, (struct sockaddr *)&la, &len));
	len = sizeof(lb);
	ASSERT_EQ(0, getsockname(b.fd, (struct sockaddr *)&lb, &len));
	snprintf(line, sizeof(line),
		 "second connection from 127.0.0.1:%u refused: its session from 127.0.0.1:%u is alive",
		 ntohs(lb.sin_port), ntohs(la.sin_port));
	EXPECT_EQ(1, count_lines(self->log, line));
	EXPECT_EQ(1, metric(&self->ts,
			    "vnfsec_sessions_refused_total{reason=\"duplicate\"}"));
	conn_free(&b);
	/* The first keeps its session and its orders. */
	EXPECT_EQ(0, works(&a, 2));
	conn_free(&a);
}

TEST_F(trust, silent_session_is_taken_over)
{
	static const char *const extra[] = { "--heartbeat-timeout", "2",
					     NULL };
	struct conn a, b;

	ASSERT_EQ(0, start(self, extra));
	ASSERT_EQ(0, agent_connect(self->a1, self->ts.port, "agent-1", &a));
	ASSERT_EQ(0, works(&a, 1));
	/* The first goes silent (a host that hung); its successor comes. */
	sleep(3);
	ASSERT_EQ(0, agent_connect(self->a1, self->ts.port, "agent-1", &b));
	EXPECT_EQ(0, works(&b, 2));
	EXPECT_TRUE(closed_by_server(&a));
	EXPECT_EQ(1, count_lines(self->log, "missed its heartbeats (silent"));
	EXPECT_EQ(1, metric(&self->ts,
			    "vnfsec_sessions_cut_total{reason=\"silent\"}"));
	EXPECT_EQ(0, metric(&self->ts,
			    "vnfsec_sessions_refused_total{reason=\"duplicate\"}"));
	conn_free(&a);
	conn_free(&b);
}

TEST_F(trust, revoked_identity_cut_refused_and_remembered)
{
	char *db = strdup(tpath(self->dir, "store.db"));
	const char *extra[] = { "--db", db, NULL };
	char resp[4096];
	struct conn a, good;
	double t0;

	ASSERT_EQ(0, start(self, extra));
	ASSERT_EQ(0, agent_connect(self->a1, self->ts.port, "agent-1", &a));
	ASSERT_EQ(0, works(&a, 1));
	ASSERT_EQ(0, agent_connect(self->a2, self->ts.port, "agent-2", &good));
	/* The operator revokes a stolen identity: its session goes now. */
	t0 = now_s();
	ASSERT_EQ(0, ctl(tpath(self->ts.dir, "ctl.sock"),
			 "{\"cmd\":\"revoke\",\"args\":{\"agent\":\"agent-1\"}}",
			 resp, sizeof(resp)));
	EXPECT_NE(NULL, strstr(resp, "\"ok\":true"));
	EXPECT_TRUE(closed_by_server(&a));
	EXPECT_GT(1.5, now_s() - t0);
	conn_free(&a);
	/* The attack: the revoked certificate tries again. */
	EXPECT_TRUE(refused(self->a1, self->ts.port, "agent-1"));
	EXPECT_EQ(1, count_lines(self->log, "identity revoked by the operator; refused"));
	EXPECT_EQ(1, metric(&self->ts,
			    "vnfsec_sessions_refused_total{reason=\"revoked\"}"));
	EXPECT_EQ(1, metric(&self->ts,
			    "vnfsec_sessions_cut_total{reason=\"revoked\"}"));
	EXPECT_EQ(0, works(&good, 1));
	conn_free(&good);
	/* After a restart the store still holds it. */
	EXPECT_EQ(0, server_stop(&self->ts));
	ASSERT_EQ(0, start(self, extra));
	EXPECT_TRUE(refused(self->a1, self->ts.port, "agent-1"));
	EXPECT_EQ(2, count_lines(self->log, "identity revoked by the operator; refused"));
	/* Until the operator lifts it. */
	ASSERT_EQ(0, ctl(tpath(self->ts.dir, "ctl.sock"),
			 "{\"cmd\":\"revoke\",\"args\":{\"agent\":\"agent-1\",\"lift\":true}}",
			 resp, sizeof(resp)));
	EXPECT_NE(NULL, strstr(resp, "\"ok\":true"));
	ASSERT_EQ(0, agent_connect(self->a1, self->ts.port, "agent-1", &a));
	EXPECT_EQ(0, works(&a, 2));
	conn_free(&a);
	free(db);
}

TEST_F(trust, certificate_on_the_crl_cut_and_refused)
{
	static const char *const none[] = { NULL };
	static const char *const a1[] = { "agent-1", NULL };
	const char *crl = strdup(tpath(self->dir, "crl.pem"));
	const char *extra[] = { "--crl", crl, NULL };
	struct conn a, good;
	double t0;

	ASSERT_EQ(0, write_crl(self->dir, crl, none, false));
	ASSERT_EQ(0, start(self, extra));
	ASSERT_EQ(0, agent_connect(self->a1, self->ts.port, "agent-1", &a));
	ASSERT_EQ(0, works(&a, 1));
	ASSERT_EQ(0, agent_connect(self->a2, self->ts.port, "agent-2", &good));
	/* The CA revokes agent-1's certificate; the file changes. */
	t0 = now_s();
	ASSERT_EQ(0, write_crl(self->dir, crl, a1, false));
	EXPECT_TRUE(closed_by_server(&a));
	EXPECT_GT(2.5, now_s() - t0);
	conn_free(&a);
	EXPECT_EQ(1, count_lines(self->log, "is now on --crl"));
	/* The attack: the revoked certificate comes back. */
	EXPECT_TRUE(refused(self->a1, self->ts.port, "agent-1"));
	EXPECT_EQ(1, count_lines(self->log, "is revoked by --crl"));
	EXPECT_EQ(1, metric(&self->ts,
			    "vnfsec_sessions_refused_total{reason=\"revoked\"}"));
	EXPECT_EQ(0, works(&good, 1));
	conn_free(&good);
	/* SIGHUP reads it again, whether it changed or not. */
	kill(self->ts.pid, SIGHUP);
	EXPECT_TRUE(wait_lines(self->log, "SIGHUP: reading --crl", 1));
	EXPECT_TRUE(wait_lines(self->log, "1 revoked certificates", 2));
	free((void *)crl);
}

TEST_F(trust, crl_not_signed_by_the_ca_refused)
{
	static const char *const a2[] = { "agent-2", NULL };
	const char *crl = strdup(tpath(self->dir, "crl.pem"));
	const char *extra[] = { "--crl", crl, NULL };
	struct conn c;

	/* The attack: whoever writes a CRL would revoke whom they like. */
	ASSERT_EQ(0, write_crl(self->dir, crl, a2, true));
	EXPECT_NE(0, start(self, extra));
	EXPECT_NE(0, server_stop(&self->ts));
	EXPECT_EQ(1, count_lines(self->log, "not signed by a CA of --ca"));
	/* A forged one arriving later changes nothing either. */
	ASSERT_EQ(0, write_crl(self->dir, crl, NULL, false));
	ASSERT_EQ(0, start(self, extra));
	ASSERT_EQ(0, write_crl(self->dir, crl, a2, true));
	EXPECT_TRUE(wait_lines(self->log, "keeping the revocations read before", 1));
	ASSERT_EQ(0, agent_connect(self->a2, self->ts.port, "agent-2", &c));
	EXPECT_EQ(0, works(&c, 1));
	conn_free(&c);
	free((void *)crl);
}

TEST_F(trust, private_key_readable_by_others_refused)
{
	struct stat st;
	struct conn c;

	/* mkca writes every private key for its owner alone. */
	ASSERT_EQ(0, stat(tpath(self->dir, "server.key"), &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	ASSERT_EQ(0, stat(tpath(self->dir, "agent-1.key"), &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	/* The mistake: a key the whole host can read. */
	ASSERT_EQ(0, chmod(tpath(self->dir, "server.key"), 0644));
	EXPECT_NE(0, start(self, NULL));
	EXPECT_NE(0, server_stop(&self->ts));
	EXPECT_EQ(1, count_lines(self->log, "run chmod 600"));
	/* An agent's, too: no TLS context is made with it. */
	ASSERT_EQ(0, chmod(tpath(self->dir, "agent-2.key"), 0640));
	EXPECT_EQ(NULL, agent_ctx(self->dir, "agent-2"));
	ASSERT_EQ(0, chmod(tpath(self->dir, "server.key"), 0600));
	ASSERT_EQ(0, start(self, NULL));
	ASSERT_EQ(0, agent_connect(self->a1, self->ts.port, "agent-1", &c));
	EXPECT_EQ(0, works(&c, 1));
	conn_free(&c);
}

TEST_HARNESS_MAIN
