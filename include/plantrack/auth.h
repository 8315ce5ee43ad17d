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
/* Drops every cached entry of this worker (after revoking a token here). */
void auth_cache_clear(struct worker *w);

#endif
