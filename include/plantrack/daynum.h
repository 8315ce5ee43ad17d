/*
 * daynum.h - strict ISO dates ("YYYY-MM-DD") as day numbers, so that periods,
 * working-day calendars and ledgers can count and compare days.
 *
 * Day number 0 is 1970-01-01; the supported range is 1900-01-01..2999-12-31.
 * Pure: no I/O, no allocation, no locale, thread safe. Nothing is owned.
 */
#ifndef PLANTRACK_DAYNUM_H
#define PLANTRACK_DAYNUM_H

/* Day number of y-m-d. The caller guarantees a real date (dates_valid). */
long daynum_from_ymd(int y, int m, int d);

/* The date of day number n. */
void daynum_to_ymd(long n, int *y, int *m, int *d);

/*
 * Parses exactly "YYYY-MM-DD" (ten ASCII characters, nothing around them).
 * Returns 0 and the day number in *out, 1 when the shape is right but the date
 * is not real (2025-02-30) or outside 1900..2999, -1 when the shape is wrong.
 * s may be NULL (-1). *out is written only on 0.
 */
int daynum_parse(const char *s, long *out);

/* Writes "YYYY-MM-DD" and a NUL into out[11]. */
void daynum_format(long n, char out[11]);

/* ISO weekday of day number n: 1 = Monday .. 7 = Sunday. */
int daynum_weekday(long n);

#endif
