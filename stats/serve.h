/*
 * serve.h - answer one client of the stats socket.
 */
#ifndef SERVE_H
#define SERVE_H

void	serve_client(int listen_fd);

#endif
