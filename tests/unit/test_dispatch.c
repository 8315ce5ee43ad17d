/*
 * test_dispatch.c - the request path without a listener: a hand-built
 * struct req (an evhttp request with no connection) goes through
 * dispatch_req -> router -> body checks -> auth -> handler -> http reply,
 * and a reply tap records what would be sent. Covers 404, 405 + Allow, 415,
 * malformed JSON, 401 without a token, draining, and two handlers.
 */
#include "check.h"
#include "plantrack/config.h"
#include "plantrack/dispatch.h"
#include "plantrack/http.h"
#include "plantrack/log.h"
#include "plantrack/router.h"
#include "plantrack/worker.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

static int last_status;
static char last_body[1024];
static char last_allow[128];
static int handler_calls;

static void tap(const struct req *r, int status, struct evbuffer *body)
{
	last_status = status;
	last_body[0] = '\0';
	if (body) {
		size_t n = evbuffer_get_length(body);
		if (n >= sizeof last_body)
			n = sizeof last_body - 1;
		evbuffer_copyout(body, last_body, n);
		last_body[n] = '\0';
	}
	const char *allow = evhttp_find_header(evhttp_request_get_output_headers(r->ev), "Allow");
	snprintf(last_allow, sizeof last_allow, "%s", allow ? allow : "");
}

/* GET /v1/hello/{id}: {"id": the UUID} or 404 from http_id_param. */
static void handle_hello(struct req *r)
{
	handler_calls++;
	const char *id = http_id_param(r, "hello");
	if (id)
		http_reply_json(r, 200, json_pack("{s:s}", "id", id));
}

/* POST /v1/echo: the JSON body back. */
static void handle_echo(struct req *r)
{
	handler_calls++;
	http_reply_json(r, 201, json_incref(r->json));
}

static void run(struct worker *w, int method, const char *path, const char *ctype, const char *body,
		const char *authz)
{
	struct req *r = calloc(1, sizeof *r);
	r->ev = evhttp_request_new(NULL, NULL);
	r->w = w;
	r->method = method;
	r->path = strdup(path);
	TAILQ_INIT(&r->query);
	if (ctype)
		evhttp_add_header(evhttp_request_get_input_headers(r->ev), "Content-Type", ctype);
	if (authz)
		evhttp_add_header(evhttp_request_get_input_headers(r->ev), "Authorization", authz);
	if (body)
		evbuffer_add(evhttp_request_get_input_buffer(r->ev), body, strlen(body));
	w->inflight++;
	last_status = 0;
	dispatch_req(r);
}

int main(void)
{
	log_set_level(LOG_LVL_ERROR);
	struct config *c = malloc(sizeof *c);
	config_init_defaults(c);
	config_publish(c);
	struct router *rt = router_new();
	CHECK(router_add(rt, RM_GET, "/v1/hello/{id}", (void *)handle_hello, ROUTE_PUBLIC) == 0);
	CHECK(router_add(rt, RM_POST, "/v1/echo", (void *)handle_echo, ROUTE_PUBLIC | ROUTE_JSON_BODY) == 0);
	CHECK(router_add(rt, RM_GET, "/v1/secret", (void *)handle_hello, ROLE_ADMIN) == 0);
	dispatch_set_router(rt);
	http_set_reply_tap(tap);
	struct worker *w = calloc(1, sizeof *w);
	w->nworkers = 1;

	run(w, RM_GET, "/v1/hello/7b0c1c59-3f3c-4a8e-9d55-0c3a2f1e9a10", NULL, NULL, NULL);
	CHECK(last_status == 200 && strstr(last_body, "7b0c1c59-3f3c-4a8e-9d55-0c3a2f1e9a10"));
	run(w, RM_GET, "/v1/hello/not-a-uuid", NULL, NULL, NULL);
	CHECK(last_status == 404 && strstr(last_body, "not a hello id"));
	run(w, RM_GET, "/v1/nowhere", NULL, NULL, NULL);
	CHECK(last_status == 404 && strstr(last_body, "no route"));
	run(w, RM_DELETE, "/v1/echo", NULL, NULL, NULL);
	CHECK(last_status == 405 && strstr(last_allow, "POST"));

	run(w, RM_POST, "/v1/echo", "application/json", "{\"a\":[1,2]}", NULL);
	CHECK(last_status == 201 && strstr(last_body, "\"a\"") && strstr(last_body, "[1,2]"));
	run(w, RM_POST, "/v1/echo", "text/plain", "{\"a\":1}", NULL);
	CHECK(last_status == 415);
	run(w, RM_POST, "/v1/echo", "application/json", "{\"a\":", NULL);
	CHECK(last_status == 400 && strstr(last_body, "malformed-json"));
	run(w, RM_POST, "/v1/echo", "application/json", "[1]", NULL);
	CHECK(last_status == 400);

	int before = handler_calls;
	run(w, RM_GET, "/v1/secret", NULL, NULL, NULL);
	CHECK(last_status == 401 && handler_calls == before);
	run(w, RM_GET, "/v1/secret", NULL, NULL, "Basic abc");
	CHECK(last_status == 401 && handler_calls == before);

	w->draining = 1;
	run(w, RM_GET, "/v1/hello/7b0c1c59-3f3c-4a8e-9d55-0c3a2f1e9a10", NULL, NULL, NULL);
	CHECK(last_status == 503 && handler_calls == before);
	CHECK(w->inflight == 0);

	free(w);
	router_free(rt);
	config_release_all();
	return check_summary();
}
