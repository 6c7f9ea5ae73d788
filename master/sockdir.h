/*
 * sockdir.h - warn about socket directories other users can write to.
 */
#ifndef SOCKDIR_H
#define SOCKDIR_H

#include "conf.h"

void	sockdir_check(const struct conf *);

#endif
