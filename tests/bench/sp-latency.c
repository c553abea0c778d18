/* SPDX-License-Identifier: ISC */
/*
 * sp-latency: round-trip latency of one command through sshpoold, measured
 * from a long-lived libsshpool client, the way a service embedding the
 * library sees it.  Runs are sequential: each sends one run request for all
 * the hosts given and waits for its done event, so a sample is the full cost
 * of one command on one host (or of one fan-out) on a warm pool.  Any run in
 * which a host does not exit 0, or with -B does not write exactly that many
 * bytes to standard output, aborts the benchmark: a fast failure must never
 * pass for a fast run.
 *
 *	sp-latency -s SOCK (-H host[,host...] | -h hostfile) -n N
 *	    [-w WARMUP] [-c command] [-B bytes] [-q]
 *
 * Prints one line per measured run (milliseconds, 3 decimals), or with -q
 * one summary line: n, median, min, max and p90 in milliseconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sshpool.h"

#define LATENCY_DEFAULT_WARMUP 5
#define LATENCY_DEFAULT_COMMAND "true"
#define LATENCY_MAX_RUNS 1000000
#define LATENCY_MAX_LINE 1024 /* of a host file */
/* Daemon-side bound of one run: a hung host fails the benchmark instead of
 * stalling it. */
#define LATENCY_RUN_TIMEOUT_S 60.0

/* What the events of one run said. */
struct latency_result {
	size_t exits;  /* exit events seen */
	int failed;    /* a non-zero status or a signal seen */
	long long out; /* standard output bytes of all hosts */
	int status;    /* exit status of the last one, -1 for a signal */
	int done;      /* done event seen */
	size_t ok;     /* done's ok counter */
	char why[256]; /* first error or signal, for the message */
};

static void
latency_usage(void)
{
	fprintf(stderr, "usage: sp-latency -s socket (-H hosts | -h file) "
			"-n runs [-w warmup] [-c command] [-B bytes] "
			"[-q]\n");
	exit(2);
}

static int
latency_number(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static double
latency_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1) {
		perror("sp-latency: clock_gettime");
		exit(1);
	}
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
latency_event(const sp_event *ev, void *arg)
{
	struct latency_result *r = arg;
	const char *sig, *code;
	size_t len;

	switch (sp_event_type(ev)) {
	case SP_EV_EXIT:
		r->exits++;
		r->status = sp_event_exit_status(ev);
		if (r->status != 0)
			r->failed = 1;
		if ((sig = sp_event_signal(ev)) != NULL && r->why[0] == '\0')
			snprintf(r->why, sizeof r->why, "killed by SIG%s", sig);
		break;
	case SP_EV_STDOUT:
		sp_event_data(ev, &len);
		r->out += (long long)len;
		break;
	case SP_EV_ERROR:
		code = sp_event_error_code(ev);
		if (r->why[0] == '\0')
			snprintf(r->why, sizeof r->why, "%s: %s",
				 code != NULL ? code : "error",
				 sp_event_message(ev) != NULL
				     ? sp_event_message(ev)
				     : "");
		break;
	case SP_EV_DONE:
		r->done = 1;
		sp_event_done_counts(ev, NULL, &r->ok, NULL, NULL);
		break;
	default:
		break;
	}
	return 0;
}

/* One run, checked; returns its latency in milliseconds or exits. */
static double
latency_run(sp_client *c, const sp_run_opts *o, long long want_bytes,
	    const char *what, long i)
{
	size_t nhosts = sp_run_opts_nhosts(o);
	struct latency_result r;
	double t0, t1;

	memset(&r, 0, sizeof r);
	t0 = latency_now_ms();
	if (sp_run_wait(c, o, latency_event, &r) != 0) {
		fprintf(stderr, "sp-latency: %s %ld: %s\n", what, i,
			sp_client_error(c));
		exit(1);
	}
	t1 = latency_now_ms();
	if (!r.done || r.exits != nhosts || r.failed || r.ok != nhosts) {
		if (r.why[0] == '\0' && r.exits == nhosts)
			snprintf(r.why, sizeof r.why, "exit status %d",
				 r.status);
		fprintf(stderr, "sp-latency: %s %ld failed: %s\n", what, i,
			r.why[0] != '\0' ? r.why : "no exit event before done");
		exit(1);
	}
	if (want_bytes >= 0 && r.out != want_bytes * (long long)nhosts) {
		fprintf(stderr,
			"sp-latency: %s %ld: %lld bytes of output, "
			"expected %lld per host\n",
			what, i, r.out, want_bytes);
		exit(1);
	}
	return t1 - t0;
}

static int
latency_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median (mean of the two middle samples when n is even), min, max and the
 * nearest-rank p90 of n > 0 samples, which are sorted in place. */
static void
latency_summary(double *v, size_t n)
{
	double median;
	size_t rank;

	qsort(v, n, sizeof *v, latency_cmp);
	if (n % 2 == 1)
		median = v[n / 2];
	else
		median = (v[n / 2 - 1] + v[n / 2]) / 2;
	/* Smallest rank covering 90% of the samples, in integers so that
	 * n = 10 gives rank 9, not 10 through rounding. */
	rank = (n * 9 + 9) / 10;
	printf("n=%zu median=%.3f min=%.3f max=%.3f p90=%.3f\n", n, median,
	       v[0], v[n - 1], v[rank - 1]);
}

/* Adds every non-empty line of a host file to the options. */
static int
latency_hostfile(sp_run_opts *o, const char *path)
{
	char line[LATENCY_MAX_LINE];
	FILE *f;
	size_t len;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "sp-latency: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (len == 0)
			continue;
		if (sp_run_opts_add_host(o, line) == -1) {
			fprintf(stderr, "sp-latency: %s: %s\n", path,
				sp_run_opts_error(o));
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *sock = NULL, *host = NULL, *hostfile = NULL;
	const char *command = LATENCY_DEFAULT_COMMAND;
	long long runs = 0, warmup = LATENCY_DEFAULT_WARMUP, want = -1;
	long i;
	int ch, quiet = 0;
	char err[256];
	sp_client *c;
	sp_run_opts *o;
	double *v;

	while ((ch = getopt(argc, argv, "B:c:H:h:n:qs:w:")) != -1) {
		switch (ch) {
		case 'B':
			if (latency_number(optarg, 0, 1LL << 50, &want) == -1)
				latency_usage();
			break;
		case 'c':
			command = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'h':
			hostfile = optarg;
			break;
		case 'n':
			if (latency_number(optarg, 1, LATENCY_MAX_RUNS,
					   &runs) == -1)
				latency_usage();
			break;
		case 'q':
			quiet = 1;
			break;
		case 's':
			sock = optarg;
			break;
		case 'w':
			if (latency_number(optarg, 0, LATENCY_MAX_RUNS,
					   &warmup) == -1)
				latency_usage();
			break;
		default:
			latency_usage();
		}
	}
	if (optind != argc || sock == NULL ||
	    (host == NULL) == (hostfile == NULL) || runs == 0)
		latency_usage();

	if ((o = sp_run_opts_new()) == NULL ||
	    (v = calloc((size_t)runs, sizeof *v)) == NULL) {
		fprintf(stderr, "sp-latency: out of memory\n");
		return 1;
	}
	if (hostfile != NULL && latency_hostfile(o, hostfile) == -1)
		return 1;
	if ((host != NULL && sp_run_opts_add_hosts(o, host) == -1) ||
	    sp_run_opts_set_command(o, command) == -1 ||
	    sp_run_opts_set_timeout(o, LATENCY_RUN_TIMEOUT_S) == -1) {
		fprintf(stderr, "sp-latency: %s\n", sp_run_opts_error(o));
		return 1;
	}
	if ((c = sp_connect(sock, err, sizeof err)) == NULL) {
		fprintf(stderr, "sp-latency: %s: %s\n", sock, err);
		return 1;
	}

	/* Warm-up runs open the pooled session and fault in both sides'
	 * code paths; they are checked like the others but not timed. */
	for (i = 0; i < warmup; i++)
		latency_run(c, o, want, "warm-up run", i + 1);
	for (i = 0; i < runs; i++)
		v[i] = latency_run(c, o, want, "run", i + 1);

	if (quiet)
		latency_summary(v, (size_t)runs);
	else {
		for (i = 0; i < runs; i++)
			printf("%.3f\n", v[i]);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		perror("sp-latency: stdout");
		return 1;
	}
	sp_close(c);
	sp_run_opts_free(o);
	free(v);
	return 0;
}
