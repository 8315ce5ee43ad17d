/*
 * calendar.h - the working-day calendar routes (PUT/GET /v1/calendar/{year};
 * docs/calendar.md).
 */
#ifndef PLANTRACK_CALENDAR_H
#define PLANTRACK_CALENDAR_H

struct router;

/* Registers routes and statements. 0 ok. */
int calendar_register(struct router *r);

#endif
