/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the sshpoold configuration parser.  config_load takes
 * a path, so each input is written to one memfd (created once, truncated
 * and rewritten per input) and loaded through /proc/self/fd/N; no file is
 * left on disk.  A configuration that loads is then resolved for a few host
 * names (fixed ones and the first pattern of the first Host blocks), and
 * every resolved setting must be complete and within its documented range.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_BLOCK_NAMES 8 /* Host blocks whose first pattern is tried */

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

static const char *const fuzz_names[] = {
    "web1", "db-test", "db-1", "host.example.com", "10.0.0.5", "::1", "",
};

static int fuzz_fd = -1;
static char fuzz_path[64];

static void
fuzz_resolve(const struct config *cfg, const char *name)
{
	struct config_host_opts o;
	char *hostname;
	size_t i;

	config_host(cfg, name, &o);
	FUZZ_CHECK(o.user != NULL);
	/* A HostName value loaded is bounded; unset means the name itself. */
	FUZZ_CHECK(
	    o.hostname == NULL ||
	    (*o.hostname != '\0' && strlen(o.hostname) <= CONFIG_MAX_HOSTNAME));
	hostname = config_hostname(o.hostname, name);
	FUZZ_CHECK(o.hostname != NULL || strcmp(hostname, name) == 0);
	free(hostname);
	FUZZ_CHECK(o.port >= 1 && o.port <= 65535);
	FUZZ_CHECK(o.n_identity_files >= 1 &&
		   o.n_identity_files <= CONFIG_MAX_IDENTITY_FILES);
	for (i = 0; i < o.n_identity_files; i++)
		FUZZ_CHECK(o.identity_files[i] != NULL);
	FUZZ_CHECK(o.known_hosts_file != NULL);
	FUZZ_CHECK(o.strict == CONFIG_STRICT_YES ||
		   o.strict == CONFIG_STRICT_ACCEPT_NEW);
	FUZZ_CHECK(config_strict_name(o.strict) != NULL);
	FUZZ_CHECK(o.connect_timeout_ms > 0);
	FUZZ_CHECK(o.max_sessions >= 1 &&
		   o.max_sessions <= CONFIG_MAX_SESSIONS_PER_HOST);
	FUZZ_CHECK(o.max_channels >= 1 &&
		   o.max_channels <= CONFIG_MAX_CHANNELS_PER_SESSION);
	FUZZ_CHECK(o.server_alive_interval_ms >= 0);
	FUZZ_CHECK(o.server_alive_count_max >= 1);
	FUZZ_CHECK(o.connection_attempts >= 1);
	FUZZ_CHECK(o.reconnect_base_delay_ms >= 1);
	FUZZ_CHECK(o.reconnect_max_delay_ms >= 1);
	FUZZ_CHECK(o.host_down_after >= 1);
	FUZZ_CHECK(o.stop_grace_ms >= 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = {NULL, 0};
	struct config *cfg;
	size_t i, n;
	const char *pat;

	if (fuzz_fd == -1) {
		if ((fuzz_fd = memfd_create("sshpool-fuzz-config", 0)) == -1) {
			perror("memfd_create");
			abort();
		}
		snprintf(fuzz_path, sizeof fuzz_path, "/proc/self/fd/%d",
			 fuzz_fd);
	}
	if (ftruncate(fuzz_fd, 0) == -1 ||
	    (size > 0 && pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)) {
		perror("memfd write");
		abort();
	}

	cfg = config_load(fuzz_path, &errs);
	/* A refused file always says why. */
	FUZZ_CHECK(cfg != NULL || errs.n > 0);
	FUZZ_CHECK(errs.n <= CONFIG_MAX_ERRORS + 1);
	for (i = 0; i < errs.n; i++)
		FUZZ_CHECK(strlen(errs.lines[i]) > 0);
	config_errors_free(&errs);
	if (cfg == NULL)
		return 0;

	FUZZ_CHECK(cfg->socket_path != NULL);
	FUZZ_CHECK(cfg->n_blocks <= CONFIG_MAX_HOST_BLOCKS);
	for (i = 0; i < sizeof fuzz_names / sizeof fuzz_names[0]; i++)
		fuzz_resolve(cfg, fuzz_names[i]);
	n = cfg->n_blocks < FUZZ_BLOCK_NAMES ? cfg->n_blocks : FUZZ_BLOCK_NAMES;
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(cfg->blocks[i].n_patterns >= 1);
		pat = cfg->blocks[i].patterns[0];
		fuzz_resolve(cfg, pat[0] == '!' ? pat + 1 : pat);
	}
	config_free(cfg);
	return 0;
}
