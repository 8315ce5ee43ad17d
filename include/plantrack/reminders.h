/*
 * reminders.h - the reminder scheduler (三级预警): worker 0 of each daemon
 * calls pt_reminders_run every reminders.interval seconds; the SQL takes an
 * advisory lock, so one daemon runs it at a time, and a unique key makes each
 * reminder once per task and occasion. Quiet hours hold reminder webhooks.
 */
#ifndef PLANTRACK_REMINDERS_H
#define PLANTRACK_REMINDERS_H

struct router;

/* The reminder event types as a JSON array (for the deliverer's hold list). */
#define REMINDER_TYPES_JSON "[\"task.due_soon\",\"task.overdue\",\"task.report_missing\",\"task.unsigned\"]"

int reminders_register(struct router *r);
/* 1 when the local time is inside reminders.quiet_hours. */
int reminders_quiet_now(void);
/* 1 when minute-of-day m lies in [from, to) (wrapping past midnight when to < from). */
int reminders_in_window(int m, int from, int to);

#endif
