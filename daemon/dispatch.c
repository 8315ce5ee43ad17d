/*
 * dispatch.c - the path of a request from evhttp to its handler (see
 * dispatch.h): request id, query string, drain, route match, database
 * readiness, body limits and media types, token and role (auth.c), handler.
 * Every early answer goes through http.c, which also ends the request.
 */
#include "plantrack/dispatch.h"
#include "plantrack/auth.h"
#include "plantrack/config.h"
#include "plantrack/connguard.h"
#include "plantrack/db.h"
#include "plantrack/health.h"
#include "plantrack/http.h"
#include "plantrack/router.h"
#include "plantrack/worker.h"
#include "plantrack/xalloc.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <uuid/uuid.h>

static const struct router *dispatch_router;

void dispatch_set_router(const struct router *router)
{
	dispatch_router = router;
}

static int method_bit(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return RM_GET;
	case EVHTTP_REQ_POST: return RM_POST;
	case EVHTTP_REQ_PUT: return RM_PUT;
	case EVHTTP_REQ_PATCH: return RM_PATCH;
	case EVHTTP_REQ_DELETE: return RM_DELETE;
	case EVHTTP_REQ_HEAD: return RM_HEAD;
	case EVHTTP_REQ_OPTIONS: return RM_OPTIONS;
	default: return 0;
	}
}

static void set_request_id(struct req *r)
{
	const char *in = evhttp_find_header(evhttp_request_get_input_headers(r->ev), "X-Request-Id");
	int ok = in && *in && strlen(in) < sizeof r->request_id;
	for (const char *s = in; ok && *s; s++)
		if (!(*s == '-' || *s == '_' || *s == '.' || (*s >= '0' && *s <= '9') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			ok = 0;
	if (ok) {
		snprintf(r->request_id, sizeof r->request_id, "%s", in);
	} else {
		uuid_t u;
		uuid_generate_random(u);
		uuid_unparse_lower(u, r->request_id);
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "X-Request-Id", r->request_id);
}

static int content_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);
	if (!ct || strncasecmp(ct, want, n))
		return 0;
	return ct[n] == 0 || ct[n] == ';' || ct[n] == ' ';
}

static void parse_charset(struct req *r, const char *ct)
{
	r->charset[0] = 0;
	const char *cs = ct ? strcasestr(ct, "charset=") : NULL;
	if (!cs)
		return;
	cs += 8;
	if (*cs == '"')
		cs++;
	size_t i = 0;
	while (cs[i] && cs[i] != ';' && cs[i] != '"' && cs[i] != ' ' && i + 1 < sizeof r->charset) {
		char ch = cs[i];
		r->charset[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
		i++;
	}
	r->charset[i] = 0;
}

/* Checks media type and parses the body. 0 to go on; -1 when answered. */
static int read_body(struct req *r, const struct config *c)
{
	int flags = r->m.route->flags;
	struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
	r->body_len = evbuffer_get_length(in);
	/* per-route limits: uploads (ROUTE_RAW_BODY) have their own */
	size_t limit = (flags & ROUTE_RAW_BODY) ? c->max_attachment
		       : (flags & ROUTE_LARGE_BODY) ? c->max_import_body : c->max_body;
	if (r->body_len > limit) {
		char detail[128];
		snprintf(detail, sizeof detail, "the body is %zu bytes; the limit is %zu", r->body_len, limit);
		http_reply_problem_args(r, 413, "body-too-large", "Request body too large", detail, NULL, "size",
					json_pack("{s:I,s:I}", "size", (json_int_t)r->body_len, "limit", (json_int_t)limit));
		return -1;
	}
	r->body = r->body_len ? (const char *)evbuffer_pullup(in, -1) : "";
	if (!(r->method & (RM_POST | RM_PATCH | RM_PUT)))
		return 0;
	const char *ct = http_header(r, "Content-Type");
	parse_charset(r, ct);
	/* ROUTE_JSON_BODY | ROUTE_TEXT_BODY: JSON, or text when sent as text */
	int as_text = (flags & ROUTE_TEXT_BODY) &&
		      (!(flags & ROUTE_JSON_BODY) || content_type_is(ct, "text/plain") || content_type_is(ct, "text/csv"));
	if ((flags & ROUTE_JSON_BODY) && !as_text) {
		if (r->body_len == 0) {
			r->json = json_object();
			return 0;
		}
		if (!content_type_is(ct, "application/json")) {
			http_reply_problem_args(r, 415, "unsupported-media-type", "Unsupported media type",
						"send the body as application/json", NULL, "json", NULL);
			return -1;
		}
		json_error_t err;
		r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &err);
		if (!r->json) {
			char detail[256];
			snprintf(detail, sizeof detail, "line %d column %d: %s", err.line, err.column, err.text);
			http_reply_problem_args(r, 400, "malformed-json", "Malformed JSON", detail, NULL, "syntax",
						json_pack("{s:i,s:i}", "line", err.line, "column", err.column));
			return -1;
		}
		if (!json_is_object(r->json)) {
			http_reply_problem_args(r, 400, "malformed-json", "Malformed JSON",
						"the body must be a JSON object", NULL, "object", NULL);
			return -1;
		}
	} else if (as_text) {
		if (!content_type_is(ct, "text/plain") && !content_type_is(ct, "text/csv")) {
			http_reply_problem_args(r, 415, "unsupported-media-type", "Unsupported media type",
						"send the body as text/plain or text/csv (charset utf-8 or gb18030)", NULL, "text", NULL);
			return -1;
		}
	}
	return 0;
}

static void run_handler(struct req *r)
{
	((handler_fn)r->m.route->handler)(r);
}

/* The connection guard refused the request from its headers (connguard.h):
 * answer its verdict. 1 when answered. */
static int guard_verdict(struct req *r)
{
	char detail[200];
	int retry = 0, close = 0;
	int status = r->ev ? connguard_verdict(r->ev, detail, sizeof detail, &retry, &close) : 0;
	if (!status)
		return 0;
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->ev);
	if (close)
		evhttp_add_header(out, "Connection", "close");
	if (retry) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", retry);
		evhttp_add_header(out, "Retry-After", ra);
	}
	if (status == 401)
		evhttp_add_header(out, "WWW-Authenticate", "Bearer realm=\"plantrack\"");
	const char *slug = status == 413 ? "body-too-large" : status == 401 ? "unauthorized"
			 : status == 403 ? "forbidden" : status == 503 ? "overloaded" : "bad-request";
	const char *title = status == 413 ? "Request body too large" : status == 401 ? "Unauthorized"
			  : status == 403 ? "Forbidden" : status == 503 ? "Server busy" : "Bad request";
	http_reply_problem(r, status, slug, title, detail, NULL);
	return 1;
}

void dispatch_request(struct evhttp_request *ev, void *arg)
{
	struct worker *w = arg;
	struct req *r = xcalloc(1, sizeof *r);
	w->inflight++;
	worker_request_starts(w, ev);
	r->ev = ev;
	r->w = w;
	r->t0_ns = pt_now_ns();
	TAILQ_INIT(&r->query);
	set_request_id(r);
	r->method = method_bit(evhttp_request_get_command(ev));
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
	const char *raw_path = uri ? evhttp_uri_get_path(uri) : NULL;
	r->path = evhttp_uridecode(raw_path && *raw_path ? raw_path : "/", 0, NULL);
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
	if (guard_verdict(r))
		return;
	/* A NUL byte would end the decoded path or a query value early, so what
	 * is checked would differ from what was sent. */
	const char *raw = evhttp_request_get_uri(ev);
	if (raw && strcasestr(raw, "%00")) {
		http_reply_problem(r, 400, "bad-request", "Bad request", "the path or query holds %00 (a NUL byte)", NULL);
		return;
	}
	if (qs && evhttp_parse_query_str(qs, &r->query) < 0) {
		http_reply_problem(r, 400, "bad-query", "Malformed query string", NULL, NULL);
		return;
	}
	dispatch_req(r);
}

void dispatch_req(struct req *r)
{
	struct worker *w = r->w;
	struct evhttp_request *ev = r->ev;
	const struct config *c = config_current();
	if (w->draining) {
		evhttp_add_header(evhttp_request_get_output_headers(ev), "Connection", "close");
		/* another instance (or this one, restarted) will take it */
		evhttp_add_header(evhttp_request_get_output_headers(ev), "Retry-After", "1");
		http_reply_problem(r, 503, "shutting-down", "Shutting down", "the server is draining", NULL);
		return;
	}
	char allow[96];
	switch (router_match(dispatch_router, r->method, r->path ? r->path : "/", &r->m, allow, sizeof allow)) {
	case ROUTER_NOT_FOUND:
		if ((r->method == RM_GET || r->method == RM_HEAD) && health_serve_web(r, r->path))
			return;     /* a file of the web application */
		http_reply_problem_args(r, 404, "not-found", "Not found", "no route for this path", NULL, "route", NULL);
		return;
	case ROUTER_METHOD_NOT_ALLOWED:
		evhttp_add_header(evhttp_request_get_output_headers(ev), "Allow", allow);
		http_reply_problem_args(r, 405, "method-not-allowed", "Method not allowed", allow, NULL, "allow",
					json_pack("{s:s}", "allow", allow));
		return;
	case ROUTER_FOUND:
		break;
	}
	int flags = r->m.route->flags;
	if (flags & ROUTE_NEEDS_DB) {
		struct db_status st;
		db_pool_status(w->db, &st);
		if (!st.ready) {
			evhttp_add_header(evhttp_request_get_output_headers(ev), "Retry-After", "2");
			http_reply_problem(r, 503, "database-unavailable", "Database unavailable", st.reason, NULL);
			return;
		}
	}
	if (read_body(r, c))
		return;
	if (flags & ROUTE_PUBLIC)
		run_handler(r);
	else
		auth_authenticate(r, (enum role)(flags & ROUTE_ROLE_MASK), run_handler);
}

