/* SPDX-License-Identifier: ISC */
/*
 * The worker room: one worker thread and what it owns.  A worker holds the
 * hosts whose pool key hashes to it (host.h), their SSH connections
 * (conn.h) and the jobs running on them (job.h), with every libssh object
 * of those hosts; everything here is created, used and freed on that
 * worker's thread only, and reaches other threads only as messages
 * (msg.h).
 *
 * Fields are written by worker.c unless their comment names another file.
 */
#ifndef SSHPOOL_WORKER_H
#define SSHPOOL_WORKER_H

#include <sys/queue.h>

#include <pthread.h>

#include "msg.h"
#include "offload.h"

struct event;
struct event_base;
struct host;
struct conn;
struct job;
struct timeval;

TAILQ_HEAD(job_list, job);
TAILQ_HEAD(conn_list, conn);
TAILQ_HEAD(host_list, host);

/* Distinct timer durations a worker keeps in libevent common-timeout
 * queues (O(1) instead of the heap for thousands of keepalive ticks). */
#define WORKER_COMMON_TIMEOUTS 16

/* Hosts per worker hash bucket before the table doubles. */
#define WORKER_HOST_LOAD 2
#define WORKER_HEARTBEAT_MS 1000
/* Descriptors kept out of the session cap for everything else (clients,
 * listeners, event loops, offload threads, files), at most half of
 * RLIMIT_NOFILE. */
#define WORKER_FD_RESERVE 128

struct worker {
	int index;
	pthread_t thread;
	struct event_base *base;
	struct inbox inbox;
	struct inbox *reply; /* the control thread's */
	struct shard *shard; /* what this worker publishes */
	/* Messages for the control thread, posted together once the
	 * current callback returns: one lock and one wake-up per batch. */
	struct msg_list outbox;
	struct event *flush;
	struct keystore *keys;
	struct event *tick;

	struct host_list *buckets; /* hosts by pool key */
	size_t nbuckets;
	int nhosts;
	int nsessions; /* conn.c: open or opening connections */
	unsigned long long next_conn_id; /* conn.c */
	int njobs;                       /* job.c: jobs not yet freed */
	struct job_list jobs;            /* job.c: every job of this worker */
	int offloads;                    /* offload tasks not yet done */
	/* Connections awaiting an agent listing (MSG_AGENT_LIST, cookie
	 * the conn's id), and the listings asked and not yet answered, the
	 * answers of connections gone included: each comes. */
	struct conn_list agent_waits;
	int agent_lists;
	/* Jobs of a client's agent awaiting its listing (cookie the job's
	 * agent_cookie, WORKER_JOB_COOKIE set), before they reach a host. */
	struct job_list agent_jobs;
	unsigned long long next_agent_cookie;
	/* Connections awaiting their tunnel (MSG_TUNNEL_DONE, cookie the
	 * conn's id); conn.c adds and removes them. */
	struct conn_list tunnel_waits;
	struct {
		int ms;
		const struct timeval *tv;
	} common[WORKER_COMMON_TIMEOUTS]; /* shared timer queues */
	int ncommon;
	int stopping;
};

/* Run fn(arg) on an offload thread of q, then done(arg) on this worker
 * (offload_submit); -1 when the task cannot be queued. */
int worker_offload(struct worker *, enum offload_queue q, void (*fn)(void *),
		   void (*done)(void *), void (*discard)(void *), void *arg,
		   const atomic_int *cancel);
struct host *worker_find_host(struct worker *, const char *pool);
void worker_add_host(struct worker *, struct host *);
void worker_remove_host(struct worker *, struct host *);
/* Count one more pool daemon-wide if fewer than max exist: 1, else 0.
 * worker_remove_host gives it back. */
int worker_pool_take(int max);
/* Count one more session daemon-wide if below the cap derived from
 * RLIMIT_NOFILE: 1, else 0.  worker_session_put gives it back. */
int worker_session_take(void);
void worker_session_put(void);
int worker_session_max(void);
/* Cookies of agent listings for jobs; those of conns are conn ids. */
#define WORKER_JOB_COOKIE (1ULL << 63)

/* c awaits an agent listing; unwait when it goes (conn_free). */
void worker_agent_wait(struct worker *, struct conn *);
void worker_agent_unwait(struct worker *, struct conn *);
/* j (JOB_LISTING) no longer awaits its listing (job_stop). */
void worker_agent_unwait_job(struct worker *, struct job *);
/* Post a tunnel request to the worker of its hop's pool (taken). */
void worker_post_tunnel(struct worker *, struct tunnel_req *);
/* Answer a tunnel request on the asking worker: fd (taken) or -1 and
 * code with why. */
void worker_tunnel_answer(struct worker *, const struct tunnel_req *, int fd,
			  enum proto_code code, const char *why);

/* Leave the loop once stopping and nothing is left to wait for. */
void worker_maybe_exit(struct worker *);
void worker_timer_add(struct worker *, struct event *, long long ms,
		      int common);

/* Send event lines of a job's request to the control thread. */
void worker_emit(struct worker *, struct job_spec *, struct proto_buf *,
		 int terminal, enum job_result);

#endif
