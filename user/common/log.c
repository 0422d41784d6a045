// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "user/common/log.h"

static const char *log_prog = "vnfsec";
static int log_max_level = LOG_INFO;
static bool log_json;
static const char *log_where;

void log_init(const char *prog, int max_level)
{
	log_prog = prog;
	log_max_level = max_level;
}

int log_set_format(const char *name)
{
	if (strcmp(name, "text") && strcmp(name, "json")) {
		vnfsec_log(LOG_ERR, "--log-format: '%s' is not text or json",
			   name);
		return -EINVAL;
	}
	log_json = !strcmp(name, "json");
	return 0;
}

void log_set_level(int max_level)
{
	log_max_level = max_level;
}

const char *log_format_name(void)
{
	return log_json ? "json" : "text";
}

void log_set_context(const char *where)
{
	log_where = where;
}

static void log_json_line(const char *stamp, const char *level,
			  const char *msg)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return;
	json_object_object_add(o, "ts", json_object_new_string(stamp));
	json_object_object_add(o, "prog", json_object_new_string(log_prog));
	json_object_object_add(o, "level", json_object_new_string(level));
	if (log_where)
		json_object_object_add(o, "where",
				       json_object_new_string(log_where));
	json_object_object_add(o, "msg", json_object_new_string(msg));
	fprintf(stderr, "%s\n",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

void vnfsec_vlog(int level, const char *fmt, va_list ap)
{
	static const char *const names[] = {
		[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",
		[LOG_CRIT] = "crit", [LOG_ERR] = "error",
		[LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
		[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
	};
	char stamp[40], msg[1024];
	struct timespec ts;
	struct tm tm;
	size_t n;

	if (level > log_max_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, sizeof(stamp) - n, ".%03ldZ",
		 ts.tv_nsec / 1000000);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_json) {
		log_json_line(stamp, names[level & 7], msg);
		return;
	}
	fprintf(stderr, "%s %s %s: %s%s%s\n", stamp, log_prog,
		names[level & 7], log_where ? log_where : "",
		log_where ? ": " : "", msg);
}

void vnfsec_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnfsec_vlog(level, fmt, ap);
	va_end(ap);
}
