/*
 * test_csv.c - the RFC 4180 reader (quotes, embedded commas/quotes/newlines,
 * CRLF/LF/CR, BOM, empty lines, line numbers, errors) and the writer,
 * including writer -> reader round trips.
 */
#include "check.h"
#include "plantrack/csv.h"
#include "plantrack/textenc.h"

#include <stdlib.h>
#include <string.h>

static csv_table *parse(const char *s)
{
	char err[256] = "";
	csv_table *t = NULL;
	if (csv_parse(s, strlen(s), &t, err, sizeof err)) {
		fprintf(stderr, "  csv_parse failed: %s\n", err);
		return NULL;
	}
	return t;
}

static int field_is(const csv_table *t, size_t r, size_t c, const char *want)
{
	const char *f = csv_field(t, r, c);
	int ok = f && !strcmp(f, want) && csv_field_len(t, r, c) == strlen(want);
	if (!ok)
		fprintf(stderr, "  field[%zu][%zu] = \"%s\", want \"%s\"\n", r, c, f ? f : "(null)", want);
	return ok;
}

/* Writes rows with csv_write_row and returns the text (caller frees). */
static char *write_rows(const char *const *const *rows, const size_t *ncols, size_t nrows, size_t *len)
{
	struct csv_buf b = { 0 };
	csv_buf_sink(&b, "", 0);
	for (size_t r = 0; r < nrows; r++)
		if (csv_write_row(csv_buf_sink, &b, rows[r], ncols[r]))
			fprintf(stderr, "  csv_write_row failed\n");
	*len = b.len;
	return b.data;
}

static int write_is(const char *const *fields, size_t n, const char *want)
{
	size_t len;
	char *s = write_rows(&fields, &n, 1, &len);
	int ok = !strcmp(s, want);
	if (!ok)
		fprintf(stderr, "  wrote \"%s\", want \"%s\"\n", s, want);
	free(s);
	return ok;
}

static int round_trips(const char *const *const *rows, const size_t *ncols, size_t nrows)
{
	size_t len;
	char *s = write_rows(rows, ncols, nrows, &len);
	csv_table *t = NULL;
	char err[256];
	int ok = csv_parse(s, len, &t, err, sizeof err) == 0 && csv_rows(t) == nrows;
	for (size_t r = 0; ok && r < nrows; r++) {
		ok = csv_cols(t, r) == (ncols[r] ? ncols[r] : 1);
		for (size_t c = 0; ok && c < ncols[r]; c++)
			ok = !strcmp(csv_field(t, r, c), rows[r][c] ? rows[r][c] : "");
	}
	if (!ok)
		fprintf(stderr, "  round trip failed for:\n%s\n", s);
	csv_table_free(t);
	free(s);
	return ok;
}

int main(void)
{
	csv_table *t;
	char err[256];

	/* Basics, LF, no trailing newline. */
	t = parse("a,b,c\n1,2,3");
	CHECK(t && csv_rows(t) == 2 && csv_cols(t, 0) == 3 && csv_cols(t, 1) == 3);
	CHECK(t && field_is(t, 0, 0, "a") && field_is(t, 1, 2, "3"));
	CHECK(t && csv_line(t, 0) == 1 && csv_line(t, 1) == 2);
	CHECK(t && csv_field(t, 0, 3) == NULL && csv_field(t, 2, 0) == NULL && csv_cols(t, 2) == 0 && csv_line(t, 2) == 0);
	csv_table_free(t);

	/* CRLF, trailing newline makes no empty row. */
	t = parse("a,b\r\n1,2\r\n");
	CHECK(t && csv_rows(t) == 2 && field_is(t, 1, 1, "2"));
	csv_table_free(t);

	/* Empty fields, empty lines skipped, a line of commas is a row. */
	t = parse("\n\na,,c\r\n\r\n\r\n,\n,,\n\n");
	CHECK(t && csv_rows(t) == 3);
	CHECK(t && csv_cols(t, 0) == 3 && field_is(t, 0, 1, ""));
	CHECK(t && csv_line(t, 0) == 3 && csv_line(t, 1) == 6 && csv_line(t, 2) == 7);
	CHECK(t && csv_cols(t, 1) == 2 && csv_cols(t, 2) == 3 && field_is(t, 2, 2, ""));
	csv_table_free(t);

	/* Quoted: commas, doubled quotes, CR/LF/CRLF inside, empty quoted. */
	t = parse("\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",\"p\r\nq\",\"\"\r\nnext,\"\",end\n");
	CHECK(t && csv_rows(t) == 2 && csv_cols(t, 0) == 5);
	CHECK(t && field_is(t, 0, 0, "a,b") && field_is(t, 0, 1, "say \"hi\"") && field_is(t, 0, 2, "x\ny"));
	CHECK(t && field_is(t, 0, 3, "p\r\nq") && field_is(t, 0, 4, ""));
	CHECK(t && csv_line(t, 1) == 4 && field_is(t, 1, 1, "") && field_is(t, 1, 2, "end"));
	csv_table_free(t);

	/* Line numbers follow newlines inside quotes (LF, CRLF and CR each count once). */
	t = parse("h\n\"1\n2\r\n3\r4\"\nnext\n");
	CHECK(t && csv_rows(t) == 3 && csv_line(t, 1) == 2 && csv_line(t, 2) == 6);
	csv_table_free(t);

	/* Lone CR line ends (old Mac Excel). */
	t = parse("a,b\r1,2\r\r3,4\r");
	CHECK(t && csv_rows(t) == 3 && field_is(t, 2, 0, "3") && csv_line(t, 2) == 4);
	csv_table_free(t);

	/* UTF-8 BOM skipped; Chinese passes through. */
	t = parse("\xEF\xBB\xBF序号,项目名称\r\n1,\"新增网格驿站，10处\"\r\n");
	CHECK(t && field_is(t, 0, 0, "序号") && field_is(t, 1, 1, "新增网格驿站，10处"));
	csv_table_free(t);

	/* Lenient like Excel: text after a closing quote, quotes inside unquoted fields, spaces kept. */
	t = parse("\"ab\"cd,x\"y\"z, \"q\" ,\"a\"\"\"\n");
	CHECK(t && csv_rows(t) == 1 && csv_cols(t, 0) == 4);
	CHECK(t && field_is(t, 0, 0, "abcd") && field_is(t, 0, 1, "x\"y\"z") && field_is(t, 0, 2, " \"q\" "));
	CHECK(t && field_is(t, 0, 3, "a\""));
	csv_table_free(t);

	/* Trailing comma makes a trailing empty field; an empty document has no rows. */
	t = parse("a,\n");
	CHECK(t && csv_cols(t, 0) == 2 && field_is(t, 0, 1, ""));
	csv_table_free(t);
	t = parse("");
	CHECK(t && csv_rows(t) == 0 && csv_cols(t, 0) == 0 && csv_field(t, 0, 0) == NULL);
	csv_table_free(t);
	t = parse("\r\n\n\xEF\xBB\xBF");
	CHECK(t && csv_rows(t) == 1 && field_is(t, 0, 0, "\xEF\xBB\xBF")); /* only a leading BOM is skipped */
	csv_table_free(t);
	t = NULL;
	CHECK(csv_parse(NULL, 0, &t, err, sizeof err) == 0 && csv_rows(t) == 0);
	csv_table_free(t);
	csv_table_free(NULL);
	CHECK(csv_rows(NULL) == 0 && csv_field(NULL, 0, 0) == NULL && csv_line(NULL, 0) == 0);

	/* Errors name the line. */
	t = (csv_table *)1;
	CHECK(csv_parse("a,b\n1,\"open\n\n", 12, &t, err, sizeof err) == -1 && t == NULL);
	CHECK(strstr(err, "line 2") && strstr(err, "never closed"));
	CHECK(csv_parse("a\n\"", 3, &t, err, sizeof err) == -1 && strstr(err, "line 2"));
	CHECK(csv_parse("a\nb\0c", 5, &t, err, sizeof err) == -1 && strstr(err, "line 2") && strstr(err, "NUL"));
	CHECK(csv_parse("\"", 1, &t, NULL, 0) == -1);

	/* Not NUL-terminated input: only n bytes are read. */
	{
		char raw[5] = { 'a', ',', 'b', '\n', 'X' };
		CHECK(csv_parse(raw, 4, &t, err, sizeof err) == 0 && csv_rows(t) == 1 && field_is(t, 0, 1, "b"));
		csv_table_free(t);
	}

	/* Writer. */
	{
		const char *f1[] = { "a", "b c", NULL, "" };
		CHECK(write_is(f1, 4, "a,b c,,\r\n"));
		const char *f2[] = { "a,b", "say \"hi\"", "x\ny", "p\rq", " lead", "trail ", "\ttab" };
		CHECK(write_is(f2, 7, "\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",\"p\rq\",\" lead\",\"trail \",\"\ttab\"\r\n"));
		const char *f3[] = { "" };
		CHECK(write_is(f3, 1, "\"\"\r\n"));
		const char *f4[] = { NULL };
		CHECK(write_is(f4, 1, "\"\"\r\n"));
		CHECK(write_is(NULL, 0, "\r\n"));
		const char *f5[] = { "\"" };
		CHECK(write_is(f5, 1, "\"\"\"\"\r\n"));
		const char *f6[] = { "城东街道", "新增网格驿站，10处" };
		CHECK(write_is(f6, 2, "城东街道,新增网格驿站，10处\r\n"));
		CHECK(csv_write_row(NULL, NULL, f6, 2) == -1);

		/* Formula neutralisation, opt-in. */
		struct csv_buf b = { 0 };
		const char *f7[] = { "=HYPERLINK(\"http://x\")", "+1", "-5", "@SUM(A1)", "safe", "" };
		CHECK(csv_write_row_ex(csv_buf_sink, &b, f7, 6, CSV_WRITE_NEUTRALIZE_FORMULAS) == 0);
		CHECK(b.data && !strcmp(b.data, "\"'=HYPERLINK(\"\"http://x\"\")\",\"'+1\",\"'-5\",\"'@SUM(A1)\",safe,\r\n"));
		free(b.data);
	}

	/* Round trips. */
	{
		const char *r0[] = { "编号 code", "任务 title", "", NULL };
		const char *r1[] = { "四.1.2", "拓宽\"民生实事\"实施路径,\r\n第二行\n第三行", " x ", "\r" };
		const char *r2[] = { "" };
		const char *r3[] = { "\n" };
		const char *r4[] = { ",", "\"\"", "a\"", "\"a" };
		const char *const *rows[] = { r0, r1, r2, r3, r4 };
		size_t ncols[] = { 4, 4, 1, 1, 4 };
		CHECK(round_trips(rows, ncols, 5));
	}
	/* Round trip of generated awkward fields. */
	{
		static const char *pieces[] = { "", ",", "\"", "\r", "\n", "\r\n", " ", "a", "城", "\t" };
		enum { NR = 200, NC = 7 };
		static char store[NR][NC][32];
		static const char *cells[NR][NC];
		const char *const *rows[NR];
		size_t ncols[NR];
		unsigned seed = 12345;
		for (int r = 0; r < NR; r++) {
			for (int c = 0; c < NC; c++) {
				store[r][c][0] = '\0';
				int k = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 6;
				for (int i = 0; i < k; i++)
					strcat(store[r][c], pieces[((seed = seed * 1103515245u + 12345u) >> 16) % 10]);
				cells[r][c] = store[r][c];
			}
			rows[r] = cells[r];
			ncols[r] = 1 + (size_t)(r % NC);
		}
		/* A record of one empty field is fine ("" is written), but all-empty multi-field rows too. */
		CHECK(round_trips(rows, ncols, NR));
	}

	/* Export-shaped text (BOM + CRLF) converted to GB18030 and back reads the same. */
	{
		struct csv_buf b = { 0 };
		csv_buf_sink(&b, "\xEF\xBB\xBF", 3);
		const char *h[] = { "编号 code", "任务 title" };
		const char *d[] = { "一.1", "新增网格驿站10处，含\"红色驿站\"" };
		csv_write_row(csv_buf_sink, &b, h, 2);
		csv_write_row(csv_buf_sink, &b, d, 2);
		size_t len = b.len, glen, ulen;
		const char *u = b.data;
		char *gb = textenc_from_utf8(u, len, "gb18030", &glen, err, sizeof err);
		char *back = gb ? textenc_to_utf8(gb, glen, NULL, &ulen, err, sizeof err) : NULL;
		CHECK(back && csv_parse(back, ulen, &t, err, sizeof err) == 0);
		CHECK(back && csv_rows(t) == 2 && field_is(t, 1, 1, "新增网格驿站10处，含\"红色驿站\""));
		csv_table_free(t);
		free(gb);
		free(back);
		free(b.data);
	}

	/* Big input: 100,000 rows parse, linear. */
	{
		struct csv_buf b = { 0 };
		for (int i = 0; i < 100000; i++) {
			char line[64];
			int n = snprintf(line, sizeof line, "%d,\"title %d, quoted\",plain\r\n", i, i);
			csv_buf_sink(&b, line, (size_t)n);
		}
		size_t len = b.len;
		const char *s = b.data;
		CHECK(csv_parse(s, len, &t, err, sizeof err) == 0 && csv_rows(t) == 100000);
		CHECK(t && field_is(t, 99999, 1, "title 99999, quoted") && csv_line(t, 99999) == 100000);
		csv_table_free(t);
		free(b.data);
	}
	return check_summary();
}
