/*
 * dates.c - parse the date forms of Chinese plans and spreadsheets into
 * "YYYY-MM-DD" (see dates.h). The input is first mapped to a short ASCII
 * token string (年->Y, 月->M, 日/号->D, 底/末->E, 前->B, full-width digits and
 * punctuation to ASCII), then matched against a handful of shapes.
 */
#include "plantrack/dates.h"

#include <string.h>

#define TOKMAX 40

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int dates_month_end(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12)
		return 0;
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int dates_valid(int y, int m, int d)
{
	if (y < 1900 || y > 2999)
		return 0;
	int end = dates_month_end(y, m);
	return end && d >= 1 && d <= end;
}

struct glyph {
	const char *utf8;
	char ascii;
};

/* Multi-byte characters we understand, and the ASCII token each becomes. */
static const struct glyph glyphs[] = {
	{ "\xE5\xB9\xB4", 'Y' },                         /* 年 */
	{ "\xE6\x9C\x88", 'M' },                         /* 月 */
	{ "\xE6\x97\xA5", 'D' }, { "\xE5\x8F\xB7", 'D' }, /* 日 号 */
	{ "\xE5\xBA\x95", 'E' }, { "\xE6\x9C\xAB", 'E' }, /* 底 末 */
	{ "\xE5\x89\x8D", 'B' },                         /* 前 */
	{ "\xEF\xBC\x8D", '-' }, { "\xEF\xBC\x8F", '/' }, /* － ／ */
	{ "\xEF\xBC\x8E", '.' }, { "\xEF\xBC\x9A", ':' }, /* ． ： */
	{ "\xE3\x80\x80", ' ' }, { "\xC2\xA0", ' ' },     /* ideographic space, NBSP */
};

/* Maps s to tokens; -1 on any character outside the date vocabulary. */
static int tokenize(const char *s, char *tok, size_t cap)
{
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		char c = 0;
		if (*p < 0x80) {
			if ((*p >= '0' && *p <= '9') || strchr("-/.: \t\r\n", *p))
				c = (char)*p;
			else
				return -1;
			if (c == '\t' || c == '\r' || c == '\n')
				c = ' ';
			p++;
		} else if (p[0] == 0xEF && p[1] == 0xBC && p[2] >= 0x90 && p[2] <= 0x99) {
			c = (char)('0' + (p[2] - 0x90)); /* full-width digit */
			p += 3;
		} else {
			size_t i;
			for (i = 0; i < sizeof glyphs / sizeof glyphs[0]; i++) {
				size_t gl = strlen(glyphs[i].utf8);
				if (!strncmp((const char *)p, glyphs[i].utf8, gl)) {
					c = glyphs[i].ascii;
					p += gl;
					break;
				}
			}
			if (!c)
				return -1;
		}
		if (n + 1 >= cap)
			return -1;
		tok[n++] = c;
	}
	tok[n] = '\0';
	return 0;
}

/* Reads 1..maxd digits at *p; -1 if none or too many. */
static int read_num(const char **p, int maxd, int *ndigits)
{
	int v = 0, nd = 0;
	while (**p >= '0' && **p <= '9') {
		if (++nd > maxd)
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	if (ndigits)
		*ndigits = nd;
	return nd ? v : -1;
}

/* "H:MM" or "H:MM:SS" with sane ranges. */
static int is_time(const char *t)
{
	const char *p = t;
	int h = read_num(&p, 2, NULL);
	if (h < 0 || h > 23 || *p++ != ':')
		return 0;
	int nd, m = read_num(&p, 2, &nd);
	if (m < 0 || m > 59 || nd != 2)
		return 0;
	if (*p == ':') {
		p++;
		int sec = read_num(&p, 2, &nd);
		if (sec < 0 || sec > 60 || nd != 2)
			return 0;
	}
	return *p == '\0';
}

static int emit(int y, int m, int d, char out[11])
{
	if (!dates_valid(y, m, d))
		return -1;
	/* Written by hand: the ranges are known, and snprintf trips -Wformat-truncation. */
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = '\0';
	return 0;
}

/* Numeric forms: 20250630, Y-M-D, Y/M/D, Y.M.D, Y-M, Y/M. */
static int parse_numeric(const char *t, char out[11])
{
	const char *p = t;
	int nd, y = read_num(&p, 8, &nd);
	if (y < 0)
		return -1;
	if (*p == '\0')
		return nd == 8 ? emit(y / 10000, y / 100 % 100, y % 100, out) : -1;
	if (nd != 4)
		return -1;
	char sep = *p;
	if (sep != '-' && sep != '/' && sep != '.')
		return -1;
	p++;
	int m = read_num(&p, 2, NULL);
	if (m < 0)
		return -1;
	if (*p == '\0')
		return sep == '.' ? -1 : emit(y, m, dates_month_end(y, m), out);
	if (*p++ != sep)
		return -1;
	int d = read_num(&p, 2, NULL);
	if (d < 0 || *p != '\0')
		return -1;
	return emit(y, m, d, out);
}

/* Chinese forms over the tokens Y M D E: [yyyyY] (E | mM [dd[D] | E]). */
static int parse_chinese(const char *t, int year_hint, char out[11])
{
	const char *p = t;
	int y = year_hint;
	if (*p >= '0' && *p <= '9') {
		const char *q = p;
		int nd, v = read_num(&q, 4, &nd);
		if (v >= 0 && nd == 4 && *q == 'Y') {
			y = v;
			p = q + 1;
		}
	} else if (*p == 'Y') {
		p++; /* 年底 / 年末: "the year's end" */
		if (*p != 'E')
			return -1;
	}
	if (*p == 'E' && p[1] == '\0' && p > t && p[-1] == 'Y')
		return emit(y, 12, 31, out);
	int m = read_num(&p, 2, NULL);
	if (m < 0 || *p++ != 'M')
		return -1;
	if (*p == '\0' || (*p == 'E' && p[1] == '\0'))
		return emit(y, m, dates_month_end(y, m), out);
	int d = read_num(&p, 2, NULL);
	if (d < 0)
		return -1;
	if (*p == 'D')
		p++;
	if (*p != '\0')
		return -1;
	return emit(y, m, d, out);
}

int dates_parse(const char *s, int year_hint, char out[11])
{
	char tok[TOKMAX];
	if (!out)
		return -1;
	out[0] = '\0';
	if (!s || tokenize(s, tok, sizeof tok))
		return -1;
	/* Trim spaces at both ends. */
	char *b = tok, *e = tok + strlen(tok);
	while (*b == ' ')
		b++;
	while (e > b && e[-1] == ' ')
		*--e = '\0';
	/* An Excel date-time: drop a valid time after the last space. */
	char *sp = strrchr(b, ' ');
	if (sp && strchr(sp, ':')) {
		if (!is_time(sp + 1))
			return -1;
		*sp = '\0';
		while (sp > b && sp[-1] == ' ')
			*--sp = '\0';
	} else if (strchr(b, ':')) {
		return -1;
	}
	/* Remove inner spaces ("2025 年 6 月"), a trailing 前 ("6月底前"). */
	char *w = b;
	for (char *r = b; *r; r++)
		if (*r != ' ')
			*w++ = *r;
	*w = '\0';
	if (w > b && w[-1] == 'B')
		*--w = '\0';
	if (!*b)
		return -1;
	int rc = strpbrk(b, "YMDE") ? parse_chinese(b, year_hint, out) : parse_numeric(b, out);
	if (rc)
		out[0] = '\0';
	return rc;
}
