/*
 * fileio.c - whole-file reads (see fileio.h).
 */
#include "plantrack/fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *fileio_read(const char *path, size_t *len)
{
	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0, got;
	char *buf = malloc(cap + 1);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				errno = ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	int failed = buf && ferror(f);
	if (f != stdin)
		fclose(f);
	if (failed) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	if (buf) {
		buf[n] = 0;
		if (len)
			*len = n;
	}
	return buf;
}
