/*
 * tasks.h - /v1/tasks: list with filters, one task (get, create, patch,
 * delete), progress reports and their history.
 */
#ifndef PLANTRACK_TASKS_H
#define PLANTRACK_TASKS_H

#include "plantrack/validate.h"

struct router;

/* Registers routes and statements. 0 ok. */
int tasks_register(struct router *r);

/* The task-in field table (title, body, targets, milestones, children…),
 * shared with plan creation. NULL-name-terminated. */
extern const struct vfield tasks_task_fields[];

#endif
