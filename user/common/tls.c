// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/x509v3.h>

#include "user/common/log.h"
#include "user/common/roles.h"
#include "user/common/tls.h"

/*
 * The first queued OpenSSL error, as text; the whole queue is consumed.
 * OpenSSL keeps one error queue per thread, not per connection, and
 * SSL_get_error() looks at it first: an error left there would be taken
 * for the fate of the next connection this thread touches.
 */
static const char *ssl_err(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	if (!e)
		return "no OpenSSL error queued";
	ERR_error_string_n(e, buf, sizeof(buf));
	return buf;
}

/*
 * A key that lives in the TPM: a persistent handle ("handle:0x81000002")
 * or a TPM-wrapped blob file ("-----BEGIN TSS2 PRIVATE KEY-----"), which
 * only the TPM that made it can use. The tpm2 provider (tpm2-openssl,
 * TCTI from TPM2OPENSSL_TCTI) loads it; every operation with the private
 * key then runs inside the TPM.
 */
static bool key_in_tpm(const char *key)
{
	static const char tss2[] = "-----BEGIN TSS2 PRIVATE KEY-----";
	char line[sizeof(tss2)] = "";
	FILE *f;

	if (!strncmp(key, "handle:", 7))
		return true;
	f = fopen(key, "r");
	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return !strncmp(line, tss2, sizeof(tss2) - 1);
}

/* Keep the default provider for everything the TPM key does not do. */
static bool tls_tpm_provider(const char *uri)
{
	static OSSL_PROVIDER *tpm2;

	if (!tpm2)
		tpm2 = OSSL_PROVIDER_try_load(NULL, "tpm2", 1);
	if (!tpm2)
		log_err("tls: key %s is in the TPM but the tpm2 OpenSSL provider does not load; install tpm2-openssl",
			uri);
	return tpm2;
}

static int tls_use_tpm_key(SSL_CTX *ctx, const char *uri)
{
	OSSL_STORE_CTX *store;
	EVP_PKEY *pkey = NULL;
	int ret = 0;

	store = OSSL_STORE_open(uri, NULL, NULL, NULL, NULL);
	if (!store)
		return 0;
	while (!pkey && !OSSL_STORE_eof(store)) {
		OSSL_STORE_INFO *info = OSSL_STORE_load(store);

		if (!info)
			break;
		if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
			pkey = OSSL_STORE_INFO_get1_PKEY(info);
		OSSL_STORE_INFO_free(info);
	}
	OSSL_STORE_close(store);
	if (pkey)
		ret = SSL_CTX_use_PrivateKey(ctx, pkey);
	EVP_PKEY_free(pkey);
	return ret;
}

/* 1 when @key (a PEM file, or a TPM key: see key_in_tpm()) is in use. */
static int tls_use_key(SSL_CTX *ctx, const char *key, bool tpm_key)
{
	if (tpm_key)
		return tls_use_tpm_key(ctx, key);
	return SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM);
}

SSL_CTX *tls_ctx_new(bool is_server, const struct tls_files *files)
{
	bool tpm_key = key_in_tpm(files->key);
	SSL_CTX *ctx;

	/* Whoever reads the key is whoever this daemon is to its peers. */
	if (key_file_private(files->key, "TLS key"))
		return NULL;
	if (tpm_key && !tls_tpm_provider(files->key))
		return NULL;
	/*
	 * With a TPM key this context prefers the tpm2 provider: OpenSSL 3.0
	 * would otherwise sign with the default provider's ECDSA, which
	 * holds only the public half ("missing private key").
	 */
	ctx = SSL_CTX_new_ex(NULL, tpm_key ? "?provider=tpm2" : NULL,
			     is_server ? TLS_server_method() :
					 TLS_client_method());
	if (!ctx) {
		log_err("tls: cannot create context: %s", ssl_err());
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION))
		goto fail;
	if (SSL_CTX_load_verify_locations(ctx, files->ca, NULL) != 1) {
		log_err("tls: cannot read CA file %s: %s; check --ca",
			files->ca, ssl_err());
		goto out;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, files->cert) != 1) {
		log_err("tls: cannot read certificate %s: %s; check --cert",
			files->cert, ssl_err());
		goto out;
	}
	if (tls_use_key(ctx, files->key, tpm_key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_err("tls: key %s unusable or not matching %s: %s",
			files->key, files->cert, ssl_err());
		goto out;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
			   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* Idle connections give their TLS record buffers back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			 SSL_MODE_RELEASE_BUFFERS);
	return ctx;
fail:
	log_err("tls: cannot configure context: %s", ssl_err());
out:
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_cert_cn(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	X509 *cert;
	int n;

	if (!f) {
		log_err("cannot open certificate %s: %s", path, strerror(errno));
		return -errno;
	}
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!cert) {
		log_err("%s is not a PEM certificate: %s", path, ssl_err());
		return -EINVAL;
	}
	n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
				      NID_commonName, buf, len);
	X509_free(cert);
	if (n <= 0) {
		log_err("certificate %s has no subject CN to name this agent",
			path);
		return -EINVAL;
	}
	return 0;
}

static void peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
			port = ntohs(s->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
			port = ntohs(s->sin6_port);
		}
	}
	snprintf(buf, len, "%s:%u", host, port);
}

int conn_init(struct conn *c, SSL_CTX *ctx, int fd, const char *server_name)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	peer_name(fd, c->peer, sizeof(c->peer));
	c->ssl = SSL_new(ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1)
		goto fail;
	if (server_name) {
		if (SSL_set1_host(c->ssl, server_name) != 1 ||
		    SSL_set_tlsext_host_name(c->ssl, server_name) != 1)
			goto fail;
		SSL_set_connect_state(c->ssl);
	} else {
		SSL_set_accept_state(c->ssl);
	}
	return 0;
fail:
	log_err("tls: cannot set up connection to %s: %s", c->peer, ssl_err());
	SSL_free(c->ssl);
	c->ssl = NULL;
	return -ENOMEM;
}

void conn_free(struct conn *c)
{
	if (c->ssl) {
		/*
		 * close_notify only on a connection in good standing:
		 * after SSL_ERROR_SYSCALL or SSL_ERROR_SSL OpenSSL forbids
		 * it, and on a failed SSL it queues "shutdown while in
		 * init" for whichever connection comes next.
		 */
		if (c->established && !c->failed) {
			ERR_clear_error();
			SSL_shutdown(c->ssl);
		}
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c->wbuf);
	free(c->rbuf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/*
 * Map the result of an SSL_* call on @c to 0, -EAGAIN or an error. The
 * call started with an empty error queue (ERR_clear_error() before each),
 * so what SSL_get_error() finds there is this connection's own; a fatal
 * error is consumed here and marks the connection failed.
 */
static int ssl_result(struct conn *c, int ret, const char *what)
{
	int err = SSL_get_error(c->ssl, ret);

	switch (err) {
	case SSL_ERROR_NONE:
		return 0;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return -ECONNRESET;
	case SSL_ERROR_SYSCALL:
		c->failed = true;
		/* No OpenSSL error queued: the peer vanished mid-stream. */
		if (!ERR_peek_error())
			return -ECONNRESET;
		/* fall through */
	default:
		c->failed = true;
		log_warn("tls: %s with %s failed: %s", what, c->peer, ssl_err());
		return -EIO;
	}
}

static void read_peer_cn(struct conn *c)
{
	X509 *cert = SSL_get0_peer_certificate(c->ssl);

	c->peer_cn[0] = '\0';
	if (cert)
		X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
					  NID_commonName, c->peer_cn,
					  sizeof(c->peer_cn));
}

int conn_handshake(struct conn *c)
{
	int ret;

	if (c->established)
		return 0;
	if (c->failed)
		return -EIO;
	ERR_clear_error();
	ret = ssl_result(c, SSL_do_handshake(c->ssl), "handshake");
	if (ret)
		return ret;
	c->established = true;
	read_peer_cn(c);
	return 0;
}

int conn_queue(struct conn *c, const Vnfsec__Frame *f)
{
	uint8_t *frame;
	size_t len;
	int ret;

	ret = wire_encode(f, &frame, &len);
	if (ret)
		return ret;
	if (c->wlen + len > CONN_WBUF_MAX) {
		free(frame);
		return -ENOBUFS;
	}
	if (c->wlen + len > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		uint8_t *nb;

		while (cap < c->wlen + len)
			cap *= 2;
		nb = realloc(c->wbuf, cap);
		if (!nb) {
			free(frame);
			return -ENOMEM;
		}
		c->wbuf = nb;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, frame, len);
	c->wlen += len;
	free(frame);
	return 0;
}

int conn_send(struct conn *c, const Vnfsec__Frame *f)
{
	int ret = conn_queue(c, f);

	if (ret)
		return ret;
	ret = conn_flush(c);
	return ret == -EAGAIN ? 0 : ret;
}

int conn_flush(struct conn *c)
{
	if (c->failed)
		return -EIO;
	while (c->wlen) {
		int n, ret;

		ERR_clear_error();
		n = SSL_write(c->ssl, c->wbuf, (int)c->wlen);
		if (n <= 0) {
			ret = ssl_result(c, n, "write");
			return ret ? ret : -EIO;
		}
		memmove(c->wbuf, c->wbuf + n, c->wlen - n);
		c->wlen -= n;
	}
	return 0;
}

/* Room for @need bytes in the receive buffer. */
static int rbuf_reserve(struct conn *c, size_t need)
{
	uint8_t *nb;
	size_t cap;

	if (need <= c->rcap)
		return 0;
	cap = need < 256 ? 256 : need;
	nb = realloc(c->rbuf, cap);
	if (!nb)
		return -ENOMEM;
	c->rbuf = nb;
	c->rcap = cap;
	return 0;
}

int conn_recv(struct conn *c, Vnfsec__Frame **out, const char **why)
{
	*out = NULL;
	*why = NULL;
	for (;;) {
		size_t need = WIRE_HDR_LEN;
		int n, ret;

		if (c->rlen >= WIRE_HDR_LEN) {
			uint32_t len = wire_hdr_len(c->rbuf);

			if (len > WIRE_FRAME_MAX) {
				*why = "frame longer than the maximum";
				return -EMSGSIZE;
			}
			need += len;
			if (c->rlen == need) {
				ret = wire_decode(c->rbuf + WIRE_HDR_LEN, len,
						  out, why);
				c->rlen = 0;
				return ret;
			}
		}
		if (rbuf_reserve(c, need))
			return -ENOMEM;
		if (c->failed)
			return -EIO;
		/* Read no further than this frame: the next stays in TLS. */
		ERR_clear_error();
		n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(need - c->rlen));
		if (n <= 0) {
			ret = ssl_result(c, n, "read");
			if (ret == -ECONNRESET && c->rlen)
				*why = "connection closed inside a frame";
			return ret ? ret : -EIO;
		}
		c->rlen += n;
	}
}
