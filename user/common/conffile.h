/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Daemon configuration files (/etc/vnfsec/agent.conf, server.conf).
 *
 * A file is a YAML mapping whose keys are the daemon's long options:
 *
 *	iface: [veth-sgw, veth-pgw]
 *	server: sec1.example:7443
 *	verbose: true
 *
 * It becomes command-line arguments placed before the real ones, so one
 * getopt loop validates both and the command line overrides the file (an
 * option given on the command line drops the file's values for it, lists
 * included). conffile_where() maps an argument back to FILE:LINE:COL for
 * the daemon's error message.
 */
#ifndef VNFSEC_CONFFILE_H
#define VNFSEC_CONFFILE_H

#include <getopt.h>
#include <stdbool.h>

struct conffile {
	int argc;
	char **argv;		/* argv[0], the file's options, the rest */
	int first, last;	/* argv indexes that came from the file */
	char **where;		/* "FILE:LINE:COL" per file argument */
};

/*
 * Read the file named by --config (an error when it cannot be read) or
 * else @def (skipped when absent), and replace @argc and @argv with the
 * file's options followed by the command line's. "config" and "help" may
 * not appear in a file. Returns 0 or a negative errno after one log line
 * naming FILE:LINE:COL.
 */
int conffile_apply(struct conffile *cf, const char *def,
		   const struct option *opts, int *argc, char ***argv);
/* "FILE:LINE:COL" of argument @idx, or NULL when it was not in the file. */
const char *conffile_where(const struct conffile *cf, int idx);
void conffile_free(struct conffile *cf);

#endif /* VNFSEC_CONFFILE_H */
