/*
 * proctitle.h - the process title ps shows: "snitch: master",
 * "snitch: worker N gen G".
 */
#ifndef PROCTITLE_H
#define PROCTITLE_H

void	proctitle_init(int argc, char **argv);
void	proctitle_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
