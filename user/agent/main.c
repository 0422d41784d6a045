// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsec-agent: loads (or adopts) the XDP fast path on this server's VNF
 * ports, turns its ring-buffer records into threat assessments, reports
 * them to the security server over mutually authenticated TLS 1.3 and
 * enforces the corrective actions it receives. One epoll loop, no busy
 * waiting.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <limits.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "user/agent/detectors.h"
#include "user/agent/actions.h"
#include "user/agent/agent.h"
#include "user/agent/apply.h"
#include "user/agent/control.h"
#include "user/agent/join.h"
#include "user/agent/l7.h"
#include "user/agent/learn.h"
#include "user/agent/local_alerts.h"
#include "user/agent/posture.h"
#include "user/agent/rates.h"
#include "user/agent/scan.h"
#include "user/agent/shm.h"
#include "user/agent/state.h"
#include "user/common/clock.h"
#include "user/common/conffile.h"
#include "user/common/evloop.h"
#include "user/common/log.h"
#include "user/common/service.h"

#ifndef AGENT_CONF_PATH
#define AGENT_CONF_PATH "/etc/vnfsec/agent.conf"
#endif

static void usage(FILE *out)
{
	fprintf(out,
"usage: vnfsec-agent --iface IF [--iface IF]... --server ADDR:PORT\n"
"                    --ca FILE --cert FILE --key FILE [options]\n"
"       vnfsec-agent --iface IF [--iface IF]... --standalone --eve FILE\n"
"                    [--policy FILE] [options]\n"
"\n"
"  --iface IF            attach the XDP fast path to IF (repeatable)\n"
"  --xdp-mode MODE       native (default) or generic\n"
"  --xdp-attach HOW      plain (default: sole XDP user), libxdp (its\n"
"                        dispatcher, beside other XDP programs) or auto\n"
"                        (libxdp, else plain)\n"
"  --tc-egress           also attach the TC egress program to each IF\n"
"  --ingress-hook HOOK   xdp (default) or tc: the TC ingress program\n"
"                        instead of XDP (faster on veth, whose native\n"
"                        XDP copies every frame)\n"
"  --tc-lo NETNS         attach the TC program to lo in the network\n"
"                        namespace at path NETNS (repeatable)\n"
"  --pin-dir DIR         bpffs directory of the pins (" VNFSEC_PIN_DIR ")\n"
"  --fresh               replace pinned programs and maps instead of\n"
"                        adopting them\n"
"  --detach-on-exit      detach XDP on exit (default: keep enforcing)\n"
"  --server ADDR:PORT    security server (numeric address); several\n"
"                        (repeated or comma-separated): the first that\n"
"                        answers, the next when it fails\n"
"  --standalone          no security server: enforce the local policy\n"
"                        and protect mode here, write alerts to --eve;\n"
"                        no TLS, spool or TPM (refuses their options)\n"
"  --eve FILE            the standalone agent's EVE JSON alerts (- for\n"
"                        stdout); opened again on SIGHUP\n"
"  --server-name NAME    name its certificate must carry (vnfsec-server)\n"
"  --ca/--cert/--key     TLS trust anchor, this agent's certificate (its\n"
"                        CN is the agent id) and key\n"
"  --syn-threshold N     new SYN flows to one destination per window\n"
"                        that make a flood (default 500)\n"
"  --window-ms MS        detection window (default 1000)\n"
"  --scan-hosts N        distinct hosts one source opens flows to within\n"
"                        the window that make a horizontal scan (50)\n"
"  --scan-ports N        distinct ports, for a vertical scan (100)\n"
"  --slow-scan-window S  long window for slow scans (300; 0: off)\n"
"  --slow-scan-hosts N   and its thresholds (30)\n"
"  --slow-scan-ports N   (60)\n"
"  --heartbeat S         seconds between heartbeats (default 5)\n"
"  --spool-dir DIR       assessments not yet acknowledged by the server\n"
"                        (default /var/lib/vnfsec/spool)\n"
"  --spool-max-mb N      bound of the spool on disk (default 16)\n"
"  --control PATH        control socket for vnfsecctl\n"
"                        (default /run/vnfsec/agent.sock)\n"
"  --control-group GROUP  members may run read-only control commands\n"
"                        (status, alerts, ...); default: root only\n"
"  --control-admin-group GROUP  members may run every control command\n"
"                        (block, policy apply, ...), as root may\n"
"  --netns-dir DIR       named network namespaces, one per VNF\n"
"                        (default /run/netns)\n"
"  --protect-ttl S       protect mode: block a flood's or scan's source\n"
"                        here for S seconds without waiting for the\n"
"                        server, and tell it (default 0: off)\n"
"  --policy FILE         apply this policy (docs/policy.md) at start;\n"
"                        later ones come with 'vnfsecctl policy apply'\n"
"  --action-key FILE     the server's public key (PEM): carry out only\n"
"                        actions it signed for this agent\n"
"  --action-issuer NAME  the signer they must name (--server-name)\n"
"  --bundle-key FILE     the root public key (PEM): put in force the\n"
"                        policy bundles the operator signed with it for\n"
"                        this agent (docs/trust.md); refuse any other\n"
"  --sample-every N      the fast path samples 1 packet in N for the\n"
"                        application-protocol check (0: off; default:\n"
"                        as the fast path has it)\n"
"  --mirror-iface IF     deep-inspection port: mirror_flow actions copy\n"
"                        their flows there (TC egress programs)\n"
"  --tpm TCTI            this host's TPM (tabrmd:bus_type=system): answer\n"
"                        the server's quote requests (re-attestation)\n"
"  --enroll              when --cert is missing or about to expire,\n"
"                        enroll with the TPM first: a new TLS key inside\n"
"                        the TPM (--key gets its wrapped blob) and a\n"
"                        certificate from the server (docs/trust.md)\n"
"  --agent-id ID         the identity to enroll as (with --enroll); the\n"
"                        alerts' agent_id when standalone (host name)\n"
"  --state FILE          with --tpm: the agent state (last signed action\n"
"                        and bundle, the bundle's policy) sealed by the\n"
"                        TPM (default SPOOL_DIR/agent.state); without\n"
"                        --tpm, plain files in SPOOL_DIR\n"
"  --state-nv INDEX      NV counter that dates it (default 0x01500016)\n"
"  --state-pcrs LIST     PCRs it is sealed to (default 0,7)\n"
"  --state-reset         start with fresh state although the TPM's counter\n"
"                        says one was saved (its file was removed): the\n"
"                        operator's decision, never the default\n"
"  --verbose\n"
"  --log-format FMT      text (default) or json: one object per line\n"
"  --config FILE         options as a YAML mapping of long option: value,\n"
"                        the command line overrides it (default\n"
"                        " AGENT_CONF_PATH ", skipped when absent);\n"
"                        read again on SIGHUP for --verbose,\n"
"                        --log-format and --policy\n");
}

/* Parsing again on SIGHUP: a refusal is one line, not the usage. */
static bool reparsing;

static void usage_or_line(FILE *out)
{
	if (reparsing)
		log_err("the configuration lacks --iface, or --server, --ca, --cert and --key (or --standalone)");
	else
		usage(out);
}

/*
 * --standalone: no server, so nothing that only talks to one (TLS, the
 * spool, signed actions and bundles, the TPM's attestation and sealed
 * state). Each such option is refused by name: silently ignoring it
 * would let an operator believe it had an effect.
 */
static int check_standalone(const struct agent_config *cfg,
			    const struct option *opts, const bool *given,
			    bool extra)
{
	static const int server_only[] = {
		's', 'n', 'C', 'c', 'k', 'B', 'S', 'M', 'A', 'U',
		0x1000, 0x1001, 0x1003, 0x1004, 0x1005, 0x1006, 0x1007,
	};
	unsigned int i, o;

	if (!cfg->standalone) {
		log_err("--eve is the standalone agent's alert file: add --standalone, or drop --eve (a connected agent's alerts are the server's)");
		return -EINVAL;
	}
	for (i = 0; i < sizeof(server_only) / sizeof(server_only[0]); i++) {
		if (!given[server_only[i]])
			continue;
		for (o = 0; opts[o].val != server_only[i]; o++)
			;
		log_err("--standalone runs without a security server: --%s contradicts it; drop one of them",
			opts[o].name);
		return -EINVAL;
	}
	if (!cfg->eve_path) {
		log_err("--standalone needs --eve FILE, the file its alerts go to (- for stdout)");
		return -EINVAL;
	}
	if (extra || !cfg->nr_ifaces) {
		usage_or_line(stderr);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct agent_config *cfg,
		      int *verbose, struct conffile *conf)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "xdp-mode", required_argument, NULL, 'x' },
		{ "xdp-attach", required_argument, NULL, 'X' },
		{ "tc-egress", no_argument, NULL, 'E' },
		{ "ingress-hook", required_argument, NULL, 0x1010 },
		{ "tc-lo", required_argument, NULL, 'o' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "fresh", no_argument, NULL, 'F' },
		{ "detach-on-exit", no_argument, NULL, 'D' },
		{ "server", required_argument, NULL, 's' },
		{ "server-name", required_argument, NULL, 'n' },
		{ "ca", required_argument, NULL, 'C' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "syn-threshold", required_argument, NULL, 'T' },
		{ "window-ms", required_argument, NULL, 'W' },
		{ "heartbeat", required_argument, NULL, 'B' },
		{ "scan-hosts", required_argument, NULL, 'H' },
		{ "scan-ports", required_argument, NULL, 'O' },
		{ "slow-scan-window", required_argument, NULL, 'L' },
		{ "slow-scan-hosts", required_argument, NULL, 'J' },
		{ "slow-scan-ports", required_argument, NULL, 'K' },
		{ "spool-dir", required_argument, NULL, 'S' },
		{ "control", required_argument, NULL, 'Q' },
		{ "netns-dir", required_argument, NULL, 'N' },
		{ "protect-ttl", required_argument, NULL, 'R' },
		{ "policy", required_argument, NULL, 'Y' },
		{ "action-key", required_argument, NULL, 'A' },
		{ "action-issuer", required_argument, NULL, 'U' },
		{ "spool-max-mb", required_argument, NULL, 'M' },
		{ "mirror-iface", required_argument, NULL, 'I' },
		{ "sample-every", required_argument, NULL, 'e' },
		{ "tpm", required_argument, NULL, 0x1000 },
		{ "enroll", no_argument, NULL, 0x1001 },
		{ "agent-id", required_argument, NULL, 0x1002 },
		{ "bundle-key", required_argument, NULL, 0x1003 },
		{ "state", required_argument, NULL, 0x1004 },
		{ "state-nv", required_argument, NULL, 0x1005 },
		{ "state-pcrs", required_argument, NULL, 0x1006 },
		{ "state-reset", no_argument, NULL, 0x1007 },
		{ "control-group", required_argument, NULL, 0x1011 },
		{ "control-admin-group", required_argument, NULL, 0x1012 },
		{ "standalone", no_argument, NULL, 0x1013 },
		{ "eve", required_argument, NULL, 0x1014 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "log-format", required_argument, NULL, 0x1100 },
		{ "config", required_argument, NULL, 0x1101 },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	bool given[0x1200] = {};
	int opt;

	if (conffile_apply(conf, AGENT_CONF_PATH, opts, &argc, &argv))
		return -EINVAL;
	optind = 0;	/* getopt starts afresh (SIGHUP parses again) */
	while ((opt = getopt_long(argc, argv, "i:s:vh", opts, NULL)) != -1) {
		/* An option from the file is named by its FILE:LINE:COL. */
		log_set_context(conffile_where(conf, optind - 1));
		given[opt & 0x11ff] = true;
		switch (opt) {
		case 'i':
			if (cfg->nr_ifaces == AGENT_MAX_IFACES) {
				log_err("--iface: at most %d interfaces",
					AGENT_MAX_IFACES);
				return -EINVAL;
			}
			cfg->ifaces[cfg->nr_ifaces++] = optarg;
			break;
		case 'x':
			if (strcmp(optarg, "native") && strcmp(optarg, "generic")) {
				log_err("--xdp-mode: '%s' is not native or generic",
					optarg);
				return -EINVAL;
			}
			cfg->xdp_skb_mode = !strcmp(optarg, "generic");
			break;
		case 'X':
			if (!strcmp(optarg, "plain")) {
				cfg->xdp_attach = AGENT_XDP_ATTACH_PLAIN;
			} else if (!strcmp(optarg, "libxdp")) {
				cfg->xdp_attach = AGENT_XDP_ATTACH_LIBXDP;
			} else if (!strcmp(optarg, "auto")) {
				cfg->xdp_attach = AGENT_XDP_ATTACH_AUTO;
			} else {
				log_err("--xdp-attach: '%s' is not plain, libxdp or auto",
					optarg);
				return -EINVAL;
			}
			break;
		case 'E': cfg->tc_egress = true; break;
		case 0x1010:
			if (strcmp(optarg, "xdp") && strcmp(optarg, "tc")) {
				log_err("--ingress-hook: '%s' is not xdp or tc",
					optarg);
				return -EINVAL;
			}
			cfg->tc_ingress = !strcmp(optarg, "tc");
			break;
		case 'o':
			if (cfg->nr_lo_netns == AGENT_MAX_IFACES) {
				log_err("--tc-lo: at most %d namespaces",
					AGENT_MAX_IFACES);
				return -EINVAL;
			}
			cfg->lo_netns[cfg->nr_lo_netns++] = optarg;
			break;
		case 'P': cfg->pin_dir = optarg; break;
		case 'F': cfg->fresh = true; break;
		case 'D': cfg->detach_on_exit = true; break;
		case 's':
			if (uplink_server_add(&cfg->server, optarg))
				return -EINVAL;
			break;
		case 'n': cfg->server_name = optarg; break;
		case 'C': cfg->tls.ca = optarg; break;
		case 'c': cfg->tls.cert = optarg; break;
		case 'k': cfg->tls.key = optarg; break;
		case 'T':
			if (parse_uint_opt(optarg, 1, 1U << 30,
					   &cfg->syn_threshold,
					   "--syn-threshold"))
				return -EINVAL;
			break;
		case 'W':
			if (parse_uint_opt(optarg, 1, 3600000, &cfg->window_ms,
					   "--window-ms"))
				return -EINVAL;
			break;
		case 'B':
			if (parse_uint_opt(optarg, 1, 3600, &cfg->heartbeat_s,
					   "--heartbeat"))
				return -EINVAL;
			break;
		case 'H':
			if (parse_uint_opt(optarg, 2, 100000, &cfg->scan_hosts,
					   "--scan-hosts"))
				return -EINVAL;
			break;
		case 'O':
			if (parse_uint_opt(optarg, 2, 100000, &cfg->scan_ports,
					   "--scan-ports"))
				return -EINVAL;
			break;
		case 'L':
			if (parse_uint_opt(optarg, 0, 86400,
					   &cfg->slow_scan_window_s,
					   "--slow-scan-window"))
				return -EINVAL;
			break;
		case 'J':
			if (parse_uint_opt(optarg, 2, 100000,
					   &cfg->slow_scan_hosts,
					   "--slow-scan-hosts"))
				return -EINVAL;
			break;
		case 'K':
			if (parse_uint_opt(optarg, 2, 100000,
					   &cfg->slow_scan_ports,
					   "--slow-scan-ports"))
				return -EINVAL;
			break;
		case 'S': cfg->spool_dir = optarg; break;
		case 'Q': cfg->control_path = optarg; break;
		case 'N': cfg->netns_dir = optarg; break;
		case 'Y': cfg->policy_path = optarg; break;
		case 'A': cfg->action_key = optarg; break;
		case 'U': cfg->action_issuer = optarg; break;
		case 'I': cfg->mirror_iface = optarg; break;
		case 'e': {
			unsigned int n;

			if (parse_uint_opt(optarg, 0, 1U << 30, &n,
					   "--sample-every"))
				return -EINVAL;
			cfg->sample_every = n;
			break;
		}
		case 'R':
			if (parse_uint_opt(optarg, 0, 86400, &cfg->protect_ttl_s,
					   "--protect-ttl"))
				return -EINVAL;
			break;
		case 'M':
			if (parse_uint_opt(optarg, 1, 65536, &cfg->spool_max_mb,
					   "--spool-max-mb"))
				return -EINVAL;
			break;
		case 0x1000: cfg->tpm_tcti = optarg; break;
		case 0x1001: cfg->enroll = true; break;
		case 0x1002: cfg->agent_id = optarg; break;
		case 0x1003: cfg->bundle_key = optarg; break;
		case 0x1004: cfg->state_path = optarg; break;
		case 0x1005: {
			char *end;
			unsigned long n = strtoul(optarg, &end, 0);

			if (*end || end == optarg || (n >> 24) != 0x01) {
				log_err("--state-nv: '%s' is not an NV index such as 0x01500016",
					optarg);
				return -EINVAL;
			}
			cfg->state_nv = n;
			break;
		}
		case 0x1006:
			if (agent_state_parse_pcrs(optarg, &cfg->state_pcrs))
				return -EINVAL;
			break;
		case 0x1007: cfg->state_reset = true; break;
		case 0x1011: cfg->control_group = optarg; break;
		case 0x1012: cfg->control_admin_group = optarg; break;
		case 0x1013: cfg->standalone = true; break;
		case 0x1014: cfg->eve_path = optarg; break;
		case 'v': *verbose = 1; break;
		case 0x1100:
			if (log_set_format(optarg))
				return -EINVAL;
			break;
		case 0x1101: break;	/* read by conffile_apply() */
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	log_set_context(NULL);
	if (cfg->standalone || cfg->eve_path)
		return check_standalone(cfg, opts, given, optind != argc);
	if (optind != argc || !cfg->nr_ifaces || !cfg->server ||
	    !cfg->tls.ca || !cfg->tls.cert || !cfg->tls.key) {
		usage_or_line(stderr);
		return -EINVAL;
	}
	if (cfg->enroll && (!cfg->tpm_tcti || !cfg->agent_id ||
			    strlen(cfg->agent_id) > WIRE_AGENT_ID_MAX)) {
		log_err("--enroll needs --tpm TCTI and --agent-id ID (at most %d characters)",
			WIRE_AGENT_ID_MAX);
		return -EINVAL;
	}
	return 0;
}

/* Tell the operator once per increase that the fast path lost records. */
static void report_losses(const struct sensor *s, uint64_t *last)
{
	uint64_t lost;

	if (sensor_counter(s, VNFSEC_CNT_RINGBUF_FULL, &lost) || lost <= *last)
		return;
	log_warn("fast path lost %llu ring-buffer records (%llu in all): the agent fell behind",
		 (unsigned long long)(lost - *last), (unsigned long long)lost);
	*last = lost;
}

/* Entries of the map pinned as @name in @pin_dir; -1 when none is. */
static long pinned_entries(const char *pin_dir, const char *name)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	char path[PATH_MAX];
	uint8_t *key = NULL;
	long n = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/maps/%s", pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		key = calloc(2, info.key_size ? info.key_size : 1);
	if (key) {
		void *prev = NULL;

		for (n = 0; !bpf_map_get_next_key(fd, prev,
						  key + info.key_size); n++) {
			memcpy(key, key + info.key_size, info.key_size);
			prev = key;
		}
	}
	free(key);
	close(fd);
	return n;
}

/*
 * What the fast path enforces while this agent has put nothing in force:
 * the maps pinned by an earlier agent (or bpftool), or nothing.
 */
static void enforced_now(const struct agent_config *cfg, char *buf,
			 size_t len)
{
	long blocks = pinned_entries(cfg->pin_dir, "blocklist_v4");
	long vnfs = pinned_entries(cfg->pin_dir, "vnf_addrs");
	long rules = pinned_entries(cfg->pin_dir, "vnf_pair_policy");

	if (blocks < 0) {
		snprintf(buf, len, "no fast path is pinned in %s: nothing is enforced",
			 cfg->pin_dir);
		return;
	}
	snprintf(buf, len, "the fast path pinned in %s: %ld blocked IPv4 prefixes, %ld VNF addresses, %ld VNF pair rules",
		 cfg->pin_dir, blocks, vnfs < 0 ? 0 : vnfs,
		 rules < 0 ? 0 : rules);
}

/*
 * --policy is read and validated before the fast path is touched: a
 * refused one must not leave an emptied fast path behind (--fresh
 * replaces the pinned maps). 0 with *out set, 0 with *out NULL when the
 * agent goes on with what is pinned (*note says so), or an error when
 * it must not start.
 */
static int start_policy(const struct agent_config *cfg,
			struct policy_compiled **out, char *note, size_t len)
{
	struct policy_diag diag = {};
	char now[300];
	int ret;

	*out = NULL;
	note[0] = '\0';
	if (!cfg->policy_path)
		return 0;
	ret = policy_load_file(cfg->policy_path, out, &diag);
	policy_diag_print(&diag, stderr);
	if (!ret) {
		policy_diag_free(&diag);
		return 0;
	}
	enforced_now(cfg, now, sizeof(now));
	if (cfg->fresh) {
		log_err("policy %s refused at start (%u problems, first: %s); with --fresh the agent would replace the fast path, so it does not start; nothing was changed. Enforced now: %s. Fix the policy, or start without --fresh to keep what is pinned",
			cfg->policy_path, diag.n,
			diag.n ? diag.lines[0] : strerror(-ret), now);
		policy_diag_free(&diag);
		return ret;
	}
	snprintf(note, len, "--policy %s refused at start; kept %s",
		 cfg->policy_path, now);
	log_err("policy %s refused at start (%u problems, first: %s); not applied. Enforced now: %s; apply a corrected policy with 'vnfsecctl policy apply'",
		cfg->policy_path, diag.n,
		diag.n ? diag.lines[0] : strerror(-ret), now);
	policy_diag_free(&diag);
	return 0;
}

/* Everything the loop drives. */
struct agent_rt {
	struct agent_config *cfg;
	int argc;			/* as started: SIGHUP parses again */
	char **argv;
	const struct conffile *conf;	/* the file as read at start */
	struct local_alerts *alerts;	/* standalone: the --eve file */
	int hup_fd;
	struct posture *posture;
	struct join *join;
	bool rescan;			/* a namespace came or went */
	unsigned int ticks;
	struct rates rates;
	struct sensor *sensor;
	struct event_ctx *ev;
	struct enforcer *enf;
	struct actions *actions;
	struct control *control;
	struct ring_buffer *rb;
	int epfd;
	int tick_fd;
};

static const struct agent_config cfg_defaults = {
	.pin_dir = VNFSEC_PIN_DIR,
	.server_name = "vnfsec-server",
	.syn_threshold = 500,
	.window_ms = 1000,
	.scan_hosts = 50,
	.scan_ports = 100,
	.slow_scan_window_s = 300,
	.slow_scan_hosts = 30,
	.slow_scan_ports = 60,
	.heartbeat_s = 5,
	.spool_dir = "/var/lib/vnfsec/spool",
	.spool_max_mb = 16,
	.control_path = "/run/vnfsec/agent.sock",
	.netns_dir = "/run/netns",
	.sample_every = -1,
};

/* --policy again on SIGHUP, unless a signed bundle's policy is in force. */
static void reload_policy(struct agent_rt *rt, const char *path)
{
	struct policy_diag diag = {};
	const struct agent_policy *ap = rt->ev->policy;

	if (!path)
		return;
	if (ap && !strncmp(ap->origin, "bundle-", 7)) {
		log_warn("SIGHUP: --policy %s not applied: the policy of signed %s is in force",
			 path, ap->origin);
		return;
	}
	/* A refused file leaves the policy in force; apply.c says so. */
	agent_policy_apply(rt->ev, path, &diag);
	policy_diag_free(&diag);
}

/* parse_args() again, on the command line the agent was started with. */
struct reparse {
	const struct agent_rt *rt;
	struct agent_config cfg;
};

static int reparse(void *ctx, int *verbose, struct conffile *conf)
{
	struct reparse *rp = ctx;
	int ret;

	reparsing = true;
	ret = parse_args(rp->rt->argc, rp->rt->argv, &rp->cfg, verbose, conf);
	reparsing = false;
	return ret;
}

/*
 * SIGHUP: the configuration (file and command line) is read again. What
 * can change under a running agent is applied: the log level and
 * format, --policy (read again even when its path is unchanged), and
 * the --eve file is opened again (log rotation). Every other option
 * that changed gets one line: it needs a restart. A configuration that
 * no longer parses changes nothing.
 */
static void reload(struct agent_rt *rt)
{
	static const char *const live[] = {
		"verbose", "log-format", "policy", NULL
	};
	static struct conffile held;	/* what cfg->policy_path points into */
	struct reparse rp = { .rt = rt, .cfg = cfg_defaults };
	struct agent_config *now = &rp.cfg;
	struct conffile conf;

	evloop_drain(rt->hup_fd);
	if (conffile_reread(&conf, rt->conf, live, reparse, &rp))
		return;
	if (rt->alerts)
		local_alerts_reopen(rt->alerts);
	if (rt->cfg->policy_path && !now->policy_path)
		log_info("SIGHUP: --policy is no longer set; the policy in force stays");
	reload_policy(rt, now->policy_path);
	rt->cfg->policy_path = now->policy_path;
	conffile_free(&held);
	held = conf;
	log_info("SIGHUP: configuration %s read again", conf.path);
	log_debug("SIGHUP: in force: log level debug, format %s, --policy %s",
		  log_format_name(), now->policy_path ?: "(none)");
}

static int loop(struct agent_rt *rt)
{
	struct epoll_event evs[16];
	uint64_t lost = 0;

	sensor_counter(rt->sensor, VNFSEC_CNT_RINGBUF_FULL, &lost);
	for (;;) {
		int n = epoll_wait(rt->epfd, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			uint32_t tag = evs[i].data.u32;
			uint64_t ticks;

			switch (tag) {
			case AGENT_EV_RINGBUF:
				if (ring_buffer__consume(rt->rb) < 0)
					log_warn("ring buffer read failed");
				break;
			case AGENT_EV_UPLINK:
				uplink_io(rt->ev->uplink, evs[i].events);
				break;
			case AGENT_EV_TIMER:
				if (read(rt->tick_fd, &ticks, sizeof(ticks)) <= 0)
					break;
				enforcer_tick(rt->enf);
				actions_tick(rt->actions, clock_mono_ns());
				/* Samples do not wake us: collect them here. */
				ring_buffer__consume(rt->rb);
				if (rt->ev->uplink)
					uplink_tick(rt->ev->uplink, rt->sensor);
				report_losses(rt->sensor, &lost);
				rates_tick(&rt->rates, rt->sensor, rt->ev);
				control_tick(rt->control);
				/*
				 * ip-netns mounts the namespace just after
				 * creating its file: look again a second
				 * later, and every 10 s for processes.
				 */
				if (rt->rescan || ++rt->ticks % 10 == 0) {
					posture_set_ports(rt->posture,
							  rt->sensor->ifindex,
							  rt->sensor->nr_attached);
					posture_scan(rt->posture);
					rt->rescan = false;
				}
				break;
			case AGENT_EV_KMOD:
				shm_read_events(rt->ev->shm, rt->ev);
				break;
			case AGENT_EV_LINK:
				join_links(rt->join);
				break;
			case AGENT_EV_POSTURE:
				if (posture_changed(rt->posture)) {
					posture_scan(rt->posture);
					rt->rescan = true;
				}
				break;
			case AGENT_EV_HANGUP:
				reload(rt);
				break;
			case AGENT_EV_SIGNAL:
				/* Detaching is said when done (sensor.c). */
				log_info("signal received; exiting%s",
					 rt->cfg->detach_on_exit ? "" :
					 " (the fast path stays attached and enforcing)");
				return 0;
			default:
				if (tag >= CONTROL_EV_LISTEN)
					control_io(rt->control, tag,
						   evs[i].events);
			}
		}
	}
}

static int run(struct agent_rt *rt)
{
	int ret;

	rates_init(&rt->rates);
	ret = loop(rt);
	rates_free(&rt->rates);
	return ret;
}

int main(int argc, char **argv)
{
	struct agent_config cfg = cfg_defaults;
	struct event_ctx ev = { .cfg = &cfg };
	struct sensor sensor = { .prog_fd = -1 };
	char agent_id[WIRE_AGENT_ID_MAX + 1];
	struct enforcer *enf = NULL;
	struct actions *actions = NULL;
	struct ring_buffer *rb = NULL;
	struct control *control = NULL;
	struct posture *posture = NULL;
	struct join *join = NULL;
	struct local_alerts *alerts = NULL;
	struct agent_store *store = NULL;
	struct policy_compiled *start_pol = NULL;
	char policy_note[600], thresholds[96];
	int posture_fd = -1, kmod_fd = -1, link_fd = -1;
	int epfd = -1, sig_fd = -1, hup_fd = -1, tick_fd = -1, verbose = 0, ret;
	bool sensor_up = false;
	SSL_CTX *tls = NULL;
	/* Holds the strings cfg points to: freed only at exit. */
	static struct conffile conf;

	log_init("vnfsec-agent", LOG_INFO);
	if (parse_args(argc, argv, &cfg, &verbose, &conf))
		return 2;
	if (verbose)
		log_init("vnfsec-agent", LOG_DEBUG);
	log_libbpf_init();
	/*
	 * Signals are blocked before the TPM is first opened (the sealed
	 * state, a TPM-resident TLS key): tpm2-abrmd's TCTI starts D-Bus
	 * threads, which inherit the mask; else SIGTERM kills the agent.
	 */
	sig_fd = evloop_signalfd();
	hup_fd = evloop_hupfd();

	if (cfg.standalone) {
		/* The alerts' agent_id: --agent-id, else this host's name. */
		if (cfg.agent_id)
			snprintf(agent_id, sizeof(agent_id), "%s", cfg.agent_id);
		else if (gethostname(agent_id, sizeof(agent_id)))
			snprintf(agent_id, sizeof(agent_id), "standalone");
		agent_id[sizeof(agent_id) - 1] = '\0';
	} else if (cfg.enroll) {
		/* The uplink enrolls when it first connects (enroll.c). */
		snprintf(agent_id, sizeof(agent_id), "%s", cfg.agent_id);
	} else {
		ret = tls_cert_cn(cfg.tls.cert, agent_id, sizeof(agent_id));
		if (ret)
			goto out;
		tls = tls_ctx_new(false, &cfg.tls);
		if (!tls) {
			ret = -EINVAL;
			goto out;
		}
	}
	/* A refused policy or state stops (or leaves alone) what is
	 * enforced before the agent touches anything. */
	ret = start_policy(&cfg, &start_pol, policy_note, sizeof(policy_note));
	if (ret)
		goto out;
	/* Sequences of signed actions and bundles: none come standalone. */
	ret = cfg.standalone ? 0 : agent_store_open(&cfg, agent_id, &store);
	if (ret)
		goto out;
	ret = sensor_open(&sensor, &cfg);
	if (ret)
		goto out;
	sensor_up = true;

	ret = -ENOMEM;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	tick_fd = evloop_tick(1);
	enf = enforcer_new(&sensor);
	actions = actions_new(&sensor, enf, &ev);
	ev.l7 = l7_new();
	ev.origins = flow_origins_new();
	ev.learn = learn_openings_new();
	ev.actions = actions;
	ev.syn_flood = syn_flood_new(cfg.syn_threshold, cfg.window_ms);
	ev.scan_fast = scan_new(&(struct scan_config){
		.window_ns = cfg.window_ms * 1000000ULL,
		.horizontal = cfg.scan_hosts, .vertical = cfg.scan_ports });
	if (cfg.slow_scan_window_s)
		ev.scan_slow = scan_new(&(struct scan_config){
			.window_ns = cfg.slow_scan_window_s * 1000000000ULL,
			.horizontal = cfg.slow_scan_hosts,
			.vertical = cfg.slow_scan_ports });
	rb = ring_buffer__new(sensor.events_fd, events_handle, &ev, NULL);
	if (epfd < 0 || sig_fd < 0 || hup_fd < 0 || tick_fd < 0 || !enf ||
	    !actions || !ev.l7 || !ev.origins || !ev.learn ||
	    !ev.syn_flood ||
	    !ev.scan_fast || (cfg.slow_scan_window_s && !ev.scan_slow) ||
	    !rb) {
		log_err("cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	ret = posture_open(cfg.netns_dir, &posture, &posture_fd);
	if (!ret)
		ret = evloop_add(epfd, posture_fd,
				 (epoll_data_t){ .u32 = AGENT_EV_POSTURE });
	if (!ret)
		ret = join_open(&sensor, &cfg, &ev, &join, &link_fd);
	if (!ret)
		ret = evloop_add(epfd, link_fd,
				 (epoll_data_t){ .u32 = AGENT_EV_LINK });
	if (!ret)
		ret = shm_open_monitor(&ev.shm, &kmod_fd);
	if (!ret && kmod_fd >= 0)
		ret = evloop_add(epfd, kmod_fd,
				 (epoll_data_t){ .u32 = AGENT_EV_KMOD });
	if (ret)
		goto out;
	ev.posture = posture;
	/* Again, now that it can tell the VNFs linked to our ports. */
	posture_set_ports(posture, sensor.ifindex, sensor.nr_attached);
	posture_scan(posture);
	posture_set_notify(posture, join_posture, join);
	ev.sensor = &sensor;
	ev.enf = enf;
	ev.protect_ttl_s = cfg.protect_ttl_s;
	ret = actions_set_mirror(&sensor, cfg.mirror_iface);
	if (!ret && cfg.sample_every >= 0)
		ret = sensor_set_sampling(&sensor, cfg.sample_every);
	if (ret)
		goto out;
	if (store && agent_store_apply_policy(store, &ev) > 0) {
		join_ports(join);
	} else if (start_pol) {
		char origin[PATH_MAX + 32];

		snprintf(origin, sizeof(origin), "file %s (--policy at start)",
			 cfg.policy_path);
		ret = agent_policy_apply_compiled(&ev, start_pol, origin);
		start_pol = NULL;
		if (ret)
			goto out;
		/* Ports the policy names besides --iface, there already. */
		join_ports(join);
	} else if (!policy_note[0]) {
		char now[300];

		enforced_now(&cfg, now, sizeof(now));
		snprintf(policy_note, sizeof(policy_note),
			 "no policy given; %s", now);
	}
	/* Pushed detectors come from a server: a standalone agent has none. */
	if (!cfg.standalone)
		ev.detectors = detectors_open(&cfg, &sensor, store, agent_id);
	ret = -ENOMEM;
	if (cfg.standalone) {
		alerts = local_alerts_open(cfg.eve_path, agent_id);
		if (!alerts)
			goto out;
	} else {
		ev.uplink = uplink_new(&cfg, epfd, enf, tls, agent_id, store);
		if (!ev.uplink)
			goto out;
		uplink_set_actions(ev.uplink, actions);
		uplink_set_policy(ev.uplink, &ev);
	}
	if (evloop_add(epfd, ring_buffer__epoll_fd(rb),
		       (epoll_data_t){ .u32 = AGENT_EV_RINGBUF }) ||
	    evloop_add(epfd, tick_fd,
		       (epoll_data_t){ .u32 = AGENT_EV_TIMER }) ||
	    evloop_add(epfd, sig_fd,
		       (epoll_data_t){ .u32 = AGENT_EV_SIGNAL }) ||
	    evloop_add(epfd, hup_fd,
		       (epoll_data_t){ .u32 = AGENT_EV_HANGUP })) {
		ret = -errno;
		log_err("cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	ret = control_open(cfg.control_path, epfd, &(struct control_ctx){
		.cfg = &cfg, .sensor = &sensor, .enf = enf,
		.actions = actions, .uplink = ev.uplink, .agent_id = agent_id,
		.posture = posture, .ev = &ev,
		.policy_note = policy_note }, &control);
	if (ret)
		goto out;
	if (alerts) {
		local_alerts_set_control(alerts, control);
		ev.on_assessment = local_alerts_publish;
		ev.on_assessment_ctx = alerts;
	} else {
		ev.on_assessment = control_publish;
		ev.on_assessment_ctx = control;
	}
	/*
	 * The threshold that fires: the policy's once one is in force, and
	 * its line above said it (each fact once).
	 */
	if (ev.policy)
		snprintf(thresholds, sizeof(thresholds),
			 "thresholds: the policy's");
	else
		snprintf(thresholds, sizeof(thresholds),
			 "SYN flood threshold %u per %u ms (--syn-threshold)",
			 cfg.syn_threshold, cfg.window_ms);
	log_info("agent %s watching %u interfaces; %s; control socket %s%s%s",
		 agent_id, cfg.nr_ifaces, thresholds, cfg.control_path,
		 cfg.standalone ? "; standalone, alerts to " : "",
		 cfg.standalone ? cfg.eve_path : "");
	/* Ready means enforcing: a server outage must not fail the unit. */
	service_ready("enforcing on %u interfaces", sensor.nr_attached);
	ret = run(&(struct agent_rt){
		.cfg = &cfg, .argc = argc, .argv = argv, .conf = &conf,
		.alerts = alerts, .hup_fd = hup_fd,
		.posture = posture, .join = join,
		.sensor = &sensor, .ev = &ev,
		.enf = enf, .actions = actions,
		.control = control, .rb = rb, .epfd = epfd,
		.tick_fd = tick_fd });
	service_stopping();
out:
	control_close(control);
	posture_close(posture);
	join_close(join);
	uplink_free(ev.uplink);
	local_alerts_close(alerts);
	detectors_close(ev.detectors);
	unparsed_reports_free(ev.unparsed);
	agent_store_close(store);
	policy_free(start_pol);
	ring_buffer__free(rb);
	agent_policy_free(&ev);
	shm_close_monitor(ev.shm);
	syn_flood_free(ev.syn_flood);
	scan_free(ev.scan_fast);
	scan_free(ev.scan_slow);
	actions_free(actions);
	l7_free(ev.l7);
	flow_origins_free(ev.origins);
	learn_openings_free(ev.learn);
	enforcer_free(enf);
	if (sensor_up)
		sensor_close(&sensor, &cfg);
	if (tick_fd >= 0)
		close(tick_fd);
	if (sig_fd >= 0)
		close(sig_fd);
	if (hup_fd >= 0)
		close(hup_fd);
	if (epfd >= 0)
		close(epfd);
	SSL_CTX_free(tls);
	return ret ? 1 : 0;
}
