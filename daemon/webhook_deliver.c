/*
 * webhook_deliver.c - the deliverer that POSTs events to webhook
 * subscriptions, signed, with retries (see webhook_deliver.h and
 * webhooks.h); the delivery log and its leases live in
 * migrations/0003_webhooks.sql. The admin routes are webhook_routes.c.
 */
#include "plantrack/webhook_deliver.h"
#include "plantrack/hash.h"
#include "plantrack/config.h"
#include "plantrack/db.h"
#include "plantrack/log.h"
#include "plantrack/netpolicy.h"
#include "plantrack/config.h"
#include "plantrack/sqlcalls.h"
#include "plantrack/worker.h"
#include "plantrack/xalloc.h"

#include <event2/bufferevent.h>
#include <jansson.h>
#include <event2/bufferevent_ssl.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
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

static SSL_CTX *ssl_ctx_new(void);

/* ---- signing ---- */

int webhooks_sign(const char *secret, long long t, const char *body, size_t len, char *out, size_t outlen)
{
	char prefix[32];
	int plen = snprintf(prefix, sizeof prefix, "%lld.", t);
	unsigned char mac[PT_SHA256_LEN];
	if (plen < 0 || outlen < 16 + 2 * sizeof mac + 24)
		return -1;
	/* HMAC over "t." + body without copying the body. */
	pt_hmac_sha256(secret, strlen(secret), prefix, (size_t)plen, body, len, mac);
	int off = snprintf(out, outlen, "t=%lld,sha256=", t);
	pt_hex(mac, sizeof mac, out + off);
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
	struct evhttp_request *req;   /* built, not yet handed to a connection */
	struct evdns_getaddrinfo_request *dns;  /* a lookup of host in flight */
	char *host, *target;
	int port;
	int starting;              /* inside delivery_start (a lookup may answer at once) */
	int waiting;               /* claimed, waiting for a free slot of its webhook */
	char *secret, *body;       /* kept while waiting */
	size_t body_len;
	int resolved_now;          /* ... and did: addr holds the result */
	struct sockaddr_storage addr;
	char resolve_error[160];
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
	if (d->dns) {
		/* its callback comes later with EVUTIL_EAI_CANCEL and does not touch d */
		evdns_getaddrinfo_cancel(d->dns);
		d->dns = NULL;
	}
	if (d->req)
		evhttp_request_free(d->req);
	if (d->deadline)
		event_free(d->deadline);
	free(d->host);
	free(d->target);
	free(d->url);
	free(d->secret);
	free(d->body);
	free(d);
}

static void free_connection_later(evutil_socket_t fd, short what, void *arg)
{
	evhttp_connection_free(arg);
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
static void delivery_start(struct deliverer *dl, struct delivery *d, const char *secret, const char *body,
			   size_t len);

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

	json_t *args = json_pack("{s:s,s:b,s:i}", "id", d->id, "ok", ok, "pause_after",
				 config_current()->webhook_pause_after);
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

	char webhook[40];
	snprintf(webhook, sizeof webhook, "%s", d->webhook_id);
	delivery_unlink(d);
	delivery_free(d);
	/* A slot of this webhook is free: its next waiting delivery goes, or
	 * (none waiting) the next claim may bring it more. */
	int resumed = 0;
	for (struct delivery *w = dl->head; w && !dl->stopping; w = w->next) {
		if (w->waiting && !strcmp(w->webhook_id, webhook)) {
			w->waiting = 0;
			w->t0_ns = pt_now_ns();
			resumed = 1;
			delivery_start(dl, w, w->secret, w->body, w->body_len);
			break;
		}
	}
	if ((dl->more || !resumed) && !dl->stopping)
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
	/* evhttp frees the request and, free-on-completion, the connection --
	 * except when the connection never came up: then it calls back with the
	 * request (its connection already cleared) and keeps the connection,
	 * free-on-completion or not. That one is ours to free, once evhttp's
	 * callback has returned. */
	if (req && code == 0 && d->conn && !evhttp_request_get_connection(req)) {
		struct timeval now = { 0, 0 };
		event_base_once(d->dl->base, -1, EV_TIMEOUT, free_connection_later, d->conn, &now);
	}
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

static void connect_and_send(struct delivery *d, const struct sockaddr *sa);

/* The allow-list of the running configuration; *n entries, caller frees. */
static struct netcidr *allow_list(size_t *n)
{
	struct netcidr *allow = NULL;
	char err[200];
	if (netpolicy_parse_list(config_current()->webhook_allow, &allow, n, err, sizeof err))
		*n = 0;  /* config_validate refused a bad list already */
	return allow;
}

/* Picks the first allowed address of a lookup; 0 ok (into d->addr), -1 none. */
static int pick_address(struct delivery *d, struct evutil_addrinfo *ai, const struct sockaddr **refused)
{
	size_t nallow;
	struct netcidr *allow = allow_list(&nallow);
	int rc = -1;
	for (struct evutil_addrinfo *a = ai; a; a = a->ai_next) {
		if (a->ai_family != AF_INET && a->ai_family != AF_INET6)
			continue;
		if (netpolicy_allowed_sa(allow, nallow, a->ai_addr)) {
			memcpy(&d->addr, a->ai_addr, a->ai_addrlen);
			rc = 0;
			break;
		}
		if (!*refused)
			*refused = a->ai_addr;
	}
	free(allow);
	return rc;
}

static void on_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
	if (result == EVUTIL_EAI_CANCEL) {  /* d is gone */
		if (ai)
			evutil_freeaddrinfo(ai);
		return;
	}
	struct delivery *d = arg;
	d->dns = NULL;
	const struct sockaddr *refused = NULL;
	int rc = -1;
	if (result) {
		snprintf(d->resolve_error, sizeof d->resolve_error, "cannot resolve %s: %s", d->host,
			 evutil_gai_strerror(result));
	} else {
		rc = pick_address(d, ai, &refused);
		if (rc && refused) {
			char addr[64] = "?";
			const void *raw = refused->sa_family == AF_INET
				? (const void *)&((const struct sockaddr_in *)refused)->sin_addr
				: (const void *)&((const struct sockaddr_in6 *)refused)->sin6_addr;
			netpolicy_format(refused->sa_family, raw, addr, sizeof addr);
			snprintf(d->resolve_error, sizeof d->resolve_error,
				 "destination not allowed: %s resolves to %s, a %s address (see [webhooks] allow)", d->host,
				 addr, netpolicy_class_name(netpolicy_classify_sa(refused)));
		} else if (rc) {
			snprintf(d->resolve_error, sizeof d->resolve_error, "cannot resolve %s: no address", d->host);
		}
	}
	if (ai)
		evutil_freeaddrinfo(ai);
	if (d->starting) {  /* answered inside delivery_start: it goes on */
		d->resolved_now = rc == 0 ? 1 : -1;
		return;
	}
	if (rc)
		delivery_finish(d, 0, d->resolve_error);
	else
		connect_and_send(d, (const struct sockaddr *)&d->addr);
}

/* Connects to the checked address (never to the name again: what was
 * checked is what is reached) and sends the prepared request. */
static void connect_and_send(struct delivery *d, const struct sockaddr *sa)
{
	struct deliverer *dl = d->dl;
	char error[160] = "";
	char ip[64];
	const void *raw = sa->sa_family == AF_INET ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
						    : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
	netpolicy_format(sa->sa_family, raw, ip, sizeof ip);
	struct bufferevent *bev = NULL;
	if (d->https) {
		if (!dl->ssl)
			dl->ssl = ssl_ctx_new();  /* on first use: OpenSSL and the CA store cost megabytes */
		SSL *ssl = dl->ssl ? SSL_new(dl->ssl) : NULL;
		if (!ssl) {
			delivery_finish(d, 0, "TLS unavailable");
			return;
		}
		int family;
		unsigned char lit[16];
		if (netpolicy_parse_host(d->host, &family, lit)) {
			X509_VERIFY_PARAM_set1_ip(SSL_get0_param(ssl), lit, family == AF_INET ? 4 : 16);
		} else {
			SSL_set_tlsext_host_name(ssl, d->host);
			SSL_set1_host(ssl, d->host);
		}
		bev = bufferevent_openssl_socket_new(dl->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
						     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (!bev) {
			SSL_free(ssl);
			delivery_finish(d, 0, "TLS unavailable");
			return;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	}
	d->conn = evhttp_connection_base_bufferevent_new(dl->base, NULL, bev, ip, (unsigned short)d->port);
	if (!d->conn) {
		if (bev)
			bufferevent_free(bev);
		delivery_finish(d, 0, "cannot create a connection");
		return;
	}
	evhttp_connection_set_timeout(d->conn, WH_TIMEOUT_S);
	evhttp_connection_set_retries(d->conn, 0);
	evhttp_connection_set_max_body_size(d->conn, WH_MAX_RESPONSE);
	evhttp_connection_set_max_headers_size(d->conn, WH_MAX_RESPONSE);
	struct evhttp_request *req = d->req;
	d->req = NULL;  /* the connection owns it now */
	if (evhttp_make_request(d->conn, req, EVHTTP_REQ_POST, d->target) != 0) {
		evhttp_connection_free(d->conn);  /* frees the request with it */
		d->conn = NULL;
		snprintf(error, sizeof error, "cannot send the request");
		delivery_finish(d, 0, error);
		return;
	}
	evhttp_connection_free_on_completion(d->conn);
}

/* Starts one POST: builds and signs the request, checks the destination (a
 * literal or a local name at once, a name after looking it up), connects to
 * the checked address. Any failure is recorded as this attempt's outcome. */
static void delivery_start(struct deliverer *dl, struct delivery *d, const char *secret, const char *body,
			   size_t len)
{
	char error[200] = "";
	struct evhttp_uri *uri = evhttp_uri_parse_with_flags(d->url, 0);
	const char *scheme = uri ? evhttp_uri_get_scheme(uri) : NULL;
	const char *host = uri ? evhttp_uri_get_host(uri) : NULL;
	int https = scheme && !strcasecmp(scheme, "https");
	d->https = https;
	d->deadline = evtimer_new(dl->base, on_deadline, d);
	struct timeval tv = { WH_TIMEOUT_S, 500000 };
	evtimer_add(d->deadline, &tv);
	if (!scheme || !host || !*host || (!https && strcasecmp(scheme, "http"))) {
		snprintf(error, sizeof error, "bad url");
		goto fail;
	}
	/* "[::1]" -> "::1" */
	size_t hl = strlen(host);
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		d->host = xmalloc(hl - 1);
		memcpy(d->host, host + 1, hl - 2);
		d->host[hl - 2] = 0;
	} else {
		d->host = xstrdup(host);
	}
	int port = evhttp_uri_get_port(uri);
	int default_port = port < 0;
	d->port = port < 0 ? (https ? 443 : 80) : port;

	d->req = evhttp_request_new(on_response, d);
	evhttp_request_set_error_cb(d->req, on_request_error);
	char sig[160];
	if (webhooks_sign(secret, (long long)time(NULL), body, len, sig, sizeof sig)) {
		snprintf(error, sizeof error, "cannot sign");
		goto fail;
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(d->req);
	char hostport[300];
	if (strchr(d->host, ':'))
		snprintf(hostport, sizeof hostport, default_port ? "[%s]" : "[%s]:%d", d->host, d->port);
	else
		snprintf(hostport, sizeof hostport, default_port ? "%s" : "%s:%d", d->host, d->port);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "User-Agent", "plantrack-webhooks/" PLANTRACK_VERSION);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Connection", "close");
	evhttp_add_header(h, "X-Plantrack-Event", d->event_type);
	evhttp_add_header(h, "X-Plantrack-Delivery", d->id);
	evhttp_add_header(h, "X-Plantrack-Signature", sig);
	evbuffer_add(evhttp_request_get_output_buffer(d->req), body, len);
	const char *path = evhttp_uri_get_path(uri), *query = evhttp_uri_get_query(uri);
	size_t target_len = (path ? strlen(path) : 0) + (query ? strlen(query) : 0) + 3;
	d->target = xmalloc(target_len);
	snprintf(d->target, target_len, "%s%s%s", path && *path ? path : "/", query ? "?" : "", query ? query : "");
	evhttp_uri_free(uri);
	uri = NULL;

	/* The destination: a literal (in any spelling a resolver accepts) or a
	 * name that always means this machine is judged now; a name is looked up. */
	int family;
	unsigned char lit[16];
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	int literal = netpolicy_parse_host(d->host, &family, lit);
	if (!literal && netpolicy_is_local_name(d->host)) {
		family = AF_INET;
		lit[0] = 127, lit[1] = 0, lit[2] = 0, lit[3] = 1;
		literal = 1;
	}
	if (literal) {
		if (family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, lit, 4);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, lit, 16);
		}
		size_t nallow;
		struct netcidr *allow = allow_list(&nallow);
		int ok = netpolicy_allowed_sa(allow, nallow, (struct sockaddr *)&ss);
		free(allow);
		if (!ok) {
			char addr[64];
			netpolicy_format(family, lit, addr, sizeof addr);
			snprintf(error, sizeof error, "destination not allowed: %s is a %s address (see [webhooks] allow)",
				 addr, netpolicy_class_name(netpolicy_classify(family, lit)));
			goto fail;
		}
		connect_and_send(d, (struct sockaddr *)&ss);
		return;
	}
	struct evutil_addrinfo hints;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	d->starting = 1;
	struct evdns_getaddrinfo_request *q = dl->dns ? evdns_getaddrinfo(dl->dns, d->host, NULL, &hints, on_resolved, d)
						      : NULL;
	d->starting = 0;
	if (q) {
		d->dns = q;
		return;
	}
	if (d->resolved_now > 0) {
		connect_and_send(d, (struct sockaddr *)&d->addr);
		return;
	}
	snprintf(error, sizeof error, "%s", d->resolved_now < 0 ? d->resolve_error : "cannot resolve (no resolver)");

fail:
	if (uri)
		evhttp_uri_free(uri);
	delivery_finish(d, 0, error);
}

/* Deliveries of webhook_id in flight here (started), and waiting for a slot. */
static int webhook_inflight(struct deliverer *dl, const char *webhook_id)
{
	int n = 0;
	for (struct delivery *d = dl->head; d; d = d->next)
		n += !d->waiting && !strcmp(d->webhook_id, webhook_id);
	return n;
}

static int webhook_waiting(struct deliverer *dl, const char *webhook_id)
{
	int n = 0;
	for (struct delivery *d = dl->head; d; d = d->next)
		n += d->waiting && !strcmp(d->webhook_id, webhook_id);
	return n;
}

/* Gives a claimed delivery back, due again in a second (its lease ends). */
static void defer_delivery(struct deliverer *dl, const char *id)
{
	json_t *args = json_pack("{s:s,s:b,s:n,s:s,s:f,s:b}", "id", id, "ok", 0, "status", "error",
				 "deferred: the receiver has webhooks.per_receiver deliveries in flight", "retry_seconds", 1.0,
				 "deferred", 1);
	char *text = json_dumps(args, JSON_COMPACT);
	json_decref(args);
	const char *params[1] = { text };
	if (db_query(worker_db(dl->w), sql_stmt(SQL_DELIVERY_DONE), 1, params, on_done_recorded, dl) == DB_OK)
		dl->db_pending++;
	free(text);
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
	int n = PQntuples(res), started = 0;
	int per = config_current()->webhook_per_receiver;
	dl->more = 0;
	for (int i = 0; i < n; i++) {
		const char *wid = PQgetvalue(res, i, 1);
		int active = webhook_inflight(dl, wid), queued = webhook_waiting(dl, wid);
		if (active >= per && queued >= per) {
			/* One claim can bring more for a webhook than it may have in
			 * flight: one more round waits here, the rest come back in a
			 * second (well within their lease). */
			defer_delivery(dl, PQgetvalue(res, i, 0));
			continue;
		}
		started++;
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
		if (active >= per) {
			d->waiting = 1;
			d->secret = xstrdup(PQgetvalue(res, i, 3));
			d->body_len = (size_t)PQgetlength(res, i, 5);
			d->body = xmalloc(d->body_len + 1);
			memcpy(d->body, PQgetvalue(res, i, 5), d->body_len + 1);
			continue;
		}
		delivery_start(dl, d, PQgetvalue(res, i, 3), PQgetvalue(res, i, 5), (size_t)PQgetlength(res, i, 5));
	}
	/* A full batch: there may be more due; take them as slots free up. */
	dl->more = started > 0 && dl->inflight >= WH_MAX_INFLIGHT;
	if (started > 0 && dl->inflight < WH_MAX_INFLIGHT && !dl->claiming)
		claim(dl);
}

static void claim(struct deliverer *dl)
{
	if (dl->claiming || dl->stopping || dl->inflight >= WH_MAX_INFLIGHT)
		return;
	/* Webhooks at their in-flight share are left out of the claim. */
	const struct config *c = config_current();
	int per = c->webhook_per_receiver;
	json_t *skip = json_array();
	for (struct delivery *d = dl->head; d; d = d->next) {
		int seen = 0;
		for (struct delivery *e = dl->head; e != d && !seen; e = e->next)
			seen = !strcmp(e->webhook_id, d->webhook_id);
		if (!seen && webhook_inflight(dl, d->webhook_id) >= per)
			json_array_append_new(skip, json_string(d->webhook_id));
	}
	json_t *a = json_pack("{s:i,s:i,s:o}", "limit", WH_MAX_INFLIGHT - dl->inflight, "lease_seconds", WH_LEASE_S,
			      "skip_webhooks", skip);
	/* During [reminders] quiet_hours (in [clock] timezone) reminders wait:
	 * pt_deliveries_claim leaves their deliveries pending. */
	if (c->quiet_hours && *c->quiet_hours) {
		json_object_set_new(a, "quiet_hours", json_string(c->quiet_hours));
		json_object_set_new(a, "tz", json_string(c->timezone && *c->timezone ? c->timezone : "UTC"));
	}
	char *args = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	const char *params[1] = { args };
	if (db_query(worker_db(dl->w), sql_stmt(SQL_DELIVERIES_CLAIM), 1, params, on_claimed, dl) == DB_OK) {
		dl->claiming = 1;
		dl->db_pending++;
	}
	free(args);
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
