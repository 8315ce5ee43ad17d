/*
 * test_router.c - route matching, path parameters, 404 and 405 with Allow.
 */
#include "check.h"
#include "plantrack/router.h"

#include <string.h>

static int h1, h2, h3;

int main(void)
{
	struct router *r = router_new();
	CHECK(router_add(r, RM_GET, "/v1/tasks", &h1, 0) == 0);
	CHECK(router_add(r, RM_POST, "/v1/tasks", &h2, 0) == 0);
	CHECK(router_add(r, RM_GET, "/v1/tasks/{id}", &h3, 7) == 0);
	CHECK(router_add(r, RM_PATCH, "/v1/tasks/{id}", &h1, 0) == 0);
	CHECK(router_add(r, RM_GET, "/v1/tasks/{id}/updates", &h2, 0) == 0);
	CHECK(router_add(r, RM_POST, "/v1/plans/import", &h1, 0) == 0);
	CHECK(router_add(r, RM_GET, "/v1/plans/{id}", &h3, 0) == 0);
	CHECK(router_add(r, RM_GET, "/v1/plans/{plan}/tasks/{task}", &h3, 0) == 0);
	CHECK(router_add(r, RM_GET, "no-slash", &h1, 0) == -1);
	CHECK(router_add(r, RM_GET, "/x/{}", &h1, 0) == -1);
	CHECK(router_add(r, RM_GET, "/x/{a}b", &h1, 0) == -1);
	CHECK(router_count(r) == 8);

	struct route_match m;
	char allow[64];
	CHECK(router_match(r, RM_GET, "/v1/tasks", &m, allow, sizeof allow) == ROUTER_FOUND);
	CHECK(m.route->handler == &h1 && m.nparams == 0);
	CHECK(router_match(r, RM_POST, "/v1/tasks", &m, allow, sizeof allow) == ROUTER_FOUND);
	CHECK(m.route->handler == &h2);

	CHECK(router_match(r, RM_GET, "/v1/tasks/abc-123", &m, allow, sizeof allow) == ROUTER_FOUND);
	CHECK(m.route->handler == &h3 && m.route->flags == 7);
	CHECK(m.nparams == 1 && !strcmp(m.names[0], "id") && !strcmp(m.values[0], "abc-123"));

	CHECK(router_match(r, RM_GET, "/v1/tasks/abc/updates", &m, allow, sizeof allow) == ROUTER_FOUND);
	CHECK(m.route->handler == &h2 && !strcmp(m.values[0], "abc"));

	CHECK(router_match(r, RM_GET, "/v1/plans/p1/tasks/t2", &m, allow, sizeof allow) == ROUTER_FOUND);
	CHECK(m.nparams == 2 && !strcmp(m.names[0], "plan") && !strcmp(m.values[1], "t2"));

	/* Literal route beats the parameter route for its method. */
	CHECK(router_match(r, RM_POST, "/v1/plans/import", &m, allow, sizeof allow) == ROUTER_FOUND);
	CHECK(m.route->handler == &h1);

	/* HEAD falls back to GET. */
	CHECK(router_match(r, RM_HEAD, "/v1/tasks", &m, allow, sizeof allow) == ROUTER_FOUND);

	CHECK(router_match(r, RM_GET, "/v1/nothing", &m, allow, sizeof allow) == ROUTER_NOT_FOUND);
	CHECK(router_match(r, RM_GET, "/v1/tasks/", &m, allow, sizeof allow) == ROUTER_NOT_FOUND);
	CHECK(router_match(r, RM_GET, "/v1/tasks//updates", &m, allow, sizeof allow) == ROUTER_NOT_FOUND);
	CHECK(router_match(r, RM_GET, "/v1/tasksx", &m, allow, sizeof allow) == ROUTER_NOT_FOUND);
	CHECK(router_match(r, RM_GET, "", &m, allow, sizeof allow) == ROUTER_NOT_FOUND);

	CHECK(router_match(r, RM_DELETE, "/v1/tasks", &m, allow, sizeof allow) == ROUTER_METHOD_NOT_ALLOWED);
	CHECK(!strcmp(allow, "GET, HEAD, POST"));
	CHECK(router_match(r, RM_PUT, "/v1/tasks/9", &m, allow, sizeof allow) == ROUTER_METHOD_NOT_ALLOWED);
	CHECK(!strcmp(allow, "GET, HEAD, PATCH"));

	/* A parameter longer than the limit does not match. */
	char longpath[400] = "/v1/tasks/";
	memset(longpath + 10, 'a', 300);
	longpath[310] = 0;
	CHECK(router_match(r, RM_GET, longpath, &m, allow, sizeof allow) == ROUTER_NOT_FOUND);

	CHECK(!strcmp(router_method_name(RM_PATCH), "PATCH"));
	router_free(r);
	return check_summary();
}
