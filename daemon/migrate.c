/*
 * migrate.c - the schema migration runner (see migrate.h).
 */
#include "plantrack/migrate.h"
#include "plantrack/fileio.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATE_LOCK_KEY "7262610424"   /* arbitrary, fixed: "plantrack migrations" */

struct migration {
	int version;
	char name[256];
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

static int cmp_migration(const void *a, const void *b)
{
	return ((const struct migration *)a)->version - ((const struct migration *)b)->version;
}

static int list_migrations(const char *dir, struct migration **out, int *n)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct migration *list = NULL;
	int count = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int v;
		if (parse_name(e->d_name, &v))
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			struct migration *nl = realloc(list, (size_t)cap * sizeof *nl);
			if (!nl)
				break;
			list = nl;
		}
		list[count].version = v;
		snprintf(list[count].name, sizeof list[count].name, "%s", e->d_name);
		count++;
	}
	closedir(d);
	if (count > 1)
		qsort(list, (size_t)count, sizeof *list, cmp_migration);
	*out = list;
	*n = count;
	return 0;
}

int migrate_latest_version(const char *dir)
{
	struct migration *list;
	int n;
	if (list_migrations(dir, &list, &n))
		return -1;
	int v = n ? list[n - 1].version : 0;
	free(list);
	return v;
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

static int is_applied(PGconn *pg, int version)
{
	char v[16];
	snprintf(v, sizeof v, "%d", version);
	const char *params[1] = { v };
	PGresult *res = PQexecParams(pg, "SELECT 1 FROM schema_migrations WHERE version = $1::int",
				     1, NULL, params, NULL, NULL, 0);
	int applied = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	PQclear(res);
	return applied;
}

static int apply_one(PGconn *pg, const char *dir, const struct migration *m, FILE *out,
		     char *err, size_t errlen)
{
	char path[4096], msg[512];
	snprintf(path, sizeof path, "%s/%s", dir, m->name);
	char *sql = fileio_read(path, NULL);
	if (!sql) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (exec_ok(pg, "BEGIN", err, errlen)) {
		free(sql);
		return -1;
	}
	int rc = exec_ok(pg, sql, msg, sizeof msg);
	free(sql);
	if (rc == 0) {
		char v[16];
		snprintf(v, sizeof v, "%d", m->version);
		const char *params[2] = { v, m->name };
		PGresult *res = PQexecParams(pg, "INSERT INTO schema_migrations(version, name) VALUES ($1::int, $2)",
					     2, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
			rc = -1;
		}
		PQclear(res);
	}
	if (rc) {
		char ignored[64];
		exec_ok(pg, "ROLLBACK", ignored, sizeof ignored);
		snprintf(err, errlen, "%s: %s", m->name, msg);
		return -1;
	}
	if (exec_ok(pg, "COMMIT", err, errlen))
		return -1;
	fprintf(out, "applied %s\n", m->name);
	fflush(out);
	return 0;
}

int migrate_run(const char *conninfo, const char *dir, FILE *out, char *err, size_t errlen)
{
	struct migration *list;
	int n;
	if (list_migrations(dir, &list, &n)) {
		snprintf(err, errlen, "cannot read migrations directory %s: %s", dir, strerror(errno));
		return -1;
	}
	PGconn *pg = PQconnectdb(conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to the database: %s", PQerrorMessage(pg));
		PQfinish(pg);
		free(list);
		return -1;
	}
	PQclear(PQexec(pg, "SET client_min_messages = warning"));
	int rc = exec_ok(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err, errlen);
	if (rc == 0)
		rc = exec_ok(pg, "CREATE TABLE IF NOT EXISTS schema_migrations ("
				 " version int PRIMARY KEY, name text NOT NULL,"
				 " applied_at timestamptz NOT NULL DEFAULT now())", err, errlen);
	int applied = 0;
	for (int i = 0; rc == 0 && i < n; i++) {
		if (is_applied(pg, list[i].version))
			continue;
		rc = apply_one(pg, dir, &list[i], out, err, errlen);
		applied += rc == 0;
	}
	if (rc == 0)
		fprintf(out, applied ? "schema is at version %d (%d applied)\n" : "schema is at version %d (nothing to do)\n",
			n ? list[n - 1].version : 0, applied);
	char ignored[64];
	exec_ok(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", ignored, sizeof ignored);
	PQfinish(pg);
	free(list);
	return rc;
}
