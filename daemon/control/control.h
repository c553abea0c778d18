/* SPDX-License-Identifier: ISC */
/*
 * The control thread's private interfaces, shared by main.c, control.c,
 * peer.c and request.c.  Everything declared here is used from the control
 * thread only: a struct peer is one client connection, a struct request one
 * request of that client that is still waiting for events from the workers.
 */
#ifndef SSHPOOL_CONTROL_H
#define SSHPOOL_CONTROL_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stddef.h>

#include "msg.h"

struct bufferevent;
struct evbuffer;
struct evbuffer_cb_entry;
struct policy;
struct policy_view;

/* Status requests one client may have in flight at once: each reply can
 * list every host of the pool, and they are built before the client shows
 * that it reads them. */
#define REQUEST_MAX_STATUS 8

/* Bytes of a user or group name kept for messages. */
#define PEER_MAX_NAME 64

/* Supplementary groups looked up for one client, at most. */
#define PEER_MAX_GROUPS 4096

/* Input discarded from a refused client before its socket is closed, so
 * the close does not turn into a reset that could hide the error line. */
#define PEER_REFUSE_DRAIN 65536

/* Work done for one client per callback before the loop serves others. */
#define PEER_BUDGET_LINES 64
#define PEER_BUDGET_BYTES (1024u * 1024)
/* Bytes one write to a client may move (libevent's default is 16 KiB, a
 * system call for every 12 KiB of output). */
#define PEER_MAX_WRITE (1024 * 1024)

/* Bytes read from one client per read callback, at most. */
#define PEER_READ_CHUNK (64u * 1024)
/* Descriptors one recvmsg can bring (its control buffer holds
 * PROTO_MAX_FDS + 1, rounded up by the alignment of CMSG_SPACE) and a mark
 * of those cut off; the queue of a client holds two such batches, and
 * reading waits while it has no room for another one. */
#define PEER_FD_BATCH (PROTO_MAX_FDS + 2)
#define PEER_MAX_QUEUED_FDS (2 * PEER_FD_BATCH)

/* A "key" descriptor must be a regular file of at most this many bytes. */
#define REQUEST_MAX_KEY_BYTES CRED_MAX_KEY_BYTES

/* Connections accepted per listener callback. */
#define CONTROL_ACCEPT_BATCH 64

TAILQ_HEAD(request_list, request);

/* A descriptor received from a client, waiting for the line it came with:
 * the line that holds the stream offset off takes it. */
struct peer_fd {
	int fd;                 /* -1: only a mark of cut or dropped ones */
	int cut;                /* MSG_CTRUNC: the kernel closed some */
	unsigned dropped;       /* closed here in its place (queue full) */
	unsigned long long off; /* last byte of the data it arrived with */
};

/* The descriptors of one request line, with their roles; whoever holds
 * the struct owns the descriptors. */
struct request_fds {
	int fd[PROTO_MAX_FDS];
	enum proto_fd_role role[PROTO_MAX_FDS];
	size_t n;
};

struct peer {
	int fd;
	uid_t uid;
	pid_t pid;
	char user[PEER_MAX_NAME]; /* login name, or the uid in decimal */
	int user_known;           /* user is the name of an account */
	int groups_partial;       /* in more groups than gids holds */
	gid_t *gids;              /* primary and supplementary groups */
	char **groups;            /* name of each gid, NULL when unknown */
	size_t ngids;
	/* What the access policy says about the client; written by
	 * peer_policy, made again after a reload. */
	struct policy_view *policy;
	/* Codec limits as configured when the client connected: a reload
	 * applies to new connections, and the input watermark was set from
	 * these. */
	struct proto_limits limits;
	size_t njobs; /* hosts of its run/connect requests still pending */
	size_t *shard_jobs; /* the same per shard: where to send MSG_RESUME */
	size_t nstatus;     /* status requests in flight */
	struct event *hard_ev;     /* output over the hard limit since armed */
	struct bufferevent *bev;   /* output only: input is read by read_ev */
	struct event *read_ev;     /* recvmsg on fd, into in */
	struct evbuffer *in;       /* at most MaxLineLength + 1 bytes */
	int reading;               /* read_ev is added */
	unsigned long long in_off; /* stream offset of in's first byte */
	struct peer_fd fdq[PEER_MAX_QUEUED_FDS]; /* ring, oldest first */
	size_t fdq_head, fdq_len;
	struct evbuffer_cb_entry *drain_cb; /* output accounting */
	struct event *yield_ev; /* continues input after the budget */
	struct flow *flow;
	size_t scanned; /* input bytes already searched for '\n' */
	int skipping;   /* discarding the rest of an overlong line */
	int paused;     /* workers were told the flow is over high water */
	int stalled;    /* input stopped until the output drains */
	int dead;       /* closed; freed by the reaper */
	int eof;        /* half-closed: no more requests, finish the rest */
	struct request_list requests;
	size_t nrequests;
	TAILQ_ENTRY(peer) entry;
};

/* How long status waits for the workers before it answers without those
 * that did not reply, reporting them stuck. */
#define STATUS_WAIT_MS 2000

struct request {
	struct peer *peer; /* NULL once the client is gone */
	uid_t uid;         /* the client's, kept for the audit log */
	pid_t pid;
	char id[PROTO_MAX_ID + 3];
	enum proto_op op;
	long long start_ms;
	size_t hosts, pending;
	size_t ok, failed, errors;
	size_t forbidden;     /* hosts refused by UserHosts/GroupHosts */
	size_t *shard_jobs;   /* jobs not ended per shard: where to cancel */
	struct msg **replies; /* status: MSG_STATUS_REPLY by arrival */
	size_t nreplies;
	struct event *timer;    /* status: answer without stuck workers */
	int answered;           /* status: sent; only waiting to be freed */
	struct request_fds fds; /* taken from its line, closed when unneeded */
	uint64_t agent_link;    /* the client's agent (agent.h), 0: none */
	TAILQ_ENTRY(request) peer_entry; /* in peer->requests */
	TAILQ_ENTRY(request) all_entry;  /* in the list of every request */
};

/* control.c */
int control_listen(const char *path, const char *group, char *err,
		   size_t errlen);
/* Serve the listening socket fd; path names it in messages and, when
 * owned (the daemon bound it), is removed by control_free. */
void control_init(struct event_base *, const struct config *, int fd,
		  const char *path, int owned);
struct event_base *control_base(void);
/* The inbox the workers reply to, and their handle once they run. */
struct inbox *control_reply_inbox(void);
void control_set_shards(const struct shards *);
const struct shards *control_shards(void);
const struct config *control_config(void);
/* The access policy compiled from control_config(). */
const struct policy *control_policy(void);
/* Serve new requests and connections under cfg (a reload); returns the
 * previous configuration, which nothing on the control thread still uses. */
const struct config *control_set_config(const struct config *cfg);
/* Graceful stop: from now on new requests get the error "shutdown". */
void control_set_stopping(void);
int control_stopping(void);
void control_limits(struct proto_limits *);
size_t control_max_requests(void);
size_t control_max_jobs_per_client(void);
size_t control_max_jobs(void);
size_t control_max_connections_per_user(void);
size_t control_max_agents_per_user(void);
/* One more client agent held for uid if fewer than max are: 1, else 0;
 * peer_uid_agent_put gives it back. */
int peer_uid_agent_take(uid_t uid, size_t max);
void peer_uid_agent_put(uid_t uid);
size_t control_queue_hard(void);
int control_queue_hard_ms(void);
size_t control_audit_command_max(void);
void control_close(void);
void control_drain(void);
void control_free(void);

/* peer.c */
void peer_accept(int fd);
void peer_write(struct peer *, const void *, size_t);
void peer_write_buf(struct peer *, struct proto_buf *);
void peer_write_event(struct peer *, struct msg *);
void peer_fd_close(int fd);
void peer_error(struct peer *, const char *id, enum proto_code, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));
/* The client's view of control_policy(), made again after a reload. */
const struct policy_view *peer_policy(struct peer *);
void peer_shutdown_all(void);
size_t peer_count(void);          /* connected clients */
size_t peer_output_pending(void); /* bytes not yet written to clients */

/* request.c */
/* Serve one parsed line; takes fds (the descriptors that came with it,
 * as many as it announces): each is stored on the request or closed. */
void request_dispatch(struct peer *, struct proto_request *,
		      struct request_fds *fds);
void request_event(struct msg *);
void request_status_reply(struct msg *);
void request_detach_all(struct peer *);
void request_shutdown_all(void);
/* Requests still owing their client a reply: jobs whose terminal event has
 * not come back, or a status not yet answered. */
size_t request_busy(void);
void request_free_all(void);

#endif
