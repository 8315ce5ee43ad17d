/*
 * connguard.h - what an HTTP connection may cost before any handler runs:
 * connections counted from accept (daemon-wide and per client address), the
 * idle keep-alive timeout (shorter under pressure), and request bodies judged
 * from their headers before a byte of them is buffered.
 *
 * Each accepted connection's bytes are judged as they are read, before evhttp
 * parses them (a callback on the input of the connection's bufferevent, made
 * through evhttp_set_bevcb), following HTTP/1.1 framing. At each request head it
 * decides, from the request line and headers alone:
 *   - malformed framing (two Content-Length headers, Transfer-Encoding with
 *     Content-Length, a Transfer-Encoding other than chunked, a body on HEAD,
 *     a client-sent X-Plantrack-Guard header)             -> 400
 *   - Content-Length above the route's limit: server.max_body, or
 *     server.max_import_body on import routes (attachments.max_size on upload
 *     routes) for a token that is known and has the route's role (an unknown token is looked up first; while it is,
 *     the connection is not read)                           -> 413 (401/403 for
 *                                                              a bad token)
 *   - the body would take the bytes buffered by all requests of the daemon
 *     beyond server.max_buffered                            -> 503 + Retry-After
 * A refused request reaches evhttp rewritten with no body and an
 * X-Plantrack-Guard header carrying the verdict; dispatch answers it with a
 * problem+json. When the body's length is known and the client is not waiting
 * for 100 Continue, the guard discards exactly that many bytes and the
 * connection stays usable (so a client still sending reads the answer instead
 * of a reset); otherwise the answer closes the connection and the guard
 * discards whatever still arrives. Chunked bodies are limited to
 * server.max_body.
 *
 * Threads: a guard belongs to one worker and runs on its loop; the counters
 * (connections, per-address counts, buffered bytes) are process-wide atomics
 * or under one mutex taken at accept and close only.
 */
#ifndef PLANTRACK_CONNGUARD_H
#define PLANTRACK_CONNGUARD_H

#include <stddef.h>

struct bufferevent;
struct connguard;
struct event_base;
struct evhttp;
struct evhttp_request;
struct router;

/* The header that carries a verdict from the guard to dispatch. */
#define CONNGUARD_HEADER "X-Plantrack-Guard"

/* The role of a token in the worker's token cache: > 0 the role, 0 not cached. */
typedef int (*connguard_role_fn)(void *worker, const char *token);
/* Looks a token up in the database (caching a valid one); later, on the
 * worker's thread, done(arg, role) with role > 0 the role, -1 unknown or
 * revoked, 0 not checked (database unavailable). Returns 0 when started, -1
 * when it cannot start (done is then not called). */
typedef int (*connguard_lookup_fn)(void *worker, const char *token, void (*done)(void *arg, int role), void *arg);

/* Once, before any guard exists. router is read by every worker; a route
 * whose flags have large_flag takes server.max_import_body, one whose flags
 * have upload_flag attachments.max_size, from a token whose role is at least
 * flags & role_mask (above server.max_body, without one: 401 or 403). */
void connguard_init(const struct router *router, int large_flag, int upload_flag, int role_mask,
		    connguard_role_fn role, connguard_lookup_fn lookup);

/* A guard for one worker's evhttp (on that worker's base); installs its
 * bufferevent callback on http. worker is passed back to role/lookup. */
struct connguard *connguard_new(struct event_base *base, struct evhttp *http, void *worker, int index);
/* Frees the guard; its connections must be gone (evhttp_free first). */
void connguard_free(struct connguard *g);

/* After evhttp called the request callback: the verdict the guard put on
 * ev (the X-Plantrack-Guard header, removed here). 0 when none; else the
 * status, the detail in detail[len], *retry_after (seconds, 0 = none) and
 * *close (1: answer with Connection: close). */
int connguard_verdict(struct evhttp_request *ev, char *detail, size_t len, int *retry_after, int *close);
/* evhttp handed ev to the request callback: until its reply is written the
 * guard does not make evhttp read the connection (connguard.c). */
void connguard_request_begin(struct connguard *g, struct evhttp_request *ev);
/* The request's reply was queued: its buffered bytes leave the budget, and
 * the connection's next request is looked at once the reply is written. */
void connguard_request_done(struct connguard *g, struct evhttp_request *ev);
/* Process-wide gauges for /metrics. */
int connguard_connections(void);
size_t connguard_buffered_bytes(void);
unsigned long long connguard_refused_total(void);

/* ---- the framing parser (pure; exposed for tests) ---- */

enum connguard_framing { CG_NO_BODY = 0, CG_LENGTH, CG_CHUNKED };

struct connguard_head {
	size_t head_len;              /* bytes up to and including the blank line */
	char method[16];
	char target[8192];            /* as sent (path and query) */
	enum connguard_framing framing;
	unsigned long long length;    /* CG_LENGTH */
	char authorization[512];      /* "" when absent */
	int expect_continue;          /* Expect: 100-continue */
	const char *error;            /* NULL, or why the head is malformed (-> 400) */
};

/* Parses one request head at buf[0..len). 1 when complete (out filled),
 * 0 when more bytes are needed, -1 when no head can end within max bytes. */
int connguard_parse_head(const char *buf, size_t len, size_t max, struct connguard_head *out);

#endif
