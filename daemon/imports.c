/*
 * imports.c - plan document import, CSV task import and CSV export
 * (see imports.h). Parsing is pure (planimport, csvimport); the write is one
 * pt_* call, so an import is one transaction.
 */
#include "plantrack/imports.h"
#include "plantrack/csv.h"
#include "plantrack/csvimport.h"
#include "plantrack/db.h"
#include "plantrack/http.h"
#include "plantrack/planimport.h"
#include "plantrack/router.h"
#include "plantrack/textenc.h"
#include "plantrack/validate.h"
#include "plantrack/xalloc.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PLAN_TITLE_MAX 500 /* bytes, as for POST /v1/plans */

/* Reads ?year=; 0 when absent; -1 when invalid (answered). */
static int query_year(struct req *r)
{
	const char *y = http_query(r, "year");
	if (!y)
		return 0;
	char *end;
	long n = strtol(y, &end, 10);
	if (!*y || *end || n < 2000 || n > 2100) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "year must be from 2000 to 2100",
				   json_pack("[{s:s,s:s}]", "field", "year", "message", "must be from 2000 to 2100"));
		return -1;
	}
	return (int)n;
}

static int charset_ok(struct req *r)
{
	const char *cs = r->charset;
	if (!*cs || !strcmp(cs, "utf-8") || !strcmp(cs, "utf8") || !strcmp(cs, "gb18030") ||
	    !strcmp(cs, "gbk") || !strcmp(cs, "gb2312"))
		return 1;
	http_reply_problem(r, 415, "unsupported-media-type", "Unsupported charset",
			   "charset must be utf-8, gb18030 or gbk", NULL);
	return 0;
}

/* Adds the parser's warnings (JSON text in handler_data) to a created answer. */
static void on_created_add_warnings(struct req *r, PGresult *res)
{
	/* The warnings travel as JSON text: handler_data is released with free(). */
	json_t *warnings = r->handler_data ? json_loads(r->handler_data, 0, NULL) : NULL;
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		json_decref(warnings);
		http_reply_result(r, res);
		return;
	}
	int status = atoi(PQgetvalue(res, 0, 0));
	json_t *body = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
	if (!body) {
		json_decref(warnings);
		http_reply_result(r, res);
		return;
	}
	json_object_set_new(body, "warnings", warnings ? warnings : json_array());
	http_reply_json(r, status, body);
}

static void handle_plan_import(struct req *r)
{
	if (!charset_ok(r))
		return;
	int year = query_year(r);
	if (year < 0)
		return;
	const char *title = http_query(r, "title");
	if (title && (!*title || strlen(title) > PLAN_TITLE_MAX || !textenc_is_utf8(title, strlen(title)))) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "title must be 1 to 500 bytes of UTF-8",
				   json_pack("[{s:s,s:s}]", "field", "title", "message", "must be 1 to 500 bytes of UTF-8"));
		return;
	}
	const char *dry = http_query(r, "dry_run");
	int dry_run = dry && (!strcmp(dry, "true") || !strcmp(dry, "1"));
	char err[512];
	json_t *warnings = NULL;
	json_t *plan = planimport_build(r->body, r->body_len, r->charset[0] ? r->charset : NULL,
					http_query(r, "title"), year, &warnings, err, sizeof err);
	if (!plan) {
		http_reply_problem(r, 422, "unparsable-plan", "The plan could not be read", err,
				   json_pack("[{s:s,s:s}]", "field", "body", "message", err));
		return;
	}
	if (dry_run) {
		json_object_del(plan, "source_text");
		json_object_set_new(plan, "warnings", warnings);
		json_object_set_new(plan, "dry_run", json_true());
		http_reply_json(r, 200, plan);
		return;
	}
	json_object_del(plan, "counts");
	r->handler_data = json_dumps(warnings, JSON_COMPACT);
	json_decref(warnings);
	json_t *args = json_pack("{s:o,s:o,s:o}", "actor", http_actor(r), "cfg", http_cfg(r), "plan", plan);
	http_call_write(r, SQL_PLAN_CREATE, args, on_created_add_warnings);
}

static void handle_tasks_import(struct req *r)
{
	const char *plan = http_param(r, "id"), *parent = http_query(r, "parent");
	if (!validate_uuid(plan)) {
		http_reply_problem(r, 404, "not-found", "Plan not found", "the id is not a plan id", NULL);
		return;
	}
	if (parent && !validate_uuid(parent)) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "parent must be a task id",
				   json_pack("[{s:s,s:s}]", "field", "parent", "message", "must be a task id"));
		return;
	}
	if (!charset_ok(r))
		return;
	int year = query_year(r);
	if (year < 0)
		return;
	if (!year) {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		year = tm.tm_year + 1900;
	}
	json_t *tasks = NULL, *errors = NULL, *warnings = NULL;
	if (csvimport_tasks(r->body, r->body_len, r->charset[0] ? r->charset : NULL, year,
			    &tasks, &errors, &warnings)) {
		json_t *list = json_array();
		size_t i;
		json_t *e;
		json_array_foreach(errors, i, e) {
			json_t *row = json_object_get(e, "row"), *col = json_object_get(e, "column");
			char field[160];
			snprintf(field, sizeof field, "rows[%lld].%s", (long long)json_integer_value(row),
				 json_is_string(col) ? json_string_value(col) : "");
			json_t *item = json_deep_copy(e);
			json_object_set_new(item, "field", json_string(field));
			json_array_append_new(list, item);
		}
		char detail[96];
		snprintf(detail, sizeof detail, "%zu problem(s) in the file; nothing was imported", json_array_size(errors));
		json_decref(errors);
		json_decref(tasks);
		json_decref(warnings);
		http_reply_problem(r, 422, "invalid-csv", "The CSV file has errors", detail, list);
		return;
	}
	json_decref(errors);
	json_t *args = json_pack("{s:o,s:o,s:s,s:o}", "actor", http_actor(r), "cfg", http_cfg(r), "plan_id", plan,
				 "tasks", tasks);
	json_object_set_new(args, "parent_id", parent ? json_string(parent) : json_null());
	r->handler_data = warnings ? json_dumps(warnings, JSON_COMPACT) : xstrdup("[]");
	json_decref(warnings);
	http_call_write(r, SQL_TASKS_IMPORT, args, on_created_add_warnings);
}

/* "民生实事项目 >= 103 项; …" */
static void format_targets(json_t *targets, struct evbuffer *out)
{
	size_t i;
	json_t *t;
	json_array_foreach(targets, i, t) {
		const char *label = json_string_value(json_object_get(t, "label"));
		const char *unit = json_string_value(json_object_get(t, "unit"));
		const char *cmp = json_string_value(json_object_get(t, "comparator"));
		json_t *v = json_object_get(t, "value"), *cur = json_object_get(t, "current");
		evbuffer_add_printf(out, "%s%s %s %g%s", i ? "; " : "", label ? label : "",
				    cmp ? cmp : "=", json_number_value(v), unit ? unit : "");
		if (json_is_number(cur))
			evbuffer_add_printf(out, " (当前 %g)", json_number_value(cur));
	}
}

static const char *str_or_empty(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* csv_sink onto an evbuffer. */
static int evbuffer_sink(void *ctx, const void *data, size_t len)
{
	return evbuffer_add(ctx, data, len);
}

static void write_export(struct evbuffer *csv, json_t *rows)
{
	static const char *const header[] = { "编号 code", "任务 title", "牵头单位 lead_unit", "责任人 owner",
					      "状态 status", "进度 progress", "灯 light", "计划完成 due_date",
					      "指标 targets", "id" };
	csv_write_row(evbuffer_sink, csv, header, sizeof header / sizeof header[0]);
	size_t i;
	json_t *t;
	json_array_foreach(rows, i, t) {
		char progress[16];
		snprintf(progress, sizeof progress, "%lld", (long long)json_integer_value(json_object_get(t, "progress")));
		struct evbuffer *tb = evbuffer_new();
		format_targets(json_object_get(t, "targets"), tb);
		evbuffer_add(tb, "", 1);
		const char *fields[] = { str_or_empty(t, "code"), str_or_empty(t, "title"), str_or_empty(t, "lead_unit"),
					 str_or_empty(t, "owner"), str_or_empty(t, "status"), progress,
					 str_or_empty(t, "light"), str_or_empty(t, "due_date"),
					 (const char *)evbuffer_pullup(tb, -1), str_or_empty(t, "id") };
		csv_write_row_ex(evbuffer_sink, csv, fields, sizeof fields / sizeof fields[0], CSV_WRITE_NEUTRALIZE_FORMULAS);
		evbuffer_free(tb);
	}
}

static void on_export(struct req *r, PGresult *res)
{
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		http_reply_result(r, res);
		return;
	}
	json_t *doc = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
	int gb = r->handler_data != NULL;
	struct evbuffer *csv = evbuffer_new();
	if (!gb)
		evbuffer_add(csv, "\xEF\xBB\xBF", 3);
	write_export(csv, json_object_get(doc, "rows"));
	json_decref(doc);
	size_t len = evbuffer_get_length(csv);
	const char *utf8 = (const char *)evbuffer_pullup(csv, -1);
	char disposition[128];
	snprintf(disposition, sizeof disposition, "attachment; filename=\"plan-%s.csv\"", http_param(r, "id"));
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Content-Disposition", disposition);
	if (!gb) {
		http_reply_raw(r, 200, "text/csv; charset=utf-8", utf8, len);
	} else {
		char err[256];
		size_t outlen;
		char *out = textenc_from_utf8(utf8, len, "gb18030", &outlen, err, sizeof err);
		if (out)
			http_reply_raw(r, 200, "text/csv; charset=gb18030", out, outlen);
		else
			http_reply_problem(r, 500, "internal", "Internal error", err, NULL);
		free(out);
	}
	evbuffer_free(csv);
}

static void handle_export(struct req *r)
{
	const char *plan = http_param(r, "id");
	if (!validate_uuid(plan)) {
		http_reply_problem(r, 404, "not-found", "Plan not found", "the id is not a plan id", NULL);
		return;
	}
	const char *enc = http_query(r, "encoding");
	if (enc && strcmp(enc, "utf-8") && strcmp(enc, "gb18030")) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "encoding must be utf-8 or gb18030",
				   json_pack("[{s:s,s:s}]", "field", "encoding", "message", "must be utf-8 or gb18030"));
		return;
	}
	if (enc && !strcmp(enc, "gb18030"))
		r->handler_data = xstrdup("gb18030");
	http_call(r, SQL_PLAN_EXPORT, json_pack("{s:o,s:s}", "cfg", http_cfg(r), "id", plan), on_export);
}

int imports_register(struct router *r)
{
	const int wr = ROLE_SUPERVISOR | ROUTE_NEEDS_DB | ROUTE_TEXT_BODY | ROUTE_LARGE_BODY;
	int rc = 0;
	rc |= router_add(r, RM_POST, "/v1/plans/import", (void *)handle_plan_import, wr);
	rc |= router_add(r, RM_POST, "/v1/plans/{id}/tasks/import", (void *)handle_tasks_import, wr);
	rc |= router_add(r, RM_GET, "/v1/plans/{id}/export.csv", (void *)handle_export, ROLE_VIEWER | ROUTE_NEEDS_DB);
	return rc;
}
