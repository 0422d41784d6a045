/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VNFSEC_NETADDR_H
#define VNFSEC_NETADDR_H

#include <sys/socket.h>

/*
 * Parse "HOST:PORT" or "[V6]:PORT" into @ss. Returns 0 or -EINVAL with a
 * logged line naming @what (the option it came from).
 */
int netaddr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		  const char *what);

/*
 * A TCP socket listening on "HOST:PORT" (@what as for netaddr_parse),
 * with SO_REUSEADDR; @flags are socket(2) type flags (SOCK_NONBLOCK),
 * close-on-exec always. Returns the fd, or -errno with a logged line.
 */
int netaddr_listen(const char *s, int flags, int backlog, const char *what);

#endif /* VNFSEC_NETADDR_H */
