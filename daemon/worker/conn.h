/* SPDX-License-Identifier: ISC */
/*
 * One SSH connection to a host and its state machine (conn.c).  Fields are
 * written by conn.c only, but for the list entry its host keeps.
 */
#ifndef SSHPOOL_CONN_H
#define SSHPOOL_CONN_H

#include <stdint.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "auth.h"
#include "forward.h"
#include "tunnel.h"
#include "worker.h"

struct addrinfo;

enum conn_state {
	CONN_RESOLVE,
	CONN_TUNNEL, /* through a hop: its tunnel is asked for */
	CONN_TCP,
	CONN_KEX,
	CONN_HOSTKEY,
	CONN_AUTH,
	CONN_READY,
	CONN_DEAD /* torn down at the end of the current callback */
};

struct conn_offload; /* an offload task in flight for a conn */

struct conn {
	TAILQ_ENTRY(conn) entry; /* host.c: in host->conns */
	struct host *host;
	struct worker *w;
	unsigned long long id;
	enum conn_state state;
	long long started_ms;

	struct addrinfo *addrs; /* resolved addresses */
	struct addrinfo *addr;  /* the one being tried */
	int fd;                 /* -1 when none, or closed by libssh */
	int handed;             /* fd given to libssh, which closes it */
	struct event *io;       /* on fd */
	short io_flags;
	struct event *deadline;       /* of the current state */
	struct event *kick;           /* run a step from the loop */
	struct conn_offload *pending; /* resolve or known_hosts in flight */
	int timed_out;                /* some address timed out */
	char tcp_error[128];

	ssh_session session;
	ssh_event sevent;
	/* Packets libssh has taken in: any call may read the socket and fill
	 * some channel's buffers, so the pump goes on while this moves. */
	struct ssh_counter_struct packets;
	struct auth *auth; /* AUTH: auth.c's state, keys kept across a
			      reload */
	/* The credential it authenticates with (a reference until READY):
	 * the one of the job it was opened for, whose agent link lives. */
	struct cred *cred;
	/* A key of a client's agent opened it: only jobs whose agent holds
	 * that key (job_holds_key) are given it. */
	int agent_keyed;
	unsigned char agent_key[AUTH_KEY_HASH];
	int ready; /* reached READY: counted in host->nready */

	/* Keepalive (ServerAliveInterval/CountMax): silence is measured from
	 * the last packet received, on a tick of a quarter interval. */
	struct event *alive;
	/* A refused channel open with nothing else open: no new channel
	 * before hold_until_ms; hold dispatches the host's queue then. */
	long long hold_until_ms;
	struct event *hold;
	struct event *idle; /* IdleTimeout after the last channel went */
	uint64_t rx_seen;   /* packets.in_packets at the last look */
	long long last_rx_ms;
	long long ka_sent_ms; /* last keepalive sent; 0 = none */
	int ka_outstanding;   /* sent, and nothing received since */
	int ka_stuck;         /* has probed with SSH_MSG_IGNORE (logged once) */
	int ka_probe;         /* an SSH_MSG_IGNORE probe not yet acknowledged */
	long long ready_ms;
	/* Every job here is paused (job_paused): the socket is not read, so
	 * the server's output waits in TCP, not in libssh's channel buffers,
	 * and silence is not a dead peer.  Set by the pump. */
	int held;

	/* worker.c: in w->agent_waits while an agent listing is awaited */
	TAILQ_ENTRY(conn) agent_entry;
	int agent_waiting;
	/* In w->tunnel_waits while CONN_TUNNEL awaits its answer. */
	TAILQ_ENTRY(conn) tunnel_entry;
	int tunnel_waiting;

	/* As a hop: the tunnels it carries (MaxTunnelsPerSession). */
	struct tunnel_list tunnels;
	int ntunnels;

	struct job_list jobs; /* jobs holding a channel here */
	int nchans;
	int cap;      /* channels this connection may carry now */
	int busy;     /* inside conn_pump: do not free */
	int draining; /* takes no new job; closed when its last one ends */
	int bye;      /* closed in order: say SSH_MSG_DISCONNECT when freed */
	int opened;   /* channels ever opened here */
	long long idle_ms; /* when its last channel was released */
	int orderly; /* the server closed it after its channels: no loss */

	/* Agent channels the server opened for jobs with ForwardAgent,
	 * answered by the session callbacks (which must outlive it). */
	struct ssh_callbacks_struct scb;
	struct forward_list forwards;
	int nforwards;
	int forwards_opened;
};

/* A new connection of h, connecting from the loop; h lists it.  It
 * authenticates with cred (a job's; NULL: the daemon's own). */
struct conn *conn_new(struct host *, struct cred *);
void conn_attach(struct conn *, struct job *);
void conn_opened(struct conn *);
void conn_refused(struct conn *, struct job *, int refusals);
void conn_close(struct conn *, enum proto_code, const char *why);
void conn_free(struct conn *);
/* Free it if a callback killed it (CONN_DEAD); at a callback's end. */
void conn_finish(struct conn *);
void conn_pump(struct conn *);
void conn_resume(struct conn *);
void conn_poke(struct conn *);
void conn_agent_listed(struct conn *, const struct msg *);
void conn_drain(struct conn *);
int conn_has_room(const struct conn *);
/* No job's channel and no tunnel on it: idle, or closed when draining. */
int conn_unused(const struct conn *);
/* Ready, not draining, with room for another tunnel. */
int conn_has_tunnel_room(const struct conn *);
void conn_attach_tunnel(struct conn *, struct tunnel *);
/* The tunnel asked for came (worker.c, MSG_TUNNEL_DONE). */
void conn_tunnel_done(struct conn *, struct msg *);

#endif
