/* SPDX-License-Identifier: ISC */
/*
 * Jump-host tunnels (tunnel.c), on the hop's side: a struct tunnel is one
 * direct-tcpip channel on a pooled session of the hop's host (waiting in the
 * host's queue until a session with room carries it), bridged (bridge.c) to one
 * end of a socketpair. The other end goes back to the connection that asked
 * (MSG_TUNNEL_DONE), on whatever worker owns it, and becomes that connection's
 * socket, as a TCP socket would: every session stays owned by one worker.
 *
 * The asking side is conn.c's: a connection with a hop (params->via)
 * asks for its tunnel instead of resolving and connecting (CONN_TUNNEL)
 * and takes the answer as its socket.
 *
 * Fields are written by tunnel.c, but for the list entry its host or
 * connection keeps.
 */
#ifndef SSHPOOL_TUNNEL_H
#define SSHPOOL_TUNNEL_H

#include <sys/queue.h>

#include <libssh/libssh.h>

#include "bridge.h"
#include "proto.h"

struct conn;
struct host;
struct tunnel_req;
struct worker;

enum tunnel_state {
	TUNNEL_QUEUED,  /* in its host's queue */
	TUNNEL_OPENING, /* the channel open is under way */
	TUNNEL_OPEN,    /* bridging */
	TUNNEL_CLOSING, /* driving the channel close */
	TUNNEL_DONE     /* to be freed by its connection */
};

struct tunnel {
	TAILQ_ENTRY(tunnel) entry; /* host.c or conn.c: queued or carried */
	struct worker *w;
	struct host *host; /* the hop's pool */
	struct conn *conn; /* carrying it, from TUNNEL_OPENING */
	enum tunnel_state state;
	struct tunnel_req *req;
	long long start_ms;
	ssh_channel chan;
	int answered; /* the asking connection got its socket or error */
	int bridged;
	struct bridge br;
};
TAILQ_HEAD(tunnel_list, tunnel);

/* A tunnel for req (taken), queued at h by host_tunnel_submit. */
struct tunnel *tunnel_new(struct worker *, struct host *h,
			  struct tunnel_req *req);
/* On c, ready with room: the channel open starts at its next step. */
void tunnel_attach(struct tunnel *, struct conn *c);
/* Open, bridge, close; 1 if anything moved.  From the pump only. */
int tunnel_step(struct tunnel *);
int tunnel_done(const struct tunnel *);
/* Not answered, and its asker's deadline passed. */
int tunnel_expired(const struct tunnel *);
/* Not carried (yet): answer the asking connection with code and why,
 * naming the hop, and free the tunnel. */
void tunnel_fail(struct tunnel *, enum proto_code, const char *why);
/* Its session went: an unanswered tunnel goes back to its host's queue
 * (0), an answered one is freed, its socket closing under the asking
 * connection, which reads end of file (1). */
int tunnel_conn_gone(struct tunnel *);
/* Free it (its channel is left to the session's owner). */
void tunnel_free(struct tunnel *);

#endif
