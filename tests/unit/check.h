/*
 * check.h - the few macros the C unit tests share: CHECK prints each
 * failure with its line; check_summary() prints "N passed, M failed" and
 * gives the exit code.
 */
#ifndef PLANTRACK_TEST_CHECK_H
#define PLANTRACK_TEST_CHECK_H

#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond) do { \
	if (cond) { check_passed++; } \
	else { check_failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
