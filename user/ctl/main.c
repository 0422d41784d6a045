// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsecctl: command table, options shared by every command, help.
 *
 *   vnfsecctl [--socket PATH] [--server] [--json] COMMAND [ARGS]
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/common/log.h"
#include "user/ctl/ctl.h"

static const struct ctl_cmd commands[] = {
	{ "status", "status",
	  "Agent (or, with --server, server) state: connection, mode, counters.",
	  ctl_cmd_simple, false },
	{ "vnfs", "vnfs", "VNFs the agent watches, their interfaces and mode.",
	  ctl_cmd_simple, false },
	{ "flows", "flows [--vnf NAME] [--limit N]",
	  "Flows in the fast path's flow table, busiest first.", ctl_cmd_flows, false },
	{ "alerts", "alerts [--follow] [--limit N]",
	  "Recent assessments; --follow keeps printing new ones until interrupted.",
	  ctl_cmd_alerts, false },
	{ "incidents", "incidents [--state open|acknowledged|remediated|closed]",
	  "Incidents the security server has correlated.", ctl_cmd_simple, true },
	{ "incident ack", "incident ack ID",
	  "Mark an incident as seen by an operator.", ctl_cmd_incident, true },
	{ "incident close", "incident close ID",
	  "Close an incident that is over.", ctl_cmd_incident, true },
	{ "actions", "actions",
	  "Active corrective actions (agent), or every order and its state (--server).",
	  ctl_cmd_simple, false },
	{ "block", "block ADDR|CIDR [--ttl SECONDS]",
	  "Drop traffic from a source in the fast path (0 or no --ttl: until unblocked).",
	  ctl_cmd_block, false },
	{ "unblock", "unblock ADDR|CIDR", "Lift a block.", ctl_cmd_block, false },
	{ "quarantine", "quarantine VNF [--release]",
	  "Cut a VNF off from every other VNF, or let it back with --release.",
	  ctl_cmd_quarantine, false },
	{ "agents", "agents", "Agents known to the security server.",
	  ctl_cmd_simple, true },
	{ "revoke", "revoke ID [--lift]",
	  "Refuse ID's certificates and enrollments and cut its sessions; --lift undoes it.",
	  ctl_cmd_revoke, true },
	{ "agent release", "agent release ID",
	  "Free an agent id from the TPM it enrolled with (a replaced host).",
	  ctl_cmd_agent_release, true },
	{ "threatdb import", "threatdb import FILE [--format cidr|csv] [--source NAME]",
	  "Load blocklist entries into the server's threat database.",
	  ctl_cmd_threatdb, true },
	{ "policy check", "policy check FILE...",
	  "Validate policies offline; every error as FILE:LINE:COL: message.",
	  ctl_cmd_policy, false },
	{ "policy show", "policy show FILE",
	  "Print the compiled form of a policy (what the agent enforces) and its digest.",
	  ctl_cmd_policy, false },
	{ "policy diff", "policy diff OLD NEW",
	  "Rules added (+), removed (-) and changed (~) between two policies.",
	  ctl_cmd_policy, false },
	{ "policy apply", "policy apply FILE",
	  "Validate FILE, then have the agent switch to it atomically.",
	  ctl_cmd_policy, false },
	{ "policy learn", "policy learn --duration SECONDS [--output FILE]",
	  "Have the agent observe traffic and propose a policy (YAML) to review.",
	  ctl_cmd_policy, false },
	{ "policy sign", "policy sign --key ROOT.pem --target AGENT --seq N [--ttl S] --output BUNDLE FILE",
	  "Offline, with the root key: validate FILE and sign it as a bundle for one agent.",
	  ctl_cmd_bundle, false },
	{ "policy push", "policy push AGENT BUNDLE",
	  "Have the security server relay a signed bundle to AGENT (it checks the signature).",
	  ctl_cmd_bundle, true },
	{ "detector sign", "detector sign --key ROOT.pem --target AGENT|* --seq N --name NAME --version V --class dns|gtpu [--threshold NAME=VALUE]... [--abi N] [--ttl S] --output BUNDLE OBJECT",
	  "Offline, with the root key: sign a detector's BPF object as a bundle for one agent (or every one: *).",
	  ctl_cmd_detector, false },
	{ "detector push", "detector push AGENT|--all BUNDLE",
	  "Have the security server relay a signed detector bundle to AGENT or to every connected agent.",
	  ctl_cmd_detector, true },
	{ "detector rollback", "detector rollback NAME",
	  "Put the agent's previous version of detector NAME back in force (none: unload it).",
	  ctl_cmd_detector, false },
	{ "detectors", "detectors",
	  "Pushed detectors the agent runs: name, version, digest, class, hits, events, state.",
	  ctl_cmd_detector, false },
	{ NULL },
};

static void usage_all(FILE *f)
{
	const struct ctl_cmd *c;

	fprintf(f,
		"usage: vnfsecctl [--socket PATH] [--server] [--json] [--timeout S] COMMAND [ARGS]\n"
		"\n"
		"Commands:\n");
	for (c = commands; c->name; c++)
		fprintf(f, "  %s\n      %s%s\n", c->usage, c->help,
			c->server_default ? " (server)" : "");
	fprintf(f,
		"\n"
		"Common options (before or after the command):\n"
		"  --socket PATH   control socket (default %s, or %s\n"
		"                  for server commands and with --server)\n"
		"  --server        send agent-or-server commands to the server\n"
		"  --json          print the daemon's result as JSON, one object per line\n"
		"  --timeout S     give up on a daemon that has not answered (default 30)\n"
		"\n"
		"'vnfsecctl COMMAND --help' describes one command. Exit codes: 0 success,\n"
		"1 the daemon answered with an error (or a policy is invalid), 2 usage\n"
		"error, 3 the daemon could not be reached.\n",
		CTL_AGENT_SOCK, CTL_SERVER_SOCK);
}

static void usage_cmd(const struct ctl_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: vnfsecctl %s\n\n%s\n", cmd->usage, cmd->help);
	fprintf(f, "\nCommon options: --socket PATH, --server, --json, --timeout S, --help\n");
}

int ctl_usage_error(const struct ctl_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vnfsecctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\nusage: vnfsecctl %s\n", cmd->usage);
	else
		fprintf(stderr, "\n(see 'vnfsecctl --help')\n");
	return CTL_EUSAGE;
}

enum { OPT_SOCKET = 0x100, OPT_SERVER, OPT_JSON, OPT_TIMEOUT, OPT_HELP };

static bool common_opt(struct ctl_opts *o, int c, const char *arg, int *bad)
{
	char *end;
	long t;

	switch (c) {
	case OPT_SOCKET:
		o->socket = arg;
		return true;
	case OPT_SERVER:
		o->server = true;
		return true;
	case OPT_JSON:
		o->json = true;
		return true;
	case OPT_TIMEOUT:
		t = strtol(arg, &end, 10);
		if (*end || end == arg || t < 1 || t > 86400)
			*bad = 1;
		else
			o->timeout_s = (int)t;
		return true;
	}
	return false;
}

/*
 * Parse one command's options: the common ones plus @extra (handled by
 * @on_opt, which returns non-zero on a bad value). Returns the index of
 * the first positional argument, CTL_HELP_DONE or -1 on a usage error.
 */
int ctl_parse_opts(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		   char **argv, const char *extra_short,
		   const struct option *extra, int (*on_opt)(int c, void *ctx),
		   void *ctx)
{
	static const struct option common[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "server", no_argument, NULL, OPT_SERVER },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, OPT_HELP },
	};
	struct option all[16];
	size_t n = 0, i;
	int c, bad = 0;

	for (i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		all[n++] = common[i];
	for (i = 0; extra && extra[i].name && n < 15; i++)
		all[n++] = extra[i];
	memset(&all[n], 0, sizeof(all[n]));

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, extra_short ? extra_short : "",
				all, NULL)) != -1) {
		if (c == OPT_HELP) {
			usage_cmd(cmd, stdout);
			return CTL_HELP_DONE;
		}
		if (common_opt(o, c, optarg, &bad)) {
			if (bad) {
				ctl_usage_error(cmd, "--timeout: '%s' is not 1..86400 seconds",
						optarg);
				return -1;
			}
			continue;
		}
		if (c == '?' || c == ':' || !on_opt) {
			if (optopt)
				ctl_usage_error(cmd, "-%c: unknown option or missing value",
						optopt);
			else
				ctl_usage_error(cmd, "%s: unknown option or missing value",
						argv[optind - 1]);
			return -1;
		}
		if (on_opt(c, ctx))
			return -1;
	}
	return optind;
}

static const struct ctl_cmd *find_cmd(int argc, char **argv, int *used)
{
	const struct ctl_cmd *c;
	char two[64];

	if (argc >= 2) {
		snprintf(two, sizeof(two), "%s %s", argv[0], argv[1]);
		for (c = commands; c->name; c++)
			if (!strcmp(c->name, two)) {
				*used = 2;
				return c;
			}
	}
	for (c = commands; c->name; c++)
		if (!strcmp(c->name, argv[0])) {
			*used = 1;
			return c;
		}
	return NULL;
}

int main(int argc, char **argv)
{
	struct ctl_opts o = { .timeout_s = 30 };
	const struct ctl_cmd *cmd;
	int i = 1, used = 0, bad = 0, ret;

	log_init("vnfsecctl", LOG_WARNING);
	/* Common options may come before the command too. */
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage_all(stdout);
			return CTL_OK;
		} else if (!strcmp(a, "--json")) {
			o.json = true;
		} else if (!strcmp(a, "--server")) {
			o.server = true;
		} else if (!strcmp(a, "--socket") || !strcmp(a, "--timeout")) {
			if (!val)
				return ctl_usage_error(NULL, "%s needs a value", a);
			common_opt(&o, a[2] == 's' ? OPT_SOCKET : OPT_TIMEOUT, val,
				   &bad);
			if (bad)
				return ctl_usage_error(NULL, "--timeout: '%s' is not 1..86400 seconds",
						       val);
			i++;
		} else {
			return ctl_usage_error(NULL, "%s: unknown option", a);
		}
		i++;
	}
	if (i >= argc)
		return ctl_usage_error(NULL, "no command given");
	if (!strcmp(argv[i], "help")) {
		cmd = i + 1 < argc ? find_cmd(argc - i - 1, argv + i + 1, &used) :
		      NULL;
		if (cmd)
			usage_cmd(cmd, stdout);
		else
			usage_all(stdout);
		return CTL_OK;
	}
	cmd = find_cmd(argc - i, argv + i, &used);
	if (!cmd) {
		if (!strcmp(argv[i], "policy") || !strcmp(argv[i], "threatdb") ||
		    !strcmp(argv[i], "incident") || !strcmp(argv[i], "agent"))
			return ctl_usage_error(NULL, "'%s' needs a subcommand%s%s",
					       argv[i], i + 1 < argc ? ", not " : "",
					       i + 1 < argc ? argv[i + 1] : "");
		return ctl_usage_error(NULL, "'%s' is not a command", argv[i]);
	}
	/* The command sees itself as argv[0], its arguments after. */
	ret = cmd->run(cmd, &o, argc - i - used + 1, argv + i + used - 1);
	return ret == CTL_HELP_DONE ? CTL_OK : ret;
}
