/*
 * planimport.c - decode + planparse + fingerprint (see planimport.h).
 */
#include "plantrack/planimport.h"
#include "plantrack/hash.h"
#include "plantrack/planparse.h"
#include "plantrack/textenc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *planimport_build(const char *text, size_t len, const char *charset, const char *title,
			 int year, json_t **warnings, char *err, size_t errlen)
{
	*warnings = NULL;
	size_t ulen;
	char *utf8 = textenc_to_utf8(text, len, charset, &ulen, err, errlen);
	if (!utf8)
		return NULL;
	json_t *doc = planparse_parse(utf8, ulen, year, err, errlen);
	if (!doc) {
		free(utf8);
		return NULL;
	}
	json_t *tasks = json_object_get(doc, "tasks");
	if (json_array_size(tasks) == 0) {
		snprintf(err, errlen, "no numbered work items found (expected headings such as 一、 (一) 1. (1))");
		json_decref(doc);
		free(utf8);
		return NULL;
	}
	char sha[65];
	pt_sha256_hex(utf8, ulen, sha);
	const char *doc_title = json_string_value(json_object_get(doc, "title"));
	json_t *plan = json_object();
	json_object_set_new(plan, "title", json_string(title && *title ? title : doc_title ? doc_title : "导入的工作计划"));
	json_t *y = json_object_get(doc, "year");
	json_object_set_new(plan, "year", year ? json_integer(year) : json_is_integer(y) ? json_incref(y) : json_null());
	json_object_set_new(plan, "source_text", json_stringn(utf8, ulen));
	json_object_set_new(plan, "source_sha256", json_string(sha));
	json_object_set(plan, "tasks", tasks);
	json_object_set(plan, "counts", json_object_get(doc, "counts"));
	*warnings = json_incref(json_object_get(doc, "warnings"));
	if (!*warnings)
		*warnings = json_array();
	json_decref(doc);
	free(utf8);
	return plan;
}
