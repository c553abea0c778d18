/* SPDX-License-Identifier: ISC */
/*
 * One host's share of a request: a command on an exec channel, or a warm-up.
 * A job's channel moves OPEN -> AGENT -> PTY -> ENV -> EXEC -> RUNNING ->
 * CLOSING -> CLOSED, one non-blocking libssh call at a time, driven by its
 * connection's pump (AGENT only with ForwardAgent, PTY and ENV only when
 * asked for).  The job emits start, output chunks and exactly one terminal
 * event (exit or error); after the terminal event ("ended") it may still hold
 * its channel while the remote process is signalled and the channel is closed.
 *
 * Output is read with ssh_channel_read_nonblocking (no data callback), so a
 * paused job simply leaves data in libssh's channel buffer: the SSH window
 * then stops the server, and reading again reopens the window.  When every
 * job on a connection is paused, the connection stops reading its socket
 * (conn_held), so the output waits in TCP rather than in libssh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <openssl/sha.h>

#include "agent.h"
#include "log.h"
#include "clock.h"
#include "msg.h"
#include "conn.h"
#include "host.h"
#include "job.h"
#include "worker.h"
#include "xmalloc.h"

/* Bytes read from one stream at once: one output event (the protocol's
 * largest chunk; fewer, longer lines cost less to move and to parse). */
#define JOB_READ_CHUNK PROTO_MAX_CHUNK
/* Reads per stream per pump round: bounds one job's turn. */
#define JOB_READS_PER_STEP 4
/* Stdin bytes handed to libssh per step, and only once the session's
 * output has gone to the socket: libssh copies what it is given into an
 * unbounded buffer, so this bounds what it holds per channel.  The input
 * itself is one shared copy per request (struct job_input). */
#define JOB_STDIN_STEP (64 * 1024)
#define JOB_PTY_TERM "xterm"
#define JOB_PTY_COLS 80
#define JOB_PTY_ROWS 24

static void job_timer_cb(evutil_socket_t, short, void *);
static void job_arm(struct job *);

/* When the command's timeout or idle_timeout next comes due; 0 = never.
 * Output does not re-arm the timer: it fires and looks again. */
static long long
job_due(const struct job *j)
{
	const struct job_input *in = j->spec->input;
	long long due = 0, idle;

	if (in == NULL)
		return 0;
	if (in->timeout_ms > 0)
		due = j->start_ms + in->timeout_ms;
	if (in->idle_timeout_ms > 0 && j->output_ms > 0) {
		idle = j->output_ms + in->idle_timeout_ms;
		if (due == 0 || idle < due)
			due = idle;
	}
	return due;
}

static void
job_arm(struct job *j)
{
	long long due = job_due(j);

	if (due > 0)
		worker_timer_add(j->w, j->timer, due - clock_ms(), 0);
}

struct job *
job_new(struct worker *w, struct job_spec *spec, struct host *h)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->w = w;
	j->spec = spec;
	j->host = h;
	j->state = JOB_QUEUED;
	j->start_ms = clock_ms();
	j->exit_status = -1;
	if ((j->timer = evtimer_new(w->base, job_timer_cb, j)) == NULL)
		fatalx("%s: evtimer_new failed", __func__);
	job_arm(j);
	TAILQ_INSERT_TAIL(&w->jobs, j, wentry);
	w->njobs++;
	return j;
}

enum job_kind
job_kind(const struct job *j)
{
	return j->spec->kind;
}

void
job_free(struct job *j)
{
	struct worker *w = j->w;

	TAILQ_REMOVE(&w->jobs, j, wentry);
	w->njobs--;
	event_free(j->timer);
	job_spec_free(j->spec);
	free(j->agent_keys);
	free(j);
}

void
job_listing(struct job *j)
{
	j->state = JOB_LISTING;
}

void
job_place(struct job *j, struct host *h)
{
	j->state = JOB_QUEUED;
	j->host = h;
}

int
job_agent_listed(struct job *j, const struct msg *m)
{
	struct agentmsg_identities ids;
	char err[AGENT_MAX_ERR], why[AGENT_MAX_ERR + 64];
	size_t i;

	if (agent_list_result(m, &ids, err, sizeof(err)) == -1) {
		snprintf(why, sizeof(why), "the client's agent: %s", err);
		job_fail(j, PROTO_E_AUTH_FAILED, why);
		return -1;
	}
	j->agent_keys = xcalloc(ids.n > 0 ? ids.n : 1, sizeof(*j->agent_keys));
	for (i = 0; i < ids.n; i++)
		SHA256(ids.v[i].blob, ids.v[i].blob_len, j->agent_keys[i]);
	j->n_agent_keys = ids.n;
	agentmsg_identities_free(&ids);
	log_debug("job id=%s host=%s: the client's agent holds %zu keys",
		  j->spec->id, j->spec->params->key, j->n_agent_keys);
	return 0;
}

uint64_t
job_agent_link(const struct job *j)
{
	const struct cred *c = j->spec->params->cred;

	if (j->spec->input == NULL || !j->spec->input->forward_agent ||
	    c == NULL)
		return 0;
	return c->agent_link;
}

int
job_holds_key(const struct job *j, const unsigned char key[AUTH_KEY_HASH])
{
	size_t i;

	for (i = 0; i < j->n_agent_keys; i++)
		if (memcmp(j->agent_keys[i], key, AUTH_KEY_HASH) == 0)
			return 1;
	return 0;
}

/* ---- events ---- */

static void
job_emit_check(int rc)
{
	if (rc == -1)
		fatalx("job: encoding an event: out of memory");
}

static void
job_end(struct job *j, struct proto_buf *b, enum job_result result)
{
	j->ended = 1;
	worker_emit(j->w, j->spec, b, 1, result);
	proto_buf_free(b);
}

static void
job_emit_error(struct job *j, enum proto_code code, const char *why)
{
	struct proto_buf b;

	proto_buf_init(&b);
	job_emit_check(proto_ev_error(&b, j->spec->id, j->spec->hostarg, code,
				      why, clock_ms() - j->start_ms));
	job_end(j, &b, JOB_RESULT_ERROR);
	log_verbose("host=%s job=%s uid=%u: %s: %s", j->spec->params->key,
		    j->spec->id, j->spec->uid, proto_code_name(code), why);
}

/* End a job that holds no channel, and free it. */
void
job_fail(struct job *j, enum proto_code code, const char *why)
{
	if (!j->ended)
		job_emit_error(j, code, why);
	job_free(j);
}

/* Back to its host's queue: the next channel starts from scratch. */
static void
job_requeue(struct job *j)
{
	j->state = JOB_QUEUED;
	j->conn = NULL;
	j->env_next = 0;
	j->stdin_off = 0;
	j->eof_sent = 0;
	j->agent_forwarded = 0;
	j->stop_signal_sent = 0;
	j->exit_status = -1;
	j->exit_signal[0] = '\0';
}

/*
 * The job's connection closed under it (it has already left the
 * connection's list) with code: a job whose command was never sent runs
 * again on another connection, a few times at most, if the session was
 * lost; any other ends with the error, or is freed if it already ended.
 */
void
job_conn_closed(struct job *j, enum proto_code code, const char *why)
{
	/* Best effort: the session goes away right after. */
	if (code == PROTO_E_SHUTDOWN && j->state == JOB_RUNNING && !j->ended)
		ssh_channel_request_send_signal(j->chan, "TERM");
	if (j->chan != NULL) {
		ssh_remove_channel_callbacks(j->chan, &j->cb);
		j->chan = NULL; /* ssh_free frees it */
	}
	if (j->ended)
		job_free(j);
	else if (code == PROTO_E_CONNECTION_LOST && !j->exec_sent &&
		 j->requeues < JOB_MAX_REQUEUES) {
		j->requeues++;
		job_requeue(j);
		host_requeue(j->host, j);
	} else
		job_fail(j, code, why);
}

void
job_connected(struct job *j, int sessions)
{
	struct proto_buf b;

	proto_buf_init(&b);
	job_emit_check(proto_ev_connected(&b, j->spec->id, j->spec->hostarg,
					  sessions, clock_ms() - j->start_ms));
	job_end(j, &b, JOB_RESULT_OK);
	job_free(j);
}

void
job_disconnected(struct job *j, int closed, int draining)
{
	struct proto_buf b;

	proto_buf_init(&b);
	job_emit_check(proto_ev_disconnected(&b, j->spec->id, j->spec->hostarg,
					     closed, draining,
					     clock_ms() - j->start_ms));
	job_end(j, &b, JOB_RESULT_OK);
	job_free(j);
}

static void
job_emit_start(struct job *j)
{
	struct proto_buf b;

	proto_buf_init(&b);
	job_emit_check(proto_ev_start(&b, j->spec->id, j->spec->hostarg));
	worker_emit(j->w, j->spec, &b, 0, JOB_RESULT_OK);
	proto_buf_free(&b);
}

static void
job_emit_output(struct job *j, int is_stderr, const char *data, size_t len)
{
	struct proto_buf b;

	proto_buf_init(&b);
	job_emit_check(proto_ev_output(&b, j->spec->id, j->spec->hostarg,
				       is_stderr, data, len));
	worker_emit(j->w, j->spec, &b, 0, JOB_RESULT_OK);
	proto_buf_free(&b);
}

static void
job_emit_exit(struct job *j)
{
	struct proto_buf b;
	enum job_result result;
	long long ms = clock_ms() - j->start_ms;

	proto_buf_init(&b);
	if (j->exit_signal[0] != '\0') {
		job_emit_check(proto_ev_exit(&b, j->spec->id, j->spec->hostarg,
					     -1, j->exit_signal, ms));
		result = JOB_RESULT_FAILED;
	} else {
		job_emit_check(proto_ev_exit(&b, j->spec->id, j->spec->hostarg,
					     j->exit_status, NULL, ms));
		result =
		    j->exit_status == 0 ? JOB_RESULT_OK : JOB_RESULT_FAILED;
	}
	job_end(j, &b, result);
}

/* ---- libssh callbacks: record only, act after the pump returns ---- */

static void
job_exit_status_cb(ssh_session session, ssh_channel channel, int status,
		   void *userdata)
{
	struct job *j = userdata;

	(void)session;
	(void)channel;
	j->exit_status = status;
}

static void
job_exit_signal_cb(ssh_session session, ssh_channel channel, const char *signal,
		   int core, const char *errmsg, const char *lang,
		   void *userdata)
{
	struct job *j = userdata;

	(void)session;
	(void)channel;
	(void)core;
	(void)errmsg;
	(void)lang;
	snprintf(j->exit_signal, sizeof(j->exit_signal), "%s",
		 signal != NULL ? signal : "UNKNOWN");
}

/* ---- the channel ---- */

/* The connection took the job (conn_attach): open its channel there. */
void
job_attach(struct job *j, struct conn *c)
{
	j->conn = c;
	j->state = JOB_OPEN;
	if ((j->chan = ssh_channel_new(c->session)) == NULL)
		fatalx("%s: ssh_channel_new failed", __func__);
	memset(&j->cb, 0, sizeof(j->cb));
	j->cb.userdata = j;
	j->cb.channel_exit_status_function = job_exit_status_cb;
	j->cb.channel_exit_signal_function = job_exit_signal_cb;
	ssh_callbacks_init(&j->cb);
	ssh_set_channel_callbacks(j->chan, &j->cb);
}

/* Forget the channel; libssh finishes the close with the server. */
static void
job_release_channel(struct job *j)
{
	if (j->chan != NULL) {
		ssh_remove_channel_callbacks(j->chan, &j->cb);
		ssh_channel_free(j->chan);
		j->chan = NULL;
	}
	j->state = JOB_CLOSED;
}

/*
 * A call failed because the whole session is gone: that is the
 * connection's to handle (the pump closes it as lost, which requeues a job
 * whose command was never sent), not a channel failure of this job.
 */
static int
job_session_gone(const struct job *j)
{
	ssh_session session = j->conn->session;

	return !ssh_is_connected(session) || ssh_get_fd(session) == -1;
}

/* The channel failed: report it, then close or drop the channel. */
static void
job_channel_error(struct job *j, const char *what, int opened)
{
	char why[512];

	snprintf(why, sizeof(why), "%s: %s", what,
		 ssh_get_error(j->conn->session));
	if (!j->ended)
		job_emit_error(j, PROTO_E_CHANNEL_FAILED, why);
	/* An open channel must see its close through, or the server keeps
	 * counting it against MaxSessions. */
	if (opened)
		j->state = JOB_CLOSING;
	else
		job_release_channel(j);
}

/*
 * The server refused to open a channel: usually its MaxSessions.  With
 * other channels open, the connection carries no more than it has now;
 * alone, the server has not yet freed the slot of a channel just closed,
 * and the connection waits a little.  Either way the job runs on the next
 * free channel (nothing was executed, so that is safe), a bounded number
 * of times when it was alone.
 */
static void
job_open_refused(struct job *j)
{
	struct conn *c = j->conn;
	int alone = c->nchans <= 1;

	if (j->ended || (alone && j->refusals >= JOB_MAX_REFUSALS)) {
		job_channel_error(j, "the server refused to open a channel", 0);
		return;
	}
	if (alone)
		j->refusals++;
	conn_refused(c, j, j->refusals);
	ssh_remove_channel_callbacks(j->chan, &j->cb);
	ssh_channel_free(j->chan);
	j->chan = NULL;
	job_requeue(j);
	host_refused(j->host, j);
}

static void
job_stop_remote(struct job *j)
{
	/* A refused signal request changes nothing: KILL and close follow.
	 * (OpenSSH refuses signals to sessions of root logins.) */
	ssh_channel_request_send_signal(j->chan, "TERM");
	j->stop_signal_sent = 1;
	worker_timer_add(j->w, j->timer, j->host->params->stop_grace_ms, 0);
}

/* The command's timeout is over: its message in why, 1; else 0. */
static int
job_overdue(const struct job *j, long long now, char *why, size_t size)
{
	const struct job_input *in = j->spec->input;

	if (in == NULL || in->timeout_ms <= 0 ||
	    now < j->start_ms + in->timeout_ms)
		return 0;
	snprintf(why, size,
		 "the command did not finish within its timeout of %lld ms",
		 in->timeout_ms);
	return 1;
}

/*
 * The channel is done.  An exit read after the deadline loses to the
 * timeout: a busy worker may read both the exit and the due timer in one
 * turn, and the order of the two must not decide the result.
 */
static void
job_finish(struct job *j)
{
	char why[128];

	evtimer_del(j->timer);
	if (j->ended)
		;
	else if (job_overdue(j, clock_ms(), why, sizeof(why)))
		job_emit_error(j, PROTO_E_TIMEOUT, why);
	else if (j->exit_signal[0] != '\0' || j->exit_status >= 0)
		job_emit_exit(j);
	else
		job_emit_error(
		    j, PROTO_E_CHANNEL_FAILED,
		    "the server closed the channel without an exit status");
	j->state = JOB_CLOSING;
}

/*
 * The next piece of stdin: at most JOB_STDIN_STEP and what the channel's
 * window takes, and nothing while the session still has output queued (the
 * pump runs again when the socket drains or the window opens).  1 if any
 * went.
 */
static int
job_write_stdin(struct job *j)
{
	const struct job_input *s = j->spec->input;
	size_t len = s->stdin_len - j->stdin_off;
	uint32_t window;
	int n;

	if (ssh_get_poll_flags(j->conn->session) & SSH_WRITE_PENDING)
		return 0;
	window = ssh_channel_window_size(j->chan);
	if (len > JOB_STDIN_STEP)
		len = JOB_STDIN_STEP;
	if (len > window)
		len = window;
	if (len == 0)
		return 0;
	n = ssh_channel_write(j->chan, s->stdin_data + j->stdin_off,
			      (uint32_t)len);
	if (n == SSH_ERROR) {
		/* The command stopped reading (or the channel is closing):
		 * drop the rest, collect its output.  The pump judges the
		 * session itself. */
		j->stdin_off = s->stdin_len;
		j->eof_sent = 1;
		return 0;
	}
	if (n <= 0)
		return 0;
	j->stdin_off += (size_t)n;
	return 1;
}

int
job_paused(const struct job *j)
{
	return j->state == JOB_RUNNING && !j->ended && j->eof_sent &&
	       flow_paused(j->spec->flow);
}

/* Move stdin forward and output out; 1 if anything moved. */
static int
job_io(struct job *j)
{
	char buf[JOB_READ_CHUNK];
	struct job_input *s = j->spec->input;
	int progress = 0, stream, i, n, eof = 0;

	if (s->stdin_len > j->stdin_off)
		progress = job_write_stdin(j);
	if (!j->eof_sent && j->stdin_off >= s->stdin_len) {
		if (ssh_channel_send_eof(j->chan) == SSH_OK)
			j->eof_sent = 1;
	}
	/* Backpressure: leave the data with libssh and the window closed. */
	if (!j->ended && flow_paused(j->spec->flow))
		return progress;
	for (stream = 0; stream < 2; stream++) {
		for (i = 0; i < JOB_READS_PER_STEP; i++) {
			n = ssh_channel_read_nonblocking(j->chan, buf,
							 sizeof(buf), stream);
			if (n == SSH_EOF) {
				eof++;
				break;
			}
			if (n <= 0)
				break;
			progress = 1;
			if (!j->ended) {
				j->output_ms = clock_ms();
				job_emit_output(j, stream, buf, n);
			}
		}
	}
	if (eof == 2 && (j->exit_status >= 0 || j->exit_signal[0] != '\0' ||
			 ssh_channel_is_closed(j->chan))) {
		job_finish(j);
		progress = 1;
	}
	return progress;
}

int
job_forwards_agent(const struct job *j)
{
	return j->agent_forwarded && !j->ended &&
	       (j->state == JOB_PTY || j->state == JOB_ENV ||
		j->state == JOB_EXEC || j->state == JOB_RUNNING);
}

/* The state after the channel opened, or after the agent request. */
static enum job_state
job_setup_next(const struct job *j, enum job_state from)
{
	if (j->ended)
		return JOB_CLOSING;
	if (from == JOB_OPEN &&
	    (j->spec->params->forward_agent || job_agent_link(j) != 0))
		return JOB_AGENT;
	if (j->spec->input->pty)
		return JOB_PTY;
	return j->spec->input->nenv > 0 ? JOB_ENV : JOB_EXEC;
}

/*
 * Ask the server to forward the agent (auth-agent-req@openssh.com).
 * libssh sends it without asking for a reply, as ssh(1) does, so a server
 * that refuses (sshd's AllowAgentForwarding no) is not heard: it opens no
 * agent channel and the command runs without an agent.  Only a request
 * that could not be sent is logged; the command runs all the same.
 */
static int
job_agent_request(struct job *j)
{
	int rc = ssh_channel_request_auth_agent(j->chan);

	if (rc == SSH_AGAIN)
		return 0;
	if (rc == SSH_ERROR && job_session_gone(j))
		return 1;
	if (rc == SSH_ERROR)
		log_info("host=%s job=%s: agent forwarding request failed: %s; "
			 "running the command without it",
			 j->spec->params->key, j->spec->id,
			 ssh_get_error(j->conn->session));
	else
		j->agent_forwarded = 1;
	j->state = job_setup_next(j, JOB_AGENT);
	return 1;
}

int
job_step(struct job *j)
{
	struct proto_env *e;
	char why[256];
	int rc;

	switch (j->state) {
	case JOB_OPEN:
		rc = ssh_channel_open_session(j->chan);
		if (rc == SSH_AGAIN)
			return 0;
		if (rc == SSH_ERROR && job_session_gone(j))
			return 1;
		if (rc == SSH_ERROR) {
			if (ssh_get_error_code(j->conn->session) ==
			    SSH_REQUEST_DENIED)
				job_open_refused(j);
			else
				job_channel_error(j, "channel open", 0);
			return 1;
		}
		conn_opened(j->conn);
		j->state = job_setup_next(j, JOB_OPEN);
		return 1;
	case JOB_AGENT:
		return job_agent_request(j);
	case JOB_PTY:
		rc = ssh_channel_request_pty_size(j->chan, JOB_PTY_TERM,
						  JOB_PTY_COLS, JOB_PTY_ROWS);
		if (rc == SSH_AGAIN)
			return 0;
		if (rc == SSH_ERROR && job_session_gone(j))
			return 1;
		if (rc == SSH_ERROR) {
			job_channel_error(j, "pty request", 1);
			return 1;
		}
		j->state = j->ended                   ? JOB_CLOSING
			   : j->spec->input->nenv > 0 ? JOB_ENV
						      : JOB_EXEC;
		return 1;
	case JOB_ENV:
		e = &j->spec->input->env[j->env_next];
		rc = ssh_channel_request_env(j->chan, e->name, e->value);
		if (rc == SSH_AGAIN)
			return 0;
		if (rc == SSH_ERROR && job_session_gone(j))
			return 1;
		if (rc == SSH_ERROR) {
			snprintf(why, sizeof(why),
				 "the server refused environment variable %s "
				 "(servers accept only the variables they "
				 "are configured to, and some none at all)",
				 e->name);
			if (!j->ended)
				job_emit_error(j, PROTO_E_CHANNEL_FAILED, why);
			j->state = JOB_CLOSING;
			return 1;
		}
		if (++j->env_next == j->spec->input->nenv)
			j->state = j->ended ? JOB_CLOSING : JOB_EXEC;
		return 1;
	case JOB_EXEC:
		if (j->ended && !j->exec_sent) {
			j->state = JOB_CLOSING;
			return 1;
		}
		j->exec_sent = 1;
		rc = ssh_channel_request_exec(j->chan, j->spec->input->command);
		if (rc == SSH_AGAIN)
			return 0;
		if (rc == SSH_ERROR && job_session_gone(j))
			return 1;
		if (rc == SSH_ERROR) {
			job_channel_error(j, "exec request", 1);
			return 1;
		}
		j->state = JOB_RUNNING;
		if (j->ended)
			job_stop_remote(j);
		else {
			job_emit_start(j);
			/* idle_timeout counts from here. */
			j->output_ms = clock_ms();
			job_arm(j);
		}
		return 1;
	case JOB_RUNNING:
		return job_io(j);
	case JOB_CLOSING:
		rc = ssh_channel_close(j->chan);
		if (rc == SSH_AGAIN)
			return 0;
		job_release_channel(j);
		return 1;
	case JOB_LISTING:
	case JOB_QUEUED:
	case JOB_CLOSED:
		break;
	}
	return 0;
}

/*
 * Cancel or timeout: the client gets its terminal event now; the remote
 * command gets TERM, then KILL after a grace period, then its channel is
 * closed.  Output that still arrives is read and dropped.
 */
void
job_stop(struct job *j, enum proto_code code, const char *why)
{
	struct host *h = j->host;

	if (!j->ended)
		job_emit_error(j, code, why);
	switch (j->state) {
	case JOB_LISTING:
		worker_agent_unwait_job(j->w, j);
		job_free(j);
		return;
	case JOB_QUEUED:
		if (h != NULL)
			host_unqueue(h, j);
		job_free(j);
		return;
	case JOB_RUNNING:
		if (!j->stop_signal_sent)
			job_stop_remote(j);
		break;
	default:
		/* The pending request completes, then the channel closes. */
		break;
	}
	if (j->conn != NULL)
		conn_poke(j->conn);
}

static void
job_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	struct job_input *in;
	char why[128];
	long long now;

	(void)fd;
	(void)what;
	if (!j->ended) {
		in = j->spec->input;
		now = clock_ms();
		if (job_overdue(j, now, why, sizeof(why)))
			;
		else if (in->idle_timeout_ms > 0 && j->output_ms > 0 &&
			 now >= j->output_ms + in->idle_timeout_ms &&
			 flow_paused(j->spec->flow)) {
			/* The client is not reading: the output is held back,
			 * the command is not idle.  Count from now. */
			j->output_ms = now;
			job_arm(j);
			return;
		} else if (in->idle_timeout_ms > 0 && j->output_ms > 0 &&
			   now >= j->output_ms + in->idle_timeout_ms)
			snprintf(why, sizeof(why),
				 "the command wrote no output "
				 "for %lld ms (idle_timeout)",
				 in->idle_timeout_ms);
		else {
			job_arm(j); /* output came since: not due yet */
			return;
		}
		job_stop(j, PROTO_E_TIMEOUT, why);
		return;
	}
	/* The grace after TERM is over. */
	if (j->state == JOB_RUNNING && j->chan != NULL) {
		ssh_channel_request_send_signal(j->chan, "KILL");
		j->state = JOB_CLOSING;
		conn_poke(j->conn);
	}
}
