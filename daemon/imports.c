/*
 * imports.c - plan document import, CSV task import (append/upsert, import
 * jobs: importjobs.h) and CSV export (see imports.h). Parsing is pure
 * (planimport, csvimport); the write is one pt_* call, so an import is one
 * transaction; GET /v1/jobs/{id} reads an import job.
 */
#include "plantrack/imports.h"
#include "plantrack/csv.h"
#include "plantrack/csvimport.h"
#include "plantrack/config.h"
#include "plantrack/db.h"
#include "plantrack/hash.h"
#include "plantrack/http.h"
#include "plantrack/importjobs.h"
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

/* ?mode=append|upsert; NULL when invalid (answered). */
static const char *query_mode(struct req *r)
{
	const char *m = http_query(r, "mode");
	if (!m)
		return "append";
	if (!strcmp(m, "append") || !strcmp(m, "upsert"))
		return m;
	http_reply_problem_args(r, 422, "validation-failed", "Validation failed", "mode must be append or upsert",
				json_pack("[{s:s,s:s,s:s}]", "field", "mode", "message", "must be append or upsert", "rule",
					  "enum"),
				NULL, NULL);
	return NULL;
}

/* The job row exists (202): hand the import to the job thread, answer 202 + Location. */
static void on_job_created(struct req *r, PGresult *res)
{
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || atoi(PQgetvalue(res, 0, 0)) != 202) {
		http_reply_result(r, res);
		return;
	}
	json_t *job = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
	const char *id = json_string_value(json_object_get(job, "id"));
	const struct config *c = config_current();
	struct import_sheet *sheet = r->handler_data;
	r->handler_data = NULL;
	if (!id || importjobs_submit(c->db, c->import_job_timeout_ms, id, sheet)) {
		if (!id)
			free(sheet);
		json_decref(job);
		http_reply_problem(r, 500, "internal", "Internal error", "the import job could not be started", NULL);
		return;
	}
	char loc[96];
	snprintf(loc, sizeof loc, "/v1/jobs/%s", id);
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Location", loc);
	http_reply_json(r, 202, job);
}

/* pt_csv_import's argument without the sheet's parts (tasks, columns, sha256, warnings). */
static json_t *import_args(struct req *r, const char *plan, const char *parent, const char *mode)
{
	const struct config *c = config_current();
	json_t *cfg = http_cfg(r);
	json_object_set_new(cfg, "import_row_events", json_integer(c->import_row_events));
	json_object_set_new(cfg, "import_answer_items", json_integer(c->import_answer_items));
	json_t *args = json_pack("{s:o,s:o,s:s,s:s}", "actor", http_actor(r), "cfg", cfg, "plan_id", plan, "mode", mode);
	json_object_set_new(args, "parent_id", parent ? json_string(parent) : json_null());
	return args;
}

/*
 * A sheet of [imports] job_rows lines or more is a job (202): the job thread
 * reads it, so this worker's event loop does not spend the seconds that
 * takes; lines counts the sheet's lines less the header.
 */
static void queue_sheet(struct req *r, int year, size_t lines)
{
	const struct config *c = config_current();
	const char *plan = http_param(r, "id"), *parent = http_query(r, "parent");
	const char *mode = http_query(r, "mode") ? http_query(r, "mode") : "append";
	json_t *args = import_args(r, plan, parent, mode);
	char *text = json_dumps(args, PT_JSON_ARGS);
	json_decref(args);
	r->handler_data = import_sheet_new(text, year, r->charset, r->body, r->body_len);
	free(text);
	json_t *jargs = json_pack("{s:o,s:s,s:s,s:i,s:i}", "actor", http_actor(r), "plan_id", plan, "mode", mode,
				  "rows", (int)lines, "timeout_ms", c->import_job_timeout_ms);
	json_object_set_new(jargs, "parent_id", parent ? json_string(parent) : json_null());
	http_call(r, SQL_IMPORT_JOB_CREATE, jargs, on_job_created);
}

/* The plan is known (its year): queue a job, or read the sheet and import it. */
static void on_import_plan(struct req *r, PGresult *res)
{
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || atoi(PQgetvalue(res, 0, 0)) != 200) {
		http_reply_result(r, res);
		return;
	}
	json_t *plan_doc = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
	int year = query_year(r); /* checked before: an explicit ?year= wins */
	if (year <= 0)
		year = (int)json_integer_value(json_object_get(plan_doc, "year"));
	json_decref(plan_doc);
	const char *plan = http_param(r, "id"), *parent = http_query(r, "parent");
	const char *mode = http_query(r, "mode") ? http_query(r, "mode") : "append";
	const struct config *c = config_current();
	size_t lines = csvimport_row_estimate(r->body, r->body_len);
	if (c->import_job_rows > 0 && lines >= (size_t)c->import_job_rows) {
		queue_sheet(r, year, lines);
		return;
	}
	json_t *tasks = NULL, *errors = NULL, *warnings = NULL, *columns = NULL;
	if (csvimport_tasks_ex(r->body, r->body_len, r->charset[0] ? r->charset : NULL, year, &tasks, &errors,
			       &warnings, &columns)) {
		char detail[200];
		json_t *list = csvimport_error_list(errors, detail, sizeof detail);
		json_decref(errors);
		json_decref(tasks);
		json_decref(warnings);
		http_reply_problem(r, 422, "invalid-csv", "The CSV file has errors", detail, list);
		return;
	}
	json_decref(errors);
	char sha[65];
	pt_sha256_hex(r->body, r->body_len, sha);
	json_t *args = import_args(r, plan, parent, mode);
	json_object_set_new(args, "sha256", json_string(sha));
	json_object_set_new(args, "columns", columns ? columns : json_array());
	json_object_set_new(args, "tasks", tasks);
	r->handler_data = warnings ? json_dumps(warnings, JSON_COMPACT) : xstrdup("[]");
	json_decref(warnings);
	http_call_write(r, SQL_CSV_IMPORT, args, on_created_add_warnings);
}

static void handle_tasks_import(struct req *r)
{
	const char *plan = http_param(r, "id"), *parent = http_query(r, "parent");
	if (!validate_uuid(plan)) {
		http_reply_problem(r, 404, "not-found", "Plan not found", "the id is not a plan id", NULL);
		return;
	}
	static const char *const allowed[] = { "parent", "year", "mode", NULL };
	if (http_check_query(r, allowed))
		return;
	if (parent && !validate_uuid(parent)) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "parent must be a task id",
				   json_pack("[{s:s,s:s}]", "field", "parent", "message", "must be a task id"));
		return;
	}
	if (!charset_ok(r))
		return;
	if (query_year(r) < 0 || !query_mode(r))
		return;
	/* the plan's year first: dates without one take it (not the server's year) */
	http_call(r, SQL_IMPORT_PLAN, json_pack("{s:s}", "plan_id", plan), on_import_plan);
}

/* GET /v1/jobs/{id}: an import job's status, progress, result or errors. */
static void handle_job_get(struct req *r)
{
	const char *id = http_param(r, "id");
	if (!validate_uuid(id)) {
		http_reply_problem(r, 404, "not-found", "Job not found", "the id is not a job id", NULL);
		return;
	}
	http_call(r, SQL_IMPORT_JOB_GET, json_pack("{s:o,s:s}", "actor", http_actor(r), "id", id), NULL);
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

/* Chinese words for statuses, lights, progress and due sources (?lang=zh). */
static const char *zh_word(const char *v)
{
	static const char *const map[][2] = {
		{ "assigned", "待签收" }, { "planned", "未开始" }, { "in_progress", "推进中" }, { "blocked", "受阻" },
		{ "done", "已办结" },
		{ "verified", "已销号" }, { "cancelled", "已取消" }, { "red", "红" }, { "yellow", "黄" },
		{ "green", "绿" }, { "reported", "自报" }, { "targets", "指标" }, { "milestones", "节点" },
		{ "children", "下级汇总" }, { "own", "本级" }, { "parent", "继承上级" }, { "plan", "计划年底" },
	};
	for (size_t i = 0; v && i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(map[i][0], v))
			return map[i][1];
	return v ? v : "";
}

enum export_lang { LANG_BOTH, LANG_ZH, LANG_EN };

/* csv_sink onto an evbuffer. */
static int evbuffer_sink(void *ctx, const void *data, size_t len)
{
	return evbuffer_add(ctx, data, len);
}

static void write_export(struct evbuffer *csv, json_t *rows, enum export_lang lang)
{
	static const char *const zh[] = { "编号", "任务", "牵头单位", "责任人", "状态", "进度", "进度来源", "序时进度",
					  "灯", "计划完成", "完成时限", "时限来源", "逾期", "指标", "id" };
	static const char *const en[] = { "code", "title", "lead_unit", "owner", "status", "progress",
					  "progress_source", "expected_progress", "light", "due_date", "effective_due",
					  "due_source", "late", "targets", "id" };
	enum { NCOL = sizeof en / sizeof en[0] };
	char both[NCOL][64];
	const char *header[NCOL];
	for (int i = 0; i < NCOL; i++) {
		if (lang == LANG_ZH) {
			header[i] = zh[i];
		} else if (lang == LANG_EN || !strcmp(zh[i], en[i])) {
			header[i] = en[i];
		} else {
			snprintf(both[i], sizeof both[i], "%s %s", zh[i], en[i]);
			header[i] = both[i];
		}
	}
	csv_write_row(evbuffer_sink, csv, header, NCOL);
	size_t i;
	json_t *t;
	json_array_foreach(rows, i, t) {
		char progress[16], expected[16];
		snprintf(progress, sizeof progress, "%lld", (long long)json_integer_value(json_object_get(t, "progress")));
		snprintf(expected, sizeof expected, "%.1f", json_number_value(json_object_get(t, "expected_progress")));
		struct evbuffer *tb = evbuffer_new();
		format_targets(json_object_get(t, "targets"), tb);
		evbuffer_add(tb, "", 1);
		int z = lang == LANG_ZH;
		const char *late = json_is_true(json_object_get(t, "late")) ? (z ? "是" : "yes") : (z ? "否" : "no");
		const char *fields[NCOL] = {
			str_or_empty(t, "code"), str_or_empty(t, "title"), str_or_empty(t, "lead_unit"),
			str_or_empty(t, "owner"),
			z ? zh_word(str_or_empty(t, "status")) : str_or_empty(t, "status"), progress,
			z ? zh_word(str_or_empty(t, "progress_source")) : str_or_empty(t, "progress_source"), expected,
			z ? zh_word(str_or_empty(t, "light")) : str_or_empty(t, "light"), str_or_empty(t, "due_date"),
			str_or_empty(t, "effective_due"),
			z ? zh_word(str_or_empty(t, "due_source")) : str_or_empty(t, "due_source"), late,
			(const char *)evbuffer_pullup(tb, -1), str_or_empty(t, "id") };
		csv_write_row_ex(evbuffer_sink, csv, fields, NCOL, CSV_WRITE_NEUTRALIZE_FORMULAS);
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
	const char *hd = r->handler_data;
	int gb = hd && hd[0] == 'g';
	enum export_lang lang = !hd || !hd[1] ? LANG_BOTH : hd[1] == 'z' ? LANG_ZH : LANG_EN;
	struct evbuffer *csv = evbuffer_new();
	if (!gb)
		evbuffer_add(csv, "\xEF\xBB\xBF", 3);
	write_export(csv, json_object_get(doc, "rows"), lang);
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
	static const char *const allowed[] = { "encoding", "as_of", "lang", NULL };
	if (http_check_query(r, allowed))
		return;
	const char *lang = http_query(r, "lang");
	if (lang && strcmp(lang, "zh") && strcmp(lang, "en")) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "lang must be zh or en",
				   json_pack("[{s:s,s:s}]", "field", "lang", "message", "must be zh or en"));
		return;
	}
	json_t *cfg = http_cfg(r);
	if (http_as_of(r, cfg)) {
		json_decref(cfg);
		return;
	}
	/* handler_data: [g|u] encoding, then [z|e] language when asked */
	char hd[3] = { enc && !strcmp(enc, "gb18030") ? 'g' : 'u', lang ? lang[0] : 0, 0 };
	r->handler_data = xstrdup(hd);
	http_call(r, SQL_PLAN_EXPORT, json_pack("{s:o,s:s}", "cfg", cfg, "id", plan), on_export);
}

int imports_register(struct router *r)
{
	const int wr = ROLE_SUPERVISOR | ROUTE_NEEDS_DB | ROUTE_TEXT_BODY | ROUTE_LARGE_BODY;
	int rc = 0;
	rc |= router_add(r, RM_POST, "/v1/plans/import", (void *)handle_plan_import, wr);
	rc |= router_add(r, RM_POST, "/v1/plans/{id}/tasks/import", (void *)handle_tasks_import, wr);
	rc |= router_add(r, RM_GET, "/v1/plans/{id}/export.csv", (void *)handle_export, ROLE_VIEWER | ROUTE_NEEDS_DB);
	rc |= router_add(r, RM_GET, "/v1/jobs/{id}", (void *)handle_job_get, ROLE_VIEWER | ROUTE_NEEDS_DB);
	return rc;
}
