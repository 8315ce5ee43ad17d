/*
 * fuzz_csv.c - libFuzzer target for the CSV import path: charset detection
 * (textenc_to_utf8), csv_parse with every accessor, the writer round trip,
 * dates_parse on each field, and csvimport_tasks_ex on the raw bytes, with
 * csvimport_copy_ex (an import job's COPY text) agreeing with it: the same
 * outcome, and on success the COPY text of the same task objects, one line
 * per row, each with 17 fields. Any crash, leak, sanitizer report or broken
 * invariant (abort) is a finding.
 */
#include "plantrack/csv.h"
#include "plantrack/csvimport.h"
#include "plantrack/dates.h"
#include "plantrack/textenc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ASSERT(c) do { if (!(c)) abort(); } while (0)

static void check_table(const csv_table *t)
{
	size_t rows = csv_rows(t);
	struct csv_buf b = { 0 };
	csv_buf_sink(&b, "", 0);
	for (size_t r = 0; r < rows; r++) {
		size_t cols = csv_cols(t, r);
		ASSERT(cols >= 1);
		ASSERT(csv_line(t, r) >= 1 && (r == 0 || csv_line(t, r) > csv_line(t, r - 1)));
		ASSERT(csv_field(t, r, cols) == NULL);
		const char **fields = malloc(cols * sizeof *fields);
		for (size_t c = 0; c < cols; c++) {
			fields[c] = csv_field(t, r, c);
			ASSERT(fields[c] && strlen(fields[c]) == csv_field_len(t, r, c));
			char out[11];
			if (dates_parse(fields[c], 2025, out) == 0)
				ASSERT(strlen(out) == 10 && out[4] == '-' && out[7] == '-');
		}
		csv_write_row(csv_buf_sink, &b, fields, cols);
		free(fields);
	}
	ASSERT(csv_field(t, rows, 0) == NULL && csv_cols(t, rows) == 0);
	/* What the writer wrote reads back as the same table. */
	size_t len = b.len;
	const char *s = b.data;
	csv_table *t2 = NULL;
	char err[256];
	/* A leading BOM in the first field would be skipped on reading: not comparable. */
	int bom = rows && !strncmp(csv_field(t, 0, 0), "\xEF\xBB\xBF", 3);
	if (!bom) {
		ASSERT(csv_parse(s, len, &t2, err, sizeof err) == 0);
		ASSERT(csv_rows(t2) == rows);
		for (size_t r = 0; r < rows; r++) {
			ASSERT(csv_cols(t2, r) == csv_cols(t, r));
			for (size_t c = 0; c < csv_cols(t, r); c++)
				ASSERT(!strcmp(csv_field(t2, r, c), csv_field(t, r, c)));
		}
		csv_table_free(t2);
	}
	free(b.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char err[256];
	size_t ulen = 0;
	char *utf8 = textenc_to_utf8(in, size, NULL, &ulen, err, sizeof err);
	if (utf8) {
		ASSERT(textenc_is_utf8(utf8, ulen) && utf8[ulen] == '\0' && !memchr(utf8, 0, ulen));
		csv_table *t = NULL;
		if (csv_parse(utf8, ulen, &t, err, sizeof err) == 0)
			check_table(t);
		else
			ASSERT(t == NULL && err[0]);
		csv_table_free(t);
		size_t glen = 0;
		char *gb = textenc_from_utf8(utf8, ulen, "gb18030", &glen, err, sizeof err);
		free(gb);
		free(utf8);
	}
	/* The raw bytes straight into the reader too (it must cope with anything). */
	csv_table *raw = NULL;
	if (csv_parse(in, size, &raw, err, sizeof err) == 0)
		csv_table_free(raw);

	/* Mostly detection; sometimes a label, as a Content-Type would give. */
	static const char *const labels[] = { NULL, NULL, "gbk", "utf-8" };
	json_t *tasks = NULL, *errors = NULL, *warnings = NULL, *columns = NULL;
	int rc = csvimport_tasks_ex(in, size, labels[size % 4], 2025, &tasks, &errors, &warnings, &columns);
	ASSERT(rc == 0 ? tasks && !errors : !tasks && json_array_size(errors) > 0);
	/* the sheet's columns: only on success, title always among them */
	ASSERT(rc == 0 ? json_is_array(columns) && json_array_size(columns) >= 1 : !columns);
	json_decref(columns);
	ASSERT(json_is_array(warnings));
	{
		char *copy = NULL;
		size_t clen = 0, crows = 0;
		json_t *cerr = NULL, *cwarn = NULL, *ccols = NULL;
		int crc = csvimport_copy_ex(in, size, labels[size % 4], 2025, &copy, &clen, &crows, &cerr, &cwarn, &ccols);
		ASSERT(crc == rc && (crc == 0 ? copy && !cerr : !copy && json_array_size(cerr) > 0));
		if (copy) {
			size_t wlen = 0;
			char *want = csvimport_copy_rows(tasks, &wlen);
			ASSERT(crows == json_array_size(tasks) && clen == wlen && !memcmp(copy, want, clen));
			size_t lines = 0, tabs = 0;
			for (size_t i = 0; i < clen; i++) {
				lines += copy[i] == '\n';
				tabs += copy[i] == '\t';
			}
			ASSERT(lines == crows && tabs == crows * 16); /* escaped: no raw tab or newline in a field */
			free(want);
		}
		free(copy);
		json_decref(cerr);
		json_decref(cwarn);
		json_decref(ccols);
	}
	if (tasks) {
		/* Everything handed on is valid JSON text. */
		char *s = json_dumps(tasks, JSON_COMPACT);
		ASSERT(s);
		free(s);
	} else {
		char *s = json_dumps(errors, JSON_COMPACT);
		ASSERT(s);
		free(s);
	}
	json_decref(tasks);
	json_decref(errors);
	json_decref(warnings);
	return 0;
}
