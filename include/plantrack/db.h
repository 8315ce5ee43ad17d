/*
 * db.h - an asynchronous libpq connection pool bound to one libevent loop.
 *
 * Each worker thread owns one pool; a pool is used only from its loop's
 * thread. Connections are opened with PQconnectStart/PQconnectPoll, checked
 * against the expected schema version, prepare every registered statement,
 * then serve queries with PQsendQueryPrepared. A lost connection is
 * reopened with backoff; queries wait in a bounded FIFO while every
 * connection is busy.
 *
 * Ownership: the PGresult passed to a callback is borrowed and freed by the
 * pool when the callback returns. Parameter values are copied at submit.
 */
#ifndef PLANTRACK_DB_H
#define PLANTRACK_DB_H

#include <libpq-fe.h>

struct event_base;
struct db_pool;

/* res == NULL: the query could not run (connection lost, pool closing). */
typedef void (*db_cb)(PGresult *res, void *arg);
/* payload == NULL: the listen connection was (re)established, events may have been missed. */
typedef void (*db_notify_cb)(const char *payload, void *arg);

enum { DB_OK = 0, DB_UNAVAILABLE = -1, DB_QUEUE_FULL = -2 };

struct db_status {
	int size;          /* target connections */
	int ready;         /* connected, schema current, statements prepared */
	int busy;          /* running a query */
	int waiting;       /* queries queued */
	int schema;        /* schema version seen, -1 unknown */
	char api_checksum[65]; /* api_state.checksum seen, "" unknown */
	char reason[256];  /* why not ready ("" when ready) */
};

/* Registers a statement for every pool; only before the first pool exists.
 * Returns its id (>= 0) or -1. sql is borrowed and must be static. */
int db_stmt_register(const char *sql);
int db_stmt_count(void);

struct db_pool *db_pool_new(struct event_base *base, const char *conninfo, int size,
			    int queue_max, int statement_timeout_ms, int schema_version);
/* Closes every connection; queued and running callbacks get res == NULL. */
void db_pool_free(struct db_pool *p);
/* Submits a prepared statement. DB_OK, DB_UNAVAILABLE (no ready connection)
 * or DB_QUEUE_FULL; on error the callback is not called. */
int db_query(struct db_pool *p, int stmt, int nparams, const char *const *values,
	     db_cb cb, void *arg);
/* The same with binary values: lengths[i] >= 0 sends values[i] as that many
 * bytes in binary format (e.g. bytea), -1 as text; lengths NULL = all text.
 * result_format 1 asks for binary results (bytea columns as raw bytes). */
int db_query_ex(struct db_pool *p, int stmt, int nparams, const char *const *values, const int *lengths,
		int result_format, db_cb cb, void *arg);
void db_pool_status(const struct db_pool *p, struct db_status *st);
/* The schema version the pool was created to require. */
int db_pool_schema_version(const struct db_pool *p);
void db_pool_set_size(struct db_pool *p, int size);
/* New limits for a reload: queries queued before 503 (now) and the
 * statement_timeout of connections opened from now on. Worker thread. */
void db_pool_set_queue(struct db_pool *p, int queue_max, int statement_timeout_ms);
/* Opens one extra connection that LISTENs on channel and calls cb per NOTIFY. */
int db_pool_listen(struct db_pool *p, const char *channel, db_notify_cb cb, void *arg);

/* Every plantrack connection (pool, migrate, CLI) resolves names with
 * search_path = api, public: the user's conninfo (key=value or URI) plus
 * options "-c search_path=api,public", appended to the user's own options
 * unless those already set search_path. Use keys/vals with
 * PQconnectdbParams/PQconnectStartParams and expand_dbname = 1.
 * The struct owns options; release it with db_conn_params_free. */
#define DB_SEARCH_PATH "api,public"
struct db_conn_params {
	const char *keys[8];
	const char *vals[8];
	char *options;
};
void db_conn_params_init(struct db_conn_params *p, const char *conninfo);
void db_conn_params_free(struct db_conn_params *p);
/* Blocking connect with those parameters (command line only); never NULL. */
PGconn *db_connect_blocking(const char *conninfo);

/* The API set checksum (hex) connections must find in api_state before they
 * count as ready; "" (the default) checks nothing. Set before the first pool. */
void db_expect_api_checksum(const char *hex);

/* The deadline of each call (queue time included); 0 = statement_timeout_ms
 * + 1000. A call still waiting or running then is failed (res == NULL), its
 * connection recycled and its statement cancelled from another thread. The
 * pool also probes the database (SELECT 1) when nothing completed for a
 * second; while a probe goes unanswered for a second the pool is not ready. */
void db_pool_set_deadline(struct db_pool *p, int deadline_ms);
/* Inside a db_cb with res == NULL: 1 when the call failed by its deadline. */
int db_failed_by_deadline(void);

/* Counters across all pools (for /metrics). */
unsigned long long db_errors_total(void);
unsigned long long db_deadlines_total(void);

#endif
