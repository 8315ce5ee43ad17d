/*
 * workflow.c - accountability routes (see workflow.h): units as a tree,
 * 签收/退回, plan approval, change requests (延期申请) and evidence files
 * (佐证材料). Validation here, every rule in one pt_* SQL function.
 */
#include "plantrack/workflow.h"
#include "plantrack/config.h"
#include "plantrack/db.h"
#include "plantrack/http.h"
#include "plantrack/router.h"
#include "plantrack/validate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const q_none[] = { NULL };
static const char *const q_changes[] = { "state", "task", "plan", "limit", "cursor", NULL };
static const char *const q_upload[] = { "filename", NULL };


/* ---- units ---- */

static const struct vfield unit_fields[] = {
	{ "name", V_STRING, 1, 0, 0, 200, NULL, NULL },
	{ "parent_id", V_UUID, 0, 1, 0, 0, NULL, NULL },
	{ "parent", V_STRING, 0, 1, 0, 200, NULL, NULL },
	{ "kind", V_STRING, 0, 1, 0, 50, NULL, NULL },
	{ "leader", V_STRING, 0, 1, 0, 100, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield unit_patch_fields[] = {
	{ "name", V_STRING, 0, 0, 0, 200, NULL, NULL },
	{ "parent_id", V_UUID, 0, 1, 0, 0, NULL, NULL },
	{ "parent", V_STRING, 0, 1, 0, 200, NULL, NULL },
	{ "kind", V_STRING, 0, 1, 0, 50, NULL, NULL },
	{ "leader", V_STRING, 0, 1, 0, 100, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static void handle_units(struct req *r)
{
	if (http_check_query(r, q_none))
		return;
	http_call(r, SQL_UNITS_LIST, json_object(), NULL);
}

static void handle_unit_get(struct req *r)
{
	const char *id = http_id_param(r, "unit");
	if (id && !http_check_query(r, q_none))
		http_call(r, SQL_UNIT_GET, json_pack("{s:s}", "id", id), NULL);
}

static void handle_unit_create(struct req *r)
{
	if (http_check_body(r, unit_fields))
		return;
	json_t *args = json_pack("{s:o,s:O}", "actor", http_actor(r), "unit", r->json);
	http_call_write(r, SQL_UNIT_CREATE, args, NULL);
}

static void handle_unit_patch(struct req *r)
{
	const char *id = http_id_param(r, "unit");
	if (!id || http_check_body(r, unit_patch_fields))
		return;
	if (json_object_size(r->json) == 0) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "the patch changes nothing",
				   json_pack("[{s:s,s:s}]", "field", "", "message", "send at least one field"));
		return;
	}
	json_t *args = json_pack("{s:o,s:s,s:O}", "actor", http_actor(r), "id", id, "patch", r->json);
	if (http_if_match(r, args) < 0) {
		json_decref(args);
		return;
	}
	http_call(r, SQL_UNIT_PATCH, args, NULL);
}

/* ---- 签收 / 退回, plan approval ---- */

static const struct vfield sign_fields[] = {
	{ "note", V_STRING, 0, 1, 0, 5000, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield return_fields[] = {
	{ "reason", V_STRING, 1, 0, 1, 5000, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield approve_plan_fields[] = {
	{ "owner", V_STRING, 0, 1, 0, 100, NULL, NULL },
	{ "note", V_STRING, 0, 1, 0, 5000, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

/* POST with a small JSON body on /v1/<what>/{id}/...: the body's keys merged into args. */
static void call_on(struct req *r, const char *what, const struct vfield *spec, enum sql_call call, int if_match)
{
	const char *id = http_id_param(r, what);
	if (!id || http_check_body(r, spec))
		return;
	json_t *args = json_pack("{s:o,s:o,s:s}", "actor", http_actor(r), "cfg", http_cfg(r), "id", id);
	json_object_update(args, r->json);
	if (if_match && http_if_match(r, args) < 0) {
		json_decref(args);
		return;
	}
	http_call_write(r, call, args, NULL);
}

static void handle_sign(struct req *r)
{
	call_on(r, "task", sign_fields, SQL_TASK_SIGN, 1);
}

static void handle_return(struct req *r)
{
	call_on(r, "task", return_fields, SQL_TASK_RETURN, 1);
}

static void handle_approve_plan(struct req *r)
{
	call_on(r, "plan", approve_plan_fields, SQL_PLAN_APPROVE, 0);
}

/* ---- change requests ---- */

static const struct vfield target_in_fields[] = {
	{ "label", V_STRING, 0, 1, 0, 200, NULL, NULL },
	{ "value", V_NUMBER, 1, 0, -1e15, 1e15, NULL, NULL },
	{ "unit", V_STRING, 0, 1, 0, 32, NULL, NULL },
	{ "comparator", V_ENUM, 0, 0, 0, 0, (const char *const[]){ ">=", "<=", "=", NULL }, NULL },
	{ "text", V_STRING, 0, 1, 0, 500, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield milestone_in_fields[] = {
	{ "title", V_STRING, 1, 0, 0, 500, NULL, NULL },
	{ "due_date", V_DATE, 0, 1, 0, 0, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield change_fields[] = {
	{ "title", V_STRING, 0, 0, 1, 500, NULL, NULL },
	{ "due_date", V_DATE, 0, 1, 0, 0, NULL, NULL },
	{ "targets", V_OBJECTS, 0, 0, 0, 200, NULL, target_in_fields },
	{ "milestones", V_OBJECTS, 0, 0, 0, 200, NULL, milestone_in_fields },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield change_request_fields[] = {
	{ "changes", V_OBJECT, 1, 0, 0, 0, NULL, change_fields },
	{ "reason", V_STRING, 1, 0, 1, 5000, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct vfield decide_fields[] = {
	{ "comment", V_STRING, 0, 1, 0, 5000, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static void handle_change_create(struct req *r)
{
	const char *id = http_id_param(r, "task");
	if (!id || http_check_body(r, change_request_fields))
		return;
	json_t *args = json_pack("{s:o,s:o,s:s,s:O}", "actor", http_actor(r), "cfg", http_cfg(r), "id", id,
				 "request", r->json);
	http_call_write(r, SQL_CHANGE_CREATE, args, NULL);
}

static void decide(struct req *r, const char *decision)
{
	const char *id = http_id_param(r, "change request");
	if (!id || http_check_body(r, decide_fields))
		return;
	json_t *args = json_pack("{s:o,s:o,s:s,s:s}", "actor", http_actor(r), "cfg", http_cfg(r), "id", id,
				 "decision", decision);
	json_object_update(args, r->json);
	http_call_write(r, SQL_CHANGE_DECIDE, args, NULL);
}

static void handle_change_approve(struct req *r)
{
	decide(r, "approve");
}

static void handle_change_reject(struct req *r)
{
	decide(r, "reject");
}

static void handle_changes(struct req *r)
{
	static const char *const states[] = { "pending", "approved", "rejected", NULL };
	if (http_check_query(r, q_changes))
		return;
	json_t *args = json_object(), *errors = json_array();
	const char *state = http_query(r, "state"), *task = http_query(r, "task"), *plan = http_query(r, "plan");
	int ok = !state;
	for (int i = 0; state && states[i]; i++)
		ok |= !strcmp(state, states[i]);
	if (!ok)
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "state", "message",
							"must be pending, approved or rejected"));
	else if (state)
		json_object_set_new(args, "state", json_string(state));
	if (task && !validate_uuid(task))
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "task", "message", "must be a task id"));
	else if (task)
		json_object_set_new(args, "task", json_string(task));
	if (plan && !validate_uuid(plan))
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "plan", "message", "must be a plan id"));
	else if (plan)
		json_object_set_new(args, "plan", json_string(plan));
	http_call_page(r, SQL_CHANGES_LIST, args, errors);
}

/* ---- evidence files ---- */

static int starts(const unsigned char *d, size_t len, const char *magic, size_t n)
{
	return len >= n && !memcmp(d, magic, n);
}

/* Valid UTF-8 text without NUL or control bytes other than tab, LF, CR. */
static int plain_text(const unsigned char *d, size_t len)
{
	size_t i = 0;
	if (starts(d, len, "\xEF\xBB\xBF", 3))
		i = 3;
	while (i < len) {
		unsigned char c = d[i];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
		if (!n || c == 0xC0 || c == 0xC1 || c > 0xF4 || i + n > len)
			return 0;
		unsigned long cp = c & (0x7F >> n);
		for (size_t k = 1; k < n; k++) {
			if ((d[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (d[i + k] & 0x3F);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return 0;
		i += n;
	}
	return 1;
}

enum magic { M_JPEG, M_PNG, M_GIF, M_WEBP, M_PDF, M_ZIP, M_OLE, M_TEXT };

static const struct {
	const char *type;
	enum magic magic;
} accepted[] = {
	{ "image/jpeg", M_JPEG },
	{ "image/png", M_PNG },
	{ "image/gif", M_GIF },
	{ "image/webp", M_WEBP },
	{ "application/pdf", M_PDF },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml.document", M_ZIP },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", M_ZIP },
	{ "application/vnd.openxmlformats-officedocument.presentationml.presentation", M_ZIP },
	{ "application/vnd.oasis.opendocument.text", M_ZIP },
	{ "application/vnd.oasis.opendocument.spreadsheet", M_ZIP },
	{ "application/zip", M_ZIP },
	{ "application/msword", M_OLE },
	{ "application/vnd.ms-excel", M_OLE },
	{ "application/vnd.ms-powerpoint", M_OLE },
	{ "text/plain", M_TEXT },
};

int attachment_sniff(const char *content_type, const unsigned char *d, size_t len)
{
	if (!content_type)
		return -1;
	size_t tl = strcspn(content_type, "; \t");
	for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
		if (strlen(accepted[i].type) != tl || strncasecmp(accepted[i].type, content_type, tl))
			continue;
		switch (accepted[i].magic) {
		case M_JPEG: return starts(d, len, "\xFF\xD8\xFF", 3);
		case M_PNG: return starts(d, len, "\x89PNG\r\n\x1A\n", 8);
		case M_GIF: return starts(d, len, "GIF87a", 6) || starts(d, len, "GIF89a", 6);
		case M_WEBP: return starts(d, len, "RIFF", 4) && len >= 12 && !memcmp(d + 8, "WEBP", 4);
		case M_PDF: return starts(d, len, "%PDF-", 5);
		case M_ZIP: return starts(d, len, "PK\x03\x04", 4);
		case M_OLE: return starts(d, len, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
		case M_TEXT: return len > 0 && plain_text(d, len);
		}
	}
	return -1;
}

char *attachment_disposition(const char *filename, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	const char *name = filename && *filename ? filename : "attachment";
	o += (size_t)snprintf(out, outlen, "attachment; filename=\"");
	/* the quoted fallback: printable ASCII only, no quote or backslash */
	for (const unsigned char *p = (const unsigned char *)name; *p && o + 2 < outlen && o < outlen / 2; p++)
		out[o++] = (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') ? (char)*p : '_';
	if (o + 40 >= outlen) {
		snprintf(out, outlen, "attachment");
		return out;
	}
	o += (size_t)snprintf(out + o, outlen - o, "\"; filename*=UTF-8''");
	/* RFC 5987 attr-char stays; every other byte is percent-encoded */
	for (const unsigned char *p = (const unsigned char *)name; *p && o + 4 < outlen; p++) {
		if (isalnum(*p) || strchr("!#$&+-.^_`|~", *p)) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = 0;
	return out;
}

static void handle_attachment_add(struct req *r)
{
	const char *id = http_id_param(r, "task");
	if (!id || http_check_query(r, q_upload))
		return;
	const char *ct = http_header(r, "Content-Type");
	const char *filename = http_query(r, "filename");
	json_t *fn = filename ? json_string(filename) : NULL; /* NULL unless valid UTF-8 */
	int fn_ok = fn && *filename && strlen(filename) <= 255;
	json_decref(fn);
	if (!fn_ok) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "name the file: ?filename=NAME",
				   json_pack("[{s:s,s:s}]", "field", "filename", "message",
					     "is required: 1 to 255 bytes of UTF-8"));
		return;
	}
	if (r->body_len == 0) {
		http_reply_problem(r, 422, "validation-failed", "Validation failed", "the file is empty",
				   json_pack("[{s:s,s:s}]", "field", "body", "message", "send the file's bytes"));
		return;
	}
	int sniff = attachment_sniff(ct, (const unsigned char *)r->body, r->body_len);
	if (sniff < 0) {
		http_reply_problem(r, 415, "unsupported-media-type", "Unsupported media type",
				   "evidence files may be JPEG, PNG, GIF, WebP, PDF, office documents (docx/xlsx/pptx, "
				   "doc/xls/ppt, odt/ods, zip) or plain UTF-8 text; send the file's type as Content-Type", NULL);
		return;
	}
	if (sniff == 0) {
		char detail[200];
		snprintf(detail, sizeof detail, "the bytes are not %.*s (their signature does not match)",
			 (int)strcspn(ct, "; \t"), ct);
		http_reply_problem(r, 415, "content-mismatch", "Content does not match its type", detail, NULL);
		return;
	}
	char type[128];
	size_t tl = strcspn(ct, "; \t");
	snprintf(type, sizeof type, "%.*s", (int)(tl < sizeof type ? tl : sizeof type - 1), ct);
	for (char *p = type; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	json_t *args = json_pack("{s:o,s:s,s:s,s:s}", "actor", http_actor(r), "id", id, "filename", filename,
				 "content_type", type);
	char *text = json_dumps(args, JSON_COMPACT);
	json_decref(args);
	const char *params[2] = { text, r->body };
	int lengths[2] = { -1, (int)r->body_len };
	http_call_bin(r, SQL_ATTACHMENT_ADD, 2, params, lengths, 0, NULL);
	free(text);
}

static void on_attachment(struct req *r, PGresult *res)
{
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		http_reply_db_error(r, res);
		return;
	}
	if (PQntuples(res) == 0) {
		http_reply_problem(r, 404, "not-found", "Attachment not found", "no attachment with this id", NULL);
		return;
	}
	char type[256], name[600], disp[2048], etag[80];
	snprintf(type, sizeof type, "%.*s", PQgetlength(res, 0, 0), PQgetvalue(res, 0, 0));
	snprintf(name, sizeof name, "%.*s", PQgetlength(res, 0, 1), PQgetvalue(res, 0, 1));
	snprintf(etag, sizeof etag, "\"%.*s\"", PQgetlength(res, 0, 3), PQgetvalue(res, 0, 3));
	/* the stored type was checked at upload; a header value never carries CR/LF */
	for (char *p = type; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '_';
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
	evhttp_add_header(h, "Content-Disposition", attachment_disposition(name, disp, sizeof disp));
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Cache-Control", "private, max-age=86400, immutable");
	evhttp_add_header(h, "ETag", etag);
	http_reply_raw(r, 200, type, PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2));
}

static void handle_attachment_get(struct req *r)
{
	const char *id = http_id_param(r, "attachment");
	if (!id || http_check_query(r, q_none))
		return;
	const char *params[1] = { id };
	http_call_bin(r, SQL_ATTACHMENT_GET, 1, params, NULL, 1, on_attachment);
}

int workflow_register(struct router *r)
{
	const int rd = ROLE_VIEWER | ROUTE_NEEDS_DB;
	const int ed = ROLE_EDITOR | ROUTE_NEEDS_DB | ROUTE_JSON_BODY;
	const int sup = ROLE_SUPERVISOR | ROUTE_NEEDS_DB | ROUTE_JSON_BODY;
	const int adm = ROLE_ADMIN | ROUTE_NEEDS_DB | ROUTE_JSON_BODY;
	int rc = 0;
	rc |= router_add(r, RM_GET, "/v1/units", (void *)handle_units, rd);
	rc |= router_add(r, RM_POST, "/v1/units", (void *)handle_unit_create, adm);
	rc |= router_add(r, RM_GET, "/v1/units/{id}", (void *)handle_unit_get, rd);
	rc |= router_add(r, RM_PATCH, "/v1/units/{id}", (void *)handle_unit_patch, adm);
	rc |= router_add(r, RM_POST, "/v1/tasks/{id}/sign", (void *)handle_sign, ed);
	rc |= router_add(r, RM_POST, "/v1/tasks/{id}/return", (void *)handle_return, ed);
	rc |= router_add(r, RM_POST, "/v1/tasks/{id}/changes", (void *)handle_change_create, ed);
	rc |= router_add(r, RM_POST, "/v1/tasks/{id}/attachments", (void *)handle_attachment_add,
			 ROLE_EDITOR | ROUTE_NEEDS_DB | ROUTE_RAW_BODY);
	rc |= router_add(r, RM_GET, "/v1/attachments/{id}", (void *)handle_attachment_get, rd);
	rc |= router_add(r, RM_POST, "/v1/plans/{id}/approve", (void *)handle_approve_plan, sup);
	rc |= router_add(r, RM_GET, "/v1/changes", (void *)handle_changes, rd);
	rc |= router_add(r, RM_POST, "/v1/changes/{id}/approve", (void *)handle_change_approve, sup);
	rc |= router_add(r, RM_POST, "/v1/changes/{id}/reject", (void *)handle_change_reject, sup);
	return rc;
}
