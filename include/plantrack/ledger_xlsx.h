/*
 * ledger_xlsx.h - the plan ledger (台账) as an Excel workbook: sheet 台账 with
 * the task tree, lights as cell fills, A4 landscape print setup; sheet 赛马排名
 * with the units' ranking. The input is the JSON document pt_plan_ledger
 * returns; docs/ledger.md defines it and the HTTP route that serves it.
 *
 * No global state; thread safe (each call has its own workbook). It does file
 * I/O: libxlsxwriter assembles the workbook in temporary files (in $TMPDIR, or
 * /tmp) and writes the .xlsx to a path, so a call blocks for the time that
 * takes (a few milliseconds per hundred tasks).
 */
#ifndef PLANTRACK_LEDGER_XLSX_H
#define PLANTRACK_LEDGER_XLSX_H

#include <jansson.h>
#include <stddef.h>

/* The media type of what ledger_xlsx_render produces. */
#define LEDGER_XLSX_CONTENT_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

/* Longest text written to one cell, in bytes; longer text is cut at a
 * character boundary and ends in "…" (Excel's limit is 32767 characters). */
#define LEDGER_XLSX_MAX_CELL 32000

/*
 * Renders `ledger` (BORROWED; not changed).
 *
 * path non-NULL: writes the workbook to that file (replacing it); out and len
 * are not used (may be NULL).
 * path NULL: the workbook's bytes come back in *out (malloc'd: the CALLER
 * FREES it with free()) and *len; the temporary file is removed.
 *
 * Returns 0; or -1 with nothing returned (no file left behind when path is
 * NULL) and a one-line message in err[errlen] (err may be NULL): a field of the
 * wrong type, named by its path ("tasks[3].level must be an integer 1..9"),
 * or a file or libxlsxwriter error.
 */
int ledger_xlsx_render(const json_t *ledger, const char *path, unsigned char **out, size_t *len, char *err,
		       size_t errlen);

/* Chinese name of a task status ("in_progress" -> "推进中"); NULL when the
 * status is not one of planned, assigned, in_progress, blocked, done,
 * verified, cancelled. Static storage. */
const char *ledger_xlsx_status_name(const char *status);

/* The word shown in the light column ("red" -> "红") and its fill colour as
 * 0xRRGGBB; NULL and 0 for an unknown light. Static storage. */
const char *ledger_xlsx_light_name(const char *light, unsigned *rgb);

/*
 * The Content-Disposition value for a ledger download (RFC 6266 + RFC 5987):
 *   attachment; filename="ledger-2025-06-30.xlsx"; filename*=UTF-8''<title>%E5%8F%B0%E8%B4%A6-2025-06-30.xlsx
 * title (the plan's; NULL = none) has '/', '\\', '"' and control characters
 * replaced by '_' and is cut to 80 bytes at a character boundary; as_of is
 * "YYYY-MM-DD" (NULL = left out). Writes into buf[cap] (caller's storage);
 * returns 0, or -1 when cap is too small (buf is then "").
 */
int ledger_xlsx_content_disposition(const char *title, const char *as_of, char *buf, size_t cap);

#endif
