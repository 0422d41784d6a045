/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A private swtpm for one test: manufactured by swtpm_setup (EK and
 * platform certificates from the local CA), served on free TCP ports,
 * killed with its parent, its state removed on stop.
 */
#ifndef VNFSEC_SELFTEST_SWTPM_H
#define VNFSEC_SELFTEST_SWTPM_H

#include <sys/types.h>

struct swtpm {
	pid_t pid;
	int port;
	char dir[256];
	char tcti[128];
};

/* 0, or -errno with a reason on stderr; nothing is left on failure. */
int swtpm_start(struct swtpm *s);
void swtpm_stop(struct swtpm *s);

/* Root and issuer certificate of swtpm_setup's local CA, as one PEM file. */
int swtpm_localca_file(const char *path);

/* Run @argv quietly; its exit status, or -errno. */
int run_quiet(char *const argv[]);



/*
 * A resource manager in front of @s: a private session D-Bus and
 * tpm2-abrmd on it (the tpm2 OpenSSL provider needs one for TLS, see
 * docs/tpm.md). Sets DBUS_SESSION_BUS_ADDRESS and TPM2OPENSSL_TCTI for
 * this process; TCTI "tabrmd:bus_type=session".
 */
struct abrmd {
	pid_t dbus_pid;
	pid_t abrmd_pid;
};

int abrmd_start(struct abrmd *a, const struct swtpm *s);
void abrmd_stop(struct abrmd *a);
#endif /* VNFSEC_SELFTEST_SWTPM_H */
