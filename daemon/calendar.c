/*
 * calendar.c - the working-day calendar routes (docs/calendar.md):
 * PUT /v1/calendar/{year} (JSON in either input form, or CSV) checked by
 * workcal and stored by pt_calendar_put; GET /v1/calendar/{year}.
 */
#include "plantrack/calendar.h"
#include "plantrack/db.h"
#include "plantrack/http.h"
#include "plantrack/router.h"
#include "plantrack/textenc.h"
#include "plantrack/workcal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* {year} of the path, 1900..2999; 0 when it is none (answered). */
static int path_year(struct req *r)
{
	const char *y = http_param(r, "year");
	char *end;
	long n = y ? strtol(y, &end, 10) : 0;
	if (!y || !*y || *end || n < 1900 || n > 2999) {
		http_reply_problem(r, 404, "not-found", "Calendar not found", "the year must be 1900 to 2999", NULL);
		return 0;
	}
	return (int)n;
}

static int is_text(struct req *r)
{
	const char *ct = http_header(r, "Content-Type");
	return ct && (!strncasecmp(ct, "text/csv", 8) || !strncasecmp(ct, "text/plain", 10));
}

static void handle_put(struct req *r)
{
	int year = path_year(r);
	if (!year)
		return;
	json_t *errors = NULL;
	workcal *cal = NULL;
	if (is_text(r)) {
		char err[256];
		size_t n = r->body_len;
		char *text = NULL;
		if (r->charset[0] && strcmp(r->charset, "utf-8") && strcmp(r->charset, "utf8")) {
			text = textenc_to_utf8(r->body, r->body_len, r->charset, &n, err, sizeof err);
			if (!text) {
				http_reply_problem(r, 415, "unsupported-media-type", "Unsupported charset", err, NULL);
				return;
			}
		}
		cal = workcal_from_csv(text ? text : r->body, n, year, &errors);
		free(text);
	} else {
		json_t *doc = json_deep_copy(r->json);
		json_t *y = json_object_get(doc, "year");
		if (y && !(json_is_integer(y) && json_integer_value(y) == year)) {
			json_decref(doc);
			char msg[96];
			snprintf(msg, sizeof msg, "must be %d, the year of the path", year);
			http_reply_problem(r, 422, "validation-failed", "Validation failed", msg,
					   json_pack("[{s:s,s:s}]", "field", "year", "message", msg));
			return;
		}
		json_object_set_new(doc, "year", json_integer(year));
		cal = workcal_from_json(doc, &errors);
		json_decref(doc);
	}
	if (!cal) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "the calendar has errors; nothing was stored",
				   errors ? errors : json_array());
		return;
	}
	json_t *args = json_pack("{s:o,s:o}", "actor", http_actor(r), "calendar", workcal_to_json(cal));
	workcal_free(cal);
	http_call_write(r, SQL_CALENDAR_PUT, args, NULL);
}

static void handle_get(struct req *r)
{
	static const char *const none[] = { NULL };
	int year = path_year(r);
	if (!year || http_check_query(r, none))
		return;
	http_call(r, SQL_CALENDAR_GET, json_pack("{s:i}", "year", year), NULL);
}

int calendar_register(struct router *r)
{
	int rc = 0;
	rc |= router_add(r, RM_PUT, "/v1/calendar/{year}", (void *)handle_put,
			 ROLE_SUPERVISOR | ROUTE_NEEDS_DB | ROUTE_JSON_BODY | ROUTE_TEXT_BODY);
	rc |= router_add(r, RM_GET, "/v1/calendar/{year}", (void *)handle_get, ROLE_VIEWER | ROUTE_NEEDS_DB);
	return rc;
}
