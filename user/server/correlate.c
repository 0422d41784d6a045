// SPDX-License-Identifier: GPL-2.0-only
/*
 * Correlation: assessments from many agents (and summaries from child
 * servers) become incidents. The same source, or the same pattern on the
 * same port when the sources are spread, seen within the window by any
 * number of agents is one coordinated incident, not N alerts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "user/common/heuristic.h"
#include "user/common/log.h"
#include "user/server/store.h"

/* heuristic_name(): user/common/heuristic.c, from the wire enum. */

const char *incident_state_name(enum incident_state state)
{
	switch (state) {
	case INCIDENT_OPEN: return "open";
	case INCIDENT_ACKNOWLEDGED: return "acknowledged";
	case INCIDENT_REMEDIATED: return "remediated";
	case INCIDENT_CLOSED: return "closed";
	}
	return "unknown";
}

/* FNV-1a over what makes two reports one incident. */
static unsigned int key_hash(int heuristic, const uint8_t *src,
			     uint8_t src_len, uint32_t dst_port,
			     const char *sender)
{
	uint32_t h = 2166136261u;
	unsigned int i;

	h = (h ^ (uint32_t)heuristic) * 16777619u;
	for (i = 0; i < src_len; i++)
		h = (h ^ src[i]) * 16777619u;
	if (!src_len)
		h = (h ^ dst_port) * 16777619u;
	for (; *sender; sender++)
		h = (h ^ (uint8_t)*sender) * 16777619u;
	return h;
}

static unsigned int key_slot(const struct server *srv,
			     const struct incident *inc)
{
	return key_hash(inc->heuristic, inc->src, inc->src_len,
			inc->dst_port, inc->sender) &
	       (srv->incident_buckets - 1);
}

static unsigned int id_slot(const struct server *srv, uint64_t id)
{
	return id & (srv->incident_buckets - 1);
}

/*
 * The indexes double when they hold more incidents than buckets, so a
 * lookup stays a few steps however many incidents are open. When memory
 * for bigger ones is short the old ones go on serving, slower.
 */
static int incident_index_grow(struct server *srv)
{
	unsigned int n = srv->incident_buckets ? srv->incident_buckets * 2 :
			 INDEX_BUCKETS_MIN;
	struct incident **key, **id, *inc;
	unsigned int old = srv->incident_buckets;

	if (n < old)
		return -EOVERFLOW;
	key = calloc(n, sizeof(*key));
	id = calloc(n, sizeof(*id));
	if (!key || !id) {
		free(key);
		free(id);
		return -ENOMEM;
	}
	free(srv->by_key);
	free(srv->by_id);
	srv->by_key = key;
	srv->by_id = id;
	srv->incident_buckets = n;
	/* by_key holds the incidents not closed, by_id all of them. */
	for (inc = srv->incidents; inc; inc = inc->next) {
		if (inc->state != INCIDENT_CLOSED) {
			inc->key_next = key[key_slot(srv, inc)];
			key[key_slot(srv, inc)] = inc;
		}
		inc->id_next = id[id_slot(srv, inc->id)];
		id[id_slot(srv, inc->id)] = inc;
	}
	return 0;
}

static void key_unlink(struct server *srv, struct incident *inc)
{
	struct incident **pp = &srv->by_key[key_slot(srv, inc)];

	for (; *pp; pp = &(*pp)->key_next) {
		if (*pp == inc) {
			*pp = inc->key_next;
			return;
		}
	}
}

static void id_unlink(struct server *srv, struct incident *inc)
{
	struct incident **pp = &srv->by_id[id_slot(srv, inc->id)];

	for (; *pp; pp = &(*pp)->id_next) {
		if (*pp == inc) {
			*pp = inc->id_next;
			return;
		}
	}
}

struct incident *incident_find(struct server *srv, uint64_t id)
{
	struct incident *inc;

	if (!srv->incident_buckets)
		return NULL;
	for (inc = srv->by_id[id_slot(srv, id)]; inc; inc = inc->id_next)
		if (inc->id == id)
			return inc;
	return NULL;
}

static void incident_save(struct server *srv, struct incident *inc)
{
	if (store_incident(srv->store, inc))
		srv->stats.store_errors++;
	else
		inc->saved = inc->revision;
}

/*
 * The correlation key as a shared store keeps it: "syn_flood 10.0.0.1",
 * "horizontal_scan *:22" for a pattern across sources, or
 * "spoofed_source *:0 from billing" for one spoofing VNF.
 */
static void incident_key(int heuristic, const uint8_t *src, uint8_t src_len,
			 uint32_t dst_port, const char *sender, char *buf,
			 size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "";

	if (src_len)
		inet_ntop(src_len == 4 ? AF_INET : AF_INET6, src, addr,
			  sizeof(addr));
	if (src_len)
		snprintf(buf, len, "%s %s", heuristic_name(heuristic), addr);
	else
		snprintf(buf, len, "%s *:%u%s%s", heuristic_name(heuristic),
			 dst_port, *sender ? " from " : "", sender);
}

/*
 * A source-less spoofing report names the VNF behind the port it came in
 * on: each such VNF is an incident of its own, so each gets its own
 * proposal (two spoofing VNFs never merge under the first one's).
 */
static const char *key_sender(int heuristic, uint8_t src_len,
			      const char *vnf_src)
{
	if (heuristic != VNFSEC__HEURISTIC__HEURISTIC_SPOOFED_SOURCE ||
	    src_len || !vnf_src)
		return "";
	return vnf_src;
}

/*
 * In a shared store an incident closes when the cluster has not seen its
 * key for @idle_before, not when this server has not: true when its key
 * is let go (or was no longer its own); else its last sighting anywhere
 * becomes its own.
 */
static bool incident_release(struct server *srv, struct incident *inc,
			     time_t idle_before)
{
	time_t last_seen;
	char key[160];

	incident_key(inc->heuristic, inc->src, inc->src_len, inc->dst_port,
		     inc->sender, key, sizeof(key));
	if (store_incident_release(srv->store, key, inc->id, idle_before,
				   &last_seen)) {
		srv->stats.store_errors++;
		return false;
	}
	if (!last_seen)
		return true;
	if (last_seen > inc->last_seen)
		inc->last_seen = last_seen;
	return false;
}

void incident_set_state(struct server *srv, struct incident *inc,
			enum incident_state state)
{
	if (inc->state == state)
		return;
	/* Closed by the operator: no server continues it. */
	if (state == INCIDENT_CLOSED && store_shared(srv->store))
		incident_release(srv, inc, INT64_MAX);
	/* A closed incident never matches a report again. */
	if (state == INCIDENT_CLOSED)
		key_unlink(srv, inc);
	inc->state = state;
	inc->revision++;
	incident_save(srv, inc);
	alert_incident(srv, inc);
}

/* A zero address or a pattern across sources has no source to block. */
static bool source_known(const Vnfsec__Assessment *a)
{
	static const uint8_t zero[16];

	if (!memcmp(a->src_addr.data, zero, a->src_addr.len))
		return false;
	return a->src_count > 0 || a->count == 0;
}

static struct incident *incident_match(struct server *srv, int heuristic,
				       const uint8_t *src, uint8_t src_len,
				       uint32_t dst_port, const char *sender,
				       time_t now)
{
	struct incident *inc;

	if (!srv->incident_buckets)
		return NULL;
	inc = srv->by_key[key_hash(heuristic, src, src_len, dst_port,
				   sender) & (srv->incident_buckets - 1)];
	for (; inc; inc = inc->key_next) {
		if (inc->state == INCIDENT_CLOSED ||
		    inc->heuristic != heuristic ||
		    strcmp(inc->sender, sender) ||
		    now - inc->last_seen > (time_t)srv->cfg->window_s)
			continue;
		if (src_len ? inc->src_len == src_len &&
			      !memcmp(inc->src, src, src_len) :
			      !inc->src_len && inc->dst_port == dst_port)
			return inc;
	}
	return NULL;
}

/* @id 0: a new incident, the next id; else one restored from the store. */
static struct incident *incident_new(struct server *srv, int heuristic,
				     const uint8_t *src, uint8_t src_len,
				     uint32_t dst_port, const char *sender,
				     time_t now, uint64_t id)
{
	struct incident *inc;

	if (srv->nr_incidents >= srv->incident_buckets &&
	    incident_index_grow(srv) && !srv->incident_buckets)
		return NULL;
	inc = calloc(1, sizeof(*inc));
	if (!inc)
		return NULL;
	inc->id = id ? id : ++srv->next_incident_id;
	inc->heuristic = heuristic;
	inc->state = INCIDENT_OPEN;
	memcpy(inc->src, src, src_len);
	inc->src_len = src_len;
	inc->dst_port = dst_port;
	snprintf(inc->sender, sizeof(inc->sender), "%s", sender);
	inc->first_seen = inc->last_seen = now;
	inc->next = srv->incidents;
	srv->incidents = inc;
	srv->nr_incidents++;
	inc->key_next = srv->by_key[key_slot(srv, inc)];
	srv->by_key[key_slot(srv, inc)] = inc;
	inc->id_next = srv->by_id[id_slot(srv, inc->id)];
	srv->by_id[id_slot(srv, inc->id)] = inc;
	if (!id && heuristic >= 0 && heuristic < 16)
		srv->stats.incidents_by_type[heuristic]++;
	return inc;
}

/* Returns true when @agent is new to the incident. */
static bool incident_add_agent(struct incident *inc,
			       struct agent_record *agent)
{
	unsigned int i;

	for (i = 0; i < inc->nr_agents; i++)
		if (inc->agents[i].agent == agent)
			return false;
	/*
	 * Past the cap the incident is already a coordinated one; without
	 * memory to list it the agent is not listed either. remediate()
	 * orders an unlisted reporter all the same.
	 */
	if (inc->nr_agents == INCIDENT_AGENTS_MAX)
		return false;
	if (inc->nr_agents == inc->cap_agents) {
		unsigned int cap = inc->cap_agents ? inc->cap_agents * 2 : 2;
		struct incident_agent *n;

		if (cap > INCIDENT_AGENTS_MAX)
			cap = INCIDENT_AGENTS_MAX;
		n = realloc(inc->agents, cap * sizeof(*n));
		if (!n)
			return false;
		inc->agents = n;
		inc->cap_agents = cap;
	}
	inc->agents[inc->nr_agents++] = (struct incident_agent){
		.agent = agent,
	};
	return true;
}

bool incident_lists(const struct incident *inc,
		    const struct agent_record *agent)
{
	unsigned int i;

	for (i = 0; i < inc->nr_agents; i++)
		if (inc->agents[i].agent == agent)
			return true;
	return false;
}

/*
 * Severity: the highest an agent reported, at least what a matching
 * indicator's confidence says, plus one for every further agent that
 * saw it (a coordinated attack is worse than a local one).
 */
static unsigned int incident_severity(const struct incident *inc)
{
	unsigned int sev = inc->max_reported;

	if (inc->has_indicator && (inc->indicator.confidence + 9) / 10 > sev)
		sev = (inc->indicator.confidence + 9) / 10;
	sev += inc->nr_agents ? inc->nr_agents - 1 : 0;
	return sev > 10 ? 10 : sev ? sev : 1;
}

/* Fold one report into an incident; emits it when it changed. */
static void incident_update(struct server *srv, struct incident *inc,
			    struct agent_record *agent, unsigned int severity,
			    const struct indicator *ind, uint64_t count,
			    bool is_new, time_t now)
{
	unsigned int old_sev = inc->severity;
	bool changed = is_new;

	inc->last_seen = now;
	inc->assessments += count;
	if (severity > inc->max_reported)
		inc->max_reported = severity;
	if (incident_add_agent(inc, agent)) {
		changed = true;
		/* A new agent still needs its own remediation. */
		if (inc->state == INCIDENT_REMEDIATED)
			inc->state = INCIDENT_OPEN;
	}
	if (ind && (!inc->has_indicator ||
		    ind->confidence > inc->indicator.confidence)) {
		inc->indicator = *ind;
		inc->has_indicator = true;
		changed = true;
	}
	inc->severity = incident_severity(inc);
	changed |= inc->severity != old_sev;
	inc->revision++;
	/* Counters alone reach the store on the next tick, not per report. */
	if (changed) {
		incident_save(srv, inc);
		alert_incident(srv, inc);
	}
}

/*
 * What flow and VNF actions of the playbook would act on: the flow of the
 * latest report that names one, and the VNF attacked (vnf_dst) or, when
 * the report names none, the VNF the traffic came from (vnf_src).
 */
static void incident_targets(struct incident *inc,
			     const Vnfsec__Assessment *a)
{
	const Vnfsec__FlowTuple *f = a->flow;

	/* wire_decode() checked both addresses are 4 or 16 bytes. */
	if (f && f->src_addr.len == f->dst_addr.len &&
	    f->src_addr.len <= sizeof(inc->flow.src)) {
		inc->flow.len = f->src_addr.len;
		memcpy(inc->flow.src, f->src_addr.data, f->src_addr.len);
		memcpy(inc->flow.dst, f->dst_addr.data, f->dst_addr.len);
		inc->flow.src_port = f->src_port;
		inc->flow.dst_port = f->dst_port;
		inc->flow.proto = f->proto;
		inc->has_flow = true;
	}
	if (a->vnf_dst[0])
		snprintf(inc->vnf, sizeof(inc->vnf), "%s", a->vnf_dst);
	else if (a->vnf_src[0])
		snprintf(inc->vnf, sizeof(inc->vnf), "%s", a->vnf_src);
}

/*
 * With a shared store the key names the incident, whichever server saw
 * it first: @inc (this server's match, or NULL) becomes the incident the
 * store names, made here under the store's id when this server has not
 * seen it. Asked on every report, so an incident another server closed
 * or let go is not continued here. -EAGAIN when the store cannot say:
 * the report is not acked.
 */
static int incident_claim(struct server *srv, struct incident **inc,
			  int heuristic, const uint8_t *src, uint8_t src_len,
			  uint32_t dst_port, const char *sender, time_t now,
			  bool *is_new)
{
	struct incident *found;
	char key[160];
	uint64_t id;

	incident_key(heuristic, src, src_len, dst_port, sender, key,
		     sizeof(key));
	if (store_incident_claim(srv->store, key, now,
				 now - (time_t)srv->cfg->window_s, &id)) {
		srv->stats.store_errors++;
		return -EAGAIN;
	}
	if (!*inc || (*inc)->id != id) {
		/* Ours ended elsewhere (closed, gone idle): it ends here too. */
		if (*inc)
			incident_set_state(srv, *inc, INCIDENT_CLOSED);
		found = incident_find(srv, id);
		/* Closed here, continued elsewhere: open again. */
		if (found && found->state == INCIDENT_CLOSED) {
			found->state = INCIDENT_OPEN;
			found->key_next = srv->by_key[key_slot(srv, found)];
			srv->by_key[key_slot(srv, found)] = found;
		}
		if (!found) {
			found = incident_new(srv, heuristic, src, src_len,
					     dst_port, sender, now, id);
			if (!found)
				return -ENOMEM;
			if (heuristic >= 0 && heuristic < 16)
				srv->stats.incidents_by_type[heuristic]++;
			*is_new = true;
		}
		*inc = found;
	}
	return 0;
}

int correlate_assessment(struct server *srv, struct agent_record *agent,
			 const Vnfsec__Assessment *a, struct incident **out)
{
	time_t now = time(NULL);
	const struct indicator *ind = threatdb_match(srv->tdb, a, now);
	uint8_t src_len = source_known(a) ? a->src_addr.len : 0;
	const char *sender = key_sender(a->heuristic, src_len, a->vnf_src);
	struct incident *inc;
	bool is_new = false, guarded;

	if (ind)
		srv->stats.indicator_matches++;
	inc = incident_match(srv, a->heuristic, a->src_addr.data, src_len,
			     a->dst_port, sender, now);
	if (store_shared(srv->store)) {
		int ret = incident_claim(srv, &inc, a->heuristic,
					 a->src_addr.data, src_len,
					 src_len ? 0 : a->dst_port, sender,
					 now, &is_new);

		if (ret)
			return ret;
	} else if (!inc) {
		inc = incident_new(srv, a->heuristic, a->src_addr.data,
				   src_len, src_len ? 0 : a->dst_port, sender,
				   now, 0);
		if (!inc)
			return -ENOMEM;
		is_new = true;
	}
	incident_targets(inc, a);
	/* Before the incident is shown: its first event says who decides. */
	guarded = inc->requires_operator;
	incident_guard(srv, inc, a->vnf_src);
	incident_update(srv, inc, agent, a->severity, ind, 1,
			is_new || guarded != inc->requires_operator, now);
	*out = inc;
	return 0;
}

int correlate_summary(struct server *srv, struct agent_record *child,
		      const Vnfsec__IncidentSummary *sum)
{
	time_t now = time(NULL);
	const struct indicator *ind = NULL;
	struct indicator from_child;
	struct incident *inc;
	bool is_new = false, guarded;
	uint8_t src_len = sum->src_addr.len;

	/* The child's own feed match counts; ours may match as well. */
	if (src_len)
		ind = threatdb_match_addr(srv->tdb, sum->src_addr.data,
					  src_len, now);
	if (!ind && sum->indicator_source[0]) {
		memset(&from_child, 0, sizeof(from_child));
		snprintf(from_child.source, sizeof(from_child.source), "%s",
			 sum->indicator_source);
		from_child.confidence = sum->severity * 10;
		ind = &from_child;
	}
	inc = incident_match(srv, sum->heuristic, sum->src_addr.data, src_len,
			     sum->dst_port, "", now);
	if (store_shared(srv->store)) {
		int ret = incident_claim(srv, &inc, sum->heuristic,
					 sum->src_addr.data, src_len,
					 src_len ? 0 : sum->dst_port, "", now,
					 &is_new);

		if (ret)
			return ret;
	} else if (!inc) {
		inc = incident_new(srv, sum->heuristic, sum->src_addr.data,
				   src_len, src_len ? 0 : sum->dst_port, "",
				   now, 0);
		if (!inc)
			return -ENOMEM;
		is_new = true;
	}
	guarded = inc->requires_operator;
	incident_guard(srv, inc, NULL);
	/* A child's severity already counts its own agents. */
	incident_update(srv, inc, child, sum->severity, ind, 1,
			is_new || guarded != inc->requires_operator, now);
	srv->stats.summaries_received++;
	remediate(srv, inc, child, 0);
	return 0;
}

struct restore_ctx {
	struct server *srv;
	struct incident *inc;
};

static int restore_agent(void *ctx, const char *agent_id)
{
	struct restore_ctx *rc = ctx;
	struct agent_record *a = agent_get(rc->srv, agent_id);

	if (!a)
		return -ENOMEM;
	incident_add_agent(rc->inc, a);
	return 0;
}

static int state_of(const char *name, enum incident_state *out)
{
	enum incident_state s;

	for (s = INCIDENT_OPEN; s <= INCIDENT_CLOSED; s++)
		if (!strcmp(incident_state_name(s), name)) {
			*out = s;
			return 0;
		}
	return -EINVAL;
}

/*
 * The stored row @r as an incident (without its agents or lists): *out
 * is overwritten. -EINVAL for a row this build cannot read.
 */
int incident_from_row(const struct incident_row *r, struct incident *out)
{
	int heuristic = heuristic_from_name(r->type);
	enum incident_state state;

	if (heuristic < 0 || state_of(r->state, &state))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->id = r->id;
	out->heuristic = heuristic;
	out->state = state;
	if (r->src && inet_pton(AF_INET, r->src, out->src) == 1)
		out->src_len = 4;
	else if (r->src && inet_pton(AF_INET6, r->src, out->src) == 1)
		out->src_len = 16;
	out->dst_port = r->dst_port;
	out->severity = out->max_reported = r->severity;
	out->first_seen = r->first_seen;
	out->last_seen = r->last_seen;
	out->assessments = r->assessments;
	out->requires_operator = r->requires_operator;
	if (r->proposed && !strncmp(r->proposed, "quarantine_vnf ", 15))
		snprintf(out->proposed_vnf, sizeof(out->proposed_vnf), "%s",
			 r->proposed + 15);
	return 0;
}

/*
 * Reports that arrive after a restart continue the incident they belong
 * to under its id; its reporters come back from the stored assessments.
 * A row this build cannot read is skipped with a line, never fatal.
 */
int incident_restore(struct server *srv, const struct incident_row *r)
{
	struct restore_ctx rc = { .srv = srv };
	struct incident *inc, row;

	if (incident_from_row(r, &row)) {
		log_warn("store: incident %llu (%s, %s) not restored: unknown type or state",
			 (unsigned long long)r->id, r->type, r->state);
		return 0;
	}
	/* A spoofing VNF's incident: its proposal names the VNF. */
	inc = incident_new(srv, row.heuristic, row.src, row.src_len,
			   row.dst_port,
			   key_sender(row.heuristic, row.src_len,
				      row.proposed_vnf),
			   row.last_seen, row.id);
	if (!inc)
		return -ENOMEM;
	inc->state = row.state;
	if (row.state == INCIDENT_CLOSED)
		key_unlink(srv, inc);
	inc->severity = inc->max_reported = row.severity;
	inc->first_seen = row.first_seen;
	inc->assessments = row.assessments;
	inc->requires_operator = row.requires_operator;
	memcpy(inc->proposed_vnf, row.proposed_vnf, sizeof(row.proposed_vnf));
	/* As stored and, for all it knows, as the parent last heard it. */
	inc->revision = inc->saved = inc->forwarded = inc->sent = 1;
	rc.inc = inc;
	return store_incident_agents_load(srv->store, inc->id, restore_agent,
					  &rc);
}

void incidents_tick(struct server *srv, time_t now)
{
	struct incident **pp = &srv->incidents, *inc;

	while ((inc = *pp)) {
		if (inc->saved != inc->revision)
			incident_save(srv, inc);
		if (inc->state != INCIDENT_CLOSED &&
		    now - inc->last_seen >= (time_t)srv->cfg->idle_close_s &&
		    (!store_shared(srv->store) ||
		     incident_release(srv, inc, now - (time_t)
				      srv->cfg->idle_close_s)))
			incident_set_state(srv, inc, INCIDENT_CLOSED);
		/*
		 * Closed ones stay listed a while, then live only in the
		 * store; the parent must have their last revision first.
		 */
		if (inc->state == INCIDENT_CLOSED &&
		    (!srv->cfg->parent || inc->forwarded == inc->revision) &&
		    now - inc->last_seen >= 4 * (time_t)srv->cfg->idle_close_s) {
			*pp = inc->next;
			id_unlink(srv, inc);
			srv->nr_incidents--;
			free(inc->agents);
			free(inc);
			continue;
		}
		pp = &inc->next;
	}
}

void incidents_free(struct server *srv)
{
	while (srv->incidents) {
		struct incident *next = srv->incidents->next;

		if (srv->incidents->saved != srv->incidents->revision)
			incident_save(srv, srv->incidents);
		free(srv->incidents->agents);
		free(srv->incidents);
		srv->incidents = next;
	}
	free(srv->by_key);
	free(srv->by_id);
	srv->by_key = srv->by_id = NULL;
	srv->incident_buckets = srv->nr_incidents = 0;
}
