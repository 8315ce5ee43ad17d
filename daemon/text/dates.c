/*
 * dates.c - parse the date forms of Chinese plans and spreadsheets into
 * "YYYY-MM-DD" (see dates.h). One grammar, dates_match(), reads a date at
 * the start of a text; plan text scans with it (DATES_PLAN_TEXT adds the
 * vague words 三季度末, 上半年, 全年), spreadsheet cells must be one whole
 * date (dates_parse_ex).
 */
#include "plantrack/dates.h"

#include <string.h>

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

/* ---------- the grammar: one date at the start of a text ---------- */

/* A digit (ASCII or full-width) at s[i]: its value and *len, else -1. */
static int dg(const char *s, size_t i, size_t n, size_t *len)
{
	const unsigned char *u = (const unsigned char *)s;
	if (i < n && u[i] >= '0' && u[i] <= '9') {
		*len = 1;
		return u[i] - '0';
	}
	if (i + 3 <= n && u[i] == 0xEF && u[i + 1] == 0xBC && u[i + 2] >= 0x90 && u[i + 2] <= 0x99) {
		*len = 3;
		return u[i + 2] - 0x90;
	}
	return -1;
}

/* 1..maxd digits at i, no more: bytes (0 if none or too many), *val, *nd. */
static size_t num(const char *s, size_t i, size_t n, int maxd, int *val, int *nd)
{
	size_t j = i, l;
	int d, v = 0, k = 0;
	while ((d = dg(s, j, n, &l)) >= 0) {
		if (++k > maxd)
			return 0;
		v = v * 10 + d;
		j += l;
	}
	*val = v;
	*nd = k;
	return j - i;
}

static size_t lit(const char *s, size_t i, size_t n, const char *w)
{
	size_t l = strlen(w);
	return i <= n && n - i >= l && !memcmp(s + i, w, l) ? l : 0;
}

/* A date separator at i: '-', '/', '.' (or full-width), *len; else 0. */
static char sep(const char *s, size_t i, size_t n, size_t *len)
{
	if (i < n && (s[i] == '-' || s[i] == '/' || s[i] == '.')) {
		*len = 1;
		return s[i];
	}
	if ((*len = lit(s, i, n, "\xEF\xBC\x8D")))
		return '-';
	if ((*len = lit(s, i, n, "\xEF\xBC\x8F")))
		return '/';
	if ((*len = lit(s, i, n, "\xEF\xBC\x8E")))
		return '.';
	return 0;
}

/* A month or quarter in Chinese numerals (一 … 十二): bytes, *val. */
static size_t cn_month(const char *s, size_t i, size_t n, int *val)
{
	static const char *const w[] = { "十二", "十一", "十", "一", "二", "三", "四", "五", "六", "七", "八", "九", NULL };
	static const int v[] = { 12, 11, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	for (int k = 0; w[k]; k++) {
		size_t l = lit(s, i, n, w[k]);
		if (l) {
			*val = v[k];
			return l;
		}
	}
	return 0;
}

/* 前 / 之前 / 以前 after a date. */
static size_t before_word(const char *s, size_t i, size_t n)
{
	size_t l;
	if ((l = lit(s, i, n, "之前")) || (l = lit(s, i, n, "以前")) || (l = lit(s, i, n, "前")))
		return l;
	return 0;
}

static size_t done(struct dates_match *o, int y, int m, int d, const char *s, size_t i, size_t n)
{
	o->y = y;
	o->m = m;
	o->d = d;
	return i + before_word(s, i, n);
}

size_t dates_match(const char *s, size_t n, int year_hint, unsigned flags, struct dates_match *o)
{
	int text = (flags & DATES_PLAN_TEXT) != 0;
	size_t i = 0, l, k;
	int y = 0, v, nd;
	memset(o, 0, sizeof *o);
	if (!s || !n)
		return 0;
	/* Numeric: 2025-06-30, 2025/6/30, 2025.6.30, 2025-06, 2025/6 */
	if ((l = num(s, 0, n, 4, &v, &nd)) && nd == 4) {
		char c = sep(s, l, n, &k);
		if (c) {
			int m, d, mnd, dnd;
			size_t lm = num(s, l + k, n, 2, &m, &mnd), k2;
			if (!lm)
				return 0;
			size_t p = l + k + lm;
			char c2 = sep(s, p, n, &k2);
			if (c2 == c) {
				size_t ld = num(s, p + k2, n, 2, &d, &dnd);
				if (!ld)
					return 0;
				return done(o, v, m, d, s, p + k2 + ld, n);
			}
			if (c == '.' || c2)
				return 0; /* 2025.6 is a number; 2025-6/30 is not a date */
			return done(o, v, m, dates_month_end(v, m), s, p, n);
		}
		if (!(k = lit(s, l, n, "年")))
			return 0;
		y = v;
		i = l + k;
	}
	int explicit_year = y != 0;
	if (!explicit_year)
		y = year_hint >= 1900 && year_hint <= 2999 ? year_hint : 0;
	o->yearless = !explicit_year;
	/* The year's end: 2025年底, 年底, 年末 (and in plans 年内, 全年, 年度内) */
	if (explicit_year && ((l = lit(s, i, n, "底")) || (l = lit(s, i, n, "末")) ||
			      (text && ((l = lit(s, i, n, "度内")) || (l = lit(s, i, n, "内")))))) {
		o->year_end = 1;
		return done(o, y, 12, 31, s, i + l, n);
	}
	if (!explicit_year && ((l = lit(s, i, n, "年底")) || (l = lit(s, i, n, "年末")))) {
		o->year_end = 1;
		return done(o, y, 12, 31, s, i + l, n);
	}
	if (text && !explicit_year &&
	    ((l = lit(s, i, n, "年度内")) || (l = lit(s, i, n, "年内")) || (l = lit(s, i, n, "全年")))) {
		o->year_end = o->vague = 1;
		return done(o, y, 12, 31, s, i + l, n);
	}
	if (text && ((l = lit(s, i, n, "上半年")) || (l = lit(s, i, n, "下半年")))) {
		int first = lit(s, i, n, "上半年") != 0;
		o->vague = 1;
		o->year_end = !first;
		return done(o, y, first ? 6 : 12, first ? 30 : 31, s, i + l, n);
	}
	/* Quarters (plans only): 三季度末, 第一季度, 2季度 */
	if (text) {
		size_t q = i + lit(s, i, n, "第"), ql;
		int qv = 0;
		if ((ql = cn_month(s, q, n, &qv)) == 0 && (ql = num(s, q, n, 1, &qv, &nd)) == 0)
			qv = 0;
		if (qv >= 1 && qv <= 4 && (l = lit(s, q + ql, n, "季度"))) {
			size_t e = q + ql + l, x;
			if ((x = lit(s, e, n, "末")) || (x = lit(s, e, n, "底")))
				e += x;
			o->vague = 1;
			return done(o, y, qv * 3, qv == 1 || qv == 4 ? 31 : 30, s, e, n);
		}
	}
	/* Months: 6月30日, 6月底, 6月末, 6月份, 6月, 十月底 (and in plans 6月上旬) */
	int m = 0, cn = 0;
	if ((l = num(s, i, n, 2, &m, &nd)) == 0) {
		if (!(l = cn_month(s, i, n, &m)))
			return 0;
		cn = 1;
	}
	if (!(k = lit(s, i + l, n, "月")) || m < 1 || m > 12)
		return 0;
	size_t p = i + l + k;
	int ye = y ? y : 2001; /* month ends without a year: a non-leap one */
	int d;
	if ((l = num(s, p, n, 2, &d, &nd))) {
		if ((k = lit(s, p + l, n, "日")) || (k = lit(s, p + l, n, "号")))
			return done(o, y, m, d, s, p + l + k, n);
		if (text || cn)
			return 0;
		return done(o, y, m, d, s, p + l, n);
	}
	if ((l = lit(s, p, n, "底")) || (l = lit(s, p, n, "末")) || (l = lit(s, p, n, "份")))
		return done(o, y, m, dates_month_end(ye, m), s, p + l, n);
	if (text && ((l = lit(s, p, n, "上旬")) || (l = lit(s, p, n, "中旬")))) {
		o->vague = 1;
		return done(o, y, m, lit(s, p, n, "上旬") ? 10 : 20, s, p + l, n);
	}
	if (text && (l = lit(s, p, n, "下旬"))) {
		o->vague = 1;
		return done(o, y, m, dates_month_end(ye, m), s, p + l, n);
	}
	if (cn && !before_word(s, p, n))
		return 0; /* 三月 alone may be a name */
	return done(o, y, m, dates_month_end(ye, m), s, p, n);
}

/* ---------- whole values (spreadsheet cells) ---------- */

/* "H:MM" or "H:MM:SS" with sane ranges. */
static int is_time(const char *t)
{
	const char *p = t;
	int h, m, sec, nd;
	size_t l = num(p, 0, strlen(p), 2, &h, &nd);
	if (!l || h > 23 || p[l] != ':')
		return 0;
	p += l + 1;
	if (!(l = num(p, 0, strlen(p), 2, &m, &nd)) || m > 59 || nd != 2)
		return 0;
	p += l;
	if (*p == ':') {
		p++;
		if (!(l = num(p, 0, strlen(p), 2, &sec, &nd)) || sec > 60 || nd != 2)
			return 0;
		p += l;
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

int dates_parse_ex(const char *s, int year_hint, unsigned flags, char out[11], int *yearless)
{
	char buf[128], t[128];
	size_t n = 0;
	if (yearless)
		*yearless = 0;
	if (!out)
		return -1;
	out[0] = '\0';
	if (!s)
		return -1;
	/* Spaces of every kind to ' ', full-width colon to ':'; the rest as is. */
	size_t slen = strlen(s);
	for (const char *p = s; *p;) {
		size_t l, rem = slen - (size_t)(p - s);
		char c = 0;
		if ((l = lit(p, 0, rem, "\xE3\x80\x80")) || (l = lit(p, 0, rem, "\xC2\xA0")) ||
		    (l = lit(p, 0, rem, "\xEF\xBB\xBF")))
			c = ' ';
		else if ((l = lit(p, 0, rem, "\xEF\xBC\x9A")))
			c = ':';
		else if (*p == '\t' || *p == '\r' || *p == '\n')
			c = ' ', l = 1;
		if (n + 4 >= sizeof buf)
			return -1;
		if (c) {
			buf[n++] = c;
			p += l;
		} else {
			buf[n++] = *p++;
		}
	}
	buf[n] = '\0';
	/* An Excel date-time: a valid time after the last space is dropped. */
	char *colon = strchr(buf, ':');
	if (colon) {
		char *e = buf + n;
		while (e > buf && e[-1] == ' ')
			*--e = '\0';
		char *sp = strrchr(buf, ' ');
		if (!sp || sp < colon - 8 || strchr(buf, ':') < sp || !is_time(sp + 1))
			return -1;
		*sp = '\0';
	}
	/* Inner spaces go ("2025 年 6 月"). */
	size_t m = 0;
	for (char *p = buf; *p; p++)
		if (*p != ' ')
			t[m++] = *p;
	t[m] = '\0';
	if (!m)
		return -1;
	/* 20250630 */
	int v, nd;
	if (m == 8 && num(t, 0, m, 8, &v, &nd) == 8)
		return emit(v / 10000, v / 100 % 100, v % 100, out);
	struct dates_match dm;
	if (dates_match(t, m, year_hint, flags, &dm) != m)
		return -1;
	if (dm.yearless && !(year_hint >= 1900 && year_hint <= 2999))
		return -1;
	if (yearless)
		*yearless = dm.yearless;
	return emit(dm.y, dm.m, dm.d, out);
}

int dates_parse(const char *s, int year_hint, char out[11])
{
	return dates_parse_ex(s, year_hint, 0, out, NULL);
}
