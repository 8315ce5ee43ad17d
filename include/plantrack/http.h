/*
 * http.h - the per-request context handlers work with, and every way to
 * answer a request (JSON, text, RFC 9457 problem+json, a pt_* SQL result).
 *
 * Ownership: dispatch.c creates a struct req for each request and http.c
 * frees it after exactly one reply; handlers must reply exactly once, possibly from a
 * database callback. Bodies passed as json_t are stolen.
 */
#ifndef PLANTRACK_HTTP_H
#define PLANTRACK_HTTP_H

#include "plantrack/roles.h"
#include "plantrack/router.h"
#include "plantrack/sqlcalls.h"
#include "plantrack/validate.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>

struct worker;
struct config;

struct token_info {
	char id[40];
	char name[128];
	enum role role;
	char unit_id[40];       /* "" when the token has no unit */
};

struct req;
typedef void (*http_result_fn)(struct req *r, PGresult *res);

struct req {
	struct evhttp_request *ev;
	struct worker *w;
	struct route_match m;
	int method;                 /* enum router_method bit */
	char *path;                 /* decoded path, owned */
	struct evkeyvalq query;     /* decoded query parameters */
	char request_id[64];
	uint64_t t0_ns;
	struct token_info tok;
	const char *body;           /* request body (pulled up, not NUL-terminated) */
	size_t body_len;
	json_t *json;               /* parsed JSON body, when the route takes JSON; owned */
	char charset[32];           /* charset of a text body, lowercased, "" if none */
	int status;                 /* status answered, for logs and metrics */
	void *handler_data;         /* free for the handler; freed with free() if set */
	http_result_fn pending;     /* internal: continuation of http_call */
};

typedef void (*handler_fn)(struct req *r);

/* Route flags (struct route.flags): role floor in the low bits, then options. */
#define ROUTE_ROLE_MASK 0x0f
#define ROUTE_PUBLIC 0x10        /* no token needed */
#define ROUTE_JSON_BODY 0x20     /* body must be application/json, parsed into r->json */
#define ROUTE_TEXT_BODY 0x40     /* body is text/plain or text/csv (import) */
#define ROUTE_LARGE_BODY 0x80    /* allowed up to server.max_import_body */
#define ROUTE_NEEDS_DB 0x100     /* answer 503 when the pool is not ready */
#define ROUTE_RAW_BODY 0x200     /* any media type, up to attachments.max_size (uploads) */

/* Query parameter value or NULL. */
const char *http_query(struct req *r, const char *name);
/* Path parameter by name or NULL. */
const char *http_param(struct req *r, const char *name);
const char *http_header(struct req *r, const char *name);
const struct config *http_config(struct req *r);

void http_reply_json(struct req *r, int status, json_t *body);
/* Sends raw bytes with the given content type. */
void http_reply_raw(struct req *r, int status, const char *content_type, const char *body, size_t len);
/* type is a short slug ("not-found") expanded to a stable URI; errors is stolen (may be NULL). */
void http_reply_problem(struct req *r, int status, const char *type, const char *title,
			const char *detail, json_t *errors);
/* The same with what the Chinese text of the problem needs (i18n.h): rule
 * picks a variant of the type's detail (NULL: none), params (stolen, may be
 * NULL) are its named parameters. Every problem answers in the language
 * Accept-Language prefers (English or Chinese) with Content-Language and
 * Vary: Accept-Language; the type never changes. */
void http_reply_problem_args(struct req *r, int status, const char *type, const char *title,
			     const char *detail, json_t *errors, const char *rule, json_t *params);
/* Answers a "SELECT status, body [, etag]" row of a pt_* function, or maps its
 * error; a third column, when not null, becomes the ETag (the version). */
void http_reply_result(struct req *r, PGresult *res);
/* Maps an error result (or NULL = database unavailable) to a problem. */
void http_reply_db_error(struct req *r, PGresult *res);

/* RFC 7240 Prefer: return=minimal | return=representation, from every Prefer
 * header of the request (names and tokens case-insensitive, the value may be
 * quoted, parameters after ';' ignored; the first return=minimal or
 * return=representation wins, other return= values are ignored). */
enum http_prefer_return { PREFER_RETURN_NONE, PREFER_RETURN_MINIMAL, PREFER_RETURN_REPRESENTATION };
enum http_prefer_return http_prefer_return(struct req *r);
/* Answers a write's row as http_reply_result, but a 2xx as 204 No Content:
 * ETag (third column), X-Event-Id (fourth) and Preference-Applied:
 * return=minimal, no body. Errors are problems as always. */
void http_reply_minimal(struct req *r, PGresult *res);
/* http_reply_result plus Preference-Applied: return=representation on a 2xx. */
void http_reply_representation(struct req *r, PGresult *res);

/* Runs SQL call (sqlcalls.h) whose only parameter is a JSON document (args
 * stolen). done == NULL answers with http_reply_result. Handles pool errors (503). */
void http_call(struct req *r, enum sql_call call, json_t *args, http_result_fn done);
/* Same with several text parameters (copied). */
void http_call_params(struct req *r, enum sql_call call, int n, const char *const *params, http_result_fn done);
/* Same with binary values (lengths as db_query_ex) and result format (1 = binary). */
void http_call_bin(struct req *r, enum sql_call call, int n, const char *const *params, const int *lengths,
		   int result_format, http_result_fn done);
/* For writes: runs call (a one-JSON-argument pt function) directly, or
 * through pt_idem (by the call's function name) when the request carries
 * Idempotency-Key. args stolen. */
void http_call_write(struct req *r, enum sql_call call, json_t *args, http_result_fn done);

/* Answers the outcome of validate_object: 400 naming an unknown field, or 422
 * with every error (errors stolen). */
void http_reply_invalid(struct req *r, int rc, json_t *errors, const char *unknown);

/* ?name=true|false into args as a boolean; anything else goes to errors. */
void http_bool_query(struct req *r, const char *name, json_t *args, json_t *errors);
/* Adds ?limit= (1..500, default 50) and ?cursor= to args; problems go to errors. */
void http_add_page(struct req *r, json_t *args, json_t *errors);
/* Adds the page parameters to args (stolen) and runs call, or answers 422
 * with errors (stolen, may be NULL: problems the caller found already). */
void http_call_page(struct req *r, enum sql_call call, json_t *args, json_t *errors);
/* The same with a continuation (NULL: http_reply_result). */
void http_call_page_done(struct req *r, enum sql_call call, json_t *args, json_t *errors, http_result_fn done);
/* Checks the JSON body against spec; 0 ok, -1 answered (400 unknown field, 422). */
int http_check_body(struct req *r, const struct vfield *spec);
/* The {id} path parameter when it is a UUID; otherwise answers 404
 * "<what> not found" and returns NULL. */
const char *http_id_param(struct req *r, const char *what);
/* Puts If-Match into args as "if_match" (the version, or null without the
 * header or with "*"); -1 when it is no ETag (answered 412). */
int http_if_match(struct req *r, json_t *args);

/* The actor object for SQL ({"token_id","name","role","unit_id","request_id"}), new reference. */
json_t *http_actor(struct req *r);
/* The light thresholds, clock and ranking settings for SQL ({"lag_points",
 * "red_lag_points","due_soon_days","due_soon_progress","today","tz","ranking"}), new reference. */
json_t *http_cfg(struct req *r);
/* The same for a configuration (the scheduler has no request). */
json_t *http_cfg_of(const struct config *c);
/* The workflow settings SQL reads from cfg (create_units, sign_days, verify_self,
 * reminder_days, overdue_levels), new reference; http_cfg includes them. */
json_t *http_workflow_cfg(const struct config *c);
/* Answers 400 naming the first query parameter not in allowed (NULL-terminated); -1 when answered. */
int http_check_query(struct req *r, const char *const *allowed);
/* ?as_of=YYYY-MM-DD into cfg as "as_of"; -1 when malformed (answered 422 naming as_of). */
int http_as_of(struct req *r, json_t *cfg);
/* ?period= (2025, 2025H1, 2025Q2, 2025-06, 2025W27) into args as {"label","from","to"};
 * -1 when missing or malformed (answered 422 naming period). */
int http_period(struct req *r, json_t *args);

/* Test seam: tap(r, status, body) sees every reply just before it is sent
 * (body may be NULL; borrowed). NULL removes it. Main thread, before serving. */
typedef void (*http_reply_tap)(const struct req *r, int status, struct evbuffer *body);
void http_set_reply_tap(http_reply_tap tap);
/* Called for every committed write (2xx to POST/PATCH/DELETE on a database
 * route) before its reply is sent (up to 4; before the workers start). */
void http_on_write_reply(void (*fn)(struct req *r));
/* Called for every request just before its struct req is freed, after its
 * reply (up to 4; before the workers start). */
void http_on_finish(void (*fn)(struct req *r));


#endif
