/*
 * conf_fuzz.c - libFuzzer harness for conf_load.
 *
 * The master reads snitch.ini as root at start, so the config reader
 * (inih and conf.c) must not crash or leak on any file, however broken.
 * Each input is written to one memfd and loaded through
 * /proc/self/fd/N, the way conf_load opens any path; AddressSanitizer's
 * leak checker sees what conf_free forgets.  It traps when a promise of
 * conf.h is broken:
 *
 *   - when conf_load returns NULL, the error text starts with the path
 *     and a colon ("FILE:LINE: reason" or "FILE: reason") and is
 *     NUL-terminated within its buffer;
 *   - a configuration has 1..CONF_LISTEN_MAX listeners, at least one
 *     backend or tenant, a worker count of at least 1, and a default
 *     backend that exists.
 *
 * Built and run by `make fuzz` and `make fuzz-check` (t/fuzz/run.sh);
 * the seed corpus is t/fuzz/corpus/conf/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond))							\
		__builtin_trap();					\
} while (0)

/* conf_fuzz_file - the memfd holding the input, made once */
static int
conf_fuzz_file(char *path, size_t size)
{
	static int	 fd = -1;

	if (fd == -1 && (fd = memfd_create("snitch.ini", MFD_CLOEXEC)) == -1)
		abort();
	snprintf(path, size, "/proc/self/fd/%d", fd);
	return fd;
}

/* conf_fuzz_write - make the memfd hold exactly the input */
static void
conf_fuzz_write(int fd, const uint8_t *data, size_t size)
{
	ssize_t	 n;
	size_t	 off = 0;

	if (ftruncate(fd, 0) == -1)
		abort();
	while (off < size) {
		if ((n = pwrite(fd, data + off, size - off, (off_t)off)) <= 0)
			abort();
		off += (size_t)n;
	}
}

/* LLVMFuzzerTestOneInput - load one input as snitch.ini */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 path[64], err[CONF_ERR_MAX];
	struct conf	*cf;
	size_t		 plen;
	int		 fd;

	fd = conf_fuzz_file(path, sizeof(path));
	conf_fuzz_write(fd, data, size);
	memset(err, 0x5a, sizeof(err));
	cf = conf_load(path, err, sizeof(err));
	if (cf == NULL) {
		plen = strlen(path);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		FUZZ_CHECK(strncmp(err, path, plen) == 0 && err[plen] == ':');
		return 0;
	}
	FUZZ_CHECK(strcmp(cf->cf_file, path) == 0);
	FUZZ_CHECK(cf->cf_nlisten >= 1 && cf->cf_nlisten <= CONF_LISTEN_MAX);
	/* tenants alone are a configuration: names served from their dirs */
	FUZZ_CHECK(cf->cf_wconf.wc_nbackends >= 1 ||
	    cf->cf_wconf.wc_ntenants >= 1);
	FUZZ_CHECK(cf->cf_workers >= 1);
	FUZZ_CHECK(cf->cf_wconf.wc_default >= -1 &&
	    cf->cf_wconf.wc_default < (int)cf->cf_wconf.wc_nbackends);
	conf_free(cf);
	return 0;
}
