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
 *         "due_source":"text"|"parent"|"plan_period",  where due_date came from;
 *                  null due_date: the item runs to its parent's or the plan's end
 *         "start_date":"YYYY-MM-DD"                   only when the text says 4月1日起
 *         "cadence":"weekly"|"monthly"|"quarterly"|"yearly"|null,
 *         "targets":[{"label":…|null,"value":number,"unit":…,
 *                     "comparator":">="|"<="|"=","verb":VERB,
 *                     "strive":true (only when 力争/争取),
 *                     "baseline":number (only for 由X提升至Y),"text":…}],
 *         "facts":[{"label":…|null,"value":number,"unit":…,"text":…}],
 *                  counts that describe the present (原有, 现有, 涉及…): shown, not scored
 *         "milestones":[{"title":…,"due_date":"YYYY-MM-DD",
 *                        "target":{…a target…} (the count of that part, when it has one)}],
 *         "children":[task…]}
 * VERB: "new" (新增, 新建, 打造, 培育), "complete" (完成, 实施, 开展, 改造),
 * "reach" (达到, 提升至, 由X提升至Y), "at_least" (不少于, 至少), "at_most"
 * (不超过), "increase_by" (增长 8%), "reduce_by" (下降 5%), "control_within"
 * (控制在, …以内), "other" (no verb found). See docs/plan-format.md.
 * Every number with a unit is a target, a fact or in a milestone; any other
 * number outside quotes that is not part of a date, a year, an ordinal (第4期)
 * or a name (PM2.5) is listed in warnings with the reason.
 * Only a deadline for the whole item is its due date (the year's end 全年/年内/
 * 年底前, 全部/全面, one in the title, one in the first clause of the body, one
 * that ends the item, or "…前完成" with no object or a counted one); any other
 * (其中/首批/部分, "3月底前完成重点区域整治") is a milestone.
 * A document without numbered headings parses to "tasks": [] (not an error).
 */
json_t *planparse_parse(const char *text, size_t len, int year_hint, char *err, size_t errlen);

#endif
