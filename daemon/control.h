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

#include "sshpoold.h"

struct bufferevent;
struct evbuffer_cb_entry;

/* Requests one client may have in flight at once. */
#define PEER_MAX_REQUESTS 1024

/* Work done for one client per callback before the loop serves others. */
#define PEER_BUDGET_LINES 64
#define PEER_BUDGET_BYTES (1024u * 1024)

/* Connections accepted per listener callback. */
#define CONTROL_ACCEPT_BATCH 64

TAILQ_HEAD(request_list, request);

struct peer {
	int fd;
	uid_t uid;
	pid_t pid;
	struct bufferevent *bev;
	struct evbuffer_cb_entry *drain_cb; /* output accounting */
	struct event *yield_ev; /* continues input after the budget */
	struct flow *flow;
	size_t scanned; /* input bytes already searched for '\n' */
	int skipping;   /* discarding the rest of an overlong line */
	int paused;     /* workers were told the flow is over high water */
	int stalled;    /* input stopped until the output drains */
	int dead;       /* closed; freed by the reaper */
	struct request_list requests;
	size_t nrequests;
	TAILQ_ENTRY(peer) entry;
};

/* How long status waits for the workers before it answers without those
 * that did not reply, reporting them stuck. */
#define STATUS_WAIT_MS 2000

struct request {
	struct peer *peer; /* NULL once the client is gone */
	char id[PROTO_MAX_ID + 3];
	enum proto_op op;
	long long start_ms;
	size_t hosts, pending;
	size_t ok, failed, errors;
	struct msg **replies; /* status: MSG_STATUS_REPLY by arrival */
	size_t nreplies;
	struct event *timer; /* status: answer without stuck workers */
	int answered; /* status: sent; only waiting to be freed */
	TAILQ_ENTRY(request) peer_entry; /* in peer->requests */
	TAILQ_ENTRY(request) all_entry;  /* in the list of every request */
};

/* control.c */
int control_listen(const char *path, char *err, size_t errlen);
void control_init(struct event_base *, const struct config *, int fd,
		  const char *path);
struct event_base *control_base(void);
const struct config *control_config(void);
void control_limits(struct proto_limits *);
void control_close(void);
void control_drain(void);
void control_free(void);

/* peer.c */
void peer_accept(int fd);
void peer_write(struct peer *, const void *, size_t);
void peer_write_buf(struct peer *, struct proto_buf *);
void peer_write_event(struct peer *, struct msg *);
void peer_error(struct peer *, const char *id, enum proto_code, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));
void peer_shutdown_all(void);

/* request.c */
void request_dispatch(struct peer *, struct proto_request *);
void request_event(struct msg *);
void request_status_reply(struct msg *);
void request_detach_all(struct peer *);
void request_shutdown_all(void);
void request_free_all(void);

#endif
