/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * systemd's notification protocol (Type=notify): readiness, status lines
 * and shutdown. Outside systemd (no NOTIFY_SOCKET) every call does nothing.
 */
#ifndef VNFSEC_SERVICE_H
#define VNFSEC_SERVICE_H

void service_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void service_status(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void service_stopping(void);

#endif /* VNFSEC_SERVICE_H */
