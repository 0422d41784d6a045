// SPDX-License-Identifier: GPL-2.0-only
/*
 * action_replay: what an attacker who recorded one genuine signed action
 * does with it. A stand-in server (the real wire protocol over mutually
 * authenticated TLS 1.3) signs ONE block action at start and sends those
 * same bytes to every agent that connects, again and again. An agent
 * must carry it out once, and refuse it as a replay afterwards, also
 * after a restart (selftests/tpm/sealed_state). It prints, one line each:
 * "listening", "connected AGENT", "result SEQ STATUS", "disconnected".
 *
 *   action_replay --listen ADDR:PORT --ca F --cert F --key F
 *                 --signing-key F --target AGENT --seq N --block ADDR
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "user/common/log.h"
#include "user/common/netaddr.h"
#include "user/common/signing.h"
#include "user/common/tls.h"
#include "user/common/wire.h"

struct replay {
	struct conn conn;
	uint8_t *envelope;		/* signed once, sent to everyone */
	size_t len;
};

static int seal_block(struct replay *r, const char *key, const char *target,
		      uint64_t seq, const char *addr)
{
	Vnfsec__Action a = VNFSEC__ACTION__INIT;
	uint8_t payload[256], sa[4];
	EVP_PKEY *k;
	size_t len;
	int ret;

	if (inet_pton(AF_INET, addr, sa) != 1)
		return -EINVAL;
	a.type = VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE;
	a.src_addr.data = sa;
	a.src_addr.len = sizeof(sa);
	a.prefix_len = 32;
	a.ttl_s = 600;
	a.seq = seq;
	len = vnfsec__action__get_packed_size(&a);
	if (len > sizeof(payload))
		return -EMSGSIZE;
	vnfsec__action__pack(&a, payload);
	k = signing_key_load(key, true);
	if (!k)
		return -EINVAL;
	ret = signing_seal(k, &(struct signed_instruction){
		.issuer = "vnfsec-server", .target = target, .sequence = seq,
		.not_after = time(NULL) + 3600,
		.payload = payload, .payload_len = len }, &r->envelope, &r->len);
	EVP_PKEY_free(k);
	return ret;
}

static int on_frame(struct replay *r, const Vnfsec__Frame *f)
{
	Vnfsec__Frame out = VNFSEC__FRAME__INIT;
	Vnfsec__SignedAction sa = VNFSEC__SIGNED_ACTION__INIT;
	Vnfsec__Ack ack = VNFSEC__ACK__INIT;

	out.version = WIRE_VERSION;
	switch (f->body_case) {
	case VNFSEC__FRAME__BODY_HELLO:
		printf("connected %s\n", f->hello->agent_id);
		sa.envelope.data = r->envelope;
		sa.envelope.len = r->len;
		out.body_case = VNFSEC__FRAME__BODY_SIGNED_ACTION;
		out.signed_action = &sa;
		return conn_send(&r->conn, &out);
	case VNFSEC__FRAME__BODY_ASSESSMENT:
		ack.assessment_id = f->assessment->id;
		out.body_case = VNFSEC__FRAME__BODY_ACK;
		out.ack = &ack;
		return conn_send(&r->conn, &out);
	case VNFSEC__FRAME__BODY_ACTION_RESULT:
		printf("result %llu %d\n",
		       (unsigned long long)f->action_result->seq,
		       f->action_result->status);
		return 0;
	default:
		return 0;
	}
}

/* Serve one agent until it goes. */
static void serve(struct replay *r, int fd, SSL_CTX *ctx)
{
	Vnfsec__Frame *f;
	const char *why;
	int ret;

	if (conn_init(&r->conn, ctx, fd, NULL)) {
		close(fd);
		return;
	}
	for (;;) {
		struct pollfd pfd = {
			.fd = r->conn.fd, .events = POLLIN |
			(conn_wants_write(&r->conn) ? POLLOUT : 0),
		};

		fflush(stdout);
		if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
			break;
		if (!r->conn.established) {
			ret = conn_handshake(&r->conn);
			if (ret == -EAGAIN)
				continue;
			if (ret)
				break;
		}
		while ((ret = conn_recv(&r->conn, &f, &why)) == 0) {
			ret = on_frame(r, f);
			wire_free(f);
			if (ret)
				goto out;
		}
		if (ret != -EAGAIN)
			break;
		ret = conn_flush(&r->conn);
		if (ret && ret != -EAGAIN)
			break;
	}
out:
	printf("disconnected\n");
	fflush(stdout);
	conn_free(&r->conn);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "ca", required_argument, NULL, 'C' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "signing-key", required_argument, NULL, 's' },
		{ "target", required_argument, NULL, 't' },
		{ "seq", required_argument, NULL, 'n' },
		{ "block", required_argument, NULL, 'b' },
		{}
	};
	const char *listen_at = NULL, *key = NULL, *target = NULL;
	const char *block = NULL;
	struct tls_files files = {};
	struct replay r = { .conn.fd = -1 };
	unsigned long long seq = 0;
	int opt, lfd;
	SSL_CTX *ctx;

	log_init("action_replay", LOG_WARNING);
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': listen_at = optarg; break;
		case 'C': files.ca = optarg; break;
		case 'c': files.cert = optarg; break;
		case 'k': files.key = optarg; break;
		case 's': key = optarg; break;
		case 't': target = optarg; break;
		case 'n': seq = strtoull(optarg, NULL, 10); break;
		case 'b': block = optarg; break;
		default: return 2;
		}
	}
	if (!listen_at || !files.ca || !files.cert || !files.key || !key ||
	    !target || !seq || !block)
		return 2;
	if (seal_block(&r, key, target, seq, block))
		return 1;
	ctx = tls_ctx_new(true, &files);
	lfd = netaddr_listen(listen_at, 0, 4, "--listen");
	if (lfd == -EINVAL)
		return 2;	/* not an address: a usage error, as before */
	if (!ctx || lfd < 0) {
		perror("action_replay: listen");
		return 1;
	}
	printf("listening\n");
	for (;;) {
		int fd;

		fflush(stdout);
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		serve(&r, fd, ctx);
	}
	free(r.envelope);
	SSL_CTX_free(ctx);
	close(lfd);
	return 0;
}
