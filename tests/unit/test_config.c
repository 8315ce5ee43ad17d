/*
 * test_config.c - defaults, ini parsing, errors with line numbers,
 * environment precedence, listen parsing; the settings table (every key has
 * a default, limits and a reload class; config_set accepts exactly the table),
 * reload class handling, refusal of empty and non-regular files, and
 * snapshot reference counting.
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

	/* The table: every key has sane limits, a default within them, a
	 * reload class and help, and config_set takes its default back. */
	size_t nkeys;
	const struct config_key *keys = config_keys(&nkeys);
	CHECK(nkeys >= 21);
	struct config d;
	config_init_defaults(&d);
	for (size_t i = 0; i < nkeys; i++) {
		const struct config_key *k = &keys[i];
		CHECK(k->section && k->key && k->help && *k->help);
		CHECK(k->min <= k->max);
		CHECK(k->reload == CONFIG_LIVE || k->reload == CONFIG_NEW_CONNECTIONS || k->reload == CONFIG_RESTART);
		CHECK(k->offset < sizeof(struct config));
		CHECK(config_key_find(k->section, k->key) == k);
		if (k->type == CONFIG_STRING) {
			CHECK(!k->def_str || ((long)strlen(k->def_str) >= k->min && (long)strlen(k->def_str) <= k->max));
		} else {
			CHECK(k->def >= k->min && k->def <= k->max);
			char v[32];
			snprintf(v, sizeof v, "%ld", k->max + 1);
			if (k->type != CONFIG_LOG_LEVEL)
				CHECK(config_set(&d, k->section, k->key, v, err, sizeof err) == -1);
			snprintf(v, sizeof v, "%ld", k->min - 1);
			if (k->type != CONFIG_LOG_LEVEL)
				CHECK(config_set(&d, k->section, k->key, v, err, sizeof err) == -1);
		}
		for (size_t j = 0; j < i; j++)
			CHECK(keys[j].offset != k->offset);
	}
	CHECK(!strcmp(d.listen, "127.0.0.1:8080") && d.queue == 1024 && d.log_level == LOG_LVL_INFO);
	CHECK(d.migrations_dir == NULL && d.web_dir == NULL && d.openapi_path == NULL);
	CHECK(config_key_find("server", "nope") == NULL);
	CHECK(config_key_find("paths", "web")->reload == CONFIG_RESTART);
	CHECK(config_key_find("paths", "openapi")->reload == CONFIG_RESTART);
	CHECK(config_key_find("database", "statement_timeout_ms")->reload == CONFIG_NEW_CONNECTIONS);
	CHECK(config_key_find("lights", "lag_points")->reload == CONFIG_LIVE);

	/* Reload classes: live keys are taken, restart keys keep the running value. */
	{
		struct config old, next;
		config_init_defaults(&old);
		config_init_defaults(&next);
		CHECK(config_reload_apply(&next, &old) == 0);
		CHECK(config_set(&next, "server", "listen", "0.0.0.0:1", err, sizeof err) == 0);
		CHECK(config_set(&next, "paths", "web", "/elsewhere", err, sizeof err) == 0);
		CHECK(config_set(&next, "paths", "openapi", "/x.json", err, sizeof err) == 0);
		CHECK(config_set(&next, "server", "workers", "3", err, sizeof err) == 0);
		CHECK(config_set(&next, "database", "queue", "7", err, sizeof err) == 0);
		CHECK(config_set(&next, "database", "statement_timeout_ms", "9", err, sizeof err) == 0);
		CHECK(config_set(&next, "lights", "lag_points", "33", err, sizeof err) == 0);
		CHECK(!config_key_equal(config_key_find("paths", "web"), &old, &next));
		CHECK(config_reload_apply(&next, &old) == 4);
		CHECK(!strcmp(next.listen, old.listen) && next.web_dir == NULL && next.openapi_path == NULL);
		CHECK(next.workers == old.workers);
		CHECK(next.queue == 7 && next.statement_timeout_ms == 9 && next.lag_points == 33);
		for (size_t i = 0; i < nkeys; i++)
			if (keys[i].reload == CONFIG_RESTART)
				CHECK(config_key_equal(&keys[i], &old, &next));
		config_free(&old);
		config_free(&next);
	}

	/* The shipped example names every key of the table, and only those. */
	{
		char ex[4096];
		const char *src = getenv("PLANTRACK_SOURCE_DIR");
		snprintf(ex, sizeof ex, "%s/systemd/plantrackd.conf.example", src ? src : PLANTRACK_SOURCE_DIR);
		struct config e;
		config_init_defaults(&e);
		CHECK(config_load_file(&e, ex, err, sizeof err) == 0);
		config_free(&e);
		FILE *f = fopen(ex, "r");
		CHECK(f != NULL);
		char line[512], section[64] = "";
		int seen[64] = { 0 };
		while (f && fgets(line, sizeof line, f)) {
			char key[64];
			if (sscanf(line, "[%63[^]]]", section) == 1)
				continue;
			if (sscanf(line, " %63[a-z_] =", key) == 1) {
				const struct config_key *k = config_key_find(section, key);
				CHECK(k != NULL);
				if (k)
					seen[k - keys] = 1;
			}
		}
		if (f)
			fclose(f);
		for (size_t i = 0; i < nkeys && i < 64; i++)
			if (!seen[i])
				fprintf(stderr, "  example lacks %s.%s\n", keys[i].section, keys[i].key);
		for (size_t i = 0; i < nkeys && i < 64; i++)
			CHECK(seen[i]);
	}

	/* Empty and non-regular files are refused. */
	path = write_temp("");
	CHECK(config_load_file(&d, path, err, sizeof err) == -1 && strstr(err, "empty file"));
	unlink(path);
	CHECK(config_load_file(&d, "/tmp", err, sizeof err) == -1 && strstr(err, "not a regular file"));
	config_free(&d);

	/* Snapshots: freed when the last holder releases (ASan checks the rest). */
	{
		struct config *a = malloc(sizeof *a), *b = malloc(sizeof *b);
		config_init_defaults(a);
		config_init_defaults(b);
		config_publish(a);
		CHECK(config_current() == a && config_refs(a) == 1);
		const struct config *held = config_ref(); /* a worker's reference */
		CHECK(held == a && config_refs(a) == 2);
		CHECK(config_thread_use(held) == NULL);
		config_publish(b);            /* a stays: the worker holds it */
		CHECK(config_refs(a) == 1 && config_refs(b) == 1);
		CHECK(config_current() == a && !strcmp(config_current()->listen, "127.0.0.1:8080"));
		CHECK(config_thread_use(NULL) == a);
		CHECK(config_current() == b);
		const struct config *held2 = config_ref();
		CHECK(config_refs(b) == 2);
		config_release(held);         /* frees a */
		config_release_all();         /* b stays for held2 */
		CHECK(config_current() == NULL && config_refs(held2) == 1);
		config_release(held2);        /* frees b */
	}
	return check_summary();
}
