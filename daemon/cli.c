/*
 * cli.c - token create and import from the command line (see cli.h).
 * Blocking libpq is fine here: no event loop runs in these commands.
 */
#include "plantrack/cli.h"
#include "plantrack/db.h"
#include "plantrack/hash.h"
#include "plantrack/roles.h"
#include "plantrack/auth.h"
#include "plantrack/config.h"
#include "plantrack/fileio.h"
#include "plantrack/planimport.h"
#include "plantrack/xalloc.h"

#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs "SELECT status, body::text FROM fn($1::jsonb)"; returns the body
 * (caller frees) and the status, or NULL with the error printed. */
static char *call_pt(const char *conninfo, const char *fn, json_t *args, int *status)
{
	PGconn *pg = db_connect_blocking(conninfo);   /* search_path = api, public */
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "plantrackd: cannot connect to the database: %s", PQerrorMessage(pg));
		PQfinish(pg);
		return NULL;
	}
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT status, body::text FROM %s($1::jsonb)", fn);
	char *text = json_dumps(args, JSON_COMPACT);
	const char *params[1] = { text };
	PGresult *res = PQexecParams(pg, sql, 1, NULL, params, NULL, NULL, 0);
	free(text);
	char *body = NULL;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
		fprintf(stderr, "plantrackd: %s%s%s\n", PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
			? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : PQresultErrorMessage(res),
			detail ? ": " : "", detail ? detail : "");
	} else {
		*status = atoi(PQgetvalue(res, 0, 0));
		body = xstrdup(PQgetisnull(res, 0, 1) ? "null" : PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	PQfinish(pg);
	return body;
}

int cli_token_create(const struct config *c, const struct cli_opts *o)
{
	if (!o->name || !*o->name || !o->role) {
		fprintf(stderr, "plantrackd token create: --name and --role are required\n");
		return 2;
	}
	if (role_parse(o->role) == ROLE_NONE) {
		fprintf(stderr, "plantrackd token create: unknown role \"%s\" (viewer, editor, supervisor, admin)\n", o->role);
		return 2;
	}
	char *token = auth_token_generate();
	if (!token) {
		fprintf(stderr, "plantrackd token create: no randomness available\n");
		return 1;
	}
	char hash[65];
	pt_sha256_hex(token, strlen(token), hash);
	json_t *args = json_pack("{s:s,s:s,s:s?,s:s}", "name", o->name, "role", o->role, "unit", o->unit,
				 "token_sha256", hash);
	int status = 0;
	char *body = call_pt(c->db, "pt_token_create", args, &status);
	json_decref(args);
	if (!body) {
		free(token);
		return 1;
	}
	json_t *doc = json_loads(body, 0, NULL);
	printf("created token %s for \"%s\" (role %s%s%s); it is shown once:\n",
	       json_string_value(json_object_get(doc, "id")) ? json_string_value(json_object_get(doc, "id")) : "?",
	       o->name, o->role, o->unit ? ", unit " : "", o->unit ? o->unit : "");
	printf("%s\n", token);
	json_decref(doc);
	free(body);
	free(token);
	return 0;
}

int cli_import(const struct config *c, const struct cli_opts *o)
{
	if (o->nargs != 1) {
		fprintf(stderr, "plantrackd import: give exactly one FILE (or - for standard input)\n");
		return 2;
	}
	int year = 0;
	if (o->year) {
		char *end;
		long y = strtol(o->year, &end, 10);
		if (*end || y < 2000 || y > 2100) {
			fprintf(stderr, "plantrackd import: --year must be a year such as 2025\n");
			return 2;
		}
		year = (int)y;
	}
	size_t len;
	char *text = fileio_read(o->args[0], &len);
	if (!text) {
		fprintf(stderr, "plantrackd import: %s: %s\n", o->args[0], strerror(errno));
		return 1;
	}
	char err[512];
	json_t *warnings = NULL;
	json_t *plan = planimport_build(text, len, NULL, o->title, year, &warnings, err, sizeof err);
	free(text);
	if (!plan) {
		fprintf(stderr, "plantrackd import: %s: %s\n", o->args[0], err);
		return 1;
	}
	size_t i;
	json_t *w;
	json_array_foreach(warnings, i, w) {
		fprintf(stderr, "warning: line %lld: %s\n", (long long)json_integer_value(json_object_get(w, "line")),
			json_string_value(json_object_get(w, "message")));
	}
	json_decref(warnings);
	json_t *args = json_pack("{s:{s:n,s:s,s:s,s:n},s:{s:i,s:i,s:i,s:n},s:o}",
				 "actor", "token_id", "name", "cli", "role", "admin", "unit_id",
				 "cfg", "lag_points", c->lag_points, "due_soon_days", c->due_soon_days,
				 "due_soon_progress", c->due_soon_progress, "today", "plan", plan);
	int status = 0;
	char *body = call_pt(c->db, "pt_plan_create", args, &status);
	json_decref(args);
	if (!body)
		return 1;
	json_t *doc = json_loads(body, 0, NULL);
	free(body);
	const char *id = json_string_value(json_object_get(doc, "id"));
	printf("%s plan \"%s\" (%lld tasks)\n", status == 201 ? "imported" : "already imported as",
	       json_string_value(json_object_get(doc, "title")) ? json_string_value(json_object_get(doc, "title")) : "",
	       (long long)json_integer_value(json_object_get(doc, "task_count")));
	printf("%s\n", id ? id : "");
	int rc = id ? 0 : 1;
	json_decref(doc);
	return rc;
}
