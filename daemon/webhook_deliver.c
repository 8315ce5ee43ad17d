/*
 * webhook_deliver.c - the deliverer that POSTs events to webhook
 * subscriptions, signed, with retries (see webhook_deliver.h and
 * webhooks.h); the delivery log and its leases live in
 * migrations/0003_webhooks.sql. The admin routes are webhook_routes.c.
 */
#include "plantrack/webhook_deliver.h"
#include "plantrack/db.h"
#include "plantrack/log.h"
#include "plantrack/sqlcalls.h"
#include "plantrack/worker.h"
#include "plantrack/xalloc.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define WH_TIMEOUT_S 10          /* one attempt, connect to last byte */
#define WH_LEASE_S 20            /* a claimed row is nobody else's for this long */
#define WH_POLL_MS 1000          /* claim due deliveries this often */
#define WH_MAX_INFLIGHT 32       /* deliveries at once per deliverer */
#define WH_BACKOFF_CAP_S 3600.0
#define WH_MAX_RESPONSE (1 << 20) /* response headers/body read at most (ignored) */

/* ---- signing ---- */

int webhooks_sign(const char *secret, long long t, const char *body, size_t len, char *out, size_t outlen)
{
	char prefix[32];
	int plen = snprintf(prefix, sizeof prefix, "%lld.", t);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	/* HMAC over "t." + body without copying the body. */
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t n = 0;
	int ok = ctx && EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) &&
		 EVP_MAC_update(ctx, (const unsigned char *)prefix, (size_t)plen) &&
		 EVP_MAC_update(ctx, (const unsigned char *)body, len) && EVP_MAC_final(ctx, mac, &n, sizeof mac);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(hmac);
	maclen = (unsigned int)n;
	if (!ok || outlen < 16 + 2 * (size_t)maclen + 24)
		return -1;
	int off = snprintf(out, outlen, "t=%lld,sha256=", t);
	for (unsigned int i = 0; i < maclen; i++)
		off += snprintf(out + off, outlen - (size_t)off, "%02x", mac[i]);
	return 0;
}

/* ---- the deliverer ---- */

struct delivery;

struct deliverer {
	struct worker *w;
	struct event_base *base;
	struct event *tick;
	struct evdns_base *dns;
	SSL_CTX *ssl;
	struct delivery *head;     /* in flight, doubly linked */
	int inflight;
	int claiming;              /* a claim query is out */
	int more;                  /* the last claim came back full */
	int db_pending;            /* queries whose callback still gets this deliverer */
	int stopping;              /* drain began: no new claims */
	int stopped;               /* stop hook ran: free when db_pending reaches 0 */
	uint64_t rng;
};

struct delivery {
	struct delivery *prev, *next;
	struct deliverer *dl;
	char id[40], webhook_id[40], event_type[64];
	char *url;
	int attempts;
	int https;
	struct evhttp_connection *conn;
	struct event *deadline;
	int err;                   /* enum evhttp_request_error + 1, 0 = none */
	char tls_error[120];       /* why TLS failed, "" if it did not */
	uint64_t t0_ns;
};

static void dl_maybe_free(struct deliverer *dl)
{
	if (dl->stopped && dl->db_pending == 0)
		free(dl);
}

static double dl_random(struct deliverer *dl)
{
	/* xorshift64*: jitter only, no need for strength. */
	uint64_t x = dl->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	dl->rng = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* Seconds to wait after the attempts-th failed attempt: 1, 2, 4 … 3600, ±25 %. */
static double backoff_seconds(struct deliverer *dl, int attempts)
{
	double s = 1.0;
	for (int i = 1; i < attempts && s < WH_BACKOFF_CAP_S; i++)
		s *= 2;
	if (s > WH_BACKOFF_CAP_S)
		s = WH_BACKOFF_CAP_S;
	return s * (0.75 + 0.5 * dl_random(dl));
}

static void on_done_recorded(PGresult *res, void *arg)
{
	struct deliverer *dl = arg;
	dl->db_pending--;
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
		log_event(LOG_LVL_WARNING, "webhook outcome not recorded; the delivery will be retried",
			  json_pack("{s:s}", "error", res ? PQresultErrorMessage(res) : "database unavailable"));
	dl_maybe_free(dl);
}

static void delivery_free(struct delivery *d)
{
	if (d->deadline)
		event_free(d->deadline);
	free(d->url);
	free(d);
}

static void delivery_unlink(struct delivery *d)
{
	struct deliverer *dl = d->dl;
	if (d->prev)
		d->prev->next = d->next;
	else
		dl->head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	dl->inflight--;
}

static void claim(struct deliverer *dl);

/* Records the outcome of one attempt and forgets the delivery. The
 * connection is freed by evhttp (free on completion) or by the caller. */
static void delivery_finish(struct delivery *d, int status, const char *error)
{
	struct deliverer *dl = d->dl;
	int ok = status >= 200 && status < 300;
	double retry = ok ? 0 : backoff_seconds(dl, d->attempts);
	double ms = (double)(pt_now_ns() - d->t0_ns) / 1e6;
	json_t *f = json_pack("{s:s,s:s,s:s,s:i,s:i,s:f}", "delivery", d->id, "webhook", d->webhook_id, "event",
			      d->event_type, "attempt", d->attempts, "status", status, "ms", ms);
	if (!ok) {
		json_object_set_new(f, "error", json_string(error ? error : "failed"));
		json_object_set_new(f, "retry_in", json_real(retry));
	}
	log_event(ok ? LOG_LVL_INFO : LOG_LVL_WARNING, ok ? "webhook delivered" : "webhook attempt failed", f);

	json_t *args = json_pack("{s:s,s:b}", "id", d->id, "ok", ok);
	json_object_set_new(args, "status", status ? json_integer(status) : json_null());
	json_object_set_new(args, "error", ok ? json_null() : json_string(error ? error : "failed"));
	if (!ok)
		json_object_set_new(args, "retry_seconds", json_real(retry));
	char *text = json_dumps(args, JSON_COMPACT);
	json_decref(args);
	const char *params[1] = { text };
	if (db_query(worker_db(dl->w), sql_stmt(SQL_DELIVERY_DONE), 1, params, on_done_recorded, dl) == DB_OK)
		dl->db_pending++;
	else
		log_warn("webhook %s: outcome not recorded (database unavailable); it will be retried", d->id);
	free(text);

	delivery_unlink(d);
	delivery_free(d);
	if (dl->more && !dl->stopping)
		claim(dl);
}

static const char *request_error_name(int err)
{
	switch (err - 1) {
	case EVREQ_HTTP_TIMEOUT: return "timeout";
	case EVREQ_HTTP_EOF: return "connection closed before a response";
	case EVREQ_HTTP_INVALID_HEADER: return "invalid response header";
	case EVREQ_HTTP_BUFFER_ERROR: return "connection failed";
	case EVREQ_HTTP_REQUEST_CANCEL: return "cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG: return "response too long";
	default: return "connection failed";
	}
}

static void on_request_error(enum evhttp_request_error err, void *arg)
{
	struct delivery *d = arg;
	d->err = (int)err + 1;
	struct bufferevent *bev = d->conn ? evhttp_connection_get_bufferevent(d->conn) : NULL;
	unsigned long e = bev && d->https ? bufferevent_get_openssl_error(bev) : 0;
	if (e)
		ERR_error_string_n(e, d->tls_error, sizeof d->tls_error);
}

static void on_response(struct evhttp_request *req, void *arg)
{
	struct delivery *d = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	char error[160];
	if (code == 0) {
		snprintf(error, sizeof error, "%s%s%s", request_error_name(d->err), d->tls_error[0] ? ": " : "",
			 d->tls_error);
	} else {
		snprintf(error, sizeof error, "HTTP %d", code);
	}
	/* evhttp frees the request and, free-on-completion, the connection. */
	d->conn = NULL;
	delivery_finish(d, code, error);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;
	if (d->conn) {
		evhttp_connection_free(d->conn);  /* frees the request without calling back */
		d->conn = NULL;
	}
	delivery_finish(d, 0, "timeout");
}

/* Starts one POST; on failure to start records the failure at once. */
static void delivery_start(struct deliverer *dl, struct delivery *d, const char *secret, const char *body,
			   size_t len)
{
	char error[160] = "";
	struct evhttp_uri *uri = evhttp_uri_parse_with_flags(d->url, 0);
	const char *scheme = uri ? evhttp_uri_get_scheme(uri) : NULL;
	const char *host = uri ? evhttp_uri_get_host(uri) : NULL;
	int https = scheme && !strcasecmp(scheme, "https");
	d->https = https;
	struct bufferevent *bev = NULL;
	struct evhttp_request *req = NULL;
	if (!scheme || !host || !*host || (!https && strcasecmp(scheme, "http"))) {
		snprintf(error, sizeof error, "bad url");
		goto fail;
	}
	int port = evhttp_uri_get_port(uri);
	if (port < 0)
		port = https ? 443 : 80;
	if (https) {
		if (!dl->ssl) {
			snprintf(error, sizeof error, "TLS unavailable");
			goto fail;
		}
		SSL *ssl = SSL_new(dl->ssl);
		if (!ssl) {
			snprintf(error, sizeof error, "TLS unavailable");
			goto fail;
		}
		unsigned char addr[16];
		if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
		} else {
			SSL_set_tlsext_host_name(ssl, host);
			SSL_set1_host(ssl, host);
		}
		bev = bufferevent_openssl_socket_new(dl->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
						     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (!bev) {
			SSL_free(ssl);
			snprintf(error, sizeof error, "TLS unavailable");
			goto fail;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	}
	d->conn = evhttp_connection_base_bufferevent_new(dl->base, dl->dns, bev, host, (unsigned short)port);
	if (!d->conn) {
		if (bev)
			bufferevent_free(bev);
		snprintf(error, sizeof error, "cannot create a connection");
		goto fail;
	}
	evhttp_connection_set_timeout(d->conn, WH_TIMEOUT_S);
	evhttp_connection_set_retries(d->conn, 0);
	evhttp_connection_set_max_body_size(d->conn, WH_MAX_RESPONSE);
	evhttp_connection_set_max_headers_size(d->conn, WH_MAX_RESPONSE);
	req = evhttp_request_new(on_response, d);
	evhttp_request_set_error_cb(req, on_request_error);

	char sig[160];
	if (webhooks_sign(secret, (long long)time(NULL), body, len, sig, sizeof sig)) {
		snprintf(error, sizeof error, "cannot sign");
		goto fail;
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char hostport[300];
	int default_port = evhttp_uri_get_port(uri) < 0;
	if (strchr(host, ':'))
		snprintf(hostport, sizeof hostport, default_port ? "[%s]" : "[%s]:%d", host, port);
	else
		snprintf(hostport, sizeof hostport, default_port ? "%s" : "%s:%d", host, port);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "User-Agent", "plantrack-webhooks/" PLANTRACK_VERSION);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Connection", "close");
	evhttp_add_header(h, "X-Plantrack-Event", d->event_type);
	evhttp_add_header(h, "X-Plantrack-Delivery", d->id);
	evhttp_add_header(h, "X-Plantrack-Signature", sig);
	evbuffer_add(evhttp_request_get_output_buffer(req), body, len);

	const char *path = evhttp_uri_get_path(uri), *query = evhttp_uri_get_query(uri);
	size_t target_len = (path ? strlen(path) : 0) + (query ? strlen(query) : 0) + 3;
	char *target = xmalloc(target_len);
	snprintf(target, target_len, "%s%s%s", path && *path ? path : "/", query ? "?" : "", query ? query : "");
	d->deadline = evtimer_new(dl->base, on_deadline, d);
	struct timeval tv = { WH_TIMEOUT_S, 500000 };
	evtimer_add(d->deadline, &tv);
	int rc = evhttp_make_request(d->conn, req, EVHTTP_REQ_POST, target);
	free(target);
	req = NULL;  /* owned by the connection now (freed on failure below with it) */
	if (rc != 0) {
		snprintf(error, sizeof error, "cannot send the request");
		goto fail;
	}
	evhttp_connection_free_on_completion(d->conn);
	evhttp_uri_free(uri);
	return;

fail:
	if (req)
		evhttp_request_free(req);
	if (d->conn) {
		evhttp_connection_free(d->conn);
		d->conn = NULL;
	}
	if (uri)
		evhttp_uri_free(uri);
	delivery_finish(d, 0, error);
}

static void on_claimed(PGresult *res, void *arg)
{
	struct deliverer *dl = arg;
	dl->db_pending--;
	dl->claiming = 0;
	if (dl->stopped || dl->stopping || !res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		/* Claimed rows keep their lease and come back when it ends. */
		if (res && PQresultStatus(res) != PGRES_TUPLES_OK)
			log_event(LOG_LVL_WARNING, "webhook claim failed",
				  json_pack("{s:s}", "error", PQresultErrorMessage(res)));
		dl_maybe_free(dl);
		return;
	}
	int n = PQntuples(res);
	dl->more = 0;
	for (int i = 0; i < n; i++) {
		struct delivery *d = xcalloc(1, sizeof *d);
		d->dl = dl;
		snprintf(d->id, sizeof d->id, "%s", PQgetvalue(res, i, 0));
		snprintf(d->webhook_id, sizeof d->webhook_id, "%s", PQgetvalue(res, i, 1));
		d->url = xstrdup(PQgetvalue(res, i, 2));
		snprintf(d->event_type, sizeof d->event_type, "%s", PQgetvalue(res, i, 4));
		d->attempts = atoi(PQgetvalue(res, i, 6));
		d->t0_ns = pt_now_ns();
		d->next = dl->head;
		if (dl->head)
			dl->head->prev = d;
		dl->head = d;
		dl->inflight++;
		delivery_start(dl, d, PQgetvalue(res, i, 3), PQgetvalue(res, i, 5), (size_t)PQgetlength(res, i, 5));
	}
	/* A full batch: there may be more due; take them as slots free up. */
	dl->more = n > 0 && dl->inflight >= WH_MAX_INFLIGHT;
	if (n > 0 && dl->inflight < WH_MAX_INFLIGHT && !dl->claiming)
		claim(dl);
}

static void claim(struct deliverer *dl)
{
	if (dl->claiming || dl->stopping || dl->inflight >= WH_MAX_INFLIGHT)
		return;
	char args[96];
	snprintf(args, sizeof args, "{\"limit\":%d,\"lease_seconds\":%d}", WH_MAX_INFLIGHT - dl->inflight, WH_LEASE_S);
	const char *params[1] = { args };
	if (db_query(worker_db(dl->w), sql_stmt(SQL_DELIVERIES_CLAIM), 1, params, on_claimed, dl) == DB_OK) {
		dl->claiming = 1;
		dl->db_pending++;
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	claim(arg);
}

static SSL_CTX *ssl_ctx_new(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		log_warn("webhooks: cannot load the system certificate store; https deliveries will fail");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

static void deliverer_start(struct worker *w)
{
	if (worker_index(w) != 0)
		return;
	struct deliverer *dl = xcalloc(1, sizeof *dl);
	dl->w = w;
	dl->base = worker_base(w);
	dl->rng = pt_now_ns() ^ (uint64_t)(uintptr_t)dl ^ 0x9E3779B97F4A7C15ULL;
	if (!dl->rng)
		dl->rng = 1;
	dl->dns = evdns_base_new(dl->base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (!dl->dns)
		dl->dns = evdns_base_new(dl->base, 0);
	dl->ssl = ssl_ctx_new();
	dl->tick = event_new(dl->base, -1, EV_PERSIST, on_tick, dl);
	struct timeval tv = { WH_POLL_MS / 1000, (WH_POLL_MS % 1000) * 1000 };
	event_add(dl->tick, &tv);
	worker_set_slot(w, SLOT_WEBHOOKS, dl);
}

static void deliverer_drain(struct worker *w)
{
	struct deliverer *dl = worker_get_slot(w, SLOT_WEBHOOKS);
	if (!dl)
		return;
	dl->stopping = 1;
	event_del(dl->tick);
}

/* In-flight deliveries are abandoned: their lease runs out and they are retried. */
static void deliverer_stop(struct worker *w)
{
	struct deliverer *dl = worker_get_slot(w, SLOT_WEBHOOKS);
	if (!dl)
		return;
	worker_set_slot(w, SLOT_WEBHOOKS, NULL);
	dl->stopping = 1;
	while (dl->head) {
		struct delivery *d = dl->head;
		if (d->conn)
			evhttp_connection_free(d->conn);
		delivery_unlink(d);
		delivery_free(d);
	}
	event_free(dl->tick);
	if (dl->dns)
		evdns_base_free(dl->dns, 0);
	SSL_CTX_free(dl->ssl);
	dl->stopped = 1;
	dl_maybe_free(dl);
}

void webhook_deliver_init(void)
{
	worker_on(WORKER_HOOK_START, deliverer_start);
	worker_on(WORKER_HOOK_DRAIN, deliverer_drain);
	worker_on(WORKER_HOOK_STOP, deliverer_stop);
}
