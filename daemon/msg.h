/* SPDX-License-Identifier: ISC */
/*
 * The boundary between sshpoold's threads: everything that crosses from the
 * control thread to a worker or back, and nothing else.  Control code
 * (control/) and worker code (worker/) include this header and never each
 * other's.  They meet through:
 *
 *  - struct msg, posted to an inbox.  The control thread's inbox is given to
 *    the workers when they start; the workers' inboxes reach the control
 *    thread as a struct shards, the handle workers_start() returns.
 *  - the objects a message carries (job specs with their host parameters and
 *    shared input, keys, event bytes), each with one owner at a time;
 *  - struct flow, the reference-counted counters of one client's output,
 *    and the per-shard heartbeat and statistics, the only memory both sides
 *    touch (atomics, each with one writing side).
 *
 * Files: msg.c (messages), job_spec.c (job specs and input), host_params.c,
 * flow.c, shards.c (posting to the workers).
 */
#ifndef SSHPOOL_MSG_H
#define SSHPOOL_MSG_H

#include <sys/queue.h>

#include <stdatomic.h>
#include <stddef.h>

#include "config.h"
#include "inbox.h"
#include "proto.h"

struct keystore;
struct request; /* control-owned, an opaque token to workers */

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
/*
 * A client's own credential (cred.c), passed with a request: immutable once
 * made, shared by reference across threads.  id names it without its
 * secret ("uid 1000 key SHA256:..."): pools are keyed by it, so sessions it
 * opened serve only requests with the same credential of the same user.
 */
#define CRED_MAX_KEY_BYTES 65536 /* a private key file passed by fd */
struct cred {
	atomic_int refs;
	unsigned uid;
	char id[160];
	char *key_bytes; /* the key file, NUL-terminated, or NULL */
	char *password;  /* NUL-terminated, or NULL */
	size_t key_len, key_size, password_size; /* secrets' bytes, pages */
	/* The client's agent: a shared link of the agent broker (agent.h),
	 * 0 for none.  The request that passed it holds the link and
	 * releases it when it ends; the credential only names it. */
	uint64_t agent_link;
};
/* Draw the key of the password tags; once, before any cred_new. */
void cred_init(void);
/* A credential of a key file's bytes, a password and/or an agent link,
 * or NULL and why. */
struct cred *cred_new(unsigned uid, const void *key, size_t key_len,
		      const char *password, uint64_t agent_link, char *why,
		      size_t whylen);
struct cred *cred_ref(struct cred *);
void cred_unref(struct cred *);
/* A fresh copy of the key, the caller's to free (ssh_key_free). */
struct ssh_key_struct *cred_key(const struct cred *);
/* "daemon" (NULL), "client key", "client agent", "client password" or
 * several joined with "and", for status. */
const char *cred_kind_name(const struct cred *);

struct host_params {
	char *user;
	char *host; /* name or address, no brackets */
	/* HostName expanded for host, else host: what is resolved, connected
	 * to and looked up in known_hosts.  host stays the name everything
	 * else shows and keys by. */
	char *hostname;
	/* ProxyJump: the settings of the last hop, through whose pooled
	 * sessions the connection goes (a direct-tcpip channel to hostname
	 * and port); its own via is the hop before.  NULL: direct.  Owned:
	 * dup, equal and free follow the chain.  The pool key then names
	 * the chain ("KEY via HOPKEY via ..."), so targets reached through
	 * different hops are different pools. */
	struct host_params *via;
	int max_tunnels; /* MaxTunnelsPerSession: tunnels a session of this
			  * host carries when it is a hop */
	int port;
	char *key; /* "user@host:port" (IPv6 in brackets): names the pool */
	/* The client's credential, NULL for the daemon's own (reference);
	 * with one, pool is key plus its id: the pool's lookup key. */
	struct cred *cred;
	char *pool;
	char **identity_files;
	size_t n_identity_files;
	char **certificate_files; /* CertificateFile */
	size_t n_certificate_files;
	char *password_file;  /* PasswordFile, NULL = none; the secret itself
				 stays in the keystore */
	char *preferred_auth; /* PreferredAuthentications */
	char *identity_agent; /* IdentityAgent socket, NULL = none */
	int forward_agent;    /* ForwardAgent, and identity_agent is set */
	int identities_only;  /* IdentitiesOnly: agent keys of IdentityFiles */
	int password_prompts; /* NumberOfPasswordPrompts */
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
	int idle_timeout_ms; /* IdleTimeout, 0 = never */
	int max_pools;       /* MaxPools: refuse a new pool past this many */
};
struct host_params *host_params_new(const struct config_host_opts *,
				    const char *user, const char *host,
				    int port);
struct host_params *host_params_dup(const struct host_params *);
/* Make the pool the client's credential's (a reference; NULL: the
 * daemon's). */
void host_params_set_cred(struct host_params *, struct cred *);
void host_params_free(struct host_params *);
/* Make via (owned from here, NULL: direct) the last hop to p; the pool
 * key is renamed for the chain. */
void host_params_set_via(struct host_params *, struct host_params *via);
/* The hops as ProxyJump writes them, first hop first, each its key
 * ("user@h1:22,user@h2:22"), allocated; NULL when direct.  For status. */
char *host_params_jump_text(const struct host_params *);
/* Settings of a pool key differ: its sessions must be replaced. */
int host_params_equal(const struct host_params *, const struct host_params *);

enum job_kind {
	JOB_RUN,       /* run a command */
	JOB_CONNECT,   /* warm up: make sure a session is up */
	JOB_DISCONNECT /* close the host's sessions (busy ones when idle) */
};

/*
 * What a run executes, built once per request and shared read-only by the
 * jobs of all its hosts (on any thread); freed with its last reference.
 */
struct job_input {
	atomic_int refs;
	char *command;
	long long timeout_ms;      /* 0 = none */
	long long idle_timeout_ms; /* 0 = none */
	int pty;
	struct proto_env *env;
	size_t nenv;
	unsigned char *stdin_data; /* NULL if the request had none */
	size_t stdin_len;
	int forward_agent; /* the request's forward_agent: the client's
			    * agent to the command's host */
};
/* Takes command, env and stdin out of the request. */
struct job_input *job_input_new(struct proto_request *);
struct job_input *job_input_ref(struct job_input *);
void job_input_unref(struct job_input *);

/* One host's share of a request, handed from control to a worker. */
struct job_spec {
	enum job_kind kind;
	struct request *req;       /* opaque token, handed back in messages */
	struct flow *flow;         /* reference owned by the spec */
	char id[PROTO_MAX_ID + 3]; /* request id, JSON text */
	unsigned uid;  /* the client's, for log lines joined to the audit */
	char *hostarg; /* the host exactly as the client wrote it */
	struct host_params *params;
	struct job_input *input; /* JOB_RUN: a reference */
};
void job_spec_free(struct job_spec *);

enum msg_type {
	/* control -> worker */
	MSG_JOB,          /* job: start it */
	MSG_CANCEL,       /* req: cancel its jobs */
	MSG_RESUME,       /* some flow fell below its low water */
	MSG_STATUS,       /* req: report hosts */
	MSG_SHUTDOWN,     /* close everything and leave the loop */
	MSG_OFFLOAD_DONE, /* offload thread -> worker: run done(arg) */
	MSG_RELOAD,       /* keys: the worker's new identities */
	MSG_STOP_JOBS,    /* stop every job (code shutdown): graceful stop */
	MSG_STALL,        /* test hook: block the worker's loop for arg ms */
	/* worker -> control */
	MSG_EVENT,        /* buf: event lines of req; maybe terminal */
	MSG_STATUS_REPLY, /* buf: host objects, buf2: the worker object */
	/* agent broker (agent.c) */
	MSG_AGENT_OP,   /* any -> broker: arg, an operation of agent.c */
	MSG_AGENT_LIST, /* broker -> agent_list's caller: cookie, buf the
			 * listing or buf2 an error text (agent_list_result) */
	/* jump hosts, worker -> worker */
	MSG_TUNNEL,     /* tunnel: open it on a session of its hop */
	MSG_TUNNEL_DONE /* cookie the asking conn's id: fd the tunnel's end,
			 * or -1 and code with the reason in buf2 */
};

/*
 * A connection's tunnel request, to the worker of its last hop's pool
 * (MSG_TUNNEL): a direct-tcpip channel to host:port on a session of the
 * hop, bridged to one end of a socketpair whose other end comes back in
 * MSG_TUNNEL_DONE to be the connection's socket.  Owned by the message,
 * then by the hop's tunnel.
 */
struct tunnel_req {
	struct host_params *hop; /* the hop's settings, via and all */
	char *host;              /* the target's address, as the hop sees it */
	int port;
	char *target;              /* the target's pool key, for log lines */
	int reply_worker;          /* the asking connection's worker */
	unsigned long long cookie; /* the asking connection's id */
	long long deadline_ms;     /* clock_ms() when the asker gives up */
};
void tunnel_req_free(struct tunnel_req *);

enum job_result {
	JOB_RESULT_OK,     /* exit status 0, or connected */
	JOB_RESULT_FAILED, /* non-zero exit or killed by a signal */
	JOB_RESULT_ERROR   /* an error event */
};

struct msg {
	TAILQ_ENTRY(msg) entry;
	enum msg_type type;
	int worker; /* sender or recipient index */
	struct request *req;
	struct job_spec *job;   /* MSG_JOB: ownership passes with it */
	int terminal;           /* MSG_EVENT: buf ends the job's events */
	enum job_result result; /* MSG_EVENT when terminal */
	struct flow *flow;      /* MSG_EVENT: reference owned by the message */
	struct proto_buf buf;
	struct proto_buf buf2;
	void (*done)(void *); /* MSG_OFFLOAD_DONE */
	void *arg;
	struct keystore *keys;     /* MSG_RELOAD: ownership passes with it */
	long long ms;              /* MSG_STALL */
	unsigned long long cookie; /* MSG_AGENT_LIST, MSG_TUNNEL_DONE */
	struct tunnel_req *tunnel; /* MSG_TUNNEL: ownership passes */
	int fd;   /* MSG_TUNNEL_DONE: taken out, else closed with it */
	int code; /* MSG_TUNNEL_DONE without fd: enum proto_code */
};
struct msg *msg_new(enum msg_type);
void msg_free(struct msg *);

/*
 * The workers as the control thread sees them: one inbox each, and what
 * each worker publishes about itself.  Built by workers_start(), read-only
 * in shape afterwards; each atomic is written by its worker only.
 */
struct shard {
	struct inbox *inbox;
	atomic_llong heartbeat; /* clock_ms() of the worker's last tick */
	atomic_int hosts_up;    /* hosts with a session up, each heartbeat */
	atomic_int jobs;        /* jobs not yet freed, each heartbeat */
};
struct shards {
	int n;
	struct shard *v;
};
/* Hash of a pool key: its low bits choose the shard. */
unsigned long long shards_hash(const char *key);
/* The shard that owns a pool key: the same key always goes to one worker. */
int shards_index(const struct shards *, const char *key);
/* Post m to shard index (sets m->worker). */
void shards_post(const struct shards *, int index, struct msg *);
/* One message of type (with req) to every shard. */
void shards_broadcast(const struct shards *, enum msg_type, struct request *);
long long shards_heartbeat_age_ms(const struct shards *, int index);
/* Hosts with a session up and jobs not yet ended, over all workers, as of
 * their last heartbeat. */
void shards_stats(const struct shards *, int *hosts_up, int *jobs);

#endif
