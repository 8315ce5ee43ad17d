/*
 * test_netpolicy.c - destination policy: literals as inet_aton reads them,
 * address classes, IPv4 embedded in IPv6, CIDR parsing and allow-lists.
 */
#include "check.h"
#include "plantrack/netpolicy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static enum netclass host_class(const char *host)
{
	int family;
	unsigned char a[16];
	if (!netpolicy_parse_host(host, &family, a))
		return (enum netclass)-1;
	return netpolicy_classify(family, a);
}

/* Our parser agrees with the C library's inet_aton on IPv4 spellings. */
static int same_as_aton(const char *s)
{
	struct in_addr want;
	int family;
	unsigned char a[16];
	int ours = netpolicy_parse_host(s, &family, a);
	int libc = inet_aton(s, &want);
	if (!ours || !libc)
		return ours == libc;
	return family == AF_INET && !memcmp(a, &want, 4);
}

static int check(const char *allow, const char *host)
{
	struct netcidr *list;
	size_t n;
	char err[128], why[256];
	if (netpolicy_parse_list(allow, &list, &n, err, sizeof err))
		return -2;
	int rc = netpolicy_check_host(list, n, host, why, sizeof why);
	free(list);
	return rc;
}

int main(void)
{
	/* literal spellings */
	const char *spellings[] = { "127.0.0.1", "127.1", "127.0.1", "2130706433", "0x7f000001", "0177.0.0.1",
				    "0x7f.1", "0", "1.2.3.4", "255.255.255.255", "0xff.0xff.0xff.0xff", "017777777777",
				    "256.0.0.1", "1.2.3.4.5", "08.1.1.1", "0x", "1..2", "example.com", "4294967296",
				    "1.16777216", "1.2.65536", NULL };
	for (int i = 0; spellings[i]; i++)
		CHECK(same_as_aton(spellings[i]));

	CHECK(host_class("127.1") == NET_LOOPBACK);
	CHECK(host_class("2130706433") == NET_LOOPBACK);
	CHECK(host_class("0x7f000001") == NET_LOOPBACK);
	CHECK(host_class("0177.0.0.1") == NET_LOOPBACK);
	CHECK(host_class("127.0.0.1.") == NET_LOOPBACK);
	CHECK(host_class("[::1]") == NET_LOOPBACK);
	CHECK(host_class("::1") == NET_LOOPBACK);
	CHECK(host_class("0.0.0.0") == NET_UNSPECIFIED);
	CHECK(host_class("0") == NET_UNSPECIFIED);
	CHECK(host_class("[::]") == NET_UNSPECIFIED);
	CHECK(host_class("169.254.169.254") == NET_METADATA);
	CHECK(host_class("[::ffff:169.254.169.254]") == NET_METADATA);
	CHECK(host_class("[::ffff:a9fe:a9fe]") == NET_METADATA);
	CHECK(host_class("[64:ff9b::a9fe:a9fe]") == NET_METADATA);
	CHECK(host_class("[::169.254.169.254]") == NET_METADATA);
	CHECK(host_class("[2002:a9fe:a9fe::1]") == NET_METADATA);
	CHECK(host_class("[fd00:ec2::254]") == NET_METADATA);
	CHECK(host_class("100.100.100.200") == NET_METADATA);
	CHECK(host_class("169.254.1.1") == NET_LINK_LOCAL);
	CHECK(host_class("[fe80::1]") == NET_LINK_LOCAL);
	CHECK(host_class("[fe80::1%25eth0]") == NET_LINK_LOCAL);
	CHECK(host_class("10.1.2.3") == NET_PRIVATE);
	CHECK(host_class("172.16.0.1") == NET_PRIVATE);
	CHECK(host_class("172.31.255.255") == NET_PRIVATE);
	CHECK(host_class("172.32.0.1") == NET_PUBLIC);
	CHECK(host_class("192.168.0.1") == NET_PRIVATE);
	CHECK(host_class("100.64.0.1") == NET_PRIVATE);
	CHECK(host_class("[fd12:3456::1]") == NET_PRIVATE);
	CHECK(host_class("[fc00::1]") == NET_PRIVATE);
	CHECK(host_class("[::ffff:10.0.0.1]") == NET_PRIVATE);
	CHECK(host_class("224.0.0.1") == NET_MULTICAST);
	CHECK(host_class("[ff02::1]") == NET_MULTICAST);
	CHECK(host_class("255.255.255.255") == NET_RESERVED);
	CHECK(host_class("240.0.0.1") == NET_RESERVED);
	CHECK(host_class("93.184.216.34") == NET_PUBLIC);
	CHECK(host_class("[2606:2800:220:1::1]") == NET_PUBLIC);
	CHECK(host_class("[::ffff:93.184.216.34]") == NET_PUBLIC);
	CHECK(host_class("example.com") == (enum netclass)-1);
	CHECK(host_class("localhost") == (enum netclass)-1);
	CHECK(host_class("[not-v6]") == (enum netclass)-1);

	/* local names */
	CHECK(netpolicy_is_local_name("localhost"));
	CHECK(netpolicy_is_local_name("LOCALHOST."));
	CHECK(netpolicy_is_local_name("api.localhost"));
	CHECK(netpolicy_is_local_name("ip6-localhost"));
	CHECK(!netpolicy_is_local_name("localhost.example.com"));
	CHECK(!netpolicy_is_local_name("notlocalhost"));

	/* CIDR parsing */
	struct netcidr c;
	CHECK(netpolicy_parse_cidr("10.0.0.0/8", &c) == 0 && c.family == AF_INET && c.prefix == 8);
	CHECK(netpolicy_parse_cidr("127.0.0.1", &c) == 0 && c.prefix == 32);
	CHECK(netpolicy_parse_cidr("fd00::/8", &c) == 0 && c.family == AF_INET6 && c.prefix == 8);
	CHECK(netpolicy_parse_cidr("[::1]/128", &c) == 0 && c.prefix == 128);
	CHECK(netpolicy_parse_cidr("0.0.0.0/0", &c) == 0 && c.prefix == 0);
	CHECK(netpolicy_parse_cidr("10.0.0.1/8", &c) == -1);  /* host bits set */
	CHECK(netpolicy_parse_cidr("10.0.0.0/33", &c) == -1);
	CHECK(netpolicy_parse_cidr("10.0.0.0/", &c) == -1);
	CHECK(netpolicy_parse_cidr("10.0.0.0/x", &c) == -1);
	CHECK(netpolicy_parse_cidr("127.1/32", &c) == -1);     /* allow-lists take strict dotted quads */
	CHECK(netpolicy_parse_cidr("example.com/32", &c) == -1);
	CHECK(netpolicy_parse_cidr("", &c) == -1);

	struct netcidr *list;
	size_t n;
	char err[160];
	CHECK(netpolicy_parse_list("127.0.0.0/8, 10.1.0.0/16 fd00::/8", &list, &n, err, sizeof err) == 0 && n == 3);
	free(list);
	CHECK(netpolicy_parse_list("", &list, &n, err, sizeof err) == 0 && n == 0 && list == NULL);
	CHECK(netpolicy_parse_list(" , ", &list, &n, err, sizeof err) == 0 && n == 0);
	CHECK(netpolicy_parse_list("127.0.0.0/8, bogus", &list, &n, err, sizeof err) == -1 && strstr(err, "bogus"));

	/* the creation-time check */
	CHECK(check("", "example.com") == 0);
	CHECK(check("", "93.184.216.34") == 0);
	CHECK(check("", "127.0.0.1") == -1);
	CHECK(check("", "127.1") == -1);
	CHECK(check("", "2130706433") == -1);
	CHECK(check("", "[::1]") == -1);
	CHECK(check("", "[::ffff:169.254.169.254]") == -1);
	CHECK(check("", "0.0.0.0") == -1);
	CHECK(check("", "localhost") == -1);
	CHECK(check("127.0.0.0/8", "127.0.0.1") == 0);
	CHECK(check("127.0.0.0/8", "127.1") == 0);
	CHECK(check("127.0.0.0/8", "[::ffff:127.0.0.1]") == 0);  /* the embedded IPv4 matches */
	CHECK(check("127.0.0.0/8", "localhost") == 0);
	CHECK(check("127.0.0.0/8", "[::1]") == -1);
	CHECK(check("127.0.0.0/8", "169.254.169.254") == -1);
	CHECK(check("10.0.0.0/8", "10.9.8.7") == 0);
	CHECK(check("10.0.0.0/8", "11.0.0.0") == 0);              /* public anyway */
	CHECK(check("10.0.0.0/16", "10.1.0.1") == -1);
	CHECK(check("fd00::/8", "[fd00::5]") == 0);
	CHECK(check("fd00::/8", "[fe80::5]") == -1);

	char why[256];
	CHECK(netpolicy_check_host(NULL, 0, "2130706433", why, sizeof why) == -1 && strstr(why, "127.0.0.1") &&
	      strstr(why, "loopback"));

	return check_summary();
}
