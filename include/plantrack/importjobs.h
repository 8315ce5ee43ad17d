/*
 * importjobs.h - import jobs (issue 15 defect 8): a CSV import above
 * [imports] job_rows is accepted with 202 and runs here, on one thread with
 * its own blocking database connection, so it neither holds a worker's pool
 * connection nor runs under database.statement_timeout_ms: the job's
 * connection sends SET statement_timeout = [imports] job_timeout_ms before
 * the import. The job thread also reads the sheet (csvimport), so a worker's
 * event loop never spends the seconds a 100,000-row sheet takes: a sheet
 * with errors fails its job with the 422 invalid-csv problem a synchronous
 * import answers. Jobs run one at a time, in the order submitted; each is one
 * transaction (pt_csv_import), all or nothing; its state is the import_jobs
 * row (GET /v1/jobs/{id}).
 */
#ifndef PLANTRACK_IMPORTJOBS_H
#define PLANTRACK_IMPORTJOBS_H

#include <stddef.h>

/*
 * A sheet to import on the job thread, in one malloc'd block (free() releases
 * all of it, so it can wait in a request's handler_data): the year for dates
 * without one, the charset ("" to detect), the JSON text of pt_csv_import's
 * argument without the sheet's parts (actor, cfg, plan_id, parent_id, mode)
 * and the body as uploaded.
 */
struct import_sheet {
	int year;
	char charset[16];
	size_t body_len;
	char *body;  /* into data, after args */
	char data[]; /* args (NUL-terminated), then the body */
};

/* A new sheet (copies args and body); release it with free(). Any thread. */
struct import_sheet *import_sheet_new(const char *args, int year, const char *charset, const char *body, size_t n);

/*
 * Queues job_id (a queued import_jobs row): the job thread reads the sheet,
 * adds tasks, columns, warnings, sha256 and job_id to its args and runs
 * pt_csv_import. conninfo: the database (copied); sheet: taken over (freed).
 * Starts the thread on first use. Returns 0, or -1 when the thread cannot
 * start (sheet freed). Any thread.
 */
int importjobs_submit(const char *conninfo, int timeout_ms, const char *job_id, struct import_sheet *sheet);

/* Jobs queued or running now (for tests and status). */
int importjobs_pending(void);

#endif
