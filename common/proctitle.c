/*
 * proctitle.c - set the process title with libbsd's setproctitle.
 *
 * Called by the master and by each worker in its own main (the worker
 * is exec'd fresh, so the master's setup does not carry over).
 * proctitle_init must run first thing in main: setproctitle moves the
 * environment away and then writes over the memory that held argv and
 * the environment, so a pointer into argv (an optarg) is not valid after
 * proctitle_set; copy what must outlive it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bsd/unistd.h>

#include "proctitle.h"

static char	*proctitle_argv0;	/* where the title is written */
static size_t	 proctitle_argv0_len;	/* argv[0]'s length at start */

/* proctitle_init - let proctitle_set use argv's and environ's memory */
void
proctitle_init(int argc, char **argv)
{
	extern char	**environ;

	if (argc < 1 || argv[0] == NULL)
		return;
	proctitle_argv0 = argv[0];
	proctitle_argv0_len = strlen(argv[0]);
	setproctitle_init(argc, argv, environ);
}

/* proctitle_set - the title, exactly as given (no "program: " prefix) */
void
proctitle_set(const char *fmt, ...)
{
	char	title[128];
	va_list	ap;
	int	n;

	if (proctitle_argv0 == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(title, sizeof(title), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	setproctitle("-%s", title);
	/*
	 * A title shorter than the original argv[0] gets a '.' where
	 * argv[0] used to end (libbsd's marker), and Linux shows the whole
	 * argument area, so ps would print "snitch: master      .".  That
	 * byte is past our title's NUL: put the NUL back.
	 */
	if ((size_t)n < proctitle_argv0_len &&
	    proctitle_argv0[proctitle_argv0_len] == '.')
		proctitle_argv0[proctitle_argv0_len] = '\0';
}
