/*
 * privdrop.h - give up root for good.
 */
#ifndef PRIVDROP_H
#define PRIVDROP_H

void	privdrop_chroot(void);
void	privdrop(const char *user);

#endif
