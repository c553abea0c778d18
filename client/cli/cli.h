/* SPDX-License-Identifier: ISC */
/*
 * What the files of the sshpool command line client share: its limits and
 * exit statuses, the invocation's state (hosts, request groups, counters),
 * the subcommand entries (struct cli_cmd, one file each) and the output
 * mode entries (struct cli_out, one file each), and the functions each
 * file offers the others.  The CLI is built only on the public libsshpool
 * API (sshpool.h).
 */
#ifndef SSHPOOL_CLI_H
#define SSHPOOL_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "client-clock.h"
#include "sshpool.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILED 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_HOST_ERROR 255 /* a host had an error, as ssh(1) */
#define CLI_EXIT_INTERRUPTED 130
/* A partial output line longer than this is printed as a line of its own
 * rather than buffered further. */
#define CLI_MAX_PARTIAL (1024u * 1024)
/* Output kept per host for -i and -b; beyond it the rest is dropped. */
#define CLI_MAX_KEPT (16u * 1024 * 1024)
#define CLI_MAX_STDIN (16u * 1024 * 1024)
#define CLI_MAX_COMMAND (64u * 1024)
#define CLI_MAX_FILE (64u * 1024 * 1024) /* -A / --host-args files */
#define CLI_MAX_EXPAND 1000000u          /* hosts one pattern may expand to */
/* Requests in flight at once; the daemon's MaxRequestsPerClient defaults
 * to 1024. */
#define CLI_MAX_INFLIGHT 256
#define CLI_PROGRESS_MS 100 /* redraw interval of the progress line */
#define CLI_STATUS_HOST_WIDTH 40
#define CLI_SUMMARY_HOST_WIDTH 40
#define CLI_MAX_PING 1000
#define CLI_COLOR_RESET "\033[0m"

enum cli_host_state {
	HOST_PENDING,
	HOST_STARTED,
	HOST_EXIT,
	HOST_SIGNAL,
	HOST_ERROR,
	HOST_CONNECTED,
	HOST_DISCONNECTED,
	HOST_SKIPPED /* never sent: --stop-on-error stopped first */
};

struct cli_buf {
	char *data;
	size_t len, cap;
};

struct cli_host {
	char *name;
	enum cli_host_state state;
	int status;
	char *code; /* error code, or signal name */
	char *message;
	long long duration_ms;
	int sessions, draining;
	struct cli_buf out, err; /* partial lines (live) or all (-i, -b) */
	int truncated;
	int files_made; /* -o/-e files created */
	char *arg;      /* -A / --host-args value */
	size_t group;   /* index of its request group */
	size_t gather;  /* -b: index of its output block */
};

/* Hosts in order plus an open-addressing index for lookups by the name
 * events carry and for dropping duplicates. */
struct cli_hosts {
	struct cli_host *v;
	size_t n, cap;
	size_t *tab; /* index + 1, 0 = empty */
	size_t tabsize;
};

enum cli_req_state { REQ_QUEUED, REQ_SENT, REQ_DONE };

/* One request: the hosts that share a command and stdin. */
struct cli_req {
	char *command;
	unsigned char *stdin_data;
	size_t stdin_len;
	int has_stdin;
	size_t *hosts; /* host indexes */
	size_t nhosts, cap;
	size_t hash_next; /* next group with the same hash, + 1 */
	uint64_t id;
	enum cli_req_state state;
};

struct cli_strv {
	char **v;
	size_t n, cap;
};

enum {
	OPT_JSON = 256,
	OPT_PTY,
	OPT_HELP,
	OPT_IDLE_TIMEOUT,
	OPT_SUDO,
	OPT_SHELL,
	OPT_STDIN,
	OPT_STDIN_FILE,
	OPT_HOST_ARGS,
	OPT_COLOR,
	OPT_NO_PROGRESS,
	OPT_STOP_ON_ERROR,
	OPT_FAILED_HOSTS,
	OPT_IDENTITY,
	OPT_AGENT,
	OPT_FORWARD_AGENT,
	OPT_ASK_PASS
};

struct cli_runopts {
	const char *sudo_user;
	int sudo;
	const char *shell;
	int read_stdin;
	const char *stdin_file;
	const char *stdin_dir;
	const char *args_file;
	const char *args_json;
	const char *color;
	int no_progress;
	const char *identity; /* --identity FILE */
	int agent;            /* --agent */
	int forward_agent;    /* --forward-agent (implies --agent) */
	int ask_pass;         /* --ask-pass */
};

struct cli_cmd;
struct cli_out;

struct cli {
	sp_client *c;
	const char *socket;
	const struct cli_cmd *cmd;
	const char *cmdname;
	int json;
	int verbose;
	const struct cli_out *display; /* -i or -b; NULL: live */
	const char *outdir, *errdir;
	int stop_on_error;
	const char *failed_hosts;
	int progress;
	int color_out, color_err;
	struct cli_hosts hosts;
	struct cli_strv groups;  /* "@NAME" entries, expanded by the daemon */
	struct cli_strv exclude; /* -x patterns as given */
	struct cli_strv exclude_expanded;
	const char *user;
	const char *jump; /* -J: jump hosts of every host, or "none" */
	/* Settings every run request of this invocation shares. */
	double timeout, idle_timeout;
	struct cli_strv env; /* "NAME=VALUE" */
	int pty;
	int forward_agent; /* --forward-agent */
	/* Descriptors every request passes (--identity, --agent). */
	int pass_fds[2];
	enum sp_fd_role pass_roles[2];
	size_t npass;
	char *password; /* --ask-pass: asked once, wiped at the end */

	struct cli_req *reqs;
	size_t nreqs, reqcap;
	size_t *reqhash; /* group index + 1 by hash, for grouping */
	size_t reqhashsize;
	size_t next_req, inflight, reqs_done;
	int stopping;

	size_t ndone, nfailed; /* hosts with a result, of them not ok */
	long long start_ms, last_draw_ms;
	int progress_shown;
	/* The output modes that see the run, in the order they are called:
	 * outdir (with -o or -e), then the display mode. */
	const struct cli_out *outs[2];
	size_t nouts;
	size_t inline_seq;
	char *req_error; /* the first request-level error */
	int lost;        /* the connection ended before the final event */
};

/*
 * A subcommand: its name, its usage line (after "[-s socket] "), its
 * options for getopt_long and the function that runs it with its own
 * arguments (argv[0] is the subcommand).
 */
struct cli_cmd {
	const char *name;
	const char *usage;
	const char *shortopts;
	const struct option *longopts;
	int (*exec)(struct cli *, int, char **);
};

/*
 * An output mode: what it does when a host starts, with every event of a
 * request of ours (before the event is handled), with a chunk of a host's
 * output, when a host reaches its result and after the last event.  Any
 * hook may be NULL.
 */
struct cli_out {
	const char *name;
	void (*start)(struct cli *, struct cli_host *);
	void (*event)(struct cli *, const sp_event *);
	void (*data)(struct cli *, struct cli_host *, int, const void *,
		     size_t);
	void (*done)(struct cli *, struct cli_host *);
	void (*end)(struct cli *);
};

/* A subcommand's option handler: 1 if it took ch, 0 if not, -1 on error. */
typedef int (*cli_opt_fn)(struct cli *, void *, int, const char *);
typedef int (*cli_req_sender)(struct cli *, struct cli_req *);

/* cli.c */
extern const char *cli_progname;
extern const struct cli_cmd *const cli_commands[];
extern const size_t cli_ncommands;
void cli_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void cli_nomem(void) __attribute__((noreturn));
void *cli_xrealloc(void *, size_t);
void *cli_xcalloc(size_t, size_t);
char *cli_xstrdup(const char *);
void cli_buf_add(struct cli_buf *, const void *, size_t);
void cli_strv_add(struct cli_strv *, const char *);
void cli_strv_free(struct cli_strv *);
size_t cli_hash_bytes(size_t, const void *, size_t);
size_t cli_hash(const char *);
int cli_connect(struct cli *);

/* cli-usage.c */
void cli_usage(FILE *);

/* cli-opt.c */
extern const struct option cli_opt_simple_longopts[];
int cli_opt_parse(struct cli *, int, char **, cli_opt_fn, void *);
int cli_opt_seconds(const char *, const char *, double *);
int cli_opt_host(struct cli *, int, const char *);
int cli_opt_simple(struct cli *, void *, int, const char *);

/* cli-hostset.c */
int cli_hostset_split(const char *, int (*)(struct cli *, const char *),
		      struct cli *);
int cli_hostset_add(struct cli *, const char *);
int cli_hostset_add_exclude(struct cli *, const char *);
int cli_hostset_read(struct cli *, const char *);
int cli_hostset_exclude(struct cli *);

/* cli-host.c */
size_t cli_host_find(const struct cli_hosts *, const char *);
size_t cli_host_add(struct cli_hosts *, const char *);
void cli_host_clear(struct cli_hosts *);
int cli_host_finished(const struct cli_host *);
int cli_host_ok(const struct cli_host *);
void cli_host_result(const struct cli_host *, char *, size_t);
void cli_host_set_error(struct cli_host *, const sp_event *);
void cli_host_keep(struct cli_host *, struct cli_buf *, const void *, size_t);

/* cli-req.c */
struct cli_req *cli_req_by_id(struct cli *, uint64_t);
size_t cli_req_group(struct cli *, char *, unsigned char *, size_t, int);
void cli_req_add_host(struct cli_req *, size_t);
void cli_req_clear(struct cli *);
void cli_req_error(struct cli *, const sp_event *);
void cli_req_stop(struct cli *);
int cli_req_send_more(struct cli *, cli_req_sender);
sp_run_opts *cli_req_opts(struct cli *, const struct cli_req *);
int cli_req_wait_reply(struct cli *, uint64_t, sp_event **);

/* cli-signal.c */
int cli_signal_catch(void);
int cli_signal_fd(void);
void cli_signal_drain(void);

/* cli-loop.c */
void cli_loop_run(struct cli *, cli_req_sender);

/* cli-progress.c */
void cli_progress_clear(struct cli *);
void cli_progress_draw(struct cli *, int);

/* cli-summary.c */
void cli_summary_table(struct cli *);

/* cli-exit.c */
int cli_exit_finish(struct cli *, const char *, int);

/* cli-file.c */
int cli_file_read_fd(int, const char *, size_t, char **, size_t *);
int cli_file_read(const char *, size_t, char **, size_t *);

/* cli-args.c */
int cli_args_load_file(struct cli *, const char *, int);
int cli_args_load_json(struct cli *, const char *, int);

/* cli-command.c */
char *cli_command_join(int, char **);
char *cli_command_render(const char *, const char *, const char *);
char *cli_command_wrap(const struct cli_runopts *, char *);

/* cli-output.c */
const struct cli_out *cli_output_find(const char *);
void cli_output_host(FILE *, int, const char *);
void cli_output_setup(struct cli *, const char *, int);
void cli_output_start(struct cli *, struct cli_host *);
void cli_output_event(struct cli *, const sp_event *);
void cli_output_data(struct cli *, struct cli_host *, int, const void *,
		     size_t);
void cli_output_done(struct cli *, struct cli_host *);
void cli_output_end(struct cli *);

/* out-live.c, out-inline.c, out-gather.c, out-outdir.c, out-json.c */
extern const struct cli_out out_live;
extern const struct cli_out out_inline;
extern const struct cli_out out_gather;
extern const struct cli_out out_outdir;
extern const struct cli_out out_json;
void out_inline_print(struct cli *, struct cli_host *, int);
void out_outdir_path(char *, size_t, const char *, const char *);
int out_outdir_mkdir(const char *);
void out_json_print(const sp_event *);

/* cli-pool.c */
extern const struct option cli_pool_longopts[];
int cli_pool_exec(struct cli *, int, char **,
		  int (*)(sp_client *, const sp_run_opts *, uint64_t *),
		  const char *);

/* cli-run.c, cli-connect.c, cli-disconnect.c, cli-status.c, cli-ping.c */
extern const struct cli_cmd cli_cmd_run;
extern const struct cli_cmd cli_cmd_connect;
extern const struct cli_cmd cli_cmd_disconnect;
extern const struct cli_cmd cli_cmd_status;
extern const struct cli_cmd cli_cmd_ping;

#endif
