/*
 * router.h - method + path pattern to handler, with path parameters.
 *
 * Patterns are literal segments and "{name}" parameters, e.g.
 * "/v1/tasks/{id}/updates". A router is built once at start-up and then only
 * read, so worker threads share it. Matching allocates nothing.
 */
#ifndef PLANTRACK_ROUTER_H
#define PLANTRACK_ROUTER_H

#include <stddef.h>

#define ROUTER_MAX_PARAMS 4
#define ROUTER_PARAM_LEN 128

enum router_method {
	RM_GET = 1 << 0,
	RM_POST = 1 << 1,
	RM_PUT = 1 << 2,
	RM_PATCH = 1 << 3,
	RM_DELETE = 1 << 4,
	RM_HEAD = 1 << 5,
	RM_OPTIONS = 1 << 6,
};

struct route {
	int method;               /* one enum router_method bit */
	const char *pattern;
	void *handler;            /* opaque to the router */
	int flags;                /* opaque to the router */
	int id;                   /* index, for metrics */
};

struct route_match {
	const struct route *route;
	int nparams;
	char names[ROUTER_MAX_PARAMS][32];
	char values[ROUTER_MAX_PARAMS][ROUTER_PARAM_LEN];
};

enum router_result { ROUTER_FOUND = 0, ROUTER_NOT_FOUND = 1, ROUTER_METHOD_NOT_ALLOWED = 2 };

struct router;

struct router *router_new(void);
void router_free(struct router *r);
/* Adds a route; the pattern string must outlive the router. 0 ok, -1 bad pattern. */
int router_add(struct router *r, int method, const char *pattern, void *handler, int flags);
/* Matches path (no query string). On 405, allow is filled with e.g. "GET, PATCH". */
enum router_result router_match(const struct router *r, int method, const char *path,
				struct route_match *m, char *allow, size_t allowlen);
size_t router_count(const struct router *r);
const struct route *router_get(const struct router *r, size_t i);
/* "GET" etc. for one method bit; NULL when unknown. */
const char *router_method_name(int method);

#endif
