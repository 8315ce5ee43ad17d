/*
 * http.c - answering requests: JSON, raw bytes, problem+json, and the
 * results of pt_* SQL functions (see http.h). Every reply ends in
 * send_and_finish(), the one place that calls evhttp_send_reply, and
 * finish_request(), the one place a struct req is freed.
 */
#include "plantrack/http.h"
#include "plantrack/config.h"
#include "plantrack/db.h"
#include "plantrack/hash.h"
#include "plantrack/i18n.h"
#include "plantrack/log.h"
#include "plantrack/metrics.h"
#include "plantrack/period.h"
#include "plantrack/replica.h"
#include "plantrack/worker.h"

#include <event2/buffer.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *http_query(struct req *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

const char *http_param(struct req *r, const char *name)
{
	for (int i = 0; i < r->m.nparams; i++)
		if (!strcmp(r->m.names[i], name))
			return r->m.values[i];
	return NULL;
}

const char *http_header(struct req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->ev), name);
}

const struct config *http_config(struct req *r)
{
	return config_current();
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

static void (*finish_taps[4])(struct req *r);
static int nfinish_taps;

void http_on_finish(void (*fn)(struct req *r))
{
	if (nfinish_taps < 4)
		finish_taps[nfinish_taps++] = fn;
}

static http_reply_tap reply_tap;

void http_set_reply_tap(http_reply_tap tap)
{
	reply_tap = tap;
}

/* The end of every request: metrics, the access log, write hooks, and the
 * struct req freed. */
static void finish_request(struct req *r)
{
	struct worker *w = r->w;
	double secs = (double)(pt_now_ns() - r->t0_ns) / 1e9;
	int route_id = r->m.route ? r->m.route->id : -1;
	metrics_observe(route_id, r->status, secs);
	if (log_get_level() >= LOG_LVL_INFO) {
		json_t *f = json_pack("{s:s,s:s,s:s,s:i,s:f,s:s}",
				      "method", router_method_name(r->method) ? router_method_name(r->method) : "?",
				      "route", r->m.route ? r->m.route->pattern : "-",
				      "path", r->path ? r->path : "-",
				      "status", r->status, "ms", secs * 1000.0,
				      "request_id", r->request_id);
		log_event(r->status >= 500 ? LOG_LVL_WARNING : LOG_LVL_INFO, "request", f);
	}
	if (r->status >= 200 && r->status < 300 && (r->method & (RM_POST | RM_PATCH | RM_DELETE)) &&
	    r->m.route && (r->m.route->flags & ROUTE_NEEDS_DB))
		worker_run_hooks(WORKER_HOOK_WRITE, w);
	for (int i = 0; i < nfinish_taps; i++)
		finish_taps[i](r);
	evhttp_clear_headers(&r->query);
	free(r->path);
	json_decref(r->json);
	free(r->handler_data);
	free(r);
	w->inflight--;
}


static void (*write_taps[4])(struct req *r);
static int nwrite_taps;

void http_on_write_reply(void (*fn)(struct req *r))
{
	if (nwrite_taps < 4)
		write_taps[nwrite_taps++] = fn;
}

/* A committed write through this daemon, before its reply leaves (PUT too:
 * PUT /v1/calendar/{year} changes every light that counts working days). */
static int is_committed_write(const struct req *r, int status)
{
	return status >= 200 && status < 300 && (r->method & (RM_POST | RM_PUT | RM_PATCH | RM_DELETE)) &&
	       r->m.route && (r->m.route->flags & ROUTE_NEEDS_DB);
}

static void send_and_finish(struct req *r, int status, struct evbuffer *body)
{
	r->status = status;
	if (is_committed_write(r, status)) {
		replica_note_write(r->tok.id);
		for (int i = 0; i < nwrite_taps; i++)
			write_taps[i](r);
	}
	if (reply_tap)
		reply_tap(r, status, body);
	worker_reply_starts(r->w, r->ev);
	evhttp_send_reply(r->ev, status, reason_phrase(status), body);
	if (body)
		evbuffer_free(body);
	finish_request(r);
}

void http_reply_raw(struct req *r, int status, const char *content_type, const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
	if (content_type)
		evhttp_add_header(h, "Content-Type", content_type);
	struct evbuffer *buf = NULL;
	if (body && len) {
		buf = evbuffer_new();
		evbuffer_add(buf, body, len);
	}
	send_and_finish(r, status, buf);
}

void http_reply_json(struct req *r, int status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(body);
	http_reply_raw(r, status, "application/json", text, text ? strlen(text) : 0);
	free(text);
}

/* A not-found title names its resource ("Task not found", "Change request
 * not found"): the lowercased noun into params.resource (i18n's dictionary
 * turns it into Chinese). 1 when it did. */
static int not_found_resource(const char *title, json_t **params)
{
	const char *end = strstr(title, " not found");
	size_t n = end ? (size_t)(end - title) : 0;
	if (!n || n > 40 || end[10])
		return 0;
	char noun[48];
	for (size_t i = 0; i < n; i++)
		noun[i] = (char)tolower((unsigned char)title[i]);
	noun[n] = 0;
	if (!i18n_word("resource", noun))
		return 0;
	if (!*params)
		*params = json_object();
	json_object_set_new(*params, "resource", json_string(noun));
	return 1;
}

void http_reply_problem(struct req *r, int status, const char *type, const char *title,
			const char *detail, json_t *errors)
{
	http_reply_problem_args(r, status, type, title, detail, errors, NULL, NULL);
}

void http_reply_problem_args(struct req *r, int status, const char *type, const char *title,
			     const char *detail, json_t *errors, const char *rule, json_t *params)
{
	char uri[128];
	snprintf(uri, sizeof uri, "urn:plantrack:problem:%s", type);
	json_t *p = json_object();
	json_object_set_new(p, "type", json_string(uri));
	json_object_set_new(p, "title", json_string(title));
	json_object_set_new(p, "status", json_integer(status));
	json_object_set_new(p, "detail", json_string(detail && *detail ? detail : title));
	if (errors)
		json_object_set_new(p, "errors", errors);
	json_object_set_new(p, "request_id", json_string(r->request_id));
	/* The language: English unless Accept-Language prefers Chinese (i18n.h). */
	enum i18n_lang lang = i18n_negotiate(http_header(r, "Accept-Language"));
	if (lang == I18N_ZH) {
		if (!rule && !strcmp(type, "not-found") && title && not_found_resource(title, &params))
			rule = "resource";
		i18n_localize_problem(p, type, rule, params);
	}
	json_decref(params);
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
	evhttp_add_header(h, "Content-Language", i18n_content_language(lang));
	evhttp_add_header(h, "Vary", "Accept-Language");
	char *text = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(p);
	http_reply_raw(r, status, "application/problem+json", text, text ? strlen(text) : 0);
	free(text);
}

static const char *problem_slug(int status)
{
	switch (status) {
	case 400: return "bad-request";
	case 403: return "forbidden";
	case 404: return "not-found";
	case 409: return "conflict";
	case 412: return "precondition-failed";
	case 422: return "validation-failed";
	default: return "error";
	}
}

void http_reply_db_error(struct req *r, PGresult *res)
{
	if (!res && db_failed_by_deadline()) {
		char detail[128];
		snprintf(detail, sizeof detail, "the database did not answer within %d ms; retry",
			 config_current()->deadline_ms > 0 ? config_current()->deadline_ms
							  : config_current()->statement_timeout_ms + 1000);
		evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Retry-After", "2");
		http_reply_problem_args(r, 504, "database-timeout", "Database timeout", detail, NULL, "deadline",
					json_pack("{s:i}", "ms", config_current()->deadline_ms > 0 ? config_current()->deadline_ms
										    : config_current()->statement_timeout_ms + 1000));
		return;
	}
	if (!res) {
		evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Retry-After", "2");
		http_reply_problem(r, 503, "database-unavailable", "Database unavailable",
				   "the database connection was lost; retry", NULL);
		return;
	}
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	if (!state)
		state = "XX000";
	if (state[0] == 'P' && state[1] == 'T') {
		int status = atoi(state + 2);
		if (status < 400 || status > 499)
			status = 400;
		/* The hint is errors[] (an array) or {type?, rule?, params?, errors?}
		 * (api.pt_fail): the structure the Chinese text is made from. */
		json_t *h = hint && *hint ? json_loads(hint, 0, NULL) : NULL;
		json_t *errors = NULL, *params = NULL;
		const char *htype = NULL, *hrule = NULL;
		char rulebuf[64] = "", typebuf[64] = "";
		if (json_is_array(h)) {
			errors = json_incref(h);
		} else if (json_is_object(h)) {
			errors = json_is_array(json_object_get(h, "errors")) ? json_incref(json_object_get(h, "errors")) : NULL;
			params = json_is_object(json_object_get(h, "params")) ? json_incref(json_object_get(h, "params")) : NULL;
			const char *t = json_string_value(json_object_get(h, "type"));
			const char *ru = json_string_value(json_object_get(h, "rule"));
			snprintf(typebuf, sizeof typebuf, "%s", t ? t : "");
			snprintf(rulebuf, sizeof rulebuf, "%s", ru ? ru : "");
			htype = typebuf[0] ? typebuf : NULL;
			hrule = rulebuf[0] ? rulebuf : NULL;
		}
		json_decref(h);
		const char *slug = problem_slug(status);
		/* the workflow rules each have their own problem type */
		static const struct { int status; const char *phrase, *slug; } rules[] = {
			{ 409, "file a change request", "change-control" },
			{ 409, "already pending", "change-pending" },
			{ 409, "is not pending", "change-decided" },
			{ 409, "only a done task", "not-done" },
			{ 409, "awaiting signature", "not-assigned" },
			{ 409, "already approved", "plan-approved" },
			{ 403, "your own request", "own-request" },
			{ 403, "second person", "second-person" },
			{ 403, "co-operating unit", "co-unit-limit" },
			{ 403, "out of scope", "out-of-scope" },
		};
		for (size_t i = 0; msg && i < sizeof rules / sizeof rules[0]; i++)
			if (rules[i].status == status && strstr(msg, rules[i].phrase)) {
				slug = rules[i].slug;
				break;
			}
		if (status == 409 && msg && strstr(msg, "transition"))
			slug = "invalid-transition";
		if (status == 409 && msg && strstr(msg, "in progress"))
			slug = "idempotency-conflict";
		if (status == 422 && msg && strstr(msg, "Idempotency-Key"))
			slug = "idempotency-key-reused";
		http_reply_problem_args(r, status, htype ? htype : slug, msg ? msg : "Error", detail, errors, hrule, params);
		return;
	}
	if (!strcmp(state, "23505")) {
		http_reply_problem_args(r, 409, "conflict", "Conflict", detail ? detail : msg, NULL, "duplicate", NULL);
		return;
	}
	if (!strncmp(state, "22", 2) || !strcmp(state, "23503") || !strcmp(state, "23514") ||
	    !strcmp(state, "23502")) {
		http_reply_problem_args(r, 422, "validation-failed", "Invalid value", msg, NULL, "value", NULL);
		return;
	}
	if (!strcmp(state, "57014") || !strcmp(state, "40001") || !strcmp(state, "40P01") ||
	    !strncmp(state, "08", 2) || !strcmp(state, "57P01")) {
		evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Retry-After", "1");
		http_reply_problem(r, 503, "database-busy", "Database busy", msg, NULL);
		return;
	}
	json_t *f = json_pack("{s:s,s:s,s:s}", "sqlstate", state, "error", msg ? msg : "?",
			      "request_id", r->request_id);
	log_event(LOG_LVL_ERROR, "database error", f);
	http_reply_problem(r, 500, "internal", "Internal error", "see the server log for this request id", NULL);
}

void http_reply_result(struct req *r, PGresult *res)
{
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		http_reply_db_error(r, res);
		return;
	}
	if (PQntuples(res) < 1 || PQnfields(res) < 2) {
		http_reply_problem(r, 500, "internal", "Internal error", "empty result", NULL);
		return;
	}
	int status = atoi(PQgetvalue(res, 0, 0));
	if (PQgetisnull(res, 0, 1) || status == 204) {
		http_reply_raw(r, status ? status : 204, NULL, NULL, 0);
		return;
	}
	const char *body = PQgetvalue(res, 0, 1);
	/* A fourth column is the id of the event the write emitted (sqlcalls.c). */
	if (PQnfields(res) >= 4 && !PQgetisnull(res, 0, 3) && *PQgetvalue(res, 0, 3) && status >= 200 && status < 300)
		evhttp_add_header(evhttp_request_get_output_headers(r->ev), "X-Event-Id", PQgetvalue(res, 0, 3));
	if (PQnfields(res) >= 3 && !PQgetisnull(res, 0, 2)) {
		char etag[40];
		snprintf(etag, sizeof etag, "\"%s\"", PQgetvalue(res, 0, 2));
		evhttp_add_header(evhttp_request_get_output_headers(r->ev), "ETag", etag);
	}
	http_reply_raw(r, status, "application/json", body, (size_t)PQgetlength(res, 0, 1));
}

/* The value of one preference ("return=minimal", " RETURN = \"minimal\" ;x")
 * when its name is return, copied into out; 0 when it is another one. */
static int prefer_return_value(const char *p, size_t n, char *out, size_t outsz)
{
	while (n && isspace((unsigned char)*p))
		p++, n--;
	if (n < 6 || strncasecmp(p, "return", 6))
		return 0;
	p += 6, n -= 6;
	while (n && isspace((unsigned char)*p))
		p++, n--;
	if (!n || *p != '=')
		return 0;
	p++, n--;
	while (n && (isspace((unsigned char)*p) || *p == '"'))
		p++, n--;
	size_t k = 0;
	while (k < n && p[k] != ';' && p[k] != '"' && !isspace((unsigned char)p[k]))
		k++;
	if (!k || k >= outsz)
		return 0;
	memcpy(out, p, k);
	out[k] = 0;
	return 1;
}

enum http_prefer_return http_prefer_return(struct req *r)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(r->ev);
	for (struct evkeyval *kv = h->tqh_first; kv; kv = kv->next.tqe_next) {
		if (strcasecmp(kv->key, "Prefer"))
			continue;
		for (const char *p = kv->value; *p;) {
			size_t n = strcspn(p, ",");
			char v[32];
			if (prefer_return_value(p, n, v, sizeof v)) {
				if (!strcasecmp(v, "minimal"))
					return PREFER_RETURN_MINIMAL;
				if (!strcasecmp(v, "representation"))
					return PREFER_RETURN_REPRESENTATION;
			}
			p += n + (p[n] == ',');
		}
	}
	return PREFER_RETURN_NONE;
}

static int result_is_2xx(PGresult *res)
{
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1 || PQnfields(res) < 2)
		return 0;
	int status = atoi(PQgetvalue(res, 0, 0));
	return status >= 200 && status < 300;
}

void http_reply_minimal(struct req *r, PGresult *res)
{
	if (!result_is_2xx(res)) {
		http_reply_result(r, res);
		return;
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
	if (PQnfields(res) >= 3 && !PQgetisnull(res, 0, 2)) {
		char etag[40];
		snprintf(etag, sizeof etag, "\"%s\"", PQgetvalue(res, 0, 2));
		evhttp_add_header(h, "ETag", etag);
	}
	if (PQnfields(res) >= 4 && !PQgetisnull(res, 0, 3) && *PQgetvalue(res, 0, 3))
		evhttp_add_header(h, "X-Event-Id", PQgetvalue(res, 0, 3));
	evhttp_add_header(h, "Preference-Applied", "return=minimal");
	http_reply_raw(r, 204, NULL, NULL, 0);
}

void http_reply_representation(struct req *r, PGresult *res)
{
	if (result_is_2xx(res))
		evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Preference-Applied",
				  "return=representation");
	http_reply_result(r, res);
}

static void on_call_done(PGresult *res, void *arg)
{
	struct req *r = arg;
	http_result_fn done = r->pending;
	r->pending = NULL;
	if (done)
		done(r, res);
	else
		http_reply_result(r, res);
}

void http_call_params(struct req *r, enum sql_call call, int n, const char *const *params, http_result_fn done)
{
	http_call_bin(r, call, n, params, NULL, 0, done);
}

void http_call_bin(struct req *r, enum sql_call call, int n, const char *const *params, const int *lengths,
		   int result_format, http_result_fn done)
{
	r->pending = done;
	/* Binary parameters or results (attachments) go to the primary; the
	 * rest through replica_query (the standby when one is set and fresh). */
	int rc = lengths || result_format
		? db_query_ex(worker_db(r->w), sql_stmt(call), n, params, lengths, result_format, on_call_done, r)
		: replica_query(r->w, r->tok.id, call, n, params, on_call_done, r);
	if (rc == DB_OK)
		return;
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Retry-After", rc == DB_QUEUE_FULL ? "1" : "2");
	if (rc == DB_QUEUE_FULL)
		http_reply_problem(r, 503, "overloaded", "Server busy", "every database connection is busy; retry", NULL);
	else
		http_reply_problem(r, 503, "database-unavailable", "Database unavailable", "no database connection is ready", NULL);
}

void http_call(struct req *r, enum sql_call call, json_t *args, http_result_fn done)
{
	char *text = json_dumps(args, PT_JSON_ARGS);
	json_decref(args);
	const char *params[1] = { text };
	http_call_params(r, call, 1, params, done);
	free(text);
}

void http_call_write(struct req *r, enum sql_call call, json_t *args, http_result_fn done)
{
	const char *key = http_header(r, "Idempotency-Key");
	if (!key) {
		http_call(r, call, args, done);
		return;
	}
	if (!*key || strlen(key) > 255) {
		json_decref(args);
		http_reply_problem(r, 400, "bad-idempotency-key", "Invalid Idempotency-Key",
				   "the key must be 1 to 255 characters", NULL);
		return;
	}
	/* The fingerprint covers what the client sent: method, path, query, body. */
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->ev);
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evbuffer *fp = evbuffer_new();
	evbuffer_add_printf(fp, "%s %s?%s\n", router_method_name(r->method), r->path, qs ? qs : "");
	evbuffer_add(fp, r->body, r->body_len);
	/* an answer of another shape (Prefer: return=minimal) is another request */
	const char *ret = json_string_value(json_object_get(args, "return"));
	if (ret)
		evbuffer_add_printf(fp, "\nreturn=%s", ret);
	size_t fplen = evbuffer_get_length(fp);
	char hash[65];
	pt_sha256_hex(evbuffer_pullup(fp, -1), fplen, hash);
	evbuffer_free(fp);
	char *text = json_dumps(args, PT_JSON_ARGS);
	json_decref(args);
	const char *params[5] = { r->tok.id[0] ? r->tok.id : NULL, key, hash, sql_call_def(call)->fn, text };
	http_call_params(r, SQL_IDEM, 5, params, done);
	free(text);
}

void http_reply_invalid(struct req *r, int rc, json_t *errors, const char *unknown)
{
	if (rc == 400) {
		char detail[300];
		snprintf(detail, sizeof detail, "unknown field \"%s\"", unknown);
		json_t *e = json_pack("[{s:s,s:s,s:s}]", "field", unknown, "message", "unknown field", "rule", "unknown");
		json_decref(errors);
		http_reply_problem_args(r, 400, "unknown-field", "Unknown field", detail, e, "field",
					json_pack("{s:s}", "field", unknown));
		return;
	}
	http_reply_problem(r, 422, "validation-failed", "Validation failed",
			   "one or more fields are invalid", errors);
}

json_t *http_actor(struct req *r)
{
	return json_pack("{s:s?,s:s,s:s,s:s?,s:s}", "token_id", r->tok.id[0] ? r->tok.id : NULL,
			 "name", r->tok.name, "role", role_name(r->tok.role),
			 "unit_id", r->tok.unit_id[0] ? r->tok.unit_id : NULL, "request_id", r->request_id);
}

json_t *http_workflow_cfg(const struct config *c)
{
	return json_pack("{s:b,s:i,s:b,s:i,s:[i,i,i]}", "create_units", c->create_units, "sign_days", c->sign_days,
			 "verify_self", c->verify_self, "reminder_days", c->reminder_days, "overdue_levels", 1,
			 c->overdue_level2, c->overdue_level3);
}

json_t *http_cfg(struct req *r)
{
	(void)r;
	return http_cfg_of(config_current());
}

json_t *http_cfg_of(const struct config *c)
{
	json_t *cfg = json_pack("{s:i,s:i,s:i,s:s,s:{s:i,s:i,s:i,s:i}}", "lag_points", c->lag_points,
				"due_soon_days", c->due_soon_days, "due_soon_progress", c->due_soon_progress,
				"tz", c->timezone && *c->timezone ? c->timezone : "Asia/Shanghai",
				"ranking", "on_time", c->ranking_on_time, "progress", c->ranking_progress,
				"red", c->ranking_red, "list_size", c->ranking_list_size);
	json_object_set_new(cfg, "red_lag_points", c->red_lag_points >= 0 ? json_integer(c->red_lag_points) : json_null());
	json_object_set_new(cfg, "today", c->today && *c->today ? json_string(c->today) : json_null());
	json_object_set_new(cfg, "working_days", json_boolean(c->working_days));
	json_object_update_new(cfg, http_workflow_cfg(c));
	return cfg;
}

int http_check_query(struct req *r, const char *const *allowed)
{
	for (struct evkeyval *kv = r->query.tqh_first; kv; kv = kv->next.tqe_next) {
		int ok = 0;
		for (const char *const *a = allowed; a && *a; a++)
			if (!strcmp(*a, kv->key)) {
				ok = 1;
				break;
			}
		if (ok)
			continue;
		json_t *name = json_string(kv->key);
		if (!name)
			name = json_string("(not UTF-8)");
		char detail[300];
		snprintf(detail, sizeof detail, "unknown query parameter \"%s\"", json_string_value(name));
		json_t *errors = json_pack("[{s:o,s:s}]", "field", name, "message", "unknown query parameter");
		http_reply_problem(r, 400, "unknown-parameter", "Unknown query parameter", detail, errors);
		return -1;
	}
	return 0;
}

int http_as_of(struct req *r, json_t *cfg)
{
	const char *v = http_query(r, "as_of");
	if (!v)
		return 0;
	char day[11], err[200];
	if (period_as_of("as_of", v, day, err, sizeof err)) {
		json_t *e = json_pack("[{s:s,s:s}]", "field", "as_of", "message", err);
		http_reply_problem(r, 422, "validation-failed", "Validation failed", err, e);
		return -1;
	}
	json_object_set_new(cfg, "as_of", json_string(day));
	return 0;
}

int http_period(struct req *r, json_t *args)
{
	const char *v = http_query(r, "period");
	char err[200];
	struct period p;
	if (!v || period_parse("period", v, &p, err, sizeof err)) {
		if (!v)
			snprintf(err, sizeof err, "period is required (YYYY, YYYYH1, YYYYQ1..Q4, YYYY-MM or YYYYWnn)");
		json_t *e = json_pack("[{s:s,s:s}]", "field", "period", "message", err);
		http_reply_problem(r, 422, "validation-failed", "Validation failed", err, e);
		return -1;
	}
	json_object_set_new(args, "period", json_pack("{s:s,s:s,s:s}", "label", p.label, "from", p.from, "to", p.to));
	return 0;
}

void http_bool_query(struct req *r, const char *name, json_t *args, json_t *errors)
{
	const char *v = http_query(r, name);
	if (!v)
		return;
	if (strcmp(v, "true") && strcmp(v, "false"))
		json_array_append_new(errors, json_pack("{s:s,s:s,s:s,s:{s:s}}", "field", name, "message",
							"must be true or false", "rule", "type", "params", "expected", "boolean"));
	else
		json_object_set_new(args, name, json_boolean(!strcmp(v, "true")));
}

void http_add_page(struct req *r, json_t *args, json_t *errors)
{
	const char *limit = http_query(r, "limit"), *cursor = http_query(r, "cursor");
	long n = 50;
	if (limit) {
		char *end;
		n = strtol(limit, &end, 10);
		if (*limit == 0 || *end || n < 1 || n > 500) {
			json_array_append_new(errors, json_pack("{s:s,s:s,s:s,s:{s:i,s:i}}", "field", "limit", "message", "must be an integer from 1 to 500",
										   "rule", "range", "params", "min", 1, "max", 500));
			n = 50;
		}
	}
	json_object_set_new(args, "limit", json_integer(n));
	if (cursor) {
		if (strlen(cursor) > 200)
			json_array_append_new(errors, json_pack("{s:s,s:s,s:s}", "field", "cursor", "message", "is not a cursor from this API", "rule", "cursor"));
		else
			json_object_set_new(args, "cursor", json_string(cursor));
	}
}

void http_call_page_done(struct req *r, enum sql_call call, json_t *args, json_t *errors, http_result_fn done)
{
	if (!errors)
		errors = json_array();
	http_add_page(r, args, errors);
	if (json_array_size(errors)) {
		json_decref(args);
		http_reply_invalid(r, 422, errors, NULL);
		return;
	}
	json_decref(errors);
	http_call(r, call, args, done);
}

void http_call_page(struct req *r, enum sql_call call, json_t *args, json_t *errors)
{
	http_call_page_done(r, call, args, errors, NULL);
}

int http_check_body(struct req *r, const struct vfield *spec)
{
	json_t *errors = json_array();
	char unknown[256] = "";
	int rc = validate_object(r->json, spec, "", errors, unknown, sizeof unknown);
	if (rc == VALIDATE_OK) {
		json_decref(errors);
		return 0;
	}
	http_reply_invalid(r, rc, errors, unknown);
	return -1;
}

const char *http_id_param(struct req *r, const char *what)
{
	const char *id = http_param(r, "id");
	if (validate_uuid(id))
		return id;
	char title[64], detail[96];
	snprintf(title, sizeof title, "%s not found", what);
	snprintf(detail, sizeof detail, "the id is not a %s id", what);
	title[0] = (char)toupper((unsigned char)title[0]);
	http_reply_problem_args(r, 404, "not-found", title, detail, NULL, "resource", json_pack("{s:s}", "resource", what));
	return NULL;
}

int http_if_match(struct req *r, json_t *args)
{
	const char *h = http_header(r, "If-Match");
	while (h && *h == ' ')
		h++;
	if (!h || !strcmp(h, "*")) {
		json_object_set_new(args, "if_match", json_null());
		return 0;
	}
	if (!strncmp(h, "W/", 2))
		h += 2;
	const char *p = h + (*h == '"');
	char *end;
	long long v = strtoll(p, &end, 10);
	if (end == p || (*h == '"' && *end != '"')) {
		http_reply_problem_args(r, 412, "precondition-failed", "Precondition failed",
					"If-Match must be the resource's ETag, e.g. \"3\"", NULL, "etag", NULL);
		return -1;
	}
	json_object_set_new(args, "if_match", json_integer(v));
	return 0;
}
