/*
 * health.c - liveness, readiness, metrics, the OpenAPI document and the
 * dashboard page (see health.h).
 */
#include "plantrack/health.h"
#include "plantrack/config.h"
#include "plantrack/db.h"
#include "plantrack/embed.h"
#include "plantrack/fileio.h"
#include "plantrack/http.h"
#include "plantrack/log.h"
#include "plantrack/metrics.h"
#include "plantrack/router.h"
#include "plantrack/worker.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* From paths.openapi / paths.web when set (read at start, owned here),
 * else the embedded copies (static). */
static const char *openapi_doc;
static size_t openapi_len;
static const char *index_page;
static size_t index_len;

static void handle_healthz(struct req *r)
{
	http_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static void handle_readyz(struct req *r)
{
	struct db_status st;
	db_pool_status(worker_db(r->w), &st);
	/* Ready means every worker can serve: this one's pool (authoritative)
	 * and the others' as they last published it. */
	if (st.ready && !metrics_pool_all_ready())
		snprintf(st.reason, sizeof st.reason, "another worker has no database connection yet");
	/* schema_version and api_checksum: what the database has (null unknown). */
	json_t *version = st.schema >= 0 ? json_integer(st.schema) : json_null();
	json_t *api = st.api_checksum[0] ? json_string(st.api_checksum) : json_null();
	if (st.ready && metrics_pool_all_ready()) {
		json_t *body = json_pack("{s:s,s:i}", "db", "ok", "schema", st.schema);
		json_object_set_new(body, "schema_version", version);
		json_object_set_new(body, "api_checksum", api);
		http_reply_json(r, 200, body);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Retry-After", "2");
	json_t *body = json_pack("{s:s,s:s}", "db", "unavailable", "reason", st.reason);
	json_object_set_new(body, "schema", st.schema >= 0 ? json_integer(st.schema) : json_null());
	json_object_set_new(body, "schema_version", version);
	json_object_set_new(body, "api_checksum", api);
	http_reply_json(r, 503, body);
}

static void handle_metrics(struct req *r)
{
	struct evbuffer *out = evbuffer_new();
	metrics_render(out);
	size_t len = evbuffer_get_length(out);
	http_reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8",
		       len ? (const char *)evbuffer_pullup(out, -1) : "", len);
	evbuffer_free(out);
}

static void handle_openapi(struct req *r)
{
	if (!openapi_doc) {
		http_reply_problem(r, 404, "not-found", "Not found", "docs/openapi.json was not installed", NULL);
		return;
	}
	http_reply_raw(r, 200, "application/json", openapi_doc, openapi_len);
}

static void handle_index(struct req *r)
{
	if (!index_page) {
		http_reply_json(r, 200, json_pack("{s:s,s:s}", "service", "plantrack", "api", "/v1/openapi.json"));
		return;
	}
	http_reply_raw(r, 200, "text/html; charset=utf-8", index_page, index_len);
}

int health_register(struct router *r)
{
	const struct config *c = config_current();
	const struct embed_file *f;
	if (c->openapi_path && *c->openapi_path) {
		openapi_doc = fileio_read(c->openapi_path, &openapi_len);
		if (!openapi_doc)
			log_warn("openapi document not found at %s", c->openapi_path);
	} else if ((f = embed_find("docs/openapi.json")) != NULL) {
		openapi_doc = (const char *)f->data;
		openapi_len = f->len;
	}
	if (c->web_dir && *c->web_dir) {
		char path[4096];
		snprintf(path, sizeof path, "%s/index.html", c->web_dir);
		index_page = fileio_read(path, &index_len);
	} else if ((f = embed_find("web/index.html")) != NULL) {
		index_page = (const char *)f->data;
		index_len = f->len;
	}
	int rc = 0;
	rc |= router_add(r, RM_GET, "/", (void *)handle_index, ROUTE_PUBLIC);
	rc |= router_add(r, RM_GET, "/healthz", (void *)handle_healthz, ROUTE_PUBLIC);
	rc |= router_add(r, RM_GET, "/readyz", (void *)handle_readyz, ROUTE_PUBLIC);
	rc |= router_add(r, RM_GET, "/metrics", (void *)handle_metrics, ROUTE_PUBLIC);
	rc |= router_add(r, RM_GET, "/v1/openapi.json", (void *)handle_openapi, ROLE_VIEWER | ROUTE_NEEDS_DB);
	return rc;
}
