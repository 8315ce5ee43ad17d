/*
 * ledger_xlsx.c - write the plan ledger JSON (docs/ledger.md) as an .xlsx
 * workbook with libxlsxwriter (see ledger_xlsx.h): sheet 台账 (title, frozen
 * header, the task tree indented by level, lights as fills) and sheet 赛马排名.
 * The input is checked field by field before anything is written.
 */
#include "plantrack/ledger_xlsx.h"
#include "plantrack/daynum.h"

#include <xlsxwriter.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FONT "宋体"
#define MAX_LEVEL 9
#define LEDGER_COLS 12
#define RANK_COLS 8

struct name {
	const char *key, *zh;
};

static const struct name status_names[] = {
	{ "planned", "未开始" },  { "assigned", "待签收" }, { "in_progress", "推进中" }, { "blocked", "受阻" },
	{ "done", "已办结" },     { "verified", "已销号" }, { "cancelled", "已取消" },
};

struct light {
	const char *key, *zh;
	unsigned rgb, font;
};

static const struct light lights[] = {
	{ "red", "红", 0xFF0000, 0xFFFFFF },    { "yellow", "黄", 0xFFFF00, 0x000000 },
	{ "green", "绿", 0x00B050, 0xFFFFFF },  { "done", "蓝", 0x5B9BD5, 0xFFFFFF },
	{ "verified", "蓝", 0x2F75B5, 0xFFFFFF }, { "cancelled", "灰", 0xBFBFBF, 0x000000 },
};
#define NLIGHTS (sizeof lights / sizeof lights[0])

static const struct name progress_sources[] = {
	{ "own", "自报" }, { "children", "下级汇总" }, { "none", "未报告" },
};

static const struct name lists[] = { { "red", "红榜" }, { "black", "黑榜" } };

static const char *lookup(const struct name *t, size_t n, const char *key)
{
	if (!key)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].key, key))
			return t[i].zh;
	return NULL;
}

const char *ledger_xlsx_status_name(const char *status)
{
	return lookup(status_names, sizeof status_names / sizeof status_names[0], status);
}

static int light_index(const char *light)
{
	for (size_t i = 0; light && i < NLIGHTS; i++)
		if (!strcmp(lights[i].key, light))
			return (int)i;
	return -1;
}

const char *ledger_xlsx_light_name(const char *light, unsigned *rgb)
{
	int i = light_index(light);
	if (rgb)
		*rgb = i < 0 ? 0 : lights[i].rgb;
	return i < 0 ? NULL : lights[i].zh;
}

/* ---- reading the input: every getter records the first type error ---- */

struct in {
	char *err;
	size_t errlen;
	int failed;
};

__attribute__((format(printf, 2, 3))) static void fail(struct in *in, const char *fmt, ...)
{
	if (in->failed++)
		return;
	if (in->err && in->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(in->err, in->errlen, fmt, ap);
		va_end(ap);
	}
}

/* A string member; NULL when absent or null; a type error otherwise. */
static const char *get_str(struct in *in, const json_t *o, const char *key, const char *path)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		fail(in, "%s.%s must be a string", path, key);
		return NULL;
	}
	return json_string_value(v);
}

/* A number member into *out; 0 when present, 1 when absent or null. */
static int get_num(struct in *in, const json_t *o, const char *key, const char *path, double *out)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 1;
	if (!json_is_number(v)) {
		fail(in, "%s.%s must be a number", path, key);
		return 1;
	}
	*out = json_number_value(v);
	return 0;
}

/* A date member ("YYYY-MM-DD") into *dt; 0 when present, 1 when absent or null. */
static int get_date(struct in *in, const json_t *o, const char *key, const char *path, lxw_datetime *dt)
{
	const char *s = get_str(in, o, key, path);
	long n;
	if (!s)
		return 1;
	if (daynum_parse(s, &n)) {
		fail(in, "%s.%s must be a date YYYY-MM-DD", path, key);
		return 1;
	}
	memset(dt, 0, sizeof *dt);
	daynum_to_ymd(n, &dt->year, &dt->month, &dt->day);
	return 0;
}

/* ---- writing ---- */

struct fmts {
	lxw_format *title, *subtitle, *header, *text, *center, *wrap, *date, *date_inherited, *percent;
	lxw_format *level[MAX_LEVEL + 1];
	lxw_format *light[NLIGHTS];
	lxw_format *score, *rate, *gap, *integer;
};

static lxw_format *new_format(lxw_workbook *wb)
{
	lxw_format *f = workbook_add_format(wb);
	format_set_font_name(f, FONT);
	format_set_font_size(f, 11);
	format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
	return f;
}

/* A body cell: thin border, vertically centred. */
static lxw_format *cell_format(lxw_workbook *wb)
{
	lxw_format *f = new_format(wb);
	format_set_border(f, LXW_BORDER_THIN);
	return f;
}

static void make_formats(lxw_workbook *wb, struct fmts *f)
{
	f->title = new_format(wb);
	format_set_bold(f->title);
	format_set_font_size(f->title, 16);
	format_set_align(f->title, LXW_ALIGN_CENTER);
	f->subtitle = new_format(wb);
	format_set_font_size(f->subtitle, 10);
	format_set_align(f->subtitle, LXW_ALIGN_RIGHT);
	f->header = cell_format(wb);
	format_set_bold(f->header);
	format_set_align(f->header, LXW_ALIGN_CENTER);
	format_set_text_wrap(f->header);
	format_set_pattern(f->header, LXW_PATTERN_SOLID);
	format_set_bg_color(f->header, 0xD9E1F2);
	f->text = cell_format(wb);
	f->center = cell_format(wb);
	format_set_align(f->center, LXW_ALIGN_CENTER);
	f->wrap = cell_format(wb);
	format_set_text_wrap(f->wrap);
	f->date = cell_format(wb);
	format_set_align(f->date, LXW_ALIGN_CENTER);
	format_set_num_format(f->date, "yyyy-mm-dd");
	f->date_inherited = cell_format(wb);
	format_set_align(f->date_inherited, LXW_ALIGN_CENTER);
	format_set_num_format(f->date_inherited, "yyyy-mm-dd\"（继承）\"");
	f->percent = cell_format(wb);
	format_set_align(f->percent, LXW_ALIGN_CENTER);
	format_set_num_format(f->percent, "0%");
	for (int i = 0; i <= MAX_LEVEL; i++) {
		f->level[i] = cell_format(wb);
		format_set_text_wrap(f->level[i]);
		if (i > 1)
			format_set_indent(f->level[i], (uint8_t)(i - 1));
		if (i <= 1)
			format_set_bold(f->level[i]);
	}
	for (size_t i = 0; i < NLIGHTS; i++) {
		f->light[i] = cell_format(wb);
		format_set_align(f->light[i], LXW_ALIGN_CENTER);
		format_set_bold(f->light[i]);
		format_set_pattern(f->light[i], LXW_PATTERN_SOLID);
		format_set_bg_color(f->light[i], lights[i].rgb);
		format_set_font_color(f->light[i], lights[i].font);
	}
	f->score = cell_format(wb);
	format_set_align(f->score, LXW_ALIGN_CENTER);
	format_set_num_format(f->score, "0.0");
	f->rate = cell_format(wb);
	format_set_align(f->rate, LXW_ALIGN_CENTER);
	format_set_num_format(f->rate, "0.0%");
	f->gap = cell_format(wb);
	format_set_align(f->gap, LXW_ALIGN_CENTER);
	format_set_num_format(f->gap, "+0.0;-0.0;0.0");
	f->integer = cell_format(wb);
	format_set_align(f->integer, LXW_ALIGN_CENTER);
	format_set_num_format(f->integer, "0");
}

struct out {
	struct in *in;
	lxw_worksheet *ws;
	const char *sheet;
};

static void check(struct out *o, lxw_error e, lxw_row_t row)
{
	if (e != LXW_NO_ERROR)
		fail(o->in, "sheet %s row %u: %s", o->sheet, (unsigned)row + 1, lxw_strerror(e));
}

/* Writes s (NULL = an empty bordered cell), cut to LEDGER_XLSX_MAX_CELL bytes. */
static void put_str(struct out *o, lxw_row_t row, lxw_col_t col, const char *s, lxw_format *f)
{
	if (!s || !*s) {
		check(o, worksheet_write_blank(o->ws, row, col, f), row);
		return;
	}
	size_t n = strlen(s);
	if (n <= LEDGER_XLSX_MAX_CELL) {
		check(o, worksheet_write_string(o->ws, row, col, s, f), row);
		return;
	}
	static const char ellipsis[] = "…";
	size_t cut = LEDGER_XLSX_MAX_CELL - (sizeof ellipsis - 1);
	while (cut && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--; /* do not split a UTF-8 sequence */
	char *buf = malloc(cut + sizeof ellipsis);
	if (!buf) {
		fail(o->in, "out of memory");
		return;
	}
	memcpy(buf, s, cut);
	memcpy(buf + cut, ellipsis, sizeof ellipsis);
	check(o, worksheet_write_string(o->ws, row, col, buf, f), row);
	free(buf);
}

static void put_num(struct out *o, lxw_row_t row, lxw_col_t col, int have, double v, lxw_format *f)
{
	if (have)
		check(o, worksheet_write_number(o->ws, row, col, v, f), row);
	else
		check(o, worksheet_write_blank(o->ws, row, col, f), row);
}

/* Joins an array of strings with "、" (caller frees). NULL on a type error. */
static char *join_units(struct in *in, const json_t *arr, const char *path)
{
	size_t total = 1, i;
	json_t *v;
	if (!arr || json_is_null(arr))
		return strdup("");
	if (!json_is_array(arr)) {
		fail(in, "%s.co_units must be an array of strings", path);
		return NULL;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			fail(in, "%s.co_units[%zu] must be a string", path, i);
			return NULL;
		}
		total += json_string_length(v) + 3;
	}
	char *s = malloc(total), *p = s;
	if (!s) {
		fail(in, "out of memory");
		return NULL;
	}
	json_array_foreach(arr, i, v) {
		if (i) {
			memcpy(p, "、", 3);
			p += 3;
		}
		memcpy(p, json_string_value(v), json_string_length(v));
		p += json_string_length(v);
	}
	*p = 0;
	return s;
}

static void set_print(lxw_worksheet *ws, lxw_row_t header_row)
{
	worksheet_set_landscape(ws);
	worksheet_set_paper(ws, 9); /* A4 */
	worksheet_set_margins(ws, 0.4, 0.4, 0.6, 0.6);
	worksheet_repeat_rows(ws, header_row, header_row);
	worksheet_fit_to_pages(ws, 1, 0); /* one page wide, as many tall as needed */
	worksheet_center_horizontally(ws);
	worksheet_set_footer(ws, "&C第 &P 页，共 &N 页");
}

/* The headline: "<title><what>", with "<year>年" in front when the title
 * does not name the year already ("2025年重点工作任务" + "台账"). */
static void headline(char *buf, size_t cap, const char *title, int year, const char *what)
{
	char y[16] = "";
	if (!title)
		title = "";
	if (year > 0) {
		snprintf(y, sizeof y, "%d", year);
		if (strstr(title, y))
			y[0] = 0;
	}
	snprintf(buf, cap, "%s%s%s%s", y, y[0] ? "年" : "", title, what);
}

static void write_ledger_sheet(lxw_workbook *wb, struct fmts *f, struct in *in, const json_t *ledger,
			       const char *title, int year)
{
	static const char *const header[LEDGER_COLS] = { "序号", "任务", "牵头单位", "配合单位", "责任人", "分管领导",
							 "完成时限", "进度", "进度来源", "状态", "灯", "最新进展" };
	static const double widths[LEDGER_COLS] = { 8, 48, 14, 18, 9, 9, 18, 7, 9, 8, 6, 40 };
	lxw_worksheet *ws = workbook_add_worksheet(wb, "台账");
	struct out o = { in, ws, "台账" };
	char line[1024];
	const char *as_of = get_str(in, ledger, "as_of", "ledger");
	const char *generated = get_str(in, ledger, "generated_at", "ledger");

	for (lxw_col_t c = 0; c < LEDGER_COLS; c++)
		worksheet_set_column(ws, c, c, widths[c], NULL);
	headline(line, sizeof line, title, year, "台账");
	worksheet_set_row(ws, 0, 28, NULL);
	check(&o, worksheet_merge_range(ws, 0, 0, 0, LEDGER_COLS - 1, line, f->title), 0);
	snprintf(line, sizeof line, "截至 %s　　生成于 %s", as_of ? as_of : "", generated ? generated : "");
	check(&o, worksheet_merge_range(ws, 1, 0, 1, LEDGER_COLS - 1, line, f->subtitle), 1);
	for (lxw_col_t c = 0; c < LEDGER_COLS; c++)
		put_str(&o, 2, c, header[c], f->header);
	worksheet_freeze_panes(ws, 3, 0);
	set_print(ws, 2);

	json_t *tasks = json_object_get(ledger, "tasks"), *t;
	size_t i;
	lxw_row_t row = 3;
	json_array_foreach(tasks, i, t) {
		char path[48];
		snprintf(path, sizeof path, "tasks[%zu]", i);
		if (!json_is_object(t)) {
			fail(in, "%s must be an object", path);
			return;
		}
		json_t *lv = json_object_get(t, "level");
		json_int_t level = 1;
		if (lv && !json_is_null(lv)) {
			level = json_is_integer(lv) ? json_integer_value(lv) : 0;
			if (level < 1 || level > MAX_LEVEL) {
				fail(in, "%s.level must be an integer 1..%d", path, MAX_LEVEL);
				return;
			}
		}
		const char *status = get_str(in, t, "status", path), *light = get_str(in, t, "light", path);
		const char *due_source = get_str(in, t, "due_source", path);
		const char *psrc = get_str(in, t, "progress_source", path);
		char *co = join_units(in, json_object_get(t, "co_units"), path);
		lxw_datetime due;
		int have_due = !get_date(in, t, "effective_due", path, &due);
		double progress = 0;
		int have_progress = !get_num(in, t, "progress", path, &progress);
		put_str(&o, row, 0, get_str(in, t, "code", path), f->center);
		put_str(&o, row, 1, get_str(in, t, "title", path), f->level[level]);
		put_str(&o, row, 2, get_str(in, t, "lead_unit", path), f->wrap);
		put_str(&o, row, 3, co, f->wrap);
		free(co);
		put_str(&o, row, 4, get_str(in, t, "owner", path), f->center);
		put_str(&o, row, 5, get_str(in, t, "leader", path), f->center);
		if (have_due) {
			int inherited = due_source && strcmp(due_source, "own");
			check(&o, worksheet_write_datetime(ws, row, 6, &due, inherited ? f->date_inherited : f->date), row);
		} else {
			put_str(&o, row, 6, NULL, f->date);
		}
		put_num(&o, row, 7, have_progress, progress / 100.0, f->percent);
		const char *ps = lookup(progress_sources, sizeof progress_sources / sizeof progress_sources[0], psrc);
		put_str(&o, row, 8, ps ? ps : psrc, f->center);
		const char *sn = ledger_xlsx_status_name(status);
		put_str(&o, row, 9, sn ? sn : status, f->center);
		int li = light_index(light);
		put_str(&o, row, 10, li < 0 ? light : lights[li].zh, li < 0 ? f->center : f->light[li]);
		put_str(&o, row, 11, get_str(in, t, "latest_note", path), f->wrap);
		if (in->failed)
			return;
		row++;
	}
	if (row > 3)
		worksheet_autofilter(ws, 2, 0, row - 1, LEDGER_COLS - 1);
}

static void write_ranking_sheet(lxw_workbook *wb, struct fmts *f, struct in *in, const json_t *ledger,
				const char *title, int year)
{
	static const char *const header[RANK_COLS] = { "名次", "单位", "综合得分", "按期完成率",
						       "序时进度差（百分点）", "红灯占比", "任务数", "榜单" };
	static const double widths[RANK_COLS] = { 7, 24, 10, 12, 14, 10, 8, 8 };
	lxw_worksheet *ws = workbook_add_worksheet(wb, "赛马排名");
	struct out o = { in, ws, "赛马排名" };
	json_t *ranking = json_object_get(ledger, "ranking");
	if (ranking && !json_is_null(ranking) && !json_is_object(ranking)) {
		fail(in, "ledger.ranking must be an object or null");
		return;
	}
	const char *period = get_str(in, ranking, "period", "ranking");
	char line[1024], what[96];
	snprintf(what, sizeof what, "赛马排名%s%s%s", period ? "（" : "", period ? period : "", period ? "）" : "");
	headline(line, sizeof line, title, year, what);
	for (lxw_col_t c = 0; c < RANK_COLS; c++)
		worksheet_set_column(ws, c, c, widths[c], NULL);
	worksheet_set_row(ws, 0, 28, NULL);
	check(&o, worksheet_merge_range(ws, 0, 0, 0, RANK_COLS - 1, line, f->title), 0);
	const char *as_of = get_str(in, ledger, "as_of", "ledger");
	snprintf(line, sizeof line, "截至 %s", as_of ? as_of : "");
	check(&o, worksheet_merge_range(ws, 1, 0, 1, RANK_COLS - 1, line, f->subtitle), 1);
	for (lxw_col_t c = 0; c < RANK_COLS; c++)
		put_str(&o, 2, c, header[c], f->header);
	worksheet_freeze_panes(ws, 3, 0);
	set_print(ws, 2);

	json_t *units = json_object_get(ranking, "units"), *u;
	if (units && !json_is_null(units) && !json_is_array(units)) {
		fail(in, "ranking.units must be an array");
		return;
	}
	size_t i;
	lxw_row_t row = 3;
	json_array_foreach(units, i, u) {
		char path[48];
		snprintf(path, sizeof path, "ranking.units[%zu]", i);
		if (!json_is_object(u)) {
			fail(in, "%s must be an object", path);
			return;
		}
		double v = 0;
		int have = !get_num(in, u, "rank", path, &v);
		put_num(&o, row, 0, have, v, f->integer);
		put_str(&o, row, 1, get_str(in, u, "unit", path), f->text);
		have = !get_num(in, u, "score", path, &v);
		put_num(&o, row, 2, have, v, f->score);
		have = !get_num(in, u, "on_time_rate", path, &v);
		put_num(&o, row, 3, have, v, f->rate);
		have = !get_num(in, u, "progress_gap", path, &v);
		put_num(&o, row, 4, have, v, f->gap);
		have = !get_num(in, u, "red_share", path, &v);
		put_num(&o, row, 5, have, v, f->rate);
		have = !get_num(in, u, "tasks", path, &v);
		put_num(&o, row, 6, have, v, f->integer);
		const char *list = get_str(in, u, "list", path);
		const char *zh = lookup(lists, sizeof lists / sizeof lists[0], list);
		put_str(&o, row, 7, zh ? zh : list, f->center);
		if (in->failed)
			return;
		row++;
	}
}

/* Reads a whole file into a malloc'd buffer. */
static int slurp(const char *path, unsigned char **out, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			unsigned char *nb = realloc(buf, ncap);
			if (!nb) {
				free(buf);
				fclose(fp);
				errno = ENOMEM;
				return -1;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	int bad = ferror(fp);
	fclose(fp);
	if (bad) {
		free(buf);
		errno = EIO;
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}

int ledger_xlsx_render(const json_t *ledger, const char *path, unsigned char **out, size_t *len, char *err,
		       size_t errlen)
{
	struct in in = { err, errlen, 0 };
	if (err && errlen)
		err[0] = 0;
	if (!path && (!out || !len)) {
		fail(&in, "ledger_xlsx_render: out and len are needed without a path");
		return -1;
	}
	if (!json_is_object(ledger)) {
		fail(&in, "the ledger must be a JSON object");
		return -1;
	}
	json_t *plan = json_object_get(ledger, "plan");
	if (!json_is_object(plan)) {
		fail(&in, "ledger.plan must be an object");
		return -1;
	}
	const char *title = get_str(&in, plan, "title", "plan");
	json_t *yv = json_object_get(plan, "year");
	int year = 0;
	if (yv && !json_is_null(yv)) {
		if (!json_is_integer(yv) || json_integer_value(yv) < 1900 || json_integer_value(yv) > 2999)
			fail(&in, "plan.year must be an integer 1900..2999");
		else
			year = (int)json_integer_value(yv);
	}
	json_t *tasks = json_object_get(ledger, "tasks");
	if (!json_is_array(tasks))
		fail(&in, "ledger.tasks must be an array");
	if (in.failed)
		return -1;

	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	char tmp[PATH_MAX];
	const char *target = path;
	if (!path) {
		if (snprintf(tmp, sizeof tmp, "%s/plantrack-ledger-XXXXXX.xlsx", dir) >= (int)sizeof tmp) {
			fail(&in, "TMPDIR is too long");
			return -1;
		}
		int fd = mkstemps(tmp, 5);
		if (fd < 0) {
			fail(&in, "cannot create a temporary file in %s: %s", dir, strerror(errno));
			return -1;
		}
		close(fd);
		target = tmp;
	}
	lxw_workbook_options opt = { .constant_memory = LXW_FALSE, .tmpdir = (char *)dir };
	lxw_workbook *wb = workbook_new_opt(target, &opt);
	if (!wb) {
		fail(&in, "cannot start the workbook %s", target);
		if (!path)
			unlink(tmp);
		return -1;
	}
	lxw_doc_properties props = { .title = (char *)(title ? title : ""), .subject = "重点工作任务台账",
				     .author = "plantrack", .comments = "plantrackd ledger" };
	workbook_set_properties(wb, &props);
	struct fmts f;
	make_formats(wb, &f);
	write_ledger_sheet(wb, &f, &in, ledger, title, year);
	if (!in.failed)
		write_ranking_sheet(wb, &f, &in, ledger, title, year);
	lxw_error e = workbook_close(wb); /* frees wb whatever happens */
	if (!in.failed && e != LXW_NO_ERROR)
		fail(&in, "cannot write the workbook: %s", lxw_strerror(e));
	if (in.failed) {
		unlink(target);
		return -1;
	}
	if (!path) {
		int rc = slurp(tmp, out, len);
		int saved = errno;
		unlink(tmp);
		if (rc) {
			fail(&in, "cannot read the workbook back: %s", strerror(saved));
			return -1;
		}
	}
	return 0;
}

/* RFC 5987 attr-char: sent as is; everything else is %XX. */
static int attr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$&+-.^_`|~", c));
}

int ledger_xlsx_content_disposition(const char *title, const char *as_of, char *buf, size_t cap)
{
	char name[160];
	size_t n = 0, tl = title ? strlen(title) : 0;
	if (tl > 80) {
		tl = 80;
		while (tl && ((unsigned char)title[tl] & 0xC0) == 0x80)
			tl--;
	}
	for (size_t i = 0; i < tl; i++) {
		unsigned char c = (unsigned char)title[i];
		name[n++] = (char)(c < 0x20 || c == 0x7F || c == '/' || c == '\\' || c == '"' ? '_' : c);
	}
	n += (size_t)snprintf(name + n, sizeof name - n, "台账%s%s.xlsx", as_of ? "-" : "", as_of ? as_of : "");
	if (n >= sizeof name)
		n = sizeof name - 1;
	static const char hex[] = "0123456789ABCDEF";
	size_t o = (size_t)snprintf(buf, cap, "attachment; filename=\"ledger%s%s.xlsx\"; filename*=UTF-8''",
				     as_of ? "-" : "", as_of ? as_of : "");
	if (o >= cap)
		goto small;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (attr_char(c)) {
			if (o + 1 >= cap)
				goto small;
			buf[o++] = (char)c;
		} else {
			if (o + 3 >= cap)
				goto small;
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	buf[o] = 0;
	return 0;
small:
	if (cap)
		buf[0] = 0;
	return -1;
}
