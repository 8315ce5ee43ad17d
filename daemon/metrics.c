/*
 * metrics.c - request counters, latency histogram and pool gauges rendered
 * in the Prometheus text exposition format (see metrics.h).
 */
#include "plantrack/metrics.h"
#include "plantrack/connguard.h"
#include "plantrack/db.h"
#include "plantrack/replica.h"
#include "plantrack/router.h"
#include "plantrack/xalloc.h"

#include <event2/buffer.h>
#include <stdatomic.h>
#include <stdlib.h>

static const int status_codes[] = { 200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 412, 413,
				    415, 422, 429, 500, 501, 503, 0 /* other */ };
#define NSTATUS (sizeof status_codes / sizeof status_codes[0])
static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
				  0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

struct route_metrics {
	_Atomic unsigned long long by_status[NSTATUS];
	_Atomic unsigned long long hist[NBUCKETS + 1];
	_Atomic unsigned long long count;
	_Atomic unsigned long long sum_us;
};

struct pool_gauges {
	_Atomic int size, ready, busy, waiting;
};

static const struct router *metrics_router;
static struct route_metrics *routes;   /* [nroutes + 1]; last = unmatched */
static size_t nroutes;
static struct pool_gauges pools[METRICS_MAX_WORKERS];
static _Atomic int nworkers;

void metrics_init(const struct router *router)
{
	metrics_router = router;
	nroutes = router_count(router);
	routes = xcalloc(nroutes + 1, sizeof *routes);
}

static size_t status_index(int status)
{
	for (size_t i = 0; i + 1 < NSTATUS; i++)
		if (status_codes[i] == status)
			return i;
	return NSTATUS - 1;
}

void metrics_observe(int route_id, int status, double seconds)
{
	if (!routes)
		return;
	size_t idx = route_id >= 0 && (size_t)route_id < nroutes ? (size_t)route_id : nroutes;
	struct route_metrics *m = &routes[idx];
	atomic_fetch_add_explicit(&m->by_status[status_index(status)], 1, memory_order_relaxed);
	size_t b = 0;
	while (b < NBUCKETS && seconds > buckets[b])
		b++;
	atomic_fetch_add_explicit(&m->hist[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_us, (unsigned long long)(seconds * 1e6), memory_order_relaxed);
}

void metrics_set_pool(int worker, int size, int ready, int busy, int waiting)
{
	if (worker < 0 || worker >= METRICS_MAX_WORKERS)
		return;
	atomic_store(&pools[worker].size, size);
	atomic_store(&pools[worker].ready, ready);
	atomic_store(&pools[worker].busy, busy);
	atomic_store(&pools[worker].waiting, waiting);
}

void metrics_set_workers(int n)
{
	atomic_store(&nworkers, n);
}

int metrics_pool_all_ready(void)
{
	int n = atomic_load(&nworkers);
	for (int i = 0; i < n && i < METRICS_MAX_WORKERS; i++)
		if (atomic_load(&pools[i].ready) <= 0)
			return 0;
	return n > 0;
}

int metrics_pool_ready_total(void)
{
	int ready = 0;
	for (int i = 0; i < METRICS_MAX_WORKERS; i++)
		ready += atomic_load(&pools[i].ready);
	return ready;
}

static void route_labels(size_t i, const char **method, const char **pattern)
{
	if (i < nroutes) {
		const struct route *rt = router_get(metrics_router, i);
		*method = router_method_name(rt->method);
		*pattern = rt->pattern;
	} else {
		*method = "any";
		*pattern = "unmatched";
	}
}

static void render_requests(struct evbuffer *out)
{
	evbuffer_add_printf(out, "# HELP plantrack_http_requests_total HTTP requests by route and status.\n"
				 "# TYPE plantrack_http_requests_total counter\n");
	for (size_t i = 0; i <= nroutes; i++) {
		const char *method, *pattern;
		route_labels(i, &method, &pattern);
		for (size_t s = 0; s < NSTATUS; s++) {
			unsigned long long n = atomic_load(&routes[i].by_status[s]);
			if (!n)
				continue;
			char code[8];
			if (status_codes[s])
				snprintf(code, sizeof code, "%d", status_codes[s]);
			else
				snprintf(code, sizeof code, "other");
			evbuffer_add_printf(out, "plantrack_http_requests_total{method=\"%s\",route=\"%s\",status=\"%s\"} %llu\n",
					    method, pattern, code, n);
		}
	}
}

static void render_latency(struct evbuffer *out)
{
	evbuffer_add_printf(out, "# HELP plantrack_http_request_duration_seconds Request latency by route.\n"
				 "# TYPE plantrack_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i <= nroutes; i++) {
		unsigned long long count = atomic_load(&routes[i].count);
		if (!count)
			continue;
		const char *method, *pattern;
		route_labels(i, &method, &pattern);
		unsigned long long cum = 0;
		for (size_t b = 0; b <= NBUCKETS; b++) {
			cum += atomic_load(&routes[i].hist[b]);
			if (b < NBUCKETS)
				evbuffer_add_printf(out, "plantrack_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%g\"} %llu\n",
						    method, pattern, buckets[b], cum);
			else
				evbuffer_add_printf(out, "plantrack_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n",
						    method, pattern, cum);
		}
		evbuffer_add_printf(out, "plantrack_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n",
				    method, pattern, (double)atomic_load(&routes[i].sum_us) / 1e6);
		evbuffer_add_printf(out, "plantrack_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n",
				    method, pattern, count);
	}
}

static void render_pools(struct evbuffer *out)
{
	long size = 0, ready = 0, busy = 0, waiting = 0;
	for (int i = 0; i < METRICS_MAX_WORKERS; i++) {
		size += atomic_load(&pools[i].size);
		ready += atomic_load(&pools[i].ready);
		busy += atomic_load(&pools[i].busy);
		waiting += atomic_load(&pools[i].waiting);
	}
	evbuffer_add_printf(out,
			    "# HELP plantrack_db_pool_size Configured database connections.\n"
			    "# TYPE plantrack_db_pool_size gauge\nplantrack_db_pool_size %ld\n"
			    "# HELP plantrack_db_pool_ready Connections ready to serve.\n"
			    "# TYPE plantrack_db_pool_ready gauge\nplantrack_db_pool_ready %ld\n"
			    "# HELP plantrack_db_pool_busy Connections running a query.\n"
			    "# TYPE plantrack_db_pool_busy gauge\nplantrack_db_pool_busy %ld\n"
			    "# HELP plantrack_db_pool_waiting Queries waiting for a connection.\n"
			    "# TYPE plantrack_db_pool_waiting gauge\nplantrack_db_pool_waiting %ld\n"
			    "# HELP plantrack_db_errors_total Database errors (failed queries and lost connections).\n"
			    "# TYPE plantrack_db_errors_total counter\nplantrack_db_errors_total %llu\n"
			    "# HELP plantrack_db_deadlines_total Database calls failed by database.deadline_ms.\n"
			    "# TYPE plantrack_db_deadlines_total counter\nplantrack_db_deadlines_total %llu\n"
			    "# HELP plantrack_replica_reads_total Reads sent to the standby (database.replica).\n"
			    "# TYPE plantrack_replica_reads_total counter\nplantrack_replica_reads_total %llu\n"
			    "# HELP plantrack_replica_fallbacks_total Standby reads run again on the primary.\n"
			    "# TYPE plantrack_replica_fallbacks_total counter\nplantrack_replica_fallbacks_total %llu\n",
			    size, ready, busy, waiting, db_errors_total(), db_deadlines_total(), replica_reads_total(),
			    replica_fallbacks_total());
}

static void (*sources[8])(struct evbuffer *out);
static int nsources;

void metrics_add_source(void (*render)(struct evbuffer *out))
{
	if (nsources < 8)
		sources[nsources++] = render;
}

static void render_connections(struct evbuffer *out)
{
	evbuffer_add_printf(out,
			    "# HELP plantrack_connections Open client connections (counted from accept).\n"
			    "# TYPE plantrack_connections gauge\nplantrack_connections %d\n"
			    "# HELP plantrack_connections_refused_total Connections closed at accept (server.max_connections or max_connections_per_address).\n"
			    "# TYPE plantrack_connections_refused_total counter\nplantrack_connections_refused_total %llu\n"
			    "# HELP plantrack_request_body_bytes Request body bytes reserved by requests being received (server.max_buffered).\n"
			    "# TYPE plantrack_request_body_bytes gauge\nplantrack_request_body_bytes %zu\n",
			    connguard_connections(), connguard_refused_total(), connguard_buffered_bytes());
}

void metrics_render(struct evbuffer *out)
{
	if (!routes)
		return;
	render_requests(out);
	render_latency(out);
	render_pools(out);
	for (int i = 0; i < nsources; i++)
		sources[i](out);
	render_connections(out);
}
