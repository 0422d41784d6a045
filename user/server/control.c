// SPDX-License-Identifier: GPL-2.0-only
/*
 * Control socket, server side: one JSON request a line, one response a
 * line (docs/control.md). Clients are non-blocking like agents: a client
 * that stops reading its "alerts follow" stream is cut, never waited for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "user/common/evloop.h"
#include "user/common/log.h"
#include "user/server/control.h"
#include "user/server/peers.h"
#include "user/server/server.h"
#include "user/server/store.h"

struct control_client {
	enum ev_kind kind;		/* first: see enum ev_kind */
	struct control_client *next;
	int fd;
	bool follow;
	bool closing;			/* close once the reply is out */
	bool dead;			/* close at the next chance */
	size_t rlen;
	char rbuf[CONTROL_LINE_MAX];
	char *wbuf;
	size_t wlen, wcap;
};

struct control {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct control_client *clients;
	json_object *ring[CONTROL_RING];
	unsigned int ring_next, ring_len;
};

int control_open(struct server *srv, void *listen_tag)
{
	const char *path = srv->cfg->control_path;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control *ctl;
	char dir[sizeof(sun.sun_path)], *slash;
	struct stat st;
	mode_t old;
	int ret;

	if (!path)
		return 0;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_err("control socket path %s too long; check --control",
			path);
		return -ENAMETOOLONG;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->fd = -1;
	strcpy(ctl->path, path);
	strcpy(sun.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST) {
			ret = -errno;
			log_err("cannot create %s for the control socket: %s",
				dir, strerror(-ret));
			goto err;
		}
	}
	/* A socket left by a crashed server; anything else is not ours. */
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			 0);
	if (ctl->fd < 0) {
		ret = -errno;
		goto err_log;
	}
	/* 0600 from the start: whoever can write to it can lift blocks. */
	old = umask(0177);
	ret = bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (ret || listen(ctl->fd, 16)) {
		ret = -errno;
		goto err_log;
	}
	ret = evloop_add(srv->epoll_fd, ctl->fd,
			 (epoll_data_t){ .ptr = listen_tag });
	if (ret)
		goto err_log;
	srv->ctl = ctl;
	return 0;
err_log:
	log_err("cannot listen on control socket %s: %s; check --control",
		path, strerror(-ret));
err:
	if (ctl->fd >= 0)
		close(ctl->fd);
	free(ctl);
	return ret;
}

static void client_close(struct server *srv, struct control_client *c)
{
	struct control_client **pp;

	for (pp = &srv->ctl->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->wbuf);
	free(c);
}

void control_close(struct server *srv)
{
	struct control *ctl = srv->ctl;
	unsigned int i;

	if (!ctl)
		return;
	while (ctl->clients)
		client_close(srv, ctl->clients);
	for (i = 0; i < CONTROL_RING; i++)
		json_object_put(ctl->ring[i]);
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl);
	srv->ctl = NULL;
}

void control_accept(struct server *srv)
{
	for (;;) {
		struct control_client *c;
		int fd = accept4(srv->ctl->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->kind = EV_KIND_CONTROL_CLIENT;
		c->fd = fd;
		if (evloop_add(srv->epoll_fd, fd, (epoll_data_t){ .ptr = c })) {
			close(fd);
			free(c);
			continue;
		}
		c->next = srv->ctl->clients;
		srv->ctl->clients = c;
	}
}

static int client_watch(struct server *srv, struct control_client *c)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (c->wlen ? EPOLLOUT : 0),
		.data.ptr = c,
	};

	return epoll_ctl(srv->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) ? -errno : 0;
}

/* Returns -errno when the client is to be closed. */
static int client_flush(struct server *srv, struct control_client *c)
{
	while (c->wlen) {
		ssize_t n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		memmove(c->wbuf, c->wbuf + n, c->wlen - n);
		c->wlen -= n;
	}
	if (!c->wlen && c->closing)
		return -ECONNRESET;
	return client_watch(srv, c);
}

static int client_queue(struct control_client *c, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
						JSON_LINE);
	size_t len = strlen(s);

	if (c->wlen + len + 1 > CONTROL_WBUF_MAX)
		return -ENOBUFS;
	if (c->wlen + len + 1 > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		char *nb;

		while (cap < c->wlen + len + 1)
			cap *= 2;
		nb = realloc(c->wbuf, cap);
		if (!nb)
			return -ENOMEM;
		c->wbuf = nb;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, s, len);
	c->wbuf[c->wlen + len] = '\n';
	c->wlen += len + 1;
	return 0;
}

void control_publish(struct server *srv, json_object *ev)
{
	struct control *ctl = srv->ctl;
	struct control_client *c, *next;

	if (!ctl)
		return;
	json_object_put(ctl->ring[ctl->ring_next]);
	ctl->ring[ctl->ring_next] = json_object_get(ev);
	ctl->ring_next = (ctl->ring_next + 1) % CONTROL_RING;
	if (ctl->ring_len < CONTROL_RING)
		ctl->ring_len++;
	for (c = ctl->clients; c; c = next) {
		json_object *line;

		next = c->next;
		if (!c->follow || c->dead)
			continue;
		line = json_object_new_object();
		json_object_object_add(line, "event", json_object_get(ev));
		/*
		 * Not freed here: an event for it may be waiting in this
		 * round of epoll results.
		 */
		if (client_queue(c, line) || client_flush(srv, c)) {
			log_warn("control: a follower stopped reading; dropping it");
			c->dead = true;
		}
		json_object_put(line);
	}
}

void control_tick(struct server *srv)
{
	struct control_client *c, *next;

	if (!srv->ctl)
		return;
	for (c = srv->ctl->clients; c; c = next) {
		next = c->next;
		if (c->dead)
			client_close(srv, c);
	}
}

void control_queue(const struct server *srv, unsigned int *clients,
		   uint64_t *bytes)
{
	const struct control_client *c;

	*clients = 0;
	*bytes = 0;
	if (!srv->ctl)
		return;
	for (c = srv->ctl->clients; c; c = c->next) {
		++*clients;
		*bytes += c->wlen;
	}
}

/* Request handling. Each returns 0 with *result set, or -errno. */

struct request {
	json_object *args;
	const char *error;		/* for the response, when set */
	json_object *result;
	bool stream;			/* events follow the response */
};

static int arg_str(struct request *rq, const char *key, bool required,
		   const char **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(rq->args, key, &v)) {
		if (!required)
			return 0;
		rq->error = "a required argument is missing";
		return -EINVAL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		rq->error = "an argument is not a string";
		return -EINVAL;
	}
	*out = json_object_get_string(v);
	return 0;
}

static int arg_uint(struct request *rq, const char *key, int64_t max,
		    int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(rq->args, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0 || json_object_get_int64(v) > max) {
		rq->error = "an argument is not a number in range";
		return -EINVAL;
	}
	*out = json_object_get_int64(v);
	return 0;
}

static void set_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static int cmd_status(struct server *srv, struct request *rq)
{
	json_object *o = json_object_new_object(), *q;
	unsigned int open = 0, unforwarded = 0, followers;
	uint64_t wbytes = 0, cbytes;
	struct incident *inc;
	struct session *s;

	for (inc = srv->incidents; inc; inc = inc->next) {
		open += inc->state != INCIDENT_CLOSED;
		unforwarded += inc->forwarded != inc->revision;
	}
	for (s = srv->sessions; s; s = s->next)
		wbytes += s->conn.wlen;
	control_queue(srv, &followers, &cbytes);
	json_object_object_add(o, "version", json_object_new_string("0.1"));
	set_int(o, "agents_connected", srv->nr_agents_connected);
	set_int(o, "sessions", srv->nr_sessions);
	set_int(o, "incidents_open", open);
	set_int(o, "indicators", threatdb_size(srv->tdb));
	set_int(o, "assessments", srv->stats.assessments);
	set_int(o, "actions_sent", srv->stats.actions_sent);
	q = json_object_new_object();
	set_int(q, "agent_send_bytes", wbytes);
	set_int(q, "control_send_bytes", cbytes);
	set_int(q, "parent_unforwarded", srv->cfg->parent ? unforwarded : 0);
	json_object_object_add(o, "queues", q);
	if (srv->cfg->parent) {
		json_object_object_add(o, "parent",
				       json_object_new_string(srv->cfg->parent));
		json_object_object_add(o, "parent_connected",
				       json_object_new_boolean(
					       parent_connected(srv)));
	}
	rq->result = o;
	return 0;
}

static int cmd_agents(struct server *srv, struct request *rq)
{
	json_object *arr = json_object_new_array();
	struct agent_record *a;

	for (a = srv->agents; a; a = a->next) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_string(a->id));
		json_object_object_add(o, "address",
				       json_object_new_string(a->address));
		json_object_object_add(o, "attested",
				       json_object_new_boolean(agent_attested(a)));
		if (agent_attested(a)) {
			json_object_object_add(o, "trusted",
				json_object_new_boolean(agent_trusted(a)));
			json_object_object_add(o, "trust_reason",
				json_object_new_string(agent_trust_reason(a)));
			set_int(o, "last_quote", agent_last_quote(a));
			json_object_object_add(o, "isolated",
				json_object_new_boolean(a->isolated));
		}
		json_object_object_add(o, "server",
				       json_object_new_boolean(a->is_server));
		set_int(o, "last_seen", a->last_seen);
		json_object_object_add(o, "connected",
				       json_object_new_boolean(a->session != NULL));
		set_int(o, "assessments", a->assessments);
		set_int(o, "ringbuf_lost", a->ringbuf_lost);
		json_object_array_add(arr, o);
	}
	rq->result = arr;
	return 0;
}

/* Re-attest one agent now; the verdict shows in "agents" later. */
static int cmd_attest(struct server *srv, struct request *rq)
{
	struct agent_record *a;
	const char *id;
	int ret;

	json_object *v;
	bool accept = false;

	ret = arg_str(rq, "agent", true, &id);
	if (ret)
		return ret;
	if (json_object_object_get_ex(rq->args, "accept_pcrs", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			rq->error = "accept_pcrs is not a boolean";
			return -EINVAL;
		}
		accept = json_object_get_boolean(v);
	}
	for (a = srv->agents; a && strcmp(a->id, id); a = a->next)
		;
	ret = a ? attest_request(srv, a, accept) : -ENOENT;
	if (ret) {
		rq->error = ret == -ENOTCONN ? "agent not connected" :
			    ret == -ENOENT ? "no such enrolled agent" :
			    ret == -EPERM ? "its PCR values come from --expected-pcrs: edit that file" :
			    "cannot send the quote request";
		return ret;
	}
	rq->result = json_object_new_object();
	json_object_object_add(rq->result, "requested",
			       json_object_new_string(id));
	return 0;
}

/* Relay a signed policy bundle to its agent; the verdict is logged. */
static int cmd_bundle_push(struct server *srv, struct request *rq)
{
	struct agent_record *a;
	const char *id, *path, *why = NULL;
	int ret;

	ret = arg_str(rq, "agent", true, &id);
	if (!ret)
		ret = arg_str(rq, "path", true, &path);
	if (ret)
		return ret;
	for (a = srv->agents; a && strcmp(a->id, id); a = a->next)
		;
	if (!a) {
		rq->error = "no such agent";
		return -ENOENT;
	}
	ret = bundle_push(srv, a, path, &why);
	if (ret) {
		rq->error = why;
		return ret;
	}
	rq->result = json_object_new_object();
	json_object_object_add(rq->result, "relayed",
			       json_object_new_string(id));
	return 0;
}

/* Revoke an identity (or lift that): docs/security.md. */
static int cmd_revoke(struct server *srv, struct request *rq)
{
	const char *id, *why = NULL;
	json_object *v;
	bool lift = false;
	int ret;

	ret = arg_str(rq, "agent", true, &id);
	if (ret)
		return ret;
	if (json_object_object_get_ex(rq->args, "lift", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			rq->error = "lift is not a boolean";
			return -EINVAL;
		}
		lift = json_object_get_boolean(v);
	}
	ret = peers_revoke(srv, id, lift, &why);
	if (ret) {
		rq->error = why;
		return ret;
	}
	rq->result = json_object_new_object();
	json_object_object_add(rq->result, lift ? "lifted" : "revoked",
			       json_object_new_string(id));
	return 0;
}

/* Free an agent id from the TPM it enrolled with (a replaced host). */
static int cmd_agent_release(struct server *srv, struct request *rq)
{
	const char *id;
	int ret;

	ret = arg_str(rq, "agent", true, &id);
	if (ret)
		return ret;
	ret = attestation_release(srv, id);
	if (ret) {
		rq->error = ret == -ENOENT ? "no TPM bound to this agent id" :
			    ret == -EOPNOTSUPP ? "enrollment is off (no --enroll-ca-key)" :
			    "cannot write the store; see the server's log";
		return ret;
	}
	rq->result = json_object_new_object();
	json_object_object_add(rq->result, "released",
			       json_object_new_string(id));
	return 0;
}

static int cmd_incidents(struct server *srv, struct request *rq)
{
	json_object *arr;
	struct incident *inc;
	const char *state;
	int ret = arg_str(rq, "state", false, &state);

	if (ret)
		return ret;
	arr = json_object_new_array();
	for (inc = srv->incidents; inc; inc = inc->next)
		if (!state || !strcmp(state, incident_state_name(inc->state)))
			json_object_array_add(arr, incident_json(inc));
	rq->result = arr;
	return 0;
}

static int cmd_incident_state(struct server *srv, struct request *rq,
			      enum incident_state to)
{
	struct incident *inc;
	int64_t id = 0;
	int ret = arg_uint(rq, "id", INT64_MAX, &id);

	if (ret)
		return ret;
	inc = incident_find(srv, id);
	if (!inc) {
		rq->error = "no such incident";
		return -ENOENT;
	}
	incident_set_state(srv, inc, to);
	rq->result = incident_json(inc);
	return 0;
}

static int cmd_actions(struct server *srv, struct request *rq)
{
	json_object *arr = json_object_new_array();
	struct action_record *act;

	for (act = srv->actions; act; act = act->next)
		json_object_array_add(arr, action_json(act));
	rq->result = arr;
	return 0;
}

static int cmd_alerts(struct server *srv, struct control_client *c,
		      struct request *rq)
{
	struct control *ctl = srv->ctl;
	json_object *arr, *v;
	int64_t limit = 100;
	unsigned int i, n;
	int ret = arg_uint(rq, "limit", CONTROL_RING, &limit);

	if (ret)
		return ret;
	if (json_object_object_get_ex(rq->args, "follow", &v) &&
	    json_object_get_boolean(v)) {
		c->follow = true;
		rq->stream = true;
		return 0;
	}
	n = limit < ctl->ring_len ? limit : ctl->ring_len;
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		unsigned int at = (ctl->ring_next + CONTROL_RING - n + i) %
				  CONTROL_RING;

		json_object_array_add(arr, json_object_get(ctl->ring[at]));
	}
	rq->result = arr;
	return 0;
}

static int cmd_import(struct server *srv, struct request *rq)
{
	const char *path, *format, *source;
	unsigned int imported, skipped;
	int ret;

	if (arg_str(rq, "path", true, &path) ||
	    arg_str(rq, "format", true, &format) ||
	    arg_str(rq, "source", false, &source))
		return -EINVAL;
	if (strcmp(format, "cidr") && strcmp(format, "csv")) {
		rq->error = "format: cidr or csv";
		return -EINVAL;
	}
	if (source && (!*source || strlen(source) > WIRE_NAME_MAX)) {
		rq->error = "source: 1 to 63 characters";
		return -EINVAL;
	}
	ret = threatdb_import_stored(srv, path, format, source, &imported,
				     &skipped);
	if (ret) {
		rq->error = "import failed; see the server's log";
		return ret;
	}
	rq->result = json_object_new_object();
	set_int(rq->result, "imported", imported);
	set_int(rq->result, "skipped", skipped);
	return 0;
}

static int dispatch(struct server *srv, struct control_client *c,
		    const char *cmd, struct request *rq)
{
	if (!strcmp(cmd, "status"))
		return cmd_status(srv, rq);
	if (!strcmp(cmd, "agents"))
		return cmd_agents(srv, rq);
	if (!strcmp(cmd, "incidents"))
		return cmd_incidents(srv, rq);
	if (!strcmp(cmd, "incident.ack"))
		return cmd_incident_state(srv, rq, INCIDENT_ACKNOWLEDGED);
	if (!strcmp(cmd, "incident.close"))
		return cmd_incident_state(srv, rq, INCIDENT_CLOSED);
	if (!strcmp(cmd, "actions"))
		return cmd_actions(srv, rq);
	if (!strcmp(cmd, "alerts"))
		return cmd_alerts(srv, c, rq);
	if (!strcmp(cmd, "threatdb.import"))
		return cmd_import(srv, rq);
	if (!strcmp(cmd, "attest"))
		return cmd_attest(srv, rq);
	if (!strcmp(cmd, "bundle.push"))
		return cmd_bundle_push(srv, rq);
	if (!strcmp(cmd, "revoke"))
		return cmd_revoke(srv, rq);
	if (!strcmp(cmd, "agent.release"))
		return cmd_agent_release(srv, rq);
	rq->error = "unknown command";
	return -EOPNOTSUPP;
}

static int handle_line(struct server *srv, struct control_client *c,
		       char *line)
{
	struct request rq = {};
	json_object *req, *resp = json_object_new_object(), *v, *id = NULL;
	enum json_tokener_error jerr;
	int ret;

	req = json_tokener_parse_verbose(line, &jerr);
	if (!req || !json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "cmd", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		rq.error = "not a JSON object with a string \"cmd\"";
		ret = -EINVAL;
		goto reply;
	}
	json_object_object_get_ex(req, "id", &id);
	if (!json_object_object_get_ex(req, "args", &rq.args)) {
		rq.args = NULL;
	} else if (!json_object_is_type(rq.args, json_type_object)) {
		rq.error = "\"args\" is not an object";
		ret = -EINVAL;
		goto reply;
	}
	if (!rq.args)
		rq.args = json_object_new_object();
	else
		json_object_get(rq.args);
	ret = dispatch(srv, c, json_object_get_string(v), &rq);
	json_object_put(rq.args);
reply:
	if (id)
		json_object_object_add(resp, "id", json_object_get(id));
	json_object_object_add(resp, "ok", json_object_new_boolean(!ret));
	if (ret) {
		set_int(resp, "errno", -ret);
		json_object_object_add(resp, "error", json_object_new_string(
			rq.error ? rq.error : strerror(-ret)));
	} else if (rq.stream) {
		json_object_object_add(resp, "stream",
				       json_object_new_boolean(true));
	} else {
		json_object_object_add(resp, "result", rq.result ? rq.result :
				       json_object_new_object());
	}
	ret = client_queue(c, resp);
	json_object_put(resp);
	json_object_put(req);
	return ret;
}

void control_io(struct server *srv, struct control_client *c,
		uint32_t events)
{
	char *nl;
	ssize_t n;

	if (c->dead) {
		client_close(srv, c);
		return;
	}
	if (events & EPOLLIN) {
		n = read(c->fd, c->rbuf + c->rlen,
			 sizeof(c->rbuf) - c->rlen);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			client_close(srv, c);
			return;
		}
		if (n > 0)
			c->rlen += n;
		while ((nl = memchr(c->rbuf, '\n', c->rlen))) {
			size_t used = nl - c->rbuf + 1;

			*nl = '\0';
			if (handle_line(srv, c, c->rbuf)) {
				client_close(srv, c);
				return;
			}
			memmove(c->rbuf, c->rbuf + used, c->rlen - used);
			c->rlen -= used;
		}
		if (c->rlen == sizeof(c->rbuf)) {
			json_object *resp = json_object_new_object();

			json_object_object_add(resp, "ok",
					       json_object_new_boolean(false));
			set_int(resp, "errno", EMSGSIZE);
			json_object_object_add(resp, "error",
				json_object_new_string("request longer than 65536 bytes"));
			client_queue(c, resp);
			json_object_put(resp);
			c->rlen = 0;
			c->closing = true;
		}
	}
	if (client_flush(srv, c))
		client_close(srv, c);
}
