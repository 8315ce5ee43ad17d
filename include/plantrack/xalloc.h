/*
 * xalloc.h - the one out-of-memory policy: allocation never fails for the
 * caller. When malloc/calloc/realloc/strdup return NULL these log one line
 * to stderr ("plantrackd: out of memory allocating N bytes") and abort(), as
 * Redis/Valkey and h2o do; systemd restarts the daemon and a half-built
 * reply or connection state never escapes. Any thread.
 *
 * Ownership: what they return is the caller's, freed with free().
 */
#ifndef PLANTRACK_XALLOC_H
#define PLANTRACK_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* A copy of s; NULL stays NULL. */
char *xstrdup(const char *s);

/* Reports and aborts; for allocators of other libraries that return NULL. */
_Noreturn void xalloc_oom(size_t size);

#endif
