/*
 * test_i18n.c - the Chinese problem table (daemon/i18n.c): Accept-Language
 * negotiation, templates, localizing a problem, and a scan of the sources
 * (daemon/ *.c, sql/api/ *.sql) for every problem type and rule the code can
 * raise, each of which must have a row. A branch that adds a type without a
 * row fails here, with the file that uses it (TEST_I18N_VERBOSE=1 lists
 * every type and rule the scan found).
 *
 * What the scan reads as a problem type:
 *   C    the third argument of http_reply_problem / http_reply_problem_args
 *        when it is a literal (and the seventh, the rule, of the latter);
 *        a literal after "=", "?" or ":" in a statement that mentions slug;
 *        the last literal of an initializer { 409, "phrase", "slug" };
 *        case 4xx: return "slug" (the default "error" has its row too).
 *   SQL  in pt_fail*(...) calls and HINT = ...: 'type', 'x' / "type": "x"
 *        and 'rule', 'x' / "rule": "x"; the third argument of the four-argument
 *        pt_fail422 (a validation rule), and THEN 'rule' in pt_fail422 itself.
 */
#include "check.h"
#include "plantrack/i18n.h"

#include <dirent.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ negotiation */

static void test_negotiate(void)
{
	CHECK(i18n_negotiate(NULL) == I18N_EN);
	CHECK(i18n_negotiate("") == I18N_EN);
	CHECK(i18n_negotiate("zh-CN") == I18N_ZH);
	CHECK(i18n_negotiate("zh") == I18N_ZH);
	CHECK(i18n_negotiate("ZH-cn") == I18N_ZH);
	CHECK(i18n_negotiate("zh-TW") == I18N_ZH);          /* served from the simplified table */
	CHECK(i18n_negotiate("zh-Hant-TW") == I18N_ZH);
	CHECK(i18n_negotiate("zh-Hans-CN;q=0.5") == I18N_ZH);
	CHECK(i18n_negotiate("en") == I18N_EN);
	CHECK(i18n_negotiate("en-US,en;q=0.9") == I18N_EN);
	CHECK(i18n_negotiate("zh-CN,zh;q=0.9,en;q=0.8") == I18N_ZH);
	CHECK(i18n_negotiate("en-US,en;q=0.9,zh-CN;q=0.8") == I18N_EN);
	CHECK(i18n_negotiate("en;q=0.5, zh;q=0.8") == I18N_ZH);
	CHECK(i18n_negotiate("zh;q=0") == I18N_EN);
	CHECK(i18n_negotiate("zh;q=0.000, en;q=0.1") == I18N_EN);
	CHECK(i18n_negotiate("zh;q=0.001") == I18N_ZH);
	CHECK(i18n_negotiate("zh;q=0.5, en;q=0.5") == I18N_ZH); /* a tie: the first listed */
	CHECK(i18n_negotiate("en;q=0.5, zh;q=0.5") == I18N_EN);
	CHECK(i18n_negotiate("*") == I18N_EN);
	CHECK(i18n_negotiate("*;q=0.9, zh") == I18N_ZH);
	CHECK(i18n_negotiate("zh;q=0.5, *") == I18N_EN);       /* "*" counts for English */
	CHECK(i18n_negotiate("fr, zh;q=0.3") == I18N_ZH);
	CHECK(i18n_negotiate("fr-FR, de") == I18N_EN);
	CHECK(i18n_negotiate("zhx, zh-") == I18N_EN || 1);   /* does not crash */
	CHECK(i18n_negotiate("zhx") == I18N_EN);
	CHECK(i18n_negotiate("zh;q=2") == I18N_EN);            /* malformed q: the range is skipped */
	CHECK(i18n_negotiate("zh;q=abc, en;q=0.1") == I18N_EN);
	CHECK(i18n_negotiate("zh;q=1.0001") == I18N_EN);
	CHECK(i18n_negotiate(" zh-CN ; q=0.7 , en ; q=0.6 ") == I18N_ZH);
	CHECK(i18n_negotiate("zh-CN;level=1;q=0.7,en;q=0.6") == I18N_ZH);
	CHECK(i18n_negotiate(",,,;;;,") == I18N_EN);
	CHECK(!strcmp(i18n_content_language(I18N_ZH), "zh-CN"));
	CHECK(!strcmp(i18n_content_language(I18N_EN), "en"));
}

/* ------------------------------------------------------------ templates */

static void test_expand(void)
{
	json_t *p = json_pack("{s:s,s:i,s:s,s:f}", "resource", "task", "version", 3, "role", "supervisor", "min", 0.0);
	char *s = i18n_expand("该{resource:resource}已被他人修改（版本 {version}）", p);
	CHECK(s && !strcmp(s, "该任务已被他人修改（版本 3）"));
	free(s);
	s = i18n_expand("此操作需要 {role}（{role:role}）权限", p);
	CHECK(s && !strcmp(s, "此操作需要 supervisor（督查室）权限"));
	free(s);
	s = i18n_expand("{min}", p);
	CHECK(s && !strcmp(s, "0"));
	free(s);
	CHECK(i18n_expand("{missing}", p) == NULL);
	s = i18n_expand("no {} params {", NULL);
	CHECK(s && !strcmp(s, "no {} params {"));
	free(s);
	s = i18n_expand("{role:nodict}", p);
	CHECK(s && !strcmp(s, "supervisor"));
	free(s);
	json_decref(p);
}

/* The rows themselves: every type has a row without a rule, which needs no
 * parameter but request_id; titles and details are set and Chinese. */
static void test_rows(void)
{
	size_t n;
	const struct i18n_problem *rows = i18n_problems(&n);
	json_t *only_id = json_pack("{s:s}", "request_id", "x");
	for (size_t i = 0; i < n; i++) {
		const struct i18n_problem *base = i18n_find(rows[i].type, NULL);
		if (!base || !base->title || !base->detail) {
			fprintf(stderr, "no base row for %s\n", rows[i].type);
			CHECK(0);
			continue;
		}
		CHECK(rows[i].detail && *rows[i].detail);
		CHECK(rows[i].rule || rows[i].title);
		if (!rows[i].rule) {
			char *d = i18n_expand(rows[i].detail, only_id);
			if (!d)
				fprintf(stderr, "the base row of %s needs a parameter\n", rows[i].type);
			CHECK(d != NULL);
			free(d);
		}
		for (size_t j = i + 1; j < n; j++)
			CHECK(strcmp(rows[i].type, rows[j].type) ||
			      !((rows[i].rule == NULL && rows[j].rule == NULL) ||
				(rows[i].rule && rows[j].rule && !strcmp(rows[i].rule, rows[j].rule))));
	}
	json_decref(only_id);
	const struct i18n_rule *r = i18n_rules(&n);
	for (size_t i = 0; i < n; i++)
		CHECK(r[i].message && *r[i].message);
	CHECK(i18n_find("not-found", "no-such-rule") == i18n_find("not-found", NULL));
	CHECK(i18n_find("no-such-type", NULL) == NULL);
}

static json_t *problem(const char *slug, const char *title, const char *detail, json_t *errors)
{
	char uri[128];
	snprintf(uri, sizeof uri, "urn:plantrack:problem:%s", slug);
	json_t *p = json_pack("{s:s,s:s,s:i,s:s,s:s}", "type", uri, "title", title, "status", 400, "detail", detail,
			      "request_id", "rid-1");
	if (errors)
		json_object_set_new(p, "errors", errors);
	return p;
}

static const char *str(json_t *p, const char *k)
{
	const char *s = json_string_value(json_object_get(p, k));
	return s ? s : "";
}

/* i18n_localize_problem borrows params; this one takes them. */
static void localize(json_t *p, const char *slug, const char *rule, json_t *params)
{
	i18n_localize_problem(p, slug, rule, params);
	json_decref(params);
}

static void test_localize(void)
{
	json_t *p = problem("precondition-failed", "Precondition failed", "the task is at version 3, not 2", NULL);
	localize(p, "precondition-failed", "version", json_pack("{s:s,s:i}", "resource", "task", "version", 3));
	CHECK(!strcmp(str(p, "title"), "数据已被修改"));
	CHECK(strstr(str(p, "detail"), "该任务已被他人修改（版本 3）") != NULL);
	CHECK(!strcmp(str(p, "detail_en"), "the task is at version 3, not 2"));
	CHECK(!strcmp(str(p, "type"), "urn:plantrack:problem:precondition-failed"));
	json_decref(p);

	/* a rule whose parameter is missing: the type's own detail */
	p = problem("precondition-failed", "Precondition failed", "the unit is at version 4", NULL);
	localize(p, "precondition-failed", "version", NULL);
	CHECK(!strcmp(str(p, "detail"), "数据已被他人修改，请刷新后重试"));
	json_decref(p);

	/* validation: the detail names each field; messages in Chinese, English kept */
	json_t *errors = json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s,s:{s:f,s:f}},{s:s,s:s}]",
				   "field", "title", "message", "must not be empty", "rule", "empty",
				   "field", "progress", "message", "must be from 0 to 100", "rule", "range",
				   "params", "min", 0.0, "max", 100.0,
				   "field", "x", "message", "something new");
	p = problem("validation-failed", "Validation failed", "one or more fields are invalid", errors);
	localize(p, "validation-failed", NULL, NULL);
	CHECK(!strcmp(str(p, "title"), "数据校验未通过"));
	CHECK(!strcmp(str(p, "detail"), "字段 title：不能为空；字段 progress：必须在 0 到 100 之间；字段 x：取值无效"));
	json_t *e0 = json_array_get(json_object_get(p, "errors"), 0);
	CHECK(!strcmp(str(e0, "message"), "不能为空") && !strcmp(str(e0, "message_en"), "must not be empty"));
	json_t *e2 = json_array_get(json_object_get(p, "errors"), 2);
	CHECK(!strcmp(str(e2, "message"), "something new") && !json_object_get(e2, "message_en"));
	json_decref(p);

	/* 403 naming the role, 503, 500 with the request id */
	p = problem("forbidden", "Forbidden", "this needs the supervisor role; the token has editor", NULL);
	localize(p, "forbidden", "role", json_pack("{s:s}", "role", "supervisor"));
	CHECK(!strcmp(str(p, "detail"), "此操作需要 supervisor（督查室）权限"));
	json_decref(p);
	p = problem("database-unavailable", "Database unavailable", "no database connection is ready", NULL);
	localize(p, "database-unavailable", NULL, NULL);
	CHECK(!strcmp(str(p, "detail"), "数据库暂时不可用，请稍后重试"));
	json_decref(p);
	p = problem("internal", "Internal error", "see the server log", NULL);
	localize(p, "internal", NULL, NULL);
	CHECK(strstr(str(p, "detail"), "rid-1") != NULL);
	json_decref(p);
	p = problem("malformed-json", "Malformed JSON", "line 1 column 2: x", NULL);
	localize(p, "malformed-json", "syntax", json_pack("{s:i,s:i}", "line", 1, "column", 2));
	CHECK(!strcmp(str(p, "detail"), "请求体不是合法的 JSON（第 1 行第 2 列）"));
	json_decref(p);
	/* a type without a row keeps its title, gets a generic detail and the English one */
	p = problem("brand-new", "Brand new", "english detail", NULL);
	localize(p, "brand-new", NULL, NULL);
	CHECK(!strcmp(str(p, "title"), "Brand new") && !strcmp(str(p, "detail_en"), "english detail"));
	json_decref(p);
}

/* ------------------------------------------------------------ the source scan */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	size_t got = fread(s, 1, (size_t)n, f);
	s[got] = 0;
	fclose(f);
	return s;
}

/* Blanks comments (C: slash-star and //, SQL: --), leaving literals alone. */
static void strip_comments(char *s, int sql)
{
	char q = 0;
	for (char *p = s; *p; p++) {
		if (q) {
			if (!sql && *p == '\\' && p[1])
				p++;
			else if (*p == q)
				q = 0;
			continue;
		}
		if (*p == '"' || *p == '\'') {
			q = *p;
		} else if (sql && p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				*p++ = ' ';
			if (!*p)
				break;
		} else if (!sql && p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				*p++ = ' ';
			if (!*p)
				break;
		} else if (!sql && p[0] == '/' && p[1] == '*') {
			while (*p && !(p[0] == '*' && p[1] == '/'))
				*p++ = ' ';
			if (!*p)
				break;
			p[0] = p[1] = ' ';
			p++;
		}
	}
}

#define MAX_ARGS 12
struct args {
	int n;
	const char *start[MAX_ARGS];
	size_t len[MAX_ARGS];
};

/* Splits the arguments of the call whose "(" is at open; returns the end. */
static const char *split_args(const char *open, int sql, struct args *a)
{
	int depth = 0;
	char q = 0;
	a->n = 0;
	const char *arg = open + 1, *p;
	for (p = open; *p; p++) {
		if (q) {
			if (!sql && *p == '\\' && p[1])
				p++;
			else if (*p == q)
				q = 0;
			continue;
		}
		if (*p == '"' || *p == '\'') {
			q = *p;
		} else if (*p == '(' || *p == '[' || *p == '{') {
			depth++;
		} else if (*p == ')' || *p == ']' || *p == '}') {
			if (--depth == 0) {
				if (a->n < MAX_ARGS) {
					a->start[a->n] = arg;
					a->len[a->n++] = (size_t)(p - arg);
				}
				return p;
			}
		} else if (*p == ',' && depth == 1 && a->n < MAX_ARGS) {
			a->start[a->n] = arg;
			a->len[a->n++] = (size_t)(p - arg);
			arg = p + 1;
		}
	}
	return p;
}

/* The slug of a literal argument ("x" or 'x'), or "" when it is none. */
static void literal(const char *s, size_t n, char *out, size_t outlen)
{
	out[0] = 0;
	while (n && (*s == ' ' || *s == '\t' || *s == '\n')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
		n--;
	if (n < 3 || (s[0] != '"' && s[0] != '\'') || s[n - 1] != s[0] || n - 2 >= outlen)
		return;
	for (size_t i = 1; i < n - 1; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return;
	memcpy(out, s + 1, n - 2);
	out[n - 2] = 0;
}

static int found_types, found_rules, missing;

static void need_type(const char *file, const char *type, const char *rule)
{
	found_types++;
	if (getenv("TEST_I18N_VERBOSE"))
		printf("%s: %s %s\n", file, type, rule ? rule : "");
	const struct i18n_problem *row = i18n_find(type, NULL);
	if (!row) {
		fprintf(stderr, "FAIL %s: problem type \"%s\" has no row in daemon/i18n.c problems[]\n", file, type);
		missing++;
		return;
	}
	if (rule && *rule) {
		found_rules++;
		const struct i18n_problem *r = i18n_find(type, rule);
		if (!r || !r->rule || strcmp(r->rule, rule)) {
			fprintf(stderr, "FAIL %s: problem type \"%s\" rule \"%s\" has no row in daemon/i18n.c problems[]\n",
				file, type, rule);
			missing++;
		}
	}
}

/* A rule named in SQL: a validation rule or some problem row's rule. */
static void need_rule(const char *file, const char *rule)
{
	found_rules++;
	if (getenv("TEST_I18N_VERBOSE"))
		printf("%s: rule %s\n", file, rule);
	if (i18n_find_rule(rule))
		return;
	size_t n;
	const struct i18n_problem *rows = i18n_problems(&n);
	for (size_t i = 0; i < n; i++)
		if (rows[i].rule && !strcmp(rows[i].rule, rule))
			return;
	fprintf(stderr, "FAIL %s: rule \"%s\" has no row in daemon/i18n.c (rules[] or problems[])\n", file, rule);
	missing++;
}

static void regex_all(const char *file, const char *text, const char *pattern, int group,
		      void (*fn)(const char *file, const char *match, const char *at, const char *text))
{
	regex_t re;
	if (regcomp(&re, pattern, REG_EXTENDED)) {
		CHECK(0);
		return;
	}
	regmatch_t m[4];
	const char *p = text;
	while (!regexec(&re, p, 4, m, p == text ? 0 : REG_NOTBOL)) {
		char buf[128];
		size_t n = (size_t)(m[group].rm_eo - m[group].rm_so);
		if (n < sizeof buf) {
			memcpy(buf, p + m[group].rm_so, n);
			buf[n] = 0;
			fn(file, buf, p + m[0].rm_so, text);
		}
		p += m[0].rm_eo;
	}
	regfree(&re);
}

static void on_slug(const char *file, const char *slug, const char *at, const char *text)
{
	(void)at;
	(void)text;
	need_type(file, slug, NULL);
}

/* A literal after = ? : counts when its statement mentions slug. */
static void on_assigned(const char *file, const char *slug, const char *at, const char *text)
{
	const char *s = at;
	while (s > text && s[-1] != ';' && s[-1] != '{' && s[-1] != '}')
		s--;
	const char *e = strchr(at, ';');
	size_t n = e ? (size_t)(e - s) : strlen(s);
	for (size_t i = 0; i + 4 <= n; i++)
		if (!strncmp(s + i, "slug", 4)) {
			need_type(file, slug, NULL);
			return;
		}
}

static void on_rule(const char *file, const char *rule, const char *at, const char *text)
{
	(void)at;
	(void)text;
	need_rule(file, rule);
}

static void scan_c(const char *file, char *text)
{
	strip_comments(text, 0);
	for (const char *p = text; (p = strstr(p, "http_reply_problem")); p++) {
		const char *open = p + strlen("http_reply_problem");
		int with_args = !strncmp(open, "_args", 5);
		if (with_args)
			open += 5;
		if (*open != '(')
			continue;
		struct args a;
		split_args(open, 0, &a);
		char type[64], rule[64] = "";
		if (a.n < 3)
			continue;
		literal(a.start[2], a.len[2], type, sizeof type);
		if (with_args && a.n >= 7)
			literal(a.start[6], a.len[6], rule, sizeof rule);
		if (*type)
			need_type(file, type, rule);
	}
	/* { 409, "phrase", "slug" }: the last literal */
	regex_all(file, text, "\\{ *[45][0-9][0-9] *,( *\"[^\"]*\" *,)* *\"([a-z0-9-]+)\" *\\}", 2, on_slug);
	regex_all(file, text, "case [45][0-9][0-9]: *return \"([a-z0-9-]+)\"", 1, on_slug);
	regex_all(file, text, "(=|\\?|:)[ \t\n]*\"([a-z][a-z0-9-]*)\"", 2, on_assigned);
}

static void scan_sql(const char *file, char *text)
{
	strip_comments(text, 1);
	const char *keys[] = { "pt_fail", "HINT", NULL };
	for (const char *const *k = keys; *k; k++)
		for (const char *p = text; (p = strstr(p, *k)); p++) {
			const char *e = strchr(p, ';');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			char *stmt = strndup(p, n);
			regex_all(file, stmt, "'type' *, *'([a-z0-9-]+)'", 1, on_slug);
			regex_all(file, stmt, "\"type\" *: *\"([a-z0-9-]+)\"", 1, on_slug);
			regex_all(file, stmt, "'rule' *, *'([a-z0-9-]+)'", 1, on_rule);
			regex_all(file, stmt, "\"rule\" *: *\"([a-z0-9-]+)\"", 1, on_rule);
			if (strstr(stmt, "pt_fail422"))     /* the rules pt_fail422 reads off its message */
				regex_all(file, stmt, "THEN '([a-z][a-z0-9-]*)'", 1, on_rule);
			if (!strncmp(p, "pt_fail422(", 11)) {
				struct args a;
				split_args(p + 10, 1, &a);
				char rule[64];
				if (a.n >= 3) {
					literal(a.start[2], a.len[2], rule, sizeof rule);
					if (*rule)
						need_rule(file, rule);
				}
			}
			free(stmt);
		}
}

static int scan_dir(const char *root, const char *dir, const char *ext, int sql)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", root, dir);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	int files = 0;
	struct dirent *ent;
	while ((ent = readdir(d))) {
		size_t n = strlen(ent->d_name), el = strlen(ext);
		if (n <= el || strcmp(ent->d_name + n - el, ext))
			continue;
		char file[4400];
		snprintf(file, sizeof file, "%s/%s", path, ent->d_name);
		char *text = slurp(file);
		if (!text)
			continue;
		files++;
		if (sql)
			scan_sql(file, text);
		else
			scan_c(file, text);
		free(text);
	}
	closedir(d);
	return files;
}

static void test_scan(void)
{
	const char *root = getenv("PLANTRACK_SOURCE_DIR");
	if (!root)
		root = PLANTRACK_SOURCE_DIR;
	int c = scan_dir(root, "daemon", ".c", 0) + scan_dir(root, "daemon/text", ".c", 0);
	int s = scan_dir(root, "sql/api", ".sql", 1);
	printf("scanned %d C and %d SQL files: %d problem types, %d rules\n", c, s, found_types, found_rules);
	CHECK(c > 10 && s > 3);
	CHECK(found_types > 40);
	CHECK(found_rules > 10);

	CHECK(missing == 0);

	/* the scan itself: a type or rule without a row is reported */
	missing = 0;
	char demo[] = "void f(struct req *r) { http_reply_problem(r, 409, \"no-such-slug\", \"T\", \"d, e\", NULL);\n"
		      "  http_reply_problem_args(r, 404, \"not-found\", \"T\", \"a, b\", NULL, \"no-such-rule\", NULL);\n"
		      "  const char *slug = x ? \"conflict\" : \"another-new-slug\"; /* \"ignored-in-comment\" */ }";
	char demo_sql[] = "PERFORM api.pt_fail('PT409', 'x', 'y', '{\"type\": \"sql-new-type\"}');\n"
			  "PERFORM api.pt_fail422('f', 'm', 'no-such-vrule'); -- 'type', 'in-a-comment'";
	fprintf(stderr, "(five expected reports follow)\n");
	scan_c("demo.c", demo);
	scan_sql("demo.sql", demo_sql);
	CHECK(missing == 5);
}

int main(void)
{
	test_negotiate();
	test_expand();
	test_rows();
	test_localize();
	test_scan();
	return check_summary();
}
