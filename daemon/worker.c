/*
 * worker.c - per-worker state shared by the server, dispatch and the modules
 * that keep something per worker: hook lists, accessors, and the hand-over
 * to the connection guard (see worker.h). Workers themselves are started and stopped by server.c.
 */
#include "plantrack/worker.h"
#include "plantrack/connguard.h"
#include "plantrack/log.h"

#include <time.h>

#define MAX_HOOKS 8

static worker_hook hooks[WORKER_HOOK_KINDS][MAX_HOOKS];
static int nhooks[WORKER_HOOK_KINDS];

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

void worker_request_starts(struct worker *w, struct evhttp_request *ev)
{
	if (w && w->guard)
		connguard_request_begin(w->guard, ev);
}

void worker_reply_starts(struct worker *w, struct evhttp_request *ev)
{
	if (w && w->guard)
		connguard_request_done(w->guard, ev);
}
