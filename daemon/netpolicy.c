/*
 * netpolicy.c - destination policy for outgoing connections (see netpolicy.h).
 */
#include "plantrack/netpolicy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- IPv4 literals with inet_aton semantics ---- */

/* One dotted part: hex (0x), octal (leading 0) or decimal. 0 ok. */
static int parse_part(const char *s, size_t n, uint64_t *out)
{
	if (n == 0)
		return -1;
	int base = 10;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		n -= 2;
		if (n == 0)
			return -1;
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		s++;
		n--;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		if (d >= base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
		if (v > 0xffffffffULL)
			return -1;
	}
	*out = v;
	return 0;
}

/* 1 and addr[0..4) when s is an IPv4 address as inet_aton reads it. */
static int parse_ipv4_aton(const char *s, unsigned char addr[4])
{
	size_t len = strlen(s);
	if (len == 0 || len > 64)
		return 0;
	if (s[len - 1] == '.')  /* "127.0.0.1." : resolvers read it as the address */
		len--;
	uint64_t parts[4];
	int n = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (n == 4 || parse_part(s + start, i - start, &parts[n]))
				return 0;
			n++;
			start = i + 1;
		}
	}
	uint32_t v;
	switch (n) {
	case 1:
		v = (uint32_t)parts[0];
		break;
	case 2:
		if (parts[0] > 0xff || parts[1] > 0xffffff)
			return 0;
		v = (uint32_t)(parts[0] << 24 | parts[1]);
		break;
	case 3:
		if (parts[0] > 0xff || parts[1] > 0xff || parts[2] > 0xffff)
			return 0;
		v = (uint32_t)(parts[0] << 24 | parts[1] << 16 | parts[2]);
		break;
	default:
		for (int i = 0; i < 4; i++)
			if (parts[i] > 0xff)
				return 0;
		v = (uint32_t)(parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]);
		break;
	}
	addr[0] = (unsigned char)(v >> 24);
	addr[1] = (unsigned char)(v >> 16);
	addr[2] = (unsigned char)(v >> 8);
	addr[3] = (unsigned char)v;
	return 1;
}

int netpolicy_parse_host(const char *host, int *family, unsigned char addr[16])
{
	if (!host || !*host)
		return 0;
	char buf[128];
	size_t n = strlen(host);
	if (host[0] == '[') {
		if (n < 3 || host[n - 1] != ']' || n - 2 >= sizeof buf)
			return 0;
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = 0;
	} else {
		if (n >= sizeof buf)
			return 0;
		memcpy(buf, host, n + 1);
	}
	char *zone = strchr(buf, '%');  /* fe80::1%25eth0: the zone does not change the address */
	if (zone && strchr(buf, ':'))
		*zone = 0;
	if (strchr(buf, ':')) {
		if (inet_pton(AF_INET6, buf, addr) == 1) {
			*family = AF_INET6;
			return 1;
		}
		return 0;
	}
	if (parse_ipv4_aton(buf, addr)) {
		memset(addr + 4, 0, 12);
		*family = AF_INET;
		return 1;
	}
	return 0;
}

/* ---- classification ---- */

static int in4(const unsigned char *a, unsigned a0, unsigned a1, unsigned a2, unsigned a3, int prefix)
{
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	uint32_t net = (uint32_t)a0 << 24 | (uint32_t)a1 << 16 | (uint32_t)a2 << 8 | a3;
	uint32_t mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
	return (v & mask) == (net & mask);
}

static enum netclass classify4(const unsigned char *a)
{
	if (in4(a, 0, 0, 0, 0, 8))
		return NET_UNSPECIFIED;
	if (in4(a, 127, 0, 0, 0, 8))
		return NET_LOOPBACK;
	if (in4(a, 169, 254, 169, 254, 32) || in4(a, 169, 254, 170, 2, 32) || in4(a, 100, 100, 100, 200, 32))
		return NET_METADATA;  /* EC2/GCP/Azure, ECS task metadata, Alibaba Cloud */
	if (in4(a, 169, 254, 0, 0, 16))
		return NET_LINK_LOCAL;
	if (in4(a, 10, 0, 0, 0, 8) || in4(a, 172, 16, 0, 0, 12) || in4(a, 192, 168, 0, 0, 16) ||
	    in4(a, 100, 64, 0, 0, 10))
		return NET_PRIVATE;
	if (in4(a, 224, 0, 0, 0, 4))
		return NET_MULTICAST;
	if (in4(a, 240, 0, 0, 0, 4) || in4(a, 192, 0, 0, 0, 24) || in4(a, 198, 18, 0, 0, 15))
		return NET_RESERVED;
	return NET_PUBLIC;
}

/* The IPv4 address an IPv6 one embeds (mapped, compatible, NAT64, 6to4); 1 if any. */
static int embedded_v4(const unsigned char *a, unsigned char v4[4])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char zero[12] = { 0 };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
	if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12)) {
		memcpy(v4, a + 12, 4);
		return 1;
	}
	if (!memcmp(a, zero, 12)) {
		/* IPv4-compatible ::a.b.c.d; :: and ::1 are themselves */
		static const unsigned char one[4] = { 0, 0, 0, 1 };
		if (!memcmp(a + 12, zero, 4) || !memcmp(a + 12, one, 4))
			return 0;
		memcpy(v4, a + 12, 4);
		return 1;
	}
	if (a[0] == 0x20 && a[1] == 0x02) {
		memcpy(v4, a + 2, 4);
		return 1;
	}
	return 0;
}

static enum netclass classify6(const unsigned char *a)
{
	static const unsigned char zero[16] = { 0 };
	static const unsigned char loop[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const unsigned char ec2[16] = { 0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54 };
	unsigned char v4[4];
	if (!memcmp(a, zero, 16))
		return NET_UNSPECIFIED;
	if (!memcmp(a, loop, 16))
		return NET_LOOPBACK;
	if (embedded_v4(a, v4))
		return classify4(v4);
	if (!memcmp(a, ec2, 16))
		return NET_METADATA;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return NET_LINK_LOCAL;
	if ((a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0))
		return NET_PRIVATE;  /* ULA fc00::/7, deprecated site-local fec0::/10 */
	if (a[0] == 0 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4] == 0 && a[5] == 1)
		return NET_PRIVATE;  /* local-use NAT64 64:ff9b:1::/48 */
	if (a[0] == 0xff)
		return NET_MULTICAST;
	if (a[0] == 0x01 && a[1] == 0 && !memcmp(a + 2, zero, 6))
		return NET_RESERVED;  /* discard-only 100::/64 */
	return NET_PUBLIC;
}

enum netclass netpolicy_classify(int family, const unsigned char *addr)
{
	if (family == AF_INET)
		return classify4(addr);
	if (family == AF_INET6)
		return classify6(addr);
	return NET_RESERVED;
}

enum netclass netpolicy_classify_sa(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return classify4((const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return classify6((const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return NET_RESERVED;
}

const char *netpolicy_class_name(enum netclass c)
{
	switch (c) {
	case NET_PUBLIC: return "public";
	case NET_LOOPBACK: return "loopback";
	case NET_UNSPECIFIED: return "unspecified";
	case NET_LINK_LOCAL: return "link-local";
	case NET_METADATA: return "cloud metadata";
	case NET_PRIVATE: return "private";
	case NET_MULTICAST: return "multicast";
	case NET_RESERVED: return "reserved";
	}
	return "reserved";
}

/* ---- CIDR lists ---- */

static int prefix_match(const unsigned char *a, const unsigned char *net, int prefix)
{
	int full = prefix / 8, rest = prefix % 8;
	if (memcmp(a, net, (size_t)full))
		return 0;
	if (!rest)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (net[full] & mask);
}

int netpolicy_parse_cidr(const char *s, struct netcidr *out)
{
	char buf[128];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	int prefix = -1;
	if (slash) {
		*slash = 0;
		const char *p = slash + 1;
		if (!*p || strlen(p) > 3)
			return -1;
		prefix = 0;
		for (; *p; p++) {
			if (!isdigit((unsigned char)*p))
				return -1;
			prefix = prefix * 10 + (*p - '0');
		}
	}
	char *host = buf;
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		host++;
	}
	memset(out, 0, sizeof *out);
	/* Allow-list entries are written the usual way: strict dotted quads. */
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		if (prefix < 0)
			prefix = 32;
		if (prefix > 32)
			return -1;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		if (prefix < 0)
			prefix = 128;
		if (prefix > 128)
			return -1;
	} else {
		return -1;
	}
	out->prefix = prefix;
	/* Host bits must be zero: "10.0.0.1/8" is more likely a typo than intent. */
	int bytes = out->family == AF_INET ? 4 : 16;
	for (int bit = prefix; bit < bytes * 8; bit++)
		if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
			return -1;
	return 0;
}

int netpolicy_parse_list(const char *list, struct netcidr **out, size_t *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	if (!list)
		return 0;
	size_t cap = 0;
	const char *p = list;
	while (*p) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && *e != ',' && !isspace((unsigned char)*e))
			e++;
		char item[128];
		size_t len = (size_t)(e - p);
		struct netcidr c;
		if (len >= sizeof item) {
			snprintf(err, errlen, "not a CIDR block: \"%.40s...\"", p);
			goto fail;
		}
		memcpy(item, p, len);
		item[len] = 0;
		if (netpolicy_parse_cidr(item, &c)) {
			snprintf(err, errlen, "not a CIDR block (ADDRESS/PREFIX, host bits zero): \"%s\"", item);
			goto fail;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			struct netcidr *grown = realloc(*out, cap * sizeof *grown);
			if (!grown) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			*out = grown;
		}
		(*out)[(*n)++] = c;
		p = e;
	}
	return 0;
fail:
	free(*out);
	*out = NULL;
	*n = 0;
	return -1;
}

int netpolicy_allowed(const struct netcidr *allow, size_t nallow, int family, const unsigned char *addr)
{
	if (netpolicy_classify(family, addr) == NET_PUBLIC)
		return 1;
	unsigned char v4[4];
	int has_v4 = family == AF_INET6 && embedded_v4(addr, v4);
	for (size_t i = 0; i < nallow; i++) {
		const struct netcidr *c = &allow[i];
		if (c->family == family && prefix_match(addr, c->addr, c->prefix))
			return 1;
		if (has_v4 && c->family == AF_INET && prefix_match(v4, c->addr, c->prefix))
			return 1;
	}
	return 0;
}

int netpolicy_allowed_sa(const struct netcidr *allow, size_t nallow, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return netpolicy_allowed(allow, nallow, AF_INET,
					 (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return netpolicy_allowed(allow, nallow, AF_INET6,
					 (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}

int netpolicy_is_local_name(const char *host)
{
	if (!host)
		return 0;
	char buf[256];
	size_t n = strlen(host);
	if (n == 0 || n >= sizeof buf)
		return 0;
	memcpy(buf, host, n + 1);
	if (buf[n - 1] == '.')
		buf[--n] = 0;
	if (!strcasecmp(buf, "localhost") || !strcasecmp(buf, "localhost.localdomain") ||
	    !strcasecmp(buf, "ip6-localhost") || !strcasecmp(buf, "ip6-loopback"))
		return 1;
	return n > 10 && !strcasecmp(buf + n - 10, ".localhost");
}

void netpolicy_format(int family, const unsigned char *addr, char *out, size_t outlen)
{
	if (!inet_ntop(family, addr, out, (socklen_t)outlen))
		snprintf(out, outlen, "?");
}

int netpolicy_check_host(const struct netcidr *allow, size_t nallow, const char *host, char *why, size_t whylen)
{
	static const unsigned char v4loop[4] = { 127, 0, 0, 1 };
	static const unsigned char v6loop[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	if (netpolicy_is_local_name(host)) {
		if (netpolicy_allowed(allow, nallow, AF_INET, v4loop) || netpolicy_allowed(allow, nallow, AF_INET6, v6loop))
			return 0;
		snprintf(why, whylen, "%s names this machine (a loopback address); list it in [webhooks] allow to permit it",
			 host);
		return -1;
	}
	int family;
	unsigned char addr[16];
	if (!netpolicy_parse_host(host, &family, addr))
		return 0;
	if (netpolicy_allowed(allow, nallow, family, addr))
		return 0;
	char text[64];
	netpolicy_format(family, addr, text, sizeof text);
	snprintf(why, whylen, "%s is a %s address; list it in [webhooks] allow to permit it", text,
		 netpolicy_class_name(netpolicy_classify(family, addr)));
	return -1;
}
