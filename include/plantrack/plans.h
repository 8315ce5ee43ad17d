/*
 * plans.h - /v1/plans: create from JSON, list, get (with the tree), summary.
 */
#ifndef PLANTRACK_PLANS_H
#define PLANTRACK_PLANS_H

struct router;

/* Registers routes and statements. 0 ok. */
int plans_register(struct router *r);

#endif
