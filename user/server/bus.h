/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The bus between servers (bus.c): NATS JetStream carries orders to the
 * server holding an agent's session, durably while the agent is away.
 * Without --nats every call is a no-op and a server works alone.
 */
#ifndef VNFSEC_BUS_H
#define VNFSEC_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct server;
struct agent_record;
struct action_record;

struct bus_stats {
	uint64_t orders_published;	/* for agents whose session is not here */
	uint64_t orders_delivered;	/* to agents here, from the stream */
	uint64_t orders_dropped;	/* never published: NATS away too long */
	uint64_t orders_waiting;	/* to publish once NATS is back */
	uint64_t results_sent, results_received;
	uint64_t events_received;	/* other servers' incident events */
};

/* Connect to --nats (in the background when it is away); 0 without it. */
int bus_open(struct server *srv, void *ev_tag);
void bus_close(struct server *srv);
/* Its eventfd woke the loop: carry out what arrived. */
void bus_io(struct server *srv);
/* Each second: subscriptions and publications that failed, again. */
void bus_tick(struct server *srv);
/* @agent said hello here / its session here ended. */
void bus_agent_here(struct server *srv, struct agent_record *agent);
void bus_agent_gone(struct server *srv, struct agent_record *agent);
/*
 * Order @o for @agent, whose session is not here: published, or kept to
 * publish while NATS is away. -ENOTCONN without a bus.
 */
int bus_order(struct server *srv, struct agent_record *agent,
	      const struct action_record *o, uint64_t incident_id,
	      uint64_t cause);
/* @act, delivered by the bus, was answered: ack it, tell its origin. */
void bus_result(struct server *srv, struct action_record *act);
/* @act goes unanswered: the stream delivers it again later. */
void bus_forget(struct action_record *act);
void bus_stats(const struct server *srv, struct bus_stats *out,
	       bool *is_connected);
/*
 * An incident event of ours, for the other servers' `alerts` (their
 * control sockets; not their EVE files). Core NATS: lost while NATS is
 * away, as a follower's missed line is.
 */
struct json_object;
void bus_event(struct server *srv, struct json_object *ev);

#endif /* VNFSEC_BUS_H */
