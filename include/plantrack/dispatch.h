/*
 * dispatch.h - from an evhttp request to a route handler: request id, query,
 * drain check, routing, database readiness, body limits and media types,
 * then the token check (auth) and the handler.
 *
 * Ownership: dispatch_request allocates the struct req; whoever answers it
 * (http.c, the one end of every reply) frees it. The router is borrowed for
 * the life of the process.
 */
#ifndef PLANTRACK_DISPATCH_H
#define PLANTRACK_DISPATCH_H

struct router;
struct evhttp_request;
struct req;

/* Sets the routes requests are matched against (main thread, before serving). */
void dispatch_set_router(const struct router *router);

/* The evhttp callback of a worker: arg is its struct worker. */
void dispatch_request(struct evhttp_request *ev, void *arg);

/* Everything after the struct req is filled in (route match onwards): for
 * tests that build a req by hand. Answers exactly once. */
void dispatch_req(struct req *r);

#endif
