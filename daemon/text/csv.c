/*
 * csv.c - RFC 4180 reader into one flat table, and the CRLF writer for Excel
 * exports (see csv.h). Reading is one linear pass: field bytes go to a single
 * growing buffer, fields and records are arrays of offsets into it.
 */
#include "plantrack/csv.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct csv_row {
	size_t first; /* index of its first field */
	size_t ncols;
	size_t line;
};

struct csv_table {
	char *buf; /* all fields, each NUL-terminated, back to back */
	size_t buflen, bufcap;
	size_t *fields; /* offset of each field in buf */
	size_t nfields, fieldcap;
	struct csv_row *rows;
	size_t nrows, rowcap;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Grows *p (an array of *cap items of size sz) to hold need items. */
static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / sz)
			return -1;
		ncap *= 2;
	}
	void *np = realloc(*p, ncap * sz);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static int buf_add(csv_table *t, const char *s, size_t n)
{
	if (n > SIZE_MAX - t->buflen - 1 || grow((void **)&t->buf, &t->bufcap, t->buflen + n + 1, 1))
		return -1;
	memcpy(t->buf + t->buflen, s, n);
	t->buflen += n;
	return 0;
}

static int field_begin(csv_table *t)
{
	if (grow((void **)&t->fields, &t->fieldcap, t->nfields + 1, sizeof *t->fields))
		return -1;
	t->fields[t->nfields++] = t->buflen;
	return 0;
}

static int field_end(csv_table *t)
{
	return buf_add(t, "", 1);
}

static size_t line_at(const char *s, size_t off)
{
	size_t line = 1;
	for (size_t i = 0; i < off; i++)
		if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= off || s[i + 1] != '\n')))
			line++;
	return line;
}

/* Length of the line break at s[i] (0 if none): CRLF 2, CR or LF 1. */
static size_t eol_len(const char *s, size_t n, size_t i)
{
	if (i >= n)
		return 0;
	if (s[i] == '\n')
		return 1;
	if (s[i] == '\r')
		return i + 1 < n && s[i + 1] == '\n' ? 2 : 1;
	return 0;
}

int csv_parse(const char *s, size_t n, csv_table **out, char *err, size_t errlen)
{
	if (out)
		*out = NULL;
	if (!out || (!s && n)) {
		set_err(err, errlen, "no input");
		return -1;
	}
	if (!s)
		s = "";
	const char *nul = memchr(s, '\0', n);
	if (nul) {
		set_err(err, errlen, "line %zu: NUL byte in the text (binary file?)", line_at(s, (size_t)(nul - s)));
		return -1;
	}
	csv_table *t = calloc(1, sizeof *t);
	if (!t || grow((void **)&t->buf, &t->bufcap, n + 1, 1))
		goto oom;
	size_t i = 0, line = 1;
	if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
		i = 3;
	while (i < n) {
		size_t el = eol_len(s, n, i);
		if (el) { /* a fully empty line */
			i += el;
			line++;
			continue;
		}
		if (grow((void **)&t->rows, &t->rowcap, t->nrows + 1, sizeof *t->rows))
			goto oom;
		struct csv_row *row = &t->rows[t->nrows++];
		row->first = t->nfields;
		row->ncols = 0;
		row->line = line;
		for (;;) {
			if (field_begin(t))
				goto oom;
			row->ncols++;
			if (i < n && s[i] == '"') {
				size_t qline = line;
				i++;
				for (;;) {
					const char *q = memchr(s + i, '"', n - i);
					if (!q) {
						set_err(err, errlen,
							"line %zu: quoted field is never closed (a \" is missing)", qline);
						csv_table_free(t);
						return -1;
					}
					size_t chunk = (size_t)(q - (s + i));
					for (size_t k = i; k < i + chunk; k++)
						if (s[k] == '\n' || (s[k] == '\r' && (k + 1 >= n || s[k + 1] != '\n')))
							line++;
					if (buf_add(t, s + i, chunk))
						goto oom;
					i += chunk + 1;
					if (i < n && s[i] == '"') {
						if (buf_add(t, "\"", 1))
							goto oom;
						i++;
						continue;
					}
					break;
				}
			}
			/* Unquoted text, or text after a closing quote: up to , or line end. */
			size_t start = i;
			while (i < n && s[i] != ',' && s[i] != '\n' && s[i] != '\r')
				i++;
			if (buf_add(t, s + start, i - start) || field_end(t))
				goto oom;
			if (i < n && s[i] == ',') {
				i++;
				continue;
			}
			el = eol_len(s, n, i);
			if (el) {
				i += el;
				line++;
			}
			break;
		}
	}
	*out = t;
	return 0;
oom:
	csv_table_free(t);
	set_err(err, errlen, "out of memory");
	return -1;
}

size_t csv_rows(const csv_table *t)
{
	return t ? t->nrows : 0;
}

size_t csv_cols(const csv_table *t, size_t row)
{
	return t && row < t->nrows ? t->rows[row].ncols : 0;
}

const char *csv_field(const csv_table *t, size_t row, size_t col)
{
	if (!t || row >= t->nrows || col >= t->rows[row].ncols)
		return NULL;
	return t->buf + t->fields[t->rows[row].first + col];
}

size_t csv_field_len(const csv_table *t, size_t row, size_t col)
{
	if (!t || row >= t->nrows || col >= t->rows[row].ncols)
		return 0;
	size_t k = t->rows[row].first + col;
	size_t end = k + 1 < t->nfields ? t->fields[k + 1] : t->buflen;
	return end - t->fields[k] - 1;
}

size_t csv_line(const csv_table *t, size_t row)
{
	return t && row < t->nrows ? t->rows[row].line : 0;
}

void csv_table_free(csv_table *t)
{
	if (!t)
		return;
	free(t->buf);
	free(t->fields);
	free(t->rows);
	free(t);
}

static int needs_quotes(const char *f, size_t len)
{
	if (!len)
		return 0;
	if (f[0] == ' ' || f[0] == '\t' || f[len - 1] == ' ' || f[len - 1] == '\t')
		return 1;
	return strpbrk(f, ",\"\r\n") != NULL;
}

int csv_write_row_ex(csv_sink sink, void *ctx, const char *const *fields, size_t n, int flags)
{
	if (!sink || (!fields && n))
		return -1;
	for (size_t c = 0; c < n; c++) {
		const char *f = fields[c] ? fields[c] : "";
		size_t len = strlen(f);
		if (c && sink(ctx, ",", 1))
			return -1;
		int neutralize = (flags & CSV_WRITE_NEUTRALIZE_FORMULAS) && len && strchr("=+-@\t\r", f[0]);
		if (n == 1 && len == 0) {
			if (sink(ctx, "\"\"", 2)) /* else it would read back as an empty line */
				return -1;
			continue;
		}
		if (!neutralize && !needs_quotes(f, len)) {
			if (sink(ctx, f, len))
				return -1;
			continue;
		}
		if (sink(ctx, "\"", 1) || (neutralize && sink(ctx, "'", 1)))
			return -1;
		const char *p = f, *q;
		while ((q = strchr(p, '"')) != NULL) {
			if (sink(ctx, p, (size_t)(q - p) + 1) || sink(ctx, "\"", 1))
				return -1;
			p = q + 1;
		}
		if (sink(ctx, p, strlen(p)) || sink(ctx, "\"", 1))
			return -1;
	}
	return sink(ctx, "\r\n", 2) ? -1 : 0;
}

int csv_write_row(csv_sink sink, void *ctx, const char *const *fields, size_t n)
{
	return csv_write_row_ex(sink, ctx, fields, n, 0);
}

int csv_buf_sink(void *ctx, const void *data, size_t len)
{
	struct csv_buf *b = ctx;
	if (len + 1 > b->cap - b->len || !b->data) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len < len + 1) {
			if (cap > SIZE_MAX / 2)
				return -1;
			cap *= 2;
		}
		char *p = realloc(b->data, cap);
		if (!p)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}
