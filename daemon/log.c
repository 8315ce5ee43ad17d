/*
 * log.c - structured one-line logging to stderr (see log.h).
 */
#include "plantrack/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level = LOG_LVL_INFO;
static int log_journal;

void log_init(void)
{
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_set_level(enum log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

int log_parse_level(const char *name)
{
	if (!name)
		return -1;
	if (!strcmp(name, "debug"))
		return LOG_LVL_DEBUG;
	if (!strcmp(name, "info"))
		return LOG_LVL_INFO;
	if (!strcmp(name, "warning") || !strcmp(name, "warn"))
		return LOG_LVL_WARNING;
	if (!strcmp(name, "error"))
		return LOG_LVL_ERROR;
	return -1;
}

static const char *level_name(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERROR: return "error";
	case LOG_LVL_WARNING: return "warning";
	case LOG_LVL_DEBUG: return "debug";
	default: return "info";
	}
}

static void format_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void log_event(enum log_level level, const char *msg, json_t *fields)
{
	if ((int)level > atomic_load(&log_level)) {
		json_decref(fields);
		return;
	}
	char ts[40];
	format_now(ts, sizeof ts);
	json_t *line = json_object();
	json_object_set_new(line, "ts", json_string(ts));
	json_object_set_new(line, "level", json_string(level_name(level)));
	json_object_set_new(line, "msg", json_string(msg ? msg : ""));
	if (fields)
		json_object_update(line, fields);
	json_decref(fields);
	char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	if (!text)
		return;
	char buf[8192];
	int n = snprintf(buf, sizeof buf, "%s%s\n", log_journal ? (char[]){'<', (char)('0' + level), '>', 0} : "", text);
	free(text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf) {
		n = sizeof buf - 1;
		buf[n - 1] = '\n';
	}
	ssize_t w = write(STDERR_FILENO, buf, (size_t)n);
	(void)w;
}

void log_msgf(enum log_level level, const char *fmt, ...)
{
	if ((int)level > atomic_load(&log_level))
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_event(level, msg, NULL);
}
