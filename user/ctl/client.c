// SPDX-License-Identifier: GPL-2.0-only
/*
 * The client side of docs/control.md: one JSON object per line over a
 * Unix stream socket, at most CTL_LINE_MAX bytes each way. A daemon that
 * is absent, hangs up or stays silent past --timeout is "unreachable"
 * (exit 3); one that answers {"ok": false} gives exit 1.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "user/common/log.h"
#include "user/ctl/ctl.h"

struct conn {
	int fd;
	const char *path;
	const char *who;
	int timeout_ms;		/* -1: wait for ever (streams) */
	size_t len;
	size_t consumed;	/* bytes of the last line handed out */
	char buf[CTL_LINE_MAX + 1];
};

static const char *sock_path(const struct ctl_cmd *cmd,
			     const struct ctl_opts *o)
{
	if (o->socket)
		return o->socket;
	return cmd->server_default || o->server ? CTL_SERVER_SOCK : CTL_AGENT_SOCK;
}

static int conn_open(struct conn *c, const struct ctl_cmd *cmd,
		     const struct ctl_opts *o)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	c->path = sock_path(cmd, o);
	c->who = o->socket ? "the daemon" :
		 cmd->server_default || o->server ? "vnfsec-server" : "vnfsec-agent";
	c->len = 0;
	c->consumed = 0;
	if (strlen(c->path) >= sizeof(sa.sun_path)) {
		log_err("%s: socket path longer than %zu bytes", c->path,
			sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		log_err("socket: %s", strerror(errno));
		return -errno;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		log_err("cannot reach %s at %s: %s (is it running? --socket PATH for another socket)",
			c->who, c->path, strerror(-err));
		close(c->fd);
		c->fd = -1;
		return err;
	}
	return 0;
}

static int conn_send(struct conn *c, struct json_object *req)
{
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s), off = 0;
	ssize_t n;

	if (len + 1 > CTL_LINE_MAX) {
		log_err("request of %zu bytes is over the %d-byte limit", len + 1,
			CTL_LINE_MAX);
		return -EMSGSIZE;
	}
	while (off <= len) {
		/* The newline goes out as the last byte. */
		const char *p = off < len ? s + off : "\n";
		size_t want = off < len ? len - off : 1;

		n = send(c->fd, p, want, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("%s at %s: send: %s", c->who, c->path, strerror(errno));
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Next line into *line (NUL-terminated, newline removed). */
static int conn_line(struct conn *c, char **line)
{
	char *nl;
	ssize_t n;

	if (c->consumed) {
		memmove(c->buf, c->buf + c->consumed, c->len - c->consumed);
		c->len -= c->consumed;
		c->consumed = 0;
	}
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int r;

		nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			*nl = '\0';
			*line = c->buf;
			c->consumed = (size_t)(nl - c->buf) + 1;
			return 0;
		}
		if (c->len >= CTL_LINE_MAX) {
			log_err("%s at %s: response line over %d bytes", c->who,
				c->path, CTL_LINE_MAX);
			return -EMSGSIZE;
		}
		r = poll(&pfd, 1, c->timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			log_err("%s at %s did not answer within %d s (--timeout)",
				c->who, c->path, c->timeout_ms / 1000);
			return -ETIMEDOUT;
		}
		n = recv(c->fd, c->buf + c->len, CTL_LINE_MAX - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_err("%s at %s closed the connection without an answer",
				c->who, c->path);
			return n < 0 ? -errno : -ECONNRESET;
		}
		c->len += (size_t)n;
	}
}

static struct json_object *build_req(const char *name,
				     struct json_object *args)
{
	struct json_object *req = json_object_new_object();

	if (!req)
		return NULL;
	json_object_object_add(req, "cmd", json_object_new_string(name));
	json_object_object_add(req, "id", json_object_new_int(1));
	if (args)
		json_object_object_add(req, "args", json_object_get(args));
	return req;
}

/* Parse one response line; CTL_OK with *resp, or an exit code. */
static int parse_resp(struct conn *c, const char *line,
		      struct json_object **resp)
{
	struct json_object *ok;

	*resp = json_tokener_parse(line);
	if (!*resp || !json_object_is_type(*resp, json_type_object) ||
	    !json_object_object_get_ex(*resp, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean)) {
		log_err("%s at %s sent a malformed response (not a JSON object with \"ok\")",
			c->who, c->path);
		json_object_put(*resp);
		*resp = NULL;
		return CTL_EDAEMON;
	}
	if (!json_object_get_boolean(ok)) {
		struct json_object *e, *no;
		const char *msg = "unknown error";
		int errnum = 0;

		if (json_object_object_get_ex(*resp, "error", &e))
			msg = json_object_get_string(e);
		if (json_object_object_get_ex(*resp, "errno", &no))
			errnum = json_object_get_int(no);
		/* Not log_err: this is the answer the operator asked for. */
		fprintf(stderr, "vnfsecctl: %s: %s (errno %d)\n", c->who, msg,
			errnum);
		json_object_put(*resp);
		*resp = NULL;
		return CTL_EDAEMON;
	}
	return CTL_OK;
}

static int exchange(const struct ctl_cmd *cmd, const struct ctl_opts *o,
		    struct conn *c, const char *name, struct json_object *args,
		    struct json_object **resp)
{
	struct json_object *req;
	char *line;
	int err;

	*resp = NULL;
	c->timeout_ms = o->timeout_s * 1000;
	err = conn_open(c, cmd, o);
	if (err)
		return err == -ENAMETOOLONG ? CTL_EUSAGE : CTL_EUNREACH;
	req = build_req(name, args);
	if (!req)
		return CTL_EUNREACH;
	err = conn_send(c, req);
	json_object_put(req);
	if (err)
		return err == -EMSGSIZE ? CTL_EUSAGE : CTL_EUNREACH;
	err = conn_line(c, &line);
	if (err)
		return err == -EMSGSIZE ? CTL_EDAEMON : CTL_EUNREACH;
	return parse_resp(c, line, resp);
}

int ctl_request(const struct ctl_cmd *cmd, const struct ctl_opts *o,
		const char *name, struct json_object *args,
		struct json_object **result)
{
	struct json_object *resp = NULL, *r;
	struct conn *c;
	int ret;

	*result = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return CTL_EUNREACH;
	c->fd = -1;
	ret = exchange(cmd, o, c, name, args, &resp);
	if (!ret) {
		*result = json_object_object_get_ex(resp, "result", &r) ?
			  json_object_get(r) : NULL;
		json_object_put(resp);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return ret;
}

int ctl_stream(const struct ctl_cmd *cmd, const struct ctl_opts *o,
	       const char *name, struct json_object *args,
	       void (*on_event)(struct json_object *ev, void *ctx), void *ctx)
{
	struct json_object *resp = NULL, *st, *msg, *ev;
	struct conn *c;
	char *line;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return CTL_EUNREACH;
	c->fd = -1;
	ret = exchange(cmd, o, c, name, args, &resp);
	if (ret)
		goto out;
	if (!json_object_object_get_ex(resp, "stream", &st) ||
	    !json_object_get_boolean(st)) {
		log_err("%s at %s did not start a stream for '%s'", c->who,
			c->path, name);
		ret = CTL_EDAEMON;
		goto out;
	}
	c->timeout_ms = -1;
	for (;;) {
		if (conn_line(c, &line)) {
			/* The daemon ended the stream (shutdown, restart). */
			ret = CTL_EUNREACH;
			break;
		}
		msg = json_tokener_parse(line);
		if (msg && json_object_object_get_ex(msg, "event", &ev))
			on_event(ev, ctx);
		else
			log_warn("%s at %s: skipped a stream line without \"event\"",
				 c->who, c->path);
		json_object_put(msg);
	}
out:
	json_object_put(resp);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return ret;
}
