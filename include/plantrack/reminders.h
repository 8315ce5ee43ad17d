/*
 * reminders.h - the reminder scheduler (三级预警): worker 0 of each daemon
 * calls pt_reminders_run every reminders.interval seconds; the SQL takes an
 * advisory lock, so one daemon runs it at a time, and a unique key makes each
 * reminder once per task and occasion. Quiet hours hold reminder webhooks.
 */
#ifndef PLANTRACK_REMINDERS_H
#define PLANTRACK_REMINDERS_H

struct router;

int reminders_register(struct router *r);

#endif
