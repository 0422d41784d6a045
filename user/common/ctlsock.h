/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket of every vnfsec daemon (docs/control.md): JSON
 * requests, one a line, over a Unix stream socket; one response line
 * each, in order. The agent and the server give it their commands; the
 * checks live here once:
 *
 *  - who: the peer's credentials (SO_PEERCRED, SO_PEERGROUPS) decide.
 *    Root may do anything; members of the admin group (--control-admin-
 *    group) too; members of the read group (--control-group) only the
 *    read-only commands the daemon lists; everyone else is refused.
 *  - bounds: a request line is at most CTLSOCK_LINE_MAX bytes (a longer
 *    one gets the documented error reply and the connection is closed);
 *    replies waiting for a client that does not read stop the reading of
 *    its requests (answered in order later, never dropped), and a client
 *    that reads nothing for CTLSOCK_STALL_S is cut;
 *  - slots: at most max_clients; a new client takes the slot of the
 *    oldest idle one (told why) rather than being refused. When none is
 *    idle, an administrator (root or the admin group) takes the slot of
 *    the oldest read-only client, streams included: readers can never
 *    lock an administrator out.
 */
#ifndef VNFSEC_CTLSOCK_H
#define VNFSEC_CTLSOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/types.h>
#include <json-c/json.h>

#define CTLSOCK_LINE_MAX	65536	/* a request, newline included */
#define CTLSOCK_WBUF_HIGH	(256U << 10)	/* stop reading requests above */
#define CTLSOCK_WBUF_MAX	(4U << 20)	/* a follower this far behind is cut */
#define CTLSOCK_STALL_S		30	/* replies unread this long: cut */
#define CTLSOCK_CLIENTS_MAX	64

struct ctlsock;

struct ctlsock_client {
	int fd;
	uid_t uid;
	pid_t pid;
	bool admin;		/* may run mutating commands */
	bool follow;		/* an event stream: never idle */
	bool pending;		/* an answer comes later (ctlsock_reply) */
	json_object *pending_id;	/* that request's "id" */
	bool closing;		/* close once the replies are out */
	bool eof;		/* sent all it will: answer, then close */
	/*
	 * Inside its own request's handler: what that handler causes for
	 * this client (an alert event it follows, a reply) is only queued,
	 * never sent or freed under the caller's feet.
	 */
	bool busy;
	uint64_t active_ns;	/* last request read, or the accept */
	uint64_t stalled_ns;	/* since when replies wait unread, or 0 */
	char *rbuf;
	size_t rlen;
	char *wbuf;
	size_t wlen, wcap;
	void *priv;		/* the daemon's */
};

/*
 * Run @cmd for @cl: return the result (taken), or NULL with *err (a
 * positive errno) and *why set. *err = EINPROGRESS: no answer now; the
 * daemon answers later with ctlsock_reply() and the client's next
 * requests wait until then.
 */
typedef json_object *(*ctlsock_handler)(void *ctx, struct ctlsock_client *cl,
					const char *cmd, json_object *args,
					int *err, const char **why);

struct ctlsock_config {
	const char *path;
	const char *read_group;		/* --control-group, or NULL */
	const char *admin_group;	/* --control-admin-group, or NULL */
	/* Commands the read group may run (NULL-terminated); every other
	 * command, known or not, needs root or the admin group. */
	const char *const *read_only;
	unsigned int max_clients;	/* <= CTLSOCK_CLIENTS_MAX */
	int epfd;
	/* epoll data for the listener (slot -1) and client slot N. */
	epoll_data_t (*ev_data)(void *ctx, int slot);
	ctlsock_handler handle;
	void (*client_gone)(void *ctx, struct ctlsock_client *cl);
	void *ctx;
};

/* Resolve group names, listen on cfg->path (replacing a stale socket). */
int ctlsock_open(const struct ctlsock_config *cfg, struct ctlsock **out);
void ctlsock_close(struct ctlsock *s);

void ctlsock_accept(struct ctlsock *s);
/* Readiness of client @slot. */
void ctlsock_io(struct ctlsock *s, int slot, uint32_t events);
/* Once a second: cut clients that stopped reading their replies. */
void ctlsock_tick(struct ctlsock *s);

/* Client slots, for walks (followers, answers that came due); NULL: free. */
unsigned int ctlsock_max_clients(const struct ctlsock *s);
struct ctlsock_client *ctlsock_client(struct ctlsock *s, unsigned int slot);

/*
 * The answer to @cl's pending request: @result (taken), or @err and
 * @why; then its next requests are read.
 */
void ctlsock_reply(struct ctlsock *s, struct ctlsock_client *cl,
		   json_object *result, int err, const char *why);
/* An event line for a follower; a follower too far behind is cut. */
void ctlsock_send_event(struct ctlsock *s, struct ctlsock_client *cl,
			json_object *event);
/* For metrics: clients and bytes waiting to be written to them. */
void ctlsock_queue(const struct ctlsock *s, unsigned int *clients,
		   uint64_t *bytes);

#endif /* VNFSEC_CTLSOCK_H */
