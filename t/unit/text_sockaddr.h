/*
 * text_sockaddr.h - an address's text as a sockaddr of its family, for
 * the unit tests whose tables give addresses as text (netblock_test.c,
 * synfilter_test.c).
 */
#ifndef TEXT_SOCKADDR_H
#define TEXT_SOCKADDR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* text_sockaddr - text to a sockaddr of either family (AF_UNSPEC: not one) */
static void
text_sockaddr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
}

#endif
