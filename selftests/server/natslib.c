// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "selftests/server/natslib.h"

#define NATS_BIN	"/usr/sbin/nats-server"

/* The test binary's own pid: its children's directories carry it. */
static pid_t harness_pid;

const char *nats_unavailable(void)
{
	if (access(NATS_BIN, X_OK))
		return "nats-server is not installed (make deps: nats-server)";
	return NULL;
}

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static bool listening(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (fd >= 0)
		close(fd);
	return ok;
}

static int spawn(struct test_nats *n)
{
	char port[16], store[96], log[96];
	int i;

	snprintf(port, sizeof(port), "%d", n->port);
	snprintf(store, sizeof(store), "%s/js", n->dir);
	snprintf(log, sizeof(log), "%s/log", n->dir);
	n->pid = fork();
	if (n->pid < 0) {
		n->pid = 0;
		return -1;
	}
	if (!n->pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(NATS_BIN, NATS_BIN, "-js", "-sd", store, "-a",
		      "127.0.0.1", "-p", port, "-l", log, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		if (listening(n->port))
			return 0;
		if (waitpid(n->pid, NULL, WNOHANG) == n->pid)
			break;
		usleep(25000);
	}
	fprintf(stderr, "# natslib: nats-server did not listen on %d (see %s)\n",
		n->port, log);
	return -1;
}

int nats_start(struct test_nats *n)
{
	n->pid = 0;
	snprintf(n->dir, sizeof(n->dir), "/tmp/vnfsec-nats.%d.%d.XXXXXX",
		 (int)harness_pid, (int)getpid());
	if (!mkdtemp(n->dir)) {
		n->dir[0] = '\0';
		return -1;
	}
	n->port = free_port();
	snprintf(n->url, sizeof(n->url), "nats://127.0.0.1:%d", n->port);
	if (n->port < 0 || spawn(n)) {
		nats_stop(n);
		return -1;
	}
	return 0;
}

int nats_crash(struct test_nats *n)
{
	if (!n->pid)
		return -1;
	kill(n->pid, SIGKILL);
	waitpid(n->pid, NULL, 0);
	n->pid = 0;
	return 0;
}

int nats_restart(struct test_nats *n)
{
	return n->pid ? -1 : spawn(n);
}

void nats_stop(struct test_nats *n)
{
	char cmd[128];
	int ret;

	nats_crash(n);
	if (!n->dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", n->dir);
	ret = system(cmd);
	(void)ret;
	n->dir[0] = '\0';
}

/* Directories of tests a timeout killed (their servers died with them). */
static void sweep(void)
{
	char pattern[64], cmd[128];
	glob_t g;
	size_t i;
	int ret;

	if (getpid() != harness_pid)
		return;
	snprintf(pattern, sizeof(pattern), "/tmp/vnfsec-nats.%d.*",
		 (int)harness_pid);
	if (glob(pattern, 0, NULL, &g))
		return;
	for (i = 0; i < g.gl_pathc; i++) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", g.gl_pathv[i]);
		ret = system(cmd);
		(void)ret;
	}
	globfree(&g);
}

static void __attribute__((constructor)) natslib_init(void)
{
	harness_pid = getpid();
	atexit(sweep);
}
