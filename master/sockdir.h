/*
 * sockdir.h - judge socket directories other users can write to.
 */
#ifndef SOCKDIR_H
#define SOCKDIR_H

#include <stdint.h>

#include "conf.h"

void	sockdir_check(const struct conf *);
void	sockdir_stats(const char *, const char *, int64_t);

#endif
