/*
 * test_csvimport.c - CSV task lists to task JSON: Chinese and English
 * headers, the GBK fixture, every bad row listed, file-level errors,
 * warnings, and a 10,000-row file.
 */
#include "check.h"
#include "plantrack/csvimport.h"
#include "plantrack/textenc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *slurp(const char *rel, size_t *len)
{
	const char *root = getenv("PLANTRACK_SOURCE_DIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", root ? root : PLANTRACK_SOURCE_DIR, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

struct result {
	int rc;
	json_t *tasks, *errors, *warnings;
};

static struct result run(const char *csv, size_t n, const char *charset, int year)
{
	struct result r;
	r.rc = csvimport_tasks(csv, n, charset, year, &r.tasks, &r.errors, &r.warnings);
	if ((r.rc == 0) != (r.tasks != NULL) || (r.rc == 0) != (r.errors == NULL) || !r.warnings)
		fprintf(stderr, "  ownership contract broken: rc=%d\n", r.rc);
	return r;
}

static struct result runs(const char *csv, int year)
{
	return run(csv, strlen(csv), NULL, year);
}

static void done(struct result *r)
{
	json_decref(r->tasks);
	json_decref(r->errors);
	json_decref(r->warnings);
}

/* JSON of a value equals the expected compact JSON text. */
static int json_is(json_t *v, const char *want)
{
	char *got = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
	char *wants = w ? json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	int ok = got && wants && !strcmp(got, wants);
	if (!ok)
		fprintf(stderr, "  got  %s\n  want %s\n", got ? got : "NULL", wants ? wants : want);
	free(got);
	free(wants);
	json_decref(w);
	return ok;
}

/* errors[i] has row, line, column (NULL = json null) and a message containing part. */
static int error_is(json_t *errors, size_t i, long row, long line, const char *column, const char *part)
{
	json_t *e = json_array_get(errors, i);
	json_t *col = json_object_get(e, "column"), *ln = json_object_get(e, "line");
	const char *msg = json_string_value(json_object_get(e, "message"));
	int ok = e && json_integer_value(json_object_get(e, "row")) == row &&
		 (line ? json_integer_value(ln) == line : json_is_null(ln)) &&
		 (column ? json_is_string(col) && !strcmp(json_string_value(col), column) : json_is_null(col)) &&
		 msg && strstr(msg, part);
	if (!ok) {
		char *s = json_dumps(errors, JSON_COMPACT);
		fprintf(stderr, "  errors[%zu] wanted row %ld line %ld column %s \"%s\"; errors: %s\n", i, row, line,
			column ? column : "null", part, s ? s : "NULL");
		free(s);
	}
	return ok;
}

static int has_warning(json_t *warnings, const char *part)
{
	size_t i;
	json_t *w;
	json_array_foreach(warnings, i, w)
		if (strstr(json_string_value(w), part))
			return 1;
	char *s = json_dumps(warnings, JSON_COMPACT);
	fprintf(stderr, "  no warning with \"%s\" in %s\n", part, s ? s : "NULL");
	free(s);
	return 0;
}

int main(void)
{
	struct result r;

	/* The GBK fixture, as Chinese Excel writes it. */
	{
		size_t len = 0;
		char *gbk = slurp("tests/data/csv/minsheng.gbk.csv", &len);
		CHECK(gbk != NULL);
		const char *want =
			"[{\"seq\":1,\"title\":\"新增网格驿站\",\"body\":\"在城东街道新建网格驿站10处，含\\\"红色驿站\\\",配套设施完善\","
			"\"lead_unit\":\"社会事务办\",\"owner\":\"王芳\",\"due_date\":\"2025-06-30\","
			"\"targets\":[{\"label\":\"新增网格驿站\",\"value\":10,\"unit\":\"处\",\"comparator\":\"=\",\"text\":\"10处\"}]},"
			"{\"seq\":2,\"title\":\"老旧小区改造\",\"body\":\"改造老旧小区3个\\r\\n惠及居民1200户\",\"lead_unit\":\"城建办\","
			"\"owner\":\"李强\",\"due_date\":\"2025-09-30\","
			"\"targets\":[{\"label\":\"老旧小区改造\",\"value\":3,\"unit\":\"个\",\"comparator\":\"=\",\"text\":\"3个\"}]},"
			"{\"seq\":3,\"title\":\"孵化社会组织\",\"body\":\"孵化社会组织30支以上\",\"lead_unit\":\"社会事务办\","
			"\"owner\":\"张伟\",\"due_date\":\"2025-12-31\","
			"\"targets\":[{\"label\":\"孵化社会组织\",\"value\":30,\"unit\":\"支\",\"comparator\":\"=\",\"text\":\"30支\"}]},"
			"{\"seq\":4,\"title\":\"背街小巷整治\",\"body\":\"整治背街小巷15条, 铺设沥青路面2.5万平方米\",\"lead_unit\":\"城管办\","
			"\"owner\":\"赵敏\",\"due_date\":\"2025-10-31\","
			"\"targets\":[{\"label\":\"背街小巷整治\",\"value\":2.5,\"unit\":\"万平方米\",\"comparator\":\"=\",\"text\":\"2.5万平方米\"}]}]";
		r = run(gbk, len, "gbk", 2025);
		CHECK(r.rc == 0 && json_is(r.tasks, want) && json_array_size(r.warnings) == 0);
		done(&r);
		r = run(gbk, len, NULL, 2025); /* detected */
		CHECK(r.rc == 0 && json_is(r.tasks, want));
		done(&r);
		r = run(gbk, len, "utf-8", 2025); /* wrong label: one file-level error */
		CHECK(r.rc == -1 && json_array_size(r.errors) == 1 && error_is(r.errors, 0, 0, 0, NULL, "invalid UTF-8"));
		done(&r);
		size_t ulen = 0;
		char *utf8 = slurp("tests/data/csv/minsheng.utf8.csv", &ulen);
		r = run(utf8, ulen, "utf-8", 2025);
		CHECK(r.rc == 0 && json_is(r.tasks, want));
		done(&r);
		/* With a BOM, labelled gbk: the BOM wins. */
		char *bom = malloc(ulen + 3);
		memcpy(bom, "\xEF\xBB\xBF", 3);
		memcpy(bom + 3, utf8, ulen);
		r = run(bom, ulen + 3, "gbk", 2025);
		CHECK(r.rc == 0 && json_is(r.tasks, want));
		done(&r);
		free(bom);
		free(utf8);
		free(gbk);
	}

	/* English headers, any case, spaces; nulls; order of columns free; no target. */
	r = runs(" Title ,SEQ,Due_Date,owner,LEAD_UNIT,body,target_value,target_unit\n"
		 "Grid stations,7,6月底,,Social Affairs,,,\n"
		 "Second,,2026-01-15,Wang,,text,95%,\n", 2025);
	CHECK(r.rc == 0 && json_is(r.tasks,
		"[{\"seq\":7,\"title\":\"Grid stations\",\"body\":null,\"lead_unit\":\"Social Affairs\",\"owner\":null,"
		"\"due_date\":\"2025-06-30\"},"
		"{\"seq\":null,\"title\":\"Second\",\"body\":\"text\",\"lead_unit\":null,\"owner\":\"Wang\",\"due_date\":\"2026-01-15\","
		"\"targets\":[{\"label\":\"Second\",\"value\":95,\"unit\":\"%\",\"comparator\":\"=\",\"text\":\"95%\"}]}]"));
	done(&r);

	/* Chinese headers with a BOM, spaces and a newline in a header cell; title row above; blank rows. */
	r = runs("\xEF\xBB\xBF" "2025年城东街道民生实事项目清单,,,,\r\n"
		 ",,,,\r\n"
		 "序号,\xE3\x80\x80项目名称 ,\"计划完成\n时间\",目标值,单位,备注\r\n"
		 "1,改造雨污管网,2025年9月30日,\"1,200\",米,先行\r\n"
		 ",,,,,\r\n"
		 "\r\n"
		 "2,新增停车位,9月底,-3.50,个,\r\n", 2025);
	CHECK(r.rc == 0 && json_array_size(r.tasks) == 2);
	CHECK(r.rc == 0 && json_is(json_array_get(r.tasks, 0),
		"{\"seq\":1,\"title\":\"改造雨污管网\",\"body\":null,\"lead_unit\":null,\"owner\":null,\"due_date\":\"2025-09-30\","
		"\"note\":\"先行\","
		"\"targets\":[{\"label\":\"改造雨污管网\",\"value\":1200,\"unit\":\"米\",\"comparator\":\"=\",\"text\":\"1,200米\"}]}"));
	CHECK(r.rc == 0 && json_is(json_object_get(json_array_get(json_object_get(json_array_get(r.tasks, 1), "targets"), 0), "value"), "-3.5"));
	CHECK(has_warning(r.warnings, "skipped 2 row(s) above the header row on line 3"));
	CHECK(has_warning(r.warnings, "时间 without a year in row(s) 3: the plan's year 2025 was used"));
	done(&r);

	/* Every problem in every row is listed, with row, line and the column as written. */
	r = runs("序号,项目名称,计划完成时间,目标值,单位\n"
		 "1,好的一行,2025-06-30,10,处\n"          /* row 1 fine */
		 "x,,2025-02-30,abc,处\n"                  /* row 2: seq, title, date, value */
		 "3,\"多行\n标题\",明年,1e5,\n"             /* row 3 (line 4): date, value */
		 "4,多了一列,2025-06-30,1,处,extra\n"       /* row 4 (line 6): extra cell */
		 "5,ok,2025年6月,1.2.3,处\n"               /* row 5: value */
		 "-1,ok,,,\n",                              /* row 6: seq negative */
		 2025);
	CHECK(r.rc == -1 && r.tasks == NULL && json_array_size(r.errors) == 9);
	CHECK(error_is(r.errors, 0, 2, 3, "序号", "whole number"));
	CHECK(error_is(r.errors, 1, 2, 3, "项目名称", "required"));
	CHECK(error_is(r.errors, 2, 2, 3, "计划完成时间", "\"2025-02-30\" is not a valid date"));
	CHECK(error_is(r.errors, 3, 2, 3, "目标值", "\"abc\" is not a number"));
	CHECK(error_is(r.errors, 4, 3, 4, "计划完成时间", "明年"));
	CHECK(error_is(r.errors, 5, 3, 4, "目标值", "1e5"));
	CHECK(error_is(r.errors, 6, 4, 6, NULL, "6 cells but the header has 5"));
	CHECK(error_is(r.errors, 7, 5, 7, "目标值", "1.2.3"));
	CHECK(error_is(r.errors, 8, 6, 8, "序号", "whole number"));
	done(&r);

	/* English header names appear in errors as written. */
	r = runs("Title,Due_Date\n,soon\n", 2025);
	CHECK(r.rc == -1 && error_is(r.errors, 0, 1, 2, "Title", "required") &&
	      error_is(r.errors, 1, 1, 2, "Due_Date", "soon"));
	done(&r);

	/* Too long fields; extra empty cells are fine; seq range. */
	{
		size_t tl = 2001 * 3 + 64;
		char *csv = malloc(tl + 40000 * 1 + 256);
		strcpy(csv, "项目名称,建设内容,序号,责任人,单位,目标值\n");
		for (int i = 0; i < 2001; i++)
			strcat(csv, "长");
		strcat(csv, ",ok,1000001,");
		for (int i = 0; i < 101; i++)
			strcat(csv, "x");
		strcat(csv, ",,,,,\n");
		/* exactly at the limits: fine */
		size_t n = strlen(csv);
		for (int i = 0; i < 2000; i++)
			n += (size_t)sprintf(csv + n, "题");
		n += (size_t)sprintf(csv + n, ",");
		csv = realloc(csv, n + 20000 + 64);
		memset(csv + n, 'b', 20000);
		n += 20000;
		n += (size_t)sprintf(csv + n, ",1000000,,,\n");
		r = run(csv, n, NULL, 2025);
		CHECK(r.rc == -1 && json_array_size(r.errors) == 3);
		CHECK(error_is(r.errors, 0, 1, 2, "序号", "whole number"));
		CHECK(error_is(r.errors, 1, 1, 2, "项目名称", "too long (2001 characters, at most 2000)"));
		CHECK(error_is(r.errors, 2, 1, 2, "责任人", "too long"));
		done(&r);
		/* One over on the body. */
		memcpy(csv + n - 12, "b,1000000,,,\n", 13);
		n += 1;
		r = run(csv, n, NULL, 2025);
		CHECK(r.rc == -1 && error_is(r.errors, json_array_size(r.errors) - 1, 2, 3, "建设内容", "at most 20000"));
		done(&r);
		free(csv);
	}

	/* File-level errors: row 0, one error. */
	r = runs("序号,名目,时间\n1,a,b\n", 2025);
	CHECK(r.rc == -1 && json_array_size(r.errors) == 1 && error_is(r.errors, 0, 0, 1, NULL, "项目名称"));
	done(&r);
	r = runs("序号\t项目名称\n1\ta\n", 2025);
	CHECK(r.rc == -1 && error_is(r.errors, 0, 0, 1, NULL, "tab-separated"));
	done(&r);
	r = runs("项目名称,title\n1,2\n", 2025);
	CHECK(r.rc == -1 && json_array_size(r.errors) == 1 && error_is(r.errors, 0, 0, 1, "title", "appears twice (columns 1 and 2)"));
	done(&r);
	r = runs("项目名称,计划完成时间\n\"a,2025-06-30\n", 2025);
	CHECK(r.rc == -1 && json_array_size(r.errors) == 1 && error_is(r.errors, 0, 0, 0, NULL, "line 2"));
	done(&r);
	r = runs("项目名称,计划完成时间\r\n,,\r\n", 2025);
	CHECK(r.rc == -1 && json_array_size(r.errors) == 1 && error_is(r.errors, 0, 0, 1, NULL, "no data rows"));
	done(&r);
	r = runs("", 2025);
	CHECK(r.rc == -1 && error_is(r.errors, 0, 0, 0, NULL, "empty"));
	done(&r);
	r = runs("\xEF\xBB\xBF\r\n\r\n", 2025);
	CHECK(r.rc == -1 && error_is(r.errors, 0, 0, 0, NULL, "empty"));
	done(&r);
	r = run("PK\x03\x04\x14\x00", 6, NULL, 2025);
	CHECK(r.rc == -1 && error_is(r.errors, 0, 0, 0, NULL, ".xlsx"));
	done(&r);
	r = run("项目名称\n\xFF\xFF\n", strlen("项目名称\n\xFF\xFF\n"), NULL, 2025);
	CHECK(r.rc == -1 && json_array_size(r.errors) == 1 && error_is(r.errors, 0, 0, 0, NULL, "GB18030"));
	done(&r);
	r = run("title\na\0b\n", 10, NULL, 2025);
	CHECK(r.rc == -1 && error_is(r.errors, 0, 0, 0, NULL, "NUL"));
	done(&r);
	r = run("title\na\n", 8, "big5", 2025);
	CHECK(r.rc == -1 && error_is(r.errors, 0, 0, 0, NULL, "unsupported charset"));
	done(&r);

	/* Unit without a value: a warning, no target; warnings may be NULL. */
	r = runs("seq,title,target_unit,,\n1,a,处,,\n3,b,,,\n2,c,,x,\n", 2025);
	CHECK(r.rc == 0 && json_array_size(r.tasks) == 3 && !json_object_get(json_array_get(r.tasks, 0), "targets"));
	CHECK(has_warning(r.warnings, "row 1 (line 2): target_unit is set but"));
	CHECK(has_warning(r.warnings, "column 4 has no header"));
	done(&r);
	/* 序号 twice under one parent: an error listing the rows (re-imports match on it). */
	r = runs("序号,项目名称\n1,a\n2,b\n1,c\n1,d\n", 2025);
	CHECK(r.rc == -1 && json_array_size(r.errors) == 1 &&
	      error_is(r.errors, 0, 1, 2, "序号", "rows 1, 3 and 4: 序号 1 is used more than once"));
	done(&r);

	/* 配合单位 (several), 分管领导, 权重, 备注 */
	r = runs("序号,项目名称,牵头单位,配合单位,分管领导,权重,备注\n"
		 "1,修路,城管办,\"住建办、派出所/城管办 , 住建办\",李明,2.5,先行\n"
		 "2,建园,建设办,,,,\n", 2025);
	CHECK(r.rc == 0 && json_is(json_array_get(r.tasks, 0),
		"{\"seq\":1,\"title\":\"修路\",\"body\":null,\"lead_unit\":\"城管办\",\"owner\":null,\"due_date\":null,"
		"\"co_units\":[\"住建办\",\"派出所\",\"城管办\"],\"leader\":\"李明\",\"weight\":2.5,\"note\":\"先行\"}"));
	CHECK(r.rc == 0 && json_is(json_array_get(r.tasks, 1),
		"{\"seq\":2,\"title\":\"建园\",\"body\":null,\"lead_unit\":\"建设办\",\"owner\":null,\"due_date\":null,"
		"\"co_units\":[],\"leader\":null,\"weight\":null,\"note\":null}"));
	CHECK(r.rc == 0 && json_array_size(r.warnings) == 0);
	done(&r);
	r = runs("项目名称,权重\na,0\nb,-1\nc,x\nd,10%\ne,3\n", 2025);
	CHECK(r.rc == -1 && json_array_size(r.errors) == 4);
	CHECK(error_is(r.errors, 0, 1, 2, "权重", "must be a number greater than 0, not \"0\""));
	CHECK(error_is(r.errors, 2, 3, 4, "权重", "not \"x\""));
	done(&r);

	/* Yearless dates take the plan's year, and the rows are named; plan-only words are refused. */
	r = runs("项目名称,计划完成时间\na,6月底前\nb,2025-03-31\nc,9月30日前\n", 2025);
	CHECK(r.rc == 0 && json_is(json_object_get(json_array_get(r.tasks, 0), "due_date"), "\"2025-06-30\""));
	CHECK(r.rc == 0 && json_is(json_object_get(json_array_get(r.tasks, 2), "due_date"), "\"2025-09-30\""));
	CHECK(has_warning(r.warnings, "计划完成时间 without a year in row(s) 1, 3: the plan's year 2025 was used"));
	done(&r);
	/* One date grammar: a plan's words are read in a sheet too, in the plan's year. */
	r = runs("项目名称,计划完成时间\na,三季度末\nb,上半年\nc,年底前\nd,6月上旬\n", 2025);
	CHECK(r.rc == 0 && json_is(json_object_get(json_array_get(r.tasks, 0), "due_date"), "\"2025-09-30\""));
	CHECK(r.rc == 0 && json_is(json_object_get(json_array_get(r.tasks, 1), "due_date"), "\"2025-06-30\""));
	CHECK(r.rc == 0 && json_is(json_object_get(json_array_get(r.tasks, 2), "due_date"), "\"2025-12-31\""));
	CHECK(r.rc == 0 && json_is(json_object_get(json_array_get(r.tasks, 3), "due_date"), "\"2025-06-10\""));
	CHECK(has_warning(r.warnings, "without a year in row(s) 1, 2, 3, 4: the plan's year 2025 was used"));
	done(&r);
	r = runs("项目名称,计划完成时间\na,三季度末\n", 0);
	CHECK(r.rc == -1 && error_is(r.errors, 0, 1, 2, "计划完成时间", "has no year and the plan's year is not known"));
	done(&r);

	/* The export's sheet reads back: bilingual headers, computed columns skipped, ids kept. */
	{
		const char *sheet = "编号 code,任务 title,牵头单位 lead_unit,状态 status,计划完成 due_date,"
				    "完成时限 effective_due,指标 targets,id\n"
				    "1,修路,城管办,assigned,2025-06-30,2025-06-30,,0b7d2f6c-8a51-4c3e-9f4e-3f1a2b3c4d5e\n";
		json_t *tasks, *errors, *warnings, *columns;
		CHECK(csvimport_tasks_ex(sheet, strlen(sheet), NULL, 2025, &tasks, &errors, &warnings, &columns) == 0);
		CHECK(json_is(json_array_get(tasks, 0), "{\"seq\":null,\"title\":\"修路\",\"body\":null,\"lead_unit\":\"城管办\","
			      "\"owner\":null,\"due_date\":\"2025-06-30\",\"id\":\"0b7d2f6c-8a51-4c3e-9f4e-3f1a2b3c4d5e\"}"));
		CHECK(json_is(columns, "[\"title\",\"lead_unit\",\"due_date\"]"));
		CHECK(json_array_size(warnings) == 0);
		json_decref(tasks);
		json_decref(warnings);
		json_decref(columns);
		const char *bad = "title,id\na,not-a-uuid\n";
		CHECK(csvimport_tasks_ex(bad, strlen(bad), NULL, 2025, &tasks, &errors, NULL, &columns) == -1 &&
		      error_is(errors, 0, 1, 2, "id", "must be a task id") && !columns);
		json_decref(errors);
	}
	{
		json_t *tasks, *errors;
		CHECK(csvimport_tasks("title\nx\n", 8, NULL, 2025, &tasks, &errors, NULL) == 0 && json_array_size(tasks) == 1);
		json_decref(tasks);
		CHECK(csvimport_tasks("title\n\"x\n", 9, NULL, 2025, &tasks, &errors, NULL) == -1 && json_array_size(errors) == 1);
		json_decref(errors);
	}

	/* A date without a year needs the hint. */
	r = runs("title,due_date\na,6月底\n", 0);
	CHECK(r.rc == -1 && error_is(r.errors, 0, 1, 2, "due_date", "has no year and the plan's year is not known"));
	done(&r);

	/* 10,000 rows, generated: parse quickly, every 1000th made bad to list 10 errors. */
	{
		size_t cap = 10000 * 200 + 256, n = 0;
		char *csv = malloc(cap);
		n += (size_t)sprintf(csv + n, "序号,项目名称,建设内容,牵头单位,责任人,计划完成时间,目标值,单位\r\n");
		for (int i = 1; i <= 10000; i++)
			n += (size_t)sprintf(csv + n, "%d,民生实事项目%d,\"建设内容，第%d项\r\n含换行\",社会事务办,王芳,2025年%d月底,%d,项\r\n",
					     i, i, i, i % 12 + 1, i);
		clock_t t0 = clock();
		r = run(csv, n, NULL, 2025);
		double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
		CHECK(r.rc == 0 && json_array_size(r.tasks) == 10000);
		CHECK(json_integer_value(json_object_get(json_array_get(r.tasks, 9999), "seq")) == 10000);
		CHECK(secs < 5.0);
		printf("10,000 rows in %.3f s\n", secs);
		done(&r);
		/* Break every 1000th row's date. */
		char *p = csv;
		int k = 0;
		while ((p = strstr(p, "月底,")) != NULL) {
			if (++k % 1000 == 0)
				memcpy(p, "月XYZ", strlen("月XYZ")); /* same length as 月底 */
			p += 3;
		}
		r = run(csv, n, NULL, 2025);
		CHECK(r.rc == -1 && json_array_size(r.errors) == 10);
		CHECK(error_is(r.errors, 9, 10000, 2 * 10000, "计划完成时间", "not a valid date"));
		done(&r);
		free(csv);
	}
	/* the row estimate (lines less the header) and the 422 error list */
	{
		CHECK(csvimport_row_estimate("", 0) == 0);
		CHECK(csvimport_row_estimate("a,b\n", 4) == 0);
		CHECK(csvimport_row_estimate("a,b\n1,2\n3,4", 12) == 2);
		CHECK(csvimport_row_estimate("a,b\r\n1,2\r\n3,4\r\n", 15) == 2);
		CHECK(csvimport_row_estimate("a\n\"x\ny\"\n", 8) == 2); /* a quoted line break counts */
		struct result e = run("序号,项目名称\n1,\n2,任务\n", strlen("序号,项目名称\n1,\n2,任务\n"), NULL, 2025);
		CHECK(e.rc == -1);
		char detail[40];
		json_t *list = csvimport_error_list(e.errors, detail, sizeof detail);
		CHECK(json_array_size(list) == json_array_size(e.errors));
		CHECK(!strcmp(json_string_value(json_object_get(json_array_get(list, 0), "field")), "rows[1].项目名称"));
		CHECK(!strncmp(detail, "1 problem(s) in the file", strlen("1 problem(s) in the file")));
		CHECK(textenc_is_utf8(detail, strlen(detail))); /* cut at a character boundary */
		json_decref(list);
		done(&e);
	}
	/* COPY text for the database's stage: made while reading (csvimport_copy_ex)
	 * it equals the task objects' (csvimport_copy_rows); fields escaped, \N for none */
	{
		const char *sheet = "序号,项目名称,建设内容,牵头单位,配合单位,计划完成时间,目标值,单位,权重\n"
				    "1,\"a\tb\",\"x\\y\nz\",城管办,\"甲、乙\",2025-06-30,80%,,2.5\n"
				    "2,无目标,,,,,,,\n";
		struct result t = run(sheet, strlen(sheet), NULL, 2025);
		CHECK(t.rc == 0);
		size_t len = 0, clen = 0, rows = 0;
		char *want = csvimport_copy_rows(t.tasks, &len);
		char *copy = NULL;
		json_t *errors = NULL, *warnings = NULL, *columns = NULL;
		CHECK(csvimport_copy_ex(sheet, strlen(sheet), NULL, 2025, &copy, &clen, &rows, &errors, &warnings, &columns) == 0);
		CHECK(copy && rows == 2 && clen == len && !strcmp(copy, want));
		CHECK(!strcmp(want, "1\t1\t\\N\ta\\tb\tx\\\\y\\nz\t城管办\t[\"甲\",\"乙\"]\t\\N\t\\N\t2025-06-30\t2.5\t\\N"
				    "\ta\\tb\t80\t%\t=\t80%\n"
				    "2\t2\t\\N\t无目标\t\\N\t\\N\t[]\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"));
		CHECK(json_array_size(columns) > 0);
		free(want);
		free(copy);
		json_decref(warnings);
		json_decref(columns);
		done(&t);
		/* a sheet with errors: no COPY text, the errors as csvimport_tasks_ex's */
		CHECK(csvimport_copy_ex("项目名称\n\n", 14, NULL, 2025, &copy, &clen, &rows, &errors, &warnings, &columns) == -1);
		CHECK(copy == NULL && rows == 0 && json_array_size(errors) == 1);
		json_decref(errors);
		json_decref(warnings);
	}
	return check_summary();
}
