/*
 * planparse.c - plan document text to a task tree (see planparse.h).
 *
 * The text is validated, split into trimmed lines and copied once into a
 * working buffer (lines joined by '\n'); every item is then a byte range of
 * that buffer. Pass 1 classifies heading lines by numbering style and ranks
 * the styles present; pass 2 builds the tree with a stack; pass 3 splits
 * 一是/二是 enumerations of leaf items into sub-items; pass 4 renders JSON,
 * scanning each item's own text for targets, deadlines and cadence.
 */
#include "plantrack/planparse.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE ((size_t)-1)
#define MAX_NODES 5000
#define MAX_SIBLINGS 9999
#define MAX_ENUM 99
#define MAX_WARNINGS 200
#define MAX_TARGETS 200
#define MAX_DEADLINES 32
#define MAX_TITLE 300   /* bytes; the API takes 500 */
#define MAX_BODY 20000  /* bytes; the API limit */
#define MAX_TEXT 300    /* target text / milestone title, bytes */
#define CLAUSE_SPAN 600 /* how far to look for a clause boundary, bytes */
#define NSTYLES 6       /* 5 heading styles + the 一是 enumeration */
#define STYLE_ENUM 5

enum { CMP_EQ, CMP_GE, CMP_LE };

struct line {
	size_t off, len; /* in the working buffer, marker included */
	int src;         /* 1-based source line */
	int style;       /* -1 paragraph, else 0..4 */
	size_t mlen;     /* bytes of the numbering marker (and spaces after it) */
	int num;         /* the number as written */
};

struct node {
	size_t start, end;  /* own range in the buffer */
	size_t head_end;    /* end of the heading line */
	size_t own_end;     /* end of the text that is the item's own (before 一是) */
	int style, level;   /* level: rank of the style, 1.. */
	int depth, seq, num, line;
	size_t parent, first, last, next;
};

struct pp {
	char *buf;
	size_t blen;
	struct line *lines;
	size_t nlines;
	struct node *nodes;
	size_t nnodes, cap;
	json_t *warnings;
	int year;
	int year_warned;
	int overflow_warned;
	size_t counts[NSTYLES + 1];
	int maxdepth;
};

/* ---------- small text helpers ---------- */

__attribute__((format(printf, 3, 4)))
static void pp_warn(struct pp *p, int line, const char *fmt, ...)
{
	size_t n = json_array_size(p->warnings);
	if (n > MAX_WARNINGS)
		return;
	char msg[256];
	if (n == MAX_WARNINGS) {
		snprintf(msg, sizeof msg, "further warnings omitted");
	} else {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
	}
	/* vsnprintf may cut a multibyte sequence: back up to a boundary. */
	size_t l = strlen(msg);
	size_t k = l;
	while (k > 0 && ((unsigned char)msg[k - 1] & 0xC0) == 0x80)
		k--;
	if (k > 0 && ((unsigned char)msg[k - 1] & 0x80)) {
		unsigned char c = (unsigned char)msg[k - 1];
		size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
		if (l - (k - 1) < need)
			msg[k - 1] = '\0';
	}
	json_t *w = json_object();
	json_object_set_new(w, "line", json_integer(line));
	json_object_set_new(w, "message", json_string(msg));
	json_array_append_new(p->warnings, w);
}

/* Length of the UTF-8 sequence starting with byte c (the text is valid). */
static size_t cp_len(unsigned char c)
{
	return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
}

/* Start of the code point before i (i > lo). */
static size_t cp_prev(const char *s, size_t lo, size_t i)
{
	if (i <= lo)
		return lo;
	i--;
	while (i > lo && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return i;
}

/* Bytes of w when s[i..hi) starts with it, else 0. */
static size_t at(const char *s, size_t i, size_t hi, const char *w)
{
	size_t n = strlen(w);
	return i <= hi && hi - i >= n && memcmp(s + i, w, n) == 0 ? n : 0;
}

/* Bytes of w when s[lo..i) ends with it, else 0. */
static size_t ends(const char *s, size_t lo, size_t i, const char *w)
{
	size_t n = strlen(w);
	return i >= lo && i - lo >= n && memcmp(s + i - n, w, n) == 0 ? n : 0;
}

/* First word of the NULL-terminated list that s[i..hi) starts with. */
static size_t at_any(const char *s, size_t i, size_t hi, const char *const *ws, int *which)
{
	for (int k = 0; ws[k]; k++) {
		size_t n = at(s, i, hi, ws[k]);
		if (n) {
			if (which)
				*which = k;
			return n;
		}
	}
	return 0;
}

static size_t ends_any(const char *s, size_t lo, size_t i, const char *const *ws)
{
	for (int k = 0; ws[k]; k++) {
		size_t n = ends(s, lo, i, ws[k]);
		if (n)
			return n;
	}
	return 0;
}

/* A decimal digit (ASCII or full-width) at i: its value, and *n its bytes. */
static int digit_at(const char *s, size_t i, size_t hi, size_t *n)
{
	if (i < hi && s[i] >= '0' && s[i] <= '9') {
		*n = 1;
		return s[i] - '0';
	}
	if (i + 3 <= hi && (unsigned char)s[i] == 0xEF && (unsigned char)s[i + 1] == 0xBC &&
	    (unsigned char)s[i + 2] >= 0x90 && (unsigned char)s[i + 2] <= 0x99) {
		*n = 3;
		return (unsigned char)s[i + 2] - 0x90;
	}
	return -1;
}

static int is_digit_at(const char *s, size_t i, size_t hi)
{
	size_t n;
	return digit_at(s, i, hi, &n) >= 0;
}

/* Digit run at i: returns bytes, *val (capped), *ndig. */
static size_t digits_run(const char *s, size_t i, size_t hi, long *val, int *ndig)
{
	size_t j = i, n;
	int d;
	long v = 0;
	int k = 0;
	while ((d = digit_at(s, j, hi, &n)) >= 0) {
		if (v < 100000000000L)
			v = v * 10 + d;
		k++;
		j += n;
	}
	*val = v;
	*ndig = k;
	return j - i;
}

static const char *const cn_digits[] = { "〇", "一", "二", "三", "四", "五", "六", "七", "八", "九", NULL };

static int cn_digit(const char *s, size_t i, size_t hi, size_t *n)
{
	int k;
	size_t m = at_any(s, i, hi, cn_digits, &k);
	if (!m)
		return -1;
	*n = m;
	return k;
}

static int is_cn_numeral_at(const char *s, size_t i, size_t hi)
{
	size_t n;
	return cn_digit(s, i, hi, &n) >= 0 || at(s, i, hi, "十") || at(s, i, hi, "两");
}

/* A Chinese numeral 1..99 at i (一, 十, 十二, 二十, 九十九): bytes, *val. */
static size_t cn_number(const char *s, size_t i, size_t hi, int *val)
{
	size_t n1, n2, n3;
	int d1 = cn_digit(s, i, hi, &n1);
	if (d1 == 0)
		return 0;
	if (d1 < 0) {
		if (!(n1 = at(s, i, hi, "十")))
			return 0;
		int d2 = cn_digit(s, i + n1, hi, &n2);
		if (d2 > 0) {
			*val = 10 + d2;
			return n1 + n2;
		}
		*val = 10;
		return n1;
	}
	if ((n2 = at(s, i + n1, hi, "十"))) {
		int d3 = cn_digit(s, i + n1 + n2, hi, &n3);
		if (d3 > 0) {
			*val = d1 * 10 + d3;
			return n1 + n2 + n3;
		}
		*val = d1 * 10;
		return n1 + n2;
	}
	*val = d1;
	return n1;
}

/* Whitespace at i (ASCII, ideographic space, NBSP, BOM): bytes, else 0. */
static size_t space_at(const char *s, size_t i, size_t hi)
{
	if (i >= hi)
		return 0;
	if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v')
		return 1;
	size_t n;
	if ((n = at(s, i, hi, "\xE3\x80\x80")) || (n = at(s, i, hi, "\xC2\xA0")) ||
	    (n = at(s, i, hi, "\xEF\xBB\xBF")))
		return n;
	return 0;
}

static size_t space_before(const char *s, size_t lo, size_t i)
{
	if (i <= lo)
		return 0;
	char c = s[i - 1];
	if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\n')
		return 1;
	size_t n;
	if ((n = ends(s, lo, i, "\xE3\x80\x80")) || (n = ends(s, lo, i, "\xC2\xA0")) ||
	    (n = ends(s, lo, i, "\xEF\xBB\xBF")))
		return n;
	return 0;
}

/* Trims whitespace and newlines from both ends of [*a, *b). */
static void trim(const char *s, size_t *a, size_t *b)
{
	size_t n = 0;
	while (*a < *b && (s[*a] == '\n' || (n = space_at(s, *a, *b)) > 0))
		*a += s[*a] == '\n' ? 1 : n;
	while (*b > *a && (n = space_before(s, *a, *b)) > 0)
		*b -= n;
}

static const char *const major_delims[] = { "。", "，", ",", "；", ";", "：", ":", "！", "!", "？", "?", "\n", NULL };
static const char *const terminators[] = { "。", "！", "？", "!", "?", "；", ";", "：", ":", NULL };
static const char *const trailing_punct[] = { "，", ",", "、", "：", ":", "；", ";", "。", NULL };

/* Quote state: “” 《》 「」『』 and ASCII ". inside() is nonzero inside any. */
struct quotes {
	int curly, book, corner, ascii;
};

/* Updates q for the code point at i; returns its bytes. */
static size_t quotes_step(struct quotes *q, const char *s, size_t i, size_t hi)
{
	size_t n;
	if (s[i] == '\n') {
		memset(q, 0, sizeof *q);
		return 1;
	}
	if (s[i] == '"') {
		q->ascii = !q->ascii;
		return 1;
	}
	if ((n = at(s, i, hi, "“"))) {
		q->curly++;
		return n;
	}
	if ((n = at(s, i, hi, "”"))) {
		if (q->curly > 0)
			q->curly--;
		return n;
	}
	if ((n = at(s, i, hi, "《"))) {
		q->book++;
		return n;
	}
	if ((n = at(s, i, hi, "》"))) {
		if (q->book > 0)
			q->book--;
		return n;
	}
	if ((n = at(s, i, hi, "「")) || (n = at(s, i, hi, "『"))) {
		q->corner++;
		return n;
	}
	if ((n = at(s, i, hi, "」")) || (n = at(s, i, hi, "』"))) {
		if (q->corner > 0)
			q->corner--;
		return n;
	}
	return cp_len((unsigned char)s[i]);
}

static int quotes_inside(const struct quotes *q)
{
	return q->curly || q->book || q->corner || q->ascii;
}

/* Clause around [i, j): from the previous major delimiter to the next. */
static void clause_bounds(const char *s, size_t lo, size_t hi, size_t i, size_t j, size_t *a, size_t *b)
{
	size_t k = i, floor = i > lo + CLAUSE_SPAN ? i - CLAUSE_SPAN : lo;
	while (k > floor && !ends_any(s, floor, k, major_delims))
		k = cp_prev(s, floor, k);
	*a = k;
	size_t ceil = hi - j > CLAUSE_SPAN ? j + CLAUSE_SPAN : hi;
	k = j;
	while (k < ceil && !at_any(s, k, ceil, major_delims, NULL))
		k += cp_len((unsigned char)s[k]);
	*b = k > ceil ? ceil : k;
}

/* Cuts [a, b) to at most max bytes on a code point boundary. */
static size_t clip(const char *s, size_t a, size_t b, size_t max)
{
	if (b - a <= max)
		return b;
	size_t e = a + max;
	while (e > a && ((unsigned char)s[e] & 0xC0) == 0x80)
		e--;
	return e;
}

static size_t cp_count(const char *s, size_t a, size_t b)
{
	size_t n = 0;
	for (size_t i = a; i < b; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

static json_t *str_range(const char *s, size_t a, size_t b)
{
	json_t *j = json_stringn(s + a, b - a);
	return j ? j : json_string("");
}

/* ---------- input checks ---------- */

static int utf8_check(const char *s, size_t len, int *bad_line, const char **why)
{
	int line = 1;
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n')
			line++;
		if (c == 0) {
			*bad_line = line;
			*why = "NUL byte";
			return -1;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		uint32_t cp;
		if (c >= 0xC2 && c <= 0xDF) {
			n = 2;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 3;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 4;
			cp = c & 0x07;
		} else {
			goto bad;
		}
		if (len - i < n)
			goto bad;
		for (size_t k = 1; k < n; k++) {
			unsigned char cc = (unsigned char)s[i + k];
			if ((cc & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (cc & 0x3F);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		i += n;
	}
	return 0;
bad:
	*bad_line = line;
	*why = "invalid UTF-8";
	return -1;
}

/* ---------- pass 1: lines and heading styles ---------- */

/* Recognises a numbering marker at the start of a trimmed line. */
static int heading_style(const char *s, size_t i, size_t hi, size_t *mlen, int *num)
{
	size_t n, k;
	int v;
	long lv;
	int nd;
	/* 一、 */
	if ((n = cn_number(s, i, hi, &v)) > 0) {
		if ((k = at(s, i + n, hi, "、")) || (k = at(s, i + n, hi, "．"))) {
			*mlen = n + k;
			*num = v;
			return 0;
		}
		return -1;
	}
	/* （一） (1) */
	size_t open = at(s, i, hi, "（");
	if (!open && i < hi && s[i] == '(')
		open = 1;
	if (open) {
		size_t close;
		if ((n = cn_number(s, i + open, hi, &v)) > 0) {
			close = at(s, i + open + n, hi, "）");
			if (!close && i + open + n < hi && s[i + open + n] == ')')
				close = 1;
			if (close) {
				*mlen = open + n + close;
				*num = v;
				return 1;
			}
			return -1;
		}
		if ((n = digits_run(s, i + open, hi, &lv, &nd)) > 0 && nd <= 3 && lv > 0) {
			close = at(s, i + open + n, hi, "）");
			if (!close && i + open + n < hi && s[i + open + n] == ')')
				close = 1;
			if (close) {
				*mlen = open + n + close;
				*num = (int)lv;
				return 3;
			}
		}
		return -1;
	}
	/* 1. 1． 1、 (not 2.5万) */
	if ((n = digits_run(s, i, hi, &lv, &nd)) > 0) {
		if (nd > 3 || lv == 0)
			return -1;
		if (!(k = at(s, i + n, hi, "、")) && !(k = at(s, i + n, hi, "．")) &&
		    !(i + n < hi && s[i + n] == '.' && (k = 1)))
			return -1;
		if (is_digit_at(s, i + n + k, hi))
			return -1;
		*mlen = n + k;
		*num = (int)lv;
		return 2;
	}
	/* ① … ⑳ (U+2460..U+2473) */
	if (i + 3 <= hi && (unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x91 &&
	    (unsigned char)s[i + 2] >= 0xA0 && (unsigned char)s[i + 2] <= 0xB3) {
		*mlen = 3;
		*num = (unsigned char)s[i + 2] - 0xA0 + 1;
		return 4;
	}
	return -1;
}

static int pp_split_lines(struct pp *p, const char *text, size_t len)
{
	size_t cap = 64;
	p->buf = malloc(len + 2);
	p->lines = malloc(cap * sizeof *p->lines);
	if (!p->buf || !p->lines)
		return -1;
	size_t i = 0;
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		i = 3;
	int src = 1;
	while (i <= len) {
		size_t e = i;
		while (e < len && text[e] != '\n' && text[e] != '\r')
			e++;
		size_t a = i, b = e;
		trim(text, &a, &b);
		if (b > a) {
			if (p->nlines == cap) {
				cap *= 2;
				struct line *nl = realloc(p->lines, cap * sizeof *nl);
				if (!nl)
					return -1;
				p->lines = nl;
			}
			struct line *l = &p->lines[p->nlines++];
			l->off = p->blen;
			l->len = b - a;
			l->src = src;
			l->style = -1;
			l->mlen = 0;
			l->num = 0;
			memcpy(p->buf + p->blen, text + a, b - a);
			p->blen += b - a;
			p->buf[p->blen++] = '\n';
		}
		if (e >= len)
			break;
		if (text[e] == '\r' && e + 1 < len && text[e + 1] == '\n')
			e++;
		i = e + 1;
		src++;
	}
	if (p->blen > 0)
		p->blen--; /* the last '\n' */
	p->buf[p->blen] = '\0';
	/* Marker lengths: the marker itself and any space or 、 after it. */
	for (size_t k = 0; k < p->nlines; k++) {
		struct line *l = &p->lines[k];
		size_t hi = l->off + l->len, m;
		int num;
		int st = heading_style(p->buf, l->off, hi, &m, &num);
		if (st < 0)
			continue;
		size_t q = l->off + m, n;
		while ((n = space_at(p->buf, q, hi)) || (n = at(p->buf, q, hi, "、")))
			q += n;
		l->style = st;
		l->mlen = q - l->off;
		l->num = num;
	}
	return 0;
}

/* ---------- pass 2: the tree ---------- */

static size_t pp_add_node(struct pp *p)
{
	if (p->nnodes == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct node *nn = realloc(p->nodes, cap * sizeof *nn);
		if (!nn)
			return NONE;
		p->nodes = nn;
		p->cap = cap;
	}
	struct node *n = &p->nodes[p->nnodes];
	memset(n, 0, sizeof *n);
	n->parent = n->first = n->last = n->next = NONE;
	return p->nnodes++;
}

static void pp_link(struct pp *p, size_t idx, size_t parent)
{
	struct node *n = &p->nodes[idx];
	n->parent = parent;
	if (parent == NONE)
		return;
	struct node *par = &p->nodes[parent];
	if (par->last == NONE)
		par->first = idx;
	else
		p->nodes[par->last].next = idx;
	par->last = idx;
}

/* Returns the index of the first heading line (p->nlines when none). */
static int pp_build_tree(struct pp *p, size_t *first_heading)
{
	int present[5] = { 0 }, rank[5];
	*first_heading = p->nlines;
	for (size_t k = 0; k < p->nlines; k++) {
		if (p->lines[k].style >= 0) {
			present[p->lines[k].style] = 1;
			if (*first_heading == p->nlines)
				*first_heading = k;
		}
	}
	int r = 0;
	for (int s = 0; s < 5; s++)
		rank[s] = present[s] ? ++r : 0;
	size_t stack[NSTYLES];
	int sp = 0;
	int top_seq = 0;
	for (size_t k = *first_heading; k < p->nlines; k++) {
		struct line *l = &p->lines[k];
		if (l->style >= 0 && p->nnodes >= MAX_NODES && !p->overflow_warned) {
			pp_warn(p, l->src, "more than %d items: the rest is kept as text", MAX_NODES);
			p->overflow_warned = 1;
		}
		if (l->style < 0 || p->nnodes >= MAX_NODES) {
			if (sp > 0)
				p->nodes[stack[sp - 1]].end = l->off + l->len;
			continue;
		}
		int level = rank[l->style];
		while (sp > 0 && p->nodes[stack[sp - 1]].level >= level)
			sp--;
		size_t parent = sp > 0 ? stack[sp - 1] : NONE;
		int seq;
		if (parent == NONE) {
			seq = ++top_seq;
		} else {
			struct node *par = &p->nodes[parent];
			seq = par->last == NONE ? 1 : p->nodes[par->last].seq + 1;
		}
		if (seq > MAX_SIBLINGS) {
			pp_warn(p, l->src, "more than %d items under one heading: kept as text", MAX_SIBLINGS);
			if (sp > 0)
				p->nodes[stack[sp - 1]].end = l->off + l->len;
			continue;
		}
		size_t idx = pp_add_node(p);
		if (idx == NONE)
			return -1;
		struct node *n = &p->nodes[idx];
		n->start = l->off + l->mlen;
		n->end = n->head_end = l->off + l->len;
		n->style = l->style;
		n->level = level;
		n->num = l->num;
		n->line = l->src;
		n->seq = seq;
		n->depth = parent == NONE ? 1 : p->nodes[parent].depth + 1;
		if (parent != NONE && level - p->nodes[parent].level > 1)
			pp_warn(p, l->src, "numbering skips a level here; the item is placed under the previous heading");
		else if (parent == NONE && level > 1)
			pp_warn(p, l->src, "item at a lower numbering level before any higher heading; kept at the top");
		if (n->num != seq)
			pp_warn(p, l->src, "item numbered %d is item %d of its level here", n->num, seq);
		pp_link(p, idx, parent);
		stack[sp++] = idx;
	}
	return 0;
}

/* ---------- pass 3: 一是/二是 enumerations ---------- */

static int enum_boundary_ok(const char *s, size_t lo, size_t i)
{
	static const char *const before[] = { "。", "，", ",", "；", ";", "：", ":", "！", "!", "？", "?",
					      "、", "\n", "）", ")", "”", NULL };
	if (i == lo)
		return 1;
	return ends_any(s, lo, i, before) > 0 || space_before(s, lo, i) > 0;
}

static int pp_split_enums(struct pp *p)
{
	size_t nheads = p->nnodes;
	for (size_t k = 0; k < nheads; k++) {
		struct node *n = &p->nodes[k];
		n->own_end = n->end;
		size_t marks[MAX_ENUM + 1], mend[MAX_ENUM + 1];
		int nm = 0;
		struct quotes q = { 0 };
		const char *s = p->buf;
		size_t i = n->start;
		while (i < n->end && nm < MAX_ENUM) {
			int v;
			size_t m;
			if (!quotes_inside(&q) && enum_boundary_ok(s, n->start, i) &&
			    (m = cn_number(s, i, n->end, &v)) > 0 && v == nm + 1 && at(s, i + m, n->end, "是")) {
				marks[nm] = i;
				mend[nm] = i + m + strlen("是");
				nm++;
				i = mend[nm - 1];
				continue;
			}
			i += quotes_step(&q, s, i, n->end);
		}
		if (nm < 2)
			continue;
		if (n->first != NONE) {
			pp_warn(p, n->line, "一是/二是 enumeration left in the text of an item that has numbered sub-items");
			continue;
		}
		if (p->nnodes + (size_t)nm > MAX_NODES) {
			if (!p->overflow_warned)
				pp_warn(p, n->line, "more than %d items: the rest is kept as text", MAX_NODES);
			p->overflow_warned = 1;
			continue;
		}
		n->own_end = marks[0];
		for (int e = 0; e < nm; e++) {
			size_t idx = pp_add_node(p);
			if (idx == NONE)
				return -1;
			n = &p->nodes[k]; /* realloc */
			struct node *c = &p->nodes[idx];
			c->start = mend[e];
			c->end = e + 1 < nm ? marks[e + 1] : n->end;
			c->own_end = c->end;
			size_t nl = c->start;
			while (nl < c->end && s[nl] != '\n')
				nl++;
			c->head_end = nl;
			c->style = STYLE_ENUM;
			c->level = n->level + 1;
			c->depth = n->depth + 1;
			c->seq = c->num = e + 1;
			/* Source line: the heading's plus the line breaks before the marker. */
			int line = n->line;
			for (size_t b = n->start; b < marks[e]; b++)
				line += s[b] == '\n';
			c->line = line;
			pp_link(p, idx, k);
		}
	}
	return 0;
}

/* Source line of a buffer offset inside node n. */
static int node_line_at(const struct pp *p, const struct node *n, size_t off)
{
	/* Binary search in the line table. */
	size_t lo = 0, hi = p->nlines;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->lines[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return p->nlines ? p->lines[lo].src : n->line;
}

/* ---------- targets ---------- */

struct unit {
	const char *w;
	int ok;   /* 0: a date or name, never a target */
	int time; /* bare 内 after it means <= */
};

static const struct unit units[] = {
	{ "个百分点", 1, 0 }, { "个工作日", 1, 1 }, { "个月", 0, 0 }, { "个季度", 0, 0 }, { "个小时", 1, 1 },
	{ "平方公里", 1, 0 }, { "平方千米", 1, 0 }, { "平方米", 1, 0 }, { "立方米", 1, 0 }, { "公里", 1, 0 },
	{ "千米", 1, 0 }, { "延米", 1, 0 }, { "米", 1, 0 }, { "公顷", 1, 0 }, { "亩", 1, 0 }, { "元", 1, 0 },
	{ "人次", 1, 0 }, { "户次", 1, 0 }, { "人", 1, 0 }, { "名", 1, 0 }, { "位", 1, 0 }, { "户", 1, 0 }, { "家", 1, 0 },
	{ "处", 1, 0 }, { "个", 1, 0 }, { "支", 1, 0 }, { "项", 1, 0 }, { "件", 1, 0 }, { "套", 1, 0 },
	{ "盏", 1, 0 }, { "场次", 1, 0 }, { "场", 1, 0 }, { "次", 1, 0 }, { "条", 1, 0 }, { "座", 1, 0 },
	{ "所", 1, 0 }, { "间", 1, 0 }, { "台", 1, 0 }, { "辆", 1, 0 }, { "棵", 1, 0 }, { "株", 1, 0 },
	{ "吨", 1, 0 }, { "千瓦时", 1, 0 }, { "千瓦", 1, 0 }, { "兆瓦", 1, 0 }, { "批次", 1, 0 }, { "批", 1, 0 },
	{ "类", 1, 0 }, { "张", 1, 0 }, { "本", 1, 0 }, { "份", 1, 0 }, { "轮", 1, 0 }, { "栋", 1, 0 },
	{ "幢", 1, 0 }, { "部", 1, 0 }, { "块", 1, 0 }, { "片", 1, 0 }, { "段", 1, 0 }, { "根", 1, 0 },
	{ "组", 1, 0 }, { "队", 1, 0 }, { "班", 1, 0 }, { "门", 1, 0 }, { "宗", 1, 0 }, { "笔", 1, 0 },
	{ "篇", 1, 0 }, { "册", 1, 0 }, { "分钟", 1, 1 }, { "小时", 1, 1 }, { "课时", 1, 0 }, { "学时", 1, 0 },
	{ "周年", 0, 0 }, { "周岁", 0, 0 }, { "年", 0, 0 }, { "月", 0, 0 }, { "日", 0, 0 }, { "号", 0, 0 },
	{ "时", 0, 0 }, { "点", 0, 0 }, { "期", 0, 0 }, { "届", 0, 0 }, { "岁", 0, 0 }, { "天", 0, 0 },
	{ "%", 1, 0 }, { "％", 1, 0 },
};

static const struct unit *unit_at(const char *s, size_t i, size_t hi)
{
	const struct unit *best = NULL;
	size_t bl = 0;
	for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
		size_t n = at(s, i, hi, units[k].w);
		if (n > bl) {
			bl = n;
			best = &units[k];
		}
	}
	return best;
}

/* The 不… words first: 不少于 is >= though 少于 is <=. */
static const char *const cmp_ge_neg[] = { "不少于", "不低于", "不小于", NULL };
static const char *const cmp_le_neg[] = { "不超过", "不高于", "不多于", "不大于", NULL };
static const char *const cmp_ge_before[] = { "至少", "超过", "高于", "大于", "多于", NULL };
static const char *const cmp_le_before[] = { "控制在", "低于", "少于", "小于", "最多", NULL };
static const char *const label_tail_strip[] = { "不少于", "不低于", "不小于", "不超过", "不高于", "不多于", "不大于",
	"至少", "超过", "高于", "大于", "多于", "每季度", "每月", "每周", "每年", "控制在", "低于", "少于", "小于", "最多", "达到", "共计", "累计",
	"总计", "合计", "约", "近", "达", "共", "为", "到", "在", "原有", NULL };
static const char *const label_head_strip[] = { "进一步", "力争", "争取", "全力推进", "全力", "持续", "累计", "计划",
	"谋划实施", "谋划", "拟新发展", "拟", "预计", "确保", "实现", "完成", "新增", "增设", "新建", "新装", "建设",
	"建成", "打造", "组织开展", "开展", "组织", "实施", "培育", "孵化出", "孵化", "发展", "调整", "整合", "推进",
	"推动", "全年", "年内", "今年", "确定", "建立", "引进", "招引", "举办", "覆盖", "带动", "创建", "创成",
	"再", "约", "月底前", "月底", "月份", "月前", "月", "日前", "日", "年底前", "年内", "上半年", "下半年", "前",
	"街道", "全街道", "辖区", "其中", "已", "将", "和", "及", NULL };

/* Narrows [*a, *b) to the words after the last 的 or 等. */
static void after_last_de(const char *s, size_t *a, size_t b)
{
	for (size_t i = *a; i < b; i += cp_len((unsigned char)s[i])) {
		size_t n;
		if ((n = at(s, i, b, "的")) || (n = at(s, i, b, "等")))
			if (i + n < b)
				*a = i + n;
	}
}

static int is_label_stop(const char *s, size_t i, size_t hi)
{
	static const char *const stops[] = { "、", "（", "(", "“", "\"", "《", "”", "）", ")", "》", NULL };
	return at_any(s, i, hi, major_delims, NULL) || at_any(s, i, hi, stops, NULL) || is_digit_at(s, i, hi);
}

/* The label of a target: what is counted, best effort. */
static json_t *target_label(const char *s, size_t ca, size_t cb, size_t num_start, size_t after, int percent)
{
	/* After the unit: up to a stop; past 、 when a 的 comes before a digit. */
	size_t a1 = after, b1 = after;
	while (b1 < cb && !is_label_stop(s, b1, cb))
		b1 += cp_len((unsigned char)s[b1]);
	if (b1 < cb && at(s, b1, cb, "、")) {
		size_t k = b1;
		while (k < cb && !is_digit_at(s, k, cb) && !at(s, k, cb, "的") && !at(s, k, cb, "“"))
			k += cp_len((unsigned char)s[k]);
		if (k < cb && at(s, k, cb, "的")) {
			size_t e = k + strlen("的");
			while (e < cb && !is_label_stop(s, e, cb))
				e += cp_len((unsigned char)s[e]);
			b1 = e;
		}
	}
	after_last_de(s, &a1, b1);
	size_t n;
	while (a1 < b1 && (n = at_any(s, a1, b1, label_head_strip, NULL)) && a1 + n < b1)
		a1 += n;
	/* Before the number: from the clause (or 、) start. */
	size_t a2 = ca, b2 = num_start;
	for (size_t i = ca; i < b2; i += cp_len((unsigned char)s[i]))
		if ((n = at(s, i, b2, "、")) || (n = at(s, i, b2, "）")) || (n = at(s, i, b2, ")")) ||
		    (n = at(s, i, b2, "》")))
			a2 = i + n;
	/* “城东合伙人”170家: the quoted name. */
	if ((n = ends(s, a2, b2, "”"))) {
		size_t q = b2 - n;
		while (q > a2 && !ends(s, a2, q, "“"))
			q = cp_prev(s, a2, q);
		if (q > a2 && b2 - n > q) {
			a2 = q;
			b2 -= n;
		}
	}
	for (int guard = 0; guard < 8 && (n = ends_any(s, a2, b2, label_tail_strip)) > 0 && b2 - n > a2; guard++)
		b2 -= n;
	after_last_de(s, &a2, b2);
	for (size_t i = a2; i < b2; i += cp_len((unsigned char)s[i]))
		if (is_digit_at(s, i, b2) || at(s, i, b2, "“"))
			a2 = i; /* keep words after a stray number */
	while (a2 < b2 && (is_digit_at(s, a2, b2) || at(s, a2, b2, "“")))
		a2 += cp_len((unsigned char)s[a2]);
	for (int guard = 0; guard < 8; guard++) {
		long v;
		int nd;
		size_t dn = digits_run(s, a2, b2, &v, &nd);
		if (dn && nd == 4 && (n = at(s, a2 + dn, b2, "年")) && a2 + dn + n < b2) {
			a2 += dn + n;
			continue;
		}
		if ((n = at_any(s, a2, b2, label_head_strip, NULL)) && a2 + n < b2) {
			a2 += n;
			continue;
		}
		break;
	}
	size_t a, b;
	if (percent ? b2 > a2 : b1 <= a1) {
		a = a2;
		b = b2;
		/* the last 16 code points */
		while (cp_count(s, a, b) > 16)
			a += cp_len((unsigned char)s[a]);
	} else {
		a = a1;
		b = b1;
		while (cp_count(s, a, b) > 16)
			b = cp_prev(s, a, b);
	}
	trim(s, &a, &b);
	if (b <= a)
		return json_null();
	return str_range(s, a, b);
}

/* Number at i as a target; returns bytes consumed (0: none) and appends it. */
static size_t target_at(const char *s, size_t lo, size_t hi, size_t i, json_t *targets)
{
	/* The number: digits, ASCII thousands groups, one decimal point. */
	size_t j = i, n;
	double v = 0, scale = 0, frac = 1;
	int ndig = 0, d, isreal = 0;
	for (;;) {
		d = digit_at(s, j, hi, &n);
		if (d >= 0) {
			if (scale > 0) {
				if (frac < 1e15) {
					v = v * 10 + d; /* digits as an integer, divided at the end */
					frac *= 10;
				}
			} else {
				v = v * 10 + d;
				ndig++;
			}
			j += n;
			continue;
		}
		if (scale == 0 && j + 4 <= hi && s[j] == ',' && ndig <= 3 && ndig > 0 &&
		    s[j + 1] >= '0' && s[j + 1] <= '9' && s[j + 2] >= '0' && s[j + 2] <= '9' &&
		    s[j + 3] >= '0' && s[j + 3] <= '9' && !is_digit_at(s, j + 4, hi) && j - i == (size_t)ndig) {
			j += 1; /* 1,522: the next three digits */
			continue;
		}
		if (scale == 0 && ((n = at(s, j, hi, ".")) || (n = at(s, j, hi, "．"))) && is_digit_at(s, j + n, hi)) {
			scale = 0.1;
			isreal = 1;
			j += n;
			continue;
		}
		break;
	}
	size_t run = j - i;
	if (ndig > 9)
		return run;
	v /= frac;
	/* Never: PM2.5, 第4期, 2025-02-11, 1+N, v1.2.3, A12 */
	if (i > lo) {
		unsigned char c = (unsigned char)s[i - 1];
		if ((c < 0x80 && (c == '.' || c == '-' || c == '/' || c == '+' || c == '_' || c == '#' ||
				  c == ':' || c == '~' || c == '=' || c == '*' || c == '@' || c == '\\' ||
				  (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) ||
		    ends(s, lo, i, "第") || ends(s, lo, i, "－") || ends(s, lo, i, "／") || ends(s, lo, i, "＋") ||
		    ends(s, lo, i, "．") || ends(s, lo, i, "～") || ends(s, lo, i, "№"))
			return run;
	}
	if (j < hi) {
		unsigned char c = (unsigned char)s[j];
		if ((c < 0x80 && (c == '.' || c == '-' || c == '/' || c == '+' || c == '_' || c == ':' ||
				  c == '~' || c == '*' || c == '\\' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) ||
		    at(s, j, hi, "－") || at(s, j, hi, "／") || at(s, j, hi, "＋") || at(s, j, hi, "．"))
			return run;
	}
	/* Multiplier, 余/多, unit. */
	size_t k = j;
	const char *mult = NULL;
	if (at(s, k, hi, "万")) {
		mult = "万";
	} else if (at(s, k, hi, "亿")) {
		mult = "亿";
	} else if (at(s, k, hi, "千") && !at(s, k, hi, "千米") && !at(s, k, hi, "千瓦")) {
		mult = "千";
	}
	if (mult)
		k += strlen(mult);
	int cmp = CMP_EQ;
	if ((n = at(s, k, hi, "余")) || (n = at(s, k, hi, "多"))) {
		cmp = CMP_GE;
		k += n;
	}
	const struct unit *u = unit_at(s, k, hi);
	char unit[40];
	int percent = 0;
	if (u && !u->ok)
		return run;
	if (u) {
		k += strlen(u->w);
		percent = u->w[0] == '%' || !strcmp(u->w, "％");
		snprintf(unit, sizeof unit, "%s%s", mult ? mult : "", percent ? "%" : u->w);
	} else if (mult) {
		snprintf(unit, sizeof unit, "%s", mult);
	} else {
		return run;
	}
	/* Comparator words around it. */
	if ((n = at(s, k, hi, "及以上")) || (n = at(s, k, hi, "以上"))) {
		cmp = CMP_GE;
		k += n;
	} else if ((n = at(s, k, hi, "及以下")) || (n = at(s, k, hi, "以下")) || (n = at(s, k, hi, "以内")) ||
		   (n = at(s, k, hi, "之内")) || (u && u->time && (n = at(s, k, hi, "内")))) {
		cmp = CMP_LE;
		k += n;
	} else if (ends_any(s, lo, i, cmp_ge_neg)) {
		cmp = CMP_GE;
	} else if (ends_any(s, lo, i, cmp_le_neg)) {
		cmp = CMP_LE;
	} else if (ends_any(s, lo, i, cmp_le_before)) {
		cmp = CMP_LE;
	} else if (ends_any(s, lo, i, cmp_ge_before)) {
		cmp = CMP_GE;
	}
	if (json_array_size(targets) >= MAX_TARGETS)
		return k - i;
	size_t ca, cb;
	clause_bounds(s, lo, hi, i, k, &ca, &cb);
	/* The text: the clause, or its 、 segment when the clause is long. */
	size_t ta = ca, tb = cb;
	if (cp_count(s, ca, cb) > 60) {
		for (size_t x = ca; x < i; x += cp_len((unsigned char)s[x]))
			if ((n = at(s, x, i, "、")))
				ta = x + n;
		for (size_t x = k; x < cb; x += cp_len((unsigned char)s[x]))
			if (at(s, x, cb, "、")) {
				tb = x;
				break;
			}
	}
	trim(s, &ta, &tb);
	tb = clip(s, ta, tb, MAX_TEXT);
	json_t *t = json_object();
	json_object_set_new(t, "label", target_label(s, ca, cb, i, k, percent));
	json_object_set_new(t, "value", isreal || v > 9007199254740991.0 ? json_real(v) : json_integer((json_int_t)v));
	json_object_set_new(t, "unit", json_string(unit));
	json_object_set_new(t, "comparator", json_string(cmp == CMP_GE ? ">=" : cmp == CMP_LE ? "<=" : "="));
	json_object_set_new(t, "text", str_range(s, ta, tb));
	json_array_append_new(targets, t);
	return k - i;
}

static json_t *scan_targets(const char *s, size_t lo, size_t hi)
{
	json_t *targets = json_array();
	struct quotes q = { 0 };
	size_t i = lo;
	while (i < hi) {
		if (is_digit_at(s, i, hi)) {
			size_t n;
			if (quotes_inside(&q)) {
				long v;
				int nd;
				n = digits_run(s, i, hi, &v, &nd);
			} else {
				n = target_at(s, lo, hi, i, targets);
			}
			i += n ? n : 1;
			continue;
		}
		i += quotes_step(&q, s, i, hi);
	}
	return targets;
}

/* ---------- deadlines ---------- */

struct deadline {
	char date[11];
	size_t pos;
};

struct deadlines {
	struct deadline d[MAX_DEADLINES];
	int n;
};

static int month_end(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12)
		return 0;
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

static void dl_add(struct pp *p, struct deadlines *dl, int line, int y, int m, int d, size_t pos)
{
	if (y < 1900 || y > 2999) {
		if (!p->year_warned)
			pp_warn(p, line, "plan year unknown: relative deadlines are not dated (pass ?year=)");
		p->year_warned = 1;
		return;
	}
	if (d < 1 || d > month_end(y, m)) {
		pp_warn(p, line, "no such date: %d-%d-%d", y, m, d);
		return;
	}
	char date[16];
	snprintf(date, sizeof date, "%04d-%02d-%02d", y % 10000, m % 100, d % 100);
	for (int k = 0; k < dl->n; k++)
		if (!strcmp(dl->d[k].date, date))
			return;
	if (dl->n >= MAX_DEADLINES)
		return;
	memcpy(dl->d[dl->n].date, date, 11);
	dl->d[dl->n].pos = pos;
	dl->n++;
}

static const char *const quarters[] = { "第一季度", "第二季度", "第三季度", "第四季度", "一季度", "二季度", "三季度", "四季度", NULL };

/* After "M月" at k: the day. Returns bytes consumed after k, *day. */
static size_t month_day(const char *s, size_t k, size_t hi, int y, int m, int *day)
{
	long dv;
	int nd;
	size_t n = digits_run(s, k, hi, &dv, &nd), e;
	*day = month_end(y ? y : 2001, m);
	if (n && nd <= 2 && ((e = at(s, k + n, hi, "日")) || (e = at(s, k + n, hi, "号")))) {
		*day = (int)dv;
		return n + e;
	}
	if ((e = at(s, k, hi, "上旬"))) {
		*day = 10;
		return e;
	}
	if ((e = at(s, k, hi, "中旬"))) {
		*day = 20;
		return e;
	}
	if ((e = at(s, k, hi, "下旬")) || (e = at(s, k, hi, "底")) || (e = at(s, k, hi, "末")) ||
	    (e = at(s, k, hi, "份")))
		return e;
	return 0;
}

static void scan_deadlines(struct pp *p, const struct node *node, const char *s, size_t lo, size_t hi,
			   struct deadlines *dl)
{
	static const char *const year_end[] = { "年底", "年末", "年内", "全年", "年度内", NULL };
	static const char *const no_prefix[] = { "每", "去", "明", "前", "上", "下", "后", "次", NULL };
	size_t i = lo, n;
	int py = p->year;
	while (i < hi) {
		int line = node_line_at(p, node, i);
		if (is_digit_at(s, i, hi)) {
			long v;
			int nd;
			size_t j = i + digits_run(s, i, hi, &v, &nd), k;
			int y = py;
			int prev_ok = i == lo || !(ends(s, lo, i, ".") || ends(s, lo, i, "-") || ends(s, lo, i, "/") ||
						   ((unsigned char)s[i - 1] < 0x80 && ((s[i - 1] | 32) >= 'a' && (s[i - 1] | 32) <= 'z')));
			if (!prev_ok) {
				i = j;
				continue;
			}
			if (nd == 4 && (k = at(s, j, hi, "年"))) {
				y = (int)v;
				size_t q = j + k, m;
				long mv;
				int mnd;
				size_t mn = digits_run(s, q, hi, &mv, &mnd);
				int qi;
				if (mn && mnd <= 2 && (m = at(s, q + mn, hi, "月"))) {
					int day;
					size_t e = month_day(s, q + mn + m, hi, y, (int)mv, &day);
					if (mv >= 1 && mv <= 12)
						dl_add(p, dl, line, y, (int)mv, day, i);
					i = q + mn + m + e;
					continue;
				}
				if ((m = at(s, q, hi, "底")) || (m = at(s, q, hi, "末"))) {
					dl_add(p, dl, line, y, 12, 31, i);
					i = q + m;
					continue;
				}
				if ((m = at(s, q, hi, "上半年"))) {
					dl_add(p, dl, line, y, 6, 30, i);
					i = q + m;
					continue;
				}
				if ((m = at(s, q, hi, "下半年"))) {
					dl_add(p, dl, line, y, 12, 31, i);
					i = q + m;
					continue;
				}
				if ((m = at_any(s, q, hi, quarters, &qi))) {
					dl_add(p, dl, line, y, (qi % 4 + 1) * 3, (qi % 4 == 0 || qi % 4 == 3) ? 31 : 30, i);
					i = q + m;
					continue;
				}
				i = q;
				continue;
			}
			/* 2025-06-30, 2025/6/30, 2025.6.30 */
			if (nd == 4 && j < hi && (s[j] == '-' || s[j] == '/' || s[j] == '.')) {
				long mv, dv;
				int mnd, dnd;
				size_t mn = digits_run(s, j + 1, hi, &mv, &mnd);
				if (mn && mnd <= 2 && j + 1 + mn < hi && s[j + 1 + mn] == s[j]) {
					size_t dn = digits_run(s, j + 2 + mn, hi, &dv, &dnd);
					if (dn && dnd <= 2 && mv >= 1 && mv <= 12) {
						dl_add(p, dl, line, (int)v, (int)mv, (int)dv, i);
						i = j + 2 + mn + dn;
						continue;
					}
				}
				i = j;
				continue;
			}
			if (nd <= 2 && (k = at(s, j, hi, "月")) && !ends(s, lo, i, "每") && !ends(s, lo, i, "个")) {
				int day;
				size_t e = month_day(s, j + k, hi, y, (int)v, &day);
				if (v >= 1 && v <= 12)
					dl_add(p, dl, line, y, (int)v, day, i);
				i = j + k + e;
				continue;
			}
			if (nd == 1 && v >= 1 && v <= 4 && (k = at(s, j, hi, "季度")) && !ends(s, lo, i, "每")) {
				dl_add(p, dl, line, y, (int)v * 3, (v == 1 || v == 4) ? 31 : 30, i);
				i = j + k;
				continue;
			}
			i = j;
			continue;
		}
		int qi;
		if ((n = at(s, i, hi, "上半年")) && !ends_any(s, lo, i, no_prefix)) {
			dl_add(p, dl, line, py, 6, 30, i);
			i += n;
			continue;
		}
		if ((n = at(s, i, hi, "下半年")) && !ends_any(s, lo, i, no_prefix)) {
			dl_add(p, dl, line, py, 12, 31, i);
			i += n;
			continue;
		}
		if ((n = at_any(s, i, hi, year_end, NULL)) && !ends_any(s, lo, i, no_prefix) &&
		    !ends(s, lo, i, "半") && !ends(s, lo, i, "今")) {
			dl_add(p, dl, line, py, 12, 31, i);
			i += n;
			continue;
		}
		if ((n = at_any(s, i, hi, quarters, &qi)) && !ends(s, lo, i, "每") &&
		    !(i > lo && is_cn_numeral_at(s, cp_prev(s, lo, i), hi))) {
			dl_add(p, dl, line, py, (qi % 4 + 1) * 3, (qi % 4 == 0 || qi % 4 == 3) ? 31 : 30, i);
			i += n;
			continue;
		}
		/* 十月份, 三月底 (Chinese month numerals need a suffix) */
		int mv;
		if (!(i > lo && is_cn_numeral_at(s, cp_prev(s, lo, i), hi)) && !ends(s, lo, i, "每") &&
		    !ends(s, lo, i, "第") && (n = cn_number(s, i, hi, &mv)) > 0 && mv <= 12 && at(s, i + n, hi, "月")) {
			size_t k = i + n + strlen("月");
			int day;
			size_t e = month_day(s, k, hi, py, mv, &day);
			if (e || at(s, k, hi, "前")) {
				dl_add(p, dl, line, py, mv, day, i);
				i = k + e;
				continue;
			}
		}
		i += cp_len((unsigned char)s[i]);
	}
}

/* ---------- cadence ---------- */

static const char *scan_cadence(const char *s, size_t lo, size_t hi)
{
	static const char *const names[] = { "weekly", "monthly", "quarterly", "yearly" };
	static const char *const words[][4] = {
		{ "每周", "每星期", "每个星期", NULL },
		{ "每月", "每个月", NULL, NULL },
		{ "每季度", "每个季度", "每季", NULL },
		{ "每年", NULL, NULL, NULL },
	};
	int count[4] = { 0 }, first[4] = { -1, -1, -1, -1 }, order = 0;
	for (size_t i = lo; i < hi; i += cp_len((unsigned char)s[i])) {
		if (!at(s, i, hi, "每"))
			continue;
		for (int c = 0; c < 4; c++) {
			if (at_any(s, i, hi, words[c], NULL)) {
				count[c]++;
				if (first[c] < 0)
					first[c] = order++;
				break;
			}
		}
	}
	int best = -1;
	for (int c = 0; c < 4; c++)
		if (count[c] && (best < 0 || count[c] > count[best] || (count[c] == count[best] && first[c] < first[best])))
			best = c;
	return best < 0 ? NULL : names[best];
}

/* ---------- pass 4: JSON ---------- */

static void code_numeral(char *out, size_t outlen, int v)
{
	static const char *const d[] = { "", "一", "二", "三", "四", "五", "六", "七", "八", "九" };
	if (v <= 0 || v > 99) {
		snprintf(out, outlen, "%d", v);
	} else if (v < 10) {
		snprintf(out, outlen, "%s", d[v]);
	} else {
		snprintf(out, outlen, "%s十%s", v / 10 == 1 ? "" : d[v / 10], d[v % 10]);
	}
}

/* Title and body of [a, e) whose heading line ends at h. */
static void split_title(const char *s, size_t a, size_t h, size_t e, size_t *ta, size_t *tb, size_t *ba, size_t *bb)
{
	size_t n;
	if (h > e)
		h = e;
	while (a < h && ((n = space_at(s, a, h)) || (n = at_any(s, a, h, trailing_punct, NULL))))
		a += n;
	struct quotes q = { 0 };
	size_t i = a;
	*ta = a;
	*tb = h;
	*ba = h;
	*bb = e;
	while (i < h) {
		if (!quotes_inside(&q) && (n = at_any(s, i, h, terminators, NULL))) {
			/* 9:30 is no terminator */
			if (!(s[i] == ':' && i > a && is_digit_at(s, i - 1, h) && is_digit_at(s, i + 1, h))) {
				*tb = i;
				*ba = i + n;
				break;
			}
		}
		i += quotes_step(&q, s, i, h);
	}
	while (*tb > *ta && (n = ends_any(s, *ta, *tb, trailing_punct)))
		*tb -= n;
	trim(s, ta, tb);
	trim(s, ba, bb);
	if (*tb > *ta || *bb <= *ba)
		return;
	/* No title on the heading line: the first sentence of the body. */
	size_t nl = *ba;
	while (nl < *bb && s[nl] != '\n')
		nl++;
	split_title(s, *ba, nl, *bb, ta, tb, ba, bb);
}

static json_t *pp_render(struct pp *p, size_t idx, const char *parent_code)
{
	struct node *n = &p->nodes[idx];
	const char *s = p->buf;
	char code[80], num[16];
	if (parent_code) {
		snprintf(code, sizeof code, "%s.%d", parent_code, n->seq);
	} else {
		code_numeral(num, sizeof num, n->seq);
		snprintf(code, sizeof code, "%s", num);
	}
	size_t ta, tb, ba, bb;
	split_title(s, n->start, n->head_end, n->own_end, &ta, &tb, &ba, &bb);
	json_t *t = json_object();
	json_object_set_new(t, "code", json_string(code));
	json_object_set_new(t, "seq", json_integer(n->seq));
	json_object_set_new(t, "level", json_integer(n->depth));
	if (tb <= ta) {
		pp_warn(p, n->line, "item %s has no title", code);
		json_object_set_new(t, "title", json_string("未命名事项"));
	} else if (tb - ta > MAX_TITLE) {
		pp_warn(p, n->line, "item %s: title over %d bytes shortened, full text kept in the body", code, MAX_TITLE);
		size_t e = ta;
		while (e < tb && cp_count(s, ta, e) < 60)
			e += cp_len((unsigned char)s[e]);
		char buf[MAX_TITLE + 8];
		memcpy(buf, s + ta, e - ta);
		memcpy(buf + (e - ta), "…", strlen("…") + 1);
		json_object_set_new(t, "title", json_string(buf));
		ba = ta;
	} else {
		json_object_set_new(t, "title", str_range(s, ta, tb));
	}
	if (bb - ba > MAX_BODY) {
		pp_warn(p, n->line, "item %s: body over %d bytes cut", code, MAX_BODY);
		bb = clip(s, ba, bb, MAX_BODY);
	}
	json_object_set_new(t, "body", str_range(s, ba, bb));

	size_t lo = n->start, hi = n->own_end;
	struct deadlines dl;
	dl.n = 0;
	scan_deadlines(p, n, s, lo, hi, &dl);
	int latest = -1;
	for (int k = 0; k < dl.n; k++)
		if (latest < 0 || strcmp(dl.d[k].date, dl.d[latest].date) > 0)
			latest = k;
	json_object_set_new(t, "due_date", latest < 0 ? json_null() : json_string(dl.d[latest].date));
	const char *cad = scan_cadence(s, lo, hi);
	json_object_set_new(t, "cadence", cad ? json_string(cad) : json_null());
	json_object_set_new(t, "targets", scan_targets(s, lo, hi));
	json_t *ms = json_array();
	if (dl.n >= 2) {
		for (int k = 0; k < dl.n; k++) {
			size_t ca, cb;
			clause_bounds(s, lo, hi, dl.d[k].pos, dl.d[k].pos + 1, &ca, &cb);
			trim(s, &ca, &cb);
			cb = clip(s, ca, cb, MAX_TEXT);
			json_t *m = json_object();
			json_object_set_new(m, "title", cb > ca ? str_range(s, ca, cb) : json_string(dl.d[k].date));
			json_object_set_new(m, "due_date", json_string(dl.d[k].date));
			json_array_append_new(ms, m);
		}
	}
	json_object_set_new(t, "milestones", ms);
	json_t *kids = json_array();
	for (size_t c = n->first; c != NONE; c = p->nodes[c].next)
		json_array_append_new(kids, pp_render(p, c, code));
	json_object_set_new(t, "children", kids);
	if (n->depth <= NSTYLES)
		p->counts[n->depth]++;
	if (n->depth > p->maxdepth)
		p->maxdepth = n->depth;
	return t;
}

/* ---------- preamble: title and year ---------- */

/* "YYYY年" in [a, b): the year, else 0. */
static int find_year(const char *s, size_t a, size_t b)
{
	for (size_t i = a; i < b;) {
		if (is_digit_at(s, i, b) && !(i > a && is_digit_at(s, cp_prev(s, a, i), b))) {
			long v;
			int nd;
			size_t n = digits_run(s, i, b, &v, &nd);
			if (nd == 4 && v >= 1900 && v <= 2999 && at(s, i + n, b, "年"))
				return (int)v;
			i += n;
			continue;
		}
		i += cp_len((unsigned char)s[i]);
	}
	return 0;
}

static void pp_preamble(struct pp *p, size_t first_heading, json_t *doc, int year_hint)
{
	const char *s = p->buf;
	size_t ta = 0, tb = 0;
	int have = 0;
	for (size_t k = 0; k < first_heading && !have; k++) {
		struct line *l = &p->lines[k];
		size_t a = l->off, b = l->off + l->len, n;
		if (!(n = at(s, a, b, "标题")))
			continue;
		a += n;
		while ((n = space_at(s, a, b)))
			a += n;
		if (!(n = at(s, a, b, "：")) && !(n = at(s, a, b, ":")))
			continue;
		a += n;
		while (a < b && (s[a] == '|' || (n = space_at(s, a, b)))) /* table cells */
			a += s[a] == '|' ? 1 : n;
		size_t e = a;
		while (e < b && s[e] != '|')
			e++;
		trim(s, &a, &e);
		if (e > a) {
			ta = a;
			tb = e;
			have = 1;
		}
	}
	for (size_t k = 0; k < first_heading && k < 6 && !have; k++) {
		struct line *l = &p->lines[k];
		size_t a = l->off, b = l->off + l->len;
		if (memchr(s + a, '|', b - a) || s[a] == '-' || s[a] == '=')
			continue; /* metadata table */
		size_t head = clip(s, a, b, 24);
		int meta = memchr(s + a, ':', head - a) != NULL;
		for (size_t x = a; x < head && !meta; x += cp_len((unsigned char)s[x]))
			meta = at(s, x, head, "：") > 0;
		if (meta)
			continue; /* "发文日期：…" */
		if (cp_count(s, a, b) <= 50 && !ends(s, a, b, "。")) {
			ta = a;
			tb = b;
			have = 1;
		}
		break; /* the first real line decides */
	}
	if (have && tb - ta > MAX_TITLE)
		tb = clip(s, ta, tb, MAX_TITLE);
	json_object_set_new(doc, "title", have ? str_range(s, ta, tb) : json_null());
	int year = year_hint;
	if (!year && have)
		year = find_year(s, ta, tb);
	size_t lim = first_heading ? first_heading : (p->nlines < 3 ? p->nlines : 3);
	for (size_t k = 0; !year && k < lim && k < 10; k++)
		year = find_year(s, p->lines[k].off, p->lines[k].off + p->lines[k].len);
	p->year = year;
	json_object_set_new(doc, "year", year ? json_integer(year) : json_null());
}

/* ---------- entry point ---------- */

static void pp_free(struct pp *p)
{
	free(p->buf);
	free(p->lines);
	free(p->nodes);
	json_decref(p->warnings);
}

json_t *planparse_parse(const char *text, size_t len, int year_hint, char *err, size_t errlen)
{
	char dummy[8];
	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = '\0';
	if (!text && len) {
		snprintf(err, errlen, "no text");
		return NULL;
	}
	if (len > PLANPARSE_MAX_INPUT) {
		snprintf(err, errlen, "plan text too large (%zu bytes, at most %u)", len, PLANPARSE_MAX_INPUT);
		return NULL;
	}
	if (year_hint && (year_hint < 1900 || year_hint > 2999)) {
		snprintf(err, errlen, "year %d out of range (1900..2999)", year_hint);
		return NULL;
	}
	int bad_line;
	const char *why;
	if (len && utf8_check(text, len, &bad_line, &why) < 0) {
		snprintf(err, errlen, "%s at line %d (plan text must be UTF-8)", why, bad_line);
		return NULL;
	}
	struct pp p;
	memset(&p, 0, sizeof p);
	p.warnings = json_array();
	json_t *doc = json_object();
	json_t *tasks = json_array();
	size_t first_heading;
	if (!p.warnings || !doc || !tasks || pp_split_lines(&p, text ? text : "", len) < 0 ||
	    pp_build_tree(&p, &first_heading) < 0 || pp_split_enums(&p) < 0) {
		snprintf(err, errlen, "out of memory");
		json_decref(doc);
		json_decref(tasks);
		pp_free(&p);
		return NULL;
	}
	pp_preamble(&p, first_heading, doc, year_hint);
	for (size_t k = 0; k < p.nnodes; k++)
		if (p.nodes[k].parent == NONE)
			json_array_append_new(tasks, pp_render(&p, k, NULL));
	json_t *counts = json_array();
	for (int d = 1; d <= p.maxdepth && d <= NSTYLES; d++)
		json_array_append_new(counts, json_integer((json_int_t)p.counts[d]));
	json_object_set_new(doc, "tasks", tasks);
	json_object_set_new(doc, "warnings", json_incref(p.warnings));
	json_object_set_new(doc, "counts", counts);
	pp_free(&p);
	return doc;
}
