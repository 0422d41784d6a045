// SPDX-License-Identifier: GPL-2.0-only
/*
 * Enrollment, agent side (docs/trust.md): before the agent has a valid
 * client certificate it proves itself with its TPM on a TLS connection
 * where only the server is authenticated, and leaves with a short-lived
 * certificate for a TLS key that lives in the TPM. Later, on the
 * mutually authenticated tunnel, it answers the server's quote requests
 * with the same AK (re-attestation).
 *
 * The uplink enrolls before it connects whenever the certificate is
 * missing, about to expire or for another id, with blocking sockets
 * bounded by short timeouts; it retries with its reconnect backoff, and
 * the agent senses, protects and spools meanwhile.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tpm/vnfsec_tpm.h"
#include "user/agent/enroll.h"
#include "user/common/log.h"
#include "user/common/netaddr.h"
#include "user/common/roles.h"

/* The agent's loop waits while it enrolls: keep that short. */
#define ENROLL_CONNECT_TIMEOUT_S	3
#define ENROLL_IO_TIMEOUT_S	10
/* Enroll again when less than this much of the certificate is left. */
#define CERT_RENEW_MARGIN_S	300

bool agent_cert_valid(const char *path, const char *key, const char *cn)
{
	time_t soon = time(NULL) + CERT_RENEW_MARGIN_S;
	char name[WIRE_AGENT_ID_MAX + 1] = "";
	FILE *f = fopen(path, "r");
	bool ok = false;
	X509 *c;

	if (!f)
		return false;
	c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (c && access(key, R_OK) == 0 &&
	    X509_NAME_get_text_by_NID(X509_get_subject_name(c),
				      NID_commonName, name, sizeof(name)) > 0)
		ok = !strcmp(name, cn) &&
		     X509_cmp_time(X509_get0_notAfter(c), &soon) > 0;
	X509_free(c);
	return ok;
}

static int read_csr_der(const char *path, uint8_t **der, int *len)
{
	FILE *f = fopen(path, "r");
	X509_REQ *req;

	if (!f)
		return -errno;
	req = PEM_read_X509_REQ(f, NULL, NULL, NULL);
	fclose(f);
	*der = NULL;
	*len = req ? i2d_X509_REQ(req, der) : -1;
	X509_REQ_free(req);
	return *len > 0 ? 0 : -EBADMSG;
}

/* Written whole, then renamed: a crash never leaves half a certificate. */
static int write_cert(const char *path, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	char tmp[PATH_MAX];
	X509 *c = d2i_X509(NULL, &p, (long)len);
	FILE *f;
	int ret = -EIO;

	if (!c) {
		log_err("enroll: the server's certificate does not parse");
		return -EBADMSG;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f && PEM_write_X509(f, c) && !fflush(f) && !fsync(fileno(f))) {
		if (!fclose(f) && !rename(tmp, path))
			ret = 0;
		f = NULL;
	}
	if (f)
		fclose(f);
	if (ret)
		log_err("enroll: cannot write the certificate to %s: %s",
			path, strerror(errno));
	X509_free(c);
	return ret;
}

/* TLS that checks the server and shows no certificate of ours. */
static SSL_CTX *enroll_tls(const char *ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		log_err("enroll: cannot set up TLS with CA %s; check --ca", ca);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

static int dial(const char *server, int *out)
{
	struct timeval tv = { .tv_sec = ENROLL_CONNECT_TIMEOUT_S };
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, ret;

	ret = netaddr_parse(server, &ss, &len, "--server");
	if (ret)
		return ret;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Blocking, but never for ever: a silent server ends the attempt. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		ret = -errno;
		log_warn("enroll: cannot reach server %s: %s", server,
			 strerror(errno));
		close(fd);
		return ret;
	}
	tv.tv_sec = ENROLL_IO_TIMEOUT_S;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	*out = fd;
	return 0;
}

static int send_frame(struct conn *c, Vnfsec__Frame *f)
{
	f->version = WIRE_VERSION;
	return conn_send(c, f);
}

/* The next frame, which must be @want or an EnrollResult. */
static int recv_frame(struct conn *c, Vnfsec__Frame **out, int want)
{
	const char *why = NULL;
	int ret = conn_recv(c, out, &why);

	if (ret == -EAGAIN)
		ret = -ETIMEDOUT;
	if (ret) {
		log_warn("enroll: no answer from the server: %s",
			 why ? why : strerror(-ret));
		return ret;
	}
	if ((*out)->body_case == (unsigned int)want ||
	    (*out)->body_case == VNFSEC__FRAME__BODY_ENROLL_RESULT)
		return 0;
	log_warn("enroll: server sent message %d in the middle of enrollment",
		 (*out)->body_case);
	wire_free(*out);
	*out = NULL;
	return -EPROTO;
}

static int refused(const Vnfsec__EnrollResult *r)
{
	log_err("enroll: the server refused this agent: %s (%s)",
		*r->reason ? r->reason : "no reason given",
		strerror(-r->status));
	return r->status ? r->status : -EPROTO;
}

/* What the agent's TPM shows and proves; freed by identity_free(). */
struct identity {
	struct vnfsec_tpm *tpm;
	struct vnfsec_blob ek_cert, ek_pub, ak_pub;
	const char *key_path;		/* the new TLS key's TSS2 blob */
	uint8_t *csr;
	int csr_len;
};

static void identity_free(struct identity *id)
{
	vnfsec_blob_free(&id->ek_cert);
	vnfsec_blob_free(&id->ek_pub);
	vnfsec_blob_free(&id->ak_pub);
	OPENSSL_free(id->csr);
	vnfsec_tpm_close(id->tpm);
}

static int send_request(struct conn *c, const char *agent_id,
			struct identity *id)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__EnrollRequest rq = VNFSEC__ENROLL_REQUEST__INIT;

	rq.agent_id = (char *)agent_id;
	rq.ek_cert = (ProtobufCBinaryData){ id->ek_cert.len, id->ek_cert.data };
	rq.ek_public = (ProtobufCBinaryData){ id->ek_pub.len, id->ek_pub.data };
	rq.ak_public = (ProtobufCBinaryData){ id->ak_pub.len, id->ak_pub.data };
	f.body_case = VNFSEC__FRAME__BODY_ENROLL_REQUEST;
	f.enroll_request = &rq;
	return send_frame(c, &f);
}

/* A quote of @mask over @qual with the PCR values it covers. */
struct quote {
	struct vnfsec_blob attest, sig;
	uint8_t pcrs[VNFSEC_PCR_MAX][VNFSEC_PCR_DIGEST_LEN];
	ProtobufCBinaryData values[VNFSEC_PCR_MAX];
	unsigned int n;
};

static int take_quote(struct vnfsec_tpm *t, uint32_t mask,
		      const uint8_t *qual, size_t qual_len, struct quote *q)
{
	unsigned int i;
	int ret;

	q->n = __builtin_popcount(mask);
	if (q->n > VNFSEC_PCR_MAX)
		return -EINVAL;
	ret = vnfsec_tpm_pcr_read(t, mask, q->pcrs);
	if (!ret)
		ret = vnfsec_tpm_quote(t, mask, qual, qual_len, &q->attest,
				       &q->sig);
	for (i = 0; i < q->n; i++)
		q->values[i] = (ProtobufCBinaryData){ VNFSEC_PCR_DIGEST_LEN,
						      q->pcrs[i] };
	return ret;
}

static void quote_free(struct quote *q)
{
	vnfsec_blob_free(&q->attest);
	vnfsec_blob_free(&q->sig);
}

/* The AK's word that the TLS key is this TPM's (TPM2_Certify). */
struct certification {
	struct vnfsec_blob key_pub, attest, sig;
};

/*
 * A key that cannot be certified is sent without: a server that requires
 * it refuses with its reason, one that does not takes the quote's word.
 */
static void certify_tls_key(struct identity *id, const uint8_t *nonce,
			    size_t len, struct certification *cf,
			    Vnfsec__EnrollProof *p)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (vnfsec_tpm_certify_key(id->tpm, id->key_path, nonce, len,
				   &cf->key_pub, &cf->attest, &cf->sig)) {
		log_warn("enroll: the TLS key could not be certified by the AK; sending the proof without (a server with --require-certify refuses it)");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_debug("enroll: TLS key certified by the AK in %.1f ms",
		  (t1.tv_sec - t0.tv_sec) * 1e3 +
		  (t1.tv_nsec - t0.tv_nsec) / 1e6);
	p->tls_key_public = (ProtobufCBinaryData){ cf->key_pub.len,
						   cf->key_pub.data };
	p->certify_info = (ProtobufCBinaryData){ cf->attest.len,
						 cf->attest.data };
	p->certify_signature = (ProtobufCBinaryData){ cf->sig.len,
						      cf->sig.data };
}

static void certification_free(struct certification *cf)
{
	vnfsec_blob_free(&cf->key_pub);
	vnfsec_blob_free(&cf->attest);
	vnfsec_blob_free(&cf->sig);
}

static int send_proof(struct conn *c, struct identity *id,
		      const Vnfsec__EnrollChallenge *ch)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__EnrollProof p = VNFSEC__ENROLL_PROOF__INIT;
	struct vnfsec_blob chal = { ch->credential.data, ch->credential.len };
	uint8_t secret[VNFSEC_CREDENTIAL_MAX], qual[VNFSEC_PCR_DIGEST_LEN];
	struct certification cf = { 0 };
	struct quote q = { 0 };
	size_t len = 0;
	int ret;

	ret = vnfsec_tpm_activate_credential(id->tpm, &chal, secret,
					     sizeof(secret), &len);
	if (!ret)
		ret = vnfsec_quote_binding(ch->nonce.data, ch->nonce.len,
					   id->csr, id->csr_len, qual);
	if (!ret)
		ret = take_quote(id->tpm, ch->pcr_mask, qual, sizeof(qual), &q);
	if (!ret) {
		p.secret = (ProtobufCBinaryData){ len, secret };
		p.quote_attest = (ProtobufCBinaryData){ q.attest.len,
							q.attest.data };
		p.quote_signature = (ProtobufCBinaryData){ q.sig.len,
							   q.sig.data };
		p.n_pcr_values = q.n;
		p.pcr_values = q.values;
		p.csr = (ProtobufCBinaryData){ id->csr_len, id->csr };
		certify_tls_key(id, ch->nonce.data, ch->nonce.len, &cf, &p);
		f.body_case = VNFSEC__FRAME__BODY_ENROLL_PROOF;
		f.enroll_proof = &p;
		ret = send_frame(c, &f);
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	certification_free(&cf);
	quote_free(&q);
	return ret;
}

/* The conversation itself, on an established connection. */
static int converse(struct conn *c, const char *agent_id,
		    struct identity *id, const char *cert_path)
{
	Vnfsec__Frame *f = NULL;
	int ret;

	ret = send_request(c, agent_id, id);
	if (!ret)
		ret = recv_frame(c, &f, VNFSEC__FRAME__BODY_ENROLL_CHALLENGE);
	if (ret)
		return ret;
	if (f->body_case == VNFSEC__FRAME__BODY_ENROLL_RESULT) {
		ret = refused(f->enroll_result);
		goto out;
	}
	ret = send_proof(c, id, f->enroll_challenge);
	wire_free(f);
	f = NULL;
	if (!ret)
		ret = recv_frame(c, &f, VNFSEC__FRAME__BODY_ENROLL_RESULT);
	if (ret)
		return ret;
	if (f->enroll_result->status) {
		ret = refused(f->enroll_result);
		goto out;
	}
	ret = write_cert(cert_path, f->enroll_result->client_cert.data,
			 f->enroll_result->client_cert.len);
out:
	wire_free(f);
	return ret;
}

static int attempt(const struct enroll_opts *o)
{
	char key_new[PATH_MAX], csr_path[PATH_MAX];
	struct identity id = { 0 };
	struct conn c = { .fd = -1 };
	SSL_CTX *ctx = NULL;
	int fd = -1, ret;

	snprintf(key_new, sizeof(key_new), "%s.new", o->key);
	snprintf(csr_path, sizeof(csr_path), "%s.csr", o->key);
	id.key_path = key_new;
	/* The server first: no TPM work while it is away. */
	ctx = enroll_tls(o->ca);
	if (!ctx)
		return -EINVAL;
	ret = dial(o->server, &fd);
	if (ret)
		goto out;
	ret = conn_init(&c, ctx, fd, o->server_name);
	if (ret) {
		close(fd);
		goto out;
	}
	ret = conn_handshake(&c);
	if (ret) {
		log_warn("enroll: TLS with %s failed (check --ca and --server-name)",
			 o->server);
		goto out;
	}
	/* Our TPM's proofs go only to a server the CA made one. */
	if (!(cert_roles(SSL_get0_peer_certificate(c.ssl)) & ROLE_SERVER)) {
		log_err("enroll: server %s's certificate lacks the vnfsec server role; refused",
			o->server);
		ret = -EACCES;
		goto out;
	}
	ret = vnfsec_tpm_open(o->tcti, &id.tpm);
	if (!ret)
		ret = vnfsec_tpm_ek_cert(id.tpm, &id.ek_cert);
	if (!ret)
		ret = vnfsec_tpm_ek_public(id.tpm, &id.ek_pub);
	if (!ret)
		ret = vnfsec_tpm_ak_public(id.tpm, &id.ak_pub);
	/*
	 * A fresh TLS key per certificate, made inside the TPM, in a new
	 * file: one left over would keep its old mode, not 0600.
	 */
	unlink(key_new);
	if (!ret)
		ret = vnfsec_tls_key_create(key_new, o->agent_id, csr_path);
	if (!ret)
		ret = read_csr_der(csr_path, &id.csr, &id.csr_len);
	unlink(csr_path);
	if (ret)
		goto out;
	ret = converse(&c, o->agent_id, &id, o->cert);
	/* The key is only worth keeping with its certificate. */
	if (!ret && rename(key_new, o->key)) {
		ret = -errno;
		log_err("enroll: cannot move the TPM key blob to %s: %s",
			o->key, strerror(errno));
	}
out:
	if (ret)
		unlink(key_new);
	if (c.ssl)
		conn_free(&c);
	SSL_CTX_free(ctx);
	identity_free(&id);
	return ret;
}

int agent_enroll(const struct enroll_opts *o)
{
	struct timespec t0, t1;
	int ret;

	if (agent_cert_valid(o->cert, o->key, o->agent_id))
		return 0;
	/* The tpm2 OpenSSL provider reaches the TPM through this. */
	if (o->tcti)
		setenv("TPM2OPENSSL_TCTI", o->tcti, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = attempt(o);
	if (ret) {
		log_err("enroll: could not enroll with %s: %s; the agent reports once it has",
			o->server, strerror(-ret));
		return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("enroll: enrolled as %s with server %s in %.1f ms; certificate %s, TPM key %s",
		 o->agent_id, o->server,
		 (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
		 o->cert, o->key);
	return 0;
}

int agent_answer_quote(const char *tcti, struct conn *c,
		       const Vnfsec__QuoteRequest *rq)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__QuoteResponse r = VNFSEC__QUOTE_RESPONSE__INIT;
	struct vnfsec_tpm *t = NULL;
	struct quote q = { 0 };
	int ret;

	if (!tcti) {
		log_warn("attest: the server asked for a quote but this agent has no --tpm; it will be marked untrusted");
		return 0;
	}
	ret = vnfsec_tpm_open(tcti, &t);
	if (!ret)
		ret = take_quote(t, rq->pcr_mask, rq->nonce.data, rq->nonce.len,
				 &q);
	vnfsec_tpm_close(t);
	if (ret) {
		/* The server's timeout tells it; the tunnel stays up. */
		log_err("attest: cannot quote PCR mask 0x%x: %s",
			rq->pcr_mask, strerror(-ret));
		quote_free(&q);
		return 0;
	}
	r.quote_attest = (ProtobufCBinaryData){ q.attest.len, q.attest.data };
	r.quote_signature = (ProtobufCBinaryData){ q.sig.len, q.sig.data };
	r.n_pcr_values = q.n;
	r.pcr_values = q.values;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_QUOTE_RESPONSE;
	f.quote_response = &r;
	ret = conn_send(c, &f);
	quote_free(&q);
	return ret;
}
