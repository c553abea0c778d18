/*
 * sshpool: command line client of sshpoold.  Runs a command on many hosts
 * (host sets with ranges, groups and exclusions; per-host commands; sudo
 * and shell wrapping; stdin broadcast or per host) and shows the results
 * live, inline, gathered or in files, with a progress line, a summary
 * table and pssh/pdsh-style exit codes; also warms up and drops pooled
 * connections, pings the daemon and shows the pool's status.  Built only
 * on the public libsshpool API: it drives the library's non-blocking core
 * from its own poll() loop so that Ctrl-C can cancel what is running.
 */
#include <sys/stat.h>

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
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "hostfile.h"
#include "hostlist.h"
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

enum cli_mode { MODE_LIVE, MODE_INLINE, MODE_GATHER };

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

struct cli {
	sp_client *c;
	const char *socket;
	const char *cmdname;
	int json;
	int verbose;
	enum cli_mode mode;
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
	/* Settings every run request of this invocation shares. */
	double timeout, idle_timeout;
	struct cli_strv env; /* "NAME=VALUE" */
	int pty;

	struct cli_req *reqs;
	size_t nreqs, reqcap;
	size_t *reqhash; /* group index + 1 by hash, for grouping */
	size_t reqhashsize;
	size_t next_req, inflight, reqs_done;
	int stopping;

	size_t ndone, nfailed; /* hosts with a result, of them not ok */
	long long start_ms, last_draw_ms;
	int progress_shown;
	size_t inline_seq;
	char *req_error; /* the first request-level error */
	int lost;        /* the connection ended before the final event */
};

static const char *cli_progname = "sshpool";
static int cli_sigpipe[2] = {-1, -1};

static void cli_warnx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void cli_progress_clear(struct cli *);

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

static void
cli_nomem(void)
{
	cli_warnx("out of memory");
	exit(CLI_EXIT_FAILED);
}

static void *
cli_xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL)
		cli_nomem();
	return p;
}

static void *
cli_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		cli_nomem();
	return p;
}

static char *
cli_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		cli_nomem();
	return p;
}

static long long
cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
cli_buf_add(struct cli_buf *b, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (b->len + len > b->cap) {
		b->cap = b->len + len < 4096 ? 4096 : 2 * (b->len + len);
		b->data = cli_xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void
cli_strv_add(struct cli_strv *sv, const char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap == 0 ? 16 : sv->cap * 2;
		sv->v = cli_xrealloc(sv->v, sv->cap * sizeof *sv->v);
	}
	sv->v[sv->n++] = cli_xstrdup(s);
}

static void
cli_strv_free(struct cli_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof *sv);
}

/* ---- Usage ---- */

static void
cli_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: %s [-s socket] run [options] [--] command ...\n"
	    "       %s [-s socket] connect [-H hosts] [-h file] [-x hosts] "
	    "[-l user] [--json] [hosts ...]\n"
	    "       %s [-s socket] disconnect [-H hosts] [-h file] [-x hosts] "
	    "[-l user] [--json] [hosts ...]\n"
	    "       %s [-s socket] status [--json]\n"
	    "       %s [-s socket] ping [-c count] [--json]\n"
	    "       %s --help | -V\n"
	    "\n"
	    "  -s, --socket PATH     the daemon's socket (default "
	    "$SSHPOOL_SOCKET, else the\n"
	    "                        daemon's default path)\n"
	    "  -V, --version         print the version\n"
	    "\n"
	    "Hosts (run, connect, disconnect):\n"
	    "  -H, --host LIST       hosts, comma-separated; repeatable. "
	    "[user@]host[:port],\n"
	    "                        ranges web[01-20].example, "
	    "10.0.[0-3].[1-254], groups @NAME\n"
	    "  -h, --hosts FILE      one host (or pattern, or @group) per "
	    "line, # comments\n"
	    "  -x, --exclude LIST    leave out these hosts (ranges, globs "
	    "web*); repeatable\n"
	    "  -l, --user USER       user for hosts given without user@\n"
	    "\n"
	    "Run options:\n"
	    "  -t, --timeout SEC     stop each command after SEC seconds\n"
	    "      --idle-timeout SEC  stop a command silent for SEC "
	    "seconds\n"
	    "  -E, --env NAME=VALUE  environment variable; repeatable\n"
	    "      --pty             allocate a pseudo-terminal\n"
	    "      --sudo[=USER]     run as USER (default root): sudo -n -u "
	    "USER -- sh -c CMD\n"
	    "      --shell SHELL     run SHELL -c CMD\n"
	    "      --stdin           send this program's standard input "
	    "to every host\n"
	    "      --stdin-file FILE send FILE to every host's standard "
	    "input\n"
	    "  -I, --stdin-dir DIR   send DIR/HOST to each host's standard "
	    "input\n"
	    "  -A, --args-file FILE  per-host values, lines \"host value\": "
	    "{arg} in the command\n"
	    "      --host-args FILE  per-host values as a JSON object "
	    "{\"host\": \"value\"}\n"
	    "                        ({host} in the command is always "
	    "replaced by the host)\n"
	    "\n"
	    "Output:\n"
	    "  (default)             live \"host: line\" output\n"
	    "  -i, --inline          each host's whole output when it "
	    "finishes (pssh -i)\n"
	    "  -b, --gather          fold hosts with identical output "
	    "(clush -b)\n"
	    "  -o, --outdir DIR      standard output per host in DIR/HOST\n"
	    "  -e, --errdir DIR      standard error per host in DIR/HOST\n"
	    "      --json            protocol events, one JSON object per "
	    "line\n"
	    "      --color WHEN      color host names: auto (on a tty), "
	    "always, never\n"
	    "      --no-progress     no progress line on a terminal\n"
	    "  -v, --verbose         summary table of every host, not "
	    "only failed ones\n"
	    "\n"
	    "Failures:\n"
	    "      --stop-on-error   cancel the rest when a host fails\n"
	    "      --failed-hosts FILE  write the hosts that did not "
	    "succeed, one per line\n"
	    "\n"
	    "run exits with the largest remote exit status (0 when every "
	    "host exited 0),\n"
	    "255 when a host had an error or was killed by a signal, 2 on "
	    "usage errors or\n"
	    "when the daemon cannot be reached.  The socket defaults to "
	    "$SSHPOOL_SOCKET,\n"
	    "else the daemon's default path.\n",
	    cli_progname, cli_progname, cli_progname, cli_progname,
	    cli_progname, cli_progname);
}

/* ---- Host set ---- */

static size_t
cli_hash_bytes(size_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

static size_t
cli_hash(const char *s)
{
	return cli_hash_bytes(14695981039346656037ull, s, strlen(s));
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
		hs->tab = cli_xcalloc(hs->tabsize, sizeof *hs->tab);
		for (i = 0; i < hs->n; i++)
			cli_hosts_index(hs, i);
	}
	memset(&hs->v[hs->n], 0, sizeof hs->v[hs->n]);
	hs->v[hs->n].name = cli_xstrdup(name);
	hs->v[hs->n].group = SIZE_MAX;
	hs->v[hs->n].gather = SIZE_MAX;
	cli_hosts_index(hs, hs->n);
	return hs->n++;
}

static void
cli_hosts_free(struct cli_hosts *hs)
{
	size_t i;

	for (i = 0; i < hs->n; i++) {
		free(hs->v[i].name);
		free(hs->v[i].code);
		free(hs->v[i].message);
		free(hs->v[i].out.data);
		free(hs->v[i].err.data);
		free(hs->v[i].arg);
	}
	free(hs->v);
	free(hs->tab);
}

/* Split a comma list outside brackets ("web[1,3],db1") and call fn on each
 * trimmed, non-empty item. */
static int
cli_split_list(const char *list, int (*fn)(struct cli *, const char *),
	       struct cli *cli)
{
	char *copy = cli_xstrdup(list), *p = copy, *item, *end;
	int depth = 0, last = 0, rc = 0;

	for (item = p;; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']' && depth > 0)
			depth--;
		else if ((*p == ',' && depth == 0) || *p == '\0') {
			last = *p == '\0';
			*p = '\0';
			while (*item == ' ' || *item == '\t')
				item++;
			end = item + strlen(item);
			while (end > item &&
			       (end[-1] == ' ' || end[-1] == '\t'))
				*--end = '\0';
			if (*item != '\0' && fn(cli, item) == -1) {
				rc = -1;
				break;
			}
			if (last)
				break;
			item = p + 1;
		}
	}
	free(copy);
	return rc;
}

static int
cli_expand_one(const char *host, void *arg)
{
	struct cli *cli = arg;

	cli_hosts_add(&cli->hosts, host);
	return 0;
}

/* One -H item: a group is passed through, a pattern expanded here so that
 * every host is known before the request (for progress and templates). */
static int
cli_add_host_item(struct cli *cli, const char *item)
{
	char err[600];

	if (item[0] == '@') {
		cli_strv_add(&cli->groups, item);
		return 0;
	}
	if (sp_hostset_expand(item, cli_expand_one, cli, CLI_MAX_EXPAND, err,
			      sizeof err) == -1) {
		cli_warnx("%s: %s", item, err);
		return -1;
	}
	return 0;
}

static int
cli_add_exclude_item(struct cli *cli, const char *item)
{
	cli_strv_add(&cli->exclude, item);
	return 0;
}

static int
cli_hostfile_add(void *arg, const char *host, char *err, size_t errlen)
{
	struct cli *cli = arg;

	(void)err;
	(void)errlen;
	return cli_add_host_item(cli, host);
}

static int
cli_parse_hostfile(struct cli *cli, const char *path)
{
	char err[600];

	err[0] = '\0';
	if (hostfile_read(path, cli_hostfile_add, cli, err, sizeof err) == -1) {
		if (err[0] != '\0')
			cli_warnx("%s", err);
		return -1;
	}
	return 0;
}

static int
cli_exclude_one(const char *host, void *arg)
{
	cli_strv_add(arg, host);
	return 0;
}

/* Drop the excluded hosts from the explicit list, keeping the order. */
static int
cli_apply_exclude(struct cli *cli)
{
	struct cli_hosts kept;
	char err[600];
	size_t i, j;

	if (cli->exclude.n == 0)
		return 0;
	for (i = 0; i < cli->exclude.n; i++) {
		if (sp_hostset_expand(cli->exclude.v[i], cli_exclude_one,
				      &cli->exclude_expanded, CLI_MAX_EXPAND,
				      err, sizeof err) == -1) {
			cli_warnx("-x %s: %s", cli->exclude.v[i], err);
			return -1;
		}
	}
	memset(&kept, 0, sizeof kept);
	for (i = 0; i < cli->hosts.n; i++) {
		if (sp_host_excluded(
			cli->hosts.v[i].name,
			(const char *const *)cli->exclude_expanded.v,
			cli->exclude_expanded.n))
			continue;
		j = cli_hosts_add(&kept, cli->hosts.v[i].name);
		kept.v[j].arg = cli->hosts.v[i].arg;
		cli->hosts.v[i].arg = NULL;
	}
	cli_hosts_free(&cli->hosts);
	cli->hosts = kept;
	return 0;
}

/* ---- Terminal output ---- */

static const char *const cli_colors[] = {
    "\033[1;31m", "\033[1;32m", "\033[1;33m",
    "\033[1;34m", "\033[1;35m", "\033[1;36m",
};
#define CLI_COLOR_RESET "\033[0m"

static void
cli_put_host(FILE *f, int color, const char *host)
{
	if (color)
		fprintf(f, "%s%s%s", cli_colors[cli_hash(host) % 6], host,
			CLI_COLOR_RESET);
	else
		fputs(host, f);
}

static void
cli_print_line(struct cli *cli, FILE *f, const char *host, const char *a,
	       size_t alen, const char *b, size_t blen)
{
	cli_progress_clear(cli);
	cli_put_host(f, f == stdout ? cli->color_out : cli->color_err, host);
	fputs(": ", f);
	/* An empty part may be a NULL buffer, which fwrite must not get. */
	if (alen > 0)
		fwrite(a, 1, alen, f);
	if (blen > 0)
		fwrite(b, 1, blen, f);
	fputc('\n', f);
	if (cli->progress)
		fflush(f);
}

/* Print every complete line of data with the host prefix; keep the rest
 * until more data or the host's end. */
static void
cli_output_live(struct cli *cli, FILE *f, const char *host, struct cli_buf *b,
		const char *data, size_t len)
{
	const char *nl;
	size_t n;

	while ((nl = memchr(data, '\n', len)) != NULL) {
		n = (size_t)(nl - data);
		cli_print_line(cli, f, host, b->data, b->len, data, n);
		b->len = 0;
		data += n + 1;
		len -= n + 1;
	}
	cli_buf_add(b, data, len);
	if (b->len > CLI_MAX_PARTIAL) {
		cli_print_line(cli, f, host, b->data, b->len, "", 0);
		b->len = 0;
	}
}

static void
cli_output_flush(struct cli *cli, struct cli_host *h)
{
	if (cli->mode != MODE_LIVE)
		return;
	if (h->out.len > 0)
		cli_print_line(cli, stdout, h->name, h->out.data, h->out.len,
			       "", 0);
	if (h->err.len > 0)
		cli_print_line(cli, stderr, h->name, h->err.data, h->err.len,
			       "", 0);
	h->out.len = h->err.len = 0;
}

/* ---- Progress line ---- */

static void
cli_progress_clear(struct cli *cli)
{
	if (!cli->progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	cli->progress_shown = 0;
}

static void
cli_progress_draw(struct cli *cli, int force)
{
	long long now = cli_now_ms();
	size_t total = cli->hosts.n;

	if (!cli->progress)
		return;
	if (!force && now - cli->last_draw_ms < CLI_PROGRESS_MS)
		return;
	cli->last_draw_ms = now;
	fflush(stdout);
	if (total < cli->ndone)
		total = cli->ndone;
	fprintf(stderr, "\r\033[K[%zu/%zu%s] %zu failed, %.1fs", cli->ndone,
		total,
		cli->groups.n > 0 && cli->reqs_done < cli->nreqs ? "+" : "",
		cli->nfailed, (double)(now - cli->start_ms) / 1000);
	fflush(stderr);
	cli->progress_shown = 1;
}

/* ---- Output files (-o, -e) ---- */

/* Host specs never hold '/', but "." and ".." would name directories. */
static void
cli_file_path(char *buf, size_t size, const char *dir, const char *host)
{
	snprintf(buf, size, "%s/%s%s", dir, host[0] == '.' ? "_" : "", host);
}

static void
cli_file_write(const char *dir, const char *host, int create, const void *data,
	       size_t len)
{
	char path[PATH_MAX];
	const char *p = data;
	ssize_t n;
	int fd;

	cli_file_path(path, sizeof path, dir, host);
	fd =
	    open(path,
		 O_WRONLY | O_CREAT | O_CLOEXEC | (create ? O_TRUNC : O_APPEND),
		 0644);
	if (fd == -1) {
		cli_warnx("%s: %s", path, strerror(errno));
		return;
	}
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			cli_warnx("%s: %s", path, strerror(errno));
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

/* Files are made (empty) for every host that gets a result, as pssh. */
static void
cli_files_make(struct cli *cli, struct cli_host *h)
{
	if (h->files_made)
		return;
	h->files_made = 1;
	if (cli->outdir != NULL)
		cli_file_write(cli->outdir, h->name, 1, "", 0);
	if (cli->errdir != NULL)
		cli_file_write(cli->errdir, h->name, 1, "", 0);
}

static int
cli_make_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		cli_warnx("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		cli_warnx("%s: not a directory", dir);
		return -1;
	}
	return 0;
}

/* ---- Signals ---- */

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

/* ---- Requests ---- */

static struct cli_req *
cli_req_by_id(struct cli *cli, uint64_t id)
{
	size_t i;

	/* Requests in flight are few; scan from the newest sent. */
	for (i = cli->next_req; i-- > 0;) {
		if (cli->reqs[i].id == id && cli->reqs[i].state != REQ_QUEUED)
			return &cli->reqs[i];
	}
	return NULL;
}

static size_t
cli_req_hash(const char *command, const unsigned char *data, size_t len,
	     int has_stdin)
{
	size_t h = cli_hash(command);

	h = cli_hash_bytes(h, &has_stdin, sizeof has_stdin);
	return cli_hash_bytes(h, data, len);
}

/* The group of hosts sharing command and stdin (created if new). */
static size_t
cli_req_group(struct cli *cli, char *command, unsigned char *data, size_t len,
	      int has_stdin)
{
	struct cli_req *r;
	size_t h, i, slot;

	if (cli->reqhashsize == 0) {
		cli->reqhashsize = 1024;
		cli->reqhash =
		    cli_xcalloc(cli->reqhashsize, sizeof *cli->reqhash);
	}
	h = cli_req_hash(command, data, len, has_stdin) &
	    (cli->reqhashsize - 1);
	for (slot = cli->reqhash[h]; slot != 0; slot = r->hash_next) {
		r = &cli->reqs[slot - 1];
		if (r->has_stdin == has_stdin && r->stdin_len == len &&
		    strcmp(r->command, command) == 0 &&
		    (len == 0 || memcmp(r->stdin_data, data, len) == 0)) {
			free(command);
			free(data);
			return slot - 1;
		}
	}
	if (cli->nreqs == cli->reqcap) {
		cli->reqcap = cli->reqcap == 0 ? 16 : cli->reqcap * 2;
		cli->reqs =
		    cli_xrealloc(cli->reqs, cli->reqcap * sizeof *cli->reqs);
	}
	i = cli->nreqs++;
	r = &cli->reqs[i];
	memset(r, 0, sizeof *r);
	r->command = command;
	r->stdin_data = data;
	r->stdin_len = len;
	r->has_stdin = has_stdin;
	r->hash_next = cli->reqhash[h];
	cli->reqhash[h] = i + 1;
	return i;
}

static void
cli_req_add_host(struct cli_req *r, size_t host)
{
	if (r->nhosts == r->cap) {
		r->cap = r->cap == 0 ? 16 : r->cap * 2;
		r->hosts = cli_xrealloc(r->hosts, r->cap * sizeof *r->hosts);
	}
	r->hosts[r->nhosts++] = host;
}

static void
cli_reqs_free(struct cli *cli)
{
	size_t i;

	for (i = 0; i < cli->nreqs; i++) {
		free(cli->reqs[i].command);
		free(cli->reqs[i].stdin_data);
		free(cli->reqs[i].hosts);
	}
	free(cli->reqs);
	free(cli->reqhash);
}

static void
cli_request_error(struct cli *cli, const sp_event *ev)
{
	char why[1200];

	snprintf(why, sizeof why, "%s: %s", sp_event_error_code(ev),
		 sp_event_message(ev));
	if (cli->req_error == NULL)
		cli->req_error = cli_xstrdup(why);
}

/* ---- Results ---- */

static int
cli_host_finished(const struct cli_host *h)
{
	return h->state != HOST_PENDING && h->state != HOST_STARTED;
}

static int
cli_host_ok(const struct cli_host *h)
{
	return (h->state == HOST_EXIT && h->status == 0) ||
	       h->state == HOST_CONNECTED || h->state == HOST_DISCONNECTED;
}

static void
cli_result_text(const struct cli_host *h, char *buf, size_t size)
{
	switch (h->state) {
	case HOST_EXIT:
		snprintf(buf, size, "exit %d", h->status);
		break;
	case HOST_SIGNAL:
		snprintf(buf, size, "signal %s", h->code);
		break;
	case HOST_ERROR:
		snprintf(buf, size, "%s", h->code);
		break;
	case HOST_CONNECTED:
		snprintf(buf, size, "connected");
		break;
	case HOST_DISCONNECTED:
		snprintf(buf, size, "disconnected");
		break;
	case HOST_SKIPPED:
		snprintf(buf, size, "not started");
		break;
	default:
		snprintf(buf, size, "no result");
		break;
	}
}

/* pssh -i: "[N] HH:MM:SS [SUCCESS] host", then the output. */
static void
cli_print_inline(struct cli *cli, struct cli_host *h)
{
	char result[128], stamp[16];
	time_t t = time(NULL);
	struct tm tm;
	int ok = cli_host_ok(h), color = cli->color_out;

	cli_progress_clear(cli);
	localtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	printf("[%zu] %s %s[%s]%s ", ++cli->inline_seq, stamp,
	       color ? (ok ? "\033[32m" : "\033[31m") : "",
	       ok ? "SUCCESS" : "FAILURE", color ? CLI_COLOR_RESET : "");
	cli_put_host(stdout, color, h->name);
	if (!ok) {
		cli_result_text(h, result, sizeof result);
		printf(" %s", result);
		if (h->message != NULL && h->message[0] != '\0')
			printf(": %s", h->message);
	}
	putchar('\n');
	if (cli->mode != MODE_INLINE)
		return;
	if (h->out.len > 0) {
		fwrite(h->out.data, 1, h->out.len, stdout);
		if (h->out.data[h->out.len - 1] != '\n')
			putchar('\n');
	}
	if (h->err.len > 0) {
		fputs("Stderr: ", stdout);
		fwrite(h->err.data, 1, h->err.len, stdout);
		if (h->err.data[h->err.len - 1] != '\n')
			putchar('\n');
	}
	if (h->truncated)
		printf("(output truncated at %u bytes)\n", CLI_MAX_KEPT);
	fflush(stdout);
}

static void cli_stop(struct cli *);

/* A host reached its terminal event. */
static void
cli_host_done(struct cli *cli, struct cli_host *h)
{
	cli->ndone++;
	if (!cli_host_ok(h))
		cli->nfailed++;
	if (cli->outdir != NULL || cli->errdir != NULL)
		cli_files_make(cli, h);
	if (!cli->json) {
		cli_output_flush(cli, h);
		if (cli->mode == MODE_INLINE ||
		    (cli->mode == MODE_LIVE &&
		     (cli->outdir != NULL || cli->errdir != NULL)))
			cli_print_inline(cli, h);
	}
	if (cli->stop_on_error && !cli_host_ok(h) && !cli->stopping)
		cli_stop(cli);
}

static void
cli_host_set_error(struct cli_host *h, const sp_event *ev)
{
	free(h->code);
	free(h->message);
	h->code = cli_xstrdup(sp_event_error_code(ev));
	h->message = cli_xstrdup(sp_event_message(ev));
	h->duration_ms = sp_event_duration_ms(ev);
	h->state = HOST_ERROR;
}

static struct cli_host *
cli_event_host(struct cli *cli, const sp_event *ev)
{
	const char *name = sp_event_host(ev);

	if (name == NULL)
		return NULL;
	/* Members of groups are learnt from their events. */
	return &cli->hosts.v[cli_hosts_add(&cli->hosts, name)];
}

static void
cli_keep(struct cli_host *h, struct cli_buf *b, const void *data, size_t len)
{
	if (h->out.len + h->err.len + len > CLI_MAX_KEPT) {
		h->truncated = 1;
		return;
	}
	cli_buf_add(b, data, len);
}

static void
cli_output_event(struct cli *cli, struct cli_host *h, const sp_event *ev)
{
	int is_err = sp_event_type(ev) == SP_EV_STDERR;
	const char *dir = is_err ? cli->errdir : cli->outdir;
	const void *data;
	size_t len;

	data = sp_event_data(ev, &len);
	if (dir != NULL) {
		cli_file_write(dir, h->name, 0, data, len);
	}
	if (cli->json)
		return;
	if (cli->mode == MODE_LIVE) {
		if (dir == NULL)
			cli_output_live(cli, is_err ? stderr : stdout, h->name,
					is_err ? &h->err : &h->out, data, len);
		return;
	}
	cli_keep(h, is_err ? &h->err : &h->out, data, len);
}

static void
cli_handle_event(struct cli *cli, const sp_event *ev)
{
	struct cli_host *h = cli_event_host(cli, ev);

	if (h == NULL) {
		if (sp_event_type(ev) == SP_EV_ERROR)
			cli_request_error(cli, ev);
		return;
	}
	if (cli_host_finished(h) && h->state != HOST_SKIPPED)
		return; /* a protocol breach; keep the first result */
	switch (sp_event_type(ev)) {
	case SP_EV_START:
		h->state = HOST_STARTED;
		if ((cli->outdir != NULL || cli->errdir != NULL))
			cli_files_make(cli, h);
		break;
	case SP_EV_STDOUT:
	case SP_EV_STDERR:
		if ((cli->outdir != NULL || cli->errdir != NULL))
			cli_files_make(cli, h);
		cli_output_event(cli, h, ev);
		break;
	case SP_EV_EXIT:
		if (sp_event_signal(ev) != NULL) {
			h->state = HOST_SIGNAL;
			free(h->code);
			h->code = cli_xstrdup(sp_event_signal(ev));
		} else {
			h->state = HOST_EXIT;
			h->status = sp_event_exit_status(ev);
		}
		h->duration_ms = sp_event_duration_ms(ev);
		cli_host_done(cli, h);
		break;
	case SP_EV_ERROR:
		cli_host_set_error(h, ev);
		cli_host_done(cli, h);
		break;
	case SP_EV_CONNECTED:
		h->state = HOST_CONNECTED;
		h->sessions = sp_event_sessions(ev);
		h->duration_ms = sp_event_duration_ms(ev);
		cli_host_done(cli, h);
		break;
	case SP_EV_DISCONNECTED:
		h->state = HOST_DISCONNECTED;
		h->sessions = sp_event_sessions(ev);
		h->draining = sp_event_draining(ev);
		h->duration_ms = sp_event_duration_ms(ev);
		cli_host_done(cli, h);
		break;
	default:
		break;
	}
}

/* --stop-on-error and interrupts: cancel what runs, send nothing more. */
static void
cli_stop(struct cli *cli)
{
	struct cli_req *r;
	size_t i, k;
	uint64_t cancel_id;

	cli->stopping = 1;
	for (i = 0; i < cli->nreqs; i++) {
		r = &cli->reqs[i];
		if (r->state == REQ_SENT)
			(void)sp_send_cancel(cli->c, r->id, &cancel_id);
		else if (r->state == REQ_QUEUED) {
			r->state = REQ_DONE;
			cli->reqs_done++;
			for (k = 0; k < r->nhosts; k++)
				cli->hosts.v[r->hosts[k]].state = HOST_SKIPPED;
		}
	}
	cli->next_req = cli->nreqs;
}

typedef int (*cli_sender)(struct cli *, struct cli_req *);

/* Send queued requests while fewer than CLI_MAX_INFLIGHT run. */
static int
cli_send_more(struct cli *cli, cli_sender send)
{
	struct cli_req *r;

	while (!cli->stopping && cli->next_req < cli->nreqs &&
	       cli->inflight < CLI_MAX_INFLIGHT) {
		r = &cli->reqs[cli->next_req++];
		if (send(cli, r) == -1)
			return -1;
		r->state = REQ_SENT;
		cli->inflight++;
	}
	return 0;
}

/*
 * Run until every request got its final event.  The first interrupt
 * cancels what runs and keeps waiting for the hosts to end; a second one
 * quits.
 */
static void
cli_loop(struct cli *cli, cli_sender send)
{
	struct pollfd pfd[2];
	struct cli_req *r;
	sp_event *ev;
	int r_ev, interrupts = 0, timeout;
	char buf[64];

	for (;;) {
		if (cli_send_more(cli, send) == -1) {
			cli_warnx("%s", sp_client_error(cli->c));
			cli->lost = 1;
			cli_stop(cli);
			return;
		}
		while ((r_ev = sp_next_event(cli->c, &ev)) == 1) {
			r = cli_req_by_id(cli, sp_event_request_id(ev));
			if (cli->json && r != NULL) {
				size_t len;
				const char *line = sp_event_json(ev, &len);

				fwrite(line, 1, len, stdout);
				fputc('\n', stdout);
			}
			if (r != NULL && r->state == REQ_SENT) {
				cli_handle_event(cli, ev);
				if (sp_event_is_final(ev)) {
					r->state = REQ_DONE;
					cli->inflight--;
					cli->reqs_done++;
				}
			}
			sp_event_free(ev);
		}
		if (!cli->progress)
			fflush(stdout);
		if (cli->reqs_done == cli->nreqs)
			return;
		if (r_ev == -1) {
			cli_progress_clear(cli);
			cli_warnx("%s", sp_client_error(cli->c));
			cli->lost = 1;
			return;
		}
		if (cli_send_more(cli, send) == -1)
			continue;
		cli_progress_draw(cli, 0);
		pfd[0].fd = sp_fd(cli->c);
		pfd[0].events = POLLIN | (sp_want_write(cli->c) ? POLLOUT : 0);
		pfd[1].fd = cli_sigpipe[0];
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		timeout = cli->progress ? CLI_PROGRESS_MS : -1;
		if (poll(pfd, cli_sigpipe[0] != -1 ? 2 : 1, timeout) == -1) {
			if (errno == EINTR)
				continue;
			cli_warnx("poll: %s", strerror(errno));
			cli->lost = 1;
			return;
		}
		if (pfd[1].revents & POLLIN) {
			while (read(cli_sigpipe[0], buf, sizeof buf) > 0)
				;
			cli_progress_clear(cli);
			if (++interrupts > 1) {
				cli_warnx("interrupted");
				exit(CLI_EXIT_INTERRUPTED);
			}
			cli_stop(cli);
			cli_warnx("cancelling (interrupt again to quit)");
		}
		if (pfd[0].revents & POLLOUT)
			(void)sp_flush(cli->c);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			(void)sp_consume(cli->c);
	}
}

/* ---- Summary ---- */

static int
cli_write_failed_hosts(struct cli *cli)
{
	FILE *f;
	size_t i;

	if ((f = fopen(cli->failed_hosts, "w")) == NULL) {
		cli_warnx("%s: %s", cli->failed_hosts, strerror(errno));
		return -1;
	}
	for (i = 0; i < cli->hosts.n; i++) {
		if (!cli_host_ok(&cli->hosts.v[i]))
			fprintf(f, "%s\n", cli->hosts.v[i].name);
	}
	if (fclose(f) == EOF) {
		cli_warnx("%s: %s", cli->failed_hosts, strerror(errno));
		return -1;
	}
	return 0;
}

static const char *
cli_result_word(const struct cli_host *h)
{
	switch (h->state) {
	case HOST_EXIT:
		return h->status == 0 ? "ok" : "failed";
	case HOST_SIGNAL:
		return "failed";
	case HOST_CONNECTED:
	case HOST_DISCONNECTED:
		return "ok";
	case HOST_ERROR:
		return strcmp(h->code, "cancelled") == 0 ? "cancelled"
							 : "error";
	case HOST_SKIPPED:
		return "skipped";
	default:
		return "error";
	}
}

/* The table of hosts that did not succeed (all with -v), then counts. */
static void
cli_summary_table(struct cli *cli)
{
	struct cli_host *h;
	size_t i, w = 4, len, shown = 0;
	char result[128], dur[32];

	for (i = 0; i < cli->hosts.n; i++) {
		h = &cli->hosts.v[i];
		if ((cli->verbose || !cli_host_ok(h)) &&
		    (len = strlen(h->name)) > w)
			w = len;
	}
	if (w > CLI_SUMMARY_HOST_WIDTH)
		w = CLI_SUMMARY_HOST_WIDTH;
	for (i = 0; i < cli->hosts.n; i++) {
		h = &cli->hosts.v[i];
		if (!cli->verbose && cli_host_ok(h))
			continue;
		if (shown++ == 0)
			fprintf(stderr, "%-*s  %-9s  %-16s  %8s  %s\n", (int)w,
				"HOST", "RESULT", "CODE", "TIME", "MESSAGE");
		cli_result_text(h, result, sizeof result);
		if (h->duration_ms >= 0 && cli_host_finished(h) &&
		    h->state != HOST_SKIPPED)
			snprintf(dur, sizeof dur, "%.3fs",
				 (double)h->duration_ms / 1000);
		else
			snprintf(dur, sizeof dur, "-");
		fprintf(stderr, "%-*s  %-9s  %-16s  %8s  %s\n", (int)w, h->name,
			cli_result_word(h), result, dur,
			h->message != NULL ? h->message : "");
	}
}

/* Counts, the summary, the failed-hosts file; returns the exit status. */
static int
cli_finish(struct cli *cli, const char *okword, int is_run)
{
	size_t i, ok = 0, failed = 0, errors = 0;
	struct cli_host *h;
	int worst = 0;

	for (i = 0; i < cli->hosts.n; i++) {
		h = &cli->hosts.v[i];
		if (cli_host_ok(h))
			ok++;
		else if (h->state == HOST_EXIT) {
			failed++;
			if (h->status > worst)
				worst = h->status;
		} else if (h->state == HOST_SIGNAL) {
			failed++;
			worst = CLI_EXIT_HOST_ERROR;
		} else {
			errors++;
			worst = CLI_EXIT_HOST_ERROR;
		}
	}
	if (cli->req_error != NULL || cli->lost)
		worst = CLI_EXIT_HOST_ERROR;
	cli_progress_clear(cli);
	fflush(stdout);
	if (cli->req_error != NULL)
		cli_warnx("%s", cli->req_error);
	if (!cli->json) {
		cli_summary_table(cli);
		fprintf(stderr, "%zu hosts: %zu %s, %zu failed, %zu errors\n",
			cli->hosts.n, ok, okword, failed, errors);
	}
	if (cli->failed_hosts != NULL && cli_write_failed_hosts(cli) == -1 &&
	    worst == 0)
		worst = CLI_EXIT_FAILED;
	if (!is_run)
		return worst == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	if (worst > CLI_EXIT_HOST_ERROR || worst < 0)
		worst = CLI_EXIT_HOST_ERROR;
	return worst;
}

/* ---- Gathered output (-b) ---- */

struct cli_block {
	size_t first; /* host index of the first member */
	size_t *members;
	size_t n, cap;
};

static int
cli_same_output(const struct cli_host *a, const struct cli_host *b)
{
	char ra[128], rb[128];

	cli_result_text(a, ra, sizeof ra);
	cli_result_text(b, rb, sizeof rb);
	return strcmp(ra, rb) == 0 && a->out.len == b->out.len &&
	       a->err.len == b->err.len &&
	       (a->out.len == 0 ||
		memcmp(a->out.data, b->out.data, a->out.len) == 0) &&
	       (a->err.len == 0 ||
		memcmp(a->err.data, b->err.data, a->err.len) == 0);
}

static size_t
cli_output_hash(const struct cli_host *h)
{
	char r[128];
	size_t x;

	cli_result_text(h, r, sizeof r);
	x = cli_hash(r);
	x = cli_hash_bytes(x, h->out.data, h->out.len);
	return cli_hash_bytes(x ^ 1, h->err.data, h->err.len);
}

static void
cli_print_gathered(struct cli *cli)
{
	struct cli_block *blocks = NULL, *b;
	size_t nblocks = 0, i, k, tabsize, *tab, slot, hash;
	const char **names;
	struct cli_host *h, *f;
	char result[128], *list;

	tabsize = 64;
	while (tabsize < 2 * cli->hosts.n)
		tabsize *= 2;
	tab = cli_xcalloc(tabsize, sizeof *tab);
	blocks = cli_xcalloc(cli->hosts.n + 1, sizeof *blocks);
	for (i = 0; i < cli->hosts.n; i++) {
		h = &cli->hosts.v[i];
		if (!cli_host_finished(h) || h->state == HOST_SKIPPED)
			continue;
		/* Quiet successes print nothing, as clush -b. */
		if (cli_host_ok(h) && h->out.len == 0 && h->err.len == 0)
			continue;
		hash = cli_output_hash(h);
		for (slot = hash & (tabsize - 1); tab[slot] != 0;
		     slot = (slot + 1) & (tabsize - 1)) {
			f = &cli->hosts.v[blocks[tab[slot] - 1].first];
			if (cli_same_output(f, h))
				break;
		}
		if (tab[slot] == 0) {
			blocks[nblocks].first = i;
			tab[slot] = ++nblocks;
		}
		b = &blocks[tab[slot] - 1];
		if (b->n == b->cap) {
			b->cap = b->cap == 0 ? 4 : b->cap * 2;
			b->members = cli_xrealloc(b->members,
						  b->cap * sizeof *b->members);
		}
		b->members[b->n++] = i;
	}
	for (i = 0; i < nblocks; i++) {
		names = cli_xcalloc(blocks[i].n, sizeof *names);
		for (k = 0; k < blocks[i].n; k++)
			names[k] = cli->hosts.v[blocks[i].members[k]].name;
		if ((list = hostlist_fold(names, blocks[i].n)) == NULL)
			cli_nomem();
		f = &cli->hosts.v[blocks[i].first];
		printf("---------------\n");
		cli_put_host(stdout, cli->color_out, list);
		printf(" (%zu)", blocks[i].n);
		if (!cli_host_ok(f)) {
			cli_result_text(f, result, sizeof result);
			printf(" %s", result);
		}
		printf("\n---------------\n");
		if (f->out.len > 0) {
			fwrite(f->out.data, 1, f->out.len, stdout);
			if (f->out.data[f->out.len - 1] != '\n')
				putchar('\n');
		}
		fflush(stdout);
		if (f->err.len > 0) {
			fwrite(f->err.data, 1, f->err.len, stderr);
			if (f->err.data[f->err.len - 1] != '\n')
				fputc('\n', stderr);
			fflush(stderr);
		}
		free(list);
		free(names);
		free(blocks[i].members);
	}
	free(blocks);
	free(tab);
}

/* ---- Option parsing shared by run, connect and disconnect ---- */

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
	OPT_FAILED_HOSTS
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
};

static int
cli_seconds(const char *opt, const char *arg, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !isfinite(*out) ||
	    *out <= 0 || *out > 604800) {
		cli_warnx("%s %s: expected seconds > 0 and <= 604800", opt,
			  arg);
		return -1;
	}
	return 0;
}

/* Options common to every host command; 1 if ch was one, -1 on error. */
static int
cli_host_option(struct cli *cli, int ch, const char *arg)
{
	switch (ch) {
	case 'H':
		return cli_split_list(arg, cli_add_host_item, cli) == -1 ? -1
									 : 1;
	case 'h':
		return cli_parse_hostfile(cli, arg) == -1 ? -1 : 1;
	case 'x':
		return cli_split_list(arg, cli_add_exclude_item, cli) == -1 ? -1
									    : 1;
	case 'l':
		cli->user = arg;
		return 1;
	case OPT_JSON:
		cli->json = 1;
		return 1;
	case 'v':
		cli->verbose = 1;
		return 1;
	case OPT_FAILED_HOSTS:
		cli->failed_hosts = arg;
		return 1;
	default:
		return 0;
	}
}

static int
cli_read_fd(int fd, const char *name, size_t max, char **out, size_t *outlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (len == cap) {
			if (cap > max) {
				cli_warnx("%s: larger than %zu bytes", name,
					  max);
				free(buf);
				return -1;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			buf = cli_xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			cli_warnx("%s: %s", name, strerror(errno));
			free(buf);
			return -1;
		}
		len += (size_t)n;
	}
	if (len > max) {
		cli_warnx("%s: larger than %zu bytes", name, max);
		free(buf);
		return -1;
	}
	if (buf == NULL)
		buf = cli_xrealloc(NULL, 1);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

static int
cli_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	int fd, rc;

	if (strcmp(path, "-") == 0)
		return cli_read_fd(STDIN_FILENO, "stdin", max, out, outlen);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cli_warnx("%s: %s", path, strerror(errno));
		return -1;
	}
	rc = cli_read_fd(fd, path, max, out, outlen);
	close(fd);
	return rc;
}

/* -A FILE: "host value" lines; the value is the rest of the line. */
static int
cli_load_args_file(struct cli *cli, const char *path, int add_hosts)
{
	char *text, *line, *next, *p, *host;
	size_t len, lineno = 0, idx;

	if (cli_read_file(path, CLI_MAX_FILE, &text, &len) == -1)
		return -1;
	for (line = text; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((p = strchr(line, '\r')) != NULL && p[1] == '\0')
			*p = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		host = line;
		p = host + strcspn(host, " \t");
		if (*p != '\0') {
			*p++ = '\0';
			p += strspn(p, " \t");
		}
		if (add_hosts) {
			if (cli_add_host_item(cli, host) == -1)
				goto fail;
		}
		if ((idx = cli_hosts_find(&cli->hosts, host)) == SIZE_MAX)
			continue;
		free(cli->hosts.v[idx].arg);
		cli->hosts.v[idx].arg = cli_xstrdup(p);
	}
	free(text);
	return 0;
fail:
	cli_warnx("%s:%zu: bad host", path, lineno);
	free(text);
	return -1;
}

/* --host-args FILE: a JSON object {"host": "value", ...}. */
static int
cli_load_args_json(struct cli *cli, const char *path, int add_hosts)
{
	json_tokener *tok;
	json_object *root;
	char *text;
	size_t len, idx;
	int rc = -1;

	if (cli_read_file(path, CLI_MAX_FILE, &text, &len) == -1)
		return -1;
	if (len > INT_MAX || (tok = json_tokener_new()) == NULL) {
		cli_warnx("%s: cannot parse", path);
		free(text);
		return -1;
	}
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		cli_warnx("%s: expected a JSON object {\"host\": \"value\"}",
			  path);
		goto out;
	}
	json_object_object_foreach(root, key, val)
	{
		const char *v;

		if (json_object_is_type(val, json_type_string) ||
		    json_object_is_type(val, json_type_int) ||
		    json_object_is_type(val, json_type_double))
			v = json_object_get_string(val);
		else {
			cli_warnx("%s: %s: expected a string", path, key);
			goto out;
		}
		if (add_hosts && cli_add_host_item(cli, key) == -1)
			goto out;
		if ((idx = cli_hosts_find(&cli->hosts, key)) == SIZE_MAX)
			continue;
		free(cli->hosts.v[idx].arg);
		cli->hosts.v[idx].arg = cli_xstrdup(v);
	}
	rc = 0;
out:
	json_object_put(root);
	json_tokener_free(tok);
	free(text);
	return rc;
}

/* Join the command words with spaces, as ssh does. */
static char *
cli_join(int argc, char **argv)
{
	struct cli_buf b;
	int i;

	memset(&b, 0, sizeof b);
	for (i = 0; i < argc; i++) {
		if (i > 0)
			cli_buf_add(&b, " ", 1);
		cli_buf_add(&b, argv[i], strlen(argv[i]));
	}
	cli_buf_add(&b, "", 1);
	return b.data;
}

/* Replace {host} and {arg}. */
static char *
cli_render(const char *tmpl, const char *host, const char *arg)
{
	struct cli_buf b;
	const char *p = tmpl, *q;

	memset(&b, 0, sizeof b);
	while ((q = strchr(p, '{')) != NULL) {
		cli_buf_add(&b, p, (size_t)(q - p));
		if (strncmp(q, "{host}", 6) == 0) {
			cli_buf_add(&b, host, strlen(host));
			p = q + 6;
		} else if (arg != NULL && strncmp(q, "{arg}", 5) == 0) {
			cli_buf_add(&b, arg, strlen(arg));
			p = q + 5;
		} else {
			cli_buf_add(&b, "{", 1);
			p = q + 1;
		}
	}
	cli_buf_add(&b, p, strlen(p) + 1);
	return b.data;
}

/* Single-quote for a POSIX shell: ' becomes '\''. */
static void
cli_quote(struct cli_buf *b, const char *s)
{
	const char *q;

	cli_buf_add(b, "'", 1);
	while ((q = strchr(s, '\'')) != NULL) {
		cli_buf_add(b, s, (size_t)(q - s));
		cli_buf_add(b, "'\\''", 4);
		s = q + 1;
	}
	cli_buf_add(b, s, strlen(s));
	cli_buf_add(b, "'", 1);
}

/* --sudo and --shell: sudo -n -u USER -- SHELL -c 'CMD'. */
static char *
cli_wrap(const struct cli_runopts *ro, char *cmd)
{
	struct cli_buf b;

	if (!ro->sudo && ro->shell == NULL)
		return cmd;
	memset(&b, 0, sizeof b);
	if (ro->sudo) {
		cli_buf_add(&b, "sudo -n -u ", 11);
		cli_quote(&b, ro->sudo_user != NULL ? ro->sudo_user : "root");
		cli_buf_add(&b, " -- ", 4);
	}
	if (ro->shell != NULL)
		cli_quote(&b, ro->shell);
	else
		cli_buf_add(&b, "sh", 2);
	cli_buf_add(&b, " -c ", 4);
	cli_quote(&b, cmd);
	cli_buf_add(&b, "", 1);
	free(cmd);
	return b.data;
}

/* -I DIR: the host's input is the file DIR/HOST, which must exist. */
static int
cli_host_stdin(const char *dir, const char *host, unsigned char **data,
	       size_t *len, size_t max)
{
	char path[PATH_MAX];
	char *buf;

	cli_file_path(path, sizeof path, dir, host);
	if (cli_read_file(path, max, &buf, len) == -1)
		return -1;
	*data = (unsigned char *)buf;
	return 0;
}

/* Options with hosts, exclusions (for groups) and user; NULL on error. */
static sp_run_opts *
cli_opts_hosts(struct cli *cli, const struct cli_req *r)
{
	sp_run_opts *o;
	size_t i;

	if ((o = sp_run_opts_new()) == NULL)
		cli_nomem();
	if (r != NULL) {
		for (i = 0; i < r->nhosts; i++) {
			if (sp_run_opts_add_host(
				o, cli->hosts.v[r->hosts[i]].name) == -1)
				goto fail;
		}
	}
	/* Groups go with the first request; the daemon expands them. */
	if (r == NULL || r == &cli->reqs[0]) {
		for (i = 0; i < cli->groups.n; i++) {
			if (sp_run_opts_add_host(o, cli->groups.v[i]) == -1)
				goto fail;
		}
		for (i = 0; cli->groups.n > 0 && i < cli->exclude.n; i++) {
			if (sp_run_opts_add_exclude(o, cli->exclude.v[i]) == -1)
				goto fail;
		}
	}
	if (cli->user != NULL && sp_run_opts_set_user(o, cli->user) == -1)
		goto fail;
	return o;
fail:
	cli_warnx("%s", sp_run_opts_error(o));
	sp_run_opts_free(o);
	return NULL;
}

static int
cli_send_run(struct cli *cli, struct cli_req *r)
{
	sp_run_opts *o;
	char *eq;
	size_t i;
	int rc = -1;

	if ((o = cli_opts_hosts(cli, r)) == NULL)
		return -1;
	if (sp_run_opts_set_command(o, r->command) == -1 ||
	    sp_run_opts_set_timeout(o, cli->timeout) == -1 ||
	    sp_run_opts_set_idle_timeout(o, cli->idle_timeout) == -1 ||
	    sp_run_opts_set_pty(o, cli->pty) == -1 ||
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
cli_plan_run(struct cli *cli, const struct cli_runopts *ro, const char *tmpl,
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
		cmd = cli_wrap(ro, cli_xstrdup(tmpl));
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
		cmd = cli_wrap(ro, cli_render(tmpl, h->name, h->arg));
		if (strlen(cmd) > CLI_MAX_COMMAND) {
			cli_warnx("run: command for %s longer than %u bytes",
				  h->name, CLI_MAX_COMMAND);
			free(cmd);
			return -1;
		}
		data = NULL;
		len = 0;
		if (ro->stdin_dir != NULL) {
			if (cli_host_stdin(ro->stdin_dir, h->name, &data, &len,
					   max_stdin) == -1) {
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

static void
cli_output_setup(struct cli *cli, const struct cli_runopts *ro)
{
	int out_tty = isatty(STDOUT_FILENO), err_tty = isatty(STDERR_FILENO);
	const char *color = ro->color != NULL ? ro->color : "auto";

	if (strcmp(color, "always") == 0)
		cli->color_out = cli->color_err = 1;
	else if (strcmp(color, "auto") == 0) {
		cli->color_out = out_tty;
		cli->color_err = err_tty;
	}
	cli->progress = err_tty && !cli->json && !ro->no_progress;
	if (cli->json)
		cli->color_out = cli->color_err = 0;
}

static int
cli_run(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"host", required_argument, NULL, 'H'},
	    {"hosts", required_argument, NULL, 'h'},
	    {"exclude", required_argument, NULL, 'x'},
	    {"user", required_argument, NULL, 'l'},
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
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0}};
	struct cli_runopts ro;
	char *tmpl = NULL, *data = NULL;
	size_t datalen = 0, max_stdin;
	int ch, r, rc = CLI_EXIT_USAGE, has_stdin = 0;

	memset(&ro, 0, sizeof ro);
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+H:h:x:l:t:E:I:A:ibo:e:v",
				 longopts, NULL)) != -1) {
		if ((r = cli_host_option(cli, ch, optarg)) == -1)
			goto out;
		if (r == 1)
			continue;
		switch (ch) {
		case 't':
			if (cli_seconds("-t", optarg, &cli->timeout) == -1)
				goto out;
			break;
		case OPT_IDLE_TIMEOUT:
			if (cli_seconds("--idle-timeout", optarg,
					&cli->idle_timeout) == -1)
				goto out;
			break;
		case 'E':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
				cli_warnx("-E %s: expected NAME=VALUE", optarg);
				goto out;
			}
			cli_strv_add(&cli->env, optarg);
			break;
		case OPT_PTY:
			cli->pty = 1;
			break;
		case OPT_SUDO:
			ro.sudo = 1;
			ro.sudo_user = optarg;
			if (optarg != NULL && *optarg == '\0') {
				cli_warnx("--sudo=: empty user");
				goto out;
			}
			break;
		case OPT_SHELL:
			ro.shell = optarg;
			break;
		case OPT_STDIN:
			ro.read_stdin = 1;
			break;
		case OPT_STDIN_FILE:
			ro.stdin_file = optarg;
			break;
		case 'I':
			ro.stdin_dir = optarg;
			break;
		case 'A':
			ro.args_file = optarg;
			break;
		case OPT_HOST_ARGS:
			ro.args_json = optarg;
			break;
		case 'i':
			cli->mode = MODE_INLINE;
			break;
		case 'b':
			cli->mode = MODE_GATHER;
			break;
		case 'o':
			cli->outdir = optarg;
			break;
		case 'e':
			cli->errdir = optarg;
			break;
		case OPT_COLOR:
			if (strcmp(optarg, "auto") != 0 &&
			    strcmp(optarg, "always") != 0 &&
			    strcmp(optarg, "never") != 0) {
				cli_warnx("--color %s: expected auto, always "
					  "or never",
					  optarg);
				goto out;
			}
			ro.color = optarg;
			break;
		case OPT_NO_PROGRESS:
			ro.no_progress = 1;
			break;
		case OPT_STOP_ON_ERROR:
			cli->stop_on_error = 1;
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
	if ((ro.read_stdin != 0) + (ro.stdin_file != NULL) +
		(ro.stdin_dir != NULL) >
	    1) {
		cli_warnx("run: use one of --stdin, --stdin-file and -I");
		goto out;
	}
	if (ro.args_file != NULL && ro.args_json != NULL) {
		cli_warnx("run: use one of -A and --host-args");
		goto out;
	}
	/* Without -H/-h the argument files name the hosts. */
	r = cli->hosts.n == 0 && cli->groups.n == 0;
	if (ro.args_file != NULL &&
	    cli_load_args_file(cli, ro.args_file, r) == -1)
		goto out;
	if (ro.args_json != NULL &&
	    cli_load_args_json(cli, ro.args_json, r) == -1)
		goto out;
	if (cli_apply_exclude(cli) == -1)
		goto out;
	if (cli->hosts.n == 0 && cli->groups.n == 0) {
		cli_warnx("run: no hosts (use -H or -h)");
		goto out;
	}
	tmpl = cli_join(argc - optind, argv + optind);
	if (strlen(tmpl) > CLI_MAX_COMMAND) {
		cli_warnx("run: command longer than %u bytes", CLI_MAX_COMMAND);
		goto out;
	}
	if ((cli->outdir != NULL && cli_make_dir(cli->outdir) == -1) ||
	    (cli->errdir != NULL && cli_make_dir(cli->errdir) == -1))
		goto out;
	if (cli_connect(cli) == -1)
		goto out;
	max_stdin = sp_server_max_stdin(cli->c);
	if (max_stdin == 0 || max_stdin > CLI_MAX_STDIN)
		max_stdin = CLI_MAX_STDIN;
	if (ro.read_stdin) {
		if (isatty(STDIN_FILENO)) {
			cli_warnx("run: --stdin: standard input is a "
				  "terminal");
			goto out;
		}
		if (cli_read_fd(STDIN_FILENO, "stdin", max_stdin, &data,
				&datalen) == -1)
			goto out;
		has_stdin = 1;
	} else if (ro.stdin_file != NULL) {
		if (cli_read_file(ro.stdin_file, max_stdin, &data, &datalen) ==
		    -1)
			goto out;
		has_stdin = 1;
	}
	if (cli_plan_run(cli, &ro, tmpl, (unsigned char *)data, datalen,
			 has_stdin, max_stdin) == -1)
		goto out;
	cli_output_setup(cli, &ro);
	if (cli_catch_interrupts() == -1) {
		rc = CLI_EXIT_FAILED;
		goto out;
	}
	cli->start_ms = cli_now_ms();
	/* The first request must go out or nothing will. */
	if (cli_send_more(cli, cli_send_run) == -1 && cli->inflight == 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	cli_loop(cli, cli_send_run);
	cli_progress_clear(cli);
	if (cli->mode == MODE_GATHER && !cli->json)
		cli_print_gathered(cli);
	rc = cli_finish(cli, "ok", 1);
out:
	free(tmpl);
	free(data);
	return rc;
}

/* ---- connect, disconnect ---- */

static int
cli_send_connect(struct cli *cli, struct cli_req *r)
{
	sp_run_opts *o;
	int rc;

	if ((o = cli_opts_hosts(cli, r)) == NULL)
		return -1;
	if (strcmp(cli->cmdname, "disconnect") == 0)
		rc = sp_send_disconnect(cli->c, o, &r->id);
	else
		rc = sp_send_connect_opts(cli->c, o, &r->id);
	if (rc == -1)
		cli_warnx("%s: %s", cli->cmdname, sp_client_error(cli->c));
	sp_run_opts_free(o);
	return rc;
}

static void
cli_print_pool_results(struct cli *cli)
{
	struct cli_host *h;
	size_t i;

	for (i = 0; i < cli->hosts.n; i++) {
		h = &cli->hosts.v[i];
		cli_put_host(stdout, cli->color_out, h->name);
		switch (h->state) {
		case HOST_CONNECTED:
			printf(": connected (%d sessions, %lld ms)\n",
			       h->sessions, h->duration_ms);
			break;
		case HOST_DISCONNECTED:
			printf(": disconnected (%d closed, %d draining)\n",
			       h->sessions, h->draining);
			break;
		case HOST_ERROR:
			printf(": error %s: %s\n", h->code, h->message);
			break;
		default:
			printf(": no result\n");
			break;
		}
	}
}

static int
cli_pool_cmd(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"host", required_argument, NULL, 'H'},
	    {"hosts", required_argument, NULL, 'h'},
	    {"exclude", required_argument, NULL, 'x'},
	    {"user", required_argument, NULL, 'l'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"verbose", no_argument, NULL, 'v'},
	    {"failed-hosts", required_argument, NULL, OPT_FAILED_HOSTS},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0}};
	struct cli_runopts ro;
	size_t i, g;
	int ch, r;

	memset(&ro, 0, sizeof ro);
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+H:h:x:l:v", longopts, NULL)) !=
	       -1) {
		if ((r = cli_host_option(cli, ch, optarg)) == -1)
			return CLI_EXIT_USAGE;
		if (r == 1)
			continue;
		if (ch == OPT_HELP) {
			cli_usage(stdout);
			return CLI_EXIT_OK;
		}
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	for (; optind < argc; optind++) {
		if (cli_split_list(argv[optind], cli_add_host_item, cli) == -1)
			return CLI_EXIT_USAGE;
	}
	if (cli_apply_exclude(cli) == -1)
		return CLI_EXIT_USAGE;
	if (cli->hosts.n == 0 && cli->groups.n == 0) {
		cli_warnx("%s: no hosts", cli->cmdname);
		return CLI_EXIT_USAGE;
	}
	g = cli_req_group(cli, cli_xstrdup(""), NULL, 0, 0);
	for (i = 0; i < cli->hosts.n; i++)
		cli_req_add_host(&cli->reqs[g], i);
	if (cli_connect(cli) == -1)
		return CLI_EXIT_USAGE;
	ro.no_progress = 1;
	cli_output_setup(cli, &ro);
	if (cli_catch_interrupts() == -1)
		return CLI_EXIT_FAILED;
	cli->start_ms = cli_now_ms();
	if (cli_send_more(cli, cli_send_connect) == -1)
		return CLI_EXIT_USAGE;
	cli_loop(cli, cli_send_connect);
	if (!cli->json)
		cli_print_pool_results(cli);
	return cli_finish(cli,
			  strcmp(cli->cmdname, "disconnect") == 0
			      ? "disconnected"
			      : "connected",
			  0);
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
		       sp_status_worker_int(ev, i, "stuck") == 1 ? " (STUCK)"
								 : "");
}

/* Wait for one single-reply request, printing its line with --json. */
static int
cli_wait_reply(struct cli *cli, uint64_t id, sp_event **out)
{
	sp_event *ev;
	int r;

	for (;;) {
		while ((r = sp_next_event(cli->c, &ev)) == 1) {
			if (sp_event_request_id(ev) == id) {
				*out = ev;
				return 0;
			}
			sp_event_free(ev);
		}
		if (r == -1 || sp_wait(cli->c, -1) == -1) {
			cli_warnx("%s", sp_client_error(cli->c));
			return -1;
		}
	}
}

static int
cli_simple_opts(struct cli *cli, int argc, char **argv, const char *shortopts,
		int *count)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"count", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0}};
	char *end;
	long v;
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case OPT_JSON:
			cli->json = 1;
			break;
		case 'c':
			v = strtol(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > CLI_MAX_PING) {
				cli_warnx("-c %s: expected 1..%d", optarg,
					  CLI_MAX_PING);
				return CLI_EXIT_USAGE;
			}
			*count = (int)v;
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
	return -1;
}

static int
cli_status(struct cli *cli, int argc, char **argv)
{
	sp_event *ev;
	uint64_t id;
	size_t len;
	int r, count = 1;

	if ((r = cli_simple_opts(cli, argc, argv, "+", &count)) != -1)
		return r;
	if (cli_connect(cli) == -1)
		return CLI_EXIT_USAGE;
	if (sp_send_status(cli->c, &id) == -1) {
		cli_warnx("status: %s", sp_client_error(cli->c));
		return CLI_EXIT_FAILED;
	}
	if (cli_wait_reply(cli, id, &ev) == -1)
		return CLI_EXIT_FAILED;
	if (cli->json) {
		const char *line = sp_event_json(ev, &len);

		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
	}
	r = CLI_EXIT_OK;
	if (sp_event_type(ev) == SP_EV_ERROR) {
		cli_warnx("status: %s: %s", sp_event_error_code(ev),
			  sp_event_message(ev));
		r = CLI_EXIT_FAILED;
	} else if (!cli->json)
		cli_status_print(ev);
	sp_event_free(ev);
	return r;
}

/* ---- ping ---- */

static int
cli_ping(struct cli *cli, int argc, char **argv)
{
	sp_event *ev;
	uint64_t id;
	long long t0, t1;
	double ms, min = 0, max = 0, sum = 0;
	int r, i, count = 1, version = 0;
	char server[256];

	if ((r = cli_simple_opts(cli, argc, argv, "+c:", &count)) != -1)
		return r;
	if (cli_connect(cli) == -1)
		return CLI_EXIT_USAGE;
	snprintf(server, sizeof server, "%s",
		 sp_server_name(cli->c) != NULL ? sp_server_name(cli->c) : "?");
	for (i = 0; i < count; i++) {
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (sp_send_hello(cli->c, &id) == -1) {
			cli_warnx("ping: %s", sp_client_error(cli->c));
			return CLI_EXIT_FAILED;
		}
		if (cli_wait_reply(cli, id, &ev) == -1)
			return CLI_EXIT_FAILED;
		clock_gettime(CLOCK_MONOTONIC, &b);
		t0 = (long long)a.tv_sec * 1000000000 + a.tv_nsec;
		t1 = (long long)b.tv_sec * 1000000000 + b.tv_nsec;
		ms = (double)(t1 - t0) / 1e6;
		if (sp_event_type(ev) != SP_EV_HELLO) {
			cli_warnx("ping: %s: %s", sp_event_error_code(ev),
				  sp_event_message(ev));
			sp_event_free(ev);
			return CLI_EXIT_FAILED;
		}
		version = sp_event_version(ev);
		if (sp_event_server(ev) != NULL)
			snprintf(server, sizeof server, "%s",
				 sp_event_server(ev));
		sp_event_free(ev);
		if (i == 0 || ms < min)
			min = ms;
		if (ms > max)
			max = ms;
		sum += ms;
		if (cli->json) {
			json_object *o = json_object_new_object();
			char num[32];

			json_object_object_add(o, "server",
					       json_object_new_string(server));
			json_object_object_add(o, "version",
					       json_object_new_int(version));
			snprintf(num, sizeof num, "%.3f", ms);
			json_object_object_add(
			    o, "rtt_ms", json_object_new_double_s(ms, num));
			printf("%s\n",
			       json_object_to_json_string_ext(
				   o, JSON_C_TO_STRING_PLAIN |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(o);
		}
	}
	if (cli->json)
		return CLI_EXIT_OK;
	if (count == 1)
		printf("%s protocol %d: %.3f ms\n", server, version, sum);
	else
		printf("%s protocol %d: %d round trips, min/avg/max "
		       "%.3f/%.3f/%.3f ms\n",
		       server, version, count, min, sum / count, max);
	return CLI_EXIT_OK;
}

/* ---- main ---- */

static const struct cli_command {
	const char *name;
	int (*exec)(struct cli *, int, char **);
} cli_commands[] = {
    {"connect", cli_pool_cmd}, {"disconnect", cli_pool_cmd}, {"ping", cli_ping},
    {"run", cli_run},          {"status", cli_status},
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
	cli.cmdname = cli_commands[i].name;
	rc = cli_commands[i].exec(&cli, argc - optind, argv + optind);
	sp_close(cli.c);
	cli_hosts_free(&cli.hosts);
	cli_reqs_free(&cli);
	cli_strv_free(&cli.groups);
	cli_strv_free(&cli.exclude);
	cli_strv_free(&cli.exclude_expanded);
	cli_strv_free(&cli.env);
	free(cli.req_error);
	return rc;
}
