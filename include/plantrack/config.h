/*
 * config.h - the daemon's configuration: defaults, ini file, environment,
 * flags (flags win over environment, environment over the file).
 *
 * Every setting is one row of a table (config_keys): section, key, type,
 * default, limits, and its reload class. Defaults, parsing, copying, freeing
 * and what SIGHUP does with a change all come from that table.
 *
 * A struct config is a plain value; config_copy/config_free own the strings.
 * The serving daemon publishes reference-counted snapshots: the published
 * one holds a reference, each worker holds one to the snapshot it serves
 * with, and a snapshot is freed when its last reference is released.
 */
#ifndef PLANTRACK_CONFIG_H
#define PLANTRACK_CONFIG_H

#include <stdatomic.h>
#include <stddef.h>

struct config {
	char *path;              /* the ini file read, or NULL */
	/* [server] */
	char *listen;            /* HOST:PORT */
	int workers;             /* 0 = number of CPUs */
	size_t max_body;
	size_t max_import_body;
	size_t max_headers;
	int read_timeout;        /* seconds */
	int write_timeout;       /* seconds */
	int max_connections;     /* per daemon, counted from accept */
	int max_connections_per_address; /* per client address, 0 = no cap */
	int keepalive_timeout;   /* seconds a connection may idle between requests */
	size_t max_buffered;     /* request body bytes buffered by the whole daemon */
	int drain_timeout;       /* seconds */
	/* [database] */
	char *db;                /* libpq conninfo or URI */
	int pool;                /* connections per worker */
	int queue;               /* queued queries per worker before 503 */
	int statement_timeout_ms;
	char *replica;           /* libpq conninfo of a hot standby for reads, "" = none */
	int replica_max_lag_ms;  /* reads go to the primary while the standby is further behind */
	int import_job_rows;        /* [imports] job_rows: CSV rows from which an import is a job, 0 = never */
	int import_job_timeout_ms;  /* [imports] job_timeout_ms: statement_timeout of an import job */
	int import_row_events;      /* [imports] row_events: per-task events up to this many tasks */
	int import_answer_items;    /* [imports] answer_items: items in an import's answer up to this many */
	int deadline_ms;         /* per database call, 0 = statement_timeout_ms + 1000 */
	/* [log] */
	int log_level;
	/* [lights] */
	int lag_points;
	int due_soon_days;
	int due_soon_progress;
	int red_lag_points;      /* -1 = off (default) */
	int working_days;        /* 1: 序时进度 counts working days (calendar) */
	/* [clock] */
	char *timezone;          /* IANA name, default Asia/Shanghai */
	char *today;             /* "YYYY-MM-DD" pins today (tests), "" = the real day */
	/* [ranking] (季度赛马) */
	int ranking_on_time;     /* weights of the three components */
	int ranking_progress;
	int ranking_red;
	int ranking_list_size;   /* red list / black list length */
	/* [cache] */
	int cache_documents;     /* task documents cached per daemon, 0 = off */
	/* [auth] */
	int token_cache_ttl;     /* seconds */
	/* [webhooks] */
	char *webhook_allow;     /* CIDRs webhooks may reach beyond public addresses */
	/* [attachments] */
	size_t max_attachment;   /* bytes; larger uploads get 413 */
	/* [workflow] */
	int create_units;        /* 1: supervisor writes naming an unknown unit create it; 0: 422 */
	int sign_days;           /* working days an assigned task may stay unsigned */
	int verify_self;         /* 1: the supervisor who reported done may verify (one-person offices) */
	/* [reminders] */
	int reminder_days;       /* task.due_soon this many working days before the due date */
	int overdue_level2;      /* days overdue from which an overdue reminder is level 2 */
	int overdue_level3;      /* ... level 3 */
	int reminders_interval;  /* seconds between scheduler runs; 0 = off */
	char *quiet_hours;       /* "HH:MM-HH:MM" local time: reminder webhooks wait; "" = none */
	int webhook_per_receiver; /* deliveries in flight to one webhook at once */
	int webhook_pause_after;  /* failed attempts in a row that pause a webhook, 0 = never */
	/* [paths] */
	char *migrations_dir;
	char *web_dir;
	char *openapi_path;
	/* snapshot bookkeeping, not a setting */
	_Atomic int refs;
};

enum config_type {
	CONFIG_INT,       /* int, decimal within [min, max] */
	CONFIG_SIZE,      /* size_t bytes, decimal within [min, max] */
	CONFIG_STRING,    /* char *, owned; length within [min, max] */
	CONFIG_LOG_LEVEL, /* int, debug|info|warning|error (numeric range [min, max]) */
};

enum config_reload {
	CONFIG_LIVE,            /* a SIGHUP applies it to every worker */
	CONFIG_NEW_CONNECTIONS, /* applies to connections opened after the SIGHUP */
	CONFIG_RESTART,         /* a SIGHUP warns and keeps the running value */
};

struct config_key {
	const char *section, *key;
	enum config_type type;
	size_t offset;            /* of the field in struct config */
	long def;                 /* default of a number */
	const char *def_str;      /* default of a string (NULL = unset, resolved later) */
	long min, max;            /* value limits; for strings, length limits */
	enum config_reload reload;
	const char *help;
};

/* Every setting, in file order; static, n set to their number. */
const struct config_key *config_keys(size_t *n);
/* The setting section.key, or NULL. */
const struct config_key *config_key_find(const char *section, const char *key);
/* 1 when a and b hold the same value for k. */
int config_key_equal(const struct config_key *k, const struct config *a, const struct config *b);
/* For a SIGHUP: compares next with the running old key by key and logs each
 * change by its reload class ("... changed, takes effect after restart" for
 * restart keys, whose running value is copied back into next). Returns the
 * number of restart keys kept. */
int config_reload_apply(struct config *next, const struct config *old);

void config_init_defaults(struct config *c);
void config_free(struct config *c);
/* Deep copy of src into dst (dst uninitialised). */
void config_copy(struct config *dst, const struct config *src);

/* Applies one "section.key = value" setting; 0 ok, -1 with message in err. */
int config_set(struct config *c, const char *section, const char *key, const char *value,
	       char *err, size_t errlen);
/* Reads an ini file over c. 0 ok; -1 with "FILE:LINE: message" in err. */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);
/* PLANTRACK_DB, PLANTRACK_LISTEN over c. */
void config_apply_env(struct config *c);
/* Paths left empty mean the embedded copies (embed.h); nothing to fill in. */
void config_resolve_paths(struct config *c);
/* Checks the values together (listen parses, sizes sane). */
int config_validate(const struct config *c, char *err, size_t errlen);

/* Parses "HH:MM-HH:MM" into minutes after midnight. 0 ok (also for ""; then from == to == -1). */
int config_parse_quiet_hours(const char *v, int *from, int *to);

/* Parses "HOST:PORT" (or ":PORT", or "[v6]:PORT"). 0 ok. */
int config_parse_listen(const char *listen, char *host, size_t hostlen, int *port);

/* The snapshot this thread serves with: the one set by config_thread_use
 * (a worker's), else the published one. Borrowed: valid while the thread's
 * reference is (workers) or until the next publish (main thread). */
const struct config *config_current(void);
/* Main thread: publishes a heap config (ownership taken; it starts with the
 * published reference) and releases the previous published reference. */
void config_publish(struct config *c);
/* Main thread: a new reference to the published snapshot (NULL if none),
 * to hand to a worker. */
const struct config *config_ref(void);
/* Any thread: drops a reference; the last one frees the snapshot. NULL ok. */
void config_release(const struct config *c);
/* This thread's snapshot becomes c (the reference stays the caller's);
 * returns the previous one. NULL = the published one again. */
const struct config *config_thread_use(const struct config *c);
/* References a snapshot has now (tests, diagnostics). */
int config_refs(const struct config *c);
/* Main thread: publishes NULL, dropping the published reference. */
void config_release_all(void);

#endif
