/*
 * replica.c - reads from a hot standby (see replica.h).
 *
 * Per worker: a db_pool on database.replica and a freshness probe. Every
 * REPLICA_POLL_MS the probe takes a sample (t, L): t = now, then L = the
 * primary's pg_current_wal_lsn(), so every write committed before t has its
 * commit record at or below L. It then asks the standby for
 * pg_last_wal_replay_lsn(); once that reaches L (asked again each tick until
 * it does), fresh_ns = t: the standby shows every write committed before t.
 * A token's writes are stamped (monotonic time, after commit, before the
 * reply) in a small table shared by all workers; a token whose stamp is not
 * older than fresh_ns reads from the primary. Colliding tokens share a slot
 * and only ever read from the primary more often.
 */
#include "plantrack/replica.h"
#include "plantrack/config.h"
#include "plantrack/log.h"
#include "plantrack/worker.h"
#include "plantrack/xalloc.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLICA_POLL_MS 50
#define TOKEN_SLOTS 4096

struct replica {
	struct worker *w;
	struct db_pool *pool;
	struct event *timer;
	int probing;            /* a primary or standby probe query is in flight */
	uint64_t sample_ns;     /* 0: no sample pending */
	uint64_t sample_lsn;
	uint64_t fresh_ns;      /* the standby holds every write committed before this */
	int lagging_logged;
};

static _Atomic uint64_t token_write_ns[TOKEN_SLOTS];
static _Atomic unsigned long long reads_total, fallbacks_total;

unsigned long long replica_reads_total(void) { return atomic_load(&reads_total); }
unsigned long long replica_fallbacks_total(void) { return atomic_load(&fallbacks_total); }

static struct replica *replica_of(struct worker *w)
{
	return worker_get_slot(w, SLOT_REPLICA);
}

static size_t token_slot(const char *id)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h % TOKEN_SLOTS);
}

void replica_note_write(const char *token_id)
{
	_Atomic uint64_t *slot = &token_write_ns[token_slot(token_id ? token_id : "")];
	uint64_t now = pt_now_ns(), old = atomic_load(slot);
	while (old < now && !atomic_compare_exchange_weak(slot, &old, now))
		;
}

/* "16/B374D848" -> 64-bit LSN; 0 when unreadable. */
static uint64_t lsn_parse(const char *s)
{
	unsigned hi, lo;
	if (!s || sscanf(s, "%X/%X", &hi, &lo) != 2)
		return 0;
	return ((uint64_t)hi << 32) | lo;
}

static int call_reads_only(enum sql_call call)
{
	switch (call) {
	case SQL_TASK_GET:
	case SQL_TASKS_LIST:
	case SQL_PLAN_SUMMARY:
		/* With the document cache on, these fill the cache, which every
		 * token reads: they must come from the primary, or a standby's
		 * older copy could be served to a token that just wrote. */
		return config_current()->cache_documents == 0;
	case SQL_TASK_UPDATES:
	case SQL_PLAN_GET:
	case SQL_PLANS_LIST:
	case SQL_PLAN_EXPORT:
		return 1;
	default:
		return 0;
	}
}

/* ---- the freshness probe ---- */

static void probe_standby(struct replica *rp);

static void on_replay_lsn(PGresult *res, void *arg)
{
	struct replica *rp = replica_of(arg);
	if (!rp)
		return;
	rp->probing = 0;
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		return;
	uint64_t replayed = lsn_parse(PQgetvalue(res, 0, 0));
	if (rp->sample_ns && replayed && replayed >= rp->sample_lsn) {
		rp->fresh_ns = rp->sample_ns;
		rp->sample_ns = 0;
		rp->lagging_logged = 0;
	}
}

static void probe_standby(struct replica *rp)
{
	if (db_query(rp->pool, sql_stmt(SQL_REPLAY_LSN), 0, NULL, on_replay_lsn, rp->w) == DB_OK)
		rp->probing = 1;
}

static void on_primary_lsn(PGresult *res, void *arg)
{
	struct replica *rp = replica_of(arg);
	if (!rp)
		return;
	rp->probing = 0;
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		rp->sample_ns = 0;
		return;
	}
	rp->sample_lsn = lsn_parse(PQgetvalue(res, 0, 0));
	if (!rp->sample_lsn) {
		rp->sample_ns = 0;
		return;
	}
	probe_standby(rp);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct replica *rp = replica_of(arg);
	if (!rp || rp->probing || worker_draining(rp->w))
		return;
	uint64_t now = pt_now_ns();
	int max_lag = config_current()->replica_max_lag_ms;
	if (rp->fresh_ns && now - rp->fresh_ns > (uint64_t)max_lag * 1000000ULL && !rp->lagging_logged) {
		log_warn("replica: more than %d ms behind (or unreachable): reads go to the primary", max_lag);
		rp->lagging_logged = 1;
	}
	if (rp->sample_ns) {  /* the standby had not reached the last sample yet */
		probe_standby(rp);
		return;
	}
	rp->sample_ns = now;
	if (db_query(worker_db(rp->w), sql_stmt(SQL_WAL_LSN), 0, NULL, on_primary_lsn, rp->w) == DB_OK)
		rp->probing = 1;
	else
		rp->sample_ns = 0;
}

/* ---- reads ---- */

struct rread {
	struct worker *w;
	enum sql_call call;
	int n;
	db_cb cb;
	void *arg;
	char *params[];  /* n copies, then their bytes */
};

static int standby_failed(PGresult *res)
{
	if (!res)
		return 1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return 0;
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (!state)
		return 1;
	/* PT4xx and data errors are the same answer on the primary. */
	return !(state[0] == 'P' && state[1] == 'T') && strncmp(state, "22", 2);
}

static void on_standby_result(PGresult *res, void *arg)
{
	struct rread *rr = arg;
	if (!standby_failed(res) || !replica_of(rr->w)) {
		rr->cb(res, rr->arg);
		free(rr);
		return;
	}
	atomic_fetch_add(&fallbacks_total, 1);
	if (db_query(worker_db(rr->w), sql_stmt(rr->call), rr->n, (const char *const *)rr->params, rr->cb,
		     rr->arg) != DB_OK)
		rr->cb(NULL, rr->arg);
	free(rr);
}

int replica_query(struct worker *w, const char *token_id, enum sql_call call, int n, const char *const *params,
		  db_cb cb, void *arg)
{
	struct replica *rp = replica_of(w);
	if (rp && call_reads_only(call) && rp->fresh_ns) {
		uint64_t now = pt_now_ns();
		uint64_t max_lag = (uint64_t)config_current()->replica_max_lag_ms * 1000000ULL;
		uint64_t wrote = atomic_load(&token_write_ns[token_slot(token_id ? token_id : "")]);
		struct db_status st;
		db_pool_status(rp->pool, &st);
		if (now - rp->fresh_ns <= max_lag && wrote < rp->fresh_ns && st.ready > 0) {
			size_t bytes = sizeof(struct rread) + (size_t)n * sizeof(char *);
			for (int i = 0; i < n; i++)
				bytes += params[i] ? strlen(params[i]) + 1 : 0;
			struct rread *rr = xmalloc(bytes);
			rr->w = w;
			rr->call = call;
			rr->n = n;
			rr->cb = cb;
			rr->arg = arg;
			char *cursor = (char *)(rr->params + n);
			for (int i = 0; i < n; i++) {
				rr->params[i] = NULL;
				if (!params[i])
					continue;
				size_t len = strlen(params[i]) + 1;
				memcpy(cursor, params[i], len);
				rr->params[i] = cursor;
				cursor += len;
			}
			if (db_query(rp->pool, sql_stmt(call), n, (const char *const *)rr->params, on_standby_result,
				     rr) == DB_OK) {
				atomic_fetch_add(&reads_total, 1);
				return DB_OK;
			}
			free(rr);
		}
	}
	return db_query(worker_db(w), sql_stmt(call), n, params, cb, arg);
}

/* ---- worker hooks ---- */

static void replica_start(struct worker *w)
{
	const struct config *c = config_current();
	if (!c->replica || !*c->replica)
		return;
	struct replica *rp = xcalloc(1, sizeof *rp);
	rp->w = w;
	rp->pool = db_pool_new(worker_base(w), c->replica, c->pool, c->queue, c->statement_timeout_ms,
			       db_pool_schema_version(worker_db(w)));
	rp->timer = event_new(worker_base(w), -1, EV_PERSIST, on_poll, w);
	struct timeval tv = { 0, REPLICA_POLL_MS * 1000 };
	event_add(rp->timer, &tv);
	worker_set_slot(w, SLOT_REPLICA, rp);
}

static void replica_stop(struct worker *w)
{
	struct replica *rp = replica_of(w);
	if (!rp)
		return;
	event_free(rp->timer);
	/* Reads in flight on the standby fail over to the primary, still open. */
	db_pool_free(rp->pool);
	worker_set_slot(w, SLOT_REPLICA, NULL);
	free(rp);
}

void replica_init(void)
{
	worker_on(WORKER_HOOK_START, replica_start);
	worker_on(WORKER_HOOK_STOP, replica_stop);
}
