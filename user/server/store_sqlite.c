// SPDX-License-Identifier: GPL-2.0-only
/*
 * SQLite implementation of the store (store.h). WAL mode, so readers
 * (an operator's sqlite3 shell, a backup) never block the server, and
 * synchronous=NORMAL: a crash of the server loses nothing committed, a
 * power cut at most the last commits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "user/common/log.h"
#include "user/server/store_backend.h"

/*
 * Schema migrations, applied in order; PRAGMA user_version records how
 * many have run. Never edit one that has shipped: append a new one.
 */
static const char *const migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE agents ("
	"  id TEXT PRIMARY KEY, address TEXT, is_server INTEGER NOT NULL,"
	"  attested INTEGER NOT NULL DEFAULT 0, connected INTEGER NOT NULL,"
	"  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
	"CREATE TABLE incidents ("
	"  id INTEGER PRIMARY KEY, type TEXT NOT NULL, severity INTEGER NOT NULL,"
	"  state TEXT NOT NULL, src TEXT, dst_port INTEGER, agents INTEGER,"
	"  assessments INTEGER, indicator TEXT, first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL);"
	"CREATE TABLE assessments ("
	"  agent_id TEXT NOT NULL, id INTEGER NOT NULL,"
	"  time_ms INTEGER NOT NULL, heuristic TEXT NOT NULL,"
	"  severity INTEGER NOT NULL, src TEXT, dst TEXT, dst_port INTEGER,"
	"  count INTEGER, src_count INTEGER, iface TEXT,"
	"  incident_id INTEGER REFERENCES incidents(id),"
	"  PRIMARY KEY (agent_id, id));"
	"CREATE TABLE actions ("
	"  agent_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL,"
	"  target TEXT, ttl_s INTEGER, incident_id INTEGER, parent_seq INTEGER,"
	"  state TEXT NOT NULL, status INTEGER, sent INTEGER NOT NULL,"
	"  acked INTEGER, PRIMARY KEY (agent_id, seq, sent));"
	"CREATE TABLE indicators ("
	"  type TEXT NOT NULL, value TEXT NOT NULL, source TEXT NOT NULL,"
	"  confidence INTEGER NOT NULL, expires INTEGER NOT NULL,"
	"  PRIMARY KEY (type, value));",
	/* 2: incidents are listed by state and time. */
	"CREATE INDEX incidents_state ON incidents(state, last_seen);"
	"CREATE INDEX assessments_incident ON assessments(incident_id);",
	/* 3: attestation of enrolled agents (attest.c, docs/trust.md). */
	"CREATE TABLE attestations ("
	"  agent_id TEXT PRIMARY KEY, ek_public BLOB NOT NULL,"
	"  ak_public BLOB NOT NULL, pcr_mask INTEGER NOT NULL,"
	"  expected_pcrs BLOB NOT NULL, trusted INTEGER NOT NULL,"
	"  reason TEXT NOT NULL, enrolled INTEGER NOT NULL,"
	"  cert_not_after INTEGER NOT NULL, last_quote INTEGER NOT NULL);",
	/* 4: identities the operator revoked (peers.c, docs/security.md). */
	"CREATE TABLE revocations ("
	"  agent_id TEXT PRIMARY KEY, revoked INTEGER NOT NULL,"
	"  reason TEXT NOT NULL);",
	/* 5: incidents no automation may act on (remediate.c). */
	"ALTER TABLE incidents ADD COLUMN requires_operator INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE incidents ADD COLUMN proposed TEXT;",
	/*
	 * 6: correlation keys of a shared store (store_pg.c). Unused here,
	 * where one server holds them in memory; kept so both backends
	 * number the same steps.
	 */
	"CREATE TABLE incident_keys ("
	"  key TEXT PRIMARY KEY, incident_id INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL);",
};

enum stmt_id {
	ST_AGENT, ST_ASSESSMENT, ST_INCIDENT, ST_ACTION, ST_INDICATOR,
	ST_INDICATORS, ST_MAX_INCIDENT, ST_ATTESTATION, ST_ATTESTATIONS,
	ST_ATTESTATION_DEL, ST_REVOCATION, ST_REVOCATION_DEL, ST_REVOCATIONS,
	ST_AGENTS, ST_INCIDENTS_LIVE, ST_INCIDENT_AGENTS,
	NR_STMTS
};

static const char *const stmt_sql[NR_STMTS] = {
	[ST_AGENT] = "INSERT INTO agents(id, address, is_server, connected,"
		" first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
		" ON CONFLICT(id) DO UPDATE SET address = ?2, is_server = ?3,"
		" connected = ?4, last_seen = ?5",
	[ST_ASSESSMENT] = "INSERT OR IGNORE INTO assessments VALUES"
		" (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	/*
	 * Upserts, not INSERT OR REPLACE: a replace deletes the row first,
	 * which costs a delete, an insert into every index and a foreign
	 * key check of the assessments that name the incident.
	 */
	[ST_INCIDENT] = "INSERT INTO incidents VALUES"
		" (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
		" ON CONFLICT(id) DO UPDATE SET type = ?2, severity = ?3,"
		" state = ?4, src = ?5, dst_port = ?6, agents = ?7,"
		" assessments = ?8, indicator = ?9, first_seen = ?10,"
		" last_seen = ?11, requires_operator = ?12, proposed = ?13",
	[ST_ACTION] = "INSERT INTO actions VALUES"
		" (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
		" ON CONFLICT(agent_id, seq, sent) DO UPDATE SET type = ?3,"
		" target = ?4, ttl_s = ?5, incident_id = ?6, parent_seq = ?7,"
		" state = ?8, status = ?9, acked = ?11",
	[ST_INDICATOR] = "INSERT OR REPLACE INTO indicators VALUES"
		" (?1, ?2, ?3, ?4, ?5)",
	[ST_INDICATORS] = "SELECT type, value, source, confidence, expires"
		" FROM indicators WHERE expires = 0 OR expires > ?1",
	[ST_MAX_INCIDENT] = "SELECT COALESCE(MAX(id), 0) FROM incidents",
	/* MAX(id) per agent walks the (agent_id, id) primary key. */
	[ST_AGENTS] = "SELECT a.id, a.is_server, a.last_seen,"
		" (SELECT COALESCE(MAX(s.id), 0) FROM assessments s"
		" WHERE s.agent_id = a.id) FROM agents a",
	[ST_INCIDENTS_LIVE] = "SELECT id, type, severity, state, src,"
		" dst_port, assessments, first_seen, last_seen,"
		" requires_operator, proposed FROM incidents"
		" WHERE state != 'closed' OR last_seen >= ?1 ORDER BY id",
	[ST_INCIDENT_AGENTS] = "SELECT DISTINCT agent_id FROM assessments"
		" WHERE incident_id = ?1",
	[ST_ATTESTATION] = "INSERT OR REPLACE INTO attestations VALUES"
		" (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_ATTESTATIONS] = "SELECT agent_id, ek_public, ak_public, pcr_mask,"
		" expected_pcrs, trusted, reason, enrolled, cert_not_after,"
		" last_quote FROM attestations",
	[ST_ATTESTATION_DEL] = "DELETE FROM attestations WHERE agent_id = ?1",
	[ST_REVOCATION] = "INSERT OR REPLACE INTO revocations VALUES"
		" (?1, ?2, ?3)",
	[ST_REVOCATION_DEL] = "DELETE FROM revocations WHERE agent_id = ?1",
	[ST_REVOCATIONS] = "SELECT agent_id, revoked, reason FROM revocations",
};

struct store_be {
	sqlite3 *db;
	sqlite3_stmt *stmt[NR_STMTS];
	char path[256];
};

static int db_error(struct store_be *st, const char *what)
{
	log_err("store %s: %s failed: %s; check the disk and the file's permissions",
		st->path, what, sqlite3_errmsg(st->db));
	return -EIO;
}

static int exec(struct store_be *st, const char *sql, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_err("store %s: %s failed: %s", st->path, what,
			msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static int user_version(struct store_be *st)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s,
			       NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int sqlite_schema_version(struct store_be *st)
{
	return user_version(st);
}

static int migrate(struct store_be *st)
{
	int have = user_version(st), want = sizeof(migrations) /
					    sizeof(migrations[0]);
	char sql[64];
	int from;

	if (have < 0)
		return db_error(st, "reading the schema version");
	if (have > want) {
		log_err("store %s: schema version %d is newer than this server's %d; upgrade vnfsec-server",
			st->path, have, want);
		return -EPROTO;
	}
	from = have;
	/* Each step and its version bump commit together, or not at all. */
	for (; have < want; have++) {
		if (exec(st, "BEGIN", "migration"))
			return -EIO;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			 have + 1);
		if (exec(st, migrations[have], "migration") ||
		    exec(st, sql, "migration")) {
			exec(st, "ROLLBACK", "rollback");
			return -EIO;
		}
		if (exec(st, "COMMIT", "migration"))
			return -EIO;
	}
	/* One line for all the steps: the fact is where it stands now. */
	if (from < want)
		log_info("store %s: migrated from schema version %d to %d",
			 st->path, from, want);
	return 0;
}

static void sqlite_close(struct store_be *st);

static int sqlite_open(const char *path, struct store_be **out)
{
	struct store_be *st = calloc(1, sizeof(*st));
	int i, ret = -EIO;

	*out = NULL;
	if (!st)
		return -ENOMEM;
	snprintf(st->path, sizeof(st->path), "%s", path);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		db_error(st, "opening");
		goto err;
	}
	sqlite3_busy_timeout(st->db, 2000);
	if (exec(st, "PRAGMA journal_mode = WAL", "setting WAL mode") ||
	    exec(st, "PRAGMA synchronous = NORMAL", "setting sync mode") ||
	    exec(st, "PRAGMA foreign_keys = ON", "enabling foreign keys"))
		goto err;
	ret = migrate(st);
	if (ret)
		goto err;
	for (i = 0; i < NR_STMTS; i++) {
		if (sqlite3_prepare_v2(st->db, stmt_sql[i], -1, &st->stmt[i],
				       NULL) != SQLITE_OK) {
			ret = db_error(st, "preparing statements");
			goto err;
		}
	}
	*out = st;
	return 0;
err:
	sqlite_close(st);
	return ret;
}

static void sqlite_close(struct store_be *st)
{
	int i;

	if (!st)
		return;
	for (i = 0; i < NR_STMTS; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

/* Run a bound write statement and reset it for the next use. */
static int step_done(struct store_be *st, enum stmt_id id, const char *what)
{
	sqlite3_stmt *s = st->stmt[id];
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : db_error(st, what);
}

/* @v outlives the statement's step: no copy. */
static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static void bind_addr(sqlite3_stmt *s, int i, const uint8_t *addr,
		      size_t len)
{
	ProtobufCBinaryData b = { .len = len, .data = (uint8_t *)addr };
	char buf[64];

	/* buf ends here, before the step: SQLite keeps its own copy. */
	if (len)
		sqlite3_bind_text(s, i, wire_addr_str(&b, buf, sizeof(buf)),
				  -1, SQLITE_TRANSIENT);
}

static int sqlite_agent_seen(struct store_be *st,
			     const struct agent_record *agent, bool connected)
{
	sqlite3_stmt *s = st->stmt[ST_AGENT];

	bind_text(s, 1, agent->id);
	bind_text(s, 2, agent->address);
	sqlite3_bind_int(s, 3, agent->is_server);
	sqlite3_bind_int(s, 4, connected);
	sqlite3_bind_int64(s, 5, agent->last_seen);
	return step_done(st, ST_AGENT, "recording an agent");
}

static int sqlite_assessment(struct store_be *st, const char *agent_id,
		     const Vnfsec__Assessment *a, uint64_t incident_id)
{
	sqlite3_stmt *s = st->stmt[ST_ASSESSMENT];

	bind_text(s, 1, agent_id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)a->id);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)a->time_unix_ms);
	bind_text(s, 4, heuristic_name(a->heuristic));
	sqlite3_bind_int(s, 5, a->severity);
	bind_addr(s, 6, a->src_addr.data, a->src_addr.len);
	bind_addr(s, 7, a->dst_addr.data, a->dst_addr.len);
	sqlite3_bind_int(s, 8, a->dst_port);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)a->count);
	sqlite3_bind_int64(s, 10, (sqlite3_int64)a->src_count);
	bind_text(s, 11, a->iface);
	if (incident_id)
		sqlite3_bind_int64(s, 12, (sqlite3_int64)incident_id);
	return step_done(st, ST_ASSESSMENT, "recording an assessment");
}

static int sqlite_incident(struct store_be *st, const struct incident *inc)
{
	sqlite3_stmt *s = st->stmt[ST_INCIDENT];

	sqlite3_bind_int64(s, 1, (sqlite3_int64)inc->id);
	bind_text(s, 2, heuristic_name(inc->heuristic));
	sqlite3_bind_int(s, 3, inc->severity);
	bind_text(s, 4, incident_state_name(inc->state));
	bind_addr(s, 5, inc->src, inc->src_len);
	sqlite3_bind_int(s, 6, inc->dst_port);
	sqlite3_bind_int(s, 7, inc->nr_agents);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)inc->assessments);
	if (inc->has_indicator)
		bind_text(s, 9, inc->indicator.source);
	sqlite3_bind_int64(s, 10, inc->first_seen);
	sqlite3_bind_int64(s, 11, inc->last_seen);
	sqlite3_bind_int(s, 12, inc->requires_operator);
	/* "quarantine_vnf sgw", as proposed to the operator. */
	if (inc->proposed_vnf[0]) {
		char proposed[WIRE_NAME_MAX + 24];

		snprintf(proposed, sizeof(proposed), "quarantine_vnf %s",
			 inc->proposed_vnf);
		sqlite3_bind_text(s, 13, proposed, -1, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_null(s, 13);
	}
	return step_done(st, ST_INCIDENT, "recording an incident");
}

static int sqlite_action(struct store_be *st, const struct action_record *act)
{
	sqlite3_stmt *s = st->stmt[ST_ACTION];
	char target[128];

	action_target_str(act, target, sizeof(target));
	bind_text(s, 1, act->agent->id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)act->seq);
	bind_text(s, 3, action_type_name(act->type));
	sqlite3_bind_text(s, 4, target, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 5, act->ttl_s);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)act->incident_id);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)act->parent_seq);
	bind_text(s, 8, action_state_name(act->state));
	sqlite3_bind_int(s, 9, act->status);
	sqlite3_bind_int64(s, 10, act->sent);
	if (act->acked)
		sqlite3_bind_int64(s, 11, act->acked);
	return step_done(st, ST_ACTION, "recording an action");
}

static int sqlite_indicator(struct store_be *st, const struct indicator *ind)
{
	sqlite3_stmt *s = st->stmt[ST_INDICATOR];

	bind_text(s, 1, indicator_type_name(ind->type));
	bind_text(s, 2, ind->value);
	bind_text(s, 3, ind->source);
	sqlite3_bind_int(s, 4, ind->confidence);
	sqlite3_bind_int64(s, 5, ind->expires);
	return step_done(st, ST_INDICATOR, "recording an indicator");
}

static int sqlite_indicators_load(struct store_be *st, time_t now,
			  int (*fn)(void *ctx, const struct indicator *ind),
			  void *ctx)
{
	sqlite3_stmt *s = st->stmt[ST_INDICATORS];
	int rc, ret = 0;

	sqlite3_bind_int64(s, 1, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(s, 0);
		const char *value = (const char *)sqlite3_column_text(s, 1);
		const char *source = (const char *)sqlite3_column_text(s, 2);
		struct indicator ind;
		const char *why;

		/* A row this version cannot read is skipped, not fatal. */
		if (!type || !value || !source ||
		    indicator_parse(&ind, type, value, &why)) {
			log_warn("store %s: skipping unreadable indicator '%s'",
				 st->path, value ? value : "");
			continue;
		}
		snprintf(ind.source, sizeof(ind.source), "%s", source);
		ind.confidence = sqlite3_column_int(s, 3);
		ind.expires = sqlite3_column_int64(s, 4);
		ret = fn(ctx, &ind);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_error(st, "loading indicators");
	sqlite3_reset(s);
	return ret;
}

static int sqlite_attestation(struct store_be *st,
			      const struct attestation_row *r)
{
	sqlite3_stmt *s = st->stmt[ST_ATTESTATION];

	bind_text(s, 1, r->agent_id);
	sqlite3_bind_blob(s, 2, r->ek_public, (int)r->ek_len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(s, 3, r->ak_public, (int)r->ak_len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, r->pcr_mask);
	sqlite3_bind_blob(s, 5, r->pcrs, (int)r->pcrs_len, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 6, r->trusted);
	bind_text(s, 7, r->reason);
	sqlite3_bind_int64(s, 8, r->enrolled);
	sqlite3_bind_int64(s, 9, r->cert_not_after);
	sqlite3_bind_int64(s, 10, r->last_quote);
	return step_done(st, ST_ATTESTATION, "recording an attestation");
}

static int sqlite_attestations_load(struct store_be *st,
			    int (*fn)(void *ctx, const struct attestation_row *r),
			    void *ctx)
{
	sqlite3_stmt *s = st->stmt[ST_ATTESTATIONS];
	int rc, ret = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct attestation_row r = {
			.agent_id = (const char *)sqlite3_column_text(s, 0),
			.ek_public = sqlite3_column_blob(s, 1),
			.ek_len = sqlite3_column_bytes(s, 1),
			.ak_public = sqlite3_column_blob(s, 2),
			.ak_len = sqlite3_column_bytes(s, 2),
			.pcr_mask = (uint32_t)sqlite3_column_int64(s, 3),
			.pcrs = sqlite3_column_blob(s, 4),
			.pcrs_len = sqlite3_column_bytes(s, 4),
			.trusted = sqlite3_column_int(s, 5),
			.reason = (const char *)sqlite3_column_text(s, 6),
			.enrolled = sqlite3_column_int64(s, 7),
			.cert_not_after = sqlite3_column_int64(s, 8),
			.last_quote = sqlite3_column_int64(s, 9),
		};

		if (!r.agent_id || !r.reason) {
			log_warn("store %s: skipping an unreadable attestation",
				 st->path);
			continue;
		}
		ret = fn(ctx, &r);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_error(st, "loading attestations");
	sqlite3_reset(s);
	return ret;
}

static int sqlite_attestation_delete(struct store_be *st, const char *agent_id)
{
	bind_text(st->stmt[ST_ATTESTATION_DEL], 1, agent_id);
	return step_done(st, ST_ATTESTATION_DEL, "releasing an attestation");
}

static int sqlite_revocation(struct store_be *st, const char *agent_id,
			     time_t when, const char *reason)
{
	sqlite3_stmt *s = st->stmt[ST_REVOCATION];

	bind_text(s, 1, agent_id);
	sqlite3_bind_int64(s, 2, when);
	bind_text(s, 3, reason);
	return step_done(st, ST_REVOCATION, "recording a revocation");
}

static int sqlite_revocation_lift(struct store_be *st, const char *agent_id)
{
	bind_text(st->stmt[ST_REVOCATION_DEL], 1, agent_id);
	return step_done(st, ST_REVOCATION_DEL, "lifting a revocation");
}

static int sqlite_revocations_load(struct store_be *st,
			   int (*fn)(void *ctx, const char *agent_id,
				     time_t when, const char *reason),
			   void *ctx)
{
	sqlite3_stmt *s = st->stmt[ST_REVOCATIONS];
	int rc, ret = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		const char *reason = (const char *)sqlite3_column_text(s, 2);

		if (!id || !reason) {
			log_warn("store %s: skipping an unreadable revocation",
				 st->path);
			continue;
		}
		ret = fn(ctx, id, sqlite3_column_int64(s, 1), reason);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_error(st, "loading revocations");
	sqlite3_reset(s);
	return ret;
}

static int sqlite_agents_load(struct store_be *st,
		      int (*fn)(void *ctx, const struct agent_row *r),
		      void *ctx)
{
	sqlite3_stmt *s = st->stmt[ST_AGENTS];
	int rc, ret = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct agent_row r = {
			.id = (const char *)sqlite3_column_text(s, 0),
			.is_server = sqlite3_column_int(s, 1),
			.last_seen = sqlite3_column_int64(s, 2),
			.last_assessment_id = sqlite3_column_int64(s, 3),
		};

		if (!r.id)
			continue;
		ret = fn(ctx, &r);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_error(st, "reading agents");
	sqlite3_reset(s);
	return ret;
}

static int sqlite_incidents_load(struct store_be *st, time_t since,
			 int (*fn)(void *ctx, const struct incident_row *r),
			 void *ctx)
{
	sqlite3_stmt *s = st->stmt[ST_INCIDENTS_LIVE];
	int rc, ret = 0;

	sqlite3_bind_int64(s, 1, since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct incident_row r = {
			.id = sqlite3_column_int64(s, 0),
			.type = (const char *)sqlite3_column_text(s, 1),
			.severity = sqlite3_column_int(s, 2),
			.state = (const char *)sqlite3_column_text(s, 3),
			.src = (const char *)sqlite3_column_text(s, 4),
			.dst_port = sqlite3_column_int(s, 5),
			.assessments = sqlite3_column_int64(s, 6),
			.first_seen = sqlite3_column_int64(s, 7),
			.last_seen = sqlite3_column_int64(s, 8),
			.requires_operator = sqlite3_column_int(s, 9),
			.proposed = (const char *)sqlite3_column_text(s, 10),
		};

		if (!r.type || !r.state)
			continue;
		ret = fn(ctx, &r);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_error(st, "reading incidents");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

static int sqlite_incident_agents_load(struct store_be *st, uint64_t id,
			       int (*fn)(void *ctx, const char *agent_id),
			       void *ctx)
{
	sqlite3_stmt *s = st->stmt[ST_INCIDENT_AGENTS];
	int rc, ret = 0;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *agent_id = (const char *)sqlite3_column_text(s, 0);

		if (!agent_id)
			continue;
		ret = fn(ctx, agent_id);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_error(st, "reading an incident's agents");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

static int sqlite_max_incident_id(struct store_be *st, uint64_t *out)
{
	sqlite3_stmt *s = st->stmt[ST_MAX_INCIDENT];
	int ret = 0;

	if (sqlite3_step(s) == SQLITE_ROW)
		*out = (uint64_t)sqlite3_column_int64(s, 0);
	else
		ret = db_error(st, "reading incident ids");
	sqlite3_reset(s);
	return ret;
}

/* One server per SQLite file: ids and keys live in its memory. */
static int sqlite_incident_claim(struct store_be *st, const char *key,
				 time_t now, time_t window_start, uint64_t *id)
{
	(void)st; (void)key; (void)now; (void)window_start; (void)id;
	return -EOPNOTSUPP;
}

static int sqlite_incident_release(struct store_be *st, const char *key,
				   uint64_t id, time_t idle_before,
				   time_t *last_seen)
{
	(void)st; (void)key; (void)id; (void)idle_before; (void)last_seen;
	return -EOPNOTSUPP;
}

static int sqlite_agent_last_assessment(struct store_be *st,
					const char *agent_id, uint64_t *out)
{
	(void)st; (void)agent_id; (void)out;
	return -EOPNOTSUPP;
}

/* Savepoints, so a group nests inside the round's transaction. */
static int sqlite_begin(struct store_be *st)
{
	return exec(st, "SAVEPOINT grp", "starting a group of writes");
}

static int sqlite_commit(struct store_be *st)
{
	return exec(st, "RELEASE grp", "committing a group of writes");
}

static int sqlite_batch_begin(struct store_be *st)
{
	return exec(st, "BEGIN", "starting a transaction");
}

static int sqlite_batch_commit(struct store_be *st)
{
	int ret = exec(st, "COMMIT", "committing");

	/*
	 * A failed COMMIT (disk full, I/O error) may leave the transaction
	 * open: end it, or every later round would nest inside it and never
	 * reach the disk. Its writes are lost; their acks were never sent.
	 */
	if (ret && !sqlite3_get_autocommit(st->db))
		exec(st, "ROLLBACK", "rolling back a failed commit");
	return ret;
}

static int sqlite_rollback(struct store_be *st)
{
	if (exec(st, "ROLLBACK TO grp", "rolling back a group of writes"))
		return -EIO;
	return exec(st, "RELEASE grp", "rolling back a group of writes");
}

const struct store_ops store_sqlite_ops = {
	.open = sqlite_open,
	.close = sqlite_close,
	.schema_version = sqlite_schema_version,
	.agent_seen = sqlite_agent_seen,
	.assessment = sqlite_assessment,
	.incident = sqlite_incident,
	.action = sqlite_action,
	.indicator = sqlite_indicator,
	.attestation = sqlite_attestation,
	.attestations_load = sqlite_attestations_load,
	.attestation_delete = sqlite_attestation_delete,
	.revocation = sqlite_revocation,
	.revocation_lift = sqlite_revocation_lift,
	.revocations_load = sqlite_revocations_load,
	.indicators_load = sqlite_indicators_load,
	.agents_load = sqlite_agents_load,
	.incidents_load = sqlite_incidents_load,
	.incident_agents_load = sqlite_incident_agents_load,
	.max_incident_id = sqlite_max_incident_id,
	.shared = false,
	.incident_claim = sqlite_incident_claim,
	.incident_release = sqlite_incident_release,
	.agent_last_assessment = sqlite_agent_last_assessment,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.batch_begin = sqlite_batch_begin,
	.batch_commit = sqlite_batch_commit,
};
