/*
 * server.h - worker threads, listeners, signals, reload and drain.
 *
 * The main thread owns signals (SIGHUP reload, SIGTERM/SIGINT drain) and the
 * systemd watchdog; N workers each own an event_base, an evhttp, and a db
 * pool (worker.h), and hand requests to dispatch.c. Nothing mutable is
 * shared between workers but atomics and the published config snapshot.
 */
#ifndef PLANTRACK_SERVER_H
#define PLANTRACK_SERVER_H

#include <stddef.h>

struct config;
struct router;

/* Builds a fresh configuration (file + environment + flags) for a reload;
 * 0 ok, -1 with a one-line message. out is the caller's. */
typedef int (*config_loader)(struct config *out, char *err, size_t errlen);

/* Serves with the published config (config_current) until SIGTERM/SIGINT and
 * a drain; returns the process exit code. router is borrowed. */
int server_run(struct router *router, int schema_version, config_loader reload);

#endif
