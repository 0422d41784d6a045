// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "user/common/log.h"
#include "user/common/netaddr.h"

int netaddr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		  const char *what)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *orig = s;
	const char *colon = strrchr(s, ':');
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	size_t hlen;
	char *end;
	long port;

	if (!colon || colon == s)
		goto bad;
	hlen = colon - s;
	if (s[0] == '[' && hlen >= 2 && s[hlen - 1] == ']') {
		s++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
		goto bad;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
bad:
	log_err("%s: '%s' is not ADDR:PORT (numeric IPv4, or [IPv6]:PORT)",
		what, orig);
	return -EINVAL;
}

int netaddr_listen(const char *s, int flags, int backlog, const char *what)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd, ret;

	ret = netaddr_parse(s, &ss, &len, what);
	if (ret)
		return ret;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, backlog)) {
		ret = -errno;
		log_err("cannot listen on %s: %s", s, strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}
