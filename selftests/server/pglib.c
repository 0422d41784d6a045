// SPDX-License-Identifier: GPL-2.0-only
#include <glob.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "selftests/server/pglib.h"

#define PG_BIN		"/usr/lib/postgresql/15/bin"
/* The socket's name only: the postmaster listens on no TCP port. */
#define PG_PORT		5432

/* The test binary's own pid: its children's directories carry it. */
static pid_t harness_pid;

const char *pg_unavailable(void)
{
	if (access(PG_BIN "/initdb", X_OK) || access(PG_BIN "/pg_ctl", X_OK))
		return "PostgreSQL 15 is not installed (make deps: postgresql-15)";
	if (!getpwnam("postgres"))
		return "no postgres user (make deps: postgresql-15)";
	if (geteuid())
		return "needs root to run PostgreSQL as the postgres user";
	return NULL;
}

static int run(const char *what, const char *cmd)
{
	if (system(cmd)) {
		fprintf(stderr, "# pglib: %s failed: %s\n", what, cmd);
		return -1;
	}
	return 0;
}

static int pg_ctl_start(struct test_pg *pg)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "runuser -u postgres -- " PG_BIN "/pg_ctl -D %s/data -l %s/log"
		 " -o \"-k %s -c listen_addresses='' -p %d\" -w -t 30 start"
		 " >/dev/null", pg->dir, pg->dir, pg->dir, PG_PORT);
	return run("pg_ctl start", cmd);
}

int pg_start(struct test_pg *pg)
{
	struct passwd *pw = getpwnam("postgres");
	char cmd[512];

	pg->dir[0] = '\0';
	if (!pw)
		return -1;
	snprintf(pg->dir, sizeof(pg->dir), "/tmp/vnfsec-pg.%d.%d.XXXXXX",
		 (int)harness_pid, (int)getpid());
	if (!mkdtemp(pg->dir)) {
		pg->dir[0] = '\0';
		return -1;
	}
	if (chown(pg->dir, pw->pw_uid, pw->pw_gid))
		goto err;
	/* -N: no fsync; a test cluster need not outlive a power cut. */
	snprintf(cmd, sizeof(cmd),
		 "runuser -u postgres -- " PG_BIN "/initdb -N -D %s/data"
		 " -A trust -U vnfsec -E UTF8 --locale=C >%s/initdb.log 2>&1",
		 pg->dir, pg->dir);
	if (run("initdb", cmd) || pg_ctl_start(pg))
		goto err;
	snprintf(cmd, sizeof(cmd),
		 "runuser -u postgres -- " PG_BIN "/createdb -h %s -p %d"
		 " -U vnfsec vnfsec", pg->dir, PG_PORT);
	if (access(PG_BIN "/createdb", X_OK))
		snprintf(cmd, sizeof(cmd),
			 "runuser -u postgres -- psql -h %s -p %d -U vnfsec"
			 " -d postgres -qc 'CREATE DATABASE vnfsec' >/dev/null",
			 pg->dir, PG_PORT);
	if (run("createdb", cmd))
		goto err;
	snprintf(pg->uri, sizeof(pg->uri),
		 "postgresql:///vnfsec?host=%s&port=%d&user=vnfsec", pg->dir,
		 PG_PORT);
	return 0;
err:
	pg_stop(pg);
	return -1;
}

int pg_crash(struct test_pg *pg)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "runuser -u postgres -- " PG_BIN "/pg_ctl -D %s/data -m immediate"
		 " -w stop >/dev/null", pg->dir);
	return run("pg_ctl stop", cmd);
}

int pg_restart(struct test_pg *pg)
{
	return pg_ctl_start(pg);
}

static void stop_dir(const char *dir)
{
	char cmd[512];
	int ret;

	snprintf(cmd, sizeof(cmd),
		 "runuser -u postgres -- " PG_BIN "/pg_ctl -D %s/data -m immediate"
		 " -w stop >/dev/null 2>&1; rm -rf %s", dir, dir);
	ret = system(cmd);
	(void)ret;
}

void pg_stop(struct test_pg *pg)
{
	if (!pg->dir[0])
		return;
	stop_dir(pg->dir);
	pg->dir[0] = '\0';
}

/* What tests of this binary left running (a timeout kills without teardown). */
static void sweep(void)
{
	char pattern[64];
	glob_t g;
	size_t i;

	if (getpid() != harness_pid)
		return;
	snprintf(pattern, sizeof(pattern), "/tmp/vnfsec-pg.%d.*",
		 (int)harness_pid);
	if (glob(pattern, 0, NULL, &g))
		return;
	for (i = 0; i < g.gl_pathc; i++)
		stop_dir(g.gl_pathv[i]);
	globfree(&g);
}

/* Interrupted (^C, a closed pipe, the suite's timeout): sweep, then die. */
static void on_signal(int sig)
{
	sweep();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void __attribute__((constructor)) pglib_init(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	size_t i;

	harness_pid = getpid();
	atexit(sweep);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_signal);
}
