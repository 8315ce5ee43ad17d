/*
 * test_planparse.c - unit tests for the plan-document parser: the reference
 * sample (when ../shared/samples is there), the repository's example plan,
 * the plans in tests/data/plans (other numbering styles, CRLF/BOM, traps),
 * and small inline inputs for the edges (bad UTF-8, empty, no headings).
 */
#include "plantrack/planparse.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0, r;
	char *buf = malloc(cap);
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	fclose(f);
	*len = n;
	return buf;
}

static json_t *parse_file(const char *rel, int year)
{
	const char *root = getenv("PLANTRACK_SOURCE_DIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
	size_t len;
	char *text = slurp(path, &len);
	if (!text) {
		printf("  cannot read %s\n", path);
		return NULL;
	}
	char err[256];
	json_t *doc = planparse_parse(text, len, year, err, sizeof err);
	if (!doc)
		printf("  %s: %s\n", rel, err);
	free(text);
	return doc;
}

/* A fact of task t with this value and unit (and label, unless NULL). */
static int fact_is(json_t *t, double v, const char *unit, const char *label)
{
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(t, "facts"), i, g)
		if (json_number_value(json_object_get(g, "value")) == v &&
		    !strcmp(json_string_value(json_object_get(g, "unit")), unit) &&
		    (!label || (json_is_string(json_object_get(g, "label")) &&
				!strcmp(json_string_value(json_object_get(g, "label")), label))))
			return 1;
	return 0;
}

static json_t *parse_str(const char *s, int year)
{
	char err[256];
	return planparse_parse(s, strlen(s), year, err, sizeof err);
}

/* The task with this code anywhere in the tree. */
static json_t *find_code(json_t *tasks, const char *code)
{
	size_t i;
	json_t *t;
	json_array_foreach(tasks, i, t) {
		if (!strcmp(json_string_value(json_object_get(t, "code")), code))
			return t;
		json_t *c = find_code(json_object_get(t, "children"), code);
		if (c)
			return c;
	}
	return NULL;
}

static const char *sget(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "(null)";
}

/* A target of task t (own targets only) whose text contains needle. */
static json_t *target_with(json_t *t, const char *needle)
{
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(t, "targets"), i, g)
		if (strstr(sget(g, "text"), needle))
			return g;
	return NULL;
}

/* A target of task t with this value. */
static json_t *target_val(json_t *t, double value)
{
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(t, "targets"), i, g) {
		double v = json_number_value(json_object_get(g, "value"));
		if (v > value - 1e-9 && v < value + 1e-9)
			return g;
	}
	return NULL;
}

static int target_is(json_t *g, double value, const char *unit, const char *cmp)
{
	if (!g)
		return 0;
	double v = json_number_value(json_object_get(g, "value"));
	int ok = v > value - 1e-9 && v < value + 1e-9 && !strcmp(sget(g, "unit"), unit) &&
		 !strcmp(sget(g, "comparator"), cmp);
	if (!ok)
		printf("  target %s: %g %s %s\n", sget(g, "text"), v, sget(g, "unit"), sget(g, "comparator"));
	return ok;
}

/* Counts tasks per depth and checks codes, levels and seq along the way. */
static int walk(json_t *tasks, int depth, const char *prefix, size_t *counts, int *bad)
{
	size_t i;
	json_t *t;
	json_array_foreach(tasks, i, t) {
		if (depth <= 8)
			counts[depth]++;
		if (json_integer_value(json_object_get(t, "level")) != depth ||
		    json_integer_value(json_object_get(t, "seq")) != (json_int_t)i + 1)
			(*bad)++;
		const char *code = sget(t, "code");
		if (prefix && (strncmp(code, prefix, strlen(prefix)) || code[strlen(prefix)] != '.'))
			(*bad)++;
		if (!*sget(t, "title") || !json_is_string(json_object_get(t, "body")) ||
		    !json_is_array(json_object_get(t, "targets")) || !json_is_array(json_object_get(t, "milestones")))
			(*bad)++;
		walk(json_object_get(t, "children"), depth + 1, code, counts, bad);
	}
	return 0;
}

static int counts_are(json_t *doc, int a, int b, int c)
{
	size_t counts[10] = { 0 };
	int bad = 0;
	walk(json_object_get(doc, "tasks"), 1, NULL, counts, &bad);
	json_t *cj = json_object_get(doc, "counts");
	int want[3] = { a, b, c };
	int ok = !bad;
	for (int d = 0; d < 3; d++) {
		if ((int)counts[d + 1] != want[d])
			ok = 0;
		if (want[d] && json_integer_value(json_array_get(cj, (size_t)d)) != want[d])
			ok = 0;
	}
	if (!ok)
		printf("  counts %zu/%zu/%zu, %d bad tasks\n", counts[1], counts[2], counts[3], bad);
	return ok;
}

/* No target anywhere whose text, unit or value is one of the traps. */
static void all_targets(json_t *tasks, json_t *out)
{
	size_t i;
	json_t *t, *g;
	json_array_foreach(tasks, i, t) {
		size_t k;
		json_array_foreach(json_object_get(t, "targets"), k, g)
			json_array_append(out, g);
		all_targets(json_object_get(t, "children"), out);
	}
}

static int no_target_value(json_t *doc, double value)
{
	json_t *all = json_array();
	all_targets(json_object_get(doc, "tasks"), all);
	size_t i;
	json_t *g;
	int ok = 1;
	json_array_foreach(all, i, g) {
		double v = json_number_value(json_object_get(g, "value"));
		if (v > value - 1e-9 && v < value + 1e-9) {
			printf("  unexpected target %s\n", sget(g, "text"));
			ok = 0;
		}
	}
	json_decref(all);
	return ok;
}

static size_t n_targets(json_t *doc)
{
	json_t *all = json_array();
	all_targets(json_object_get(doc, "tasks"), all);
	size_t n = json_array_size(all);
	json_decref(all);
	return n;
}

static void test_sample(void)
{
	const char *root = getenv("PLANTRACK_SOURCE_DIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/../shared/samples/chengdong-2025-plan.txt", root ? root : ".");
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("skip: sample %s not found\n", path);
		return;
	}
	fclose(f);
	printf("sample plan\n");
	json_t *doc = parse_file("../shared/samples/chengdong-2025-plan.txt", 0);
	CHECK(doc != NULL);
	if (!doc)
		return;
	json_t *tasks = json_object_get(doc, "tasks");
	CHECK(counts_are(doc, 5, 17, 32));
	CHECK(json_integer_value(json_object_get(doc, "year")) == 2025);
	CHECK(!strcmp(sget(doc, "title"), "城东街道2025年工作谋划"));
	/* the only numbers read as neither target nor fact: 7天 (a hotel) and 12349 (a service line) */
	CHECK(json_array_size(json_object_get(doc, "warnings")) == 2);
	{
		size_t i;
		json_t *w;
		json_array_foreach(json_object_get(doc, "warnings"), i, w)
			CHECK(strstr(sget(w, "message"), "not read as a target") != NULL);
	}
	CHECK(!strcmp(sget(json_array_get(tasks, 0), "code"), "一"));
	CHECK(!strcmp(sget(json_array_get(tasks, 0), "title"), "聚力做好党建文章,推动高质量党建突破攀升"));
	CHECK(!strncmp(sget(json_array_get(tasks, 0), "body"), "以构建“大党建”工作格局为重心", 20));
	json_t *t = find_code(tasks, "一.1");
	CHECK(t && !strcmp(sget(t, "title"), "抓好基层党建,提升服务水平"));
	CHECK(t && !strcmp(sget(t, "body"), ""));
	t = find_code(tasks, "一.1.1");
	CHECK(t && !strcmp(sget(t, "title"), "提升村级规范化建设"));
	CHECK(t && !strncmp(sget(t, "body"), "梳理制定《城东街道村级规范化手册》", 10));
	CHECK(t && !strcmp(sget(t, "cadence"), "quarterly"));
	t = find_code(tasks, "一.1.3");
	CHECK(t && target_is(target_with(t, "网格驿站10处"), 10, "处", "="));
	CHECK(t && !strcmp(sget(target_with(t, "网格驿站10处"), "text"), "增设网格驿站10处"));
	CHECK(t && !strcmp(sget(target_with(t, "网格驿站10处"), "label"), "网格驿站"));
	t = find_code(tasks, "一.2");
	CHECK(t && target_is(target_with(t, "30支以上"), 30, "支", ">="));
	CHECK(t && !strcmp(sget(t, "due_date"), "2025-12-31")); /* 年内 */
	t = find_code(tasks, "一.1.2"); /* 第4期 is no target; 170家 is */
	CHECK(t && target_is(target_with(t, "170家"), 170, "家", "="));
	{
		size_t i;
		json_t *g;
		int ok = 1;
		json_array_foreach(json_object_get(t, "targets"), i, g)
			if (json_number_value(json_object_get(g, "value")) == 4)
				ok = 0;
		CHECK(ok);
	}
	t = find_code(tasks, "二.1");
	CHECK(t && !strcmp(sget(t, "cadence"), "weekly"));
	CHECK(t && target_with(t, "12个") != NULL);
	t = find_code(tasks, "二.2.1");
	CHECK(t && target_is(target_with(t, "8%以上"), 8, "%", ">="));
	t = find_code(tasks, "三.1.1");
	CHECK(t && target_is(target_val(t, 8.5), 8.5, "万平方米", "="));
	t = find_code(tasks, "三.1.3");
	CHECK(t && target_is(target_with(t, "2.5万余平方米"), 2.5, "万平方米", ">="));
	t = find_code(tasks, "三.2.2");
	CHECK(t && target_is(target_with(t, "500余盏"), 500, "盏", ">="));
	t = find_code(tasks, "三.2.1");
	CHECK(t && !strcmp(sget(t, "cadence"), "monthly"));
	t = find_code(tasks, "三.3");
	CHECK(t && !strcmp(sget(t, "title"), "探索物业长效管理") && !strcmp(sget(t, "body"), "创建物业管理“三网”机制。"));
	t = find_code(tasks, "四.1.2");
	CHECK(t && target_is(target_with(t, "103项"), 103, "项", "="));
	CHECK(t && !strcmp(sget(target_with(t, "103项"), "label"), "民生实事项目"));
	t = find_code(tasks, "四.2.2"); /* “1+24+365” */
	CHECK(t && json_array_size(json_object_get(t, "targets")) == 0);
	t = find_code(tasks, "四.3"); /* 12349 is a name, 第二届 an ordinal */
	CHECK(t && target_is(target_with(t, "健身设施100套"), 100, "套", "="));
	CHECK(no_target_value(doc, 12349) && no_target_value(doc, 12345) && no_target_value(doc, 2025) &&
	      no_target_value(doc, 365) && no_target_value(doc, 24));
	t = find_code(tasks, "五.1");
	CHECK(t && target_is(target_with(t, "95%以上"), 95, "%", ">="));
	CHECK(t && target_is(target_with(t, "信访积案100%"), 100, "%", "="));
	t = find_code(tasks, "五.2");
	CHECK(t && !strcmp(sget(t, "cadence"), "monthly"));
	t = find_code(tasks, "五.3");
	CHECK(t && target_with(t, "159家") == NULL && fact_is(t, 159, "家", "工业企业"));
	CHECK(t && fact_is(t, 12, "个", "网格") && fact_is(t, 8, "个", "村居应急救援站点"));
	CHECK(fact_is(find_code(tasks, "一.2"), 119, "支", "志愿服务队伍"));
	CHECK(fact_is(find_code(tasks, "一.2"), 1522, "名", "志愿者力量"));
	CHECK(fact_is(find_code(tasks, "一.1.3"), 107, "个", NULL));
	CHECK(fact_is(find_code(tasks, "二.3.2"), 105, "亩", "地块"));
	CHECK(n_targets(doc) == 44); /* hand-labelled in tests/data/eval/chengdong-2025.expected.json */
	json_t *hint = parse_file("../shared/samples/chengdong-2025-plan.txt", 2026);
	CHECK(hint && json_integer_value(json_object_get(hint, "year")) == 2026);
	CHECK(hint && !strcmp(sget(find_code(json_object_get(hint, "tasks"), "一.2"), "due_date"), "2026-12-31"));
	json_decref(hint);
	json_decref(doc);
}

static void test_example(void)
{
	printf("docs/examples/example-plan.txt\n");
	json_t *doc = parse_file("docs/examples/example-plan.txt", 0);
	CHECK(doc != NULL);
	if (!doc)
		return;
	json_t *tasks = json_object_get(doc, "tasks");
	CHECK(counts_are(doc, 4, 10, 12));
	CHECK(json_array_size(json_object_get(doc, "warnings")) == 1); /* 每月走访重点企业1次: the cadence */
	CHECK(strstr(sget(json_array_get(json_object_get(doc, "warnings"), 0), "message"), "cadence") != NULL);
	CHECK(json_integer_value(json_object_get(doc, "year")) == 2025);
	CHECK(!strcmp(sget(doc, "title"), "南湖街道2025年重点工作计划"));
	json_t *t = find_code(tasks, "一.1.1");
	CHECK(t && !strcmp(sget(t, "title"), "优化网格划分"));
	/* 3月底前完成人员调配: a part (a milestone); 划分为86个: a fact */
	CHECK(t && json_is_null(json_object_get(t, "due_date")) && !strcmp(sget(t, "due_source"), "plan_period"));
	CHECK(t && !strcmp(sget(json_array_get(json_object_get(t, "milestones"), 0), "due_date"), "2025-03-31"));
	CHECK(t && fact_is(t, 86, "个", "基础网格"));
	t = find_code(tasks, "一.1.2");
	CHECK(t && !strcmp(sget(t, "cadence"), "weekly"));
	CHECK(t && target_is(target_with(t, "2万户次"), 2, "万户次", ">="));
	CHECK(t && target_is(target_with(t, "24小时内"), 24, "小时", "<="));
	t = find_code(tasks, "三.1");
	CHECK(t && target_is(target_with(t, "12.6万平方米"), 12.6, "万平方米", "="));
	CHECK(t && !strcmp(sget(t, "due_date"), "2025-12-31"));
	t = find_code(tasks, "三.2.3");
	CHECK(t && target_is(target_with(t, "5件以内"), 5, "件", "<="));
	t = find_code(tasks, "四.1");
	CHECK(t && !strcmp(sget(t, "due_date"), "2025-10-31"));
	CHECK(n_targets(doc) >= 25);
	json_decref(doc);
}

static void test_sections_full(void)
{
	printf("tests/data/plans/sections-full.txt (一、 （一） 1.)\n");
	json_t *doc = parse_file("tests/data/plans/sections-full.txt", 0);
	CHECK(doc != NULL);
	if (!doc)
		return;
	json_t *tasks = json_object_get(doc, "tasks");
	CHECK(counts_are(doc, 3, 5, 8));
	CHECK(json_integer_value(json_object_get(doc, "year")) == 2026);
	CHECK(!strcmp(sget(doc, "title"), "青禾镇2026年重点工作安排"));
	json_t *t = find_code(tasks, "二");
	CHECK(t && !strcmp(sget(t, "title"), "生态保护"));
	t = find_code(tasks, "一.1.1");
	CHECK(t && !strcmp(sget(t, "title"), "扩大高山茶园规模"));
	/* 6月底前完成春茶加工厂房建设: a part of the item, a milestone */
	CHECK(t && json_is_null(json_object_get(t, "due_date")));
	CHECK(t && !strcmp(sget(json_array_get(json_object_get(t, "milestones"), 0), "title"), "6月底前完成春茶加工厂房建设"));
	CHECK(t && target_is(target_with(t, "1200亩"), 1200, "亩", "="));
	CHECK(t && target_is(target_with(t, "不少于3家"), 3, "家", ">="));
	t = find_code(tasks, "一.2.2");
	CHECK(t && !strcmp(sget(t, "cadence"), "yearly"));
	CHECK(t && target_is(target_with(t, "3万人次以上"), 3, "万人次", ">="));
	t = find_code(tasks, "二.1.1"); /* 每月 once, 每周 twice */
	CHECK(t && !strcmp(sget(t, "cadence"), "weekly"));
	t = find_code(tasks, "二.1.2"); /* 2． */
	CHECK(t && !strcmp(sget(t, "due_date"), "2026-09-30"));
	t = find_code(tasks, "二.2.1"); /* 1、 */
	CHECK(t && !strcmp(sget(t, "due_date"), "2026-03-31"));
	CHECK(t && target_is(target_with(t, "95%以上"), 95, "%", ">="));
	json_decref(doc);
}

static void test_items_parens(void)
{
	printf("tests/data/plans/items-parens.txt (1. and (1), BOM, CRLF, full-width spaces)\n");
	json_t *doc = parse_file("tests/data/plans/items-parens.txt", 0);
	CHECK(doc != NULL);
	if (!doc)
		return;
	json_t *tasks = json_object_get(doc, "tasks");
	CHECK(counts_are(doc, 3, 6, 0));
	CHECK(json_array_size(json_object_get(doc, "counts")) == 2);
	CHECK(!strcmp(sget(doc, "title"), "溪口社区2025年度为民服务清单"));
	CHECK(json_integer_value(json_object_get(doc, "year")) == 2025);
	json_t *t = find_code(tasks, "一");
	CHECK(t && !strcmp(sget(t, "title"), "老年助餐服务"));
	t = find_code(tasks, "一.1");
	CHECK(t && target_is(target_with(t, "不少于150份"), 150, "份", ">="));
	t = find_code(tasks, "一.2");
	CHECK(t && !strcmp(sget(t, "cadence"), "weekly"));
	t = find_code(tasks, "二.1"); /* 4期 is no target */
	CHECK(t && json_array_size(json_object_get(t, "targets")) == 1);
	CHECK(t && target_is(target_with(t, "200名"), 200, "名", "="));
	t = find_code(tasks, "三.1");
	CHECK(t && !strcmp(sget(t, "due_date"), "2025-06-30"));
	t = find_code(tasks, "三.2");
	CHECK(t && !strcmp(sget(t, "title"), "加装扶手60处"));
	json_decref(doc);
}

static void test_traps(void)
{
	printf("tests/data/plans/traps.txt\n");
	json_t *doc = parse_file("tests/data/plans/traps.txt", 0);
	CHECK(doc != NULL);
	if (!doc)
		return;
	json_t *tasks = json_object_get(doc, "tasks");
	CHECK(counts_are(doc, 2, 5, 2));
	CHECK(!strcmp(sget(doc, "title"), "云岭街道2025年平安建设要点"));
	CHECK(json_integer_value(json_object_get(doc, "year")) == 2025);
	CHECK(no_target_value(doc, 12345) && no_target_value(doc, 12349) && no_target_value(doc, 2025) &&
	      no_target_value(doc, 2.5) && no_target_value(doc, 10 + 0.5) && no_target_value(doc, 12) &&
	      no_target_value(doc, 7) && no_target_value(doc, 1));
	json_t *t = find_code(tasks, "一.1.1");
	CHECK(t && target_is(target_with(t, "98%"), 98, "%", ">="));
	CHECK(t && target_is(target_with(t, "3个工作日内"), 3, "个工作日", "<="));
	t = find_code(tasks, "一.1.2");
	CHECK(t && target_is(target_with(t, "不低于96%"), 96, "%", ">="));
	CHECK(t && !strcmp(sget(t, "cadence"), "monthly"));
	t = find_code(tasks, "一.2"); /* 第3期, 《…10项…》 */
	CHECK(t && json_array_size(json_object_get(t, "targets")) == 1);
	CHECK(t && target_is(target_with(t, "20场"), 20, "场", "="));
	CHECK(t && !strcmp(sget(t, "due_date"), "2025-12-31"));
	json_t *ms = t ? json_object_get(t, "milestones") : NULL;
	CHECK(json_array_size(ms) == 3); /* 首轮, 上半年 (before the year's end), 第二轮 */
	CHECK(!strcmp(sget(json_array_get(ms, 0), "due_date"), "2025-03-31"));
	CHECK(!strcmp(sget(json_array_get(ms, 0), "title"), "3月底前完成首轮宣讲"));
	CHECK(!strcmp(sget(json_array_get(ms, 1), "due_date"), "2025-06-30"));
	CHECK(!strcmp(sget(json_array_get(ms, 2), "due_date"), "2025-09-30"));
	t = find_code(tasks, "一.3"); /* “1+3+N” and "2+3+N"; 每季度 twice, 每月 once */
	CHECK(t && json_array_size(json_object_get(t, "targets")) == 0);
	CHECK(t && !strcmp(sget(t, "cadence"), "quarterly"));
	t = find_code(tasks, "二.1");
	CHECK(t && target_is(target_with(t, "10件以内"), 10, "件", "<="));
	CHECK(t && target_is(target_with(t, "不超过20件"), 20, "件", "<="));
	CHECK(t && target_is(target_with(t, "300余件"), 300, "件", ">="));
	CHECK(t && json_array_size(json_object_get(t, "targets")) == 3); /* not PM2.5 */
	t = find_code(tasks, "二.2"); /* 〔2025〕12号, 2025-04-01, 第二届 */
	CHECK(t && json_array_size(json_object_get(t, "targets")) == 1);
	CHECK(t && target_is(target_with(t, "至少50处"), 50, "处", ">="));
	/* 2025-04-01起: the start; 评选10月份揭晓: a part */
	CHECK(t && json_is_null(json_object_get(t, "due_date")) && !strcmp(sget(t, "start_date"), "2025-04-01"));
	CHECK(t && json_array_size(json_object_get(t, "milestones")) == 1);
	json_decref(doc);
}

static void test_edges(void)
{
	printf("edge cases\n");
	char err[256];
	json_t *doc;
	/* invalid UTF-8, NUL, out-of-range year: NULL with a message */
	err[0] = '\0';
	CHECK(planparse_parse("1.\xff\xfe", 4, 0, err, sizeof err) == NULL && err[0]);
	CHECK(planparse_parse("1.\xe4\xb8", 4, 0, err, sizeof err) == NULL);     /* truncated */
	CHECK(planparse_parse("1.\xed\xa0\x80", 5, 0, err, sizeof err) == NULL); /* surrogate */
	CHECK(planparse_parse("1.\xc0\xaf", 4, 0, err, sizeof err) == NULL);     /* overlong */
	CHECK(planparse_parse("1.a\0b", 5, 0, err, sizeof err) == NULL);
	CHECK(planparse_parse("1.a", 3, 99999, err, sizeof err) == NULL && strstr(err, "year"));
	/* empty and heading-less text: no tasks, not an error */
	doc = planparse_parse("", 0, 0, err, sizeof err);
	CHECK(doc && json_array_size(json_object_get(doc, "tasks")) == 0 && json_is_null(json_object_get(doc, "title")));
	CHECK(doc && json_array_size(json_object_get(doc, "counts")) == 0);
	json_decref(doc);
	doc = planparse_parse(NULL, 0, 0, err, sizeof err);
	CHECK(doc != NULL);
	json_decref(doc);
	doc = parse_str("只是一段没有编号的文字。", 0);
	CHECK(doc && json_array_size(json_object_get(doc, "tasks")) == 0);
	json_decref(doc);
	/* not NUL-terminated: only len bytes are read */
	const char *two = "1.甲项。\n2.乙项。";
	doc = planparse_parse(two, strlen("1.甲项。"), 0, err, sizeof err);
	CHECK(doc && json_array_size(json_object_get(doc, "tasks")) == 1);
	json_decref(doc);
	/* 2.5万 at a line start is no heading; CR-only line ends */
	doc = parse_str("1.甲项\r2.5万平方米绿化\r2.乙项", 2025);
	CHECK(doc && json_array_size(json_object_get(doc, "tasks")) == 2);
	json_t *t = doc ? find_code(json_object_get(doc, "tasks"), "一") : NULL;
	CHECK(t && target_is(target_with(t, "2.5万平方米"), 2.5, "万平方米", "="));
	json_decref(doc);
	/* year from the document; no year: relative deadlines undated with a warning */
	doc = parse_str("1.修路。6月底前完工。", 0);
	CHECK(doc && json_is_null(json_object_get(doc, "year")));
	CHECK(doc && json_is_null(json_object_get(json_array_get(json_object_get(doc, "tasks"), 0), "due_date")));
	CHECK(doc && json_array_size(json_object_get(doc, "warnings")) == 1);
	json_decref(doc);
	doc = parse_str("1.修路。2024年6月底前完工。", 0);
	t = doc ? json_array_get(json_object_get(doc, "tasks"), 0) : NULL;
	CHECK(t && !strcmp(sget(t, "due_date"), "2024-06-30"));
	json_decref(doc);
	/* a document starting at （一） with 一是 inside; an impossible date warns */
	doc = parse_str("（一）甲。一是乙。2月30日前完成。二是丙。一季度完成。\n（二）丁", 2025);
	CHECK(doc && counts_are(doc, 2, 2, 0));
	t = doc ? find_code(json_object_get(doc, "tasks"), "一.2") : NULL;
	CHECK(t && !strcmp(sget(t, "title"), "丙") && !strcmp(sget(t, "due_date"), "2025-03-31"));
	CHECK(doc && json_array_size(json_object_get(doc, "warnings")) == 1);
	json_decref(doc);
	/* 一是 needs punctuation before it (统一是 is no marker) and a 二是 */
	doc = parse_str("1.甲。标准统一是前提,二是关键。\n2.乙。一是只有一个。", 2025);
	CHECK(doc && counts_are(doc, 2, 0, 0));
	json_decref(doc);
	/* skipped level and numbering jump are warnings, and codes follow the tree */
	doc = parse_str("一、总体\n1.甲\n3.乙\n（一）丙", 2025);
	CHECK(doc && counts_are(doc, 1, 3, 0));
	CHECK(doc && json_array_size(json_object_get(doc, "warnings")) >= 2);
	CHECK(doc && find_code(json_object_get(doc, "tasks"), "一.3") != NULL);
	json_decref(doc);
	/* an empty heading gets a placeholder title, never an empty one */
	doc = parse_str("1.\n2.。", 2025);
	t = doc ? json_array_get(json_object_get(doc, "tasks"), 0) : NULL;
	CHECK(t && *sget(t, "title"));
	json_decref(doc);
	/* deep nesting caps at the styles + 一是 */
	doc = parse_str("一、a\n（一）b\n1.c\n（1）d\n①e。一是f。二是g。", 2025);
	CHECK(doc && json_array_size(json_object_get(doc, "counts")) == 6);
	CHECK(doc && find_code(json_object_get(doc, "tasks"), "一.1.1.1.1.2") != NULL);
	json_decref(doc);
	/* a long line without 。 is shortened into the title with the text kept */
	char big[4000];
	strcpy(big, "1.");
	for (int i = 0; i < 300; i++)
		strcat(big, "长");
	doc = parse_str(big, 2025);
	t = doc ? json_array_get(json_object_get(doc, "tasks"), 0) : NULL;
	CHECK(t && strlen(sget(t, "title")) <= 500 && strlen(sget(t, "body")) >= 900);
	json_decref(doc);
}


/* The first task of a one-item plan "1.<body>" in 2025. */
static json_t *one(const char *body, json_t **doc)
{
	char buf[2048];
	snprintf(buf, sizeof buf, "某街道2025年工作要点\n1.事项。%s", body);
	*doc = parse_str(buf, 0);
	return *doc ? json_array_get(json_object_get(*doc, "tasks"), 0) : NULL;
}

static void test_rules(void)
{
	printf("extraction rules\n");
	json_t *doc, *t, *g;
	/* facts: counts after 原有, 现有, 共有, 辖区内有, 涉及, 覆盖, 依托, 划分为, 对辖区, 向 */
	static const char *const fact_texts[] = { "整合原有119支队伍。", "现有网格12个。", "全镇共有行政村23个。",
		"辖区内有企业159家。", "涉及村庄9个。", "覆盖107个网格。", "依托8个站点开展演练。",
		"将周边区域划分为12个网格。", "对辖区159家工业企业逐一摸排。", "向17个村提供设备。",
		"围绕105亩地块招商。", "17个村分别打造品牌。", NULL };
	for (int k = 0; fact_texts[k]; k++) {
		t = one(fact_texts[k], &doc);
		int ok = t && json_array_size(json_object_get(t, "targets")) == 0 &&
			 json_array_size(json_object_get(t, "facts")) == 1;
		if (!ok)
			printf("  not a fact: %s\n", fact_texts[k]);
		CHECK(ok);
		json_decref(doc);
	}
	/* verb classes, comparators, strive, baseline */
	static const struct {
		const char *text, *verb, *cmp, *unit;
		double value;
	} verbs[] = {
		{ "新增网格驿站10处。", "new", "=", "处", 10 },
		{ "完成改造600户。", "complete", "=", "户", 600 },
		{ "满意度达到90%以上。", "reach", ">=", "%", 90 },
		{ "组织义诊不少于4场。", "at_least", ">=", "场", 4 },
		{ "投诉不超过20件。", "at_most", "<=", "件", 20 },
		{ "产值同比增长8%。", "increase_by", "=", "%", 8 },
		{ "PM2.5浓度下降5%。", "reduce_by", "=", "%", 5 },
		{ "投诉量控制在10件以内。", "control_within", "<=", "件", 10 },
		{ "群众来电3个工作日内回复。", "control_within", "<=", "个工作日", 3 },
		{ "新建停车场两处。", "new", "=", "处", 2 },
		{ "新建分类驿站十余个。", "new", ">=", "个", 10 },
		{ "更新老旧电梯二十三部。", "complete", "=", "部", 23 },
		{ "新装健身设施１００套。", "new", "=", "套", 100 },
		{ NULL, NULL, NULL, NULL, 0 },
	};
	for (int k = 0; verbs[k].text; k++) {
		t = one(verbs[k].text, &doc);
		g = t ? json_array_get(json_object_get(t, "targets"), 0) : NULL;
		int ok = g && json_array_size(json_object_get(t, "targets")) == 1 && target_is(g, verbs[k].value, verbs[k].unit, verbs[k].cmp) &&
			 !strcmp(sget(g, "verb"), verbs[k].verb);
		if (!ok)
			printf("  %s: verb %s\n", verbs[k].text, sget(g, "verb"));
		CHECK(ok);
		json_decref(doc);
	}
	t = one("力争新增省级示范社2家。", &doc);
	g = t ? json_array_get(json_object_get(t, "targets"), 0) : NULL;
	CHECK(g && json_is_true(json_object_get(g, "strive")) && !strcmp(sget(g, "label"), "省级示范社"));
	json_decref(doc);
	t = one("调解成功率由85%提升至95%。", &doc);
	CHECK(t && json_array_size(json_object_get(t, "targets")) == 1);
	g = t ? json_array_get(json_object_get(t, "targets"), 0) : NULL;
	CHECK(g && json_number_value(json_object_get(g, "baseline")) == 85 && json_number_value(json_object_get(g, "value")) == 95);
	CHECK(g && !strcmp(sget(g, "label"), "调解成功率") && !strcmp(sget(g, "verb"), "reach"));
	json_decref(doc);
	/* never targets: years, phone and service numbers, names with digits, ordinals; each warned or a date */
	t = one("谋划实施2025年省重大项目1个，开通12345热线，PM2.5监测，第二届运动会，与7天酒店合作。", &doc);
	CHECK(t && json_array_size(json_object_get(t, "targets")) == 1);
	g = t ? json_array_get(json_object_get(t, "targets"), 0) : NULL;
	CHECK(g && !strcmp(sget(g, "label"), "省重大项目")); /* not 年省重大项目 */
	CHECK(doc && json_array_size(json_object_get(doc, "warnings")) == 2); /* 12345, 7天 */
	json_decref(doc);
	/* labels: no ordinal words, deadlines or stray quotes */
	doc = parse_str("某街道2025年工作要点\n1.改造。一是新建“口袋公园”3个。二是三季度末前建成驿站5处。", 0);
	t = doc ? find_code(json_object_get(doc, "tasks"), "一.2") : NULL;
	g = t ? json_array_get(json_object_get(t, "targets"), 0) : NULL;
	CHECK(g && !strcmp(sget(g, "label"), "驿站"));
	CHECK(t && !strcmp(sget(t, "due_date"), "2025-09-30"));
	t = doc ? find_code(json_object_get(doc, "tasks"), "一.1") : NULL;
	g = t ? json_array_get(json_object_get(t, "targets"), 0) : NULL;
	CHECK(g && !strcmp(sget(g, "label"), "口袋公园"));
	json_decref(doc);
	/* a part's deadline is a milestone (its count goes with it); the year's end is the due date */
	t = one("建设驿站。全年建成3处，其中上半年完成1处。", &doc);
	CHECK(t && !strcmp(sget(t, "due_date"), "2025-12-31") && !strcmp(sget(t, "due_source"), "text"));
	CHECK(t && json_array_size(json_object_get(t, "targets")) == 1);
	g = t ? json_array_get(json_object_get(t, "milestones"), 0) : NULL;
	CHECK(g && !strcmp(sget(g, "due_date"), "2025-06-30") && !strcmp(sget(g, "title"), "上半年完成1处"));
	CHECK(g && json_number_value(json_object_get(json_object_get(g, "target"), "value")) == 1);
	json_decref(doc);
	t = one("环境整治。常态化开展巡查，3月底前完成重点区域整治。", &doc);
	CHECK(t && json_is_null(json_object_get(t, "due_date")) && !strcmp(sget(t, "due_source"), "plan_period"));
	CHECK(t && json_array_size(json_object_get(t, "milestones")) == 1);
	json_decref(doc);
	t = one("修路。改造道路3条，6月底前全部完工。", &doc);
	CHECK(t && !strcmp(sget(t, "due_date"), "2025-06-30") && json_array_size(json_object_get(t, "milestones")) == 0);
	json_decref(doc);
	t = one("修路。改造道路3条，10月15日前完成。", &doc);
	CHECK(t && !strcmp(sget(t, "due_date"), "2025-10-15"));
	json_decref(doc);
	/* 二是… left in an item with numbered children: a part, and its label has no 二是 */
	doc = parse_str("某街道2025年要点\n1.甲项。一是新建口袋公园3个。二是三季度末前建成“红色驿站”5处。\n（1）子项。", 0);
	t = doc ? find_code(json_object_get(doc, "tasks"), "一") : NULL;
	CHECK(t && json_is_null(json_object_get(t, "due_date")));
	g = t ? json_array_get(json_object_get(t, "milestones"), 0) : NULL;
	CHECK(g && !strcmp(sget(g, "due_date"), "2025-09-30") && !strcmp(sget(json_object_get(g, "target"), "label"), "红色驿站"));
	json_decref(doc);
	/* children: no date of their own runs to the parent's */
	doc = parse_str("某街道2025年工作要点\n1.修路。年底前完成。\n（1）摸排。\n2.巡查。", 0);
	CHECK(doc && !strcmp(sget(find_code(json_object_get(doc, "tasks"), "一.1"), "due_source"), "parent"));
	CHECK(doc && !strcmp(sget(find_code(json_object_get(doc, "tasks"), "二"), "due_source"), "plan_period"));
	json_decref(doc);
	/* 第一，/第二， headings; a table pasted as text; how often is the cadence */
	doc = parse_str("某街道2025年要点\n第一，安全\n（一）巡查。每月巡查1次。\n第二，环境\n（一）保洁。", 0);
	CHECK(doc && counts_are(doc, 2, 2, 0));
	CHECK(doc && !strcmp(sget(find_code(json_object_get(doc, "tasks"), "二"), "title"), "环境"));
	t = doc ? find_code(json_object_get(doc, "tasks"), "一.1") : NULL;
	CHECK(t && json_array_size(json_object_get(t, "targets")) == 0 && !strcmp(sget(t, "cadence"), "monthly"));
	json_decref(doc);
	doc = parse_str("某街道2026年清单\n序号\t项目\t内容\t时限\n1、\t停车\t新增泊位500个\t全年\n2、\t食堂\t新建食堂4处\t6月30日前", 0);
	t = doc ? find_code(json_object_get(doc, "tasks"), "二") : NULL;
	CHECK(t && !strcmp(sget(t, "title"), "食堂") && !strcmp(sget(t, "due_date"), "2026-06-30"));
	g = t ? json_array_get(json_object_get(t, "targets"), 0) : NULL;
	CHECK(g && !strcmp(sget(g, "label"), "食堂"));
	json_decref(doc);
}

int main(void)
{
	test_sample();
	test_example();
	test_sections_full();
	test_items_parens();
	test_traps();
	test_edges();
	test_rules();
	return check_summary();
}
