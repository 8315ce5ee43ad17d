/*
 * server.c - threads, listeners, request dispatch, reload and drain.
 *
 * Main thread: signals (SIGHUP reload, SIGTERM/SIGINT drain), the systemd
 * watchdog (sent only while every worker loop is alive), READY/STATUS.
 * Workers: one event_base + evhttp + db pool each, all accepting on one
 * shared listening socket (bound here, or handed over by systemd through
 * LISTEN_FDS). A request flows: limits -> route -> body checks -> database
 * readiness -> token -> handler; the handler replies exactly once.
 */
#include "plantrack/server.h"
#include "plantrack/auth.h"
#include "plantrack/config.h"
#include "plantrack/db.h"
#include "plantrack/http.h"
#include "plantrack/log.h"
#include "plantrack/metrics.h"
#include "plantrack/notify.h"
#include "plantrack/router.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#define MAX_HOOKS 8
#define CONN_SET_SLOTS 8192

struct worker {
	int index;
	pthread_t thread;
	struct event_base *base;
	struct evhttp *http;
	struct evconnlistener *listener;
	struct db_pool *db;
	struct event *reload_ev, *drain_ev, *tick_ev;
	int draining;
	uint64_t drain_deadline_ns;
	int inflight;
	int connections, paused;
	struct evhttp_connection *conn_set[CONN_SET_SLOTS];
	_Atomic uint64_t heartbeat_ns;
	_Atomic int started;
	void *slots[SLOT_COUNT];
};

static struct router *srv_router;
static int srv_schema_version;
static config_loader srv_reload;
static struct worker *workers;
static int nworkers;
static evutil_socket_t listen_fd = -1;
static _Atomic int connections;
static worker_hook hooks_start[MAX_HOOKS], hooks_drain[MAX_HOOKS], hooks_stop[MAX_HOOKS], hooks_write[MAX_HOOKS];
static int nhooks_start, nhooks_drain, nhooks_stop, nhooks_write;

uint64_t server_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void add_hook(worker_hook *list, int *n, worker_hook fn)
{
	if (*n < MAX_HOOKS)
		list[(*n)++] = fn;
}

void server_on_worker_start(worker_hook fn) { add_hook(hooks_start, &nhooks_start, fn); }
void server_on_worker_drain(worker_hook fn) { add_hook(hooks_drain, &nhooks_drain, fn); }
void server_on_worker_stop(worker_hook fn) { add_hook(hooks_stop, &nhooks_stop, fn); }
void server_on_worker_write(worker_hook fn) { add_hook(hooks_write, &nhooks_write, fn); }

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
	int limit = (config_current()->max_connections + nworkers - 1) / nworkers;
	if (limit > CONN_SET_SLOTS / 2)
		limit = CONN_SET_SLOTS / 2;
	return limit < 1 ? 1 : limit;
}

static size_t conn_hash(const void *p)
{
	uintptr_t v = (uintptr_t)p;
	v ^= v >> 17;
	v *= 0x9E3779B97F4A7C15ULL;
	return (size_t)(v >> 40) & (CONN_SET_SLOTS - 1);
}

/* Inserts; 1 when it was new. */
static int conn_set_add(struct worker *w, struct evhttp_connection *c)
{
	size_t i = conn_hash(c);
	while (w->conn_set[i]) {
		if (w->conn_set[i] == c)
			return 0;
		i = (i + 1) & (CONN_SET_SLOTS - 1);
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
		i = (i + 1) & (CONN_SET_SLOTS - 1);
	}
	w->conn_set[i] = NULL;
	size_t j = i;
	for (;;) {
		j = (j + 1) & (CONN_SET_SLOTS - 1);
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

static void connection_track(struct worker *w, struct evhttp_request *ev)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	if (!evcon || w->connections >= CONN_SET_SLOTS / 2 || !conn_set_add(w, evcon))
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

/* ---- request dispatch ---- */

static int method_bit(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return RM_GET;
	case EVHTTP_REQ_POST: return RM_POST;
	case EVHTTP_REQ_PUT: return RM_PUT;
	case EVHTTP_REQ_PATCH: return RM_PATCH;
	case EVHTTP_REQ_DELETE: return RM_DELETE;
	case EVHTTP_REQ_HEAD: return RM_HEAD;
	case EVHTTP_REQ_OPTIONS: return RM_OPTIONS;
	default: return 0;
	}
}

static void set_request_id(struct req *r)
{
	const char *in = evhttp_find_header(evhttp_request_get_input_headers(r->ev), "X-Request-Id");
	int ok = in && *in && strlen(in) < sizeof r->request_id;
	for (const char *s = in; ok && *s; s++)
		if (!(*s == '-' || *s == '_' || *s == '.' || (*s >= '0' && *s <= '9') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			ok = 0;
	if (ok) {
		snprintf(r->request_id, sizeof r->request_id, "%s", in);
	} else {
		uuid_t u;
		uuid_generate_random(u);
		uuid_unparse_lower(u, r->request_id);
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "X-Request-Id", r->request_id);
}

void server_finish_request(struct req *r)
{
	struct worker *w = r->w;
	double secs = (double)(server_now_ns() - r->t0_ns) / 1e9;
	int route_id = r->m.route ? r->m.route->id : -1;
	metrics_observe(route_id, r->status, secs);
	if (log_get_level() >= LOG_LVL_INFO) {
		json_t *f = json_pack("{s:s,s:s,s:s,s:i,s:f,s:s}",
				      "method", router_method_name(r->method) ? router_method_name(r->method) : "?",
				      "route", r->m.route ? r->m.route->pattern : "-",
				      "path", r->path ? r->path : "-",
				      "status", r->status, "ms", secs * 1000.0,
				      "request_id", r->request_id);
		log_event(r->status >= 500 ? LOG_LVL_WARNING : LOG_LVL_INFO, "request", f);
	}
	if (r->status >= 200 && r->status < 300 && (r->method & (RM_POST | RM_PATCH | RM_DELETE)) &&
	    r->m.route && (r->m.route->flags & ROUTE_NEEDS_DB))
		for (int i = 0; i < nhooks_write; i++)
			hooks_write[i](w);
	evhttp_clear_headers(&r->query);
	free(r->path);
	json_decref(r->json);
	free(r->handler_data);
	free(r);
	w->inflight--;
}

static int content_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);
	if (!ct || strncasecmp(ct, want, n))
		return 0;
	return ct[n] == 0 || ct[n] == ';' || ct[n] == ' ';
}

static void parse_charset(struct req *r, const char *ct)
{
	r->charset[0] = 0;
	const char *cs = ct ? strcasestr(ct, "charset=") : NULL;
	if (!cs)
		return;
	cs += 8;
	if (*cs == '"')
		cs++;
	size_t i = 0;
	while (cs[i] && cs[i] != ';' && cs[i] != '"' && cs[i] != ' ' && i + 1 < sizeof r->charset) {
		char ch = cs[i];
		r->charset[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
		i++;
	}
	r->charset[i] = 0;
}

/* Checks media type and parses the body. 0 to go on; -1 when answered. */
static int read_body(struct req *r, const struct config *c)
{
	int flags = r->m.route->flags;
	struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
	r->body_len = evbuffer_get_length(in);
	/* per-route limits: uploads (ROUTE_RAW_BODY) have their own */
	size_t limit = (flags & ROUTE_RAW_BODY) ? c->max_attachment
		       : (flags & ROUTE_LARGE_BODY) ? c->max_import_body : c->max_body;
	if (r->body_len > limit) {
		char detail[128];
		snprintf(detail, sizeof detail, "the body is %zu bytes; the limit is %zu", r->body_len, limit);
		http_reply_problem(r, 413, "body-too-large", "Request body too large", detail, NULL);
		return -1;
	}
	r->body = r->body_len ? (const char *)evbuffer_pullup(in, -1) : "";
	if (!(r->method & (RM_POST | RM_PATCH | RM_PUT)))
		return 0;
	const char *ct = http_header(r, "Content-Type");
	parse_charset(r, ct);
	/* ROUTE_JSON_BODY | ROUTE_TEXT_BODY: JSON, or text when sent as text */
	int as_text = (flags & ROUTE_TEXT_BODY) &&
		      (!(flags & ROUTE_JSON_BODY) || content_type_is(ct, "text/plain") || content_type_is(ct, "text/csv"));
	if ((flags & ROUTE_JSON_BODY) && !as_text) {
		if (r->body_len == 0) {
			r->json = json_object();
			return 0;
		}
		if (!content_type_is(ct, "application/json")) {
			http_reply_problem(r, 415, "unsupported-media-type", "Unsupported media type",
					   "send the body as application/json", NULL);
			return -1;
		}
		json_error_t err;
		r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &err);
		if (!r->json) {
			char detail[256];
			snprintf(detail, sizeof detail, "line %d column %d: %s", err.line, err.column, err.text);
			http_reply_problem(r, 400, "malformed-json", "Malformed JSON", detail, NULL);
			return -1;
		}
		if (!json_is_object(r->json)) {
			http_reply_problem(r, 400, "malformed-json", "Malformed JSON",
					   "the body must be a JSON object", NULL);
			return -1;
		}
	} else if (as_text) {
		if (!content_type_is(ct, "text/plain") && !content_type_is(ct, "text/csv")) {
			http_reply_problem(r, 415, "unsupported-media-type", "Unsupported media type",
					   "send the body as text/plain or text/csv (charset utf-8 or gb18030)", NULL);
			return -1;
		}
	}
	return 0;
}

static void run_handler(struct req *r)
{
	((handler_fn)r->m.route->handler)(r);
}

static void on_request(struct evhttp_request *ev, void *arg)
{
	struct worker *w = arg;
	const struct config *c = config_current();
	struct req *r = calloc(1, sizeof *r);
	if (!r) {
		evhttp_send_error(ev, 503, "Out of memory");
		return;
	}
	w->inflight++;
	connection_track(w, ev);
	r->ev = ev;
	r->w = w;
	r->t0_ns = server_now_ns();
	TAILQ_INIT(&r->query);
	set_request_id(r);
	r->method = method_bit(evhttp_request_get_command(ev));
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
	const char *raw_path = uri ? evhttp_uri_get_path(uri) : NULL;
	r->path = evhttp_uridecode(raw_path && *raw_path ? raw_path : "/", 0, NULL);
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
	if (qs && evhttp_parse_query_str(qs, &r->query) < 0) {
		http_reply_problem(r, 400, "bad-query", "Malformed query string", NULL, NULL);
		return;
	}
	if (w->draining) {
		evhttp_add_header(evhttp_request_get_output_headers(ev), "Connection", "close");
		http_reply_problem(r, 503, "shutting-down", "Shutting down", "the server is draining", NULL);
		return;
	}
	char allow[96];
	switch (router_match(srv_router, r->method, r->path ? r->path : "/", &r->m, allow, sizeof allow)) {
	case ROUTER_NOT_FOUND:
		http_reply_problem(r, 404, "not-found", "Not found", "no route for this path", NULL);
		return;
	case ROUTER_METHOD_NOT_ALLOWED:
		evhttp_add_header(evhttp_request_get_output_headers(ev), "Allow", allow);
		http_reply_problem(r, 405, "method-not-allowed", "Method not allowed", allow, NULL);
		return;
	case ROUTER_FOUND:
		break;
	}
	int flags = r->m.route->flags;
	if (flags & ROUTE_NEEDS_DB) {
		struct db_status st;
		db_pool_status(w->db, &st);
		if (!st.ready) {
			evhttp_add_header(evhttp_request_get_output_headers(ev), "Retry-After", "2");
			http_reply_problem(r, 503, "database-unavailable", "Database unavailable", st.reason, NULL);
			return;
		}
	}
	if (read_body(r, c))
		return;
	if (flags & ROUTE_PUBLIC)
		run_handler(r);
	else
		auth_authenticate(r, (enum role)(flags & ROUTE_ROLE_MASK), run_handler);
}

/* ---- worker lifecycle ---- */

static void worker_apply_limits(struct worker *w)
{
	const struct config *c = config_current();
	/* evhttp's own cap is the largest route limit + 1, so read_body answers a
	 * body over its route's limit with a problem+json 413 */
	size_t cap = c->max_import_body > c->max_attachment ? c->max_import_body : c->max_attachment;
	evhttp_set_max_body_size(w->http, (ev_ssize_t)(cap + 1));
	evhttp_set_max_headers_size(w->http, (ev_ssize_t)c->max_headers);
	evhttp_set_timeout(w->http, c->read_timeout > c->write_timeout ? c->read_timeout : c->write_timeout);
	db_pool_set_size(w->db, c->pool);
}

static void worker_on_reload(evutil_socket_t fd, short what, void *arg)
{
	worker_apply_limits(arg);
}

static void worker_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	atomic_store(&w->heartbeat_ns, server_now_ns());
	struct db_status st;
	db_pool_status(w->db, &st);
	metrics_set_pool(w->index, st.size, st.ready, st.busy, st.waiting);
	if (w->draining && (w->inflight == 0 || server_now_ns() >= w->drain_deadline_ns)) {
		if (w->inflight)
			log_warn("worker %d: drain timeout with %d requests in flight", w->index, w->inflight);
		event_base_loopexit(w->base, NULL);
	}
}

static void worker_on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	if (w->draining)
		return;
	w->draining = 1;
	w->drain_deadline_ns = server_now_ns() + (uint64_t)config_current()->drain_timeout * 1000000000ULL;
	if (w->listener)
		evconnlistener_disable(w->listener);
	for (int i = 0; i < nhooks_drain; i++)
		hooks_drain[i](w);
	/* Re-arm the tick faster so the loop exits soon after the last reply. */
	event_del(w->tick_ev);
	struct timeval tv = { 0, 50000 };
	event_add(w->tick_ev, &tv);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < nhooks_start; i++)
		hooks_start[i](w);
	atomic_store(&w->heartbeat_ns, server_now_ns());
	atomic_store(&w->started, 1);
	event_base_dispatch(w->base);
	/* Pool first: its callbacks still reply on live requests; then evhttp. */
	for (int i = 0; i < nhooks_stop; i++)
		hooks_stop[i](w);
	db_pool_free(w->db);
	w->db = NULL;
	evhttp_free(w->http);
	w->http = NULL;
	return NULL;
}

static int worker_init(struct worker *w, int index)
{
	const struct config *c = config_current();
	w->index = index;
	struct event_config *ecfg = event_config_new();
	event_config_set_flag(ecfg, EVENT_BASE_FLAG_NOLOCK);
	w->base = event_base_new_with_config(ecfg);
	event_config_free(ecfg);
	if (!w->base)
		return -1;
	w->http = evhttp_new(w->base);
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
					    EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
					    EVHTTP_REQ_OPTIONS);
	evhttp_set_default_content_type(w->http, "application/json");
	evhttp_set_flags(w->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_gencb(w->http, on_request, w);
	w->listener = evconnlistener_new(w->base, NULL, NULL, LEV_OPT_CLOSE_ON_EXEC, 0, listen_fd);
	if (!w->listener || !evhttp_bind_listener(w->http, w->listener))
		return -1;
	w->db = db_pool_new(w->base, c->db, c->pool, c->queue, c->statement_timeout_ms, srv_schema_version);
	worker_apply_limits(w);
	w->reload_ev = event_new(w->base, -1, 0, worker_on_reload, w);
	w->drain_ev = event_new(w->base, -1, 0, worker_on_drain, w);
	w->tick_ev = event_new(w->base, -1, EV_PERSIST, worker_on_tick, w);
	struct timeval tv = { 0, 250000 };
	event_add(w->tick_ev, &tv);
	return 0;
}

static void worker_free(struct worker *w)
{
	if (w->reload_ev)
		event_free(w->reload_ev);
	if (w->drain_ev)
		event_free(w->drain_ev);
	if (w->tick_ev)
		event_free(w->tick_ev);
	if (w->base)
		event_base_free(w->base);
}

/* ---- listening socket ---- */

static evutil_socket_t socket_from_systemd(void)
{
	const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
	if (!fds || !pid || atoi(fds) < 1 || (pid_t)atol(pid) != getpid())
		return -1;
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	int listening = 0;
	socklen_t len = sizeof listening;
	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) || !listening) {
		log_error("LISTEN_FDS is set but descriptor 3 is not a listening socket");
		return -2;
	}
	evutil_make_socket_nonblocking(3);
	evutil_make_socket_closeonexec(3);
	return 3;
}

static evutil_socket_t socket_bind(const char *listen_addr)
{
	char host[256], port[16];
	int portnum;
	if (config_parse_listen(listen_addr, host, sizeof host, &portnum))
		return -1;
	snprintf(port, sizeof port, "%d", portnum);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		log_error("listen %s: %s", listen_addr, gai_strerror(rc));
		return -1;
	}
	evutil_socket_t fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024)) {
		log_error("listen %s: %s", listen_addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* ---- main thread: signals, watchdog, readiness ---- */

struct main_state {
	struct event_base *base;
	uint64_t started_ns;
	int ready_sent;
	int stopping;
	uint64_t watchdog_usec;
};

static int workers_alive(uint64_t max_age_ns)
{
	uint64_t now = server_now_ns();
	for (int i = 0; i < nworkers; i++) {
		if (!atomic_load(&workers[i].started))
			return 0;
		if (now - atomic_load(&workers[i].heartbeat_ns) > max_age_ns)
			return 0;
	}
	return 1;
}

static void main_on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct main_state *ms = arg;
	if (ms->stopping)
		return;
	if (workers_alive(ms->watchdog_usec * 1000ULL))
		notify_watchdog();
	else
		log_error("watchdog: a worker loop is stuck; withholding WATCHDOG=1");
}

static void main_on_ready_check(evutil_socket_t fd, short what, void *arg)
{
	struct main_state *ms = arg;
	if (ms->ready_sent || ms->stopping)
		return;
	if (!workers_alive(5ULL * 1000000000ULL))
		return;
	int ready = metrics_pool_all_ready();
	uint64_t waited = server_now_ns() - ms->started_ns;
	if (ready || waited > 5ULL * 1000000000ULL) {
		const struct config *c = config_current();
		notify_ready();
		notify_statusf("serving on %s with %d workers%s", c->listen, nworkers,
			       ready ? "" : "; database not ready yet (see /readyz)");
		log_info("ready: serving on %s with %d workers%s", c->listen, nworkers,
			 ready ? "" : "; database not ready yet");
		ms->ready_sent = 1;
	}
}

static void main_on_reload(evutil_socket_t sig, short what, void *arg)
{
	notify_reloading();
	notify_statusf("reloading configuration");
	const struct config *old = config_current();
	struct config *next = malloc(sizeof *next);
	char err[512];
	if (!next || srv_reload(next, err, sizeof err)) {
		log_error("reload rejected, keeping the running configuration: %s", next ? err : "out of memory");
		free(next);
		notify_ready();
		notify_statusf("serving on %s; last reload rejected: %s", old->listen, next ? err : "oom");
		return;
	}
	if (strcmp(next->listen, old->listen))
		log_warn("reload: server.listen changed; needs a restart to take effect");
	if (next->workers != old->workers)
		log_warn("reload: server.workers changed; needs a restart to take effect");
	if (strcmp(next->db, old->db))
		log_warn("reload: database.conninfo changed; needs a restart to take effect");
	if (next->statement_timeout_ms != old->statement_timeout_ms)
		log_warn("reload: database.statement_timeout_ms applies to new connections only");
	log_set_level((enum log_level)next->log_level);
	config_publish(next);
	for (int i = 0; i < nworkers; i++)
		event_active(workers[i].reload_ev, 0, 0);
	log_info("configuration reloaded from %s", next->path ? next->path : "(defaults)");
	notify_ready();
	notify_statusf("serving on %s with %d workers", next->listen, nworkers);
}

static void main_on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct main_state *ms = arg;
	if (ms->stopping)
		return;
	ms->stopping = 1;
	notify_stopping();
	notify_statusf("draining");
	log_info("signal %d: draining (up to %d s)", (int)sig, config_current()->drain_timeout);
	for (int i = 0; i < nworkers; i++)
		event_active(workers[i].drain_ev, 0, 0);
	event_base_loopexit(ms->base, NULL);
}

static int start_workers(int n)
{
	workers = calloc((size_t)n, sizeof *workers);
	if (!workers)
		return -1;
	nworkers = n;
	metrics_set_workers(n);
	for (int i = 0; i < n; i++) {
		if (worker_init(&workers[i], i)) {
			log_error("worker %d: cannot start its event loop", i);
			return -1;
		}
	}
	for (int i = 0; i < n; i++)
		pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
	return 0;
}

int server_run(struct router *router, int schema_version, config_loader reload)
{
	const struct config *c = config_current();
	srv_router = router;
	srv_schema_version = schema_version;
	srv_reload = reload;
	evthread_use_pthreads();
	signal(SIGPIPE, SIG_IGN);
	listen_fd = socket_from_systemd();
	if (listen_fd == -1)
		listen_fd = socket_bind(c->listen);
	if (listen_fd < 0)
		return 1;
	int n = c->workers > 0 ? c->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > METRICS_MAX_WORKERS)
		n = METRICS_MAX_WORKERS;
	struct main_state ms = { .started_ns = server_now_ns(), .watchdog_usec = notify_watchdog_usec() };
	ms.base = event_base_new();
	notify_statusf("starting %d workers", n);
	if (start_workers(n)) {
		close(listen_fd);
		return 1;
	}
	log_info("listening on %s (%d workers, pool %d each)", c->listen, n, c->pool);
	struct event *hup = evsignal_new(ms.base, SIGHUP, main_on_reload, &ms);
	struct event *term = evsignal_new(ms.base, SIGTERM, main_on_stop, &ms);
	struct event *intr = evsignal_new(ms.base, SIGINT, main_on_stop, &ms);
	event_add(hup, NULL);
	event_add(term, NULL);
	event_add(intr, NULL);
	struct event *ready = event_new(ms.base, -1, EV_PERSIST, main_on_ready_check, &ms);
	struct timeval rtv = { 0, 100000 };
	event_add(ready, &rtv);
	struct event *wd = NULL;
	if (ms.watchdog_usec) {
		wd = event_new(ms.base, -1, EV_PERSIST, main_on_watchdog, &ms);
		struct timeval wtv = { (time_t)(ms.watchdog_usec / 2 / 1000000), (suseconds_t)(ms.watchdog_usec / 2 % 1000000) };
		event_add(wd, &wtv);
	}
	event_base_dispatch(ms.base);
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i].thread, NULL);
	for (int i = 0; i < nworkers; i++) {
		worker_free(&workers[i]);
	}
	free(workers);
	close(listen_fd);
	event_free(hup);
	event_free(term);
	event_free(intr);
	event_free(ready);
	if (wd)
		event_free(wd);
	event_base_free(ms.base);
	log_info("stopped");
	return 0;
}
