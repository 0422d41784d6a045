/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Mutually authenticated TLS 1.3 between agents and servers, and a
 * non-blocking connection that carries wire frames over it.
 */
#ifndef VNFSEC_TLS_H
#define VNFSEC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

#include "user/common/wire.h"

struct tls_files {
	const char *ca;		/* CA that signs every peer's certificate */
	const char *cert;	/* our certificate chain */
	const char *key;	/* our private key: a PEM file, a TPM-wrapped
				 * TSS2 blob or "handle:0x81..." (tpm2 provider) */
};

/*
 * TLS 1.3 only; the peer must present a certificate signed by the CA.
 * Returns NULL after logging what to fix.
 */
SSL_CTX *tls_ctx_new(bool is_server, const struct tls_files *files);

/* The subject CN of the certificate in @path: an agent's identity. */
int tls_cert_cn(const char *path, char *buf, size_t len);

#define CONN_WBUF_MAX (1U << 20)	/* a peer that reads no more is cut */

struct conn {
	int fd;
	SSL *ssl;
	bool established;
	bool failed;		/* fatal TLS error: no more I/O, no shutdown */
	char peer[64];		/* address, for log lines */
	char peer_cn[WIRE_AGENT_ID_MAX + 1];
	/* Grown to the largest frame seen: most frames are ~100 bytes and
	 * a server holds thousands of connections. */
	uint8_t *rbuf;
	size_t rlen;
	size_t rcap;
	uint8_t *wbuf;
	size_t wlen;
	size_t wcap;
};

/*
 * Take over connected non-blocking socket @fd. A client passes the name
 * the server certificate must carry in @server_name.
 */
int conn_init(struct conn *c, SSL_CTX *ctx, int fd, const char *server_name);
void conn_free(struct conn *c);

/* 0 when the handshake is complete, -EAGAIN to be called again, or error. */
int conn_handshake(struct conn *c);

/* Queue @f and try to send it. 0 or -ENOBUFS/-EMSGSIZE/-EIO. */
int conn_send(struct conn *c, const Vnfsec__Frame *f);

/*
 * Queue @f only; conn_flush() sends it. Several frames then leave in one
 * TLS record and one system call. 0 or -ENOBUFS/-EMSGSIZE/-ENOMEM.
 */
int conn_queue(struct conn *c, const Vnfsec__Frame *f);

/* Send what is queued: 0 when empty, -EAGAIN when more remains, or error. */
int conn_flush(struct conn *c);

static inline bool conn_wants_write(const struct conn *c)
{
	return c->wlen > 0;
}

/*
 * Next frame: 0 and *out set, -EAGAIN when no whole frame is available yet,
 * -ECONNRESET on orderly close, -EIO on a transport error, or the errors of
 * wire_decode() with *why set. Call until it returns non-zero: TLS may
 * buffer several frames behind one readiness event.
 */
int conn_recv(struct conn *c, Vnfsec__Frame **out, const char **why);

#endif /* VNFSEC_TLS_H */
