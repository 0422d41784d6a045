// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket the agent and the server share (user/common/
 * ctlsock.c), served by a child process with a stand-in command table:
 * "status" (read-only), "big" (read-only, a 2 KiB answer), "block"
 * (mutating, counted) and "blocks" (read-only: how many blocks ran).
 * Clients are real processes with the credentials an attacker or an
 * operator would have (setuid to nobody, with and without the groups).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "kselftest_harness.h"
#include "user/common/ctlsock.h"
#include "user/common/log.h"

#define READ_GROUP	"nogroup"	/* gid 65534 on Debian */
#define ADMIN_GROUP	"adm"
#define NOBODY		65534
#define SLOTS		16
#define LISTEN_TAG	1000

static unsigned int blocks_run;
static struct ctlsock *sock;	/* serve()'s, for "emit" */

/* An event to every follower, as the server's alerts --follow gets one. */
static void emit(void)
{
	json_object *ev = json_object_new_string("event");
	unsigned int i;

	for (i = 0; i < ctlsock_max_clients(sock); i++) {
		struct ctlsock_client *c = ctlsock_client(sock, i);

		if (c && c->follow)
			ctlsock_send_event(sock, c, ev);
	}
	json_object_put(ev);
}

static json_object *handle(void *ctx, struct ctlsock_client *cl,
			   const char *cmd, json_object *args, int *err,
			   const char **why)
{
	(void)ctx;
	(void)cl;
	(void)args;
	if (!strcmp(cmd, "status"))
		return json_object_new_string("fine");
	if (!strcmp(cmd, "big")) {
		char buf[2048];

		memset(buf, 'x', sizeof(buf) - 1);
		buf[sizeof(buf) - 1] = '\0';
		return json_object_new_string(buf);
	}
	if (!strcmp(cmd, "block")) {
		blocks_run++;
		return json_object_new_object();
	}
	if (!strcmp(cmd, "blocks"))
		return json_object_new_int(blocks_run);
	if (!strcmp(cmd, "follow")) {
		cl->follow = true;
		return json_object_new_object();
	}
	if (!strcmp(cmd, "emit")) {	/* a change that followers hear of */
		emit();
		return json_object_new_object();
	}
	*err = EOPNOTSUPP;
	*why = "unknown command";
	return NULL;
}

static epoll_data_t ev_data(void *ctx, int slot)
{
	(void)ctx;
	return (epoll_data_t){ .u32 = slot < 0 ? LISTEN_TAG : (uint32_t)slot };
}

static const char *const read_only[] = { "status", "big", "blocks", "follow",
					  NULL };

/* The daemon's side: one epoll loop, as in the agent and the server. */
static void serve(const char *path)
{
	struct ctlsock *s;
	int epfd = epoll_create1(0);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	log_init("test-ctlsock", LOG_ERR);
	if (ctlsock_open(&(struct ctlsock_config){
		.path = path, .read_group = READ_GROUP,
		.admin_group = ADMIN_GROUP, .read_only = read_only,
		.max_clients = SLOTS, .epfd = epfd, .ev_data = ev_data,
		.handle = handle }, &s))
		_exit(1);
	sock = s;
	for (;;) {
		struct epoll_event evs[32];
		int n = epoll_wait(epfd, evs, 32, 1000), i;

		if (n <= 0)
			ctlsock_tick(s);
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == LISTEN_TAG)
				ctlsock_accept(s);
			else
				ctlsock_io(s, evs[i].data.u32, evs[i].events);
		}
	}
}

FIXTURE(ctl) {
	char dir[64];
	char path[96];
	pid_t pid;
};

FIXTURE_SETUP(ctl)
{
	struct stat st;
	int i;

	if (!getgrnam(READ_GROUP) || !getgrnam(ADMIN_GROUP))
		SKIP(return, "groups %s and %s needed", READ_GROUP,
		     ADMIN_GROUP);
	snprintf(self->dir, sizeof(self->dir), "/tmp/vnfsec-ctl.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	/* nobody must reach the socket; the socket's own mode decides. */
	ASSERT_EQ(0, chmod(self->dir, 0711));
	snprintf(self->path, sizeof(self->path), "%s/ctl.sock", self->dir);
	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (!self->pid)
		serve(self->path);
	/* Bound at 0600, then widened (both groups: 0666): wait for that. */
	for (i = 0; i < 100 && (stat(self->path, &st) ||
				(st.st_mode & 0777) != 0666); i++)
		usleep(20000);
	ASSERT_EQ(0, stat(self->path, &st));
	ASSERT_EQ(0666, st.st_mode & 0777);
}

FIXTURE_TEARDOWN(ctl)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	unlink(self->path);
	rmdir(self->dir);
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* One response line into @buf; its length, or -1. */
static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r = recv(fd, buf + n, 1, 0);

		if (r <= 0)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return n;
		}
		n++;
	}
	return -1;
}

/* Send @cmd, read its answer: the errno it carries (0: ok), or -1. */
static int request(int fd, const char *cmd)
{
	char line[8192];
	json_object *r, *v;
	int ret = -1;

	snprintf(line, sizeof(line), "{\"cmd\": \"%s\"}\n", cmd);
	/* A refused client may find the socket closed before it writes. */
	send(fd, line, strlen(line), MSG_NOSIGNAL);
	if (read_line(fd, line, sizeof(line)) < 0)
		return -1;
	r = json_tokener_parse(line);
	if (r && json_object_object_get_ex(r, "ok", &v))
		ret = json_object_get_boolean(v) ? 0 :
		      json_object_object_get_ex(r, "errno", &v) ?
		      json_object_get_int(v) : -1;
	json_object_put(r);
	return ret;
}

/*
 * Run @cmd as uid nobody, with primary group @gid and supplementary
 * @extra (0: none), in a child; its answer's errno (0: ok), or -1.
 */
static int as_nobody(const char *path, gid_t gid, gid_t extra,
		     const char *cmd)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (!pid) {
		int fd;

		if (setgroups(extra ? 1 : 0, &extra) || setgid(gid) ||
		    setuid(NOBODY))
			_exit(255);
		fd = ctl_connect(path);
		_exit(fd < 0 ? 254 : request(fd, cmd) & 0xff);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? (WEXITSTATUS(st) == 255 ? -1 :
				WEXITSTATUS(st)) : -1;
}

static int blocks(const char *path)
{
	char line[256];
	int fd = ctl_connect(path), n = -1;
	json_object *r, *v;

	if (fd < 0 || send(fd, "{\"cmd\":\"blocks\"}\n", 17, 0) != 17 ||
	    read_line(fd, line, sizeof(line)) < 0)
		goto out;
	r = json_tokener_parse(line);
	if (r && json_object_object_get_ex(r, "result", &v))
		n = json_object_get_int(v);
	json_object_put(r);
out:
	if (fd >= 0)
		close(fd);
	return n;
}

TEST_F(ctl, unprivileged_client_sending_block_refused)
{
	/* Neither group: refused at the door. */
	EXPECT_EQ(EACCES, as_nobody(self->path, NOBODY + 1 - 2, 0, "block"));
	/* The read group: may look, may not block. */
	EXPECT_EQ(EPERM, as_nobody(self->path, getgrnam(READ_GROUP)->gr_gid,
				   0, "block"));
	EXPECT_EQ(0, blocks(self->path));
}

TEST_F(ctl, read_group_member_reads)
{
	EXPECT_EQ(0, as_nobody(self->path, getgrnam(READ_GROUP)->gr_gid, 0,
			       "status"));
	EXPECT_EQ(0, as_nobody(self->path, getgrnam(READ_GROUP)->gr_gid, 0,
			       "big"));
}

TEST_F(ctl, admin_group_member_and_root_may_block)
{
	int fd;

	EXPECT_EQ(0, as_nobody(self->path, getgrnam(READ_GROUP)->gr_gid,
			       getgrnam(ADMIN_GROUP)->gr_gid, "block"));
	fd = ctl_connect(self->path);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, request(fd, "block"));
	close(fd);
	EXPECT_EQ(2, blocks(self->path));
}

/* A script that sends its request and closes at once is still obeyed. */
TEST_F(ctl, request_then_close_still_runs)
{
	int fd = ctl_connect(self->path), i, n = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(17, send(fd, "{\"cmd\":\"block\"}\n", 17, 0));
	close(fd);
	for (i = 0; i < 50 && (n = blocks(self->path)) != 1; i++)
		usleep(20000);
	EXPECT_EQ(1, n);
}

TEST_F(ctl, overlong_line_gets_the_documented_error)
{
	static char junk[CTLSOCK_LINE_MAX + 100];
	char line[512];
	int fd = ctl_connect(self->path);

	ASSERT_LE(0, fd);
	memset(junk, 'a', sizeof(junk));
	/* The whole of it may not be taken: the daemon stops at the bound. */
	send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
	ASSERT_LT(0, read_line(fd, line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "\"errno\":90"));
	EXPECT_NE(NULL, strstr(line, "longer than 65536 bytes"));
	/* Then closed. */
	EXPECT_GE(0, recv(fd, line, sizeof(line), 0));
	close(fd);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Every slot held by idle and slow-drip clients: a normal client still
 * gets its answer within a second, each time, by taking the slot of the
 * longest idle one (which is told why).
 */
TEST_F(ctl, idle_and_slow_clients_never_starve_a_normal_one)
{
	int held[SLOTS], i, round;
	char line[512];

	for (i = 0; i < SLOTS; i++) {
		held[i] = ctl_connect(self->path);
		ASSERT_LE(0, held[i]);
		/* Half of them drip a request that never ends. */
		if (i % 2)
			ASSERT_EQ(1, send(held[i], "{", 1, 0));
	}
	for (round = 0; round < 24; round++) {
		double t0 = now_s();
		int fd = ctl_connect(self->path);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, request(fd, "status"));
		EXPECT_GT(1.0, now_s() - t0);
		/* The drippers drip on. */
		for (i = 1; i < SLOTS; i += 2)
			send(held[i], "\"", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
	}
	/* An evicted client learns why. */
	ASSERT_LT(0, read_line(held[0], line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "idle while every client slot"));
	for (i = 0; i < SLOTS; i++)
		close(held[i]);
}

/*
 * 2,000 requests in one go, each answer 2 KiB (4 MB in all, more than a
 * client may have waiting): every one answered, in order.
 */
TEST_F(ctl, pipelined_2000_requests_all_answered_in_order)
{
	static char reqs[2000 * 48];
	static char line[4096];
	size_t len = 0, off = 0;
	int fd = ctl_connect(self->path), i;

	ASSERT_LE(0, fd);
	for (i = 1; i <= 2000; i++)
		len += snprintf(reqs + len, sizeof(reqs) - len,
				"{\"id\": %d, \"cmd\": \"big\"}\n", i);
	while (off < len) {
		ssize_t n = send(fd, reqs + off, len - off, 0);

		ASSERT_LT(0, n);
		off += n;
	}
	for (i = 1; i <= 2000; i++) {
		char want[32];

		ASSERT_LT(0, read_line(fd, line, sizeof(line)));
		snprintf(want, sizeof(want), "{\"id\":%d,\"ok\":true,", i);
		ASSERT_EQ(0, strncmp(line, want, strlen(want)))
			TH_LOG("answer %d: %.80s", i, line);
	}
	/* shutdown(SHUT_WR) after requests: they are still answered. */
	ASSERT_EQ(0, request(fd, "status"));
	send(fd, "{\"id\": 7, \"cmd\": \"status\"}\n", 27, 0);
	shutdown(fd, SHUT_WR);
	ASSERT_LT(0, read_line(fd, line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "\"id\":7,\"ok\":true"));
	close(fd);
}

/*
 * A follower that pipelines a change behind its follow: the change's
 * event reaches the very client whose request is running. Answered in
 * order, nothing lost, the socket serving on (it crashed: memmove of a
 * wrapped length, or use after free when the client had closed).
 */
TEST_F(ctl, follower_hearing_its_own_change_mid_pipeline)
{
	static const char pipeline[] = "{\"cmd\":\"follow\"}\n"
		"{\"cmd\":\"emit\"}\n{\"cmd\":\"status\"}\n";
	char line[512];
	int fd = ctl_connect(self->path), lines = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(pipeline),
		  send(fd, pipeline, strlen(pipeline), 0));
	while (lines < 4 && read_line(fd, line, sizeof(line)) > 0)
		lines++;
	EXPECT_EQ(4, lines);	/* follow's ok, the event, emit's ok, status */
	close(fd);
	/* And the same, sent then closed at once. */
	fd = ctl_connect(self->path);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(pipeline),
		  send(fd, pipeline, strlen(pipeline), 0));
	close(fd);
	usleep(200000);
	fd = ctl_connect(self->path);
	ASSERT_LE(0, fd);
	ASSERT_EQ(17, send(fd, "{\"cmd\":\"status\"}\n", 17, 0));
	EXPECT_LT(0, read_line(fd, line, sizeof(line)));
	close(fd);
}

/*
 * Read-group clients fill every slot with streams (alerts --follow): a
 * newcomer of the read group is refused, an administrator still gets in,
 * displacing the oldest reader, who is told why.
 */
TEST_F(ctl, readers_streaming_in_every_slot_never_lock_out_an_admin)
{
	int ready[2], fd, st;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		gid_t gid = getgrnam(READ_GROUP)->gr_gid;
		char line[512];
		int i, held, first = -1;

		if (setgroups(0, NULL) || setgid(gid) || setuid(NOBODY))
			_exit(1);
		for (i = 0; i < SLOTS; i++) {
			held = ctl_connect(self->path);
			if (held < 0 || request(held, "follow"))
				_exit(2);
			if (first < 0)
				first = held;
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		/* The oldest follower hears why it is closed. */
		if (read_line(first, line, sizeof(line)) < 0 ||
		    !strstr(line, "slot taken by an administrator"))
			_exit(4);
		_exit(0);
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);
	/* Another reader: nothing idle to take, refused. */
	EXPECT_EQ(EBUSY, as_nobody(self->path, getgrnam(READ_GROUP)->gr_gid,
				   0, "status"));
	fd = ctl_connect(self->path);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, request(fd, "block"));
	close(fd);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st))
		TH_LOG("reader child: status %#x", st);
}

TEST_HARNESS_MAIN
