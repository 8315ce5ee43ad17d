/*
 * worker.c - per-worker state shared by the server, dispatch and the modules
 * that keep something per worker: hook lists, accessors, and the connection
 * cap (see worker.h). Workers themselves are started and stopped by server.c.
 */
#include "plantrack/worker.h"
#include "plantrack/config.h"
#include "plantrack/log.h"

#include <event2/http.h>
#include <event2/listener.h>
#include <stdatomic.h>
#include <time.h>

#define MAX_HOOKS 8

static worker_hook hooks[WORKER_HOOK_KINDS][MAX_HOOKS];
static int nhooks[WORKER_HOOK_KINDS];
static _Atomic int connections;

uint64_t pt_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void worker_on(enum worker_hook_kind kind, worker_hook fn)
{
	if (kind < WORKER_HOOK_KINDS && nhooks[kind] < MAX_HOOKS)
		hooks[kind][nhooks[kind]++] = fn;
	else
		log_error("worker_on: too many hooks of kind %d", (int)kind);
}

void worker_run_hooks(enum worker_hook_kind kind, struct worker *w)
{
	for (int i = 0; i < nhooks[kind]; i++)
		hooks[kind][i](w);
}

struct db_pool *worker_db(struct worker *w) { return w->db; }
struct event_base *worker_base(struct worker *w) { return w->base; }
int worker_index(struct worker *w) { return w->index; }
int worker_draining(struct worker *w) { return w->draining; }
void *worker_get_slot(struct worker *w, enum worker_slot s) { return w->slots[s]; }
void worker_set_slot(struct worker *w, enum worker_slot s, void *d) { w->slots[s] = d; }

/* ---- connection cap ----
 * A connection is counted from its first request until it closes (its
 * evhttp close callback); one that never sends a request is closed by the
 * read timeout. Each worker enforces its share of server.max_connections on
 * its own thread: at the limit it stops accepting until a connection closes.
 * The set of counted connections is a small open-addressing hash per worker. */

static int worker_conn_limit(const struct worker *w)
{
	int n = w->nworkers > 0 ? w->nworkers : 1;
	int limit = (config_current()->max_connections + n - 1) / n;
	if (limit > WORKER_CONN_SET_SLOTS / 2)
		limit = WORKER_CONN_SET_SLOTS / 2;
	return limit < 1 ? 1 : limit;
}

static size_t conn_hash(const void *p)
{
	uintptr_t v = (uintptr_t)p;
	v ^= v >> 17;
	v *= 0x9E3779B97F4A7C15ULL;
	return (size_t)(v >> 40) & (WORKER_CONN_SET_SLOTS - 1);
}

/* Inserts; 1 when it was new. */
static int conn_set_add(struct worker *w, struct evhttp_connection *c)
{
	size_t i = conn_hash(c);
	while (w->conn_set[i]) {
		if (w->conn_set[i] == c)
			return 0;
		i = (i + 1) & (WORKER_CONN_SET_SLOTS - 1);
	}
	w->conn_set[i] = c;
	return 1;
}

/* Removes with backward-shift deletion (no tombstones). */
static void conn_set_remove(struct worker *w, struct evhttp_connection *c)
{
	size_t i = conn_hash(c);
	while (w->conn_set[i] != c) {
		if (!w->conn_set[i])
			return;
		i = (i + 1) & (WORKER_CONN_SET_SLOTS - 1);
	}
	w->conn_set[i] = NULL;
	size_t j = i;
	for (;;) {
		j = (j + 1) & (WORKER_CONN_SET_SLOTS - 1);
		if (!w->conn_set[j])
			return;
		size_t home = conn_hash(w->conn_set[j]);
		int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!between) {
			w->conn_set[i] = w->conn_set[j];
			w->conn_set[j] = NULL;
			i = j;
		}
	}
}

static void connection_closed(struct evhttp_connection *evcon, void *arg)
{
	struct worker *w = arg;
	conn_set_remove(w, evcon);
	w->connections--;
	atomic_fetch_sub(&connections, 1);
	if (w->paused && w->connections < worker_conn_limit(w) && !w->draining) {
		w->paused = 0;
		evconnlistener_enable(w->listener);
	}
}

void worker_conn_track(struct worker *w, struct evhttp_request *ev)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	if (!evcon || w->connections >= WORKER_CONN_SET_SLOTS / 2 || !conn_set_add(w, evcon))
		return;
	evhttp_connection_set_closecb(evcon, connection_closed, w);
	w->connections++;
	atomic_fetch_add(&connections, 1);
	if (w->connections >= worker_conn_limit(w) && !w->paused) {
		log_warn("worker %d: connection limit reached (%d): not accepting until one closes",
			 w->index, w->connections);
		w->paused = 1;
		evconnlistener_disable(w->listener);
	}
}
