/*
 * test_ledger_xlsx.c - the ledger workbook: the sample document
 * (docs/examples/ledger-2025.json) renders to memory and to a file, bad
 * fields are named by path, temporary files never stay behind, long notes are
 * cut. `test_ledger_xlsx --write PATH [JSON]` writes the sample (or JSON) for
 * tests/xlsx/check_ledger_xlsx.py, which opens it with LibreOffice.
 */
#include "check.h"
#include "plantrack/ledger_xlsx.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static json_t *load_sample(const char *path)
{
	char buf[4096];
	if (!path) {
		const char *root = getenv("PLANTRACK_SOURCE_DIR");
		snprintf(buf, sizeof buf, "%s/docs/examples/ledger-2025.json", root ? root : PLANTRACK_SOURCE_DIR);
		path = buf;
	}
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je);
	if (!doc)
		fprintf(stderr, "cannot load %s: %s (line %d)\n", path, je.text, je.line);
	return doc;
}

/* Renders doc to memory; returns the message ("" on success). */
static const char *render_err(json_t *doc)
{
	static char err[256];
	unsigned char *out = NULL;
	size_t len = 0;
	int rc = ledger_xlsx_render(doc, NULL, &out, &len, err, sizeof err);
	free(out);
	json_decref(doc);
	if (rc == 0)
		return "";
	return err;
}

static int fails_with(const char *json_text, const char *want)
{
	json_error_t je;
	json_t *doc = json_loads(json_text, 0, &je);
	if (!doc) {
		fprintf(stderr, "  bad test JSON: %s\n", je.text);
		return 0;
	}
	const char *err = render_err(doc);
	if (strcmp(err, want)) {
		fprintf(stderr, "  got \"%s\", want \"%s\"\n", err, want);
		return 0;
	}
	return 1;
}

/* The sample with one task member replaced (value is JSON text). */
static const char *with_task_field(size_t index, const char *key, const char *value)
{
	json_t *doc = load_sample(NULL);
	json_object_set_new(json_array_get(json_object_get(doc, "tasks"), index), key, json_loads(value, JSON_DECODE_ANY, NULL));
	return render_err(doc);
}

static int dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n == 0;
}

int main(int argc, char **argv)
{
	char err[256];
	if (argc >= 3 && !strcmp(argv[1], "--write")) {
		json_t *doc = load_sample(argc >= 4 ? argv[3] : NULL);
		if (!doc || ledger_xlsx_render(doc, argv[2], NULL, NULL, err, sizeof err)) {
			fprintf(stderr, "test_ledger_xlsx: %s\n", doc ? err : "no sample");
			return 1;
		}
		json_decref(doc);
		return 0;
	}

	/* Private TMPDIR: what the renderer leaves there is visible. */
	char tmpdir[] = "/tmp/plantrack-ledger-test.XXXXXX";
	CHECK(mkdtemp(tmpdir) != NULL);
	setenv("TMPDIR", tmpdir, 1);

	CHECK(!strcmp(ledger_xlsx_status_name("planned"), "未开始"));
	CHECK(!strcmp(ledger_xlsx_status_name("assigned"), "待签收"));
	CHECK(!strcmp(ledger_xlsx_status_name("in_progress"), "推进中"));
	CHECK(!strcmp(ledger_xlsx_status_name("blocked"), "受阻"));
	CHECK(!strcmp(ledger_xlsx_status_name("done"), "已办结"));
	CHECK(!strcmp(ledger_xlsx_status_name("verified"), "已销号"));
	CHECK(!strcmp(ledger_xlsx_status_name("cancelled"), "已取消"));
	CHECK(ledger_xlsx_status_name("nonsense") == NULL && ledger_xlsx_status_name(NULL) == NULL);
	unsigned rgb = 1;
	CHECK(!strcmp(ledger_xlsx_light_name("red", &rgb), "红") && rgb == 0xFF0000);
	CHECK(!strcmp(ledger_xlsx_light_name("yellow", &rgb), "黄") && rgb == 0xFFFF00);
	CHECK(!strcmp(ledger_xlsx_light_name("green", &rgb), "绿") && rgb == 0x00B050);
	CHECK(!strcmp(ledger_xlsx_light_name("done", &rgb), "蓝"));
	CHECK(!strcmp(ledger_xlsx_light_name("verified", &rgb), "蓝"));
	CHECK(!strcmp(ledger_xlsx_light_name("cancelled", &rgb), "灰") && rgb == 0xBFBFBF);
	CHECK(ledger_xlsx_light_name("purple", &rgb) == NULL && rgb == 0);

	/* Content-Disposition. */
	char cd[512];
	CHECK(ledger_xlsx_content_disposition("2025年计划", "2025-06-30", cd, sizeof cd) == 0);
	CHECK(!strcmp(cd, "attachment; filename=\"ledger-2025-06-30.xlsx\"; "
			  "filename*=UTF-8''2025%E5%B9%B4%E8%AE%A1%E5%88%92%E5%8F%B0%E8%B4%A6-2025-06-30.xlsx"));
	CHECK(ledger_xlsx_content_disposition("a/b\\c\"d e\r", NULL, cd, sizeof cd) == 0);
	CHECK(!strcmp(cd, "attachment; filename=\"ledger.xlsx\"; filename*=UTF-8''a_b_c_d%20e_%E5%8F%B0%E8%B4%A6.xlsx"));
	CHECK(ledger_xlsx_content_disposition(NULL, "2025-06-30", cd, sizeof cd) == 0 && strstr(cd, "''%E5%8F%B0%E8%B4%A6-2025"));
	CHECK(ledger_xlsx_content_disposition("计划", "2025-06-30", cd, 60) == -1 && cd[0] == 0);
	char longtitle[400] = "";
	for (int i = 0; i < 100; i++)
		strcat(longtitle, "长");
	CHECK(ledger_xlsx_content_disposition(longtitle, "2025-06-30", cd, sizeof cd) == 0);
	CHECK(strstr(cd, "%E9%95%BF%E5%8F%B0") != NULL); /* 26 whole 长 then 台账: no split character */

	/* The sample, in memory. */
	json_t *doc = load_sample(NULL);
	CHECK(doc != NULL);
	unsigned char *out = NULL;
	size_t len = 0;
	int rc = ledger_xlsx_render(doc, NULL, &out, &len, err, sizeof err);
	if (rc)
		fprintf(stderr, "  render: %s\n", err);
	CHECK(rc == 0 && out && len > 2000);
	CHECK(out && !memcmp(out, "PK\003\004", 4));
	CHECK(out && memmem(out, len, "xl/worksheets/sheet1.xml", 24) && memmem(out, len, "xl/worksheets/sheet2.xml", 24));
	CHECK(out && memmem(out, len, "xl/styles.xml", 13));
	free(out);
	CHECK(dir_empty(tmpdir));

	/* The sample, to a file. */
	char path[256];
	snprintf(path, sizeof path, "%s/ledger.xlsx", tmpdir);
	CHECK(ledger_xlsx_render(doc, path, NULL, NULL, err, sizeof err) == 0);
	struct stat st;
	CHECK(stat(path, &st) == 0 && st.st_size > 2000);
	unlink(path);
	CHECK(dir_empty(tmpdir));
	json_decref(doc);

	/* Without a path, out and len are needed. */
	doc = load_sample(NULL);
	CHECK(ledger_xlsx_render(doc, NULL, NULL, NULL, err, sizeof err) == -1 && strstr(err, "out and len"));
	json_decref(doc);

	/* Bad input is named by its path; nothing stays in TMPDIR. */
	CHECK(fails_with("[]", "the ledger must be a JSON object"));
	CHECK(fails_with("{\"tasks\":[]}", "ledger.plan must be an object"));
	CHECK(fails_with("{\"plan\":{\"title\":\"t\"}}", "ledger.tasks must be an array"));
	CHECK(fails_with("{\"plan\":{\"title\":\"t\"},\"tasks\":{}}", "ledger.tasks must be an array"));
	CHECK(fails_with("{\"plan\":{\"title\":7},\"tasks\":[]}", "plan.title must be a string"));
	CHECK(fails_with("{\"plan\":{\"title\":\"t\",\"year\":99},\"tasks\":[]}", "plan.year must be an integer 1900..2999"));
	CHECK(fails_with("{\"plan\":{\"title\":\"t\"},\"tasks\":[3]}", "tasks[0] must be an object"));
	CHECK(fails_with("{\"plan\":{\"title\":\"t\"},\"tasks\":[],\"as_of\":20250630}", "ledger.as_of must be a string"));
	CHECK(fails_with("{\"plan\":{\"title\":\"t\"},\"tasks\":[],\"ranking\":[]}",
			 "ledger.ranking must be an object or null"));
	CHECK(fails_with("{\"plan\":{\"title\":\"t\"},\"tasks\":[],\"ranking\":{\"units\":{}}}",
			 "ranking.units must be an array"));
	CHECK(fails_with("{\"plan\":{\"title\":\"t\"},\"tasks\":[],\"ranking\":{\"units\":[{\"rank\":1,\"score\":\"high\"}]}}",
			 "ranking.units[0].score must be a number"));
	CHECK(!strcmp(with_task_field(2, "level", "\"x\""), "tasks[2].level must be an integer 1..9"));
	CHECK(!strcmp(with_task_field(2, "level", "0"), "tasks[2].level must be an integer 1..9"));
	CHECK(!strcmp(with_task_field(2, "level", "10"), "tasks[2].level must be an integer 1..9"));
	CHECK(!strcmp(with_task_field(1, "effective_due", "\"2025-02-30\""),
		      "tasks[1].effective_due must be a date YYYY-MM-DD"));
	CHECK(!strcmp(with_task_field(1, "effective_due", "\"2025/6/30\""),
		      "tasks[1].effective_due must be a date YYYY-MM-DD"));
	CHECK(!strcmp(with_task_field(1, "progress", "\"60\""), "tasks[1].progress must be a number"));
	CHECK(!strcmp(with_task_field(1, "co_units", "\"平安办\""), "tasks[1].co_units must be an array of strings"));
	CHECK(!strcmp(with_task_field(1, "co_units", "[\"平安办\", 5]"), "tasks[1].co_units[1] must be a string"));
	CHECK(!strcmp(with_task_field(0, "status", "1"), "tasks[0].status must be a string"));
	/* Absent or null members are empty cells; unknown statuses and lights are shown as they are. */
	CHECK(!strcmp(with_task_field(0, "status", "\"returned\""), ""));
	CHECK(!strcmp(with_task_field(0, "light", "null"), ""));
	CHECK(!strcmp(with_task_field(0, "level", "null"), ""));
	CHECK(fails_with("{\"plan\":{\"title\":\"空计划\"},\"tasks\":[],\"ranking\":null}", ""));
	CHECK(fails_with("{\"plan\":{\"title\":\"t\"},\"tasks\":[{}]}", ""));
	CHECK(dir_empty(tmpdir));

	/* A note longer than a cell holds is cut at a character boundary. */
	size_t big = 3 * 20000;
	char *note = malloc(big + 1);
	for (size_t i = 0; i < big; i += 3)
		memcpy(note + i, "进", 3);
	note[big] = 0;
	doc = load_sample(NULL);
	json_object_set_new(json_array_get(json_object_get(doc, "tasks"), 1), "latest_note", json_string(note));
	free(note);
	CHECK(!strcmp(render_err(doc), ""));

	/* Two thousand tasks: time it. */
	doc = load_sample(NULL);
	json_t *tasks = json_object_get(doc, "tasks"), *many = json_array();
	for (int i = 0; i < 200; i++)
		for (size_t k = 0; k < json_array_size(tasks); k++)
			json_array_append_new(many, json_deep_copy(json_array_get(tasks, k)));
	json_object_set_new(doc, "tasks", many);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(ledger_xlsx_render(doc, NULL, &out, &len, err, sizeof err) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("2000 tasks: %zu bytes in %.1f ms\n", len,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	free(out);
	json_decref(doc);

	CHECK(dir_empty(tmpdir));
	rmdir(tmpdir);
	return check_summary();
}
