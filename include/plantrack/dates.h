/*
 * dates.h - calendar dates as people write them in Chinese work plans and
 * spreadsheets, normalised to ISO "YYYY-MM-DD".
 *
 * Pure: no I/O, no allocation, no locale, thread safe. Years 1900..2999.
 */
#ifndef PLANTRACK_DATES_H
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

#endif
