/* SPDX-License-Identifier: ISC */
/*
 * One command (or warm-up, or disconnect) for one host (job.c).  Fields are
 * written by job.c only, but for the list entry its host or connection
 * keeps.
 */
#ifndef SSHPOOL_JOB_H
#define SSHPOOL_JOB_H

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "auth.h"
#include "worker.h"

/* A job whose connection dies before its exec request is sent runs again on
 * another connection, this many times at most. */
#define JOB_MAX_REQUEUES 3
/* A job whose channel open a server refuses while nothing else is open on
 * that connection (a session slot not yet freed after a CLOSE) is tried
 * again, after a growing pause, this many times at most. */
#define JOB_MAX_REFUSALS 8

enum job_state {
	JOB_LISTING, /* awaiting its client agent's keys (w->agent_jobs) */
	JOB_QUEUED,  /* in the host queue or waiters */
	JOB_OPEN,    /* channel open requested */
	JOB_AGENT,   /* agent forwarding requested (ForwardAgent) */
	JOB_PTY,
	JOB_ENV,
	JOB_EXEC, /* exec requested, not confirmed */
	JOB_RUNNING,
	JOB_CLOSING, /* result known; driving the channel close */
	JOB_CLOSED   /* channel freed; the job is freed by its conn */
};

struct job {
	TAILQ_ENTRY(job) wentry; /* worker's list */
	/* host.c or conn.c: in the host's queue or waiters, or in the
	 * connection's jobs, as the job's state says. */
	TAILQ_ENTRY(job) entry;
	struct worker *w;
	struct job_spec *spec;
	struct host *host;
	struct conn *conn;
	enum job_state state;
	long long start_ms;
	long long output_ms;  /* last output, or the exec; 0 before it */
	int ended;            /* the terminal event was sent */
	int stop_signal_sent; /* TERM sent, KILL pending */
	int requeues;         /* times its connection died before exec */
	int refusals;  /* channel opens refused with no other channel open */
	int exec_sent; /* the command may be running: never run it again */
	size_t env_next;
	size_t stdin_off;
	int eof_sent;
	int agent_forwarded; /* auth-agent-req was sent */
	/* A client agent's job: the listing's cookie, then the SHA-256 of
	 * each key blob the agent holds. */
	unsigned long long agent_cookie;
	unsigned char (*agent_keys)[AUTH_KEY_HASH];
	size_t n_agent_keys;

	ssh_channel chan;
	struct ssh_channel_callbacks_struct cb;
	int exit_status;      /* -1 until received */
	char exit_signal[32]; /* "" until received */

	struct event *timer; /* timeout/idle_timeout, then the KILL grace */
};

struct job *job_new(struct worker *, struct job_spec *, struct host *);
enum job_kind job_kind(const struct job *);
void job_free(struct job *);
void job_attach(struct job *, struct conn *);
/* To await its agent's listing (JOB_LISTING), then its listing: 0, or -1
 * when the job failed with the agent's error. */
void job_listing(struct job *);
int job_agent_listed(struct job *, const struct msg *);
/* The host it goes to, once (worker.c, before host_submit). */
void job_place(struct job *, struct host *);
/* The client's agent link the job forwards (the request's
 * forward_agent), 0 none. */
uint64_t job_agent_link(const struct job *);
/* A session a client agent's key opened may serve the job: its agent
 * holds that key. */
int job_holds_key(const struct job *, const unsigned char key[AUTH_KEY_HASH]);
int job_step(struct job *); /* 1 if it made progress */
/* Running, its input all sent, its output held back for a client that
 * does not read: it needs nothing from the server until that changes. */
int job_paused(const struct job *);
/* Its agent forwarding request went out and the command has not ended:
 * agent channels the server opens are the job's to answer. */
int job_forwards_agent(const struct job *);
void job_fail(struct job *, enum proto_code, const char *);
void job_stop(struct job *, enum proto_code, const char *);
void job_conn_closed(struct job *, enum proto_code, const char *why);
void job_connected(struct job *, int sessions);
void job_disconnected(struct job *, int closed, int draining);

#endif
