/*
 * test_web.c - which names the web file server answers (health_web_name_ok)
 * and with which content type (health_web_content_type).
 */
#include "check.h"
#include "plantrack/health.h"

#include <string.h>

int main(void)
{
	CHECK(health_web_name_ok("index.html"));
	CHECK(health_web_name_ok("swagger-ui-bundle.js"));
	CHECK(health_web_name_ok("a_b.c"));
	CHECK(!health_web_name_ok(""));
	CHECK(!health_web_name_ok(NULL));
	CHECK(!health_web_name_ok(".."));
	CHECK(!health_web_name_ok("."));
	CHECK(!health_web_name_ok(".git"));
	CHECK(!health_web_name_ok("a/b"));
	CHECK(!health_web_name_ok("a\\b"));
	CHECK(!health_web_name_ok("a b"));
	CHECK(!health_web_name_ok("%2e%2e"));
	CHECK(!health_web_name_ok("名字.js"));
	char long_name[102];
	memset(long_name, 'a', 101);
	long_name[101] = 0;
	CHECK(!health_web_name_ok(long_name));

	CHECK(!strcmp(health_web_content_type("index.html"), "text/html; charset=utf-8"));
	CHECK(!strcmp(health_web_content_type("app.js"), "text/javascript; charset=utf-8"));
	CHECK(!strcmp(health_web_content_type("app.css"), "text/css; charset=utf-8"));
	CHECK(!strcmp(health_web_content_type("favicon.svg"), "image/svg+xml"));
	CHECK(!strcmp(health_web_content_type("favicon.ico"), "image/x-icon"));
	CHECK(!strcmp(health_web_content_type("a.png"), "image/png"));
	CHECK(!strcmp(health_web_content_type("openapi.json"), "application/json"));
	CHECK(!strcmp(health_web_content_type("f.woff2"), "font/woff2"));
	CHECK(health_web_content_type("LICENSE") == NULL);
	CHECK(health_web_content_type("main.c") == NULL);
	CHECK(health_web_content_type("x.HTML") == NULL);
	CHECK(health_web_content_type("x.js.map") == NULL);
	CHECK(health_web_content_type(NULL) == NULL);
	return check_summary();
}
