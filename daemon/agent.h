/* SPDX-License-Identifier: ISC */
/*
 * The agent broker (agent.c): one thread with its own loop between libssh,
 * whose agent client blocks, and the real ssh-agents.  libssh is never
 * given an agent's socket: it gets one end of a socketpair (a relay) whose
 * other end the broker serves, forwarding one request at a time to the
 * agent with a deadline and answering SSH_AGENT_FAILURE itself when the
 * agent is slow, gone or the request is not allowed.
 *
 * Every call below may be made from any thread; each only posts an
 * operation to the broker's inbox.  The only state shared across threads is
 * the counts of open relays and links (atomics, bounded by max_relays) and
 * the ids of the links held (under a lock), which agent_relay_attach checks.
 */
#ifndef SSHPOOL_AGENT_H
#define SSHPOOL_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "agentmsg.h"

struct inbox;
struct msg;

/* AgentTimeout's default: how long one request may wait for the agent. */
#define AGENT_DEFAULT_TIMEOUT_MS 5000
/* Relays open at once, daemon-wide: each holds two descriptors in the
 * broker and one for libssh. */
#define AGENT_MAX_RELAYS 256
/* Requests of one relay waiting behind the one the agent is answering;
 * past that the broker stops reading the relay until one is answered. */
#define AGENT_MAX_QUEUED 8
/* How long a listing made by agent_list() answers libssh's own
 * REQUEST_IDENTITIES on that relay without asking the agent again. */
#define AGENT_IDENTITIES_FRESH_MS 60000
/* Room for the error text of a listing. */
#define AGENT_MAX_ERR 256

/* What a relay lets through to the agent. */
enum agent_relay_mode {
	AGENT_RELAY_AUTH,   /* our own libssh: every request */
	AGENT_RELAY_FORWARD /* a remote host's: REQUEST_IDENTITIES and
			     * SIGN_REQUEST only, the rest refused here */
};

struct agent_limits {
	int timeout_ms; /* AgentTimeout, per request */
	int max_relays; /* at most AGENT_MAX_RELAYS */
	int max_queued; /* per relay, at most AGENT_MAX_QUEUED */
};

/* Start the broker thread; NULL means the defaults above.  0, or -1 if it
 * already runs or the limits are out of range.  evthread_use_pthreads()
 * must have been called. */
int agent_start(const struct agent_limits *);
/*
 * Stop the thread and close every relay, without waiting for any agent:
 * the broker never blocks, so this returns as soon as its loop sees the
 * request.  Listings still pending are not answered: call it after the
 * threads that asked for them have stopped.
 */
void agent_stop(void);

/*
 * A relay to the agent connected on agent_fd (taken in every case).  On
 * success returns its id (never 0) and the end for libssh
 * (ssh_set_agent_socket) or for a forwarding channel's bridge in
 * *libssh_fd, a blocking socket the caller owns; once given to
 * ssh_set_agent_socket it is libssh's, which closes it in ssh_free.  When
 * that end closes, the broker closes the relay.  0 when the broker is not
 * running, max_relays are open or no socketpair could be made.
 */
uint64_t agent_relay_open(int agent_fd, enum agent_relay_mode mode,
			  int *libssh_fd);
/* Close a relay: its agent connection and its end of the socketpair (the
 * libssh end then reads EOF).  An unknown id is ignored. */
void agent_relay_close(uint64_t id);
/*
 * Ask relay id's agent for its identities without blocking: the answer
 * comes to reply_to as one MSG_AGENT_LIST with cookie, read it with
 * agent_list_result().  The request waits its turn behind libssh's and has
 * the same deadline.  After a successful listing the relay answers libssh's
 * own REQUEST_IDENTITIES from it for AGENT_IDENTITIES_FRESH_MS, so that
 * blocking call returns at once.  0, or -1 if the broker is not running.
 */
int agent_list(uint64_t id, struct inbox *reply_to, uint64_t cookie);
/*
 * A MSG_AGENT_LIST's answer: 0 and the identities (free them with
 * agentmsg_identities_free; they borrow from m, which must outlive them),
 * or -1 and the reason in err ("agent did not answer within 5000 ms",
 * "agent closed the connection", ...).
 */
int agent_list_result(const struct msg *m, struct agentmsg_identities *ids,
		      char *err, size_t errlen);
/*
 * Shared links: one agent connection that many relays use, for an agent a
 * client passed with a request (one descriptor serves every host of it).
 * The requests of all the link's relays reach the agent one at a time, in
 * turn, each with the AgentTimeout deadline; when the agent fails, every
 * relay of the link answers FAILURE from then on.
 *
 * agent_link_open takes agent_fd in every case and returns the link's id
 * (never 0; ids are shared with relays) held by the caller, or 0 when the
 * broker is not running or max_relays are open (a link counts as one).
 * agent_link_close releases the caller's hold: the agent connection closes
 * at once (a client's agent is used only while its request lives); relays
 * still open on it answer FAILURE ("the client's agent was released") and
 * the link is freed when the last of them closes.  An unknown id is
 * ignored.
 */
uint64_t agent_link_open(int agent_fd);
void agent_link_close(uint64_t link);
/*
 * A relay on a shared link, as agent_relay_open otherwise.  With a pin (a
 * public key blob of pin_len bytes, copied) the relay answers every
 * REQUEST_IDENTITIES itself with that one key, never asking the agent, and
 * lets only SIGN_REQUESTs for that key through: libssh then offers exactly
 * that key, so a login's key is known.  Without one it passes what its
 * mode allows.  0 when the link is unknown or closed, the broker is not
 * running, or max_relays are open.
 */
uint64_t agent_relay_attach(uint64_t link, enum agent_relay_mode mode,
			    const uint8_t *pin, size_t pin_len, int *libssh_fd);
/*
 * The link's identities, as agent_list for a relay: asked of the agent
 * once, when the first listing is asked for, and answered from that
 * listing for the rest of the link's life (a link stands for the agent as
 * its request found it); the link's unpinned relays answer libssh's
 * REQUEST_IDENTITIES from it too.  Calls made while the agent is asked all
 * get its one answer.  A listing that failed is not kept: the next call
 * asks again.  0, or -1 if the broker is not running.
 */
int agent_link_list(uint64_t link, struct inbox *reply_to, uint64_t cookie);

/* Relays open now (for status and tests). */
int agent_relays(void);
/* Shared links open now, released ones that relays still use included. */
int agent_links(void);

#endif
