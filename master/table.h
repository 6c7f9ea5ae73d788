/*
 * table.h - `snitch -T`: print the effective routing table.
 */
#ifndef TABLE_H
#define TABLE_H

#include <stdio.h>

#include "conf.h"

int	table_print(const struct conf *, FILE *);

#endif
