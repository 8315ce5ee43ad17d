/*
 * dates.h - calendar dates as people write them in Chinese work plans and
 * spreadsheets, normalised to ISO "YYYY-MM-DD".
 *
 * Pure: no I/O, no allocation, no locale, thread safe. Years 1900..2999.
 */
#ifndef PLANTRACK_DATES_H

#include <stddef.h>
#define PLANTRACK_DATES_H

/* 1 if y-m-d is a real Gregorian date (1900 <= y <= 2999), else 0. */
int dates_valid(int y, int m, int d);

/* Days in month m of year y (28..31); 0 when m is not 1..12. */
int dates_month_end(int y, int m);

/*
 * Parses one date into out[11] ("YYYY-MM-DD" + NUL). Returns 0, or -1 when s
 * is not a date or names an impossible one (2025-02-30); out is then "".
 * Accepted, with surrounding ASCII/ideographic spaces and full-width digits:
 *   2025-06-30  2025/6/30  2025.6.30  20250630
 *   2025-06-30 00:00[:00]  2025/6/30 0:00   (Excel date-times; the time is dropped)
 *   2025年6月30日  2025年6月30号  6月30日 (year_hint)
 *   2025年6月底 / 2025年6月末 / 6月底 / 2025年6月 / 2025-06 / 2025/6
 *                                            (last day of the month)
 *   2025年底 / 2025年末 / 年底 (year_hint)     (December 31)
 * A trailing 前 ("6月底前", "before the end of June") is allowed.
 * Forms without a year use year_hint, and fail when year_hint is not a valid year.
 */
int dates_parse(const char *s, int year_hint, char out[11]);

/* Plan text: also 上半年/下半年, 年内/全年/年度内, (第)三季度(末), 6月上旬/中旬/下旬. */
#define DATES_PLAN_TEXT 1u

/*
 * As dates_parse, with flags (DATES_PLAN_TEXT or 0: the spreadsheet forms
 * only) and *yearless (may be NULL) set to 1 when the year came from
 * year_hint (6月底前 in a 2025 plan).
 */
int dates_parse_ex(const char *s, int year_hint, unsigned flags, char out[11], int *yearless);

/* A date found at the start of a text. */
struct dates_match {
	int y, m, d;  /* y is 0 when the text has no year and year_hint is not valid */
	int yearless; /* the year is year_hint's */
	int vague;    /* a plan-only form: 全年, 上半年, 三季度末, 上旬 */
	int year_end; /* the end of the year: 年底, 年内, 全年, 下半年 */
};

/*
 * THE date grammar: the longest date at the start of s[0..n) (not
 * NUL-terminated), any trailing 前/之前/以前 included. Returns its bytes and
 * fills *m, or 0 when s does not start with a date. The day is not checked
 * (2月30日 matches; see dates_valid). Forms, [ ] optional:
 *   YYYY-M-D YYYY/M/D YYYY.M.D YYYY-M YYYY/M (full-width digits and separators too)
 *   [YYYY年] M月 (D日|D号|底|末|份)    M may be 一..十二 when a suffix or 前 follows
 *   YYYY年底 YYYY年末 年底 年末
 *   plan text only: YYYY年内 年内 全年 年度内 上半年 下半年 [第](一..四|1..4)季度[末|底]
 *                   M月上旬/中旬/下旬 (10th, 20th, month end)
 * "M月D" without 日 matches only outside plan text (a spreadsheet cell).
 */
size_t dates_match(const char *s, size_t n, int year_hint, unsigned flags, struct dates_match *m);

#endif
