/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A real NATS server with JetStream for one test (Debian's nats-server):
 * its store in a fresh directory, listening on 127.0.0.1 on a free port.
 * It dies with the test process that started it (PR_SET_PDEATHSIG), and
 * nats_stop() or the test binary's exit removes its directory.
 */
#ifndef VNFSEC_SELFTEST_NATSLIB_H
#define VNFSEC_SELFTEST_NATSLIB_H

#include <sys/types.h>

struct test_nats {
	char dir[64];		/* "" when not started */
	int port;
	pid_t pid;		/* 0 when not running */
	char url[64];		/* for vnfsec-server --nats */
};

/* Why NATS cannot run here (a skip reason), or NULL. */
const char *nats_unavailable(void);
/* 0, or -1 with the reason on stderr. */
int nats_start(struct test_nats *n);
/* As kill -9 would: gone at once, its stream stays on disk. */
int nats_crash(struct test_nats *n);
/* Again on the same port and store after nats_crash(). */
int nats_restart(struct test_nats *n);
void nats_stop(struct test_nats *n);

#endif /* VNFSEC_SELFTEST_NATSLIB_H */
