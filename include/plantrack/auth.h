/*
 * auth.h - bearer tokens: generation, hashing, lookup with a short-lived
 * per-worker cache, and role checks. Role names are roles.h's, token
 * hashing hash.h's.
 *
 * Only the SHA-256 of a token is stored (api_tokens.token_sha256). A cached
 * entry lives auth.token_cache_ttl seconds, so a revoked token stops working
 * within that time.
 */
#ifndef PLANTRACK_AUTH_H
#define PLANTRACK_AUTH_H

#include "plantrack/roles.h"

struct req;
struct worker;

/* Resolves the request's token, checks the role floor, then calls next(r);
 * answers 401/403/503 itself otherwise (http.c ends the request). */
void auth_authenticate(struct req *r, enum role floor, void (*next)(struct req *r));
/* A new random token (256 bits, base64url, "pt_" prefix); caller frees. */
char *auth_token_generate(void);
/* Registers the lookup statement and the per-worker cache cleanup; once. */
void auth_init(void);
/* For connguard, on the worker's thread: the role of a cached token (0 when
 * not cached), and a lookup that caches a valid token and reports its role
 * (-1 unknown or revoked, 0 database unavailable). */
int auth_cached_role(void *worker, const char *token);
int auth_prefetch(void *worker, const char *token, void (*done)(void *arg, int role), void *arg);
/* Drops every cached entry of this worker (after revoking a token here). */
void auth_cache_clear(struct worker *w);

#endif
