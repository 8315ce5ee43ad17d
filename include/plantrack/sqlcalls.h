/*
 * sqlcalls.h - every SQL statement the daemon runs, declared once: the
 * function it calls, its argument count, the column that becomes the ETag,
 * and the statement text. Handlers name a call (enum sql_call); the db
 * prepare step gets every statement from sqlcalls_register.
 *
 * Most calls are "SELECT status, body::text [, etag] FROM fn($1::jsonb)" of a
 * pt_* function (names resolve through the connection's search_path); a few
 * (the token lookup, pt_idem, the deliverer's
 * claim/done, the event publish) have their own text.
 * Ownership: the table is static; nothing is allocated.
 */
#ifndef PLANTRACK_SQLCALLS_H
#define PLANTRACK_SQLCALLS_H

/*
 * json_dumps flags for an API function's jsonb argument: compact, numbers
 * with at most 15 significant digits (jansson's default 17 wrote a typed 0.1
 * as 0.10000000000000001, and PostgreSQL stored that). Needs <jansson.h>.
 */
#define PT_JSON_ARGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

enum sql_call {
	SQL_IDEM,             /* pt_idem: a write through Idempotency-Key */
	SQL_TOKEN_LOOKUP,     /* pt_token_lookup(sha256 hex) */
	SQL_TOKEN_CREATE,
	SQL_TOKENS_LIST,
	SQL_TOKEN_REVOKE,
	SQL_PLAN_CREATE,
	SQL_PLANS_LIST,
	SQL_PLAN_GET,
	SQL_PLAN_SUMMARY,
	SQL_PLAN_EXPORT,
	SQL_TASKS_IMPORT,
	SQL_IMPORT_PLAN,
	SQL_CSV_IMPORT,
	SQL_IMPORT_JOB_CREATE,
	SQL_IMPORT_JOB_GET,
	SQL_TASKS_LIST,
	SQL_TASK_GET,         /* pt_task_get: the task evaluated on cfg's day (or as of cfg.as_of) */
	SQL_TASK_CREATE,
	SQL_TASK_PATCH,
	SQL_TASK_DELETE,
	SQL_TASK_REPORT,
	SQL_TASK_UPDATES,
	SQL_EVENTS_AFTER,
	SQL_EVENTS_PUBLISH,
	SQL_WEBHOOK_CREATE,
	SQL_WEBHOOK_LIST,
	SQL_WEBHOOK_GET,
	SQL_WEBHOOK_PATCH,
	SQL_WEBHOOK_DELETE,
	SQL_WEBHOOK_RESUME,
	SQL_WEBHOOK_DELIVERIES,
	SQL_DELIVERIES_CLAIM,
	SQL_DELIVERY_DONE,
	SQL_TASK_HISTORY,     /* the journal of a task (lights) */
	SQL_PLAN_RANKING,
	SQL_CALENDAR_PUT,
	SQL_CALENDAR_GET,
	SQL_PLAN_LEDGER,
	SQL_PLAN_BULLETIN,
	/* accountability (issue 11, docs/workflow.md) */
	SQL_UNITS_LIST,
	SQL_UNIT_GET,
	SQL_UNIT_CREATE,
	SQL_UNIT_PATCH,
	SQL_TASK_SIGN,
	SQL_TASK_RETURN,
	SQL_PLAN_APPROVE,
	SQL_CHANGE_CREATE,
	SQL_CHANGE_DECIDE,
	SQL_CHANGES_LIST,
	SQL_ATTACHMENT_ADD,   /* ($1 jsonb, $2 bytea sent binary) */
	SQL_ATTACHMENT_GET,   /* the stored bytes: content_type, filename, data, sha256 (binary results) */
	SQL_REMINDERS_RUN,
	/* plan administration and task moves (issue 12, sql/api/42_plan_admin.sql) */
	SQL_PLAN_PATCH,
	SQL_PLAN_ARCHIVE,     /* archive and unarchive */
	SQL_PLAN_DELETE,
	SQL_PLAN_RESTORE,
	SQL_TASK_MOVE,
	SQL_WAL_LSN,          /* replica.c: the primary's WAL position */
	SQL_REPLAY_LSN,       /* replica.c: what the standby has replayed */
	SQL_DOCCACHE_EVENTS,  /* doccache.c: (seq, type, task, plan) of events after $1 */
	SQL_EVENTS_TOP,       /* doccache.c: the highest published seq */
	SQL_CALL_COUNT
};

/* The ETag (third) column of a call's result. */
enum sql_etag {
	SQL_ETAG_NONE,         /* two columns: status, body */
	SQL_ETAG_VERSION,      /* body->>'version' */
	SQL_ETAG_TASK_VERSION, /* body->'task'->>'version' */
	SQL_ETAG_CUSTOM,       /* the statement computes its own */
};

struct sql_call_def {
	const char *fn;        /* the SQL function (or view) called */
	int nargs;             /* statement parameters */
	enum sql_etag etag;
	const char *sql;       /* the statement text (static) */
};

/* The declaration of call (static), or NULL when out of range. */
const struct sql_call_def *sql_call_def(enum sql_call call);
/* Registers every statement with db.c once (idempotent); main thread,
 * before the first pool exists. 0 ok, -1 when db.c has no room. */
int sqlcalls_register(void);
/* The db statement id of call (sqlcalls_register must have run), or -1. */
int sql_stmt(enum sql_call call);

#endif
