/*
 * i18n.h - problem details in Chinese (Accept-Language: zh-CN).
 *
 * One table maps every problem type slug ("not-found", "precondition-failed",
 * ...), optionally refined by a rule code ("version", "etag"), to a Chinese
 * title and a detail template with named parameters ({version}); a second
 * table does the same for the rule of one validation error in errors[]
 * ("required", "range", ...). Nothing here looks at English sentences: the
 * keys are the slug, the rule and the parameters the code that raised the
 * problem passed (http_reply_problem_args in C, the hint object of
 * api.pt_fail/pt_fail422 in SQL).
 *
 * Adding a problem type: one row in problems[] in daemon/i18n.c. The unit
 * test test_i18n scans daemon/ and sql/api/ and fails on a type (or rule)
 * without a row.
 *
 * Pure: jansson only; no libevent, no libpq, no I/O, no state. Returned
 * strings are allocated with xmalloc (caller frees).
 */
#ifndef PLANTRACK_I18N_H
#define PLANTRACK_I18N_H

#include <jansson.h>
#include <stddef.h>

enum i18n_lang { I18N_EN = 0, I18N_ZH = 1 };

/* The language of problem details for an Accept-Language value (NULL when
 * absent). I18N_ZH when a range with primary tag zh (zh, zh-CN, zh-Hans,
 * zh-TW, zh-Hant, ...: all served from the one simplified table) has q > 0
 * and a higher q than every en range and than *, or the same q and is listed
 * first; otherwise I18N_EN, the default. Malformed parts are skipped. */
enum i18n_lang i18n_negotiate(const char *accept_language);
/* "en" or "zh-CN", for Content-Language. */
const char *i18n_content_language(enum i18n_lang lang);

struct i18n_problem {
	const char *type;    /* problem type slug */
	const char *rule;    /* NULL: the type's own row (used for any rule without a row) */
	const char *title;   /* Chinese title */
	const char *detail;  /* Chinese detail template; {name} or {name:dict} from the parameters */
};

struct i18n_rule {
	const char *rule;    /* validation rule code, errors[].rule */
	const char *message; /* Chinese message template */
	const char *generic; /* the message when a parameter is missing (NULL: message has none) */
};

/* The row for (type, rule), else (type, NULL); NULL when the type has none. */
const struct i18n_problem *i18n_find(const char *type, const char *rule);
/* The row of a validation rule; NULL when none. */
const struct i18n_rule *i18n_find_rule(const char *rule);
/* The tables, for tests: *n rows. */
const struct i18n_problem *i18n_problems(size_t *n);
const struct i18n_rule *i18n_rules(size_t *n);

/* Expands tmpl: {name} is params.name (string or number), {name:dict} the
 * same looked up in a dictionary (role, status, resource: "supervisor" ->
 * "督查室"; a word without an entry stays as it is). NULL when a parameter is
 * missing. */
char *i18n_expand(const char *tmpl, const json_t *params);

/* The Chinese of a word in a dictionary ("resource", "task" -> "任务"), NULL when it has none. */
const char *i18n_word(const char *dict, const char *en);

/* Rewrites a problem object ({type:"urn:plantrack:problem:SLUG", title,
 * status, detail, errors?}) into Chinese in place: title and detail from the
 * row of (slug, rule) expanded with params (the type's own row when the
 * rule's needs a missing parameter), detail_en keeps the English detail;
 * each errors[] item gets a Chinese message from its rule and params
 * (message_en keeps the English one), and a validation problem's detail
 * names the fields ("字段 title：不能为空"). params may be NULL; rule may be NULL.
 * A slug without a row keeps its English title with a generic Chinese detail. */
void i18n_localize_problem(json_t *problem, const char *slug, const char *rule, const json_t *params);

/* The Chinese message of one errors[] item ({field, message, rule?, params?}). */
char *i18n_error_message(const json_t *error);

#endif
