/*
 * fdslot.h - keep a sandboxed process's fixed descriptor numbers taken,
 * so that every descriptor it gets later is numbered above them.
 */
#ifndef FDSLOT_H
#define FDSLOT_H

int	fdslot_fix(void);
void	fdslot_close(int fd);
int	fdslot_move(int fd, int to);

#endif
