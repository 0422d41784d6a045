// SPDX-License-Identifier: GPL-2.0-only
/*
 * action_peer: a stand-in security server for the e2e suite. It speaks
 * the real wire protocol over mutually authenticated TLS 1.3 to one agent
 * and orders the corrective actions it reads on stdin, one per line, so a
 * scenario can order every type whatever the server's playbooks do:
 *
 *   block ADDR/LEN TTL         unblock ADDR/LEN
 *   drop|monitor|mirror SRC DST SPORT DPORT PROTO TTL
 *   quarantine VNF TTL         release VNF
 *   ratelimit ADDR[/LEN] PPS [TTL_S]
 *
 * With --signing-key every action is signed for the agent (as the server
 * does with its --signing-key). It acknowledges every assessment and
 * prints, one line each: "connected AGENT", "assessment ID HEURISTIC",
 * "result SEQ STATUS" (and "bad LINE" for what it cannot parse).
 *
 *   action_peer --listen ADDR:PORT --ca F --cert F --key F
 *               [--signing-key F --issuer NAME] [--port-file F]
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

struct peer {
	struct conn conn;
	bool up;
	bool stdin_done;
	char in[4096];			/* stdin, up to a whole line */
	size_t in_len;
	char agent[WIRE_AGENT_ID_MAX + 1];
	uint64_t seq;
	EVP_PKEY *signing_key;
	const char *issuer;
};

static int addr_of(const char *s, uint8_t *buf, size_t *len)
{
	if (inet_pton(AF_INET, s, buf) == 1) {
		*len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, buf) == 1) {
		*len = 16;
		return 0;
	}
	return -EINVAL;
}

static int send_action(struct peer *p, Vnfsec__Action *a)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__SignedAction sa = VNFSEC__SIGNED_ACTION__INIT;
	uint8_t payload[4096], *env = NULL;
	size_t len;
	int ret;

	f.version = WIRE_VERSION;
	a->seq = ++p->seq;
	if (!p->signing_key) {
		f.body_case = VNFSEC__FRAME__BODY_ACTION;
		f.action = a;
		return conn_send(&p->conn, &f);
	}
	len = vnfsec__action__get_packed_size(a);
	if (len > sizeof(payload))
		return -EMSGSIZE;
	vnfsec__action__pack(a, payload);
	ret = signing_seal(p->signing_key, &(struct signed_instruction){
		.issuer = p->issuer, .target = p->agent, .sequence = a->seq,
		.not_after = time(NULL) + 300,
		.payload = payload, .payload_len = len }, &env, &len);
	if (ret)
		return ret;
	sa.envelope.data = env;
	sa.envelope.len = len;
	f.body_case = VNFSEC__FRAME__BODY_SIGNED_ACTION;
	f.signed_action = &sa;
	ret = conn_send(&p->conn, &f);
	free(env);
	return ret;
}

/* One stdin line into one action; -EINVAL when it is not one. */
static int order(struct peer *p, const char *line)
{
	Vnfsec__Action a = VNFSEC__ACTION__INIT;
	Vnfsec__FlowTuple t = VNFSEC__FLOW_TUPLE__INIT;
	char verb[16], x[64], y[64];
	uint8_t sa[16], da[16];
	unsigned int n1, n2, n3, n4;
	size_t sl, dl;

	if (sscanf(line, "%15s", verb) != 1)
		return -EINVAL;
	if (!strcmp(verb, "block") || !strcmp(verb, "unblock")) {
		n2 = 0;
		if (sscanf(line, "%*s %63[^/]/%u %u", x, &n1, &n2) < 2 ||
		    addr_of(x, sa, &sl))
			return -EINVAL;
		a.type = verb[0] == 'b' ? VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE :
			 VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE;
		a.src_addr.data = sa;
		a.src_addr.len = sl;
		a.prefix_len = n1;
		a.ttl_s = n2;
	} else if (!strcmp(verb, "drop") || !strcmp(verb, "monitor") ||
		   !strcmp(verb, "mirror")) {
		if (sscanf(line, "%*s %63s %63s %u %u %u %u", x, y, &n1, &n2,
			   &n3, &n4) != 6 || addr_of(x, sa, &sl) ||
		    addr_of(y, da, &dl))
			return -EINVAL;
		a.type = verb[1] == 'r' ? VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW :
			 verb[1] == 'o' ? VNFSEC__ACTION_TYPE__ACTION_MONITOR_FLOW :
			 VNFSEC__ACTION_TYPE__ACTION_MIRROR_FLOW;
		t.src_addr.data = sa;
		t.src_addr.len = sl;
		t.dst_addr.data = da;
		t.dst_addr.len = dl;
		t.src_port = n1;
		t.dst_port = n2;
		t.proto = n3;
		a.flow = &t;
		a.ttl_s = n4;
	} else if (!strcmp(verb, "quarantine") || !strcmp(verb, "release")) {
		n1 = 0;
		if (sscanf(line, "%*s %63s %u", x, &n1) < 1)
			return -EINVAL;
		a.type = verb[0] == 'q' ?
			 VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF :
			 VNFSEC__ACTION_TYPE__ACTION_RELEASE_VNF;
		a.vnf = x;
		a.ttl_s = n1;
	} else if (!strcmp(verb, "ratelimit")) {
		char *slash;

		n2 = 0;
		if (sscanf(line, "%*s %63s %u %u", x, &n1, &n2) < 2)
			return -EINVAL;
		/* ADDR alone is the host; ADDR/LEN a prefix (refused). */
		slash = strchr(x, '/');
		if (slash)
			*slash++ = '\0';
		if (addr_of(x, sa, &sl))
			return -EINVAL;
		a.type = VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE;
		a.src_addr.data = sa;
		a.src_addr.len = sl;
		a.prefix_len = slash ? (uint32_t)atoi(slash) : sl * 8;
		a.rate_pps = n1;
		a.ttl_s = n2;
	} else {
		return -EINVAL;
	}
	return send_action(p, &a);
}

static int on_frame(struct peer *p, const Vnfsec__Frame *f)
{
	Vnfsec__Frame out = VNFSEC__FRAME__INIT;
	Vnfsec__Ack ack = VNFSEC__ACK__INIT;

	switch (f->body_case) {
	case VNFSEC__FRAME__BODY_HELLO:
		snprintf(p->agent, sizeof(p->agent), "%s", f->hello->agent_id);
		p->up = true;
		printf("connected %s\n", p->agent);
		return 0;
	case VNFSEC__FRAME__BODY_ASSESSMENT:
		printf("assessment %llu %d\n",
		       (unsigned long long)f->assessment->id,
		       f->assessment->heuristic);
		ack.assessment_id = f->assessment->id;
		out.version = WIRE_VERSION;
		out.body_case = VNFSEC__FRAME__BODY_ACK;
		out.ack = &ack;
		return conn_send(&p->conn, &out);
	case VNFSEC__FRAME__BODY_ACTION_RESULT:
		printf("result %llu %d\n",
		       (unsigned long long)f->action_result->seq,
		       f->action_result->status);
		return 0;
	default:
		return 0;
	}
}

/* Order every whole line stdin holds; false at its end. */
static bool read_orders(struct peer *p)
{
	ssize_t n = read(0, p->in + p->in_len, sizeof(p->in) - 1 - p->in_len);
	char *nl, *line;

	if (n <= 0)
		return false;
	p->in_len += n;
	p->in[p->in_len] = 0;
	line = p->in;
	while ((nl = strchr(line, '\n'))) {
		*nl = 0;
		if (order(p, line))
			printf("bad %s\n", line);
		line = nl + 1;
	}
	p->in_len -= line - p->in;
	memmove(p->in, line, p->in_len);
	if (p->in_len == sizeof(p->in) - 1)
		p->in_len = 0;		/* a line that long is no order */
	return true;
}

/* Serve one agent until it goes; returns on disconnect. */
static void serve(struct peer *p, int fd, SSL_CTX *ctx)
{
	Vnfsec__Frame *f;
	const char *why;
	int ret;

	if (conn_init(&p->conn, ctx, fd, NULL)) {
		close(fd);
		return;
	}
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = p->conn.fd, .events = POLLIN |
			  (conn_wants_write(&p->conn) ? POLLOUT : 0) },
			{ .fd = p->up && !p->stdin_done ? 0 : -1,
			  .events = POLLIN },
		};

		fflush(stdout);
		if (poll(pfd, 2, 1000) < 0 && errno != EINTR)
			break;
		if (!p->conn.established) {
			ret = conn_handshake(&p->conn);
			if (ret == -EAGAIN)
				continue;
			if (ret)
				break;
		}
		while ((ret = conn_recv(&p->conn, &f, &why)) == 0) {
			ret = on_frame(p, f);
			wire_free(f);
			if (ret)
				goto out;
		}
		if (ret != -EAGAIN)
			break;
		if ((pfd[1].revents & (POLLIN | POLLHUP)) && !read_orders(p))
			p->stdin_done = true;
		ret = conn_flush(&p->conn);
		if (ret && ret != -EAGAIN)
			break;
	}
out:
	printf("disconnected\n");
	fflush(stdout);
	conn_free(&p->conn);
	p->up = false;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "ca", required_argument, NULL, 'C' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "signing-key", required_argument, NULL, 's' },
		{ "issuer", required_argument, NULL, 'i' },
		{}
	};
	struct peer p = { .issuer = "vnfsec-server", .seq = 0 };
	const char *listen_at = NULL, *signing = NULL;
	struct tls_files files = {};
	int opt, lfd;
	SSL_CTX *ctx;

	log_init("action_peer", LOG_WARNING);
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': listen_at = optarg; break;
		case 'C': files.ca = optarg; break;
		case 'c': files.cert = optarg; break;
		case 'k': files.key = optarg; break;
		case 's': signing = optarg; break;
		case 'i': p.issuer = optarg; break;
		default: return 2;
		}
	}
	if (!listen_at || !files.ca || !files.cert || !files.key)
		return 2;
	if (signing && !(p.signing_key = signing_key_load(signing, true)))
		return 1;
	/* Sequences above any an agent of an earlier run accepted. */
	p.seq = (uint64_t)time(NULL) * 1000;
	ctx = tls_ctx_new(true, &files);
	lfd = netaddr_listen(listen_at, 0, 4, "--listen");
	if (lfd == -EINVAL)
		return 2;	/* not an address: a usage error, as before */
	if (!ctx || lfd < 0) {
		perror("action_peer: listen");
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
		serve(&p, fd, ctx);
	}
	return 0;
}
