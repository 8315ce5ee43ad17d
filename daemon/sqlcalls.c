/*
 * sqlcalls.c - the table of SQL statements (see sqlcalls.h) and their
 * registration with db.c.
 */
#include "plantrack/sqlcalls.h"
#include "plantrack/db.h"

#define JSON_CALL(id, name) \
	[id] = { name, 1, SQL_ETAG_NONE, "SELECT status, body::text FROM " name "($1::jsonb)" }
#define JSON_CALL_ETAG(id, name) \
	[id] = { name, 1, SQL_ETAG_VERSION, "SELECT status, body::text, body->>'version' FROM " name "($1::jsonb)" }

/* Writes that emit an event return its id as a fourth column (X-Event-Id). */
#define EVENT_ID "current_setting('plantrack.event_id', true)"
#define WRITE_CALL(id, name) \
	[id] = { name, 1, SQL_ETAG_NONE, "SELECT status, body::text, NULL::text, " EVENT_ID " FROM " name "($1::jsonb)" }
#define WRITE_CALL_ETAG(id, name) \
	[id] = { name, 1, SQL_ETAG_VERSION, \
		 "SELECT status, body::text, body->>'version', " EVENT_ID " FROM " name "($1::jsonb)" }

static const struct sql_call_def calls[SQL_CALL_COUNT] = {
	[SQL_IDEM] = { "pt_idem", 5, SQL_ETAG_CUSTOM,
		       "SELECT status, body::text, coalesce(body->>'version', body->'task'->>'version'), " EVENT_ID " "
		       "FROM pt_idem($1::uuid, $2, $3, $4, $5::jsonb)" },
	[SQL_TOKEN_LOOKUP] = { "pt_token_lookup", 1, SQL_ETAG_NONE,
			       "SELECT id::text, name, role, coalesce(unit_id::text, '') FROM pt_token_lookup($1)" },
	JSON_CALL(SQL_TOKEN_CREATE, "pt_token_create"),
	JSON_CALL(SQL_TOKENS_LIST, "pt_tokens_list"),
	JSON_CALL(SQL_TOKEN_REVOKE, "pt_token_revoke"),
	WRITE_CALL(SQL_PLAN_CREATE, "pt_plan_create"),
	JSON_CALL(SQL_PLANS_LIST, "pt_plans_list"),
	JSON_CALL_ETAG(SQL_PLAN_GET, "pt_plan_get"),
	JSON_CALL(SQL_PLAN_SUMMARY, "pt_plan_summary"),
	JSON_CALL(SQL_PLAN_EXPORT, "pt_plan_export"),
	WRITE_CALL(SQL_TASKS_IMPORT, "pt_tasks_import"),
	JSON_CALL(SQL_IMPORT_PLAN, "pt_import_plan"),
	WRITE_CALL(SQL_CSV_IMPORT, "pt_csv_import"),
	JSON_CALL(SQL_IMPORT_JOB_CREATE, "pt_import_job_create"),
	JSON_CALL(SQL_IMPORT_JOB_GET, "pt_import_job_get"),
	JSON_CALL(SQL_TASKS_LIST, "pt_tasks_list"),
	/* Lights and progress depend on the task's subtree and ancestors (and
	 * as_of on the journal): one pt_task_get call. Columns 4 to 6 are for the
	 * document cache (doccache.c): whether the task has children (its
	 * progress rolls up), the seconds to the next midnight in the office's
	 * time zone (lights change then), the plan. */
	[SQL_TASK_GET] = { "pt_task_get", 1, SQL_ETAG_CUSTOM,
			   "SELECT g.status, g.body::text, g.body->>'version', "
			   "(SELECT x.child_count > 0 FROM tasks x WHERE x.id = (g.body->>'id')::uuid), "
			   "extract(epoch FROM (date_trunc('day', now() AT TIME ZONE z.tz) + interval '1 day') "
			   "AT TIME ZONE z.tz - now())::float8, "
			   "g.body->>'plan_id' "
			   "FROM (SELECT coalesce($1::jsonb->'cfg'->>'tz', 'Asia/Shanghai') AS tz) z, "
			   "pt_task_get($1::jsonb) g" },
	WRITE_CALL_ETAG(SQL_TASK_CREATE, "pt_task_create"),
	WRITE_CALL_ETAG(SQL_TASK_PATCH, "pt_task_patch"),
	WRITE_CALL(SQL_TASK_DELETE, "pt_task_delete"),
	[SQL_TASK_REPORT] = { "pt_task_report", 1, SQL_ETAG_TASK_VERSION,
			      "SELECT status, body::text, body->'task'->>'version', " EVENT_ID " FROM pt_task_report($1::jsonb)" },
	JSON_CALL(SQL_TASK_UPDATES, "pt_task_updates"),
	JSON_CALL(SQL_EVENTS_AFTER, "pt_events_after"),
	[SQL_EVENTS_PUBLISH] = { "pt_events_publish", 0, SQL_ETAG_NONE, "SELECT pt_events_publish()" },
	JSON_CALL_ETAG(SQL_WEBHOOK_CREATE, "pt_webhook_create"),
	JSON_CALL(SQL_WEBHOOK_LIST, "pt_webhook_list"),
	JSON_CALL_ETAG(SQL_WEBHOOK_GET, "pt_webhook_get"),
	JSON_CALL_ETAG(SQL_WEBHOOK_PATCH, "pt_webhook_patch"),
	JSON_CALL(SQL_WEBHOOK_DELETE, "pt_webhook_delete"),
	JSON_CALL_ETAG(SQL_WEBHOOK_RESUME, "pt_webhook_resume"),
	JSON_CALL(SQL_WEBHOOK_DELIVERIES, "pt_webhook_deliveries"),
	[SQL_DELIVERIES_CLAIM] = { "pt_deliveries_claim", 1, SQL_ETAG_NONE,
				   "SELECT id, webhook_id, url, secret, event_type, payload, attempts "
				   "FROM pt_deliveries_claim($1::jsonb)" },
	[SQL_DELIVERY_DONE] = { "pt_delivery_done", 1, SQL_ETAG_NONE, "SELECT pt_delivery_done($1::jsonb)" },
	JSON_CALL(SQL_TASK_HISTORY, "pt_task_history"),
	JSON_CALL(SQL_PLAN_RANKING, "pt_plan_ranking"),
	JSON_CALL(SQL_CALENDAR_PUT, "pt_calendar_put"),
	JSON_CALL(SQL_CALENDAR_GET, "pt_calendar_get"),
	JSON_CALL(SQL_PLAN_LEDGER, "pt_plan_ledger"),
	JSON_CALL(SQL_PLAN_BULLETIN, "pt_plan_bulletin"),
	JSON_CALL(SQL_UNITS_LIST, "pt_units_list"),
	JSON_CALL_ETAG(SQL_UNIT_GET, "pt_unit_get"),
	WRITE_CALL_ETAG(SQL_UNIT_CREATE, "pt_unit_create"),
	WRITE_CALL_ETAG(SQL_UNIT_PATCH, "pt_unit_patch"),
	WRITE_CALL_ETAG(SQL_TASK_SIGN, "pt_task_sign"),
	WRITE_CALL_ETAG(SQL_TASK_RETURN, "pt_task_return"),
	WRITE_CALL(SQL_PLAN_APPROVE, "pt_plan_approve"),
	WRITE_CALL(SQL_CHANGE_CREATE, "pt_change_create"),
	WRITE_CALL(SQL_CHANGE_DECIDE, "pt_change_decide"),
	JSON_CALL(SQL_CHANGES_LIST, "pt_changes_list"),
	[SQL_ATTACHMENT_ADD] = { "pt_attachment_add", 2, SQL_ETAG_NONE,
				 "SELECT status, body::text FROM pt_attachment_add($1::jsonb, $2::bytea)" },
	[SQL_ATTACHMENT_GET] = { "attachments", 1, SQL_ETAG_NONE,
				 "SELECT content_type, filename, data, sha256 FROM attachments WHERE id = $1::uuid" },
	[SQL_REMINDERS_RUN] = { "pt_reminders_run", 1, SQL_ETAG_NONE, "SELECT pt_reminders_run($1::jsonb)" },
	WRITE_CALL_ETAG(SQL_PLAN_PATCH, "pt_plan_patch"),
	WRITE_CALL_ETAG(SQL_PLAN_ARCHIVE, "pt_plan_archive"),
	WRITE_CALL(SQL_PLAN_DELETE, "pt_plan_delete"),
	WRITE_CALL_ETAG(SQL_PLAN_RESTORE, "pt_plan_restore"),
	WRITE_CALL_ETAG(SQL_TASK_MOVE, "pt_task_move"),
	/* The standby's freshness probe (replica.c); not pt_* functions. */
	[SQL_WAL_LSN] = { "pg_current_wal_lsn", 0, SQL_ETAG_NONE, "SELECT pg_current_wal_lsn()::text" },
	[SQL_REPLAY_LSN] = { "pg_last_wal_replay_lsn", 0, SQL_ETAG_NONE,
			     "SELECT coalesce(pg_last_wal_replay_lsn(), pg_current_wal_lsn())::text" },
	/* The document cache's view of the change feed (doccache.c). */
	[SQL_DOCCACHE_EVENTS] = { "events", 1, SQL_ETAG_NONE,
				  "SELECT seq, type, task_id::text, plan_id::text FROM events WHERE seq > $1::bigint "
				  "ORDER BY seq LIMIT 1000" },
	[SQL_EVENTS_TOP] = { "events", 0, SQL_ETAG_NONE, "SELECT coalesce(max(seq), 0) FROM events" },
};

static int stmt_ids[SQL_CALL_COUNT];
static int registered;

const struct sql_call_def *sql_call_def(enum sql_call call)
{
	return (unsigned)call < SQL_CALL_COUNT ? &calls[call] : 0;
}

int sqlcalls_register(void)
{
	if (registered)
		return 0;
	for (int i = 0; i < SQL_CALL_COUNT; i++)
		if ((stmt_ids[i] = db_stmt_register(calls[i].sql)) < 0)
			return -1;
	registered = 1;
	return 0;
}

int sql_stmt(enum sql_call call)
{
	return registered && (unsigned)call < SQL_CALL_COUNT ? stmt_ids[call] : -1;
}
