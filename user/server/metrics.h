/* SPDX-License-Identifier: GPL-2.0-only */
/* Prometheus metrics at /metrics, served by libmicrohttpd in our loop. */
#ifndef VNFSEC_SERVER_METRICS_H
#define VNFSEC_SERVER_METRICS_H

#include <stdint.h>

struct server;
struct agent_record;
struct Vnfsec__Heartbeat;

/* The bounds of the assessment-latency histogram (metrics.c). */
#define METRICS_LATENCY_BUCKETS	12

/* Serve cfg->metrics_listen (when set); 0 or -errno. */
int metrics_open(struct server *srv, void *tag);
void metrics_close(struct server *srv);
/* On readiness of the tagged fd, and on every tick for timeouts. */
void metrics_run(struct server *srv);
/* An assessment the agent made at @agent_time_ms is stored now. */
void metrics_assessment_stored(struct server *srv, uint64_t agent_time_ms);
/* What a heartbeat says of @a's fast path and spool. */
void metrics_heartbeat(struct agent_record *a,
		       const struct Vnfsec__Heartbeat *hb);

#endif /* VNFSEC_SERVER_METRICS_H */
