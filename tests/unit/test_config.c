/*
 * test_config.c - defaults, ini parsing, errors with line numbers,
 * environment precedence, listen parsing.
 */
#include "check.h"
#include "plantrack/config.h"
#include "plantrack/log.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *write_temp(const char *text)
{
	static char path[64];
	strcpy(path, "/tmp/plantrack-config-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	ssize_t n = write(fd, text, strlen(text));
	(void)n;
	close(fd);
	return path;
}

int main(void)
{
	struct config c;
	char err[512];
	config_init_defaults(&c);
	CHECK(!strcmp(c.listen, "127.0.0.1:8080"));
	CHECK(c.max_body == 1024 * 1024 && c.pool == 4 && c.lag_points == 20);
	CHECK(config_validate(&c, err, sizeof err) == 0);

	char *path = write_temp("# comment\n[server]\nlisten = 0.0.0.0:9000\nmax_body=2048\n\n"
				"[database]\nconninfo = \"host=/tmp port=5\"\npool=8\n"
				"[log]\nlevel = debug\n[lights]\nlag_points = 30\n; another\n");
	CHECK(path && config_load_file(&c, path, err, sizeof err) == 0);
	CHECK(!strcmp(c.listen, "0.0.0.0:9000"));
	CHECK(c.max_body == 2048 && c.pool == 8 && c.lag_points == 30);
	CHECK(!strcmp(c.db, "host=/tmp port=5"));
	CHECK(c.log_level == LOG_LVL_DEBUG);
	CHECK(c.path && !strcmp(c.path, path));
	unlink(path);

	path = write_temp("[server]\nworkers = lots\n");
	CHECK(config_load_file(&c, path, err, sizeof err) == -1);
	CHECK(strstr(err, ":2:") && strstr(err, "server.workers"));
	unlink(path);
	path = write_temp("[server]\nnope = 1\n");
	CHECK(config_load_file(&c, path, err, sizeof err) == -1 && strstr(err, "unknown setting server.nope"));
	unlink(path);
	path = write_temp("listen = 1\n");
	CHECK(config_load_file(&c, path, err, sizeof err) == -1 && strstr(err, "outside a [section]"));
	unlink(path);
	path = write_temp("[server\n");
	CHECK(config_load_file(&c, path, err, sizeof err) == -1 && strstr(err, "section"));
	unlink(path);
	CHECK(config_load_file(&c, "/nonexistent/x.conf", err, sizeof err) == -1);
	CHECK(config_set(&c, "log", "level", "loud", err, sizeof err) == -1);
	CHECK(config_set(&c, "database", "pool", "0", err, sizeof err) == -1);
	CHECK(config_set(&c, "database", "pool", "256", err, sizeof err) == 0 && c.pool == 256);

	setenv("PLANTRACK_DB", "dbname=fromenv", 1);
	setenv("PLANTRACK_LISTEN", "127.0.0.1:7000", 1);
	config_apply_env(&c);
	CHECK(!strcmp(c.db, "dbname=fromenv") && !strcmp(c.listen, "127.0.0.1:7000"));

	struct config copy;
	config_copy(&copy, &c);
	CHECK(copy.db != c.db && !strcmp(copy.db, c.db));
	config_free(&copy);

	char host[64];
	int port;
	CHECK(config_parse_listen("127.0.0.1:8080", host, sizeof host, &port) == 0 && port == 8080 && !strcmp(host, "127.0.0.1"));
	CHECK(config_parse_listen("[::1]:81", host, sizeof host, &port) == 0 && port == 81 && !strcmp(host, "::1"));
	CHECK(config_parse_listen(":90", host, sizeof host, &port) == 0 && port == 90);
	CHECK(config_parse_listen("localhost", host, sizeof host, &port) == -1);
	CHECK(config_parse_listen("h:99999", host, sizeof host, &port) == -1);
	CHECK(config_set(&c, "server", "listen", "bad", err, sizeof err) == 0);
	CHECK(config_validate(&c, err, sizeof err) == -1 && strstr(err, "listen"));
	config_free(&c);
	return check_summary();
}
