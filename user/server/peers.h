/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who may be a peer of this server, and as what (docs/security.md): the
 * role of a session comes from its certificate (roles.h) and bounds the
 * frames it may send; one identity holds one session; identities the
 * operator revoked and certificates on the --crl are refused, and their
 * live sessions cut. Every refusal is one log line and a counter.
 */
#ifndef VNFSEC_SERVER_PEERS_H
#define VNFSEC_SERVER_PEERS_H

#include <stdbool.h>
#include <stdio.h>

#include "user/common/wire.h"

struct server;
struct session;
struct agent_record;

/* After the store is open: stored revocations, then --crl. */
int peers_open(struct server *srv);
void peers_close(struct server *srv);

/*
 * Once a session's TLS handshake is done: 0, or -EACCES when its
 * certificate is revoked or holds no session role (logged, counted).
 */
int peers_on_handshake(struct server *srv, struct session *s);
/* May @s send a frame of @body_case, and a hello as what it says? */
int peers_frame_allowed(struct server *srv, struct session *s,
			const Vnfsec__Frame *f);
/*
 * @s says hello as @a: -EEXIST while another session of @a is alive;
 * one that missed its heartbeats is cut and @s takes over.
 */
int peers_one_session(struct server *srv, struct session *s,
		      struct agent_record *a);

bool peers_id_revoked(const struct server *srv, const char *id);
/* The operator revokes @id (or lifts that with @lift); @why on error. */
int peers_revoke(struct server *srv, const char *id, bool lift,
		 const char **why);

/* SIGHUP: read --crl again; the tick does it when the file changes. */
void peers_crl_reload(struct server *srv);
void peers_tick(struct server *srv);

/* Prometheus lines of the counters above (metrics.c). */
void peers_metrics(const struct server *srv, FILE *f);

#endif /* VNFSEC_SERVER_PEERS_H */
