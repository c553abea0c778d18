/* SPDX-License-Identifier: ISC */
/*
 * A channel bridged to a socket (bridge.c): the bytes of an SSH channel
 * of one connection and of a non-blocking stream socket, each way through
 * one bounded buffer.  Agent forwarding (forward.c) and jump-host tunnels
 * (tunnel.c) are built on it.  The channel is used only from the
 * connection's pump (bridge_step), the socket also from the loop.  Fields
 * are written by bridge.c only.
 */
#ifndef SSHPOOL_BRIDGE_H
#define SSHPOOL_BRIDGE_H

#include <stddef.h>

#include <libssh/libssh.h>

struct conn;
struct event;

/* Bytes waiting in each direction: past that the side that fills it is
 * not read (the channel's window or the socket's buffer then holds the
 * writer back). */
#define BRIDGE_BUF_MAX (32 * 1024)

struct bridge {
	struct conn *conn;
	ssh_channel chan; /* borrowed: its owner opens and frees it */
	int fd;           /* owned, non-blocking; -1 once closed */
	struct event *ev;
	short ev_flags;
	int shut;     /* the channel's window was closed at the last step */
	int chan_eof; /* the channel's end of file was read, or it failed */
	int sock_eof; /* the socket's end closed or failed */
	/* channel -> socket, and socket -> channel */
	unsigned char to_sock[BRIDGE_BUF_MAX];
	size_t to_sock_len;
	unsigned char to_chan[BRIDGE_BUF_MAX];
	size_t to_chan_len;
};

/* Bridge chan of c to fd (taken, made non-blocking): 0, or -1 and fd is
 * closed. */
int bridge_start(struct bridge *, struct conn *c, ssh_channel chan, int fd);
/* Move bytes both ways; 1 if anything moved.  From the pump only. */
int bridge_step(struct bridge *);
/* Over: NULL while both ends live, else which end ended it.  What the
 * channel sent before its end has been written to the socket first. */
const char *bridge_ended(const struct bridge *);
/* Close the socket and stop watching it; the channel is the owner's. */
void bridge_stop(struct bridge *);

#endif
