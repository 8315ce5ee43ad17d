/*
 * health.h - /healthz, /readyz, /metrics, /v1/openapi.json, /v1/me and the
 * web application (the page at /, its files, the API reference at /docs).
 */
#ifndef PLANTRACK_HEALTH_H
#define PLANTRACK_HEALTH_H

struct router;

/* Adds the routes (also GET /v1/me, /docs and the public /docs/openapi.json);
 * loads docs/openapi.json (path from the config) into memory. 0 ok. */
int health_register(struct router *r);

struct req;

/* For a GET or HEAD that no route matched: answers web/NAME or web/DIR/NAME
 * from the web directory (server.web_dir) when path names such a file with a
 * served extension; every web file carries Content-Security-Policy,
 * X-Content-Type-Options and Referrer-Policy. Never /v1/..., "..", hidden
 * files or deeper paths. 1 answered, 0 not (the caller answers 404). */
int health_serve_web(struct req *r, const char *path);

/* The Content-Type served for a file name by its extension (.html .js .mjs
 * .css .svg .ico .png .json .woff2 .txt), NULL for any other. */
const char *health_web_content_type(const char *name);
/* 1 when seg may be one segment of a served path: [A-Za-z0-9._-]{1,100}
 * not starting with '.', so never "..", a hidden file or a separator. */
int health_web_name_ok(const char *seg);

#endif
