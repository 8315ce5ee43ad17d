/*
 * period.c - parse period and as-of query parameters into date ranges (see
 * period.h). ISO weeks: week 1 is the week holding the year's first Thursday.
 */
#include "plantrack/period.h"
#include "plantrack/daynum.h"
#include "plantrack/dates.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SHAPES "YYYY, YYYYH1, YYYYQ1..Q4, YYYY-MM or YYYYWnn"

__attribute__((format(printf, 3, 4))) static int set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The message for a value of the wrong shape. */
#define BAD_SHAPE(param, s) set_err(err, errlen, "%s must be " SHAPES " (got \"%.40s\")", param, s)

/* Reads exactly n ASCII digits. */
static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Day number of the Monday of ISO week 1 of year y. */
static long week1_monday(int y)
{
	long jan4 = daynum_from_ymd(y, 1, 4);
	return jan4 - (daynum_weekday(jan4) - 1);
}

int period_iso_weeks(int y)
{
	return (int)((week1_monday(y + 1) - week1_monday(y)) / 7);
}

static void set_range(struct period *p, long from, long to)
{
	daynum_format(from, p->from);
	daynum_format(to, p->to);
}

int period_parse(const char *param, const char *s, struct period *out, char *err, size_t errlen)
{
	if (!param)
		param = "period";
	if (!s)
		return set_err(err, errlen, "%s is required (" SHAPES ")", param);
	int y;
	if (digits(s, 4, &y) || y < 1900 || y > 2999)
		return BAD_SHAPE(param, s);
	struct period p;
	memset(&p, 0, sizeof p);
	p.year = y;
	const char *r = s + 4;
	size_t rest = strlen(r);
	int n = 0;
	if (rest == 0) {
		p.kind = PERIOD_YEAR;
		set_range(&p, daynum_from_ymd(y, 1, 1), daynum_from_ymd(y, 12, 31));
		snprintf(p.label, sizeof p.label, "%04d", y);
	} else if (rest == 2 && (r[0] == 'H' || r[0] == 'h') && !digits(r + 1, 1, &n)) {
		if (n < 1 || n > 2)
			return BAD_SHAPE(param, s);
		p.kind = PERIOD_HALF;
		set_range(&p, daynum_from_ymd(y, n == 1 ? 1 : 7, 1), daynum_from_ymd(y, n == 1 ? 6 : 12, n == 1 ? 30 : 31));
		snprintf(p.label, sizeof p.label, "%04dH%d", y, n);
	} else if (rest == 2 && (r[0] == 'Q' || r[0] == 'q') && !digits(r + 1, 1, &n)) {
		if (n < 1 || n > 4)
			return BAD_SHAPE(param, s);
		p.kind = PERIOD_QUARTER;
		int m0 = 3 * (n - 1) + 1, m1 = m0 + 2;
		set_range(&p, daynum_from_ymd(y, m0, 1), daynum_from_ymd(y, m1, dates_month_end(y, m1)));
		snprintf(p.label, sizeof p.label, "%04dQ%d", y, n);
	} else if (rest == 3 && r[0] == '-' && !digits(r + 1, 2, &n)) {
		if (n < 1 || n > 12)
			return BAD_SHAPE(param, s);
		p.kind = PERIOD_MONTH;
		set_range(&p, daynum_from_ymd(y, n, 1), daynum_from_ymd(y, n, dates_month_end(y, n)));
		snprintf(p.label, sizeof p.label, "%04d-%02d", y, n);
	} else if ((rest == 3 && (r[0] == 'W' || r[0] == 'w') && !digits(r + 1, 2, &n)) ||
		   (rest == 4 && r[0] == '-' && (r[1] == 'W' || r[1] == 'w') && !digits(r + 2, 2, &n))) {
		if (n < 1 || n > 53)
			return BAD_SHAPE(param, s);
		int weeks = period_iso_weeks(y);
		if (n > weeks) {
			return set_err(err, errlen, "%s: %04dW%02d does not exist (%04d has %d ISO weeks)", param, y, n, y,
				       weeks);
		}
		p.kind = PERIOD_WEEK;
		long monday = week1_monday(y) + 7L * (n - 1);
		set_range(&p, monday, monday + 6);
		snprintf(p.label, sizeof p.label, "%04dW%02d", y, n);
	} else {
		return BAD_SHAPE(param, s);
	}
	p.number = n;
	*out = p;
	return 0;
}

int period_as_of(const char *param, const char *s, char out[11], char *err, size_t errlen)
{
	if (!param)
		param = "as_of";
	long day;
	int rc = daynum_parse(s, &day);
	if (rc < 0)
		return set_err(err, errlen, "%s must be a date YYYY-MM-DD (got \"%.40s\")", param, s ? s : "");
	if (rc > 0)
		return set_err(err, errlen, "%s: %.40s is not a real date", param, s);
	memcpy(out, s, 11);
	return 0;
}
