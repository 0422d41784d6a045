// SPDX-License-Identifier: GPL-2.0-only
/*
 * PostgreSQL implementation of the store (store.h), with libpq: --db
 * postgresql://... (any libpq connection URI). The same tables as
 * store_sqlite.c, integers as BIGINT, blobs as BYTEA; every statement is
 * prepared once per connection; a round of the event loop is one
 * transaction and a group of writes (store_begin) a savepoint in it.
 *
 * Several servers share one database (docs/deploy.md): incident ids come
 * from the sequence incident_ids, and the correlation key is the unit of
 * consistency: incident_keys holds, per key, the incident it names and
 * when any server last saw it, claimed with one upsert per report. The
 * row stays locked until the round commits, so servers reporting the
 * same key take turns; two rounds locking two keys in opposite orders
 * are a deadlock PostgreSQL breaks by failing one, whose agents send
 * again.
 *
 * Unlike SQLite, PostgreSQL aborts the whole transaction when one
 * statement in it fails: the round's commit then fails, nothing of the
 * round is acknowledged and its agents send again. Text is made valid
 * UTF-8 before it is sent, so no byte an agent controls can fail a round.
 * Logs name the database and its host, never the connection string
 * (it may hold a password).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libpq-fe.h>

#include "user/common/log.h"
#include "user/server/store_backend.h"

/*
 * Schema migrations, applied in order; schema_version holds how many have
 * run. The same steps as store_sqlite.c's, in PostgreSQL's types. Never
 * edit one that has shipped: append a new one, here and there.
 */
static const char *const migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE agents ("
	"  id TEXT PRIMARY KEY, address TEXT, is_server BIGINT NOT NULL,"
	"  attested BIGINT NOT NULL DEFAULT 0, connected BIGINT NOT NULL,"
	"  first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL);"
	"CREATE TABLE incidents ("
	"  id BIGINT PRIMARY KEY, type TEXT NOT NULL, severity BIGINT NOT NULL,"
	"  state TEXT NOT NULL, src TEXT, dst_port BIGINT, agents BIGINT,"
	"  assessments BIGINT, indicator TEXT, first_seen BIGINT NOT NULL,"
	"  last_seen BIGINT NOT NULL);"
	"CREATE TABLE assessments ("
	"  agent_id TEXT NOT NULL, id BIGINT NOT NULL,"
	"  time_ms BIGINT NOT NULL, heuristic TEXT NOT NULL,"
	"  severity BIGINT NOT NULL, src TEXT, dst TEXT, dst_port BIGINT,"
	"  count BIGINT, src_count BIGINT, iface TEXT,"
	"  incident_id BIGINT REFERENCES incidents(id),"
	"  PRIMARY KEY (agent_id, id));"
	"CREATE TABLE actions ("
	"  agent_id TEXT NOT NULL, seq BIGINT NOT NULL, type TEXT NOT NULL,"
	"  target TEXT, ttl_s BIGINT, incident_id BIGINT, parent_seq BIGINT,"
	"  state TEXT NOT NULL, status BIGINT, sent BIGINT NOT NULL,"
	"  acked BIGINT, PRIMARY KEY (agent_id, seq, sent));"
	"CREATE TABLE indicators ("
	"  type TEXT NOT NULL, value TEXT NOT NULL, source TEXT NOT NULL,"
	"  confidence BIGINT NOT NULL, expires BIGINT NOT NULL,"
	"  PRIMARY KEY (type, value));",
	/* 2: incidents are listed by state and time. */
	"CREATE INDEX incidents_state ON incidents(state, last_seen);"
	"CREATE INDEX assessments_incident ON assessments(incident_id);",
	/* 3: attestation of enrolled agents (attest.c, docs/trust.md). */
	"CREATE TABLE attestations ("
	"  agent_id TEXT PRIMARY KEY, ek_public BYTEA NOT NULL,"
	"  ak_public BYTEA NOT NULL, pcr_mask BIGINT NOT NULL,"
	"  expected_pcrs BYTEA NOT NULL, trusted BIGINT NOT NULL,"
	"  reason TEXT NOT NULL, enrolled BIGINT NOT NULL,"
	"  cert_not_after BIGINT NOT NULL, last_quote BIGINT NOT NULL);",
	/* 4: identities the operator revoked (peers.c, docs/security.md). */
	"CREATE TABLE revocations ("
	"  agent_id TEXT PRIMARY KEY, revoked BIGINT NOT NULL,"
	"  reason TEXT NOT NULL);",
	/* 5: incidents no automation may act on (remediate.c). */
	"ALTER TABLE incidents ADD COLUMN requires_operator BIGINT NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE incidents ADD COLUMN proposed TEXT;",
	/*
	 * 6: many servers on one database. Ids from a sequence (after those
	 * already used), and the incident each correlation key names.
	 */
	"CREATE SEQUENCE incident_ids;"
	"SELECT setval('incident_ids',"
	"  (SELECT COALESCE(MAX(id), 0) + 1 FROM incidents), false);"
	"CREATE TABLE incident_keys ("
	"  key TEXT PRIMARY KEY, incident_id BIGINT NOT NULL,"
	"  last_seen BIGINT NOT NULL);",
};

#define NR_MIGRATIONS	((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Any constant: servers sharing a database migrate one at a time. */
#define MIGRATION_LOCK	"7665636d6967"

enum stmt_id {
	ST_AGENT, ST_ASSESSMENT, ST_INCIDENT, ST_ACTION, ST_INDICATOR,
	ST_INDICATORS, ST_MAX_INCIDENT, ST_ATTESTATION, ST_ATTESTATIONS,
	ST_ATTESTATION_DEL, ST_REVOCATION, ST_REVOCATION_DEL, ST_REVOCATIONS,
	ST_AGENTS, ST_INCIDENTS_LIVE, ST_INCIDENT_AGENTS,
	ST_KEY_TOUCH, ST_KEY_CLAIM, ST_KEY_RELEASE, ST_AGENT_LAST,
	NR_STMTS
};

static const char *const stmt_sql[NR_STMTS] = {
	[ST_AGENT] = "INSERT INTO agents(id, address, is_server, connected,"
		" first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $5)"
		" ON CONFLICT(id) DO UPDATE SET address = $2, is_server = $3,"
		" connected = $4, last_seen = $5",
	[ST_ASSESSMENT] = "INSERT INTO assessments(agent_id, id, time_ms,"
		" heuristic, severity, src, dst, dst_port, count, src_count,"
		" iface, incident_id) VALUES"
		" ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
		" ON CONFLICT DO NOTHING RETURNING 1",
	[ST_INCIDENT] = "INSERT INTO incidents(id, type, severity, state,"
		" src, dst_port, agents, assessments, indicator, first_seen,"
		" last_seen, requires_operator, proposed) VALUES"
		" ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
		/* Servers sharing it each write their view: the larger wins. */
		" ON CONFLICT(id) DO UPDATE SET type = $2,"
		" severity = GREATEST(incidents.severity, $3),"
		/* Closed is final: a report after it opens a new incident. */
		" state = CASE WHEN incidents.state = 'closed' THEN 'closed'"
		" ELSE $4 END, src = $5, dst_port = $6,"
		" agents = GREATEST(incidents.agents, $7),"
		" assessments = GREATEST(incidents.assessments, $8),"
		" indicator = COALESCE($9, incidents.indicator),"
		" first_seen = LEAST(incidents.first_seen, $10),"
		" last_seen = GREATEST(incidents.last_seen, $11),"
		" requires_operator = GREATEST(incidents.requires_operator, $12),"
		" proposed = COALESCE($13, incidents.proposed)",
	[ST_ACTION] = "INSERT INTO actions(agent_id, seq, type, target, ttl_s,"
		" incident_id, parent_seq, state, status, sent, acked) VALUES"
		" ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
		" ON CONFLICT(agent_id, seq, sent) DO UPDATE SET type = $3,"
		" target = $4, ttl_s = $5, incident_id = $6, parent_seq = $7,"
		" state = $8, status = $9, acked = $11",
	[ST_INDICATOR] = "INSERT INTO indicators VALUES ($1, $2, $3, $4, $5)"
		" ON CONFLICT(type, value) DO UPDATE SET source = $3,"
		" confidence = $4, expires = $5",
	[ST_INDICATORS] = "SELECT type, value, source, confidence, expires"
		" FROM indicators WHERE expires = 0 OR expires > $1",
	[ST_MAX_INCIDENT] = "SELECT COALESCE(MAX(id), 0) FROM incidents",
	[ST_AGENTS] = "SELECT a.id, a.is_server, a.last_seen,"
		" (SELECT COALESCE(MAX(s.id), 0) FROM assessments s"
		" WHERE s.agent_id = a.id) FROM agents a",
	/* Reports counted in the store: every server's, once each. */
	[ST_INCIDENTS_LIVE] = "SELECT id, type, severity, state, src,"
		" dst_port, (SELECT COUNT(*) FROM assessments s"
		" WHERE s.incident_id = i.id), first_seen, last_seen,"
		" requires_operator, proposed FROM incidents i"
		" WHERE state <> 'closed' OR last_seen >= $1 ORDER BY id",
	[ST_INCIDENT_AGENTS] = "SELECT DISTINCT agent_id FROM assessments"
		" WHERE incident_id = $1",
	/* The key's incident while it is in the window: most reports. */
	[ST_KEY_TOUCH] = "UPDATE incident_keys SET"
		" last_seen = GREATEST(last_seen, $2)"
		" WHERE key = $1 AND last_seen >= $3 RETURNING incident_id",
	/* A new key, or one out of its window: a new id, unless a race. */
	[ST_KEY_CLAIM] = "INSERT INTO incident_keys(key, incident_id,"
		" last_seen) VALUES ($1, nextval('incident_ids'), $2)"
		" ON CONFLICT(key) DO UPDATE SET incident_id = CASE"
		" WHEN incident_keys.last_seen >= $3"
		" THEN incident_keys.incident_id"
		" ELSE EXCLUDED.incident_id END,"
		" last_seen = GREATEST(incident_keys.last_seen, $2)"
		" RETURNING incident_id",
	/* The key's last sight when it stays; 0 when let go or not ours. */
	[ST_KEY_RELEASE] = "WITH gone AS (DELETE FROM incident_keys"
		" WHERE key = $1 AND incident_id = $2 AND last_seen < $3"
		" RETURNING 1) SELECT COALESCE((SELECT last_seen"
		" FROM incident_keys WHERE key = $1 AND incident_id = $2"
		" AND NOT EXISTS (SELECT 1 FROM gone)), 0)",
	[ST_AGENT_LAST] = "SELECT COALESCE(MAX(id), 0) FROM assessments"
		" WHERE agent_id = $1",
	[ST_ATTESTATION] = "INSERT INTO attestations VALUES"
		" ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
		" ON CONFLICT(agent_id) DO UPDATE SET ek_public = $2,"
		" ak_public = $3, pcr_mask = $4, expected_pcrs = $5,"
		" trusted = $6, reason = $7, enrolled = $8,"
		" cert_not_after = $9, last_quote = $10",
	[ST_ATTESTATIONS] = "SELECT agent_id, ek_public, ak_public, pcr_mask,"
		" expected_pcrs, trusted, reason, enrolled, cert_not_after,"
		" last_quote FROM attestations",
	[ST_ATTESTATION_DEL] = "DELETE FROM attestations WHERE agent_id = $1",
	[ST_REVOCATION] = "INSERT INTO revocations VALUES ($1, $2, $3)"
		" ON CONFLICT(agent_id) DO UPDATE SET revoked = $2,"
		" reason = $3",
	[ST_REVOCATION_DEL] = "DELETE FROM revocations WHERE agent_id = $1",
	[ST_REVOCATIONS] = "SELECT agent_id, revoked, reason FROM revocations",
};

struct store_be {
	PGconn *conn;
	char label[160];	/* "database D on H" for logs: no secrets */
	bool txn;		/* a BEGIN of ours is open */
	bool down;		/* connection lost, said once in the log */
	struct timespec last_reset;	/* CLOCK_MONOTONIC */
	unsigned int grp_depth;	/* store_begin levels open */
	unsigned int grp_top;	/* the level whose BEGIN opened txn; 0 */
	int version;
};

/* Parameters of one statement, as text (bytea as binary). */
#define MAX_PARAMS	13

struct params {
	int n;
	const char *v[MAX_PARAMS];
	int len[MAX_PARAMS];
	int fmt[MAX_PARAMS];
	char num[MAX_PARAMS][64];	/* numbers, addresses */
	char *own[MAX_PARAMS];	/* repaired copies of text, freed after */
};

/*
 * One line for the log: the primary message only (DETAIL lines quote row
 * values), or the first line of the connection's.
 */
static const char *res_error(struct store_be *st, const PGresult *res)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
			    : NULL;
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s", m ? m : PQerrorMessage(st->conn));
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] ? buf : "connection lost";
}

/* A lost connection is said once, when it is found; see reconnect(). */
static int db_error(struct store_be *st, const PGresult *res,
		    const char *what)
{
	if (PQstatus(st->conn) != CONNECTION_OK) {
		if (!st->down)
			log_err("store postgresql %s: connection lost (%s: %s); reconnecting, nothing is acknowledged meanwhile",
				st->label, what, res_error(st, res));
		st->down = true;
		return -EIO;
	}
	log_err("store postgresql %s: %s failed: %s; check the database server and the role's rights",
		st->label, what, res_error(st, res));
	return -EIO;
}

static int exec(struct store_be *st, const char *sql, const char *what)
{
	PGresult *res = PQexec(st->conn, sql);
	int ret = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		ret = db_error(st, res, what);
	PQclear(res);
	return ret;
}

/* Notices ("relation already exists, skipping") are not news. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int prepare_all(struct store_be *st)
{
	char name[16];
	int i;

	for (i = 0; i < NR_STMTS; i++) {
		PGresult *res;

		snprintf(name, sizeof(name), "vnfsec_%d", i);
		res = PQprepare(st->conn, name, stmt_sql[i], 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			db_error(st, res, "preparing statements");
			PQclear(res);
			return -EIO;
		}
		PQclear(res);
	}
	return 0;
}

/*
 * A lost connection (the database restarted, a failover) is opened again
 * at the next round or write outside a transaction, at most every
 * RESET_MS; until then writes fail and nothing is acknowledged. PQreset()
 * blocks the loop while it connects: give a TCP URI a connect_timeout.
 */
#define RESET_MS	250

static int reconnect(struct store_be *st)
{
	struct timespec now;

	if (PQstatus(st->conn) == CONNECTION_OK && !st->down)
		return 0;
	if (!st->down)
		log_err("store postgresql %s: connection lost: %s; reconnecting, nothing is acknowledged meanwhile",
			st->label, res_error(st, NULL));
	st->down = true;
	st->txn = false;
	st->grp_depth = st->grp_top = 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - st->last_reset.tv_sec) * 1000 +
	    (now.tv_nsec - st->last_reset.tv_nsec) / 1000000 < RESET_MS)
		return -EIO;
	st->last_reset = now;
	if (PQstatus(st->conn) != CONNECTION_OK)
		PQreset(st->conn);
	/* A new session has no statements prepared, a half-done try some. */
	if (PQstatus(st->conn) != CONNECTION_OK ||
	    exec(st, "DEALLOCATE ALL", "reconnecting") || prepare_all(st))
		return -EIO;
	st->down = false;
	log_info("store postgresql %s: reconnected", st->label);
	return 0;
}

/*
 * A statement after a failed one in the same transaction fails too, and
 * says nothing more: the first failure was logged, the commit will fail.
 */
static PGresult *run(struct store_be *st, enum stmt_id id,
		     struct params *p, const char *what)
{
	PGresult *res = NULL;
	char name[16];
	int i;

	if (st->txn) {
		if (PQtransactionStatus(st->conn) != PQTRANS_INTRANS)
			goto out;
	} else if (reconnect(st)) {
		goto out;
	}
	snprintf(name, sizeof(name), "vnfsec_%d", id);
	res = PQexecPrepared(st->conn, name, p->n, p->v, p->len, p->fmt, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error(st, res, what);
		PQclear(res);
		res = NULL;
	}
out:
	for (i = 0; i < p->n; i++)
		free(p->own[i]);
	return res;
}

static int run_write(struct store_be *st, enum stmt_id id, struct params *p,
		     const char *what)
{
	PGresult *res = run(st, id, p, what);

	PQclear(res);
	return res ? 0 : -EIO;
}

static void p_null(struct params *p)
{
	p->v[p->n++] = NULL;
}

static void p_int(struct params *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof(p->num[0]), "%" PRId64, v);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

/* Length of the valid UTF-8 sequence at @s, or 0 (RFC 3629). */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, surrogates, and past U+10FFFF. */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/* Text as PostgreSQL takes it: a byte that is not UTF-8 becomes '?'. */
static void p_text(struct params *p, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t i, n, len;
	char *copy;

	if (!v) {
		p_null(p);
		return;
	}
	for (i = 0; s[i]; i += n)
		if (!(n = utf8_seq(s + i)))
			break;
	p->v[p->n] = v;
	if (s[i]) {
		len = strlen(v);
		copy = malloc(len + 1);
		/* Out of memory: the statement fails on the original. */
		if (copy) {
			for (i = 0; i < len; i += n) {
				n = utf8_seq(s + i);
				if (!n) {
					copy[i] = '?';
					n = 1;
				} else {
					memcpy(copy + i, s + i, n);
				}
			}
			copy[len] = '\0';
			p->v[p->n] = p->own[p->n] = copy;
		}
	}
	p->n++;
}

static void p_bytes(struct params *p, const void *v, size_t len)
{
	p->v[p->n] = len ? v : "";
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

/* Address text is ASCII and short: it lives in the parameter's buffer. */
static void p_addr(struct params *p, const uint8_t *addr, size_t len)
{
	ProtobufCBinaryData b = { .len = len, .data = (uint8_t *)addr };

	if (!len) {
		p_null(p);
		return;
	}
	p->v[p->n] = wire_addr_str(&b, p->num[p->n], sizeof(p->num[0]));
	p->n++;
}

/* Column @c of row @r: NULL for SQL NULL. */
static const char *col(const PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

static int64_t col_int(const PGresult *res, int r, int c)
{
	const char *v = col(res, r, c);

	return v ? strtoll(v, NULL, 10) : 0;
}

static int read_version(struct store_be *st)
{
	PGresult *res = PQexec(st->conn, "SELECT version FROM schema_version");
	int v = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		v = (int)col_int(res, 0, 0);
	else
		db_error(st, res, "reading the schema version");
	PQclear(res);
	return v;
}

/*
 * One step per transaction, under an advisory lock: servers that start
 * together on one database do not apply a step twice.
 */
static int migrate(struct store_be *st)
{
	char sql[96];
	int have, from = -1;

	for (;;) {
		if (exec(st, "BEGIN", "migration") ||
		    exec(st, "SELECT pg_advisory_xact_lock(x'" MIGRATION_LOCK
			 "'::bigint)", "migration") ||
		    exec(st, "CREATE TABLE IF NOT EXISTS schema_version"
			 " (version BIGINT NOT NULL)", "migration") ||
		    exec(st, "INSERT INTO schema_version SELECT 0 WHERE NOT"
			 " EXISTS (SELECT 1 FROM schema_version)",
			 "migration"))
			goto fail;
		have = read_version(st);
		if (have < 0)
			goto fail;
		if (from < 0)
			from = have;
		if (have > NR_MIGRATIONS) {
			log_err("store postgresql %s: schema version %d is newer than this server's %d; upgrade vnfsec-server",
				st->label, have, NR_MIGRATIONS);
			exec(st, "ROLLBACK", "rollback");
			return -EPROTO;
		}
		if (have == NR_MIGRATIONS)
			break;
		snprintf(sql, sizeof(sql),
			 "UPDATE schema_version SET version = %d", have + 1);
		if (exec(st, migrations[have], "migration") ||
		    exec(st, sql, "migration") ||
		    exec(st, "COMMIT", "migration"))
			goto fail;
	}
	/* One line for all the steps: the fact is where it stands now. */
	if (from < have)
		log_info("store postgresql %s: migrated from schema version %d to %d",
			 st->label, from, have);
	st->version = have;
	return exec(st, "COMMIT", "migration");
fail:
	exec(st, "ROLLBACK", "rollback");
	return -EIO;
}

static void pg_close(struct store_be *st)
{
	if (!st)
		return;
	PQfinish(st->conn);
	free(st);
}

static int pg_open(const char *path, struct store_be **out)
{
	struct store_be *st = calloc(1, sizeof(*st));
	PQconninfoOption *opts;
	char *why = NULL;
	const char *host;
	int ret = -EIO;

	*out = NULL;
	if (!st)
		return -ENOMEM;
	/* libpq's parse errors quote the URI, password and all: not logged. */
	opts = PQconninfoParse(path, &why);
	PQfreemem(why);
	if (!opts) {
		log_err("store postgresql: the --db URI does not parse; see libpq's connection URI syntax (postgresql://[user@][host][:port]/dbname?param=value)");
		free(st);
		return -EINVAL;
	}
	PQconninfoFree(opts);
	st->conn = PQconnectdb(path);
	if (!st->conn) {
		free(st);
		return -ENOMEM;
	}
	host = PQhost(st->conn);
	snprintf(st->label, sizeof(st->label), "database %s on %s",
		 PQdb(st->conn) ? PQdb(st->conn) : "?",
		 host && *host ? host : "localhost");
	if (PQstatus(st->conn) != CONNECTION_OK) {
		log_err("store postgresql %s: cannot connect: %s; check that the server runs and the URI's host, port, user and database",
			st->label, res_error(st, NULL));
		goto err;
	}
	PQsetNoticeProcessor(st->conn, ignore_notice, NULL);
	if (PQsetClientEncoding(st->conn, "UTF8")) {
		db_error(st, NULL, "setting the client encoding");
		goto err;
	}
	ret = migrate(st);
	if (ret)
		goto err;
	ret = prepare_all(st);
	if (ret)
		goto err;
	log_info("store postgresql %s: open at schema version %d", st->label,
		 st->version);
	*out = st;
	return 0;
err:
	pg_close(st);
	return ret;
}

static int pg_schema_version(struct store_be *st)
{
	return st->version;
}

static int pg_agent_seen(struct store_be *st, const struct agent_record *agent,
			 bool connected)
{
	struct params p = { 0 };

	p_text(&p, agent->id);
	p_text(&p, agent->address);
	p_int(&p, agent->is_server);
	p_int(&p, connected);
	p_int(&p, agent->last_seen);
	return run_write(st, ST_AGENT, &p, "recording an agent");
}

static int pg_assessment(struct store_be *st, const char *agent_id,
			 const Vnfsec__Assessment *a, uint64_t incident_id)
{
	struct params p = { 0 };
	PGresult *res;
	int ret;

	p_text(&p, agent_id);
	p_int(&p, (int64_t)a->id);
	p_int(&p, (int64_t)a->time_unix_ms);
	p_text(&p, heuristic_name(a->heuristic));
	p_int(&p, a->severity);
	p_addr(&p, a->src_addr.data, a->src_addr.len);
	p_addr(&p, a->dst_addr.data, a->dst_addr.len);
	p_int(&p, a->dst_port);
	p_int(&p, (int64_t)a->count);
	p_int(&p, (int64_t)a->src_count);
	p_text(&p, a->iface);
	if (incident_id)
		p_int(&p, (int64_t)incident_id);
	else
		p_null(&p);
	res = run(st, ST_ASSESSMENT, &p, "recording an assessment");
	if (!res)
		return -EIO;
	/* No row: another server stored it (the agent failed over). */
	ret = PQntuples(res) ? 0 : -EEXIST;
	PQclear(res);
	return ret;
}

static int pg_incident(struct store_be *st, const struct incident *inc)
{
	char proposed[WIRE_NAME_MAX + 24];
	struct params p = { 0 };

	p_int(&p, (int64_t)inc->id);
	p_text(&p, heuristic_name(inc->heuristic));
	p_int(&p, inc->severity);
	p_text(&p, incident_state_name(inc->state));
	p_addr(&p, inc->src, inc->src_len);
	p_int(&p, inc->dst_port);
	p_int(&p, inc->nr_agents);
	p_int(&p, (int64_t)inc->assessments);
	p_text(&p, inc->has_indicator ? inc->indicator.source : NULL);
	p_int(&p, inc->first_seen);
	p_int(&p, inc->last_seen);
	p_int(&p, inc->requires_operator);
	/* "quarantine_vnf sgw", as proposed to the operator. */
	if (inc->proposed_vnf[0]) {
		snprintf(proposed, sizeof(proposed), "quarantine_vnf %s",
			 inc->proposed_vnf);
		p_text(&p, proposed);
	} else {
		p_null(&p);
	}
	return run_write(st, ST_INCIDENT, &p, "recording an incident");
}

static int pg_action(struct store_be *st, const struct action_record *act)
{
	struct params p = { 0 };
	char target[128];

	action_target_str(act, target, sizeof(target));
	p_text(&p, act->agent->id);
	p_int(&p, (int64_t)act->seq);
	p_text(&p, action_type_name(act->type));
	p_text(&p, target);
	p_int(&p, act->ttl_s);
	p_int(&p, (int64_t)act->incident_id);
	p_int(&p, (int64_t)act->parent_seq);
	p_text(&p, action_state_name(act->state));
	p_int(&p, act->status);
	p_int(&p, act->sent);
	if (act->acked)
		p_int(&p, act->acked);
	else
		p_null(&p);
	return run_write(st, ST_ACTION, &p, "recording an action");
}

static int pg_indicator(struct store_be *st, const struct indicator *ind)
{
	struct params p = { 0 };

	p_text(&p, indicator_type_name(ind->type));
	p_text(&p, ind->value);
	p_text(&p, ind->source);
	p_int(&p, ind->confidence);
	p_int(&p, ind->expires);
	return run_write(st, ST_INDICATOR, &p, "recording an indicator");
}

static int pg_indicators_load(struct store_be *st, time_t now,
			      int (*fn)(void *ctx, const struct indicator *ind),
			      void *ctx)
{
	struct params p = { 0 };
	PGresult *res;
	int i, ret = 0;

	p_int(&p, now);
	res = run(st, ST_INDICATORS, &p, "loading indicators");
	if (!res)
		return -EIO;
	for (i = 0; i < PQntuples(res) && !ret; i++) {
		const char *type = col(res, i, 0);
		const char *value = col(res, i, 1);
		const char *source = col(res, i, 2);
		struct indicator ind;
		const char *why;

		/* A row this version cannot read is skipped, not fatal. */
		if (!type || !value || !source ||
		    indicator_parse(&ind, type, value, &why)) {
			log_warn("store postgresql %s: skipping unreadable indicator '%s'",
				 st->label, value ? value : "");
			continue;
		}
		snprintf(ind.source, sizeof(ind.source), "%s", source);
		ind.confidence = (unsigned int)col_int(res, i, 3);
		ind.expires = col_int(res, i, 4);
		ret = fn(ctx, &ind);
	}
	PQclear(res);
	return ret;
}

static int pg_attestation(struct store_be *st, const struct attestation_row *r)
{
	struct params p = { 0 };

	p_text(&p, r->agent_id);
	p_bytes(&p, r->ek_public, r->ek_len);
	p_bytes(&p, r->ak_public, r->ak_len);
	p_int(&p, r->pcr_mask);
	p_bytes(&p, r->pcrs, r->pcrs_len);
	p_int(&p, r->trusted);
	p_text(&p, r->reason);
	p_int(&p, r->enrolled);
	p_int(&p, r->cert_not_after);
	p_int(&p, r->last_quote);
	return run_write(st, ST_ATTESTATION, &p, "recording an attestation");
}

static int pg_attestations_load(struct store_be *st,
				int (*fn)(void *ctx,
					  const struct attestation_row *r),
				void *ctx)
{
	struct params p = { 0 };
	PGresult *res;
	int i, ret = 0;

	res = run(st, ST_ATTESTATIONS, &p, "loading attestations");
	if (!res)
		return -EIO;
	for (i = 0; i < PQntuples(res) && !ret; i++) {
		unsigned char *blob[3] = { NULL, NULL, NULL };
		size_t len[3] = { 0, 0, 0 };
		static const int cols[3] = { 1, 2, 4 };
		struct attestation_row r;
		int b;

		for (b = 0; b < 3; b++) {
			const char *v = col(res, i, cols[b]);

			blob[b] = v ? PQunescapeBytea((const unsigned char *)v,
						      &len[b]) : NULL;
		}
		r = (struct attestation_row){
			.agent_id = col(res, i, 0),
			.ek_public = blob[0],
			.ek_len = len[0],
			.ak_public = blob[1],
			.ak_len = len[1],
			.pcr_mask = (uint32_t)col_int(res, i, 3),
			.pcrs = blob[2],
			.pcrs_len = len[2],
			.trusted = col_int(res, i, 5),
			.reason = col(res, i, 6),
			.enrolled = col_int(res, i, 7),
			.cert_not_after = col_int(res, i, 8),
			.last_quote = col_int(res, i, 9),
		};
		if (!r.agent_id || !r.reason || !blob[0] || !blob[1] ||
		    !blob[2])
			log_warn("store postgresql %s: skipping an unreadable attestation",
				 st->label);
		else
			ret = fn(ctx, &r);
		for (b = 0; b < 3; b++)
			PQfreemem(blob[b]);
	}
	PQclear(res);
	return ret;
}

static int pg_attestation_delete(struct store_be *st, const char *agent_id)
{
	struct params p = { 0 };

	p_text(&p, agent_id);
	return run_write(st, ST_ATTESTATION_DEL, &p,
			 "releasing an attestation");
}

static int pg_revocation(struct store_be *st, const char *agent_id,
			 time_t when, const char *reason)
{
	struct params p = { 0 };

	p_text(&p, agent_id);
	p_int(&p, when);
	p_text(&p, reason);
	return run_write(st, ST_REVOCATION, &p, "recording a revocation");
}

static int pg_revocation_lift(struct store_be *st, const char *agent_id)
{
	struct params p = { 0 };

	p_text(&p, agent_id);
	return run_write(st, ST_REVOCATION_DEL, &p, "lifting a revocation");
}

static int pg_revocations_load(struct store_be *st,
			       int (*fn)(void *ctx, const char *agent_id,
					 time_t when, const char *reason),
			       void *ctx)
{
	struct params p = { 0 };
	PGresult *res;
	int i, ret = 0;

	res = run(st, ST_REVOCATIONS, &p, "loading revocations");
	if (!res)
		return -EIO;
	for (i = 0; i < PQntuples(res) && !ret; i++) {
		const char *id = col(res, i, 0);
		const char *reason = col(res, i, 2);

		if (!id || !reason) {
			log_warn("store postgresql %s: skipping an unreadable revocation",
				 st->label);
			continue;
		}
		ret = fn(ctx, id, col_int(res, i, 1), reason);
	}
	PQclear(res);
	return ret;
}

static int pg_agents_load(struct store_be *st,
			  int (*fn)(void *ctx, const struct agent_row *r),
			  void *ctx)
{
	struct params p = { 0 };
	PGresult *res;
	int i, ret = 0;

	res = run(st, ST_AGENTS, &p, "reading agents");
	if (!res)
		return -EIO;
	for (i = 0; i < PQntuples(res) && !ret; i++) {
		struct agent_row r = {
			.id = col(res, i, 0),
			.is_server = col_int(res, i, 1),
			.last_seen = col_int(res, i, 2),
			.last_assessment_id = (uint64_t)col_int(res, i, 3),
		};

		if (r.id)
			ret = fn(ctx, &r);
	}
	PQclear(res);
	return ret;
}

static int pg_incidents_load(struct store_be *st, time_t since,
			     int (*fn)(void *ctx,
				       const struct incident_row *r),
			     void *ctx)
{
	struct params p = { 0 };
	PGresult *res;
	int i, ret = 0;

	p_int(&p, since);
	res = run(st, ST_INCIDENTS_LIVE, &p, "reading incidents");
	if (!res)
		return -EIO;
	for (i = 0; i < PQntuples(res) && !ret; i++) {
		struct incident_row r = {
			.id = (uint64_t)col_int(res, i, 0),
			.type = col(res, i, 1),
			.severity = (unsigned int)col_int(res, i, 2),
			.state = col(res, i, 3),
			.src = col(res, i, 4),
			.dst_port = (uint32_t)col_int(res, i, 5),
			.assessments = (uint64_t)col_int(res, i, 6),
			.first_seen = col_int(res, i, 7),
			.last_seen = col_int(res, i, 8),
			.requires_operator = col_int(res, i, 9),
			.proposed = col(res, i, 10),
		};

		if (r.type && r.state)
			ret = fn(ctx, &r);
	}
	PQclear(res);
	return ret;
}

static int pg_incident_agents_load(struct store_be *st, uint64_t id,
				   int (*fn)(void *ctx, const char *agent_id),
				   void *ctx)
{
	struct params p = { 0 };
	PGresult *res;
	int i, ret = 0;

	p_int(&p, (int64_t)id);
	res = run(st, ST_INCIDENT_AGENTS, &p, "reading an incident's agents");
	if (!res)
		return -EIO;
	for (i = 0; i < PQntuples(res) && !ret; i++)
		if (col(res, i, 0))
			ret = fn(ctx, col(res, i, 0));
	PQclear(res);
	return ret;
}

static int pg_max_incident_id(struct store_be *st, uint64_t *out)
{
	struct params p = { 0 };
	PGresult *res;

	res = run(st, ST_MAX_INCIDENT, &p, "reading incident ids");
	if (!res)
		return -EIO;
	*out = PQntuples(res) == 1 ? (uint64_t)col_int(res, 0, 0) : 0;
	PQclear(res);
	return 0;
}

/* One number out of a statement's single row and column. */
static int run_u64(struct store_be *st, enum stmt_id id, struct params *p,
		   const char *what, uint64_t *out, bool *found)
{
	PGresult *res = run(st, id, p, what);

	if (!res)
		return -EIO;
	*found = PQntuples(res) == 1;
	*out = *found ? (uint64_t)col_int(res, 0, 0) : 0;
	PQclear(res);
	return 0;
}

static int pg_incident_claim(struct store_be *st, const char *key,
			     time_t now, time_t window_start, uint64_t *id)
{
	struct params p = { 0 };
	bool found;
	int ret;

	p_text(&p, key);
	p_int(&p, now);
	p_int(&p, window_start);
	ret = run_u64(st, ST_KEY_TOUCH, &p, "finding an incident by its key",
		      id, &found);
	if (ret || found)
		return ret;
	p = (struct params){ 0 };
	p_text(&p, key);
	p_int(&p, now);
	p_int(&p, window_start);
	ret = run_u64(st, ST_KEY_CLAIM, &p, "claiming an incident key", id,
		      &found);
	return ret ? ret : found && *id ? 0 : -EIO;
}

static int pg_incident_release(struct store_be *st, const char *key,
			       uint64_t id, time_t idle_before,
			       time_t *last_seen)
{
	struct params p = { 0 };
	uint64_t v;
	bool found;
	int ret;

	p_text(&p, key);
	p_int(&p, (int64_t)id);
	p_int(&p, idle_before);
	ret = run_u64(st, ST_KEY_RELEASE, &p, "letting an incident key go",
		      &v, &found);
	*last_seen = ret ? 0 : (time_t)v;
	return ret;
}

static int pg_agent_last_assessment(struct store_be *st, const char *agent_id,
				    uint64_t *out)
{
	struct params p = { 0 };
	bool found;

	p_text(&p, agent_id);
	return run_u64(st, ST_AGENT_LAST, &p, "reading an agent's reports",
		       out, &found);
}

/*
 * End our transaction: COMMIT, or ROLLBACK when a statement in it failed
 * (PostgreSQL answers COMMIT of such a transaction with "ROLLBACK", not an
 * error) or the COMMIT itself failed. Its writes are lost; their acks
 * were never sent.
 */
static int finish(struct store_be *st, const char *what)
{
	PGTransactionStatusType ts = PQtransactionStatus(st->conn);
	PGresult *res;
	int ret = -EIO;

	st->txn = false;
	if (ts == PQTRANS_INERROR) {
		log_err("store postgresql %s: %s: a write in it failed, rolled back; its agents send again",
			st->label, what);
		exec(st, "ROLLBACK", "rolling back");
		return -EIO;
	}
	if (ts != PQTRANS_INTRANS) {
		if (PQstatus(st->conn) != CONNECTION_OK)
			reconnect(st);
		else
			log_err("store postgresql %s: %s: no transaction open",
				st->label, what);
		return -EIO;
	}
	res = PQexec(st->conn, "COMMIT");
	if (PQresultStatus(res) == PGRES_COMMAND_OK &&
	    !strcmp(PQcmdStatus(res), "COMMIT"))
		ret = 0;
	else
		db_error(st, res, what);
	PQclear(res);
	if (ret && PQtransactionStatus(st->conn) != PQTRANS_IDLE &&
	    PQstatus(st->conn) == CONNECTION_OK)
		exec(st, "ROLLBACK", "rolling back a failed commit");
	return ret;
}

static int open_txn(struct store_be *st, const char *what)
{
	if (reconnect(st) || exec(st, "BEGIN", what))
		return -EIO;
	st->txn = true;
	return 0;
}

/* A group is a savepoint inside a round, or a transaction of its own. */
static int pg_begin(struct store_be *st)
{
	if (!st->txn) {
		if (open_txn(st, "starting a group of writes"))
			return -EIO;
		st->grp_top = st->grp_depth + 1;
	} else if (exec(st, "SAVEPOINT grp", "starting a group of writes")) {
		return -EIO;
	}
	st->grp_depth++;
	return 0;
}

static int pg_rollback(struct store_be *st)
{
	unsigned int level = st->grp_depth;

	if (!level)
		return -EINVAL;
	st->grp_depth--;
	if (level == st->grp_top) {
		st->grp_top = 0;
		st->txn = false;
		return exec(st, "ROLLBACK", "rolling back a group of writes");
	}
	if (exec(st, "ROLLBACK TO SAVEPOINT grp",
		 "rolling back a group of writes"))
		return -EIO;
	return exec(st, "RELEASE SAVEPOINT grp",
		    "rolling back a group of writes");
}

/* A group with a failed write in it is rolled back: all or nothing. */
static int pg_commit(struct store_be *st)
{
	unsigned int level = st->grp_depth;

	if (!level)
		return -EINVAL;
	if (level == st->grp_top) {
		st->grp_depth--;
		st->grp_top = 0;
		return finish(st, "committing a group of writes");
	}
	if (PQtransactionStatus(st->conn) == PQTRANS_INERROR) {
		pg_rollback(st);
		return -EIO;
	}
	st->grp_depth--;
	return exec(st, "RELEASE SAVEPOINT grp",
		    "committing a group of writes");
}

static int pg_batch_begin(struct store_be *st)
{
	return open_txn(st, "starting a transaction");
}

static int pg_batch_commit(struct store_be *st)
{
	return finish(st, "committing");
}

const struct store_ops store_pg_ops = {
	.open = pg_open,
	.close = pg_close,
	.schema_version = pg_schema_version,
	.agent_seen = pg_agent_seen,
	.assessment = pg_assessment,
	.incident = pg_incident,
	.action = pg_action,
	.indicator = pg_indicator,
	.attestation = pg_attestation,
	.attestations_load = pg_attestations_load,
	.attestation_delete = pg_attestation_delete,
	.revocation = pg_revocation,
	.revocation_lift = pg_revocation_lift,
	.revocations_load = pg_revocations_load,
	.indicators_load = pg_indicators_load,
	.agents_load = pg_agents_load,
	.incidents_load = pg_incidents_load,
	.incident_agents_load = pg_incident_agents_load,
	.max_incident_id = pg_max_incident_id,
	.shared = true,
	.incident_claim = pg_incident_claim,
	.incident_release = pg_incident_release,
	.agent_last_assessment = pg_agent_last_assessment,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.batch_begin = pg_batch_begin,
	.batch_commit = pg_batch_commit,
};
