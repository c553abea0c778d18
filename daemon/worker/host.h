/* SPDX-License-Identifier: ISC */
/*
 * The pool of one "user@host:port" (host.c): its connections, the jobs
 * waiting for a channel and the warm-ups waiting for a session, and the
 * counters status reports.  Fields are written by host.c only.
 */
#ifndef SSHPOOL_HOST_H
#define SSHPOOL_HOST_H

#include "tunnel.h"
#include "worker.h"

/* What status reports; derived from the counters, never stored. */
enum host_health {
	HOST_IDLE,       /* no session, nothing pending */
	HOST_CONNECTING, /* handshakes under way, no session up */
	HOST_UP,         /* sessions up, no failure since the last success */
	HOST_DEGRADED, /* sessions up, but an attempt failed or one was lost */
	HOST_BACKOFF,  /* no session: waiting before the next attempt */
	HOST_DOWN      /* HostDownAfter failures in a row: jobs fail fast */
};

struct host {
	TAILQ_ENTRY(host) entry; /* worker.c: in its bucket */
	struct worker *w;
	struct host_params *params;
	struct job_list queue; /* jobs waiting for a channel, in order */
	int nqueued;
	struct job_list waiters; /* connect jobs waiting for a session */
	/* As a jump host: tunnels waiting for a session with room. */
	struct tunnel_list tunnels;
	int ntunnels_queued;
	int hop; /* it was asked for a tunnel: status shows its count */
	struct conn_list conns;
	int nconns; /* every connection, in any state */
	int nready;
	unsigned long long jobs;     /* ever started */
	unsigned long long connects; /* successful handshakes */
	unsigned long long failures; /* failed attempts */
	char last_error[256];
	unsigned long long lost;       /* sessions that died */
	unsigned long long reconnects; /* sessions re-opened after a loss */
	long long rtt_ms; /* last keepalive round trip, -1 = none */
	/* Failed attempts since a success: the circuit breaker
	 * (HostDownAfter) and ConnectionAttempts count these only. */
	int fail_streak;
	/* Failed attempts and lost sessions since a success: the exponent
	 * of the backoff. */
	int backoff_streak;
	long long retry_at_ms;     /* after a failure: no attempt before */
	long long reconnect_at_ms; /* after a loss: no reconnect before */
	struct event *retry;       /* dispatches again at the one due */
	int reconnect;             /* a session was lost: open one again */
	/* Channels the server serves on one connection before it closes it
	 * by itself (some servers serve one); 0 while none was seen. */
	int server_channels;
	long long used_ms; /* a job came or ran last; IdleTimeout counts */
};

/* The pool of p's key, a new one if there is none; NULL when a new one
 * would be more than MaxPools. */
struct host *host_get(struct worker *, const struct host_params *);
void host_submit(struct host *, struct job *);
/* A tunnel through this host (a hop); back to the front when its
 * session went before it opened. */
void host_tunnel_submit(struct host *, struct tunnel *);
void host_tunnel_requeue(struct host *, struct tunnel *);
void host_requeue(struct host *, struct job *); /* back to the front */
void host_refused(struct host *, struct job *);
void host_unqueue(struct host *, struct job *);
void host_rtt(struct host *, long long ms);
void host_dispatch(struct host *);
void host_conn_ready(struct host *, struct conn *);
void host_conn_failed(struct host *, struct conn *, enum proto_code,
		      const char *);
void host_conn_lost(struct host *, struct conn *, const char *);
void host_server_channels(struct host *, int channels);
void host_conn_gone(struct host *, struct conn *);
void host_disconnect(struct worker *, struct host *, struct job *);
void host_set_params(struct host *, const struct host_params *);
void host_status(struct host *, struct proto_buf *);
/* A job ran on the host: it is in use for another IdleTimeout. */
void host_touch(struct host *);
/* Nobody used the pool for IdleTimeout and nothing is left in it. */
int host_expired(const struct host *);
/* Fail what waits with code, close the connections, free the pool. */
void host_free(struct host *, enum proto_code, const char *why);

#endif
