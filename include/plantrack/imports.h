/*
 * imports.h - documents in, spreadsheets out:
 *   POST /v1/plans/import               plan text -> plan (or ?dry_run=true: the tree only)
 *   POST /v1/plans/{id}/tasks/import    CSV rows -> tasks under ?parent=TASK, all or nothing
 *   GET  /v1/plans/{id}/export.csv      the plan's tasks for Excel (UTF-8 BOM or GB18030)
 */
#ifndef PLANTRACK_IMPORTS_H
#define PLANTRACK_IMPORTS_H

struct router;

/* Registers the routes and statements. 0 ok. */
int imports_register(struct router *r);

#endif
