/*
 * planimport.h - a plan document (bytes, any supported charset) to the plan
 * object pt_plan_create takes: decode, parse, fingerprint. Pure, no I/O.
 */
#ifndef PLANTRACK_PLANIMPORT_H
#define PLANTRACK_PLANIMPORT_H

#include <jansson.h>
#include <stddef.h>

/* charset NULL = detect (UTF-8, else GB18030). title/year override the
 * document's (NULL/0 = take them from it). Returns a new
 * {"title","year","source_text","source_sha256","tasks":[…],"counts":[…]}
 * and *warnings (new array, caller owns), or NULL with a one-line err. */
json_t *planimport_build(const char *text, size_t len, const char *charset, const char *title,
			 int year, json_t **warnings, char *err, size_t errlen);

#endif
