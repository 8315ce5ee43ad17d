/*
 * test_validate.c - request JSON validation: unknown fields, types,
 * ranges, dates, enums, nesting.
 */
#include "check.h"
#include "plantrack/tasks.h"
#include "plantrack/validate.h"

#include <string.h>

static int run(const char *json, const struct vfield *spec, json_t **errors, char *unknown)
{
	json_t *doc = json_loads(json, 0, NULL);
	*errors = json_array();
	unknown[0] = 0;
	int rc = validate_object(doc, spec, "", *errors, unknown, 256);
	json_decref(doc);
	return rc;
}

static const char *field_at(json_t *errors, size_t i)
{
	return json_string_value(json_object_get(json_array_get(errors, i), "field"));
}

int main(void)
{
	json_t *e;
	char unknown[256];
	CHECK(validate_date("2024-02-29") && !validate_date("2025-02-29") && !validate_date("2025-13-01"));
	CHECK(!validate_date("2025-1-01") && !validate_date("2025-04-31") && validate_date("2025-12-31"));
	CHECK(validate_uuid("1b4e28ba-2fa1-11d2-883f-0016d3cca427") && !validate_uuid("1b4e28ba2fa111d2883f0016d3cca427"));

	CHECK(run("{\"title\":\"新增网格驿站\",\"progress\":30,\"due_date\":\"2025-06-30\"}", tasks_task_fields, &e, unknown) == VALIDATE_OK);
	json_decref(e);

	CHECK(run("{\"title\":\"x\",\"colour\":\"red\"}", tasks_task_fields, &e, unknown) == VALIDATE_UNKNOWN);
	CHECK(!strcmp(unknown, "colour"));
	json_decref(e);

	CHECK(run("{\"title\":\"x\",\"children\":[{\"title\":\"y\",\"bogus\":1}]}", tasks_task_fields, &e, unknown) == VALIDATE_UNKNOWN);
	CHECK(!strcmp(unknown, "children[0].bogus"));
	json_decref(e);

	CHECK(run("{\"title\":5,\"progress\":101,\"due_date\":\"2025-02-30\",\"status\":\"late\",\"tags\":[1]}",
		  tasks_task_fields, &e, unknown) == VALIDATE_INVALID);
	CHECK(json_array_size(e) == 5);
	CHECK(!strcmp(field_at(e, 0), "title"));
	json_decref(e);

	CHECK(run("{}", tasks_task_fields, &e, unknown) == VALIDATE_INVALID);
	CHECK(json_array_size(e) == 1 && !strcmp(field_at(e, 0), "title"));
	json_decref(e);

	CHECK(run("{\"title\":\"a\",\"progress\":1.5}", tasks_task_fields, &e, unknown) == VALIDATE_INVALID);
	json_decref(e);
	CHECK(run("{\"title\":\"a\",\"progress\":null}", tasks_task_fields, &e, unknown) == VALIDATE_INVALID);
	json_decref(e);
	CHECK(run("{\"title\":\"a\",\"due_date\":null,\"body\":null}", tasks_task_fields, &e, unknown) == VALIDATE_OK);
	json_decref(e);

	CHECK(run("{\"title\":\"a\",\"targets\":[{\"value\":\"ten\"},{\"value\":10,\"comparator\":\">=\"}]}",
		  tasks_task_fields, &e, unknown) == VALIDATE_INVALID);
	CHECK(json_array_size(e) == 1 && !strcmp(field_at(e, 0), "targets[0].value"));
	json_decref(e);

	CHECK(run("{\"title\":\"a\",\"children\":[{\"title\":\"\"}]}", tasks_task_fields, &e, unknown) == VALIDATE_INVALID);
	CHECK(!strcmp(field_at(e, 0), "children[0].title"));
	json_decref(e);

	/* Deep nesting is refused, not recursed without bound. */
	char deep[4096] = "{\"title\":\"a\"";
	for (int i = 0; i < 40; i++)
		strcat(deep, ",\"children\":[{\"title\":\"a\"");
	for (int i = 0; i < 40; i++)
		strcat(deep, "}]");
	strcat(deep, "}");
	CHECK(run(deep, tasks_task_fields, &e, unknown) == VALIDATE_INVALID);
	json_decref(e);
	return check_summary();
}
