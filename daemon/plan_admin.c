/*
 * plan_admin.c - plan administration and task moves (see plan_admin.h): the
 * handlers validate their input and call one pt_* function each
 * (sql/api/42_plan_admin.sql), which checks the rules again.
 */
#include "plantrack/plan_admin.h"
#include "plantrack/http.h"
#include "plantrack/router.h"
#include "plantrack/validate.h"

#include <string.h>

static const struct vfield plan_patch_fields[] = {
	{ "title", V_STRING, 1, 0, 0, 500, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield no_fields[] = {
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield move_fields[] = {
	{ "parent_id", V_UUID, 1, 1, 0, 0, NULL, NULL },
	{ "position", V_INT, 0, 1, 1, 1000000, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const char *const q_none[] = { NULL };
static const char *const q_delete[] = { "confirm", NULL };

/* PATCH /v1/plans/{id} {"title"}: rename (If-Match: the plan's ETag). */
static void handle_patch(struct req *r)
{
	const char *id = http_id_param(r, "plan");
	if (!id || http_check_body(r, plan_patch_fields))
		return;
	json_t *args = json_pack("{s:o,s:s,s:O}", "actor", http_actor(r), "id", id, "patch", r->json);
	if (http_if_match(r, args) < 0) {
		json_decref(args);
		return;
	}
	http_call(r, SQL_PLAN_PATCH, args, NULL);
}

static void archive(struct req *r, int on)
{
	const char *id = http_id_param(r, "plan");
	if (!id || http_check_query(r, q_none) || http_check_body(r, no_fields))
		return;
	json_t *args = json_pack("{s:o,s:s,s:b}", "actor", http_actor(r), "id", id, "archive", on);
	http_call_write(r, SQL_PLAN_ARCHIVE, args, NULL);
}

static void handle_archive(struct req *r)
{
	archive(r, 1);
}

static void handle_unarchive(struct req *r)
{
	archive(r, 0);
}

/* DELETE /v1/plans/{id}[?confirm=<the plan's title>] (a plan with reports: admin and confirm). */
static void handle_delete(struct req *r)
{
	const char *id = http_id_param(r, "plan");
	if (!id || http_check_query(r, q_delete))
		return;
	json_t *args = json_pack("{s:o,s:s}", "actor", http_actor(r), "id", id);
	const char *confirm = http_query(r, "confirm");
	json_t *c = confirm ? json_string(confirm) : NULL;
	if (confirm && !c) {
		json_decref(args);
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "confirm must be valid UTF-8",
				   json_pack("[{s:s,s:s,s:s}]", "field", "confirm", "message", "must be valid UTF-8",
					     "rule", "format"));
		return;
	}
	if (c)
		json_object_set_new(args, "confirm", c);
	if (http_if_match(r, args) < 0) {
		json_decref(args);
		return;
	}
	http_call(r, SQL_PLAN_DELETE, args, NULL);
}

static void handle_restore(struct req *r)
{
	const char *id = http_id_param(r, "plan");
	if (!id || http_check_query(r, q_none) || http_check_body(r, no_fields))
		return;
	http_call_write(r, SQL_PLAN_RESTORE, json_pack("{s:o,s:s}", "actor", http_actor(r), "id", id), NULL);
}

/* POST /v1/tasks/{id}/move {"parent_id": uuid|null, "position"?: n} (If-Match: the task's ETag). */
static void handle_move(struct req *r)
{
	const char *id = http_id_param(r, "task");
	if (!id || http_check_query(r, q_none) || http_check_body(r, move_fields))
		return;
	json_t *args = json_pack("{s:o,s:o,s:s}", "actor", http_actor(r), "cfg", http_cfg(r), "id", id);
	json_object_update(args, r->json);
	if (http_if_match(r, args) < 0) {
		json_decref(args);
		return;
	}
	http_call_write(r, SQL_TASK_MOVE, args, NULL);
}

int plan_admin_register(struct router *r)
{
	const int sup = ROLE_SUPERVISOR | ROUTE_NEEDS_DB | ROUTE_JSON_BODY;
	int rc = 0;
	rc |= router_add(r, RM_PATCH, "/v1/plans/{id}", (void *)handle_patch, sup);
	rc |= router_add(r, RM_DELETE, "/v1/plans/{id}", (void *)handle_delete, ROLE_SUPERVISOR | ROUTE_NEEDS_DB);
	rc |= router_add(r, RM_POST, "/v1/plans/{id}/archive", (void *)handle_archive, sup);
	rc |= router_add(r, RM_POST, "/v1/plans/{id}/unarchive", (void *)handle_unarchive, sup);
	rc |= router_add(r, RM_POST, "/v1/plans/{id}/restore", (void *)handle_restore, sup);
	rc |= router_add(r, RM_POST, "/v1/tasks/{id}/move", (void *)handle_move, sup);
	return rc;
}
