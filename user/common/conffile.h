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
	const struct option *opts;
	char *path;		/* the file read (or looked for) */
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

/*
 * SIGHUP: after reading the file again into @now, one warning for each
 * option whose values differ from @was's and which is not named in
 * @live (a NULL-terminated list of the options the daemon applies at
 * run time): "--X changed in FILE; restart to apply". Returns how many.
 */
unsigned int conffile_report_restart(const struct conffile *was,
				     const struct conffile *now,
				     const char *const *live);

/*
 * SIGHUP, the part both daemons share: @parse reads the configuration
 * again into @now (the daemon's parse_args() on its original command
 * line, into a fresh config of its own held by @ctx; it sets
 * *verbose). On success the log level follows --verbose and the
 * options that need a restart are named (conffile_report_restart()
 * against @was); on failure the log format is put back, @now is freed
 * and one warning says the running configuration stays.
 */
int conffile_reread(struct conffile *now, const struct conffile *was,
		    const char *const *live,
		    int (*parse)(void *ctx, int *verbose, struct conffile *cf),
		    void *ctx);

#endif /* VNFSEC_CONFFILE_H */
