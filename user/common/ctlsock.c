// SPDX-License-Identifier: GPL-2.0-only
/* The control socket shared by the agent and the server (ctlsock.h). */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "user/common/ctlsock.h"
#include "user/common/log.h"

#define PEER_GROUPS_MAX	256

struct ctlsock {
	struct ctlsock_config cfg;
	int fd;
	gid_t read_gid, admin_gid;
	bool has_read, has_admin;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctlsock_client *slots[CTLSOCK_CLIENTS_MAX];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int slot_of(const struct ctlsock *s, const struct ctlsock_client *cl)
{
	unsigned int i;

	for (i = 0; i < s->cfg.max_clients; i++)
		if (s->slots[i] == cl)
			return i;
	return -1;
}

static void watch(struct ctlsock *s, struct ctlsock_client *cl, int op)
{
	/* Requests are read only while their replies can be queued. */
	bool reading = !cl->pending && !cl->closing && !cl->eof &&
		       cl->wlen < CTLSOCK_WBUF_HIGH;
	struct epoll_event ev = {
		.events = (reading ? EPOLLIN | EPOLLRDHUP : 0) |
			  (cl->wlen ? EPOLLOUT : 0),
		.data = s->cfg.ev_data(s->cfg.ctx, slot_of(s, cl)),
	};

	epoll_ctl(s->cfg.epfd, op, cl->fd, &ev);
}

static void client_free(struct ctlsock *s, unsigned int slot)
{
	struct ctlsock_client *cl = s->slots[slot];

	if (!cl)
		return;
	if (s->cfg.client_gone)
		s->cfg.client_gone(s->cfg.ctx, cl);
	epoll_ctl(s->cfg.epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	json_object_put(cl->pending_id);
	free(cl->rbuf);
	free(cl->wbuf);
	free(cl);
	s->slots[slot] = NULL;
}

/* Queue one line; -ENOBUFS when the client is too far behind. */
static int queue_line(struct ctlsock_client *cl, json_object *o, size_t max)
{
	const char *line = json_object_to_json_string_ext(o,
							JSON_C_TO_STRING_PLAIN |
						JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(line);

	if (cl->wlen + len + 1 > max)
		return -ENOBUFS;
	if (cl->wlen + len + 1 > cl->wcap) {
		size_t cap = cl->wcap ? cl->wcap : 4096;
		char *nb;

		while (cap < cl->wlen + len + 1)
			cap *= 2;
		nb = realloc(cl->wbuf, cap);
		if (!nb)
			return -ENOMEM;
		cl->wbuf = nb;
		cl->wcap = cap;
	}
	memcpy(cl->wbuf + cl->wlen, line, len);
	cl->wbuf[cl->wlen + len] = '\n';
	cl->wlen += len + 1;
	return 0;
}

/* 0, or -errno when the client is to be closed. */
static int flush(struct ctlsock_client *cl)
{
	size_t before = cl->wlen;

	while (cl->wlen) {
		ssize_t n = send(cl->fd, cl->wbuf, cl->wlen, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		memmove(cl->wbuf, cl->wbuf + n, cl->wlen - n);
		cl->wlen -= n;
	}
	if (!cl->wlen)
		cl->stalled_ns = 0;
	else if (cl->wlen < before || !cl->stalled_ns)
		cl->stalled_ns = now_ns();
	if (!cl->wlen && cl->closing)
		return -ECONNRESET;
	return 0;
}

static json_object *error_reply(json_object *id, int err, const char *why)
{
	json_object *r = json_object_new_object();

	if (id)
		json_object_object_add(r, "id", json_object_get(id));
	json_object_object_add(r, "ok", json_object_new_boolean(false));
	json_object_object_add(r, "errno", json_object_new_int(err));
	json_object_object_add(r, "error", json_object_new_string(why));
	return r;
}

/* One line to a client about to be closed: best effort, no queueing. */
static void say_and_close(int fd, int err, const char *why)
{
	json_object *r = error_reply(NULL, err, why);
	const char *line = json_object_to_json_string_ext(r,
							JSON_C_TO_STRING_PLAIN |
						JSON_C_TO_STRING_NOSLASHESCAPE);
	struct iovec iov[2] = {
		{ .iov_base = (void *)line, .iov_len = strlen(line) },
		{ .iov_base = "\n", .iov_len = 1 },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	if (sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("control: could not tell a client why it is closed: %s",
			  strerror(errno));
	json_object_put(r);
	close(fd);
}

static bool in_list(const char *const *list, const char *cmd)
{
	for (; list && *list; list++)
		if (!strcmp(*list, cmd))
			return true;
	return false;
}

static void handle_line(struct ctlsock *s, struct ctlsock_client *cl,
			char *line)
{
	json_object *req = json_tokener_parse(line), *v, *id = NULL;
	json_object *args = NULL, *result = NULL, *resp;
	const char *why = NULL, *cmd;
	char denied[160];
	int err = 0;

	cl->active_ns = now_ns();
	if (!req || !json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "cmd", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		err = EINVAL;
		why = "request is not a JSON object with a \"cmd\" string";
		goto reply;
	}
	json_object_object_get_ex(req, "id", &id);
	cmd = json_object_get_string(v);
	if (json_object_object_get_ex(req, "args", &args) &&
	    !json_object_is_type(args, json_type_object)) {
		err = EINVAL;
		why = "\"args\" is not an object";
		goto reply;
	}
	if (!cl->admin && !in_list(s->cfg.read_only, cmd)) {
		snprintf(denied, sizeof(denied),
			 "%.40s: permission denied: needs root or a member of --control-admin-group",
			 cmd);
		log_warn("control: refused '%.40s' from uid %u (pid %d): read-only client",
			 cmd, (unsigned int)cl->uid, (int)cl->pid);
		err = EPERM;
		why = denied;
		goto reply;
	}
	if (!args)
		args = json_object_new_object();
	else
		json_object_get(args);
	result = s->cfg.handle(s->cfg.ctx, cl, cmd, args, &err, &why);
	json_object_put(args);
	if (err == EINPROGRESS) {
		cl->pending = true;
		cl->pending_id = id ? json_object_get(id) : NULL;
		json_object_put(req);
		return;
	}
reply:
	if (err) {
		json_object_put(result);
		resp = error_reply(id, err, why ? why : strerror(err));
	} else {
		resp = json_object_new_object();
		if (id)
			json_object_object_add(resp, "id", json_object_get(id));
		json_object_object_add(resp, "ok",
				       json_object_new_boolean(true));
		if (cl->follow)
			json_object_object_add(resp, "stream",
					       json_object_new_boolean(true));
		json_object_object_add(resp, "result",
				       result ? result : json_object_new_object());
	}
	/* Reading stops at the high mark, so this bound is not reached. */
	if (queue_line(cl, resp, CTLSOCK_WBUF_MAX))
		cl->closing = true;
	json_object_put(resp);
	json_object_put(req);
}

/* Answer the complete lines read so far, while replies can be queued. */
static void run_lines(struct ctlsock *s, struct ctlsock_client *cl)
{
	char *nl;

	while (!cl->pending && !cl->closing && cl->wlen < CTLSOCK_WBUF_HIGH &&
	       (nl = memchr(cl->rbuf, '\n', cl->rlen))) {
		size_t used = nl - cl->rbuf + 1;

		*nl = '\0';
		cl->busy = true;
		handle_line(s, cl, cl->rbuf);
		cl->busy = false;
		memmove(cl->rbuf, cl->rbuf + used, cl->rlen - used);
		cl->rlen -= used;
	}
	if (!cl->closing && cl->rlen == CTLSOCK_LINE_MAX &&
	    !memchr(cl->rbuf, '\n', cl->rlen)) {
		json_object *r = error_reply(NULL, EMSGSIZE,
			"request longer than 65536 bytes; closing");

		log_warn("control: a request from uid %u is longer than %d bytes; closing that client",
			 (unsigned int)cl->uid, CTLSOCK_LINE_MAX);
		queue_line(cl, r, CTLSOCK_WBUF_MAX + 4096);
		json_object_put(r);
		cl->rlen = 0;
		cl->closing = true;
	}
}

/*
 * After any change: answer what can be answered, send what can be sent,
 * close a client that is done, else watch it for what it needs next.
 */
static void settle(struct ctlsock *s, struct ctlsock_client *cl, int slot)
{
	bool more;

	/* Replies sent make room: the requests already read go on. */
	do {
		run_lines(s, cl);
		if (flush(cl)) {
			client_free(s, slot);
			return;
		}
		more = memchr(cl->rbuf, '\n', cl->rlen);
	} while (more && !cl->pending && !cl->closing &&
		 cl->wlen < CTLSOCK_WBUF_HIGH);
	if (cl->eof && !cl->pending && !cl->wlen && !more) {
		client_free(s, slot);
		return;
	}
	watch(s, cl, EPOLL_CTL_MOD);
}

void ctlsock_io(struct ctlsock *s, int slot, uint32_t events)
{
	struct ctlsock_client *cl;
	ssize_t n;

	if (slot < 0 || (unsigned int)slot >= s->cfg.max_clients ||
	    !s->slots[slot])
		return;
	cl = s->slots[slot];
	/*
	 * Gone both ways: what it sent before closing is still read and
	 * run (a script may send "block" and close); a client with nothing
	 * left to read goes now.
	 */
	if ((events & EPOLLERR) ||
	    ((events & EPOLLHUP) && (cl->pending || cl->eof))) {
		client_free(s, slot);
		return;
	}
	while ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) && !cl->pending &&
	       !cl->closing && !cl->eof && cl->wlen < CTLSOCK_WBUF_HIGH &&
	       cl->rlen < CTLSOCK_LINE_MAX) {
		n = recv(cl->fd, cl->rbuf + cl->rlen,
			 CTLSOCK_LINE_MAX - cl->rlen, 0);
		if (n == 0) {
			/* shutdown(SHUT_WR): its requests still get answers. */
			cl->eof = true;
			break;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			client_free(s, slot);
			return;
		}
		cl->rlen += n;
		run_lines(s, cl);
	}
	settle(s, cl, slot);
}

static bool in_group(gid_t gid, const gid_t *groups, int n, gid_t want)
{
	int i;

	if (gid == want)
		return true;
	for (i = 0; i < n; i++)
		if (groups[i] == want)
			return true;
	return false;
}

/*
 * May this peer use the socket, and run mutating commands? -EACCES when
 * it may not connect at all.
 */
static int judge_peer(struct ctlsock *s, int fd, struct ucred *cred,
		      bool *admin)
{
	gid_t groups[PEER_GROUPS_MAX];
	socklen_t len = sizeof(*cred);
	int n = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) ||
	    len != sizeof(*cred))
		return -EACCES;
	*admin = cred->uid == 0;
	if (*admin)
		return 0;
	len = sizeof(groups);
	/* The peer's supplementary groups, as they were at connect(). */
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		n = len / sizeof(gid_t);
	if (s->has_admin && in_group(cred->gid, groups, n, s->admin_gid)) {
		*admin = true;
		return 0;
	}
	if (s->has_read && in_group(cred->gid, groups, n, s->read_gid))
		return 0;
	return -EACCES;
}

/* The oldest idle client: no request waiting, no reply, no stream. */
static int oldest_idle(const struct ctlsock *s)
{
	uint64_t oldest = UINT64_MAX;
	unsigned int i;
	int slot = -1;

	for (i = 0; i < s->cfg.max_clients; i++) {
		const struct ctlsock_client *cl = s->slots[i];

		if (!cl || cl->follow || cl->pending || cl->wlen ||
		    memchr(cl->rbuf, '\n', cl->rlen))
			continue;
		if (cl->active_ns < oldest) {
			oldest = cl->active_ns;
			slot = i;
		}
	}
	return slot;
}

/*
 * The oldest client without admin rights, busy or not: read-only clients
 * (streams of alerts --follow, a policy learn) must never hold every slot
 * against an administrator who comes to act.
 */
static int oldest_reader(const struct ctlsock *s)
{
	uint64_t oldest = UINT64_MAX;
	unsigned int i;
	int slot = -1;

	for (i = 0; i < s->cfg.max_clients; i++) {
		const struct ctlsock_client *cl = s->slots[i];

		if (cl && !cl->admin && cl->active_ns < oldest) {
			oldest = cl->active_ns;
			slot = i;
		}
	}
	return slot;
}

static void accept_one(struct ctlsock *s, int fd)
{
	struct ctlsock_client *cl;
	struct ucred cred;
	bool admin;
	unsigned int slot;
	int victim;

	if (judge_peer(s, fd, &cred, &admin)) {
		log_warn("control: refused a client of uid %u (pid %d): not root%s%s",
			 (unsigned int)cred.uid, (int)cred.pid,
			 s->has_read || s->has_admin ?
			 " nor in --control-group/--control-admin-group" : "",
			 s->has_read || s->has_admin ? "" :
			 " (--control-group lets a group read)");
		say_and_close(fd, EACCES,
			      "permission denied: root, --control-group or --control-admin-group only");
		return;
	}
	for (slot = 0; slot < s->cfg.max_clients && s->slots[slot]; slot++)
		;
	if (slot == s->cfg.max_clients) {
		const char *why = "closed: idle while every client slot was in use";

		victim = oldest_idle(s);
		if (victim < 0 && admin) {
			victim = oldest_reader(s);
			why = "closed: slot taken by an administrator";
		}
		if (victim < 0) {
			log_warn("control: all %u client slots busy with requests or streams; refusing a client of uid %u",
				 s->cfg.max_clients, (unsigned int)cred.uid);
			say_and_close(fd, EBUSY,
				      "all client slots are busy; try again");
			return;
		}
		log_info("control: %u clients connected; closing one of uid %u (%s) for a client of uid %u",
			 s->cfg.max_clients,
			 (unsigned int)s->slots[victim]->uid, why,
			 (unsigned int)cred.uid);
		say_and_close(dup(s->slots[victim]->fd), ECONNRESET, why);
		client_free(s, victim);
		slot = victim;
	}
	cl = calloc(1, sizeof(*cl));
	if (cl)
		cl->rbuf = malloc(CTLSOCK_LINE_MAX);
	if (!cl || !cl->rbuf) {
		free(cl);
		close(fd);
		return;
	}
	cl->fd = fd;
	cl->uid = cred.uid;
	cl->pid = cred.pid;
	cl->admin = admin;
	cl->active_ns = now_ns();
	s->slots[slot] = cl;
	watch(s, cl, EPOLL_CTL_ADD);
}

void ctlsock_accept(struct ctlsock *s)
{
	for (;;) {
		int fd = accept4(s->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("control: accept failed: %s",
					 strerror(errno));
			return;
		}
		accept_one(s, fd);
	}
}

void ctlsock_tick(struct ctlsock *s)
{
	uint64_t now = now_ns();
	unsigned int i;

	for (i = 0; i < s->cfg.max_clients; i++) {
		struct ctlsock_client *cl = s->slots[i];

		if (cl && cl->wlen && cl->stalled_ns &&
		    now - cl->stalled_ns > CTLSOCK_STALL_S * 1000000000ULL) {
			log_warn("control: a client of uid %u has read none of its %zu bytes of replies for %d s; closing it",
				 (unsigned int)cl->uid, cl->wlen,
				 CTLSOCK_STALL_S);
			client_free(s, i);
		}
	}
}

unsigned int ctlsock_max_clients(const struct ctlsock *s)
{
	return s->cfg.max_clients;
}

struct ctlsock_client *ctlsock_client(struct ctlsock *s, unsigned int slot)
{
	return slot < s->cfg.max_clients ? s->slots[slot] : NULL;
}

void ctlsock_reply(struct ctlsock *s, struct ctlsock_client *cl,
		   json_object *result, int err, const char *why)
{
	json_object *resp;
	int slot = slot_of(s, cl);

	if (err) {
		json_object_put(result);
		resp = error_reply(cl->pending_id, err, why);
	} else {
		resp = json_object_new_object();
		if (cl->pending_id)
			json_object_object_add(resp, "id",
					       json_object_get(cl->pending_id));
		json_object_object_add(resp, "ok",
				       json_object_new_boolean(true));
		json_object_object_add(resp, "result", result);
	}
	json_object_put(cl->pending_id);
	cl->pending_id = NULL;
	cl->pending = false;
	if (queue_line(cl, resp, CTLSOCK_WBUF_MAX))
		cl->closing = true;
	json_object_put(resp);
	/* Requests that waited behind this one (its caller goes on if busy). */
	if (!cl->busy)
		settle(s, cl, slot);
}

void ctlsock_send_event(struct ctlsock *s, struct ctlsock_client *cl,
			json_object *event)
{
	json_object *line = json_object_new_object();
	int slot = slot_of(s, cl);

	json_object_object_add(line, "event", json_object_get(event));
	if (queue_line(cl, line, CTLSOCK_WBUF_MAX)) {
		log_warn("control: a follower of uid %u stopped reading its alerts; closing it",
			 (unsigned int)cl->uid);
		if (cl->busy)
			cl->closing = true;
		else
			client_free(s, slot);
	} else if (!cl->busy) {
		settle(s, cl, slot);
	}
	json_object_put(line);
}

void ctlsock_queue(const struct ctlsock *s, unsigned int *clients,
		   uint64_t *bytes)
{
	unsigned int i;

	*clients = 0;
	*bytes = 0;
	for (i = 0; s && i < s->cfg.max_clients; i++) {
		if (!s->slots[i])
			continue;
		++*clients;
		*bytes += s->slots[i]->wlen;
	}
}

static int resolve_group(const char *name, gid_t *gid, const char *opt)
{
	struct group *g;

	if (!name)
		return 0;
	errno = 0;
	g = getgrnam(name);
	if (!g) {
		log_err("%s: no group '%s' on this host: create it or fix the option",
			opt, name);
		return -ENOENT;
	}
	*gid = g->gr_gid;
	return 1;
}

/*
 * Root only without groups (0600). With groups, whoever is in them must
 * reach the socket: the group owns it (0660), or with two groups anyone
 * may connect (0666) and SO_PEERCRED decides at accept.
 */
static int set_mode(struct ctlsock *s)
{
	mode_t mode = 0600;
	gid_t gid = (gid_t)-1;

	if (s->has_read && s->has_admin && s->read_gid != s->admin_gid) {
		mode = 0666;
	} else if (s->has_admin || s->has_read) {
		mode = 0660;
		gid = s->has_admin ? s->admin_gid : s->read_gid;
	}
	if (gid != (gid_t)-1 && chown(s->path, (uid_t)-1, gid))
		return -errno;
	return chmod(s->path, mode) ? -errno : 0;
}

int ctlsock_open(const struct ctlsock_config *cfg, struct ctlsock **out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctlsock *s;
	char dir[sizeof(sun.sun_path)], *slash;
	struct stat st;
	mode_t old;
	int ret;

	*out = NULL;
	if (strlen(cfg->path) >= sizeof(sun.sun_path)) {
		log_err("control socket path %s is too long; check --control",
			cfg->path);
		return -ENAMETOOLONG;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	if (!s->cfg.max_clients || s->cfg.max_clients > CTLSOCK_CLIENTS_MAX)
		s->cfg.max_clients = CTLSOCK_CLIENTS_MAX;
	s->fd = -1;
	ret = resolve_group(cfg->read_group, &s->read_gid, "--control-group");
	if (ret >= 0) {
		s->has_read = ret;
		ret = resolve_group(cfg->admin_group, &s->admin_gid,
				    "--control-admin-group");
		s->has_admin = ret > 0;
	}
	if (ret < 0)
		goto err;
	strcpy(s->path, cfg->path);
	strcpy(sun.sun_path, cfg->path);
	strcpy(dir, cfg->path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		/* Group members must be able to pass through a new one. */
		if (mkdir(dir, s->has_read || s->has_admin ? 0711 : 0700) &&
		    errno != EEXIST) {
			ret = -errno;
			log_err("cannot create %s for the control socket: %s",
				dir, strerror(-ret));
			goto err;
		}
	}
	/* A socket left by a killed daemon; anything else is not ours. */
	if (!lstat(cfg->path, &st) && S_ISSOCK(st.st_mode))
		unlink(cfg->path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		ret = -errno;
		goto err_log;
	}
	/* 0600 from the start: the mode is widened only on purpose. */
	old = umask(0177);
	ret = bind(s->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	/* Listening before the file is widened: it exists, it answers. */
	if (ret || listen(s->fd, 64) || set_mode(s)) {
		ret = -errno;
		goto err_log;
	}
	{
		struct epoll_event ev = {
			.events = EPOLLIN,
			.data = cfg->ev_data(cfg->ctx, -1),
		};

		if (epoll_ctl(cfg->epfd, EPOLL_CTL_ADD, s->fd, &ev)) {
			ret = -errno;
			goto err_log;
		}
	}
	*out = s;
	return 0;
err_log:
	log_err("cannot listen on control socket %s: %s; check --control",
		cfg->path, strerror(-ret));
err:
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return ret;
}

void ctlsock_close(struct ctlsock *s)
{
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < s->cfg.max_clients; i++)
		client_free(s, i);
	epoll_ctl(s->cfg.epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	unlink(s->path);
	free(s);
}
