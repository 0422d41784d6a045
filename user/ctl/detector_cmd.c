// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsecctl detector sign|push|rollback, detectors (docs/detectors.md).
 * `sign` runs offline with the root key, as `policy sign` does: it packs
 * the object and what the agent needs to judge it (name, version, ABI,
 * class, thresholds) into a vnfsec_signed.Detector and seals that for one
 * agent, or for every agent (target "*"). `push` hands it to the server,
 * which relays it; the agent verifies, loads and answers. `rollback` and
 * `detectors` go to the agent.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpf/vnfsec_abi.h"
#include "user/common/log.h"
#include "user/common/signed.pb-c.h"
#include "user/common/signing.h"
#include "user/ctl/ctl.h"

#define MAX_THRESHOLDS	16

struct det_sign_args {
	const char *key, *target, *seq, *ttl, *output, *name, *version;
	const char *det_class, *abi;
	const char *threshold[MAX_THRESHOLDS];
	int nr_threshold;
	bool too_many;
	bool all;		/* push --all */
};

static int sign_opt(int c, void *ctx)
{
	struct det_sign_args *a = ctx;

	switch (c) {
	case 'k': a->key = optarg; return 0;
	case 't': a->target = optarg; return 0;
	case 's': a->seq = optarg; return 0;
	case 'T': a->ttl = optarg; return 0;
	case 'o': a->output = optarg; return 0;
	case 'n': a->name = optarg; return 0;
	case 'v': a->version = optarg; return 0;
	case 'c': a->det_class = optarg; return 0;
	case 'a': a->abi = optarg; return 0;
	case 'A': a->all = true; return 0;
	case 'h':
		if (a->nr_threshold == MAX_THRESHOLDS)
			a->too_many = true;
		else
			a->threshold[a->nr_threshold++] = optarg;
		return 0;
	}
	return -1;
}

static bool name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n > 31)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static bool class_ok(const char *s)
{
	static const char *const names[VNFSEC_DET_CLASS_MAX] =
		VNFSEC_DET_CLASS_NAMES;
	int i;

	for (i = 0; i < VNFSEC_DET_CLASS_MAX; i++)
		if (!strcmp(s, names[i]))
			return true;
	return false;
}

static int read_object(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");

	*buf = malloc(SIGNED_PAYLOAD_MAX + 1);
	if (!f || !*buf) {
		log_err("%s: %s", path, strerror(errno));
		free(*buf);
		if (f)
			fclose(f);
		return CTL_EDAEMON;
	}
	*len = fread(*buf, 1, SIGNED_PAYLOAD_MAX + 1, f);
	fclose(f);
	/* The rest of the payload: name, class, thresholds. */
	if (*len > SIGNED_PAYLOAD_MAX - 1024 || *len < 4 ||
	    memcmp(*buf, "\x7f" "ELF", 4)) {
		log_err("%s: not an ELF object of at most %d bytes (build it from detectors/, strip its DWARF with llvm-strip -g if it is larger)",
			path, SIGNED_PAYLOAD_MAX - 1024);
		free(*buf);
		return CTL_EDAEMON;
	}
	return CTL_OK;
}

static int sign(const struct ctl_cmd *cmd, struct det_sign_args *a,
		const char *file)
{
	VnfsecSigned__DetectorThreshold th[MAX_THRESHOLDS];
	VnfsecSigned__DetectorThreshold *thp[MAX_THRESHOLDS];
	VnfsecSigned__Detector d = VNFSEC_SIGNED__DETECTOR__INIT;
	char names[MAX_THRESHOLDS][32];
	uint64_t seq, version, abi = VNFSEC_ABI_VERSION, ttl, v;
	uint8_t *obj = NULL, *payload = NULL, *env = NULL;
	size_t obj_len, payload_len, env_len;
	EVP_PKEY *key;
	int i, ret;

	ttl = CTL_BUNDLE_TTL_DEFAULT_S;
	if (!a->key || !a->target || !a->output || !a->name || !a->det_class)
		return ctl_usage_error(cmd, "--key, --target, --name, --class and --output are required");
	if (!ctl_parse_u64(a->seq, 1, UINT64_MAX, &seq))
		return ctl_usage_error(cmd, "--seq: give a sequence number above every detector bundle this agent accepted (1..2^64-1)");
	if (!ctl_parse_u64(a->version, 1, UINT64_MAX, &version))
		return ctl_usage_error(cmd, "--version: give the detector's version, above every one of NAME the agent accepted (1..2^64-1)");
	if (a->ttl && !ctl_parse_u64(a->ttl, 1, CTL_BUNDLE_TTL_MAX_S, &ttl))
		return ctl_usage_error(cmd, "--ttl: give 1..%d seconds",
				       CTL_BUNDLE_TTL_MAX_S);
	if (a->abi && !ctl_parse_u64(a->abi, 1, UINT32_MAX, &abi))
		return ctl_usage_error(cmd, "--abi: give an ABI version");
	if (!name_ok(a->name))
		return ctl_usage_error(cmd, "--name: 1..31 characters of a-z, 0-9 and _");
	if (!class_ok(a->det_class))
		return ctl_usage_error(cmd, "--class: '%s' is not dns or gtpu",
				       a->det_class);
	if (a->too_many)
		return ctl_usage_error(cmd, "--threshold: at most %d",
				       MAX_THRESHOLDS);
	for (i = 0; i < a->nr_threshold; i++) {
		const char *eq = strchr(a->threshold[i], '=');
		size_t n = eq ? (size_t)(eq - a->threshold[i]) : 0;

		if (!n || n >= sizeof(names[i]) ||
		    !ctl_parse_u64(eq + 1, 0, UINT32_MAX, &v))
			return ctl_usage_error(cmd, "--threshold: '%s' is not NAME=VALUE (0..2^32-1)",
					       a->threshold[i]);
		memcpy(names[i], a->threshold[i], n);
		names[i][n] = '\0';
		vnfsec_signed__detector_threshold__init(&th[i]);
		th[i].name = names[i];
		th[i].value = v;
		thp[i] = &th[i];
	}
	ret = read_object(file, &obj, &obj_len);
	if (ret)
		return ret;
	d.name = (char *)a->name;
	d.version = version;
	d.abi_version = abi;
	d.det_class = (char *)a->det_class;
	d.n_thresholds = a->nr_threshold;
	d.thresholds = thp;
	d.object.data = obj;
	d.object.len = obj_len;
	payload_len = vnfsec_signed__detector__get_packed_size(&d);
	payload = malloc(payload_len);
	key = payload ? signing_key_load(a->key, true) : NULL;
	if (!key) {
		free(obj);
		free(payload);
		return CTL_EDAEMON;
	}
	vnfsec_signed__detector__pack(&d, payload);
	ret = signing_seal(key, &(struct signed_instruction){
		.issuer = "root", .target = a->target, .sequence = seq,
		.not_after = (uint64_t)time(NULL) + ttl,
		.payload = payload, .payload_len = payload_len,
	}, &env, &env_len);
	EVP_PKEY_free(key);
	free(obj);
	free(payload);
	if (ret)
		return CTL_EDAEMON;
	ret = ctl_write_bundle(a->output, env, env_len);
	free(env);
	if (!ret)
		printf("%s: detector %s version %llu (class %s, ABI %llu) as bundle %llu for agent %s, valid %llu s\n",
		       a->output, a->name, (unsigned long long)version,
		       a->det_class, (unsigned long long)abi,
		       (unsigned long long)seq, a->target,
		       (unsigned long long)ttl);
	return ret;
}

static const struct ctl_column detector_cols[] = {
	{ "NAME", "name", false },
	{ "VERSION", "version", false },
	{ "DIGEST", "digest", false },
	{ "CLASS", "class", false },
	{ "HITS", "hits", false },
	{ "EVENTS", "events", false },
	{ "STATE", "state", false },
	{ NULL },
};

static int agent_cmd(const struct ctl_cmd *cmd, struct ctl_opts *o,
		     const char *name)
{
	struct json_object *args = NULL, *res;
	int ret;

	if (name) {
		args = json_object_new_object();
		json_object_object_add(args, "name",
				       json_object_new_string(name));
	}
	ret = ctl_request(cmd, o, name ? "detector.rollback" : "detectors",
			  args, &res);
	json_object_put(args);
	if (ret)
		return ret;
	return ctl_show(o, res, name ? NULL : detector_cols);
}

int ctl_cmd_detector(const struct ctl_cmd *cmd, struct ctl_opts *o,
		     int argc, char **argv)
{
	static const struct option sign_opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "target", required_argument, NULL, 't' },
		{ "seq", required_argument, NULL, 's' },
		{ "ttl", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "version", required_argument, NULL, 'v' },
		{ "class", required_argument, NULL, 'c' },
		{ "abi", required_argument, NULL, 'a' },
		{ "threshold", required_argument, NULL, 'h' },
		{ NULL },
	};
	static const struct option push_opts[] = {
		{ "all", no_argument, NULL, 'A' },
		{ NULL },
	};
	bool is_sign = !strcmp(cmd->name, "detector sign");
	bool is_push = !strcmp(cmd->name, "detector push");
	struct det_sign_args a = { 0 };
	int i, n;

	i = ctl_parse_opts(cmd, o, argc, argv,
			   is_sign ? "k:t:s:T:o:n:v:c:a:h:" : NULL,
			   is_sign ? sign_opts : is_push ? push_opts : NULL,
			   is_sign || is_push ? sign_opt : NULL, &a);
	if (i < 0)
		return i == CTL_HELP_DONE ? CTL_HELP_DONE : CTL_EUSAGE;
	n = argc - i;
	if (is_sign) {
		if (n != 1)
			return ctl_usage_error(cmd, "give exactly one OBJECT");
		return sign(cmd, &a, argv[i]);
	}
	if (is_push) {
		if (n != (a.all ? 1 : 2))
			return ctl_usage_error(cmd, "give AGENT (or --all) and BUNDLE");
		return ctl_push_bundle(cmd, o, "detector.push",
				       a.all ? NULL : argv[i], argv[i + n - 1]);
	}
	if (!strcmp(cmd->name, "detector rollback")) {
		if (n != 1)
			return ctl_usage_error(cmd, "give the detector's NAME");
		return agent_cmd(cmd, o, argv[i]);
	}
	if (n)
		return ctl_usage_error(cmd, "unexpected argument '%s'", argv[i]);
	return agent_cmd(cmd, o, NULL);
}
