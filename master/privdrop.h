/*
 * privdrop.h - give up root for good.
 */
#ifndef PRIVDROP_H
#define PRIVDROP_H

void	privdrop_chroot(void);
void	privdrop_net_admin_keep(void);
int	privdrop_net_admin(int on);
void	privdrop(const char *user);

#endif
