/*
 * test_connguard.c - the request-head parser in front of evhttp: where a head
 * ends, its framing, and the heads it refuses (duplicate or conflicting
 * Content-Length, Transfer-Encoding with Content-Length, a body on HEAD, the
 * server's own header sent by a client).
 */
#include "check.h"
#include "plantrack/connguard.h"

#include <string.h>

static int parse(const char *s, struct connguard_head *h)
{
	return connguard_parse_head(s, strlen(s), 4096, h);
}

int main(void)
{
	struct connguard_head h;
	CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\n", &h) == 0);  /* not complete yet */
	CHECK(parse("GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\nNEXT", &h) == 1);
	CHECK(!h.error && h.framing == CG_NO_BODY && !strcmp(h.method, "GET") && !strcmp(h.target, "/a?b=1"));
	CHECK(h.head_len == strlen("GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
	CHECK(parse("GET / HTTP/1.1\nHost: x\n\n", &h) == 1 && h.head_len == 24);  /* bare LF */

	CHECK(parse("POST /v1/tasks HTTP/1.1\r\nContent-Length: 42\r\nAuthorization: Bearer pt_x\r\n\r\n", &h) == 1);
	CHECK(!h.error && h.framing == CG_LENGTH && h.length == 42 && !strcmp(h.authorization, "Bearer pt_x"));
	CHECK(parse("POST / HTTP/1.1\r\ncontent-length:  0 \r\n\r\n", &h) == 1 && !h.error && h.framing == CG_NO_BODY);
	CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h) == 1 && !h.error &&
	      h.framing == CG_CHUNKED);
	CHECK(parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", &h) == 1 && h.expect_continue);

	CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n", &h) == 1 && h.error);
	CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", &h) == 1 && h.error);
	CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n", &h) == 1 && h.error);
	CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", &h) == 1 && h.error);
	CHECK(parse("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &h) == 1 && h.error);
	CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", &h) == 1 && h.error);
	CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", &h) == 1 && h.error);
	CHECK(parse("HEAD / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", &h) == 1 && h.error);
	CHECK(parse("GET / HTTP/1.1\r\nX-Plantrack-Guard: 200 0 0 fake\r\n\r\n", &h) == 1 && h.error);
	CHECK(parse("GARBAGE\r\n\r\n", &h) == 1 && h.error);

	/* no end within max: -1 */
	char big[5000];
	memset(big, 'a', sizeof big);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	CHECK(connguard_parse_head(big, sizeof big, 4096, &h) == -1);
	return check_summary();
}
