// SPDX-License-Identifier: GPL-2.0-only
/*
 * Enrollment, server side (docs/trust.md). A TLS connection without a
 * client certificate may carry one enrollment and nothing else:
 *
 *   EnrollRequest   EK certificate (checked against --ek-ca), EK and AK
 *                   public (the AK must be a restricted TPM signing key)
 *   EnrollChallenge MakeCredential on the server's TPM for (EK, AK name),
 *                   a fresh nonce and the PCR set to quote
 *   EnrollProof     the activated secret (constant-time compare), a quote
 *                   over SHA-256(nonce || CSR), the CSR of the agent's
 *                   TLS key and TPM2_Certify of that key by the AK over
 *                   the nonce: the key is that TPM's (--require-certify)
 *   EnrollResult    a short-lived client certificate for that key
 *
 * The expected PCR values are the operator's (--expected-pcrs) for the
 * agents listed there; the others' are recorded at their first enrollment
 * and enforced from then on (trust on first use; docs/trust.md says why
 * and how an operator accepts new ones).
 *
 * Before any of that costs the server a certificate check or a TPM
 * command, a request must pass a token bucket per source address
 * (--enroll-rate a minute, --enroll-burst at once) and, with
 * --enroll-allow, name an agent id the operator registered (and come with
 * the EK certificate registered for it, when one is).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "tpm/vnfsec_tpm.h"
#include "user/common/evloop.h"
#include "user/common/line_file.h"
#include "user/common/log.h"
#include "user/common/roles.h"
#include "user/server/peers.h"
#include "user/server/server.h"

#define ENROLL_SECRET_LEN	32
#define ENROLL_NONCE_LEN	32
/* Addresses remembered by the rate limit; the least recent goes first. */
#define ENROLL_BUCKETS		1024
#define ENROLL_LOG_WINDOW_MS	60000	/* one refusal line per address */
#define EK_HASH_LEN		32	/* SHA-256 of the EK certificate */
/* The first enrollment binds an id to its TPM, until the operator's word. */
#define TPM_BOUND "agent id already enrolled with another TPM (EK or AK differ); if the host was replaced: vnfsecctl --server agent release ID"

struct enroll_bucket {
	char addr[64];			/* "" : free */
	double tokens;
	uint64_t refilled_ms;
	uint64_t refused;		/* since its last log line */
	uint64_t quiet_until_ms;	/* no refusal line before */
};

/* One pre-registered agent (--enroll-allow). */
struct enroll_allowed {
	struct enroll_allowed *next;
	char id[WIRE_AGENT_ID_MAX + 1];
	bool has_ek;
	uint8_t ek_hash[EK_HASH_LEN];
};

struct enroll_guard {
	double rate_per_ms, burst;	/* rate 0: no limit */
	struct enroll_bucket *buckets;
	struct enroll_allowed *allowed;
	bool allow_list;		/* --enroll-allow given */
};

struct enroll_session {
	bool challenged;
	bool done;			/* result sent: nothing more is read */
	char agent_id[WIRE_AGENT_ID_MAX + 1];
	ProtobufCBinaryData ek, ak;
	uint32_t mask;
	uint8_t secret[ENROLL_SECRET_LEN];
	uint8_t nonce[ENROLL_NONCE_LEN];
};

bool enroll_frame(const Vnfsec__Frame *f)
{
	return f->body_case == VNFSEC__FRAME__BODY_ENROLL_REQUEST ||
	       f->body_case == VNFSEC__FRAME__BODY_ENROLL_PROOF;
}

void enroll_session_free(struct session *s)
{
	struct enroll_session *e = s->enroll;

	if (!e)
		return;
	free(e->ek.data);
	free(e->ak.data);
	OPENSSL_cleanse(e, sizeof(*e));
	free(e);
	s->enroll = NULL;
}

/* Sessions without an agent (enrolling, or no hello yet) are short. */
bool enroll_expired(const struct session *s, time_t now)
{
	return !s->agent && s->conn.established &&
	       now - s->started >= ENROLL_TIMEOUT_S;
}

static int send_result(struct server *srv, struct session *s, int status,
		       const char *reason, const uint8_t *der, size_t len,
		       time_t not_after)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__EnrollResult r = VNFSEC__ENROLL_RESULT__INIT;

	r.status = status;
	r.reason = (char *)(reason ? reason : "");
	r.client_cert.data = (uint8_t *)der;
	r.client_cert.len = len;
	r.not_after_unix = not_after;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ENROLL_RESULT;
	f.enroll_result = &r;
	s->enroll->done = true;
	return session_send(srv, s, &f);
}

/* Every refusal: one log line, the reason to the agent, then it hangs up. */
static int refuse(struct server *srv, struct session *s, int status,
		  const char *why)
{
	log_warn("enrollment of '%s' from %s refused: %s",
		 s->enroll->agent_id, s->conn.peer, why);
	return send_result(srv, s, status, why, NULL, 0, 0);
}

static int dup_blob(ProtobufCBinaryData *dst, const ProtobufCBinaryData *src)
{
	dst->data = malloc(src->len);
	if (!dst->data)
		return -ENOMEM;
	memcpy(dst->data, src->data, src->len);
	dst->len = src->len;
	return 0;
}

static struct vnfsec_blob as_blob(const ProtobufCBinaryData *b)
{
	return (struct vnfsec_blob){ b->data, b->len };
}

int enroll_parse_opt(struct trust_config *tc, int opt, const char *arg)
{
	switch (opt) {
	case ENROLL_OPT_RATE:
		if (parse_uint_opt(arg, 0, 1000000, &tc->enroll_rate,
				   "--enroll-rate"))
			return -EINVAL;
		tc->enroll_unlimited = !tc->enroll_rate;
		return 0;
	case ENROLL_OPT_BURST:
		return parse_uint_opt(arg, 1, 1000000, &tc->enroll_burst,
				      "--enroll-burst") ? -EINVAL : 0;
	case ENROLL_OPT_ALLOW:
		tc->enroll_allow = arg;
		return 0;
	case ENROLL_OPT_REQUIRE_CERTIFY:
		if (strcmp(arg, "on") && strcmp(arg, "off")) {
			log_err("--require-certify on|off, not '%s'", arg);
			return -EINVAL;
		}
		tc->certify_optional = !strcmp(arg, "off");
		return 0;
	}
	return -EINVAL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 64 hex digits, colons between bytes allowed (openssl -fingerprint). */
static int parse_ek_hash(const char *text, uint8_t out[EK_HASH_LEN])
{
	unsigned int n = 0, byte;
	const char *p = text;

	while (*p && n < EK_HASH_LEN) {
		if (*p == ':' && n) {
			p++;
			continue;
		}
		if (!isxdigit((unsigned char)p[0]) ||
		    !isxdigit((unsigned char)p[1]) ||
		    sscanf(p, "%2x", &byte) != 1)
			return -EINVAL;
		out[n++] = byte;
		p += 2;
	}
	return n == EK_HASH_LEN && !*p ? 0 : -EINVAL;
}

static int allow_line(char *line, struct enroll_allowed *a)
{
	char *save = NULL, *id = strtok_r(line, " \t", &save);
	char *ek = strtok_r(NULL, " \t", &save);

	if (!id || strlen(id) > WIRE_AGENT_ID_MAX ||
	    strtok_r(NULL, " \t", &save))
		return -EINVAL;
	snprintf(a->id, sizeof(a->id), "%s", id);
	if (!ek)
		return 0;
	a->has_ek = true;
	return parse_ek_hash(ek, a->ek_hash);
}

struct allow_list {
	struct enroll_allowed *head;
	unsigned int n;
};

static int allow_add(void *ctx, char *line)
{
	struct allow_list *l = ctx;
	struct enroll_allowed *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->next = l->head;
	l->head = a;
	if (allow_line(line, a))
		return -EINVAL;
	l->n++;
	return 0;
}

static int allow_load(const char *path, struct enroll_allowed **out)
{
	struct allow_list l = { 0 };
	int ret;

	ret = line_file_read(path, "--enroll-allow",
			     "AGENT_ID [SHA-256 of its EK certificate, 64 hex digits]",
			     allow_add, &l);
	*out = l.head;
	if (!ret)
		log_info("enrollment: only the %u agent ids in %s may enroll",
			 l.n, path);
	return ret;
}

static void allow_free(struct enroll_allowed *list)
{
	while (list) {
		struct enroll_allowed *next = list->next;

		free(list);
		list = next;
	}
}

int enroll_open(struct server *srv)
{
	const struct trust_config *tc = &srv->cfg->trust;
	struct enroll_guard *g;
	int ret;

	if (!srv->trust) {
		if (tc->enroll_allow)
			log_warn("--enroll-allow %s: enrollment is off (no --enroll-ca-key): ignored",
				 tc->enroll_allow);
		return 0;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	srv->trust->guard = g;
	if (!tc->enroll_unlimited) {
		g->rate_per_ms = (tc->enroll_rate ?: ENROLL_RATE_DEFAULT) /
				 60000.0;
		g->burst = tc->enroll_burst ?: ENROLL_BURST_DEFAULT;
		g->buckets = calloc(ENROLL_BUCKETS, sizeof(*g->buckets));
		if (!g->buckets)
			return -ENOMEM;
	}
	if (tc->enroll_allow) {
		g->allow_list = true;
		ret = allow_load(tc->enroll_allow, &g->allowed);
		if (ret)
			return ret;
	}
	return 0;
}

void enroll_close(struct server *srv)
{
	struct enroll_guard *g = srv->trust ? srv->trust->guard : NULL;

	if (!g)
		return;
	allow_free(g->allowed);
	free(g->buckets);
	free(g);
	srv->trust->guard = NULL;
}

/* The address of "ADDR:PORT" (IPv6 too: the port is after the last ':'). */
static void peer_addr(const char *peer, char *buf, size_t len)
{
	const char *colon = strrchr(peer, ':');
	size_t n = colon ? (size_t)(colon - peer) : strlen(peer);

	snprintf(buf, len, "%.*s", (int)n, peer);
}

static struct enroll_bucket *bucket_of(struct enroll_guard *g,
				       const char *addr, uint64_t now)
{
	struct enroll_bucket *b, *victim = g->buckets;

	for (b = g->buckets; b < g->buckets + ENROLL_BUCKETS; b++) {
		if (!strcmp(b->addr, addr))
			return b;
		if (b->refilled_ms < victim->refilled_ms)
			victim = b;
	}
	/*
	 * A new address takes a free slot or the one heard from longest
	 * ago; an attacker cycling through many addresses is limited by
	 * the handshake and --max-agents, not by this table.
	 */
	memset(victim, 0, sizeof(*victim));
	snprintf(victim->addr, sizeof(victim->addr), "%s", addr);
	victim->tokens = g->burst;
	victim->refilled_ms = now;
	return victim;
}

/*
 * A token bucket per source address: true when this request may go on.
 * Refusals are logged once a minute per address, with how many there were.
 */
static bool rate_allows(struct server *srv, struct session *s)
{
	struct enroll_guard *g = srv->trust->guard;
	uint64_t now = now_ms();
	struct enroll_bucket *b;
	char addr[64];

	if (!g || !g->buckets)
		return true;
	peer_addr(s->conn.peer, addr, sizeof(addr));
	b = bucket_of(g, addr, now);
	b->tokens += (now - b->refilled_ms) * g->rate_per_ms;
	if (b->tokens > g->burst)
		b->tokens = g->burst;
	b->refilled_ms = now;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return true;
	}
	srv->trust->refused_rate++;
	b->refused++;
	if (now >= b->quiet_until_ms) {
		log_warn("enrollment requests from %s refused: more than %.0f a minute (burst %.0f); %llu refused since the last such line; a genuine agent retries with its backoff",
			 addr, g->rate_per_ms * 60000.0, g->burst,
			 (unsigned long long)b->refused);
		b->refused = 0;
		b->quiet_until_ms = now + ENROLL_LOG_WINDOW_MS;
	}
	return false;
}

/* With --enroll-allow: NULL when @id may enroll with @cert, else why not. */
static const char *not_allowed(const struct enroll_guard *g, const char *id,
			       const ProtobufCBinaryData *cert)
{
	const struct enroll_allowed *a;
	uint8_t hash[EK_HASH_LEN];

	if (!g || !g->allow_list)
		return NULL;
	for (a = g->allowed; a; a = a->next)
		if (!strcmp(a->id, id))
			break;
	if (!a)
		return "agent id not pre-registered (--enroll-allow)";
	if (!a->has_ek)
		return NULL;
	if (!EVP_Digest(cert->data, cert->len, hash, NULL, EVP_sha256(), NULL))
		return "server cannot hash the EK certificate";
	if (CRYPTO_memcmp(hash, a->ek_hash, sizeof(hash)))
		return "EK certificate is not the one registered for this agent id (--enroll-allow)";
	return NULL;
}

static int on_request(struct server *srv, struct session *s,
		      const Vnfsec__EnrollRequest *rq)
{
	const struct trust_config *tc = &srv->cfg->trust;
	struct vnfsec_blob cert = as_blob(&rq->ek_cert);
	struct vnfsec_blob ek = as_blob(&rq->ek_public);
	struct vnfsec_blob ak = as_blob(&rq->ak_public);
	struct vnfsec_blob chal = { 0 };
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__EnrollChallenge c = VNFSEC__ENROLL_CHALLENGE__INIT;
	const struct pcr_ref *ref;
	struct enroll_session *e;
	struct attestation *att;
	const char *why = NULL;
	int ret;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	s->enroll = e;
	snprintf(e->agent_id, sizeof(e->agent_id), "%s", rq->agent_id);
	/* Cheap refusals first: the checks below cost a TPM command. */
	if (!rate_allows(srv, s))
		return send_result(srv, s, -EBUSY,
				   "too many enrollment requests from this address; retry later",
				   NULL, 0, 0);
	why = not_allowed(srv->trust->guard, rq->agent_id, &rq->ek_cert);
	if (why) {
		srv->trust->refused_unlisted++;
		return refuse(srv, s, -EACCES, why);
	}
	/* Revoked: a fresh certificate would undo the operator's word. */
	if (peers_id_revoked(srv, rq->agent_id)) {
		srv->trust->refused_revoked++;
		return refuse(srv, s, -EACCES,
			      "agent id revoked by the operator (vnfsecctl --server revoke ID --lift undoes it)");
	}
	/* A certificate already shown names the only id it may renew. */
	if (s->conn.peer_cn[0] && strcmp(s->conn.peer_cn, rq->agent_id))
		return refuse(srv, s, -EACCES,
			      "agent id differs from the client certificate's");
	if (vnfsec_ek_cert_verify(&cert, tc->ek_ca, &ek, &why))
		return refuse(srv, s, -EACCES, why ? why : "EK certificate refused");
	if (vnfsec_ak_check(&ak, &why))
		return refuse(srv, s, -EACCES, why ? why : "AK refused");
	att = attestation_find(srv, rq->agent_id);
	/* An agent id that changes TPM is an impostor or a swapped host. */
	if (att && !attestation_same_tpm(att, &rq->ek_public, &rq->ak_public)) {
		srv->trust->refused_tpm++;
		return refuse(srv, s, -EACCES, TPM_BOUND);
	}
	ref = pcr_ref_find(srv->trust->refs, rq->agent_id);
	e->mask = ref ? pcr_ref_mask(ref) :
		  att ? attestation_mask(att) : tc->pcr_mask;
	if (RAND_bytes(e->secret, sizeof(e->secret)) != 1 ||
	    RAND_bytes(e->nonce, sizeof(e->nonce)) != 1)
		return refuse(srv, s, -EIO, "server has no randomness");
	ret = vnfsec_tpm_make_credential(srv->trust->tpm, &ek, &ak, e->secret,
					 sizeof(e->secret), &chal);
	if (ret)
		return refuse(srv, s, ret,
			      "server TPM cannot make the credential (see the server log)");
	if (chal.len > WIRE_CREDENTIAL_MAX) {
		vnfsec_blob_free(&chal);
		return refuse(srv, s, -EMSGSIZE, "credential too large");
	}
	if (dup_blob(&e->ek, &rq->ek_public) || dup_blob(&e->ak, &rq->ak_public)) {
		vnfsec_blob_free(&chal);
		return -ENOMEM;
	}
	c.credential.data = chal.data;
	c.credential.len = chal.len;
	c.nonce.data = e->nonce;
	c.nonce.len = sizeof(e->nonce);
	c.pcr_mask = e->mask;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_ENROLL_CHALLENGE;
	f.enroll_challenge = &c;
	e->challenged = true;
	ret = session_send(srv, s, &f);
	vnfsec_blob_free(&chal);
	return ret;
}

static int add_ext(X509 *c, X509 *ca, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, ca, c, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext)
		return 0;
	ok = X509_add_ext(c, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A client certificate for @pub, CN = @cn, valid for @hours; DER out. */
static int issue_cert(const struct trust *t, const char *cn, EVP_PKEY *pub,
		      unsigned int hours, uint8_t **der, int *der_len,
		      time_t *not_after)
{
	X509 *c = X509_new();
	BIGNUM *serial = BN_new();
	int ret = -EIO;

	*der = NULL;
	if (!c || !serial || !BN_rand(serial, 127, BN_RAND_TOP_ANY,
				      BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(c)) ||
	    !X509_set_version(c, 2) ||
	    /* A little slack for agents whose clock runs behind. */
	    !X509_gmtime_adj(X509_getm_notBefore(c), -300) ||
	    !X509_gmtime_adj(X509_getm_notAfter(c), (long)hours * 3600) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN",
					MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(c, X509_get_subject_name(t->ca_cert)) ||
	    !X509_set_pubkey(c, pub) ||
	    !add_ext(c, t->ca_cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(c, t->ca_cert, NID_key_usage, "critical,digitalSignature") ||
	    /* The agent role only: never a server's (roles.h). */
	    !add_ext(c, t->ca_cert, NID_ext_key_usage,
		     "clientAuth," VNFSEC_OID_AGENT) ||
	    !X509_sign(c, t->ca_key, EVP_sha256()))
		goto out;
	*der_len = i2d_X509(c, der);
	if (*der_len <= 0) {
		*der = NULL;
		goto out;
	}
	*not_after = time(NULL) + (time_t)hours * 3600;
	ret = 0;
out:
	if (ret)
		log_err("enrollment: cannot issue a certificate for %s; check --enroll-ca-key",
			cn);
	BN_free(serial);
	X509_free(c);
	return ret;
}

/*
 * NULL when the CSR's key is certified by the AK this session proved, or
 * when no certification came and --require-certify is off; else why not.
 * A certification that came is always checked: a bad one is a forgery.
 */
static const char *certify_refusal(const struct server *srv,
				   const struct enroll_session *e,
				   const Vnfsec__EnrollProof *p, X509_REQ *req,
				   bool *certified)
{
	struct vnfsec_blob ak = { e->ak.data, e->ak.len };
	struct vnfsec_blob key = as_blob(&p->tls_key_public);
	struct vnfsec_blob info = as_blob(&p->certify_info);
	struct vnfsec_blob sig = as_blob(&p->certify_signature);
	const char *why = NULL;
	uint8_t *spki = NULL;
	int len;

	*certified = false;
	if (!p->certify_info.len)
		return srv->cfg->trust.certify_optional ? NULL :
		       "TLS key not certified by the AK (no TPM2_Certify; the server has --require-certify on)";
	len = i2d_PUBKEY(X509_REQ_get0_pubkey(req), &spki);
	if (len <= 0)
		return "CSR's public key does not encode";
	if (vnfsec_certify_verify(&ak, &key, &info, &sig, e->nonce,
				  sizeof(e->nonce), spki, len, &why))
		why = why ?: "TLS key certification refused";
	else
		*certified = true;
	OPENSSL_free(spki);
	return why;
}

static int on_proof(struct server *srv, struct session *s,
		    const Vnfsec__EnrollProof *p)
{
	struct enroll_session *e = s->enroll;
	uint8_t pcrs[WIRE_PCR_COUNT][WIRE_PCR_LEN];
	const uint8_t (*expected)[WIRE_PCR_LEN];
	unsigned int n = __builtin_popcount(e->mask), i;
	struct vnfsec_blob ak = { e->ak.data, e->ak.len };
	struct vnfsec_blob attest = as_blob(&p->quote_attest);
	struct vnfsec_blob sig = as_blob(&p->quote_signature);
	uint8_t qual[VNFSEC_PCR_DIGEST_LEN], *der = NULL;
	const unsigned char *q = p->csr.data;
	const struct pcr_ref *ref;
	struct attestation *att;
	X509_REQ *req = NULL;
	const char *why = NULL;
	time_t not_after = 0;
	bool certified = false;
	int der_len = 0, ret;

	/* Only the TPM holding the certified EK and this AK recovers it. */
	if (p->secret.len != sizeof(e->secret) ||
	    CRYPTO_memcmp(p->secret.data, e->secret, sizeof(e->secret)))
		return refuse(srv, s, -EACCES,
			      "credential not activated: the secret is wrong (another TPM or another AK)");
	att = attestation_find(srv, e->agent_id);
	/* Another TPM may have enrolled this id since our challenge. */
	if (att && !attestation_same_tpm(att, &e->ek, &e->ak)) {
		srv->trust->refused_tpm++;
		return refuse(srv, s, -EACCES, TPM_BOUND);
	}
	ref = pcr_ref_find(srv->trust->refs, e->agent_id);
	expected = ref ? pcr_ref_values(ref) : attestation_pcrs(att);
	if (!expected) {
		/* First enrollment: these values become the reference. */
		if (p->n_pcr_values != n)
			return refuse(srv, s, -EPROTO,
				      "PCR values missing for the first enrollment");
		for (i = 0; i < n; i++)
			memcpy(pcrs[i], p->pcr_values[i].data, WIRE_PCR_LEN);
		expected = (const uint8_t (*)[WIRE_PCR_LEN])pcrs;
	}
	/* The quote vouches for this CSR, not only for this connection. */
	if (vnfsec_quote_binding(e->nonce, sizeof(e->nonce), p->csr.data,
				 p->csr.len, qual))
		return -EIO;
	if (vnfsec_quote_verify(&ak, &attest, &sig, qual, sizeof(qual), e->mask,
				expected, &why))
		return refuse(srv, s, -EACCES, why ? why : "quote refused");
	req = d2i_X509_REQ(NULL, &q, (long)p->csr.len);
	if (!req || q != p->csr.data + p->csr.len)
		ret = refuse(srv, s, -EBADMSG, "CSR is not one DER PKCS#10 request");
	else if (X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1)
		ret = refuse(srv, s, -EKEYREJECTED,
			     "CSR not signed by its own key");
	else if ((why = certify_refusal(srv, e, p, req, &certified)))
		ret = refuse(srv, s, -EACCES, why);
	else if (issue_cert(srv->trust, e->agent_id, X509_REQ_get0_pubkey(req),
			    srv->cfg->trust.cert_hours, &der, &der_len,
			    &not_after))
		ret = refuse(srv, s, -EIO, "server cannot issue the certificate");
	else if (attestation_enrolled(srv, e->agent_id, &e->ek, &e->ak,
				      e->mask, expected, n, not_after))
		ret = -ENOMEM;
	else {
		log_info("agent %s enrolled from %s: EK certificate, credential activation and quote verified, TLS key %s; client certificate for %u h",
			 e->agent_id, s->conn.peer,
			 certified ? "certified by the AK (TPM-resident)" :
				     "NOT certified (--require-certify off)",
			 srv->cfg->trust.cert_hours);
		ret = send_result(srv, s, 0, NULL, der, der_len, not_after);
	}
	OPENSSL_free(der);
	X509_REQ_free(req);
	return ret;
}

int enroll_on_frame(struct server *srv, struct session *s,
		    const Vnfsec__Frame *f)
{
	struct enroll_session *e = s->enroll;

	if (!enroll_frame(f)) {
		log_warn("peer at %s: without a client certificate only enrollment is allowed, but it sent message %d; closing",
			 s->conn.peer, f->body_case);
		return -EPROTO;
	}
	if (!srv->trust) {
		log_warn("peer at %s: wants to enroll but enrollment is off (start the server with --enroll-ca-key); closing",
			 s->conn.peer);
		return -EOPNOTSUPP;
	}
	if (e && e->done) {
		log_warn("enrollment of '%s' from %s: frame after the result; closing",
			 e->agent_id, s->conn.peer);
		return -EPROTO;
	}
	if (f->body_case == VNFSEC__FRAME__BODY_ENROLL_REQUEST) {
		if (e) {
			log_warn("enrollment of '%s' from %s: a second request; closing",
				 e->agent_id, s->conn.peer);
			return -EPROTO;
		}
		return on_request(srv, s, f->enroll_request);
	}
	if (!e || !e->challenged) {
		log_warn("peer at %s: enrollment proof without a challenge; closing",
			 s->conn.peer);
		return -EPROTO;
	}
	return on_proof(srv, s, f->enroll_proof);
}
