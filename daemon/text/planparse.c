/*
 * planparse.c - plan document text to a task tree (see planparse.h).
 *
 * The text is validated, split into trimmed lines and copied once into a
 * working buffer (lines joined by '\n'); every item is then a byte range of
 * that buffer. Pass 1 classifies heading lines by numbering style and ranks
 * the styles present; pass 2 builds the tree with a stack; pass 3 splits
 * 一是/二是 enumerations of leaf items into sub-items; pass 4 renders JSON,
 * scanning each item's own text for deadlines (the shared grammar of
 * dates.c; each one the whole item's or a part's, a milestone), cadence and
 * counts: a count is a target (with the class of the verb before it), a
 * fact (原有, 现有, 涉及…: the present), a milestone's, or a warning saying
 * why it is none of those. docs/plan-format.md has the rules and the JSON.
 */
#include "plantrack/planparse.h"
#include "plantrack/dates.h"

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

/* A tab or a | separates the cells of a table pasted as text. */
static const char *const major_delims[] = { "。", "，", ",", "；", ";", "：", ":", "！", "!", "？", "?", "\n", "\t", "|",
					    NULL };
static const char *const terminators[] = { "。", "！", "？", "!", "?", "；", ";", "：", ":", "\t", "|", "．", NULL };
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
	/* 第一， 第一、 第一条 第一部分 (the top level, like 一、) */
	if ((k = at(s, i, hi, "第")) && (n = cn_number(s, i + k, hi, &v)) > 0) {
		static const char *const after[] = { "、", "，", ",", "：", ":", "条", "部分", "．", NULL };
		size_t m = at_any(s, i + k + n, hi, after, NULL);
		if (!m)
			return -1;
		*mlen = k + n + m;
		*num = v;
		return 0;
	}
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

/* ---------- numbers: targets, facts, and the rest ---------- */

struct unit {
	const char *w;
	int ok;   /* 0: a date, a duration or a name, never a count */
	int time; /* bare 内 after it means <= */
};

static const struct unit units[] = {
	{ "个百分点", 1, 0 }, { "个工作日", 1, 1 }, { "个月", 0, 0 }, { "个季度", 0, 0 }, { "个小时", 1, 1 },
	{ "平方公里", 1, 0 }, { "平方千米", 1, 0 }, { "平方米", 1, 0 }, { "立方米", 1, 0 }, { "公里", 1, 0 },
	{ "千米", 1, 0 }, { "延米", 1, 0 }, { "米", 1, 0 }, { "公顷", 1, 0 }, { "亩", 1, 0 }, { "元", 1, 0 },
	{ "人次", 1, 0 }, { "户次", 1, 0 }, { "家次", 1, 0 }, { "人", 1, 0 }, { "名", 1, 0 }, { "位", 1, 0 }, { "户", 1, 0 }, { "家", 1, 0 },
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
	{ "季度", 0, 0 }, { "%", 1, 0 }, { "％", 1, 0 },
};

/* Units that end a date (or are one): numbers before them belong to deadlines, not warnings. */
static const char *const date_units[] = { "年", "月", "日", "号", "时", "点", "季度", "个月", "个季度", "周年", NULL };

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

/* The units a count in Chinese numerals takes (三个, 两处, 十余家). */
static const char *const cn_units[] = { "个百分点", "个", "处", "家", "座", "所", "条", "项", "支", "名", "人",
					"户", "场", "次", "类", "套", "件", "栋", "盏", "间", "台", "辆", "部",
					"张", "块", "片", "段", "轮", NULL };

/*
 * A count in Chinese numerals at i (两, 三, 十, 十二, 二十三, 一百, 三百五十,
 * 两千): bytes, *val; 0 when there is none. A leading 百/千 is not a number.
 */
static size_t cn_count(const char *s, size_t i, size_t hi, long *val)
{
	long total = 0;
	int cur = -1;
	size_t j = i, n;
	for (;;) {
		int d = cn_digit(s, j, hi, &n);
		if (d < 0 && (n = at(s, j, hi, "两")))
			d = 2;
		if (d >= 0) {
			if (cur >= 0)
				break; /* 一一: no number */
			cur = d;
			j += n;
			continue;
		}
		long mult = 0;
		if ((n = at(s, j, hi, "十")))
			mult = 10;
		else if ((n = at(s, j, hi, "百")))
			mult = 100;
		else if ((n = at(s, j, hi, "千")))
			mult = 1000;
		if (!mult || cur == 0 || (cur < 0 && mult != 10) || total >= 1000000)
			break;
		total += (cur < 0 ? 1 : cur) * mult;
		cur = -1;
		j += n;
	}
	if (cur > 0)
		total += cur;
	if (j == i || total <= 0)
		return 0;
	*val = total;
	return j - i;
}

static int range_has(const char *s, size_t a, size_t b, const char *const *ws);

/* Verb classes of a count (docs/plan-format.md). */
enum verb { V_OTHER, V_NEW, V_COMPLETE, V_REACH, V_AT_LEAST, V_AT_MOST, V_INCREASE, V_REDUCE, V_CONTROL,
	    V_FACT, V_STRIVE, V_FROM };

static const char *const verb_names[] = { "other", "new", "complete", "reach", "at_least", "at_most",
					  "increase_by", "reduce_by", "control_within" };

struct marker {
	const char *w;
	int v;
	int adjacent; /* only right before the number (向17个, 有10个) */
};

/* Words that say what a count is. The nearest one before the number decides. */
static const struct marker markers[] = {
	/* the present: facts */
	{ "原有", V_FACT, 0 }, { "现有", V_FACT, 0 }, { "共有", V_FACT, 0 }, { "已有", V_FACT, 0 },
	{ "已建成", V_FACT, 0 }, { "已完成", V_FACT, 0 }, { "辖区内有", V_FACT, 0 }, { "辖区内的", V_FACT, 0 },
	{ "辖区内", V_FACT, 0 }, { "辖区", V_FACT, 0 }, { "全村", V_FACT, 0 }, { "全镇", V_FACT, 0 },
	{ "全区", V_FACT, 0 }, { "全市", V_FACT, 0 }, { "涉及", V_FACT, 0 }, { "覆盖", V_FACT, 0 },
	{ "围绕", V_FACT, 0 }, { "依托", V_FACT, 0 }, { "划分为", V_FACT, 0 }, { "分为", V_FACT, 0 },
	{ "优化", V_FACT, 0 }, { "目前", V_FACT, 0 }, { "截至", V_FACT, 0 }, { "截止", V_FACT, 0 },
	{ "总数", V_FACT, 0 }, { "拥有", V_FACT, 0 }, { "去年", V_FACT, 0 }, { "上年", V_FACT, 0 },
	{ "向", V_FACT, 1 }, { "对", V_FACT, 1 }, { "有", V_FACT, 1 }, { "全街道", V_FACT, 1 },
	{ "由", V_FROM, 1 }, { "从", V_FROM, 1 },
	/* comparisons */
	{ "不少于", V_AT_LEAST, 0 }, { "不低于", V_AT_LEAST, 0 }, { "不小于", V_AT_LEAST, 0 }, { "至少", V_AT_LEAST, 0 },
	{ "不超过", V_AT_MOST, 0 }, { "不高于", V_AT_MOST, 0 }, { "不多于", V_AT_MOST, 0 }, { "不大于", V_AT_MOST, 0 },
	{ "最多", V_AT_MOST, 0 }, { "控制在", V_CONTROL, 0 }, { "控制到", V_CONTROL, 0 },
	/* levels */
	{ "达到", V_REACH, 0 }, { "提升至", V_REACH, 0 }, { "提高至", V_REACH, 0 }, { "提高到", V_REACH, 0 },
	{ "提升到", V_REACH, 0 }, { "增至", V_REACH, 0 }, { "增长至", V_REACH, 0 }, { "增加到", V_REACH, 0 },
	{ "增加至", V_REACH, 0 }, { "保持在", V_REACH, 0 }, { "稳定在", V_REACH, 0 }, { "突破", V_REACH, 0 },
	{ "降至", V_CONTROL, 0 }, { "降低到", V_CONTROL, 0 }, { "降低至", V_CONTROL, 0 }, { "下降到", V_CONTROL, 0 },
	{ "下降至", V_CONTROL, 0 }, { "达", V_REACH, 0 },
	/* changes */
	{ "增长", V_INCREASE, 0 }, { "增速", V_INCREASE, 0 }, { "下降", V_REDUCE, 0 }, { "减少", V_REDUCE, 0 },
	{ "降低", V_REDUCE, 0 }, { "压减", V_REDUCE, 0 }, { "压降", V_REDUCE, 0 }, { "削减", V_REDUCE, 0 },
	/* something new */
	{ "新增", V_NEW, 0 }, { "新建", V_NEW, 0 }, { "增设", V_NEW, 0 }, { "新装", V_NEW, 0 }, { "新发展", V_NEW, 0 },
	{ "新上", V_NEW, 0 }, { "培育", V_NEW, 0 }, { "孵化", V_NEW, 0 }, { "发展", V_NEW, 0 }, { "引进", V_NEW, 0 },
	{ "招引", V_NEW, 0 }, { "创建", V_NEW, 0 }, { "创成", V_NEW, 0 }, { "打造", V_NEW, 0 }, { "建设", V_NEW, 0 },
	{ "认定", V_NEW, 0 }, { "增加", V_NEW, 0 }, { "提高", V_NEW, 0 }, { "设立", V_NEW, 0 }, { "组建", V_NEW, 0 },
	{ "安装", V_NEW, 0 }, { "铺设", V_NEW, 0 },
	/* work done */
	{ "完成", V_COMPLETE, 0 }, { "建成", V_COMPLETE, 0 }, { "实施", V_COMPLETE, 0 }, { "开展", V_COMPLETE, 0 },
	{ "举办", V_COMPLETE, 0 }, { "组织", V_COMPLETE, 0 }, { "改造", V_COMPLETE, 0 }, { "整治", V_COMPLETE, 0 },
	{ "拆迁", V_COMPLETE, 0 }, { "拆除", V_COMPLETE, 0 }, { "硬化", V_COMPLETE, 0 }, { "绿化", V_COMPLETE, 0 },
	{ "更换", V_COMPLETE, 0 }, { "维护", V_COMPLETE, 0 }, { "推进", V_COMPLETE, 0 }, { "办好", V_COMPLETE, 0 },
	{ "办结", V_COMPLETE, 0 }, { "实现", V_COMPLETE, 0 }, { "确定", V_COMPLETE, 0 }, { "调整", V_COMPLETE, 0 },
	{ "更新", V_COMPLETE, 0 }, { "拓展", V_COMPLETE, 0 }, { "找补", V_COMPLETE, 0 }, { "谋划", V_COMPLETE, 0 },
	{ "化解", V_COMPLETE, 0 }, { "清理", V_COMPLETE, 0 }, { "提供", V_COMPLETE, 0 }, { "举行", V_COMPLETE, 0 },
	{ "落实", V_COMPLETE, 0 }, { "推动", V_COMPLETE, 0 }, { "培训", V_COMPLETE, 0 }, { "走访", V_COMPLETE, 0 },
	{ "处置", V_COMPLETE, 0 }, { "治理", V_COMPLETE, 0 }, { "修缮", V_COMPLETE, 0 }, { "提升", V_COMPLETE, 0 },
	{ "整改", V_COMPLETE, 0 }, { "办理", V_COMPLETE, 0 }, { "签约", V_COMPLETE, 0 }, { "收集", V_COMPLETE, 0 },
	{ "发放", V_COMPLETE, 0 }, { "帮扶", V_COMPLETE, 0 }, { "解决", V_COMPLETE, 0 }, { "排查", V_COMPLETE, 0 },
	{ "招商", V_COMPLETE, 0 }, { "签订", V_COMPLETE, 0 }, { "投入", V_COMPLETE, 0 }, { "投资", V_COMPLETE, 0 },
	{ "争创", V_COMPLETE, 0 }, { "带动", V_COMPLETE, 0 }, { "成立", V_NEW, 0 }, { "配备", V_COMPLETE, 0 }, { "完工", V_COMPLETE, 0 }, { "竣工", V_COMPLETE, 0 },
	{ "启动", V_COMPLETE, 0 }, { "投用", V_COMPLETE, 0 }, { "吸纳", V_COMPLETE, 0 }, { "培养", V_NEW, 0 }, { "维修", V_COMPLETE, 0 },
	{ "惠及", V_FACT, 0 }, { "社区有", V_FACT, 0 }, { "村有", V_FACT, 0 }, { "镇有", V_FACT, 0 },
	{ "街道有", V_FACT, 0 }, { "辖区有", V_FACT, 0 }, { "申报", V_COMPLETE, 0 }, { "加装", V_NEW, 0 },
	{ "吸引", V_COMPLETE, 0 }, { "形成", V_COMPLETE, 0 }, { "入选", V_COMPLETE, 0 }, { "新改建", V_NEW, 0 }, { "改建", V_COMPLETE, 0 },
	{ "力争", V_STRIVE, 0 }, { "争取", V_STRIVE, 0 },
};

/* The longest marker starting at i (ending at or before hi). */
static const struct marker *marker_at(const char *s, size_t i, size_t hi)
{
	const struct marker *best = NULL;
	size_t bl = 0;
	for (size_t k = 0; k < sizeof markers / sizeof markers[0]; k++) {
		size_t n = at(s, i, hi, markers[k].w);
		if (n > bl) {
			bl = n;
			best = &markers[k];
		}
	}
	return best;
}

/*
 * The nearest marker in [a, i) (quoted words skipped); V_STRIVE only sets
 * *strive. *mpos: where it starts. Returns NULL when there is none.
 */
static int is_weak(const struct marker *m)
{
	/* often part of a noun: 高质量发展重点项目, 大饭店建设等, 违法建设 */
	return m && (!strcmp(m->w, "发展") || !strcmp(m->w, "建设"));
}

static const struct marker *marker_before(const char *s, size_t a, size_t i, int *strive, size_t *mpos)
{
	const struct marker *best = NULL, *strong = NULL;
	size_t strong_pos = 0;
	struct quotes q = { 0 };
	size_t x = a;
	while (x < i) {
		const struct marker *m;
		if (!quotes_inside(&q) && (m = marker_at(s, x, i))) {
			size_t n = strlen(m->w);
			if (m->v == V_STRIVE) {
				*strive = 1;
			} else if (!m->adjacent || x + n == i) {
				best = m;
				*mpos = x;
				if (!is_weak(m)) {
					strong = m;
					strong_pos = x;
				}
			}
			x += n;
			continue;
		}
		x += quotes_step(&q, s, x, i);
	}
	/* 拆除违法建设1万平方米: a weak word gives way to a verb before it */
	if (is_weak(best) && strong && strong->v != V_FACT) {
		*mpos = strong_pos;
		return strong;
	}
	return best;
}

static int is_target_verb(int v)
{
	return v != V_FACT && v != V_STRIVE && v != V_FROM && v != V_OTHER;
}

/* A target marker in [a, b)? (17个村分别打造: the count is the subject) */
static int verb_after(const char *s, size_t a, size_t b)
{
	for (size_t x = a; x < b; x += cp_len((unsigned char)s[x])) {
		const struct marker *m = marker_at(s, x, b);
		if (m && is_target_verb(m->v) && !m->adjacent)
			return 1;
	}
	return 0;
}

/* Start of the sentence holding i: after the last 。；！？ or a line break. */
static size_t sentence_start(const char *s, size_t lo, size_t i)
{
	static const char *const ends_[] = { "。", "；", ";", "！", "!", "？", "?", "\n", NULL };
	size_t k = i, floor = i > lo + CLAUSE_SPAN ? i - CLAUSE_SPAN : lo;
	while (k > floor && !ends_any(s, floor, k, ends_))
		k = cp_prev(s, floor, k);
	return k;
}

static const char *const label_head_strip[] = { "进一步", "力争", "争取", "全力推进", "全力", "持续", "累计", "计划",
	"谋划实施", "谋划", "拟新发展", "拟", "预计", "确保", "实现", "完成", "新增", "增设", "新建", "新装", "建设",
	"建成", "打造", "组织开展", "开展", "组织", "实施", "培育", "孵化出", "孵化", "发展", "调整", "整合", "推进",
	"推动", "全年", "年内", "今年", "确定", "建立", "引进", "招引", "举办", "覆盖", "带动", "创建", "创成",
	"认定", "提升改造", "维护更换", "再", "约", "街道", "全街道", "辖区内的", "辖区内", "辖区", "其中", "已", "将",
	"和", "及", "原有", "现有", "共有", "已有", "涉及", "围绕", "依托", "优化", "划分为", "分别", "向", "对", "有",
	"达到", "达", "同步", "加装", "改造提升", "走访", "申报", "吸引", "形成", "清理", "整治", "化解", "带动",
	"成立", "新培育", "排查", "发现", "维修", "至少", "不少于", "社区有", "村有", "镇有", "街道有", "辖区有",
	"培养", "每村", "每户", "每人", "每个", "惠及", "全村", "全镇", "全区", "全市", "配备", "吸纳", NULL };
static const char *const label_tail_strip[] = { "不少于", "不低于", "不小于", "不超过", "不高于", "不多于", "不大于",
	"至少", "超过", "高于", "大于", "多于", "每季度", "每月", "每周", "每年", "控制在", "低于", "少于", "小于", "最多",
	"达到", "共计", "累计", "总计", "合计", "提升至", "提高至", "提高到", "提升到", "增至", "降至", "保持在", "稳定在", "下降", "增长", "减少", "降低", "同比", "由", "从", "约", "近", "达",
	"共", "为", "到", "在", "原有", "现有", "共有", "分别", NULL };
static const char *const quote_marks[] = { "“", "”", "\"", "《", "》", "‘", "’", "「", "」", "『", "』", "'", NULL };

/* Narrows [*a, b) to the words after the last 的 or 等. */
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

/* A date or an ordinal at i (一是, 第二, 6月底前, 三季度末, 年底前): its bytes. */
static size_t label_noise_at(const char *s, size_t i, size_t hi)
{
	static const char *const words[] = { "年底前", "年底", "年末", "年内", "全年", "上半年", "下半年", "年度内",
					     "今年", "明年", "月底前", "月底", "月末", "月前", "月份", "月", "季度末前",
					     "季度末", "季度", "日前", "日", "号前", "底前", "末前", "前", NULL };
	size_t n, j = i;
	int v;
	long lv;
	int nd;
	if ((n = at(s, j, hi, "第")))
		j += n;
	if ((n = cn_number(s, j, hi, &v)) > 0 || (n = digits_run(s, j, hi, &lv, &nd)) > 0) {
		size_t k = j + n, w;
		if ((w = at(s, k, hi, "是")) && j == i)
			return k + w - i;
		if (j > i) /* 第二 */
			return k - i;
		if ((w = at_any(s, k, hi, words, NULL))) {
			k += w;
			/* 6月30日前 */
			if (digits_run(s, k, hi, &lv, &nd) && (w = at_any(s, k + digits_run(s, k, hi, &lv, &nd), hi, words, NULL)))
				k += digits_run(s, k, hi, &lv, &nd) + w;
			return k - i;
		}
		return 0;
	}
	if (j > i)
		return 0;
	return at_any(s, i, hi, words, NULL) && !at(s, i, hi, "月") && !at(s, i, hi, "日") && !at(s, i, hi, "前") ?
		       at_any(s, i, hi, words, NULL) : 0;
}

/* Trims quote marks, stray punctuation and ordinal/date words from both ends. */
static void label_clean(const char *s, size_t *a, size_t *b)
{
	for (int guard = 0; guard < 16 && *a < *b; guard++) {
		size_t n;
		trim(s, a, b);
		if ((n = at_any(s, *a, *b, quote_marks, NULL)) || (n = at_any(s, *a, *b, trailing_punct, NULL)) ||
		    (n = label_noise_at(s, *a, *b)) || (n = at(s, *a, *b, "）")) || (n = at(s, *a, *b, ")"))) {
			if (*a + n >= *b)
				break;
			*a += n;
			continue;
		}
		if ((n = ends_any(s, *a, *b, quote_marks)) || (n = ends_any(s, *a, *b, trailing_punct)) ||
		    (n = ends(s, *a, *b, "（")) || (n = ends(s, *a, *b, "("))) {
			*b -= n;
			continue;
		}
		break;
	}
}

/* The label of a count: what is counted, best effort. */
static json_t *count_label(const char *s, size_t ca, size_t cb, size_t num_start, size_t after, int percent)
{
	/* After the unit: up to a stop; past 、 when a 的 comes before a digit. */
	static const char *const verb_stops[] = { "逐一", "摸排", "建立", "就", "分别", NULL };
	size_t a1 = after, b1 = after, n;
	while (b1 < cb && !is_label_stop(s, b1, cb)) {
		const struct marker *m;
		if (b1 > a1 && (at_any(s, b1, cb, verb_stops, NULL) ||
				((m = marker_at(s, b1, cb)) && !m->adjacent && is_target_verb(m->v))))
			break;
		b1 += cp_len((unsigned char)s[b1]);
	}
	/* 村(社区): a short parenthesis belongs to the word */
	if (b1 > a1 && ((n = at(s, b1, cb, "（")) || (n = at(s, b1, cb, "(")))) {
		size_t k = b1 + n, c;
		while (k < cb && cp_count(s, b1, k) <= 6 && !(c = at(s, k, cb, "）")) && !(c = at(s, k, cb, ")")))
			k += cp_len((unsigned char)s[k]);
		if (k < cb && ((c = at(s, k, cb, "）")) || (c = at(s, k, cb, ")"))) && cp_count(s, b1, k) <= 6)
			b1 = k + c;
	}
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
	/* Words after a stray number (2025年省重大项目): from the last digit run on. */
	size_t run = NONE;
	for (size_t i = a2; i < b2; i += cp_len((unsigned char)s[i])) {
		if (!is_digit_at(s, i, b2) || (i > a2 && is_digit_at(s, cp_prev(s, a2, i), b2)))
			continue;
		unsigned char c = i > a2 ? (unsigned char)s[i - 1] : 0;
		if (c == '.' || (c < 0x80 && ((c | 32) >= 'a' && (c | 32) <= 'z')))
			continue; /* PM2.5, G20: a name */
		run = i;
	}
	if (run != NONE) {
		long v;
		int nd;
		size_t dn = digits_run(s, run, b2, &v, &nd);
		a2 = run + dn;
		const struct unit *ru = unit_at(s, a2, b2);
		if (ru) /* 60岁以上老年人: the words after the stray count */
			a2 += strlen(ru->w);
		if ((n = at(s, a2, b2, "及以上")) || (n = at(s, a2, b2, "以上")) || (n = at(s, a2, b2, "以下")))
			a2 += n;
	}
	for (int guard = 0; guard < 8; guard++) {
		if ((n = at_any(s, a2, b2, label_head_strip, NULL)) && a2 + n < b2) {
			a2 += n;
			continue;
		}
		if ((n = label_noise_at(s, a2, b2)) && a2 + n < b2) {
			a2 += n;
			continue;
		}
		break;
	}
	label_clean(s, &a2, &b2);
	/* 破损路面找补、硬化1.5万平方米: a bare verb takes the segment before it */
	if (b2 > a2 && cp_count(s, a2, b2) <= 2 && ends(s, ca, a2, "、")) {
		size_t k = a2 - strlen("、");
		while (k > ca && !ends(s, ca, k, "、") && !ends_any(s, ca, k, major_delims))
			k = cp_prev(s, ca, k);
		size_t a3 = k;
		while ((n = at_any(s, a3, b2, label_head_strip, NULL)) && a3 + n < b2)
			a3 += n;
		int digits = 0;
		for (size_t x = a3; x < a2 && !digits; x += cp_len((unsigned char)s[x]))
			digits = is_digit_at(s, x, a2);
		if (!digits)
			a2 = a3;
	}
	size_t a, b;
	if (percent ? b2 > a2 : b1 <= a1) {
		a = a2;
		b = b2;
		while (cp_count(s, a, b) > 16) /* the last 16 code points */
			a += cp_len((unsigned char)s[a]);
	} else {
		a = a1;
		b = b1;
		while (cp_count(s, a, b) > 16)
			b = cp_prev(s, a, b);
	}
	label_clean(s, &a, &b);
	if (b <= a)
		return json_null();
	return str_range(s, a, b);
}

struct numscan {
	struct pp *p;
	const struct node *node;
	const char *s;
	size_t lo, hi;
	json_t *targets, *facts;
	/* the previous count, for 由X提升至Y */
	json_t *prev_arr;
	size_t prev_end, prev_clause, prev_sentence;
	int prev_from;
};

/* A number that is not read as a count: a warning naming it. */
static void number_skipped(struct numscan *ns, size_t i, size_t j, const char *why)
{
	char num[40];
	size_t n = j - i < sizeof num - 1 ? j - i : sizeof num - 1;
	while (n && ((unsigned char)ns->s[i + n] & 0xC0) == 0x80)
		n--;
	memcpy(num, ns->s + i, n);
	num[n] = '\0';
	pp_warn(ns->p, node_line_at(ns->p, ns->node, i), "number %s not read as a target: %s", num, why);
}

/*
 * The count whose number [i, j) has value v: unit, comparator, what it is
 * (target, fact or neither). Returns bytes consumed from i.
 */
static size_t count_at(struct numscan *ns, size_t i, size_t j, double v, int isreal, int chinese)
{
	const char *s = ns->s;
	size_t lo = ns->lo, hi = ns->hi, k = j, n;
	const char *mult = NULL;
	if (!chinese) {
		if (at(s, k, hi, "万"))
			mult = "万";
		else if (at(s, k, hi, "亿"))
			mult = "亿";
		else if (at(s, k, hi, "千") && !at(s, k, hi, "千米") && !at(s, k, hi, "千瓦"))
			mult = "千";
		if (mult)
			k += strlen(mult);
	}
	int cmp = CMP_EQ;
	if ((n = at(s, k, hi, "余")) || (n = at(s, k, hi, "多"))) {
		cmp = CMP_GE;
		k += n;
	}
	const struct unit *u = NULL;
	if (chinese) {
		int w;
		if (!(n = at_any(s, k, hi, cn_units, &w)))
			return j - i;
		u = unit_at(s, k, hi);
		if (!u || strlen(u->w) != n)
			return j - i;
		/* 五个一, 三个是: a name or an enumeration */
		if (is_cn_numeral_at(s, k + n, hi) || at(s, k + n, hi, "是") || is_digit_at(s, k + n, hi))
			return j - i;
	} else {
		u = unit_at(s, k, hi);
	}
	char unit[40];
	int percent = 0;
	if (u && !u->ok) {
		if (!mult && !at_any(s, k, hi, date_units, NULL))
			number_skipped(ns, i, k + strlen(u->w), "not a count (a duration or a name)");
		return j - i;
	}
	if (u) {
		k += strlen(u->w);
		percent = u->w[0] == '%' || !strcmp(u->w, "％");
		snprintf(unit, sizeof unit, "%s%s", mult ? mult : "", percent ? "%" : u->w);
	} else if (mult) {
		snprintf(unit, sizeof unit, "%s", mult);
	} else {
		number_skipped(ns, i, j, "no unit after it");
		return j - i;
	}
	/* 每月1次, 每季度培训1次: how often, the cadence, not a target */
	static const char *const every[] = { "每月", "每周", "每季度", "每年", "每天", "每日", "每半年", "每个月", "每星期", NULL };
	static const char *const times[] = { "次", "回", "遍", "轮", NULL };
	if (at_any(s, j, hi, times, NULL) && !mult) {
		size_t ca0, cb0;
		clause_bounds(s, lo, hi, i, k, &ca0, &cb0);
		for (size_t x = ca0; x < i; x += cp_len((unsigned char)s[x]))
			if (at_any(s, x, i, every, NULL)) {
				number_skipped(ns, i, k, "how often (每月1次): the cadence");
				return k - i;
			}
	}
	int le_suffix = 0;
	if ((n = at(s, k, hi, "及以上")) || (n = at(s, k, hi, "以上"))) {
		cmp = CMP_GE;
		k += n;
	} else if ((n = at(s, k, hi, "及以下")) || (n = at(s, k, hi, "以下")) || (n = at(s, k, hi, "以内")) ||
		   (n = at(s, k, hi, "之内")) || (u && u->time && (n = at(s, k, hi, "内")))) {
		cmp = CMP_LE;
		le_suffix = 1;
		k += n;
	}
	if (json_array_size(ns->targets) >= MAX_TARGETS && json_array_size(ns->facts) >= MAX_TARGETS)
		return k - i; /* full: spare the word search */
	size_t ca, cb;
	clause_bounds(s, lo, hi, i, k, &ca, &cb);
	size_t ss = sentence_start(s, lo, ca);
	int strive = 0;
	size_t mpos = 0;
	const struct marker *m = marker_before(s, ca, i, &strive, &mpos);
	int inherited = 0;
	if (!m) {
		int st2 = 0;
		m = marker_before(s, ss, ca, &st2, &mpos);
		strive |= st2;
		inherited = m != NULL;
		if (m && m->v == V_FROM)
			m = NULL;
	}
	{
		int st3 = 0;
		size_t mp;
		marker_before(s, ss, i, &st3, &mp);
		strive |= st3;
	}
	if (is_weak(m) && !inherited) { /* 谋划实施…，省…高质量发展重点项目1个 */
		int st4 = 0;
		size_t mp4 = 0;
		const struct marker *sm = marker_before(s, ss, ca, &st4, &mp4);
		if (sm && !is_weak(sm) && is_target_verb(sm->v))
			m = sm;
	}
	int verb = m ? m->v : V_OTHER;
	int from = verb == V_FROM && !inherited;
	int fact = verb == V_FACT;
	if (from)
		verb = V_OTHER;
	/* 17个村(社区)分别打造: a count at the start of its clause, before the verb, is who does it */
	if ((!m || inherited) && cmp == CMP_EQ && !percent) {
		size_t x = ca, y = i;
		trim(s, &x, &y);
		const struct marker *vm = marker_at(s, k, cb);
		if (x == y && !(vm && is_target_verb(vm->v)) && verb_after(s, k, cb)) {
			fact = 1;
			m = NULL;
		}
	}
	if (!fact) {
		static const char *const ge_words[] = { "至少", "不少于", "不低于", "不小于", NULL };
		static const char *const le_words[] = { "不超过", "不高于", "不多于", "不大于", "最多", "控制在", NULL };
		if (cmp == CMP_EQ) {
			if (verb == V_AT_LEAST || range_has(s, ca, i, ge_words))
				cmp = CMP_GE;
			else if (verb == V_AT_MOST || verb == V_CONTROL || range_has(s, ca, i, le_words))
				cmp = CMP_LE;
		}
		if (le_suffix && (verb == V_OTHER || verb == V_COMPLETE))
			verb = V_CONTROL;
		if ((percent || !strcmp(unit, "个百分点")) && m && verb == V_NEW &&
		    (!strcmp(m->w, "提高") || !strcmp(m->w, "增加")))
			verb = V_INCREASE;
		if ((percent || !strcmp(unit, "个百分点")) && m && verb == V_COMPLETE)
			verb = !strcmp(m->w, "提升") ? V_INCREASE : V_REACH;
		if (le_suffix && u && u->time)
			verb = V_CONTROL;
		if (verb == V_FACT || verb == V_FROM || verb == V_STRIVE)
			verb = V_OTHER;
	}
	json_t *arr = fact ? ns->facts : ns->targets;
	if (json_array_size(arr) >= MAX_TARGETS)
		return k - i;
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
	json_t *value = isreal || v > 9007199254740991.0 ? json_real(v) : json_integer((json_int_t)v);
	json_t *label = count_label(s, ca, cb, i, k, percent);
	json_t *prev = ns->prev_arr ? json_array_get(ns->prev_arr, json_array_size(ns->prev_arr) - 1) : NULL;
	json_t *prev_label = json_object_get(prev, "label");
	/* 由60%提升至80%: the first number is the baseline of the second, and names it */
	if (!fact && prev && ns->prev_from && ns->prev_clause == ca && m && m->v == V_REACH && mpos >= ns->prev_end) {
		size_t x = ns->prev_end, y = mpos;
		trim(s, &x, &y);
		if (x == y) {
			json_object_set(t, "baseline", json_object_get(prev, "value"));
			if (json_is_string(prev_label)) {
				json_decref(label);
				label = json_incref(prev_label);
			}
			json_array_remove(ns->prev_arr, json_array_size(ns->prev_arr) - 1);
			prev = NULL;
		}
	}
	/* 新发展170家、调整85家; 现有3处，年内新增2处: no word of its own, what the count before counted */
	if (prev && ns->prev_sentence == ss && json_is_string(prev_label)) {
		const char *l = json_is_string(label) ? json_string_value(label) : "";
		const struct marker *lm = marker_at(l, 0, strlen(l));
		if (!*l || (lm && strlen(lm->w) == strlen(l))) {
			json_decref(label);
			label = json_incref(prev_label);
		}
	}
	json_object_set_new(t, "label", label);
	json_object_set_new(t, "value", value);
	json_object_set_new(t, "unit", json_string(unit));
	if (!fact) {
		json_object_set_new(t, "comparator", json_string(cmp == CMP_GE ? ">=" : cmp == CMP_LE ? "<=" : "="));
		json_object_set_new(t, "verb", json_string(verb_names[verb]));
		if (strive)
			json_object_set_new(t, "strive", json_true());
	}
	json_object_set_new(t, "text", str_range(s, ta, tb));
	json_object_set_new(t, "_pos", json_integer((json_int_t)i)); /* removed by pp_render */
	json_array_append_new(arr, t);
	ns->prev_arr = arr;
	ns->prev_end = k;
	ns->prev_clause = ca;
	ns->prev_sentence = ss;
	ns->prev_from = from;
	return k - i;
}

/* An ASCII/full-width number at i; returns bytes consumed (at least 1). */
static size_t number_at(struct numscan *ns, size_t i)
{
	const char *s = ns->s;
	size_t lo = ns->lo, hi = ns->hi;
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
	if (ndig > 9) {
		number_skipped(ns, i, j, "too long for a count (a phone or an id number)");
		return run;
	}
	v /= frac;
	/* A name, an ordinal, a date or a formula: PM2.5, 第4期, 2025-02-11, 1+N, v1.2.3, A12 */
	if (i > lo) {
		unsigned char c = (unsigned char)s[i - 1];
		if ((c < 0x80 && (c == '.' || c == '-' || c == '/' || c == '+' || c == '_' || c == '#' ||
				  c == ':' || c == '~' || c == '=' || c == '*' || c == '@' || c == '\\' ||
				  (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) ||
		    ends(s, lo, i, "第") || ends(s, lo, i, "－") || ends(s, lo, i, "／") || ends(s, lo, i, "＋") ||
		    ends(s, lo, i, "．") || ends(s, lo, i, "～") || ends(s, lo, i, "№") || ends(s, lo, i, "每"))
			return run;
	}
	if (j < hi) {
		unsigned char c = (unsigned char)s[j];
		if ((c < 0x80 && (c == '.' || c == '-' || c == '/' || c == '+' || c == '_' || c == ':' ||
				  c == '~' || c == '*' || c == '\\' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) ||
		    at(s, j, hi, "－") || at(s, j, hi, "／") || at(s, j, hi, "＋") || at(s, j, hi, "．"))
			return run;
	}
	/* 12345 热线, 12349 便民服务: service numbers */
	if (ndig >= 5 && !isreal && !at(s, j, hi, "万") && !at(s, j, hi, "亿") && !unit_at(s, j, hi)) {
		number_skipped(ns, i, j, "a service or phone number");
		return run;
	}
	return count_at(ns, i, j, v, isreal, 0);
}

/* Chinese numerals at i as a count (三个, 两处, 十余家); bytes consumed, 0 if none. */
static size_t cn_number_at(struct numscan *ns, size_t i)
{
	static const char *const not_before[] = { "第", "每", "周", "初", "星期", "礼拜", "这", "那", "哪", "各", "某",
						  "前", "后", "头", "单", "统", "唯", "万", "千", "百", "十", NULL };
	const char *s = ns->s;
	long v;
	size_t n = cn_count(s, i, ns->hi, &v);
	if (!n)
		return 0;
	if (v < 2 || (i > ns->lo && (ends_any(s, ns->lo, i, not_before) || is_cn_numeral_at(s, cp_prev(s, ns->lo, i), ns->hi))))
		return n;
	size_t used = count_at(ns, i, i + n, (double)v, 0, 1);
	return used ? used : n;
}

/* Targets and facts of [lo, hi); numbers that are neither go to the warnings. */
static void scan_numbers(struct pp *p, const struct node *node, const char *s, size_t lo, size_t hi,
			 json_t *targets, json_t *facts)
{
	struct numscan ns = { p, node, s, lo, hi, targets, facts, NULL, 0, 0, 0, 0 };
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
				n = number_at(&ns, i);
			}
			i += n ? n : 1;
			continue;
		}
		if (!quotes_inside(&q) && is_cn_numeral_at(s, i, hi)) {
			size_t n = cn_number_at(&ns, i);
			if (n) {
				i += n;
				continue;
			}
		}
		i += quotes_step(&q, s, i, hi);
	}
}

/* ---------- deadlines ---------- */

struct deadline {
	char date[11];
	size_t pos, end;
	int year_end; /* 年底, 全年, 年内 … */
	int whole;    /* the whole item's deadline, not a part's */
	int start;    /* 4月1日起: when the work starts */
};

struct deadlines {
	struct deadline d[MAX_DEADLINES];
	int n;
};

static void dl_add(struct pp *p, struct deadlines *dl, int line, const struct dates_match *m, size_t pos, size_t end)
{
	if (m->y < 1900 || m->y > 2999) {
		if (!p->year_warned)
			pp_warn(p, line, "plan year unknown: relative deadlines are not dated (pass ?year=)");
		p->year_warned = 1;
		return;
	}
	if (!dates_valid(m->y, m->m, m->d)) {
		pp_warn(p, line, "no such date: %d-%d-%d", m->y, m->m, m->d);
		return;
	}
	char date[16];
	snprintf(date, sizeof date, "%04d-%02d-%02d", m->y % 10000, m->m % 100, m->d % 100);
	if (dl->n >= MAX_DEADLINES)
		return;
	memcpy(dl->d[dl->n].date, date, 11);
	dl->d[dl->n].pos = pos;
	dl->d[dl->n].end = end;
	dl->d[dl->n].year_end = m->year_end;
	dl->d[dl->n].whole = 0;
	dl->d[dl->n].start = 0;
	dl->n++;
}

/* Every date of [lo, hi), read with the shared grammar (dates_match). */
static void scan_deadlines(struct pp *p, const struct node *node, const char *s, size_t lo, size_t hi,
			   struct deadlines *dl)
{
	static const char *const no_prefix[] = { "每", "去", "明", "前", "上", "下", "后", "次", "半", "今", "第", "个",
						  "近", "多", "历", NULL };
	size_t i = lo;
	while (i < hi) {
		unsigned char c = (unsigned char)s[i];
		int prev_digit = i > lo && is_digit_at(s, cp_prev(s, lo, i), hi);
		int prev_cn = i > lo && is_cn_numeral_at(s, cp_prev(s, lo, i), hi);
		int prev_bad = i > lo && (ends(s, lo, i, ".") || ends(s, lo, i, "-") || ends(s, lo, i, "/") ||
					  ((unsigned char)s[i - 1] < 0x80 && ((s[i - 1] | 32) >= 'a' && (s[i - 1] | 32) <= 'z')));
		struct dates_match m;
		size_t n;
		if (!prev_digit && !prev_cn && !prev_bad && !ends_any(s, lo, i, no_prefix) &&
		    (n = dates_match(s + i, hi - i, p->year, DATES_PLAN_TEXT, &m)) > 0) {
			int before = dl->n;
			dl_add(p, dl, node_line_at(p, node, i), &m, i, i + n);
			if (dl->n > before && (at(s, i + n, hi, "起") || at(s, i + n, hi, "开始") || at(s, i + n, hi, "以来")))
				dl->d[dl->n - 1].start = 1;
			i += n;
			continue;
		}
		if (is_digit_at(s, i, hi)) {
			long v;
			int nd;
			i += digits_run(s, i, hi, &v, &nd);
			continue;
		}
		i += cp_len(c);
	}
}

/* Words that make a deadline the whole item's: 全部完成, 全面建成, 6月底前完工. */
static const char *const whole_words[] = { "全部", "全面", "全域", "所有", "整体", "全覆盖", NULL };
static const char *const done_verbs[] = { "完成", "完工", "建成", "竣工", "投用", "投入使用", "交付", "到位",
					  "办结", "见效", "落地", "运营", "启用", "开工", "验收", NULL };
static const char *const part_words[] = { "其中", "首批", "首轮", "部分", "先行", "试点", "第", "一期", NULL };

static int range_has(const char *s, size_t a, size_t b, const char *const *ws)
{
	for (size_t i = a; i < b; i += cp_len((unsigned char)s[i]))
		if (at_any(s, i, b, ws, NULL))
			return 1;
	return 0;
}

/*
 * Whole or part: a deadline is the item's own when it is the year's end
 * (全年, 年底前), when its clause says all (全部, 全面), when it is in the
 * item's title, or when a completion verb ends its clause with no object
 * (6月底前完成). Anything after 其中/首批/部分 is a part (a milestone).
 */
static void classify_deadlines(const char *s, size_t lo, size_t hi, size_t title_end, size_t body_start,
			       struct deadlines *dl)
{
	for (int k = 0; k < dl->n; k++) {
		struct deadline *d = &dl->d[k];
		size_t ca, cb;
		clause_bounds(s, lo, hi, d->pos, d->end, &ca, &cb);
		if (d->start) {
			d->whole = 0;
			continue;
		}
		size_t c0 = ca, c1 = cb;
		trim(s, &c0, &c1);
		int ev;
		size_t en = cn_number(s, c0, c1, &ev);
		/* 其中/首批…, or 二是… of an enumeration left in the item's text: a part */
		if (range_has(s, ca, cb, part_words) || (en && at(s, c0 + en, c1, "是"))) {
			d->whole = 0;
			continue;
		}
		/* nothing after it: the last cell of a table row, "…，年底前" */
		size_t rest = d->end, rest_end = hi, n0;
		trim(s, &rest, &rest_end);
		while (rest < rest_end && (n0 = at_any(s, rest, rest_end, trailing_punct, NULL)))
			rest += n0;
		if (d->year_end || range_has(s, ca, cb, whole_words) || d->pos < title_end || rest >= rest_end ||
		    c0 == body_start) {
			d->whole = 1;
			continue;
		}
		size_t x = d->end, n;
		while (x < cb && ((n = space_at(s, x, cb)) || (n = at(s, x, cb, "要")) || (n = at(s, x, cb, "将")) ||
				  (n = at(s, x, cb, "基本")) || (n = at(s, x, cb, "前"))))
			x += n;
		if ((n = at_any(s, x, cb, done_verbs, NULL))) {
			size_t y = x + n, z = cb;
			trim(s, &y, &z);
			/* 6月底前完成; 3月底前完成造林860亩 (a count: the item's goal); not 3月底前完成重点区域整治 */
			int count = 0;
			for (size_t q = y; q < z && !count; q += cp_len((unsigned char)s[q]))
				count = is_digit_at(s, q, z);
			d->whole = count || cp_count(s, y, z) <= 2 || at(s, y, z, "任务") || at(s, y, z, "目标");
		}
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
			/* 9:30 and ２．５ are no terminators */
			int digits = i > a && is_digit_at(s, cp_prev(s, a, i), h) && is_digit_at(s, i + n, h);
			if (!((s[i] == ':' || at(s, i, h, "．")) && digits)) {
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

static json_t *pp_render(struct pp *p, size_t idx, const char *parent_code, int parent_due)
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
	classify_deadlines(s, lo, hi, tb > ta ? tb : lo, ba, &dl);
	int latest = -1;
	for (int k = 0; k < dl.n; k++)
		if (dl.d[k].whole && (latest < 0 || strcmp(dl.d[k].date, dl.d[latest].date) > 0))
			latest = k;
	json_object_set_new(t, "due_date", latest < 0 ? json_null() : json_string(dl.d[latest].date));
	int first_start = -1;
	for (int k = 0; k < dl.n; k++)
		if (dl.d[k].start && (first_start < 0 || strcmp(dl.d[k].date, dl.d[first_start].date) < 0))
			first_start = k;
	if (first_start >= 0)
		json_object_set_new(t, "start_date", json_string(dl.d[first_start].date));
	json_object_set_new(t, "due_source",
			    json_string(latest >= 0 ? "text" : parent_due ? "parent" : "plan_period"));
	const char *cad = scan_cadence(s, lo, hi);
	json_object_set_new(t, "cadence", cad ? json_string(cad) : json_null());
	json_t *targets = json_array(), *facts = json_array();
	scan_numbers(p, n, s, lo, hi, targets, facts);
	json_object_set_new(t, "targets", targets);
	json_object_set_new(t, "facts", facts);
	/* Milestones: the parts' deadlines, and whole ones before the latest. */
	json_t *ms = json_array();
	for (int k = 0; k < dl.n; k++) {
		if (k == latest || dl.d[k].start ||
		    (dl.d[k].whole && latest >= 0 && !strcmp(dl.d[k].date, dl.d[latest].date)))
			continue;
		int dup = 0;
		for (int e = 0; e < k && !dup; e++)
			dup = !strcmp(dl.d[e].date, dl.d[k].date) && e != latest && !dl.d[e].whole;
		if (dup)
			continue;
		size_t ca, cb, x;
		clause_bounds(s, lo, hi, dl.d[k].pos, dl.d[k].end, &ca, &cb);
		trim(s, &ca, &cb);
		for (int guard = 0; guard < 4; guard++) {
			int v;
			size_t m;
			if ((x = at(s, ca, cb, "其中")) || (x = at(s, ca, cb, "同时"))) {
				ca += x;
			} else if ((m = cn_number(s, ca, cb, &v)) > 0 && (x = at(s, ca + m, cb, "是"))) {
				ca += m + x;
			} else {
				break;
			}
			trim(s, &ca, &cb);
		}
		cb = clip(s, ca, cb, MAX_TEXT);
		json_t *m = json_object();
		json_object_set_new(m, "title", cb > ca ? str_range(s, ca, cb) : json_string(dl.d[k].date));
		json_object_set_new(m, "due_date", json_string(dl.d[k].date));
		/* 其中6月底前完成3处: the count is the milestone's, not another target */
		size_t mca, mcb;
		clause_bounds(s, lo, hi, dl.d[k].pos, dl.d[k].end, &mca, &mcb);
		for (size_t g = 0; g < json_array_size(targets);) {
			json_t *tg = json_array_get(targets, g);
			size_t pos = (size_t)json_integer_value(json_object_get(tg, "_pos"));
			if (pos >= mca && pos < mcb && !json_object_get(m, "target")) {
				json_object_set(m, "target", tg);
				json_array_remove(targets, g);
				continue;
			}
			g++;
		}
		json_object_del(json_object_get(m, "target"), "_pos");
		json_array_append_new(ms, m);
	}
	json_object_set_new(t, "milestones", ms);
	for (size_t g = 0; g < json_array_size(targets); g++)
		json_object_del(json_array_get(targets, g), "_pos");
	for (size_t g = 0; g < json_array_size(facts); g++)
		json_object_del(json_array_get(facts, g), "_pos");
	json_t *kids = json_array();
	for (size_t c = n->first; c != NONE; c = p->nodes[c].next)
		json_array_append_new(kids, pp_render(p, c, code, parent_due || latest >= 0));
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
			json_array_append_new(tasks, pp_render(&p, k, NULL, 0));
	json_t *counts = json_array();
	for (int d = 1; d <= p.maxdepth && d <= NSTYLES; d++)
		json_array_append_new(counts, json_integer((json_int_t)p.counts[d]));
	json_object_set_new(doc, "tasks", tasks);
	json_object_set_new(doc, "warnings", json_incref(p.warnings));
	json_object_set_new(doc, "counts", counts);
	pp_free(&p);
	return doc;
}
