/*
 * workflow.h - accountability routes (issue 11): units, 签收/退回, plan
 * approval, change requests, evidence files. The rules live in SQL
 * (sql/api/55_accountability.sql); docs/workflow.md draws the states.
 */
#ifndef PLANTRACK_WORKFLOW_H
#define PLANTRACK_WORKFLOW_H

#include <stddef.h>

struct router;

int workflow_register(struct router *r);

/* Attachments: the media types accepted, and whether the bytes are one of
 * them. Returns 1 when data starts as content_type says (plain text: valid
 * UTF-8 without NUL or other control bytes but tab, CR and LF), 0 when not,
 * -1 when content_type is not accepted at all. Parameters (";charset=") are
 * ignored. */
int attachment_sniff(const char *content_type, const unsigned char *data, size_t len);
/* Content-Disposition for filename: attachment; filename="ASCII fallback";
 * filename*=UTF-8''percent-encoded (RFC 6266/5987). Never contains CR, LF
 * or a double quote inside the quoted part. Returns out. */
char *attachment_disposition(const char *filename, char *out, size_t outlen);

#endif
