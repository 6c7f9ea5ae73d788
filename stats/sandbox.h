/*
 * sandbox.h - what snitch-stats gives up before its first client.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

void	sandbox_enter(void);

#endif
