/*
 * conf.h - snitch.ini, parsed (with inih) and checked.
 *
 * conf_load either returns a complete, valid configuration or an error
 * text "FILE:LINE: reason"; nothing is ever silently ignored.  Each key
 * is a row of conf.c's table, which also says whether a reload applies
 * it or only a restart can (conf_restart_diff).
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <sys/socket.h>

#include "wconf.h"

#define CONF_ERR_MAX	512
#define CONF_ADDR_MAX	64	/* "[ipv6]:port" */
#define CONF_LISTEN_MAX	64
#define CONF_DEFER_ACCEPT_MS 1000	/* accept a connection once data came */
#define CONF_KEYS_MAX	40	/* rows of conf.c's key table, at most */

struct conf_listen {
	struct sockaddr_storage	 cl_addr;
	socklen_t		 cl_len;
	char			 cl_text[CONF_ADDR_MAX];
};

struct conf {
	char			*cf_file;
	struct conf_listen	*cf_listen;
	size_t			 cf_nlisten;
	char			*cf_user;	/* NULL when not set */
	char			*cf_stats;	/* stats path or address, or NULL */
	int			 cf_stats_inet;	/* cf_stats is an address: */
	struct conf_listen	 cf_stats_addr;
	char			*cf_access_path; /* access_log = /path, or NULL */
	int			 cf_workers;
	unsigned		 cf_defer_accept_ms; /* 0: off */
	struct wconf		 cf_wconf;
};

#define CONF_LISTEN_PASSED	0x1	/* listen may be absent: sockets passed */

struct conf	*conf_load(const char *path, char *err, size_t errlen);
struct conf	*conf_load_with(const char *path, int flags, char *err,
		    size_t errlen);
void		 conf_free(struct conf *);
int		 conf_same_listeners(const struct conf *, const struct conf *);
int		 conf_restart_diff(const struct conf *running, struct conf *,
		    const char **changed, size_t max);
int		 conf_parse_duration(const char *text, unsigned *ms);
int		 conf_parse_addr(const char *text, struct conf_listen *);

#endif
