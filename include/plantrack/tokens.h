/*
 * tokens.h - /v1/tokens (admin): create (the secret is shown once), list
 * (never the secret), revoke.
 */
#ifndef PLANTRACK_TOKENS_H
#define PLANTRACK_TOKENS_H

struct router;

/* Registers the routes and statements. 0 ok. */
int tokens_register(struct router *r);

#endif
