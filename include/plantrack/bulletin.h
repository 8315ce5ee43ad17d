/*
 * bulletin.h - the monthly bulletin (月通报) as a printable HTML page, from
 * the JSON document pt_plan_bulletin returns (docs/sql-api.md). Pure: no I/O.
 */
#ifndef PLANTRACK_BULLETIN_H
#define PLANTRACK_BULLETIN_H

#include <event2/buffer.h>
#include <jansson.h>

/* Appends a complete UTF-8 HTML document for doc (BORROWED) to out. Every
 * text from the document is HTML-escaped. */
void bulletin_html(const json_t *doc, struct evbuffer *out);

#endif
