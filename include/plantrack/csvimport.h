/*
 * csvimport.h - a spreadsheet of tasks (the "103 项民生实事" list kind, saved
 * from Excel as CSV) to the task JSON that POST /v1/plans/{id}/tasks/import
 * writes, all or nothing, with every problem listed by row, line and column.
 *
 * Pure: no I/O, no global state, thread safe; linear in the input size.
 */
#ifndef PLANTRACK_CSVIMPORT_H
#define PLANTRACK_CSVIMPORT_H

#include <jansson.h>
#include <stddef.h>

/* Length limits, in characters (code points). */
#define CSVIMPORT_MAX_TITLE 2000
#define CSVIMPORT_MAX_BODY 20000
#define CSVIMPORT_MAX_LEAD_UNIT 200
#define CSVIMPORT_MAX_OWNER 100
#define CSVIMPORT_MAX_UNIT 32
#define CSVIMPORT_MAX_SEQ 1000000
#define CSVIMPORT_MAX_VALUE 1e15 /* |target value| */

/*
 * body[0..n): the raw request bytes. charset: from the Content-Type ("utf-8",
 * "gb18030", "gbk", "gb2312"), NULL = detect (see textenc.h). year_hint: the
 * PLAN's year, for dates written without one (6月底 → year_hint-06-30; a
 * warning names the rows completed so); 0 = unknown, such dates are errors.
 * Dates follow the one grammar of dates.h, plan words included: 三季度末,
 * 上半年, 年底前, 6月上旬 are read as in plan text (the plan's year).
 *
 * The header is the first record that names a title column; records above it
 * (a sheet title such as "2025年民生实事项目清单,,,") are skipped with a
 * warning. Columns are matched by name after trimming spaces and a BOM,
 * English case-insensitively:
 *   序号/seq  项目名称/title (required)  建设内容/body  牵头单位/lead_unit
 *   责任人/owner  计划完成时间/due_date  目标值/target_value  单位/target_unit
 *   配合单位/co_units  分管领导/leader  权重/weight  备注/note
 * (also accepted: 编号, 名称, 项目, 任务名称, 任务, 主要内容, 工作内容, 责任单位,
 * 完成时间, 完成时限, 计划完成, 计量单位, 协办单位, 配合部门, 分管负责人, 包保领导,
 * 分值, 说明; id). The export's bilingual headers ("计划完成 due_date") match
 * on their English half, and its computed columns (code, status, progress,
 * light, effective_due, due_source, late, targets, ...) are skipped without
 * a warning. Other unknown columns are ignored with a warning.
 * Field values are trimmed; empty means null. Records whose fields are all
 * blank are skipped (Excel writes ",,,," for formatted empty rows).
 *
 * Returns 0 with *tasks = a JSON array, one object per data record:
 *   {"seq":int|null,"title":s,"body":s|null,"lead_unit":s|null,"owner":s|null,
 *    "due_date":"YYYY-MM-DD"|null,
 *    "co_units":[s…],        配合单位 split on 、，,/／；; and newlines, trimmed, no repeats
 *    "leader":s|null,         分管领导
 *    "weight":number|null,    权重, > 0 (else a row error naming row and column)
 *    "note":s|null,           备注
 *    "targets":[{"label":title,"value":n,"unit":s|null,"comparator":"=","text":"<value><unit>"}]}
 * where co_units/leader/weight/note are present only when the file has that
 * column, "targets" only when the target value is, and *errors = NULL.
 * "seq" (序号) is the row's key under its parent: a 序号 used by two rows is
 * an error listing the rows, so a re-import can match rows on it (upsert).
 *
 * Returns -1 with *tasks = NULL and *errors = a JSON array of EVERY problem:
 *   {"row":N,"line":L,"column":"计划完成时间","message":"..."}
 * row = 1-based record number after the header, line = 1-based source line,
 * column = the header text as written in the file (null when not about one
 * column). File-level problems (undecodable text, unterminated quote, no
 * title column, duplicate column, no data rows) are one error with row 0
 * (line null when not known).
 *
 * *warnings (warnings may be NULL): JSON array of strings, on success and
 * failure. The CALLER OWNS (json_decref) everything returned.
 */
int csvimport_tasks(const char *body, size_t n, const char *charset, int year_hint, json_t **tasks,
		    json_t **errors, json_t **warnings);

/*
 * As csvimport_tasks; on success *columns (columns may be NULL) is a JSON
 * array of the task keys the sheet's columns fill ("title", "body",
 * "lead_unit", "owner", "due_date", "targets", "co_units", "leader",
 * "weight", "note"): an upsert replaces only those fields. An "id" column
 * (a task id, as in the export) sets "id" on its rows. The caller owns it.
 */
int csvimport_tasks_ex(const char *body, size_t n, const char *charset, int year_hint, json_t **tasks,
		       json_t **errors, json_t **warnings, json_t **columns);

/*
 * The answer to a sheet with errors (as csvimport_tasks returned them), for
 * the 422 invalid-csv problem: a new array of the errors, each with "field"
 * ("rows[N].<column>") added (the caller owns it), and in detail (size bytes,
 * cut at a character boundary) "N problem(s) in the file; nothing was
 * imported: <first message>". errors stays the caller's.
 */
json_t *csvimport_error_list(json_t *errors, char *detail, size_t size);

/*
 * The rows csvimport_tasks_ex made (tasks), as COPY text for the database's
 * stage (pt_csv_stage, the columns CSVIMPORT_COPY_COLUMNS names): a line per row, fields
 * tab-separated, \N for none: n (the row's place, from 1), seq, id, title,
 * body, lead_unit, co_units (JSON), owner, leader, due_date, weight, note,
 * then the row's target (at most one): label, value, unit, comparator,
 * text. Returns a malloc'd NUL-terminated buffer (the CALLER frees it) and
 * its length in *len. tasks stays the caller's.
 */
char *csvimport_copy_rows(const json_t *tasks, size_t *len);

/*
 * As csvimport_tasks_ex, but the rows come as csvimport_copy_rows's COPY
 * text, made row by row while the sheet is read: *copy (the CALLER frees it,
 * NULL on error), *copy_len bytes, *rows lines. No task objects are kept
 * (100,000 rows: about 1 s and 100 MB less than csvimport_tasks_ex followed
 * by csvimport_copy_rows). errors, warnings, columns as csvimport_tasks_ex.
 */
int csvimport_copy_ex(const char *body, size_t n, const char *charset, int year_hint, char **copy, size_t *copy_len,
		      size_t *rows, json_t **errors, json_t **warnings, json_t **columns);

/* The stage's columns csvimport_copy_rows fills, in its order (for COPY). */
#define CSVIMPORT_COPY_COLUMNS                                                                             \
	"n, seq, id, title, body, lead_unit, co_units, owner, leader, due_date, weight, note, t_label, t_value, " \
	"t_unit, t_comparator, t_text"

/*
 * Data rows of a sheet, estimated cheaply without reading it: its lines
 * less the header (a quoted cell with line breaks counts more than once).
 * Decides whether an import is a job before the sheet is read.
 */
size_t csvimport_row_estimate(const char *body, size_t n);

#endif
