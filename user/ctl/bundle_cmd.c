// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsecctl policy sign|push: policy bundles (docs/trust.md). `sign`
 * runs offline, on the machine that holds the root key: it validates
 * the policy, then seals its text for one agent with a sequence number
 * and an expiry. `push` hands the bundle to the security server, which
 * relays it to that agent; the agent verifies it with the root public
 * key and answers, and the server logs the answer.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/vnfsec_policy.h"
#include "user/common/log.h"
#include "user/common/signing.h"
#include "user/ctl/ctl.h"

#define BUNDLE_TTL_DEFAULT_S	CTL_BUNDLE_TTL_DEFAULT_S
#define BUNDLE_TTL_MAX_S	CTL_BUNDLE_TTL_MAX_S

struct sign_args {
	const char *key, *target, *seq, *ttl, *output;
};

static int sign_opt(int c, void *ctx)
{
	struct sign_args *a = ctx;

	switch (c) {
	case 'k': a->key = optarg; return 0;
	case 't': a->target = optarg; return 0;
	case 's': a->seq = optarg; return 0;
	case 'T': a->ttl = optarg; return 0;
	case 'o': a->output = optarg; return 0;
	}
	return -1;
}

bool ctl_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* The policy file's text, validated as the agent will. */
static int read_policy(const char *path, char **text, size_t *len)
{
	struct policy_compiled *p = NULL;
	struct policy_diag d = { 0 };
	FILE *f;
	int ret;

	ret = policy_load_file(path, &p, &d);
	policy_diag_print(&d, stderr);
	policy_diag_free(&d);
	policy_free(p);
	if (ret)
		return CTL_EDAEMON;
	*text = malloc(SIGNED_PAYLOAD_MAX + 1);
	f = fopen(path, "r");
	if (!*text || !f) {
		log_err("%s: %s", path, strerror(errno));
		free(*text);
		if (f)
			fclose(f);
		return CTL_EDAEMON;
	}
	*len = fread(*text, 1, SIGNED_PAYLOAD_MAX + 1, f);
	fclose(f);
	if (*len > SIGNED_PAYLOAD_MAX) {
		log_err("%s: a bundle carries at most %d bytes of policy",
			path, SIGNED_PAYLOAD_MAX);
		free(*text);
		return CTL_EDAEMON;
	}
	return CTL_OK;
}

int ctl_write_bundle(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		log_err("%s: cannot write the bundle: %s", path,
			strerror(errno));
		return CTL_EDAEMON;
	}
	return CTL_OK;
}

static int sign(const struct ctl_cmd *cmd, const struct sign_args *a,
		const char *file)
{
	uint64_t seq, ttl = BUNDLE_TTL_DEFAULT_S;
	uint8_t *env = NULL;
	char *text = NULL;
	EVP_PKEY *key;
	size_t len, env_len;
	int ret;

	if (!a->key || !a->target || !a->output)
		return ctl_usage_error(cmd, "--key, --target and --output are required");
	if (!ctl_parse_u64(a->seq, 1, UINT64_MAX, &seq))
		return ctl_usage_error(cmd, "--seq: give a sequence number above every bundle this agent accepted (1..2^64-1)");
	if (a->ttl && !ctl_parse_u64(a->ttl, 1, BUNDLE_TTL_MAX_S, &ttl))
		return ctl_usage_error(cmd, "--ttl: give 1..%d seconds",
				       BUNDLE_TTL_MAX_S);
	ret = read_policy(file, &text, &len);
	if (ret)
		return ret;
	key = signing_key_load(a->key, true);
	if (!key) {
		free(text);
		return CTL_EDAEMON;
	}
	ret = signing_seal(key, &(struct signed_instruction){
		.issuer = "root", .target = a->target, .sequence = seq,
		.not_after = (uint64_t)time(NULL) + ttl,
		.payload = (const uint8_t *)text, .payload_len = len,
	}, &env, &env_len);
	EVP_PKEY_free(key);
	free(text);
	if (ret)
		return CTL_EDAEMON;
	ret = ctl_write_bundle(a->output, env, env_len);
	free(env);
	if (!ret)
		printf("%s: bundle %llu of %s for agent %s, valid %llu s\n",
		       a->output, (unsigned long long)seq, file, a->target,
		       (unsigned long long)ttl);
	return ret;
}

/* Hand the server a signed bundle file for @agent (NULL: every agent). */
int ctl_push_bundle(const struct ctl_cmd *cmd, struct ctl_opts *o,
		    const char *method, const char *agent, const char *file)
{
	struct json_object *args, *res;
	char path[PATH_MAX];
	int ret;

	/* The server reads it: give it a path that means the same there. */
	if (!realpath(file, path))
		return ctl_usage_error(cmd, "%s: %s", file, strerror(errno));
	args = json_object_new_object();
	if (agent)
		json_object_object_add(args, "agent",
				       json_object_new_string(agent));
	else
		json_object_object_add(args, "all",
				       json_object_new_boolean(1));
	json_object_object_add(args, "path", json_object_new_string(path));
	ret = ctl_request(cmd, o, method, args, &res);
	json_object_put(args);
	if (ret)
		return ret;
	return ctl_show(o, res, NULL);
}

int ctl_cmd_bundle(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		   char **argv)
{
	static const struct option sign_opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "target", required_argument, NULL, 't' },
		{ "seq", required_argument, NULL, 's' },
		{ "ttl", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL },
	};
	bool is_sign = !strcmp(cmd->name, "policy sign");
	struct sign_args a = { 0 };
	int i, n;

	i = ctl_parse_opts(cmd, o, argc, argv, is_sign ? "k:t:s:T:o:" : NULL,
			   is_sign ? sign_opts : NULL,
			   is_sign ? sign_opt : NULL, &a);
	if (i < 0)
		return i == CTL_HELP_DONE ? CTL_HELP_DONE : CTL_EUSAGE;
	n = argc - i;
	if (is_sign) {
		if (n != 1)
			return ctl_usage_error(cmd, "give exactly one policy FILE");
		return sign(cmd, &a, argv[i]);
	}
	if (n != 2)
		return ctl_usage_error(cmd, "give AGENT and BUNDLE");
	return ctl_push_bundle(cmd, o, "bundle.push", argv[i], argv[i + 1]);
}
