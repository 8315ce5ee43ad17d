/*
 * test_sqlcalls.c - the SQL call table: every call is declared, names its
 * function in its statement, uses exactly $1..$nargs, and its ETag kind
 * matches its select list; registration gives each a distinct statement id.
 */
#include "check.h"
#include "plantrack/db.h"
#include "plantrack/sqlcalls.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
	CHECK(sql_stmt(SQL_TASK_GET) == -1); /* not registered yet */
	for (int i = 0; i < SQL_CALL_COUNT; i++) {
		const struct sql_call_def *d = sql_call_def(i);
		CHECK(d && d->fn && d->sql);
		if (!d || !d->fn || !d->sql)
			continue;
		CHECK(strstr(d->sql, d->fn) != NULL);
		char p[16];
		for (int n = 1; n <= d->nargs; n++) {
			snprintf(p, sizeof p, "$%d", n);
			CHECK(strstr(d->sql, p) != NULL);
		}
		snprintf(p, sizeof p, "$%d", d->nargs + 1);
		CHECK(strstr(d->sql, p) == NULL);
		/* writes that emit an event add its id as a fourth column (X-Event-Id) */
		int event_id = strstr(d->sql, ", current_setting('plantrack.event_id', true) FROM") != NULL;
		if (d->etag == SQL_ETAG_VERSION)
			CHECK(strstr(d->sql, event_id ? "body::text, body->>'version', current_setting"
						       : "body::text, body->>'version' FROM") != NULL);
		if (d->etag == SQL_ETAG_TASK_VERSION)
			CHECK(strstr(d->sql, event_id ? "body::text, body->'task'->>'version', current_setting"
						       : "body::text, body->'task'->>'version' FROM") != NULL);
		if (d->etag == SQL_ETAG_NONE && !strncmp(d->sql, "SELECT status, body::text", 25))
			CHECK(!strncmp(d->sql, event_id ? "SELECT status, body::text, NULL::text, current_setting"
							: "SELECT status, body::text FROM ", event_id ? 54 : 31));
		for (int j = 0; j < i; j++)
			CHECK(strcmp(sql_call_def(j)->sql, d->sql) != 0);
	}
	CHECK(sql_call_def(SQL_CALL_COUNT) == NULL);
	CHECK(sqlcalls_register() == 0 && sqlcalls_register() == 0);
	CHECK(db_stmt_count() == SQL_CALL_COUNT);
	for (int i = 0; i < SQL_CALL_COUNT; i++)
		CHECK(sql_stmt(i) == i);
	return check_summary();
}
