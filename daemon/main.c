/* SPDX-License-Identifier: ISC */
/*
 * sshpoold's entry point and its life as a service: options, configuration,
 * start-up order, the systemd protocol (readiness, status, watchdog), reload
 * on SIGHUP and the graceful stop on SIGTERM.  The control socket is bound
 * (or taken from the service manager) before the process leaves the
 * foreground, so a bad path or a running daemon is reported on stderr; the
 * threads start after the fork because fork(2) keeps only the calling
 * thread.
 *
 * A stop goes through phases, each bounded: DRAINING (no new requests,
 * running ones may finish for up to ShutdownTimeout), STOPPING_JOBS (every
 * job is stopped and ends with "shutdown"; its terminal event and the
 * request's done line still reach the client, for up to StopGraceTime plus
 * MAIN_STOP_SLACK_MS), FLUSHING (what the clients were sent is written out,
 * for up to MAIN_FLUSH_MS).  Then the workers close their sessions and the
 * process exits 0.
 */
#include <sys/resource.h>

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "agent.h"
#include "clock.h"
#include "control/control.h"
#include "control/policy.h"
#include "keys.h"
#include "log.h"
#include "msg.h"
#include "notify.h"
#include "offload.h"
#include "worker/throttle.h"
#include "worker/workers.h"
#include "xmalloc.h"

/* Offload threads: name resolution, and known_hosts file I/O. */
#define MAIN_RESOLVE_THREADS 4
#define MAIN_FILE_THREADS 2
#define MAIN_MIN_WORKERS 2

/*
 * Output chunks are allocated on the worker threads and freed on the control
 * thread once written.  With glibc's default trim threshold (128 KiB) the
 * free top of a worker's heap goes back to the kernel after nearly every
 * chunk and the next chunks fault the pages in again: a quarter of the
 * daemon's CPU time while streaming.  Up to this much stays free at the top
 * of each heap instead.
 */
#define MAIN_MALLOC_TRIM (16 * 1024 * 1024)

/* How often the STATUS= line is recomputed (sent when it changed). */
#define MAIN_STATUS_MS 2000
/* Bytes of the STATUS= text. */
#define MAIN_STATUS_MAX 256
/* While stopping: how often the phase's end is checked. */
#define MAIN_STOP_POLL_MS 20
/* Beyond StopGraceTime, for the last terminal events to come back. */
#define MAIN_STOP_SLACK_MS 2000
/* For the clients to read what they were sent before the exit. */
#define MAIN_FLUSH_MS 2000
/* The stuck-worker test hook (SSHPOOL_TEST_HOOKS=1, SIGUSR2): how long
 * worker 0's loop is blocked; longer than WORKER_STUCK_MS. */
#define MAIN_STALL_MS 8000

enum main_phase {
	MAIN_RUNNING,
	MAIN_DRAINING,      /* running requests may finish */
	MAIN_STOPPING_JOBS, /* jobs were told to stop */
	MAIN_FLUSHING       /* every request ended: output to the clients */
};

static const int main_sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR2};
#define MAIN_NSIGS (sizeof(main_sigs) / sizeof(main_sigs[0]))

static struct {
	struct event_base *base;
	struct config *cfg;      /* in force; the control thread reads it */
	const char *file;        /* -f, absolute; NULL = built-in defaults */
	const char *socket_path; /* -s */
	int activated;           /* the socket came from the service manager */
	int test_hooks;          /* SSHPOOL_TEST_HOOKS=1 */
	struct event *signals[MAIN_NSIGS];
	struct event *status_ev;
	char status[MAIN_STATUS_MAX]; /* last STATUS= sent */
	struct event *watchdog_ev;
	int watchdog_withheld; /* logged once per stuck episode */
	enum main_phase phase;
	long long stop_start_ms;
	long long deadline_ms; /* end of the current phase */
	struct event *stop_ev;
	const struct shards *shards; /* the workers, once started */
} main_d;

static void __attribute__((noreturn)) main_usage(FILE *f, int status)
{
	fprintf(f, "usage: sshpoold [-dhnSV] [-f config] [-s socket]\n");
	exit(status);
}

static void
main_print_errors(const struct config_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->lines[i]);
}

/* Paths must survive the chdir("/") of daemon(3); "" stays "". */
static char *
main_absolute(const char *path)
{
	char cwd[4096], *abs;

	if (path[0] == '/' || path[0] == '\0')
		return xstrdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		fatal("getcwd");
	xasprintf(&abs, "%s/%s", cwd, path);
	return abs;
}

/* -s wins over Socket, and the result is absolute. */
static void
main_fix_socket(struct config *cfg)
{
	char *abs;

	if (main_d.socket_path != NULL) {
		free(cfg->socket_path);
		cfg->socket_path = xstrdup(main_d.socket_path);
	}
	abs = main_absolute(cfg->socket_path);
	free(cfg->socket_path);
	cfg->socket_path = abs;
}

static struct config *
main_config(void)
{
	struct config_errors errs = {NULL, 0};
	struct config *cfg;

	if (main_d.file != NULL)
		cfg = config_load(main_d.file, &errs);
	else
		cfg = config_default();
	main_print_errors(&errs);
	config_errors_free(&errs);
	if (cfg == NULL)
		exit(1);
	main_fix_socket(cfg);
	return cfg;
}

static struct keystore *
main_keystore(const struct config *cfg, int print)
{
	struct config_errors warnings = {NULL, 0};
	struct keystore *ks;
	size_t i;

	config_warnings(cfg, &warnings);
	ks = keystore_load(cfg, &warnings);
	for (i = 0; i < warnings.n; i++) {
		if (print)
			fprintf(stderr, "%s\n", warnings.lines[i]);
		else
			log_warnx("%s", warnings.lines[i]);
	}
	config_errors_free(&warnings);
	return ks;
}

/* A name of the access rules that names no account: a typo, or an
 * account the databases do not know now. */
static void
main_check_name(const char *keyword, const char *name, int line, void *arg)
{
	const struct config *cfg = arg;
	char where[64] = "";

	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	fprintf(stderr,
		"sshpoold: %s%s: warning: %s: \"%s\" does not resolve to a "
		"%s\n",
		cfg->path != NULL ? cfg->path : "(defaults)", where, keyword,
		name, strstr(keyword, "Group") != NULL ? "group" : "user");
}

/*
 * -n: report every problem of the configuration and the keys, and warn
 * about access-rule names that do not resolve now.
 */
static int
main_check(struct config *cfg)
{
	struct keystore *ks;

	policy_check_names(cfg, NULL, main_check_name, cfg);
	ks = main_keystore(cfg, 1);
	config_free(cfg);
	if (ks == NULL) {
		fprintf(stderr, "sshpoold: cannot load the identity keys\n");
		return 1;
	}
	keystore_free(ks);
	return 0;
}

static int
main_workers(const struct config *cfg)
{
	long n;

	if (cfg->workers > 0)
		return cfg->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < MAIN_MIN_WORKERS)
		n = MAIN_MIN_WORKERS;
	if (n > CONFIG_MAX_WORKERS)
		n = CONFIG_MAX_WORKERS;
	return (int)n;
}

static void
main_timer_add(struct event *ev, long long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (event_add(ev, &tv) == -1)
		fatalx("cannot arm a timer");
}

static struct event *
main_timer_new(void (*cb)(evutil_socket_t, short, void *), int persist)
{
	struct event *ev;

	ev = event_new(main_d.base, -1, persist ? EV_PERSIST : 0, cb, NULL);
	if (ev == NULL)
		fatalx("cannot create a timer");
	return ev;
}

/* ---- systemd: status and watchdog ---- */

static void
main_status_text(char *buf, size_t len)
{
	int up, jobs;

	shards_stats(main_d.shards, &up, &jobs);
	snprintf(buf, len, "%s%d hosts up, %d jobs running, %zu clients",
		 main_d.phase != MAIN_RUNNING ? "stopping: " : "", up, jobs,
		 peer_count());
}

/* READY=1 (at start and after a reload) carries the current status. */
static void
main_notify_ready(void)
{
	main_status_text(main_d.status, sizeof(main_d.status));
	if (notify_send("READY=1\nSTATUS=%s", main_d.status) == -1)
		log_warn("sd_notify READY");
}

static void
main_status_tick(evutil_socket_t fd, short what, void *arg)
{
	char text[MAIN_STATUS_MAX];

	main_status_text(text, sizeof(text));
	if (strcmp(text, main_d.status) == 0)
		return;
	memcpy(main_d.status, text, sizeof(text));
	if (notify_send("STATUS=%s", text) == -1)
		log_warn("sd_notify STATUS");
}

/* Index of a worker whose heartbeat is stale, or -1 if all are fresh. */
static int
main_stuck_worker(long long *age)
{
	int k;

	for (k = 0; k < main_d.shards->n; k++) {
		*age = shards_heartbeat_age_ms(main_d.shards, k);
		if (*age >= WORKER_STUCK_MS)
			return k;
	}
	return -1;
}

/*
 * The ping says "every worker loop turns", not merely "the control thread
 * runs": while one worker is stuck it is withheld, and systemd restarts the
 * service when the interval runs out.
 */
static void
main_watchdog_tick(evutil_socket_t fd, short what, void *arg)
{
	long long age;
	int k;

	if ((k = main_stuck_worker(&age)) != -1) {
		if (!main_d.watchdog_withheld)
			log_warnx("worker %d heartbeat is %lld ms old: "
				  "withholding the watchdog ping",
				  k, age);
		main_d.watchdog_withheld = 1;
		return;
	}
	if (main_d.watchdog_withheld)
		log_info("every worker heartbeat is fresh again: watchdog "
			 "pings resume");
	main_d.watchdog_withheld = 0;
	if (notify_send("WATCHDOG=1") == -1)
		log_warn("sd_notify WATCHDOG");
}

static void
main_notify_start(void)
{
	uint64_t usec = notify_watchdog_usec();
	long long ms;

	if (!notify_enabled())
		return;
	main_notify_ready();
	main_d.status_ev = main_timer_new(main_status_tick, 1);
	main_timer_add(main_d.status_ev, MAIN_STATUS_MS);
	if (usec == 0)
		return;
	ms = (long long)(usec / 2000);
	if (ms < 1)
		ms = 1;
	main_d.watchdog_ev = main_timer_new(main_watchdog_tick, 1);
	main_timer_add(main_d.watchdog_ev, ms);
	/* The first ping now: the interval runs from READY=1. */
	main_watchdog_tick(-1, 0, NULL);
	log_info("watchdog: pinging every %lld ms while workers are fresh", ms);
}

/* ---- reload ---- */

static int
main_strdiff(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* What a reload cannot change is kept, with a warning. */
static void
main_reload_fixed(const struct config *old, const struct config *cfg)
{
	if (strcmp(old->socket_path, cfg->socket_path) != 0)
		log_warnx("reload: Socket %s ignored: the daemon keeps "
			  "serving %s until it is restarted",
			  cfg->socket_path, old->socket_path);
	if (main_strdiff(old->socket_group, cfg->socket_group))
		log_warnx("reload: SocketGroup change ignored until the "
			  "daemon is restarted");
	if (old->workers != cfg->workers)
		log_warnx("reload: Workers change ignored until the daemon "
			  "is restarted");
}

/* Every worker gets its own copy of the reloaded identities. */
static void
main_reload_keys(const struct keystore *ks)
{
	struct msg *m;
	int k;

	for (k = 0; k < main_d.shards->n; k++) {
		m = msg_new(MSG_RELOAD);
		m->keys = keystore_dup(ks);
		shards_post(main_d.shards, k, m);
	}
}

/* Test hook: block worker index's loop for ms, as a stuck worker would. */
static void
main_stall_worker(int index, long long ms)
{
	struct msg *m;

	if (index < 0 || index >= main_d.shards->n)
		return;
	m = msg_new(MSG_STALL);
	m->ms = ms;
	shards_post(main_d.shards, index, m);
}

/*
 * SIGHUP: read the file again.  A file with errors changes nothing.  Else
 * the workers get the new identities, new connections and requests the new
 * settings; hosts whose settings changed replace their sessions when their
 * next job arrives, and running jobs are not touched.
 */
static void
main_reload(void)
{
	struct config_errors errs = {NULL, 0};
	struct config *cfg;
	const struct config *old;
	struct keystore *ks;
	size_t i;

	if (notify_send("RELOADING=1\nMONOTONIC_USEC=%llu",
			(unsigned long long)clock_us()) == -1)
		log_warn("sd_notify RELOADING");
	log_info("reloading %s",
		 main_d.file != NULL ? main_d.file : "the built-in defaults");
	cfg = main_d.file != NULL ? config_load(main_d.file, &errs)
				  : config_default();
	for (i = 0; i < errs.n; i++)
		log_warnx("%s", errs.lines[i]);
	config_errors_free(&errs);
	if (cfg == NULL) {
		log_warnx("reload failed: keeping the running configuration");
		main_notify_ready();
		return;
	}
	main_fix_socket(cfg);
	if ((ks = main_keystore(cfg, 0)) == NULL) {
		log_warnx("reload failed: cannot load the identity keys; "
			  "keeping the running configuration");
		config_free(cfg);
		main_notify_ready();
		return;
	}
	main_reload_keys(ks);
	keystore_free(ks);
	main_reload_fixed(main_d.cfg, cfg);
	old = control_set_config(cfg);
	if (old != main_d.cfg)
		fatalx("reload: the control thread ran another configuration");
	config_free(main_d.cfg);
	main_d.cfg = cfg;
	log_setlevel(cfg->log_level);
	throttle_init(cfg->max_handshake_rate);
	log_info("reloaded %s",
		 main_d.file != NULL ? main_d.file : "the built-in defaults");
	main_notify_ready();
}

/* ---- graceful stop ---- */

static void
main_stop_phase(enum main_phase phase, long long ms)
{
	main_d.phase = phase;
	main_d.deadline_ms = clock_ms() + ms;
}

static void
main_flush(void)
{
	log_info("stopping: every request and job ended after %lld ms; "
		 "flushing client output",
		 clock_ms() - main_d.stop_start_ms);
	main_stop_phase(MAIN_FLUSHING, MAIN_FLUSH_MS);
}

/* ShutdownTimeout ran out, or a second signal: stop what still runs. */
static void
main_stop_jobs(void)
{
	int grace = main_d.cfg->global.stop_grace_ms;

	log_info("stopping: %zu requests still running after %lld ms; "
		 "stopping their jobs (StopGraceTime %d ms)",
		 request_busy(), clock_ms() - main_d.stop_start_ms, grace);
	shards_broadcast(main_d.shards, MSG_STOP_JOBS, NULL);
	main_stop_phase(MAIN_STOPPING_JOBS,
			(long long)grace + MAIN_STOP_SLACK_MS);
}

/*
 * Every request has its reply, and no job is left on a worker.  A stopped
 * or cancelled job reports its end at once but stays until its command is
 * gone (TERM, then KILL after StopGraceTime): leaving earlier would close
 * the session on a command that ignores TERM and leave it running.  The
 * workers' job counts are as of their last heartbeat.
 */
static int
main_idle(void)
{
	int up, jobs;

	if (request_busy() > 0)
		return 0;
	shards_stats(main_d.shards, &up, &jobs);
	return jobs == 0;
}

static void
main_stop_tick(evutil_socket_t fd, short what, void *arg)
{
	long long now = clock_ms();

	switch (main_d.phase) {
	case MAIN_RUNNING:
		break;
	case MAIN_DRAINING:
		if (main_idle())
			main_flush();
		else if (now >= main_d.deadline_ms)
			main_stop_jobs();
		break;
	case MAIN_STOPPING_JOBS:
		if (main_idle())
			main_flush();
		else if (now >= main_d.deadline_ms) {
			log_warnx("stopping: %zu requests did not end in time; "
				  "they end with error shutdown",
				  request_busy());
			event_base_loopbreak(main_d.base);
		}
		break;
	case MAIN_FLUSHING:
		if (peer_output_pending() == 0 || now >= main_d.deadline_ms)
			event_base_loopbreak(main_d.base);
		break;
	}
}

static void
main_stop_begin(int sig)
{
	int timeout = main_d.cfg->shutdown_timeout_ms;

	main_d.stop_start_ms = clock_ms();
	if (notify_send("STOPPING=1") == -1)
		log_warn("sd_notify STOPPING");
	control_close();
	control_set_stopping();
	log_info("received %s: shutting down; %zu requests running, waiting "
		 "up to %d ms for them (ShutdownTimeout)",
		 strsignal(sig), request_busy(), timeout);
	main_stop_phase(MAIN_DRAINING, timeout);
	main_d.stop_ev = main_timer_new(main_stop_tick, 1);
	main_timer_add(main_d.stop_ev, MAIN_STOP_POLL_MS);
	main_stop_tick(-1, 0, NULL);
}

static void
main_signal(evutil_socket_t sig, short what, void *arg)
{
	switch (sig) {
	case SIGHUP:
		if (main_d.phase != MAIN_RUNNING)
			log_info("stopping: reload ignored");
		else
			main_reload();
		break;
	case SIGUSR2:
		/* Test hook, enabled by SSHPOOL_TEST_HOOKS=1 only: block
		 * worker 0 as a stuck worker would be, so the tests can see
		 * the watchdog withhold its ping. */
		if (main_d.test_hooks)
			main_stall_worker(0, MAIN_STALL_MS);
		break;
	default:
		if (main_d.phase == MAIN_RUNNING)
			main_stop_begin(sig);
		else if (main_d.phase == MAIN_DRAINING) {
			log_info("received %s again: not waiting any longer",
				 strsignal(sig));
			main_stop_jobs();
		}
		break;
	}
}

static void
main_add_signals(void)
{
	size_t i;

	for (i = 0; i < MAIN_NSIGS; i++) {
		if (main_sigs[i] == SIGUSR2 && !main_d.test_hooks)
			continue;
		main_d.signals[i] =
		    evsignal_new(main_d.base, main_sigs[i], main_signal, NULL);
		if (main_d.signals[i] == NULL ||
		    event_add(main_d.signals[i], NULL) == -1)
			fatalx("cannot watch signal %d", main_sigs[i]);
	}
}

static void
main_free_event(struct event **ev)
{
	if (*ev != NULL)
		event_free(*ev);
	*ev = NULL;
}

static void
main_free_events(void)
{
	size_t i;

	for (i = 0; i < MAIN_NSIGS; i++)
		main_free_event(&main_d.signals[i]);
	main_free_event(&main_d.status_ev);
	main_free_event(&main_d.watchdog_ev);
	main_free_event(&main_d.stop_ev);
}

/*
 * After the loop: the workers close their sessions politely (jobs still
 * running end with "shutdown"), what they posted last is delivered, requests
 * that are still open get an error, and everything is freed.
 */
static void
main_shutdown(void)
{
	control_close();
	workers_stop();
	/* After the workers: no listing is waited for any more. */
	agent_stop();
	offload_stop();
	control_drain();
	request_shutdown_all();
	request_free_all();
	peer_shutdown_all();
	control_free();
	main_free_events();
	event_base_free(main_d.base);
	main_d.base = NULL;
	if (main_d.stop_start_ms > 0)
		log_info("sshpoold stopped after %lld ms",
			 clock_ms() - main_d.stop_start_ms);
	else
		log_info("sshpoold stopped");
	notify_close();
}

/*
 * The listening socket: the one systemd passed (socket activation), else one
 * bound here.  Any other number of passed sockets is a configuration error.
 */
static int
main_listener(const struct config *cfg)
{
	struct notify_listen_fd fds[NOTIFY_MAX_LISTEN_FDS];
	char err[512];
	int n, fd;

	n = notify_listen_fds(fds, NOTIFY_MAX_LISTEN_FDS, err, sizeof(err));
	if (n == -1)
		fatalx("socket activation: %s", err);
	if (n > 1)
		fatalx("socket activation: %d sockets passed, sshpoold "
		       "serves exactly one",
		       n);
	if (n == 1) {
		main_d.activated = 1;
		log_info("socket activation: serving fd %d (%s) as %s",
			 fds[0].fd, fds[0].name, cfg->socket_path);
		return fds[0].fd;
	}
	if ((fd = control_listen(cfg->socket_path, cfg->socket_group, err,
				 sizeof(err))) == -1)
		fatalx("%s", err);
	return fd;
}

static void
main_serve(int foreground, int use_syslog)
{
	struct config *cfg = main_d.cfg;
	struct agent_limits agent_lim;
	struct keystore *ks;
	char err[NOTIFY_MAX_ERR];
	int fd, n;

	if (notify_init(err, sizeof(err)) == -1)
		log_warnx("systemd notification disabled: %s", err);
	if ((ks = main_keystore(cfg, 0)) == NULL)
		fatalx("cannot load the identity keys");
	fd = main_listener(cfg);
	if (!foreground) {
		if (!use_syslog)
			log_init(LOG_TO_SYSLOG, cfg->log_level, "sshpoold");
		if (daemon(0, 0) == -1)
			fatal("daemon");
	}
	if ((main_d.base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	control_init(main_d.base, cfg, fd, cfg->socket_path, !main_d.activated);
	main_add_signals();
	throttle_init(cfg->max_handshake_rate);
	cred_init();
	if (offload_start(MAIN_RESOLVE_THREADS, MAIN_FILE_THREADS) == -1)
		fatalx("cannot start the offload threads");
	agent_lim.timeout_ms = config_agent_timeout_ms(cfg);
	agent_lim.max_relays = AGENT_MAX_RELAYS;
	agent_lim.max_queued = AGENT_MAX_QUEUED;
	if (agent_start(&agent_lim) == -1)
		fatalx("cannot start the agent broker");
	n = main_workers(cfg);
	main_d.shards = workers_start(n, ks, control_reply_inbox());
	if (main_d.shards == NULL)
		fatalx("cannot start %d workers", n);
	control_set_shards(main_d.shards);
	/* Every worker has its own copy; a reload loads the keys anew. */
	keystore_free(ks);
	log_info("sshpoold %s listening on %s (%d workers)", SSHPOOL_VERSION,
		 cfg->socket_path, n);
	main_notify_start();
	if (event_base_dispatch(main_d.base) == -1)
		log_warnx("event loop failed");
	main_shutdown();
}

/* Every pooled session holds a socket: take all the descriptors the hard
 * limit allows, as the soft limit is often a mere 1024. */
static void
main_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit RLIMIT_NOFILE");
}

static void
main_tune_malloc(void)
{
#ifdef M_TRIM_THRESHOLD
	if (mallopt(M_TRIM_THRESHOLD, MAIN_MALLOC_TRIM) != 1)
		log_warnx("mallopt M_TRIM_THRESHOLD failed");
#endif
}

int
main(int argc, char **argv)
{
	const char *hooks;
	char *file = NULL;
	int ch, foreground = 0, check = 0, use_syslog = 0;

	if (evthread_use_pthreads() == -1) {
		fprintf(stderr, "sshpoold: libevent has no pthreads support\n");
		return 1;
	}
	log_init(LOG_TO_STDERR, LOG_LEVEL_INFO, "sshpoold");
	while ((ch = getopt(argc, argv, "df:hnSs:V")) != -1) {
		switch (ch) {
		case 'd':
			foreground = 1;
			break;
		case 'f':
			free(file);
			file = main_absolute(optarg);
			break;
		case 'h':
			main_usage(stdout, 0);
		case 'n':
			check = 1;
			break;
		case 'S':
			use_syslog = 1;
			break;
		case 's':
			main_d.socket_path = optarg;
			break;
		case 'V':
			printf("sshpoold %s\n", SSHPOOL_VERSION);
			return 0;
		default:
			main_usage(stderr, 1);
		}
	}
	if (optind != argc)
		main_usage(stderr, 1);
	main_d.file = file;

	main_d.cfg = main_config();
	if (check) {
		free(file);
		return main_check(main_d.cfg);
	}
	if (use_syslog)
		log_init(LOG_TO_SYSLOG, main_d.cfg->log_level, "sshpoold");
	log_setlevel(main_d.cfg->log_level);
	hooks = getenv("SSHPOOL_TEST_HOOKS");
	main_d.test_hooks = hooks != NULL && strcmp(hooks, "1") == 0;
	signal(SIGPIPE, SIG_IGN);
	main_raise_nofile();
	main_tune_malloc();
	main_serve(foreground, use_syslog);
	config_free(main_d.cfg);
	free(file);
	return 0;
}
