// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "selftests/tpm/swtpm.h"

#define LOCALCA_DIR "/var/lib/swtpm-localca"

int run_quiet(char *const argv[])
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -EINTR;
}

static int bind_port(int port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl)) {
		close(fd);
		return -1;
	}
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* A port P with P+1 also free (swtpm's control channel). */
static int free_port_pair(void)
{
	int i;

	for (i = 0; i < 50; i++) {
		int p = bind_port(0);

		if (p > 0 && p < 65535 && bind_port(p + 1) == p + 1)
			return p;
	}
	return -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int ready(struct swtpm *s)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(s->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

static int serve(struct swtpm *s)
{
	char server[64], ctrl[64], state[300];
	char *argv[] = { "swtpm", "socket", "--tpm2", "--server", server,
			 "--ctrl", ctrl, "--flags",
			 "not-need-init,startup-clear", "--tpmstate", state,
			 NULL };
	int i, status;

	s->port = free_port_pair();
	if (s->port < 0)
		return -EADDRINUSE;
	snprintf(server, sizeof(server), "type=tcp,port=%d", s->port);
	snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d", s->port + 1);
	snprintf(state, sizeof(state), "dir=%s", s->dir);
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (s->pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		/* Dies with the test, even when teardown never runs. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		const struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };

		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return -EADDRINUSE;	/* lost the port race */
		}
		if (ready(s)) {
			snprintf(s->tcti, sizeof(s->tcti),
				 "swtpm:host=127.0.0.1,port=%d", s->port);
			return 0;
		}
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

int swtpm_start(struct swtpm *s)
{
	const char *tmp = getenv("TMPDIR") ?: "/tmp";
	char state[300];
	char *setup[] = { "swtpm_setup", "--tpm2", "--create-ek-cert",
			  "--create-platform-cert", "--tpm-state", state,
			  "--overwrite", NULL };
	int ret, tries;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/vnfsec-swtpm.XXXXXX", tmp);
	if (!mkdtemp(s->dir)) {
		ret = -errno;
		fprintf(stderr, "# cannot create %s: %s\n", s->dir,
			strerror(errno));
		s->dir[0] = '\0';
		return ret;
	}
	snprintf(state, sizeof(state), "%s", s->dir);
	ret = run_quiet(setup);
	if (ret) {
		fprintf(stderr, "# swtpm_setup failed (%d); is swtpm-tools installed?\n",
			ret);
		swtpm_stop(s);
		return ret < 0 ? ret : -EIO;
	}
	for (tries = 0; tries < 5; tries++) {
		ret = serve(s);
		if (ret != -EADDRINUSE)
			break;
	}
	if (ret) {
		fprintf(stderr, "# swtpm did not come up: %s\n", strerror(-ret));
		swtpm_stop(s);
	}
	return ret;
}

void swtpm_stop(struct swtpm *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->dir[0])
		nftw(s->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	s->dir[0] = '\0';
}

static int append(FILE *out, const char *path)
{
	char buf[4096];
	FILE *in = fopen(path, "r");
	size_t n;

	if (!in)
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	return 0;
}

int swtpm_localca_file(const char *path)
{
	FILE *out = fopen(path, "w");
	int ret;

	if (!out)
		return -errno;
	ret = append(out, LOCALCA_DIR "/swtpm-localca-rootca-cert.pem");
	if (!ret)
		ret = append(out, LOCALCA_DIR "/issuercert.pem");
	if (fclose(out) && !ret)
		ret = -errno;
	return ret;
}

static pid_t spawn(char *const argv[], int out_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 0);
		dup2(out_fd >= 0 ? out_fd : fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void reap(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

/* tpm2-abrmd is up when a tabrmd TCTI can talk to it. */
static int abrmd_ready(void)
{
	char *argv[] = { "tpm2_getrandom", "-T", "tabrmd:bus_type=session",
			 "4", "--hex", NULL };

	return run_quiet(argv) == 0;
}

int abrmd_start(struct abrmd *a, const struct swtpm *s)
{
	char *dbus[] = { "dbus-daemon", "--session", "--nofork",
			 "--print-address=1", NULL };
	char tcti[160], addr[512] = "";
	char *abrmd[] = { "tpm2-abrmd", tcti, "--session", "--allow-root",
			  NULL };
	FILE *f;
	int p[2], i;

	memset(a, 0, sizeof(*a));
	if (pipe(p))
		return -errno;
	a->dbus_pid = spawn(dbus, p[1]);
	close(p[1]);
	f = fdopen(p[0], "r");
	if (a->dbus_pid < 0 || !f || !fgets(addr, sizeof(addr), f)) {
		fprintf(stderr, "# dbus-daemon gave no session address\n");
		if (f)
			fclose(f);
		else
			close(p[0]);
		abrmd_stop(a);
		return -EIO;
	}
	fclose(f);
	addr[strcspn(addr, "\n")] = '\0';
	setenv("DBUS_SESSION_BUS_ADDRESS", addr, 1);
	setenv("TPM2OPENSSL_TCTI", "tabrmd:bus_type=session", 1);
	snprintf(tcti, sizeof(tcti), "--tcti=%s", s->tcti);
	a->abrmd_pid = spawn(abrmd, -1);
	for (i = 0; i < 100; i++) {
		const struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };

		if (abrmd_ready())
			return 0;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "# tpm2-abrmd did not come up on %s\n", addr);
	abrmd_stop(a);
	return -ETIMEDOUT;
}

void abrmd_stop(struct abrmd *a)
{
	reap(&a->abrmd_pid);
	reap(&a->dbus_pid);
}
