/*
 * fuzz_planparse.c - libFuzzer target for the plan-document parser: any
 * bytes into planparse_parse (with and without a year hint). Any crash, hang,
 * sanitizer report or broken invariant (abort) is a finding: a result is an
 * object whose counts add up to the tasks in the tree and whose every task
 * has a non-empty title; a failure always leaves a message.
 */
#include "plantrack/planparse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ASSERT(c) do { if (!(c)) abort(); } while (0)

static size_t check_tasks(json_t *tasks, int depth, size_t *per_depth)
{
	size_t i, n = 0;
	json_t *t;
	ASSERT(json_is_array(tasks) && depth <= 16);
	json_array_foreach(tasks, i, t) {
		const char *title = json_string_value(json_object_get(t, "title"));
		ASSERT(title && *title && strlen(title) <= 500);
		ASSERT(json_integer_value(json_object_get(t, "level")) == depth);
		ASSERT(json_integer_value(json_object_get(t, "seq")) == (json_int_t)i + 1);
		const char *code = json_string_value(json_object_get(t, "code"));
		ASSERT(code && strlen(code) <= 64);
		const char *due = json_string_value(json_object_get(t, "due_date"));
		ASSERT(!due || strlen(due) == 10);
		ASSERT(json_array_size(json_object_get(t, "targets")) <= 200);
		ASSERT(json_array_size(json_object_get(t, "milestones")) <= 200);
		per_depth[depth < 16 ? depth : 15]++;
		n += 1 + check_tasks(json_object_get(t, "children"), depth + 1, per_depth);
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	json_t *doc = planparse_parse((const char *)data, size, size % 3 ? 0 : 2025, err, sizeof err);
	if (!doc) {
		ASSERT(err[0]);
		return 0;
	}
	size_t per_depth[16] = { 0 };
	size_t n = check_tasks(json_object_get(doc, "tasks"), 1, per_depth);
	json_t *counts = json_object_get(doc, "counts");
	size_t sum = 0, i;
	json_t *c;
	json_array_foreach(counts, i, c) {
		ASSERT(i + 1 < 16 && (size_t)json_integer_value(c) == per_depth[i + 1]);
		sum += (size_t)json_integer_value(c);
	}
	ASSERT(sum == n);
	ASSERT(json_is_array(json_object_get(doc, "warnings")));
	char *s = json_dumps(doc, JSON_COMPACT);
	ASSERT(s);
	free(s);
	json_decref(doc);
	return 0;
}
