/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a store backend provides (store.c dispatches to it): one entry per
 * call of store.h, on the backend's own handle. store_sqlite.c and
 * store_pg.c each define their struct store_be; nothing else sees it.
 * A new call of store.h gets an entry here, in both backends and in
 * store.c, or the build fails (every entry is called unconditionally).
 */
#ifndef VNFSEC_STORE_BACKEND_H
#define VNFSEC_STORE_BACKEND_H

#include "user/server/store.h"

struct store_be;

struct store_ops {
	int (*open)(const char *path, struct store_be **out);
	void (*close)(struct store_be *st);
	int (*schema_version)(struct store_be *st);
	int (*agent_seen)(struct store_be *st, const struct agent_record *agent,
			  bool connected);
	int (*assessment)(struct store_be *st, const char *agent_id,
			  const Vnfsec__Assessment *a, uint64_t incident_id);
	int (*incident)(struct store_be *st, const struct incident *inc);
	int (*action)(struct store_be *st, const struct action_record *act);
	int (*indicator)(struct store_be *st, const struct indicator *ind);
	int (*attestation)(struct store_be *st,
			   const struct attestation_row *r);
	int (*attestations_load)(struct store_be *st,
				 int (*fn)(void *ctx,
					   const struct attestation_row *r),
				 void *ctx);
	int (*attestation_delete)(struct store_be *st, const char *agent_id);
	int (*revocation)(struct store_be *st, const char *agent_id,
			  time_t when, const char *reason);
	int (*revocation_lift)(struct store_be *st, const char *agent_id);
	int (*revocations_load)(struct store_be *st,
				int (*fn)(void *ctx, const char *agent_id,
					  time_t when, const char *reason),
				void *ctx);
	int (*indicators_load)(struct store_be *st, time_t now,
			       int (*fn)(void *ctx,
					 const struct indicator *ind),
			       void *ctx);
	int (*agents_load)(struct store_be *st,
			   int (*fn)(void *ctx, const struct agent_row *r),
			   void *ctx);
	int (*incidents_load)(struct store_be *st, time_t since,
			      int (*fn)(void *ctx,
					const struct incident_row *r),
			      void *ctx);
	int (*incident_agents_load)(struct store_be *st, uint64_t id,
				    int (*fn)(void *ctx, const char *agent_id),
				    void *ctx);
	int (*max_incident_id)(struct store_be *st, uint64_t *out);
	bool shared;
	int (*incident_claim)(struct store_be *st, const char *key,
			      time_t now, time_t window_start, uint64_t *id);
	int (*incident_release)(struct store_be *st, const char *key,
				uint64_t id, time_t idle_before,
				time_t *last_seen);
	int (*agent_last_assessment)(struct store_be *st, const char *agent_id,
				     uint64_t *out);
	int (*begin)(struct store_be *st);
	int (*commit)(struct store_be *st);
	int (*rollback)(struct store_be *st);
	int (*batch_begin)(struct store_be *st);
	int (*batch_commit)(struct store_be *st);
};

extern const struct store_ops store_sqlite_ops;	/* store_sqlite.c */
extern const struct store_ops store_pg_ops;	/* store_pg.c */

#endif /* VNFSEC_STORE_BACKEND_H */
