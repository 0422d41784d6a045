/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A real PostgreSQL 15 for one test: initdb in a fresh directory owned by
 * the unprivileged postgres user (PostgreSQL refuses root), a postmaster
 * listening only on a Unix socket in that directory, one database
 * "vnfsec" owned by the role "vnfsec". pg_stop() stops it and removes the
 * directory; what a test that timed out left behind is removed when the
 * test binary exits (the harness kills such a test without teardown).
 */
#ifndef VNFSEC_SELFTEST_PGLIB_H
#define VNFSEC_SELFTEST_PGLIB_H

#include <stddef.h>

struct test_pg {
	char dir[64];		/* "" when not running */
	char uri[192];		/* for vnfsec-server --db */
};

/* Why PostgreSQL cannot run here (a skip reason), or NULL. */
const char *pg_unavailable(void);

/* 0, or -1 with the reason on stderr. */
int pg_start(struct test_pg *pg);
/* As kill -9 would: the postmaster stops at once, the data stays. */
int pg_crash(struct test_pg *pg);
/* Start again on the same data directory after pg_crash(). */
int pg_restart(struct test_pg *pg);
void pg_stop(struct test_pg *pg);

#endif /* VNFSEC_SELFTEST_PGLIB_H */
