/*
 * notify.c - sd_notify(3) protocol in a few lines (see notify.h).
 */
#include "plantrack/notify.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int notify_send(const char *text)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return 0;
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	size_t plen = strlen(path);
	if (plen >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@'))
		return -1;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = 0;
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t n = sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	close(fd);
	return n < 0 ? -1 : 0;
}

int notify_ready(void)
{
	return notify_send("READY=1");
}

int notify_reloading(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	char buf[96];
	snprintf(buf, sizeof buf, "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
	return notify_send(buf);
}

int notify_stopping(void)
{
	return notify_send("STOPPING=1");
}

int notify_watchdog(void)
{
	return notify_send("WATCHDOG=1");
}

int notify_statusf(const char *fmt, ...)
{
	char buf[512] = "STATUS=";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + 7, sizeof buf - 7, fmt, ap);
	va_end(ap);
	return notify_send(buf);
}

uint64_t notify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	if (!usec || !*usec)
		return 0;
	const char *pid = getenv("WATCHDOG_PID");
	if (pid && *pid && (pid_t)atol(pid) != getpid())
		return 0;
	return strtoull(usec, NULL, 10);
}
