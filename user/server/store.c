// SPDX-License-Identifier: GPL-2.0-only
/*
 * The store's front: --db picks the backend, every call of store.h goes
 * to it. "postgresql://..." or "postgres://..." (a libpq connection URI)
 * is PostgreSQL (store_pg.c); anything else is a SQLite file or
 * ":memory:" (store_sqlite.c), the embedded default.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "user/server/store_backend.h"

struct store {
	const struct store_ops *ops;
	struct store_be *be;
};

static bool is_postgres(const char *path)
{
	return !strncmp(path, "postgresql://", 13) ||
	       !strncmp(path, "postgres://", 11);
}

int store_open(const char *path, struct store **out)
{
	struct store *st = calloc(1, sizeof(*st));
	int ret;

	*out = NULL;
	if (!st)
		return -ENOMEM;
	st->ops = is_postgres(path) ? &store_pg_ops : &store_sqlite_ops;
	ret = st->ops->open(path, &st->be);
	if (ret) {
		free(st);
		return ret;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	st->ops->close(st->be);
	free(st);
}

int store_schema_version(struct store *st)
{
	return st->ops->schema_version(st->be);
}

int store_agent_seen(struct store *st, const struct agent_record *agent,
		     bool connected)
{
	return st->ops->agent_seen(st->be, agent, connected);
}

int store_assessment(struct store *st, const char *agent_id,
		     const Vnfsec__Assessment *a, uint64_t incident_id)
{
	return st->ops->assessment(st->be, agent_id, a, incident_id);
}

int store_incident(struct store *st, const struct incident *inc)
{
	return st->ops->incident(st->be, inc);
}

int store_action(struct store *st, const struct action_record *act)
{
	return st->ops->action(st->be, act);
}

int store_indicator(struct store *st, const struct indicator *ind)
{
	return st->ops->indicator(st->be, ind);
}

int store_attestation(struct store *st, const struct attestation_row *r)
{
	return st->ops->attestation(st->be, r);
}

int store_attestations_load(struct store *st,
			    int (*fn)(void *ctx,
				      const struct attestation_row *r),
			    void *ctx)
{
	return st->ops->attestations_load(st->be, fn, ctx);
}

int store_attestation_delete(struct store *st, const char *agent_id)
{
	return st->ops->attestation_delete(st->be, agent_id);
}

int store_revocation(struct store *st, const char *agent_id, time_t when,
		     const char *reason)
{
	return st->ops->revocation(st->be, agent_id, when, reason);
}

int store_revocation_lift(struct store *st, const char *agent_id)
{
	return st->ops->revocation_lift(st->be, agent_id);
}

int store_revocations_load(struct store *st,
			   int (*fn)(void *ctx, const char *agent_id,
				     time_t when, const char *reason),
			   void *ctx)
{
	return st->ops->revocations_load(st->be, fn, ctx);
}

int store_indicators_load(struct store *st, time_t now,
			  int (*fn)(void *ctx, const struct indicator *ind),
			  void *ctx)
{
	return st->ops->indicators_load(st->be, now, fn, ctx);
}

int store_agents_load(struct store *st,
		      int (*fn)(void *ctx, const struct agent_row *r),
		      void *ctx)
{
	return st->ops->agents_load(st->be, fn, ctx);
}

int store_incidents_load(struct store *st, time_t since,
			 int (*fn)(void *ctx, const struct incident_row *r),
			 void *ctx)
{
	return st->ops->incidents_load(st->be, since, fn, ctx);
}

int store_incident_agents_load(struct store *st, uint64_t id,
			       int (*fn)(void *ctx, const char *agent_id),
			       void *ctx)
{
	return st->ops->incident_agents_load(st->be, id, fn, ctx);
}

int store_max_incident_id(struct store *st, uint64_t *out)
{
	return st->ops->max_incident_id(st->be, out);
}

bool store_shared(struct store *st)
{
	return st->ops->shared;
}

int store_incident_claim(struct store *st, const char *key, time_t now,
			 time_t window_start, uint64_t *id)
{
	return st->ops->incident_claim(st->be, key, now, window_start, id);
}

int store_incident_release(struct store *st, const char *key, uint64_t id,
			   time_t idle_before, time_t *last_seen)
{
	return st->ops->incident_release(st->be, key, id, idle_before,
					 last_seen);
}

int store_agent_last_assessment(struct store *st, const char *agent_id,
				uint64_t *out)
{
	return st->ops->agent_last_assessment(st->be, agent_id, out);
}

int store_begin(struct store *st)
{
	return st->ops->begin(st->be);
}

int store_commit(struct store *st)
{
	return st->ops->commit(st->be);
}

int store_rollback(struct store *st)
{
	return st->ops->rollback(st->be);
}

int store_batch_begin(struct store *st)
{
	return st->ops->batch_begin(st->be);
}

int store_batch_commit(struct store *st)
{
	return st->ops->batch_commit(st->be);
}
