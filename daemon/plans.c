/*
 * plans.c - the plan routes (see plans.h): create from JSON with nested
 * tasks, list, get with ?include=tree, and the summary (lights, ranking).
 */
#include "plantrack/plans.h"
#include "plantrack/db.h"
#include "plantrack/doccache.h"
#include "plantrack/http.h"
#include "plantrack/router.h"
#include "plantrack/tasks.h"
#include "plantrack/validate.h"

#include <string.h>

static const struct vfield plan_fields[] = {
	{ "title", V_STRING, 1, 0, 0, 500, NULL, NULL },
	{ "year", V_INT, 0, 1, 2000, 2100, NULL, NULL },
	{ "org", V_STRING, 0, 1, 0, 200, NULL, NULL },
	{ "tasks", V_OBJECTS, 0, 1, 0, 10000, NULL, tasks_task_fields },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static void handle_create(struct req *r)
{
	if (http_check_body(r, plan_fields))
		return;
	json_t *args = json_pack("{s:o,s:o,s:O}", "actor", http_actor(r), "cfg", http_cfg(r), "plan", r->json);
	http_call_write(r, SQL_PLAN_CREATE, args, NULL);
}

static void handle_list(struct req *r)
{
	http_call_page(r, SQL_PLANS_LIST, json_object(), NULL);
}

static void handle_get(struct req *r)
{
	const char *id = http_id_param(r, "plan");
	if (!id)
		return;
	const char *include = http_query(r, "include");
	if (include && strcmp(include, "tree")) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "include may only be tree",
				   json_pack("[{s:s,s:s}]", "field", "include", "message", "must be tree"));
		return;
	}
	json_t *args = json_pack("{s:o,s:s,s:b}", "cfg", http_cfg(r), "id", id, "tree", include != NULL);
	http_call(r, SQL_PLAN_GET, args, NULL);
}

static void handle_summary(struct req *r)
{
	const char *id = http_id_param(r, "plan");
	if (!id || doccache_view_begin(r, id))
		return;
	http_call(r, SQL_PLAN_SUMMARY, json_pack("{s:o,s:s}", "cfg", http_cfg(r), "id", id), doccache_view_done);
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
	return rc;
}
