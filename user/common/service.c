// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "user/common/log.h"
#include "user/common/service.h"

static void notify(const char *head, const char *fmt, va_list ap)
{
	char status[256], msg[300];
	int err;

	vsnprintf(status, sizeof(status), fmt, ap);
	snprintf(msg, sizeof(msg), "%sSTATUS=%s", head, status);
	err = sd_notify(0, msg);
	/* Only a broken NOTIFY_SOCKET fails: systemd will time the unit out. */
	if (err < 0)
		log_warn("cannot notify systemd: %s", strerror(-err));
}

void service_ready(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	notify("READY=1\n", fmt, ap);
	va_end(ap);
}

void service_status(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	notify("", fmt, ap);
	va_end(ap);
}

void service_stopping(void)
{
	int err = sd_notify(0, "STOPPING=1");

	if (err < 0)
		log_warn("cannot notify systemd: %s", strerror(-err));
}
