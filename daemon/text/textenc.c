/*
 * textenc.c - UTF-8 validation and UTF-8 <-> GB18030/GBK conversion with
 * glibc iconv, BOM stripping and charset detection (see textenc.h).
 */
#include "plantrack/textenc.h"

#include <errno.h>
#include <stdarg.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum kind { K_UNKNOWN, K_DETECT, K_UTF8, K_GB18030, K_GBK, K_GB2312, K_UTF16LE, K_UTF16BE };

static enum kind charset_kind(const char *cs)
{
	if (!cs || !*cs)
		return K_DETECT;
	if (!strcasecmp(cs, "utf-8") || !strcasecmp(cs, "utf8"))
		return K_UTF8;
	if (!strcasecmp(cs, "gb18030"))
		return K_GB18030;
	if (!strcasecmp(cs, "gbk") || !strcasecmp(cs, "cp936"))
		return K_GBK;
	if (!strcasecmp(cs, "gb2312"))
		return K_GB2312;
	return K_UNKNOWN;
}

static const char *kind_iconv_name(enum kind k)
{
	switch (k) {
	case K_GBK: return "GBK";
	case K_GB2312: return "GB2312";
	case K_UTF16LE: return "UTF-16LE";
	case K_UTF16BE: return "UTF-16BE";
	case K_UTF8: return "UTF-8";
	default: return "GB18030";
	}
}

int textenc_charset_known(const char *charset)
{
	return charset_kind(charset) != K_UNKNOWN;
}

/* Offset of the first byte that is not part of valid UTF-8, or n. */
static size_t utf8_bad_offset(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		unsigned lo = 0x80, hi = 0xBF;
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			if (c == 0xE0)
				lo = 0xA0; /* overlong */
			else if (c == 0xED)
				hi = 0x9F; /* surrogates */
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			if (c == 0xF0)
				lo = 0x90; /* overlong */
			else if (c == 0xF4)
				hi = 0x8F; /* > U+10FFFF */
		} else {
			return i;
		}
		if (n - i < len)
			return i;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k < len; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return i;
		i += len;
	}
	return n;
}

int textenc_is_utf8(const char *s, size_t n)
{
	if (!s)
		return n == 0;
	return utf8_bad_offset((const unsigned char *)s, n) == n;
}

static size_t line_of(const char *s, size_t off)
{
	size_t line = 1;
	const char *p = s, *end = s + off;
	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		line++;
		p++;
	}
	return line;
}

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

static char *copy_bytes(const char *in, size_t n, size_t *outlen, char *err, size_t errlen)
{
	char *out = malloc(n + 1);
	if (!out) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	if (n)
		memcpy(out, in, n);
	out[n] = '\0';
	if (outlen)
		*outlen = n;
	return out;
}

/*
 * Runs one whole conversion. NULL on failure, with *bad = input offset of the
 * offending byte and *why = errno (EILSEQ, EINVAL, ENOMEM).
 */
static char *run_iconv(const char *to, const char *from, const char *in, size_t n, size_t *outlen,
		       size_t *bad, int *why)
{
	*bad = 0;
	iconv_t cd = iconv_open(to, from);
	if (cd == (iconv_t)-1) {
		*why = ENOSYS;
		return NULL;
	}
	if (n > (SIZE_MAX - 16) / 2) {
		iconv_close(cd);
		*why = ENOMEM;
		return NULL;
	}
	size_t cap = n + n / 2 + 16;
	char *buf = malloc(cap);
	if (!buf) {
		iconv_close(cd);
		*why = ENOMEM;
		return NULL;
	}
	char *ip = (char *)in, *op = buf;
	size_t ileft = n, oleft = cap - 1; /* keep room for the NUL */
	for (;;) {
		size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
		if (r != (size_t)-1)
			r = iconv(cd, NULL, NULL, &op, &oleft); /* all read: flush any shift state */
		if (r != (size_t)-1)
			break;
		if (errno != E2BIG) {
			*why = errno;
			*bad = (size_t)(ip - in);
			free(buf);
			iconv_close(cd);
			return NULL;
		}
		size_t used = (size_t)(op - buf);
		char *nb = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
		if (!nb) {
			free(buf);
			iconv_close(cd);
			*why = ENOMEM;
			return NULL;
		}
		buf = nb;
		cap *= 2;
		op = buf + used;
		oleft = cap - 1 - used;
	}
	iconv_close(cd);
	*op = '\0';
	*outlen = (size_t)(op - buf);
	return buf;
}

static int reject_nul(const char *s, size_t n, char *err, size_t errlen)
{
	const char *z = memchr(s, '\0', n);
	if (!z)
		return 0;
	set_err(err, errlen, "the text contains a NUL byte at line %zu (binary file, or UTF-16 without a BOM?)",
		line_of(s, (size_t)(z - s)));
	return -1;
}

char *textenc_to_utf8(const char *in, size_t n, const char *charset, size_t *outlen, char *err, size_t errlen)
{
	if (outlen)
		*outlen = 0;
	if (!in && n) {
		set_err(err, errlen, "no input");
		return NULL;
	}
	if (!in)
		in = "";
	enum kind k = charset_kind(charset);
	if (k == K_UNKNOWN) {
		set_err(err, errlen, "unsupported charset \"%.40s\" (use utf-8, gb18030 or gbk)", charset);
		return NULL;
	}
	const unsigned char *u = (const unsigned char *)in;
	if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
		k = K_UTF8; /* a UTF-8 BOM beats a label */
		in += 3;
		n -= 3;
	} else if (k == K_DETECT && n >= 2 && u[0] == 0xFF && u[1] == 0xFE) {
		k = K_UTF16LE;
		in += 2;
		n -= 2;
	} else if (k == K_DETECT && n >= 2 && u[0] == 0xFE && u[1] == 0xFF) {
		k = K_UTF16BE;
		in += 2;
		n -= 2;
	} else if (k == K_DETECT) {
		k = textenc_is_utf8(in, n) ? K_UTF8 : K_GB18030;
	}

	if (k == K_UTF8) {
		size_t bad = utf8_bad_offset((const unsigned char *)in, n);
		if (bad < n) {
			set_err(err, errlen, "invalid UTF-8 at byte %zu (line %zu); send charset=gb18030 for GBK files",
				bad, line_of(in, bad));
			return NULL;
		}
		if (reject_nul(in, n, err, errlen))
			return NULL;
		return copy_bytes(in, n, outlen, err, errlen);
	}

	size_t len = 0, bad = 0;
	int why = 0;
	/* GBK and GB2312 are byte subsets of GB18030: decode them all with it. */
	const char *from = k == K_UTF16LE || k == K_UTF16BE ? kind_iconv_name(k) : "GB18030";
	char *out = run_iconv("UTF-8", from, in, n, &len, &bad, &why);
	if (!out) {
		const char *name = k == K_UTF16LE || k == K_UTF16BE ? "UTF-16" : "GB18030";
		if (why == EILSEQ)
			set_err(err, errlen, "invalid %s byte sequence at byte %zu (line %zu)", name, bad,
				line_of(in, bad));
		else if (why == EINVAL)
			set_err(err, errlen, "the text ends inside a %s character (truncated file?)", name);
		else if (why == ENOMEM)
			set_err(err, errlen, "out of memory");
		else
			set_err(err, errlen, "cannot convert from %s: iconv unavailable", name);
		return NULL;
	}
	/* A GB18030 BOM (84 31 95 33) or UTF-16 BOM decodes to U+FEFF. */
	if (len >= 3 && (unsigned char)out[0] == 0xEF && (unsigned char)out[1] == 0xBB &&
	    (unsigned char)out[2] == 0xBF) {
		memmove(out, out + 3, len - 3 + 1);
		len -= 3;
	}
	if (reject_nul(out, len, err, errlen)) {
		free(out);
		return NULL;
	}
	if (outlen)
		*outlen = len;
	return out;
}

/* The code point starting at s (valid UTF-8 assumed). */
static unsigned long utf8_codepoint(const unsigned char *s, size_t n)
{
	if (!n)
		return 0;
	if (s[0] < 0x80 || n < 2)
		return s[0];
	if (s[0] < 0xE0)
		return ((s[0] & 0x1Ful) << 6) | (s[1] & 0x3F);
	if (s[0] < 0xF0 || n < 4)
		return n < 3 ? s[0] : ((s[0] & 0x0Ful) << 12) | ((s[1] & 0x3Ful) << 6) | (s[2] & 0x3F);
	return ((s[0] & 0x07ul) << 18) | ((s[1] & 0x3Ful) << 12) | ((s[2] & 0x3Ful) << 6) | (s[3] & 0x3F);
}

char *textenc_from_utf8(const char *in, size_t n, const char *charset, size_t *outlen, char *err, size_t errlen)
{
	if (outlen)
		*outlen = 0;
	if (!in && n) {
		set_err(err, errlen, "no input");
		return NULL;
	}
	if (!in)
		in = "";
	enum kind k = charset_kind(charset);
	if (k == K_UNKNOWN) {
		set_err(err, errlen, "unsupported charset \"%.40s\" (use utf-8, gb18030 or gbk)", charset);
		return NULL;
	}
	size_t bad = utf8_bad_offset((const unsigned char *)in, n);
	if (bad < n) {
		set_err(err, errlen, "invalid UTF-8 at byte %zu (line %zu)", bad, line_of(in, bad));
		return NULL;
	}
	if (k == K_DETECT || k == K_UTF8)
		return copy_bytes(in, n, outlen, err, errlen);
	const unsigned char *u = (const unsigned char *)in;
	if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
		in += 3;
		n -= 3;
	}
	size_t len = 0;
	int why = 0;
	char *out = run_iconv(kind_iconv_name(k), "UTF-8", in, n, &len, &bad, &why);
	if (!out) {
		if (why == EILSEQ && bad < n)
			set_err(err, errlen, "character U+%04lX at byte %zu (line %zu) cannot be written in %s",
				utf8_codepoint((const unsigned char *)in + bad, n - bad), bad, line_of(in, bad),
				kind_iconv_name(k));
		else if (why == ENOMEM)
			set_err(err, errlen, "out of memory");
		else
			set_err(err, errlen, "cannot convert to %s", kind_iconv_name(k));
		return NULL;
	}
	if (outlen)
		*outlen = len;
	return out;
}
