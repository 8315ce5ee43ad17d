/*
 * daynum.c - ISO dates to day numbers and back (see daynum.h), with the
 * civil-from-days arithmetic of the proleptic Gregorian calendar.
 */
#include "plantrack/daynum.h"
#include "plantrack/dates.h"


long daynum_from_ymd(int y, int m, int d)
{
	/* Years start in March so that the leap day is the year's last. */
	long yy = y - (m <= 2);
	long era = (yy >= 0 ? yy : yy - 399) / 400;
	long yoe = yy - era * 400;
	long mp = (m + 9) % 12;
	long doy = (153 * mp + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void daynum_to_ymd(long n, int *y, int *m, int *d)
{
	n += 719468;
	long era = (n >= 0 ? n : n - 146096) / 146097;
	long doe = n - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	long dd = doy - (153 * mp + 2) / 5 + 1;
	long mm = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (mm <= 2));
	*m = (int)mm;
	*d = (int)dd;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int daynum_parse(const char *s, long *out)
{
	int y, m, d;
	if (!s || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &m) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || s[10])
		return -1;
	if (!dates_valid(y, m, d))
		return 1;
	*out = daynum_from_ymd(y, m, d);
	return 0;
}

void daynum_format(long n, char out[11])
{
	int y, m, d;
	daynum_to_ymd(n, &y, &m, &d);
	const int v[3] = { y, m, d }, w[3] = { 4, 2, 2 };
	char *o = out;
	for (int i = 0; i < 3; i++) {
		if (i)
			*o++ = '-';
		for (int k = w[i] - 1, x = v[i]; k >= 0; k--, x /= 10)
			o[k] = (char)('0' + x % 10);
		o += w[i];
	}
	*o = 0;
}

int daynum_weekday(long n)
{
	/* 1970-01-01 was a Thursday (4). */
	long w = (n + 3) % 7;
	if (w < 0)
		w += 7;
	return (int)w + 1;
}
