/*
 * validate.c - table-driven JSON request validation (see validate.h).
 */
#include "plantrack/validate.h"

#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 16

/* rule: the error's code for translations (i18n.h); params (stolen, may be
 * NULL) what its message names. */
static void add_error(json_t *errors, const char *field, const char *message, const char *rule, json_t *params)
{
	json_t *e = json_pack("{s:s,s:s,s:s}", "field", field, "message", message, "rule", rule);
	if (params)
		json_object_set_new(e, "params", params);
	json_array_append_new(errors, e);
}

static json_t *expect(const char *type)
{
	return json_pack("{s:s}", "expected", type);
}

int validate_date(const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= days[m - 1] + (m == 2 && leap);
}

int validate_uuid(const char *s)
{
	if (!s || strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

static const struct vfield *find_field(const struct vfield *spec, const char *name)
{
	for (; spec->name; spec++)
		if (!strcmp(spec->name, name))
			return spec;
	return NULL;
}

static int check_object(json_t *obj, const struct vfield *spec, const char *path, json_t *errors,
			char *unknown, size_t unknownlen, int depth);

static void check_string(json_t *v, const struct vfield *f, const char *field, json_t *errors)
{
	char msg[96];
	if (!json_is_string(v)) {
		add_error(errors, field, "must be a string", "type", expect("string"));
		return;
	}
	size_t max = f->max > 0 ? (size_t)f->max : 10000;
	if (json_string_length(v) > max) {
		snprintf(msg, sizeof msg, "must be at most %zu bytes", max);
		add_error(errors, field, msg, "max-bytes", json_pack("{s:I}", "max", (json_int_t)max));
	} else if (f->required && json_string_length(v) == 0) {
		add_error(errors, field, "must not be empty", "empty", NULL);
	}
}

static void check_number(json_t *v, const struct vfield *f, const char *field, json_t *errors)
{
	char msg[96];
	int is_int = json_is_integer(v);
	if (f->type == V_INT ? !is_int : !json_is_number(v)) {
		add_error(errors, field, f->type == V_INT ? "must be an integer" : "must be a number", "type",
			  expect(f->type == V_INT ? "integer" : "number"));
		return;
	}
	double n = json_number_value(v);
	if ((f->min != 0 || f->max != 0) && (n < f->min || n > f->max)) {
		snprintf(msg, sizeof msg, "must be from %g to %g", f->min, f->max);
		add_error(errors, field, msg, "range", json_pack("{s:f,s:f}", "min", f->min, "max", f->max));
	}
}

static void check_enum(json_t *v, const struct vfield *f, const char *field, json_t *errors)
{
	if (json_is_string(v))
		for (const char *const *e = f->enums; *e; e++)
			if (!strcmp(*e, json_string_value(v)))
				return;
	char msg[256] = "must be one of:";
	for (const char *const *e = f->enums; *e; e++) {
		strncat(msg, " ", sizeof msg - strlen(msg) - 1);
		strncat(msg, *e, sizeof msg - strlen(msg) - 1);
	}
	size_t skip = strlen("must be one of: ");
	add_error(errors, field, msg, "enum", json_pack("{s:s}", "values", strlen(msg) > skip ? msg + skip : ""));
}

static void check_strings(json_t *v, const struct vfield *f, const char *field, json_t *errors)
{
	if (!json_is_array(v)) {
		add_error(errors, field, "must be an array of strings", "type", expect("strings"));
		return;
	}
	size_t max = f->max > 0 ? (size_t)f->max : 200, i;
	json_t *item;
	char sub[300];
	json_array_foreach(v, i, item) {
		snprintf(sub, sizeof sub, "%s[%zu]", field, i);
		if (!json_is_string(item))
			add_error(errors, sub, "must be a string", "type", expect("string"));
		else if (json_string_length(item) > max)
			add_error(errors, sub, "is too long", "max-bytes", json_pack("{s:I}", "max", (json_int_t)max));
	}
}

static int check_value(json_t *v, const struct vfield *f, const char *field, json_t *errors,
		       char *unknown, size_t unknownlen, int depth)
{
	if (json_is_null(v)) {
		if (!f->nullable)
			add_error(errors, field, "must not be null", "null", NULL);
		return VALIDATE_OK;
	}
	switch (f->type) {
	case V_STRING: check_string(v, f, field, errors); break;
	case V_INT:
	case V_NUMBER: check_number(v, f, field, errors); break;
	case V_BOOL:
		if (!json_is_boolean(v))
			add_error(errors, field, "must be true or false", "type", expect("boolean"));
		break;
	case V_DATE:
		if (!json_is_string(v) || !validate_date(json_string_value(v)))
			add_error(errors, field, "must be a real date YYYY-MM-DD", "date", NULL);
		break;
	case V_UUID:
		if (!json_is_string(v) || !validate_uuid(json_string_value(v)))
			add_error(errors, field, "must be a UUID", "uuid", NULL);
		break;
	case V_ENUM: check_enum(v, f, field, errors); break;
	case V_STRINGS: check_strings(v, f, field, errors); break;
	case V_OBJECT:
		if (!json_is_object(v)) {
			add_error(errors, field, "must be an object", "type", expect("object"));
			break;
		}
		return check_object(v, f->items, field, errors, unknown, unknownlen, depth + 1);
	case V_OBJECTS: {
		if (!json_is_array(v)) {
			add_error(errors, field, "must be an array of objects", "type", expect("objects"));
			break;
		}
		if (f->max > 0 && json_array_size(v) > (size_t)f->max) {
			add_error(errors, field, "has too many items", "too-many", NULL);
			break;
		}
		size_t i;
		json_t *item;
		char sub[300];
		json_array_foreach(v, i, item) {
			snprintf(sub, sizeof sub, "%s[%zu]", field, i);
			if (!json_is_object(item)) {
				add_error(errors, sub, "must be an object", "type", expect("object"));
				continue;
			}
			if (check_object(item, f->items, sub, errors, unknown, unknownlen, depth + 1) == VALIDATE_UNKNOWN)
				return VALIDATE_UNKNOWN;
		}
		break;
	}
	}
	return VALIDATE_OK;
}

static int check_object(json_t *obj, const struct vfield *spec, const char *path, json_t *errors,
			char *unknown, size_t unknownlen, int depth)
{
	char field[256];
	if (depth > MAX_DEPTH) {
		add_error(errors, path, "is nested too deeply", "too-deep", NULL);
		return VALIDATE_INVALID;
	}
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		snprintf(field, sizeof field, "%s%s%s", path, *path ? "." : "", key);
		const struct vfield *f = find_field(spec, key);
		if (!f) {
			snprintf(unknown, unknownlen, "%s", field);
			return VALIDATE_UNKNOWN;
		}
		if (check_value(v, f, field, errors, unknown, unknownlen, depth) == VALIDATE_UNKNOWN)
			return VALIDATE_UNKNOWN;
	}
	for (const struct vfield *f = spec; f->name; f++) {
		if (f->required && !json_object_get(obj, f->name)) {
			snprintf(field, sizeof field, "%s%s%s", path, *path ? "." : "", f->name);
			add_error(errors, field, "is required", "required", NULL);
		}
	}
	return VALIDATE_OK;
}

int validate_object(json_t *obj, const struct vfield *spec, const char *path, json_t *errors,
		    char *unknown, size_t unknownlen)
{
	size_t before = json_array_size(errors);
	int rc = check_object(obj, spec, path, errors, unknown, unknownlen, 0);
	if (rc == VALIDATE_UNKNOWN)
		return rc;
	return json_array_size(errors) > before ? VALIDATE_INVALID : VALIDATE_OK;
}
