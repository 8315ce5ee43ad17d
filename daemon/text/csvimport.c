/*
 * csvimport.c - CSV task lists to task JSON, all or nothing (see
 * csvimport.h): decode (textenc), split (csv), find the header, map columns,
 * then check and convert every record, collecting every problem.
 */
#include "plantrack/csvimport.h"
#include "plantrack/csv.h"
#include "plantrack/dates.h"
#include "plantrack/textenc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum field { F_SEQ, F_TITLE, F_BODY, F_LEAD, F_OWNER, F_DUE, F_VALUE, F_UNIT, F_CO, F_LEADER, F_WEIGHT, F_NOTE,
	     F_ID, F_COUNT, F_NONE = -1, F_READONLY = -2 };

struct colname {
	enum field f;
	const char *english;
	const char *chinese[5];
};

static const struct colname colnames[F_COUNT] = {
	{ F_SEQ, "seq", { "序号", "编号", NULL } },
	{ F_TITLE, "title", { "项目名称", "名称", "项目", "任务名称", "任务" } },
	{ F_BODY, "body", { "建设内容", "主要内容", "工作内容", NULL } },
	{ F_LEAD, "lead_unit", { "牵头单位", "责任单位", NULL } },
	{ F_OWNER, "owner", { "责任人", NULL } },
	{ F_DUE, "due_date", { "计划完成时间", "完成时间", "完成时限", "计划完成", NULL } },
	{ F_VALUE, "target_value", { "目标值", NULL } },
	{ F_UNIT, "target_unit", { "单位", "计量单位", NULL } },
	{ F_CO, "co_units", { "配合单位", "协办单位", "配合部门", NULL } },
	{ F_LEADER, "leader", { "分管领导", "分管负责人", "包保领导", NULL } },
	{ F_WEIGHT, "weight", { "权重", "分值", NULL } },
	{ F_NOTE, "note", { "备注", "说明", NULL } },
	{ F_ID, "id", { NULL } },
};

/* The export's computed columns (GET /v1/plans/{id}/export.csv): read back
 * without a warning and not imported, so an exported sheet can be edited and
 * uploaded again (?mode=upsert matches its rows on the id column). */
static const char *const readonly_english[] = { "code", "status", "progress", "progress_source", "expected_progress",
						"light", "effective_due", "due_source", "late", "targets", NULL };

/* The JSON key each column fills (csvimport_tasks_ex's columns). */
static const char *const field_key[F_COUNT] = { "seq", "title", "body", "lead_unit", "owner", "due_date",
						"targets", "targets", "co_units", "leader", "weight", "note", "id" };

#define HEADER_SEARCH_ROWS 10 /* the header may follow a sheet title or two */
#define MAX_WARNINGS 50
#define QUOTE_MAX 60 /* bytes of a bad value quoted back in a message */

struct view {
	const char *p;
	size_t n;
};

/* COPY text being written: the project's growable buffer (csv.h) and its lines. */
struct copybuf {
	struct csv_buf buf;
	size_t rows; /* lines written */
};

static void cb_put(struct copybuf *b, const char *s, size_t n)
{
	if (csv_buf_sink(&b->buf, s, n))
		abort(); /* out of memory, as xmalloc */
}

/* s as a COPY text field: backslash, tab, newline and carriage return escaped. */
static void cb_text(struct copybuf *b, const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		const char *esc = s[i] == '\\' ? "\\\\" : s[i] == '\t' ? "\\t" : s[i] == '\n' ? "\\n" : s[i] == '\r' ? "\\r" : NULL;
		if (!esc)
			continue;
		cb_put(b, s + start, i - start);
		cb_put(b, esc, 2);
		start = i + 1;
	}
	cb_put(b, s + start, n - start);
}

/* One field: strings as text, numbers as written, arrays and objects as JSON, else \N. */
static void cb_value(struct copybuf *b, const json_t *v)
{
	char num[64];
	if (json_is_string(v)) {
		cb_text(b, json_string_value(v), json_string_length(v));
	} else if (json_is_integer(v)) {
		int len = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		cb_put(b, num, (size_t)len);
	} else if (json_is_real(v)) {
		/* 15 significant digits, as PT_JSON_ARGS: a typed 0.1 stays 0.1 */
		int len = snprintf(num, sizeof num, "%.15g", json_real_value(v));
		cb_put(b, num, (size_t)len);
	} else if (json_is_array(v) || json_is_object(v)) {
		char *text = json_dumps(v, JSON_COMPACT);
		if (text) {
			cb_text(b, text, strlen(text));
			free(text);
		} else {
			cb_put(b, "\\N", 2);
		}
	} else {
		cb_put(b, "\\N", 2);
	}
}

/* One task object as a line of COPY text (the columns CSVIMPORT_COPY_COLUMNS names). */
static void copy_row(struct copybuf *b, const json_t *task)
{
	static const char *const keys[] = { "seq", "id", "title", "body", "lead_unit", "co_units",
					    "owner", "leader", "due_date", "weight", "note" };
	static const char *const tkeys[] = { "label", "value", "unit", "comparator", "text" };
	char num[32];
	int nl = snprintf(num, sizeof num, "%zu", ++b->rows);
	cb_put(b, num, (size_t)nl);
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		cb_put(b, "\t", 1);
		cb_value(b, json_object_get(task, keys[k]));
	}
	const json_t *target = json_array_get(json_object_get(task, "targets"), 0);
	for (size_t k = 0; k < sizeof tkeys / sizeof tkeys[0]; k++) {
		cb_put(b, "\t", 1);
		cb_value(b, json_object_get(target, tkeys[k]));
	}
	cb_put(b, "\n", 1);
}

struct ctx {
	json_t *errors, *warnings;
	size_t nwarnings;
	const char *colname[F_COUNT]; /* header text as written */
	int present[F_COUNT];         /* the file has the column */
	struct copybuf *copy;         /* rows go here as COPY text, not into tasks */
	size_t *yearless;             /* rows whose date took the plan's year */
	size_t nyearless;
};

static void add_warning(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_warning(struct ctx *c, const char *fmt, ...)
{
	char msg[512];
	if (c->nwarnings++ == MAX_WARNINGS) {
		json_array_append_new(c->warnings, json_string("further warnings omitted"));
		return;
	}
	if (c->nwarnings > MAX_WARNINGS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* vsnprintf may cut a multi-byte character: keep the JSON string valid. */
	json_t *s = json_string(msg);
	if (!s) {
		size_t n = strlen(msg);
		while (n && !textenc_is_utf8(msg, n))
			n--;
		s = json_stringn(msg, n);
	}
	json_array_append_new(c->warnings, s);
}

static void add_error(struct ctx *c, size_t row, size_t line, const char *column, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void add_error(struct ctx *c, size_t row, size_t line, const char *column, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t n = strlen(msg);
	while (n && !textenc_is_utf8(msg, n))
		n--;
	json_t *e = json_object();
	json_object_set_new(e, "row", json_integer((json_int_t)row));
	json_object_set_new(e, "line", line ? json_integer((json_int_t)line) : json_null());
	json_object_set_new(e, "column", column ? json_string(column) : json_null());
	json_object_set_new(e, "message", json_stringn(msg, n));
	json_array_append_new(c->errors, e);
}

/* Whitespace at *p: ASCII space/tab/CR/LF, U+3000, NBSP, a stray BOM. Its length or 0. */
static size_t space_len(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	if (n >= 1 && (u[0] == ' ' || u[0] == '\t' || u[0] == '\r' || u[0] == '\n'))
		return 1;
	if (n >= 2 && u[0] == 0xC2 && u[1] == 0xA0)
		return 2;
	if (n >= 3 && u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80)
		return 3;
	if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		return 3;
	return 0;
}

/* Trailing whitespace ending at p+n: its length or 0. */
static size_t space_len_back(const char *p, size_t n)
{
	if (n >= 1 && space_len(p + n - 1, 1))
		return 1;
	if (n >= 2 && space_len(p + n - 2, 2) == 2)
		return 2;
	if (n >= 3 && space_len(p + n - 3, 3) == 3)
		return 3;
	return 0;
}

static struct view trim(const char *p, size_t n)
{
	size_t k;
	while ((k = space_len(p, n)) != 0) {
		p += k;
		n -= k;
	}
	while ((k = space_len_back(p, n)) != 0)
		n -= k;
	struct view v = { p, n };
	return v;
}

static struct view cell(const csv_table *t, size_t row, size_t col)
{
	const char *f = csv_field(t, row, col);
	if (!f) {
		struct view v = { "", 0 };
		return v;
	}
	return trim(f, csv_field_len(t, row, col));
}

static size_t utf8_chars(struct view v)
{
	size_t k = 0;
	for (size_t i = 0; i < v.n; i++)
		if (((unsigned char)v.p[i] & 0xC0) != 0x80)
			k++;
	return k;
}

/* Copies at most QUOTE_MAX bytes of v into out, cut at a character boundary. */
static const char *quote(struct view v, char *out, size_t outlen)
{
	size_t n = v.n;
	int cut = 0;
	if (n > QUOTE_MAX) {
		n = QUOTE_MAX;
		while (n && ((unsigned char)v.p[n] & 0xC0) == 0x80)
			n--;
		cut = 1;
	}
	snprintf(out, outlen, "%.*s%s", (int)n, v.p, cut ? "…" : "");
	return out;
}

static enum field header_name(struct view v);

/* Header cell -> field. The export's bilingual headers ("计划完成 due_date")
 * are matched on their English half first; otherwise whitespace anywhere is
 * ignored ("计划完成\n时间"). */
static enum field header_field(struct view v)
{
	size_t sp = v.n;
	while (sp > 0 && v.p[sp - 1] != ' ')
		sp--;
	if (sp > 1 && sp < v.n) {
		struct view en = { v.p + sp, v.n - sp };
		for (int i = 0; readonly_english[i]; i++)
			if (strlen(readonly_english[i]) == en.n && !strncasecmp(en.p, readonly_english[i], en.n))
				return F_READONLY;
		enum field f = header_name(en);
		if (f != F_NONE)
			return f;
		struct view zh = trim(v.p, sp - 1);
		f = header_name(zh);
		if (f != F_NONE)
			return f;
	}
	for (int i = 0; readonly_english[i]; i++)
		if (strlen(readonly_english[i]) == v.n && !strncasecmp(v.p, readonly_english[i], v.n))
			return F_READONLY;
	return header_name(v);
}

static enum field header_name(struct view v)
{
	char name[128];
	size_t k = 0;
	for (size_t i = 0; i < v.n;) {
		size_t sl = space_len(v.p + i, v.n - i);
		if (sl) {
			i += sl;
			continue;
		}
		if (k + 1 >= sizeof name)
			return F_NONE;
		name[k++] = v.p[i++];
	}
	name[k] = '\0';
	if (!k)
		return F_NONE;
	for (int f = 0; f < F_COUNT; f++) {
		if (!strcasecmp(name, colnames[f].english))
			return (enum field)f;
		for (int j = 0; j < 5 && colnames[f].chinese[j]; j++)
			if (!strcmp(name, colnames[f].chinese[j]))
				return (enum field)f;
	}
	return F_NONE;
}

static int row_blank(const csv_table *t, size_t row, size_t from)
{
	for (size_t c = from; c < csv_cols(t, row); c++)
		if (cell(t, row, c).n)
			return 0;
	return 1;
}

/* "12" or "12.0" -> 12; -1 if not a whole number in range. */
static long parse_seq(struct view v)
{
	size_t i = 0;
	long val = 0;
	if (!v.n)
		return -1;
	for (; i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++) {
		val = val * 10 + (v.p[i] - '0');
		if (val > CSVIMPORT_MAX_SEQ)
			return -1;
	}
	if (i == 0)
		return -1;
	if (i < v.n && v.p[i] == '.') {
		i++;
		size_t z = i;
		while (i < v.n && v.p[i] == '0')
			i++;
		if (i == z)
			return -1;
	}
	return i == v.n ? val : -1;
}

/*
 * A target value: [+-] digits [. digits], commas allowed as thousands
 * separators, an optional trailing %. Returns 0 and the number (as an
 * integer JSON when it has no fraction) or -1.
 */
static int parse_value(struct view v, json_t **num, int *percent)
{
	char buf[64];
	size_t k = 0, i = 0, digits = 0;
	int dot = 0;
	*percent = 0;
	if (v.n && v.p[v.n - 1] == '%') {
		*percent = 1;
		v = trim(v.p, v.n - 1);
	}
	if (i < v.n && (v.p[i] == '+' || v.p[i] == '-'))
		buf[k++] = v.p[i++];
	for (; i < v.n; i++) {
		char ch = v.p[i];
		if (k + 1 >= sizeof buf)
			return -1;
		if (ch >= '0' && ch <= '9') {
			buf[k++] = ch;
			digits++;
		} else if (ch == '.' && !dot) {
			dot = 1;
			buf[k++] = ch;
		} else if (ch == ',' && !dot && digits && i + 1 < v.n && v.p[i + 1] >= '0' && v.p[i + 1] <= '9') {
			continue; /* 1,000 */
		} else {
			return -1;
		}
	}
	if (!digits)
		return -1;
	buf[k] = '\0';
	double d = strtod(buf, NULL);
	if (!(d >= -CSVIMPORT_MAX_VALUE && d <= CSVIMPORT_MAX_VALUE))
		return -1;
	if (!dot)
		*num = json_integer((json_int_t)strtoll(buf, NULL, 10));
	else
		*num = json_real(d);
	return *num ? 0 : -1;
}

static json_t *json_view(struct view v)
{
	return v.n ? json_stringn(v.p, v.n) : json_null();
}

struct seqrow {
	long seq;
	size_t row, line;
};

static int seqrow_cmp(const void *a, const void *b)
{
	const struct seqrow *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* 配合单位 "城管办、住建办/派出所": the units, trimmed, without repeats. */
static json_t *split_units(struct ctx *c, struct view v, size_t rowno, size_t line)
{
	static const char *const seps[] = { "、", "，", ",", "／", "/", "；", ";", "\n", NULL };
	json_t *arr = json_array();
	size_t i = 0, start = 0;
	while (i <= v.n) {
		size_t sl = 0;
		if (i < v.n)
			for (int k = 0; seps[k] && !sl; k++) {
				size_t l = strlen(seps[k]);
				if (v.n - i >= l && !memcmp(v.p + i, seps[k], l))
					sl = l;
			}
		if (i == v.n || sl) {
			struct view u = trim(v.p + start, i - start);
			if (u.n) {
				char q[QUOTE_MAX * 2];
				if (utf8_chars(u) > CSVIMPORT_MAX_LEAD_UNIT)
					add_error(c, rowno, line, c->colname[F_CO], "unit \"%s\" is too long (at most %d characters)",
						  quote(u, q, sizeof q), CSVIMPORT_MAX_LEAD_UNIT);
				int dup = 0;
				for (size_t k = 0; k < json_array_size(arr) && !dup; k++) {
					const char *e = json_string_value(json_array_get(arr, k));
					dup = e && strlen(e) == u.n && !memcmp(e, u.p, u.n);
				}
				if (!dup)
					json_array_append_new(arr, json_stringn(u.p, u.n));
			}
			if (i == v.n)
				break;
			i += sl;
			start = i;
			continue;
		}
		i++;
	}
	return arr;
}

/* 配合单位, 分管领导, 权重, 备注: set on the task when the file has the column. */
static void convert_extra(struct ctx *c, const struct view *v, size_t rowno, size_t line, json_t *task)
{
	char q[QUOTE_MAX * 2];
	if (c->present[F_CO])
		json_object_set_new(task, "co_units", split_units(c, v[F_CO], rowno, line));
	if (c->present[F_LEADER]) {
		if (utf8_chars(v[F_LEADER]) > CSVIMPORT_MAX_OWNER)
			add_error(c, rowno, line, c->colname[F_LEADER], "is too long (%zu characters, at most %d)",
				  utf8_chars(v[F_LEADER]), CSVIMPORT_MAX_OWNER);
		json_object_set_new(task, "leader", json_view(v[F_LEADER]));
	}
	if (c->present[F_WEIGHT]) {
		json_t *num = NULL;
		int percent = 0;
		if (!v[F_WEIGHT].n) {
			json_object_set_new(task, "weight", json_null());
		} else if (parse_value(v[F_WEIGHT], &num, &percent) || percent || json_number_value(num) <= 0) {
			json_decref(num);
			add_error(c, rowno, line, c->colname[F_WEIGHT], "must be a number greater than 0, not \"%s\"",
				  quote(v[F_WEIGHT], q, sizeof q));
		} else {
			json_object_set_new(task, "weight", num);
		}
	}
	if (c->present[F_ID]) {
		/* a task id (the export's last column): upsert matches the row on it */
		int ok = v[F_ID].n == 36;
		for (size_t i = 0; ok && i < 36; i++) {
			char ch = v[F_ID].p[i];
			ok = (i == 8 || i == 13 || i == 18 || i == 23) ? ch == '-'
								   : ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
								      (ch >= 'A' && ch <= 'F'));
		}
		if (v[F_ID].n && !ok)
			add_error(c, rowno, line, c->colname[F_ID], "must be a task id (a UUID) or empty, not \"%s\"",
				  quote(v[F_ID], q, sizeof q));
		else if (v[F_ID].n)
			json_object_set_new(task, "id", json_view(v[F_ID]));
	}
	if (c->present[F_NOTE]) {
		if (utf8_chars(v[F_NOTE]) > CSVIMPORT_MAX_BODY)
			add_error(c, rowno, line, c->colname[F_NOTE], "is too long (%zu characters, at most %d)",
				  utf8_chars(v[F_NOTE]), CSVIMPORT_MAX_BODY);
		json_object_set_new(task, "note", json_view(v[F_NOTE]));
	}
}

/* Converts one data record; appends to tasks or adds errors. */
static void convert_row(struct ctx *c, const csv_table *t, size_t r, size_t rowno, const int *colmap,
			size_t hcols, int year_hint, json_t *tasks, struct seqrow *seqs, size_t *nseqs)
{
	size_t line = csv_line(t, r), errs_before = json_array_size(c->errors);
	struct view v[F_COUNT];
	char q[QUOTE_MAX * 2];
	for (int f = 0; f < F_COUNT; f++) {
		v[f].p = "";
		v[f].n = 0;
	}
	size_t ncols = csv_cols(t, r);
	for (size_t col = 0; col < ncols && col < hcols; col++)
		if (colmap[col] != F_NONE)
			v[colmap[col]] = cell(t, r, col);
	if (ncols > hcols && !row_blank(t, r, hcols))
		add_error(c, rowno, line, NULL, "the row has %zu cells but the header has %zu columns "
			  "(an unquoted comma in a field?)", ncols, hcols);

	json_t *task = json_object();
	long seq = -1;
	if (v[F_SEQ].n) {
		seq = parse_seq(v[F_SEQ]);
		if (seq < 0)
			add_error(c, rowno, line, c->colname[F_SEQ], "must be a whole number from 0 to %d, not \"%s\"",
				  CSVIMPORT_MAX_SEQ, quote(v[F_SEQ], q, sizeof q));
		else
			seqs[(*nseqs)++] = (struct seqrow){ seq, rowno, line };
	}
	json_object_set_new(task, "seq", seq >= 0 ? json_integer(seq) : json_null());

	if (!v[F_TITLE].n)
		add_error(c, rowno, line, c->colname[F_TITLE], "is required");
	else if (utf8_chars(v[F_TITLE]) > CSVIMPORT_MAX_TITLE)
		add_error(c, rowno, line, c->colname[F_TITLE], "is too long (%zu characters, at most %d)",
			  utf8_chars(v[F_TITLE]), CSVIMPORT_MAX_TITLE);
	json_object_set_new(task, "title", json_view(v[F_TITLE]));

	static const struct {
		enum field f;
		const char *key;
		size_t max;
	} texts[] = { { F_BODY, "body", CSVIMPORT_MAX_BODY },
		      { F_LEAD, "lead_unit", CSVIMPORT_MAX_LEAD_UNIT },
		      { F_OWNER, "owner", CSVIMPORT_MAX_OWNER } };
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct view tv = v[texts[i].f];
		size_t chars = utf8_chars(tv);
		if (chars > texts[i].max)
			add_error(c, rowno, line, c->colname[texts[i].f], "is too long (%zu characters, at most %zu)",
				  chars, texts[i].max);
		json_object_set_new(task, texts[i].key, json_view(tv));
	}

	json_t *due = json_null();
	if (v[F_DUE].n) {
		char iso[11], raw[64];
		int yearless = 0;
		if (v[F_DUE].n < sizeof raw) {
			memcpy(raw, v[F_DUE].p, v[F_DUE].n);
			raw[v[F_DUE].n] = '\0';
		}
		/* One grammar (dates.c) for plans and sheets: the sheet forms (6月30) first,
		 * then the plan's words (三季度末, 上半年, 年底前, 6月上旬). */
		if (v[F_DUE].n < sizeof raw && (dates_parse_ex(raw, year_hint, 0, iso, &yearless) == 0 ||
						dates_parse_ex(raw, year_hint, DATES_PLAN_TEXT, iso, &yearless) == 0)) {
			due = json_string(iso);
			if (yearless && c->yearless)
				c->yearless[c->nyearless++] = rowno;
		} else if (v[F_DUE].n < sizeof raw && (dates_parse_ex(raw, 2001, 0, iso, NULL) == 0 ||
						       dates_parse_ex(raw, 2001, DATES_PLAN_TEXT, iso, NULL) == 0)) {
			add_error(c, rowno, line, c->colname[F_DUE],
				  "\"%s\" has no year and the plan's year is not known: write 2025年6月30日", quote(v[F_DUE], q, sizeof q));
		} else {
			add_error(c, rowno, line, c->colname[F_DUE],
				  "\"%s\" is not a valid date (write 2025-06-30, 2025/6/30, 2025年6月30日, 2025年6月底 "
				  "or 三季度末)",
				  quote(v[F_DUE], q, sizeof q));
		}
	}
	json_object_set_new(task, "due_date", due);
	convert_extra(c, v, rowno, line, task);

	if (utf8_chars(v[F_UNIT]) > CSVIMPORT_MAX_UNIT)
		add_error(c, rowno, line, c->colname[F_UNIT], "is too long (%zu characters, at most %d)",
			  utf8_chars(v[F_UNIT]), CSVIMPORT_MAX_UNIT);
	if (v[F_VALUE].n) {
		json_t *num = NULL;
		int percent = 0;
		if (parse_value(v[F_VALUE], &num, &percent)) {
			add_error(c, rowno, line, c->colname[F_VALUE], "\"%s\" is not a number",
				  quote(v[F_VALUE], q, sizeof q));
		} else {
			struct view unit = v[F_UNIT];
			if (!unit.n && percent) {
				unit.p = "%";
				unit.n = 1;
			}
			size_t tl = v[F_VALUE].n + (percent && unit.n == 1 && unit.p[0] == '%' ? 0 : unit.n);
			char *text = malloc(tl + 1);
			if (text) {
				memcpy(text, v[F_VALUE].p, v[F_VALUE].n);
				memcpy(text + v[F_VALUE].n, unit.p, tl - v[F_VALUE].n);
				text[tl] = '\0';
			}
			json_t *target = json_object();
			json_object_set(target, "label", json_object_get(task, "title"));
			json_object_set_new(target, "value", num);
			json_object_set_new(target, "unit", json_view(unit));
			json_object_set_new(target, "comparator", json_string("="));
			json_object_set_new(target, "text", text ? json_stringn(text, tl) : json_null());
			free(text);
			json_t *targets = json_array();
			json_array_append_new(targets, target);
			json_object_set_new(task, "targets", targets);
		}
	} else if (v[F_UNIT].n) {
		add_warning(c, "row %zu (line %zu): %s is set but %s is empty; no target recorded", rowno, line,
			    c->colname[F_UNIT], c->colname[F_VALUE] ? c->colname[F_VALUE] : "目标值");
	}

	if (json_array_size(c->errors) != errs_before) {
		json_decref(task);
	} else if (c->copy) {
		copy_row(c->copy, task); /* written and freed now: 100,000 task objects kept cost ~100 MB */
		json_decref(task);
	} else {
		json_array_append_new(tasks, task);
	}
}

/* Why the header was not found, with a hint for the usual mistakes. */
static void no_header_error(struct ctx *c, const csv_table *t)
{
	const char *first = csv_field(t, 0, 0);
	const char *hint = "";
	if (csv_cols(t, 0) == 1 && first && strchr(first, '\t'))
		hint = "; the file looks tab-separated: save it from Excel as CSV (逗号分隔)";
	else if (csv_cols(t, 0) == 1 && first && strchr(first, ';'))
		hint = "; the file looks semicolon-separated: use commas";
	add_error(c, 0, csv_line(t, 0), NULL,
		  "no header row with a 项目名称 (title) column in the first %d rows%s", HEADER_SEARCH_ROWS, hint);
}

static int finish(struct ctx *c, json_t *tasks_arr, json_t **tasks, json_t **errors, json_t **warnings)
{
	if (json_array_size(c->errors)) {
		json_decref(tasks_arr);
		*errors = c->errors;
		if (warnings)
			*warnings = c->warnings;
		else
			json_decref(c->warnings);
		return -1;
	}
	json_decref(c->errors);
	*tasks = tasks_arr;
	if (warnings)
		*warnings = c->warnings;
	else
		json_decref(c->warnings);
	return 0;
}

int csvimport_tasks(const char *body, size_t n, const char *charset, int year_hint, json_t **tasks,
		    json_t **errors, json_t **warnings)
{
	return csvimport_tasks_ex(body, n, charset, year_hint, tasks, errors, warnings, NULL);
}

/* csvimport_tasks_ex, or with copy the rows as COPY text there (tasks stays empty). */
static int read_rows(const char *body, size_t n, const char *charset, int year_hint, json_t **tasks, json_t **errors,
		     json_t **warnings, json_t **columns, struct copybuf *copy)
{
	if (columns)
		*columns = NULL;
	struct ctx c;
	memset(&c, 0, sizeof c);
	c.copy = copy;
	c.errors = json_array();
	c.warnings = json_array();
	json_t *out = json_array();
	*tasks = NULL;
	*errors = NULL;
	if (warnings)
		*warnings = NULL;
	char err[256];
	const unsigned char *u = (const unsigned char *)body;

	if (!body || n == 0) {
		add_error(&c, 0, 0, NULL, "the file is empty");
		return finish(&c, out, tasks, errors, warnings);
	}
	if (n >= 4 && !memcmp(u, "PK\x03\x04", 4)) {
		add_error(&c, 0, 0, NULL, "this is an Excel workbook (.xlsx), not CSV: save it as CSV UTF-8 (逗号分隔) first");
		return finish(&c, out, tasks, errors, warnings);
	}
	if (n >= 4 && !memcmp(u, "\xD0\xCF\x11\xE0", 4)) {
		add_error(&c, 0, 0, NULL, "this is an old Excel workbook (.xls), not CSV: save it as CSV first");
		return finish(&c, out, tasks, errors, warnings);
	}
	size_t ulen = 0;
	char *utf8 = textenc_to_utf8(body, n, charset, &ulen, err, sizeof err);
	if (!utf8) {
		add_error(&c, 0, 0, NULL, "%s", err);
		return finish(&c, out, tasks, errors, warnings);
	}
	csv_table *t = NULL;
	if (csv_parse(utf8, ulen, &t, err, sizeof err)) {
		free(utf8);
		add_error(&c, 0, 0, NULL, "%s", err);
		return finish(&c, out, tasks, errors, warnings);
	}
	free(utf8);
	size_t nrows = csv_rows(t);
	if (nrows == 0) {
		add_error(&c, 0, 0, NULL, "the file is empty");
		csv_table_free(t);
		return finish(&c, out, tasks, errors, warnings);
	}

	/* The header: the first record naming a title column. */
	size_t header = nrows;
	for (size_t r = 0; r < nrows && r < HEADER_SEARCH_ROWS; r++) {
		for (size_t col = 0; col < csv_cols(t, r); col++)
			if (header_field(cell(t, r, col)) == F_TITLE) {
				header = r;
				break;
			}
		if (header != nrows)
			break;
	}
	if (header == nrows) {
		no_header_error(&c, t);
		csv_table_free(t);
		return finish(&c, out, tasks, errors, warnings);
	}
	if (header > 0)
		add_warning(&c, "skipped %zu row(s) above the header row on line %zu", header, csv_line(t, header));

	size_t hcols = csv_cols(t, header);
	int *colmap = malloc(hcols * sizeof *colmap);
	struct seqrow *seqs = malloc((nrows + 1) * sizeof *seqs);
	size_t nseqs = 0;
	c.yearless = malloc((nrows + 1) * sizeof *c.yearless);
	if (!colmap || !seqs || !c.yearless) {
		free(colmap);
		free(seqs);
		free(c.yearless);
		csv_table_free(t);
		add_error(&c, 0, 0, NULL, "out of memory");
		return finish(&c, out, tasks, errors, warnings);
	}
	size_t firstcol[F_COUNT] = { 0 };
	for (size_t col = 0; col < hcols; col++) {
		struct view hv = cell(t, header, col);
		enum field f = header_field(hv);
		if (f == F_READONLY) {
			colmap[col] = F_NONE; /* an export's computed column: not imported, no warning */
			continue;
		}
		colmap[col] = f;
		if (f != F_NONE) {
			if (c.colname[f]) {
				add_error(&c, 0, csv_line(t, header), csv_field(t, header, col),
					  "column %s appears twice (columns %zu and %zu)",
					  colnames[f].chinese[0] ? colnames[f].chinese[0] : colnames[f].english,
					  firstcol[f] + 1, col + 1);
				continue;
			}
			c.colname[f] = csv_field(t, header, col);
			c.present[f] = 1;
			firstcol[f] = col;
			continue;
		}
		char q[QUOTE_MAX * 2];
		if (hv.n) {
			add_warning(&c, "column %zu \"%s\" is not a known column; ignored", col + 1, quote(hv, q, sizeof q));
		} else {
			for (size_t r = header + 1; r < nrows; r++)
				if (cell(t, r, col).n) {
					add_warning(&c, "column %zu has no header; its values are ignored", col + 1);
					break;
				}
		}
	}
	/* Column names in errors: the header as written, trimmed. */
	char names[F_COUNT][128];
	for (int f = 0; f < F_COUNT; f++) {
		if (!c.colname[f]) {
			c.colname[f] = colnames[f].chinese[0] ? colnames[f].chinese[0] : colnames[f].english;
			continue;
		}
		struct view hv = trim(c.colname[f], strlen(c.colname[f]));
		size_t len = hv.n < sizeof names[f] ? hv.n : sizeof names[f] - 1;
		while (len && !textenc_is_utf8(hv.p, len))
			len--;
		memcpy(names[f], hv.p, len);
		names[f][len] = '\0';
		c.colname[f] = names[f];
	}

	if (json_array_size(c.errors) == 0) {
		size_t data = 0;
		for (size_t r = header + 1; r < nrows; r++) {
			if (row_blank(t, r, 0))
				continue;
			data++;
			convert_row(&c, t, r, r - header, colmap, hcols, year_hint, out, seqs, &nseqs);
		}
		if (data == 0)
			add_error(&c, 0, csv_line(t, header), NULL, "the file has a header row but no data rows");
	}
	/* 序号 is the key a re-import matches rows on: one row each under the parent. */
	if (nseqs > 1) {
		qsort(seqs, nseqs, sizeof *seqs, seqrow_cmp);
		for (size_t i = 0; i < nseqs;) {
			size_t e = i + 1;
			while (e < nseqs && seqs[e].seq == seqs[i].seq)
				e++;
			if (e - i > 1) {
				char rows[256];
				size_t len = 0;
				for (size_t k = i; k < e && len < sizeof rows - 24; k++)
					len += (size_t)snprintf(rows + len, sizeof rows - len, "%s%zu",
								k == i ? "" : k + 1 == e ? " and " : ", ", seqs[k].row);
				add_error(&c, seqs[i].row, seqs[i].line, c.colname[F_SEQ],
					  "rows %s: %s %ld is used more than once: each row needs its own "
					  "(a re-import matches rows on it)", rows, c.colname[F_SEQ], seqs[i].seq);
			}
			i = e;
		}
	}
	if (c.nyearless) {
		char rows[300];
		size_t len = 0, k;
		for (k = 0; k < c.nyearless && len < sizeof rows - 40; k++)
			len += (size_t)snprintf(rows + len, sizeof rows - len, "%s%zu", k ? ", " : "", c.yearless[k]);
		if (k < c.nyearless)
			snprintf(rows + len, sizeof rows - len, " and %zu more", c.nyearless - k);
		add_warning(&c, "%s without a year in row(s) %s: the plan's year %d was used", c.colname[F_DUE], rows,
			    year_hint);
	}
	free(c.yearless);
	free(colmap);
	free(seqs);
	csv_table_free(t);
	if (columns && !json_array_size(c.errors)) {
		*columns = json_array();
		for (int f = 0; f < F_COUNT; f++) {
			if (!c.present[f] || f == F_UNIT || f == F_SEQ || f == F_ID)
				continue;
			json_array_append_new(*columns, json_string(field_key[f]));
		}
	}
	return finish(&c, out, tasks, errors, warnings);
}

json_t *csvimport_error_list(json_t *errors, char *detail, size_t size)
{
	json_t *list = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(errors, i, e) {
		json_t *row = json_object_get(e, "row"), *col = json_object_get(e, "column");
		char field[160];
		snprintf(field, sizeof field, "rows[%lld].%s", (long long)json_integer_value(row),
			 json_is_string(col) ? json_string_value(col) : "");
		json_t *item = json_deep_copy(e);
		json_object_set_new(item, "field", json_string(field));
		json_array_append_new(list, item);
	}
	const char *first = json_string_value(json_object_get(json_array_get(errors, 0), "message"));
	snprintf(detail, size, "%zu problem(s) in the file; nothing was imported%s%.120s", json_array_size(errors),
		 first ? ": " : "", first ? first : "");
	size_t dl = strlen(detail); /* cut at a character boundary */
	while (dl && !textenc_is_utf8(detail, dl))
		detail[--dl] = '\0';
	return list;
}

size_t csvimport_row_estimate(const char *body, size_t n)
{
	size_t lines = 0;
	const char *p = body, *end = body + n;
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p++;
	}
	if (n && body[n - 1] != '\n')
		lines++;
	return lines ? lines - 1 : 0;
}

char *csvimport_copy_rows(const json_t *tasks, size_t *len)
{
	struct copybuf b = { { NULL, 0, 0 }, 0 };
	cb_put(&b, "", 0);
	for (size_t i = 0; i < json_array_size(tasks); i++)
		copy_row(&b, json_array_get(tasks, i));
	*len = b.buf.len;
	return b.buf.data;
}

int csvimport_tasks_ex(const char *body, size_t n, const char *charset, int year_hint, json_t **tasks,
		       json_t **errors, json_t **warnings, json_t **columns)
{
	return read_rows(body, n, charset, year_hint, tasks, errors, warnings, columns, NULL);
}

int csvimport_copy_ex(const char *body, size_t n, const char *charset, int year_hint, char **copy, size_t *copy_len,
		      size_t *rows, json_t **errors, json_t **warnings, json_t **columns)
{
	struct copybuf b = { { NULL, 0, 0 }, 0 };
	cb_put(&b, "", 0);
	json_t *tasks = NULL;
	int rc = read_rows(body, n, charset, year_hint, &tasks, errors, warnings, columns, &b);
	json_decref(tasks);
	if (rc) {
		free(b.buf.data);
		*copy = NULL;
		*copy_len = *rows = 0;
		return rc;
	}
	*copy = b.buf.data;
	*copy_len = b.buf.len;
	*rows = b.rows;
	return 0;
}
