// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who may be a peer, and as what (peers.h, docs/security.md).
 *
 * A frame's fields are the peer's word; its certificate is the CA's. So
 * the role of a session (agent or child server) is read from the vnfsec
 * extended key usages of its certificate, and decides which frames it
 * may send: an agent that says it is a server, or sends the incident
 * summaries only a child server sends, is cut. An identity holds one
 * session at a time, so a copied certificate cannot quietly take over a
 * live agent's orders. Revocations (by identity, from the operator, kept
 * in the store; by serial, from the CA's CRL in --crl) are checked when
 * a session starts, and cut live sessions when they arrive.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "user/common/log.h"
#include "user/common/roles.h"
#include "user/server/peers.h"
#include "user/server/server.h"
#include "user/server/store.h"

#define PEERS_CA_MAX	16	/* CA certificates a CRL may come from */

struct revoked_id {
	struct revoked_id *next;
	char id[WIRE_AGENT_ID_MAX + 1];
	time_t when;
};

struct peers {
	struct revoked_id *revoked;
	X509 *cas[PEERS_CA_MAX];	/* --ca: who may sign the CRL */
	unsigned int nr_cas;
	X509_CRL *crl;			/* NULL: no --crl */
	struct stat crl_st;		/* of the file last read */
	/* Refused at the start of a session or on a frame, and cut. */
	uint64_t refused_role, refused_duplicate, refused_revoked;
	uint64_t cut_revoked, cut_silent;
};

static const char *peer_name(const struct session *s)
{
	return s->conn.peer_cn[0] ? s->conn.peer_cn : "(no certificate)";
}

static struct revoked_id *revoked_find(const struct peers *p, const char *id)
{
	struct revoked_id *r;

	for (r = p->revoked; r; r = r->next)
		if (!strcmp(r->id, id))
			return r;
	return NULL;
}

static int revoked_add(void *ctx, const char *id, time_t when,
		       const char *reason)
{
	struct peers *p = ctx;
	struct revoked_id *r;

	(void)reason;
	if (strlen(id) > WIRE_AGENT_ID_MAX || revoked_find(p, id))
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->when = when;
	r->next = p->revoked;
	p->revoked = r;
	return 0;
}

bool peers_id_revoked(const struct server *srv, const char *id)
{
	return srv->peers && revoked_find(srv->peers, id);
}

static int load_cas(struct peers *p, const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *c;

	if (!f) {
		log_err("--crl: cannot read the CA file %s: %s", path,
			strerror(errno));
		return -errno;
	}
	while (p->nr_cas < PEERS_CA_MAX &&
	       (c = PEM_read_X509(f, NULL, NULL, NULL)))
		p->cas[p->nr_cas++] = c;
	ERR_clear_error();
	fclose(f);
	return 0;
}

/* The CRL in @path, PEM or DER, signed by one of our CAs; else NULL. */
static X509_CRL *crl_read(struct peers *p, const char *path)
{
	const X509_NAME *issuer;
	X509_CRL *crl;
	unsigned int i;
	FILE *f = fopen(path, "r");

	if (!f) {
		log_err("--crl %s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
	if (!crl) {
		rewind(f);
		crl = d2i_X509_CRL_fp(f, NULL);
	}
	fclose(f);
	ERR_clear_error();
	if (!crl) {
		log_err("--crl %s: not a PEM or DER certificate revocation list; make it with 'openssl ca -gencrl'",
			path);
		return NULL;
	}
	issuer = X509_CRL_get_issuer(crl);
	for (i = 0; i < p->nr_cas; i++)
		if (!X509_NAME_cmp(issuer, X509_get_subject_name(p->cas[i])) &&
		    X509_CRL_verify(crl, X509_get0_pubkey(p->cas[i])) == 1)
			return crl;
	ERR_clear_error();
	log_err("--crl %s: not signed by a CA of --ca; refused (a CRL anyone could write would revoke anyone)",
		path);
	X509_CRL_free(crl);
	return NULL;
}

/* Does the CRL list @cert? Only certificates of its issuer can be. */
static bool crl_lists(const struct peers *p, X509 *cert)
{
	X509_REVOKED *r = NULL;

	return p->crl && cert &&
	       !X509_NAME_cmp(X509_CRL_get_issuer(p->crl),
			      X509_get_issuer_name(cert)) &&
	       X509_CRL_get0_by_cert(p->crl, &r, cert) == 1;
}

static void serial_str(X509 *cert, char *buf, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(buf, len, "%s", hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

/* Cut at the next tick (main.c): the caller may be inside a list walk. */
static void cut(struct server *srv, struct session *s, const char *why)
{
	if (s->cut)
		return;
	s->cut = why;
	srv->peers->cut_revoked++;
}

static int crl_load(struct server *srv, bool at_start)
{
	struct peers *p = srv->peers;
	const char *path = srv->cfg->crl_path;
	struct session *s;
	struct stat st;
	X509_CRL *crl;
	char serial[80];

	if (stat(path, &st)) {
		log_err("--crl %s: %s%s", path, strerror(errno),
			at_start ? "" : "; keeping the revocations read before");
		p->crl_st.st_mtim.tv_sec = -1;
		return -errno;
	}
	crl = crl_read(p, path);
	if (!crl) {
		if (!at_start)
			log_warn("--crl %s: keeping the revocations read before",
				 path);
		p->crl_st = st;
		return -EINVAL;
	}
	X509_CRL_free(p->crl);
	p->crl = crl;
	p->crl_st = st;
	/* An empty CRL has no list at all (OpenSSL counts it -1). */
	log_info("--crl %s: %d revoked certificates", path,
		 X509_CRL_get_REVOKED(crl) ?
		 sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) : 0);
	for (s = srv->sessions; s; s = s->next) {
		X509 *cert = s->conn.ssl && s->conn.established ?
			     SSL_get0_peer_certificate(s->conn.ssl) : NULL;

		if (!crl_lists(p, cert) || s->cut)
			continue;
		serial_str(cert, serial, sizeof(serial));
		log_warn("%s at %s: its certificate (serial %s) is now on --crl %s; session cut",
			 peer_name(s), s->conn.peer, serial, path);
		cut(srv, s, "certificate revoked (--crl)");
	}
	return 0;
}

void peers_crl_reload(struct server *srv)
{
	struct peers *p = srv->peers;

	if (!p || !srv->cfg->crl_path)
		return;
	/* --crl first set by a SIGHUP: the CAs that must have signed it. */
	if (!p->nr_cas && load_cas(p, srv->cfg->tls.ca))
		return;
	crl_load(srv, false);
}

void peers_tick(struct server *srv)
{
	const char *path = srv->cfg->crl_path;
	const struct stat *old;
	struct stat st;

	if (!srv->peers || !path || stat(path, &st))
		return;
	old = &srv->peers->crl_st;
	if (st.st_ino != old->st_ino || st.st_size != old->st_size ||
	    st.st_mtim.tv_sec != old->st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != old->st_mtim.tv_nsec)
		crl_load(srv, false);
}

int peers_open(struct server *srv)
{
	struct peers *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	srv->peers = p;
	ret = store_revocations_load(srv->store, revoked_add, p);
	if (ret)
		return ret;
	if (!srv->cfg->crl_path)
		return 0;
	ret = load_cas(p, srv->cfg->tls.ca);
	if (!ret)
		ret = crl_load(srv, true);
	return ret;
}

void peers_close(struct server *srv)
{
	struct peers *p = srv->peers;
	unsigned int i;

	if (!p)
		return;
	while (p->revoked) {
		struct revoked_id *next = p->revoked->next;

		free(p->revoked);
		p->revoked = next;
	}
	for (i = 0; i < p->nr_cas; i++)
		X509_free(p->cas[i]);
	X509_CRL_free(p->crl);
	free(p);
	srv->peers = NULL;
}

int peers_on_handshake(struct server *srv, struct session *s)
{
	struct peers *p = srv->peers;
	X509 *cert = SSL_get0_peer_certificate(s->conn.ssl);
	char roles[64], serial[80];

	/* No certificate: it may only enroll (enroll.c). */
	if (!cert)
		return 0;
	s->roles = cert_roles(cert);
	s->refused = true;
	if (revoked_find(p, s->conn.peer_cn)) {
		p->refused_revoked++;
		log_warn("%s at %s: identity revoked by the operator; refused (vnfsecctl --server revoke %s --lift undoes it)",
			 peer_name(s), s->conn.peer, s->conn.peer_cn);
		return -EACCES;
	}
	if (crl_lists(p, cert)) {
		p->refused_revoked++;
		serial_str(cert, serial, sizeof(serial));
		log_warn("%s at %s: certificate serial %s is revoked by --crl %s; refused",
			 peer_name(s), s->conn.peer, serial,
			 srv->cfg->crl_path);
		return -EACCES;
	}
	if (!(s->roles & (ROLE_AGENT | ROLE_CHILD))) {
		p->refused_role++;
		log_warn("%s at %s: certificate roles '%s' are neither agent nor child-server; refused (issue it with tools/mkca or enrollment)",
			 peer_name(s), s->conn.peer,
			 role_names(s->roles, roles, sizeof(roles)));
		return -EACCES;
	}
	s->refused = false;
	return 0;
}

/* The frames each role sends; the rest is a role it does not hold. */
static bool role_sends(bool is_server, int body_case)
{
	switch (body_case) {
	case VNFSEC__FRAME__BODY_HELLO:
	case VNFSEC__FRAME__BODY_ACTION_RESULT:
	case VNFSEC__FRAME__BODY_HEARTBEAT:
		return true;
	case VNFSEC__FRAME__BODY_INCIDENT_SUMMARY:
		return is_server;
	case VNFSEC__FRAME__BODY_ASSESSMENT:
	case VNFSEC__FRAME__BODY_QUOTE_RESPONSE:
	case VNFSEC__FRAME__BODY_BUNDLE_RESULT:
	case VNFSEC__FRAME__BODY_DETECTOR_RESULT:
	case VNFSEC__FRAME__BODY_ENROLL_REQUEST:
	case VNFSEC__FRAME__BODY_ENROLL_PROOF:
		return !is_server;
	}
	return false;
}

int peers_frame_allowed(struct server *srv, struct session *s,
			const Vnfsec__Frame *f)
{
	bool is_server;
	char roles[64];
	const char *as;

	/* Without a certificate only enrollment (enroll.c decides). */
	if (!s->conn.peer_cn[0])
		return 0;
	if (s->agent)
		is_server = s->agent->is_server;
	else if (f->body_case == VNFSEC__FRAME__BODY_HELLO)
		is_server = f->hello->is_server;
	else
		is_server = !(s->roles & ROLE_AGENT);
	/* A hello claims a role; the certificate must hold it. */
	if (!s->agent && f->body_case == VNFSEC__FRAME__BODY_HELLO &&
	    !(s->roles & (is_server ? ROLE_CHILD : ROLE_AGENT)))
		as = is_server ? "a hello as a child server" :
				 "a hello as an agent";
	else if (!role_sends(is_server, f->body_case))
		as = f->body_case == VNFSEC__FRAME__BODY_INCIDENT_SUMMARY ?
		     "an incident summary" : "a frame of another role";
	else
		return 0;
	srv->peers->refused_role++;
	s->refused = true;
	log_warn("%s at %s: sent %s (message %d) but its certificate's roles are '%s'; refused, session closed",
		 peer_name(s), s->conn.peer, as, f->body_case,
		 role_names(s->roles, roles, sizeof(roles)));
	return -EACCES;
}

int peers_one_session(struct server *srv, struct session *s,
		      struct agent_record *a)
{
	struct session *old = a->session;
	long quiet;

	if (!old || old == s || old->cut)
		return 0;
	quiet = (long)(time(NULL) - a->last_seen);
	if (quiet < (long)srv->cfg->heartbeat_timeout_s) {
		srv->peers->refused_duplicate++;
		s->refused = true;
		log_warn("%s: second connection from %s refused: its session from %s is alive (heard %ld s ago); two hosts share this identity or an old process still runs",
			 a->id, s->conn.peer, old->conn.peer, quiet);
		return -EEXIST;
	}
	srv->peers->cut_silent++;
	old->cut = "replaced: it missed its heartbeats";
	log_warn("%s: session from %s missed its heartbeats (silent %ld s, --heartbeat-timeout %u); cut, the new one from %s takes over",
		 a->id, old->conn.peer, quiet, srv->cfg->heartbeat_timeout_s,
		 s->conn.peer);
	return 0;
}

static bool id_valid(const char *id)
{
	size_t n = strlen(id), i;

	if (!n || n > WIRE_AGENT_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("._-", id[i]))
			return false;
	return true;
}

int peers_revoke(struct server *srv, const char *id, bool lift,
		 const char **why)
{
	struct peers *p = srv->peers;
	struct revoked_id **pp, *r;
	struct session *s;
	time_t now = time(NULL);
	int ret;

	if (!id_valid(id)) {
		*why = "an identity is 1 to 63 of A-Z a-z 0-9 . _ -";
		return -EINVAL;
	}
	if (lift) {
		for (pp = &p->revoked; *pp && strcmp((*pp)->id, id);
		     pp = &(*pp)->next)
			;
		if (!*pp) {
			*why = "identity not revoked";
			return -ENOENT;
		}
		if (store_revocation_lift(srv->store, id)) {
			*why = "cannot write the store; see the server's log";
			return -EIO;
		}
		r = *pp;
		*pp = r->next;
		free(r);
		log_warn("identity %s: revocation lifted by the operator", id);
		return 0;
	}
	if (revoked_find(p, id)) {
		*why = "identity already revoked";
		return -EALREADY;
	}
	/* Stored first: a revocation the store lost would come undone. */
	if (store_revocation(srv->store, id, now, "operator")) {
		*why = "cannot write the store; see the server's log";
		return -EIO;
	}
	ret = revoked_add(p, id, now, "operator");
	if (ret) {
		*why = "out of memory";
		return ret;
	}
	log_warn("identity %s revoked by the operator: its sessions are cut, its certificates and enrollments refused",
		 id);
	for (s = srv->sessions; s; s = s->next)
		if (!strcmp(s->conn.peer_cn, id))
			cut(srv, s, "identity revoked by the operator");
	return 0;
}

void peers_metrics(const struct server *srv, FILE *f)
{
	const struct peers *p = srv->peers;
	const struct revoked_id *r;
	unsigned int n = 0;

	if (!p)
		return;
	for (r = p->revoked; r; r = r->next)
		n++;
	fprintf(f, "# HELP vnfsec_sessions_refused_total Sessions refused or closed for who the peer is, by reason.\n"
		"# TYPE vnfsec_sessions_refused_total counter\n");
	fprintf(f, "vnfsec_sessions_refused_total{reason=\"role\"} %llu\n",
		(unsigned long long)p->refused_role);
	fprintf(f, "vnfsec_sessions_refused_total{reason=\"duplicate\"} %llu\n",
		(unsigned long long)p->refused_duplicate);
	fprintf(f, "vnfsec_sessions_refused_total{reason=\"revoked\"} %llu\n",
		(unsigned long long)p->refused_revoked);
	fprintf(f, "# HELP vnfsec_sessions_cut_total Live sessions cut, by reason.\n"
		"# TYPE vnfsec_sessions_cut_total counter\n");
	fprintf(f, "vnfsec_sessions_cut_total{reason=\"revoked\"} %llu\n",
		(unsigned long long)p->cut_revoked);
	fprintf(f, "vnfsec_sessions_cut_total{reason=\"silent\"} %llu\n",
		(unsigned long long)p->cut_silent);
	fprintf(f, "# HELP vnfsec_identities_revoked Identities the operator revoked.\n"
		"# TYPE vnfsec_identities_revoked gauge\n");
	fprintf(f, "vnfsec_identities_revoked %u\n", n);
}
