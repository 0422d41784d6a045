// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attestation state of enrolled agents and re-attestation (docs/trust.md).
 * Enrollment (enroll.c) records an agent's EK, AK, PCR set and the PCR
 * values it booted with. From then on the server asks that agent for a
 * quote when it connects, every --reattest-interval and on demand; the
 * quote must be signed by the enrolled AK over a fresh nonce and show the
 * enrolled PCR values. A bad quote makes the agent untrusted until it
 * enrolls again; a missing one until its next good quote. Untrusted
 * agents stay connected: their reports are flagged, not dropped, so an
 * operator (or a playbook) sees what a possibly compromised host says.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "tpm/vnfsec_tpm.h"
#include "user/common/evloop.h"
#include "user/common/log.h"
#include "user/server/playbook.h"
#include "user/server/store.h"

#define QUOTE_NONCE_LEN 32

struct attestation {
	struct attestation *next;
	char id[WIRE_AGENT_ID_MAX + 1];
	ProtobufCBinaryData ek, ak;	/* marshalled TPM2B_PUBLIC */
	uint32_t mask;
	uint8_t pcrs[WIRE_PCR_COUNT][WIRE_PCR_LEN];	/* expected */
	bool trusted;
	bool failed;			/* a bad quote: until re-enrollment */
	char reason[160];
	time_t enrolled, cert_not_after, last_quote;
	bool pending;			/* a QuoteRequest is out */
	bool accept_pcrs;		/* its answer sets the reference */
	uint8_t nonce[QUOTE_NONCE_LEN];
	time_t deadline, next_due;
};

void trust_config_defaults(struct trust_config *tc)
{
	tc->cert_hours = 24;
	tc->pcr_mask = 1U << 0 | 1U << 7;	/* firmware, Secure Boot */
	tc->reattest_s = 0;
	tc->quote_timeout_s = 10;
}

static int parse_pcrs(const char *arg, uint32_t *mask)
{
	int ret = vnfsec_pcr_list_parse(arg, mask);

	if (ret)
		log_err("--attest-pcrs: '%s' is not a list of PCR numbers 0..23 such as 0,7",
			arg);
	return ret;
}

int trust_parse_opt(struct trust_config *tc, int opt, const char *arg)
{
	switch (opt) {
	case TRUST_OPT_CA_KEY: tc->ca_key = arg; return 0;
	case TRUST_OPT_CA_CERT: tc->ca_cert = arg; return 0;
	case TRUST_OPT_EK_CA: tc->ek_ca = arg; return 0;
	case TRUST_OPT_TPM: tc->tpm = arg; return 0;
	case TRUST_OPT_CERT_HOURS:
		return parse_uint_opt(arg, 1, 24 * 365, &tc->cert_hours,
				      "--enroll-cert-hours") ? -EINVAL : 0;
	case TRUST_OPT_PCRS:
		return parse_pcrs(arg, &tc->pcr_mask);
	case TRUST_OPT_REATTEST:
		return parse_uint_opt(arg, 0, 86400, &tc->reattest_s,
				      "--reattest-interval") ? -EINVAL : 0;
	case TRUST_OPT_EXPECTED_PCRS: tc->expected_pcrs = arg; return 0;
	case TRUST_OPT_QUOTE_TIMEOUT:
		return parse_uint_opt(arg, 1, 3600, &tc->quote_timeout_s,
				      "--quote-timeout") ? -EINVAL : 0;
	}
	return -EINVAL;
}

bool trust_enabled(const struct server *srv)
{
	return srv->trust != NULL;
}

static unsigned int nr_pcrs(uint32_t mask)
{
	return (unsigned int)__builtin_popcount(mask);
}

static int blob_copy(ProtobufCBinaryData *dst, const void *src, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);

	if (!d)
		return -ENOMEM;
	memcpy(d, src, len);
	free(dst->data);
	dst->data = d;
	dst->len = len;
	return 0;
}

static void attestation_free(struct attestation *att)
{
	free(att->ek.data);
	free(att->ak.data);
	free(att);
}

struct attestation *attestation_find(struct server *srv, const char *id)
{
	struct attestation *att;

	if (!srv->trust)
		return NULL;
	for (att = srv->trust->list; att; att = att->next)
		if (!strcmp(att->id, id))
			return att;
	return NULL;
}

static struct attestation *attestation_add(struct server *srv, const char *id)
{
	struct attestation *att = attestation_find(srv, id);

	if (att)
		return att;
	att = calloc(1, sizeof(*att));
	if (!att)
		return NULL;
	snprintf(att->id, sizeof(att->id), "%s", id);
	att->next = srv->trust->list;
	srv->trust->list = att;
	return att;
}

static void attestation_save(struct server *srv, const struct attestation *att)
{
	struct attestation_row r = {
		.agent_id = att->id,
		.ek_public = att->ek.data, .ek_len = att->ek.len,
		.ak_public = att->ak.data, .ak_len = att->ak.len,
		.pcr_mask = att->mask,
		.pcrs = att->pcrs, .pcrs_len = nr_pcrs(att->mask) * WIRE_PCR_LEN,
		.trusted = att->trusted, .reason = att->reason,
		.enrolled = att->enrolled,
		.cert_not_after = att->cert_not_after,
		.last_quote = att->last_quote,
	};

	if (store_attestation(srv->store, &r))
		srv->stats.store_errors++;
}

static int attestation_load(void *ctx, const struct attestation_row *r)
{
	struct server *srv = ctx;
	struct attestation *att;

	if (r->pcrs_len != nr_pcrs(r->pcr_mask) * WIRE_PCR_LEN ||
	    strlen(r->agent_id) > WIRE_AGENT_ID_MAX) {
		log_warn("store: attestation of '%s' is malformed; that agent must enroll again",
			 r->agent_id);
		return 0;
	}
	att = attestation_add(srv, r->agent_id);
	if (!att || blob_copy(&att->ek, r->ek_public, r->ek_len) ||
	    blob_copy(&att->ak, r->ak_public, r->ak_len))
		return -ENOMEM;
	att->mask = r->pcr_mask;
	memcpy(att->pcrs, r->pcrs, r->pcrs_len);
	att->trusted = r->trusted;
	/* Whatever made it untrusted, only a new enrollment clears it. */
	att->failed = !r->trusted;
	snprintf(att->reason, sizeof(att->reason), "%s", r->reason);
	att->enrolled = r->enrolled;
	att->cert_not_after = r->cert_not_after;
	att->last_quote = r->last_quote;
	return 0;
}

static struct agent_record *agent_of(struct server *srv, const char *id)
{
	struct agent_record *a;

	for (a = srv->agents; a; a = a->next)
		if (!strcmp(a->id, id))
			return a;
	return NULL;
}

/*
 * The playbooks' answer to an untrusted agent (playbook.h): isolated, its
 * reports stop leading to actions but through playbooks that say
 * act_on_untrusted. It stays connected and reporting, so the operator sees
 * what a possibly compromised host says, and is still asked for quotes.
 */
static void isolate_if_told(struct server *srv, struct agent_record *a)
{
	const struct playbook_rule *r;

	if (!a || a->isolated || !srv->pb)
		return;
	r = playbook_match_untrusted(srv->pb);
	if (!r || r->action != PLAYBOOK_ISOLATE_AGENT)
		return;
	a->isolated = true;
	log_warn("agent %s: isolated by playbook: untrusted (%s), its reports are recorded and flagged but lead to no action until it is trusted again",
		 a->id, agent_trust_reason(a));
}

/* Trusted again (a good quote, a new enrollment, the operator's word). */
static void lift_isolation(struct server *srv, const char *id)
{
	struct agent_record *a = agent_of(srv, id);

	if (!a || !a->isolated)
		return;
	a->isolated = false;
	log_info("agent %s: trusted again; its isolation is lifted", id);
}

int attestation_enrolled(struct server *srv, const char *id,
			 const ProtobufCBinaryData *ek_pub,
			 const ProtobufCBinaryData *ak_pub, uint32_t mask,
			 const uint8_t (*pcrs)[WIRE_PCR_LEN], unsigned int n,
			 time_t cert_not_after)
{
	struct attestation *att = attestation_add(srv, id);
	struct agent_record *a;

	if (!att || blob_copy(&att->ek, ek_pub->data, ek_pub->len) ||
	    blob_copy(&att->ak, ak_pub->data, ak_pub->len))
		return -ENOMEM;
	if (att->pcrs != pcrs)
		memcpy(att->pcrs, pcrs, (size_t)n * WIRE_PCR_LEN);
	att->mask = mask;
	att->trusted = true;
	att->failed = false;
	att->reason[0] = '\0';
	att->enrolled = time(NULL);
	att->last_quote = att->enrolled;
	att->cert_not_after = cert_not_after;
	att->pending = false;
	attestation_save(srv, att);
	/* An agent already known by this id is this attestation's. */
	for (a = srv->agents; a; a = a->next)
		if (!strcmp(a->id, id))
			a->att = att;
	lift_isolation(srv, id);
	return 0;
}

int attestation_release(struct server *srv, const char *id)
{
	struct attestation **pp, *att;
	struct agent_record *a;

	if (!srv->trust)
		return -EOPNOTSUPP;
	for (pp = &srv->trust->list; *pp && strcmp((*pp)->id, id);
	     pp = &(*pp)->next)
		;
	att = *pp;
	if (!att)
		return -ENOENT;
	/* Stored first: a binding the store kept would come back. */
	if (store_attestation_delete(srv->store, id))
		return -EIO;
	*pp = att->next;
	for (a = srv->agents; a; a = a->next)
		if (a->att == att)
			a->att = NULL;
	attestation_free(att);
	log_warn("agent %s: released by the operator: its TPM binding is dropped; the next enrollment of this id binds its TPM anew",
		 id);
	return 0;
}

const uint8_t (*attestation_pcrs(const struct attestation *att))[WIRE_PCR_LEN]
{
	return att ? att->pcrs : NULL;
}

bool attestation_same_tpm(const struct attestation *att,
			  const ProtobufCBinaryData *ek_pub,
			  const ProtobufCBinaryData *ak_pub)
{
	return att->ek.len == ek_pub->len && att->ak.len == ak_pub->len &&
	       !memcmp(att->ek.data, ek_pub->data, ek_pub->len) &&
	       !memcmp(att->ak.data, ak_pub->data, ak_pub->len);
}

uint32_t attestation_mask(const struct attestation *att)
{
	return att->mask;
}

static void untrusted(struct server *srv, struct attestation *att,
		      bool sticky, const char *why)
{
	if (att->trusted || strcmp(att->reason, why))
		log_warn("agent %s: attestation failed: %s; marked untrusted (its reports are flagged%s)",
			 att->id, why, sticky ?
			 "; it must enroll again" : " until its next good quote");
	att->trusted = false;
	att->failed |= sticky;
	snprintf(att->reason, sizeof(att->reason), "%s", why);
	attestation_save(srv, att);
	isolate_if_told(srv, agent_of(srv, att->id));
}

int attest_request(struct server *srv, struct agent_record *a,
		   bool accept_pcrs)
{
	struct attestation *att = a->att;
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__QuoteRequest q = VNFSEC__QUOTE_REQUEST__INIT;
	time_t now = time(NULL);

	if (!att)
		return -ENOENT;
	if (!a->session)
		return -ENOTCONN;
	if (accept_pcrs && pcr_ref_find(srv->trust->refs, a->id))
		return -EPERM;
	if (RAND_bytes(att->nonce, sizeof(att->nonce)) != 1) {
		log_err("attest: no random nonce from OpenSSL");
		return -EIO;
	}
	q.nonce.data = att->nonce;
	q.nonce.len = sizeof(att->nonce);
	q.pcr_mask = att->mask;
	f.version = WIRE_VERSION;
	f.body_case = VNFSEC__FRAME__BODY_QUOTE_REQUEST;
	f.quote_request = &q;
	att->pending = true;
	att->accept_pcrs = accept_pcrs;
	att->deadline = now + srv->cfg->trust.quote_timeout_s;
	att->next_due = srv->cfg->trust.reattest_s ?
			now + srv->cfg->trust.reattest_s : 0;
	return session_send(srv, a->session, &f);
}

/*
 * The operator vouches for the host's new boot state (a firmware
 * update): the quote must still be the enrolled AK's over this nonce, and
 * the PCR values it shows become the reference.
 */
static int accept_pcrs(struct server *srv, struct agent_record *a,
		       const Vnfsec__QuoteResponse *q)
{
	struct attestation *att = a->att;
	uint8_t pcrs[WIRE_PCR_COUNT][WIRE_PCR_LEN];
	unsigned int n = nr_pcrs(att->mask), i;
	struct vnfsec_blob ak = { att->ak.data, att->ak.len };
	struct vnfsec_blob attest = { q->quote_attest.data, q->quote_attest.len };
	struct vnfsec_blob sig = { q->quote_signature.data,
				   q->quote_signature.len };
	const char *why = NULL;

	att->accept_pcrs = false;
	if (q->n_pcr_values != n) {
		untrusted(srv, att, true, "quote to accept lacks its PCR values");
		return 0;
	}
	for (i = 0; i < n; i++)
		memcpy(pcrs[i], q->pcr_values[i].data, WIRE_PCR_LEN);
	if (vnfsec_quote_verify(&ak, &attest, &sig, att->nonce,
				sizeof(att->nonce), att->mask,
				(const uint8_t (*)[VNFSEC_PCR_DIGEST_LEN])pcrs,
				&why)) {
		untrusted(srv, att, true, why ? why : "quote refused");
		return 0;
	}
	memcpy(att->pcrs, pcrs, (size_t)n * WIRE_PCR_LEN);
	att->trusted = true;
	att->failed = false;
	att->reason[0] = '\0';
	att->last_quote = time(NULL);
	log_warn("agent %s: the operator accepted its current PCR values as its new reference boot state",
		 a->id);
	attestation_save(srv, att);
	lift_isolation(srv, a->id);
	return 0;
}

int attest_on_quote(struct server *srv, struct agent_record *a,
		    const Vnfsec__QuoteResponse *q)
{
	struct attestation *att = a->att;
	struct vnfsec_blob ak, attest, sig;
	const char *why = NULL;

	/* Unasked for, it proves nothing: a replay, or a confused peer. */
	if (!att || !att->pending) {
		log_warn("agent %s: quote nobody asked for; ignored", a->id);
		return 0;
	}
	att->pending = false;
	if (att->accept_pcrs)
		return accept_pcrs(srv, a, q);
	ak = (struct vnfsec_blob){ att->ak.data, att->ak.len };
	attest = (struct vnfsec_blob){ q->quote_attest.data,
				       q->quote_attest.len };
	sig = (struct vnfsec_blob){ q->quote_signature.data,
				    q->quote_signature.len };
	if (vnfsec_quote_verify(&ak, &attest, &sig, att->nonce,
				sizeof(att->nonce), att->mask,
				(const uint8_t (*)[VNFSEC_PCR_DIGEST_LEN])att->pcrs,
				&why)) {
		untrusted(srv, att, true, why ? why : "quote refused");
		return 0;
	}
	att->last_quote = time(NULL);
	if (!att->trusted && !att->failed) {
		log_info("agent %s: good quote; trusted again", a->id);
		att->trusted = true;
		att->reason[0] = '\0';
		lift_isolation(srv, a->id);
	}
	attestation_save(srv, att);
	return 0;
}

void attest_on_hello(struct server *srv, struct agent_record *a)
{
	a->att = attestation_find(srv, a->id);
	if (!a->att)
		return;
	/* Untrusted in the store (a restart in between): the same answer. */
	if (!a->att->trusted)
		isolate_if_told(srv, a);
	/* Every new session of an enrolled agent starts with a quote. */
	a->att->pending = false;
	a->att->next_due = time(NULL);
}

void attest_tick(struct server *srv, time_t now)
{
	struct agent_record *a;
	char why[80];

	if (!srv->trust)
		return;
	for (a = srv->agents; a; a = a->next) {
		struct attestation *att = a->att;

		if (!att || !a->session)
			continue;
		if (att->pending && now >= att->deadline) {
			att->pending = false;
			snprintf(why, sizeof(why), "no quote within %u s",
				 srv->cfg->trust.quote_timeout_s);
			untrusted(srv, att, false, why);
		}
		if (!att->pending && att->next_due && now >= att->next_due)
			attest_request(srv, a, false);
	}
}

bool agent_attested(const struct agent_record *a)
{
	return a->att != NULL;
}

bool agent_trusted(const struct agent_record *a)
{
	return a->att && a->att->trusted;
}

const char *agent_trust_reason(const struct agent_record *a)
{
	return a->att ? a->att->reason : "never enrolled";
}

time_t agent_last_quote(const struct agent_record *a)
{
	return a->att ? a->att->last_quote : 0;
}

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (!f)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *c;

	if (!f)
		return NULL;
	c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return c;
}

/* The operator's file outranks what the store recorded. */
static void apply_refs(struct server *srv)
{
	struct attestation *att;

	for (att = srv->trust->list; att; att = att->next) {
		const struct pcr_ref *ref = pcr_ref_find(srv->trust->refs,
							 att->id);

		if (!ref)
			continue;
		att->mask = pcr_ref_mask(ref);
		memcpy(att->pcrs, pcr_ref_values(ref),
		       (size_t)nr_pcrs(att->mask) * WIRE_PCR_LEN);
	}
}

int trust_open(struct server *srv)
{
	const struct trust_config *tc = &srv->cfg->trust;
	struct trust *t;
	int ret;

	if (!tc->ca_key)
		return 0;
	if (!tc->ca_cert || !tc->ek_ca || !tc->tpm) {
		log_err("enrollment needs --enroll-ca-key, --enroll-ca-cert, --ek-ca and --enroll-tpm together");
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	srv->trust = t;
	/* main.c checked its mode: only this server may issue identities. */
	t->ca_key = load_key(tc->ca_key);
	t->ca_cert = load_cert(tc->ca_cert);
	if (!t->ca_key || !t->ca_cert ||
	    X509_check_private_key(t->ca_cert, t->ca_key) != 1) {
		log_err("enrollment CA: %s and %s must be a PEM private key and its certificate",
			tc->ca_key, tc->ca_cert);
		return -EINVAL;
	}
	ret = vnfsec_tpm_open(tc->tpm, &t->tpm);
	if (ret)
		return ret;
	/*
	 * A client without a certificate may now finish the handshake; the
	 * session then accepts only enrollment frames (session.c). One that
	 * shows a certificate is still verified against --ca.
	 */
	SSL_CTX_set_verify(srv->tls, SSL_VERIFY_PEER, NULL);
	if (tc->expected_pcrs) {
		ret = pcr_refs_load(tc->expected_pcrs, &t->refs);
		if (ret)
			return ret;
	}
	ret = store_attestations_load(srv->store, attestation_load, srv);
	if (ret)
		return ret;
	apply_refs(srv);
	log_info("enrollment on: EK certificates checked against %s, client certificates for %u h, PCR mask 0x%x, reference PCR values %s, re-attestation %s",
		 tc->ek_ca, tc->cert_hours, tc->pcr_mask,
		 tc->expected_pcrs ? tc->expected_pcrs :
		 "recorded at first enrollment",
		 tc->reattest_s ? "periodic" : "on connect and on demand");
	return 0;
}

void trust_close(struct server *srv)
{
	struct trust *t = srv->trust;

	if (!t)
		return;
	while (t->list) {
		struct attestation *next = t->list->next;

		attestation_free(t->list);
		t->list = next;
	}
	pcr_refs_free(t->refs);
	vnfsec_tpm_close(t->tpm);
	EVP_PKEY_free(t->ca_key);
	X509_free(t->ca_cert);
	free(t);
	srv->trust = NULL;
}
