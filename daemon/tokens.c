/*
 * tokens.c - token administration over HTTP (see tokens.h). The token is
 * generated here; only its SHA-256 reaches the database.
 */
#include "plantrack/tokens.h"
#include "plantrack/hash.h"
#include "plantrack/auth.h"
#include "plantrack/db.h"
#include "plantrack/http.h"
#include "plantrack/router.h"
#include "plantrack/validate.h"

#include <stdlib.h>
#include <string.h>

static const char *const roles[] = { "viewer", "editor", "supervisor", "admin", NULL };

static const struct vfield token_fields[] = {
	{ "name", V_STRING, 1, 0, 0, 100, NULL, NULL },
	{ "role", V_ENUM, 1, 0, 0, 0, roles, NULL },
	{ "unit", V_STRING, 0, 1, 0, 200, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

/* Adds the plaintext token (kept in handler_data) to the created row. */
static void on_created(struct req *r, PGresult *res)
{
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		http_reply_result(r, res);
		return;
	}
	int status = atoi(PQgetvalue(res, 0, 0));
	json_t *body = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
	if (!body) {
		http_reply_result(r, res);
		return;
	}
	if (status == 201)
		json_object_set_new(body, "token", json_string(r->handler_data));
	http_reply_json(r, status, body);
}

static void handle_create(struct req *r)
{
	if (http_check_body(r, token_fields))
		return;
	char *token = auth_token_generate();
	if (!token) {
		http_reply_problem(r, 503, "overloaded", "Server busy", "no randomness available", NULL);
		return;
	}
	char hash[65];
	pt_sha256_hex(token, strlen(token), hash);
	r->handler_data = token;
	json_t *args = json_pack("{s:o,s:O,s:O,s:s}", "actor", http_actor(r), "name", json_object_get(r->json, "name"),
				 "role", json_object_get(r->json, "role"), "token_sha256", hash);
	json_t *unit = json_object_get(r->json, "unit");
	json_object_set(args, "unit", unit ? unit : json_null());
	http_call_write(r, SQL_TOKEN_CREATE, args, on_created);
}

static void handle_list(struct req *r)
{
	http_call_page(r, SQL_TOKENS_LIST, json_object(), NULL);
}

static void on_revoked(struct req *r, PGresult *res)
{
	auth_cache_clear(r->w);
	http_reply_result(r, res);
}

static void handle_revoke(struct req *r)
{
	const char *id = http_id_param(r, "token");
	if (!id)
		return;
	http_call(r, SQL_TOKEN_REVOKE, json_pack("{s:o,s:s}", "actor", http_actor(r), "id", id), on_revoked);
}

int tokens_register(struct router *r)
{
	const int admin = ROLE_ADMIN | ROUTE_NEEDS_DB;
	int rc = 0;
	rc |= router_add(r, RM_POST, "/v1/tokens", (void *)handle_create, admin | ROUTE_JSON_BODY);
	rc |= router_add(r, RM_GET, "/v1/tokens", (void *)handle_list, admin);
	rc |= router_add(r, RM_DELETE, "/v1/tokens/{id}", (void *)handle_revoke, admin);
	return rc;
}
