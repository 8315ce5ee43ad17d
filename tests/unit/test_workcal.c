/*
 * test_workcal.c - the working-day calendar: the shipped 2025 schedule in
 * JSON and CSV (same days, 248 working days, counts across 春节), the
 * canonical form round trip, and every rule a bad calendar breaks.
 */
#include "check.h"
#include "plantrack/daynum.h"
#include "plantrack/fileio.h"
#include "plantrack/workcal.h"

#include <stdlib.h>
#include <string.h>

static char *example(const char *name, size_t *len)
{
	char path[1024];
	const char *root = getenv("PLANTRACK_SOURCE_DIR");
	snprintf(path, sizeof path, "%s/docs/examples/%s", root ? root : PLANTRACK_SOURCE_DIR, name);
	char *text = fileio_read(path, len);
	if (!text)
		fprintf(stderr, "cannot read %s\n", path);
	return text;
}

/* The first error's field and message, joined "field: message"; "" when it parsed. */
static const char *json_error(const char *text)
{
	static char out[400];
	json_error_t je;
	json_t *doc = json_loads(text, JSON_DECODE_ANY, &je), *errors = NULL;
	if (!doc) {
		snprintf(out, sizeof out, "bad test JSON: %s", je.text);
		return out;
	}
	workcal *cal = workcal_from_json(doc, &errors);
	json_decref(doc);
	out[0] = 0;
	if (cal) {
		workcal_free(cal);
		return out;
	}
	json_t *e = json_array_get(errors, 0);
	snprintf(out, sizeof out, "%s: %s", json_string_value(json_object_get(e, "field")),
		 json_string_value(json_object_get(e, "message")));
	json_decref(errors);
	return out;
}

static int json_fails(const char *text, const char *want)
{
	const char *got = json_error(text);
	if (strcmp(got, want)) {
		fprintf(stderr, "  %s\n    got  \"%s\"\n    want \"%s\"\n", text, got, want);
		return 0;
	}
	return 1;
}

static const char *csv_error(const char *text, int year, int *row, int *line)
{
	static char out[400];
	json_t *errors = NULL;
	workcal *cal = workcal_from_csv(text, strlen(text), year, &errors);
	out[0] = 0;
	if (cal) {
		workcal_free(cal);
		return out;
	}
	json_t *e = json_array_get(errors, 0);
	snprintf(out, sizeof out, "%s: %s", json_string_value(json_object_get(e, "field")),
		 json_string_value(json_object_get(e, "message")));
	if (row)
		*row = (int)json_integer_value(json_object_get(e, "row"));
	if (line)
		*line = (int)json_integer_value(json_object_get(e, "line"));
	json_decref(errors);
	return out;
}

static int csv_fails(const char *text, int year, const char *want)
{
	const char *got = csv_error(text, year, NULL, NULL);
	if (strcmp(got, want)) {
		fprintf(stderr, "  CSV %s\n    got  \"%s\"\n    want \"%s\"\n", text, got, want);
		return 0;
	}
	return 1;
}

static void check_2025(const workcal *cal)
{
	CHECK(workcal_year(cal) == 2025);
	CHECK(workcal_workdays_between(cal, "2025-01-01", "2025-12-31") == 248);
	CHECK(workcal_workdays_between(NULL, "2025-01-01", "2025-12-31") == 261);
	/* Across 春节: Jan 20 (Mon) .. Feb 14 (Fri). */
	CHECK(workcal_workdays_between(cal, "2025-01-20", "2025-02-14") == 16);
	CHECK(workcal_workdays_between(NULL, "2025-01-20", "2025-02-14") == 20);
	CHECK(workcal_workdays_between(cal, "2025-01-28", "2025-02-04") == 0);
	CHECK(workcal_workdays_between(cal, "2025-01-25", "2025-01-27") == 2); /* Sat, Sun (班), Mon */
	CHECK(workcal_workdays_between(cal, "2025-02-08", "2025-02-08") == 1);
	CHECK(workcal_workdays_between(cal, "2025-09-28", "2025-10-12") == 6); /* 9/28 班, 9/29, 9/30, 10/9, 10/10, 10/11 班 */
	CHECK(workcal_is_workday(cal, "2025-01-01") == 0);
	CHECK(workcal_is_workday(cal, "2025-01-02") == 1);
	CHECK(workcal_is_workday(cal, "2025-01-26") == 1); /* Sunday, 调休上班 */
	CHECK(workcal_is_workday(cal, "2025-01-25") == 0); /* Saturday */
	CHECK(workcal_is_workday(cal, "2025-01-28") == 0);
	CHECK(workcal_is_workday(cal, "2025-02-05") == 1);
	CHECK(workcal_is_workday(cal, "2025-04-04") == 0 && workcal_is_workday(cal, "2025-04-27") == 1);
	CHECK(workcal_is_workday(cal, "2025-05-05") == 0 && workcal_is_workday(cal, "2025-06-02") == 0);
	CHECK(workcal_is_workday(cal, "2025-10-08") == 0 && workcal_is_workday(cal, "2025-10-11") == 1);
	CHECK(workcal_is_workday(cal, "2025-02-30") == -1 && workcal_is_workday(cal, "2025/1/1") == -1);
	/* Outside the year: Monday..Friday. */
	CHECK(workcal_is_workday(cal, "2026-01-01") == 1 && workcal_is_workday(cal, "2024-12-28") == 0);
	const char *name = NULL;
	long day;
	daynum_parse("2025-01-29", &day);
	CHECK(workcal_kind_of(cal, day, &name) == WORKCAL_HOLIDAY && name && !strcmp(name, "春节"));
	daynum_parse("2025-02-08", &day);
	CHECK(workcal_kind_of(cal, day, &name) == WORKCAL_WORKDAY && name && !strcmp(name, "春节调休上班"));
	daynum_parse("2025-03-03", &day);
	CHECK(workcal_kind_of(cal, day, &name) == WORKCAL_ORDINARY && name == NULL);
}

int main(void)
{
	/* The shipped 2025 schedule, JSON. */
	size_t len;
	char *text = example("calendar-2025.json", &len);
	json_t *doc = text ? json_loads(text, 0, NULL) : NULL, *errors = NULL;
	free(text);
	workcal *cal = workcal_from_json(doc, &errors);
	json_decref(doc);
	CHECK(cal != NULL && errors == NULL);
	if (errors) {
		char *s = json_dumps(errors, 0);
		fprintf(stderr, "  %s\n", s);
		free(s);
		json_decref(errors);
	}
	check_2025(cal);

	/* Canonical form: 33 days in order, reads back the same. */
	json_t *canon = workcal_to_json(cal);
	json_t *days = json_object_get(canon, "days");
	CHECK(json_array_size(days) == 28 + 5);
	CHECK(!strcmp(json_string_value(json_object_get(json_array_get(days, 0), "day")), "2025-01-01"));
	CHECK(!strcmp(json_string_value(json_object_get(json_array_get(days, 1), "kind")), "workday"));
	CHECK(!strcmp(json_string_value(json_object_get(json_array_get(days, 1), "day")), "2025-01-26"));
	CHECK(json_integer_value(json_object_get(canon, "year")) == 2025);
	workcal *again = workcal_from_json(canon, &errors);
	CHECK(again != NULL);
	json_t *canon2 = workcal_to_json(again);
	CHECK(json_equal(canon, canon2));
	json_decref(canon2);
	workcal_free(again);

	/* The same schedule, CSV: the same canonical form (source aside). */
	text = example("calendar-2025.csv", &len);
	workcal *csvcal = text ? workcal_from_csv(text, len, 2025, &errors) : NULL;
	CHECK(csvcal != NULL);
	if (csvcal) {
		check_2025(csvcal);
		json_t *c = workcal_to_json(csvcal);
		CHECK(json_equal(json_object_get(c, "days"), days));
		json_decref(c);
		workcal_free(csvcal);
	}
	/* year 0: taken from the first date. */
	csvcal = text ? workcal_from_csv(text, len, 0, &errors) : NULL;
	CHECK(csvcal && workcal_year(csvcal) == 2025);
	workcal_free(csvcal);
	free(text);
	json_decref(canon);
	workcal_free(cal);

	/* No calendar: weekends only. */
	CHECK(workcal_is_workday(NULL, "2025-01-01") == 1);
	CHECK(workcal_workdays_between(NULL, "2025-01-06", "2025-01-12") == 5);
	CHECK(workcal_workdays_between(NULL, "2025-01-12", "2025-01-06") == 0);
	CHECK(workcal_workdays_between(NULL, "2025-01-06", "2025-13-01") == -1);
	CHECK(workcal_year(NULL) == 0 && workcal_to_json(NULL) == NULL);

	/* JSON forms. */
	CHECK(json_fails("{\"year\":2025}", ""));
	CHECK(json_fails("{\"year\":2025,\"holidays\":[\"2025-01-01\"],\"workdays\":[]}", ""));
	CHECK(json_fails("{\"year\":2025,\"holidays\":[{\"date\":\"2025-01-01\",\"name\":null}],\"source\":null}", ""));
	CHECK(json_fails("{\"year\":2025,\"holidays\":[\"2025-01-01\",{\"date\":\"2025-01-01\",\"name\":\"元旦\"}]}", ""));
	CHECK(json_fails("{\"year\":2025,\"days\":[{\"day\":\"2025-01-26\",\"kind\":\"workday\",\"name\":null}]}", ""));

	/* Every rule. */
	CHECK(json_fails("[]", ": the calendar must be a JSON object"));
	CHECK(json_fails("{}", "year: required: an integer from 1900 to 2999"));
	CHECK(json_fails("{\"year\":\"2025\"}", "year: required: an integer from 1900 to 2999"));
	CHECK(json_fails("{\"year\":1800}", "year: required: an integer from 1900 to 2999"));
	CHECK(json_fails("{\"year\":2025,\"holiday\":[]}", "holiday: unknown field"));
	CHECK(json_fails("{\"year\":2025,\"source\":5}", "source: must be a string"));
	CHECK(json_fails("{\"year\":2025,\"holidays\":\"2025-01-01\"}",
			 "holidays: must be an array of dates or {from,to,name} ranges"));
	/* impossible dates */
	CHECK(json_fails("{\"year\":2025,\"holidays\":[\"2025-01-01\",\"2025-02-30\"]}",
			 "holidays[1]: 2025-02-30 is not a real date"));
	CHECK(json_fails("{\"year\":2025,\"holidays\":[{\"from\":\"2025-02-28\",\"to\":\"2025-02-29\"}]}",
			 "holidays[0].to: 2025-02-29 is not a real date"));
	CHECK(json_fails("{\"year\":2025,\"workdays\":[{\"date\":\"2025-13-01\"}]}",
			 "workdays[0].date: 2025-13-01 is not a real date"));
	CHECK(json_fails("{\"year\":2025,\"holidays\":[\"2025/1/1\"]}",
			 "holidays[0]: must be a date YYYY-MM-DD (got \"2025/1/1\")"));
	CHECK(json_fails("{\"year\":2025,\"holidays\":[20250101]}",
			 "holidays[0]: must be a date, {\"date\",\"name\"} or {\"from\",\"to\",\"name\"}"));
	/* outside the stated year */
	CHECK(json_fails("{\"year\":2025,\"holidays\":[\"2024-12-31\"]}", "holidays[0]: 2024-12-31 is outside 2025"));
	CHECK(json_fails("{\"year\":2025,\"holidays\":[{\"from\":\"2025-12-31\",\"to\":\"2026-01-01\",\"name\":\"元旦\"}]}",
			 "holidays[0].to: 2026-01-01 is outside 2025"));
	/* ranges */
	CHECK(json_fails("{\"year\":2025,\"holidays\":[{\"from\":\"2025-02-04\",\"to\":\"2025-01-28\"}]}",
			 "holidays[0]: from 2025-02-04 is after to 2025-01-28"));
	CHECK(json_fails("{\"year\":2025,\"holidays\":[{\"from\":\"2025-01-28\"}]}", "holidays[0].to: required"));
	CHECK(json_fails("{\"year\":2025,\"holidays\":[{\"date\":\"2025-01-28\",\"to\":\"2025-01-29\"}]}",
			 "holidays[0]: give date, or from and to, not both"));
	CHECK(json_fails("{\"year\":2025,\"holidays\":[{\"day\":\"2025-01-28\"}]}", "holidays[0].day: unknown field"));
	CHECK(json_fails("{\"year\":2025,\"holidays\":[{\"date\":\"2025-01-28\",\"name\":1}]}",
			 "holidays[0].name: must be a string"));
	/* overlapping: both a holiday and a workday */
	CHECK(json_fails("{\"year\":2025,\"holidays\":[\"2025-01-01\",{\"from\":\"2025-01-28\",\"to\":\"2025-02-04\"}],"
			 "\"workdays\":[\"2025-02-01\"]}",
			 "workdays[0]: 2025-02-01 is both a workday here and a holiday in holidays[1]"));
	CHECK(json_fails("{\"year\":2025,\"days\":[{\"day\":\"2025-02-08\",\"kind\":\"workday\"},"
			 "{\"day\":\"2025-02-08\",\"kind\":\"holiday\"}]}",
			 "days[1]: 2025-02-08 is both a holiday here and a workday in days[0]"));
	/* a workday that is already a weekday */
	CHECK(json_fails("{\"year\":2025,\"workdays\":[\"2025-01-26\",\"2025-01-27\"]}",
			 "workdays[1]: 2025-01-27 is a Monday, already a working day; list only weekend days as workdays"));
	CHECK(json_fails("{\"year\":2025,\"workdays\":[{\"from\":\"2025-02-08\",\"to\":\"2025-02-10\"}]}",
			 "workdays[0]: 2025-02-10 is a Monday, already a working day; list only weekend days as workdays"));
	CHECK(json_fails("{\"year\":2025,\"days\":[{\"day\":\"2025-01-26\",\"kind\":\"rest\"}]}",
			 "days[0].kind: must be holiday or workday"));
	/* every problem is listed, not just the first */
	doc = json_loads("{\"year\":2025,\"holidays\":[\"2025-02-30\",\"2024-01-01\"],\"workdays\":[\"2025-01-27\"],\"x\":1}",
			 0, NULL);
	CHECK(workcal_from_json(doc, &errors) == NULL && json_array_size(errors) == 4);
	json_decref(errors);
	json_decref(doc);

	/* CSV. */
	CHECK(csv_fails("date,kind,name\n2025-01-01,休,元旦\n2025-01-26,班,\n", 2025, ""));
	CHECK(csv_fails("日期,类型,名称\r\n2025/1/1,holiday,元旦\r\n2025/2/8,WORKDAY,春节\r\n,,\r\n", 2025, ""));
	CHECK(csv_fails("2025-01-01,假,元旦\n", 0, ""));
	CHECK(csv_fails("date,kind,name\n2025-02-30,休,x\n", 2025, "rows[1].date: 2025-02-30 is not a real date"));
	CHECK(csv_fails("date,kind,name\n2025-01-01,休\n2025/2/29,休\n", 2025, "rows[2].date: 2025/2/29 is not a real date"));
	CHECK(csv_fails("date,kind,name\n2025-01-01,休\n1/28,休\n", 2025,
			"rows[2].date: must be a date YYYY-MM-DD (got \"1/28\")"));
	CHECK(csv_fails("date,kind,name\n2025-02-30,休,x\n2025-01-01,休\n", 0, "rows[1].date: 2025-02-30 is not a real date"));
	CHECK(csv_fails("date,kind,name\n2024-12-31,休,元旦\n", 2025, "rows[1].date: 2024-12-31 is outside 2025"));
	CHECK(csv_fails("date,kind,name\n2025-01-01,休\n2026-01-01,休\n", 0, "rows[2].date: 2026-01-01 is outside 2025"));
	CHECK(csv_fails("date,kind,name\n2025-01-01,rest,元旦\n", 2025,
			"rows[1].kind: must be 休, 班, holiday or workday (got \"rest\")"));
	CHECK(csv_fails("date,kind,name\n2025-01-27,班,\n", 2025,
			"rows[1].date: 2025-01-27 is a Monday, already a working day; list only weekend days as workdays"));
	int row = 0, line = 0;
	const char *e = csv_error("date,kind,name\n2025-02-08,班,春节\n\n2025-02-08,休,春节\n", 2025, &row, &line);
	CHECK(!strcmp(e, "rows[2].date: 2025-02-08 is both a holiday here and a workday in line 2") && row == 2 &&
	      line == 4);
	CHECK(csv_fails("date,kind,name\n2025-01-01,休,元旦,extra\n", 2025,
			"rows[1]: line 2: expected date,kind,name (more columns given)"));
	CHECK(csv_fails("date,kind,name\n", 2025, "file: no days: expected records date,kind,name"));
	CHECK(csv_fails("date,kind\n\"2025-01-01,休\n", 2025, "file: line 2: quoted field is never closed (a \" is missing)"));
	CHECK(csv_fails("2025-01-01,休\n", 1800, "year: must be from 1900 to 2999"));
	return check_summary();
}
