/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The server side of the control socket (docs/control.md): JSON lines
 * over a Unix stream socket, for vnfsecctl and operators.
 */
#ifndef VNFSEC_SERVER_CONTROL_H
#define VNFSEC_SERVER_CONTROL_H

#include <stdint.h>
#include <json-c/json.h>

struct server;
struct control_client;

#define CONTROL_RING		1024	/* recent events kept for "alerts" */
#define CONTROL_CLIENTS_MAX	32	/* the oldest idle one makes room */

/* Listen on cfg->control_path (when set); 0 or -errno. */
int control_open(struct server *srv, void *listen_tag);
void control_close(struct server *srv);
void control_accept(struct server *srv);
/* Close the clients found dead since the last tick. */
void control_tick(struct server *srv);
void control_io(struct server *srv, struct control_client *c,
		uint32_t events);

/* An event for the ring and every follower; takes no reference. */
void control_publish(struct server *srv, json_object *ev);

/* For metrics: followers and bytes waiting to be written to them. */
void control_queue(const struct server *srv, unsigned int *clients,
		   uint64_t *bytes);

#endif /* VNFSEC_SERVER_CONTROL_H */
