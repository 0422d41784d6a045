/* SPDX-License-Identifier: GPL-2.0-only */
/* vnfsec-server: the security server agents report to. */
#ifndef VNFSEC_SERVER_H
#define VNFSEC_SERVER_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "user/common/tls.h"

struct server_config {
	const char *listen;		/* ADDR:PORT, port 0 picks one */
	struct tls_files tls;
	const char *alerts_path;	/* JSON lines; "-" is stdout */
	const char *port_file;		/* where the bound port is written */
	unsigned int block_ttl_s;	/* TTL of the blocks the server orders */
	unsigned int max_sessions;
	unsigned int handshake_timeout_s;
};

/* What the server remembers of an agent across its connections. */
struct agent_record {
	struct agent_record *next;
	char id[WIRE_AGENT_ID_MAX + 1];	/* its certificate's CN */
	uint64_t last_assessment_id;	/* drops replays and duplicates */
	uint64_t next_action_seq;
	uint32_t blocked_src;		/* last source ordered blocked */
	time_t blocked_until;
	uint64_t ringbuf_lost;		/* its last reported loss total */
};

struct session {
	struct conn conn;
	struct session *next;
	time_t started;
	struct agent_record *agent;	/* NULL until its hello */
};

struct server {
	const struct server_config *cfg;
	SSL_CTX *tls;
	int listen_fd;
	int epoll_fd;
	FILE *alerts;
	struct session *sessions;
	unsigned int nr_sessions;
	struct agent_record *agents;
};

/* session.c */
void agents_free(struct server *srv);
int session_on_frame(struct server *srv, struct session *s,
		     const Vnfsec__Frame *f);

/* alerts.c: EVE-like JSON lines. */
int alerts_open(struct server *srv);
void alerts_close(struct server *srv);
void alert_assessment(struct server *srv, const struct session *s,
		      const Vnfsec__Assessment *a);
void alert_action(struct server *srv, const struct session *s,
		  const Vnfsec__Action *act);
void alert_action_result(struct server *srv, const struct session *s,
			 const Vnfsec__ActionResult *r);

#endif /* VNFSEC_SERVER_H */
