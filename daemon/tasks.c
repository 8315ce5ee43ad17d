/*
 * tasks.c - the task routes (see tasks.h). Validation happens here; every
 * read and write is one pt_* SQL function call (docs/sql-api.md).
 */
#include "plantrack/tasks.h"
#include "plantrack/db.h"
#include "plantrack/doccache.h"
#include "plantrack/http.h"
#include "plantrack/router.h"
#include "plantrack/validate.h"
#include "plantrack/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const statuses[] = { "assigned", "planned", "in_progress", "blocked", "done", "verified", "cancelled", NULL };
static const char *const unit_roles[] = { "lead", "co", "any", NULL };
static const char *const lights[] = { "red", "yellow", "green", "done", "verified", "cancelled", NULL };
static const char *const cadences[] = { "weekly", "monthly", "quarterly", "yearly", NULL };
static const char *const comparators[] = { ">=", "<=", "=", NULL };
static const char *const sources[] = { "reported", "targets", "milestones", "children", NULL };
/* docs/plan-format.md: the verb class of a target, where the due date came from */
static const char *const verbs[] = { "new", "complete", "reach", "at_least", "at_most", "increase_by", "reduce_by",
				     "control_within", "other", NULL };
static const char *const due_sources[] = { "text", "parent", "plan_period", "csv", "api", NULL };

static const char *const q_list[] = { "plan", "parent", "status", "light", "unit", "role", "unsigned",
				       "due_before", "due_after", "q",
				       "archived", "limit", "cursor", "as_of", NULL };
static const char *const q_get[] = { "as_of", NULL };
static const char *const q_page[] = { "limit", "cursor", NULL };

static const struct vfield target_fields[] = {
	{ "label", V_STRING, 0, 1, 0, 200, NULL, NULL },
	{ "value", V_NUMBER, 1, 0, -1e15, 1e15, NULL, NULL },
	{ "unit", V_STRING, 0, 1, 0, 32, NULL, NULL },
	{ "comparator", V_ENUM, 0, 0, 0, 0, comparators, NULL },
	{ "text", V_STRING, 0, 1, 0, 500, NULL, NULL },
	{ "current", V_NUMBER, 0, 1, -1e15, 1e15, NULL, NULL },
	{ "baseline", V_NUMBER, 0, 1, -1e15, 1e15, NULL, NULL },
	{ "verb", V_ENUM, 0, 1, 0, 0, verbs, NULL },
	{ "strive", V_BOOL, 0, 1, 0, 0, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield milestone_fields[] = {
	{ "title", V_STRING, 1, 0, 0, 500, NULL, NULL },
	{ "due_date", V_DATE, 0, 1, 0, 0, NULL, NULL },
	{ "target", V_OBJECT, 0, 1, 0, 0, NULL, target_fields },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

/* 原有119支队伍: context counts, shown and never scored */
static const struct vfield fact_fields[] = {
	{ "label", V_STRING, 0, 1, 0, 200, NULL, NULL },
	{ "value", V_NUMBER, 0, 1, -1e15, 1e15, NULL, NULL },
	{ "unit", V_STRING, 0, 1, 0, 32, NULL, NULL },
	{ "text", V_STRING, 0, 1, 0, 500, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

#define TASK_COMMON_FIELDS \
	{ "body", V_STRING, 0, 1, 0, 20000, NULL, NULL }, \
	{ "code", V_STRING, 0, 1, 0, 64, NULL, NULL }, \
	{ "seq", V_INT, 0, 1, 0, 1000000, NULL, NULL }, \
	{ "lead_unit", V_STRING, 0, 1, 0, 200, NULL, NULL }, \
	{ "co_units", V_STRINGS, 0, 1, 0, 200, NULL, NULL }, \
	{ "owner", V_STRING, 0, 1, 0, 100, NULL, NULL }, \
	{ "leader", V_STRING, 0, 1, 0, 100, NULL, NULL }, \
	{ "status", V_ENUM, 0, 0, 0, 0, statuses, NULL }, \
	{ "progress", V_INT, 0, 0, 0, 100, NULL, NULL }, \
	{ "start_date", V_DATE, 0, 1, 0, 0, NULL, NULL }, \
	{ "due_date", V_DATE, 0, 1, 0, 0, NULL, NULL }, \
	{ "cadence", V_ENUM, 0, 1, 0, 0, cadences, NULL }, \
	{ "tags", V_STRINGS, 0, 1, 0, 100, NULL, NULL }, \
	{ "targets", V_OBJECTS, 0, 1, 0, 200, NULL, target_fields }, \
	{ "milestones", V_OBJECTS, 0, 1, 0, 200, NULL, milestone_fields }, \
	{ "weight", V_NUMBER, 0, 1, -1e9, 1e9, NULL, NULL }, \
	{ "progress_source", V_ENUM, 0, 1, 0, 0, sources, NULL }, \
	{ "facts", V_OBJECTS, 0, 1, 0, 200, NULL, fact_fields }, \
	{ "note", V_STRING, 0, 1, 0, 5000, NULL, NULL }, \
	{ "due_source", V_ENUM, 0, 1, 0, 0, due_sources, NULL }

const struct vfield tasks_task_fields[] = {
	{ "title", V_STRING, 1, 0, 0, 500, NULL, NULL },
	TASK_COMMON_FIELDS,
	{ "children", V_OBJECTS, 0, 1, 0, 10000, NULL, tasks_task_fields },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield task_create_fields[] = {
	{ "plan_id", V_UUID, 1, 0, 0, 0, NULL, NULL },
	{ "parent_id", V_UUID, 0, 1, 0, 0, NULL, NULL },
	{ "title", V_STRING, 1, 0, 0, 500, NULL, NULL },
	TASK_COMMON_FIELDS,
	{ "children", V_OBJECTS, 0, 1, 0, 10000, NULL, tasks_task_fields },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield task_patch_fields[] = {
	{ "title", V_STRING, 0, 0, 0, 500, NULL, NULL },
	{ "body", V_STRING, 0, 1, 0, 20000, NULL, NULL },
	{ "lead_unit", V_STRING, 0, 1, 0, 200, NULL, NULL },
	{ "co_units", V_STRINGS, 0, 1, 0, 200, NULL, NULL },
	{ "owner", V_STRING, 0, 1, 0, 100, NULL, NULL },
	{ "leader", V_STRING, 0, 1, 0, 100, NULL, NULL },
	{ "start_date", V_DATE, 0, 1, 0, 0, NULL, NULL },
	{ "due_date", V_DATE, 0, 1, 0, 0, NULL, NULL },
	{ "cadence", V_ENUM, 0, 1, 0, 0, cadences, NULL },
	{ "tags", V_STRINGS, 0, 1, 0, 100, NULL, NULL },
	{ "targets", V_OBJECTS, 0, 1, 0, 200, NULL, target_fields },
	{ "milestones", V_OBJECTS, 0, 1, 0, 200, NULL, milestone_fields },
	{ "weight", V_NUMBER, 0, 1, -1e9, 1e9, NULL, NULL },
	{ "progress_source", V_ENUM, 0, 1, 0, 0, sources, NULL },
	{ "facts", V_OBJECTS, 0, 1, 0, 200, NULL, fact_fields },
	{ "note", V_STRING, 0, 1, 0, 5000, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

/* current: the lead unit's figure; contribution: a co-operating unit's share
 * (SQL requires the one that fits the reporter). */
static const struct vfield report_target_fields[] = {
	{ "id", V_UUID, 1, 0, 0, 0, NULL, NULL },
	{ "current", V_NUMBER, 0, 0, -1e15, 1e15, NULL, NULL },
	{ "contribution", V_NUMBER, 0, 0, -1e15, 1e15, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield report_fields[] = {
	{ "status", V_ENUM, 0, 0, 0, 0, statuses, NULL },
	{ "progress", V_INT, 0, 0, 0, 100, NULL, NULL },
	{ "targets", V_OBJECTS, 0, 0, 0, 200, NULL, report_target_fields },
	{ "note", V_STRING, 0, 1, 0, 5000, NULL, NULL },
	{ "problems", V_STRING, 0, 1, 0, 5000, NULL, NULL },
	{ "next_steps", V_STRING, 0, 1, 0, 5000, NULL, NULL },
	{ "attachments", V_STRINGS, 0, 0, 0, 36, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static void add_filter(struct req *r, json_t *args, json_t *errors, const char *name, enum vtype type,
		       const char *const *enums)
{
	const char *v = http_query(r, name);
	if (!v)
		return;
	json_t *value = json_string(v);
	if (!value) {
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", name, "message", "must be valid UTF-8"));
		return;
	}
	struct vfield f = { name, type, 0, 0, 0, 200, enums, NULL };
	struct vfield spec[2] = { f, { NULL, 0, 0, 0, 0, 0, NULL, NULL } };
	json_t *probe = json_pack("{s:o}", name, value);
	char unknown[8];
	validate_object(probe, spec, "", errors, unknown, sizeof unknown);
	json_object_set(args, name, json_object_get(probe, name));
	json_decref(probe);
}


static void handle_list(struct req *r)
{
	if (http_check_query(r, q_list))
		return;
	json_t *cfg = http_cfg(r);
	if (http_as_of(r, cfg)) {
		json_decref(cfg);
		return;
	}
	if (doccache_view_begin(r, http_query(r, "plan"))) {
		json_decref(cfg);
		return;
	}
	json_t *args = json_pack("{s:o}", "cfg", cfg);
	json_t *errors = json_array();
	add_filter(r, args, errors, "plan", V_UUID, NULL);
	add_filter(r, args, errors, "parent", V_UUID, NULL);
	add_filter(r, args, errors, "status", V_ENUM, statuses);
	add_filter(r, args, errors, "light", V_ENUM, lights);
	add_filter(r, args, errors, "unit", V_STRING, NULL);
	add_filter(r, args, errors, "due_before", V_DATE, NULL);
	add_filter(r, args, errors, "due_after", V_DATE, NULL);
	add_filter(r, args, errors, "q", V_STRING, NULL);
	add_filter(r, args, errors, "role", V_ENUM, unit_roles);
	const char *unsigned_ = http_query(r, "unsigned");
	if (unsigned_ && strcmp(unsigned_, "true") && strcmp(unsigned_, "false"))
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "unsigned", "message", "must be true or false"));
	else if (unsigned_)
		json_object_set_new(args, "unsigned", json_boolean(!strcmp(unsigned_, "true")));
	http_bool_query(r, "archived", args, errors);
	if (http_query(r, "role") && !http_query(r, "unit"))
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "role", "message", "needs unit"));
	http_call_page_done(r, SQL_TASKS_LIST, args, errors, doccache_view_done);
}

/* The fill of the document cache started before the query (doccache.h). */
struct get_req {
	struct doccache_ticket ticket;
	char id[40];
};

static void on_get(struct req *r, PGresult *res)
{
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 0) {
		http_reply_problem(r, 404, "not-found", "Task not found", "no task with this id", NULL);
		return;
	}
	struct get_req *g = r->handler_data;
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQnfields(res) >= 5 && !PQgetisnull(res, 0, 2)) {
		const char *etag = PQgetvalue(res, 0, 2);
		if (g)
			doccache_put(&g->ticket, g->id, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1), etag,
				     !PQgetisnull(res, 0, 3) && PQgetvalue(res, 0, 3)[0] == 't',
				     PQnfields(res) >= 6 && !PQgetisnull(res, 0, 5) ? PQgetvalue(res, 0, 5) : NULL,
				     PQgetisnull(res, 0, 4) ? 0 : atof(PQgetvalue(res, 0, 4)));
		char quoted[40];
		snprintf(quoted, sizeof quoted, "\"%s\"", etag);
		const char *inm = http_header(r, "If-None-Match");
		if (inm && (!strcmp(inm, quoted) || !strcmp(inm, "*"))) {
			evhttp_add_header(evhttp_request_get_output_headers(r->ev), "ETag", quoted);
			http_reply_raw(r, 304, NULL, NULL, 0);
			return;
		}
	}
	http_reply_result(r, res);
}

static void handle_get(struct req *r)
{
	const char *id = http_id_param(r, "task");
	if (!id || http_check_query(r, q_get))
		return;
	json_t *cfg = http_cfg(r);
	if (http_as_of(r, cfg)) {
		json_decref(cfg);
		return;
	}
	/* as_of (a read of the past) bypasses the cache */
	if (!http_query(r, "as_of")) {
		if (doccache_reply(r, id)) {
			json_decref(cfg);
			return;
		}
		struct get_req *g = xcalloc(1, sizeof *g);
		doccache_begin(&g->ticket);
		snprintf(g->id, sizeof g->id, "%s", id);
		r->handler_data = g;
	}
	http_call(r, SQL_TASK_GET, json_pack("{s:o,s:s}", "cfg", cfg, "id", id), on_get);
}

static void handle_create(struct req *r)
{
	if (http_check_body(r, task_create_fields))
		return;
	json_t *args = json_pack("{s:o,s:o,s:O}", "actor", http_actor(r), "cfg", http_cfg(r), "task", r->json);
	http_call_write(r, SQL_TASK_CREATE, args, NULL);
}

static void handle_patch(struct req *r)
{
	const char *id = http_id_param(r, "task");
	if (!id || http_check_body(r, task_patch_fields))
		return;
	if (json_object_size(r->json) == 0) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "the patch changes nothing",
				   json_pack("[{s:s,s:s}]", "field", "", "message", "send at least one field"));
		return;
	}
	json_t *args = json_pack("{s:o,s:o,s:s,s:O}", "actor", http_actor(r), "cfg", http_cfg(r), "id", id,
				 "patch", r->json);
	if (http_if_match(r, args) < 0) {
		json_decref(args);
		return;
	}
	http_call(r, SQL_TASK_PATCH, args, NULL);
}

static void handle_delete(struct req *r)
{
	const char *id = http_id_param(r, "task");
	if (!id)
		return;
	json_t *args = json_pack("{s:o,s:s}", "actor", http_actor(r), "id", id);
	if (http_if_match(r, args) < 0) {
		json_decref(args);
		return;
	}
	http_call(r, SQL_TASK_DELETE, args, NULL);
}

/* A report's body: the field table, each target carrying current (or a
 * co-unit's contribution), and something to report. 0, or -1 answered. */
static int report_check(struct req *r)
{
	json_t *errors = json_array();
	char unknown[256] = "";
	int rc = validate_object(r->json, report_fields, "", errors, unknown, sizeof unknown);
	if (rc == VALIDATE_UNKNOWN) {
		http_reply_invalid(r, rc, errors, unknown);
		return -1;
	}
	json_t *tgs = json_object_get(r->json, "targets"), *tg;
	size_t i;
	json_array_foreach(tgs, i, tg) {
		if (json_is_object(tg) && !json_object_get(tg, "current") && !json_object_get(tg, "contribution")) {
			char field[48];
			snprintf(field, sizeof field, "targets[%zu].current", i);
			json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message",
				"is required (a co-operating unit sends contribution instead)"));
		}
	}
	if (json_array_size(errors)) {
		http_reply_invalid(r, 422, errors, NULL);
		return -1;
	}
	json_decref(errors);
	if (!json_object_get(r->json, "status") && !json_object_get(r->json, "progress") &&
	    !json_object_get(r->json, "targets") && !json_is_string(json_object_get(r->json, "note")) &&
	    !json_array_size(json_object_get(r->json, "attachments"))) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed",
				   "a report needs at least one of status, progress, targets or note",
				   json_pack("[{s:s,s:s}]", "field", "status", "message",
					     "send status, progress, targets or note"));
		return -1;
	}
	return 0;
}

static void handle_report(struct req *r)
{
	const char *id = http_id_param(r, "task");
	if (!id || report_check(r) < 0)
		return;
	json_t *args = json_pack("{s:o,s:o,s:s,s:O}", "actor", http_actor(r), "cfg", http_cfg(r), "id", id,
				 "report", r->json);
	if (http_if_match(r, args) < 0) {
		json_decref(args);
		return;
	}
	/* Prefer: return=minimal: nothing rendered, 204 with ETag and X-Event-Id */
	enum http_prefer_return pref = http_prefer_return(r);
	if (pref == PREFER_RETURN_MINIMAL)
		json_object_set_new(args, "return", json_string("minimal"));
	http_call_write(r, SQL_TASK_REPORT, args,
			pref == PREFER_RETURN_MINIMAL ? http_reply_minimal
			: pref == PREFER_RETURN_REPRESENTATION ? http_reply_representation : NULL);
}

static void handle_updates(struct req *r)
{
	const char *id = http_id_param(r, "task");
	if (!id || http_check_query(r, q_page))
		return;
	http_call_page(r, SQL_TASK_UPDATES, json_pack("{s:s}", "id", id), NULL);
}

static void handle_history(struct req *r)
{
	const char *id = http_id_param(r, "task");
	if (!id || http_check_query(r, q_page))
		return;
	http_call_page(r, SQL_TASK_HISTORY, json_pack("{s:s}", "id", id), NULL);
}

int tasks_register(struct router *r)
{
	const int rd = ROLE_VIEWER | ROUTE_NEEDS_DB, ed = ROLE_EDITOR | ROUTE_NEEDS_DB | ROUTE_JSON_BODY;
	int rc = 0;
	rc |= router_add(r, RM_GET, "/v1/tasks", (void *)handle_list, rd);
	rc |= router_add(r, RM_POST, "/v1/tasks", (void *)handle_create, ROLE_SUPERVISOR | ROUTE_NEEDS_DB | ROUTE_JSON_BODY);
	rc |= router_add(r, RM_GET, "/v1/tasks/{id}", (void *)handle_get, rd);
	rc |= router_add(r, RM_PATCH, "/v1/tasks/{id}", (void *)handle_patch, ed);
	rc |= router_add(r, RM_DELETE, "/v1/tasks/{id}", (void *)handle_delete, ROLE_ADMIN | ROUTE_NEEDS_DB);
	rc |= router_add(r, RM_POST, "/v1/tasks/{id}/updates", (void *)handle_report, ed);
	rc |= router_add(r, RM_GET, "/v1/tasks/{id}/updates", (void *)handle_updates, rd);
	rc |= router_add(r, RM_GET, "/v1/tasks/{id}/history", (void *)handle_history, rd);
	return rc;
}
