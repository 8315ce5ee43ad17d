/*
 * webhook_deliver.h - the webhook deliverer (worker 0; see webhooks.h for
 * its behaviour) and the request signature.
 *
 * Ownership: everything the deliverer allocates belongs to its worker and is
 * freed by its worker stop hook (or by the last database callback that
 * arrives after it).
 */
#ifndef PLANTRACK_WEBHOOK_DELIVER_H
#define PLANTRACK_WEBHOOK_DELIVER_H

#include <stddef.h>

/* Registers the worker hooks that run the deliverer (its statements are
 * sqlcalls.h's); once, before serving (webhooks_register calls it). */
void webhook_deliver_init(void);

/* "t=UNIX,sha256=HEX" for body signed with secret at time t, into out
 * (at least 128 bytes). 0 ok, -1 when OpenSSL fails. For tests and tools. */
int webhooks_sign(const char *secret, long long t, const char *body, size_t len, char *out, size_t outlen);

#endif
