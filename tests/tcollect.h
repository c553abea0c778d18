/* SPDX-License-Identifier: ISC */
/*
 * The event collector of the tests that talk the raw protocol to a real
 * daemon: it records, per request and per host, what the events said
 * (start, output bytes of each stream, exit status or signal, error code and
 * message, the done summary) and checks them against the wire format's
 * rules as they arrive (per host: start, output, exactly one terminal event;
 * one end per request).  The first rule broken is kept in problem; a test
 * asserts it is empty with tcollect_check.
 *
 * A request may be announced with tcollect_expect and its list of hosts:
 * its events are then also checked against that list (no unknown host,
 * nothing after the end, done only once every host ended).  With
 * known_ids set, every event but status and cancel must belong to such a
 * request.
 *
 * Failed reads and waits fail the test through the binary's
 * testutil_failed() hook.
 */
#ifndef SSHPOOL_TCOLLECT_H
#define SSHPOOL_TCOLLECT_H

#include <stddef.h>

#include "proto.h"

#define TCOLLECT_MSG 1100    /* bytes of an error message kept */
#define TCOLLECT_SIGNAL 16   /* bytes of a signal name kept */
#define TCOLLECT_PROBLEM 300 /* bytes of the first violation kept */

struct tclient;

/* What one host of one request produced. */
struct tcollect_host {
	char id[PROTO_MAX_ID + 3]; /* JSON text */
	char host[PROTO_MAX_HOSTSPEC + 1];
	int starts;
	int terminals;
	int connected;
	int exited;
	int status;   /* exit status; -2 until an exit */
	int sessions; /* of a connected event */
	char signal[TCOLLECT_SIGNAL];
	enum proto_code code;
	char message[TCOLLECT_MSG];
	long long duration_ms;
	long long t_first_out; /* client clock at the first stdout */
	long long t_terminal;  /* client clock at the terminal event */
	size_t outbytes, errbytes;
	/* The first keep bytes of each stream, NUL-terminated, never NULL. */
	char *out, *err;
	size_t outlen, errlen;
};

/* One request: its hosts in order of their first event (or as expected)
 * and how it ended, by done or by a request-level error. */
struct tcollect_req {
	char id[PROTO_MAX_ID + 3]; /* JSON text */
	int expected;              /* announced by tcollect_expect */
	struct tcollect_host **hosts;
	size_t nhosts, caphosts;
	int ends;   /* done and request-level error events */
	int reqerr; /* a request-level error ended it */
	enum proto_code code;
	char message[TCOLLECT_MSG];
	struct proto_done done;
	long long t_sent; /* client clock at tcollect_expect */
	long long t_end;  /* client clock at the last end */
};

struct tcollect {
	/* Options, set after tcollect_init. */
	size_t keep;   /* output bytes kept per stream and host */
	int event_ms;  /* longest wait for one event in waits, 0: no bound */
	int known_ids; /* events of unannounced ids are violations */
	/* Runs after each event read, with arg. */
	void (*on_event)(struct tcollect *, struct tclient *, void *arg);
	void *arg;

	struct tcollect_req **reqs;
	size_t nreqs, capreqs;
	size_t nhosts; /* host records of all requests */
	int nends;     /* request ends with an id (done or error) */
	int hellos;
	struct proto_event hello; /* the scalar members of the last hello */
	int nullerrors;           /* request-level errors with id null */
	enum proto_code nullcode;
	char nullmsg[TCOLLECT_MSG];
	int reqerrors;           /* request-level errors, any id */
	enum proto_code reqcode; /* the code of the last one */
	int statuses;
	char *status; /* the last status line */
	char status_id[PROTO_MAX_ID + 3];
	int cancels;
	char cancel_target[PROTO_MAX_ID + 3];
	int cancel_found;
	char problem[TCOLLECT_PROBLEM]; /* first violation, "" if none */
};

void tcollect_init(struct tcollect *);
void tcollect_free(struct tcollect *);

/* Announce request id (JSON text) on hosts[0..n-1]; id must be new. */
struct tcollect_req *tcollect_expect(struct tcollect *, const char *id,
				     const char *const *hosts, size_t n);
/* The record of request id, or NULL. */
struct tcollect_req *tcollect_req(const struct tcollect *, const char *id);
/* The record of host of request id, or NULL. */
struct tcollect_host *tcollect_host(const struct tcollect *, const char *id,
				    const char *host);
struct tcollect_host *tcollect_req_host(const struct tcollect_req *,
					const char *host);

/* Record one decoded event; line is its text (status without json). */
void tcollect_event(struct tcollect *, const struct proto_event *,
		    const char *line);
/* Read and record one event; fails the test on timeout or garbage. */
void tcollect_read(struct tclient *, struct tcollect *, int timeout_ms);
/* The same, but 0 on timeout and 1 when an event came. */
int tcollect_poll(struct tclient *, struct tcollect *, int timeout_ms);

/* Read until request id ended; returns its record. */
struct tcollect_req *tcollect_wait_end(struct tclient *, struct tcollect *,
				       const char *id, int timeout_ms);
/* Read until host of request id started; fails if it ended first. */
struct tcollect_host *tcollect_wait_start(struct tclient *, struct tcollect *,
					  const char *id, const char *host,
					  int timeout_ms);
/* Forget the last status, then read until a status reply to id (any id if
 * NULL) came. */
void tcollect_wait_status(struct tclient *, struct tcollect *, const char *id,
			  int timeout_ms);
/* Fail the test if a rule was broken. */
void tcollect_check(const struct tcollect *);

#endif
