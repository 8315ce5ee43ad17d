/*
 * notify.h - the systemd notify protocol (sd_notify without libsystemd).
 *
 * One datagram per call to $NOTIFY_SOCKET (abstract when it starts with '@').
 * Every call is a no-op when NOTIFY_SOCKET is unset. Thread safe.
 */
#ifndef PLANTRACK_NOTIFY_H
#define PLANTRACK_NOTIFY_H

#include <stdint.h>

/* Sends the text as is ("READY=1\nSTATUS=..."). 0 sent or no socket, -1 error. */
int notify_send(const char *text);
int notify_ready(void);
int notify_reloading(void);          /* RELOADING=1 + MONOTONIC_USEC= */
int notify_stopping(void);
int notify_watchdog(void);
int notify_statusf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* WATCHDOG_USEC when it is meant for this process (WATCHDOG_PID), else 0. */
uint64_t notify_watchdog_usec(void);

#endif
