// SPDX-License-Identifier: GPL-2.0-only
/*
 * Commands that are one request on a control socket: build the args the
 * contract names, send, print the result as a table, a key list or JSON.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/ctl/ctl.h"

static const struct ctl_column vnf_cols[] = {
	{ "NAME", "name", false }, { "POLICY", "in_policy", false },
	{ "TYPE", "type", false },
	{ "NETNS", "netns|netns_inode", false }, { "IFACES", "ifaces", false },
	{ "ADDRS", "addrs", false }, { "MODE", "mode", false },
	{ "PIDS", "pids", false },
	{ NULL },
};

static const struct ctl_column flow_cols[] = {
	{ "SRC", "src", false }, { "SPORT", "sport", false }, { "DST", "dst", false },
	{ "DPORT", "dport", false }, { "PROTO", "proto", false }, { "PACKETS", "packets", false },
	{ "BYTES", "bytes", false }, { "FLAGS", "tcp_flags", false },
	{ "FIRST_SEEN", "first_seen", false }, { "LAST_SEEN", "last_seen", false },
	{ NULL },
};

static const struct ctl_column alert_cols[] = {
	{ "TIME", "timestamp|time_ms", true },
	{ "SIGNATURE", "alert.signature|heuristic", false },
	{ "SEV", "alert.severity|severity", false }, { "SRC", "src_ip", false },
	{ "DST", "dest_ip", false }, { "DPORT", "dest_port", false }, { "PROTO", "proto", false },
	{ NULL },
};

static const struct ctl_column incident_cols[] = {
	{ "ID", "id", false }, { "TYPE", "type", false }, { "SEV", "severity", false },
	{ "STATE", "state", false }, { "AGENTS", "agents", false }, { "SOURCE", "src_ip", false },
	{ "FIRST_SEEN", "first_seen", false }, { "LAST_SEEN", "last_seen", false },
	{ "OPERATOR", "requires_operator", false },
	{ "PROPOSED", "proposed_action.type", false }, { "VNF", "proposed_action.vnf", false },
	{ NULL },
};

static const struct ctl_column agent_action_cols[] = {
	{ "SEQ", "seq", false }, { "TYPE", "type", false }, { "TARGET", "target", false },
	{ "EXPIRES_IN_S", "expires_in_s", false }, { "ORIGIN", "origin", false },
	{ "RATE_PPS", "rate_pps", false },
	{ NULL },
};

static const struct ctl_column server_action_cols[] = {
	{ "SEQ", "seq", false }, { "AGENT", "agent", false },
	{ "TYPE", "type", false }, { "TARGET", "target|addr", false },
	{ "TTL_S", "ttl_s", false }, { "STATE", "state", false },
	{ "INCIDENT", "incident_id", false }, { "ACKED_AT", "acked_at", false },
	{ NULL },
};

static const struct ctl_column agents_cols[] = {
	{ "ID", "id", false }, { "ADDRESS", "address", false }, { "ATTESTED", "attested", false },
	{ "TRUSTED", "trusted", false },
	{ "CONNECTED", "connected", false }, { "LAST_SEEN", "last_seen", false },
	{ NULL },
};

static bool to_server(const struct ctl_cmd *cmd, const struct ctl_opts *o)
{
	return cmd->server_default || o->server;
}

int ctl_show(const struct ctl_opts *o, struct json_object *res,
	     const struct ctl_column *cols)
{
	if (o->json)
		ctl_print_json(res);
	else if (cols && res && json_object_is_type(res, json_type_array))
		ctl_print_table(res, cols);
	else
		ctl_print_object(res);
	json_object_put(res);
	return CTL_OK;
}

static int request_show(const struct ctl_cmd *cmd, struct ctl_opts *o,
			const char *name, struct json_object *args,
			const struct ctl_column *cols)
{
	struct json_object *res, *first, *agent;
	int ret;

	ret = ctl_request(cmd, o, name, args, &res);
	json_object_put(args);
	if (ret)
		return ret;
	/*
	 * With --socket we cannot tell which daemon answered "actions": the
	 * server's orders name their agent, the agent's own actions do not.
	 */
	if (cols == agent_action_cols) {
		first = res && json_object_is_type(res, json_type_array) &&
			json_object_array_length(res) ?
			json_object_array_get_idx(res, 0) : NULL;
		if (to_server(cmd, o) ||
		    (first && json_object_object_get_ex(first, "agent", &agent)))
			cols = server_action_cols;
	}
	return ctl_show(o, res, cols);
}

static int parse_u32(const char *s, unsigned long max, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	if (!s || !*s || *s == '-')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* status, vnfs, actions, agents, incidents: no positional arguments. */
struct simple_ctx {
	const char *state;
};

static int simple_opt(int c, void *ctx)
{
	struct simple_ctx *s = ctx;

	if (c != 's')
		return -1;
	s->state = optarg;
	return 0;
}

int ctl_cmd_simple(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		   char **argv)
{
	static const struct option state_opt[] = {
		{ "state", required_argument, NULL, 's' },
		{ NULL },
	};
	bool incidents = !strcmp(cmd->name, "incidents");
	struct simple_ctx s = { 0 };
	const struct ctl_column *cols = NULL;
	struct json_object *args = NULL;
	int i;

	i = ctl_parse_opts(cmd, o, argc, argv, NULL,
			   incidents ? state_opt : NULL,
			   incidents ? simple_opt : NULL, &s);
	if (i < 0)
		return i == CTL_HELP_DONE ? CTL_HELP_DONE : CTL_EUSAGE;
	if (i < argc)
		return ctl_usage_error(cmd, "unexpected argument '%s'", argv[i]);
	if (!strcmp(cmd->name, "vnfs"))
		cols = vnf_cols;
	else if (!strcmp(cmd->name, "agents"))
		cols = agents_cols;
	else if (incidents)
		cols = incident_cols;
	else if (!strcmp(cmd->name, "actions"))
		cols = agent_action_cols;	/* see show_actions */
	if (s.state) {
		if (strcmp(s.state, "open") && strcmp(s.state, "acknowledged") &&
		    strcmp(s.state, "remediated") && strcmp(s.state, "closed"))
			return ctl_usage_error(cmd,
					       "--state: '%s' is not open, acknowledged, remediated or closed",
					       s.state);
		args = json_object_new_object();
		json_object_object_add(args, "state", json_object_new_string(s.state));
	}
	return request_show(cmd, o, cmd->name, args, cols);
}

struct flows_ctx {
	const char *vnf;
	const char *limit;
};

static int flows_opt(int c, void *ctx)
{
	struct flows_ctx *f = ctx;

	if (c == 'v')
		f->vnf = optarg;
	else if (c == 'l')
		f->limit = optarg;
	else
		return -1;
	return 0;
}

int ctl_cmd_flows(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		  char **argv)
{
	static const struct option opts[] = {
		{ "vnf", required_argument, NULL, 'v' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL },
	};
	struct flows_ctx f = { 0 };
	struct json_object *args;
	uint32_t limit;
	int i;

	i = ctl_parse_opts(cmd, o, argc, argv, NULL, opts, flows_opt, &f);
	if (i < 0)
		return i == CTL_HELP_DONE ? CTL_HELP_DONE : CTL_EUSAGE;
	if (i < argc)
		return ctl_usage_error(cmd, "unexpected argument '%s'", argv[i]);
	args = json_object_new_object();
	if (f.vnf)
		json_object_object_add(args, "vnf", json_object_new_string(f.vnf));
	if (f.limit) {
		if (parse_u32(f.limit, 1000000, &limit) || !limit) {
			json_object_put(args);
			return ctl_usage_error(cmd, "--limit: '%s' is not 1..1000000",
					       f.limit);
		}
		json_object_object_add(args, "limit", json_object_new_int64(limit));
	}
	return request_show(cmd, o, "flows", args, flow_cols);
}

struct alerts_ctx {
	bool follow;
	const char *limit;
	const struct ctl_opts *o;
};

static int alerts_opt(int c, void *ctx)
{
	struct alerts_ctx *a = ctx;

	if (c == 'f')
		a->follow = true;
	else if (c == 'l')
		a->limit = optarg;
	else
		return -1;
	return 0;
}

static void on_alert(struct json_object *ev, void *ctx)
{
	struct alerts_ctx *a = ctx;

	if (a->o->json)
		ctl_print_json(ev);
	else
		ctl_print_row(ev, alert_cols, false);
	fflush(stdout);
}

int ctl_cmd_alerts(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		   char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL },
	};
	struct alerts_ctx a = { .o = o };
	struct json_object *args;
	uint32_t limit;
	int i, ret;

	i = ctl_parse_opts(cmd, o, argc, argv, "f", opts, alerts_opt, &a);
	if (i < 0)
		return i == CTL_HELP_DONE ? CTL_HELP_DONE : CTL_EUSAGE;
	if (i < argc)
		return ctl_usage_error(cmd, "unexpected argument '%s'", argv[i]);
	args = json_object_new_object();
	if (a.limit) {
		if (parse_u32(a.limit, 1000000, &limit) || !limit) {
			json_object_put(args);
			return ctl_usage_error(cmd, "--limit: '%s' is not 1..1000000",
					       a.limit);
		}
		json_object_object_add(args, "limit", json_object_new_int64(limit));
	}
	if (!a.follow)
		return request_show(cmd, o, "alerts", args, alert_cols);
	json_object_object_add(args, "follow", json_object_new_boolean(1));
	if (!o->json)
		ctl_print_row(NULL, alert_cols, true);
	ret = ctl_stream(cmd, o, "alerts", args, on_alert, &a);
	json_object_put(args);
	return ret;
}

/* "10.0.0.1" means the host: the contract wants CIDR, so add /32 or /128. */
static int normalise_cidr(const char *in, char *out, size_t len)
{
	unsigned char addr[16];
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(in, '/');
	size_t hl = slash ? (size_t)(slash - in) : strlen(in);
	uint32_t plen;
	int family;

	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, in, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, addr) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		family = AF_INET6;
	else
		return -EINVAL;
	if (slash) {
		if (parse_u32(slash + 1, family == AF_INET ? 32 : 128, &plen))
			return -EINVAL;
	} else {
		plen = family == AF_INET ? 32 : 128;
	}
	snprintf(out, len, "%s/%u", host, plen);
	return 0;
}

struct block_ctx {
	const char *ttl;
};

static int block_opt(int c, void *ctx)
{
	struct block_ctx *b = ctx;

	if (c != 't')
		return -1;
	b->ttl = optarg;
	return 0;
}

int ctl_cmd_block(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		  char **argv)
{
	static const struct option opts[] = {
		{ "ttl", required_argument, NULL, 't' },
		{ NULL },
	};
	bool block = !strcmp(cmd->name, "block");
	struct block_ctx b = { 0 };
	struct json_object *args;
	char cidr[INET6_ADDRSTRLEN + 8];
	uint32_t ttl;
	int i;

	i = ctl_parse_opts(cmd, o, argc, argv, NULL, block ? opts : NULL,
			   block ? block_opt : NULL, &b);
	if (i < 0)
		return i == CTL_HELP_DONE ? CTL_HELP_DONE : CTL_EUSAGE;
	if (argc - i != 1)
		return ctl_usage_error(cmd, "give exactly one ADDR or CIDR");
	if (normalise_cidr(argv[i], cidr, sizeof(cidr)))
		return ctl_usage_error(cmd, "'%s' is not an IPv4 or IPv6 address or prefix",
				       argv[i]);
	args = json_object_new_object();
	json_object_object_add(args, "addr", json_object_new_string(cidr));
	if (b.ttl) {
		if (parse_u32(b.ttl, 31536000, &ttl)) {
			json_object_put(args);
			return ctl_usage_error(cmd, "--ttl: '%s' is not 0..31536000 seconds",
					       b.ttl);
		}
		json_object_object_add(args, "ttl_s", json_object_new_int64(ttl));
	}
	return request_show(cmd, o, cmd->name, args, NULL);
}

static int release_opt(int c, void *ctx)
{
	if (c != 'r')
		return -1;
	*(bool *)ctx = true;
	return 0;
}

int ctl_cmd_quarantine(const struct ctl_cmd *cmd, struct ctl_opts *o,
		       int argc, char **argv)
{
	static const struct option opts[] = {
		{ "release", no_argument, NULL, 'r' },
		{ NULL },
	};
	struct json_object *args;
	bool release = false;
	int i;

	i = ctl_parse_opts(cmd, o, argc, argv, NULL, opts, release_opt, &release);
	if (i < 0)
		return i == CTL_HELP_DONE ? CTL_HELP_DONE : CTL_EUSAGE;
	if (argc - i != 1)
		return ctl_usage_error(cmd, "give exactly one VNF name");
	if (!*argv[i] || strlen(argv[i]) >= 32)
		return ctl_usage_error(cmd, "'%s' is not a VNF name", argv[i]);
	args = json_object_new_object();
	json_object_object_add(args, "vnf", json_object_new_string(argv[i]));
	if (release)
		json_object_object_add(args, "release", json_object_new_boolean(1));
	return request_show(cmd, o, "quarantine", args, NULL);
}

struct threatdb_ctx {
	const char *format;
	const char *source;
};

static int threatdb_opt(int c, void *ctx)
{
	struct threatdb_ctx *t = ctx;

	if (c == 'f')
		t->format = optarg;
	else if (c == 's')
		t->source = optarg;
	else
		return -1;
	return 0;
}

int ctl_cmd_threatdb(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		     char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "source", required_argument, NULL, 's' },
		{ NULL },
	};
	struct threatdb_ctx t = { 0 };
	struct json_object *args;
	char path[PATH_MAX];
	const char *dot;
	int i;

	i = ctl_parse_opts(cmd, o, argc, argv, NULL, opts, threatdb_opt, &t);
	if (i < 0)
		return i == CTL_HELP_DONE ? CTL_HELP_DONE : CTL_EUSAGE;
	if (argc - i != 1)
		return ctl_usage_error(cmd, "give exactly one FILE");
	if (t.format && strcmp(t.format, "cidr") && strcmp(t.format, "csv"))
		return ctl_usage_error(cmd, "--format: '%s' is not cidr or csv",
				       t.format);
	/* The server opens the file itself: give it a path that means the same there. */
	if (!realpath(argv[i], path))
		return ctl_usage_error(cmd, "%s: %s", argv[i], strerror(errno));
	if (!t.format) {
		dot = strrchr(path, '.');
		t.format = dot && !strcmp(dot, ".csv") ? "csv" : "cidr";
	}
	args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string(path));
	json_object_object_add(args, "format", json_object_new_string(t.format));
	if (t.source)
		json_object_object_add(args, "source", json_object_new_string(t.source));
	return request_show(cmd, o, "threatdb.import", args, NULL);
}

/* incident ack|close ID: the operator has seen it, or it is over. */
int ctl_cmd_incident(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		     char **argv)
{
	struct json_object *args;
	uint32_t id;
	int i;

	i = ctl_parse_opts(cmd, o, argc, argv, NULL, NULL, NULL, NULL);
	if (i < 0)
		return i == CTL_HELP_DONE ? CTL_HELP_DONE : CTL_EUSAGE;
	if (argc - i != 1 || parse_u32(argv[i], UINT32_MAX, &id) || !id)
		return ctl_usage_error(cmd, "give one incident ID (a positive integer)");
	args = json_object_new_object();
	json_object_object_add(args, "id", json_object_new_int64(id));
	return request_show(cmd, o, !strcmp(cmd->name, "incident ack") ?
			    "incident.ack" : "incident.close", args, NULL);
}
