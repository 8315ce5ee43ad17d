/*
 * bulletin.c - the monthly bulletin (月通报) as a printable HTML page (see
 * bulletin.h): headline, counts by light, what was finished, what is overdue
 * or behind 序时进度, what falls due soon, and the units' ranking with the red
 * and black lists. A4 print styles; no scripts, no external resources.
 */
#include "plantrack/bulletin.h"

#include <stdio.h>
#include <string.h>

static void esc(struct evbuffer *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': evbuffer_add(out, "&amp;", 5); break;
		case '<': evbuffer_add(out, "&lt;", 4); break;
		case '>': evbuffer_add(out, "&gt;", 4); break;
		case '"': evbuffer_add(out, "&quot;", 6); break;
		case '\'': evbuffer_add(out, "&#39;", 5); break;
		default: evbuffer_add(out, s, 1);
		}
	}
}

/* A member as text: strings as they are, numbers printed, null/absent empty. */
static void cell(struct evbuffer *out, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	char buf[64];
	if (json_is_string(v)) {
		esc(out, json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
		evbuffer_add(out, buf, strlen(buf));
	} else if (json_is_real(v)) {
		snprintf(buf, sizeof buf, "%.1f", json_real_value(v));
		evbuffer_add(out, buf, strlen(buf));
	} else if (json_is_true(v)) {
		evbuffer_add(out, "是", 3);
	}
}

static void rate(struct evbuffer *out, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	if (json_is_number(v))
		evbuffer_add_printf(out, "%.1f%%", json_number_value(v) * 100.0);
}

static const char *light_word(const char *l)
{
	if (!l) return "";
	if (!strcmp(l, "red")) return "红";
	if (!strcmp(l, "yellow")) return "黄";
	if (!strcmp(l, "green")) return "绿";
	if (!strcmp(l, "done")) return "已办结";
	if (!strcmp(l, "verified")) return "已销号";
	if (!strcmp(l, "cancelled")) return "已取消";
	return l;
}

static void table(struct evbuffer *out, const char *heading, const json_t *rows, const char *const *keys,
		  const char *const *labels)
{
	evbuffer_add_printf(out, "<h2>%s（%zu）</h2>\n", heading, json_array_size(rows));
	if (!json_array_size(rows)) {
		evbuffer_add_printf(out, "<p class=\"none\">无</p>\n");
		return;
	}
	evbuffer_add_printf(out, "<table><thead><tr>");
	for (int i = 0; labels[i]; i++)
		evbuffer_add_printf(out, "<th>%s</th>", labels[i]);
	evbuffer_add_printf(out, "</tr></thead><tbody>\n");
	size_t i;
	const json_t *row;
	json_array_foreach(rows, i, row) {
		evbuffer_add_printf(out, "<tr>");
		for (int k = 0; keys[k]; k++) {
			evbuffer_add_printf(out, "<td>");
			cell(out, row, keys[k]);
			evbuffer_add_printf(out, "</td>");
		}
		evbuffer_add_printf(out, "</tr>\n");
	}
	evbuffer_add_printf(out, "</tbody></table>\n");
}

static void names(struct evbuffer *out, const json_t *list)
{
	size_t i;
	const json_t *v;
	if (!json_array_size(list)) {
		evbuffer_add(out, "无", 3);
		return;
	}
	json_array_foreach(list, i, v) {
		if (i)
			evbuffer_add(out, "、", 3);
		esc(out, json_string_value(v));
	}
}

void bulletin_html(const json_t *doc, struct evbuffer *out)
{
	const json_t *plan = json_object_get(doc, "plan"), *period = json_object_get(doc, "period");
	const char *title = json_string_value(json_object_get(plan, "title"));
	const char *label = json_string_value(json_object_get(period, "label"));
	evbuffer_add_printf(out, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\n<title>");
	esc(out, title);
	evbuffer_add_printf(out, " 工作通报 ");
	esc(out, label);
	evbuffer_add_printf(out, "</title>\n<style>\n"
			    "@page { size: A4; margin: 18mm 15mm; }\n"
			    "body { font-family: \"SimSun\", \"Songti SC\", serif; font-size: 11pt; color: #000; }\n"
			    "h1 { font-size: 18pt; text-align: center; margin: 0 0 4pt; }\n"
			    "h2 { font-size: 13pt; margin: 14pt 0 4pt; }\n"
			    ".meta { text-align: center; margin-bottom: 10pt; }\n"
			    "table { border-collapse: collapse; width: 100%%; page-break-inside: auto; }\n"
			    "tr { page-break-inside: avoid; }\n"
			    "th, td { border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; }\n"
			    "th { background: #ddebf7; }\n"
			    ".red { color: #c00000; font-weight: bold; } .none { color: #555; }\n"
			    "</style></head><body>\n<h1>");
	esc(out, title);
	evbuffer_add_printf(out, "<br>工作推进情况通报（");
	esc(out, label);
	evbuffer_add_printf(out, "）</h1>\n<p class=\"meta\">统计区间 ");
	cell(out, period, "from");
	evbuffer_add_printf(out, " 至 ");
	cell(out, period, "to");
	evbuffer_add_printf(out, "，截至 ");
	cell(out, doc, "as_of");
	if (!json_is_true(json_object_get(doc, "final")))
		evbuffer_add_printf(out, "（本期尚未结束）");
	evbuffer_add_printf(out, "</p>\n<h2>总体情况</h2>\n<p>共 ");
	cell(out, doc, "items");
	evbuffer_add_printf(out, " 项具体工作，总体进度 ");
	cell(out, doc, "progress");
	evbuffer_add_printf(out, "%%。");
	static const char *const lights[] = { "red", "yellow", "green", "done", "verified", "cancelled", NULL };
	const json_t *bl = json_object_get(doc, "by_light");
	for (int i = 0; lights[i]; i++) {
		const json_t *n = json_object_get(bl, lights[i]);
		if (json_integer_value(n) > 0)
			evbuffer_add_printf(out, "%s%s %lld 项", i ? "，" : "", light_word(lights[i]),
					    (long long)json_integer_value(n));
	}
	evbuffer_add_printf(out, "。</p>\n");
	static const char *const dk[] = { "code", "title", "lead_unit", "closed_on", "effective_due", NULL };
	static const char *const dl[] = { "序号", "任务", "牵头单位", "办结日期", "完成时限", NULL };
	table(out, "本期办结", json_object_get(doc, "done"), dk, dl);
	static const char *const ok[] = { "code", "title", "lead_unit", "effective_due", "days_overdue", "progress", NULL };
	static const char *const ol[] = { "序号", "任务", "牵头单位", "完成时限", "逾期天数", "进度（%）", NULL };
	table(out, "逾期未完成（红灯）", json_object_get(doc, "overdue"), ok, ol);
	static const char *const bk[] = { "code", "title", "lead_unit", "effective_due", "progress", "expected_progress", NULL };
	static const char *const blb[] = { "序号", "任务", "牵头单位", "完成时限", "进度（%）", "序时进度（%）", NULL };
	table(out, "滞后序时进度（黄灯）", json_object_get(doc, "behind"), bk, blb);
	static const char *const sk[] = { "code", "title", "lead_unit", "effective_due", "progress", NULL };
	static const char *const sl[] = { "序号", "任务", "牵头单位", "完成时限", "进度（%）", NULL };
	table(out, "30日内到期", json_object_get(doc, "due_soon"), sk, sl);
	const json_t *units = json_object_get(doc, "ranking");
	evbuffer_add_printf(out, "<h2>赛马排名</h2>\n<table><thead><tr><th>名次</th><th>单位</th><th>综合得分</th>"
			    "<th>按期完成率</th><th>进度/序时进度</th><th>红灯占比</th><th>任务数</th></tr></thead><tbody>\n");
	size_t i;
	const json_t *u;
	json_array_foreach(units, i, u) {
		evbuffer_add_printf(out, "<tr><td>");
		cell(out, u, "rank");
		evbuffer_add_printf(out, "</td><td>");
		cell(out, u, "unit");
		evbuffer_add_printf(out, "</td><td>");
		cell(out, u, "score");
		evbuffer_add_printf(out, "</td><td>");
		rate(out, u, "on_time_rate");
		evbuffer_add_printf(out, "</td><td>");
		rate(out, u, "progress_ratio");
		evbuffer_add_printf(out, "</td><td>");
		rate(out, u, "red_share");
		evbuffer_add_printf(out, "</td><td>");
		cell(out, u, "tasks");
		evbuffer_add_printf(out, "</td></tr>\n");
	}
	evbuffer_add_printf(out, "</tbody></table>\n<p><b>红榜：</b>");
	names(out, json_object_get(doc, "red_list"));
	evbuffer_add_printf(out, "</p>\n<p class=\"red\"><b>黑榜：</b>");
	names(out, json_object_get(doc, "black_list"));
	evbuffer_add_printf(out, "</p>\n</body></html>\n");
}
