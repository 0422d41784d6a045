// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bus between servers sharing a store: NATS JetStream (--nats URL).
 * An order for an agent whose session is not here (on another server, or
 * on none: it is away) is published to vnfsec.orders.<agent> on the
 * durable stream VNFSEC_ORDERS. Each agent has a durable consumer that
 * pushes to vnfsec.deliver.<agent>; the server holding the agent's
 * session subscribes to that subject while it holds it, carries the
 * order out as its own (order_action()) and acks the message when the
 * agent answers, then publishes the result to the origin server's
 * subject. An order for an agent that is away waits in the stream until
 * the agent says hello to any server; one delivered to a server that
 * died unanswered comes again after ORDER_ACK_WAIT_S.
 *
 * libnats runs its own threads: its callbacks only queue the message and
 * wake the event loop through an eventfd; everything else happens on the
 * loop's thread. When NATS is away the server goes on deciding and
 * ordering its own agents; orders for others wait in memory and are
 * published once NATS is back (docs/deploy.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>
#include <json-c/json.h>
#include <nats/nats.h>

#include "user/common/evloop.h"
#include "user/common/log.h"
#include "user/server/bus.h"
#include "user/server/control.h"
#include "user/server/server.h"

#define ORDERS_STREAM		"VNFSEC_ORDERS"
#define ORDERS_PREFIX		"vnfsec.orders."
#define DELIVER_PREFIX		"vnfsec.deliver."
#define RESULTS_PREFIX		"vnfsec.results."
#define EVENTS_PREFIX		"vnfsec.events."
#define CONSUMER_PREFIX		"vnfsec-agent-"
/* An order unanswered this long is delivered again (the server died). */
#define ORDER_ACK_WAIT_S	30
/* Orders older than this are gone from the stream, answered or not. */
#define ORDERS_MAX_AGE_S	(7 * 86400)
/* Orders held while NATS is away; past it the oldest go (and say so). */
#define UNPUBLISHED_MAX		65536
/* A JetStream request (publish ack, stream, consumer) waits at most. */
#define JS_WAIT_MS		2000
/* An agent id with every byte escaped: a subject token, a durable name. */
#define TOKEN_MAX		(3 * WIRE_AGENT_ID_MAX + 1)

struct bus_msg {
	struct bus_msg *next;
	natsMsg *msg;
};

/* An agent whose session is here: its consumer's deliveries. */
struct bus_agent {
	struct bus_agent *next;
	char id[WIRE_AGENT_ID_MAX + 1];
	char token[TOKEN_MAX];
	natsSubscription *sub;	/* NULL: subscribed at the next tick */
};

struct bus_order {
	struct bus_order *next;
	natsMsg *msg;
};

struct bus {
	natsConnection *nc;
	jsCtx *js;
	int efd;
	bool stream_ready, was_connected;
	pthread_mutex_t lock;		/* the queue, filled by libnats */
	struct bus_msg *head, **tail;
	struct bus_agent *agents;
	struct bus_order *unpublished, **unpub_tail;
	unsigned int nr_unpublished;
	natsSubscription *results_sub, *events_sub;
	char results[64];		/* our subject for results */
	char events[64];		/* our subject for events */
	struct bus_stats stats;
};

/* Letters, digits, '-' stay; every other byte is _XX (hex). */
static void agent_token(const char *id, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)id;

	for (; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-') {
			*out++ = *p;
		} else {
			*out++ = '_';
			*out++ = hex[*p >> 4];
			*out++ = hex[*p & 15];
		}
	}
	*out = '\0';
}

/* With a callback, a connect that fails goes on in the background. */
static void on_connected(natsConnection *nc, void *closure)
{
	(void)nc;
	(void)closure;
}

/* libnats' thread: queue it, wake the loop. */
static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
		   void *closure)
{
	struct bus *bus = closure;
	struct bus_msg *m = malloc(sizeof(*m));
	uint64_t one = 1;

	(void)nc;
	(void)sub;
	if (!m) {
		/* Unacked: JetStream delivers it again. */
		natsMsg_Destroy(msg);
		return;
	}
	m->msg = msg;
	m->next = NULL;
	pthread_mutex_lock(&bus->lock);
	*bus->tail = m;
	bus->tail = &m->next;
	pthread_mutex_unlock(&bus->lock);
	if (write(bus->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("bus: cannot wake the event loop: %s",
			 strerror(errno));
}

static bool connected(const struct bus *bus)
{
	return natsConnection_Status(bus->nc) == NATS_CONN_STATUS_CONNECTED;
}

static const char *nats_why(natsStatus s, jsErrCode jerr)
{
	static char buf[160];

	snprintf(buf, sizeof(buf), "%s (JetStream error %d)",
		 natsStatus_GetText(s), (int)jerr);
	return jerr ? buf : natsStatus_GetText(s);
}

/* The stream of orders, made by whichever server comes first. */
static int stream_ensure(struct bus *bus)
{
	const char *subjects[] = { ORDERS_PREFIX ">" };
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	if (bus->stream_ready)
		return 0;
	jsStreamConfig_Init(&sc);
	sc.Name = ORDERS_STREAM;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	/* An order is gone once answered: a queue per agent. */
	sc.Retention = js_WorkQueuePolicy;
	sc.Storage = js_FileStorage;
	sc.MaxAge = (int64_t)ORDERS_MAX_AGE_S * 1000000000LL;
	s = js_AddStream(&si, bus->js, &sc, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (s != NATS_OK && jerr != JSStreamNameExistErr) {
		log_warn("bus: cannot create stream %s: %s; orders for agents elsewhere wait here until it can be",
			 ORDERS_STREAM, nats_why(s, jerr));
		return -EIO;
	}
	bus->stream_ready = true;
	return 0;
}

/* The agent's durable consumer (the same for every server), then ours. */
static int agent_subscribe(struct bus *bus, struct bus_agent *ba)
{
	char durable[sizeof(CONSUMER_PREFIX) + TOKEN_MAX];
	char filter[sizeof(ORDERS_PREFIX) + TOKEN_MAX];
	char deliver[sizeof(DELIVER_PREFIX) + TOKEN_MAX];
	jsConsumerConfig cc;
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	if (ba->sub)
		return 0;
	if (!connected(bus) || stream_ensure(bus))
		return -EAGAIN;
	snprintf(durable, sizeof(durable), CONSUMER_PREFIX "%s", ba->token);
	snprintf(filter, sizeof(filter), ORDERS_PREFIX "%s", ba->token);
	snprintf(deliver, sizeof(deliver), DELIVER_PREFIX "%s", ba->token);
	jsConsumerConfig_Init(&cc);
	cc.Durable = durable;
	cc.DeliverSubject = deliver;
	cc.FilterSubject = filter;
	cc.AckPolicy = js_AckExplicit;
	cc.AckWait = (int64_t)ORDER_ACK_WAIT_S * 1000000000LL;
	cc.DeliverPolicy = js_DeliverAll;
	s = js_AddConsumer(&ci, bus->js, ORDERS_STREAM, &cc, NULL, &jerr);
	jsConsumerInfo_Destroy(ci);
	if (s != NATS_OK && jerr != JSConsumerNameExistErr) {
		log_warn("bus: agent %s: cannot create its consumer: %s; trying again",
			 ba->id, nats_why(s, jerr));
		return -EIO;
	}
	s = natsConnection_Subscribe(&ba->sub, bus->nc, deliver, on_msg, bus);
	log_debug("bus: agent %s: consumer %s, deliveries on %s", ba->id,
		  durable, deliver);
	if (s != NATS_OK) {
		ba->sub = NULL;
		log_warn("bus: agent %s: cannot subscribe to its orders: %s; trying again",
			 ba->id, natsStatus_GetText(s));
		return -EIO;
	}
	return 0;
}

static void agent_unsubscribe(struct bus_agent *ba)
{
	if (!ba->sub)
		return;
	/* The consumer stays: its orders wait for the agent's next server. */
	natsSubscription_Unsubscribe(ba->sub);
	natsSubscription_Destroy(ba->sub);
	ba->sub = NULL;
}

void bus_agent_here(struct server *srv, struct agent_record *agent)
{
	struct bus *bus = srv->bus;
	struct bus_agent *ba;

	if (!bus)
		return;
	for (ba = bus->agents; ba; ba = ba->next)
		if (!strcmp(ba->id, agent->id))
			break;
	if (!ba) {
		ba = calloc(1, sizeof(*ba));
		if (!ba) {
			log_warn("bus: agent %s: out of memory; its orders from other servers wait",
				 agent->id);
			return;
		}
		snprintf(ba->id, sizeof(ba->id), "%s", agent->id);
		agent_token(agent->id, ba->token);
		ba->next = bus->agents;
		bus->agents = ba;
	}
	agent_subscribe(bus, ba);
}

void bus_agent_gone(struct server *srv, struct agent_record *agent)
{
	struct bus *bus = srv->bus;
	struct bus_agent **pp, *ba;

	if (!bus)
		return;
	for (pp = &bus->agents; (ba = *pp); pp = &ba->next) {
		if (!strcmp(ba->id, agent->id)) {
			*pp = ba->next;
			agent_unsubscribe(ba);
			free(ba);
			return;
		}
	}
}

static void header_u64(natsMsg *m, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	natsMsgHeader_Set(m, key, buf);
}

static uint64_t get_u64(natsMsg *m, const char *key)
{
	const char *v = NULL;

	if (natsMsgHeader_Get(m, key, &v) != NATS_OK || !v)
		return 0;
	return strtoull(v, NULL, 10);
}

/* 0 published; -EAGAIN: NATS away or refusing, keep it. */
static int publish(struct bus *bus, natsMsg *m)
{
	jsPubOptions po;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	if (!connected(bus) || stream_ensure(bus))
		return -EAGAIN;
	jsPubOptions_Init(&po);
	po.MaxWait = JS_WAIT_MS;
	s = js_PublishMsg(&pa, bus->js, m, &po, &jerr);
	jsPubAck_Destroy(pa);
	if (s != NATS_OK) {
		log_warn("bus: cannot publish an order on %s: %s; kept to publish again",
			 natsMsg_GetSubject(m), nats_why(s, jerr));
		return -EAGAIN;
	}
	bus->stats.orders_published++;
	log_debug("bus: order published on %s", natsMsg_GetSubject(m));
	return 0;
}

static void keep_unpublished(struct bus *bus, natsMsg *m)
{
	struct bus_order *o;

	if (bus->nr_unpublished >= UNPUBLISHED_MAX) {
		o = bus->unpublished;
		bus->unpublished = o->next;
		if (!bus->unpublished)
			bus->unpub_tail = &bus->unpublished;
		bus->nr_unpublished--;
		bus->stats.orders_dropped++;
		log_warn("bus: %u orders wait for NATS; dropped the oldest, for %s (bring NATS back)",
			 UNPUBLISHED_MAX, natsMsg_GetSubject(o->msg));
		natsMsg_Destroy(o->msg);
		free(o);
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		bus->stats.orders_dropped++;
		log_warn("bus: out of memory: an order for %s is dropped",
			 natsMsg_GetSubject(m));
		natsMsg_Destroy(m);
		return;
	}
	o->msg = m;
	*bus->unpub_tail = o;
	bus->unpub_tail = &o->next;
	bus->nr_unpublished++;
}

int bus_order(struct server *srv, struct agent_record *agent,
	      const struct action_record *o, uint64_t incident_id,
	      uint64_t cause)
{
	struct bus *bus = srv->bus;
	char subject[sizeof(ORDERS_PREFIX) + TOKEN_MAX], token[TOKEN_MAX];
	Vnfsec__Action a = VNFSEC__ACTION__INIT;
	Vnfsec__FlowTuple flow = VNFSEC__FLOW_TUPLE__INIT;
	uint8_t buf[1024];
	natsMsg *m = NULL;
	size_t len;

	if (!bus)
		return -ENOTCONN;
	action_to_wire(o, &a, &flow);
	/* The delivering server gives it a sequence of its own. */
	a.seq = 1;
	a.assessment_id = cause;
	len = vnfsec__action__get_packed_size(&a);
	if (len > sizeof(buf))
		return -EMSGSIZE;
	vnfsec__action__pack(&a, buf);
	agent_token(agent->id, token);
	snprintf(subject, sizeof(subject), ORDERS_PREFIX "%s", token);
	if (natsMsg_Create(&m, subject, NULL, (const char *)buf, (int)len) !=
	    NATS_OK)
		return -ENOMEM;
	header_u64(m, "Vnfsec-Incident", incident_id);
	header_u64(m, "Vnfsec-Cause", cause);
	header_u64(m, "Vnfsec-Sent", (uint64_t)time(NULL));
	natsMsgHeader_Set(m, "Vnfsec-Origin", bus->results);
	natsMsgHeader_Set(m, "Vnfsec-Server", srv->name);
	/* Behind those still waiting: orders keep their order. */
	if (bus->unpublished || publish(bus, m)) {
		keep_unpublished(bus, m);
		return 0;
	}
	natsMsg_Destroy(m);
	return 0;
}

/* Tell JetStream: "+ACK" done, "+TERM" never to be done. */
static void ack(struct bus *bus, natsMsg *m, const char *what)
{
	const char *reply = natsMsg_GetReply(m);

	if (reply && *reply)
		natsConnection_PublishString(bus->nc, reply, what);
}

/* A pushed message keeps the subject it was published on. */
static struct bus_agent *agent_of(struct bus *bus, const char *subject)
{
	struct bus_agent *ba;
	size_t n = strlen(ORDERS_PREFIX);

	if (strncmp(subject, ORDERS_PREFIX, n))
		return NULL;
	for (ba = bus->agents; ba; ba = ba->next)
		if (!strcmp(ba->token, subject + n))
			return ba;
	return NULL;
}

/* An order for an agent whose session is here: carried out as ours. */
static void deliver(struct server *srv, natsMsg *m)
{
	struct bus *bus = srv->bus;
	struct bus_agent *ba = agent_of(bus, natsMsg_GetSubject(m));
	struct agent_record *agent = NULL;
	struct action_record o, *act = NULL;
	uint64_t sent = get_u64(m, "Vnfsec-Sent");
	time_t now = time(NULL);
	Vnfsec__Action *a;
	const char *why;
	int ret;

	log_debug("bus: order on %s", natsMsg_GetSubject(m));
	if (ba)
		agent = agent_get(srv, ba->id);
	/* Gone meanwhile: unacked, JetStream hands it to its next server. */
	if (!agent || !agent->session) {
		natsMsg_Destroy(m);
		return;
	}
	a = vnfsec__action__unpack(NULL, natsMsg_GetDataLength(m),
				   (const uint8_t *)natsMsg_GetData(m));
	why = a ? wire_check_action(a) : "not an action";
	if (why) {
		log_warn("bus: agent %s: refused an order from %s: %s",
			 agent->id, natsMsg_GetSubject(m), why);
		ack(bus, m, "+TERM");
		natsMsg_Destroy(m);
		if (a)
			vnfsec__action__free_unpacked(a, NULL);
		return;
	}
	order_from_wire(&o, a);
	/* What is left of its TTL: it may have waited for the agent. */
	if (o.ttl_s && sent) {
		if ((uint64_t)now >= sent + o.ttl_s) {
			ack(bus, m, "+TERM");
			natsMsg_Destroy(m);
			vnfsec__action__free_unpacked(a, NULL);
			return;
		}
		o.ttl_s = sent + o.ttl_s - now;
	}
	ret = order_action_rec(srv, agent, &o, get_u64(m, "Vnfsec-Incident"),
			       0, a->assessment_id, &act);
	vnfsec__action__free_unpacked(a, NULL);
	if (!ret) {
		/* Acked when the agent answers: see bus_result(). */
		act->bus_msg = m;
		bus->stats.orders_delivered++;
		return;
	}
	if (ret == -ENOTCONN) {
		natsMsg_Destroy(m);
		return;
	}
	/* In force already (answered), or one no agent may be given. */
	if (ret != -EALREADY)
		log_warn("bus: agent %s: order not carried out: %s",
			 agent->id, strerror(-ret));
	ack(bus, m, ret == -EALREADY ? "+ACK" : "+TERM");
	natsMsg_Destroy(m);
}

void bus_result(struct server *srv, struct action_record *act)
{
	struct bus *bus = srv->bus;
	const char *origin = NULL;
	json_object *o;
	char target[128];

	if (!act->bus_msg)
		return;
	if (bus) {
		ack(bus, act->bus_msg, "+ACK");
		if (natsMsgHeader_Get(act->bus_msg, "Vnfsec-Origin",
				      &origin) == NATS_OK && origin &&
		    !strncmp(origin, RESULTS_PREFIX, strlen(RESULTS_PREFIX))) {
			action_target_str(act, target, sizeof(target));
			o = json_object_new_object();
			json_object_object_add(o, "agent",
				json_object_new_string(act->agent->id));
			json_object_object_add(o, "server",
				json_object_new_string(srv->name));
			json_object_object_add(o, "incident_id",
				json_object_new_uint64(act->incident_id));
			json_object_object_add(o, "type",
				json_object_new_string(action_type_name(act->type)));
			json_object_object_add(o, "target",
				json_object_new_string(target));
			json_object_object_add(o, "status",
				json_object_new_int(act->status));
			natsConnection_PublishString(bus->nc, origin,
				json_object_to_json_string_ext(o, JSON_LINE));
			json_object_put(o);
		}
		bus->stats.results_sent++;
	}
	natsMsg_Destroy(act->bus_msg);
	act->bus_msg = NULL;
}

void bus_forget(struct action_record *act)
{
	/* Unacked: JetStream delivers it again after ORDER_ACK_WAIT_S. */
	natsMsg_Destroy(act->bus_msg);
	act->bus_msg = NULL;
}

/* The answer to an order we published, from the server that delivered it. */
static void on_result(struct bus *bus, natsMsg *m)
{
	json_object *o = json_tokener_parse(natsMsg_GetData(m) ?: "");
	json_object *v;
	const char *agent = "?", *via = "?";
	int status = 0;

	bus->stats.results_received++;
	if (o && json_object_object_get_ex(o, "agent", &v))
		agent = json_object_get_string(v);
	if (o && json_object_object_get_ex(o, "server", &v))
		via = json_object_get_string(v);
	if (o && json_object_object_get_ex(o, "status", &v))
		status = json_object_get_int(v);
	if (status)
		log_warn("bus: agent %s (through %s): our order failed: %s",
			 agent, via, strerror(-status));
	else
		log_info("bus: agent %s (through %s) carried out our order",
			 agent, via);
	json_object_put(o);
}

void bus_event(struct server *srv, struct json_object *ev)
{
	struct bus *bus = srv->bus;
	json_object *copy = NULL;

	if (!bus || json_object_deep_copy(ev, &copy, NULL))
		return;
	json_object_object_add(copy, "server",
			       json_object_new_string(srv->name));
	natsConnection_PublishString(bus->nc, bus->events,
				     json_object_to_json_string_ext(copy,
								    JSON_LINE));
	json_object_put(copy);
}

/* Another server's event: into our control socket's ring and streams. */
static void on_event(struct server *srv, natsMsg *m)
{
	json_object *ev;

	if (!strcmp(natsMsg_GetSubject(m), srv->bus->events))
		return;
	ev = json_tokener_parse(natsMsg_GetData(m) ?: "");
	if (!ev || !json_object_is_type(ev, json_type_object)) {
		json_object_put(ev);
		return;
	}
	srv->bus->stats.events_received++;
	control_publish(srv, ev);
	json_object_put(ev);
}

void bus_io(struct server *srv)
{
	struct bus *bus = srv->bus;
	struct bus_msg *m, *next;
	uint64_t n;

	if (read(bus->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("bus: cannot read its eventfd: %s", strerror(errno));
	pthread_mutex_lock(&bus->lock);
	m = bus->head;
	bus->head = NULL;
	bus->tail = &bus->head;
	pthread_mutex_unlock(&bus->lock);
	for (; m; m = next) {
		next = m->next;
		if (!strncmp(natsMsg_GetSubject(m->msg), RESULTS_PREFIX,
			     strlen(RESULTS_PREFIX))) {
			on_result(bus, m->msg);
			natsMsg_Destroy(m->msg);
		} else if (!strncmp(natsMsg_GetSubject(m->msg), EVENTS_PREFIX,
				    strlen(EVENTS_PREFIX))) {
			on_event(srv, m->msg);
			natsMsg_Destroy(m->msg);
		} else {
			deliver(srv, m->msg);
		}
		free(m);
	}
}

void bus_tick(struct server *srv)
{
	struct bus *bus = srv->bus;
	struct bus_agent *ba;
	struct bus_order *o;
	bool up;

	if (!bus)
		return;
	up = connected(bus);
	if (up != bus->was_connected)
		log_info("bus: NATS %s%s", up ? "connected" : "away; ",
			 up ? "" : "local decisions go on, orders for agents elsewhere wait here");
	bus->was_connected = up;
	if (!up)
		return;
	for (ba = bus->agents; ba; ba = ba->next)
		agent_subscribe(bus, ba);
	while ((o = bus->unpublished) && !publish(bus, o->msg)) {
		bus->unpublished = o->next;
		if (!bus->unpublished)
			bus->unpub_tail = &bus->unpublished;
		bus->nr_unpublished--;
		natsMsg_Destroy(o->msg);
		free(o);
	}
}

void bus_stats(const struct server *srv, struct bus_stats *out,
	       bool *is_connected)
{
	memset(out, 0, sizeof(*out));
	*is_connected = false;
	if (!srv->bus)
		return;
	*out = srv->bus->stats;
	out->orders_waiting = srv->bus->nr_unpublished;
	*is_connected = connected(srv->bus);
}

int bus_open(struct server *srv, void *ev_tag)
{
	const char *url = srv->cfg->nats_url;
	natsOptions *opts = NULL;
	jsOptions jo;
	struct bus *bus;
	uint8_t rnd[8];
	natsStatus s;
	char name[96];
	int ret = -EIO;

	if (!url)
		return 0;
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return -ENOMEM;
	pthread_mutex_init(&bus->lock, NULL);
	bus->tail = &bus->head;
	bus->unpub_tail = &bus->unpublished;
	bus->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (bus->efd < 0 || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		log_err("bus: cannot set up: %s", strerror(errno));
		goto err;
	}
	snprintf(bus->results, sizeof(bus->results),
		 RESULTS_PREFIX "%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0],
		 rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	snprintf(bus->events, sizeof(bus->events), EVENTS_PREFIX "%s",
		 bus->results + strlen(RESULTS_PREFIX));
	snprintf(name, sizeof(name), "vnfsec-server %s", srv->name);
	/* Started before NATS, or NATS away: connect in the background. */
	if (natsOptions_Create(&opts) != NATS_OK ||
	    natsOptions_SetURL(opts, url) != NATS_OK ||
	    natsOptions_SetName(opts, name) != NATS_OK ||
	    natsOptions_SetMaxReconnect(opts, -1) != NATS_OK ||
	    natsOptions_SetReconnectWait(opts, 250) != NATS_OK ||
	    natsOptions_SetTimeout(opts, 1000) != NATS_OK ||
	    natsOptions_SetRetryOnFailedConnect(opts, true, on_connected,
						NULL) !=
	    NATS_OK) {
		log_err("bus: --nats %s: not a NATS URL list (nats://HOST:PORT[,nats://...])",
			url);
		ret = -EINVAL;
		goto err;
	}
	s = natsConnection_Connect(&bus->nc, opts);
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
		log_err("bus: --nats %s: %s; check the URL", url,
			natsStatus_GetText(s));
		goto err;
	}
	if (s == NATS_NOT_YET_CONNECTED)
		log_warn("bus: NATS at %s not reachable yet; trying in the background, local decisions go on",
			 url);
	bus->was_connected = s == NATS_OK;
	/* Requests (stream, consumer) block the loop: not for long. */
	jsOptions_Init(&jo);
	jo.Wait = JS_WAIT_MS;
	if (natsConnection_JetStream(&bus->js, bus->nc, &jo) != NATS_OK ||
	    natsConnection_Subscribe(&bus->results_sub, bus->nc, bus->results,
				     on_msg, bus) != NATS_OK ||
	    natsConnection_Subscribe(&bus->events_sub, bus->nc,
				     EVENTS_PREFIX "*", on_msg, bus) !=
	    NATS_OK ||
	    evloop_add(srv->epoll_fd, bus->efd,
		       (epoll_data_t){ .ptr = ev_tag })) {
		log_err("bus: cannot set up JetStream on %s", url);
		goto err;
	}
	natsOptions_Destroy(opts);
	srv->bus = bus;
	if (bus->was_connected)
		stream_ensure(bus);
	log_info("bus: NATS JetStream at %s: orders for agents elsewhere on stream %s",
		 url, ORDERS_STREAM);
	return 0;
err:
	natsOptions_Destroy(opts);
	srv->bus = bus;
	bus_close(srv);
	return ret;
}

/* What libnats' threads queued and the loop did not take: unacked. */
static void drop_queued(struct bus *bus)
{
	struct bus_msg *m;

	pthread_mutex_lock(&bus->lock);
	m = bus->head;
	bus->head = NULL;
	bus->tail = &bus->head;
	pthread_mutex_unlock(&bus->lock);
	while (m) {
		struct bus_msg *next = m->next;

		natsMsg_Destroy(m->msg);
		free(m);
		m = next;
	}
}

/*
 * Subscriptions and the connection go first, then the library is closed
 * and waited for: no callback of its threads may run once @bus is freed.
 */
void bus_close(struct server *srv)
{
	struct bus *bus = srv->bus;

	if (!bus)
		return;
	while (bus->agents) {
		struct bus_agent *ba = bus->agents;

		bus->agents = ba->next;
		agent_unsubscribe(ba);
		free(ba);
	}
	while (bus->unpublished) {
		struct bus_order *o = bus->unpublished;

		bus->unpublished = o->next;
		natsMsg_Destroy(o->msg);
		free(o);
	}
	if (bus->nr_unpublished)
		log_warn("bus: %u orders for agents elsewhere were never published (NATS away)",
			 bus->nr_unpublished);
	if (bus->results_sub) {
		natsSubscription_Unsubscribe(bus->results_sub);
		natsSubscription_Destroy(bus->results_sub);
	}
	if (bus->events_sub) {
		natsSubscription_Unsubscribe(bus->events_sub);
		natsSubscription_Destroy(bus->events_sub);
	}
	jsCtx_Destroy(bus->js);
	if (bus->nc) {
		/* Acks still in libnats' buffer go out before it closes. */
		natsConnection_FlushTimeout(bus->nc, 500);
		natsConnection_Destroy(bus->nc);
	}
	drop_queued(bus);
	nats_CloseAndWait(2000);
	drop_queued(bus);
	if (bus->efd >= 0)
		close(bus->efd);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
	srv->bus = NULL;
}
