/*
 * validate.h - checks request JSON against a static field table.
 *
 * An unknown field is a 400 naming the field; every wrong type, range,
 * length, date or enum value is collected as {"field","message"} for one 422.
 * Pure: no I/O, no allocation beyond the errors array the caller owns.
 */
#ifndef PLANTRACK_VALIDATE_H
#define PLANTRACK_VALIDATE_H

#include <jansson.h>
#include <stddef.h>

enum vtype {
	V_STRING,     /* max = max length in bytes (0 = 10000) */
	V_INT,        /* min..max */
	V_NUMBER,     /* min..max (both 0 = unbounded) */
	V_BOOL,
	V_DATE,       /* "YYYY-MM-DD", a real date */
	V_UUID,
	V_ENUM,       /* one of enums[] */
	V_STRINGS,    /* array of strings, each up to max (0 = 200) bytes */
	V_OBJECTS,    /* array of objects checked against items */
	V_OBJECT,     /* object checked against items */
};

struct vfield {
	const char *name;
	enum vtype type;
	int required;
	int nullable;
	double min, max;
	const char *const *enums;
	const struct vfield *items;   /* V_OBJECTS / V_OBJECT; NULL-name-terminated table */
};

enum { VALIDATE_OK = 0, VALIDATE_UNKNOWN = 400, VALIDATE_INVALID = 422 };

/* Checks obj against spec (a table ending with a {NULL} entry). path prefixes
 * field names ("tasks[0].title"); pass "" at top level. Appends to errors.
 * On an unknown field writes its path to unknown and returns VALIDATE_UNKNOWN
 * at once; otherwise VALIDATE_INVALID when errors grew, else VALIDATE_OK. */
int validate_object(json_t *obj, const struct vfield *spec, const char *path, json_t *errors,
		    char *unknown, size_t unknownlen);
/* 1 when s is a real calendar date "YYYY-MM-DD". */
int validate_date(const char *s);
/* 1 when s is 36-char UUID text. */
int validate_uuid(const char *s);

#endif
