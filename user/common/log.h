/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One-line operator logging for vnfsec daemons and tools: every line has a
 * time, the program name and a level, and says what happened and what to do.
 */
#ifndef VNFSEC_LOG_H
#define VNFSEC_LOG_H

#include <syslog.h>

void log_init(const char *prog, int max_level);
void vnfsec_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	vnfsec_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	vnfsec_log(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	vnfsec_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	vnfsec_log(LOG_DEBUG, __VA_ARGS__)

#endif /* VNFSEC_LOG_H */
