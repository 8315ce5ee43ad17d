/*
 * csv.h - RFC 4180 comma-separated values: a reader that turns a whole
 * document into a table of borrowed NUL-terminated fields, and a writer that
 * appends records to a caller-given sink (csv_sink) the way Excel reads them.
 *
 * Reader rules: fields are separated by ',' and records by CRLF, LF or a lone
 * CR (old Mac Excel). A field that starts with '"' is quoted: it may hold
 * commas, CR, LF, and "" for one quote; text after its closing quote is kept
 * literally (as Excel does). A '"' inside an unquoted field is literal. A
 * leading UTF-8 BOM is skipped. A trailing newline does not make an empty
 * record, and fully empty lines are skipped (a line of only commas is a record
 * of empty fields). Bytes are passed through: no charset conversion.
 * Pure: no I/O, no global state, thread safe; memory is linear in the input.
 */
#ifndef PLANTRACK_CSV_H
#define PLANTRACK_CSV_H

#include <stddef.h>


/* Opaque; owns every field string. Freed with csv_table_free. */
typedef struct csv_table csv_table;

/*
 * Parses text[0..n) (need not be NUL-terminated). Returns 0 and a new table
 * in *out that the CALLER FREES with csv_table_free; or -1, *out = NULL and a
 * one-line message naming the line in err[errlen] (err may be NULL): an
 * unterminated quoted field, a NUL byte, or out of memory.
 */
int csv_parse(const char *text, size_t n, csv_table **out, char *err, size_t errlen);

/* Number of records. */
size_t csv_rows(const csv_table *t);

/* Number of fields in record row (>= 1); 0 when row is out of range. */
size_t csv_cols(const csv_table *t, size_t row);

/* Field text, unquoted, NUL-terminated, BORROWED from t (valid until
 * csv_table_free); NULL when row or col is out of range. */
const char *csv_field(const csv_table *t, size_t row, size_t col);

/* Byte length of the field (fields cannot hold NUL, so this is strlen). */
size_t csv_field_len(const csv_table *t, size_t row, size_t col);

/* 1-based source line on which the record starts; 0 when out of range.
 * Line breaks inside quoted fields count, so this is the editor's line. */
size_t csv_line(const csv_table *t, size_t row);

/* Frees t and all its fields. NULL is fine. */
void csv_table_free(csv_table *t);

/*
 * Where the writer puts its bytes: appends len bytes of data for ctx and
 * returns 0, or -1 when it cannot (the row then stops with -1).
 */
typedef int (*csv_sink)(void *ctx, const void *data, size_t len);

/*
 * Appends one record of n fields to sink, terminated by CRLF. A field is
 * quoted when it holds , " CR or LF, or starts or ends with a space or tab;
 * quotes are doubled. A NULL field is written empty. A record of one empty
 * field is written as "" so that it reads back as a record. Returns 0, or -1
 * when sink is NULL or fails (the sink may then hold part of the record).
 */
int csv_write_row(csv_sink sink, void *ctx, const char *const *fields, size_t n);

/* Flags for csv_write_row_ex. */
#define CSV_WRITE_NEUTRALIZE_FORMULAS 1 /* prefix ' to fields starting with = + - @ TAB CR (OWASP CSV
                                          injection), so Excel shows them as text instead of running them */

/* csv_write_row with flags (0 = exactly csv_write_row). */
int csv_write_row_ex(csv_sink sink, void *ctx, const char *const *fields, size_t n, int flags);

/* A growable byte string for csv_buf_sink; zero-initialise it, free data when done. */
struct csv_buf {
	char *data; /* NUL-terminated after any successful append; owned, caller frees */
	size_t len, cap;
};

/* A csv_sink appending to the struct csv_buf ctx; -1 when memory runs out. */
int csv_buf_sink(void *ctx, const void *data, size_t len);

#endif
