// SPDX-License-Identifier: GPL-2.0-only
/*
 * Control socket, server side (docs/control.md): the server's commands.
 * The socket itself (who may connect, which commands need root or
 * --control-admin-group, bounds, idle clients, pipelining, followers that
 * stop reading) is user/common/ctlsock.c, shared with the agent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "user/common/ctlsock.h"
#include "user/common/evloop.h"
#include "user/common/log.h"
#include "user/server/bus.h"
#include "user/server/control.h"
#include "user/server/peers.h"
#include "user/server/server.h"
#include "user/server/store.h"

/* The epoll tag of a client slot: led by ev_kind like every tag. */
struct control_client {
	enum ev_kind kind;		/* first: see enum ev_kind */
	int slot;
};

struct control {
	struct ctlsock *sock;
	void *listen_tag;
	struct control_client tags[CTLSOCK_CLIENTS_MAX];
	json_object *ring[CONTROL_RING];
	unsigned int ring_next, ring_len;
};

static epoll_data_t ev_data(void *ctx, int slot)
{
	struct control *ctl = ((struct server *)ctx)->ctl;

	return (epoll_data_t){ .ptr = slot < 0 ? ctl->listen_tag :
					      &ctl->tags[slot] };
}

static json_object *handle(void *ctx, struct ctlsock_client *c,
			   const char *cmd, json_object *args, int *err,
			   const char **why);

/* What a member of --control-group may run; the rest needs the admin. */
static const char *const read_only_cmds[] = {
	"status", "agents", "incidents", "actions", "alerts", NULL
};

int control_open(struct server *srv, void *listen_tag)
{
	struct control *ctl;
	unsigned int i;
	int ret;

	if (!srv->cfg->control_path)
		return 0;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->listen_tag = listen_tag;
	for (i = 0; i < CTLSOCK_CLIENTS_MAX; i++) {
		ctl->tags[i].kind = EV_KIND_CONTROL_CLIENT;
		ctl->tags[i].slot = i;
	}
	srv->ctl = ctl;
	ret = ctlsock_open(&(struct ctlsock_config){
		.path = srv->cfg->control_path,
		.read_group = srv->cfg->control_group,
		.admin_group = srv->cfg->control_admin_group,
		.read_only = read_only_cmds,
		.max_clients = CONTROL_CLIENTS_MAX,
		.epfd = srv->epoll_fd, .ev_data = ev_data,
		.handle = handle, .ctx = srv,
	}, &ctl->sock);
	if (ret) {
		free(ctl);
		srv->ctl = NULL;
	}
	return ret;
}

void control_close(struct server *srv)
{
	struct control *ctl = srv->ctl;
	unsigned int i;

	if (!ctl)
		return;
	ctlsock_close(ctl->sock);
	for (i = 0; i < CONTROL_RING; i++)
		json_object_put(ctl->ring[i]);
	free(ctl);
	srv->ctl = NULL;
}

void control_accept(struct server *srv)
{
	ctlsock_accept(srv->ctl->sock);
}

void control_publish(struct server *srv, json_object *ev)
{
	struct control *ctl = srv->ctl;
	unsigned int slot;

	if (!ctl)
		return;
	json_object_put(ctl->ring[ctl->ring_next]);
	ctl->ring[ctl->ring_next] = json_object_get(ev);
	ctl->ring_next = (ctl->ring_next + 1) % CONTROL_RING;
	if (ctl->ring_len < CONTROL_RING)
		ctl->ring_len++;
	for (slot = 0; slot < ctlsock_max_clients(ctl->sock); slot++) {
		struct ctlsock_client *c = ctlsock_client(ctl->sock, slot);

		if (c && c->follow)
			ctlsock_send_event(ctl->sock, c, ev);
	}
}

void control_tick(struct server *srv)
{
	if (srv->ctl)
		ctlsock_tick(srv->ctl->sock);
}

void control_queue(const struct server *srv, unsigned int *clients,
		   uint64_t *bytes)
{
	ctlsock_queue(srv->ctl ? srv->ctl->sock : NULL, clients, bytes);
}

void control_io(struct server *srv, struct control_client *c,
		uint32_t events)
{
	ctlsock_io(srv->ctl->sock, c->slot, events);
}

/* Request handling. Each returns 0 with *result set, or -errno. */

struct request {
	json_object *args;
	const char *error;		/* for the response, when set */
	json_object *result;
	bool stream;			/* events follow the response */
};

static int arg_str(struct request *rq, const char *key, bool required,
		   const char **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(rq->args, key, &v)) {
		if (!required)
			return 0;
		rq->error = "a required argument is missing";
		return -EINVAL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		rq->error = "an argument is not a string";
		return -EINVAL;
	}
	*out = json_object_get_string(v);
	return 0;
}

static int arg_uint(struct request *rq, const char *key, int64_t max,
		    int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(rq->args, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0 || json_object_get_int64(v) > max) {
		rq->error = "an argument is not a number in range";
		return -EINVAL;
	}
	*out = json_object_get_int64(v);
	return 0;
}

static void set_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static int cmd_status(struct server *srv, struct request *rq)
{
	json_object *o = json_object_new_object(), *q;
	unsigned int open = 0, unforwarded = 0, followers;
	uint64_t wbytes = 0, cbytes;
	struct incident *inc;
	struct session *s;

	for (inc = srv->incidents; inc; inc = inc->next) {
		open += inc->state != INCIDENT_CLOSED;
		unforwarded += inc->forwarded != inc->revision;
	}
	for (s = srv->sessions; s; s = s->next)
		wbytes += s->conn.wlen;
	control_queue(srv, &followers, &cbytes);
	json_object_object_add(o, "version", json_object_new_string("0.1"));
	set_int(o, "agents_connected", srv->nr_agents_connected);
	set_int(o, "sessions", srv->nr_sessions);
	set_int(o, "incidents_open", open);
	set_int(o, "indicators", threatdb_size(srv->tdb));
	set_int(o, "assessments", srv->stats.assessments);
	set_int(o, "actions_sent", srv->stats.actions_sent);
	q = json_object_new_object();
	set_int(q, "agent_send_bytes", wbytes);
	set_int(q, "control_send_bytes", cbytes);
	set_int(q, "parent_unforwarded", srv->cfg->parent ? unforwarded : 0);
	json_object_object_add(o, "queues", q);
	if (srv->cfg->parent) {
		json_object_object_add(o, "parent",
				       json_object_new_string(srv->cfg->parent));
		json_object_object_add(o, "parent_connected",
				       json_object_new_boolean(
					       parent_connected(srv)));
	}
	if (srv->bus) {
		struct bus_stats bs;
		bool up;

		bus_stats(srv, &bs, &up);
		q = json_object_new_object();
		json_object_object_add(q, "connected",
				       json_object_new_boolean(up));
		set_int(q, "orders_published", bs.orders_published);
		set_int(q, "orders_waiting", bs.orders_waiting);
		set_int(q, "orders_dropped", bs.orders_dropped);
		set_int(q, "orders_delivered", bs.orders_delivered);
		set_int(q, "results_sent", bs.results_sent);
		set_int(q, "results_received", bs.results_received);
		set_int(q, "events_received", bs.events_received);
		json_object_object_add(o, "bus", q);
	}
	rq->result = o;
	return 0;
}

static int cmd_agents(struct server *srv, struct request *rq)
{
	json_object *arr = json_object_new_array();
	struct agent_record *a;

	for (a = srv->agents; a; a = a->next) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_string(a->id));
		json_object_object_add(o, "address",
				       json_object_new_string(a->address));
		json_object_object_add(o, "attested",
				       json_object_new_boolean(agent_attested(a)));
		if (agent_attested(a)) {
			json_object_object_add(o, "trusted",
				json_object_new_boolean(agent_trusted(a)));
			json_object_object_add(o, "trust_reason",
				json_object_new_string(agent_trust_reason(a)));
			set_int(o, "last_quote", agent_last_quote(a));
			json_object_object_add(o, "isolated",
				json_object_new_boolean(a->isolated));
		}
		json_object_object_add(o, "server",
				       json_object_new_boolean(a->is_server));
		set_int(o, "last_seen", a->last_seen);
		json_object_object_add(o, "connected",
				       json_object_new_boolean(a->session != NULL));
		set_int(o, "assessments", a->assessments);
		set_int(o, "ringbuf_lost", a->ringbuf_lost);
		json_object_array_add(arr, o);
	}
	rq->result = arr;
	return 0;
}

/* Re-attest one agent now; the verdict shows in "agents" later. */
static int cmd_attest(struct server *srv, struct request *rq)
{
	struct agent_record *a;
	const char *id;
	int ret;

	json_object *v;
	bool accept = false;

	ret = arg_str(rq, "agent", true, &id);
	if (ret)
		return ret;
	if (json_object_object_get_ex(rq->args, "accept_pcrs", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			rq->error = "accept_pcrs is not a boolean";
			return -EINVAL;
		}
		accept = json_object_get_boolean(v);
	}
	for (a = srv->agents; a && strcmp(a->id, id); a = a->next)
		;
	ret = a ? attest_request(srv, a, accept) : -ENOENT;
	if (ret) {
		rq->error = ret == -ENOTCONN ? "agent not connected" :
			    ret == -ENOENT ? "no such enrolled agent" :
			    ret == -EPERM ? "its PCR values come from --expected-pcrs: edit that file" :
			    "cannot send the quote request";
		return ret;
	}
	rq->result = json_object_new_object();
	json_object_object_add(rq->result, "requested",
			       json_object_new_string(id));
	return 0;
}

/* Relay a signed policy bundle to its agent; the verdict is logged. */
static int cmd_bundle_push(struct server *srv, struct request *rq)
{
	struct agent_record *a;
	const char *id, *path, *why = NULL;
	int ret;

	ret = arg_str(rq, "agent", true, &id);
	if (!ret)
		ret = arg_str(rq, "path", true, &path);
	if (ret)
		return ret;
	for (a = srv->agents; a && strcmp(a->id, id); a = a->next)
		;
	if (!a) {
		rq->error = "no such agent";
		return -ENOENT;
	}
	ret = bundle_push(srv, a, path, &why);
	if (ret) {
		rq->error = why;
		return ret;
	}
	rq->result = json_object_new_object();
	json_object_object_add(rq->result, "relayed",
			       json_object_new_string(id));
	return 0;
}

/*
 * Relay a signed detector bundle to one agent, or ("all": true) to every
 * connected one; the verdicts come back as DetectorResults (logged).
 */
static int cmd_detector_push(struct server *srv, struct request *rq)
{
	struct agent_record *a;
	const char *id = NULL, *path, *why = NULL;
	json_object *all, *sent;
	int ret;

	ret = arg_str(rq, "path", true, &path);
	if (!ret && !json_object_object_get_ex(rq->args, "all", &all))
		ret = arg_str(rq, "agent", true, &id);
	if (ret)
		return ret;
	sent = json_object_new_array();
	for (a = srv->agents; a; a = a->next) {
		if (id ? strcmp(a->id, id) : !a->session)
			continue;
		ret = bundle_push_detector(srv, a, path, &why);
		if (ret && id) {
			json_object_put(sent);
			rq->error = why;
			return ret;
		}
		if (!ret)
			json_object_array_add(sent,
					      json_object_new_string(a->id));
	}
	if (id && !json_object_array_length(sent)) {
		json_object_put(sent);
		rq->error = "no such agent";
		return -ENOENT;
	}
	rq->result = json_object_new_object();
	json_object_object_add(rq->result, "relayed", sent);
	return 0;
}

/* Revoke an identity (or lift that): docs/security.md. */
static int cmd_revoke(struct server *srv, struct request *rq)
{
	const char *id, *why = NULL;
	json_object *v;
	bool lift = false;
	int ret;

	ret = arg_str(rq, "agent", true, &id);
	if (ret)
		return ret;
	if (json_object_object_get_ex(rq->args, "lift", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			rq->error = "lift is not a boolean";
			return -EINVAL;
		}
		lift = json_object_get_boolean(v);
	}
	ret = peers_revoke(srv, id, lift, &why);
	if (ret) {
		rq->error = why;
		return ret;
	}
	rq->result = json_object_new_object();
	json_object_object_add(rq->result, lift ? "lifted" : "revoked",
			       json_object_new_string(id));
	return 0;
}

/* Free an agent id from the TPM it enrolled with (a replaced host). */
static int cmd_agent_release(struct server *srv, struct request *rq)
{
	const char *id;
	int ret;

	ret = arg_str(rq, "agent", true, &id);
	if (ret)
		return ret;
	ret = attestation_release(srv, id);
	if (ret) {
		rq->error = ret == -ENOENT ? "no TPM bound to this agent id" :
			    ret == -EOPNOTSUPP ? "enrollment is off (no --enroll-ca-key)" :
			    "cannot write the store; see the server's log";
		return ret;
	}
	rq->result = json_object_new_object();
	json_object_object_add(rq->result, "released",
			       json_object_new_string(id));
	return 0;
}

struct stored_list {
	struct server *srv;
	const char *state;
	json_object *arr;
};

static int add_name(void *ctx, const char *agent_id)
{
	return json_object_array_add(ctx, json_object_new_string(agent_id));
}

/* A stored incident as this server would show it, every reporter named. */
static int list_stored(void *ctx, const struct incident_row *r)
{
	struct stored_list *sl = ctx;
	struct incident *local = incident_find(sl->srv, r->id);
	struct incident row;
	json_object *agents;
	int ret;

	if ((sl->state && strcmp(sl->state, r->state)) ||
	    incident_from_row(r, &row))
		return 0;
	/* What only the server that acted knows: its orders, its match. */
	if (local) {
		row.actions_sent = local->actions_sent;
		row.actions_ok = local->actions_ok;
		row.actions_failed = local->actions_failed;
		row.has_indicator = local->has_indicator;
		row.indicator = local->indicator;
		row.revision = local->revision;
		memcpy(row.operator_reason, local->operator_reason,
		       sizeof(row.operator_reason));
	}
	agents = json_object_new_array();
	ret = store_incident_agents_load(sl->srv->store, r->id, add_name,
					 agents);
	if (ret) {
		json_object_put(agents);
		return ret;
	}
	return json_object_array_add(sl->arr,
				     incident_json_agents(&row, agents));
}

/*
 * Servers sharing a store show the cluster's incidents, read from it:
 * those open and those closed recently, as a restart would load them.
 */
static int incidents_stored(struct server *srv, struct request *rq,
			    const char *state)
{
	struct stored_list sl = { .srv = srv, .state = state };
	int ret;

	sl.arr = json_object_new_array();
	ret = store_incidents_load(srv->store, time(NULL) -
				   4 * (time_t)srv->cfg->idle_close_s,
				   list_stored, &sl);
	if (ret) {
		json_object_put(sl.arr);
		rq->error = "the store cannot be read; see the server's log";
		return ret;
	}
	rq->result = sl.arr;
	return 0;
}

static int cmd_incidents(struct server *srv, struct request *rq)
{
	json_object *arr;
	struct incident *inc;
	const char *state;
	int ret = arg_str(rq, "state", false, &state);

	if (ret)
		return ret;
	if (store_shared(srv->store))
		return incidents_stored(srv, rq, state);
	arr = json_object_new_array();
	for (inc = srv->incidents; inc; inc = inc->next)
		if (!state || !strcmp(state, incident_state_name(inc->state)))
			json_object_array_add(arr, incident_json(inc));
	rq->result = arr;
	return 0;
}

struct restore_one {
	struct server *srv;
	uint64_t id;
};

static int restore_one(void *ctx, const struct incident_row *r)
{
	struct restore_one *ro = ctx;

	return r->id == ro->id ? incident_restore(ro->srv, r) : 0;
}

/*
 * An incident this server has not seen, from a shared store: any server
 * acks or closes the cluster's incidents (those `incidents` lists).
 */
static struct incident *incident_stored(struct server *srv, uint64_t id)
{
	struct restore_one ro = { .srv = srv, .id = id };

	if (!store_shared(srv->store) ||
	    store_incidents_load(srv->store, time(NULL) -
				 4 * (time_t)srv->cfg->idle_close_s,
				 restore_one, &ro))
		return NULL;
	return incident_find(srv, id);
}

static int cmd_incident_state(struct server *srv, struct request *rq,
			      enum incident_state to)
{
	struct incident *inc;
	int64_t id = 0;
	int ret = arg_uint(rq, "id", INT64_MAX, &id);

	if (ret)
		return ret;
	inc = incident_find(srv, id);
	if (!inc)
		inc = incident_stored(srv, id);
	if (!inc) {
		rq->error = "no such incident";
		return -ENOENT;
	}
	incident_set_state(srv, inc, to);
	rq->result = incident_json(inc);
	return 0;
}

static int cmd_actions(struct server *srv, struct request *rq)
{
	json_object *arr = json_object_new_array();
	struct action_record *act;

	for (act = srv->actions; act; act = act->next)
		json_object_array_add(arr, action_json(act));
	rq->result = arr;
	return 0;
}

static int cmd_alerts(struct server *srv, struct ctlsock_client *c,
		      struct request *rq)
{
	struct control *ctl = srv->ctl;
	json_object *arr, *v;
	int64_t limit = 100;
	unsigned int i, n;
	int ret = arg_uint(rq, "limit", CONTROL_RING, &limit);

	if (ret)
		return ret;
	if (json_object_object_get_ex(rq->args, "follow", &v) &&
	    json_object_get_boolean(v)) {
		c->follow = true;
		rq->stream = true;
		return 0;
	}
	n = limit < ctl->ring_len ? limit : ctl->ring_len;
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		unsigned int at = (ctl->ring_next + CONTROL_RING - n + i) %
				  CONTROL_RING;

		json_object_array_add(arr, json_object_get(ctl->ring[at]));
	}
	rq->result = arr;
	return 0;
}

static int cmd_import(struct server *srv, struct request *rq)
{
	const char *path, *format, *source;
	unsigned int imported, skipped;
	int ret;

	if (arg_str(rq, "path", true, &path) ||
	    arg_str(rq, "format", true, &format) ||
	    arg_str(rq, "source", false, &source))
		return -EINVAL;
	if (strcmp(format, "cidr") && strcmp(format, "csv")) {
		rq->error = "format: cidr or csv";
		return -EINVAL;
	}
	if (source && (!*source || strlen(source) > WIRE_NAME_MAX)) {
		rq->error = "source: 1 to 63 characters";
		return -EINVAL;
	}
	ret = threatdb_import_stored(srv, path, format, source, &imported,
				     &skipped);
	if (ret) {
		rq->error = "import failed; see the server's log";
		return ret;
	}
	rq->result = json_object_new_object();
	set_int(rq->result, "imported", imported);
	set_int(rq->result, "skipped", skipped);
	return 0;
}

static int dispatch(struct server *srv, struct ctlsock_client *c,
		    const char *cmd, struct request *rq)
{
	if (!strcmp(cmd, "status"))
		return cmd_status(srv, rq);
	if (!strcmp(cmd, "agents"))
		return cmd_agents(srv, rq);
	if (!strcmp(cmd, "incidents"))
		return cmd_incidents(srv, rq);
	if (!strcmp(cmd, "incident.ack"))
		return cmd_incident_state(srv, rq, INCIDENT_ACKNOWLEDGED);
	if (!strcmp(cmd, "incident.close"))
		return cmd_incident_state(srv, rq, INCIDENT_CLOSED);
	if (!strcmp(cmd, "actions"))
		return cmd_actions(srv, rq);
	if (!strcmp(cmd, "alerts"))
		return cmd_alerts(srv, c, rq);
	if (!strcmp(cmd, "threatdb.import"))
		return cmd_import(srv, rq);
	if (!strcmp(cmd, "attest"))
		return cmd_attest(srv, rq);
	if (!strcmp(cmd, "bundle.push"))
		return cmd_bundle_push(srv, rq);
	if (!strcmp(cmd, "detector.push"))
		return cmd_detector_push(srv, rq);
	if (!strcmp(cmd, "revoke"))
		return cmd_revoke(srv, rq);
	if (!strcmp(cmd, "agent.release"))
		return cmd_agent_release(srv, rq);
	rq->error = "unknown command";
	return -EOPNOTSUPP;
}

static json_object *handle(void *ctx, struct ctlsock_client *c,
			   const char *cmd, json_object *args, int *err,
			   const char **why)
{
	struct request rq = { .args = args };
	int ret = dispatch(ctx, c, cmd, &rq);
	const char *const *ro;

	/* A change is stored before "ok" says so (a revocation, an import). */
	for (ro = read_only_cmds; *ro && strcmp(*ro, cmd); ro++)
		;
	if (!ret && !*ro && round_commit_now(ctx)) {
		rq.error = "the store refused the change; see the server's log";
		ret = -EIO;
	}
	if (ret) {
		json_object_put(rq.result);
		*err = -ret;
		*why = rq.error ? rq.error : strerror(-ret);
		return NULL;
	}
	return rq.result ? rq.result : json_object_new_object();
}
