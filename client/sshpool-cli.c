/*
 * sshpool: command line client of sshpoold.  Runs a command on many hosts
 * and streams their output prefixed by host, warms up connections, and
 * shows the pool's status.  Built only on the public libsshpool API: it
 * drives the library's non-blocking core from its own poll() loop so that
 * Ctrl-C can cancel a running request.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostfile.h"
#include "sshpool.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILED 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_INTERRUPTED 130
/* A partial output line longer than this is printed as a line of its own
 * rather than buffered further. */
#define CLI_MAX_PARTIAL (1024u * 1024)
#define CLI_MAX_STDIN (16u * 1024 * 1024)
#define CLI_MAX_COMMAND (64u * 1024)
#define CLI_STATUS_HOST_WIDTH 40

enum cli_host_state {
	HOST_PENDING,
	HOST_STARTED,
	HOST_EXIT,
	HOST_SIGNAL,
	HOST_ERROR,
	HOST_CONNECTED
};

struct cli_linebuf {
	char *data;
	size_t len, cap;
};

struct cli_host {
	char *name;
	enum cli_host_state state;
	int status;
	char *why; /* signal name, or "code: message" */
	struct cli_linebuf out, err;
};

/* Hosts in request order plus an open-addressing index for lookups by the
 * name events carry and for dropping duplicates. */
struct cli_hosts {
	struct cli_host *v;
	size_t n, cap;
	size_t *tab; /* index + 1, 0 = empty */
	size_t tabsize;
};

struct cli {
	sp_client *c;
	const char *socket;
	int json;
	struct cli_hosts hosts;
	uint64_t req_id;
	int finished;    /* the request's final event arrived */
	char *req_error; /* request-level error */
	int lost;        /* the connection ended before the final event */
};

static const char *cli_progname = "sshpool";
static int cli_sigpipe[2] = {-1, -1};

static void cli_warnx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
cli_warnx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void *
cli_xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL) {
		cli_warnx("out of memory");
		exit(CLI_EXIT_FAILED);
	}
	return p;
}

static char *
cli_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL) {
		cli_warnx("out of memory");
		exit(CLI_EXIT_FAILED);
	}
	return p;
}

static void
cli_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: %s [-s socket] run [-H host,...] [-h hostfile] [-l user] "
	    "[-t seconds]\n"
	    "           [--idle-timeout seconds] [-e NAME=VALUE] "
	    "[-i stdin-file] [--pty] [--json]\n"
	    "           [--] command ...\n"
	    "       %s [-s socket] connect [-l user] [-h hostfile] [--json] "
	    "host[,host...] ...\n"
	    "       %s [-s socket] status [--json]\n"
	    "       %s --help | -V\n"
	    "The socket defaults to $SSHPOOL_SOCKET, else the daemon's "
	    "default path.\n",
	    cli_progname, cli_progname, cli_progname, cli_progname);
}

/* ---- Host set ---- */

static size_t
cli_hash(const char *s)
{
	size_t h = 14695981039346656037ull;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static size_t
cli_hosts_find(const struct cli_hosts *hs, const char *name)
{
	size_t i, slot;

	if (hs->tabsize == 0)
		return SIZE_MAX;
	for (i = cli_hash(name) & (hs->tabsize - 1);;
	     i = (i + 1) & (hs->tabsize - 1)) {
		if ((slot = hs->tab[i]) == 0)
			return SIZE_MAX;
		if (strcmp(hs->v[slot - 1].name, name) == 0)
			return slot - 1;
	}
}

static void
cli_hosts_index(struct cli_hosts *hs, size_t idx)
{
	size_t i;

	i = cli_hash(hs->v[idx].name) & (hs->tabsize - 1);
	while (hs->tab[i] != 0)
		i = (i + 1) & (hs->tabsize - 1);
	hs->tab[i] = idx + 1;
}

/* Returns the host's index; duplicates map to the first occurrence. */
static size_t
cli_hosts_add(struct cli_hosts *hs, const char *name)
{
	size_t idx, i;

	if ((idx = cli_hosts_find(hs, name)) != SIZE_MAX)
		return idx;
	if (hs->n == hs->cap) {
		hs->cap = hs->cap == 0 ? 64 : hs->cap * 2;
		hs->v = cli_xrealloc(hs->v, hs->cap * sizeof *hs->v);
	}
	/* Keep the table at most half full. */
	if (2 * (hs->n + 1) > hs->tabsize) {
		free(hs->tab);
		hs->tabsize = hs->tabsize == 0 ? 128 : hs->tabsize * 2;
		hs->tab = calloc(hs->tabsize, sizeof *hs->tab);
		if (hs->tab == NULL) {
			cli_warnx("out of memory");
			exit(CLI_EXIT_FAILED);
		}
		for (i = 0; i < hs->n; i++)
			cli_hosts_index(hs, i);
	}
	memset(&hs->v[hs->n], 0, sizeof hs->v[hs->n]);
	hs->v[hs->n].name = cli_xstrdup(name);
	cli_hosts_index(hs, hs->n);
	return hs->n++;
}

static void
cli_hosts_free(struct cli_hosts *hs)
{
	size_t i;

	for (i = 0; i < hs->n; i++) {
		free(hs->v[i].name);
		free(hs->v[i].why);
		free(hs->v[i].out.data);
		free(hs->v[i].err.data);
	}
	free(hs->v);
	free(hs->tab);
}

/* Add every item of a comma list; empty items are skipped. */
static int
cli_hosts_add_list(struct cli_hosts *hs, const char *list)
{
	char *copy = cli_xstrdup(list), *p, *item, *end;

	for (p = copy; (item = strsep(&p, ",")) != NULL;) {
		while (*item == ' ' || *item == '\t')
			item++;
		end = item + strlen(item);
		while (end > item && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*item != '\0')
			cli_hosts_add(hs, item);
	}
	free(copy);
	return 0;
}

static int
cli_hostfile_add(void *arg, const char *host, char *err, size_t errlen)
{
	cli_hosts_add(arg, host);
	return 0;
}

/* ---- Output ---- */

static void
cli_print_line(FILE *f, const char *host, const char *a, size_t alen,
	       const char *b, size_t blen)
{
	fputs(host, f);
	fputs(": ", f);
	/* An empty part may be a NULL buffer, which fwrite must not get. */
	if (alen > 0)
		fwrite(a, 1, alen, f);
	if (blen > 0)
		fwrite(b, 1, blen, f);
	fputc('\n', f);
}

/* Print every complete line of data with the host prefix; keep the rest
 * until more data or the host's end. */
static void
cli_output(FILE *f, const char *host, struct cli_linebuf *b, const char *data,
	   size_t len)
{
	const char *nl;
	size_t n;

	while ((nl = memchr(data, '\n', len)) != NULL) {
		n = (size_t)(nl - data);
		cli_print_line(f, host, b->data, b->len, data, n);
		b->len = 0;
		data += n + 1;
		len -= n + 1;
	}
	if (len == 0)
		return;
	if (b->len + len > b->cap) {
		b->cap = b->len + len < 4096 ? 4096 : 2 * (b->len + len);
		b->data = cli_xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	if (b->len > CLI_MAX_PARTIAL) {
		cli_print_line(f, host, b->data, b->len, "", 0);
		b->len = 0;
	}
}

static void
cli_output_flush(struct cli_host *h)
{
	if (h->out.len > 0)
		cli_print_line(stdout, h->name, h->out.data, h->out.len, "", 0);
	if (h->err.len > 0)
		cli_print_line(stderr, h->name, h->err.data, h->err.len, "", 0);
	h->out.len = h->err.len = 0;
}

/* ---- Connection and the event loop ---- */

static void
cli_on_signal(int sig)
{
	int saved = errno;
	char ch = (char)sig;

	if (write(cli_sigpipe[1], &ch, 1) == -1) {
		/* The pipe is full: an interrupt is already pending. */
	}
	errno = saved;
}

static int
cli_catch_interrupts(void)
{
	struct sigaction sa;

	if (pipe2(cli_sigpipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		cli_warnx("pipe: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cli_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return 0;
}

static int
cli_connect(struct cli *cli)
{
	char err[512];

	cli->c = sp_connect(cli->socket, err, sizeof err);
	if (cli->c == NULL) {
		cli_warnx("cannot reach sshpoold: %s", err);
		return -1;
	}
	return 0;
}

typedef void (*cli_handler)(struct cli *, const sp_event *);

/*
 * Run until the request's final event.  The first interrupt cancels the
 * request and keeps waiting for the hosts to end; a second one quits.
 */
static void
cli_loop(struct cli *cli, cli_handler handle)
{
	struct pollfd pfd[2];
	sp_event *ev;
	uint64_t cancel_id;
	int r, interrupts = 0;
	char buf[64];

	for (;;) {
		while ((r = sp_next_event(cli->c, &ev)) == 1) {
			if (cli->json) {
				size_t len;
				const char *line = sp_event_json(ev, &len);

				fwrite(line, 1, len, stdout);
				fputc('\n', stdout);
			}
			if (sp_event_request_id(ev) == cli->req_id) {
				handle(cli, ev);
				if (sp_event_is_final(ev))
					cli->finished = 1;
			}
			sp_event_free(ev);
		}
		fflush(stdout);
		if (cli->finished)
			return;
		if (r == -1) {
			cli_warnx("%s", sp_client_error(cli->c));
			cli->lost = 1;
			return;
		}
		pfd[0].fd = sp_fd(cli->c);
		pfd[0].events = POLLIN | (sp_want_write(cli->c) ? POLLOUT : 0);
		pfd[1].fd = cli_sigpipe[0];
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, cli_sigpipe[0] != -1 ? 2 : 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			cli_warnx("poll: %s", strerror(errno));
			cli->lost = 1;
			return;
		}
		if (pfd[1].revents & POLLIN) {
			while (read(cli_sigpipe[0], buf, sizeof buf) > 0)
				;
			if (++interrupts > 1) {
				cli_warnx("interrupted");
				exit(CLI_EXIT_INTERRUPTED);
			}
			if (sp_send_cancel(cli->c, cli->req_id, &cancel_id) ==
			    0)
				cli_warnx("cancelling (interrupt again to "
					  "quit)");
		}
		if (pfd[0].revents & POLLOUT)
			(void)sp_flush(cli->c);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			(void)sp_consume(cli->c);
	}
}

static void
cli_request_error(struct cli *cli, const sp_event *ev)
{
	char why[1200];

	snprintf(why, sizeof why, "%s: %s", sp_event_error_code(ev),
		 sp_event_message(ev));
	free(cli->req_error);
	cli->req_error = cli_xstrdup(why);
}

static struct cli_host *
cli_event_host(struct cli *cli, const sp_event *ev)
{
	const char *name = sp_event_host(ev);

	if (name == NULL)
		return NULL;
	return &cli->hosts.v[cli_hosts_add(&cli->hosts, name)];
}

static void
cli_host_error(struct cli_host *h, const sp_event *ev)
{
	char why[1200];

	snprintf(why, sizeof why, "%s: %s", sp_event_error_code(ev),
		 sp_event_message(ev));
	free(h->why);
	h->why = cli_xstrdup(why);
	h->state = HOST_ERROR;
}

/* Print the per-host problems and the count line; return the exit code. */
static int
cli_summary(struct cli *cli, const char *okword)
{
	size_t i, ok = 0, failed = 0, errors = 0;
	struct cli_host *h;

	for (i = 0; i < cli->hosts.n; i++) {
		h = &cli->hosts.v[i];
		switch (h->state) {
		case HOST_CONNECTED:
			ok++;
			break;
		case HOST_EXIT:
			if (h->status == 0) {
				ok++;
				break;
			}
			failed++;
			if (!cli->json)
				fprintf(stderr, "%s: exit %d\n", h->name,
					h->status);
			break;
		case HOST_SIGNAL:
			failed++;
			if (!cli->json)
				fprintf(stderr, "%s: signal %s\n", h->name,
					h->why);
			break;
		case HOST_ERROR:
			errors++;
			if (!cli->json)
				fprintf(stderr, "%s: %s\n", h->name, h->why);
			break;
		default:
			errors++;
			if (!cli->json)
				fprintf(stderr, "%s: no result\n", h->name);
			break;
		}
	}
	if (cli->req_error != NULL)
		cli_warnx("%s", cli->req_error);
	if (!cli->json)
		fprintf(stderr, "%zu hosts: %zu %s, %zu failed, %zu errors\n",
			cli->hosts.n, ok, okword, failed, errors);
	if (ok == cli->hosts.n && cli->req_error == NULL && !cli->lost)
		return CLI_EXIT_OK;
	return CLI_EXIT_FAILED;
}

/* ---- run ---- */

static void
cli_run_event(struct cli *cli, const sp_event *ev)
{
	struct cli_host *h = cli_event_host(cli, ev);
	const void *data;
	size_t len;

	if (h == NULL) {
		if (sp_event_type(ev) == SP_EV_ERROR)
			cli_request_error(cli, ev);
		return;
	}
	switch (sp_event_type(ev)) {
	case SP_EV_START:
		h->state = HOST_STARTED;
		break;
	case SP_EV_STDOUT:
	case SP_EV_STDERR:
		if (cli->json)
			break;
		data = sp_event_data(ev, &len);
		if (sp_event_type(ev) == SP_EV_STDOUT)
			cli_output(stdout, h->name, &h->out, data, len);
		else
			cli_output(stderr, h->name, &h->err, data, len);
		break;
	case SP_EV_EXIT:
		cli_output_flush(h);
		if (sp_event_signal(ev) != NULL) {
			h->state = HOST_SIGNAL;
			free(h->why);
			h->why = cli_xstrdup(sp_event_signal(ev));
		} else {
			h->state = HOST_EXIT;
			h->status = sp_event_exit_status(ev);
		}
		break;
	case SP_EV_ERROR:
		cli_output_flush(h);
		cli_host_error(h, ev);
		break;
	default:
		break;
	}
}

static int
cli_read_file(const char *path, char **out, size_t *outlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cli_warnx("%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= CLI_MAX_STDIN) {
				cli_warnx("%s: larger than %u bytes", path,
					  CLI_MAX_STDIN);
				goto fail;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			buf = cli_xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			cli_warnx("%s: %s", path, strerror(errno));
			goto fail;
		}
		len += (size_t)n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*out = buf;
	*outlen = len;
	return 0;

fail:
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return -1;
}

/* Join the command words with spaces, as ssh does. */
static char *
cli_join(int argc, char **argv)
{
	size_t len = 0, n;
	char *s;
	int i;

	for (i = 0; i < argc; i++) {
		n = strlen(argv[i]);
		if (n > CLI_MAX_COMMAND || len + n + 1 > CLI_MAX_COMMAND + 1)
			return NULL;
		len += n + 1;
	}
	s = cli_xrealloc(NULL, len + 1);
	s[0] = '\0';
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

enum { OPT_JSON = 256, OPT_PTY, OPT_HELP, OPT_IDLE_TIMEOUT };

static int
cli_parse_hostfile(struct cli *cli, const char *path)
{
	char err[600];

	if (hostfile_read(path, cli_hostfile_add, &cli->hosts, err,
			  sizeof err) == -1) {
		cli_warnx("%s", err);
		return -1;
	}
	return 0;
}

static int
cli_run(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"pty", no_argument, NULL, OPT_PTY},
	    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0}};
	sp_run_opts *o;
	char *command, *end, *eq, *data = NULL;
	const char *stdin_path = NULL;
	size_t i, datalen = 0;
	double timeout;
	int ch, rc = CLI_EXIT_USAGE;

	if ((o = sp_run_opts_new()) == NULL) {
		cli_warnx("out of memory");
		return CLI_EXIT_FAILED;
	}
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+H:h:l:t:e:i:", longopts,
				 NULL)) != -1) {
		switch (ch) {
		case 'H':
			cli_hosts_add_list(&cli->hosts, optarg);
			break;
		case 'h':
			if (cli_parse_hostfile(cli, optarg) == -1)
				goto out;
			break;
		case 'l':
			if (sp_run_opts_set_user(o, optarg) == -1) {
				cli_warnx("-l: %s", sp_run_opts_error(o));
				goto out;
			}
			break;
		case 't':
			errno = 0;
			timeout = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !isfinite(timeout) || timeout <= 0 ||
			    sp_run_opts_set_timeout(o, timeout) == -1) {
				cli_warnx("-t %s: expected seconds > 0 and "
					  "<= 604800",
					  optarg);
				goto out;
			}
			break;
		case OPT_IDLE_TIMEOUT:
			errno = 0;
			timeout = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !isfinite(timeout) || timeout <= 0 ||
			    sp_run_opts_set_idle_timeout(o, timeout) == -1) {
				cli_warnx("--idle-timeout %s: expected seconds "
					  "> 0 and <= 604800",
					  optarg);
				goto out;
			}
			break;
		case 'e':
			if ((eq = strchr(optarg, '=')) == NULL) {
				cli_warnx("-e %s: expected NAME=VALUE", optarg);
				goto out;
			}
			*eq = '\0';
			if (sp_run_opts_add_env(o, optarg, eq + 1) == -1) {
				cli_warnx("-e: %s", sp_run_opts_error(o));
				goto out;
			}
			break;
		case 'i':
			stdin_path = optarg;
			break;
		case OPT_JSON:
			cli->json = 1;
			break;
		case OPT_PTY:
			sp_run_opts_set_pty(o, 1);
			break;
		case OPT_HELP:
			cli_usage(stdout);
			rc = CLI_EXIT_OK;
			goto out;
		default:
			cli_usage(stderr);
			goto out;
		}
	}
	if (optind >= argc) {
		cli_warnx("run: no command");
		cli_usage(stderr);
		goto out;
	}
	if (cli->hosts.n == 0) {
		cli_warnx("run: no hosts (use -H or -h)");
		goto out;
	}
	if ((command = cli_join(argc - optind, argv + optind)) == NULL) {
		cli_warnx("run: command longer than %u bytes", CLI_MAX_COMMAND);
		goto out;
	}
	if (sp_run_opts_set_command(o, command) == -1) {
		cli_warnx("run: %s", sp_run_opts_error(o));
		free(command);
		goto out;
	}
	free(command);
	for (i = 0; i < cli->hosts.n; i++) {
		if (sp_run_opts_add_host(o, cli->hosts.v[i].name) == -1) {
			cli_warnx("%s: %s", cli->hosts.v[i].name,
				  sp_run_opts_error(o));
			goto out;
		}
	}
	if (stdin_path != NULL) {
		if (cli_read_file(stdin_path, &data, &datalen) == -1)
			goto out;
		if (sp_run_opts_set_stdin(o, data, datalen) == -1) {
			cli_warnx("-i: %s", sp_run_opts_error(o));
			goto out;
		}
	}

	if (cli_connect(cli) == -1)
		goto out;
	if (sp_send_run(cli->c, o, &cli->req_id) == -1) {
		cli_warnx("run: %s", sp_client_error(cli->c));
		goto out;
	}
	if (cli_catch_interrupts() == -1) {
		rc = CLI_EXIT_FAILED;
		goto out;
	}
	cli_loop(cli, cli_run_event);
	for (i = 0; i < cli->hosts.n; i++)
		cli_output_flush(&cli->hosts.v[i]);
	fflush(stdout);
	rc = cli_summary(cli, "ok");
out:
	free(data);
	sp_run_opts_free(o);
	return rc;
}

/* ---- connect ---- */

static void
cli_connect_event(struct cli *cli, const sp_event *ev)
{
	struct cli_host *h = cli_event_host(cli, ev);

	if (h == NULL) {
		if (sp_event_type(ev) == SP_EV_ERROR)
			cli_request_error(cli, ev);
		return;
	}
	if (sp_event_type(ev) == SP_EV_CONNECTED) {
		h->state = HOST_CONNECTED;
		if (!cli->json)
			printf("%s: connected (%d sessions, %lld ms)\n",
			       h->name, sp_event_sessions(ev),
			       sp_event_duration_ms(ev));
	} else if (sp_event_type(ev) == SP_EV_ERROR) {
		cli_host_error(h, ev);
		if (!cli->json)
			printf("%s: error %s\n", h->name, h->why);
	}
}

static int
cli_connect_cmd(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0}};
	const char **names = NULL;
	const char *user = NULL;
	size_t i;
	int ch, rc = CLI_EXIT_USAGE;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+h:l:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			if (cli_parse_hostfile(cli, optarg) == -1)
				return CLI_EXIT_USAGE;
			break;
		case 'l':
			user = optarg;
			break;
		case OPT_JSON:
			cli->json = 1;
			break;
		case OPT_HELP:
			cli_usage(stdout);
			return CLI_EXIT_OK;
		default:
			cli_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++)
		cli_hosts_add_list(&cli->hosts, argv[optind]);
	if (cli->hosts.n == 0) {
		cli_warnx("connect: no hosts");
		return CLI_EXIT_USAGE;
	}
	names = cli_xrealloc(NULL, cli->hosts.n * sizeof *names);
	for (i = 0; i < cli->hosts.n; i++)
		names[i] = cli->hosts.v[i].name;
	if (cli_connect(cli) == -1)
		goto out;
	if (sp_send_connect(cli->c, names, cli->hosts.n, user, &cli->req_id) ==
	    -1) {
		cli_warnx("connect: %s", sp_client_error(cli->c));
		goto out;
	}
	if (cli_catch_interrupts() == -1) {
		rc = CLI_EXIT_FAILED;
		goto out;
	}
	cli_loop(cli, cli_connect_event);
	fflush(stdout);
	rc = cli_summary(cli, "connected");
out:
	free(names);
	return rc;
}

/* ---- status ---- */

static void
cli_status_print(const sp_event *ev)
{
	size_t i, n = sp_status_nhosts(ev), len, w = 4;
	const char *s;

	for (i = 0; i < n; i++) {
		s = sp_status_host_str(ev, i, "host");
		if (s != NULL && (len = strlen(s)) > w)
			w = len;
	}
	if (w > CLI_STATUS_HOST_WIDTH)
		w = CLI_STATUS_HOST_WIDTH;
	if (n == 0)
		printf("no hosts in the pool\n");
	else
		printf("%-*s %-10s %4s %9s %6s %8s %8s %8s %5s %6s  %s\n",
		       (int)w, "HOST", "STATE", "SESS", "CHANNELS", "QUEUED",
		       "JOBS", "CONNECTS", "FAILURES", "LOST", "RTT",
		       "LAST ERROR");
	for (i = 0; i < n; i++) {
		char chan[48], rtt[24];
		long long ms = sp_status_host_int(ev, i, "rtt_ms");
		const char *host = sp_status_host_str(ev, i, "host");
		const char *state = sp_status_host_str(ev, i, "state");
		const char *last = sp_status_host_str(ev, i, "last_error");

		snprintf(chan, sizeof chan, "%lld/%lld",
			 sp_status_host_int(ev, i, "channels_busy"),
			 sp_status_host_int(ev, i, "channels_max"));
		if (ms >= 0)
			snprintf(rtt, sizeof rtt, "%lldms", ms);
		else
			snprintf(rtt, sizeof rtt, "-");
		printf("%-*s %-10s %4lld %9s %6lld %8lld %8lld %8lld %5lld "
		       "%6s  %s\n",
		       (int)w, host != NULL ? host : "?",
		       state != NULL ? state : "?",
		       sp_status_host_int(ev, i, "sessions"), chan,
		       sp_status_host_int(ev, i, "queued"),
		       sp_status_host_int(ev, i, "jobs"),
		       sp_status_host_int(ev, i, "connects"),
		       sp_status_host_int(ev, i, "failures"),
		       sp_status_host_int(ev, i, "lost"), rtt,
		       last != NULL ? last : "-");
	}
	n = sp_status_nworkers(ev);
	for (i = 0; i < n; i++)
		printf("worker %lld: %lld hosts, %lld sessions, %lld jobs, "
		       "heartbeat %lld ms ago%s\n",
		       sp_status_worker_int(ev, i, "index"),
		       sp_status_worker_int(ev, i, "hosts"),
		       sp_status_worker_int(ev, i, "sessions"),
		       sp_status_worker_int(ev, i, "jobs"),
		       sp_status_worker_int(ev, i, "heartbeat_age_ms"),
		       sp_status_worker_int(ev, i, "stuck") == 1 ?
			   " (STUCK)" : "");
}

static void
cli_status_event(struct cli *cli, const sp_event *ev)
{
	if (sp_event_type(ev) == SP_EV_ERROR)
		cli_request_error(cli, ev);
	else if (sp_event_type(ev) == SP_EV_STATUS && !cli->json)
		cli_status_print(ev);
}

static int
cli_status(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0}};
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_JSON:
			cli->json = 1;
			break;
		case OPT_HELP:
			cli_usage(stdout);
			return CLI_EXIT_OK;
		default:
			cli_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (cli_connect(cli) == -1)
		return CLI_EXIT_USAGE;
	if (sp_send_status(cli->c, &cli->req_id) == -1) {
		cli_warnx("status: %s", sp_client_error(cli->c));
		return CLI_EXIT_FAILED;
	}
	cli_loop(cli, cli_status_event);
	fflush(stdout);
	if (cli->req_error != NULL) {
		cli_warnx("status: %s", cli->req_error);
		return CLI_EXIT_FAILED;
	}
	return cli->lost ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}

/* ---- main ---- */

static const struct cli_command {
	const char *name;
	int (*exec)(struct cli *, int, char **);
} cli_commands[] = {
    {"connect", cli_connect_cmd},
    {"run", cli_run},
    {"status", cli_status},
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0}};
	struct cli cli;
	size_t i;
	int ch, rc;

	memset(&cli, 0, sizeof cli);
	while ((ch = getopt_long(argc, argv, "+s:V", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			cli.socket = optarg;
			break;
		case 'V':
			printf("sshpool %s\n", SSHPOOL_VERSION);
			return CLI_EXIT_OK;
		case OPT_HELP:
			cli_usage(stdout);
			return CLI_EXIT_OK;
		default:
			cli_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	for (i = 0; i < sizeof cli_commands / sizeof cli_commands[0]; i++) {
		if (strcmp(argv[optind], cli_commands[i].name) == 0)
			break;
	}
	if (i == sizeof cli_commands / sizeof cli_commands[0]) {
		cli_warnx("unknown command: %s", argv[optind]);
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	rc = cli_commands[i].exec(&cli, argc - optind, argv + optind);
	sp_close(cli.c);
	cli_hosts_free(&cli.hosts);
	free(cli.req_error);
	return rc;
}
