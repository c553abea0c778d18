/* SPDX-License-Identifier: ISC */
/*
 * ssh-floor: the floor under every pooled runner, libssh used directly in
 * blocking mode on one session that is already open.  It connects and
 * authenticates once (untimed, strict host key checking against the given
 * known_hosts file, TCP_NODELAY), then runs the command N times, one channel
 * per run, as a pool would: open a session channel, exec, read standard
 * output and standard error to end of file, collect the exit status, close
 * and free the channel.  A run that does not exit 0, or whose standard
 * output is not exactly -B bytes when -B is given, aborts the benchmark.
 *
 *	ssh-floor -h addr -p port -l user -i key -k known_hosts -n N
 *	    [-w WARMUP] [-c command] [-B bytes]
 *
 * Prints one line per measured run: its wall time in milliseconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>

#define FLOOR_DEFAULT_WARMUP 5
#define FLOOR_DEFAULT_COMMAND "true"
#define FLOOR_MAX_RUNS 1000000
#define FLOOR_READ_CHUNK 65536
#define FLOOR_TIMEOUT_S 60L

static void
floor_usage(void)
{
	fprintf(stderr, "usage: ssh-floor -h addr -p port -l user -i key "
			"-k known_hosts -n runs [-w warmup] [-c command] "
			"[-B bytes]\n");
	exit(2);
}

static void
floor_die(ssh_session s, const char *what)
{
	fprintf(stderr, "ssh-floor: %s: %s\n", what,
		s != NULL ? ssh_get_error(s) : "failed");
	exit(1);
}

static long long
floor_number(const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		floor_usage();
	return v;
}

static double
floor_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads one stream of the channel to end of file; returns its bytes. */
static long long
floor_drain(ssh_session s, ssh_channel ch, int is_stderr)
{
	static char buf[FLOOR_READ_CHUNK];
	long long total = 0;
	int n;

	while ((n = ssh_channel_read(ch, buf, sizeof buf, is_stderr)) > 0)
		total += n;
	if (n == SSH_ERROR)
		floor_die(s, "read");
	return total;
}

/* One run on its own channel; returns its wall time in milliseconds. */
static double
floor_run(ssh_session s, const char *command, long long want_bytes)
{
	ssh_channel ch;
	long long out;
	double t0;
	int status;

	t0 = floor_now_ms();
	if ((ch = ssh_channel_new(s)) == NULL)
		floor_die(s, "channel");
	if (ssh_channel_open_session(ch) != SSH_OK)
		floor_die(s, "open session channel");
	if (ssh_channel_request_exec(ch, command) != SSH_OK)
		floor_die(s, "exec");
	/* Standard output first: the commands measured write no more to
	 * standard error than its window holds. */
	out = floor_drain(s, ch, 0);
	floor_drain(s, ch, 1);
	status = ssh_channel_get_exit_status(ch);
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	if (status != 0) {
		fprintf(stderr, "ssh-floor: %s: exit status %d\n", command,
			status);
		exit(1);
	}
	if (want_bytes >= 0 && out != want_bytes) {
		fprintf(stderr, "ssh-floor: %s: %lld bytes, expected %lld\n",
			command, out, want_bytes);
		exit(1);
	}
	return floor_now_ms() - t0;
}

int
main(int argc, char **argv)
{
	const char *addr = NULL, *user = NULL, *key = NULL, *kh = NULL;
	const char *command = FLOOR_DEFAULT_COMMAND;
	long long runs = 0, warmup = FLOOR_DEFAULT_WARMUP, want = -1, i;
	long timeout = FLOOR_TIMEOUT_S;
	int port = 0, ch, yes = 1, no = 0;
	ssh_session s;
	ssh_key k;
	double *v;

	while ((ch = getopt(argc, argv, "B:c:h:i:k:l:n:p:w:")) != -1) {
		switch (ch) {
		case 'B':
			want = floor_number(optarg, 0, 1LL << 50);
			break;
		case 'c':
			command = optarg;
			break;
		case 'h':
			addr = optarg;
			break;
		case 'i':
			key = optarg;
			break;
		case 'k':
			kh = optarg;
			break;
		case 'l':
			user = optarg;
			break;
		case 'n':
			runs = floor_number(optarg, 1, FLOOR_MAX_RUNS);
			break;
		case 'p':
			port = (int)floor_number(optarg, 1, 65535);
			break;
		case 'w':
			warmup = floor_number(optarg, 0, FLOOR_MAX_RUNS);
			break;
		default:
			floor_usage();
		}
	}
	if (optind != argc || addr == NULL || user == NULL || key == NULL ||
	    kh == NULL || port == 0 || runs == 0)
		floor_usage();
	if ((v = calloc((size_t)runs, sizeof *v)) == NULL) {
		fprintf(stderr, "ssh-floor: out of memory\n");
		return 1;
	}

	if ((s = ssh_new()) == NULL)
		floor_die(NULL, "ssh_new");
	if (ssh_options_set(s, SSH_OPTIONS_HOST, addr) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_USER, user) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, kh) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") !=
		0 ||
	    ssh_options_set(s, SSH_OPTIONS_STRICTHOSTKEYCHECK, &yes) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_NODELAY, &yes) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) != 0)
		floor_die(s, "options");
	if (ssh_connect(s) != SSH_OK)
		floor_die(s, "connect");
	if (ssh_session_is_known_server(s) != SSH_KNOWN_HOSTS_OK)
		floor_die(s, "host key not known");
	if (ssh_pki_import_privkey_file(key, NULL, NULL, NULL, &k) != SSH_OK)
		floor_die(NULL, key);
	if (ssh_userauth_publickey(s, NULL, k) != SSH_AUTH_SUCCESS)
		floor_die(s, "public key authentication");
	ssh_key_free(k);

	for (i = 0; i < warmup; i++)
		floor_run(s, command, want);
	for (i = 0; i < runs; i++)
		v[i] = floor_run(s, command, want);
	for (i = 0; i < runs; i++)
		printf("%.3f\n", v[i]);

	ssh_disconnect(s);
	ssh_free(s);
	free(v);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		perror("ssh-floor: stdout");
		return 1;
	}
	return 0;
}
