/* SPDX-License-Identifier: ISC */
/*
 * The run subcommand: a command on many hosts.  Its options, the plan
 * (one request per distinct command and stdin, with {host}, {arg}, -I and
 * --sudo/--shell applied per host), sending and the event loop; output
 * goes through the output modes.  --identity and --agent open the
 * caller's key file or connect to its agent here, with the caller's own
 * rights, and pass the descriptor with every request: the daemon opens no
 * file a client names.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <termios.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct option cli_run_longopts[] = {
    {"host", required_argument, NULL, 'H'},
    {"hosts", required_argument, NULL, 'h'},
    {"exclude", required_argument, NULL, 'x'},
    {"user", required_argument, NULL, 'l'},
    {"jump", required_argument, NULL, 'J'},
    {"timeout", required_argument, NULL, 't'},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"env", required_argument, NULL, 'E'},
    {"pty", no_argument, NULL, OPT_PTY},
    {"sudo", optional_argument, NULL, OPT_SUDO},
    {"shell", required_argument, NULL, OPT_SHELL},
    {"stdin", no_argument, NULL, OPT_STDIN},
    {"stdin-file", required_argument, NULL, OPT_STDIN_FILE},
    {"stdin-dir", required_argument, NULL, 'I'},
    {"args-file", required_argument, NULL, 'A'},
    {"host-args", required_argument, NULL, OPT_HOST_ARGS},
    {"inline", no_argument, NULL, 'i'},
    {"gather", no_argument, NULL, 'b'},
    {"outdir", required_argument, NULL, 'o'},
    {"errdir", required_argument, NULL, 'e'},
    {"json", no_argument, NULL, OPT_JSON},
    {"color", required_argument, NULL, OPT_COLOR},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"verbose", no_argument, NULL, 'v'},
    {"stop-on-error", no_argument, NULL, OPT_STOP_ON_ERROR},
    {"failed-hosts", required_argument, NULL, OPT_FAILED_HOSTS},
    {"identity", required_argument, NULL, OPT_IDENTITY},
    {"agent", no_argument, NULL, OPT_AGENT},
    {"forward-agent", no_argument, NULL, OPT_FORWARD_AGENT},
    {"ask-pass", no_argument, NULL, OPT_ASK_PASS},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0}};

/* A connection to $SSH_AUTH_SOCK, or -1 with a message. */
static int
cli_run_agent_connect(void)
{
	const char *path = getenv("SSH_AUTH_SOCK");
	struct sockaddr_un sun;
	int fd;

	if (path == NULL || *path == '\0') {
		cli_warnx(
		    "run: --agent: SSH_AUTH_SOCK is not set (no ssh-agent "
		    "to pass)");
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		cli_warnx("run: --agent: SSH_AUTH_SOCK %s: path too long",
			  path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		cli_warnx("run: --agent: connect to %s: %s", path,
			  strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * --ask-pass: the password, asked once on the terminal without echo (like
 * ansible -k), or NULL with a message.  The terminal's modes come back on
 * every path.
 */
static char *
cli_run_ask_pass(void)
{
	static const char prompt[] = "Password for the hosts: ";
	struct termios saved, quiet;
	char buf[1026], *pw = NULL;
	ssize_t n;
	size_t len;
	int tty;

	if ((tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1) {
		cli_warnx("run: --ask-pass: no terminal to ask on: %s",
			  strerror(errno));
		return NULL;
	}
	if (tcgetattr(tty, &saved) == -1) {
		cli_warnx("run: --ask-pass: %s", strerror(errno));
		close(tty);
		return NULL;
	}
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	(void)write(tty, prompt, sizeof(prompt) - 1);
	if (tcsetattr(tty, TCSANOW, &quiet) == -1) {
		cli_warnx("run: --ask-pass: %s", strerror(errno));
		close(tty);
		return NULL;
	}
	n = read(tty, buf, sizeof(buf) - 1);
	/* A longer line's rest must not reach the shell. */
	(void)tcflush(tty, TCIFLUSH);
	(void)tcsetattr(tty, TCSANOW, &saved);
	(void)write(tty, "\n", 1);
	close(tty);
	if (n > 0) {
		buf[n] = '\0';
		len = strcspn(buf, "\r\n");
		buf[len] = '\0';
		if (len > 0 && len <= 1024 && (pw = strdup(buf)) == NULL)
			cli_warnx("run: --ask-pass: out of memory");
		else if (len == 0 || len > 1024)
			cli_warnx("run: --ask-pass: a password is 1 to 1024 "
				  "bytes");
	} else
		cli_warnx("run: --ask-pass: no password read");
	explicit_bzero(buf, sizeof(buf));
	return pw;
}

/* --identity and --agent: the descriptors every request passes. */
static int
cli_run_credentials(struct cli *cli, const struct cli_runopts *ro)
{
	int fd;

	if (ro->identity != NULL) {
		if ((fd = open(ro->identity, O_RDONLY | O_CLOEXEC)) == -1) {
			cli_warnx("run: --identity %s: %s", ro->identity,
				  strerror(errno));
			return -1;
		}
		cli->pass_fds[cli->npass] = fd;
		cli->pass_roles[cli->npass++] = SP_FD_KEY;
	}
	if (ro->agent) {
		if ((fd = cli_run_agent_connect()) == -1)
			return -1;
		cli->pass_fds[cli->npass] = fd;
		cli->pass_roles[cli->npass++] = SP_FD_AGENT;
	}
	if (ro->ask_pass && (cli->password = cli_run_ask_pass()) == NULL)
		return -1;
	return 0;
}

static void
cli_run_credentials_close(struct cli *cli)
{
	size_t i;

	for (i = 0; i < cli->npass; i++)
		close(cli->pass_fds[i]);
	cli->npass = 0;
	if (cli->password != NULL) {
		explicit_bzero(cli->password, strlen(cli->password));
		free(cli->password);
		cli->password = NULL;
	}
}

/* -I DIR: the host's input is the file DIR/HOST, which must exist. */
static int
cli_run_host_stdin(const char *dir, const char *host, unsigned char **data,
		   size_t *len, size_t max)
{
	char path[PATH_MAX];
	char *buf;

	out_outdir_path(path, sizeof path, dir, host);
	if (cli_file_read(path, max, &buf, len) == -1)
		return -1;
	*data = (unsigned char *)buf;
	return 0;
}

static int
cli_run_send(struct cli *cli, struct cli_req *r)
{
	sp_run_opts *o;
	char *eq;
	size_t i;
	int rc = -1;

	if ((o = cli_req_opts(cli, r)) == NULL)
		return -1;
	if (sp_run_opts_set_command(o, r->command) == -1 ||
	    sp_run_opts_set_timeout(o, cli->timeout) == -1 ||
	    sp_run_opts_set_idle_timeout(o, cli->idle_timeout) == -1 ||
	    sp_run_opts_set_pty(o, cli->pty) == -1 ||
	    sp_run_opts_set_forward_agent(o, cli->forward_agent) == -1 ||
	    (r->has_stdin &&
	     sp_run_opts_set_stdin(o, r->stdin_data, r->stdin_len) == -1)) {
		cli_warnx("run: %s", sp_run_opts_error(o));
		goto out;
	}
	for (i = 0; i < cli->env.n; i++) {
		eq = strchr(cli->env.v[i], '=');
		*eq = '\0';
		if (sp_run_opts_add_env(o, cli->env.v[i], eq + 1) == -1) {
			*eq = '=';
			cli_warnx("-E: %s", sp_run_opts_error(o));
			goto out;
		}
		*eq = '=';
	}
	if (sp_send_run(cli->c, o, &r->id) == -1) {
		cli_warnx("run: %s", sp_client_error(cli->c));
		goto out;
	}
	rc = 0;
out:
	sp_run_opts_free(o);
	return rc;
}

/* Build the request groups: one per distinct (command, stdin). */
static int
cli_run_plan(struct cli *cli, const struct cli_runopts *ro, const char *tmpl,
	     const unsigned char *stdin_data, size_t stdin_len, int has_stdin,
	     size_t max_stdin)
{
	struct cli_host *h;
	unsigned char *data;
	size_t i, len, g;
	char *cmd;
	int per_host = strstr(tmpl, "{host}") != NULL ||
		       ro->args_file != NULL || ro->args_json != NULL ||
		       ro->stdin_dir != NULL;

	if (per_host && cli->groups.n > 0) {
		cli_warnx("run: per-host commands and input need explicit "
			  "hosts; @groups are expanded by the daemon");
		return -1;
	}
	if (!per_host) {
		cmd = cli_command_wrap(ro, cli_xstrdup(tmpl));
		data = NULL;
		if (has_stdin) {
			data = cli_xrealloc(NULL, stdin_len + 1);
			if (stdin_len > 0)
				memcpy(data, stdin_data, stdin_len);
		}
		g = cli_req_group(cli, cmd, data, stdin_len, has_stdin);
		for (i = 0; i < cli->hosts.n; i++) {
			cli->hosts.v[i].group = g;
			cli_req_add_host(&cli->reqs[g], i);
		}
		return 0;
	}
	for (i = 0; i < cli->hosts.n; i++) {
		h = &cli->hosts.v[i];
		if ((ro->args_file != NULL || ro->args_json != NULL) &&
		    h->arg == NULL) {
			cli_warnx("run: no argument for host %s", h->name);
			return -1;
		}
		cmd = cli_command_wrap(
		    ro, cli_command_render(tmpl, h->name, h->arg));
		if (strlen(cmd) > CLI_MAX_COMMAND) {
			cli_warnx("run: command for %s longer than %u bytes",
				  h->name, CLI_MAX_COMMAND);
			free(cmd);
			return -1;
		}
		data = NULL;
		len = 0;
		if (ro->stdin_dir != NULL) {
			if (cli_run_host_stdin(ro->stdin_dir, h->name, &data,
					       &len, max_stdin) == -1) {
				free(cmd);
				return -1;
			}
		} else if (has_stdin) {
			data = cli_xrealloc(NULL, stdin_len + 1);
			if (stdin_len > 0)
				memcpy(data, stdin_data, stdin_len);
			len = stdin_len;
		}
		g = cli_req_group(cli, cmd, data, len,
				  has_stdin || ro->stdin_dir != NULL);
		h->group = g;
		cli_req_add_host(&cli->reqs[g], i);
	}
	return 0;
}

static int
cli_run_option(struct cli *cli, void *state, int ch, const char *arg)
{
	struct cli_runopts *ro = state;
	int r;

	if ((r = cli_opt_host(cli, ch, arg)) != 0)
		return r;
	switch (ch) {
	case 't':
		if (cli_opt_seconds("-t", arg, &cli->timeout) == -1)
			return -1;
		return 1;
	case OPT_IDLE_TIMEOUT:
		if (cli_opt_seconds("--idle-timeout", arg,
				    &cli->idle_timeout) == -1)
			return -1;
		return 1;
	case 'E':
		if (strchr(arg, '=') == NULL || arg[0] == '=') {
			cli_warnx("-E %s: expected NAME=VALUE", arg);
			return -1;
		}
		cli_strv_add(&cli->env, arg);
		return 1;
	case OPT_PTY:
		cli->pty = 1;
		return 1;
	case OPT_SUDO:
		ro->sudo = 1;
		ro->sudo_user = arg;
		if (arg != NULL && *arg == '\0') {
			cli_warnx("--sudo=: empty user");
			return -1;
		}
		return 1;
	case OPT_SHELL:
		ro->shell = arg;
		return 1;
	case OPT_STDIN:
		ro->read_stdin = 1;
		return 1;
	case OPT_STDIN_FILE:
		ro->stdin_file = arg;
		return 1;
	case 'I':
		ro->stdin_dir = arg;
		return 1;
	case 'A':
		ro->args_file = arg;
		return 1;
	case OPT_HOST_ARGS:
		ro->args_json = arg;
		return 1;
	case 'i':
		cli->display = cli_output_find("inline");
		return 1;
	case 'b':
		cli->display = cli_output_find("gather");
		return 1;
	case 'o':
		cli->outdir = arg;
		return 1;
	case 'e':
		cli->errdir = arg;
		return 1;
	case OPT_COLOR:
		if (strcmp(arg, "auto") != 0 && strcmp(arg, "always") != 0 &&
		    strcmp(arg, "never") != 0) {
			cli_warnx("--color %s: expected auto, always "
				  "or never",
				  arg);
			return -1;
		}
		ro->color = arg;
		return 1;
	case OPT_NO_PROGRESS:
		ro->no_progress = 1;
		return 1;
	case OPT_STOP_ON_ERROR:
		cli->stop_on_error = 1;
		return 1;
	case OPT_IDENTITY:
		ro->identity = arg;
		return 1;
	case OPT_AGENT:
		ro->agent = 1;
		return 1;
	case OPT_FORWARD_AGENT:
		ro->agent = ro->forward_agent = 1;
		return 1;
	case OPT_ASK_PASS:
		ro->ask_pass = 1;
		return 1;
	default:
		return 0;
	}
}

/* Everything that needs no daemon: the checks, the hosts and the command
 * template (in *tmpl); -1 on a usage error. */
static int
cli_run_prepare(struct cli *cli, const struct cli_runopts *ro, int argc,
		char **argv, char **tmpl)
{
	int r;

	if (optind >= argc) {
		cli_warnx("run: no command");
		cli_usage(stderr);
		return -1;
	}
	if ((ro->read_stdin != 0) + (ro->stdin_file != NULL) +
		(ro->stdin_dir != NULL) >
	    1) {
		cli_warnx("run: use one of --stdin, --stdin-file and -I");
		return -1;
	}
	if (ro->args_file != NULL && ro->args_json != NULL) {
		cli_warnx("run: use one of -A and --host-args");
		return -1;
	}
	/* Without -H/-h the argument files name the hosts. */
	r = cli->hosts.n == 0 && cli->groups.n == 0;
	if (ro->args_file != NULL &&
	    cli_args_load_file(cli, ro->args_file, r) == -1)
		return -1;
	if (ro->args_json != NULL &&
	    cli_args_load_json(cli, ro->args_json, r) == -1)
		return -1;
	if (cli_hostset_exclude(cli) == -1)
		return -1;
	if (cli->hosts.n == 0 && cli->groups.n == 0) {
		cli_warnx("run: no hosts (use -H or -h)");
		return -1;
	}
	*tmpl = cli_command_join(argc - optind, argv + optind);
	if (strlen(*tmpl) > CLI_MAX_COMMAND) {
		cli_warnx("run: command longer than %u bytes", CLI_MAX_COMMAND);
		return -1;
	}
	if ((cli->outdir != NULL && out_outdir_mkdir(cli->outdir) == -1) ||
	    (cli->errdir != NULL && out_outdir_mkdir(cli->errdir) == -1))
		return -1;
	return 0;
}

/* --stdin and --stdin-file: the input every host gets. */
static int
cli_run_stdin(const struct cli_runopts *ro, size_t max_stdin, char **data,
	      size_t *datalen, int *has_stdin)
{
	if (ro->read_stdin) {
		if (isatty(STDIN_FILENO)) {
			cli_warnx("run: --stdin: standard input is a "
				  "terminal");
			return -1;
		}
		if (cli_file_read_fd(STDIN_FILENO, "stdin", max_stdin, data,
				     datalen) == -1)
			return -1;
		*has_stdin = 1;
	} else if (ro->stdin_file != NULL) {
		if (cli_file_read(ro->stdin_file, max_stdin, data, datalen) ==
		    -1)
			return -1;
		*has_stdin = 1;
	}
	return 0;
}

static int
cli_run_exec(struct cli *cli, int argc, char **argv)
{
	struct cli_runopts ro;
	char *tmpl = NULL, *data = NULL;
	size_t datalen = 0, max_stdin;
	int rc = CLI_EXIT_USAGE, has_stdin = 0;

	memset(&ro, 0, sizeof ro);
	if ((rc = cli_opt_parse(cli, argc, argv, cli_run_option, &ro)) != -1)
		return rc;
	rc = CLI_EXIT_USAGE;
	if (cli_run_prepare(cli, &ro, argc, argv, &tmpl) == -1 ||
	    cli_run_credentials(cli, &ro) == -1)
		goto out;
	cli->forward_agent = ro.forward_agent;
	if (cli_connect(cli) == -1)
		goto out;
	max_stdin = sp_server_max_stdin(cli->c);
	if (max_stdin == 0 || max_stdin > CLI_MAX_STDIN)
		max_stdin = CLI_MAX_STDIN;
	if (cli_run_stdin(&ro, max_stdin, &data, &datalen, &has_stdin) == -1)
		goto out;
	if (cli_run_plan(cli, &ro, tmpl, (unsigned char *)data, datalen,
			 has_stdin, max_stdin) == -1)
		goto out;
	cli_output_setup(cli, ro.color, ro.no_progress);
	if (cli_signal_catch() == -1) {
		rc = CLI_EXIT_FAILED;
		goto out;
	}
	cli->start_ms = client_clock_ms();
	/* The first request must go out or nothing will. */
	if (cli_req_send_more(cli, cli_run_send) == -1 && cli->inflight == 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	cli_loop_run(cli, cli_run_send);
	cli_progress_clear(cli);
	cli_output_end(cli);
	rc = cli_exit_finish(cli, "ok", 1);
out:
	cli_run_credentials_close(cli);
	free(tmpl);
	free(data);
	return rc;
}

const struct cli_cmd cli_cmd_run = {
    .name = "run",
    .usage = "run [options] [--] command ...",
    .shortopts = "+H:h:x:l:J:t:E:I:A:ibo:e:v",
    .longopts = cli_run_longopts,
    .exec = cli_run_exec,
};
