/*
 * events.h - GET /v1/events: the change feed with long-poll.
 *
 * A waiting request holds no database connection: each worker keeps its
 * waiters in memory and one LISTEN connection (channel plantrack_events)
 * wakes them; draining answers every waiter at once.
 */
#ifndef PLANTRACK_EVENTS_H
#define PLANTRACK_EVENTS_H

struct router;

/* Registers the route, the statement and the worker hooks. 0 ok. */
int events_register(struct router *r);

#endif
