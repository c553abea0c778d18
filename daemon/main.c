/*
 * sshpoold's entry point: options, configuration, start-up order and the
 * orderly shutdown.  The control socket is bound before the process leaves
 * the foreground, so a bad path or a running daemon is reported on stderr;
 * the threads start after the fork because fork(2) keeps only the calling
 * thread.
 */
#include <sys/resource.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "control.h"
#include "log.h"
#include "xmalloc.h"

/* Offload threads for blocking calls (name resolution, known_hosts). */
#define MAIN_OFFLOAD_THREADS 2
#define MAIN_MIN_WORKERS 2

static struct event *main_signals[3];

static void __attribute__((noreturn)) main_usage(FILE *f, int status)
{
	fprintf(f, "usage: sshpoold [-dhnV] [-f config] [-s socket]\n");
	exit(status);
}

static void
main_print_errors(const struct config_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->lines[i]);
}

/* The socket path must survive the chdir("/") of daemon(3). */
static void
main_absolute_socket(struct config *cfg)
{
	char cwd[4096], *abs;

	if (cfg->socket_path[0] == '/')
		return;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		fatal("getcwd");
	xasprintf(&abs, "%s/%s", cwd, cfg->socket_path);
	free(cfg->socket_path);
	cfg->socket_path = abs;
}

static struct config *
main_config(const char *file, const char *socket_path)
{
	struct config_errors errs = {NULL, 0};
	struct config *cfg;

	if (file != NULL)
		cfg = config_load(file, &errs);
	else
		cfg = config_default();
	main_print_errors(&errs);
	config_errors_free(&errs);
	if (cfg == NULL)
		exit(1);
	if (socket_path != NULL) {
		free(cfg->socket_path);
		cfg->socket_path = xstrdup(socket_path);
	}
	return cfg;
}

static struct keystore *
main_keystore(const struct config *cfg, int print)
{
	struct config_errors warnings = {NULL, 0};
	struct keystore *ks;
	size_t i;

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

/* -n: report every problem of the configuration and the keys. */
static int
main_check(struct config *cfg)
{
	struct keystore *ks;

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
main_signal(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	if (sig == SIGHUP) {
		log_info("reload is not supported yet; restart to apply "
			 "configuration changes");
		return;
	}
	log_info("received %s, shutting down", strsignal(sig));
	event_base_loopbreak(base);
}

static void
main_add_signals(struct event_base *base)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		main_signals[i] =
		    evsignal_new(base, sigs[i], main_signal, base);
		if (main_signals[i] == NULL ||
		    event_add(main_signals[i], NULL) == -1)
			fatalx("cannot watch signal %d", sigs[i]);
	}
}

static void
main_free_signals(void)
{
	size_t i;

	for (i = 0; i < sizeof(main_signals) / sizeof(main_signals[0]); i++) {
		if (main_signals[i] != NULL)
			event_free(main_signals[i]);
		main_signals[i] = NULL;
	}
}

/*
 * Stop taking work, let the workers end every job with "shutdown" (signalling
 * running commands), deliver the events they left behind, then free
 * everything.
 */
static void
main_shutdown(struct event_base *base)
{
	control_close();
	workers_stop();
	offload_stop();
	control_drain();
	request_shutdown_all();
	request_free_all();
	peer_shutdown_all();
	control_free();
	main_free_signals();
	event_base_free(base);
	log_info("sshpoold stopped");
}

static void
main_serve(struct config *cfg, int foreground)
{
	struct event_base *base;
	struct keystore *ks;
	char err[512];
	int fd, n;

	if ((ks = main_keystore(cfg, 0)) == NULL)
		fatalx("cannot load the identity keys");
	main_absolute_socket(cfg);
	if ((fd = control_listen(cfg->socket_path, cfg->socket_group, err,
				 sizeof(err))) == -1)
		fatalx("%s", err);
	if (!foreground) {
		log_init(LOG_TO_SYSLOG, cfg->log_level, "sshpoold");
		if (daemon(0, 0) == -1)
			fatal("daemon");
	}
	if ((base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	control_init(base, cfg, fd, cfg->socket_path);
	main_add_signals(base);
	throttle_init(cfg->max_handshake_rate > 0
			  ? cfg->max_handshake_rate
			  : CONFIG_DEFAULT_MAX_HANDSHAKE_RATE);
	if (offload_start(MAIN_OFFLOAD_THREADS) == -1)
		fatalx("cannot start the offload threads");
	n = main_workers(cfg);
	if (workers_start(n, ks) == -1)
		fatalx("cannot start %d workers", n);
	log_info("sshpoold %s listening on %s (%d workers)", SSHPOOL_VERSION,
		 cfg->socket_path, n);
	if (event_base_dispatch(base) == -1)
		log_warnx("event loop failed");
	main_shutdown(base);
	keystore_free(ks);
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

int
main(int argc, char **argv)
{
	const char *file = NULL, *socket_path = NULL;
	struct config *cfg;
	int ch, foreground = 0, check = 0;

	if (evthread_use_pthreads() == -1) {
		fprintf(stderr, "sshpoold: libevent has no pthreads support\n");
		return 1;
	}
	log_init(LOG_TO_STDERR, LOG_LEVEL_INFO, "sshpoold");
	while ((ch = getopt(argc, argv, "df:hns:V")) != -1) {
		switch (ch) {
		case 'd':
			foreground = 1;
			break;
		case 'f':
			file = optarg;
			break;
		case 'h':
			main_usage(stdout, 0);
		case 'n':
			check = 1;
			break;
		case 's':
			socket_path = optarg;
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

	cfg = main_config(file, socket_path);
	if (check)
		return main_check(cfg);
	log_setlevel(cfg->log_level);
	signal(SIGPIPE, SIG_IGN);
	main_raise_nofile();
	main_serve(cfg, foreground);
	config_free(cfg);
	return 0;
}
