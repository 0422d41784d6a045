// SPDX-License-Identifier: GPL-2.0-only
/*
 * libbpf's messages in vnfsec's log. A "Kernel error message" is the
 * netlink detail of a call whose failure (or expected refusal, such as a
 * probe for a qdisc that is not there yet) our own code already handles
 * and reports: debug level, not a warning an operator must read.
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>

#include "user/common/log.h"

static int log_libbpf(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	char msg[1024];
	size_t n;
	int prio;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	prio = level == LIBBPF_WARN ? LOG_WARNING : LOG_INFO;
	if (strstr(msg, "Kernel error message:"))
		prio = LOG_DEBUG;
	vnfsec_log(prio, "libbpf: %s", msg);
	return 0;
}

void log_libbpf_init(void)
{
	libbpf_set_print(log_libbpf);
}
