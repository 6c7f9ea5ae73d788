/*
 * wconf_test.c - the worker configuration survives encode and decode,
 * and a damaged blob is refused rather than half-read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"
#include "wconf.h"

/* blob - encode wc into memory; its length in *len */
static uint8_t *
blob(const struct wconf *wc, size_t *len)
{
	int	 fd = memfd_create("wconf-test", 0);
	uint8_t	*buf;
	off_t	 end;

	if (fd == -1 || wconf_encode(wc, fd) == -1 ||
	    (end = lseek(fd, 0, SEEK_END)) <= 0 ||
	    (buf = malloc((size_t)end)) == NULL ||
	    pread(fd, buf, (size_t)end, 0) != end)
		abort();
	close(fd);
	*len = (size_t)end;
	return buf;
}

int
main(void)
{
	struct wconf	 in, out;
	uint8_t		*b;
	size_t		 len, cut, refused = 0;

	wconf_init(&in);
	in.wc_peek_timeout_ms = 1234;
	in.wc_handoff_timeout_ms = 567;
	in.wc_max_pending = 89;
	wconf_add_backend(&in, "web", "/run/web.sock");
	wconf_add_backend(&in, "mail", "/run/mail sock with spaces");
	in.wc_default = 1;
	in.wc_backends[0].wb_fallback = 1;
	names_add(in.wc_names, "example.org", 0, NULL);
	names_add(in.wc_names, "*.example.org", 1, NULL);
	names_add(in.wc_names, "*", 0, NULL);

	b = blob(&in, &len);
	TAP_OK(wconf_decode(b, len, &out) == 0, "decodes what it encoded");
	TAP_OK(out.wc_peek_timeout_ms == 1234 && out.wc_handoff_timeout_ms ==
	    567 && out.wc_max_pending == 89 && out.wc_default == 1,
	    "settings survive");
	TAP_OK(out.wc_nbackends == 2 && strcmp(out.wc_backends[1].wb_socket,
	    "/run/mail sock with spaces") == 0, "backends survive");
	TAP_OK(out.wc_backends[0].wb_fallback == 1 &&
	    out.wc_backends[1].wb_fallback == -1, "fallbacks survive");
	TAP_OK(names_count(out.wc_names) == 3 &&
	    names_lookup(out.wc_names, "a.example.org", 13) == 1 &&
	    names_lookup(out.wc_names, "example.org", 11) == 0 &&
	    names_lookup(out.wc_names, "x.net", 5) == 0, "routes survive");
	wconf_clear(&out);

	for (cut = 0; cut < len; cut++)
		if (wconf_decode(b, cut, &out) == -1 && errno == EBADMSG)
			refused++;
	TAP_OK(refused == len, "every truncation is refused (%zu of %zu)",
	    refused, len);
	b[len - 2] = 'x';	/* "end" -> "exd" */
	TAP_OK(wconf_decode(b, len, &out) == -1, "unknown record refused");
	free(b);

	in.wc_default = 5;	/* no such backend */
	b = blob(&in, &len);
	TAP_OK(wconf_decode(b, len, &out) == -1, "bad backend index refused");
	free(b);
	wconf_clear(&in);
	return TAP_DONE();
}
