/*
 * server.h - worker threads, listeners, request dispatch, signals, drain.
 *
 * The main thread owns signals (SIGHUP reload, SIGTERM/SIGINT drain) and the
 * systemd watchdog; N workers each own an event_base, an evhttp, and a db
 * pool. Nothing mutable is shared between workers but atomics and the
 * published config snapshot.
 */
#ifndef PLANTRACK_SERVER_H
#define PLANTRACK_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct router;
struct worker;
struct db_pool;
struct event_base;

/* Per-worker storage slots for modules (events waiters, token cache). */
enum worker_slot { SLOT_EVENTS = 0, SLOT_AUTH = 1, SLOT_WEBHOOKS = 2, SLOT_REMINDERS = 3, SLOT_COUNT = 4 };

typedef void (*worker_hook)(struct worker *w);

/* Hooks run on the worker's thread after its pool exists / when draining starts
 * / just before its loop is freed. Register before server_run. */
void server_on_worker_start(worker_hook fn);
void server_on_worker_drain(worker_hook fn);
void server_on_worker_stop(worker_hook fn);
/* Runs on the worker's thread after a /v1 write (POST, PATCH, DELETE) was
 * answered 2xx, i.e. committed. */
void server_on_worker_write(worker_hook fn);

/* Builds a fresh configuration (file + environment + flags) for a reload;
 * 0 ok, -1 with a one-line message. */
typedef int (*config_loader)(struct config *out, char *err, size_t errlen);

/* Serves with the published config (config_current) until SIGTERM/SIGINT and
 * a drain; returns the process exit code. */
int server_run(struct router *router, int schema_version, config_loader reload);

/* The struct req of a request, and whether it is draining (for handlers). */
struct req;
void server_finish_request(struct req *r);

struct db_pool *worker_db(struct worker *w);
struct event_base *worker_base(struct worker *w);
int worker_index(struct worker *w);
int worker_draining(struct worker *w);
void *worker_get_slot(struct worker *w, enum worker_slot slot);
void worker_set_slot(struct worker *w, enum worker_slot slot, void *data);

uint64_t server_now_ns(void);

#endif
