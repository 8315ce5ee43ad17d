/*
 * importjobs.c - the import job runner (see importjobs.h): one thread, one
 * blocking libpq connection per job, the job's own statement_timeout, the
 * failure recorded as the problem a synchronous import would have answered.
 */
#include "plantrack/importjobs.h"
#include "plantrack/csvimport.h"
#include "plantrack/db.h"
#include "plantrack/hash.h"
#include "plantrack/log.h"
#include "plantrack/sqlcalls.h"
#include "plantrack/xalloc.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct job {
	struct job *next;
	char *conninfo;
	struct import_sheet *sheet;
	char id[40];
	int timeout_ms;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct job *head, *tail;
static int started, pending;

/* The problem (RFC 9457 members) a failed import result stands for. */
static json_t *problem_of(PGconn *pg, PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	int status = 500;
	const char *type = "internal";
	if (state && state[0] == 'P' && state[1] == 'T') {
		status = atoi(state + 2);
		type = status == 404 ? "not-found" : status == 409 ? "conflict" : "validation-failed";
	} else if (state && !strcmp(state, "57014")) {
		status = 503;
		type = "import-timeout";
		msg = "The import job took longer than imports.job_timeout_ms";
	} else if (state && (!strncmp(state, "22", 2) || !strncmp(state, "23", 2))) {
		status = 422;
		type = "validation-failed";
	}
	char uri[96];
	json_t *h = hint && *hint ? json_loads(hint, 0, NULL) : NULL;
	if (json_is_object(h) && json_is_string(json_object_get(h, "type")))
		type = json_string_value(json_object_get(h, "type"));
	snprintf(uri, sizeof uri, "urn:plantrack:problem:%s", type);
	json_t *p = json_pack("{s:s,s:s,s:i,s:s}", "type", uri, "title", msg ? msg : "Import failed", "status", status,
			      "detail", detail && *detail ? detail : msg ? msg : PQerrorMessage(pg));
	if (json_is_array(h))
		json_object_set(p, "errors", h);
	else if (json_is_object(h) && json_is_array(json_object_get(h, "errors")))
		json_object_set(p, "errors", json_object_get(h, "errors"));
	json_decref(h);
	return p;
}

struct import_sheet *import_sheet_new(const char *args, int year, const char *charset, const char *body, size_t n)
{
	size_t alen = strlen(args) + 1;
	struct import_sheet *sh = xmalloc(sizeof *sh + alen + n);
	sh->year = year;
	snprintf(sh->charset, sizeof sh->charset, "%s", charset ? charset : "");
	memcpy(sh->data, args, alen);
	sh->body = sh->data + alen;
	memcpy(sh->body, body, n);
	sh->body_len = n;
	return sh;
}

/*
 * Reads the job's sheet: the text of pt_csv_import's argument without the
 * rows (caller frees), the rows as COPY text in *copy (caller frees) and
 * *rows, or NULL with *problem, the 422 invalid-csv problem.
 */
static char *read_sheet(struct job *j, size_t *rows, char **copy, size_t *copy_len, json_t **problem)
{
	struct import_sheet *sh = j->sheet;
	json_t *errors = NULL, *warnings = NULL, *columns = NULL;
	if (csvimport_copy_ex(sh->body, sh->body_len, sh->charset[0] ? sh->charset : NULL, sh->year, copy, copy_len,
			      rows, &errors, &warnings, &columns)) {
		char detail[200];
		json_t *list = csvimport_error_list(errors, detail, sizeof detail);
		*problem = json_pack("{s:s,s:s,s:i,s:s,s:o}", "type", "urn:plantrack:problem:invalid-csv", "title",
				     "The CSV file has errors", "status", 422, "detail", detail, "errors", list);
		json_decref(errors);
		json_decref(warnings);
		return NULL;
	}
	json_decref(errors);
	char sha[65];
	pt_sha256_hex(sh->body, sh->body_len, sha);
	json_t *args = json_loads(sh->data, 0, NULL);
	if (!args)
		args = json_object();
	json_object_set_new(args, "job_id", json_string(j->id));
	json_object_set_new(args, "sha256", json_string(sha));
	json_object_set_new(args, "columns", columns ? columns : json_array());
	json_object_set_new(args, "warnings", warnings ? warnings : json_array());
	char *text = json_dumps(args, PT_JSON_ARGS);
	json_decref(args);
	return text;
}

/* Milliseconds since t0 (CLOCK_MONOTONIC), for the job's log lines. */
static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Records the failed job and its problem (taken over). */
static void fail_job(PGconn *pg, struct job *j, json_t *problem)
{
	char *text = json_dumps(problem, JSON_COMPACT);
	log_warn("import job %s: failed: %s", j->id, text ? text : "");
	const char *fp[2] = { j->id, text };
	PQclear(PQexecParams(pg, "SELECT pt_import_job_fail($1::uuid, $2::jsonb)", 2, NULL, fp, NULL, NULL, 0));
	free(text);
	json_decref(problem);
}

/*
 * Sends the rows into the transaction's stage (pt_csv_stage) with COPY, in
 * 1 MiB pieces. NULL on success, else the failed result (caller clears).
 */
static PGresult *copy_rows(PGconn *pg, const char *copy, size_t len)
{
	PGresult *res = PQexec(pg, "SELECT pt_csv_stage()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return res;
	PQclear(res);
	res = PQexec(pg, "COPY pg_temp.pt_csv_stage (" CSVIMPORT_COPY_COLUMNS ") FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN)
		return res;
	PQclear(res);
	const size_t piece = 1 << 20;
	for (size_t off = 0; off < len; off += piece) {
		size_t n = len - off < piece ? len - off : piece;
		if (PQputCopyData(pg, copy + off, (int)n) != 1)
			break;
	}
	PQputCopyEnd(pg, NULL);
	res = PQgetResult(pg);
	PGresult *extra;
	while ((extra = PQgetResult(pg)))
		PQclear(extra);
	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		PQclear(res);
		return NULL;
	}
	return res;
}

/*
 * Reads the sheet and runs the import on pg, one transaction: the rows go
 * to the stage with COPY (a 100,000-row sheet as one jsonb argument took
 * about 1.6 s to parse), then pt_csv_import writes them. The job row
 * records the outcome.
 */
static void run_import(PGconn *pg, struct job *j)
{
	size_t rows = 0, copy_len = 0;
	char *copy = NULL;
	json_t *problem = NULL;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char *args = read_sheet(j, &rows, &copy, &copy_len, &problem);
	free(j->sheet);
	j->sheet = NULL;
	if (!args) {
		fail_job(pg, j, problem);
		return;
	}
	double read_ms = ms_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char nrows[24];
	snprintf(nrows, sizeof nrows, "%zu", rows);
	const char *sp[2] = { j->id, nrows };
	PQclear(PQexecParams(pg, "SELECT pt_import_job_start($1::uuid, $2::int)", 2, NULL, sp, NULL, NULL, 0));
	PQclear(PQexec(pg, "BEGIN"));
	PGresult *res = copy_rows(pg, copy, copy_len);
	free(copy);
	double copy_ms = ms_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!res) {
		const char *params[1] = { args };
		/* (current_setting after the call: pt_bulk_begin's mark of bulk mode) */
		res = PQexecParams(pg,
				   "SELECT status, body->>'created', body->>'updated', "
				   "coalesce(current_setting('plantrack.bulk', true), '') FROM pt_csv_import($1::jsonb)",
				   1, NULL, params, NULL, NULL, 0);
	}
	free(args);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		PGresult *c = PQexec(pg, "COMMIT");
		if (PQresultStatus(c) == PGRES_COMMAND_OK)
			log_info("import job %s: done (%s created, %s updated; sheet read in %.0f ms, COPY %.0f ms, "
				 "import and commit %.0f ms; foreign keys %s)",
				 j->id, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), read_ms, copy_ms, ms_since(&t0),
				 strcmp(PQgetvalue(res, 0, 3), "on") == 0
					 ? "checked once per referenced row"
					 : "checked per row: GRANT SET ON PARAMETER session_replication_role to the "
					   "daemon's role for faster big imports (docs/operations.md)");
		else
			fail_job(pg, j, problem_of(pg, c));
		PQclear(c);
	} else {
		json_t *p = problem_of(pg, res);
		PQclear(PQexec(pg, "ROLLBACK"));
		fail_job(pg, j, p);
	}
	PQclear(res);
}

static void run_job(struct job *j)
{
	struct db_conn_params cp;
	db_conn_params_init(&cp, j->conninfo);
	PGconn *pg = PQconnectdbParams(cp.keys, cp.vals, 1);
	db_conn_params_free(&cp);
	if (PQstatus(pg) != CONNECTION_OK) {
		log_error("import job %s: cannot connect: %s", j->id, PQerrorMessage(pg));
		PQfinish(pg);
		return; /* the row stays queued; pt_import_jobs_orphaned fails it later */
	}
	char set[160];
	/* temp_buffers before the session's first temporary table: the stage of
	 * a 100,000-row sheet is about 20 MB (the default 8MB spills to disk) */
	snprintf(set, sizeof set, "SET statement_timeout = %d; SET temp_buffers = '64MB'", j->timeout_ms);
	PQclear(PQexec(pg, set));
	run_import(pg, j);
	/* number the job's events now (the workers publish after their own writes) */
	PQclear(PQexec(pg, "SELECT pt_events_publish()"));
	PQfinish(pg);
}

static void *runner(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (!head)
			pthread_cond_wait(&wake, &lock);
		struct job *j = head;
		head = j->next;
		if (!head)
			tail = NULL;
		pthread_mutex_unlock(&lock);
		run_job(j);
		pthread_mutex_lock(&lock);
		pending--;
		pthread_mutex_unlock(&lock);
		free(j->conninfo);
		free(j->sheet);
		free(j);
	}
	return NULL;
}

int importjobs_submit(const char *conninfo, int timeout_ms, const char *job_id, struct import_sheet *sheet)
{
	struct job *j = xcalloc(1, sizeof *j);
	j->conninfo = xstrdup(conninfo ? conninfo : "");
	j->sheet = sheet;
	j->timeout_ms = timeout_ms;
	snprintf(j->id, sizeof j->id, "%s", job_id);
	pthread_mutex_lock(&lock);
	if (!started) {
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &at, runner, NULL)) {
			pthread_attr_destroy(&at);
			pthread_mutex_unlock(&lock);
			free(j->conninfo);
			free(j->sheet);
			free(j);
			return -1;
		}
		pthread_attr_destroy(&at);
		started = 1;
	}
	if (tail)
		tail->next = j;
	else
		head = j;
	tail = j;
	pending++;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	return 0;
}

int importjobs_pending(void)
{
	pthread_mutex_lock(&lock);
	int n = pending;
	pthread_mutex_unlock(&lock);
	return n;
}
