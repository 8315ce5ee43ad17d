/*
 * textenc.h - character sets of uploaded text: UTF-8 validation, and
 * conversion between UTF-8 and the Chinese charsets Excel and Word write
 * (GB18030 and its subsets GBK / GB2312), with BOM handling.
 *
 * Pure: no I/O, no global state (iconv descriptors are per call, so every
 * function is thread safe). Charset names, case-insensitive:
 *   "utf-8" | "utf8" | "gb18030" | "gbk" | "gb2312" | "cp936".
 * GBK and GB2312 input is decoded with the GB18030 decoder (a byte-superset,
 * as browsers do).
 */
#ifndef PLANTRACK_TEXTENC_H
#define PLANTRACK_TEXTENC_H

#include <stddef.h>

/* 1 if s[0..n) is valid UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), 0 otherwise. NUL bytes count as valid. */
int textenc_is_utf8(const char *s, size_t n);

/* 1 if charset is one of the names above (NULL and "" count as "detect"). */
int textenc_charset_known(const char *charset);

/*
 * Converts in[0..n) to UTF-8. Returns a malloc'd, NUL-terminated string the
 * CALLER FREES, its length (without the NUL) in *outlen (may be NULL). A
 * leading byte order mark is stripped.
 *   charset NULL/"": detect - a UTF-8 BOM or valid UTF-8 means UTF-8, a
 *     UTF-16 BOM means UTF-16, anything else is decoded as GB18030.
 *   A UTF-8 BOM wins over a GB label (Excel "CSV UTF-8" sent as gbk).
 * The output never holds a NUL byte: text containing one is rejected.
 * On error returns NULL and writes a one-line message (with the byte offset
 * and line of the first bad byte) into err[errlen] (err may be NULL).
 */
char *textenc_to_utf8(const char *in, size_t n, const char *charset, size_t *outlen, char *err,
		      size_t errlen);

/*
 * Converts UTF-8 in[0..n) to charset. Same ownership and errors as above
 * (the CALLER FREES the result; NUL-terminated for convenience, *outlen is the
 * byte length). For a GB target a leading UTF-8 BOM is dropped; a character
 * the target cannot represent (only possible with gbk/gb2312) is an error.
 * For a UTF-8 target the bytes are validated and copied unchanged.
 */
char *textenc_from_utf8(const char *in, size_t n, const char *charset, size_t *outlen, char *err,
			size_t errlen);

#endif
