/*
 * db.c - asynchronous libpq pool on a libevent loop (see db.h).
 *
 * Each connection is a small state machine:
 *   DOWN --timer--> CONNECTING --PQconnectPoll OK--> SETUP (statement_timeout,
 *   schema version) --> PREPARING (one statement at a time) --> IDLE <-> BUSY
 * Any failure closes the connection, fails its running query with res=NULL
 * and schedules a reconnect with exponential backoff (250 ms .. 500 ms); the
 * first connection back wakes its waiting siblings, so a restarted
 * PostgreSQL is back in service within about half a second. No call here
 * blocks: the socket is watched with one event per connection.
 */
#include "plantrack/db.h"
#include "plantrack/log.h"
#include "plantrack/xalloc.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DB_MAX_STMTS 128
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 500 /* recovery within about half a second of the database's return */

static const char *stmt_sql[DB_MAX_STMTS];
static int stmt_n;
static _Atomic unsigned long long errors_total;
static char expected_api[65];   /* db_expect_api_checksum; "" checks nothing */
static _Atomic unsigned long long deadlines_total;
static _Atomic int cancels_running;
static _Thread_local int failing_by_deadline;  /* set while callbacks of a deadline failure run */
static int probe_stmt = -1;

#define TICK_MS 100
#define PROBE_IDLE_MS 1000      /* probe when nothing completed for this long */
#define PROBE_STALL_MS 1000     /* a probe unanswered this long marks the pool stalled */
#define MAX_CANCEL_THREADS 8

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int db_failed_by_deadline(void)
{
	return failing_by_deadline;
}

unsigned long long db_deadlines_total(void)
{
	return atomic_load(&deadlines_total);
}

/* PQcancel blocks until the server has read the cancel request (forever, if
 * it is frozen), so it runs on a short-lived thread of its own; at most a few
 * at once, the rest are skipped (the server's statement_timeout still ends
 * the statement). */
static void *cancel_thread(void *arg)
{
	PGcancel *cc = arg;
	char err[256];
	PQcancel(cc, err, sizeof err);
	PQfreeCancel(cc);
	atomic_fetch_sub(&cancels_running, 1);
	return NULL;
}

static void cancel_async(PGconn *pg)
{
	if (atomic_fetch_add(&cancels_running, 1) >= MAX_CANCEL_THREADS) {
		atomic_fetch_sub(&cancels_running, 1);
		return;
	}
	PGcancel *cc = PQgetCancel(pg);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	if (!cc || pthread_create(&t, &attr, cancel_thread, cc)) {
		if (cc)
			PQfreeCancel(cc);
		atomic_fetch_sub(&cancels_running, 1);
	}
	pthread_attr_destroy(&attr);
}

void db_expect_api_checksum(const char *hex)
{
	snprintf(expected_api, sizeof expected_api, "%s", hex ? hex : "");
}

int db_stmt_register(const char *sql)
{
	if (stmt_n >= DB_MAX_STMTS)
		return -1;
	stmt_sql[stmt_n] = sql;
	return stmt_n++;
}

int db_stmt_count(void)
{
	return stmt_n;
}

unsigned long long db_errors_total(void)
{
	return atomic_load(&errors_total);
}

enum conn_state { C_DOWN, C_CONNECTING, C_SETUP, C_PREPARING, C_LISTENING, C_IDLE, C_BUSY };

struct query {
	struct query *next;
	int stmt;
	int nparams;
	char **values;      /* points into the same allocation */
	int *lengths;       /* NULL: every value is text; else -1 text, >= 0 binary of that length */
	int *formats;
	int result_format;  /* 0 text, 1 binary */
	db_cb cb;
	void *arg;
	uint64_t deadline_ns;  /* answered with a failure when still waiting or running then */
};

struct conn {
	struct db_pool *pool;
	PGconn *pg;
	enum conn_state state;
	struct event *ev;       /* socket watcher */
	struct event *timer;    /* reconnect backoff */
	int fd;
	short watching;
	int backoff_ms;
	int prepared;           /* statements prepared so far */
	int listener;           /* 1 for the LISTEN connection */
	int retire;             /* close when idle (pool shrank) */
	struct query *q;        /* running query */
	PGresult *result;       /* result being collected */
	int failed;             /* collected an error result */
	uint64_t since_ns;      /* when connecting / setting up began */
};

struct db_pool {
	struct event_base *base;
	char *conninfo;
	int size, queue_max, statement_timeout_ms, schema_version;
	struct conn **conns;
	int nconns;
	struct conn *listen_conn;
	char *channel;
	db_notify_cb notify_cb;
	void *notify_arg;
	struct query *head, *tail;
	int waiting;
	int schema_seen;
	char api_seen[65];         /* api_state.checksum at the last setup */
	char reason[256];
	int deadline_ms;           /* per database call, queue time included */
	struct event *tick;        /* deadlines and the probe */
	int probe_inflight;
	uint64_t probe_sent_ns, last_ok_ns;
	int stalled;               /* a probe went unanswered: not ready */
};

static void conn_start(struct conn *c);
static void conn_on_event(evutil_socket_t fd, short what, void *arg);
static void conn_dispatch(struct conn *c);
static void pool_pump(struct db_pool *p);

static struct query *query_new(int stmt, int nparams, const char *const *values, const int *lengths,
			       int result_format, db_cb cb, void *arg)
{
	size_t bytes = sizeof(struct query) + (size_t)nparams * sizeof(char *);
	if (lengths)
		bytes += 2 * (size_t)nparams * sizeof(int);
	for (int i = 0; i < nparams; i++)
		if (values[i])
			bytes += (lengths && lengths[i] >= 0 ? (size_t)lengths[i] : strlen(values[i])) + 1;
	struct query *q = xmalloc(bytes);
	q->next = NULL;
	q->stmt = stmt;
	q->nparams = nparams;
	q->values = (char **)(q + 1);
	q->lengths = NULL;
	q->formats = NULL;
	q->result_format = result_format;
	q->cb = cb;
	q->arg = arg;
	char *cursor = (char *)(q->values + nparams);
	if (lengths) {
		q->lengths = (int *)cursor;
		q->formats = q->lengths + nparams;
		cursor = (char *)(q->formats + nparams);
	}
	for (int i = 0; i < nparams; i++) {
		int bin = lengths && lengths[i] >= 0;
		if (lengths) {
			q->lengths[i] = bin ? lengths[i] : 0;
			q->formats[i] = bin;
		}
		if (!values[i]) {
			q->values[i] = NULL;
			continue;
		}
		size_t len = bin ? (size_t)lengths[i] : strlen(values[i]);
		memcpy(cursor, values[i], len);
		cursor[len] = 0;
		q->values[i] = cursor;
		cursor += len + 1;
	}
	return q;
}

static void set_reason(struct db_pool *p, const char *detail)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s", detail ? detail : "");
	char *nl = strchr(msg, '\n');
	if (nl)
		*nl = 0;
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = 0;
	if (strcmp(msg, p->reason)) {
		log_warn("database: %s", msg);
		snprintf(p->reason, sizeof p->reason, "%s", msg);
	}
}

static void conn_watch(struct conn *c, short what)
{
	int fd = c->pg ? PQsocket(c->pg) : -1;
	if (c->ev && c->fd == fd && c->watching == what)
		return;
	if (c->ev) {
		event_free(c->ev);
		c->ev = NULL;
	}
	c->fd = fd;
	c->watching = what;
	if (fd < 0 || !what)
		return;
	c->ev = event_new(c->pool->base, fd, what | EV_PERSIST, conn_on_event, c);
	event_add(c->ev, NULL);
}

static void conn_finish_query(struct conn *c, PGresult *res)
{
	struct query *q = c->q;
	c->q = NULL;
	if (q) {
		q->cb(res, q->arg);
		free(q);
	}
}

/* Closes the connection, fails its query, and schedules a reconnect. */
static void conn_fail(struct conn *c, const char *why)
{
	struct db_pool *p = c->pool;
	if (why)
		set_reason(p, why);
	atomic_fetch_add(&errors_total, 1);
	conn_watch(c, 0);
	if (c->result) {
		PQclear(c->result);
		c->result = NULL;
	}
	if (c->pg) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->state = C_DOWN;
	conn_finish_query(c, NULL);
	if (!c->retire) {  /* a retired connection (the pool shrank) stays closed */
		struct timeval tv = { c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000 };
		evtimer_add(c->timer, &tv);
		c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
	}
	/* With no connection left, waiting queries cannot run: fail them now. */
	int any_ready = 0;
	for (int i = 0; i < p->nconns; i++)
		if (p->conns[i]->state == C_IDLE || p->conns[i]->state == C_BUSY)
			any_ready = 1;
	if (!any_ready) {
		while (p->head) {
			struct query *q = p->head;
			p->head = q->next;
			p->waiting--;
			q->cb(NULL, q->arg);
			free(q);
		}
		p->tail = NULL;
	}
}

static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	conn_start(arg);
}

void db_conn_params_init(struct db_conn_params *p, const char *conninfo)
{
	const char *user = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo ? conninfo : "", NULL);
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (!strcmp(o->keyword, "options") && o->val && *o->val)
			user = o->val;
	const char *ours = "-c search_path=" DB_SEARCH_PATH;
	if (!user)
		p->options = strdup(ours);
	else if (strstr(user, "search_path"))
		p->options = strdup(user);
	else if ((p->options = malloc(strlen(user) + strlen(ours) + 2)) != NULL)
		sprintf(p->options, "%s %s", user, ours);
	PQconninfoFree(opts);
	/* Over TCP, a peer that vanished (host down, cable, firewall state lost)
	 * is noticed within about 20 s instead of the kernel's two hours; the
	 * conninfo can override each. */
	int i = 0;
	p->keys[i] = "keepalives", p->vals[i++] = "1";
	p->keys[i] = "keepalives_idle", p->vals[i++] = "10";
	p->keys[i] = "keepalives_interval", p->vals[i++] = "3";
	p->keys[i] = "keepalives_count", p->vals[i++] = "3";
	p->keys[i] = "tcp_user_timeout", p->vals[i++] = "20000";
	p->keys[i] = "dbname", p->vals[i++] = conninfo ? conninfo : "";
	if (p->options)
		p->keys[i] = "options", p->vals[i++] = p->options;
	p->keys[i] = NULL;
	p->vals[i] = NULL;
}

void db_conn_params_free(struct db_conn_params *p)
{
	free(p->options);
	p->options = NULL;
}

PGconn *db_connect_blocking(const char *conninfo)
{
	struct db_conn_params cp;
	db_conn_params_init(&cp, conninfo);
	PGconn *pg = PQconnectdbParams(cp.keys, cp.vals, 1);
	db_conn_params_free(&cp);
	return pg;
}

static void conn_start(struct conn *c)
{
	struct db_conn_params cp;
	db_conn_params_init(&cp, c->pool->conninfo);
	c->pg = PQconnectStartParams(cp.keys, cp.vals, 1);
	db_conn_params_free(&cp);
	if (!c->pg) {
		conn_fail(c, "out of memory");
		return;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	PQsetnonblocking(c->pg, 1);
	c->state = C_CONNECTING;
	c->since_ns = now_ns();
	c->prepared = 0;
	conn_watch(c, EV_WRITE);
}

/* Sends the next setup step for a freshly connected connection. */
static int conn_send_setup(struct conn *c)
{
	char sql[320];
	snprintf(sql, sizeof sql,
		 "SET statement_timeout = %d; SET idle_in_transaction_session_timeout = 60000; "
		 "SELECT coalesce((SELECT max(version) FROM public.schema_migrations), 0), "
		 "(SELECT checksum FROM public.api_state)",
		 c->pool->statement_timeout_ms);
	c->state = C_SETUP;
	return PQsendQuery(c->pg, sql);
}

static int conn_send_next_prepare(struct conn *c)
{
	char name[16];
	snprintf(name, sizeof name, "pt%d", c->prepared);
	c->state = C_PREPARING;
	return PQsendPrepare(c->pg, name, stmt_sql[c->prepared], 0, NULL);
}

static void conn_flush(struct conn *c)
{
	int rc = PQflush(c->pg);
	if (rc < 0)
		conn_fail(c, PQerrorMessage(c->pg));
	else
		conn_watch(c, rc == 1 ? EV_READ | EV_WRITE : EV_READ);
}

static void conn_became_ready(struct conn *c)
{
	struct db_pool *p = c->pool;
	c->state = C_IDLE;
	c->backoff_ms = BACKOFF_MIN_MS;
	/* The database is back: siblings waiting out their backoff retry now. */
	for (int i = 0; i < p->nconns; i++) {
		struct conn *s = p->conns[i];
		if (s != c && s->state == C_DOWN && !s->retire && evtimer_pending(s->timer, NULL)) {
			evtimer_del(s->timer);
			s->backoff_ms = BACKOFF_MIN_MS;
			conn_start(s);
		}
	}
	if (p->reason[0]) {
		log_info("database: connection ready (schema %d)", p->schema_seen);
		p->reason[0] = 0;
	}
	conn_watch(c, EV_READ);
	pool_pump(p);
}

static void conn_poll_connect(struct conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		conn_watch(c, EV_READ);
		return;
	case PGRES_POLLING_WRITING:
		conn_watch(c, EV_WRITE);
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (c->listener) {
		char sql[128];
		snprintf(sql, sizeof sql, "LISTEN %s", c->pool->channel);
		c->state = C_LISTENING;
		if (!PQsendQuery(c->pg, sql)) {
			conn_fail(c, PQerrorMessage(c->pg));
			return;
		}
	} else if (!conn_send_setup(c)) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	conn_flush(c);
}

/* A complete response to a setup/prepare step arrived. */
static void conn_step_done(struct conn *c, PGresult *res)
{
	struct db_pool *p = c->pool;
	if (c->state == C_LISTENING) {
		c->state = C_IDLE;
		c->backoff_ms = BACKOFF_MIN_MS;
		conn_watch(c, EV_READ);
		p->notify_cb(NULL, p->notify_arg);
		return;
	}
	if (c->state == C_SETUP) {
		int seen = res && PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 0)) : -1;
		p->schema_seen = seen;
		if (seen < p->schema_version) {
			char msg[128];
			snprintf(msg, sizeof msg, "schema is behind: version %d, migrations need %d (run plantrackd migrate)",
				 seen, p->schema_version);
			conn_fail(c, msg);
			return;
		}
		const char *api = res && PQntuples(res) == 1 && !PQgetisnull(res, 0, 1) ? PQgetvalue(res, 0, 1) : "";
		snprintf(p->api_seen, sizeof p->api_seen, "%s", api);
		if (expected_api[0] && strcmp(api, expected_api)) {
			char msg[256];
			snprintf(msg, sizeof msg, "database API checksum %.12s, this binary expects %.12s: run plantrackd migrate",
				 *api ? api : "(none)", expected_api);
			conn_fail(c, msg);
			return;
		}
	}
	if (c->state == C_SETUP || c->state == C_PREPARING) {
		if (c->state == C_PREPARING)
			c->prepared++;
		if (c->prepared < stmt_n) {
			if (!conn_send_next_prepare(c))
				conn_fail(c, PQerrorMessage(c->pg));
			else
				conn_flush(c);
			return;
		}
		conn_became_ready(c);
	}
}

static void conn_deliver_notifies(struct conn *c)
{
	PGnotify *n;
	while ((n = PQnotifies(c->pg)) != NULL) {
		if (c->listener && c->pool->notify_cb)
			c->pool->notify_cb(n->extra, c->pool->notify_arg);
		PQfreemem(n);
	}
}

/* Reads what arrived; collects results until the current command is done. */
static void conn_read(struct conn *c)
{
	if (!PQconsumeInput(c->pg)) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	conn_deliver_notifies(c);
	while (c->pg && !PQisBusy(c->pg)) {
		PGresult *res = PQgetResult(c->pg);
		if (res) {
			ExecStatusType st = PQresultStatus(res);
			if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR) {
				if (!c->failed) {
					if (c->result)
						PQclear(c->result);
					c->result = res;
					c->failed = 1;
				} else {
					PQclear(res);
				}
			} else if (!c->failed) {
				if (c->result)
					PQclear(c->result);
				c->result = res;
			} else {
				PQclear(res);
			}
			continue;
		}
		/* End of this command's results. */
		PGresult *done = c->result;
		int failed = c->failed;
		c->result = NULL;
		c->failed = 0;
		if (c->state == C_BUSY) {
			if (failed)
				atomic_fetch_add(&errors_total, 1);
			struct db_pool *p = c->pool;
			p->last_ok_ns = now_ns();  /* even an error result is an answer */
			if (p->stalled) {
				p->stalled = 0;
				log_info("database: answering again");
			}
			c->state = C_IDLE;
			conn_finish_query(c, done);
			PQclear(done);
			if (c->pg && c->state == C_IDLE)
				conn_dispatch(c);
			return;
		}
		if (failed && c->state != C_SETUP) {
			char msg[300];
			snprintf(msg, sizeof msg, "connection setup failed: %s",
				 done ? PQresultErrorMessage(done) : "?");
			PQclear(done);
			conn_fail(c, msg);
			return;
		}
		if (failed && c->state == C_SETUP) {
			const char *state = PQresultErrorField(done, PG_DIAG_SQLSTATE);
			int missing_table = state && !strcmp(state, "42P01");
			PQclear(done);
			if (missing_table) {
				char msg[160];
				snprintf(msg, sizeof msg, "schema is behind: not migrated by this release, migrations need %d (run plantrackd migrate)",
					 c->pool->schema_version);
				c->pool->schema_seen = 0;
				conn_fail(c, msg);
			} else {
				conn_fail(c, "connection setup failed");
			}
			return;
		}
		conn_step_done(c, done);
		PQclear(done);
		return;
	}
}

static void conn_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (c->state == C_CONNECTING) {
		conn_poll_connect(c);
		return;
	}
	if (what & EV_WRITE) {
		conn_flush(c);
		if (!c->pg)
			return;
	}
	if (what & EV_READ)
		conn_read(c);
}

/* Runs the next queued query on an idle connection, or retires it. */
static void conn_dispatch(struct conn *c)
{
	struct db_pool *p = c->pool;
	if (c->state != C_IDLE || c->listener)
		return;
	if (c->retire) {
		conn_watch(c, 0);
		PQfinish(c->pg);
		c->pg = NULL;
		c->state = C_DOWN;
		return;
	}
	struct query *q = p->head;
	if (!q)
		return;
	p->head = q->next;
	if (!p->head)
		p->tail = NULL;
	p->waiting--;
	char name[16];
	snprintf(name, sizeof name, "pt%d", q->stmt);
	c->q = q;
	c->state = C_BUSY;
	c->since_ns = now_ns();
	if (!PQsendQueryPrepared(c->pg, name, q->nparams, (const char *const *)q->values, q->lengths, q->formats,
				 q->result_format)) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	conn_flush(c);
}

static void pool_pump(struct db_pool *p)
{
	for (int i = 0; i < p->nconns && p->head; i++)
		if (p->conns[i]->state == C_IDLE)
			conn_dispatch(p->conns[i]);
}

static struct conn *conn_new(struct db_pool *p, int listener)
{
	struct conn *c = xcalloc(1, sizeof *c);
	c->pool = p;
	c->fd = -1;
	c->listener = listener;
	c->backoff_ms = BACKOFF_MIN_MS;
	c->timer = evtimer_new(p->base, conn_on_timer, c);
	conn_start(c);
	return c;
}

static void conn_free(struct conn *c)
{
	conn_watch(c, 0);
	if (c->result)
		PQclear(c->result);
	if (c->pg)
		PQfinish(c->pg);
	c->pg = NULL;
	conn_finish_query(c, NULL);
	event_free(c->timer);
	free(c);
}

/* A call past its deadline: the connection is recycled (its statement
 * cancelled off the loop) and the caller hears res == NULL with
 * db_failed_by_deadline() true. */
static void conn_deadline(struct conn *c)
{
	struct db_pool *p = c->pool;
	char msg[160];
	snprintf(msg, sizeof msg, "a database call took longer than its deadline (%d ms); connection recycled",
		 p->deadline_ms);
	atomic_fetch_add(&deadlines_total, 1);
	if (c->pg)
		cancel_async(c->pg);
	failing_by_deadline = 1;
	conn_fail(c, msg);
	failing_by_deadline = 0;
}

static void on_probe(PGresult *res, void *arg)
{
	struct db_pool *p = arg;
	p->probe_inflight = 0;
}

static void send_probe(struct db_pool *p, uint64_t now)
{
	for (int i = 0; i < p->nconns; i++) {
		struct conn *c = p->conns[i];
		if (c->state != C_IDLE || c->retire)
			continue;
		struct query *q = query_new(probe_stmt, 0, NULL, NULL, 0, on_probe, p);
		q->deadline_ns = now + (uint64_t)p->deadline_ms * 1000000ULL;
		char name[16];
		snprintf(name, sizeof name, "pt%d", probe_stmt);
		c->q = q;
		c->state = C_BUSY;
		c->since_ns = now;
		p->probe_inflight = 1;
		p->probe_sent_ns = now;
		if (!PQsendQueryPrepared(c->pg, name, 0, NULL, NULL, NULL, 0)) {
			conn_fail(c, PQerrorMessage(c->pg));
			return;
		}
		conn_flush(c);
		return;
	}
}

static void pool_tick(evutil_socket_t fd, short what, void *arg)
{
	struct db_pool *p = arg;
	uint64_t now = now_ns(), limit = (uint64_t)p->deadline_ms * 1000000ULL;
	/* Waiting too long in the queue (FIFO: the oldest are first). */
	while (p->head && p->head->deadline_ns <= now) {
		struct query *q = p->head;
		p->head = q->next;
		if (!p->head)
			p->tail = NULL;
		p->waiting--;
		atomic_fetch_add(&deadlines_total, 1);
		failing_by_deadline = 1;
		q->cb(NULL, q->arg);
		failing_by_deadline = 0;
		free(q);
	}
	for (int i = 0; i < p->nconns; i++) {
		struct conn *c = p->conns[i];
		if (c->state == C_BUSY && c->q && c->q->deadline_ns <= now) {
			conn_deadline(c);
		} else if ((c->state == C_CONNECTING || c->state == C_SETUP || c->state == C_PREPARING) &&
			   now - c->since_ns > limit) {
			char msg[128];
			snprintf(msg, sizeof msg, "connecting took longer than %d ms", p->deadline_ms);
			conn_fail(c, msg);
		}
	}
	/* Readiness means the database answers: probe when nothing did lately. */
	if (p->probe_inflight) {
		uint64_t stall = (uint64_t)(PROBE_STALL_MS < p->deadline_ms ? PROBE_STALL_MS : p->deadline_ms) * 1000000ULL;
		if (!p->stalled && now - p->probe_sent_ns > stall) {
			p->stalled = 1;
			char msg[128];
			snprintf(msg, sizeof msg, "the database did not answer a probe within %d ms",
				 (int)(stall / 1000000ULL));
			set_reason(p, msg);
		}
	} else if (now - p->last_ok_ns > (uint64_t)PROBE_IDLE_MS * 1000000ULL) {
		send_probe(p, now);
	}
}

void db_pool_set_deadline(struct db_pool *p, int deadline_ms)
{
	p->deadline_ms = deadline_ms > 0 ? deadline_ms : p->statement_timeout_ms + 1000;
	if (p->deadline_ms < 100)
		p->deadline_ms = 100;
}

struct db_pool *db_pool_new(struct event_base *base, const char *conninfo, int size,
			    int queue_max, int statement_timeout_ms, int schema_version)
{
	if (probe_stmt < 0)
		probe_stmt = db_stmt_register("SELECT 1");
	struct db_pool *p = xcalloc(1, sizeof *p);
	p->base = base;
	p->conninfo = xstrdup(conninfo ? conninfo : "");
	p->queue_max = queue_max;
	p->statement_timeout_ms = statement_timeout_ms;
	p->schema_version = schema_version;
	p->schema_seen = -1;
	p->last_ok_ns = now_ns();
	db_pool_set_deadline(p, 0);
	snprintf(p->reason, sizeof p->reason, "connecting");
	p->tick = event_new(base, -1, EV_PERSIST, pool_tick, p);
	struct timeval tv = { 0, TICK_MS * 1000 };
	event_add(p->tick, &tv);
	db_pool_set_size(p, size);
	return p;
}

void db_pool_set_queue(struct db_pool *p, int queue_max, int statement_timeout_ms)
{
	p->queue_max = queue_max;
	p->statement_timeout_ms = statement_timeout_ms;
}

void db_pool_set_size(struct db_pool *p, int size)
{
	if (size < 1)
		size = 1;
	for (int i = 0; i < size && i < p->nconns; i++) {
		struct conn *c = p->conns[i];
		if (!c->retire)
			continue;
		c->retire = 0;
		if (c->state == C_DOWN && !evtimer_pending(c->timer, NULL))
			conn_start(c);
	}
	if (size > p->nconns) {
		p->conns = xrealloc(p->conns, (size_t)size * sizeof *p->conns);
		while (p->nconns < size)
			p->conns[p->nconns++] = conn_new(p, 0);
	} else {
		/* Shrinking: extra connections close when they next go idle. */
		for (int i = size; i < p->nconns; i++)
			p->conns[i]->retire = 1;
	}
	p->size = size;
}

int db_pool_listen(struct db_pool *p, const char *channel, db_notify_cb cb, void *arg)
{
	if (p->listen_conn)
		return -1;
	p->channel = xstrdup(channel);
	p->notify_cb = cb;
	p->notify_arg = arg;
	p->listen_conn = conn_new(p, 1);
	return p->listen_conn ? 0 : -1;
}

void db_pool_free(struct db_pool *p)
{
	if (!p)
		return;
	event_free(p->tick);
	while (p->head) {
		struct query *q = p->head;
		p->head = q->next;
		q->cb(NULL, q->arg);
		free(q);
	}
	for (int i = 0; i < p->nconns; i++)
		conn_free(p->conns[i]);
	if (p->listen_conn)
		conn_free(p->listen_conn);
	free(p->conns);
	free(p->conninfo);
	free(p->channel);
	free(p);
}

int db_query(struct db_pool *p, int stmt, int nparams, const char *const *values,
	     db_cb cb, void *arg)
{
	return db_query_ex(p, stmt, nparams, values, NULL, 0, cb, arg);
}

int db_query_ex(struct db_pool *p, int stmt, int nparams, const char *const *values, const int *lengths,
		int result_format, db_cb cb, void *arg)
{
	struct conn *idle = NULL;
	int ready = 0;
	for (int i = 0; i < p->nconns; i++) {
		struct conn *c = p->conns[i];
		if (c->state == C_IDLE || c->state == C_BUSY)
			ready++;
		if (c->state == C_IDLE && !c->retire && !idle)
			idle = c;
	}
	if (!ready)
		return DB_UNAVAILABLE;
	if (!idle && p->waiting >= p->queue_max)
		return DB_QUEUE_FULL;
	struct query *q = query_new(stmt, nparams, values, lengths, result_format, cb, arg);
	q->deadline_ns = now_ns() + (uint64_t)p->deadline_ms * 1000000ULL;
	if (p->tail)
		p->tail->next = q;
	else
		p->head = q;
	p->tail = q;
	p->waiting++;
	if (idle)
		conn_dispatch(idle);
	return DB_OK;
}

void db_pool_status(const struct db_pool *p, struct db_status *st)
{
	memset(st, 0, sizeof *st);
	st->size = p->size;
	st->waiting = p->waiting;
	st->schema = p->schema_seen;
	snprintf(st->api_checksum, sizeof st->api_checksum, "%s", p->api_seen);
	for (int i = 0; i < p->nconns; i++) {
		enum conn_state s = p->conns[i]->state;
		if (s == C_IDLE || s == C_BUSY)
			st->ready++;
		if (s == C_BUSY)
			st->busy++;
	}
	if (p->stalled)
		st->ready = 0;
	snprintf(st->reason, sizeof st->reason, "%s", st->ready ? "" : (p->reason[0] ? p->reason : "connecting"));
}

int db_pool_schema_version(const struct db_pool *p)
{
	return p->schema_version;
}
