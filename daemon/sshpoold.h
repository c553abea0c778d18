/*
 * sshpoold's private interfaces between its threads.
 *
 * The control thread (main.c, control.c, peer.c, request.c) owns the client
 * socket, every client connection and request, and routes jobs.  Worker
 * threads (worker.c, host.c, conn.c, job.c) each own one event_base and a
 * shard of hosts with every libssh object of those hosts.  Blocking work
 * (name resolution, known_hosts file I/O) runs on the offload threads
 * (offload.c).  Threads share no mutable objects: they exchange struct msg
 * through inboxes (inbox.c); the only shared counters are the atomics of
 * struct flow.
 */
#ifndef SSHPOOL_SSHPOOLD_H
#define SSHPOOL_SSHPOOLD_H

#include <sys/queue.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "proto.h"

struct event_base;
struct event;
struct request; /* control-owned, opaque to workers */


/* How long a worker's heartbeat may be stale before status reports it. */
#define WORKER_STUCK_MS 5000

/*
 * Backpressure between one client connection and the workers: workers add
 * the size of every message they post for the client, the control thread
 * subtracts what it has written to the socket.  Reference counted because
 * jobs outlive the client connection.
 */
struct flow {
	atomic_size_t queued;
	atomic_int closed; /* client gone: nothing will drain */
	atomic_int refs;
	/* Output bytes the client may have queued in the daemon before the
	 * workers stop reading its channels (the SSH window then holds the
	 * remote processes back), and the level at which they resume
	 * (ClientQueueHighWater, ClientQueueLowWater).  Fixed at creation. */
	size_t high;
	size_t low;
};
struct flow *flow_new(size_t high, size_t low);
struct flow *flow_ref(struct flow *);
void flow_unref(struct flow *);
int flow_paused(struct flow *); /* queued >= high and open */

/*
 * Everything a worker needs to reach a host, resolved by the control thread
 * from the request and the configuration.  Owned by whoever holds it.
 */
struct host_params {
	char *user;
	char *host; /* name or address, no brackets */
	int port;
	char *key; /* "user@host:port" (IPv6 in brackets): the pool key */
	char **identity_files;
	size_t n_identity_files;
	char *known_hosts_file;
	int strict; /* enum config_strict */
	int connect_timeout_ms;
	int max_sessions;
	int max_channels;
	int alive_interval_ms; /* 0 = no keepalives */
	int alive_count_max;
	int connection_attempts;
	int reconnect_base_ms;
	int reconnect_max_ms;
	int host_down_after;
	int stop_grace_ms;
};
struct host_params *host_params_new(const struct config_host_opts *,
    const char *user, const char *host, int port);
struct host_params *host_params_dup(const struct host_params *);
void host_params_free(struct host_params *);

enum job_kind {
	JOB_RUN, /* run a command */
	JOB_CONNECT, /* warm up: make sure a session is up */
	JOB_DISCONNECT /* close the host's sessions (busy ones when idle) */
};

/*
 * What a run executes, built once per request and shared read-only by the
 * jobs of all its hosts (on any thread); freed with its last reference.
 */
struct job_input {
	atomic_int refs;
	char *command;
	long long timeout_ms; /* 0 = none */
	long long idle_timeout_ms; /* 0 = none */
	int pty;
	struct proto_env *env;
	size_t nenv;
	unsigned char *stdin_data; /* NULL if the request had none */
	size_t stdin_len;
};
/* Takes command, env and stdin out of the request. */
struct job_input *job_input_new(struct proto_request *);
struct job_input *job_input_ref(struct job_input *);
void job_input_unref(struct job_input *);

/* One host's share of a request, handed from control to a worker. */
struct job_spec {
	enum job_kind kind;
	struct request *req; /* opaque token, handed back in messages */
	struct flow *flow; /* reference owned by the spec */
	char id[PROTO_MAX_ID + 3]; /* request id, JSON text */
	char *hostarg; /* the host exactly as the client wrote it */
	struct host_params *params;
	struct job_input *input; /* JOB_RUN: a reference */
};
void job_spec_free(struct job_spec *);

enum msg_type {
	/* control -> worker */
	MSG_JOB, /* job: start it */
	MSG_CANCEL, /* req: cancel its jobs */
	MSG_RESUME, /* some flow fell below its low water */
	MSG_STATUS, /* req: report hosts */
	MSG_SHUTDOWN, /* close everything and leave the loop */
	MSG_OFFLOAD_DONE, /* offload thread -> worker: run done(arg) */
	MSG_RELOAD, /* keys: the worker's new identities */
	MSG_STOP_JOBS, /* stop every job (code shutdown): graceful stop */
	MSG_STALL, /* test hook: block the worker's loop for arg ms */
	/* worker -> control */
	MSG_EVENT, /* buf: event lines of req; maybe terminal */
	MSG_STATUS_REPLY /* buf: host objects, buf2: the worker object */
};

enum job_result {
	JOB_RESULT_OK, /* exit status 0, or connected */
	JOB_RESULT_FAILED, /* non-zero exit or killed by a signal */
	JOB_RESULT_ERROR /* an error event */
};

struct msg {
	TAILQ_ENTRY(msg) entry;
	enum msg_type type;
	int worker; /* sender or recipient index */
	struct request *req;
	struct job_spec *job; /* MSG_JOB: ownership passes with it */
	int terminal; /* MSG_EVENT: buf ends the job's events */
	enum job_result result; /* MSG_EVENT when terminal */
	struct flow *flow; /* MSG_EVENT: reference owned by the message */
	struct proto_buf buf;
	struct proto_buf buf2;
	void (*done)(void *); /* MSG_OFFLOAD_DONE */
	void *arg;
	struct keystore *keys; /* MSG_RELOAD: ownership passes with it */
	long long ms; /* MSG_STALL */
};
TAILQ_HEAD(msg_list, msg);
struct msg *msg_new(enum msg_type);
void msg_free(struct msg *);

/*
 * A thread's mailbox: any thread posts, the owner drains the whole list in
 * its loop.  event_active() coalesces, so the callback must drain all.
 */
struct inbox {
	pthread_mutex_t lock;
	struct msg_list msgs;
	struct event *ev;
	void (*cb)(struct msg_list *, void *);
	void *arg;
};
void inbox_init(struct inbox *, struct event_base *,
    void (*cb)(struct msg_list *, void *), void *arg);
void inbox_post(struct inbox *, struct msg *);
void inbox_post_list(struct inbox *, struct msg_list *); /* empties it */
void inbox_destroy(struct inbox *); /* frees undelivered messages */

/* Identity keys loaded once at start; each worker gets its own copy. */
struct keystore;
struct keystore *keystore_load(const struct config *,
    struct config_errors *warnings);
struct keystore *keystore_dup(const struct keystore *); /* one reference */
void keystore_free(struct keystore *);
struct keystore *keystore_ref(struct keystore *);
void keystore_unref(struct keystore *);
/* The key loaded from path, or NULL with the load error in *why. */
struct ssh_key_struct *keystore_find(const struct keystore *, const char *path,
    const char **why);

/* Workers (worker.c).  Started by the control thread before it serves. */
int workers_start(int n, const struct keystore *);
int workers_count(void);
int workers_shard(const char *key); /* worker index for a pool key */
void workers_post(int index, struct msg *);
void workers_broadcast(enum msg_type, struct request *);
long long workers_heartbeat_age_ms(int index);
void workers_stop(void); /* MSG_SHUTDOWN to all, then join */
/* Give every worker a copy of reloaded identities. */
void workers_reload(const struct keystore *);
/* Stop every job (TERM, then KILL): their terminal events say shutdown. */
void workers_stop_jobs(void);
/* Test hook: block worker index's loop for ms, as a stuck worker would. */
void workers_stall(int index, long long ms);
/* Hosts with a session up and jobs not yet ended, over all workers, as of
 * the workers' last heartbeat. */
void workers_stats(int *hosts_up, int *jobs);
/* Settings of a pool key differ: its sessions must be replaced. */
int host_params_equal(const struct host_params *, const struct host_params *);

/* The control thread's inbox (control.c). */
void control_post(struct msg *);
void control_post_list(struct msg_list *); /* in order; empties the list */

/* Offload threads for blocking calls (offload.c). */
int offload_start(int nthreads);
void offload_stop(void);
/* Run fn(arg) on an offload thread, then done(arg) on the calling worker's
 * loop via its inbox.  The caller keeps arg alive until done runs. */
struct worker;
void offload_submit(struct worker *, void (*fn)(void *),
    void (*done)(void *), void *arg);

/* Daemon-wide handshake pacing (throttle.c). */
void throttle_init(int per_second);
long long throttle_take(void);

/* Monotonic milliseconds. */
long long now_ms(void);

#endif
