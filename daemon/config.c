/*
 * config.c - defaults, ini parsing, environment and the published snapshot.
 */
#include "plantrack/config.h"
#include "plantrack/netpolicy.h"
#include "plantrack/log.h"
#include "plantrack/period.h"
#include "plantrack/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the settings table ----
 * Every key: its type, default, limits and what a SIGHUP does with a change
 * (config_reload_class). Defaults, config_set, copy/free and the reload
 * report are all driven by this table alone. */

#define KEY_NUM(sec, k, ty, field, def, lo, hi, cls, h) \
	{ sec, k, ty, offsetof(struct config, field), def, NULL, lo, hi, cls, h }
#define KEY_STR(sec, k, field, def, lo, hi, cls, h) \
	{ sec, k, CONFIG_STRING, offsetof(struct config, field), 0, def, lo, hi, cls, h }

static const struct config_key keys[] = {
	KEY_STR("server", "listen", listen, "127.0.0.1:8080", 1, 255, CONFIG_RESTART,
		"HOST:PORT to listen on (ignored under systemd socket activation)"),
	KEY_NUM("server", "workers", CONFIG_INT, workers, 0, 0, 256, CONFIG_RESTART,
		"worker threads, 0 = one per CPU"),
	KEY_NUM("server", "max_body", CONFIG_SIZE, max_body, 1024 * 1024, 1024, 1L << 30, CONFIG_LIVE,
		"largest request body in bytes"),
	KEY_NUM("server", "max_import_body", CONFIG_SIZE, max_import_body, 16 * 1024 * 1024, 1024, 1L << 30,
		CONFIG_LIVE, "largest import body in bytes"),
	KEY_NUM("server", "max_headers", CONFIG_SIZE, max_headers, 16 * 1024, 1024, 1L << 20, CONFIG_LIVE,
		"largest request header block in bytes"),
	KEY_NUM("server", "read_timeout", CONFIG_INT, read_timeout, 30, 1, 3600, CONFIG_LIVE, "seconds"),
	KEY_NUM("server", "write_timeout", CONFIG_INT, write_timeout, 30, 1, 3600, CONFIG_LIVE, "seconds"),
	KEY_NUM("server", "max_connections", CONFIG_INT, max_connections, 1024, 1, 1000000, CONFIG_LIVE,
		"open client connections per daemon, counted from accept; more are closed at once"),
	KEY_NUM("server", "max_connections_per_address", CONFIG_INT, max_connections_per_address, 256, 0, 1000000,
		CONFIG_LIVE, "open connections from one client address (0 = no cap); more are closed at once"),
	KEY_NUM("server", "keepalive_timeout", CONFIG_INT, keepalive_timeout, 15, 1, 3600, CONFIG_LIVE,
		"seconds a connection may idle between requests (2 while above 3/4 of max_connections)"),
	KEY_NUM("server", "max_buffered", CONFIG_SIZE, max_buffered, 64L * 1024 * 1024, 1024 * 1024, 1L << 40,
		CONFIG_LIVE, "request body bytes the whole daemon buffers at once; beyond it 503"),
	KEY_NUM("server", "drain_timeout", CONFIG_INT, drain_timeout, 10, 0, 3600, CONFIG_LIVE,
		"seconds to finish requests in flight on SIGTERM"),
	KEY_STR("database", "conninfo", db, "", 0, 4096, CONFIG_RESTART, "libpq conninfo or URI"),
	KEY_NUM("database", "pool", CONFIG_INT, pool, 4, 1, 256, CONFIG_LIVE, "connections per worker"),
	KEY_NUM("database", "queue", CONFIG_INT, queue, 1024, 0, 1000000, CONFIG_LIVE,
		"queued queries per worker before 503"),
	KEY_NUM("database", "statement_timeout_ms", CONFIG_INT, statement_timeout_ms, 5000, 0, 3600000,
		CONFIG_NEW_CONNECTIONS, "statement_timeout of each database connection"),
	KEY_STR("database", "replica", replica, "", 0, 4096, CONFIG_RESTART,
		"libpq conninfo of a hot standby that serves plan and task reads (empty = none)"),
	KEY_NUM("database", "replica_max_lag_ms", CONFIG_INT, replica_max_lag_ms, 1000, 0, 3600000, CONFIG_LIVE,
		"reads go to the primary while the standby is further behind than this"),
	KEY_NUM("database", "deadline_ms", CONFIG_INT, deadline_ms, 0, 0, 3600000, CONFIG_LIVE,
		"the daemon's own deadline per database call, queueing included; 0 = statement_timeout_ms + 1000"),
	KEY_NUM("log", "level", CONFIG_LOG_LEVEL, log_level, LOG_LVL_INFO, LOG_LVL_ERROR, LOG_LVL_DEBUG,
		CONFIG_LIVE, "debug, info, warning or error"),
	KEY_NUM("lights", "lag_points", CONFIG_INT, lag_points, 20, 0, 100, CONFIG_LIVE,
		"progress points behind plan that turn a task red"),
	KEY_NUM("lights", "due_soon_days", CONFIG_INT, due_soon_days, 7, 0, 366, CONFIG_LIVE,
		"days before the due date that count as due soon"),
	KEY_NUM("lights", "due_soon_progress", CONFIG_INT, due_soon_progress, 80, 0, 100, CONFIG_LIVE,
		"progress below which a task due soon turns yellow"),
	KEY_NUM("lights", "red_lag_points", CONFIG_INT, red_lag_points, -1, -1, 100, CONFIG_LIVE,
		"progress points behind 序时进度 that turn a task red; off (-1) = never"),
	KEY_NUM("lights", "working_days", CONFIG_INT, working_days, 0, 0, 1, CONFIG_LIVE,
		"on (1): 序时进度 counts the calendar's working days; off (0): calendar days"),
	KEY_STR("clock", "timezone", timezone, "Asia/Shanghai", 1, 64, CONFIG_LIVE,
		"IANA time zone in which days start and end"),
	KEY_STR("clock", "today", today, "", 0, 10, CONFIG_LIVE,
		"YYYY-MM-DD pins today (tests; also PLANTRACK_TODAY); empty = the real day"),
	KEY_NUM("ranking", "on_time_weight", CONFIG_INT, ranking_on_time, 40, 0, 1000, CONFIG_LIVE,
		"weight of on-time completion in the 季度赛马 score"),
	KEY_NUM("ranking", "progress_weight", CONFIG_INT, ranking_progress, 40, 0, 1000, CONFIG_LIVE,
		"weight of progress against 序时进度"),
	KEY_NUM("ranking", "red_weight", CONFIG_INT, ranking_red, 20, 0, 1000, CONFIG_LIVE,
		"weight of the share not red"),
	KEY_NUM("ranking", "list_size", CONFIG_INT, ranking_list_size, 3, 0, 100, CONFIG_LIVE,
		"units on the red list and on the black list"),
	KEY_NUM("imports", "job_rows", CONFIG_INT, import_job_rows, 5000, 0, 10000000, CONFIG_LIVE,
		"a CSV import of at least this many rows runs as a job (202 Accepted, GET /v1/jobs/{id}); 0 = never"),
	KEY_NUM("imports", "job_timeout_ms", CONFIG_INT, import_job_timeout_ms, 600000, 1000, 86400000, CONFIG_LIVE,
		"statement_timeout of an import job, sent on the job's own connection before the import"),
	KEY_NUM("imports", "row_events", CONFIG_INT, import_row_events, 1000, 0, 10000000, CONFIG_LIVE,
		"an import touching at most this many tasks emits task.created/task.updated per task; "
		"a bigger one only its import.finished summary"),
	KEY_NUM("imports", "answer_items", CONFIG_INT, import_answer_items, 1000, 0, 10000000, CONFIG_LIVE,
		"an import answer lists the created and updated tasks (items) up to this many; above, items_omitted"),
	KEY_NUM("cache", "documents", CONFIG_INT, cache_documents, 10000, 0, 10000000, CONFIG_LIVE,
		"task documents GET /v1/tasks/{id} keeps in memory (about 1 kB each), 0 = no cache"),
	KEY_NUM("auth", "token_cache_ttl", CONFIG_INT, token_cache_ttl, 5, 0, 3600, CONFIG_LIVE,
		"seconds a looked-up token is cached per worker"),
	KEY_STR("webhooks", "allow", webhook_allow, "", 0, 4096, CONFIG_LIVE,
		"CIDR blocks webhooks may reach although they are loopback, private, link-local or "
		"metadata addresses (\"10.0.0.0/8, fd00::/8\"); empty = public addresses only"),
	KEY_NUM("attachments", "max_size", CONFIG_SIZE, max_attachment, 20 * 1024 * 1024, 1024, 1L << 30, CONFIG_LIVE,
		"largest evidence file in bytes (413 above)"),
	KEY_NUM("workflow", "create_units", CONFIG_INT, create_units, 1, 0, 1, CONFIG_LIVE,
		"1: a supervisor naming an unknown unit creates it; 0: 422"),
	KEY_NUM("workflow", "sign_days", CONFIG_INT, sign_days, 3, 0, 366, CONFIG_LIVE,
		"working days an assigned task may wait for 签收"),
	KEY_NUM("workflow", "verify_self", CONFIG_INT, verify_self, 0, 0, 1, CONFIG_LIVE,
		"1: who reported a task done may also verify it (one-person offices)"),
	KEY_NUM("reminders", "interval", CONFIG_INT, reminders_interval, 60, 0, 86400, CONFIG_LIVE,
		"seconds between reminder runs; 0 = off"),
	KEY_NUM("reminders", "due_soon_days", CONFIG_INT, reminder_days, 3, 0, 366, CONFIG_LIVE,
		"task.due_soon this many working days before the due date"),
	KEY_NUM("reminders", "overdue_level2", CONFIG_INT, overdue_level2, 6, 1, 3660, CONFIG_LIVE,
		"days overdue from which task.overdue is level 2 (分管领导)"),
	KEY_NUM("reminders", "overdue_level3", CONFIG_INT, overdue_level3, 11, 1, 3660, CONFIG_LIVE,
		"days overdue from which task.overdue is level 3 (the plan's owner)"),
	KEY_STR("reminders", "quiet_hours", quiet_hours, "", 0, 11, CONFIG_LIVE,
		"HH:MM-HH:MM local time in which reminder webhooks wait; empty = none"),
	KEY_NUM("webhooks", "per_receiver", CONFIG_INT, webhook_per_receiver, 4, 1, 32, CONFIG_LIVE,
		"deliveries in flight to one webhook at once (of 32 per daemon), so a slow receiver cannot hold them all"),
	KEY_NUM("webhooks", "pause_after", CONFIG_INT, webhook_pause_after, 50, 0, 1000000, CONFIG_LIVE,
		"failed attempts in a row after which a webhook is paused (event webhook.paused; "
		"POST /v1/webhooks/{id}/resume), 0 = never"),
	KEY_STR("paths", "migrations", migrations_dir, NULL, 0, 4096, CONFIG_RESTART,
		"directory of NNNN_*.sql migrations and api/ (empty = the copies compiled into the binary)"),
	KEY_STR("paths", "web", web_dir, NULL, 0, 4096, CONFIG_RESTART,
		"directory of the web files (empty = the copies compiled into the binary)"),
	KEY_STR("paths", "openapi", openapi_path, NULL, 0, 4096, CONFIG_RESTART,
		"the openapi.json served at /v1/openapi.json (empty = the copy compiled into the binary)"),
};

#define NKEYS (sizeof keys / sizeof keys[0])

const struct config_key *config_keys(size_t *n)
{
	*n = NKEYS;
	return keys;
}

const struct config_key *config_key_find(const char *section, const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].section, section) && !strcmp(keys[i].key, key))
			return &keys[i];
	return NULL;
}

static void *slot_of(const struct config *c, const struct config_key *k)
{
	return (char *)c + k->offset;
}

static char *dup_or_null(const char *s)
{
	return xstrdup(s);
}

void config_init_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NKEYS; i++) {
		const struct config_key *k = &keys[i];
		void *slot = slot_of(c, k);
		switch (k->type) {
		case CONFIG_STRING: *(char **)slot = dup_or_null(k->def_str); break;
		case CONFIG_SIZE: *(size_t *)slot = (size_t)k->def; break;
		case CONFIG_INT:
		case CONFIG_LOG_LEVEL: *(int *)slot = (int)k->def; break;
		}
	}
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->path);
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == CONFIG_STRING)
			free(*(char **)slot_of(c, &keys[i]));
	memset(c, 0, sizeof *c);
}

void config_copy(struct config *dst, const struct config *src)
{
	*dst = *src;
	atomic_init(&dst->refs, 0);
	dst->path = dup_or_null(src->path);
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == CONFIG_STRING) {
			char **d = slot_of(dst, &keys[i]);
			*d = dup_or_null(*d);
		}
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
	char *copy = xstrdup(value);
	free(*slot);
	*slot = copy;
	return 0;
}

int config_set(struct config *c, const char *section, const char *key, const char *value,
	       char *err, size_t errlen)
{
	const struct config_key *k = config_key_find(section, key);
	if (!k) {
		snprintf(err, errlen, "unknown setting %s.%s", section, key);
		return -1;
	}
	/* values the table's types do not say: on/off, off, dates, zone names, windows */
	if (!strcmp(section, "lights") && !strcmp(key, "working_days")) {
		if (strcmp(value, "on") && strcmp(value, "off")) {
			snprintf(err, errlen, "lights.working_days: expected on or off, got \"%s\"", value);
			return -1;
		}
		value = !strcmp(value, "on") ? "1" : "0";
	}
	if (!strcmp(section, "lights") && !strcmp(key, "red_lag_points")) {
		if (!strcmp(value, "off"))
			value = "-1";
		else if (!strcmp(value, "-1")) {
			snprintf(err, errlen, "lights.red_lag_points: expected off or an integer from 0 to 100, got \"-1\"");
			return -1;
		}
	}
	if (!strcmp(section, "clock") && !strcmp(key, "today") && *value &&
	    period_as_of("clock.today", value, (char[11]){ 0 }, err, errlen))
		return -1;
	if (!strcmp(section, "clock") && !strcmp(key, "timezone")) {
		size_t n = strlen(value);
		if (n == 0 || n > 64 || strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != n) {
			snprintf(err, errlen, "clock.timezone: expected an IANA time zone name such as Asia/Shanghai, got \"%s\"",
				 value);
			return -1;
		}
	}
	if (!strcmp(section, "reminders") && !strcmp(key, "quiet_hours")) {
		int from, to;
		if (config_parse_quiet_hours(value, &from, &to)) {
			snprintf(err, errlen, "reminders.quiet_hours: expected HH:MM-HH:MM (local time) or empty, got \"%s\"",
				 value);
			return -1;
		}
	}
	void *slot = slot_of(c, k);
	long n;
	switch (k->type) {
	case CONFIG_STRING: {
		size_t len = strlen(value);
		if ((long)len < k->min || (long)len > k->max) {
			snprintf(err, errlen, "%s.%s: expected %ld to %ld characters, got %zu", section, key,
				 k->min, k->max, len);
			return -1;
		}
		if (set_string(slot, value)) {
			snprintf(err, errlen, "%s.%s: out of memory", section, key);
			return -1;
		}
		return 0;
	}
	case CONFIG_LOG_LEVEL:
		n = log_parse_level(value);
		if (n < 0) {
			snprintf(err, errlen, "log.level: expected debug, info, warning or error, got \"%s\"", value);
			return -1;
		}
		*(int *)slot = (int)n;
		return 0;
	case CONFIG_INT:
	case CONFIG_SIZE:
		if (parse_long(value, k->min, k->max, &n)) {
			snprintf(err, errlen, "%s.%s: expected an integer from %ld to %ld, got \"%s\"",
				 section, key, k->min, k->max, value);
			return -1;
		}
		if (k->type == CONFIG_SIZE)
			*(size_t *)slot = (size_t)n;
		else
			*(int *)slot = (int)n;
		return 0;
	}
	return -1;
}

int config_key_equal(const struct config_key *k, const struct config *a, const struct config *b)
{
	const void *x = slot_of(a, k), *y = slot_of(b, k);
	switch (k->type) {
	case CONFIG_STRING: {
		const char *s = *(char *const *)x, *t = *(char *const *)y;
		return (!s && !t) || (s && t && !strcmp(s, t));
	}
	case CONFIG_SIZE: return *(const size_t *)x == *(const size_t *)y;
	case CONFIG_INT:
	case CONFIG_LOG_LEVEL: return *(const int *)x == *(const int *)y;
	}
	return 1;
}

int config_reload_apply(struct config *next, const struct config *old)
{
	int kept = 0;
	for (size_t i = 0; i < NKEYS; i++) {
		const struct config_key *k = &keys[i];
		if (config_key_equal(k, old, next))
			continue;
		switch (k->reload) {
		case CONFIG_LIVE:
			log_info("reload: %s.%s changed", k->section, k->key);
			break;
		case CONFIG_NEW_CONNECTIONS:
			log_warn("reload: %s.%s changed, applies to new connections only", k->section, k->key);
			break;
		case CONFIG_RESTART: {
			log_warn("reload: %s.%s changed, takes effect after restart", k->section, k->key);
			/* The running value stays in the snapshot, so it tells the truth. */
			void *d = slot_of(next, k);
			const void *s = slot_of(old, k);
			if (k->type == CONFIG_STRING) {
				free(*(char **)d);
				*(char **)d = dup_or_null(*(char *const *)s);
			} else if (k->type == CONFIG_SIZE) {
				*(size_t *)d = *(const size_t *)s;
			} else {
				*(int *)d = *(const int *)s;
			}
			kept++;
			break;
		}
		}
	}
	return kept;
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
	struct stat st;
	if (fstat(fileno(f), &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		fclose(f);
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "%s: empty file", path);
		fclose(f);
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
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error after line %d", path, lineno);
		rc = -1;
	}
	fclose(f);
	if (rc == 0 && set_string(&c->path, path)) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -1;
	}
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

/* The packages before the embedding wrote paths.* as the installed copies
 * (/usr/share/plantrack/migrations, .../web, .../openapi.json) into
 * /etc/plantrack/plantrackd.conf, a conffile: an administrator who named a
 * database keeps it across the upgrade, which removes those files. Such a
 * path (ending so) that no longer exists means the embedded copies. */
static void drop_stale_packaged_path(char **slot, const char *tail)
{
	size_t n = *slot ? strlen(*slot) : 0, m = strlen(tail);
	struct stat st;
	if (n < m || strcmp(*slot + n - m, tail) || stat(*slot, &st) == 0)
		return;
	free(*slot);
	*slot = NULL;
}

/* Empty paths mean the copies compiled into the binary (embed.h): the
 * migrations, sql/api, the OpenAPI document and the web page are only read
 * from disk when paths.* or PLANTRACK_MIGRATIONS name them. */
void config_resolve_paths(struct config *c)
{
	drop_stale_packaged_path(&c->migrations_dir, "/usr/share/plantrack/migrations");
	drop_stale_packaged_path(&c->web_dir, "/usr/share/plantrack/web");
	drop_stale_packaged_path(&c->openapi_path, "/usr/share/plantrack/openapi.json");
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
	if (c->max_import_body < c->max_body) {
		snprintf(err, errlen, "server.max_import_body must be at least server.max_body");
		return -1;
	}
	struct netcidr *allow;
	size_t nallow;
	char why[200];
	if (netpolicy_parse_list(c->webhook_allow, &allow, &nallow, why, sizeof why)) {
		snprintf(err, errlen, "webhooks.allow: %s", why);
		return -1;
	}
	free(allow);
	if (c->overdue_level3 < c->overdue_level2) {
		snprintf(err, errlen, "reminders.overdue_level3 must be at least reminders.overdue_level2");
		return -1;
	}
	return 0;
}

/* ---- the published snapshot ----
 * A snapshot is freed when its last reference goes. The published pointer
 * holds one; each worker holds one for the snapshot it serves with (handed
 * over by the main thread, never taken from `current` by a worker, so a
 * reference is never added to a snapshot that may be freeing). */

static _Atomic(struct config *) current;
static _Thread_local const struct config *thread_cfg;

const struct config *config_current(void)
{
	return thread_cfg ? thread_cfg : atomic_load(&current);
}

const struct config *config_ref(void)
{
	struct config *c = atomic_load(&current);
	if (c)
		atomic_fetch_add(&c->refs, 1);
	return c;
}

void config_release(const struct config *cc)
{
	struct config *c = (struct config *)cc;
	if (c && atomic_fetch_sub(&c->refs, 1) == 1) {
		config_free(c);
		free(c);
	}
}

const struct config *config_thread_use(const struct config *c)
{
	const struct config *prev = thread_cfg;
	thread_cfg = c;
	return prev;
}

int config_refs(const struct config *c)
{
	return c ? atomic_load(&((struct config *)c)->refs) : 0;
}

void config_publish(struct config *c)
{
	if (c)
		atomic_store(&c->refs, 1);
	struct config *old = atomic_exchange(&current, c);
	config_release(old);
}

void config_release_all(void)
{
	config_publish(NULL);
}
