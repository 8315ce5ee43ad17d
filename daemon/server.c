/*
 * server.c - threads, listeners, reload and drain (requests themselves are
 * dispatch.c's, replies http.c's, per-worker state worker.c's).
 *
 * Main thread: signals (SIGHUP reload, SIGTERM/SIGINT drain), the systemd
 * watchdog (sent only while every worker loop is alive), READY/STATUS.
 * Workers: one event_base + evhttp + db pool each, all accepting on one
 * shared listening socket (bound here, or handed over by systemd through
 * LISTEN_FDS); each worker's evhttp hands requests to dispatch_request.
 */
#include "plantrack/server.h"
#include "plantrack/auth.h"
#include "plantrack/config.h"
#include "plantrack/connguard.h"
#include "plantrack/db.h"
#include "plantrack/doccache.h"
#include "plantrack/dispatch.h"
#include "plantrack/http.h"
#include "plantrack/log.h"
#include "plantrack/metrics.h"
#include "plantrack/notify.h"
#include "plantrack/worker.h"
#include "plantrack/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
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
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int srv_schema_version;
static config_loader srv_reload;
static struct worker *workers;
static int nworkers;
static evutil_socket_t listen_fd = -1;

static void worker_apply_limits(struct worker *w)
{
	const struct config *c = config_current();
	/* evhttp's own cap is the largest route limit + 1, so dispatch answers a
	 * body over its route's limit with a problem+json 413 */
	size_t cap = c->max_import_body > c->max_attachment ? c->max_import_body : c->max_attachment;
	evhttp_set_max_body_size(w->http, (ev_ssize_t)(cap + 1));
	evhttp_set_max_headers_size(w->http, (ev_ssize_t)c->max_headers);
	evhttp_set_timeout(w->http, c->read_timeout > c->write_timeout ? c->read_timeout : c->write_timeout);
	db_pool_set_size(w->db, c->pool);
	db_pool_set_queue(w->db, c->queue, c->statement_timeout_ms);
	db_pool_set_deadline(w->db, c->deadline_ms);
}

/* Takes the snapshot the main thread handed over (if any) and applies it. */
static void worker_on_reload(struct worker *w)
{
	const struct config *next = atomic_exchange(&w->cfg_next, NULL);
	if (next) {
		config_thread_use(next);
		config_release(w->cfg);
		w->cfg = next;
	}
	worker_apply_limits(w);
	doccache_flush();
}

static void worker_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	atomic_store(&w->heartbeat_ns, pt_now_ns());
	struct db_status st;
	db_pool_status(w->db, &st);
	metrics_set_pool(w->index, st.size, st.ready, st.busy, st.waiting);
	if (w->draining && (w->inflight == 0 || pt_now_ns() >= w->drain_deadline_ns)) {
		if (w->inflight)
			log_warn("worker %d: drain timeout with %d requests in flight", w->index, w->inflight);
		event_base_loopexit(w->base, NULL);
	}
}

static void worker_on_drain(struct worker *w)
{
	if (w->draining)
		return;
	w->draining = 1;
	w->drain_deadline_ns = pt_now_ns() + (uint64_t)config_current()->drain_timeout * 1000000000ULL;
	if (w->listener)
		evconnlistener_disable(w->listener);
	worker_run_hooks(WORKER_HOOK_DRAIN, w);
	/* Re-arm the tick faster so the loop exits soon after the last reply. */
	event_del(w->tick_ev);
	struct timeval tv = { 0, 50000 };
	event_add(w->tick_ev, &tv);
}

/* ---- main thread -> worker ----
 * The main thread never touches a worker's event_base (created NOLOCK): it
 * sets a bit in wake_bits and writes a byte to the worker's pipe; the worker
 * reads the pipe on its own loop and acts on the bits. A full pipe loses
 * nothing (the bits are already set and a wake is already pending). */

enum { WAKE_RELOAD = 1u, WAKE_DRAIN = 2u };

static void worker_wake(struct worker *w, unsigned bits)
{
	atomic_fetch_or(&w->wake_bits, bits);
	char b = 1;
	ssize_t n;
	do
		n = write(w->wake_fd[1], &b, 1);
	while (n < 0 && errno == EINTR);
}

static void worker_on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char buf[64];
	while (read(fd, buf, sizeof buf) > 0)
		;
	unsigned bits = atomic_exchange(&w->wake_bits, 0);
	if (bits & WAKE_RELOAD)
		worker_on_reload(w);
	if (bits & WAKE_DRAIN)
		worker_on_drain(w);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	config_thread_use(w->cfg);
	worker_run_hooks(WORKER_HOOK_START, w);
	atomic_store(&w->heartbeat_ns, pt_now_ns());
	atomic_store(&w->started, 1);
	event_base_dispatch(w->base);
	/* Pool first: its callbacks still reply on live requests; then evhttp. */
	worker_run_hooks(WORKER_HOOK_STOP, w);
	db_pool_free(w->db);
	w->db = NULL;
	evhttp_free(w->http);
	w->http = NULL;
	connguard_free(w->guard);
	w->guard = NULL;
	config_thread_use(NULL);
	config_release(w->cfg);
	w->cfg = NULL;
	config_release(atomic_exchange(&w->cfg_next, NULL));
	return NULL;
}

static int worker_init(struct worker *w, int index)
{
	const struct config *c = config_current();
	w->index = index;
	w->nworkers = nworkers;
	w->wake_fd[0] = w->wake_fd[1] = -1;
	w->cfg = config_ref();
	struct event_config *ecfg = event_config_new();
	event_config_set_flag(ecfg, EVENT_BASE_FLAG_NOLOCK);
	w->base = event_base_new_with_config(ecfg);
	event_config_free(ecfg);
	if (!w->base)
		return -1;
	w->http = evhttp_new(w->base);
	w->guard = connguard_new(w->base, w->http, w, index);
	if (!w->guard)
		return -1;
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
					    EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
					    EVHTTP_REQ_OPTIONS);
	evhttp_set_default_content_type(w->http, "application/json");
	evhttp_set_flags(w->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_gencb(w->http, dispatch_request, w);
	w->listener = evconnlistener_new(w->base, NULL, NULL, LEV_OPT_CLOSE_ON_EXEC, 0, listen_fd);
	if (!w->listener || !evhttp_bind_listener(w->http, w->listener))
		return -1;
	w->db = db_pool_new(w->base, c->db, c->pool, c->queue, c->statement_timeout_ms, srv_schema_version);
	worker_apply_limits(w);
	if (pipe2(w->wake_fd, O_NONBLOCK | O_CLOEXEC))
		return -1;
	w->wake_ev = event_new(w->base, w->wake_fd[0], EV_READ | EV_PERSIST, worker_on_wake, w);
	event_add(w->wake_ev, NULL);
	w->tick_ev = event_new(w->base, -1, EV_PERSIST, worker_on_tick, w);
	struct timeval tv = { 0, 250000 };
	event_add(w->tick_ev, &tv);
	return 0;
}

static void worker_free(struct worker *w)
{
	if (w->wake_ev)
		event_free(w->wake_ev);
	if (w->wake_fd[0] >= 0) {
		close(w->wake_fd[0]);
		close(w->wake_fd[1]);
	}
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
	uint64_t now = pt_now_ns();
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
	uint64_t waited = pt_now_ns() - ms->started_ns;
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
	struct config *next = xmalloc(sizeof *next);
	char err[512];
	if (srv_reload(next, err, sizeof err)) {
		log_error("reload rejected, keeping the running configuration: %s", err);
		free(next);
		notify_ready();
		notify_statusf("serving on %s; last reload rejected: %s", old->listen, err);
		return;
	}
	config_reload_apply(next, old);
	log_set_level((enum log_level)next->log_level);
	config_publish(next);
	/* Each worker gets its own reference and swaps it in on its thread; one
	 * it has not taken yet (two quick reloads) is simply replaced. */
	for (int i = 0; i < nworkers; i++) {
		config_release(atomic_exchange(&workers[i].cfg_next, config_ref()));
		worker_wake(&workers[i], WAKE_RELOAD);
	}
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
		worker_wake(&workers[i], WAKE_DRAIN);
	event_base_loopexit(ms->base, NULL);
}

static int start_workers(int n)
{
	workers = xcalloc((size_t)n, sizeof *workers);
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
	dispatch_set_router(router);
	connguard_init(router, ROUTE_LARGE_BODY, ROUTE_RAW_BODY, ROUTE_ROLE_MASK, auth_cached_role, auth_prefetch);
	srv_schema_version = schema_version;
	srv_reload = reload;
	evthread_use_pthreads();
	signal(SIGPIPE, SIG_IGN);
	listen_fd = socket_from_systemd();
	if (listen_fd == -1)
		listen_fd = socket_bind(c->listen);
	if (listen_fd < 0)
		return 1;
	/* Accepted sockets inherit TCP_NODELAY from the listener (Linux). Without
	 * it an answer longer than one segment waits for the client's delayed
	 * ACK (Nagle): a 34 kB task list took 40 ms per request. */
	int nodelay = 1;
	setsockopt(listen_fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
	int n = c->workers > 0 ? c->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > METRICS_MAX_WORKERS)
		n = METRICS_MAX_WORKERS;
	struct main_state ms = { .started_ns = pt_now_ns(), .watchdog_usec = notify_watchdog_usec() };
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
