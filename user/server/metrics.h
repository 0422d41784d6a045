/* SPDX-License-Identifier: GPL-2.0-only */
/* Prometheus metrics at /metrics, served by libmicrohttpd in our loop. */
#ifndef VNFSEC_SERVER_METRICS_H
#define VNFSEC_SERVER_METRICS_H

struct server;

/* Serve cfg->metrics_listen (when set); 0 or -errno. */
int metrics_open(struct server *srv, void *tag);
void metrics_close(struct server *srv);
/* On readiness of the tagged fd, and on every tick for timeouts. */
void metrics_run(struct server *srv);

#endif /* VNFSEC_SERVER_METRICS_H */
