/*
 * test_plan_eval.c - measures planparse against hand-labelled plans: the
 * plans in tests/data/eval/ (NAME.txt; offices' styles: 一、/（一）/1./（1）,
 * 一是/二是, a table pasted as text, 第一/第二, mixed full- and half-width
 * punctuation) and the reference plan in ../shared/samples (when present),
 * each with an expected file NAME.expected.json written by hand:
 *   {"year":Y, "counts":[…], "tasks":{"一.2":{"title":…, "due":"YYYY-MM-DD",
 *    "targets":[[label,value,unit,comparator,verb(,baseline)]…],
 *    "facts":[[label,value,unit]…], "milestones":["YYYY-MM-DD"…]}}}
 * A task the file does not list is expected to have no due date, targets,
 * facts or milestones. Prints precision and recall of targets, facts and
 * milestones, the exact-match rate of structure and due dates, and the
 * share of matched targets whose label (one containing the other) and verb
 * agree; fails below 0.95 on targets, facts, structure and dues, below 0.9
 * on milestones, labels and verbs.
 */
#include "plantrack/planparse.h"
#include "check.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct score {
	int tp, fp, fn;
};

struct totals {
	struct score targets, facts, milestones;
	int struct_ok, struct_n, due_ok, due_n, label_ok, verb_ok, base_ok, matched;
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

static const char *str(json_t *j)
{
	return json_is_string(j) ? json_string_value(j) : "";
}

static int same_num(json_t *a, json_t *b)
{
	return json_is_number(a) && json_is_number(b) && fabs(json_number_value(a) - json_number_value(b)) < 1e-9;
}

/* Labels agree when one contains the other (村居 / 村居应急救援站点 do not: both must be non-empty). */
static int label_agrees(const char *want, const char *got)
{
	return *want && *got && (strstr(got, want) || strstr(want, got));
}

/* Greedy matching of expected rows to produced objects on value, unit (and comparator). */
static void match_counts(const char *code, json_t *want, json_t *got, int with_cmp, struct score *sc,
			 struct totals *tt, int verbose)
{
	size_t ng = json_array_size(got), nw = json_array_size(want);
	char *used = calloc(ng + 1, 1);
	for (size_t w = 0; w < nw; w++) {
		json_t *row = json_array_get(want, w);
		size_t g, hit = ng;
		for (g = 0; g < ng && hit == ng; g++) {
			json_t *o = json_array_get(got, g);
			if (used[g] || !same_num(json_array_get(row, 1), json_object_get(o, "value")) ||
			    strcmp(str(json_array_get(row, 2)), str(json_object_get(o, "unit"))))
				continue;
			if (with_cmp && strcmp(str(json_array_get(row, 3)), str(json_object_get(o, "comparator"))))
				continue;
			hit = g;
		}
		if (hit == ng) {
			sc->fn++;
			if (verbose)
				printf("  %s missed: %s %g%s\n", code, str(json_array_get(row, 0)),
				       json_number_value(json_array_get(row, 1)), str(json_array_get(row, 2)));
			continue;
		}
		used[hit] = 1;
		sc->tp++;
		if (!with_cmp)
			continue;
		json_t *o = json_array_get(got, hit);
		tt->matched++;
		if (label_agrees(str(json_array_get(row, 0)), str(json_object_get(o, "label"))))
			tt->label_ok++;
		else if (verbose)
			printf("  %s label: want %s, got %s\n", code, str(json_array_get(row, 0)), str(json_object_get(o, "label")));
		if (!strcmp(str(json_array_get(row, 4)), str(json_object_get(o, "verb"))))
			tt->verb_ok++;
		else if (verbose)
			printf("  %s verb of %s: want %s, got %s\n", code, str(json_array_get(row, 0)),
			       str(json_array_get(row, 4)), str(json_object_get(o, "verb")));
		json_t *wb = json_array_get(row, 5), *gb = json_object_get(o, "baseline");
		if ((!wb && !gb) || same_num(wb, gb))
			tt->base_ok++;
		else if (verbose)
			printf("  %s baseline of %s differs\n", code, str(json_array_get(row, 0)));
	}
	for (size_t g = 0; g < ng; g++)
		if (!used[g]) {
			sc->fp++;
			if (verbose) {
				json_t *o = json_array_get(got, g);
				printf("  %s extra: %s %g%s\n", code, str(json_object_get(o, "label")),
				       json_number_value(json_object_get(o, "value")), str(json_object_get(o, "unit")));
			}
		}
	free(used);
}

static void match_milestones(const char *code, json_t *want, json_t *got, struct score *sc, int verbose)
{
	size_t ng = json_array_size(got), nw = json_array_size(want);
	char *used = calloc(ng + 1, 1);
	for (size_t w = 0; w < nw; w++) {
		size_t g;
		for (g = 0; g < ng; g++)
			if (!used[g] && !strcmp(str(json_array_get(want, w)), str(json_object_get(json_array_get(got, g), "due_date"))))
				break;
		if (g < ng) {
			used[g] = 1;
			sc->tp++;
		} else {
			sc->fn++;
			if (verbose)
				printf("  %s milestone missed: %s\n", code, str(json_array_get(want, w)));
		}
	}
	for (size_t g = 0; g < ng; g++)
		if (!used[g]) {
			sc->fp++;
			if (verbose)
				printf("  %s milestone extra: %s %s\n", code, str(json_object_get(json_array_get(got, g), "due_date")),
				       str(json_object_get(json_array_get(got, g), "title")));
		}
	free(used);
}

/* Every produced task against its expected entry (or none). */
static void walk(json_t *tasks, json_t *expect, struct totals *tt, int *seen)
{
	size_t i;
	json_t *t;
	json_array_foreach(tasks, i, t) {
		const char *code = str(json_object_get(t, "code"));
		json_t *e = json_object_get(expect, code);
		if (e)
			(*seen)++;
		json_t *title = json_object_get(e, "title");
		if (title) {
			tt->struct_n++;
			if (!strcmp(str(title), str(json_object_get(t, "title"))))
				tt->struct_ok++;
			else
				printf("  %s title: want %s, got %s\n", code, str(title), str(json_object_get(t, "title")));
		}
		json_t *wd = json_object_get(e, "due"), *gd = json_object_get(t, "due_date");
		tt->due_n++;
		if ((!wd && json_is_null(gd)) || (wd && !strcmp(str(wd), str(gd))))
			tt->due_ok++;
		else
			printf("  %s due: want %s, got %s\n", code, wd ? str(wd) : "null", json_is_null(gd) ? "null" : str(gd));
		match_counts(code, json_object_get(e, "targets"), json_object_get(t, "targets"), 1, &tt->targets, tt, 1);
		match_counts(code, json_object_get(e, "facts"), json_object_get(t, "facts"), 0, &tt->facts, tt, 1);
		match_milestones(code, json_object_get(e, "milestones"), json_object_get(t, "milestones"), &tt->milestones, 1);
		walk(json_object_get(t, "children"), expect, tt, seen);
	}
}

static void eval_one(const char *txt, const char *expected, struct totals *tt)
{
	size_t len, elen;
	char *text = slurp(txt, &len);
	char *ej = slurp(expected, &elen);
	json_error_t jerr;
	json_t *exp = ej ? json_loads(ej, 0, &jerr) : NULL;
	free(ej);
	if (!text || !exp) {
		printf("  cannot read %s or %s\n", txt, expected);
		check_failed++;
		free(text);
		json_decref(exp);
		return;
	}
	char err[256];
	json_t *doc = planparse_parse(text, len, 0, err, sizeof err);
	free(text);
	if (!doc) {
		printf("  %s: %s\n", txt, err);
		check_failed++;
		json_decref(exp);
		return;
	}
	/* structure: the year, the counts per level, every listed code present with its title */
	tt->struct_n += 2;
	if (json_equal(json_object_get(doc, "counts"), json_object_get(exp, "counts")))
		tt->struct_ok++;
	else
		printf("  counts differ: got %s\n", json_dumps(json_object_get(doc, "counts"), JSON_COMPACT));
	if (json_equal(json_object_get(doc, "year"), json_object_get(exp, "year")))
		tt->struct_ok++;
	int seen = 0;
	json_t *etasks = json_object_get(exp, "tasks");
	walk(json_object_get(doc, "tasks"), etasks, tt, &seen);
	tt->struct_n += (int)json_object_size(etasks);
	tt->struct_ok += seen;
	if ((size_t)seen != json_object_size(etasks))
		printf("  %zu listed task(s) not produced\n", json_object_size(etasks) - (size_t)seen);
	json_decref(doc);
	json_decref(exp);
}

static double ratio(int a, int b)
{
	return b ? (double)a / b : 1.0;
}

int main(void)
{
	const char *root = getenv("PLANTRACK_SOURCE_DIR");
	char dir[1024], txt[1600], exp[1600];
	snprintf(dir, sizeof dir, "%s/tests/data/eval", root ? root : ".");
	struct totals tt;
	memset(&tt, 0, sizeof tt);
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	int plans = 0;
	struct dirent *de;
	char names[64][256];
	int nn = 0;
	while (d && (de = readdir(d)) && nn < 64) {
		size_t l = strlen(de->d_name);
		if (l > 4 && !strcmp(de->d_name + l - 4, ".txt") && l < sizeof names[0])
			snprintf(names[nn++], sizeof names[0], "%s", de->d_name);
	}
	if (d)
		closedir(d);
	qsort(names, (size_t)nn, sizeof names[0], (int (*)(const void *, const void *))strcmp);
	for (int k = 0; k < nn; k++) {
		if (snprintf(txt, sizeof txt, "%s/%s", dir, names[k]) >= (int)sizeof txt ||
		    snprintf(exp, sizeof exp, "%s/%.*s.expected.json", dir, (int)(strlen(names[k]) - 4), names[k]) >=
			    (int)sizeof exp)
			continue;
		printf("%s\n", names[k]);
		eval_one(txt, exp, &tt);
		plans++;
	}
	CHECK(plans >= 6);
	snprintf(txt, sizeof txt, "%s/../shared/samples/chengdong-2025-plan.txt", root ? root : ".");
	snprintf(exp, sizeof exp, "%s/chengdong-2025.expected.json", dir);
	FILE *f = fopen(txt, "rb");
	if (f) {
		fclose(f);
		printf("reference plan\n");
		eval_one(txt, exp, &tt);
		plans++;
	} else {
		printf("skip: reference plan %s not found\n", txt);
	}
	double tp = ratio(tt.targets.tp, tt.targets.tp + tt.targets.fp);
	double tr = ratio(tt.targets.tp, tt.targets.tp + tt.targets.fn);
	double fp = ratio(tt.facts.tp, tt.facts.tp + tt.facts.fp);
	double fr = ratio(tt.facts.tp, tt.facts.tp + tt.facts.fn);
	double mp = ratio(tt.milestones.tp, tt.milestones.tp + tt.milestones.fp);
	double mr = ratio(tt.milestones.tp, tt.milestones.tp + tt.milestones.fn);
	double st = ratio(tt.struct_ok, tt.struct_n), du = ratio(tt.due_ok, tt.due_n);
	double la = ratio(tt.label_ok, tt.matched), ve = ratio(tt.verb_ok, tt.matched), ba = ratio(tt.base_ok, tt.matched);
	printf("%d plans\n", plans);
	printf("targets     precision %.3f recall %.3f (%d matched, %d extra, %d missed)\n", tp, tr, tt.targets.tp,
	       tt.targets.fp, tt.targets.fn);
	printf("facts       precision %.3f recall %.3f (%d matched, %d extra, %d missed)\n", fp, fr, tt.facts.tp,
	       tt.facts.fp, tt.facts.fn);
	printf("milestones  precision %.3f recall %.3f\n", mp, mr);
	printf("structure   %.3f (%d/%d)\n", st, tt.struct_ok, tt.struct_n);
	printf("dues        %.3f (%d/%d)\n", du, tt.due_ok, tt.due_n);
	printf("labels %.3f  verbs %.3f  baselines %.3f (of %d matched targets)\n", la, ve, ba, tt.matched);
	CHECK(tp >= 0.95 && tr >= 0.95);
	CHECK(fp >= 0.95 && fr >= 0.95);
	CHECK(st >= 0.95 && du >= 0.95);
	CHECK(mp >= 0.9 && mr >= 0.9);
	CHECK(la >= 0.9 && ve >= 0.9 && ba >= 0.95);
	return check_summary();
}
