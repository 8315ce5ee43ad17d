/*
 * doccache.c - the task document cache (see doccache.h).
 *
 * A chained hash table of entries on an LRU list, under one mutex; parent
 * documents (tasks with children, whose progress rolls up) are also on a
 * list of their own so a report can evict them all without a scan.
 *
 * Generations: gen counts evictions. A fill takes a ticket (the gen when
 * its query was sent). Evicting key K leaves a tombstone for K stamped with
 * a new gen; evicting all parents stamps parents_gen, the views of a plan
 * plan_gen[slot], all views views_all_gen; dropping everything
 * (or a tombstone, under LRU pressure) raises floor_gen. A fill is stored
 * only if its ticket is not older than any of those that concern it.
 */
#include "plantrack/doccache.h"
#include "plantrack/config.h"
#include "plantrack/db.h"
#include "plantrack/http.h"
#include "plantrack/log.h"
#include "plantrack/metrics.h"
#include "plantrack/worker.h"
#include "plantrack/xalloc.h"

#include <event2/buffer.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS (1u << 15)
#define FEED_BATCH 1000

struct entry {
	struct entry *hnext;
	struct entry *lprev, *lnext;  /* LRU: head = most recent */
	struct entry *pprev, *pnext;  /* the parents or the views list (live entries only) */
	char id[256];                 /* task id, or "GET " + URI of a view */
	char plan[40];                /* the task's plan / the view's plan ("" unknown / all plans) */
	int tomb;                     /* evicted: only gen and plan matter */
	int kind;                     /* KIND_* */
	uint64_t gen;
	uint64_t expires_ns;
	int lag, soon_days, soon_progress;
	char etag[24];
	size_t len;
	char *body;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry *buckets[NBUCKETS];
static struct entry lru = { .lprev = &lru, .lnext = &lru };
enum { KIND_DOC, KIND_PARENT, KIND_VIEW };
#define PLAN_SLOTS 4096

static struct entry parents = { .pprev = &parents, .pnext = &parents };
static struct entry views = { .pprev = &views, .pnext = &views };
static size_t count, bytes;
static uint64_t gen = 1, floor_gen, parents_gen;
static uint64_t views_all_gen;               /* every view evicted (a write in an unknown plan) */
static uint64_t plan_gen[PLAN_SLOTS];        /* the views of a plan evicted (slots shared by hash) */
static uint64_t midnight_ns;   /* the database's next midnight, from the last task fill */
static struct doccache_stats stats;

/* The change feed cursor: events up to feed_seq have been applied. */
static long long feed_seq = -1;   /* -1: unknown (flush at the next notification) */
static long long feed_want;       /* highest seq announced */
static int feed_fetching;

static size_t hash_id(const char *id)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29)) & (NBUCKETS - 1);
}

/* Keys are lowercase: a UUID in a URL may be in either case. */
static void norm(char out[40], const char *id)
{
	size_t i = 0;
	for (; id[i] && i < 39; i++)
		out[i] = (char)((id[i] >= 'A' && id[i] <= 'F') ? id[i] + 32 : id[i]);
	out[i] = 0;
}

static struct entry *find(const char *id)
{
	for (struct entry *e = buckets[hash_id(id)]; e; e = e->hnext)
		if (!strcmp(e->id, id))
			return e;
	return NULL;
}

static void lru_unlink(struct entry *e)
{
	e->lprev->lnext = e->lnext;
	e->lnext->lprev = e->lprev;
}

static void lru_push(struct entry *e)
{
	e->lnext = lru.lnext;
	e->lprev = &lru;
	lru.lnext->lprev = e;
	lru.lnext = e;
}

static void parent_unlink(struct entry *e)
{
	if (!e->pprev)
		return;
	e->pprev->pnext = e->pnext;
	e->pnext->pprev = e->pprev;
	e->pprev = e->pnext = NULL;
}

/* Drops the document, keeping e as a tombstone stamped g. */
static void make_tomb(struct entry *e, uint64_t g)
{
	parent_unlink(e);
	if (!e->tomb)
		bytes -= e->len;
	free(e->body);
	e->body = NULL;
	e->len = 0;
	e->tomb = 1;
	e->kind = KIND_DOC;
	e->gen = g;
}

static void remove_entry(struct entry *e)
{
	struct entry **pp = &buckets[hash_id(e->id)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(e);
	parent_unlink(e);
	if (e->tomb) {
		if (e->gen > floor_gen)
			floor_gen = e->gen;  /* forgetting a tombstone: older fills may not land */
	} else {
		bytes -= e->len;
	}
	free(e->body);
	free(e);
	count--;
}

static void flush_locked(void)
{
	while (lru.lnext != &lru)
		remove_entry(lru.lnext);
	floor_gen = ++gen;
	stats.flushes++;
}

static void trim_locked(size_t max)
{
	while (count > max && lru.lprev != &lru)
		remove_entry(lru.lprev);
}

static size_t plan_slot(const char *plan)
{
	return hash_id(plan) & (PLAN_SLOTS - 1);
}

/* The gen after which a view of plan ("" = of all plans) may be stored or joined. */
static uint64_t view_fresh_gen(const char *plan)
{
	uint64_t f = floor_gen;
	if (!*plan) {
		if (parents_gen > f)
			f = parents_gen;
	} else {
		if (views_all_gen > f)
			f = views_all_gen;
		if (plan_gen[plan_slot(plan)] > f)
			f = plan_gen[plan_slot(plan)];
	}
	return f;
}

/* Task raw (of plan raw_plan, NULL when unknown) changed: evict it, every
 * cached parent document, and the views of its plan (all views when the
 * plan is unknown). */
static void evict_locked(const char *raw, const char *raw_plan)
{
	char id[40], plan[40] = "";
	norm(id, raw);
	if (raw_plan)
		norm(plan, raw_plan);
	uint64_t g = ++gen;
	struct entry *e = find(id);
	if (e && !*plan)
		memcpy(plan, e->plan, sizeof plan);
	if (!e) {
		e = xcalloc(1, sizeof *e);
		snprintf(e->id, sizeof e->id, "%s", id);
		size_t b = hash_id(id);
		e->hnext = buckets[b];
		buckets[b] = e;
		count++;
		e->tomb = 1;
	} else {
		lru_unlink(e);
		if (!e->tomb)
			stats.evictions++;
	}
	make_tomb(e, g);
	memcpy(e->plan, plan, sizeof plan);
	lru_push(e);
	/* every cached parent: its progress may roll this task up */
	while (parents.pnext != &parents) {
		struct entry *p = parents.pnext;
		make_tomb(p, g);
		stats.evictions++;
	}
	parents_gen = g;
	/* lists and summaries of the plan, and those not of one plan */
	for (struct entry *v = views.pnext, *next; v != &views; v = next) {
		next = v->pnext;
		if (!*plan || !*v->plan || !strcmp(v->plan, plan)) {
			make_tomb(v, g);
			stats.evictions++;
		}
	}
	if (*plan)
		plan_gen[plan_slot(plan)] = g;
	else
		views_all_gen = g;
	trim_locked((size_t)config_current()->cache_documents);
}

void doccache_evict_task(const char *id)
{
	pthread_mutex_lock(&mu);
	evict_locked(id, NULL);
	pthread_mutex_unlock(&mu);
}

void doccache_flush(void)
{
	pthread_mutex_lock(&mu);
	flush_locked();
	pthread_mutex_unlock(&mu);
}

void doccache_begin(struct doccache_ticket *t)
{
	pthread_mutex_lock(&mu);
	t->gen = gen;
	pthread_mutex_unlock(&mu);
}

static void doccache_put_key(const struct doccache_ticket *t, const char *id, const char *body, size_t len,
			     const char *etag, int kind, const char *plan, double secs_to_midnight)
{
	const struct config *c = config_current();
	if (c->cache_documents <= 0 || secs_to_midnight <= 1 || !etag || strlen(etag) >= 24)
		return;
	pthread_mutex_lock(&mu);
	struct entry *e = find(id);
	if (t->gen < floor_gen || (kind == KIND_PARENT && t->gen < parents_gen) ||
	    (kind == KIND_VIEW && t->gen < view_fresh_gen(plan)) || (e && e->gen > t->gen)) {
		pthread_mutex_unlock(&mu);
		return;
	}
	if (!e) {
		e = xcalloc(1, sizeof *e);
		snprintf(e->id, sizeof e->id, "%s", id);
		size_t b = hash_id(id);
		e->hnext = buckets[b];
		buckets[b] = e;
		count++;
		e->tomb = 1;
	} else {
		lru_unlink(e);
		make_tomb(e, e->gen);
	}
	e->tomb = 0;
	e->gen = t->gen;
	e->body = xmalloc(len);
	memcpy(e->body, body, len);
	e->len = len;
	bytes += len;
	snprintf(e->etag, sizeof e->etag, "%s", etag);
	e->lag = c->lag_points;
	e->soon_days = c->due_soon_days;
	e->soon_progress = c->due_soon_progress;
	e->expires_ns = pt_now_ns() + (uint64_t)((secs_to_midnight - 1) * 1e9);
	if (*etag)   /* a task document: learn the database's midnight */
		midnight_ns = e->expires_ns;
	e->kind = kind;
	snprintf(e->plan, sizeof e->plan, "%s", plan);
	if (kind != KIND_DOC) {
		struct entry *list = kind == KIND_PARENT ? &parents : &views;
		e->pnext = list->pnext;
		e->pprev = list;
		list->pnext->pprev = e;
		list->pnext = e;
	}
	lru_push(e);
	stats.stores++;
	trim_locked((size_t)c->cache_documents);
	pthread_mutex_unlock(&mu);
}

void doccache_put(const struct doccache_ticket *t, const char *raw, const char *body, size_t len,
		  const char *etag, int has_children, const char *raw_plan, double secs_to_midnight)
{
	char id[40], plan[40] = "";
	norm(id, raw);
	if (raw_plan)
		norm(plan, raw_plan);
	doccache_put_key(t, id, body, len, etag, has_children ? KIND_PARENT : KIND_DOC, plan, secs_to_midnight);
}

int doccache_reply(struct req *r, const char *raw)
{
	char id[40];
	norm(id, raw);
	const struct config *c = config_current();
	if (c->cache_documents <= 0)
		return 0;
	char etag[24];
	char *body = NULL;
	size_t len = 0;
	pthread_mutex_lock(&mu);
	struct entry *e = find(id);
	if (e && !e->tomb && e->lag == c->lag_points && e->soon_days == c->due_soon_days &&
	    e->soon_progress == c->due_soon_progress && pt_now_ns() < e->expires_ns) {
		lru_unlink(e);
		lru_push(e);
		memcpy(etag, e->etag, sizeof etag);
		body = xmalloc(e->len);
		memcpy(body, e->body, e->len);
		len = e->len;
		stats.hits++;
	} else {
		stats.misses++;
	}
	pthread_mutex_unlock(&mu);
	if (!body)
		return 0;
	char quoted[32];
	snprintf(quoted, sizeof quoted, "\"%s\"", etag);
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "ETag", quoted);
	const char *inm = http_header(r, "If-None-Match");
	if (inm && (!strcmp(inm, quoted) || !strcmp(inm, "*")))
		http_reply_raw(r, 304, NULL, NULL, 0);
	else
		http_reply_raw(r, 200, "application/json", body, len);
	free(body);
	return 1;
}

/* ---- views: task lists and plan summaries ----
 * Keyed by the request URI, tagged with the plan they show (a list with
 * plan=, a plan's summary; "" for a list across plans). A write to a task of
 * plan P drops the views of P and the untagged ones; a write whose plan is
 * unknown (the task was never cached) drops every view. They expire at the database's midnight as last learned from a task
 * fill (no view is stored before one). */

static int view_key(struct req *r, char *key, size_t size)
{
	const char *uri = evhttp_request_get_uri(r->ev);
	if (!uri || strlen(uri) + 5 >= size)
		return -1;
	snprintf(key, size, "GET %s", uri);
	return 0;
}

int doccache_reply_view(struct req *r)
{
	char key[256];
	if (config_current()->cache_documents <= 0 || view_key(r, key, sizeof key))
		return 0;
	const struct config *c = config_current();
	char *body = NULL;
	size_t len = 0;
	pthread_mutex_lock(&mu);
	struct entry *e = find(key);
	if (e && !e->tomb && e->lag == c->lag_points && e->soon_days == c->due_soon_days &&
	    e->soon_progress == c->due_soon_progress && pt_now_ns() < e->expires_ns) {
		lru_unlink(e);
		lru_push(e);
		body = xmalloc(e->len);
		memcpy(body, e->body, e->len);
		len = e->len;
		stats.hits++;
	} else {
		stats.misses++;
	}
	pthread_mutex_unlock(&mu);
	if (!body)
		return 0;
	http_reply_raw(r, 200, "application/json", body, len);
	free(body);
	return 1;
}

void doccache_put_view(const struct doccache_ticket *t, struct req *r, const char *body, size_t len)
{
	char key[256];
	const struct config *c = config_current();
	if (c->cache_documents <= 0 || view_key(r, key, sizeof key))
		return;
	pthread_mutex_lock(&mu);
	uint64_t now = pt_now_ns();
	if (!midnight_ns || midnight_ns <= now) {
		pthread_mutex_unlock(&mu);
		return;
	}
	double secs = (double)(midnight_ns - now) / 1e9 + 1;
	pthread_mutex_unlock(&mu);
	doccache_put_key(t, key, body, len, "", KIND_VIEW, t->plan, secs);
}

/* Single flight, per worker: while a list or summary is being computed,
 * the same request on the same worker waits for that answer instead of
 * running the query again (a summary of 2,000 tasks costs hundreds of ms; a
 * cold cache or an eviction otherwise starts one per waiting client). A
 * request joins only a flight that started after the last eviction. */
struct flight {
	struct flight *next;
	struct req *owner;
	uint64_t gen;
	char key[256];
	struct req **waiters;
	int nwaiters, cap;
};

static struct flight **flights_of(struct worker *w)
{
	struct flight **f = worker_get_slot(w, SLOT_DOCCACHE);
	if (!f) {
		f = xcalloc(1, sizeof *f);
		worker_set_slot(w, SLOT_DOCCACHE, f);
	}
	return f;
}

int doccache_view_begin(struct req *r, const char *plan)
{
	if (doccache_reply_view(r))
		return 1;
	struct doccache_ticket *t = xcalloc(1, sizeof *t);
	doccache_begin(t);
	if (plan && strlen(plan) < sizeof t->plan)
		norm(t->plan, plan);
	r->handler_data = t;
	char key[256];
	if (config_current()->cache_documents <= 0 || view_key(r, key, sizeof key))
		return 0;
	struct flight **head = flights_of(r->w);
	pthread_mutex_lock(&mu);
	uint64_t fresh = view_fresh_gen(t->plan);
	pthread_mutex_unlock(&mu);
	for (struct flight *f = *head; f; f = f->next) {
		if (strcmp(f->key, key) || f->gen < fresh)
			continue;
		if (f->nwaiters == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 8;
			f->waiters = xrealloc(f->waiters, (size_t)f->cap * sizeof *f->waiters);
		}
		f->waiters[f->nwaiters++] = r;
		return 1;
	}
	struct flight *f = xcalloc(1, sizeof *f);
	f->owner = r;
	f->gen = t->gen;
	snprintf(f->key, sizeof f->key, "%s", key);
	f->next = *head;
	*head = f;
	return 0;
}

/* The owner ended without an answer from SQL (503 before the query ran):
 * its waiters get the same. */
static void on_finish(struct req *r)
{
	struct flight **head = worker_get_slot(r->w, SLOT_DOCCACHE);
	for (struct flight **pp = head; pp && *pp; pp = &(*pp)->next) {
		struct flight *f = *pp;
		if (f->owner != r)
			continue;
		*pp = f->next;
		for (int i = 0; i < f->nwaiters; i++) {
			evhttp_add_header(evhttp_request_get_output_headers(f->waiters[i]->ev), "Retry-After", "1");
			http_reply_problem(f->waiters[i], 503, "overloaded", "Server busy",
					   "the request this one waited for could not run; retry", NULL);
		}
		free(f->waiters);
		free(f);
		return;
	}
}

/* The worker stops: waiters are answered 503 now (their owners' queries end
 * with the pool, and answer themselves), the flights freed. */
static void flights_stop(struct worker *w)
{
	struct flight **head = worker_get_slot(w, SLOT_DOCCACHE);
	if (!head)
		return;
	while (*head) {
		struct flight *f = *head;
		*head = f->next;
		for (int i = 0; i < f->nwaiters; i++) {
			evhttp_add_header(evhttp_request_get_output_headers(f->waiters[i]->ev), "Retry-After", "1");
			http_reply_problem(f->waiters[i], 503, "shutting-down", "Shutting down",
					   "the server is stopping; retry", NULL);
		}
		free(f->waiters);
		free(f);
	}
	worker_set_slot(w, SLOT_DOCCACHE, NULL);
	free(head);
}

void doccache_view_done(struct req *r, PGresult *res)
{
	struct doccache_ticket *t = r->handler_data;
	if (t && res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) >= 2 &&
	    !PQgetisnull(res, 0, 1) && !strcmp(PQgetvalue(res, 0, 0), "200"))
		doccache_put_view(t, r, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
	struct flight *mine = NULL;
	struct flight **head = worker_get_slot(r->w, SLOT_DOCCACHE);
	for (struct flight **pp = head; pp && *pp; pp = &(*pp)->next)
		if ((*pp)->owner == r) {
			mine = *pp;
			*pp = mine->next;
			break;
		}
	if (mine) {
		for (int i = 0; i < mine->nwaiters; i++)
			http_reply_result(mine->waiters[i], res);
		free(mine->waiters);
		free(mine);
	}
	http_reply_result(r, res);
}

/* ---- invalidation by writes through this daemon (before the reply) ---- */

static void on_write_reply(struct req *r)
{
	const char *pattern = r->m.route ? r->m.route->pattern : "";
	const char *id = http_param(r, "id");
	/* A report changes its task and the roll-ups above it; any other write
	 * (a PATCH of a due date is inherited by every child as its effective
	 * due date) drops everything. */
	if (id && r->method == RM_POST && !strcmp(pattern, "/v1/tasks/{id}/updates"))
		doccache_evict_task(id);
	else
		doccache_flush();
}

/* ---- invalidation by the change feed ---- */

static void feed_fetch(struct worker *w);

static void on_feed_events(PGresult *res, void *arg)
{
	struct worker *w = arg;
	int again = 0;
	pthread_mutex_lock(&mu);
	feed_fetching = 0;
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		flush_locked();   /* cannot tell what changed */
		if (feed_want > feed_seq)
			feed_seq = feed_want;
	} else {
		int n = PQntuples(res);
		for (int i = 0; i < n; i++) {
			long long seq = atoll(PQgetvalue(res, i, 0));
			const char *type = PQgetvalue(res, i, 1);
			/* as on_write_reply: a report evicts its task and every
			 * cached parent; task.updated (due dates are inherited,
			 * moves renumber) and everything else drops the cache */
			if (!strcmp(type, "task.reported")) {
				if (!PQgetisnull(res, i, 2))
					evict_locked(PQgetvalue(res, i, 2), PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3));
			} else if (strcmp(type, "plan.created")) {
				flush_locked();
			}
			if (seq > feed_seq)
				feed_seq = seq;
		}
		if (n >= FEED_BATCH) {   /* a burst: drop everything, skip to the top */
			flush_locked();
			if (feed_want > feed_seq)
				feed_seq = feed_want;
		} else if (n == 0 && feed_want > feed_seq) {
			feed_seq = feed_want;
		}
		again = feed_want > feed_seq;
	}
	if (again)
		feed_fetching = 1;
	pthread_mutex_unlock(&mu);
	if (again)
		feed_fetch(w);
}

static void feed_fetch(struct worker *w)
{
	char after[32];
	pthread_mutex_lock(&mu);
	snprintf(after, sizeof after, "%lld", feed_seq);
	pthread_mutex_unlock(&mu);
	const char *params[1] = { after };
	if (db_query(worker_db(w), sql_stmt(SQL_DOCCACHE_EVENTS), 1, params, on_feed_events, w) != DB_OK) {
		pthread_mutex_lock(&mu);
		feed_fetching = 0;
		flush_locked();
		if (feed_want > feed_seq)
			feed_seq = feed_want;
		pthread_mutex_unlock(&mu);
	}
}

/* After a (re)connect: the top seq S0. Every event up to S0 has committed,
 * so a fill that starts after a flush now sees them all: flush, and follow
 * the feed from S0. */
static void on_feed_top(PGresult *res, void *arg)
{
	struct worker *w = arg;
	int fetch = 0;
	pthread_mutex_lock(&mu);
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		long long top = atoll(PQgetvalue(res, 0, 0));
		flush_locked();
		if (feed_seq < 0)
			feed_seq = top;
		if (feed_want > feed_seq && !feed_fetching) {
			feed_fetching = 1;
			fetch = 1;
		}
	}
	pthread_mutex_unlock(&mu);
	if (fetch)
		feed_fetch(w);
}

void doccache_on_feed(struct worker *w, const char *payload)
{
	long long top = payload ? atoll(payload) : -1;
	int fetch = 0;
	pthread_mutex_lock(&mu);
	if (!payload) {
		/* (re)connected: whatever happened meanwhile is unknown */
		flush_locked();
		feed_seq = -1;
		pthread_mutex_unlock(&mu);
		db_query(worker_db(w), sql_stmt(SQL_EVENTS_TOP), 0, NULL, on_feed_top, w);
		return;
	} else if (feed_seq < 0) {
		/* everything cached was filled after the flush at LISTEN time, but
		 * events between then and now are unknown by seq: flush once more */
		flush_locked();
		feed_seq = top;
		if (top > feed_want)
			feed_want = top;
	} else if (top > feed_seq) {
		if (top > feed_want)
			feed_want = top;
		if (!feed_fetching) {
			feed_fetching = 1;
			fetch = 1;
		}
	}
	pthread_mutex_unlock(&mu);
	if (fetch)
		feed_fetch(w);
}

/* ---- stats ---- */

void doccache_stats(struct doccache_stats *st)
{
	pthread_mutex_lock(&mu);
	*st = stats;
	st->feed_seq = feed_seq;
	st->entries = count;
	st->bytes = bytes;
	pthread_mutex_unlock(&mu);
}

static void render_metrics(struct evbuffer *out)
{
	struct doccache_stats st;
	doccache_stats(&st);
	evbuffer_add_printf(out,
			    "# HELP plantrack_doccache_hits_total Task reads answered from the document cache.\n"
			    "# TYPE plantrack_doccache_hits_total counter\nplantrack_doccache_hits_total %llu\n"
			    "# HELP plantrack_doccache_misses_total Task reads the document cache could not answer.\n"
			    "# TYPE plantrack_doccache_misses_total counter\nplantrack_doccache_misses_total %llu\n"
			    "# HELP plantrack_doccache_evictions_total Cached documents evicted by writes.\n"
			    "# TYPE plantrack_doccache_evictions_total counter\nplantrack_doccache_evictions_total %llu\n"
			    "# HELP plantrack_doccache_flushes_total Times the whole document cache was dropped.\n"
			    "# TYPE plantrack_doccache_flushes_total counter\nplantrack_doccache_flushes_total %llu\n"
			    "# HELP plantrack_doccache_entries Cached documents and tombstones.\n"
			    "# TYPE plantrack_doccache_entries gauge\nplantrack_doccache_entries %zu\n"
			    "# HELP plantrack_doccache_bytes Bytes of cached documents.\n"
			    "# TYPE plantrack_doccache_bytes gauge\nplantrack_doccache_bytes %zu\n"
			    "# HELP plantrack_doccache_feed_seq The change feed seq the cache has applied (-1 unknown).\n"
			    "# TYPE plantrack_doccache_feed_seq gauge\nplantrack_doccache_feed_seq %lld\n",
			    st.hits, st.misses, st.evictions, st.flushes, st.entries, st.bytes, st.feed_seq);
}

void doccache_init(void)
{
	http_on_write_reply(on_write_reply);
	http_on_finish(on_finish);
	worker_on(WORKER_HOOK_STOP, flights_stop);
	metrics_add_source(render_metrics);
}
