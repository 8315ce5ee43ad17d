/*
 * planparse.h - a Chinese work plan (工作谋划 / 工作要点 / 重点任务清单) as
 * UTF-8 text to a tree of tasks with targets (指标), deadlines and cadence.
 *
 * Pure: no I/O, no globals, no locale; thread safe. The caller converts other
 * charsets (GB18030) to UTF-8 first (textenc).
 *
 * Levels follow GB/T 9704 numbering, 一、 then （一）/(一) then 1./1．/1、
 * then （1）/(1) then ①; the enumerations 一是…二是… inside a paragraph are
 * the next level down. A document may start at any level: depth comes from
 * which styles appear, in that order.
 */
#ifndef PLANTRACK_PLANPARSE_H
#define PLANTRACK_PLANPARSE_H

#include <jansson.h>
#include <stddef.h>

/* Largest input accepted, in bytes. */
#define PLANPARSE_MAX_INPUT (4u * 1024 * 1024)

/*
 * Parses plan text (UTF-8, len bytes, need not be NUL-terminated; a leading
 * BOM, CRLF/CR line ends, full-width or ASCII punctuation are all fine).
 * year_hint: the plan year from the caller, or 0 to take it from the document
 * ("2025年工作谋划" in the title or the first lines).
 *
 * Returns a new object the caller owns (json_decref), or NULL with a one-line
 * message in err (invalid UTF-8, NUL byte, too large, year_hint out of range,
 * out of memory):
 * {"title": text|null, "year": int|null,
 *  "tasks": [task…]                          top-level items in document order,
 *  "warnings": [{"line":N,"message":"…"}]    anything skipped or doubted,
 *  "counts": [n_level1, n_level2, …]}        items per depth
 * task = {"code":"一.2.3","seq":N,"level":1..,"title":…,"body":…,
 *         "due_date":"YYYY-MM-DD"|null,
 *         "cadence":"weekly"|"monthly"|"quarterly"|"yearly"|null,
 *         "targets":[{"label":…|null,"value":number,"unit":…,
 *                     "comparator":">="|"<="|"=","text":…}],
 *         "milestones":[{"title":…,"due_date":"YYYY-MM-DD"}],
 *         "children":[task…]}
 * A document without numbered headings parses to "tasks": [] (not an error).
 */
json_t *planparse_parse(const char *text, size_t len, int year_hint, char *err, size_t errlen);

#endif
