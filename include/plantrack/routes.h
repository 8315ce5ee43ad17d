/*
 * routes.h - the whole route table: every handler module registers here.
 */
#ifndef PLANTRACK_ROUTES_H
#define PLANTRACK_ROUTES_H

struct router;

/* Builds the router and registers every statement; before serving. */
struct router *routes_build(void);

#endif
