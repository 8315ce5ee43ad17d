/*
 * plans.c - the plan routes (see plans.h): create from JSON with nested
 * tasks, list, get with ?include=tree, and the summary (lights, ranking).
 */
#include "plantrack/plans.h"
#include "plantrack/bulletin.h"
#include "plantrack/db.h"
#include "plantrack/doccache.h"
#include "plantrack/http.h"
#include "plantrack/ledger_xlsx.h"
#include "plantrack/log.h"
#include "plantrack/router.h"
#include "plantrack/tasks.h"
#include "plantrack/validate.h"
#include "plantrack/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const struct vfield plan_fields[] = {
	{ "title", V_STRING, 1, 0, 0, 500, NULL, NULL },
	{ "year", V_INT, 0, 1, 2000, 2100, NULL, NULL },
	{ "org", V_STRING, 0, 1, 0, 200, NULL, NULL },
	{ "owner", V_STRING, 0, 1, 0, 100, NULL, NULL },
	{ "tasks", V_OBJECTS, 0, 1, 0, 10000, NULL, tasks_task_fields },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const char *const q_get[] = { "include", "as_of", NULL };
static const char *const q_summary[] = { "as_of", NULL };
static const char *const q_ranking[] = { "period", NULL };
static const char *const q_list[] = { "limit", "cursor", "archived", NULL };
static const char *const q_ledger[] = { "as_of", "period", NULL };

static void handle_create(struct req *r)
{
	if (http_check_body(r, plan_fields))
		return;
	json_t *args = json_pack("{s:o,s:o,s:O}", "actor", http_actor(r), "cfg", http_cfg(r), "plan", r->json);
	http_call_write(r, SQL_PLAN_CREATE, args, NULL);
}

static void handle_list(struct req *r)
{
	if (http_check_query(r, q_list))
		return;
	json_t *errors = json_array();
	json_t *args = json_object();
	http_bool_query(r, "archived", args, errors);
	http_call_page(r, SQL_PLANS_LIST, args, errors);
}

static void handle_get(struct req *r)
{
	const char *id = http_id_param(r, "plan");
	if (!id || http_check_query(r, q_get))
		return;
	const char *include = http_query(r, "include");
	if (include && strcmp(include, "tree")) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "include may only be tree",
				   json_pack("[{s:s,s:s}]", "field", "include", "message", "must be tree"));
		return;
	}
	json_t *cfg = http_cfg(r);
	if (http_as_of(r, cfg)) {
		json_decref(cfg);
		return;
	}
	json_t *args = json_pack("{s:o,s:s,s:b}", "cfg", cfg, "id", id, "tree", include != NULL);
	http_call(r, SQL_PLAN_GET, args, NULL);
}

static void handle_summary(struct req *r)
{
	const char *id = http_id_param(r, "plan");
	if (!id || http_check_query(r, q_summary))
		return;
	json_t *cfg = http_cfg(r);
	if (http_as_of(r, cfg)) {
		json_decref(cfg);
		return;
	}
	if (doccache_view_begin(r, id)) {
		json_decref(cfg);
		return;
	}
	http_call(r, SQL_PLAN_SUMMARY, json_pack("{s:o,s:s}", "cfg", cfg, "id", id), doccache_view_done);
}

/* 季度赛马: GET /v1/plans/{id}/ranking?period=2025Q2 */
static void handle_ranking(struct req *r)
{
	const char *id = http_id_param(r, "plan");
	if (!id || http_check_query(r, q_ranking))
		return;
	json_t *args = json_pack("{s:o,s:s}", "cfg", http_cfg(r), "id", id);
	if (http_period(r, args) || doccache_view_begin(r, id)) {
		json_decref(args);
		return;
	}
	http_call(r, SQL_PLAN_RANKING, args, doccache_view_done);
}

static void on_ledger(struct req *r, PGresult *res)
{
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || atoi(PQgetvalue(res, 0, 0)) != 200) {
		http_reply_result(r, res);
		return;
	}
	json_t *doc = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
	unsigned char *bytes = NULL;
	size_t len = 0;
	char msg[256], cd[512];
	if (!doc || ledger_xlsx_render(doc, NULL, &bytes, &len, msg, sizeof msg)) {
		if (!doc)
			snprintf(msg, sizeof msg, "pt_plan_ledger returned no JSON");
		log_event(LOG_LVL_ERROR, "ledger render failed",
			  json_pack("{s:s,s:s}", "error", msg, "request_id", r->request_id));
		json_decref(doc);
		http_reply_problem(r, 500, "internal", "Internal error", msg, NULL);
		return;
	}
	json_t *plan = json_object_get(doc, "plan");
	ledger_xlsx_content_disposition(json_string_value(json_object_get(plan, "title")),
					json_string_value(json_object_get(doc, "as_of")), cd, sizeof cd);
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
	evhttp_add_header(h, "Content-Disposition", cd);
	evhttp_add_header(h, "Cache-Control", "no-store");
	http_reply_raw(r, 200, LEDGER_XLSX_CONTENT_TYPE, (const char *)bytes, len);
	free(bytes);
	json_decref(doc);
}

/* 台账: GET /v1/plans/{id}/ledger.xlsx?as_of=&period= (docs/ledger.md) */
static void handle_ledger(struct req *r)
{
	const char *id = http_id_param(r, "plan");
	if (!id || http_check_query(r, q_ledger))
		return;
	json_t *cfg = http_cfg(r);
	if (http_as_of(r, cfg)) {
		json_decref(cfg);
		return;
	}
	json_t *args = json_pack("{s:o,s:s}", "cfg", cfg, "id", id);
	if (http_query(r, "period") && http_period(r, args)) {
		json_decref(args);
		return;
	}
	http_call(r, SQL_PLAN_LEDGER, args, on_ledger);
}

static void on_bulletin(struct req *r, PGresult *res)
{
	if (!r->handler_data || !res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    atoi(PQgetvalue(res, 0, 0)) != 200) {
		http_reply_result(r, res);
		return;
	}
	json_t *doc = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
	if (!doc) {
		http_reply_problem(r, 500, "internal", "Internal error", "pt_plan_bulletin returned no JSON", NULL);
		return;
	}
	struct evbuffer *html = evbuffer_new();
	bulletin_html(doc, html);
	json_decref(doc);
	size_t len = evbuffer_get_length(html);
	http_reply_raw(r, 200, "text/html; charset=utf-8", (const char *)evbuffer_pullup(html, -1), len);
	evbuffer_free(html);
}

/* 月通报: GET /v1/plans/{id}/bulletin?period=2025-06, JSON or (Accept: text/html) a printable page */
static void handle_bulletin(struct req *r)
{
	static const char *const allowed[] = { "period", NULL };
	const char *id = http_id_param(r, "plan");
	if (!id || http_check_query(r, allowed))
		return;
	json_t *args = json_pack("{s:o,s:s}", "cfg", http_cfg(r), "id", id);
	if (http_period(r, args)) {
		json_decref(args);
		return;
	}
	const char *accept = http_header(r, "Accept");
	if (accept && strstr(accept, "text/html"))
		r->handler_data = xstrdup("html");
	http_call(r, SQL_PLAN_BULLETIN, args, on_bulletin);
}

int plans_register(struct router *r)
{
	const int rd = ROLE_VIEWER | ROUTE_NEEDS_DB;
	int rc = 0;
	rc |= router_add(r, RM_POST, "/v1/plans", (void *)handle_create,
			 ROLE_SUPERVISOR | ROUTE_NEEDS_DB | ROUTE_JSON_BODY | ROUTE_LARGE_BODY);
	rc |= router_add(r, RM_GET, "/v1/plans", (void *)handle_list, rd);
	rc |= router_add(r, RM_GET, "/v1/plans/{id}", (void *)handle_get, rd);
	rc |= router_add(r, RM_GET, "/v1/plans/{id}/summary", (void *)handle_summary, rd);
	rc |= router_add(r, RM_GET, "/v1/plans/{id}/ranking", (void *)handle_ranking, rd);
	rc |= router_add(r, RM_GET, "/v1/plans/{id}/ledger.xlsx", (void *)handle_ledger, rd);
	rc |= router_add(r, RM_GET, "/v1/plans/{id}/bulletin", (void *)handle_bulletin, rd);
	return rc;
}
