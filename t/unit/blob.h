/*
 * blob.h - the unit tests' way to see what an encoder wrote: to a fresh
 * memfd, then read back whole (wconf_test.c, snapshot_test.c).
 */
#ifndef BLOB_H
#define BLOB_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* blob_memfd - an empty memfd to encode into; aborts if there is none */
static inline int
blob_memfd(void)
{
	int	fd = memfd_create("unit-test-blob", 0);

	if (fd == -1)
		abort();
	return fd;
}

/* blob_take - what fd holds, in memory; its length in *len; closes fd */
static inline uint8_t *
blob_take(int fd, size_t *len)
{
	uint8_t	*buf;
	off_t	 end;

	if ((end = lseek(fd, 0, SEEK_END)) <= 0 ||
	    (buf = malloc((size_t)end)) == NULL ||
	    pread(fd, buf, (size_t)end, 0) != end)
		abort();
	close(fd);
	*len = (size_t)end;
	return buf;
}

#endif
