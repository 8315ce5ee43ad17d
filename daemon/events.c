/*
 * events.c - change feed with long-poll (see events.h).
 *
 * A request first reads pt_events_after. With nothing new and wait > 0 it
 * parks in the worker's waiter list with a timer. A NOTIFY (or the LISTEN
 * connection coming back, when events may have been missed) re-reads for
 * every parked waiter; the timer answers an empty page.
 *
 * The publisher: writes leave their events unnumbered (no NOTIFY on the write
 * path, and no second round trip per write): a committed write only arms a
 * one-shot timer of KICK_MS, so every write of the next KICK_MS goes out in
 * one pt_events_publish call; every PUBLISH_MS a timer publishes too (events
 * from other daemons, the CLI, a crash). pt_events_publish numbers the
 * committed events in commit order and sends one NOTIFY per batch. At most
 * one publish per worker is in flight; kicks meanwhile coalesce into one more.
 * A write reaches the feed (and the other daemons' caches) within about
 * KICK_MS plus one round trip under any load.
 */
#include "plantrack/events.h"
#include "plantrack/db.h"
#include "plantrack/doccache.h"
#include "plantrack/http.h"
#include "plantrack/router.h"
#include "plantrack/worker.h"
#include "plantrack/xalloc.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WAIT_SECONDS 60
#define PUBLISH_MS 500
#define KICK_MS 20

struct waiter {
	struct waiter *prev, *next;
	struct req *r;
	struct event *timer;
	long long after;
	int limit;
	int querying;    /* a read is in flight */
	int wake_again;  /* a notify arrived during that read */
};

struct feed {
	struct waiter head;  /* sentinel of a circular list */
	struct event *publish_timer;
	struct event *kick_timer;  /* one-shot: writes of the last KICK_MS */
	int publishing;      /* a pt_events_publish call is in flight */
	int publish_again;   /* a write committed meanwhile */
};

struct event_req {
	long long after;
	int limit;
	int wait;
	long long wait_for;  /* an event id to wait for, 0 = none */
	struct waiter *waiter;
};


static struct feed *feed_of(struct worker *w)
{
	return worker_get_slot(w, SLOT_EVENTS);
}

static void query_events(struct req *r);

static void waiter_unlink(struct waiter *wt)
{
	wt->prev->next = wt->next;
	wt->next->prev = wt->prev;
	event_free(wt->timer);
	free(wt);
}

static void reply_empty(struct req *r, long long after)
{
	json_t *page = json_pack("{s:[],s:I}", "events", "next_after", (json_int_t)after);
	struct event_req *er = r->handler_data;
	if (er && er->wait_for)
		json_object_set_new(page, "published", json_false());
	http_reply_json(r, 200, page);
}

static void waiter_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *wt = arg;
	if (wt->querying)
		return;  /* the read in flight will answer */
	struct req *r = wt->r;
	struct event_req *er = r->handler_data;
	er->waiter = NULL;
	long long after = wt->after;
	waiter_unlink(wt);
	reply_empty(r, after);
}

static void park(struct req *r, struct event_req *er)
{
	struct feed *f = feed_of(r->w);
	struct waiter *wt = xcalloc(1, sizeof *wt);
	wt->r = r;
	wt->after = er->after;
	wt->limit = er->limit;
	wt->timer = evtimer_new(worker_base(r->w), waiter_timeout, wt);
	struct timeval tv = { er->wait, 0 };
	evtimer_add(wt->timer, &tv);
	wt->next = f->head.next;
	wt->prev = &f->head;
	f->head.next->prev = wt;
	f->head.next = wt;
	er->waiter = wt;
}

static void on_events(struct req *r, PGresult *res)
{
	struct event_req *er = r->handler_data;
	struct waiter *wt = er->waiter;
	if (wt)
		wt->querying = 0;
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		if (wt) {
			er->waiter = NULL;
			waiter_unlink(wt);
		}
		http_reply_result(r, res);
		return;
	}
	const char *body = PQgetvalue(res, 0, 1);
	json_t *doc = json_loads(body, 0, NULL);
	size_t n = json_array_size(json_object_get(doc, "events"));
	/* With wait_for, only that event's publication ends the wait. */
	int ready = er->wait_for ? json_is_true(json_object_get(doc, "published")) : n > 0;
	json_decref(doc);
	int expired = wt && !evtimer_pending(wt->timer, NULL);
	if (ready || er->wait == 0 || worker_draining(r->w) || expired) {
		if (wt) {
			er->waiter = NULL;
			waiter_unlink(wt);
		}
		http_reply_result(r, res);
		return;
	}
	if (!wt) {
		park(r, er);
		return;
	}
	if (wt->wake_again) {
		wt->wake_again = 0;
		wt->querying = 1;
		query_events(r);
	}
}

static void query_events(struct req *r)
{
	struct event_req *er = r->handler_data;
	json_t *args = json_pack("{s:I,s:i}", "after", (json_int_t)er->after, "limit", er->limit);
	if (er->wait_for)
		json_object_set_new(args, "wait_for", json_integer((json_int_t)er->wait_for));
	http_call(r, SQL_EVENTS_AFTER, args, on_events);
}

/* Parses a non-negative integer query parameter; -1 when invalid. */
static long long query_int(struct req *r, const char *name, long long dflt, long long max)
{
	const char *v = http_query(r, name);
	if (!v)
		return dflt;
	char *end;
	long long n = strtoll(v, &end, 10);
	if (!*v || *end || n < 0 || n > max)
		return -1;
	return n;
}

static void handle_events(struct req *r)
{
	long long after = query_int(r, "after", 0, 9000000000000000000LL);
	long long wait = query_int(r, "wait", 0, MAX_WAIT_SECONDS);
	long long limit = query_int(r, "limit", 100, 500);
	long long wait_for = query_int(r, "wait_for", 0, 9000000000000000000LL);
	json_t *errors = json_array();
	if (wait_for < 0 || (http_query(r, "wait_for") && wait_for == 0))
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "wait_for", "message",
							"must be an event id (X-Event-Id of a write)"));
	if (after < 0)
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "after", "message", "must be a sequence number >= 0"));
	if (wait < 0)
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "wait", "message", "must be 0 to 60 seconds"));
	if (limit < 1)
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "limit", "message", "must be 1 to 500"));
	if (json_array_size(errors)) {
		http_reply_invalid(r, 422, errors, NULL);
		return;
	}
	json_decref(errors);
	struct event_req *er = xcalloc(1, sizeof *er);
	er->after = after;
	er->wait = (int)wait;
	er->limit = (int)limit;
	er->wait_for = wait_for > 0 ? wait_for : 0;
	r->handler_data = er;
	/* A waiting request listens before its first read: a NOTIFY that arrives
	 * while that read runs (for an event it did not see) then reads again
	 * instead of being lost until the next event or the timeout. */
	if (er->wait > 0) {
		park(r, er);
		er->waiter->querying = 1;
	}
	query_events(r);
}

static void on_notify(const char *payload, void *arg)
{
	struct worker *w = arg;
	struct feed *f = feed_of(w);
	long long seq = payload ? atoll(payload) : -1;
	doccache_on_feed(w, payload);
	for (struct waiter *wt = f->head.next; wt != &f->head; wt = wt->next) {
		if (seq >= 0 && seq <= wt->after)
			continue;
		if (wt->querying) {
			wt->wake_again = 1;
			continue;
		}
		wt->querying = 1;
		query_events(wt->r);
	}
}

static void publish(struct worker *w);

/* After a committed write: publish within KICK_MS, together with every other
 * write of that window. */
static void kick(struct worker *w)
{
	struct feed *f = feed_of(w);
	if (!f || worker_draining(w))
		return;
	if (f->publishing) {
		f->publish_again = 1;
		return;
	}
	if (!evtimer_pending(f->kick_timer, NULL)) {
		struct timeval tv = { 0, KICK_MS * 1000 };
		evtimer_add(f->kick_timer, &tv);
	}
}

static void on_published(PGresult *res, void *arg)
{
	struct worker *w = arg;
	struct feed *f = feed_of(w);
	if (!f)
		return;  /* the worker is stopping */
	f->publishing = 0;
	if (f->publish_again && res && PQresultStatus(res) == PGRES_TUPLES_OK) {
		f->publish_again = 0;
		kick(w);
	}
}

static void publish(struct worker *w)
{
	struct feed *f = feed_of(w);
	if (!f || worker_draining(w))
		return;
	if (f->publishing) {
		f->publish_again = 1;
		return;
	}
	if (db_query(worker_db(w), sql_stmt(SQL_EVENTS_PUBLISH), 0, NULL, on_published, w) == DB_OK)
		f->publishing = 1;
}

static void on_publish_timer(evutil_socket_t fd, short what, void *arg)
{
	publish(arg);
}

static void feed_start(struct worker *w)
{
	struct feed *f = xcalloc(1, sizeof *f);
	f->head.next = f->head.prev = &f->head;
	worker_set_slot(w, SLOT_EVENTS, f);
	db_pool_listen(worker_db(w), "plantrack_events", on_notify, w);
	f->publish_timer = event_new(worker_base(w), -1, EV_PERSIST, on_publish_timer, w);
	f->kick_timer = evtimer_new(worker_base(w), on_publish_timer, w);
	struct timeval tv = { 0, PUBLISH_MS * 1000 };
	event_add(f->publish_timer, &tv);
}

/* Draining: answer every parked waiter now with what it has (nothing new). */
static void feed_drain(struct worker *w)
{
	struct feed *f = feed_of(w);
	struct waiter *wt = f->head.next;
	while (wt != &f->head) {
		struct waiter *next = wt->next;
		if (!wt->querying) {
			struct req *r = wt->r;
			struct event_req *er = r->handler_data;
			er->waiter = NULL;
			long long after = wt->after;
			waiter_unlink(wt);
			reply_empty(r, after);
		}
		wt = next;
	}
}

/* Before the pool closes: answer idle waiters; detach the ones whose read is
 * in flight (the pool fails that read and its callback answers 503). */
static void feed_stop(struct worker *w)
{
	struct feed *f = feed_of(w);
	feed_drain(w);
	struct waiter *wt = f->head.next;
	while (wt != &f->head) {
		struct waiter *next = wt->next;
		((struct event_req *)wt->r->handler_data)->waiter = NULL;
		waiter_unlink(wt);
		wt = next;
	}
	event_free(f->publish_timer);
	event_free(f->kick_timer);
	free(f);
	worker_set_slot(w, SLOT_EVENTS, NULL);
}

int events_register(struct router *r)
{
	worker_on(WORKER_HOOK_START, feed_start);
	worker_on(WORKER_HOOK_WRITE, kick);
	worker_on(WORKER_HOOK_DRAIN, feed_drain);
	worker_on(WORKER_HOOK_STOP, feed_stop);
	return router_add(r, RM_GET, "/v1/events", (void *)handle_events, ROLE_VIEWER | ROUTE_NEEDS_DB);
}
