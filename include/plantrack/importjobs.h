/*
 * importjobs.h - import jobs (issue 15 defect 8): a CSV import above
 * [imports] job_rows is accepted with 202 and runs here, on one thread with
 * its own blocking database connection, so it neither holds a worker's pool
 * connection nor runs under database.statement_timeout_ms: the job's
 * connection sends SET statement_timeout = [imports] job_timeout_ms before
 * the import. Jobs run one at a time, in the order submitted; each is one
 * transaction (pt_csv_import), all or nothing; its state is the import_jobs
 * row (GET /v1/jobs/{id}).
 */
#ifndef PLANTRACK_IMPORTJOBS_H
#define PLANTRACK_IMPORTJOBS_H

/*
 * Queues job_id (a queued import_jobs row) to run pt_csv_import(args) with
 * args' "job_id" set to it. conninfo: the database (copied); args_text: the
 * import's JSON argument, taken over (freed with free()). Starts the thread on
 * first use. Returns 0, or -1 when the thread cannot start (args_text freed).
 * Any thread.
 */
int importjobs_submit(const char *conninfo, int timeout_ms, const char *job_id, char *args_text);

/* Jobs queued or running now (for tests and status). */
int importjobs_pending(void);

#endif
