/*
 * auth.c - bearer token resolution and role checks (see auth.h).
 *
 * Hot path: SHA-256 of the presented token, then a lookup in this worker's
 * direct-mapped cache; only a miss costs a database round trip.
 */
#include "plantrack/auth.h"
#include "plantrack/http.h"
#include "plantrack/hash.h"
#include "plantrack/config.h"
#include "plantrack/db.h"
#include "plantrack/log.h"
#include "plantrack/worker.h"
#include "plantrack/xalloc.h"

#include <sys/random.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CACHE_SLOTS 1024

struct cache_entry {
	char hash[65];
	uint64_t expires_ns;
	struct token_info info;
};

struct auth_cache {
	struct cache_entry slots[CACHE_SLOTS];
};

struct pending_auth {
	enum role floor;
	handler_fn next;
	char hash[65];
};

static void cache_free(struct worker *w)
{
	free(worker_get_slot(w, SLOT_AUTH));
	worker_set_slot(w, SLOT_AUTH, NULL);
}

void auth_init(void)
{
	worker_on(WORKER_HOOK_STOP, cache_free);
}

char *auth_token_generate(void)
{
	unsigned char raw[32];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return NULL;
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = xmalloc(3 + 43 + 1);
	memcpy(out, "pt_", 3);
	size_t o = 3;
	unsigned int acc = 0;
	int bits = 0;
	for (size_t i = 0; i < sizeof raw; i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 6) {
			out[o++] = alphabet[(acc >> (bits - 6)) & 63];
			bits -= 6;
		}
	}
	if (bits)
		out[o++] = alphabet[(acc << (6 - bits)) & 63];
	out[o] = 0;
	return out;
}

static struct auth_cache *cache_of(struct worker *w)
{
	struct auth_cache *c = worker_get_slot(w, SLOT_AUTH);
	if (!c) {
		c = xcalloc(1, sizeof *c);
		worker_set_slot(w, SLOT_AUTH, c);
	}
	return c;
}

void auth_cache_clear(struct worker *w)
{
	struct auth_cache *c = worker_get_slot(w, SLOT_AUTH);
	if (c)
		memset(c, 0, sizeof *c);
}

static struct cache_entry *cache_slot(struct auth_cache *c, const char *hash)
{
	unsigned long idx = strtoul((char[]){ hash[0], hash[1], hash[2], hash[3], 0 }, NULL, 16);
	return &c->slots[idx % CACHE_SLOTS];
}

static void check_role(struct req *r, enum role floor, handler_fn next)
{
	if (r->tok.role < floor) {
		char detail[128];
		snprintf(detail, sizeof detail, "this needs the %s role; the token has %s",
			 role_name(floor), role_name(r->tok.role));
		http_reply_problem_args(r, 403, "forbidden", "Forbidden", detail, NULL, "role",
					json_pack("{s:s,s:s}", "role", role_name(floor), "have", role_name(r->tok.role)));
		return;
	}
	next(r);
}

/* rule: why (i18n.h: missing, scheme, malformed, unknown). */
static void unauthorized(struct req *r, const char *rule, const char *detail)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "WWW-Authenticate", "Bearer realm=\"plantrack\"");
	http_reply_problem_args(r, 401, "unauthorized", "Unauthorized", detail, NULL, rule, NULL);
}

static void on_lookup(struct req *r, PGresult *res)
{
	struct pending_auth *pa = r->handler_data;
	r->handler_data = NULL;
	enum role floor = pa->floor;
	handler_fn next = pa->next;
	char hash[65];
	memcpy(hash, pa->hash, sizeof hash);
	free(pa);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		http_reply_db_error(r, res);
		return;
	}
	if (PQntuples(res) != 1) {
		unauthorized(r, "unknown", "unknown or revoked token");
		return;
	}
	snprintf(r->tok.id, sizeof r->tok.id, "%s", PQgetvalue(res, 0, 0));
	snprintf(r->tok.name, sizeof r->tok.name, "%s", PQgetvalue(res, 0, 1));
	r->tok.role = role_parse(PQgetvalue(res, 0, 2));
	snprintf(r->tok.unit_id, sizeof r->tok.unit_id, "%s", PQgetvalue(res, 0, 3));
	int ttl = config_current()->token_cache_ttl;
	if (ttl > 0) {
		struct cache_entry *e = cache_slot(cache_of(r->w), hash);
		memcpy(e->hash, hash, sizeof e->hash);
		e->info = r->tok;
		e->expires_ns = pt_now_ns() + (uint64_t)ttl * 1000000000ULL;
	}
	check_role(r, floor, next);
}

int auth_cached_role(void *worker, const char *token)
{
	struct auth_cache *c = worker_get_slot(worker, SLOT_AUTH);
	size_t len = strlen(token);
	if (!c || len == 0 || len > 256)
		return 0;
	char hash[65];
	pt_sha256_hex(token, len, hash);
	struct cache_entry *e = cache_slot(c, hash);
	if (e->expires_ns > pt_now_ns() && !memcmp(e->hash, hash, 64))
		return (int)e->info.role;
	return 0;
}

struct prefetch {
	struct worker *w;
	void (*done)(void *arg, int role);
	void *arg;
	char hash[65];
};

static void on_prefetched(PGresult *res, void *arg)
{
	struct prefetch *pf = arg;
	int role = 0;
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
		if (PQntuples(res) != 1) {
			role = -1;
		} else {
			struct token_info info;
			memset(&info, 0, sizeof info);
			snprintf(info.id, sizeof info.id, "%s", PQgetvalue(res, 0, 0));
			snprintf(info.name, sizeof info.name, "%s", PQgetvalue(res, 0, 1));
			info.role = role_parse(PQgetvalue(res, 0, 2));
			snprintf(info.unit_id, sizeof info.unit_id, "%s", PQgetvalue(res, 0, 3));
			role = info.role > 0 ? (int)info.role : -1;
			int ttl = config_current()->token_cache_ttl;
			if (ttl > 0 && role > 0) {
				struct cache_entry *e = cache_slot(cache_of(pf->w), pf->hash);
				memcpy(e->hash, pf->hash, sizeof e->hash);
				e->info = info;
				e->expires_ns = pt_now_ns() + (uint64_t)ttl * 1000000000ULL;
			}
		}
	}
	pf->done(pf->arg, role);
	free(pf);
}

int auth_prefetch(void *worker, const char *token, void (*done)(void *arg, int role), void *arg)
{
	size_t len = strlen(token);
	if (len == 0 || len > 256)
		return -1;
	struct prefetch *pf = xcalloc(1, sizeof *pf);
	pf->w = worker;
	pf->done = done;
	pf->arg = arg;
	pt_sha256_hex(token, len, pf->hash);
	const char *params[1] = { pf->hash };
	if (db_query(worker_db(worker), sql_stmt(SQL_TOKEN_LOOKUP), 1, params, on_prefetched, pf) != DB_OK) {
		free(pf);
		return -1;
	}
	return 0;
}

void auth_authenticate(struct req *r, enum role floor, handler_fn next)
{
	const char *h = http_header(r, "Authorization");
	if (!h) {
		unauthorized(r, "missing", "send Authorization: Bearer TOKEN");
		return;
	}
	if (strncasecmp(h, "Bearer ", 7) || !h[7]) {
		unauthorized(r, "scheme", "the Authorization header must be Bearer TOKEN");
		return;
	}
	const char *token = h + 7;
	while (*token == ' ')
		token++;
	size_t len = strlen(token);
	if (len == 0 || len > 256) {
		unauthorized(r, "malformed", "malformed token");
		return;
	}
	char hash[65];
	pt_sha256_hex(token, len, hash);
	struct cache_entry *e = cache_slot(cache_of(r->w), hash);
	if (e->expires_ns > pt_now_ns() && !memcmp(e->hash, hash, 64)) {
		r->tok = e->info;
		check_role(r, floor, next);
		return;
	}
	struct pending_auth *pa = xmalloc(sizeof *pa);
	pa->floor = floor;
	pa->next = next;
	memcpy(pa->hash, hash, sizeof hash);
	r->handler_data = pa;
	const char *params[1] = { hash };
	http_call_params(r, SQL_TOKEN_LOOKUP, 1, params, on_lookup);
}
