/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One-line operator logging for vnfsec daemons and tools: every line has a
 * time, the program name and a level, and says what happened and what to do.
 * With --log-format json each line is one JSON object with the stable
 * fields ts, prog, level, msg (and where, see log_set_context()).
 */
#ifndef VNFSEC_LOG_H
#define VNFSEC_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

void log_init(const char *prog, int max_level);
/* "text" (the default) or "json"; -EINVAL (and a line) for anything else. */
int log_set_format(const char *name);
/* What SIGHUP may change: the level (LOG_INFO, LOG_DEBUG), the format. */
void log_set_level(int max_level);
const char *log_format_name(void);
/*
 * Where the next lines' subject comes from, e.g. "agent.conf:7:3" while a
 * configuration file's options are checked; NULL clears it.
 */
void log_set_context(const char *where);
void vnfsec_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vnfsec_vlog(int level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define log_err(...)	vnfsec_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	vnfsec_log(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	vnfsec_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	vnfsec_log(LOG_DEBUG, __VA_ARGS__)

/* Route libbpf's messages through vnfsec_log (libbpf_set_print()). */
void log_libbpf_init(void);

#endif /* VNFSEC_LOG_H */
