/*
 * notifyaddr.c - the address in NOTIFY_SOCKET: an absolute path, or
 * "@name" for an abstract socket, as systemd sets it.  Depends on
 * nothing: the master (master/notify.c) and the backend programs
 * (tools/service.c) both read it here.
 */
#include <stddef.h>
#include <string.h>

#include "notifyaddr.h"

/*
 * notifyaddr_parse - env as a socket address in *sun, its length in
 * *len; 0, or -1 when it is neither a path nor "@name" or does not fit
 */
int
notifyaddr_parse(const char *env, struct sockaddr_un *sun, socklen_t *len)
{
	size_t	n = strlen(env);

	if ((env[0] != '/' && env[0] != '@') || n < 2 ||
	    n >= sizeof(sun->sun_path))
		return -1;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, env, n);
	if (sun->sun_path[0] == '@')
		sun->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	return 0;
}
