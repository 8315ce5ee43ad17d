/*
 * test_workflow.c - the pure parts of the accountability routes: evidence
 * files' signatures against their declared type, the Content-Disposition
 * of a download (RFC 5987, no header injection), the quiet-hours setting.
 */
#include "check.h"
#include "plantrack/config.h"
#include "plantrack/workflow.h"

#include <string.h>

#define U (const unsigned char *)

int main(void)
{
	/* signatures */
	CHECK(attachment_sniff("image/jpeg", U "\xFF\xD8\xFF\xE0..", 6) == 1);
	CHECK(attachment_sniff("image/JPEG; foo=bar", U "\xFF\xD8\xFF\xE0..", 6) == 1);
	CHECK(attachment_sniff("image/png", U "\xFF\xD8\xFF\xE0..", 6) == 0);
	CHECK(attachment_sniff("image/png", U "\x89PNG\r\n\x1A\n", 8) == 1);
	CHECK(attachment_sniff("image/png", U "\x89PNG", 4) == 0);
	CHECK(attachment_sniff("image/gif", U "GIF89a", 6) == 1);
	CHECK(attachment_sniff("image/webp", U "RIFF\0\0\0\0WEBPVP8 ", 16) == 1);
	CHECK(attachment_sniff("image/webp", U "RIFF\0\0\0\0WAVEfmt ", 16) == 0);
	CHECK(attachment_sniff("application/pdf", U "%PDF-1.7", 8) == 1);
	CHECK(attachment_sniff("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			       U "PK\x03\x04", 4) == 1);
	CHECK(attachment_sniff("application/msword", U "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 1);
	CHECK(attachment_sniff("application/msword", U "PK\x03\x04", 4) == 0);
	CHECK(attachment_sniff("text/plain; charset=utf-8", U "整改完成\r\n", strlen("整改完成\r\n")) == 1);
	CHECK(attachment_sniff("text/plain", U "a\0b", 3) == 0);
	CHECK(attachment_sniff("text/plain", U "\xC0\xAF", 2) == 0);      /* overlong */
	CHECK(attachment_sniff("text/plain", U "\xED\xA0\x80", 3) == 0);  /* surrogate */
	CHECK(attachment_sniff("text/plain", U "\xE6\x95", 2) == 0);      /* cut short */
	CHECK(attachment_sniff("application/x-msdownload", U "MZ", 2) == -1);
	CHECK(attachment_sniff("application/octet-stream", U "%PDF-", 5) == -1);
	CHECK(attachment_sniff(NULL, U "", 0) == -1);
	CHECK(attachment_sniff("image/jpeg", U "", 0) == 0);

	/* Content-Disposition */
	char d[512];
	attachment_disposition("report.pdf", d, sizeof d);
	CHECK(!strcmp(d, "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"));
	attachment_disposition("现场 照片.jpg", d, sizeof d);
	CHECK(strstr(d, "filename*=UTF-8''%E7%8E%B0%E5%9C%BA%20%E7%85%A7%E7%89%87.jpg") != NULL);
	attachment_disposition("a\"b\r\nX-Evil: 1;.txt", d, sizeof d);
	CHECK(!strchr(d, '\r') && !strchr(d, '\n'));
	CHECK(!strncmp(d, "attachment; filename=\"a_b__X-Evil: 1;.txt\";", 42));
	CHECK(strstr(d, "%22") && strstr(d, "%0D%0A") && strstr(d, "%3A%201%3B"));
	attachment_disposition("", d, sizeof d);
	CHECK(strstr(d, "filename=\"attachment\"") != NULL);
	char small[40];
	attachment_disposition("a-very-long-file-name-that-does-not-fit.pdf", small, sizeof small);
	CHECK(!strcmp(small, "attachment"));

	/* quiet hours */
	int from, to;
	CHECK(config_parse_quiet_hours("22:00-07:00", &from, &to) == 0 && from == 1320 && to == 420);
	CHECK(config_parse_quiet_hours("", &from, &to) == 0 && from == -1);
	CHECK(config_parse_quiet_hours("25:00-07:00", &from, &to) == -1);
	CHECK(config_parse_quiet_hours("22:00-07:00x", &from, &to) == -1);
	return check_summary();
}
