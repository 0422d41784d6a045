// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who may be a peer of the security server (docs/security.md):
 *
 *   vnfsecctl --server revoke ID [--lift]
 *   vnfsecctl --server agent release ID
 */
#include <string.h>

#include "user/ctl/ctl.h"

static int lift_opt(int c, void *ctx)
{
	if (c != 'l')
		return -1;
	*(bool *)ctx = true;
	return 0;
}

int ctl_cmd_revoke(const struct ctl_cmd *cmd, struct ctl_opts *o, int argc,
		   char **argv)
{
	static const struct option opts[] = {
		{ "lift", no_argument, NULL, 'l' },
		{ NULL },
	};
	struct json_object *args, *res;
	bool lift = false;
	int i, ret;

	i = ctl_parse_opts(cmd, o, argc, argv, NULL, opts, lift_opt, &lift);
	if (i < 0)
		return i == CTL_HELP_DONE ? CTL_HELP_DONE : CTL_EUSAGE;
	if (argc - i != 1 || !*argv[i])
		return ctl_usage_error(cmd, "give one identity (a certificate's CN)");
	args = json_object_new_object();
	json_object_object_add(args, "agent", json_object_new_string(argv[i]));
	if (lift)
		json_object_object_add(args, "lift",
				       json_object_new_boolean(true));
	ret = ctl_request(cmd, o, "revoke", args, &res);
	json_object_put(args);
	return ret ? ret : ctl_show(o, res, NULL);
}

int ctl_cmd_agent_release(const struct ctl_cmd *cmd, struct ctl_opts *o,
			  int argc, char **argv)
{
	struct json_object *args, *res;
	int i, ret;

	i = ctl_parse_opts(cmd, o, argc, argv, NULL, NULL, NULL, NULL);
	if (i < 0)
		return i == CTL_HELP_DONE ? CTL_HELP_DONE : CTL_EUSAGE;
	if (argc - i != 1 || !*argv[i])
		return ctl_usage_error(cmd, "give one agent ID");
	args = json_object_new_object();
	json_object_object_add(args, "agent", json_object_new_string(argv[i]));
	ret = ctl_request(cmd, o, "agent.release", args, &res);
	json_object_put(args);
	return ret ? ret : ctl_show(o, res, NULL);
}
