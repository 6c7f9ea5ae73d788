/*
 * broker.h - the master connects the workers' channels for them.
 */
#ifndef BROKER_H
#define BROKER_H

#include "wconf.h"

struct broker_peer;

int	broker_init(void);
int	broker_fd(void);
int	broker_pair(int *master_end, int *worker_end);
struct broker_peer *broker_add(int fd, const struct wconf *, int index,
	    unsigned gen);
void	broker_remove(struct broker_peer *);
void	broker_serve(void);

#endif
