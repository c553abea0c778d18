/* SPDX-License-Identifier: ISC */
/*
 * One forwarded agent channel (forward.c): an auth-agent@openssh.com
 * channel the server opened for a job with ForwardAgent, bridged to a
 * FORWARD relay of the agent broker on the daemon's IdentityAgent.  Fields
 * are written by forward.c only, but for the list entry its connection
 * keeps.
 */
#ifndef SSHPOOL_FORWARD_H
#define SSHPOOL_FORWARD_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <libssh/libssh.h>

#include "bridge.h"

struct conn;
struct event;

/* Agent channels one connection carries at once; more are refused. */
#define FORWARD_MAX_PER_CONN 8

enum forward_state {
	FORWARD_CONNECT, /* to connect to the agent and open the relay */
	FORWARD_OPEN,    /* bridging */
	FORWARD_CLOSING, /* driving the channel close */
	FORWARD_DONE     /* to be freed by its connection */
};

struct forward {
	TAILQ_ENTRY(forward) entry; /* conn.c: in the conn's forwards */
	struct conn *conn;
	int num; /* the connection's n-th agent channel, for log lines */
	enum forward_state state;
	ssh_channel chan;
	char agent[108];  /* the IdentityAgent socket, or "" with link */
	uint64_t link;    /* a client's agent (agent.h), 0 none */
	uint64_t relay;   /* the broker's relay, 0 none */
	int bridged;      /* br runs */
	struct bridge br; /* the channel to the relay's socket */
};
TAILQ_HEAD(forward_list, forward);

/*
 * From the session's channel-open callback: a new channel for the server's
 * open (returned to libssh, which accepts it), bridged from the next
 * forward_step to the client's agent on link, or without one to the
 * daemon's agent at path.  NULL if libssh could not make a channel.
 */
struct forward *forward_new(struct conn *, int num, const char *path,
			    uint64_t link);
ssh_channel forward_channel(const struct forward *);
/* Move bytes both ways; 1 if anything moved.  From the connection's pump
 * only: this is where the channel is used. */
int forward_step(struct forward *);
int forward_done(const struct forward *);
/* Free a bridge in FORWARD_DONE, or one whose session goes (the channel
 * is then left to ssh_free). */
void forward_free(struct forward *);

#endif
