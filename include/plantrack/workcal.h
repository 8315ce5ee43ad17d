/*
 * workcal.h - a year's working-day calendar (工作日历): the national holiday
 * schedule moves days off (休) onto weekdays and makes some weekends working
 * days (调休上班, 班). Deadlines and 序时进度 may count working days; this
 * module reads a calendar from JSON or CSV, checks it, answers "is this a
 * working day" and "how many working days between", and writes the canonical
 * JSON the SQL side stores (docs/calendar.md).
 *
 * A day outside the calendar's year, or with no calendar (cal == NULL), is a
 * working day when it is Monday..Friday.
 * Pure: no I/O, no global state; a built calendar is read-only, so it can be
 * shared between threads.
 */
#ifndef PLANTRACK_WORKCAL_H
#define PLANTRACK_WORKCAL_H

#include <jansson.h>
#include <stddef.h>

/* Opaque; built by workcal_from_json / workcal_from_csv, freed by workcal_free. */
typedef struct workcal workcal;

enum workcal_kind {
	WORKCAL_ORDINARY = 0, /* no entry: Monday..Friday work, weekends rest */
	WORKCAL_HOLIDAY = 1,  /* 休: a day off, whatever the weekday */
	WORKCAL_WORKDAY = 2,  /* 班: a weekend day that is a working day */
};

/*
 * Reads a calendar from JSON (BORROWED):
 *   {"year": 2025,                       required, 1900..2999
 *    "source": "国办发明电〔2024〕12号",   optional string
 *    "holidays": [ITEM…], "workdays": [ITEM…],
 *    "days": [{"day":"2025-01-01","kind":"holiday"|"workday","name":s|null}…]}
 * where an ITEM is "2025-01-01", {"date":"2025-01-01","name":"元旦"} or a range
 * {"from":"2025-01-28","to":"2025-02-04","name":"春节"} (inclusive). "days" is
 * the canonical form (workcal_to_json), so a stored calendar reads back.
 * Rules, each reported with the item's path as field:
 *   unknown members; a date not "YYYY-MM-DD" or not real (2025-02-30); a date
 *   outside "year"; from after to; a date that is both a holiday and a
 *   workday; a workday that falls on Monday..Friday (already a working day).
 * A date listed twice with the same kind is kept once (the first name wins).
 *
 * Returns a new calendar (CALLER FREES with workcal_free) and *errors = NULL;
 * or NULL and *errors = a new JSON array (CALLER OWNS, json_decref) of every
 * problem as {"field":"holidays[2].to","message":"…"}.
 */
workcal *workcal_from_json(const json_t *doc, json_t **errors);

/*
 * Reads a calendar from CSV text[0..n) (UTF-8, BOM allowed): one day a record,
 *   date,kind,name            (a first record "date,kind,name" or "日期,类型,名称" is a header)
 *   2025-01-28,休,春节
 *   2025-01-26,班,春节调休
 * kind: 休 / 假 / holiday = a day off, 班 / workday = a working day (English
 * case-insensitive); name optional. year: the stated year; 0 = the year of
 * the first date. Same rules as JSON; errors are
 *   {"field":"rows[N].date","row":N,"line":L,"message":"…"}
 * with N the record number after the header and L the source line.
 * Ownership as workcal_from_json.
 */
workcal *workcal_from_csv(const char *text, size_t n, int year, json_t **errors);

/* Frees cal; NULL is fine. */
void workcal_free(workcal *cal);

/* The calendar's year; 0 for NULL. */
int workcal_year(const workcal *cal);

/* What the calendar says of day number `day` (daynum.h); *name (may be NULL)
 * gets the day's name, BORROWED from cal, or NULL. */
enum workcal_kind workcal_kind_of(const workcal *cal, long day, const char **name);

/* 1 when day number `day` is a working day, else 0. cal may be NULL. */
int workcal_is_workday_n(const workcal *cal, long day);

/* 1 when date ("YYYY-MM-DD") is a working day, 0 when not, -1 when date is
 * not a real date in that form. cal may be NULL. */
int workcal_is_workday(const workcal *cal, const char *date);

/* Working days in [from, to], both included; 0 when from is after to; -1
 * when either is not a real "YYYY-MM-DD" date. cal may be NULL. */
long workcal_workdays_between(const workcal *cal, const char *from, const char *to);

/*
 * The canonical form, a NEW reference (CALLER OWNS):
 *   {"year":2025,"source":s|null,
 *    "days":[{"day":"2025-01-01","kind":"holiday","name":"元旦"}, …]}
 * with every listed day once, in date order: the rows of calendar_days.
 */
json_t *workcal_to_json(const workcal *cal);

#endif
