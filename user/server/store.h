/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The server's persistent store, kept narrow on purpose: one call per fact
 * the server records, rows in and rows out, nothing of SQLite leaks
 * through (nor of PostgreSQL). store.c picks the backend by --db:
 * store_sqlite.c (the default) or store_pg.c; docs/server.md says how.
 */
#ifndef VNFSEC_STORE_H
#define VNFSEC_STORE_H

#include <stdbool.h>

#include "user/server/server.h"
#include "user/server/threatdb.h"

/* Open (creating and migrating) the store at @path. 0 or -errno. */
int store_open(const char *path, struct store **out);
void store_close(struct store *st);

/* Schema version the store is at after migrations. */
int store_schema_version(struct store *st);

int store_agent_seen(struct store *st, const struct agent_record *agent,
		     bool connected);
/* -EEXIST: another server stored it already (a shared store). */
int store_assessment(struct store *st, const char *agent_id,
		     const Vnfsec__Assessment *a, uint64_t incident_id);
int store_incident(struct store *st, const struct incident *inc);
int store_action(struct store *st, const struct action_record *act);
int store_indicator(struct store *st, const struct indicator *ind);

/* An enrolled agent's attestation state (attest.c, docs/trust.md). */
struct attestation_row {
	const char *agent_id;
	const void *ek_public;
	size_t ek_len;
	const void *ak_public;
	size_t ak_len;
	uint32_t pcr_mask;
	const void *pcrs;		/* expected values, 32 bytes each */
	size_t pcrs_len;
	bool trusted;
	const char *reason;		/* why not trusted, "" when trusted */
	time_t enrolled, cert_not_after, last_quote;
};

int store_attestation(struct store *st, const struct attestation_row *r);
int store_attestations_load(struct store *st,
			    int (*fn)(void *ctx, const struct attestation_row *r),
			    void *ctx);

/* The operator released @agent_id's TPM binding (peers.c). */
int store_attestation_delete(struct store *st, const char *agent_id);

/* Identities the operator revoked; they survive a restart (peers.c). */
int store_revocation(struct store *st, const char *agent_id, time_t when,
		     const char *reason);
int store_revocation_lift(struct store *st, const char *agent_id);
int store_revocations_load(struct store *st,
			   int (*fn)(void *ctx, const char *agent_id,
				     time_t when, const char *reason),
			   void *ctx);

/* Hand every indicator not expired at @now to @fn. */
int store_indicators_load(struct store *st, time_t now,
			  int (*fn)(void *ctx, const struct indicator *ind),
			  void *ctx);

/* The agent registry, and what of each agent's reports is stored. */
struct agent_row {
	const char *id;
	bool is_server;
	time_t last_seen;
	uint64_t last_assessment_id;	/* highest stored; 0: none */
};

int store_agents_load(struct store *st,
		      int (*fn)(void *ctx, const struct agent_row *r),
		      void *ctx);

/* An incident as stored: the text columns as store_incident() wrote them. */
struct incident_row {
	uint64_t id;
	const char *type;		/* heuristic_name() */
	const char *state;		/* incident_state_name() */
	const char *src;		/* address text, NULL: across sources */
	const char *proposed;		/* "quarantine_vnf NAME" or NULL */
	unsigned int severity;
	uint32_t dst_port;
	uint64_t assessments;
	time_t first_seen, last_seen;
	bool requires_operator;
};

/* Incidents not closed, and those closed whose last report is >= @since. */
int store_incidents_load(struct store *st, time_t since,
			 int (*fn)(void *ctx, const struct incident_row *r),
			 void *ctx);
/* The agents whose stored reports name incident @id. */
int store_incident_agents_load(struct store *st, uint64_t id,
			       int (*fn)(void *ctx, const char *agent_id),
			       void *ctx);

/* Largest incident id recorded: ids stay unique across restarts. */
int store_max_incident_id(struct store *st, uint64_t *out);

/*
 * Shared by several servers (PostgreSQL): incident ids come from the
 * store, an incident is found by its correlation key in the store, and
 * what an agent has stored is read from it when the agent says hello
 * (docs/deploy.md). SQLite: one server, all of it in memory.
 */
bool store_shared(struct store *st);
/*
 * The incident of correlation key @key: the one whose key was last seen
 * at or after @window_start, else a new id; its key is marked seen @now.
 * Shared stores only (-EOPNOTSUPP otherwise).
 */
int store_incident_claim(struct store *st, const char *key, time_t now,
			 time_t window_start, uint64_t *id);
/*
 * Let incident @id go of @key when the cluster last saw the key before
 * @idle_before: *last_seen 0 then (or when the key is no longer @id's),
 * else when the cluster last saw it (another server's reports).
 */
int store_incident_release(struct store *st, const char *key, uint64_t id,
			   time_t idle_before, time_t *last_seen);
/* Highest assessment id of @agent_id stored by any server; 0: none. */
int store_agent_last_assessment(struct store *st, const char *agent_id,
				uint64_t *out);

/* All or nothing for a group of writes (a feed import); nests. */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/* One transaction per round of the event loop. */
int store_batch_begin(struct store *st);
int store_batch_commit(struct store *st);

#endif /* VNFSEC_STORE_H */
