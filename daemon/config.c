/*
 * config.c - defaults, ini parsing, environment and the published snapshot.
 */
#include "plantrack/config.h"
#include "plantrack/period.h"
#include "plantrack/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void config_init_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->listen = strdup("127.0.0.1:8080");
	c->workers = 0;
	c->max_body = 1024 * 1024;
	c->max_import_body = 16 * 1024 * 1024;
	c->max_headers = 16 * 1024;
	c->read_timeout = 30;
	c->write_timeout = 30;
	c->max_connections = 1024;
	c->drain_timeout = 10;
	c->db = strdup("");
	c->pool = 4;
	c->queue = 1024;
	c->statement_timeout_ms = 5000;
	c->log_level = LOG_LVL_INFO;
	c->lag_points = 20;
	c->due_soon_days = 7;
	c->due_soon_progress = 80;
	c->red_lag_points = -1;
	c->timezone = strdup("Asia/Shanghai");
	c->today = strdup("");
	c->ranking_on_time = 40;
	c->ranking_progress = 40;
	c->ranking_red = 20;
	c->ranking_list_size = 3;
	c->token_cache_ttl = 5;
	c->max_attachment = 20 * 1024 * 1024;
	c->create_units = 1;
	c->sign_days = 3;
	c->verify_self = 0;
	c->reminder_days = 3;
	c->overdue_level2 = 6;
	c->overdue_level3 = 11;
	c->reminders_interval = 60;
	c->quiet_hours = strdup("");
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->listen);
	free(c->db);
	free(c->migrations_dir);
	free(c->web_dir);
	free(c->openapi_path);
	free(c->quiet_hours);
	free(c->timezone);
	free(c->today);
	memset(c, 0, sizeof *c);
}

void config_copy(struct config *dst, const struct config *src)
{
	*dst = *src;
	dst->path = dup_or_null(src->path);
	dst->listen = dup_or_null(src->listen);
	dst->db = dup_or_null(src->db);
	dst->migrations_dir = dup_or_null(src->migrations_dir);
	dst->web_dir = dup_or_null(src->web_dir);
	dst->openapi_path = dup_or_null(src->openapi_path);
	dst->quiet_hours = dup_or_null(src->quiet_hours);
	dst->timezone = dup_or_null(src->timezone);
	dst->today = dup_or_null(src->today);
}

static int parse_long(const char *v, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

struct int_key {
	const char *section, *key;
	size_t offset;
	long min, max;
	int is_size;
};

#define INT_KEY(s, k, field, lo, hi) { s, k, offsetof(struct config, field), lo, hi, 0 }
#define SIZE_KEY(s, k, field, lo, hi) { s, k, offsetof(struct config, field), lo, hi, 1 }

static const struct int_key int_keys[] = {
	INT_KEY("server", "workers", workers, 0, 256),
	SIZE_KEY("server", "max_body", max_body, 1024, 1L << 30),
	SIZE_KEY("server", "max_import_body", max_import_body, 1024, 1L << 30),
	SIZE_KEY("server", "max_headers", max_headers, 1024, 1L << 20),
	INT_KEY("server", "read_timeout", read_timeout, 1, 3600),
	INT_KEY("server", "write_timeout", write_timeout, 1, 3600),
	INT_KEY("server", "max_connections", max_connections, 1, 1000000),
	INT_KEY("server", "drain_timeout", drain_timeout, 0, 3600),
	INT_KEY("database", "pool", pool, 1, 256),
	INT_KEY("database", "queue", queue, 0, 1000000),
	INT_KEY("database", "statement_timeout_ms", statement_timeout_ms, 0, 3600000),
	INT_KEY("lights", "lag_points", lag_points, 0, 100),
	INT_KEY("lights", "due_soon_days", due_soon_days, 0, 366),
	INT_KEY("lights", "due_soon_progress", due_soon_progress, 0, 100),
	INT_KEY("lights", "red_lag_points", red_lag_points, 0, 100),
	INT_KEY("ranking", "on_time_weight", ranking_on_time, 0, 1000),
	INT_KEY("ranking", "progress_weight", ranking_progress, 0, 1000),
	INT_KEY("ranking", "red_weight", ranking_red, 0, 1000),
	INT_KEY("ranking", "list_size", ranking_list_size, 0, 100),
	INT_KEY("auth", "token_cache_ttl", token_cache_ttl, 0, 3600),
	SIZE_KEY("attachments", "max_size", max_attachment, 1024, 1L << 30),
	INT_KEY("workflow", "create_units", create_units, 0, 1),
	INT_KEY("workflow", "sign_days", sign_days, 0, 366),
	INT_KEY("workflow", "verify_self", verify_self, 0, 1),
	INT_KEY("reminders", "due_soon_days", reminder_days, 0, 366),
	INT_KEY("reminders", "overdue_level2", overdue_level2, 1, 3660),
	INT_KEY("reminders", "overdue_level3", overdue_level3, 1, 3660),
	INT_KEY("reminders", "interval", reminders_interval, 0, 86400),
};

int config_parse_quiet_hours(const char *v, int *from, int *to)
{
	*from = *to = -1;
	if (!v || !*v)
		return 0;
	int h1, m1, h2, m2, n = 0;
	if (sscanf(v, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &n) != 4 || v[n] || h1 > 23 || h2 > 23 ||
	    m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0)
		return -1;
	*from = h1 * 60 + m1;
	*to = h2 * 60 + m2;
	return 0;
}

static int set_string(char **slot, const char *value)
{
	char *copy = strdup(value);
	if (!copy)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

int config_set(struct config *c, const char *section, const char *key, const char *value,
	       char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof int_keys / sizeof int_keys[0]; i++) {
		const struct int_key *k = &int_keys[i];
		if (strcmp(k->section, section) || strcmp(k->key, key))
			continue;
		long n;
		if (parse_long(value, k->min, k->max, &n)) {
			snprintf(err, errlen, "%s.%s: expected an integer from %ld to %ld, got \"%s\"",
				 section, key, k->min, k->max, value);
			return -1;
		}
		if (k->is_size)
			*(size_t *)((char *)c + k->offset) = (size_t)n;
		else
			*(int *)((char *)c + k->offset) = (int)n;
		return 0;
	}
	char **slot = NULL;
	if (!strcmp(section, "server") && !strcmp(key, "listen"))
		slot = &c->listen;
	else if (!strcmp(section, "database") && !strcmp(key, "conninfo"))
		slot = &c->db;
	else if (!strcmp(section, "paths") && !strcmp(key, "migrations"))
		slot = &c->migrations_dir;
	else if (!strcmp(section, "paths") && !strcmp(key, "web"))
		slot = &c->web_dir;
	else if (!strcmp(section, "paths") && !strcmp(key, "openapi"))
		slot = &c->openapi_path;
	else if (!strcmp(section, "reminders") && !strcmp(key, "quiet_hours")) {
		int from, to;
		if (config_parse_quiet_hours(value, &from, &to)) {
			snprintf(err, errlen, "reminders.quiet_hours: expected HH:MM-HH:MM (local time) or empty, got \"%s\"",
				 value);
			return -1;
		}
		slot = &c->quiet_hours;
	}
	if (slot)
		return set_string(slot, value);
	if (!strcmp(section, "lights") && !strcmp(key, "working_days")) {
		if (strcmp(value, "on") && strcmp(value, "off")) {
			snprintf(err, errlen, "lights.working_days: expected on or off, got \"%s\"", value);
			return -1;
		}
		c->working_days = !strcmp(value, "on");
		return 0;
	}
	if (!strcmp(section, "lights") && !strcmp(key, "red_lag_points") && !strcmp(value, "off")) {
		c->red_lag_points = -1;
		return 0;
	}
	if (!strcmp(section, "clock") && !strcmp(key, "today")) {
		if (*value && period_as_of("clock.today", value, (char[11]){ 0 }, err, errlen))
			return -1;
		return set_string(&c->today, value);
	}
	if (!strcmp(section, "clock") && !strcmp(key, "timezone")) {
		size_t n = strlen(value);
		if (n == 0 || n > 64 || strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != n) {
			snprintf(err, errlen, "clock.timezone: expected an IANA time zone name such as Asia/Shanghai, got \"%s\"",
				 value);
			return -1;
		}
		return set_string(&c->timezone, value);
	}
	if (!strcmp(section, "log") && !strcmp(key, "level")) {
		int lvl = log_parse_level(value);
		if (lvl < 0) {
			snprintf(err, errlen, "log.level: expected debug, info, warning or error, got \"%s\"", value);
			return -1;
		}
		c->log_level = lvl;
		return 0;
	}
	snprintf(err, errlen, "unknown setting %s.%s", section, key);
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int parse_line(struct config *c, char *line, char *section, size_t seclen,
		      char *err, size_t errlen)
{
	char *s = trim(line);
	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		char *close = strchr(s, ']');
		if (!close || close[1]) {
			snprintf(err, errlen, "malformed section header");
			return -1;
		}
		*close = 0;
		snprintf(section, seclen, "%s", trim(s + 1));
		return 0;
	}
	char *eq = strchr(s, '=');
	if (!eq) {
		snprintf(err, errlen, "expected key = value");
		return -1;
	}
	*eq = 0;
	char *key = trim(s), *value = trim(eq + 1);
	size_t vl = strlen(value);
	if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
		value[vl - 1] = 0;
		value++;
	}
	if (!*section) {
		snprintf(err, errlen, "setting %s outside a [section]", key);
		return -1;
	}
	return config_set(c, section, key, value, err, errlen);
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[4096], section[64] = "", msg[512];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (parse_line(c, line, section, sizeof section, msg, sizeof msg)) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			rc = -1;
			break;
		}
	}
	fclose(f);
	if (rc == 0)
		set_string(&c->path, path);
	return rc;
}

void config_apply_env(struct config *c)
{
	const char *v;
	if ((v = getenv("PLANTRACK_DB")) && *v)
		set_string(&c->db, v);
	if ((v = getenv("PLANTRACK_LISTEN")) && *v)
		set_string(&c->listen, v);
	if ((v = getenv("PLANTRACK_MIGRATIONS")) && *v)
		set_string(&c->migrations_dir, v);
	char day[11];
	if ((v = getenv("PLANTRACK_TODAY")) && *v && !period_as_of("PLANTRACK_TODAY", v, day, NULL, 0))
		set_string(&c->today, day);
}

/* Empty paths mean the copies compiled into the binary (embed.h): the
 * migrations, sql/api, the OpenAPI document and the web page are only read
 * from disk when paths.* or PLANTRACK_MIGRATIONS name them. */
void config_resolve_paths(struct config *c)
{
	(void)c;
}

int config_parse_listen(const char *listen, char *host, size_t hostlen, int *port)
{
	if (!listen || !*listen)
		return -1;
	const char *colon = strrchr(listen, ':');
	if (!colon)
		return -1;
	const char *h = listen;
	size_t hl = (size_t)(colon - listen);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0) {
		h = "0.0.0.0";
		hl = strlen(h);
	}
	if (hl >= hostlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = 0;
	long p;
	if (parse_long(colon + 1, 0, 65535, &p))
		return -1;
	*port = (int)p;
	return 0;
}

int config_validate(const struct config *c, char *err, size_t errlen)
{
	char host[256];
	int port;
	if (config_parse_listen(c->listen, host, sizeof host, &port)) {
		snprintf(err, errlen, "listen: expected HOST:PORT, got \"%s\"", c->listen ? c->listen : "");
		return -1;
	}
	if (c->overdue_level3 < c->overdue_level2) {
		snprintf(err, errlen, "reminders.overdue_level3 must be at least reminders.overdue_level2");
		return -1;
	}
	if (c->max_import_body < c->max_body) {
		snprintf(err, errlen, "server.max_import_body must be at least server.max_body");
		return -1;
	}
	return 0;
}

static _Atomic(struct config *) current;
static struct config *retired;

const struct config *config_current(void)
{
	return atomic_load(&current);
}

void config_publish(struct config *c)
{
	struct config *old = atomic_exchange(&current, c);
	if (retired) {
		config_free(retired);
		free(retired);
	}
	retired = old;
}

void config_release_all(void)
{
	struct config *c = atomic_exchange(&current, NULL);
	if (c) {
		config_free(c);
		free(c);
	}
	if (retired) {
		config_free(retired);
		free(retired);
		retired = NULL;
	}
}
