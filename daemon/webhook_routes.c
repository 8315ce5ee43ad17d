/*
 * webhook_routes.c - the admin routes of webhook subscriptions (/v1/webhooks,
 * see webhooks.h): body checks, secret generation, pt_webhook_* calls. The
 * deliverer that POSTs the events is webhook_deliver.c.
 */
#include "plantrack/webhooks.h"
#include "plantrack/config.h"
#include "plantrack/db.h"
#include "plantrack/http.h"
#include "plantrack/netpolicy.h"
#include "plantrack/router.h"
#include "plantrack/validate.h"
#include "plantrack/webhook_deliver.h"
#include "plantrack/xalloc.h"

#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const event_types[] = { "plan.created", "task.created", "task.updated", "task.deleted",
					   "task.reported", "plan.approved", "task.signed", "task.returned",
					   "task.verified", "change.requested", "change.approved", "change.rejected",
					   "attachment.added", "unit.created", "unit.updated", "task.due_soon",
					   "task.overdue", "task.report_missing", "task.unsigned", "webhook.paused",
					   "plan.updated", "plan.archived", "plan.unarchived", "plan.deleted", "plan.restored",
					   "task.moved", NULL };
static const char *const delivery_statuses[] = { "pending", "delivered", "failed", NULL };

static const struct vfield create_fields[] = {
	{ "url", V_STRING, 1, 0, 0, 2000, NULL, NULL },
	{ "secret", V_STRING, 0, 1, 0, 200, NULL, NULL },
	{ "event_types", V_STRINGS, 0, 1, 0, 64, NULL, NULL },
	{ "active", V_BOOL, 0, 0, 0, 0, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield patch_fields[] = {
	{ "url", V_STRING, 0, 0, 0, 2000, NULL, NULL },
	{ "secret", V_STRING, 0, 0, 0, 200, NULL, NULL },
	{ "event_types", V_STRINGS, 0, 1, 0, 64, NULL, NULL },
	{ "active", V_BOOL, 0, 0, 0, 0, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

/* ---- routes ---- */

static int check_body(struct req *r, const struct vfield *spec)
{
	json_t *errors = json_array();
	char unknown[256] = "";
	int rc = validate_object(r->json, spec, "", errors, unknown, sizeof unknown);
	if (rc == VALIDATE_UNKNOWN) {
		http_reply_invalid(r, rc, errors, unknown);
		return -1;
	}
	/* Checks the table cannot express: URL shape, secret length, event types. */
	json_t *url = json_object_get(r->json, "url");
	if (json_is_string(url)) {
		const char *u = json_string_value(url);
		struct evhttp_uri *uri = evhttp_uri_parse_with_flags(u, 0);
		const char *scheme = uri ? evhttp_uri_get_scheme(uri) : NULL;
		const char *host = uri ? evhttp_uri_get_host(uri) : NULL;
		if (!scheme || (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) || !host || !*host ||
		    evhttp_uri_get_userinfo(uri) || evhttp_uri_get_fragment(uri))
			json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "url", "message",
								"must be an absolute http:// or https:// URL with a host"));
		else if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))
			json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "url", "message",
								"the scheme must be lowercase http or https"));
		else {
			/* The destination policy (netpolicy.h): a literal address or
			 * localhost must be public or allowed; names are checked
			 * again, resolved, at every delivery. */
			struct netcidr *allow;
			size_t nallow;
			char why[256];
			if (netpolicy_parse_list(http_config(r)->webhook_allow, &allow, &nallow, why, sizeof why) == 0) {
				if (netpolicy_check_host(allow, nallow, host, why, sizeof why))
					json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "url", "message", why));
				free(allow);
			}
		}
		if (uri)
			evhttp_uri_free(uri);
	}
	json_t *secret = json_object_get(r->json, "secret");
	if (json_is_string(secret) && (json_string_length(secret) < 16 || json_string_length(secret) > 200))
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "secret", "message",
							"must be 16 to 200 bytes"));
	json_t *types = json_object_get(r->json, "event_types");
	if (json_is_array(types)) {
		size_t i;
		json_t *t;
		json_array_foreach(types, i, t) {
			if (!json_is_string(t))
				continue;
			int known = 0;
			for (const char *const *e = event_types; *e; e++)
				known |= !strcmp(*e, json_string_value(t));
			if (!known) {
				char field[48];
				snprintf(field, sizeof field, "event_types[%zu]", i);
				json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message",
					"must be an event type (plan.created, task.reported, task.overdue, ...: EventType in docs/openapi.json)"));
			}
		}
	}
	if (json_array_size(errors)) {
		http_reply_invalid(r, VALIDATE_INVALID, errors, NULL);
		return -1;
	}
	json_decref(errors);
	return 0;
}


/* A new secret, "whsec_" + 64 hex digits; caller frees. */
static char *secret_generate(void)
{
	unsigned char raw[32];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return NULL;
	char *s = xmalloc(6 + 64 + 1);
	memcpy(s, "whsec_", 6);
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(s + 6 + 2 * i, 3, "%02x", raw[i]);
	return s;
}

static void handle_create(struct req *r)
{
	if (check_body(r, create_fields))
		return;
	json_t *args = json_pack("{s:o,s:O}", "actor", http_actor(r), "url", json_object_get(r->json, "url"));
	json_t *secret = json_object_get(r->json, "secret");
	if (json_is_string(secret)) {
		json_object_set(args, "secret", secret);
	} else {
		char *s = secret_generate();
		if (!s) {
			json_decref(args);
			http_reply_problem(r, 503, "overloaded", "Server busy", "no randomness available", NULL);
			return;
		}
		json_object_set_new(args, "secret", json_string(s));
		free(s);
	}
	json_t *types = json_object_get(r->json, "event_types");
	json_object_set_new(args, "event_types", json_is_array(types) ? json_incref(types) : json_array());
	json_t *active = json_object_get(r->json, "active");
	json_object_set_new(args, "active", active ? json_incref(active) : json_true());
	http_call_write(r, SQL_WEBHOOK_CREATE, args, NULL);
}

static void handle_list(struct req *r)
{
	http_call_page(r, SQL_WEBHOOK_LIST, json_object(), NULL);
}

static void handle_get(struct req *r)
{
	const char *id = http_id_param(r, "webhook");
	if (id)
		http_call(r, SQL_WEBHOOK_GET, json_pack("{s:s}", "id", id), NULL);
}

static void handle_patch(struct req *r)
{
	const char *id = http_id_param(r, "webhook");
	if (!id || check_body(r, patch_fields))
		return;
	if (json_object_size(r->json) == 0) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "the patch changes nothing",
				   json_pack("[{s:s,s:s}]", "field", "", "message", "send at least one field"));
		return;
	}
	json_t *patch = json_deep_copy(r->json);
	if (json_is_null(json_object_get(patch, "event_types")))
		json_object_set_new(patch, "event_types", json_array());
	json_t *args = json_pack("{s:o,s:s,s:o}", "actor", http_actor(r), "id", id, "patch", patch);
	if (http_if_match(r, args) < 0) {
		json_decref(args);
		return;
	}
	http_call(r, SQL_WEBHOOK_PATCH, args, NULL);
}

/* POST /v1/webhooks/{id}/resume: a webhook paused after failing
 * webhooks.pause_after times in a row delivers again. */
static void handle_resume(struct req *r)
{
	const char *id = http_id_param(r, "webhook");
	if (id)
		http_call(r, SQL_WEBHOOK_RESUME, json_pack("{s:o,s:s}", "actor", http_actor(r), "id", id), NULL);
}

static void handle_delete(struct req *r)
{
	const char *id = http_id_param(r, "webhook");
	if (id)
		http_call(r, SQL_WEBHOOK_DELETE, json_pack("{s:o,s:s}", "actor", http_actor(r), "id", id), NULL);
}

static void handle_deliveries(struct req *r)
{
	const char *id = http_id_param(r, "webhook");
	if (!id)
		return;
	json_t *args = json_pack("{s:s}", "id", id);
	json_t *errors = json_array();
	const char *status = http_query(r, "status");
	if (status) {
		int known = 0;
		for (const char *const *s = delivery_statuses; *s; s++)
			known |= !strcmp(*s, status);
		if (known)
			json_object_set_new(args, "status", json_string(status));
		else
			json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "status", "message",
								"must be pending, delivered or failed"));
	}
	http_call_page(r, SQL_WEBHOOK_DELIVERIES, args, errors);
}

int webhooks_register(struct router *r)
{
	webhook_deliver_init();
	const int admin = ROLE_ADMIN | ROUTE_NEEDS_DB;
	int rc = 0;
	rc |= router_add(r, RM_POST, "/v1/webhooks", (void *)handle_create, admin | ROUTE_JSON_BODY);
	rc |= router_add(r, RM_GET, "/v1/webhooks", (void *)handle_list, admin);
	rc |= router_add(r, RM_GET, "/v1/webhooks/{id}", (void *)handle_get, admin);
	rc |= router_add(r, RM_PATCH, "/v1/webhooks/{id}", (void *)handle_patch, admin | ROUTE_JSON_BODY);
	rc |= router_add(r, RM_DELETE, "/v1/webhooks/{id}", (void *)handle_delete, admin);
	rc |= router_add(r, RM_POST, "/v1/webhooks/{id}/resume", (void *)handle_resume, admin);
	rc |= router_add(r, RM_GET, "/v1/webhooks/{id}/deliveries", (void *)handle_deliveries, admin);
	return rc;
}
