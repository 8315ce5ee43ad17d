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
	JSON_CALL(SQL_PLAN_GET, "pt_plan_get"),
	JSON_CALL(SQL_PLAN_SUMMARY, "pt_plan_summary"),
	JSON_CALL(SQL_PLAN_EXPORT, "pt_plan_export"),
	WRITE_CALL(SQL_TASKS_IMPORT, "pt_tasks_import"),
	JSON_CALL(SQL_TASKS_LIST, "pt_tasks_list"),
	/* The hot read: one prepared statement over the task_docs view (which the
	 * planner inlines) instead of a call to pt_task_get. Columns 4 to 6 are
	 * for the document cache: whether the task has children (its progress
	 * rolls up), the seconds to the database's next midnight, the plan. */
	[SQL_TASK_GET] = { "task_docs", 2, SQL_ETAG_CUSTOM,
			   "SELECT 200, (d.doc || jsonb_build_object('light', pt_light(d.status, d.progress, d.start, "
			   "d.due_date, $2::jsonb)))::text, d.version, "
			   "(SELECT x.child_count > 0 FROM tasks x WHERE x.id = d.id), "
			   "extract(epoch FROM date_trunc('day', now()) + interval '1 day' - now())::float8, "
			   "d.doc->>'plan_id' "
			   "FROM task_docs d WHERE d.id = $1::uuid AND d.deleted_at IS NULL" },
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
