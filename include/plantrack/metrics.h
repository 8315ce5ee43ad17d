/*
 * metrics.h - process-wide counters for /metrics (Prometheus text format).
 *
 * Lock-free: every counter is an atomic, updated from any worker thread.
 */
#ifndef PLANTRACK_METRICS_H
#define PLANTRACK_METRICS_H

#include <stddef.h>

struct evbuffer;
struct router;

#define METRICS_MAX_WORKERS 256

/* Sizes the per-route tables; call once before serving. */
void metrics_init(const struct router *router);
/* route_id -1 = unmatched. */
void metrics_observe(int route_id, int status, double seconds);
/* A worker publishes its pool gauges (called from its timer). */
void metrics_set_pool(int worker, int size, int ready, int busy, int waiting);
/* Ready connections over all workers' pools, as last published. */
int metrics_pool_ready_total(void);
/* How many workers publish pool gauges (set once by the server). */
void metrics_set_workers(int n);
/* 1 when every worker last published at least one ready connection. */
int metrics_pool_all_ready(void);
void metrics_render(struct evbuffer *out);
/* Another module's lines for /metrics (up to 8; before the workers start). */
void metrics_add_source(void (*render)(struct evbuffer *out));

#endif
