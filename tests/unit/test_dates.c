/*
 * test_dates.c - every accepted date form, month ends, leap years, and the
 * inputs that must be refused.
 */
#include "check.h"
#include "plantrack/dates.h"

#include <stdlib.h>
#include <string.h>

static int parses(const char *s, int hint, const char *want)
{
	char out[11] = "garbage!!!";
	int rc = dates_parse(s, hint, out);
	if (rc != 0 || strcmp(out, want)) {
		fprintf(stderr, "  dates_parse(\"%s\", %d) = %d \"%s\", want \"%s\"\n", s, hint, rc, out, want);
		return 0;
	}
	return 1;
}

static int refuses(const char *s, int hint)
{
	char out[11] = "garbage!!!";
	int rc = dates_parse(s, hint, out);
	if (rc != -1 || out[0]) {
		fprintf(stderr, "  dates_parse(\"%s\", %d) = %d \"%s\", want -1\n", s ? s : "(null)", hint, rc, out);
		return 0;
	}
	return 1;
}

int main(void)
{
	CHECK(dates_month_end(2025, 2) == 28 && dates_month_end(2024, 2) == 29);
	CHECK(dates_month_end(1900, 2) == 28 && dates_month_end(2000, 2) == 29);
	CHECK(dates_month_end(2025, 4) == 30 && dates_month_end(2025, 12) == 31);
	CHECK(dates_month_end(2025, 0) == 0 && dates_month_end(2025, 13) == 0);
	CHECK(dates_valid(2025, 6, 30) && dates_valid(2024, 2, 29) && !dates_valid(2025, 2, 29));
	CHECK(!dates_valid(2025, 2, 30) && !dates_valid(2025, 4, 31) && !dates_valid(2025, 0, 1));
	CHECK(!dates_valid(2025, 1, 0) && !dates_valid(1899, 1, 1) && !dates_valid(3000, 1, 1));

	/* Numeric. */
	CHECK(parses("2025-06-30", 0, "2025-06-30"));
	CHECK(parses("2025-6-3", 0, "2025-06-03"));
	CHECK(parses("2025/6/30", 0, "2025-06-30"));
	CHECK(parses("2025/06/30", 0, "2025-06-30"));
	CHECK(parses("2025.6.30", 0, "2025-06-30"));
	CHECK(parses("20250630", 0, "2025-06-30"));
	CHECK(parses("  2025-06-30\t", 0, "2025-06-30"));
	CHECK(parses("\xE3\x80\x80" "2025-06-30" "\xE3\x80\x80", 0, "2025-06-30")); /* ideographic spaces */
	CHECK(parses("2025/6/30 0:00", 0, "2025-06-30"));
	CHECK(parses("2025-06-30 00:00:00", 0, "2025-06-30"));
	CHECK(parses("2025-06", 0, "2025-06-30"));
	CHECK(parses("2024/2", 0, "2024-02-29"));
	CHECK(parses("２０２５－０６－３０", 0, "2025-06-30")); /* full-width */
	CHECK(parses("2024-02-29", 0, "2024-02-29"));

	/* Chinese. */
	CHECK(parses("2025年6月30日", 0, "2025-06-30"));
	CHECK(parses("2025年06月30日", 0, "2025-06-30"));
	CHECK(parses("2025年6月30号", 0, "2025-06-30"));
	CHECK(parses("2025年6月30", 0, "2025-06-30"));
	CHECK(parses("2025 年 6 月 30 日", 0, "2025-06-30"));
	CHECK(parses("２０２５年６月３０日", 0, "2025-06-30"));
	CHECK(parses("2025年6月底", 0, "2025-06-30"));
	CHECK(parses("2025年2月底", 0, "2025-02-28"));
	CHECK(parses("2024年2月底", 0, "2024-02-29"));
	CHECK(parses("2025年12月末", 0, "2025-12-31"));
	CHECK(parses("2025年6月", 0, "2025-06-30"));
	CHECK(parses("2025年6月底前", 0, "2025-06-30"));
	CHECK(parses("2025年底", 0, "2025-12-31"));
	CHECK(parses("2025年底前", 0, "2025-12-31"));
	CHECK(parses("6月底", 2025, "2025-06-30"));
	CHECK(parses("3月底前", 2025, "2025-03-31"));
	CHECK(parses("2月底", 2028, "2028-02-29"));
	CHECK(parses("6月", 2025, "2025-06-30"));
	CHECK(parses("6月30日", 2025, "2025-06-30"));
	CHECK(parses("年底", 2025, "2025-12-31"));
	CHECK(parses("年底前", 2026, "2026-12-31"));
	CHECK(parses("2025年6月底", 1999, "2025-06-30")); /* an explicit year wins */

	/* Refused. */
	CHECK(refuses(NULL, 2025));
	CHECK(refuses("", 2025));
	CHECK(refuses("   ", 2025));
	CHECK(refuses("2025-02-30", 0));
	CHECK(refuses("2025-02-29", 0));
	CHECK(refuses("2025-04-31", 0));
	CHECK(refuses("2025-13-01", 0));
	CHECK(refuses("2025-00-10", 0));
	CHECK(refuses("2025-06-00", 0));
	CHECK(refuses("2025年2月30日", 0));
	CHECK(refuses("2025年13月", 0));
	CHECK(refuses("2025年13月底", 0));
	CHECK(refuses("2025-6/30", 0));      /* mixed separators */
	CHECK(refuses("2025.6", 0));         /* a decimal number, not a month */
	CHECK(refuses("25/6/30", 0));        /* two-digit year */
	CHECK(refuses("6/30/2025", 0));      /* US order */
	CHECK(refuses("30.6.2025", 0));
	CHECK(refuses("2025", 0));
	CHECK(refuses("2025年", 0));
	CHECK(refuses("2025年6", 0));
	CHECK(refuses("25年6月底", 0));
	CHECK(refuses("6月底", 0));           /* no year, no hint */
	CHECK(refuses("年底", 0));
	CHECK(refuses("6月底", 12345));
	CHECK(refuses("上半年", 2025));
	CHECK(refuses("年内", 2025));
	CHECK(refuses("2025-06-30x", 0));
	CHECK(refuses("x2025-06-30", 0));
	CHECK(refuses("2025-06-30 25:00", 0));
	CHECK(refuses("2025-06-30 0:0", 0));
	CHECK(refuses("2025-06-30 12:00 extra", 0));
	CHECK(refuses("2025:06:30", 0));
	CHECK(refuses("2025--06-30", 0));
	CHECK(refuses("2025-006-30", 0));
	CHECK(refuses("202506300", 0));
	CHECK(refuses("20251301", 0));
	CHECK(refuses("45838", 0));           /* an Excel serial number */
	CHECK(refuses("-2025-06-30", 0));
	CHECK(refuses("2025年6月30日日", 0));
	CHECK(refuses("2025年6月底底", 0));
	CHECK(refuses("底", 2025));
	CHECK(refuses("前", 2025));
	CHECK(refuses("2025年6月30日前后", 0));
	CHECK(refuses("\xE5\xB9", 2025));          /* truncated UTF-8 */
	CHECK(refuses("2025-06-30 0:00 0:00", 0));
	CHECK(refuses("9999999999999999999-1-1", 0));
	CHECK(refuses("2025-06-301111111111111111111111111111111111111111111", 0));
	CHECK(refuses("1899-12-31", 0));
	CHECK(refuses("3000-01-01", 0));

	/* The shared grammar: plan text adds the vague words, sheets refuse them. */
	{
		char out[11];
		int yl = -1;
		CHECK(dates_parse_ex("三季度末", 2025, DATES_PLAN_TEXT, out, &yl) == 0 && !strcmp(out, "2025-09-30") && yl == 1);
		CHECK(dates_parse_ex("三季度末", 2025, 0, out, NULL) == -1);
		CHECK(dates_parse_ex("第一季度", 2025, DATES_PLAN_TEXT, out, NULL) == 0 && !strcmp(out, "2025-03-31"));
		CHECK(dates_parse_ex("4季度", 2025, DATES_PLAN_TEXT, out, NULL) == 0 && !strcmp(out, "2025-12-31"));
		CHECK(dates_parse_ex("上半年", 2025, DATES_PLAN_TEXT, out, NULL) == 0 && !strcmp(out, "2025-06-30"));
		CHECK(dates_parse_ex("全年", 2025, DATES_PLAN_TEXT, out, NULL) == 0 && !strcmp(out, "2025-12-31"));
		CHECK(dates_parse_ex("全年", 2025, 0, out, NULL) == -1);
		CHECK(dates_parse_ex("6月上旬", 2025, DATES_PLAN_TEXT, out, NULL) == 0 && !strcmp(out, "2025-06-10"));
		CHECK(dates_parse_ex("十月底前", 2025, 0, out, NULL) == 0 && !strcmp(out, "2025-10-31"));
		CHECK(dates_parse_ex("6月30日前", 2025, 0, out, &yl) == 0 && !strcmp(out, "2025-06-30") && yl == 1);
		CHECK(dates_parse_ex("2025年6月30日", 2030, 0, out, &yl) == 0 && yl == 0);
		CHECK(dates_parse_ex("9月30日前", 0, 0, out, NULL) == -1); /* no year known */
		CHECK(dates_parse_ex("2025年内", 0, DATES_PLAN_TEXT, out, NULL) == 0 && !strcmp(out, "2025-12-31"));
		/* a value ending in the first bytes of a multi-byte character: no read past its end */
		char *h = malloc(3);
		memcpy(h, "6\xE3", 3);
		CHECK(dates_parse_ex(h, 2025, 0, out, NULL) == -1);
		free(h);
		struct dates_match m;
		const char *t = "年底前全部完成";
		CHECK(dates_match(t, strlen(t), 2025, DATES_PLAN_TEXT, &m) == strlen("年底前") && m.year_end && m.yearless);
		t = "3月底前完成首轮";
		CHECK(dates_match(t, strlen(t), 2025, DATES_PLAN_TEXT, &m) == strlen("3月底前") && m.m == 3 && m.d == 31);
		t = "三月份开展";
		CHECK(dates_match(t, strlen(t), 2025, DATES_PLAN_TEXT, &m) == strlen("三月份"));
		t = "三月开展"; /* a Chinese month needs 底/末/份/日 or 前 */
		CHECK(dates_match(t, strlen(t), 2025, DATES_PLAN_TEXT, &m) == 0);
		t = "6月30前"; /* in text, the day needs 日 */
		CHECK(dates_match(t, strlen(t), 2025, DATES_PLAN_TEXT, &m) == 0);
		t = "2025年工作";
		CHECK(dates_match(t, strlen(t), 0, DATES_PLAN_TEXT, &m) == 0);
		t = "2025-04-01起";
		CHECK(dates_match(t, strlen(t), 0, DATES_PLAN_TEXT, &m) == strlen("2025-04-01") && m.d == 1);
	}
	return check_summary();
}
