/*
 * i18n.c - Chinese problem titles and details, keyed by problem type slug
 * and rule code (see i18n.h). Pure: jansson only.
 *
 * To add a problem type: a row { "slug", NULL, "标题", "说明" } in
 * problems[]; rows with a rule refine the detail for that rule (title NULL:
 * the type's). Templates name parameters as {name} or {name:dict}; a row
 * whose parameter is missing falls back to the type's own row, so the row
 * with rule NULL must not need any parameter (test_i18n checks that).
 */
#include "plantrack/i18n.h"
#include "plantrack/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct i18n_problem problems[] = {
	/* requests the daemon refuses before any handler (dispatch.c, auth.c) */
	{ "bad-request", NULL, "请求有误", "请求的格式不正确" },
	{ "bad-query", NULL, "查询参数格式错误", "URL 中的查询参数无法解析" },
	{ "unknown-parameter", NULL, "未知查询参数", "URL 中有本接口不认识的查询参数" },
	{ "unknown-parameter", "field", NULL, "未知查询参数 {field}" },
	{ "not-found", NULL, "未找到", "请求的资源不存在" },
	{ "not-found", "resource", NULL, "该{resource:resource}不存在" },
	{ "not-found", "route", NULL, "没有这个路径" },
	{ "method-not-allowed", NULL, "不支持该请求方法", "此路径不支持该请求方法" },
	{ "method-not-allowed", "allow", NULL, "此路径不支持该请求方法，可用的方法：{allow}" },
	{ "body-too-large", NULL, "请求体过大", "请求体超过了允许的大小" },
	{ "body-too-large", "size", NULL, "请求体有 {size} 字节，上限是 {limit} 字节" },
	{ "unsupported-media-type", NULL, "不支持的媒体类型", "不支持该请求体的媒体类型（Content-Type）" },
	{ "unsupported-media-type", "json", NULL, "请以 application/json 发送请求体" },
	{ "unsupported-media-type", "text", NULL, "请以 text/plain 或 text/csv 发送请求体（字符集 utf-8 或 gb18030）" },
	{ "unsupported-media-type", "charset", NULL, "不支持该字符集，请使用 utf-8 或 gb18030" },
	{ "content-mismatch", NULL, "文件内容与类型不符", "文件的内容与声明的类型不一致" },
	{ "malformed-json", NULL, "JSON 格式错误", "请求体不是合法的 JSON" },
	{ "malformed-json", "syntax", NULL, "请求体不是合法的 JSON（第 {line} 行第 {column} 列）" },
	{ "malformed-json", "object", NULL, "请求体必须是一个 JSON 对象" },
	{ "unknown-field", NULL, "未知字段", "请求体中有本接口不认识的字段" },
	{ "unknown-field", "field", NULL, "未知字段 {field}" },
	{ "bad-idempotency-key", NULL, "Idempotency-Key 无效", "Idempotency-Key 必须是 1 到 255 个字符" },
	{ "unauthorized", NULL, "未授权", "令牌无效或已被吊销，请重新登录" },
	{ "unauthorized", "missing", NULL, "请在 Authorization 请求头中发送 Bearer 令牌" },
	{ "unauthorized", "scheme", NULL, "Authorization 请求头必须是“Bearer 令牌”的形式" },
	{ "unauthorized", "malformed", NULL, "令牌格式不正确" },
	{ "unauthorized", "unknown", NULL, "该令牌不存在或已被管理员吊销，请向管理员索取新令牌" },
	{ "forbidden", NULL, "无权操作", "您的权限不允许此操作" },
	{ "forbidden", "role", NULL, "此操作需要 {role}（{role:role}）权限" },
	{ "forbidden", "scope", NULL, "该任务的牵头单位不是您的单位或其下级单位" },
	{ "forbidden", "verified", NULL, "只有督查室可以创建已销号的任务" },

	/* the server and the database */
	{ "shutting-down", NULL, "服务器正在停止", "服务器正在停止，请稍后重试" },
	{ "overloaded", NULL, "服务器繁忙", "服务器繁忙，请稍后重试" },
	{ "database-unavailable", NULL, "数据库不可用", "数据库暂时不可用，请稍后重试" },
	{ "database-busy", NULL, "数据库繁忙", "数据库繁忙，请稍后重试" },
	{ "database-timeout", NULL, "数据库超时", "数据库没有及时响应，请稍后重试" },
	{ "database-timeout", "deadline", NULL, "数据库在 {ms} 毫秒内没有响应，请稍后重试" },
	{ "internal", NULL, "服务器内部错误", "服务器内部错误，请把请求编号 {request_id} 告诉管理员" },
	{ "error", NULL, "请求失败", "请求未能完成" },

	/* business rules (SQL, by status and rule) */
	{ "validation-failed", NULL, "数据校验未通过", "请求中有数据不符合要求" },
	{ "validation-failed", "value", NULL, "取值无效" },
	{ "conflict", NULL, "冲突", "请求与数据的当前状态冲突" },
	{ "conflict", "duplicate", NULL, "已存在相同的数据" },
	{ "conflict", "closed", NULL, "{status:status}的任务不能再修改进度" },
	{ "precondition-failed", NULL, "数据已被修改", "数据已被他人修改，请刷新后重试" },
	{ "precondition-failed", "version", NULL, "该{resource:resource}已被他人修改（版本 {version}），请刷新后重试" },
	{ "precondition-failed", "etag", NULL, "If-Match 必须是资源的 ETag，例如 \"3\"" },
	{ "invalid-transition", NULL, "不允许的状态变更", "不允许这样变更任务状态" },
	{ "invalid-transition", "states", NULL, "不允许把任务从“{from:status}”改为“{to:status}”" },
	{ "idempotency-conflict", NULL, "请求正在处理", "使用同一 Idempotency-Key 的请求仍在处理中，请稍后重试" },
	{ "idempotency-key-reused", NULL, "Idempotency-Key 已被使用", "该 Idempotency-Key 已用于另一个不同的请求" },

	/* imports */
	{ "unparsable-plan", NULL, "无法读取工作计划", "无法从文本中读出工作计划的结构" },
	{ "invalid-csv", NULL, "CSV 文件有错误", "CSV 文件中有错误，没有导入任何数据" },
	{ "import-ambiguous-seq", NULL, "序号对应多个任务", "该序号在同一上级下对应多个任务，请加上 id 列或重新编号；没有导入任何数据" },
	{ "import-timeout", NULL, "导入任务超时", "导入任务超过了 imports.job_timeout_ms，没有导入任何数据" },
	{ "import-interrupted", NULL, "导入任务中断", "服务在导入任务完成前停止，没有导入任何数据，请重新上传文件" },

	/* the workflow (issue 11: sign, return, approve, change requests) */
	{ "change-control", NULL, "计划已批准", "计划已批准，修改需要提交变更申请" },
	{ "change-pending", NULL, "已有待审批的变更申请", "该字段已有一份待审批的变更申请" },
	{ "change-decided", NULL, "变更申请已处理", "该变更申请已不在待审批状态" },
	{ "not-done", NULL, "任务尚未办结", "只有已办结的任务才能核查销号" },
	{ "not-assigned", NULL, "任务不在待签收状态", "该任务不在待签收状态" },
	{ "plan-approved", NULL, "计划已批准", "该计划已经批准" },
	{ "own-request", NULL, "不能审批自己的申请", "不能审批自己提交的申请" },
	{ "second-person", NULL, "需要另一人核查", "核查销号需要由另一人完成" },
	{ "co-unit-limit", NULL, "配合单位无权操作", "配合单位不能执行此操作" },
	{ "out-of-scope", NULL, "超出权限范围", "该申请超出您的权限范围" },

	/* plan administration (issue 12) */
	{ "plan-has-reports", NULL, "计划已有进度填报", "该计划已有进度填报，只有管理员确认（confirm=计划标题）后才能删除" },
	{ "plan-has-reports", "reports", NULL,
	  "该计划已有 {reports} 条进度填报，只有管理员确认（confirm=计划标题）后才能删除" },
	{ "not-deleted", NULL, "计划未被删除", "该计划没有被删除，无需恢复" },
};

static const struct i18n_rule rules[] = {
	{ "required", "为必填项", NULL },
	{ "empty", "不能为空", NULL },
	{ "null", "不能为 null", NULL },
	{ "type", "必须是{expected:type}", "类型不正确" },
	{ "max-bytes", "不能超过 {max} 字节", "过长" },
	{ "too-long", "过长", NULL },
	{ "range", "必须在 {min} 到 {max} 之间", "超出允许的范围" },
	{ "enum", "必须是以下之一：{values}", "不是允许的取值" },
	{ "date", "必须是有效日期（YYYY-MM-DD）", NULL },
	{ "uuid", "必须是 UUID", NULL },
	{ "too-many", "项数过多", NULL },
	{ "too-deep", "嵌套层数过深", NULL },
	{ "unknown", "是未知字段", NULL },
	{ "reference", "不是有效的{resource:resource}", "引用的对象不存在" },
	{ "format", "格式不正确", NULL },
	{ "cursor", "不是本接口返回的游标", NULL },
	{ "unknown-unit", "不是已有的单位（单位由督查室或导入创建）", NULL },
	{ "reused", "已用于另一个不同的请求", NULL },
	{ "value", "取值无效", NULL },
	{ "confirm", "必须与计划标题一致", NULL },
	{ "same-plan", "必须是同一计划中的任务", NULL },
	{ "cycle", "不能是该任务本身或其下级任务", NULL },
};

struct word {
	const char *dict, *en, *zh;
};

static const struct word words[] = {
	{ "role", "viewer", "查看" },
	{ "role", "editor", "填报单位" },
	{ "role", "supervisor", "督查室" },
	{ "role", "admin", "管理员" },
	{ "status", "planned", "待签收" },
	{ "status", "in_progress", "推进中" },
	{ "status", "blocked", "受阻" },
	{ "status", "done", "已办结" },
	{ "status", "verified", "已销号" },
	{ "status", "cancelled", "已取消" },
	{ "resource", "task", "任务" },
	{ "resource", "plan", "计划" },
	{ "resource", "webhook", "Webhook 订阅" },
	{ "resource", "token", "令牌" },
	{ "resource", "unit", "单位" },
	{ "resource", "target", "目标" },
	{ "resource", "milestone", "节点" },
	{ "resource", "attachment", "附件" },
	{ "resource", "change request", "变更申请" },
	{ "resource", "calendar", "日历" },
	{ "resource", "delivery", "投递记录" },
	{ "resource", "event", "事件" },
	{ "type", "string", "字符串" },
	{ "type", "integer", "整数" },
	{ "type", "number", "数字" },
	{ "type", "boolean", "true 或 false" },
	{ "type", "object", "对象" },
	{ "type", "strings", "字符串数组" },
	{ "type", "objects", "对象数组" },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const struct i18n_problem *i18n_problems(size_t *n)
{
	*n = COUNT(problems);
	return problems;
}

const struct i18n_rule *i18n_rules(size_t *n)
{
	*n = COUNT(rules);
	return rules;
}

const struct i18n_problem *i18n_find(const char *type, const char *rule)
{
	const struct i18n_problem *base = NULL;
	if (!type)
		return NULL;
	for (size_t i = 0; i < COUNT(problems); i++) {
		if (strcmp(problems[i].type, type))
			continue;
		if (!problems[i].rule)
			base = &problems[i];
		else if (rule && !strcmp(problems[i].rule, rule))
			return &problems[i];
	}
	return base;
}

const struct i18n_rule *i18n_find_rule(const char *rule)
{
	for (size_t i = 0; rule && i < COUNT(rules); i++)
		if (!strcmp(rules[i].rule, rule))
			return &rules[i];
	return NULL;
}

static const char *lookup_word(const char *dict, size_t dlen, const char *en)
{
	for (size_t i = 0; i < COUNT(words); i++)
		if (strlen(words[i].dict) == dlen && !strncmp(words[i].dict, dict, dlen) && !strcasecmp(words[i].en, en))
			return words[i].zh;
	return en;
}

const char *i18n_word(const char *dict, const char *en)
{
	const char *zh = dict && en ? lookup_word(dict, strlen(dict), en) : NULL;
	return zh == en ? NULL : zh;
}

/* ------------------------------------------------------------ Accept-Language */

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* q-value per RFC 9110 12.4.2: 0, 0.xxx, 1, 1.000. -1 when malformed. */
static int parse_q(const char *s, size_t n)
{
	if (n == 0 || n > 5 || (s[0] != '0' && s[0] != '1'))
		return -1;
	int q = (s[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (s[1] != '.')
		return -1;
	int scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

enum i18n_lang i18n_negotiate(const char *h)
{
	int zh_q = -1, en_q = -1, star_q = -1, zh_at = 0, en_at = 0, star_at = 0, idx = 0;
	while (h && *h) {
		const char *end = strchr(h, ',');
		size_t len = end ? (size_t)(end - h) : strlen(h);
		const char *p = h, *stop = h + len;
		h = end ? end + 1 : h + len;
		idx++;
		while (p < stop && (*p == ' ' || *p == '\t'))
			p++;
		const char *tag = p;
		while (p < stop && (is_alpha(*p) || *p == '-' || *p == '*' || isdigit((unsigned char)*p)))
			p++;
		size_t taglen = (size_t)(p - tag);
		int q = 1000, ok = taglen > 0;
		while (ok && p < stop) {
			while (p < stop && (*p == ' ' || *p == '\t'))
				p++;
			if (p == stop)
				break;
			if (*p != ';') {
				ok = 0;
				break;
			}
			p++;
			while (p < stop && (*p == ' ' || *p == '\t'))
				p++;
			const char *param = p;
			while (p < stop && *p != ';' && *p != ' ' && *p != '\t')
				p++;
			if ((param[0] == 'q' || param[0] == 'Q') && p - param >= 2 && param[1] == '=') {
				q = parse_q(param + 2, (size_t)(p - param - 2));
				if (q < 0)
					ok = 0;
			}
		}
		if (!ok)
			continue;
		size_t primary = 0;
		while (primary < taglen && tag[primary] != '-')
			primary++;
		if (taglen == 1 && tag[0] == '*') {
			if (q > star_q) {
				star_q = q;
				star_at = idx;
			}
		} else if (primary == 2 && !strncasecmp(tag, "zh", 2)) {
			if (q > zh_q) {
				zh_q = q;
				zh_at = idx;
			}
		} else if (primary == 2 && !strncasecmp(tag, "en", 2)) {
			if (q > en_q) {
				en_q = q;
				en_at = idx;
			}
		}
	}
	if (en_q < 0) {         /* "*" stands for every language not listed, English among them */
		en_q = star_q;
		en_at = star_at;
	}
	if (zh_q <= 0)
		return I18N_EN;
	if (zh_q > en_q || (zh_q == en_q && zh_at < en_at))
		return I18N_ZH;
	return I18N_EN;
}

const char *i18n_content_language(enum i18n_lang lang)
{
	return lang == I18N_ZH ? "zh-CN" : "en";
}

/* ------------------------------------------------------------ templates */

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2 + 32;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

char *i18n_expand(const char *tmpl, const json_t *params)
{
	struct sbuf b = { 0 };
	sb_add(&b, "", 0);
	const char *p = tmpl;
	while (*p) {
		const char *open = strchr(p, '{');
		const char *close = open ? strchr(open, '}') : NULL;
		if (!open || !close) {
			sb_str(&b, p);
			break;
		}
		sb_add(&b, p, (size_t)(open - p));
		char name[64];
		size_t n = (size_t)(close - open - 1);
		if (n == 0 || n >= sizeof name) {
			sb_add(&b, open, (size_t)(close - open + 1));
			p = close + 1;
			continue;
		}
		memcpy(name, open + 1, n);
		name[n] = 0;
		char *dict = strchr(name, ':');
		if (dict)
			*dict++ = 0;
		const json_t *v = json_is_object(params) ? json_object_get(params, name) : NULL;
		char num[64];
		const char *text = NULL;
		if (json_is_string(v))
			text = json_string_value(v);
		else if (json_is_integer(v))
			snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)), text = num;
		else if (json_is_real(v))
			snprintf(num, sizeof num, "%g", json_real_value(v)), text = num;
		if (!text) {
			free(b.s);
			return NULL;
		}
		sb_str(&b, dict ? lookup_word(dict, strlen(dict), text) : text);
		p = close + 1;
	}
	return b.s;
}

/* ------------------------------------------------------------ problems */

char *i18n_error_message(const json_t *error)
{
	const struct i18n_rule *r = i18n_find_rule(json_string_value(json_object_get(error, "rule")));
	if (!r)
		return NULL;
	char *m = i18n_expand(r->message, json_object_get(error, "params"));
	if (!m)
		m = xstrdup(r->generic ? r->generic : r->message);
	return m;
}

#define MAX_NAMED_ERRORS 5

void i18n_localize_problem(json_t *problem, const char *slug, const char *rule, const json_t *params_in)
{
	json_t *params = json_is_object(params_in) ? json_deep_copy(params_in) : json_object();
	json_t *rid = json_object_get(problem, "request_id");
	if (rid && !json_object_get(params, "request_id"))
		json_object_set(params, "request_id", rid);
	const struct i18n_problem *row = i18n_find(slug, rule);
	const struct i18n_problem *base = i18n_find(slug, NULL);
	char *detail = row ? i18n_expand(row->detail, params) : NULL;
	if (!detail && base)
		detail = i18n_expand(base->detail, params);
	if (!detail)
		detail = xstrdup(base ? base->title : "请求未能完成");
	json_t *en = json_object_get(problem, "detail");
	if (json_is_string(en))
		json_object_set(problem, "detail_en", en);
	if (base)
		json_object_set_new(problem, "title", json_string(base->title));

	json_t *errors = json_object_get(problem, "errors");
	size_t i;
	json_t *e;
	struct sbuf fields = { 0 };
	size_t named = 0;
	json_array_foreach(errors, i, e) {
		if (!json_is_object(e))
			continue;
		char *m = i18n_error_message(e);
		if (m) {
			json_t *old = json_object_get(e, "message");
			if (json_is_string(old))
				json_object_set(e, "message_en", old);
			json_object_set_new(e, "message", json_string(m));
		}
		const char *field = json_string_value(json_object_get(e, "field"));
		if (named < MAX_NAMED_ERRORS && field && *field) {
			if (named++)
				sb_str(&fields, "；");
			sb_str(&fields, "字段 ");
			sb_str(&fields, field);
			sb_str(&fields, "：");
			sb_str(&fields, m ? m : "取值无效");
		}
		free(m);
	}
	if (named && slug && !strcmp(slug, "validation-failed")) {
		if (json_array_size(errors) > named) {
			char more[64];
			snprintf(more, sizeof more, "（共 %zu 处）", json_array_size(errors));
			sb_str(&fields, more);
		}
		free(detail);
		detail = fields.s;
		fields.s = NULL;
	}
	free(fields.s);
	json_object_set_new(problem, "detail", json_string(detail));
	free(detail);
	json_decref(params);
}
