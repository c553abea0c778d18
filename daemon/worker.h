/*
 * Objects private to worker threads: the worker itself, its hosts (one pool
 * per "user@host:port"), their SSH connections and the jobs running on them.
 * Everything here is created, used and freed on one worker's thread only.
 */
#ifndef SSHPOOL_WORKER_H
#define SSHPOOL_WORKER_H

#include <sys/queue.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "sshpoold.h"

struct addrinfo;
struct host;
struct conn;
struct job;

TAILQ_HEAD(job_list, job);
TAILQ_HEAD(conn_list, conn);
TAILQ_HEAD(host_list, host);

/* Distinct timer durations a worker keeps in libevent common-timeout
 * queues (O(1) instead of the heap for thousands of keepalive ticks). */
#define WORKER_COMMON_TIMEOUTS 16

/* Hosts per worker hash bucket before the table doubles. */
#define WORKER_HOST_LOAD 2
#define WORKER_HEARTBEAT_MS 1000

struct worker {
	int index;
	pthread_t thread;
	struct event_base *base;
	struct inbox inbox;
	/* Messages for the control thread, posted together once the
	 * current callback returns: one lock and one wake-up per batch. */
	struct msg_list outbox;
	struct event *flush;
	struct keystore *keys;
	atomic_llong heartbeat; /* now_ms() of the last tick */
	struct event *tick;

	struct host_list *buckets; /* hosts by pool key */
	size_t nbuckets;
	int nhosts;
	int nsessions; /* open or opening connections */
	int njobs; /* jobs not yet freed */
	struct job_list jobs; /* every job of this worker */
	int offloads; /* offload tasks not yet done */
	atomic_int stat_hosts_up; /* published each heartbeat */
	atomic_int stat_jobs;
	struct {
		int ms;
		const struct timeval *tv;
	} common[WORKER_COMMON_TIMEOUTS]; /* shared timer queues */
	int ncommon;
	int stopping;
	unsigned long long next_conn_id;
};

void worker_post(struct worker *, struct msg *);
struct host *worker_find_host(struct worker *, const char *key);
void worker_add_host(struct worker *, struct host *);
void worker_remove_host(struct worker *, struct host *);
void worker_maybe_exit(struct worker *);
void worker_timer_add(struct worker *, struct event *, long long ms,
    int common);

/* Send event lines of a job's request to the control thread. */
void worker_emit(struct worker *, struct job_spec *, struct proto_buf *,
    int terminal, enum job_result);

/* ---- host.c: the pool of one user@host:port ---- */

/* What status reports; derived from the counters, never stored. */
enum host_health {
	HOST_IDLE, /* no session, nothing pending */
	HOST_CONNECTING, /* handshakes under way, no session up */
	HOST_UP, /* sessions up, no failure since the last success */
	HOST_DEGRADED, /* sessions up, but an attempt failed or one was lost */
	HOST_BACKOFF, /* no session: waiting before the next attempt */
	HOST_DOWN /* HostDownAfter failures in a row: jobs fail fast */
};

struct host {
	TAILQ_ENTRY(host) entry;
	struct worker *w;
	struct host_params *params;
	struct job_list queue; /* jobs waiting for a channel, in order */
	int nqueued;
	struct job_list waiters; /* connect jobs waiting for a session */
	struct conn_list conns;
	int nconns; /* every connection, in any state */
	int nready;
	unsigned long long jobs; /* ever started */
	unsigned long long connects; /* successful handshakes */
	unsigned long long failures; /* failed attempts */
	char last_error[256];
	unsigned long long lost; /* sessions that died */
	unsigned long long reconnects; /* sessions re-opened after a loss */
	long long rtt_ms; /* last keepalive round trip, -1 = none */
	int fail_streak; /* failures (attempts, losses) since a success */
	long long retry_at_ms; /* no new attempt before */
	struct event *retry; /* dispatches again at retry_at_ms */
	int reconnect; /* a session was lost: open one again */
};

struct host *host_get(struct worker *, const struct host_params *);
void host_submit(struct host *, struct job *);
void host_requeue(struct host *, struct job *); /* back to the front */
void host_dispatch(struct host *);
void host_conn_ready(struct host *, struct conn *);
void host_conn_failed(struct host *, struct conn *, enum proto_code,
    const char *);
void host_conn_lost(struct host *, struct conn *, const char *);
void host_conn_gone(struct host *, struct conn *);
void host_disconnect(struct worker *, struct host *, struct job *);
void host_set_params(struct host *, const struct host_params *);
void host_status(struct host *, struct proto_buf *);
void host_free_all(struct worker *);

/* ---- conn.c: one SSH connection and its state machine ---- */

enum conn_state {
	CONN_RESOLVE,
	CONN_TCP,
	CONN_KEX,
	CONN_HOSTKEY,
	CONN_AUTH,
	CONN_READY,
	CONN_DEAD /* torn down at the end of the current callback */
};

struct conn_offload; /* an offload task in flight for a conn */

struct conn {
	TAILQ_ENTRY(conn) entry;
	struct host *host;
	struct worker *w;
	unsigned long long id;
	enum conn_state state;
	long long started_ms;

	struct addrinfo *addrs; /* resolved addresses */
	struct addrinfo *addr; /* the one being tried */
	int fd; /* -1 when none, or closed by libssh */
	int handed; /* fd given to libssh, which closes it */
	struct event *io; /* on fd */
	short io_flags;
	struct event *deadline; /* of the current state */
	struct event *kick; /* run a step from the loop */
	struct conn_offload *pending; /* resolve or known_hosts in flight */
	int timed_out; /* some address timed out */
	char tcp_error[128];

	ssh_session session;
	ssh_event sevent;
	/* Packets libssh has taken in: any call may read the socket and fill
	 * some channel's buffers, so the pump goes on while this moves. */
	struct ssh_counter_struct packets;
	size_t identity; /* next identity file to try */
	struct keystore *keys; /* AUTH: a reference, kept across a reload */
	ssh_key key; /* borrowed from keys */
	char auth_note[256]; /* why an identity could not be used */
	int ready; /* reached READY: counted in host->nready */

	/* Keepalive (ServerAliveInterval/CountMax): silence is measured from
	 * the last packet received, on a tick of a quarter interval. */
	struct event *alive;
	uint64_t rx_seen; /* packets.in_packets at the last look */
	long long last_rx_ms;
	long long ka_sent_ms; /* last keepalive sent; 0 = none */
	int ka_outstanding; /* sent, and nothing received since */
	long long ready_ms;

	struct job_list jobs; /* jobs holding a channel here */
	int nchans;
	int cap; /* channels this connection may carry now */
	int busy; /* inside conn_pump: do not free */
	int draining; /* takes no new job; closed when its last one ends */
};

struct conn *conn_new(struct host *);
void conn_close(struct conn *, enum proto_code, const char *why);
void conn_free(struct conn *);
void conn_pump(struct conn *);
void conn_resume(struct conn *);
void conn_poke(struct conn *);
void conn_drain(struct conn *);
int conn_has_room(const struct conn *);

/* ---- job.c: one command (or warm-up) for one host ---- */

/* A job whose connection dies before its exec request is sent runs again on
 * another connection, this many times at most. */
#define JOB_MAX_REQUEUES 3

enum job_state {
	JOB_QUEUED, /* in the host queue or waiters */
	JOB_OPEN, /* channel open requested */
	JOB_PTY,
	JOB_ENV,
	JOB_EXEC, /* exec requested, not confirmed */
	JOB_RUNNING,
	JOB_CLOSING, /* result known; driving the channel close */
	JOB_CLOSED /* channel freed; the job is freed by its conn */
};

struct job {
	TAILQ_ENTRY(job) wentry; /* worker's list */
	TAILQ_ENTRY(job) entry; /* host queue or conn list */
	struct worker *w;
	struct job_spec *spec;
	struct host *host;
	struct conn *conn;
	enum job_state state;
	long long start_ms;
	long long output_ms; /* last output, or the exec; 0 before it */
	int ended; /* the terminal event was sent */
	int stop_signal_sent; /* TERM sent, KILL pending */
	int requeues; /* times its connection died before exec */
	int exec_sent; /* the command may be running: never run it again */
	size_t env_next;
	size_t stdin_off;
	int eof_sent;

	ssh_channel chan;
	struct ssh_channel_callbacks_struct cb;
	int exit_status; /* -1 until received */
	char exit_signal[32]; /* "" until received */

	struct event *timer; /* timeout/idle_timeout, then the KILL grace */
};

struct job *job_new(struct worker *, struct job_spec *);
void job_free(struct job *);
void job_attach(struct job *, struct conn *);
int job_step(struct job *); /* 1 if it made progress */
void job_fail(struct job *, enum proto_code, const char *);
void job_stop(struct job *, enum proto_code, const char *);
void job_conn_lost(struct job *, const char *why);
void job_connected(struct job *, int sessions);
void job_disconnected(struct job *, int closed, int draining);

#endif
