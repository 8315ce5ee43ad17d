/*
 * health.h - /healthz, /readyz, /metrics, /v1/openapi.json and the
 * dashboard page at /.
 */
#ifndef PLANTRACK_HEALTH_H
#define PLANTRACK_HEALTH_H

struct router;

/* Adds the routes; loads docs/openapi.json and web/index.html (paths from
 * the config) into memory. 0 ok. */
int health_register(struct router *r);

#endif
