/*
 * plan_admin.h - plan administration and task moves (issue 12):
 * PATCH /v1/plans/{id} (rename), POST /v1/plans/{id}/archive|unarchive|restore,
 * DELETE /v1/plans/{id} (soft delete), POST /v1/tasks/{id}/move.
 */
#ifndef PLANTRACK_PLAN_ADMIN_H
#define PLANTRACK_PLAN_ADMIN_H

struct router;

/* Registers the routes. 0 ok. */
int plan_admin_register(struct router *r);

#endif
