/*
 * connguard.c - connection accounting and request framing in front of evhttp
 * (see connguard.h).
 *
 * evhttp (libevent 2.1) reads a whole request body before it calls anyone
 * and counts nothing per client. Every accepted connection's socket
 * bufferevent is therefore made here (evhttp_set_bevcb) with a callback on
 * its input buffer: it runs as soon as bytes are read, before evhttp's read
 * callback, takes the new bytes back out, follows the framing (head,
 * Content-Length body, chunked body) and decides at each head whether the
 * request may bring its body. Judged bytes go back into the input for evhttp;
 * bytes not judged yet (a head not complete, a head waiting for its token)
 * wait in the connection's `held` buffer, which exists only then. A request
 * that may not bring its body is handed to evhttp as a body-less request
 * carrying X-Plantrack-Guard; the rest of the connection's input is discarded.
 * (One bufferevent per connection: a filter bufferevent in front of evhttp's
 * cost 1.2 kB more per idle connection.)
 *
 * The bufferevent callback runs inside evhttp's accept, before the connection
 * exists; an active event right after it (same loop pass) counts the new
 * connection against server.max_connections and its address's share, sets
 * the connection's close callback (which frees the guard's state) and closes
 * it when either limit is exceeded.
 */
#include "plantrack/connguard.h"
#include "plantrack/config.h"
#include "plantrack/roles.h"
#include "plantrack/log.h"
#include "plantrack/router.h"
#include "plantrack/xalloc.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define FIRST_LINE_MAX 8192          /* request line allowance on top of server.max_headers */
#define CHUNK_LINE_MAX 4096
#define PRESSURE_TIMEOUT_S 2
#define ADDR_BUCKETS 4096

static const struct router *g_router;
static int g_large_flag, g_upload_flag, g_role_mask;
static connguard_role_fn g_role;
static connguard_lookup_fn g_lookup;
static _Atomic int total_conns;
static _Atomic size_t buffered;
static _Atomic unsigned long long refused;

/* ---- per-address counts (all workers; taken at accept and close only) ---- */

struct addr_node {
	struct addr_node *next;
	unsigned char key[16];
	int count;
};

static pthread_mutex_t addr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct addr_node *addr_buckets[ADDR_BUCKETS];

static size_t addr_hash(const unsigned char *k)
{
	uint64_t h = 1469598103934665603ULL;
	for (int i = 0; i < 16; i++)
		h = (h ^ k[i]) * 1099511628211ULL;
	return (size_t)(h % ADDR_BUCKETS);
}

/* Adds delta to the address's count; returns the new count. */
static int addr_add(const unsigned char *key, int delta)
{
	size_t b = addr_hash(key);
	int n = 0;
	pthread_mutex_lock(&addr_lock);
	struct addr_node **pp = &addr_buckets[b];
	while (*pp && memcmp((*pp)->key, key, 16))
		pp = &(*pp)->next;
	if (!*pp && delta > 0) {
		struct addr_node *node = xcalloc(1, sizeof *node);
		memcpy(node->key, key, 16);
		*pp = node;
	}
	if (*pp) {
		(*pp)->count += delta;
		n = (*pp)->count;
		if (n <= 0) {
			struct addr_node *dead = *pp;
			*pp = dead->next;
			free(dead);
		}
	}
	pthread_mutex_unlock(&addr_lock);
	return n;
}

/* ---- the byte budget ---- */

static int budget_take(size_t n, size_t max)
{
	size_t cur = atomic_load(&buffered);
	do {
		if (cur + n > max || cur + n < cur)
			return 0;
	} while (!atomic_compare_exchange_weak(&buffered, &cur, cur + n));
	return 1;
}

static void budget_give(size_t n)
{
	if (n)
		atomic_fetch_sub(&buffered, n);
}

int connguard_connections(void) { return atomic_load(&total_conns); }
size_t connguard_buffered_bytes(void) { return atomic_load(&buffered); }
unsigned long long connguard_refused_total(void) { return atomic_load(&refused); }

/* ---- the head parser ---- */

static int ieq(const char *a, size_t alen, const char *b)
{
	size_t bl = strlen(b);
	return alen == bl && !strncasecmp(a, b, bl);
}

static void trim(const char **v, size_t *n)
{
	while (*n && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

int connguard_parse_head(const char *buf, size_t len, size_t max, struct connguard_head *out)
{
	memset(out, 0, sizeof *out);
	/* Find the end: an empty line (CRLF or LF line ends, as evhttp reads them). */
	size_t end = 0;
	int found = 0;
	for (size_t i = 0; i < len && i < max; i++) {
		if (buf[i] != '\n')
			continue;
		size_t next = i + 1;
		if (next < len && buf[next] == '\n') {
			end = next + 1;
			found = 1;
			break;
		}
		if (next + 1 < len && buf[next] == '\r' && buf[next + 1] == '\n') {
			end = next + 2;
			found = 1;
			break;
		}
	}
	if (!found)
		return len >= max ? -1 : 0;
	out->head_len = end;

	/* Request line: METHOD SP TARGET SP VERSION */
	const char *line = buf, *eol = memchr(buf, '\n', end);
	size_t ll = (size_t)(eol - line);
	if (ll && line[ll - 1] == '\r')
		ll--;
	const char *sp1 = memchr(line, ' ', ll);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', ll - (size_t)(sp1 + 1 - line)) : NULL;
	if (!sp1 || !sp2 || (size_t)(sp1 - line) >= sizeof out->method || (size_t)(sp2 - sp1 - 1) >= sizeof out->target) {
		out->error = "malformed request line";
		return 1;
	}
	memcpy(out->method, line, (size_t)(sp1 - line));
	memcpy(out->target, sp1 + 1, (size_t)(sp2 - sp1 - 1));

	int n_length = 0, n_te = 0, te_chunked = 0, bad_length = 0;
	unsigned long long length = 0;
	const char *p = eol + 1;
	while (p < buf + end) {
		const char *e = memchr(p, '\n', (size_t)(buf + end - p));
		size_t l = (size_t)(e - p);
		if (l && p[l - 1] == '\r')
			l--;
		if (l == 0)
			break;
		const char *colon = memchr(p, ':', l);
		if (colon) {
			size_t nl = (size_t)(colon - p);
			const char *v = colon + 1;
			size_t vl = l - nl - 1;
			trim(&v, &vl);
			if (ieq(p, nl, "Content-Length")) {
				n_length++;
				unsigned long long x = 0;
				if (vl == 0 || vl > 19)
					bad_length = 1;
				for (size_t i = 0; i < vl; i++) {
					if (v[i] < '0' || v[i] > '9') {
						bad_length = 1;
						break;
					}
					x = x * 10 + (unsigned long long)(v[i] - '0');
				}
				length = x;
			} else if (ieq(p, nl, "Transfer-Encoding")) {
				n_te++;
				te_chunked = ieq(v, vl, "chunked");
			} else if (ieq(p, nl, "Expect")) {
				out->expect_continue = ieq(v, vl, "100-continue");
			} else if (ieq(p, nl, "Authorization")) {
				if (vl < sizeof out->authorization)
					memcpy(out->authorization, v, vl);
			} else if (ieq(p, nl, CONNGUARD_HEADER)) {
				out->error = "X-Plantrack-Guard is the server's own header";
			}
		}
		p = e + 1;
	}
	if (out->error)
		return 1;
	if (n_length > 1)
		out->error = "more than one Content-Length header";
	else if (n_length && n_te)
		out->error = "Transfer-Encoding and Content-Length together";
	else if (n_te > 1 || (n_te && !te_chunked))
		out->error = "only Transfer-Encoding: chunked is supported";
	else if (bad_length)
		out->error = "Content-Length is not a number";
	else if ((!strcmp(out->method, "HEAD") || !strcmp(out->method, "TRACE")) && (n_te || (n_length && length)))
		out->error = "a HEAD request has no body";
	if (out->error)
		return 1;
	if (n_te) {
		out->framing = CG_CHUNKED;
	} else if (n_length && length > 0) {
		out->framing = CG_LENGTH;
		out->length = length;
	}
	return 1;
}

/* ---- connections ---- */

enum gstate { G_HEAD, G_AUTH_WAIT, G_BODY, G_SKIP, G_CHUNK_SIZE, G_CHUNK_DATA, G_CHUNK_CRLF, G_TRAILER, G_PASS, G_DISCARD };

/* One per connection, kept small (64 bytes): 10,000 idle connections hold
 * 10,000. Found from the bufferevent through the guard's table. */
struct gconn {
	struct connguard *g;
	struct bufferevent *bev;         /* evhttp's; NULL once the connection is gone */
	struct evbuffer *held;           /* bytes not judged yet; NULL when none */
	unsigned long long remaining;
	size_t reserved;                 /* budget bytes of the current request */
	unsigned char key[16];
	unsigned char state;             /* enum gstate */
	signed char lookup_role;         /* what the lookup gave */
	unsigned on_pending : 1, counted : 1, counted_addr : 1;
	unsigned lookup_pending : 1, dead : 1; /* a token lookup holds this; the connection is gone */
	unsigned looked_up : 1;          /* the waiting head's token was looked up already */
	unsigned idle : 1;               /* between requests */
	unsigned busy : 1;               /* dispatched, its reply not written yet */
	unsigned judging : 1;            /* in on_input (its own moves call it again) */
};
_Static_assert(sizeof(struct gconn) <= 64, "struct gconn grew beyond 64 bytes");

struct connguard {
	struct event_base *base;
	struct evhttp *http;
	void *worker;
	int index;
	struct gconn **pending;          /* accepted, not counted yet */
	size_t npending, pending_cap;
	struct event *accept_ev;
	struct evbuffer *scratch, *tail; /* empty between callbacks */
	/* every connection, by its bufferevent (open addressing, at most 3/4 full) */
	struct gconn **map;
	size_t map_cap, map_n;
	uint64_t last_warn_s;
};

static size_t ptr_hash(const void *p, size_t cap)
{
	uintptr_t v = (uintptr_t)p;
	v ^= v >> 17;
	v *= 0x9E3779B97F4A7C15ULL;
	return (size_t)(v >> 32) & (cap - 1);
}

static void map_put(struct connguard *g, struct gconn *c);
static void judge_held(struct gconn *c);
static void on_input(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg);

static void map_grow(struct connguard *g)
{
	size_t old_cap = g->map_cap;
	struct gconn **old = g->map;
	g->map_cap = old_cap ? old_cap * 2 : 256;
	g->map = xcalloc(g->map_cap, sizeof *g->map);
	g->map_n = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			map_put(g, old[i]);
	free(old);
}

static void map_put(struct connguard *g, struct gconn *c)
{
	if ((g->map_n + 1) * 4 > g->map_cap * 3)
		map_grow(g);
	size_t i = ptr_hash(c->bev, g->map_cap);
	while (g->map[i] && g->map[i] != c)
		i = (i + 1) & (g->map_cap - 1);
	if (!g->map[i])
		g->map_n++;
	g->map[i] = c;
}

static struct gconn *map_get(struct connguard *g, struct bufferevent *k)
{
	if (!g->map_cap)
		return NULL;
	size_t i = ptr_hash(k, g->map_cap);
	while (g->map[i]) {
		if (g->map[i]->bev == k)
			return g->map[i];
		i = (i + 1) & (g->map_cap - 1);
	}
	return NULL;
}

/* Removes c (its bev still set), shifting back the entries after it. */
static void map_del(struct connguard *g, struct gconn *c)
{
	if (!g->map_cap)
		return;
	size_t mask = g->map_cap - 1, i = ptr_hash(c->bev, g->map_cap);
	while (g->map[i] != c) {
		if (!g->map[i])
			return;
		i = (i + 1) & mask;
	}
	g->map[i] = NULL;
	g->map_n--;
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!g->map[j])
			return;
		size_t home = ptr_hash(g->map[j]->bev, g->map_cap);
		int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!between) {
			g->map[i] = g->map[j];
			g->map[j] = NULL;
			i = j;
		}
	}
}

static struct evhttp_connection *conn_evcon(struct gconn *c)
{
	void *arg = NULL;
	if (c->bev)
		bufferevent_getcb(c->bev, NULL, NULL, NULL, &arg);
	return arg;
}

static void pending_add(struct connguard *g, struct gconn *c)
{
	if (g->npending == g->pending_cap) {
		g->pending_cap = g->pending_cap ? g->pending_cap * 2 : 16;
		g->pending = xrealloc(g->pending, g->pending_cap * sizeof *g->pending);
	}
	g->pending[g->npending++] = c;
	c->on_pending = 1;
}

static void pending_remove(struct connguard *g, struct gconn *c)
{
	for (size_t i = 0; i < g->npending; i++)
		if (g->pending[i] == c) {
			g->pending[i] = g->pending[--g->npending];
			break;
		}
	c->on_pending = 0;
}

static void gconn_release(struct gconn *c)
{
	budget_give(c->reserved);
	c->reserved = 0;
	if (c->counted) {
		atomic_fetch_sub(&total_conns, 1);
		c->counted = 0;
	}
	if (c->counted_addr) {
		addr_add(c->key, -1);
		c->counted_addr = 0;
	}
}

/* evhttp is freeing the connection (its close callback; the bufferevent
 * still exists). */
static void gconn_free(struct evhttp_connection *evcon, void *arg)
{
	struct gconn *c = arg;
	struct connguard *g = c->g;
	gconn_release(c);
	if (c->on_pending)
		pending_remove(g, c);
	map_del(g, c);
	evbuffer_remove_cb(bufferevent_get_input(c->bev), on_input, c);
	if (c->held)
		evbuffer_free(c->held);
	c->held = NULL;
	c->bev = NULL;
	if (c->lookup_pending)
		c->dead = 1;  /* the lookup's callback frees it */
	else
		free(c);
}

static int timeout_for(const struct config *cfg)
{
	int n = atomic_load(&total_conns);
	if (n * 4 > cfg->max_connections * 3)
		return PRESSURE_TIMEOUT_S < cfg->keepalive_timeout ? PRESSURE_TIMEOUT_S : cfg->keepalive_timeout;
	return cfg->keepalive_timeout;
}

/* At most one line a second per worker. */
static void warn_limited(struct connguard *g, const char *addr, const char *setting, int n)
{
	uint64_t now = (uint64_t)time(NULL);
	if (now == g->last_warn_s)
		return;
	g->last_warn_s = now;
	log_warn("connection from %s refused: %s (%d) reached (refused so far: %llu)", addr, setting, n,
		 (unsigned long long)atomic_load(&refused));
}

static void key_of(int fd, unsigned char key[16], char *text, size_t textlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	memset(key, 0, 16);
	snprintf(text, textlen, "?");
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl))
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &s4->sin_addr, 4);
		inet_ntop(AF_INET, &s4->sin_addr, text, (socklen_t)textlen);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
		memcpy(key, &s6->sin6_addr, 16);
		inet_ntop(AF_INET6, &s6->sin6_addr, text, (socklen_t)textlen);
	}
}

/* Runs right after evhttp's accept callback: counts and maybe refuses. */
static void on_accepted(evutil_socket_t fd_unused, short what, void *arg)
{
	struct connguard *g = arg;
	const struct config *cfg = config_current();
	while (g->npending) {
		struct gconn *c = g->pending[--g->npending];
		c->on_pending = 0;
		struct evhttp_connection *evcon = conn_evcon(c);
		if (!evcon)
			continue;
		evhttp_connection_set_closecb(evcon, gconn_free, c);
		char addr[64];
		key_of(bufferevent_getfd(c->bev), c->key, addr, sizeof addr);
		int total = atomic_fetch_add(&total_conns, 1) + 1;
		c->counted = 1;
		int per = addr_add(c->key, 1);
		c->counted_addr = 1;
		if (total > cfg->max_connections) {
			atomic_fetch_add(&refused, 1);
			warn_limited(g, addr, "server.max_connections", cfg->max_connections);
			evhttp_connection_free(evcon);
			continue;
		}
		if (cfg->max_connections_per_address > 0 && per > cfg->max_connections_per_address) {
			atomic_fetch_add(&refused, 1);
			warn_limited(g, addr, "server.max_connections_per_address", cfg->max_connections_per_address);
			evhttp_connection_free(evcon);
			continue;
		}
		c->idle = 1;
		evhttp_connection_set_timeout(evcon, timeout_for(cfg));
		/* Under pressure, the idle connections already open get the short timeout too. */
		if (total * 4 > cfg->max_connections * 3 && (total - 1) * 4 <= cfg->max_connections * 3) {
			for (size_t i = 0; i < g->map_cap; i++) {
				struct gconn *o = g->map[i];
				struct evhttp_connection *oc = o && o->idle && o != c ? conn_evcon(o) : NULL;
				if (oc)
					evhttp_connection_set_timeout(oc, timeout_for(cfg));
			}
		}
	}
}

/* ---- judging the input ---- */

/* Writes a body-less request carrying the verdict, in place of the head. */
static void emit_refusal(struct gconn *c, struct evbuffer *dst, const char *head, size_t head_len,
			 const struct connguard_head *h, int status, int retry_after, const char *detail)
{
	const char *eol = memchr(head, '\n', head_len);
	const char *p = eol ? eol + 1 : head + head_len;
	const char *method = h->method[0] ? h->method : "GET";
	const char *target = h->target[0] == '/' ? h->target : "/";
	evbuffer_add_printf(dst, "%s %s HTTP/1.1\r\n", method, target);
	while (p < head + head_len) {
		const char *e = memchr(p, '\n', (size_t)(head + head_len - p));
		if (!e)
			break;
		size_t l = (size_t)(e - p);
		size_t ll = l && p[l - 1] == '\r' ? l - 1 : l;
		const char *colon = memchr(p, ':', ll);
		size_t nl = colon ? (size_t)(colon - p) : 0;
		if (ll && colon && !ieq(p, nl, "Content-Length") && !ieq(p, nl, "Transfer-Encoding") &&
		    !ieq(p, nl, "Expect") && !ieq(p, nl, "Connection") && !ieq(p, nl, CONNGUARD_HEADER)) {
			evbuffer_add(dst, p, ll);
			evbuffer_add(dst, "\r\n", 2);
		}
		p = e + 1;
	}
	/* A body of known length is read and dropped, keeping the connection;
	 * anything else (broken framing, a client waiting for 100 Continue, a
	 * chunked body) ends it. */
	int keep = !h->error && h->framing != CG_CHUNKED && !h->expect_continue;
	evbuffer_add_printf(dst, "Content-Length: 0\r\n%s%s: %d %d %d %s\r\n\r\n", keep ? "" : "Connection: close\r\n",
			    CONNGUARD_HEADER, status, retry_after, !keep, detail);
	if (keep && h->framing == CG_LENGTH) {
		c->state = G_SKIP;
		c->remaining = h->length;
	} else {
		c->state = keep ? G_HEAD : G_DISCARD;
	}
}

static void on_lookup_done(void *arg, int role)
{
	struct gconn *c = arg;
	c->lookup_pending = 0;
	if (c->dead) {
		free(c);
		return;
	}
	c->looked_up = 1;
	c->lookup_role = role;
	if (c->state == G_AUTH_WAIT)
		c->state = G_HEAD;
	if (c->bev)
		judge_held(c);  /* may free c */
}

/* 1 when "Bearer X": X into tok. */
static int bearer(const char *auth, char *tok, size_t toklen)
{
	if (strncasecmp(auth, "Bearer ", 7))
		return 0;
	const char *t = auth + 7;
	while (*t == ' ')
		t++;
	size_t n = strlen(t);
	if (!n || n >= toklen)
		return 0;
	memcpy(tok, t, n + 1);
	return 1;
}

enum { HEAD_NEED_MORE = 0, HEAD_DONE = 1, HEAD_WAIT = 2 };

static int route_flags_for(const char *method, const char *target, int *found)
{
	int bit = !strcmp(method, "GET") ? RM_GET : !strcmp(method, "POST") ? RM_POST : !strcmp(method, "PUT") ? RM_PUT
		: !strcmp(method, "PATCH") ? RM_PATCH : !strcmp(method, "DELETE") ? RM_DELETE
		: !strcmp(method, "HEAD") ? RM_HEAD : !strcmp(method, "OPTIONS") ? RM_OPTIONS : 0;
	*found = 0;
	if (!bit || !g_router)
		return 0;
	char path[sizeof ((struct connguard_head *)0)->target];
	size_t n = strcspn(target, "?#");
	if (n >= sizeof path)
		return 0;
	memcpy(path, target, n);
	path[n] = 0;
	size_t dlen = 0;
	char *decoded = evhttp_uridecode(path, 0, &dlen);
	if (!decoded)
		return 0;
	struct route_match m;
	char allow[96];
	int flags = 0;
	if (router_match(g_router, bit, decoded, &m, allow, sizeof allow) == ROUTER_FOUND) {
		*found = 1;
		flags = m.route->flags;
	}
	free(decoded);
	return flags;
}

static int head_step(struct gconn *c, struct evbuffer *src, struct evbuffer *dst)
{
	const struct config *cfg = config_current();
	size_t max = cfg->max_headers + FIRST_LINE_MAX;
	size_t avail = evbuffer_get_length(src);
	size_t look = avail < max ? avail : max;
	const char *buf = (const char *)evbuffer_pullup(src, (ev_ssize_t)look);
	struct connguard_head h;
	int rc = connguard_parse_head(buf, look, max, &h);
	if (rc == 0)
		return HEAD_NEED_MORE;
	if (rc < 0) {  /* headers beyond the limit: evhttp refuses them itself */
		c->state = G_PASS;
		return HEAD_DONE;
	}
	c->idle = 0;
	struct evhttp_connection *evcon = conn_evcon(c);
	budget_give(c->reserved);  /* the previous request is long answered */
	c->reserved = 0;
	char detail[200];
	int status = 0, retry = 0;
	size_t limit = cfg->max_body;
	if (h.error) {
		status = 400;
		snprintf(detail, sizeof detail, "%s", h.error);
	} else if (h.framing != CG_NO_BODY) {
		int found, flags = route_flags_for(h.method, h.target, &found);
		/* the route's own limit (imports: server.max_import_body, uploads:
		 * attachments.max_size) only for a known token with the route's role */
		size_t own = (flags & g_upload_flag) ? cfg->max_attachment : cfg->max_import_body;
		if (found && (flags & (g_large_flag | g_upload_flag)) && h.framing == CG_LENGTH &&
		    h.length > cfg->max_body && own > cfg->max_body) {
			char tok[300];
			int floor = flags & g_role_mask;
			if (!h.authorization[0] || !bearer(h.authorization, tok, sizeof tok)) {
				status = 401;
				snprintf(detail, sizeof detail, "a body above %zu bytes needs a valid token first", cfg->max_body);
			} else {
				int role = g_role ? g_role(c->g->worker, tok) : 0;
				if (role == 0 && c->looked_up)
					role = c->lookup_role;
				if (role == 0 && !c->looked_up && g_lookup && !c->lookup_pending) {
					c->lookup_pending = 1;
					c->state = G_AUTH_WAIT;
					if (g_lookup(c->g->worker, tok, on_lookup_done, c) == 0) {
						/* nothing more is read from this client until its token is known */
						bufferevent_disable(c->bev, EV_READ);
						return HEAD_WAIT;
					}
					c->lookup_pending = 0;
					c->state = G_HEAD;
				}
				if (role == 0 && c->lookup_pending) {
					c->state = G_AUTH_WAIT;
					return HEAD_WAIT;
				}
				c->looked_up = 0;
				if (role <= 0) {
					status = role < 0 ? 401 : 503;
					retry = role < 0 ? 0 : 1;
					snprintf(detail, sizeof detail, role < 0 ? "the token is not valid"
									       : "the token could not be checked; retry");
				} else if (role < floor) {
					status = 403;
					snprintf(detail, sizeof detail, "this needs the %s role", role_name((enum role)floor));
				} else {
					limit = own;
				}
			}
		}
		if (!status && h.framing == CG_LENGTH && h.length > limit) {
			status = 413;
			snprintf(detail, sizeof detail, "the body is %llu bytes; the limit for this request is %zu",
				 h.length, limit);
		}
		if (!status) {
			size_t want = h.framing == CG_LENGTH ? (size_t)h.length : cfg->max_body;
			if (!budget_take(want, cfg->max_buffered)) {
				status = 503;
				retry = 2;
				snprintf(detail, sizeof detail, "too many request bodies are being received; retry");
			} else {
				c->reserved = want;
			}
		}
	}
	if (status) {
		emit_refusal(c, dst, buf, h.head_len, &h, status, retry, detail);
		evbuffer_drain(src, h.head_len);
		return HEAD_DONE;
	}
	if (evcon) {
		evhttp_connection_set_max_body_size(evcon, (ev_ssize_t)limit);
		int t = cfg->read_timeout > cfg->write_timeout ? cfg->read_timeout : cfg->write_timeout;
		evhttp_connection_set_timeout(evcon, t);
	}
	evbuffer_remove_buffer(src, dst, h.head_len);
	if (h.framing == CG_LENGTH) {
		c->state = G_BODY;
		c->remaining = h.length;
	} else if (h.framing == CG_CHUNKED) {
		c->state = G_CHUNK_SIZE;
	} else {
		c->state = G_HEAD;
	}
	return HEAD_DONE;
}

/* Moves one line (through its LF) from src to dst; its text without the line
 * end (CRLF or LF) into copy (truncated), its length in *linelen.
 * 1 moved, 0 incomplete, -1 too long. */
static int move_line(struct evbuffer *src, struct evbuffer *dst, char *copy, size_t copylen, size_t *linelen)
{
	struct evbuffer_ptr lf = evbuffer_search(src, "\n", 1, NULL);
	if (lf.pos < 0)
		return evbuffer_get_length(src) > CHUNK_LINE_MAX ? -1 : 0;
	if ((size_t)lf.pos > CHUNK_LINE_MAX)
		return -1;
	size_t l = (size_t)lf.pos;
	size_t n = l < copylen - 1 ? l : copylen - 1;
	evbuffer_copyout(src, copy, n);
	copy[n] = 0;
	if (l && n == l && copy[l - 1] == '\r')
		copy[--l] = 0;
	evbuffer_remove_buffer(src, dst, (size_t)lf.pos + 1);
	*linelen = l;
	return 1;
}

/* Judges what it can of src, moving it to dst (evhttp's input). */
static void judge(struct gconn *c, struct evbuffer *src, struct evbuffer *dst)
{
	for (;;) {
		size_t avail = evbuffer_get_length(src);
		if (!avail)
			break;
		switch (c->state) {
		case G_DISCARD:
			evbuffer_drain(src, avail);
			break;
		case G_PASS:
			evbuffer_remove_buffer(src, dst, avail);
			break;
		case G_AUTH_WAIT:
			return;
		case G_HEAD: {
			int rc = head_step(c, src, dst);
			if (rc != HEAD_DONE)
				return;
			break;
		}
		case G_SKIP: {
			size_t n = avail < c->remaining ? avail : (size_t)c->remaining;
			evbuffer_drain(src, n);
			c->remaining -= n;
			if (!c->remaining)
				c->state = G_HEAD;
			break;
		}
		case G_BODY: {
			size_t n = avail < c->remaining ? avail : (size_t)c->remaining;
			evbuffer_remove_buffer(src, dst, n);
			c->remaining -= n;
			if (!c->remaining)
				c->state = G_HEAD;
			break;
		}
		case G_CHUNK_DATA: {
			size_t n = avail < c->remaining ? avail : (size_t)c->remaining;
			evbuffer_remove_buffer(src, dst, n);
			c->remaining -= n;
			if (!c->remaining)
				c->state = G_CHUNK_CRLF;
			break;
		}
		case G_CHUNK_SIZE:
		case G_CHUNK_CRLF:
		case G_TRAILER: {
			char line[64];
			size_t l;
			int rc = move_line(src, dst, line, sizeof line, &l);
			if (rc < 0) {
				c->state = G_PASS;  /* evhttp rejects the malformed chunk itself */
					break;
			}
			if (rc == 0)
				return;
			if (c->state == G_CHUNK_CRLF) {
				c->state = G_CHUNK_SIZE;
			} else if (c->state == G_TRAILER) {
				if (l == 0)
					c->state = G_HEAD;
			} else {
				char *end;
				unsigned long long size = strtoull(line, &end, 16);
				if (end == line) {
					c->state = G_PASS;
				} else if (size == 0) {
					c->state = G_TRAILER;
				} else {
					c->remaining = size;
					c->state = G_CHUNK_DATA;
				}
			}
			break;
		}
		}
	}
}

/* Frees the held buffer once it is empty. */
static void held_tidy(struct gconn *c)
{
	if (c->held && !evbuffer_get_length(c->held)) {
		evbuffer_free(c->held);
		c->held = NULL;
	}
}

/* Keeps what judge left in src (the guard's scratch) in the held buffer. */
static void hold_rest(struct gconn *c, struct evbuffer *src)
{
	if (src == c->held || !evbuffer_get_length(src))
		return;
	c->held = evbuffer_new();
	evbuffer_add_buffer(c->held, src);
}

/* Bytes were read into evhttp's input (this runs before evhttp's read
 * callback): the new ones, at the input's end, are taken out and judged. */
static void on_input(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
	struct gconn *c = arg;
	if (c->judging || !info->n_added)
		return;
	struct connguard *g = c->g;
	size_t len = evbuffer_get_length(in);
	size_t fresh = info->n_added < len ? info->n_added : len;
	struct evbuffer *src = c->held ? c->held : g->scratch;
	c->judging = 1;
	if (fresh == len) {
		evbuffer_add_buffer(src, in);
	} else {  /* judged bytes evhttp has not read yet stay in front */
		evbuffer_remove_buffer(in, g->tail, len);
		evbuffer_remove_buffer(g->tail, in, len - fresh);
		evbuffer_add_buffer(src, g->tail);
	}
	judge(c, src, in);
	hold_rest(c, src);
	held_tidy(c);
	if (c->state == G_AUTH_WAIT)  /* evhttp re-enabled reading; one read's worth at most */
		bufferevent_disable(c->bev, EV_READ);
	c->judging = 0;
}

/* A token lookup ended: the held bytes are judged into evhttp's input and,
 * unless evhttp is busy with a request (it reads again when that reply is
 * written), evhttp reads them now. May free c. */
static void judge_held(struct gconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	if (c->held) {
		c->judging = 1;
		evbuffer_unfreeze(in, 0);
		judge(c, c->held, in);
		evbuffer_freeze(in, 0);
		c->judging = 0;
		held_tidy(c);
	}
	if (c->state == G_AUTH_WAIT || c->busy)
		return;
	bufferevent_enable(c->bev, EV_READ);
	if (evbuffer_get_length(in))
		bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
}

/* ---- evhttp hooks ---- */

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	struct connguard *g = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		/* evhttp tries its own bufferevent then; this connection goes unguarded */
		log_error("connguard: cannot make a bufferevent");
		return NULL;
	}
	struct gconn *c = xcalloc(1, sizeof *c);
	evbuffer_add_cb(bufferevent_get_input(bev), on_input, c);
	c->g = g;
	c->bev = bev;
	c->state = G_HEAD;
	pending_add(g, c);
	map_put(g, c);
	event_active(g->accept_ev, EV_TIMEOUT, 0);
	return bev;
}

void connguard_init(const struct router *router, int large_flag, int upload_flag, int role_mask,
		    connguard_role_fn role, connguard_lookup_fn lookup)
{
	g_router = router;
	g_large_flag = large_flag;
	g_upload_flag = upload_flag;
	g_role_mask = role_mask;
	g_role = role;
	g_lookup = lookup;
}

struct connguard *connguard_new(struct event_base *base, struct evhttp *http, void *worker, int index)
{
	struct connguard *g = xcalloc(1, sizeof *g);
	g->base = base;
	g->http = http;
	g->worker = worker;
	g->index = index;
	g->accept_ev = event_new(base, -1, 0, on_accepted, g);
	g->scratch = evbuffer_new();
	g->tail = evbuffer_new();
	map_grow(g);
	evhttp_set_bevcb(http, make_bev, g);
	return g;
}

void connguard_free(struct connguard *g)
{
	if (!g)
		return;
	/* evhttp_free freed every connection, and with them every gconn but
	 * those a token lookup still holds (dead, freed by its callback). */
	event_free(g->accept_ev);
	evbuffer_free(g->scratch);
	evbuffer_free(g->tail);
	free(g->map);
	free(g->pending);
	free(g);
}

int connguard_verdict(struct evhttp_request *ev, char *detail, size_t len, int *retry_after, int *close)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(ev);
	const char *v = evhttp_find_header(in, CONNGUARD_HEADER);
	*retry_after = 0;
	*close = 0;
	if (!v)
		return 0;
	int status = 0, retry = 0, cl = 1, off = 0;
	if (sscanf(v, "%d %d %d %n", &status, &retry, &cl, &off) < 3 || status < 400 || status > 599)
		status = 400, retry = 0, cl = 1, off = (int)strlen(v);
	snprintf(detail, len, "%s", v + off);
	*retry_after = retry;
	*close = cl;
	evhttp_remove_header(in, CONNGUARD_HEADER);
	return status;
}

static struct gconn *gconn_of(struct connguard *g, struct evhttp_request *ev)
{
	struct evhttp_connection *evcon = ev ? evhttp_request_get_connection(ev) : NULL;
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	return g && bev ? map_get(g, bev) : NULL;
}

void connguard_request_begin(struct connguard *g, struct evhttp_request *ev)
{
	struct gconn *c = gconn_of(g, ev);
	if (c)
		c->busy = 1;
}

/* evhttp wrote the reply; it reads the connection's next request next
 * (and at once when its bytes wait in the input). */
static void on_reply_written(struct evhttp_request *ev, void *arg)
{
	struct gconn *c = arg;
	c->busy = 0;
}

void connguard_request_done(struct connguard *g, struct evhttp_request *ev)
{
	struct gconn *c = gconn_of(g, ev);
	if (!c)
		return;
	budget_give(c->reserved);
	c->reserved = 0;
	c->idle = 1;
	evhttp_connection_set_timeout(evhttp_request_get_connection(ev), timeout_for(config_current()));
	evhttp_request_set_on_complete_cb(ev, on_reply_written, c);
}
