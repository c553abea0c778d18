/* SPDX-License-Identifier: ISC */
/*
 * User authentication of one connection (auth.c): the methods the
 * configuration prefers, tried in order among those the server offers,
 * driven non-blocking.  Fields are written by auth.c only.
 */
#ifndef SSHPOOL_AUTH_H
#define SSHPOOL_AUTH_H

#include <libssh/libssh.h>

struct cred;
struct host_params;
struct inbox;
struct keystore;
struct msg;
struct auth;

/* Bytes of the hash naming the agent key a login took. */
#define AUTH_KEY_HASH 32
/* Bytes of an auth_failed message. */
#define AUTH_MAX_MESSAGE 1024

enum auth_result {
	AUTH_AGAIN,   /* call auth_step again when the socket is ready */
	AUTH_WAIT,    /* call auth_agent_listed, then auth_step, when the
		       * agent's MSG_AGENT_LIST (cookie conn_id) comes */
	AUTH_SUCCESS, /* authenticated */
	AUTH_DENIED,  /* every method tried: auth_message says how */
	AUTH_ERROR    /* protocol or socket error: ssh_get_error says */
};

/* Takes a reference on keys and a copy of the host parameters, kept
 * until auth_free (across a reload); conn_id names the connection in log
 * lines and is the cookie of the agent listing posted to reply.  cred is
 * the credential of the job the connection opens for: it replaces the
 * host's (the same identity, with the agent of a request that lives). */
struct auth *auth_new(const struct host_params *, struct cred *,
		      struct keystore *keys, ssh_session,
		      unsigned long long conn_id, struct inbox *reply);
/* The agent's listing (MSG_AGENT_LIST) after AUTH_WAIT. */
void auth_agent_listed(struct auth *, const struct msg *);
void auth_free(struct auth *);
enum auth_result auth_step(struct auth *);
/* After AUTH_DENIED: the methods tried and what the server offers. */
void auth_message(const struct auth *, char *buf, size_t len);
/* After AUTH_SUCCESS: 1 and the SHA-256 of the public key blob when a
 * key of a client's agent opened the session, else 0. */
int auth_agent_key(const struct auth *, unsigned char out[AUTH_KEY_HASH]);
/* After AUTH_SUCCESS: the method that completed. */
const char *auth_method_name(const struct auth *);

#endif
