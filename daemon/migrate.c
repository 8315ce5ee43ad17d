/*
 * migrate.c - the schema migration runner: checksummed numbered migrations,
 * then the repeatable api schema (see migrate.h and docs/sql-api.md).
 */
#include "plantrack/migrate.h"
#include "plantrack/hash.h"
#include "plantrack/db.h"
#include "plantrack/embed.h"
#include "plantrack/fileio.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MIGRATE_LOCK_KEY "7262610424"   /* arbitrary, fixed: "plantrack migrations" */

/* Release b3c5c60 recorded these rows without checksums. Its 0001 is the
 * current 0001 byte for byte; its 0002 and 0003 created what today's 0002 and
 * 0003 create plus the functions, which 0004 drops. Such rows are adopted:
 * they get the current file's name and checksum. */
static const struct { int version; const char *name; } legacy_rows[] = {
	{ 1, "0001_schema.sql" }, { 2, "0002_api.sql" }, { 3, "0003_webhooks.sql" },
};

struct sqlfile {
	char *name;       /* file name without directory */
	char *sql;        /* NUL-terminated */
	size_t len;
	int version;      /* NNNN, migrations only */
	char sha[MIGRATE_SHA_HEX];
};

struct migrate_set {
	struct sqlfile *mig, *api;
	int nmig, napi;
	char api_sha[MIGRATE_SHA_HEX];
	char origin[4096];   /* "embedded" or the directory, for messages */
};

static int parse_name(const char *fname, int *version)
{
	size_t len = strlen(fname);
	if (len < 9 || strcmp(fname + len - 4, ".sql"))
		return -1;
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)fname[i]))
			return -1;
	if (fname[4] != '_')
		return -1;
	*version = atoi(fname);
	return 0;
}

static int is_sql(const char *fname)
{
	size_t len = strlen(fname);
	return len > 4 && fname[0] != '.' && !strcmp(fname + len - 4, ".sql");
}

static int cmp_file(const void *a, const void *b)
{
	const struct sqlfile *x = a, *y = b;
	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int add_file(struct sqlfile **list, int *n, const char *name, char *sql, size_t len, int version)
{
	struct sqlfile *nl = realloc(*list, (size_t)(*n + 1) * sizeof *nl);
	if (!nl)
		return -1;
	*list = nl;
	struct sqlfile *f = &nl[*n];
	f->name = strdup(name);
	f->sql = sql;
	f->len = len;
	f->version = version;
	pt_sha256_hex(sql, len, f->sha);
	(*n)++;
	return f->name ? 0 : -1;
}

/* Every *.sql of dir (migrations: only NNNN_*.sql) into list. */
static int load_dir(const char *dir, int numbered, struct sqlfile **list, int *n, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		int v = 0;
		if (numbered ? parse_name(e->d_name, &v) != 0 : !is_sql(e->d_name))
			continue;
		char path[4096];
		size_t len;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		char *sql = fileio_read(path, &len);
		if (!sql) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			rc = -1;
		} else if (add_file(list, n, e->d_name, sql, len, v)) {
			free(sql);
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

static int load_embedded(const char *prefix, int numbered, struct sqlfile **list, int *n)
{
	const struct embed_file *f;
	for (size_t i = 0; (f = embed_next(prefix, i)) != NULL; i++) {
		const char *base = f->name + strlen(prefix);
		int v = 0;
		if (numbered ? parse_name(base, &v) != 0 : !is_sql(base))
			continue;
		char *sql = malloc(f->len + 1);
		if (!sql)
			return -1;
		memcpy(sql, f->data, f->len + 1);
		if (add_file(list, n, base, sql, f->len, v)) {
			free(sql);
			return -1;
		}
	}
	return 0;
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

struct migrate_set *migrate_set_load(const char *dir, char *err, size_t errlen)
{
	struct migrate_set *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	int rc;
	if (!dir || !*dir) {
		snprintf(s->origin, sizeof s->origin, "embedded");
		rc = load_embedded("migrations/", 1, &s->mig, &s->nmig) || load_embedded("sql/api/", 0, &s->api, &s->napi);
		if (rc)
			snprintf(err, errlen, "out of memory");
	} else {
		snprintf(s->origin, sizeof s->origin, "%s", dir);
		char api[4096];
		snprintf(api, sizeof api, "%s/api", dir);
		if (!is_dir(api))
			snprintf(api, sizeof api, "%s/../sql/api", dir);
		rc = load_dir(dir, 1, &s->mig, &s->nmig, err, errlen) ||
		     load_dir(api, 0, &s->api, &s->napi, err, errlen);
	}
	if (rc) {
		migrate_set_free(s);
		return NULL;
	}
	if (s->nmig > 1)
		qsort(s->mig, (size_t)s->nmig, sizeof *s->mig, cmp_file);
	if (s->napi > 1)
		qsort(s->api, (size_t)s->napi, sizeof *s->api, cmp_file);
	for (int i = 1; i < s->nmig; i++)
		if (s->mig[i].version == s->mig[i - 1].version) {
			snprintf(err, errlen, "%s: two migrations with version %04d (%s, %s)", s->origin,
				 s->mig[i].version, s->mig[i - 1].name, s->mig[i].name);
			migrate_set_free(s);
			return NULL;
		}
	if (s->napi == 0) {
		snprintf(err, errlen, "%s: no sql/api files", s->origin);
		migrate_set_free(s);
		return NULL;
	}
	struct pt_sha256 ctx;
	unsigned char md[PT_SHA256_LEN];
	pt_sha256_init(&ctx);
	for (int i = 0; i < s->napi; i++) {
		pt_sha256_update(&ctx, s->api[i].name, strlen(s->api[i].name) + 1);
		pt_sha256_update(&ctx, s->api[i].sql, s->api[i].len + 1);
	}
	pt_sha256_final(&ctx, md);
	pt_hex(md, sizeof md, s->api_sha);
	return s;
}

void migrate_set_free(struct migrate_set *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nmig; i++) {
		free(s->mig[i].name);
		free(s->mig[i].sql);
	}
	for (int i = 0; i < s->napi; i++) {
		free(s->api[i].name);
		free(s->api[i].sql);
	}
	free(s->mig);
	free(s->api);
	free(s);
}

int migrate_set_version(const struct migrate_set *s)
{
	return s->nmig ? s->mig[s->nmig - 1].version : 0;
}

const char *migrate_set_api_checksum(const struct migrate_set *s)
{
	return s->api_sha;
}

static int exec_ok(PGconn *pg, const char *sql, char *err, size_t errlen)
{
	PGresult *res = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(res);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
	PQclear(res);
	return ok ? 0 : -1;
}

static void rollback(PGconn *pg)
{
	char ignored[64];
	exec_ok(pg, "ROLLBACK", ignored, sizeof ignored);
}

static const struct sqlfile *find_version(const struct migrate_set *s, int version)
{
	for (int i = 0; i < s->nmig; i++)
		if (s->mig[i].version == version)
			return &s->mig[i];
	return NULL;
}

static int is_legacy(int version, const char *name)
{
	for (size_t i = 0; i < sizeof legacy_rows / sizeof legacy_rows[0]; i++)
		if (legacy_rows[i].version == version && !strcmp(legacy_rows[i].name, name))
			return 1;
	return 0;
}

/* Checks the recorded migrations against the set, changing nothing.
 * *legacy: rows to adopt. 0 ok, -1 refused (message in err). */
static int check_applied(PGconn *pg, const struct migrate_set *s, int *legacy, char *err, size_t errlen)
{
	*legacy = 0;
	PGresult *res = PQexec(pg,
		"SELECT to_regclass('public.schema_migrations') IS NOT NULL, "
		"EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('public.schema_migrations') "
		"        AND attname = 'checksum' AND NOT attisdropped)");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	int exists = PQgetvalue(res, 0, 0)[0] == 't', has_sum = PQgetvalue(res, 0, 1)[0] == 't';
	PQclear(res);
	if (!exists)
		return 0;
	res = PQexec(pg, has_sum ? "SELECT version, name, checksum FROM public.schema_migrations ORDER BY version"
				 : "SELECT version, name, NULL FROM public.schema_migrations ORDER BY version");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	int rc = 0, known = migrate_set_version(s);
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		int v = atoi(PQgetvalue(res, i, 0));
		const char *name = PQgetvalue(res, i, 1);
		const struct sqlfile *f = find_version(s, v);
		if (v > known) {
			snprintf(err, errlen, "the database schema is at version %d (%s), newer than this binary knows (%d): "
				 "refusing to downgrade; run the plantrackd that migrated it, or a newer one", v, name, known);
			rc = -1;
		} else if (!f) {
			snprintf(err, errlen, "the database records migration %d (%s), which this binary does not have", v, name);
			rc = -1;
		} else if (PQgetisnull(res, i, 2)) {
			if (is_legacy(v, name)) {
				(*legacy)++;
			} else {
				snprintf(err, errlen, "migration %d (%s) was recorded without a checksum and is not from a known "
					 "release: cannot tell whether it matches %s", v, name, f->name);
				rc = -1;
			}
		} else if (strcmp(PQgetvalue(res, i, 2), f->sha)) {
			snprintf(err, errlen, "migrations/%s changed after it was applied (database has checksum %.12s, the file "
				 "%.12s; source %s): applied migrations are immutable, add a new numbered migration instead",
				 f->name, PQgetvalue(res, i, 2), f->sha, s->origin);
			rc = -1;
		}
	}
	PQclear(res);
	return rc;
}

/* The bookkeeping tables, and the checksums of legacy rows; one transaction. */
static int prepare_bookkeeping(PGconn *pg, const struct migrate_set *s, int legacy, char *err, size_t errlen)
{
	if (exec_ok(pg, "BEGIN", err, errlen))
		return -1;
	int rc = exec_ok(pg,
		"CREATE TABLE IF NOT EXISTS public.schema_migrations ("
		" version int PRIMARY KEY, name text NOT NULL,"
		" applied_at timestamptz NOT NULL DEFAULT now());"
		"ALTER TABLE public.schema_migrations ADD COLUMN IF NOT EXISTS checksum text;"
		"CREATE TABLE IF NOT EXISTS public.api_state ("
		" id boolean PRIMARY KEY DEFAULT true CHECK (id),"
		" checksum text NOT NULL,"
		" applied_at timestamptz NOT NULL DEFAULT now())", err, errlen);
	for (size_t i = 0; rc == 0 && legacy && i < sizeof legacy_rows / sizeof legacy_rows[0]; i++) {
		const struct sqlfile *f = find_version(s, legacy_rows[i].version);
		if (!f)
			continue;
		char v[16];
		snprintf(v, sizeof v, "%d", f->version);
		const char *params[4] = { v, legacy_rows[i].name, f->name, f->sha };
		PGresult *res = PQexecParams(pg,
			"UPDATE public.schema_migrations SET name = $3, checksum = $4"
			" WHERE version = $1::int AND name = $2 AND checksum IS NULL",
			4, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(err, errlen, "%s", PQresultErrorMessage(res));
			rc = -1;
		}
		PQclear(res);
	}
	if (rc) {
		rollback(pg);
		return -1;
	}
	return exec_ok(pg, "COMMIT", err, errlen);
}

static int is_applied(PGconn *pg, int version)
{
	char v[16];
	snprintf(v, sizeof v, "%d", version);
	const char *params[1] = { v };
	PGresult *res = PQexecParams(pg, "SELECT 1 FROM public.schema_migrations WHERE version = $1::int",
				     1, NULL, params, NULL, NULL, 0);
	int applied = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	PQclear(res);
	return applied;
}

static int apply_one(PGconn *pg, const struct sqlfile *m, FILE *out, char *err, size_t errlen)
{
	char msg[512];
	if (exec_ok(pg, "BEGIN", err, errlen))
		return -1;
	/* Numbered migrations name tables unqualified: they belong in public. */
	int rc = exec_ok(pg, "SET LOCAL search_path = public", msg, sizeof msg);
	if (rc == 0)
		rc = exec_ok(pg, m->sql, msg, sizeof msg);
	if (rc == 0) {
		char v[16];
		snprintf(v, sizeof v, "%d", m->version);
		const char *params[3] = { v, m->name, m->sha };
		PGresult *res = PQexecParams(pg,
			"INSERT INTO public.schema_migrations(version, name, checksum) VALUES ($1::int, $2, $3)",
			3, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
			rc = -1;
		}
		PQclear(res);
	}
	if (rc) {
		rollback(pg);
		snprintf(err, errlen, "%s: %s", m->name, msg);
		return -1;
	}
	if (exec_ok(pg, "COMMIT", err, errlen))
		return -1;
	fprintf(out, "applied %s\n", m->name);
	fflush(out);
	return 0;
}

/* Drops and rebuilds the api schema when its checksum differs; one transaction.
 * *applied: 1 when rebuilt. */
static int apply_api(PGconn *pg, const struct migrate_set *s, FILE *out, int *applied, char *err, size_t errlen)
{
	*applied = 0;
	PGresult *res = PQexec(pg, "SELECT (SELECT checksum FROM public.api_state), to_regnamespace('api') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	int current = !PQgetisnull(res, 0, 0) && !strcmp(PQgetvalue(res, 0, 0), s->api_sha) &&
		      PQgetvalue(res, 0, 1)[0] == 't';
	PQclear(res);
	if (current)
		return 0;
	char msg[512];
	if (exec_ok(pg, "BEGIN", err, errlen))
		return -1;
	int rc = exec_ok(pg, "SET LOCAL search_path = api, public; SET LOCAL check_function_bodies = off;"
			     "DROP SCHEMA IF EXISTS api CASCADE; CREATE SCHEMA api", msg, sizeof msg);
	const char *failed = "api schema";
	for (int i = 0; rc == 0 && i < s->napi; i++) {
		rc = exec_ok(pg, s->api[i].sql, msg, sizeof msg);
		if (rc)
			failed = s->api[i].name;
	}
	if (rc == 0) {
		const char *params[1] = { s->api_sha };
		res = PQexecParams(pg,
			"INSERT INTO public.api_state (id, checksum) VALUES (true, $1)"
			" ON CONFLICT (id) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()",
			1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
			failed = "api_state";
			rc = -1;
		}
		PQclear(res);
	}
	if (rc) {
		rollback(pg);
		snprintf(err, errlen, "sql/api/%s: %s", failed, msg);
		return -1;
	}
	if (exec_ok(pg, "COMMIT", err, errlen))
		return -1;
	*applied = 1;
	fprintf(out, "applied sql/api (%d files, checksum %.12s)\n", s->napi, s->api_sha);
	fflush(out);
	return 0;
}

/*
 * Says once, at migrate time (ExecStartPre, so in the unit's log), when the
 * role may not set session_replication_role: import jobs then check their
 * foreign keys per inserted row (api.pt_bulk_begin), about 2.5 s more per
 * 100,000 rows. Not an error: everything works without it.
 */
static void note_bulk_privilege(PGconn *pg, FILE *out)
{
	PGresult *res = PQexec(pg, "SELECT current_user, has_parameter_privilege('session_replication_role', 'SET')");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "f") == 0)
		fprintf(out,
			"note: role %s may not set session_replication_role, so big CSV import jobs check foreign keys "
			"per row (slower); GRANT SET ON PARAMETER session_replication_role TO %s makes them check once per "
			"referenced row (docs/operations.md, step 4)\n",
			PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 0));
	PQclear(res);
}

int migrate_run(const char *conninfo, const char *dir, FILE *out, char *err, size_t errlen)
{
	struct migrate_set *s = migrate_set_load(dir, err, errlen);
	if (!s)
		return -1;
	PGconn *pg = db_connect_blocking(conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to the database: %s", PQerrorMessage(pg));
		PQfinish(pg);
		migrate_set_free(s);
		return -1;
	}
	PQclear(PQexec(pg, "SET client_min_messages = warning"));
	int legacy = 0, applied = 0, api_applied = 0;
	int rc = exec_ok(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err, errlen);
	if (rc == 0)
		rc = check_applied(pg, s, &legacy, err, errlen);
	if (rc == 0)
		rc = prepare_bookkeeping(pg, s, legacy, err, errlen);
	if (rc == 0 && legacy)
		fprintf(out, "recorded checksums for %d migrations applied by release b3c5c60\n", legacy);
	for (int i = 0; rc == 0 && i < s->nmig; i++) {
		if (is_applied(pg, s->mig[i].version))
			continue;
		rc = apply_one(pg, &s->mig[i], out, err, errlen);
		applied += rc == 0;
	}
	if (rc == 0)
		rc = apply_api(pg, s, out, &api_applied, err, errlen);
	if (rc == 0)
		note_bulk_privilege(pg, out); /* before the last line, which says where the schema is */
	if (rc == 0)
		fprintf(out, "schema is at version %d (%s), api %.12s%s\n", migrate_set_version(s),
			applied ? "migrations applied" : api_applied ? "api rebuilt" : "nothing to do",
			s->api_sha, api_applied && applied ? " rebuilt" : "");
	char ignored[64];
	exec_ok(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", ignored, sizeof ignored);
	PQfinish(pg);
	migrate_set_free(s);
	return rc;
}
