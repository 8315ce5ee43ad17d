/*
 * test_textenc.c - UTF-8 validation, BOM handling, charset detection and
 * GB18030/GBK round trips, including the GBK fixture Chinese Excel writes.
 */
#include "check.h"
#include "plantrack/textenc.h"

#include <stdlib.h>
#include <string.h>

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

/* to_utf8 of a C string literal, compared with the expected UTF-8. */
static int to_is(const char *in, size_t n, const char *cs, const char *want)
{
	char err[256] = "";
	size_t len = 99;
	char *out = textenc_to_utf8(in, n, cs, &len, err, sizeof err);
	int ok = out && len == strlen(want) && !memcmp(out, want, len) && out[len] == '\0';
	if (!ok)
		fprintf(stderr, "  to_utf8(%s): got \"%s\" (%s)\n", cs ? cs : "detect", out ? out : "NULL", err);
	free(out);
	return ok;
}

static int to_fails(const char *in, size_t n, const char *cs, const char *msg_part)
{
	char err[256] = "";
	size_t len = 99;
	char *out = textenc_to_utf8(in, n, cs, &len, err, sizeof err);
	int ok = out == NULL && len == 0 && strstr(err, msg_part) != NULL;
	if (!ok)
		fprintf(stderr, "  expected failure with \"%s\": out=%s err=\"%s\"\n", msg_part, out ? out : "NULL", err);
	free(out);
	return ok;
}

int main(void)
{
	/* Validation. */
	CHECK(textenc_is_utf8("", 0));
	CHECK(textenc_is_utf8(NULL, 0));
	CHECK(textenc_is_utf8("abc", 3));
	CHECK(textenc_is_utf8("城东街道", strlen("城东街道")));
	CHECK(textenc_is_utf8("\xF0\x9F\x98\x80", 4));          /* U+1F600 */
	CHECK(textenc_is_utf8("\xF4\x8F\xBF\xBF", 4));          /* U+10FFFF */
	CHECK(textenc_is_utf8("\xEF\xBF\xBD", 3));              /* U+FFFD */
	CHECK(textenc_is_utf8("a\0b", 3));
	CHECK(!textenc_is_utf8("\xC0\xAF", 2));                 /* overlong '/' */
	CHECK(!textenc_is_utf8("\xC1\xBF", 2));
	CHECK(!textenc_is_utf8("\xE0\x80\xAF", 3));             /* overlong */
	CHECK(!textenc_is_utf8("\xF0\x80\x80\xAF", 4));         /* overlong */
	CHECK(!textenc_is_utf8("\xED\xA0\x80", 3));             /* surrogate D800 */
	CHECK(!textenc_is_utf8("\xED\xBF\xBF", 3));             /* surrogate DFFF */
	CHECK(!textenc_is_utf8("\xF4\x90\x80\x80", 4));         /* > U+10FFFF */
	CHECK(!textenc_is_utf8("\xF5\x80\x80\x80", 4));
	CHECK(!textenc_is_utf8("\xFF", 1));
	CHECK(!textenc_is_utf8("\x80", 1));                     /* lone continuation */
	CHECK(!textenc_is_utf8("\xE5\x9F", 2));                 /* truncated */
	CHECK(!textenc_is_utf8("\xE5\x9F\x41", 3));             /* bad continuation */
	CHECK(!textenc_is_utf8("\xB3\xC7\xB6\xAB", 4));         /* 城东 in GBK */

	/* UTF-8 in, with and without BOM, labelled or detected. */
	CHECK(to_is("城东", strlen("城东"), NULL, "城东"));
	CHECK(to_is("城东", strlen("城东"), "utf-8", "城东"));
	CHECK(to_is("城东", strlen("城东"), "UTF8", "城东"));
	CHECK(to_is("\xEF\xBB\xBF城东", 3 + strlen("城东"), NULL, "城东"));
	CHECK(to_is("\xEF\xBB\xBF城东", 3 + strlen("城东"), "utf-8", "城东"));
	CHECK(to_is("\xEF\xBB\xBF城东", 3 + strlen("城东"), "gb18030", "城东")); /* BOM beats the label */
	CHECK(to_is("\xEF\xBB\xBF", 3, NULL, ""));
	CHECK(to_is("", 0, NULL, ""));
	CHECK(to_is(NULL, 0, "gbk", ""));
	CHECK(to_is("\xEF\xBB\xBF\xEF\xBB\xBFx", 7, NULL, "\xEF\xBB\xBFx")); /* only one BOM stripped */

	/* GBK / GB18030 in. */
	CHECK(to_is("\xB3\xC7\xB6\xAB\xBD\xD6\xB5\xC0", 8, "gbk", "城东街道"));
	CHECK(to_is("\xB3\xC7\xB6\xAB\xBD\xD6\xB5\xC0", 8, "GB2312", "城东街道"));
	CHECK(to_is("\xB3\xC7\xB6\xAB\xBD\xD6\xB5\xC0", 8, "GB18030", "城东街道"));
	CHECK(to_is("\xB3\xC7\xB6\xAB\xBD\xD6\xB5\xC0", 8, NULL, "城东街道")); /* detected */
	CHECK(to_is("\xB3\xC7\xB6\xAB\xBD\xD6\xB5\xC0", 8, "", "城东街道"));
	CHECK(to_is("\x84\x31\x95\x33\xB3\xC7", 6, "gb18030", "城")); /* GB18030 BOM */
	CHECK(to_is("\x94\x39\xFC\x36", 4, "gb18030", "\xF0\x9F\x98\x80")); /* 4-byte GB18030: U+1F600 */
	CHECK(to_is("\x81\x30\x81\x30", 4, "gbk", "\xC2\x80")); /* U+0080: GBK label still decodes GB18030 */
	CHECK(to_is("\xFF\xFE\xCE\x57\x1c\x4e", 6, NULL, "城东")); /* UTF-16LE with BOM */
	CHECK(to_is("\xFE\xFF\x57\xCE\x4e\x1c", 6, NULL, "城东")); /* UTF-16BE with BOM */

	/* Failures. */
	CHECK(to_fails("\xB3\xC7", 2, "utf-8", "invalid UTF-8 at byte 0 (line 1)"));
	CHECK(to_fails("ab\ncd\n\xFF", 7, "utf-8", "line 3"));
	CHECK(to_fails("\xEF\xBB\xBF\xB3\xC7", 5, "gbk", "invalid UTF-8"));
	CHECK(to_fails("ok\n\xB3", 4, "gbk", "GB18030"));         /* truncated lead byte */
	CHECK(to_fails("ok\n\x80\x41", 5, "gb18030", "line 2"));  /* 0x80 alone is invalid */
	CHECK(to_fails("ok\n\xFF\xFF", 5, NULL, "line 2"));
	CHECK(to_fails("a\0b", 3, NULL, "NUL"));
	CHECK(to_fails("a\n\xB3\xC7\0", 5, "gbk", "NUL byte at line 2"));
	CHECK(to_fails("abc", 3, "latin1", "unsupported charset"));
	CHECK(to_fails("\xFF\xFE\x00\xD8", 4, NULL, "UTF-16")); /* lone surrogate */
	CHECK(textenc_to_utf8("\xFF", 1, "utf-8", NULL, NULL, 0) == NULL); /* err may be NULL */
	char tiny[8];
	CHECK(textenc_to_utf8("\xFF", 1, "utf-8", NULL, tiny, sizeof tiny) == NULL && strlen(tiny) == 7);
	CHECK(textenc_charset_known("GBK") && textenc_charset_known(NULL) && !textenc_charset_known("big5"));

	/* From UTF-8. */
	{
		char err[256] = "";
		size_t len = 0;
		char *gb = textenc_from_utf8("城东街道 2025", strlen("城东街道 2025"), "gb18030", &len, err, sizeof err);
		CHECK(gb && len == 13 && !memcmp(gb, "\xB3\xC7\xB6\xAB\xBD\xD6\xB5\xC0 2025", 13));
		free(gb);
		gb = textenc_from_utf8("\xEF\xBB\xBF城", 6, "GB18030", &len, err, sizeof err);
		CHECK(gb && len == 2 && !memcmp(gb, "\xB3\xC7", 2)); /* BOM dropped for GB */
		free(gb);
		char *u = textenc_from_utf8("\xEF\xBB\xBF城", 6, "utf-8", &len, err, sizeof err);
		CHECK(u && len == 6 && !memcmp(u, "\xEF\xBB\xBF城", 6)); /* kept for UTF-8 */
		free(u);
		gb = textenc_from_utf8("\xF0\x9F\x98\x80", 4, "gb18030", &len, err, sizeof err);
		CHECK(gb && len == 4 && !memcmp(gb, "\x94\x39\xFC\x36", 4));
		free(gb);
		gb = textenc_from_utf8("ab\n😀", strlen("ab\n😀"), "gbk", &len, err, sizeof err);
		CHECK(!gb && strstr(err, "U+1F600") && strstr(err, "line 2"));
		free(gb);
		gb = textenc_from_utf8("\xFF", 1, "gb18030", &len, err, sizeof err);
		CHECK(!gb && strstr(err, "invalid UTF-8"));
		gb = textenc_from_utf8("", 0, "gb18030", &len, err, sizeof err);
		CHECK(gb && len == 0 && gb[0] == '\0');
		free(gb);
		CHECK(!textenc_from_utf8("x", 1, "koi8-r", &len, err, sizeof err) && strstr(err, "unsupported"));
		/* Every BMP character outside surrogates, and some astral ones, round trip through GB18030. */
		size_t cap = 0x10000 * 4 + 64, n = 0;
		char *all = malloc(cap);
		for (unsigned cp = 1; cp < 0x110000; cp += cp < 0x10000 ? 1 : 97) {
			if (cp >= 0xD800 && cp <= 0xDFFF)
				continue;
			if (cp == 0xFEFF || (cp >= 0xE000 && cp <= 0xF8FF))
				continue; /* a BOM at the start; private use is not round-trip safe in glibc */
			if (n + 4 >= cap) {
				cap *= 2;
				all = realloc(all, cap);
			}
			if (cp < 0x80) {
				all[n++] = (char)cp;
			} else if (cp < 0x800) {
				all[n++] = (char)(0xC0 | cp >> 6);
				all[n++] = (char)(0x80 | (cp & 0x3F));
			} else if (cp < 0x10000) {
				all[n++] = (char)(0xE0 | cp >> 12);
				all[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
				all[n++] = (char)(0x80 | (cp & 0x3F));
			} else {
				all[n++] = (char)(0xF0 | cp >> 18);
				all[n++] = (char)(0x80 | (cp >> 12 & 0x3F));
				all[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
				all[n++] = (char)(0x80 | (cp & 0x3F));
			}
		}
		CHECK(textenc_is_utf8(all, n));
		size_t glen = 0, blen = 0;
		gb = textenc_from_utf8(all, n, "gb18030", &glen, err, sizeof err);
		CHECK(gb != NULL);
		char *back = gb ? textenc_to_utf8(gb, glen, "gb18030", &blen, err, sizeof err) : NULL;
		CHECK(back && blen == n && !memcmp(back, all, n));
		if (!back)
			fprintf(stderr, "  round trip: %s\n", err);
		free(back);
		free(gb);
		free(all);
	}

	/* The fixture: GBK bytes as Chinese Excel writes them decode to the exact UTF-8 file. */
	{
		size_t glen = 0, ulen = 0, olen = 0;
		char *gbk = slurp("tests/data/csv/minsheng.gbk.csv", &glen);
		char *utf8 = slurp("tests/data/csv/minsheng.utf8.csv", &ulen);
		CHECK(gbk && utf8 && glen > 100 && ulen > glen);
		CHECK(gbk && !textenc_is_utf8(gbk, glen));
		char err[256] = "";
		char *out = gbk ? textenc_to_utf8(gbk, glen, "gbk", &olen, err, sizeof err) : NULL;
		CHECK(out && utf8 && olen == ulen && !memcmp(out, utf8, ulen));
		free(out);
		out = gbk ? textenc_to_utf8(gbk, glen, NULL, &olen, err, sizeof err) : NULL;
		CHECK(out && utf8 && olen == ulen && !memcmp(out, utf8, ulen));
		free(out);
		/* ...and back. */
		out = utf8 ? textenc_from_utf8(utf8, ulen, "gbk", &olen, err, sizeof err) : NULL;
		CHECK(out && gbk && olen == glen && !memcmp(out, gbk, glen));
		free(out);
		free(gbk);
		free(utf8);
	}
	return check_summary();
}
