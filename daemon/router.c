/*
 * router.c - linear route table matched segment by segment (see router.h).
 *
 * The API has a few dozen routes; a linear scan over pre-split patterns is
 * faster than anything cleverer at that size and trivially correct.
 */
#include "plantrack/router.h"

#include <stdlib.h>
#include <string.h>

struct router {
	struct route *routes;
	size_t n, cap;
};

struct router *router_new(void)
{
	return calloc(1, sizeof(struct router));
}

void router_free(struct router *r)
{
	if (!r)
		return;
	free(r->routes);
	free(r);
}

static int pattern_valid(const char *p)
{
	if (p[0] != '/')
		return 0;
	int params = 0;
	for (const char *s = p; *s; s++) {
		if (*s == '{') {
			const char *close = strchr(s, '}');
			if (!close || close == s + 1 || close - s - 1 >= 32 || s[-1] != '/')
				return 0;
			if (close[1] && close[1] != '/')
				return 0;
			params++;
			s = close;
		}
	}
	return params <= ROUTER_MAX_PARAMS;
}

int router_add(struct router *r, int method, const char *pattern, void *handler, int flags)
{
	if (!pattern_valid(pattern))
		return -1;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		struct route *nr = realloc(r->routes, cap * sizeof *nr);
		if (!nr)
			return -1;
		r->routes = nr;
		r->cap = cap;
	}
	r->routes[r->n] = (struct route){ method, pattern, handler, flags, (int)r->n };
	r->n++;
	return 0;
}

/* Compares one pattern with a path; fills params. 1 when it matches. */
static int pattern_match(const char *pat, const char *path, struct route_match *m)
{
	m->nparams = 0;
	while (*pat && *path) {
		if (*pat == '{') {
			const char *close = strchr(pat, '}');
			const char *end = strchr(path, '/');
			size_t vlen = end ? (size_t)(end - path) : strlen(path);
			size_t nlen = (size_t)(close - pat - 1);
			if (vlen == 0 || vlen >= ROUTER_PARAM_LEN || m->nparams >= ROUTER_MAX_PARAMS)
				return 0;
			memcpy(m->names[m->nparams], pat + 1, nlen);
			m->names[m->nparams][nlen] = 0;
			memcpy(m->values[m->nparams], path, vlen);
			m->values[m->nparams][vlen] = 0;
			m->nparams++;
			pat = close + 1;
			path += vlen;
			continue;
		}
		if (*pat != *path)
			return 0;
		pat++;
		path++;
	}
	return *pat == 0 && *path == 0;
}

const char *router_method_name(int method)
{
	switch (method) {
	case RM_GET: return "GET";
	case RM_POST: return "POST";
	case RM_PUT: return "PUT";
	case RM_PATCH: return "PATCH";
	case RM_DELETE: return "DELETE";
	case RM_HEAD: return "HEAD";
	case RM_OPTIONS: return "OPTIONS";
	default: return NULL;
	}
}

static void append_allow(char *allow, size_t len, int methods)
{
	static const int order[] = { RM_GET, RM_HEAD, RM_POST, RM_PUT, RM_PATCH, RM_DELETE, RM_OPTIONS };
	allow[0] = 0;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		if (!(methods & order[i]))
			continue;
		size_t used = strlen(allow);
		if (used + 10 >= len)
			break;
		strcat(allow, used ? ", " : "");
		strcat(allow, router_method_name(order[i]));
	}
}

enum router_result router_match(const struct router *r, int method, const char *path,
				struct route_match *m, char *allow, size_t allowlen)
{
	int methods = 0;
	struct route_match tmp;
	for (size_t i = 0; i < r->n; i++) {
		const struct route *rt = &r->routes[i];
		if (!pattern_match(rt->pattern, path, &tmp))
			continue;
		methods |= rt->method;
		if (rt->method == method || (method == RM_HEAD && rt->method == RM_GET)) {
			*m = tmp;
			m->route = rt;
			return ROUTER_FOUND;
		}
	}
	if (!methods)
		return ROUTER_NOT_FOUND;
	if (methods & RM_GET)
		methods |= RM_HEAD;
	if (allow && allowlen)
		append_allow(allow, allowlen, methods);
	return ROUTER_METHOD_NOT_ALLOWED;
}

size_t router_count(const struct router *r)
{
	return r->n;
}

const struct route *router_get(const struct router *r, size_t i)
{
	return i < r->n ? &r->routes[i] : NULL;
}
