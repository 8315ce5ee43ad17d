/*
 * fileio.h - reading a whole file into memory (start-up and command line
 * only: it blocks).
 */
#ifndef PLANTRACK_FILEIO_H
#define PLANTRACK_FILEIO_H

#include <stddef.h>

/* The file's bytes plus a terminating NUL, malloc'd (caller frees); "-" reads
 * standard input. NULL with errno set when it cannot be read. *len may be NULL. */
char *fileio_read(const char *path, size_t *len);

#endif
