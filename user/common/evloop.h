/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pieces every vnfsec daemon's epoll loop is built from, and the option
 * parsing they share.
 */
#ifndef VNFSEC_EVLOOP_H
#define VNFSEC_EVLOOP_H

#include <stdint.h>
#include <sys/epoll.h>

/* SIGINT/SIGTERM as a readable fd (signals blocked); SIGPIPE ignored. */
int evloop_signalfd(void);
/* SIGHUP (reload) as a readable fd of its own; read it with evloop_drain(). */
int evloop_hupfd(void);
void evloop_drain(int signal_fd);

/* A timerfd that fires every @seconds. */
int evloop_tick(unsigned int seconds);

/* Watch @fd for input; @data comes back in the event. 0 or -errno. */
int evloop_add(int epfd, int fd, epoll_data_t data);

/* Parse a decimal in [@min, @max] for option @what, or log and -EINVAL. */
int parse_uint_opt(const char *s, unsigned int min, unsigned int max,
		   unsigned int *out, const char *what);

#endif /* VNFSEC_EVLOOP_H */
