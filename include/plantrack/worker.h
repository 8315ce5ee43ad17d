/*
 * worker.h - the state of one worker thread (its event_base, evhttp, db pool,
 * connection count, per-module slots) and the hooks modules register to run
 * on each worker's thread.
 *
 * Ownership: server.c creates, runs and frees the workers (struct worker is
 * visible here so server.c and dispatch.c can reach its fields; other modules
 * use the accessors). Every function below runs on the worker's own thread
 * unless it says otherwise; nothing here locks.
 */
#ifndef PLANTRACK_WORKER_H
#define PLANTRACK_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct db_pool;
struct event_base;
struct event;
struct evhttp;
struct evhttp_connection;
struct evhttp_request;
struct evconnlistener;
struct connguard;

/* Per-worker storage slots for modules (events waiters, token cache, deliverer). */
enum worker_slot { SLOT_EVENTS = 0, SLOT_AUTH = 1, SLOT_WEBHOOKS = 2, SLOT_REMINDERS = 3, SLOT_REPLICA = 4, SLOT_DOCCACHE = 5, SLOT_COUNT = 8 };

struct worker {
	int index;
	int nworkers;                   /* workers in the process (for the connection share) */
	pthread_t thread;
	struct event_base *base;        /* owned by server.c */
	struct evhttp *http;            /* owned by server.c */
	struct evconnlistener *listener;
	struct db_pool *db;             /* owned by server.c */
	struct event *wake_ev, *tick_ev;
	int wake_fd[2];                 /* pipe: the main thread writes a byte to wake the worker */
	_Atomic unsigned wake_bits;     /* what the wake is for (server.c's WAKE_* bits) */
	const struct config *cfg;       /* this worker's reference to its snapshot (worker thread) */
	_Atomic(const struct config *) cfg_next; /* a reference handed over by a reload, not yet taken */
	int draining;
	uint64_t drain_deadline_ns;
	int inflight;                   /* requests accepted and not yet answered */
	struct connguard *guard;        /* connection accounting and body limits (connguard.c) */
	_Atomic uint64_t heartbeat_ns;
	_Atomic int started;
	void *slots[SLOT_COUNT];        /* owned by the module of each slot */
};

typedef void (*worker_hook)(struct worker *w);

enum worker_hook_kind {
	WORKER_HOOK_START, /* after the pool exists, before the loop runs */
	WORKER_HOOK_DRAIN, /* when draining starts */
	WORKER_HOOK_STOP,  /* after the loop ended, before the pool is freed */
	WORKER_HOOK_WRITE, /* after a /v1 write (POST, PATCH, DELETE) was answered 2xx, i.e. committed */
	WORKER_HOOK_KINDS
};

/* Registers fn for kind (up to 8 each); main thread, before the workers start. */
void worker_on(enum worker_hook_kind kind, worker_hook fn);
/* Runs every hook of kind on w, in registration order. */
void worker_run_hooks(enum worker_hook_kind kind, struct worker *w);

struct db_pool *worker_db(struct worker *w);
struct event_base *worker_base(struct worker *w);
int worker_index(struct worker *w);
int worker_draining(struct worker *w);
void *worker_get_slot(struct worker *w, enum worker_slot slot);
void worker_set_slot(struct worker *w, enum worker_slot slot, void *data);

/* evhttp handed ev to dispatch: the connection guard holds the connection's
 * reading until the reply is written. */
void worker_request_starts(struct worker *w, struct evhttp_request *ev);

/* The reply to ev is about to be handed to evhttp (ev is still valid): the
 * connection guard releases the request's body budget. */
void worker_reply_starts(struct worker *w, struct evhttp_request *ev);

/* The monotonic clock in nanoseconds; any thread. */
uint64_t pt_now_ns(void);

#endif
