/*
 * test_openapi.c - docs/openapi.json describes exactly the routes the router
 * knows: every registered (method, path) is in the document and the document
 * lists nothing the router does not serve. Also checks per operation what the
 * route flags say: path parameters declared, public routes without security,
 * the role floor (x-plantrack-role), request bodies where the route reads one
 * (application/json, or text/plain/text/csv for imports), and that every
 * local $ref resolves.
 */
#include "check.h"
#include "plantrack/config.h"
#include "plantrack/http.h"
#include "plantrack/router.h"
#include "plantrack/routes.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const doc_methods[] = { "get", "put", "post", "delete", "options", "head", "patch", "trace", NULL };

static json_t *doc;

/* Lower-case method name for a router method bit. */
static const char *method_key(int method)
{
	switch (method) {
	case RM_GET: return "get";
	case RM_POST: return "post";
	case RM_PUT: return "put";
	case RM_PATCH: return "patch";
	case RM_DELETE: return "delete";
	case RM_HEAD: return "head";
	case RM_OPTIONS: return "options";
	default: return "?";
	}
}

static int method_bit(const char *key)
{
	if (!strcmp(key, "get")) return RM_GET;
	if (!strcmp(key, "post")) return RM_POST;
	if (!strcmp(key, "put")) return RM_PUT;
	if (!strcmp(key, "patch")) return RM_PATCH;
	if (!strcmp(key, "delete")) return RM_DELETE;
	if (!strcmp(key, "head")) return RM_HEAD;
	if (!strcmp(key, "options")) return RM_OPTIONS;
	return 0;
}

static const struct route *find_route(const struct router *r, int method, const char *pattern)
{
	for (size_t i = 0; i < router_count(r); i++) {
		const struct route *rt = router_get(r, i);
		if (rt->method == method && !strcmp(rt->pattern, pattern))
			return rt;
	}
	return NULL;
}

/* Resolves a local "#/a/b" reference (JSON pointer, ~0 ~1 escapes); NULL when it dangles. */
static json_t *resolve_ref(const char *ref)
{
	if (strncmp(ref, "#/", 2))
		return NULL;
	json_t *node = doc;
	const char *p = ref + 2;
	while (node && *p) {
		char token[256];
		size_t n = 0;
		while (*p && *p != '/' && n + 1 < sizeof token) {
			if (p[0] == '~' && p[1] == '1') {
				token[n++] = '/';
				p += 2;
			} else if (p[0] == '~' && p[1] == '0') {
				token[n++] = '~';
				p += 2;
			} else {
				token[n++] = *p++;
			}
		}
		token[n] = 0;
		if (*p == '/')
			p++;
		node = json_is_object(node) ? json_object_get(node, token) : NULL;
	}
	return node;
}

/* The object itself, or what its $ref points at. */
static json_t *deref(json_t *v)
{
	for (int hops = 0; hops < 8 && json_is_object(v); hops++) {
		json_t *ref = json_object_get(v, "$ref");
		if (!json_is_string(ref))
			return v;
		v = resolve_ref(json_string_value(ref));
	}
	return v;
}

static int dangling;

static void check_refs(json_t *v, const char *where)
{
	if (json_is_object(v)) {
		const char *key;
		json_t *child;
		json_object_foreach(v, key, child) {
			if (!strcmp(key, "$ref") && json_is_string(child)) {
				if (!resolve_ref(json_string_value(child))) {
					fprintf(stderr, "dangling $ref %s (in %s)\n", json_string_value(child), where);
					dangling++;
				}
			} else {
				check_refs(child, where);
			}
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *child;
		json_array_foreach(v, i, child)
			check_refs(child, where);
	}
}

/* 1 when the operation (or its path item) declares path parameter name, required. */
static int has_path_param(json_t *path_item, json_t *operation, const char *name)
{
	json_t *lists[2] = { json_object_get(operation, "parameters"), json_object_get(path_item, "parameters") };
	for (int l = 0; l < 2; l++) {
		size_t i;
		json_t *p;
		json_array_foreach(lists[l], i, p) {
			p = deref(p);
			if (json_is_string(json_object_get(p, "name")) &&
			    !strcmp(json_string_value(json_object_get(p, "name")), name) &&
			    json_is_string(json_object_get(p, "in")) &&
			    !strcmp(json_string_value(json_object_get(p, "in")), "path") &&
			    json_is_true(json_object_get(p, "required")))
				return 1;
		}
	}
	return 0;
}

static const char *floor_role_name(int floor)
{
	switch (floor) {
	case ROLE_VIEWER: return "viewer";
	case ROLE_EDITOR: return "editor";
	case ROLE_SUPERVISOR: return "supervisor";
	case ROLE_ADMIN: return "admin";
	default: return "none";
	}
}

static int media_starts(json_t *content, const char *prefix)
{
	const char *key;
	json_t *v;
	int found = 0;
	json_object_foreach(content, key, v) {
		if (!strncasecmp(key, prefix, strlen(prefix)))
			found = 1;
	}
	return found;
}

/* What the document says about one registered route; prints each problem. */
static int check_operation(const struct route *rt, json_t *path_item, json_t *operation)
{
	int bad = 0;
	const char *m = method_key(rt->method);
	/* every {name} of the pattern is a declared, required path parameter */
	for (const char *p = strchr(rt->pattern, '{'); p; p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		if (!end)
			break;
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
		if (!has_path_param(path_item, operation, name)) {
			fprintf(stderr, "%s %s: path parameter {%s} is not declared\n", m, rt->pattern, name);
			bad++;
		}
	}
	/* security: public routes none, the others bearer with the route's role floor */
	json_t *sec = json_object_get(operation, "security");
	if (rt->flags & ROUTE_PUBLIC) {
		if (!json_is_array(sec) || json_array_size(sec) != 0) {
			fprintf(stderr, "%s %s: public route must have \"security\": []\n", m, rt->pattern);
			bad++;
		}
	} else {
		if (sec && (!json_is_array(sec) || json_array_size(sec) == 0)) {
			fprintf(stderr, "%s %s: needs a token but the document lifts security\n", m, rt->pattern);
			bad++;
		}
		const char *want = floor_role_name(rt->flags & ROUTE_ROLE_MASK);
		json_t *role = json_object_get(operation, "x-plantrack-role");
		if (!json_is_string(role) || strcmp(json_string_value(role), want)) {
			fprintf(stderr, "%s %s: x-plantrack-role is %s, the route needs %s\n", m, rt->pattern,
				json_is_string(role) ? json_string_value(role) : "(missing)", want);
			bad++;
		}
		json_t *responses = json_object_get(operation, "responses");
		if (!json_object_get(responses, "401") || !json_object_get(responses, "403")) {
			fprintf(stderr, "%s %s: 401 and 403 responses missing\n", m, rt->pattern);
			bad++;
		}
	}
	if ((rt->flags & ROUTE_NEEDS_DB) && !json_object_get(json_object_get(operation, "responses"), "503")) {
		fprintf(stderr, "%s %s: needs the database but documents no 503\n", m, rt->pattern);
		bad++;
	}
	/* request body where the route reads one, and of the right media type */
	json_t *body = deref(json_object_get(operation, "requestBody"));
	json_t *content = json_object_get(body, "content");
	if (rt->flags & ROUTE_JSON_BODY) {
		if (!json_object_get(content, "application/json")) {
			fprintf(stderr, "%s %s: reads a JSON body but documents no application/json requestBody\n",
				m, rt->pattern);
			bad++;
		}
	} else if (rt->flags & ROUTE_TEXT_BODY) {
		if (!content || !(media_starts(content, "text/plain") || media_starts(content, "text/csv"))) {
			fprintf(stderr, "%s %s: reads a text body but documents no text/plain or text/csv requestBody\n",
				m, rt->pattern);
			bad++;
		}
	} else if (body) {
		fprintf(stderr, "%s %s: documents a requestBody the route does not read\n", m, rt->pattern);
		bad++;
	}
	if (!json_is_object(json_object_get(operation, "responses")) ||
	    json_object_size(json_object_get(operation, "responses")) == 0) {
		fprintf(stderr, "%s %s: no responses\n", m, rt->pattern);
		bad++;
	}
	return bad;
}

static json_t *load_doc(void)
{
	const char *src = getenv("PLANTRACK_SOURCE_DIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/docs/openapi.json", src && *src ? src : PLANTRACK_SOURCE_DIR);
	json_error_t err;
	json_t *d = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!d)
		fprintf(stderr, "%s:%d:%d: %s\n", path, err.line, err.column, err.text);
	return d;
}

int main(void)
{
	struct config *c = malloc(sizeof *c);
	config_init_defaults(c);
	config_resolve_paths(c);
	config_publish(c);

	struct router *r = routes_build();
	CHECK(r != NULL);
	if (!r)
		return check_summary();
	CHECK(router_count(r) > 0);

	doc = load_doc();
	CHECK(doc != NULL);
	if (!doc) {
		router_free(r);
		config_release_all();
		return check_summary();
	}
	CHECK(json_is_string(json_object_get(doc, "openapi")) &&
	      !strncmp(json_string_value(json_object_get(doc, "openapi")), "3.1", 3));
	json_t *paths = json_object_get(doc, "paths");
	CHECK(json_is_object(paths));

	/* 1. every route the router knows is in the document */
	int missing = 0, flag_problems = 0;
	for (size_t i = 0; i < router_count(r); i++) {
		const struct route *rt = router_get(r, i);
		/* HEAD is implied by GET; a HEAD-only route would have to be listed */
		if (rt->method == RM_HEAD && find_route(r, RM_GET, rt->pattern))
			continue;
		json_t *item = json_object_get(paths, rt->pattern);
		json_t *operation = json_object_get(item, method_key(rt->method));
		if (!json_is_object(operation)) {
			fprintf(stderr, "missing from docs/openapi.json: %s %s\n", router_method_name(rt->method),
				rt->pattern);
			missing++;
			continue;
		}
		flag_problems += check_operation(rt, item, operation);
	}
	CHECK(missing == 0);
	CHECK(flag_problems == 0);

	/* 2. the document lists nothing the router does not know */
	int extra = 0;
	const char *path;
	json_t *item;
	json_t *op_ids = json_object();
	json_object_foreach(paths, path, item) {
		int any = 0;
		for (const char *const *mk = doc_methods; *mk; mk++) {
			json_t *operation = json_object_get(item, *mk);
			if (!operation)
				continue;
			any = 1;
			int bit = method_bit(*mk);
			if (!bit || !find_route(r, bit, path)) {
				fprintf(stderr, "not served by the router: %s %s\n", *mk, path);
				extra++;
			}
			json_t *id = json_object_get(operation, "operationId");
			if (json_is_string(id)) {
				if (json_object_get(op_ids, json_string_value(id))) {
					fprintf(stderr, "duplicate operationId %s (%s %s)\n", json_string_value(id), *mk, path);
					extra++;
				}
				json_object_set_new(op_ids, json_string_value(id), json_true());
			}
		}
		if (!any) {
			fprintf(stderr, "path without operations: %s\n", path);
			extra++;
		}
	}
	json_decref(op_ids);
	CHECK(extra == 0);

	/* 3. every $ref resolves; the schemas the API promises exist */
	check_refs(doc, "docs/openapi.json");
	CHECK(dangling == 0);
	json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
	static const char *const wanted[] = { "Task", "Plan", "PlanWithTree", "Update", "Event", "Summary", "Token",
					      "Webhook", "Delivery", "Problem", "TaskPage", "PlanPage", NULL };
	for (const char *const *w = wanted; *w; w++) {
		if (!json_object_get(schemas, *w)) {
			fprintf(stderr, "components.schemas.%s is missing\n", *w);
			CHECK(json_object_get(schemas, *w) != NULL);
		}
	}
	json_t *bearer = json_object_get(json_object_get(json_object_get(doc, "components"), "securitySchemes"),
					 "bearer");
	CHECK(json_is_string(json_object_get(bearer, "scheme")) &&
	      !strcmp(json_string_value(json_object_get(bearer, "scheme")), "bearer"));

	printf("%zu routes, %zu documented paths\n", router_count(r), json_object_size(paths));
	json_decref(doc);
	router_free(r);
	config_release_all();
	return check_summary();
}
