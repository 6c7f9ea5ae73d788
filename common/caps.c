/*
 * caps.c - read and set the capability sets of this process.
 *
 * Used by the master (to keep CAP_SYS_CHROOT alone through its
 * privilege drop when workers chroot) and by each worker (to drop every
 * capability and check that none is left).  Version 3 of the kernel's
 * interface: two 32-bit words per set.
 */
#include <linux/capability.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"

/* caps_get - this process's sets; 0, or -1 with errno */
int
caps_get(struct caps *cs)
{
	struct __user_cap_header_struct	hdr = {
		_LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct	data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data) == -1)
		return -1;
	cs->cs_permitted = data[0].permitted |
	    (uint64_t)data[1].permitted << 32;
	cs->cs_effective = data[0].effective |
	    (uint64_t)data[1].effective << 32;
	cs->cs_inheritable = data[0].inheritable |
	    (uint64_t)data[1].inheritable << 32;
	return 0;
}

/* caps_set - replace this process's sets; 0, or -1 with errno */
int
caps_set(const struct caps *cs)
{
	struct __user_cap_header_struct	hdr = {
		_LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct	data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	data[0].permitted = (uint32_t)cs->cs_permitted;
	data[1].permitted = (uint32_t)(cs->cs_permitted >> 32);
	data[0].effective = (uint32_t)cs->cs_effective;
	data[1].effective = (uint32_t)(cs->cs_effective >> 32);
	data[0].inheritable = (uint32_t)cs->cs_inheritable;
	data[1].inheritable = (uint32_t)(cs->cs_inheritable >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}
