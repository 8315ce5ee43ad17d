/*
 * health.c - liveness, readiness, metrics, the OpenAPI document, who the
 * token belongs to, and the web application's files (see health.h).
 */
#include "plantrack/health.h"
#include "plantrack/config.h"
#include "plantrack/db.h"
#include "plantrack/embed.h"
#include "plantrack/fileio.h"
#include "plantrack/http.h"
#include "plantrack/log.h"
#include "plantrack/metrics.h"
#include "plantrack/roles.h"
#include "plantrack/router.h"
#include "plantrack/worker.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* From paths.openapi when set (read at start, owned here), else the
 * embedded copy (static). */
static const char *openapi_doc;
static size_t openapi_len;

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
		json_t *body = json_pack("{s:s,s:i,s:s}", "db", "ok", "schema", st.schema, "version", PLANTRACK_VERSION);
		json_object_set_new(body, "schema_version", version);
		json_object_set_new(body, "api_checksum", api);
		http_reply_json(r, 200, body);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Retry-After", "2");
	json_t *body = json_pack("{s:s,s:s,s:s}", "db", "unavailable", "reason", st.reason, "version", PLANTRACK_VERSION);
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

/* The headers every web file carries: scripts and styles only from files of
 * this origin (the pages need no inline script or style), no sniffing, no
 * Referer with the page's address. */
static void web_headers(struct req *r)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
	evhttp_add_header(h, "Content-Security-Policy",
			  "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
			  "form-action 'self'; frame-ancestors 'none'");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
}

const char *health_web_content_type(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".ico", "image/x-icon" },
		{ ".png", "image/png" },
		{ ".json", "application/json" },
		{ ".woff2", "font/woff2" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = name ? strrchr(name, '.') : NULL;
	if (!dot || strchr(dot, '/'))
		return NULL;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

int health_web_name_ok(const char *seg)
{
	/* One path segment of a served name: letters, digits, '-', '_' and '.',
	 * not starting with '.' (no "..", no hidden files), at most 100 bytes. */
	size_t n = seg ? strlen(seg) : 0;
	if (n == 0 || n > 100 || seg[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = seg[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

/* The bytes of web/<dir>/<file> (dir may be NULL): from paths.web when it is
 * set (read on each request, so an edit shows at once; *heap set, the caller
 * frees), else the copy compiled into the binary (embed.h). NULL: no such file. */
static const char *web_file(const struct config *c, const char *dir, const char *file,
			    size_t *len, char **heap)
{
	char path[4096];
	*heap = NULL;
	if (c->web_dir && *c->web_dir) {
		int n = dir ? snprintf(path, sizeof path, "%s/%s/%s", c->web_dir, dir, file)
			    : snprintf(path, sizeof path, "%s/%s", c->web_dir, file);
		struct stat st;
		if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			return NULL;
		return *heap = fileio_read(path, len);
	}
	int n = dir ? snprintf(path, sizeof path, "web/%s/%s", dir, file)
		    : snprintf(path, sizeof path, "web/%s", file);
	const struct embed_file *f = n > 0 && (size_t)n < sizeof path ? embed_find(path) : NULL;
	if (!f)
		return NULL;
	*len = f->len;
	return (const char *)f->data;
}

/* Answers web/<dir>/<file>: 1 answered, 0 no such file (nothing sent). */
static int serve_web_file(struct req *r, const char *dir, const char *file)
{
	const char *type = health_web_content_type(file);
	if (!type || !health_web_name_ok(file) || (dir && !health_web_name_ok(dir)))
		return 0;
	size_t len = 0;
	char *heap;
	const char *body = web_file(http_config(r), dir, file, &len, &heap);
	if (!body)
		return 0;
	web_headers(r);
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Cache-Control", "no-cache");
	http_reply_raw(r, 200, type, body, len);
	free(heap);
	return 1;
}

int health_serve_web(struct req *r, const char *path)
{
	if (!path || path[0] != '/' || strncmp(path, "/v1/", 4) == 0)
		return 0;
	char seg[2][128];
	const char *p = path + 1;
	int nseg = 0;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (nseg == 2 || len == 0 || len >= sizeof seg[0])
			return 0;
		memcpy(seg[nseg], p, len);
		seg[nseg][len] = 0;
		nseg++;
		p += len;
		if (*p == '/')
			p++;
		if (slash && !*p)
			return 0;       /* trailing slash */
	}
	if (nseg == 1)
		return serve_web_file(r, NULL, seg[0]);
	if (nseg == 2)
		return serve_web_file(r, seg[0], seg[1]);
	return 0;
}

static void handle_index(struct req *r)
{
	if (!serve_web_file(r, NULL, "index.html"))
		http_reply_json(r, 200, json_pack("{s:s,s:s}", "service", "plantrack", "api", "/v1/openapi.json"));
}

/* The API reference page (web/docs/index.html) and the document it renders,
 * both without a token. */
static void handle_docs(struct req *r)
{
	if (!serve_web_file(r, "docs", "index.html"))
		http_reply_problem(r, 404, "not-found", "Not found", "web/docs/index.html was not installed", NULL);
}

static void handle_docs_openapi(struct req *r)
{
	if (!openapi_doc) {
		http_reply_problem(r, 404, "not-found", "Not found", "docs/openapi.json was not installed", NULL);
		return;
	}
	web_headers(r);
	http_reply_raw(r, 200, "application/json", openapi_doc, openapi_len);
}

/* Who the token belongs to: the web page shows the actions of this role. */
static void handle_me(struct req *r)
{
	json_t *me = json_pack("{s:s,s:s,s:s}", "id", r->tok.id, "name", r->tok.name,
			       "role", role_name(r->tok.role));
	json_object_set_new(me, "unit_id", r->tok.unit_id[0] ? json_string(r->tok.unit_id) : json_null());
	http_reply_json(r, 200, me);
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
	int rc = 0;
	rc |= router_add(r, RM_GET, "/", (void *)handle_index, ROUTE_PUBLIC);
	rc |= router_add(r, RM_GET, "/healthz", (void *)handle_healthz, ROUTE_PUBLIC);
	rc |= router_add(r, RM_GET, "/readyz", (void *)handle_readyz, ROUTE_PUBLIC);
	rc |= router_add(r, RM_GET, "/metrics", (void *)handle_metrics, ROUTE_PUBLIC);
	rc |= router_add(r, RM_GET, "/v1/openapi.json", (void *)handle_openapi, ROLE_VIEWER | ROUTE_NEEDS_DB);
	rc |= router_add(r, RM_GET, "/v1/me", (void *)handle_me, ROLE_VIEWER | ROUTE_NEEDS_DB);
	rc |= router_add(r, RM_GET, "/docs", (void *)handle_docs, ROUTE_PUBLIC);
	rc |= router_add(r, RM_GET, "/docs/openapi.json", (void *)handle_docs_openapi, ROUTE_PUBLIC);
	return rc;
}
