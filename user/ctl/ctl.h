/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vnfsecctl: the operator's command. Offline policy work (check, diff,
 * show) runs here; everything else is a request on a daemon's control
 * socket (docs/control.md).
 */
#ifndef VNFSEC_CTL_H
#define VNFSEC_CTL_H

#include <getopt.h>
#include <stdbool.h>

#include <json-c/json.h>

/* Exit codes scripts rely on (docs/control.md). */
enum ctl_exit {
	CTL_OK = 0,
	CTL_EDAEMON = 1,	/* the daemon (or the policy) said no */
	CTL_EUSAGE = 2,
	CTL_EUNREACH = 3,	/* no daemon at the socket, or it hung up */
};

#define CTL_AGENT_SOCK	"/run/vnfsec/agent.sock"
#define CTL_SERVER_SOCK	"/run/vnfsec/server.sock"
#define CTL_HELP_DONE	(-2)	/* a command printed its --help */
#define CTL_LINE_MAX	65536	/* request or response, newline included */

struct ctl_opts {
	const char *socket;	/* NULL: the command's default daemon */
	bool server;		/* --server: talk to the security server */
	bool json;
	int timeout_s;
};

struct ctl_cmd {
	const char *name;
	const char *usage;
	const char *help;
	int (*run)(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		   char **argv);
	bool server_default;	/* goes to the server unless --socket */
};

/* main.c */
int ctl_parse_opts(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		   char **argv, const char *extra_short,
		   const struct option *extra, int (*on_opt)(int c, void *ctx),
		   void *ctx);
int ctl_usage_error(const struct ctl_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* client.c: one request, one response; streams call back per event */
int ctl_request(const struct ctl_cmd *cmd, const struct ctl_opts *o,
		const char *name, struct json_object *args,
		struct json_object **result);
int ctl_stream(const struct ctl_cmd *cmd, const struct ctl_opts *o,
	       const char *name, struct json_object *args,
	       void (*on_event)(struct json_object *ev, void *ctx), void *ctx);

/* table.c */
struct ctl_column {
	const char *header;
	const char *path;	/* "alert.signature": dotted path in a row */
	bool ms_time;		/* an integer here is ms since the epoch */
};
void ctl_print_table(struct json_object *rows, const struct ctl_column *cols);
void ctl_print_row(struct json_object *row, const struct ctl_column *cols,
		   bool header);
void ctl_print_object(struct json_object *obj);
void ctl_print_json(struct json_object *obj);

/*
 * Print a daemon's answer (JSON with --json, else a table of @cols for an
 * array, else key: value lines), free it; returns CTL_OK.
 */
int ctl_show(const struct ctl_opts *o, struct json_object *res,
	     const struct ctl_column *cols);

/* bundle_cmd.c: what policy and detector bundles share */
#include <stddef.h>
#include <stdint.h>
bool ctl_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int ctl_write_bundle(const char *path, const uint8_t *buf, size_t len);
int ctl_push_bundle(const struct ctl_cmd *cmd, struct ctl_opts *o,
		    const char *method, const char *agent, const char *file);
#define CTL_BUNDLE_TTL_DEFAULT_S	86400
#define CTL_BUNDLE_TTL_MAX_S		(86400 * 365)

/* commands */
int ctl_cmd_policy(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		   char **argv);
int ctl_cmd_bundle(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		   char **argv);
int ctl_cmd_simple(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		   char **argv);
int ctl_cmd_flows(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		  char **argv);
int ctl_cmd_alerts(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		   char **argv);
int ctl_cmd_block(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		  char **argv);
int ctl_cmd_quarantine(const struct ctl_cmd *cmd, struct ctl_opts *o,
		       int argc, char **argv);
int ctl_cmd_incident(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		     char **argv);
int ctl_cmd_revoke(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		   char **argv);
int ctl_cmd_agent_release(const struct ctl_cmd *cmd, struct ctl_opts *o,
			  int argc, char **argv);
int ctl_cmd_detector(const struct ctl_cmd *cmd, struct ctl_opts *o,
		     int argc, char **argv);
int ctl_cmd_threatdb(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		     char **argv);

#endif /* VNFSEC_CTL_H */
