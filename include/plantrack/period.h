/*
 * period.h - the period and as-of grammar of ledger, bulletin and ranking
 * query parameters: "2025" (year), "2025H1" (half), "2025Q2" (quarter),
 * "2025-06" (month), "2025W27" / "2025-W27" (ISO 8601 week, Monday..Sunday),
 * each turned into an inclusive [from, to] date range; and "as_of=YYYY-MM-DD"
 * checked as a real date.
 *
 * Errors are one line that starts with the parameter's name, fit for the
 * "message" of a problem+json errors[] item whose "field" is that name.
 * Pure: no I/O, no allocation, no global state, thread safe. Nothing is owned.
 */
#ifndef PLANTRACK_PERIOD_H
#define PLANTRACK_PERIOD_H

#include <stddef.h>

enum period_kind { PERIOD_YEAR, PERIOD_HALF, PERIOD_QUARTER, PERIOD_MONTH, PERIOD_WEEK };

struct period {
	enum period_kind kind;
	int year;          /* the calendar year; for a week, the ISO week-numbering year */
	int number;        /* half 1..2, quarter 1..4, month 1..12, week 1..53; 0 for a year */
	char from[11];     /* first day, "YYYY-MM-DD" */
	char to[11];       /* last day, inclusive */
	char label[12];    /* canonical spelling: 2025, 2025H1, 2025Q2, 2025-06, 2025W27 */
};

/*
 * Parses s (the value of parameter `param`, used only in messages). Years are
 * 1900..2999; Q, H and W may be lower case. Returns 0 and fills *out, or -1
 * with a message in err[errlen] (err may be NULL), e.g.
 *   "period must be YYYY, YYYYH1, YYYYQ1..Q4, YYYY-MM or YYYYWnn (got \"2025Q5\")"
 *   "period: 2021W53 does not exist (2021 has 52 ISO weeks)"
 */
int period_parse(const char *param, const char *s, struct period *out, char *err, size_t errlen);

/* Number of ISO weeks (52 or 53) of ISO week-numbering year y. */
int period_iso_weeks(int y);

/*
 * Checks an as-of date: exactly "YYYY-MM-DD", a real date, 1900..2999.
 * Returns 0 and copies it into out[11], or -1 with err naming `param`:
 *   "as_of must be a date YYYY-MM-DD (got \"2025/6/30\")"
 *   "as_of: 2025-02-30 is not a real date"
 */
int period_as_of(const char *param, const char *s, char out[11], char *err, size_t errlen);

#endif
