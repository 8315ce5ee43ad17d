/*
 * workcal.c - the working-day calendar (see workcal.h): JSON and CSV readers
 * that check every rule and list every problem, the working-day questions,
 * and the canonical JSON. A calendar is one year of day kinds and names,
 * indexed by day of the year.
 */
#include "plantrack/workcal.h"
#include "plantrack/csv.h"
#include "plantrack/dates.h"
#include "plantrack/daynum.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ERRORS 100

struct workcal {
	int year;
	long first;  /* day number of January 1 */
	int ndays;   /* 365 or 366 */
	unsigned char kind[366];
	char *name[366];
	char *source;
};

/* What a reader carries while it builds a calendar. */
struct build {
	workcal *cal;
	json_t *errors;
	char *label[366]; /* where each listed day came from ("holidays[1]", "line 4") */
	int row, line;    /* CSV: the current record, for errors; 0 in JSON */
};

static const char *const weekday_names[8] = { "", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
					      "Saturday", "Sunday" };

__attribute__((format(printf, 3, 4))) static void add_error(struct build *b, const char *field, const char *fmt, ...)
{
	if (json_array_size(b->errors) >= MAX_ERRORS)
		return;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_t *e = json_pack("{s:s,s:s}", "field", field, "message", msg);
	if (b->row) {
		json_object_set_new(e, "row", json_integer(b->row));
		json_object_set_new(e, "line", json_integer(b->line));
	}
	json_array_append_new(b->errors, e);
}

static workcal *cal_new(int year)
{
	workcal *cal = calloc(1, sizeof *cal);
	if (!cal)
		return NULL;
	cal->year = year;
	cal->first = daynum_from_ymd(year, 1, 1);
	cal->ndays = (int)(daynum_from_ymd(year + 1, 1, 1) - cal->first);
	return cal;
}

void workcal_free(workcal *cal)
{
	if (!cal)
		return;
	for (int i = 0; i < 366; i++)
		free(cal->name[i]);
	free(cal->source);
	free(cal);
}

static void build_done(struct build *b)
{
	for (int i = 0; i < 366; i++)
		free(b->label[i]);
}

/* Ends a reader: the calendar, or NULL and the errors. */
static workcal *finish(struct build *b, json_t **errors)
{
	build_done(b);
	if (json_array_size(b->errors) || !b->cal) {
		if (!json_array_size(b->errors))
			add_error(b, "", "out of memory");
		workcal_free(b->cal);
		*errors = b->errors;
		return NULL;
	}
	json_decref(b->errors);
	*errors = NULL;
	return b->cal;
}

/*
 * Checks a date against the calendar's year. Returns 0 and the day number,
 * or -1 after reporting. strict: only "YYYY-MM-DD"; else also "YYYY/M/D".
 */
static int check_date(struct build *b, const char *field, const char *s, int strict, long *out)
{
	long day;
	int rc = daynum_parse(s, &day);
	if (rc < 0 && !strict && s) {
		int y, m, d;
		char sep1, sep2, tail;
		if (sscanf(s, "%4d%c%2d%c%2d%c", &y, &sep1, &m, &sep2, &d, &tail) == 5 && sep1 == sep2 &&
		    (sep1 == '/' || sep1 == '-') && strlen(s) >= 8)
			rc = dates_valid(y, m, d) ? (day = daynum_from_ymd(y, m, d), 0) : 1;
	}
	if (rc < 0) {
		add_error(b, field, "must be a date YYYY-MM-DD (got \"%.40s\")", s ? s : "");
		return -1;
	}
	if (rc > 0) {
		add_error(b, field, "%.40s is not a real date", s);
		return -1;
	}
	if (day < b->cal->first || day >= b->cal->first + b->cal->ndays) {
		add_error(b, field, "%s is outside %d", s, b->cal->year);
		return -1;
	}
	*out = day;
	return 0;
}

/* Lists [from, to] as kind under `label`: the weekday and overlap rules. */
static void add_days(struct build *b, const char *label, long from, long to, int kind, const char *name)
{
	workcal *cal = b->cal;
	char iso[11];
	if (from > to) {
		char a[11];
		daynum_format(from, a);
		daynum_format(to, iso);
		add_error(b, label, "from %s is after to %s", a, iso);
		return;
	}
	for (long d = from; d <= to; d++) {
		int wd = daynum_weekday(d);
		if (kind == WORKCAL_WORKDAY && wd <= 5) {
			daynum_format(d, iso);
			add_error(b, label, "%s is a %s, already a working day; list only weekend days as workdays", iso,
				  weekday_names[wd]);
			return;
		}
		int i = (int)(d - cal->first);
		if (cal->kind[i] && cal->kind[i] != kind) {
			daynum_format(d, iso);
			add_error(b, label, "%s is both a %s here and a %s in %s", iso,
				  kind == WORKCAL_HOLIDAY ? "holiday" : "workday",
				  cal->kind[i] == WORKCAL_HOLIDAY ? "holiday" : "workday", b->label[i]);
			return;
		}
	}
	for (long d = from; d <= to; d++) {
		int i = (int)(d - cal->first);
		if (cal->kind[i])
			continue; /* listed before with the same kind: the first name wins */
		cal->kind[i] = (unsigned char)kind;
		cal->name[i] = name && *name ? strdup(name) : NULL;
		b->label[i] = strdup(label);
	}
}

/* ---- JSON ---- */

static int only_keys(struct build *b, const json_t *o, const char *path, const char *const *allowed)
{
	const char *key;
	json_t *v;
	int bad = 0;
	json_object_foreach((json_t *)o, key, v) {
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			if (!strcmp(*a, key))
				ok = 1;
		if (!ok) {
			char field[160];
			snprintf(field, sizeof field, "%s%s%.60s", path, *path ? "." : "", key);
			add_error(b, field, "unknown field");
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/* A string member or null; -1 after reporting a wrong type. */
static int opt_string(struct build *b, const json_t *o, const char *key, const char *path, const char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		char field[160];
		snprintf(field, sizeof field, "%s.%s", path, key);
		add_error(b, field, "must be a string");
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* A date member of an item: 0 and the day; -1 after reporting. */
static int member_date(struct build *b, const json_t *o, const char *key, const char *path, long *day)
{
	char field[160];
	snprintf(field, sizeof field, "%s.%s", path, key);
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		add_error(b, field, "required");
		return -1;
	}
	if (!json_is_string(v)) {
		add_error(b, field, "must be a date YYYY-MM-DD");
		return -1;
	}
	return check_date(b, field, json_string_value(v), 1, day);
}

static void read_items(struct build *b, const json_t *doc, const char *list, int kind)
{
	static const char *const item_keys[] = { "date", "from", "to", "name", NULL };
	json_t *arr = json_object_get(doc, list), *it;
	size_t i;
	if (!arr || json_is_null(arr))
		return;
	if (!json_is_array(arr)) {
		add_error(b, list, "must be an array of dates or {from,to,name} ranges");
		return;
	}
	json_array_foreach(arr, i, it) {
		char path[64];
		long from, to;
		const char *name = NULL;
		snprintf(path, sizeof path, "%s[%zu]", list, i);
		if (json_is_string(it)) {
			if (!check_date(b, path, json_string_value(it), 1, &from))
				add_days(b, path, from, from, kind, NULL);
			continue;
		}
		if (!json_is_object(it)) {
			add_error(b, path, "must be a date, {\"date\",\"name\"} or {\"from\",\"to\",\"name\"}");
			continue;
		}
		if (only_keys(b, it, path, item_keys) || opt_string(b, it, "name", path, &name))
			continue;
		if (json_object_get(it, "date")) {
			if (json_object_get(it, "from") || json_object_get(it, "to")) {
				add_error(b, path, "give date, or from and to, not both");
				continue;
			}
			if (!member_date(b, it, "date", path, &from))
				add_days(b, path, from, from, kind, name);
			continue;
		}
		int bad = member_date(b, it, "from", path, &from);
		bad |= member_date(b, it, "to", path, &to);
		if (!bad)
			add_days(b, path, from, to, kind, name);
	}
}

static int parse_kind(const char *s)
{
	if (!s)
		return 0;
	if (!strcmp(s, "休") || !strcmp(s, "假") || !strcasecmp(s, "holiday"))
		return WORKCAL_HOLIDAY;
	if (!strcmp(s, "班") || !strcasecmp(s, "workday"))
		return WORKCAL_WORKDAY;
	return 0;
}

static void read_days(struct build *b, const json_t *doc)
{
	static const char *const day_keys[] = { "day", "kind", "name", NULL };
	json_t *arr = json_object_get(doc, "days"), *it;
	size_t i;
	if (!arr || json_is_null(arr))
		return;
	if (!json_is_array(arr)) {
		add_error(b, "days", "must be an array of {day,kind,name}");
		return;
	}
	json_array_foreach(arr, i, it) {
		char path[64], field[80];
		const char *name = NULL, *kind = NULL;
		long day;
		snprintf(path, sizeof path, "days[%zu]", i);
		if (!json_is_object(it)) {
			add_error(b, path, "must be {\"day\",\"kind\",\"name\"}");
			continue;
		}
		if (only_keys(b, it, path, day_keys) || opt_string(b, it, "name", path, &name) ||
		    opt_string(b, it, "kind", path, &kind))
			continue;
		int k = parse_kind(kind);
		if (!k) {
			snprintf(field, sizeof field, "%s.kind", path);
			add_error(b, field, "must be holiday or workday");
			continue;
		}
		if (!member_date(b, it, "day", path, &day))
			add_days(b, path, day, day, k, name);
	}
}

workcal *workcal_from_json(const json_t *doc, json_t **errors)
{
	static const char *const top_keys[] = { "year", "source", "holidays", "workdays", "days", NULL };
	struct build b;
	memset(&b, 0, sizeof b);
	b.errors = json_array();
	if (!json_is_object(doc)) {
		add_error(&b, "", "the calendar must be a JSON object");
		return finish(&b, errors);
	}
	only_keys(&b, doc, "", top_keys);
	json_t *y = json_object_get(doc, "year");
	if (!json_is_integer(y) || json_integer_value(y) < 1900 || json_integer_value(y) > 2999) {
		add_error(&b, "year", "required: an integer from 1900 to 2999");
		return finish(&b, errors);
	}
	b.cal = cal_new((int)json_integer_value(y));
	if (!b.cal)
		return finish(&b, errors);
	json_t *src = json_object_get(doc, "source");
	if (src && !json_is_null(src) && !json_is_string(src))
		add_error(&b, "source", "must be a string");
	else if (json_is_string(src) && json_string_length(src))
		b.cal->source = strdup(json_string_value(src));
	read_items(&b, doc, "holidays", WORKCAL_HOLIDAY);
	read_items(&b, doc, "workdays", WORKCAL_WORKDAY);
	read_days(&b, doc);
	return finish(&b, errors);
}

/* ---- CSV ---- */

/* Copies field f of record r trimmed of ASCII spaces into buf; "" when absent. */
static const char *trimmed(const csv_table *t, size_t r, size_t f, char *buf, size_t cap)
{
	const char *s = csv_field(t, r, f);
	if (!s)
		s = "";
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	return buf;
}

workcal *workcal_from_csv(const char *text, size_t n, int year, json_t **errors)
{
	struct build b;
	memset(&b, 0, sizeof b);
	b.errors = json_array();
	csv_table *t = NULL;
	char err[200];
	if (csv_parse(text, n, &t, err, sizeof err)) {
		add_error(&b, "file", "%s", err);
		return finish(&b, errors);
	}
	if (year && (year < 1900 || year > 2999)) {
		add_error(&b, "year", "must be from 1900 to 2999");
		csv_table_free(t);
		return finish(&b, errors);
	}
	size_t start = 0, rows = csv_rows(t);
	char date[64], kind[64], name[256];
	if (rows) {
		trimmed(t, 0, 0, date, sizeof date);
		if (!strcasecmp(date, "date") || !strcmp(date, "日期"))
			start = 1;
	}
	if (rows <= start)
		add_error(&b, "file", "no days: expected records date,kind,name");
	for (size_t r = start; r < rows; r++) {
		b.row = (int)(r - start + 1);
		b.line = (int)csv_line(t, r);
		char path[48], field[64];
		snprintf(path, sizeof path, "rows[%d]", b.row);
		trimmed(t, r, 0, date, sizeof date);
		trimmed(t, r, 1, kind, sizeof kind);
		trimmed(t, r, 2, name, sizeof name);
		int blank = !*date && !*kind && !*name, extra = 0;
		for (size_t c = 3; c < csv_cols(t, r); c++) {
			char x[8];
			if (*trimmed(t, r, c, x, sizeof x))
				extra = 1;
		}
		if (blank && !extra)
			continue; /* Excel writes ",," for formatted empty rows */
		if (extra) {
			add_error(&b, path, "line %d: expected date,kind,name (more columns given)", b.line);
			continue;
		}
		long day;
		snprintf(field, sizeof field, "%s.date", path);
		if (!year) {
			int y;
			if (strlen(date) >= 8 && (date[4] == '-' || date[4] == '/') && sscanf(date, "%4d", &y) == 1 &&
			    y >= 1900 && y <= 2999)
				year = y; /* the first date names the year, even when it is not a real date */
		}
		if (!b.cal && year) {
			b.cal = cal_new(year);
			if (!b.cal)
				break;
		}
		int k = parse_kind(kind);
		if (!b.cal) {
			add_error(&b, field, "must be a date YYYY-MM-DD (got \"%.40s\")", date);
			continue;
		}
		int bad = check_date(&b, field, date, 0, &day);
		if (!k) {
			snprintf(field, sizeof field, "%s.kind", path);
			add_error(&b, field, "must be 休, 班, holiday or workday (got \"%.20s\")", kind);
			bad = 1;
		}
		if (bad)
			continue;
		char label[32];
		snprintf(label, sizeof label, "line %d", b.line);
		size_t before = json_array_size(b.errors);
		add_days(&b, label, day, day, k, *name ? name : NULL);
		/* add_days names the label; CSV errors name the record's field. */
		if (json_array_size(b.errors) > before) {
			json_t *e = json_array_get(b.errors, before);
			json_object_set_new(e, "field", json_string(field));
		}
	}
	csv_table_free(t);
	b.row = 0;
	if (!b.cal && !json_array_size(b.errors))
		add_error(&b, "year", "no year given and no date to take it from");
	return finish(&b, errors);
}

/* ---- questions ---- */

int workcal_year(const workcal *cal)
{
	return cal ? cal->year : 0;
}

enum workcal_kind workcal_kind_of(const workcal *cal, long day, const char **name)
{
	if (name)
		*name = NULL;
	if (!cal || day < cal->first || day >= cal->first + cal->ndays)
		return WORKCAL_ORDINARY;
	int i = (int)(day - cal->first);
	if (name)
		*name = cal->name[i];
	return (enum workcal_kind)cal->kind[i];
}

int workcal_is_workday_n(const workcal *cal, long day)
{
	switch (workcal_kind_of(cal, day, NULL)) {
	case WORKCAL_HOLIDAY:
		return 0;
	case WORKCAL_WORKDAY:
		return 1;
	default:
		return daynum_weekday(day) <= 5;
	}
}

int workcal_is_workday(const workcal *cal, const char *date)
{
	long day;
	if (daynum_parse(date, &day))
		return -1;
	return workcal_is_workday_n(cal, day);
}

long workcal_workdays_between(const workcal *cal, const char *from, const char *to)
{
	long a, z, n = 0;
	if (daynum_parse(from, &a) || daynum_parse(to, &z))
		return -1;
	for (long d = a; d <= z; d++)
		n += workcal_is_workday_n(cal, d);
	return n;
}

json_t *workcal_to_json(const workcal *cal)
{
	if (!cal)
		return NULL;
	json_t *days = json_array();
	for (int i = 0; i < cal->ndays; i++) {
		if (!cal->kind[i])
			continue;
		char iso[11];
		daynum_format(cal->first + i, iso);
		json_array_append_new(days, json_pack("{s:s,s:s,s:o}", "day", iso, "kind",
						      cal->kind[i] == WORKCAL_HOLIDAY ? "holiday" : "workday", "name",
						      cal->name[i] ? json_string(cal->name[i]) : json_null()));
	}
	return json_pack("{s:i,s:o,s:o}", "year", cal->year, "source",
			 cal->source ? json_string(cal->source) : json_null(), "days", days);
}
