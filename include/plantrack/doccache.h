/*
 * doccache.h - the task document cache for GET /v1/tasks/{id}.
 *
 * One cache per daemon, shared by the workers under one mutex (a write
 * through any worker must evict before its reply, whichever worker the
 * client reads through next), bounded by [cache] documents entries (LRU).
 * An entry is the rendered document with its ETag, valid until the
 * database's next midnight (lights change with the day) and only for the
 * light thresholds it was rendered with. Task reads with as_of bypass it.
 *
 * Invalidation:
 *  - a committed write through this daemon, before its reply: a progress
 *    report or patch of task X evicts X, every cached parent document
 *    (roll-up) and the views of X's plan; any other write drops the whole
 *    cache;
 *  - events published by anyone (other daemons, the CLI): the LISTEN
 *    notification makes one worker read the new events (seq, type, task)
 *    and evict the same way; task.reported/task.updated evict the task and
 *    the parents, plan.created nothing, anything else the whole cache;
 *  - the LISTEN connection (re)established, SIGHUP: the whole cache.
 * A fill whose query started before an eviction of its key (or of all
 * parents, or the whole cache) is not stored, so an eviction is never undone
 * by a read that was already in flight.
 *
 * The same cache holds task lists (GET /v1/tasks?…), plan summaries and
 * rankings by request URI (as_of included), tagged with their plan: a
 * report or patch of a task drops the views of its plan (all views when the
 * task's plan is not known from the cache), so each plan's dashboard is
 * refilled after a write to it. An as_of answer is rebuilt from the journal,
 * which only writes change, so it is kept and dropped exactly like a live
 * one (it also ends at midnight, when "today" moves).
 */
#ifndef PLANTRACK_DOCCACHE_H
#define PLANTRACK_DOCCACHE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

struct req;
struct worker;

struct doccache_ticket {
	uint64_t gen;            /* the cache generation when the fill query was sent */
	char plan[40];           /* a view's plan ("" = not of one plan) */
};

/* Registers the before-reply write tap. Once, before the workers start. */
void doccache_init(void);
/* Answers r from the cache (200 with ETag, or 304 when If-None-Match
 * matches) and returns 1; 0 on a miss (nothing sent). */
int doccache_reply(struct req *r, const char *id);
/* Before sending the fill query. */
void doccache_begin(struct doccache_ticket *t);
/* Stores a rendered document unless an eviction came after t. */
void doccache_put(const struct doccache_ticket *t, const char *id, const char *body, size_t len,
		  const char *etag, int has_children, const char *plan, double secs_to_midnight);
/* Task lists and plan summaries, keyed by the request URI: answered (200)
 * and 1, or 0 on a miss; stored after a fill like a parent document (any
 * eviction drops them). */
int doccache_reply_view(struct req *r);
void doccache_put_view(const struct doccache_ticket *t, struct req *r, const char *body, size_t len);
/* For a list/summary handler: 1 when the cache answered r (return); else 0
 * with a ticket in r->handler_data (nothing else may use it), and the handler
 * passes doccache_view_done as the continuation of its SQL call. */
int doccache_view_begin(struct req *r, const char *plan);
void doccache_view_done(struct req *r, PGresult *res);
void doccache_evict_task(const char *id);
void doccache_flush(void);
/* From the change feed's LISTEN connection of worker w: payload is the top
 * published seq, NULL when the connection was (re)established. */
void doccache_on_feed(struct worker *w, const char *payload);

/* Counters for tests and /metrics. */
struct doccache_stats {
	unsigned long long hits, misses, stores, evictions, flushes;
	size_t entries, bytes;
	long long feed_seq;
};
void doccache_stats(struct doccache_stats *st);

#endif
