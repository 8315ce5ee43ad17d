/*
 * log.h - one line per event to stderr, journald-friendly.
 *
 * Each line is a JSON object {"ts","level","msg",...fields}. When stderr is
 * connected to journald (JOURNAL_STREAM set) lines carry a "<N>" syslog
 * priority prefix so journalctl -p works. Thread safe: one write(2) per line.
 */
#ifndef PLANTRACK_LOG_H
#define PLANTRACK_LOG_H

#include <jansson.h>

enum log_level { LOG_LVL_ERROR = 3, LOG_LVL_WARNING = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

void log_init(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "debug|info|warning|error" -> level; -1 when unknown. */
int log_parse_level(const char *name);

/* Writes msg with extra fields; fields (may be NULL) is stolen. */
void log_event(enum log_level level, const char *msg, json_t *fields);
/* printf-style message without fields. */
void log_msgf(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msgf(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msgf(LOG_LVL_WARNING, __VA_ARGS__)
#define log_info(...) log_msgf(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msgf(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
