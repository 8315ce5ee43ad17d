/*
 * test_period.c - day numbers, every period shape (year, half, quarter,
 * month, ISO week), as_of checks, and the messages that name the parameter.
 */
#include "check.h"
#include "plantrack/daynum.h"
#include "plantrack/period.h"

#include <string.h>

static int range(const char *s, const char *from, const char *to, const char *label)
{
	struct period p;
	char err[200] = "";
	if (period_parse("period", s, &p, err, sizeof err)) {
		fprintf(stderr, "  period_parse(\"%s\") failed: %s\n", s, err);
		return 0;
	}
	if (strcmp(p.from, from) || strcmp(p.to, to) || strcmp(p.label, label)) {
		fprintf(stderr, "  period_parse(\"%s\") = [%s, %s] %s, want [%s, %s] %s\n", s, p.from, p.to, p.label,
			from, to, label);
		return 0;
	}
	return 1;
}

static int refused(const char *param, const char *s, const char *want_in_message)
{
	struct period p;
	char err[200] = "";
	if (!period_parse(param, s, &p, err, sizeof err)) {
		fprintf(stderr, "  period_parse(\"%s\") accepted\n", s ? s : "(null)");
		return 0;
	}
	if (strncmp(err, param, strlen(param)) || !strstr(err, want_in_message)) {
		fprintf(stderr, "  period_parse(\"%s\") message \"%s\", want \"%s...%s\"\n", s ? s : "(null)", err, param,
			want_in_message);
		return 0;
	}
	return 1;
}

int main(void)
{
	/* Day numbers. */
	long n;
	char buf[11];
	CHECK(daynum_parse("1970-01-01", &n) == 0 && n == 0);
	CHECK(daynum_parse("2025-01-01", &n) == 0 && n == 20089);
	daynum_format(20089, buf);
	CHECK(!strcmp(buf, "2025-01-01"));
	CHECK(daynum_parse("2024-02-29", &n) == 0);
	daynum_format(n + 1, buf);
	CHECK(!strcmp(buf, "2024-03-01"));
	daynum_format(daynum_from_ymd(1900, 3, 1) - 1, buf);
	CHECK(!strcmp(buf, "1900-02-28"));
	CHECK(daynum_weekday(daynum_from_ymd(2025, 1, 1)) == 3);  /* Wednesday */
	CHECK(daynum_weekday(daynum_from_ymd(2025, 1, 26)) == 7); /* Sunday */
	CHECK(daynum_weekday(daynum_from_ymd(1969, 12, 29)) == 1);
	CHECK(daynum_parse("2025-02-30", &n) == 1);
	CHECK(daynum_parse("1899-12-31", &n) == 1);
	CHECK(daynum_parse("2025-2-3", &n) == -1);
	CHECK(daynum_parse("2025-02-03 ", &n) == -1);
	CHECK(daynum_parse("2025", &n) == -1);
	CHECK(daynum_parse("", &n) == -1);
	CHECK(daynum_parse(NULL, &n) == -1);
	/* Round trip over several centuries. */
	int ok = 1;
	for (long d = daynum_from_ymd(1900, 1, 1); d <= daynum_from_ymd(2999, 12, 31); d += 37) {
		long back;
		daynum_format(d, buf);
		if (daynum_parse(buf, &back) || back != d)
			ok = 0;
	}
	CHECK(ok);

	/* Periods. */
	CHECK(range("2025", "2025-01-01", "2025-12-31", "2025"));
	CHECK(range("2025H1", "2025-01-01", "2025-06-30", "2025H1"));
	CHECK(range("2025h2", "2025-07-01", "2025-12-31", "2025H2"));
	CHECK(range("2025Q1", "2025-01-01", "2025-03-31", "2025Q1"));
	CHECK(range("2025Q2", "2025-04-01", "2025-06-30", "2025Q2"));
	CHECK(range("2025q3", "2025-07-01", "2025-09-30", "2025Q3"));
	CHECK(range("2025Q4", "2025-10-01", "2025-12-31", "2025Q4"));
	CHECK(range("2025-02", "2025-02-01", "2025-02-28", "2025-02"));
	CHECK(range("2024-02", "2024-02-01", "2024-02-29", "2024-02"));
	CHECK(range("2025-06", "2025-06-01", "2025-06-30", "2025-06"));
	CHECK(range("2025-12", "2025-12-01", "2025-12-31", "2025-12"));
	CHECK(range("2025W01", "2024-12-30", "2025-01-05", "2025W01"));
	CHECK(range("2025W27", "2025-06-30", "2025-07-06", "2025W27"));
	CHECK(range("2025-W27", "2025-06-30", "2025-07-06", "2025W27"));
	CHECK(range("2025w52", "2025-12-22", "2025-12-28", "2025W52"));
	CHECK(range("2026W53", "2026-12-28", "2027-01-03", "2026W53"));
	CHECK(range("2020W53", "2020-12-28", "2021-01-03", "2020W53"));
	CHECK(period_iso_weeks(2025) == 52 && period_iso_weeks(2026) == 53 && period_iso_weeks(2020) == 53);
	struct period p;
	CHECK(!period_parse("period", "2025Q2", &p, NULL, 0) && p.kind == PERIOD_QUARTER && p.year == 2025 &&
	      p.number == 2);
	CHECK(!period_parse("period", "2025", &p, NULL, 0) && p.kind == PERIOD_YEAR && p.number == 0);

	CHECK(refused("period", "2025Q5", "period must be YYYY"));
	CHECK(refused("period", "2025Q0", "(got \"2025Q0\")"));
	CHECK(refused("period", "2025H3", "2025H3"));
	CHECK(refused("period", "2025-13", "2025-13"));
	CHECK(refused("period", "2025-00", "2025-00"));
	CHECK(refused("period", "2025-6", "2025-6"));
	CHECK(refused("period", "2025W00", "2025W00"));
	CHECK(refused("period", "2025W54", "2025W54"));
	CHECK(refused("period", "2025W53", "2025W53 does not exist (2025 has 52 ISO weeks)"));
	CHECK(refused("period", "2025W7", "2025W7"));
	CHECK(refused("period", "25Q2", "25Q2"));
	CHECK(refused("period", "1899", "1899"));
	CHECK(refused("period", "2025 ", "2025 "));
	CHECK(refused("period", " 2025", " 2025"));
	CHECK(refused("period", "2025Q2x", "2025Q2x"));
	CHECK(refused("period", "", "period must be"));
	CHECK(refused("period", NULL, "period is required"));
	CHECK(refused("quarter", "2025-Q2", "quarter must be"));
	CHECK(period_parse("period", "bogus", &p, NULL, 0) == -1); /* err may be NULL */

	/* as_of. */
	char day[11];
	char err[200];
	CHECK(period_as_of("as_of", "2025-06-30", day, err, sizeof err) == 0 && !strcmp(day, "2025-06-30"));
	CHECK(period_as_of("as_of", "2024-02-29", day, err, sizeof err) == 0);
	CHECK(period_as_of("as_of", "2025-02-29", day, err, sizeof err) == -1 &&
	      !strcmp(err, "as_of: 2025-02-29 is not a real date"));
	CHECK(period_as_of("as_of", "2025-02-30", day, err, sizeof err) == -1 && strstr(err, "not a real date"));
	CHECK(period_as_of("as_of", "2025/6/30", day, err, sizeof err) == -1 &&
	      !strcmp(err, "as_of must be a date YYYY-MM-DD (got \"2025/6/30\")"));
	CHECK(period_as_of("as_of", "2025-6-30", day, err, sizeof err) == -1 && strstr(err, "must be a date"));
	CHECK(period_as_of("as_of", "2025-06-30T00:00", day, err, sizeof err) == -1);
	CHECK(period_as_of("as_of", "", day, err, sizeof err) == -1 && !strncmp(err, "as_of", 5));
	CHECK(period_as_of("as_of", NULL, day, err, sizeof err) == -1);
	CHECK(period_as_of("day", "2025-00-10", day, err, sizeof err) == -1 && !strncmp(err, "day: ", 5));
	return check_summary();
}
