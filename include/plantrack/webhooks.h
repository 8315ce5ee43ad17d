/*
 * webhooks.h - webhook subscriptions (/v1/webhooks, admin only; routes in
 * webhook_routes.c) and the deliverer that POSTs every matching event to
 * them (webhook_deliver.c, webhook_deliver.h).
 *
 * Routes: POST/GET /v1/webhooks, GET/PATCH/DELETE /v1/webhooks/{id},
 * GET /v1/webhooks/{id}/deliveries. The secret is generated when the client
 * sends none and is shown once, in the 201 of the create.
 *
 * Deliverer: worker 0 polls pt_deliveries_claim once a second (and again at
 * once while it finds a full batch), POSTs each claimed delivery with
 * evhttp's client on the same loop (HTTPS through bufferevent_openssl,
 * peers verified against the system store), signs it
 * X-Plantrack-Signature: t=UNIX,sha256=HEX (HMAC-SHA256 of "t.body"), and
 * records the outcome with pt_delivery_done: a 2xx within 10 s is
 * delivered; anything else is retried with exponential backoff and jitter
 * (about 1 s, doubling, at most 1 h) until the delivery is 24 h old. The
 * state is in PostgreSQL (migrations/0003_webhooks.sql); a delivery in
 * flight when the daemon stops keeps its lease and is retried when it ends.
 *
 * Ownership: everything the deliverer allocates belongs to its worker and is
 * freed by the worker stop hook (or by the last database callback that
 * arrives after it).
 */
#ifndef PLANTRACK_WEBHOOKS_H
#define PLANTRACK_WEBHOOKS_H

struct router;

/* Registers the routes, the statements and the deliverer's worker hooks;
 * once, before serving. 0 ok. */
int webhooks_register(struct router *r);

#endif
