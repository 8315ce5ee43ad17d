/*
 * netpolicy.h - where the daemon's outgoing connections (webhook deliveries)
 * may go: address classification, CIDR allow-lists, and host literals parsed
 * the way the C library would read them.
 *
 * Refused unless an allow-list entry names them: loopback (127/8, ::1),
 * unspecified (0/8, ::), link-local (169.254/16, fe80::/10), cloud metadata
 * (169.254.169.254, fd00:ec2::254), private (10/8, 172.16/12, 192.168/16,
 * 100.64/10 shared, fc00::/7 ULA), multicast, and reserved (240/4,
 * 255.255.255.255, 192.0.0/24, 198.18/15). An IPv6 address that embeds an
 * IPv4 one (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64
 * 64:ff9b::/96, 6to4 2002::/16) is judged by the embedded address.
 *
 * Host literals follow inet_aton(3) for IPv4 (1 to 4 parts, each decimal,
 * octal with a leading 0 or hex with 0x: "127.1", "2130706433",
 * "0x7f000001", "0177.0.0.1" all mean 127.0.0.1) because resolvers accept
 * those spellings too; IPv6 literals may come with or without brackets.
 *
 * Pure: no I/O, no allocation except netpolicy_parse_list's result; thread safe.
 */
#ifndef PLANTRACK_NETPOLICY_H
#define PLANTRACK_NETPOLICY_H

#include <stddef.h>
#include <sys/socket.h>

enum netclass {
	NET_PUBLIC = 0,
	NET_LOOPBACK,
	NET_UNSPECIFIED,
	NET_LINK_LOCAL,
	NET_METADATA,
	NET_PRIVATE,
	NET_MULTICAST,
	NET_RESERVED,
};

/* One CIDR block. family is AF_INET (addr[0..4)) or AF_INET6 (addr[0..16)). */
struct netcidr {
	int family;
	unsigned char addr[16];
	int prefix;
};

/* "10.0.0.0/8", "fd00::/8", "[::1]/128" or a bare address (a /32 or /128).
 * Host bits beyond the prefix must be zero. 0 ok, -1 malformed. */
int netpolicy_parse_cidr(const char *s, struct netcidr *out);

/* A list of CIDRs separated by commas and/or spaces ("" = empty list). On
 * success returns 0 with *out a malloc'd array the CALLER FREES (NULL when
 * empty) and *n its length; -1 with a one-line message naming the bad entry. */
int netpolicy_parse_list(const char *list, struct netcidr **out, size_t *n, char *err, size_t errlen);

/* The class of an address: family AF_INET with 4 bytes or AF_INET6 with 16. */
enum netclass netpolicy_classify(int family, const unsigned char *addr);
/* Same for a socket address (AF_INET/AF_INET6; anything else is NET_RESERVED). */
enum netclass netpolicy_classify_sa(const struct sockaddr *sa);
/* "loopback", "link-local", "cloud metadata", ...; "public" for NET_PUBLIC. */
const char *netpolicy_class_name(enum netclass c);

/* 1 when the address is public or inside one of the allow entries (an
 * IPv6 address embedding IPv4 also matches IPv4 entries), else 0. */
int netpolicy_allowed(const struct netcidr *allow, size_t nallow, int family, const unsigned char *addr);
int netpolicy_allowed_sa(const struct netcidr *allow, size_t nallow, const struct sockaddr *sa);

/* Parses a URL host as an address literal: *family and addr[16] filled and
 * 1 returned; 0 when host is a name (to be resolved); never fails otherwise. */
int netpolicy_parse_host(const char *host, int *family, unsigned char addr[16]);

/* 1 for names that always mean this machine: localhost, *.localhost (with or
 * without the final dot, any case), localhost.localdomain, ip6-localhost,
 * ip6-loopback. */
int netpolicy_is_local_name(const char *host);

/* The check made when a webhook URL is stored: a literal address or a local
 * name must be allowed (a local name counts as 127.0.0.1 and ::1); any other
 * name passes (its addresses are checked when it is resolved, at delivery).
 * 0 ok; -1 with the reason ("127.0.0.1 is a loopback address") in why. */
int netpolicy_check_host(const struct netcidr *allow, size_t nallow, const char *host, char *why, size_t whylen);

/* Formats an address for messages ("127.0.0.1", "::ffff:a9fe:a9fe"). */
void netpolicy_format(int family, const unsigned char *addr, char *out, size_t outlen);

#endif
