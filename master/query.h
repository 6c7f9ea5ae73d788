/*
 * query.h - `snitch -s`, the client of the stats socket.
 */
#ifndef QUERY_H
#define QUERY_H

#include "conf.h"

int	query_summary(const struct conf *);

#endif
