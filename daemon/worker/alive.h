/* SPDX-License-Identifier: ISC */
/*
 * Keepalive of a ready connection (alive.c).  It reads and writes the
 * connection's keepalive fields (rx_seen, last_rx_ms, ka_*), which no
 * other file writes once the connection is ready.
 */
#ifndef SSHPOOL_ALIVE_H
#define SSHPOOL_ALIVE_H

#include <event2/event.h>

struct conn;

/* Note traffic from the server: it proves the session alive. */
void alive_saw_packets(struct conn *);
/* The keepalive timer's period: a quarter interval, at least 1 ms. */
int alive_tick(const struct conn *);
/* The keepalive timer (c->alive) of a connection. */
void alive_cb(evutil_socket_t, short, void *);

#endif
