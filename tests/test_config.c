/* SPDX-License-Identifier: ISC */
/*
 * Tests of the configuration module: defaults for root and other users,
 * the keyword table (order, defaults within range, scopes, first value
 * wins, the manual naming every keyword), every keyword and its range
 * limits, the exact text of every error, Host block resolution and pattern
 * matching, and the shipped conf/sshpoold.conf.  Test files live in a
 * fresh mkdtemp directory.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <ctype.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "config_table.h"
#include "log.h"
#include "testutil.h"
#include "../proto/proto.h"

#define TEST_NOBODY "nobody"
#define TEST_NO_PASSWD_UID 54321 /* a uid without a passwd entry */

static char tmpdir[64];
static char conf_path[PATH_MAX];

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(conf_path, sizeof(conf_path), "%s/sshpoold.conf", tmpdir);
	/* systemd's directories change the defaults: only the tests that
	 * are about them set them. */
	unsetenv("CREDENTIALS_DIRECTORY");
	unsetenv("STATE_DIRECTORY");
}

static void
teardown(void)
{
	/* Tests that dropped privileges get them back to clean up. */
	if (seteuid(getuid()) != 0)
		return;
	unlink(conf_path);
	rmdir(tmpdir);
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static struct config *
load_text(const char *text, struct config_errors *errs)
{
	write_file(conf_path, text, strlen(text));
	return config_load(conf_path, errs);
}

/* Load text that must load cleanly. */
static struct config *
load_ok(const char *text)
{
	struct config_errors errs = {NULL, 0};
	struct config *cfg;

	cfg = load_text(text, &errs);
	if (errs.n > 0)
		ck_abort_msg("unexpected error: %s", errs.lines[0]);
	ck_assert_ptr_nonnull(cfg);
	config_errors_free(&errs);
	return cfg;
}

/* errs->lines[i] must be conf_path ":" suffix. */
static void
assert_error(const struct config_errors *errs, size_t i, const char *suffix)
{
	char want[PATH_MAX + 512];

	ck_assert_uint_gt(errs->n, i);
	snprintf(want, sizeof(want), "%s:%s", conf_path, suffix);
	ck_assert_str_eq(errs->lines[i], want);
}

/* Load text that must fail with exactly one error, "conf_path:" suffix. */
static void
assert_one_error(const char *text, const char *suffix)
{
	struct config_errors errs = {NULL, 0};
	struct config *cfg;

	cfg = load_text(text, &errs);
	ck_assert_ptr_null(cfg);
	if (errs.n != 1)
		ck_abort_msg("%zu errors for \"%s\", first: %s", errs.n, text,
			     errs.n > 0 ? errs.lines[0] : "none");
	assert_error(&errs, 0, suffix);
	config_errors_free(&errs);
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_ptr_null(errs.lines);
}

static void
assert_defaults_for_dir(const struct config *cfg, const char *dir)
{
	char want[PATH_MAX];

	snprintf(want, sizeof(want), "%s/known_hosts", dir);
	ck_assert_str_eq(cfg->global.known_hosts_file, want);
	ck_assert_uint_eq(cfg->global.n_identity_files, 3);
	snprintf(want, sizeof(want), "%s/id_ed25519", dir);
	ck_assert_str_eq(cfg->global.identity_files[0], want);
	snprintf(want, sizeof(want), "%s/id_ecdsa", dir);
	ck_assert_str_eq(cfg->global.identity_files[1], want);
	snprintf(want, sizeof(want), "%s/id_rsa", dir);
	ck_assert_str_eq(cfg->global.identity_files[2], want);
}

/* Everything but the user-dependent paths. */
static void
assert_default_values(const struct config *cfg)
{
	ck_assert_int_eq(cfg->workers, 0);
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_INFO);
	ck_assert_uint_eq(cfg->max_line, PROTO_DEFAULT_MAX_LINE);
	ck_assert_uint_eq(cfg->max_hosts, PROTO_DEFAULT_MAX_HOSTS);
	ck_assert_uint_eq(cfg->max_stdin, PROTO_DEFAULT_MAX_STDIN);
	ck_assert_int_eq(cfg->global.port, 22);
	ck_assert_ptr_null(cfg->global.identity_passphrase_file);
	ck_assert_int_eq(cfg->global.strict, CONFIG_STRICT_YES);
	ck_assert_int_eq(cfg->global.connect_timeout_ms, 10000);
	ck_assert_int_eq(cfg->global.max_sessions, 4);
	ck_assert_int_eq(cfg->global.max_channels, 8);
	ck_assert_int_eq(cfg->max_handshake_rate, 100);
	ck_assert_int_eq(cfg->global.server_alive_interval_ms, 15000);
	ck_assert_int_eq(cfg->global.server_alive_count_max, 3);
	ck_assert_int_eq(cfg->global.connection_attempts, 1);
	ck_assert_int_eq(cfg->global.reconnect_base_delay_ms, 1000);
	ck_assert_int_eq(cfg->global.reconnect_max_delay_ms, 60000);
	ck_assert_int_eq(cfg->global.host_down_after, 3);
	ck_assert_int_eq(cfg->global.stop_grace_ms, 2000);
	ck_assert_int_eq(cfg->global.max_tunnels, 64);
	ck_assert_uint_eq(cfg->n_blocks, 0);
	ck_assert_uint_eq(cfg->n_allow_users, 0);
	ck_assert_ptr_null(cfg->allow_users);
	ck_assert_uint_eq(cfg->n_allow_groups, 0);
	ck_assert_ptr_null(cfg->allow_groups);
	ck_assert_ptr_null(cfg->socket_group);
	ck_assert_int_eq(cfg->max_connections_per_user, 64);
	ck_assert_int_eq(cfg->max_requests_per_client, 1024);
	ck_assert_uint_eq(cfg->max_jobs_per_client, 100000);
	ck_assert_uint_eq(cfg->max_jobs, 1000000);
	ck_assert_uint_eq(cfg->max_env, PROTO_MAX_ENV);
	ck_assert_int_eq(cfg->max_json_depth, PROTO_MAX_DEPTH);
	ck_assert_uint_eq(cfg->client_queue_low, 1024 * 1024);
	ck_assert_uint_eq(cfg->client_queue_high, 4 * 1024 * 1024);
	ck_assert_uint_eq(cfg->client_queue_hard, 64 * 1024 * 1024);
	ck_assert_int_eq(cfg->client_queue_hard_time_ms, 30000);
	ck_assert_uint_eq(cfg->audit_command_max, 200);
	ck_assert_uint_eq(cfg->n_policies, 0);
	ck_assert_ptr_null(cfg->policies);
	ck_assert_int_eq(cfg->shutdown_timeout_ms, 30000);
	ck_assert_uint_eq(cfg->n_groups, 0);
	ck_assert_ptr_null(cfg->groups);
}

START_TEST(test_defaults_root)
{
	struct config *cfg;

	if (geteuid() != 0)
		return; /* covered by the non-root tests */
	setenv("XDG_RUNTIME_DIR", "/run/user/0", 1);
	cfg = config_default();
	ck_assert_ptr_null(cfg->path);
	ck_assert_str_eq(cfg->socket_path, "/run/sshpool/sshpoold.sock");
	ck_assert_str_eq(cfg->global.user, "root");
	assert_defaults_for_dir(cfg, "/etc/sshpool");
	assert_default_values(cfg);
	config_free(cfg);
}
END_TEST

/* Run the rest of the test as an unprivileged user; returns its entry. */
static struct passwd *
become_user(void)
{
	struct passwd *pw;

	if (geteuid() == 0) {
		pw = getpwnam(TEST_NOBODY);
		ck_assert_ptr_nonnull(pw);
		ck_assert_int_eq(seteuid(pw->pw_uid), 0);
	}
	pw = getpwuid(geteuid());
	ck_assert_ptr_nonnull(pw);
	return pw;
}

START_TEST(test_defaults_user_xdg)
{
	struct config *cfg;
	struct passwd *pw = become_user();
	char *user = strdup(pw->pw_name), dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/.ssh", pw->pw_dir);
	if (strcmp(pw->pw_dir, "/") == 0)
		snprintf(dir, sizeof(dir), "/.ssh");
	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
	cfg = config_default();
	ck_assert_str_eq(cfg->socket_path,
			 "/run/user/4242/sshpool/sshpoold.sock");
	ck_assert_str_eq(cfg->global.user, user);
	assert_defaults_for_dir(cfg, dir);
	assert_default_values(cfg);
	config_free(cfg);
	free(user);
}
END_TEST

START_TEST(test_defaults_user_no_xdg)
{
	struct config *cfg;
	char want[PATH_MAX];

	become_user();
	snprintf(want, sizeof(want), "/tmp/sshpool-%lu/sshpoold.sock",
		 (unsigned long)geteuid());

	unsetenv("XDG_RUNTIME_DIR");
	cfg = config_default();
	ck_assert_str_eq(cfg->socket_path, want);
	config_free(cfg);

	/* A relative XDG_RUNTIME_DIR is invalid and ignored. */
	setenv("XDG_RUNTIME_DIR", "run/user", 1);
	cfg = config_default();
	ck_assert_str_eq(cfg->socket_path, want);
	config_free(cfg);
}
END_TEST

START_TEST(test_defaults_no_passwd_entry)
{
	struct config *cfg;

	if (geteuid() != 0 || getpwuid(TEST_NO_PASSWD_UID) != NULL)
		return; /* needs root to take a uid without an entry */
	ck_assert_int_eq(seteuid(TEST_NO_PASSWD_UID), 0);
	setenv("HOME", "/home/someone", 1);
	setenv("USER", "someone", 1);
	unsetenv("XDG_RUNTIME_DIR");
	cfg = config_default();
	ck_assert_str_eq(cfg->global.user, "someone");
	ck_assert_str_eq(cfg->socket_path, "/tmp/sshpool-54321/sshpoold.sock");
	assert_defaults_for_dir(cfg, "/home/someone/.ssh");
	config_free(cfg);

	unsetenv("USER");
	unsetenv("LOGNAME");
	cfg = config_default();
	ck_assert_str_eq(cfg->global.user, "54321");
	config_free(cfg);
}
END_TEST

/*
 * Under systemd: the credential directory's keys come first in the default
 * identities, and known_hosts lives in the state directory.  A file that
 * sets neither keeps these defaults; one that sets them wins.
 */
START_TEST(test_defaults_systemd_dirs)
{
	struct config_errors errs = {NULL, 0};
	struct config *cfg, *plain;
	size_t i;

	plain = config_default();
	setenv("CREDENTIALS_DIRECTORY", "/run/credentials/sshpoold.service", 1);
	setenv("STATE_DIRECTORY", "/var/lib/sshpool", 1);
	cfg = config_default();
	ck_assert_uint_eq(cfg->global.n_identity_files, 6);
	ck_assert_str_eq(cfg->global.identity_files[0],
			 "/run/credentials/sshpoold.service/id_ed25519");
	ck_assert_str_eq(cfg->global.identity_files[1],
			 "/run/credentials/sshpoold.service/id_ecdsa");
	ck_assert_str_eq(cfg->global.identity_files[2],
			 "/run/credentials/sshpoold.service/id_rsa");
	for (i = 0; i < 3; i++)
		ck_assert_str_eq(cfg->global.identity_files[3 + i],
				 plain->global.identity_files[i]);
	ck_assert_str_eq(cfg->global.known_hosts_file,
			 "/var/lib/sshpool/known_hosts");
	/* The rest does not depend on them. */
	ck_assert_str_eq(cfg->socket_path, plain->socket_path);
	config_free(cfg);

	/* Several state directories: the first; a trailing slash is not
	 * doubled. */
	setenv("STATE_DIRECTORY", "/var/lib/sshpool/:/var/lib/other", 1);
	cfg = config_default();
	ck_assert_str_eq(cfg->global.known_hosts_file,
			 "/var/lib/sshpool/known_hosts");
	config_free(cfg);

	/* Relative or empty values are not directories systemd made. */
	setenv("CREDENTIALS_DIRECTORY", "credentials", 1);
	setenv("STATE_DIRECTORY", "", 1);
	cfg = config_default();
	ck_assert_uint_eq(cfg->global.n_identity_files, 3);
	ck_assert_str_eq(cfg->global.identity_files[0],
			 plain->global.identity_files[0]);
	ck_assert_str_eq(cfg->global.known_hosts_file,
			 plain->global.known_hosts_file);
	config_free(cfg);

	/* A file builds on these defaults, and overrides them. */
	setenv("CREDENTIALS_DIRECTORY", "/run/credentials/sshpoold.service", 1);
	setenv("STATE_DIRECTORY", "/var/lib/sshpool", 1);
	write_file(conf_path, "Port 2222\n", 10);
	cfg = config_load(conf_path, &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->global.n_identity_files, 6);
	ck_assert_str_eq(cfg->global.identity_files[0],
			 "/run/credentials/sshpoold.service/id_ed25519");
	ck_assert_str_eq(cfg->global.known_hosts_file,
			 "/var/lib/sshpool/known_hosts");
	config_free(cfg);
	write_file(conf_path,
		   "IdentityFile /k/id\nUserKnownHostsFile /k/known\n", 47);
	cfg = config_load(conf_path, &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->global.n_identity_files, 1);
	ck_assert_str_eq(cfg->global.identity_files[0], "/k/id");
	ck_assert_str_eq(cfg->global.known_hosts_file, "/k/known");
	config_free(cfg);
	ck_assert_uint_eq(errs.n, 0);
	config_free(plain);
}
END_TEST

START_TEST(test_every_keyword)
{
	struct config *cfg;
	struct config_host_block *b;

	cfg = load_ok("Socket /tmp/x/s.sock\n"
		      "Workers 7\n"
		      "LogLevel DEBUG\n"
		      "MaxLineLength 2M\n"
		      "MaxHostsPerRequest 500\n"
		      "MaxStdinBytes 64K\n"
		      "User deploy\n"
		      "Port 2222\n"
		      "IdentityFile /k/one\n"
		      "IdentityFile /k/two\n"
		      "IdentityPassphraseFile /k/pass\n"
		      "UserKnownHostsFile /k/known\n"
		      "StrictHostKeyChecking accept-new\n"
		      "ConnectTimeout 30\n"
		      "MaxSessionsPerHost 9\n"
		      "MaxChannelsPerSession 3\n"
		      "MaxHandshakeRate 250\n"
		      "ServerAliveInterval 5\n"
		      "ServerAliveCountMax 7\n"
		      "ConnectionAttempts 4\n"
		      "ReconnectBaseDelay 250ms\n"
		      "ReconnectMaxDelay 2m\n"
		      "HostDownAfter 9\n"
		      "StopGraceTime 1.5\n"
		      "Host h1 h2,h3\n"
		      "\tUser u\n"
		      "\tPort 1\n"
		      "\tIdentityFile /b/id\n"
		      "\tIdentityPassphraseFile /b/pass\n"
		      "\tUserKnownHostsFile /b/known\n"
		      "\tStrictHostKeyChecking yes\n"
		      "\tConnectTimeout 1\n"
		      "\tMaxSessionsPerHost 1\n"
		      "\tMaxChannelsPerSession 1\n"
		      "\tServerAliveInterval 0\n"
		      "\tServerAliveCountMax 1\n"
		      "\tConnectionAttempts 100\n"
		      "\tReconnectBaseDelay 10ms\n"
		      "\tReconnectMaxDelay 20ms\n"
		      "\tHostDownAfter 1000\n"
		      "\tStopGraceTime 100ms\n");
	ck_assert_str_eq(cfg->path, conf_path);
	ck_assert_str_eq(cfg->socket_path, "/tmp/x/s.sock");
	ck_assert_int_eq(cfg->workers, 7);
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_DEBUG);
	ck_assert_uint_eq(cfg->max_line, 2 * 1024 * 1024);
	ck_assert_uint_eq(cfg->max_hosts, 500);
	ck_assert_uint_eq(cfg->max_stdin, 64 * 1024);
	ck_assert_str_eq(cfg->global.user, "deploy");
	ck_assert_int_eq(cfg->global.port, 2222);
	ck_assert_uint_eq(cfg->global.n_identity_files, 2);
	ck_assert_str_eq(cfg->global.identity_files[0], "/k/one");
	ck_assert_str_eq(cfg->global.identity_files[1], "/k/two");
	ck_assert_str_eq(cfg->global.identity_passphrase_file, "/k/pass");
	ck_assert_str_eq(cfg->global.known_hosts_file, "/k/known");
	ck_assert_int_eq(cfg->global.strict, CONFIG_STRICT_ACCEPT_NEW);
	ck_assert_int_eq(cfg->global.connect_timeout_ms, 30000);
	ck_assert_int_eq(cfg->global.max_sessions, 9);
	ck_assert_int_eq(cfg->global.max_channels, 3);
	ck_assert_int_eq(cfg->max_handshake_rate, 250);
	ck_assert_int_eq(cfg->global.server_alive_interval_ms, 5000);
	ck_assert_int_eq(cfg->global.server_alive_count_max, 7);
	ck_assert_int_eq(cfg->global.connection_attempts, 4);
	ck_assert_int_eq(cfg->global.reconnect_base_delay_ms, 250);
	ck_assert_int_eq(cfg->global.reconnect_max_delay_ms, 120000);
	ck_assert_int_eq(cfg->global.host_down_after, 9);
	ck_assert_int_eq(cfg->global.stop_grace_ms, 1500);

	ck_assert_uint_eq(cfg->n_blocks, 1);
	b = &cfg->blocks[0];
	ck_assert_int_eq(b->line, 25);
	ck_assert_uint_eq(b->n_patterns, 3);
	ck_assert_str_eq(b->patterns[0], "h1");
	ck_assert_str_eq(b->patterns[1], "h2");
	ck_assert_str_eq(b->patterns[2], "h3");
	ck_assert_str_eq(b->opts.user, "u");
	ck_assert_int_eq(b->opts.port, 1);
	ck_assert_uint_eq(b->opts.n_identity_files, 1);
	ck_assert_str_eq(b->opts.identity_files[0], "/b/id");
	ck_assert_str_eq(b->opts.identity_passphrase_file, "/b/pass");
	ck_assert_str_eq(b->opts.known_hosts_file, "/b/known");
	ck_assert_int_eq(b->opts.strict, CONFIG_STRICT_YES);
	ck_assert_int_eq(b->opts.connect_timeout_ms, 1000);
	ck_assert_int_eq(b->opts.max_sessions, 1);
	ck_assert_int_eq(b->opts.max_channels, 1);
	ck_assert_int_eq(b->opts.server_alive_interval_ms, 0);
	ck_assert_int_eq(b->opts.server_alive_count_max, 1);
	ck_assert_int_eq(b->opts.connection_attempts, 100);
	ck_assert_int_eq(b->opts.reconnect_base_delay_ms, 10);
	ck_assert_int_eq(b->opts.reconnect_max_delay_ms, 20);
	ck_assert_int_eq(b->opts.host_down_after, 1000);
	ck_assert_int_eq(b->opts.stop_grace_ms, 100);
	config_free(cfg);
}
END_TEST

START_TEST(test_loglevel_names)
{
	static const struct {
		const char *name;
		int level;
	} t[] = {
	    {"QUIET", LOG_LEVEL_ERROR}, {"error", LOG_LEVEL_ERROR},
	    {"Info", LOG_LEVEL_INFO},   {"VERBOSE", LOG_LEVEL_VERBOSE},
	    {"debug", LOG_LEVEL_DEBUG},
	};
	struct config *cfg;
	char text[64];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "LogLevel %s\n", t[i].name);
		cfg = load_ok(text);
		ck_assert_int_eq(cfg->log_level, t[i].level);
		config_free(cfg);
	}
	assert_one_error("LogLevel LOUD\n",
			 "1: LogLevel: unknown level \"LOUD\" "
			 "(QUIET, ERROR, INFO, VERBOSE or DEBUG)");
}
END_TEST

START_TEST(test_unset_takes_defaults)
{
	struct config *cfg, *def;

	/* Values equal to the "unset" markers must still count as set. */
	cfg = load_ok("Workers 0\nWorkers 5\nMaxStdinBytes 0\n"
		      "LogLevel ERROR\nLogLevel DEBUG\n"
		      "ServerAliveInterval 0\nServerAliveInterval 5\n"
		      "MaxHandshakeRate 7\nMaxHandshakeRate 8\n");
	ck_assert_int_eq(cfg->workers, 0);
	ck_assert_uint_eq(cfg->max_stdin, 0);
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_ERROR);
	ck_assert_int_eq(cfg->global.server_alive_interval_ms, 0);
	ck_assert_int_eq(cfg->max_handshake_rate, 7);
	config_free(cfg);

	cfg = load_ok("# nothing set\n\n   \n\t# indented comment\n");
	def = config_default();
	ck_assert_str_eq(cfg->socket_path, def->socket_path);
	ck_assert_str_eq(cfg->global.user, def->global.user);
	assert_default_values(cfg);
	ck_assert_str_eq(cfg->global.known_hosts_file,
			 def->global.known_hosts_file);
	ck_assert_uint_eq(cfg->global.n_identity_files,
			  def->global.n_identity_files);
	ck_assert_str_eq(cfg->global.identity_files[2],
			 def->global.identity_files[2]);
	config_free(def);
	config_free(cfg);
}
END_TEST

START_TEST(test_first_value_wins)
{
	struct config *cfg;

	cfg = load_ok("Port 1000\n"
		      "port 2000\n"
		      "User first\n"
		      "User second\n"
		      "Socket /a.sock\n"
		      "Socket /b.sock\n"
		      "IdentityFile /id1\n"
		      "IdentityFile /id2\n"
		      "Host x\n"
		      "StrictHostKeyChecking accept-new\n"
		      "StrictHostKeyChecking yes\n"
		      "IdentityFile /x1\n"
		      "IdentityFile /x2\n"
		      "IdentityFile /x3\n"
		      "Host y\n"
		      "Port 5\n");
	ck_assert_int_eq(cfg->global.port, 1000);
	ck_assert_str_eq(cfg->global.user, "first");
	ck_assert_str_eq(cfg->socket_path, "/a.sock");
	/* The file's IdentityFile list replaces the default list. */
	ck_assert_uint_eq(cfg->global.n_identity_files, 2);
	ck_assert_str_eq(cfg->global.identity_files[1], "/id2");
	ck_assert_uint_eq(cfg->n_blocks, 2);
	ck_assert_int_eq(cfg->blocks[0].opts.strict, CONFIG_STRICT_ACCEPT_NEW);
	ck_assert_uint_eq(cfg->blocks[0].opts.n_identity_files, 3);
	ck_assert_str_eq(cfg->blocks[0].opts.identity_files[2], "/x3");
	ck_assert_int_eq(cfg->blocks[0].opts.port, 0);
	ck_assert_int_eq(cfg->blocks[1].opts.port, 5);
	ck_assert_int_eq(cfg->blocks[1].opts.strict, -1);
	ck_assert_ptr_null(cfg->blocks[1].opts.user);
	config_free(cfg);

	/* A later duplicate is still checked. */
	assert_one_error("Port 22\nPort 0\n",
			 "2: Port: 0 is out of range (1..65535)");
}
END_TEST

START_TEST(test_syntax_variants)
{
	struct config *cfg;

	cfg = load_ok("port=2201\n"
		      "USER = bob\n"
		      "  ConnectTimeout =7   # trailing comment\n"
		      "Socket \"/tmp/with space/s.sock\"\n"
		      "IdentityFile \"/a b/id\"\n"
		      "IdentityFile /c/\"d e\"/id\n"
		      "IdentityFile \"/hash/#x\"\n"
		      "IdentityFile /tab/id#not-a-comment\t\r\n"
		      "MaxLineLength=4m\n"
		      "MaxStdinBytes 2m\n"
		      "Host=\"a b\" \"c\",d\n");
	ck_assert_int_eq(cfg->global.port, 2201);
	ck_assert_str_eq(cfg->global.user, "bob");
	ck_assert_int_eq(cfg->global.connect_timeout_ms, 7000);
	ck_assert_str_eq(cfg->socket_path, "/tmp/with space/s.sock");
	ck_assert_uint_eq(cfg->global.n_identity_files, 4);
	ck_assert_str_eq(cfg->global.identity_files[0], "/a b/id");
	ck_assert_str_eq(cfg->global.identity_files[1], "/c/d e/id");
	ck_assert_str_eq(cfg->global.identity_files[2], "/hash/#x");
	ck_assert_str_eq(cfg->global.identity_files[3],
			 "/tab/id#not-a-comment");
	ck_assert_uint_eq(cfg->max_line, 4 * 1024 * 1024);
	ck_assert_uint_eq(cfg->max_stdin, 2 * 1024 * 1024);
	ck_assert_uint_eq(cfg->n_blocks, 1);
	ck_assert_uint_eq(cfg->blocks[0].n_patterns, 3);
	ck_assert_str_eq(cfg->blocks[0].patterns[0], "a b");
	ck_assert_str_eq(cfg->blocks[0].patterns[1], "c");
	ck_assert_str_eq(cfg->blocks[0].patterns[2], "d");
	config_free(cfg);
}
END_TEST

START_TEST(test_tilde_expansion)
{
	struct config *cfg;
	char want[PATH_MAX];
	size_t len;

	cfg = load_ok("UserKnownHostsFile ~/kh\n"
		      "IdentityFile ~/.ssh/id_test\n"
		      "IdentityPassphraseFile ~/pass\n");
	len = strlen(cfg->global.known_hosts_file);
	ck_assert_uint_gt(len, 3);
	ck_assert_str_eq(cfg->global.known_hosts_file + len - 3, "/kh");
	ck_assert_int_eq(cfg->global.known_hosts_file[0], '/');
	snprintf(want, sizeof(want), "%.*s/.ssh/id_test", (int)(len - 3),
		 cfg->global.known_hosts_file);
	ck_assert_str_eq(cfg->global.identity_files[0], want);
	if (geteuid() == 0)
		ck_assert_str_eq(cfg->global.known_hosts_file, "/root/kh");
	config_free(cfg);

	/* With a home of "/" the slash is not doubled. */
	if (geteuid() == 0 && getpwuid(TEST_NO_PASSWD_UID) == NULL) {
		static const char text[] = "UserKnownHostsFile ~/kh\n";

		write_file(conf_path, text, strlen(text));
		ck_assert_int_eq(chmod(tmpdir, 0755), 0);
		ck_assert_int_eq(chmod(conf_path, 0644), 0);
		setenv("HOME", "/", 1);
		ck_assert_int_eq(seteuid(TEST_NO_PASSWD_UID), 0);
		cfg = config_load(conf_path, NULL);
		ck_assert_ptr_nonnull(cfg);
		ck_assert_str_eq(cfg->global.known_hosts_file, "/kh");
		config_free(cfg);
		ck_assert_int_eq(seteuid(0), 0);
	}
}
END_TEST

/* "Keyword value" must load; returns the config. */
static void
assert_value_ok(const char *kw, const char *value)
{
	struct config *cfg;
	char text[256];

	snprintf(text, sizeof(text), "%s %s\n", kw, value);
	cfg = load_ok(text);
	config_free(cfg);
}

static void
assert_range_error(const char *kw, const char *value, const char *range)
{
	char text[256], want[512];

	snprintf(text, sizeof(text), "%s %s\n", kw, value);
	snprintf(want, sizeof(want), "1: %s: %s is out of range (%s)", kw,
		 value, range);
	assert_one_error(text, want);
}

START_TEST(test_ranges)
{
	static const struct {
		const char *kw, *below, *min, *max, *above, *range;
	} t[] = {
	    {"Workers", NULL, "0", "256", "257", "0..256"},
	    {"MaxLineLength", "1023", "1024", "16777216", "16777217",
	     "1024..16777216"},
	    {"MaxHostsPerRequest", "0", "1", "100000", "100001", "1..100000"},
	    {"Port", "0", "1", "65535", "65536", "1..65535"},
	    {"ConnectTimeout", "0", "1", "3600", "3601", "1s..1h"},
	    {"ConnectTimeout", "999ms", "1000ms", "60m", "3600.001", "1s..1h"},
	    {"MaxSessionsPerHost", "0", "1", "64", "65", "1..64"},
	    {"MaxChannelsPerSession", "0", "1", "64", "65", "1..64"},
	    {"MaxHandshakeRate", "0", "1", "100000", "100001", "1..100000"},
	    {"ServerAliveInterval", "99ms", "100ms", "1h", "61m",
	     "0 or 100ms..1h"},
	    {"ServerAliveInterval", "0.099", "0", "3600s", "1.001h",
	     "0 or 100ms..1h"},
	    {"ServerAliveCountMax", "0", "1", "1000", "1001", "1..1000"},
	    {"ConnectionAttempts", "0", "1", "100", "101", "1..100"},
	    {"HostDownAfter", "0", "1", "1000", "1001", "1..1000"},
	    {"StopGraceTime", "99ms", "0.1", "1h", "3601", "100ms..1h"},
	    {"StopGraceTime", "0", "100ms", "60m", "2h", "100ms..1h"},
	    /* Alone, each is also checked against the other's default. */
	    {"ReconnectBaseDelay", "0", "1ms", "60s", "3601s", "1ms..1h"},
	    {"ReconnectMaxDelay", "0", "1s", "1h", "1.5h", "1ms..1h"},
	    {"MaxConnectionsPerUser", "0", "1", "100000", "100001",
	     "1..100000"},
	    {"MaxRequestsPerClient", "0", "1", "100000", "100001", "1..100000"},
	    {"MaxJobsPerClient", "0", "1", "10000000", "10000001",
	     "1..10000000"},
	    {"MaxJobs", "0", "1", "100000000", "100000001", "1..100000000"},
	    {"MaxEnvEntries", NULL, "0", "64", "65", "0..64"},
	    {"MaxJsonDepth", "1", "2", "16", "17", "2..16"},
	    {"AuditCommandLength", NULL, "0", "64K", "65537", "0..65536"},
	    {"ClientQueueHardTime", NULL, "0", "1h", "3601", "0s..1h"},
	    {"ShutdownTimeout", NULL, "0ms", "60m", "3600.001", "0s..1h"},
	    /* Alone, each size must also keep low < high < hard. */
	    {"ClientQueueLowWater", "65535", "64K", "4194303", "4294967297",
	     "65536..4294967296"},
	    {"ClientQueueHighWater", "63K", "1025K", "67108863", "5G",
	     "65536..4294967296"},
	    {"ClientQueueHardLimit", "0", "4194305", "4G", "4194305K",
	     "65536..4294967296"},
	};
	struct config *cfg;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].below != NULL)
			assert_range_error(t[i].kw, t[i].below, t[i].range);
		assert_value_ok(t[i].kw, t[i].min);
		assert_value_ok(t[i].kw, t[i].max);
		assert_range_error(t[i].kw, t[i].above, t[i].range);
		assert_range_error(t[i].kw, "99999999999999999999999",
				   t[i].range);
	}

	/* Suffixes at the edges. */
	cfg = load_ok("MaxLineLength 1k\nMaxStdinBytes 0\n");
	ck_assert_uint_eq(cfg->max_line, 1024);
	ck_assert_uint_eq(cfg->max_stdin, 0);
	config_free(cfg);
	cfg = load_ok("MaxLineLength 16M\nMaxStdinBytes 8M\n");
	ck_assert_uint_eq(cfg->max_stdin, 8u * 1024 * 1024);
	config_free(cfg);
	cfg = load_ok("MaxLineLength 16M\n");
	ck_assert_uint_eq(cfg->max_line, PROTO_MAX_LINE);
	config_free(cfg);
	assert_range_error("MaxLineLength", "17M", "1024..16777216");
	assert_range_error("MaxStdinBytes", "8193K", "0..8388608");
	assert_range_error("MaxStdinBytes", "18014398509481984M", "0..8388608");
	assert_range_error("ConnectTimeout", "9999999999999h", "1s..1h");
	assert_range_error("StopGraceTime", "25h", "100ms..1h");
}
END_TEST

/* IdentityAgent: a path, none, or a variable of the environment. */
START_TEST(test_identity_agent)
{
	struct config *cfg;

	cfg = load_ok("IdentityAgent /run/a.sock\n");
	ck_assert_str_eq(cfg->global.identity_agent, "/run/a.sock");
	config_free(cfg);
	cfg = load_ok("IdentityAgent none\n");
	ck_assert_str_eq(cfg->global.identity_agent, "none");
	config_free(cfg);
	ck_assert(setenv("SSH_AUTH_SOCK", "/tmp/agent.x/s", 1) == 0);
	ck_assert(setenv("TC_AGENT", "/tmp/agent.y/s", 1) == 0);
	cfg = load_ok("IdentityAgent SSH_AUTH_SOCK\nHost a\n"
		      "\tIdentityAgent $TC_AGENT\n");
	ck_assert_str_eq(cfg->global.identity_agent, "/tmp/agent.x/s");
	ck_assert_str_eq(cfg->blocks[0].opts.identity_agent, "/tmp/agent.y/s");
	config_free(cfg);
	ck_assert(unsetenv("SSH_AUTH_SOCK") == 0);
	cfg = load_ok("IdentityAgent SSH_AUTH_SOCK\n");
	ck_assert_str_eq(cfg->global.identity_agent, "none");
	config_free(cfg);
	assert_one_error("IdentityAgent agent.sock\n",
			 "1: IdentityAgent: \"agent.sock\" is not an "
			 "absolute path (use /... or ~/...)");
}
END_TEST

/*
 * A request carrying MaxStdinBytes of stdin fits in MaxLineLength: its
 * base64 is 4/3 of it, and CONFIG_LINE_ROOM is left for the rest.
 */
START_TEST(test_stdin_fits_line)
{
	struct config *cfg;
	size_t fits;

	/* The defaults fit each other. */
	cfg = load_ok("");
	ck_assert_uint_ge((cfg->max_line - CONFIG_LINE_ROOM) / 4 * 3,
			  cfg->max_stdin);
	ck_assert_uint_eq(cfg->max_stdin, PROTO_DEFAULT_MAX_STDIN);
	config_free(cfg);
	/* A smaller line without MaxStdinBytes shrinks its default. */
	cfg = load_ok("MaxLineLength 1M\n");
	fits = (1024u * 1024 - CONFIG_LINE_ROOM) / 4 * 3;
	ck_assert_uint_eq(cfg->max_stdin, fits);
	config_free(cfg);
	cfg = load_ok("MaxLineLength 1k\n");
	ck_assert_uint_eq(cfg->max_stdin, 0);
	config_free(cfg);
	/* The largest that fits is accepted, one byte more is not. */
	cfg = load_ok("MaxLineLength 1M\nMaxStdinBytes 688128\n");
	ck_assert_uint_eq(cfg->max_stdin, fits);
	config_free(cfg);
	assert_one_error("MaxStdinBytes 688129\nMaxLineLength 1M\n",
			 "2: MaxStdinBytes 688129 does not fit in "
			 "MaxLineLength 1M (base64 and 128K for the rest of "
			 "the request allow at most 672K)");
	assert_one_error("MaxStdinBytes 8M\n",
			 "1: MaxStdinBytes 8M does not fit in MaxLineLength "
			 "2M (base64 and 128K for the rest of the request "
			 "allow at most 1440K)");
}
END_TEST

/* The time syntax shared by every time keyword. */
START_TEST(test_time_values)
{
	static const struct {
		const char *text;
		int ms;
	} ok[] = {
	    {"15", 15000},    {"15s", 15000},     {"15S", 15000},
	    {"500ms", 500},   {"500MS", 500},     {"2m", 120000},
	    {"1h", 3600000},  {"1.5", 1500},      {"1.5s", 1500},
	    {"0.25m", 15000}, {"0.5h", 1800000},  {"1.001", 1001},
	    {"007", 7000},    {"1.000000", 1000}, {"3600000ms", 3600000},
	};
	static const char *const bad[] = {
	    "",     "s",     "ms",   "1.",           ".5",   "1.5ms", "0.1001",
	    "1e3",  "-1",    "+1",   "1 s",          "1sec", "1d",    "1x",
	    "1..5", "1.5.5", "0x10", "1.0000000001", "1m1s",
	};
	struct config *cfg;
	char text[128], want[256];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "ServerAliveInterval %s\n",
			 ok[i].text);
		cfg = load_ok(text);
		ck_assert_msg(cfg->global.server_alive_interval_ms == ok[i].ms,
			      "%s -> %d, want %d", ok[i].text,
			      cfg->global.server_alive_interval_ms, ok[i].ms);
		config_free(cfg);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "StopGraceTime \"%s\"\n", bad[i]);
		snprintf(
		    want, sizeof(want),
		    "1: StopGraceTime: bad time \"%s\" (a number with an "
		    "optional unit ms, s, m or h, e.g. 500ms, 15, 1.5s, 2m "
		    "or 1h)",
		    bad[i]);
		assert_one_error(text, want);
	}

	/* ConnectTimeout takes the same syntax, in milliseconds. */
	cfg = load_ok("ConnectTimeout 2.5\nHost a\nConnectTimeout 1m\n");
	ck_assert_int_eq(cfg->global.connect_timeout_ms, 2500);
	ck_assert_int_eq(cfg->blocks[0].opts.connect_timeout_ms, 60000);
	config_free(cfg);
}
END_TEST

START_TEST(test_reconnect_delays)
{
	struct config_errors errs = {NULL, 0};
	struct config *cfg;
	struct config_host_opts o;

	/* Equal is fine; each alone is fine within the other's default. */
	config_free(load_ok("ReconnectBaseDelay 5s\nReconnectMaxDelay 5s\n"));
	config_free(load_ok("ReconnectBaseDelay 1m\n"));
	config_free(load_ok("ReconnectMaxDelay 1s\n"));

	/* Both in one scope: at the later line, whatever the order. */
	assert_one_error(
	    "ReconnectBaseDelay 2m\nPort 1\nReconnectMaxDelay 1m\n",
	    "3: ReconnectBaseDelay must not exceed "
	    "ReconnectMaxDelay (2m > 1m)");
	assert_one_error("ReconnectMaxDelay 1500ms\nReconnectBaseDelay 2s\n",
			 "2: ReconnectBaseDelay must not exceed "
			 "ReconnectMaxDelay (2s > 1500ms)");
	/* One of them against the default of the other. */
	assert_one_error("User x\nReconnectMaxDelay 500ms\n",
			 "2: ReconnectBaseDelay must not exceed "
			 "ReconnectMaxDelay (1s > 500ms)");
	assert_one_error("ReconnectBaseDelay 61s\n",
			 "1: ReconnectBaseDelay must not exceed "
			 "ReconnectMaxDelay (61s > 1m)");
	/* Only the first value of a scope counts. */
	config_free(load_ok("ReconnectBaseDelay 1s\nReconnectBaseDelay 1h\n"));

	/* A Host block is completed from the global section. */
	assert_one_error("ReconnectBaseDelay 10s\n"
			 "ReconnectMaxDelay 20s\n"
			 "Host a\n"
			 "ReconnectMaxDelay 5s\n"
			 "Host b\n"
			 "Port 2\n",
			 "4: ReconnectBaseDelay must not exceed "
			 "ReconnectMaxDelay (10s > 5s)");
	assert_one_error("Host a\nUser u\nReconnectBaseDelay 2m\n",
			 "3: ReconnectBaseDelay must not exceed "
			 "ReconnectMaxDelay (2m > 1m)");
	/* Every bad scope is reported, the global one and the blocks. */
	ck_assert_ptr_null(load_text("ReconnectMaxDelay 100ms\n"
				     "Host a\n"
				     "ReconnectBaseDelay 50ms\n"
				     "Host b\n"
				     "ReconnectBaseDelay 200ms\n",
				     &errs));
	ck_assert_uint_eq(errs.n, 2);
	assert_error(&errs, 0,
		     "1: ReconnectBaseDelay must not exceed ReconnectMaxDelay "
		     "(1s > 100ms)");
	assert_error(&errs, 1,
		     "5: ReconnectBaseDelay must not exceed ReconnectMaxDelay "
		     "(200ms > 100ms)");
	config_errors_free(&errs);

	/* A block may raise both above the global maximum. */
	cfg = load_ok("ReconnectMaxDelay 30s\n"
		      "Host slow\n"
		      "ReconnectBaseDelay 40s\n"
		      "ReconnectMaxDelay 10m\n");
	config_host(cfg, "slow", &o);
	ck_assert_int_eq(o.reconnect_base_delay_ms, 40000);
	ck_assert_int_eq(o.reconnect_max_delay_ms, 600000);
	config_host(cfg, "fast", &o);
	ck_assert_int_eq(o.reconnect_base_delay_ms, 1000);
	ck_assert_int_eq(o.reconnect_max_delay_ms, 30000);
	config_free(cfg);
}
END_TEST

START_TEST(test_bad_numbers)
{
	assert_one_error("Port abc\n", "1: Port: bad number \"abc\"");
	assert_one_error("Port -1\n", "1: Port: bad number \"-1\"");
	assert_one_error("Port +22\n", "1: Port: bad number \"+22\"");
	assert_one_error("Port 22x\n", "1: Port: bad number \"22x\"");
	assert_one_error("Port 0x16\n", "1: Port: bad number \"0x16\"");
	assert_one_error("Port \"\"\n", "1: Port: bad number \"\"");
	/* Suffixes only where sizes are expected. */
	assert_one_error("Port 1K\n", "1: Port: bad number \"1K\"");
	assert_one_error("Workers 1k\n", "1: Workers: bad number \"1k\"");
	assert_one_error("MaxLineLength 1T\n",
			 "1: MaxLineLength: bad number \"1T\"");
	assert_one_error(
	    "MaxLineLength 1G\n",
	    "1: MaxLineLength: 1G is out of range (1024..16777216)");
	assert_one_error("MaxJobs 1K\n", "1: MaxJobs: bad number \"1K\"");
	assert_one_error("ClientQueueLowWater 1.5M\n",
			 "1: ClientQueueLowWater: bad number \"1.5M\"");
	assert_one_error("MaxLineLength 1KB\n",
			 "1: MaxLineLength: bad number \"1KB\"");
	assert_one_error("MaxStdinBytes K\n",
			 "1: MaxStdinBytes: bad number \"K\"");
}
END_TEST

START_TEST(test_error_messages)
{
	assert_one_error("Foo bar\n", "1: unknown keyword \"Foo\"");
	assert_one_error("# c\n\nPortt 22\n", "3: unknown keyword \"Portt\"");
	assert_one_error("Port\n", "1: Port: missing value");
	assert_one_error("Port   # only a comment\n", "1: Port: missing value");
	assert_one_error("Port=\n", "1: Port: missing value");
	assert_one_error("Host\n", "1: Host: missing value");
	assert_one_error("Host ,\n", "1: Host: missing value");
	assert_one_error("Port 22 23\n", "1: Port: extra argument \"23\"");
	assert_one_error("User a b\n", "1: User: extra argument \"b\"");
	assert_one_error("=22\n", "1: missing keyword");
	assert_one_error("Po\"rt\" 22\n", "1: quote in keyword");
	assert_one_error("User \"bob\n", "1: unterminated quote");
	assert_one_error("User \"\"\n", "1: User: empty value");
	assert_one_error("Host a\nSocket /s.sock\n",
			 "2: Socket is not allowed in a Host block");
	assert_one_error("Host a\nMaxStdinBytes 1\n",
			 "2: MaxStdinBytes is not allowed in a Host block");
	assert_one_error("Host a\nMaxHandshakeRate 1\n",
			 "2: MaxHandshakeRate is not allowed in a Host block");
	assert_one_error("ServerAliveCountMax 3x\n",
			 "1: ServerAliveCountMax: bad number \"3x\"");
	assert_one_error("HostDownAfter 1.5\n",
			 "1: HostDownAfter: bad number \"1.5\"");
	assert_one_error("ConnectionAttempts\n",
			 "1: ConnectionAttempts: missing value");
	assert_one_error("StopGraceTime 1 2\n",
			 "1: StopGraceTime: extra argument \"2\"");
	assert_one_error("Host a !\n", "1: Host: empty negated pattern");
	assert_one_error("IdentityFile id_rsa\n",
			 "1: IdentityFile: \"id_rsa\" is not an absolute path "
			 "(use /... or ~/...)");
	assert_one_error(
	    "UserKnownHostsFile ~root/kh\n",
	    "1: UserKnownHostsFile: \"~root/kh\" is not an absolute path "
	    "(use /... or ~/...)");
	assert_one_error(
	    "IdentityPassphraseFile \"\"\n",
	    "1: IdentityPassphraseFile: \"\" is not an absolute path "
	    "(use /... or ~/...)");
	assert_one_error("Socket run/s.sock\n",
			 "1: Socket: \"run/s.sock\" is not an absolute path "
			 "(use /... or ~/...)");
	assert_one_error(
	    "StrictHostKeyChecking no\n",
	    "1: StrictHostKeyChecking: \"no\" is not supported: sshpoold "
	    "never accepts unknown host keys silently; use accept-new to "
	    "learn the keys of new hosts");
	assert_one_error(
	    "StrictHostKeyChecking off\n",
	    "1: StrictHostKeyChecking: \"off\" is not supported: sshpoold "
	    "never accepts unknown host keys silently; use accept-new to "
	    "learn the keys of new hosts");
	assert_one_error("StrictHostKeyChecking ask\n",
			 "1: StrictHostKeyChecking: bad value \"ask\" "
			 "(yes or accept-new)");
}
END_TEST

START_TEST(test_error_limits)
{
	char *text, path[200], want[256];
	size_t i, off;

	/* Socket paths must fit sockaddr_un.sun_path (108 bytes). */
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[107] = '\0';
	assert_value_ok("Socket", path);
	path[107] = 'a';
	path[108] = '\0';
	snprintf(want, sizeof(want), "Socket %s\n", path);
	assert_one_error(
	    want, "1: Socket: path too long for a Unix socket (max 107 bytes)");

	/*
	 * Paths over PATH_MAX: only reachable through "~/" with a long home,
	 * so as a uid without a passwd entry and a long $HOME.
	 */
	if (geteuid() == 0 && getpwuid(TEST_NO_PASSWD_UID) == NULL) {
		struct config_errors errs = {NULL, 0};
		char home[600];

		memset(home, 'h', sizeof(home) - 1);
		home[0] = '/';
		home[sizeof(home) - 1] = '\0';
		text = malloc(CONFIG_MAX_LINE + 1);
		off = (size_t)snprintf(text, 64, "IdentityFile ~/");
		for (; off < CONFIG_MAX_LINE - 1; off++)
			text[off] = off % 100 == 0 ? '/' : 'p';
		text[off++] = '\n';
		write_file(conf_path, text, off);
		free(text);
		ck_assert_int_eq(chmod(tmpdir, 0755), 0);
		ck_assert_int_eq(chmod(conf_path, 0644), 0);
		setenv("HOME", home, 1);
		ck_assert_int_eq(seteuid(TEST_NO_PASSWD_UID), 0);
		ck_assert_ptr_null(config_load(conf_path, &errs));
		ck_assert_int_eq(seteuid(0), 0);
		ck_assert_uint_eq(errs.n, 1);
		snprintf(want, sizeof(want),
			 "1: IdentityFile: path too long (max %d bytes)",
			 PATH_MAX - 1);
		assert_error(&errs, 0, want);
		config_errors_free(&errs);
	}

	/* User names. */
	memset(path, 'u', 65);
	path[65] = '\0';
	snprintf(want, sizeof(want), "User %s\n", path);
	assert_one_error(want, "1: User: name too long (max 64 bytes)");
	path[64] = '\0';
	assert_value_ok("User", path);
	assert_one_error("User \"a\x01\"\n",
			 "1: User: bad character in \"a\x01\"");

	/* 16 identity files per scope, then an error. */
	text = calloc(1, 4096);
	for (i = 0, off = 0; i < CONFIG_MAX_IDENTITY_FILES; i++)
		off += (size_t)snprintf(text + off, 4096 - off,
					"IdentityFile /id%zu\n", i);
	config_free(load_ok(text));
	strcat(text, "IdentityFile /one-too-many\n");
	assert_one_error(text, "17: IdentityFile: too many files (max 16)");
	free(text);
}
END_TEST

START_TEST(test_line_length)
{
	char *text;
	size_t len = CONFIG_MAX_LINE;

	/* A line of exactly CONFIG_MAX_LINE bytes is fine. */
	text = malloc(len + 64);
	memset(text, 'x', len);
	text[0] = '#';
	text[len] = '\n';
	memcpy(text + len + 1, "Port 7\n", 8);
	config_free(load_ok(text));

	/* One more byte is an error, and parsing goes on after it. */
	text = realloc(text, len + 64);
	memset(text, 'x', len + 1);
	text[0] = '#';
	text[len + 1] = '\n';
	memcpy(text + len + 2, "Port 0\n", 8);
	{
		struct config_errors errs = {NULL, 0};

		ck_assert_ptr_null(load_text(text, &errs));
		ck_assert_uint_eq(errs.n, 2);
		assert_error(&errs, 0, "1: line too long (max 4096 bytes)");
		assert_error(&errs, 1, "2: Port: 0 is out of range (1..65535)");
		config_errors_free(&errs);
	}
	/* Also at the end of a file without a final newline. */
	text[len + 1] = '\0';
	assert_one_error(text, "1: line too long (max 4096 bytes)");
	free(text);

	/* A NUL byte is refused; the last line may lack its newline. */
	write_file(conf_path, "Port 2\0\n", 8);
	{
		struct config_errors errs = {NULL, 0};

		ck_assert_ptr_null(config_load(conf_path, &errs));
		ck_assert_uint_eq(errs.n, 1);
		assert_error(&errs, 0, "1: NUL byte in line");
		config_errors_free(&errs);
	}
	{
		struct config *cfg = load_ok("Port 2\r\nUser x");

		ck_assert_int_eq(cfg->global.port, 2);
		ck_assert_str_eq(cfg->global.user, "x");
		config_free(cfg);
	}
}
END_TEST

START_TEST(test_host_limits)
{
	struct config_errors errs = {NULL, 0};
	struct config *cfg;
	char *text;
	size_t i, off, size;

	/* CONFIG_MAX_PATTERNS patterns on a line, then an error. */
	size = 16 * (CONFIG_MAX_PATTERNS + 2);
	text = malloc(size);
	off = (size_t)snprintf(text, size, "Host");
	for (i = 0; i < CONFIG_MAX_PATTERNS; i++)
		off += (size_t)snprintf(text + off, size - off,
					i % 2 == 0 ? " h%zu" : ",h%zu", i);
	snprintf(text + off, size - off, "\n");
	cfg = load_ok(text);
	ck_assert_uint_eq(cfg->blocks[0].n_patterns, CONFIG_MAX_PATTERNS);
	ck_assert_str_eq(cfg->blocks[0].patterns[63], "h63");
	config_free(cfg);
	snprintf(text + off, size - off, " h64 h65\n");
	assert_one_error(text, "1: Host: too many patterns (max 64)");
	free(text);

	/* CONFIG_MAX_HOST_BLOCKS blocks, then one error only. */
	size = 32 * (CONFIG_MAX_HOST_BLOCKS + 3);
	text = malloc(size);
	for (i = 0, off = 0; i < CONFIG_MAX_HOST_BLOCKS; i++)
		off += (size_t)snprintf(text + off, size - off,
					"Host h%zu\nPort 1\n", i);
	cfg = load_ok(text);
	ck_assert_uint_eq(cfg->n_blocks, CONFIG_MAX_HOST_BLOCKS);
	config_free(cfg);
	snprintf(text + off, size - off, "Host x\nPort 1\nHost y\nPort 0\n");
	ck_assert_ptr_null(load_text(text, &errs));
	ck_assert_uint_eq(errs.n, 2);
	assert_error(&errs, 0, "8193: too many Host blocks (max 4096)");
	assert_error(&errs, 1, "8196: Port: 0 is out of range (1..65535)");
	config_errors_free(&errs);
	free(text);
}
END_TEST

START_TEST(test_errors_collected)
{
	struct config_errors errs = {NULL, 0};
	char *text, want[64];
	size_t i, off, size;

	/* errs is appended to: earlier entries stay. */
	errs.lines = malloc(sizeof(*errs.lines));
	errs.lines[0] = strdup("earlier");
	errs.n = 1;
	ck_assert_ptr_null(load_text("Port 22\n"
				     "Bogus 1\n"
				     "Workers many\n"
				     "User ok\n"
				     "Host a\n"
				     "LogLevel INFO\n"
				     "Port 0\n",
				     &errs));
	ck_assert_uint_eq(errs.n, 5);
	ck_assert_str_eq(errs.lines[0], "earlier");
	assert_error(&errs, 1, "2: unknown keyword \"Bogus\"");
	assert_error(&errs, 2, "3: Workers: bad number \"many\"");
	assert_error(&errs, 3, "6: LogLevel is not allowed in a Host block");
	assert_error(&errs, 4, "7: Port: 0 is out of range (1..65535)");
	config_errors_free(&errs);

	/* CONFIG_MAX_ERRORS errors, then one "too many errors" line. */
	size = 16 * (CONFIG_MAX_ERRORS + 50);
	text = malloc(size);
	for (i = 0, off = 0; i < CONFIG_MAX_ERRORS + 50; i++)
		off += (size_t)snprintf(text + off, size - off, "Bad%zu\n", i);
	ck_assert_ptr_null(load_text(text, &errs));
	ck_assert_uint_eq(errs.n, CONFIG_MAX_ERRORS + 1);
	assert_error(&errs, 0, "1: unknown keyword \"Bad0\"");
	snprintf(want, sizeof(want), "%d: unknown keyword \"Bad%d\"",
		 CONFIG_MAX_ERRORS, CONFIG_MAX_ERRORS - 1);
	assert_error(&errs, CONFIG_MAX_ERRORS - 1, want);
	snprintf(want, sizeof(want), "%d: too many errors",
		 CONFIG_MAX_ERRORS + 1);
	assert_error(&errs, CONFIG_MAX_ERRORS, want);
	config_errors_free(&errs);
	free(text);

	/* errs may be NULL: the result still says whether it failed. */
	ck_assert_ptr_null(load_text("Bogus\n", NULL));
}
END_TEST

START_TEST(test_unreadable)
{
	struct config_errors errs = {NULL, 0};
	char path[PATH_MAX + 32], want[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	ck_assert_ptr_null(config_load(path, &errs));
	ck_assert_uint_eq(errs.n, 1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ck_assert_str_eq(errs.lines[0], want);
	config_errors_free(&errs);

	/* A directory opens but cannot be read. */
	ck_assert_ptr_null(config_load(tmpdir, &errs));
	ck_assert_uint_eq(errs.n, 1);
	snprintf(want, sizeof(want), "%s:1: read error: Is a directory",
		 tmpdir);
	ck_assert_str_eq(errs.lines[0], want);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_host_resolution)
{
	struct config *cfg;
	struct config_host_opts o;

	cfg = load_ok("User globaluser\n"
		      "ConnectTimeout 20\n"
		      "IdentityFile /g/id\n"
		      "Host web1\n"
		      "Port 1001\n"
		      "Host web* !web3\n"
		      "Port 1002\n"
		      "User webuser\n"
		      "IdentityFile /w/id1\n"
		      "IdentityFile /w/id2\n"
		      "Host *,!web2\n"
		      "ConnectTimeout 5\n"
		      "User everyone\n"
		      "StrictHostKeyChecking accept-new\n"
		      "Host !*\n"
		      "Port 9\n"
		      "Host *\n"
		      "MaxChannelsPerSession 2\n"
		      "IdentityFile /star/id\n");

	config_host(cfg, "web1", &o);
	ck_assert_int_eq(o.port, 1001);               /* first block */
	ck_assert_str_eq(o.user, "webuser");          /* second block */
	ck_assert_int_eq(o.connect_timeout_ms, 5000); /* third */
	ck_assert_int_eq(o.strict, CONFIG_STRICT_ACCEPT_NEW);
	ck_assert_int_eq(o.max_channels, 2); /* Host * */
	ck_assert_int_eq(o.max_sessions, 4); /* default */
	ck_assert_uint_eq(o.n_identity_files, 2);
	ck_assert_str_eq(o.identity_files[0], "/w/id1");
	ck_assert_str_eq(o.identity_files[1], "/w/id2");
	ck_assert_ptr_eq(o.user, cfg->blocks[1].opts.user); /* borrowed */

	config_host(cfg, "WEB2", &o); /* names match case-insensitively */
	ck_assert_int_eq(o.port, 1002);
	ck_assert_str_eq(o.user, "webuser");
	ck_assert_int_eq(o.connect_timeout_ms, 20000); /* negated: global */
	ck_assert_int_eq(o.strict, CONFIG_STRICT_YES);

	config_host(cfg, "web3", &o); /* excluded from web* */
	ck_assert_int_eq(o.port, 22);
	ck_assert_str_eq(o.user, "everyone");
	ck_assert_uint_eq(o.n_identity_files, 1);
	ck_assert_str_eq(o.identity_files[0], "/star/id");

	config_host(cfg, "db", &o);
	ck_assert_int_eq(o.port, 22); /* "!*" alone matches nothing */
	ck_assert_str_eq(o.user, "everyone");
	ck_assert_str_eq(o.known_hosts_file, cfg->global.known_hosts_file);
	ck_assert_ptr_null(o.identity_passphrase_file);
	ck_assert_int_eq(o.max_channels, 2);
	config_free(cfg);

	/* Without Host blocks, the global values. */
	cfg = config_default();
	config_host(cfg, "any", &o);
	ck_assert_int_eq(o.port, cfg->global.port);
	ck_assert_str_eq(o.user, cfg->global.user);
	ck_assert_uint_eq(o.n_identity_files, 3);
	ck_assert_int_eq(o.max_sessions, 4);
	config_free(cfg);
}
END_TEST

/* Every member resolves from a matching block, else from the global. */
START_TEST(test_host_every_member)
{
	struct config *cfg;
	struct config_host_opts o;

	cfg = load_ok("IdentityPassphraseFile /g/pass\n"
		      "Host other\n"
		      "Host h\n"
		      "User u\n"
		      "Port 2\n"
		      "IdentityFile /b/id\n"
		      "IdentityPassphraseFile /b/pass\n"
		      "UserKnownHostsFile /b/known\n"
		      "StrictHostKeyChecking accept-new\n"
		      "ConnectTimeout 3\n"
		      "MaxSessionsPerHost 5\n"
		      "MaxChannelsPerSession 6\n"
		      "ServerAliveInterval 0\n"
		      "ServerAliveCountMax 11\n"
		      "ConnectionAttempts 12\n"
		      "ReconnectBaseDelay 13ms\n"
		      "ReconnectMaxDelay 14ms\n"
		      "HostDownAfter 15\n"
		      "StopGraceTime 16s\n");
	config_host(cfg, "h", &o);
	ck_assert_str_eq(o.user, "u");
	ck_assert_int_eq(o.port, 2);
	ck_assert_uint_eq(o.n_identity_files, 1);
	ck_assert_str_eq(o.identity_files[0], "/b/id");
	ck_assert_str_eq(o.identity_passphrase_file, "/b/pass");
	ck_assert_str_eq(o.known_hosts_file, "/b/known");
	ck_assert_int_eq(o.strict, CONFIG_STRICT_ACCEPT_NEW);
	ck_assert_int_eq(o.connect_timeout_ms, 3000);
	ck_assert_int_eq(o.max_sessions, 5);
	ck_assert_int_eq(o.max_channels, 6);
	ck_assert_int_eq(o.server_alive_interval_ms, 0); /* 0 is set: off */
	ck_assert_int_eq(o.server_alive_count_max, 11);
	ck_assert_int_eq(o.connection_attempts, 12);
	ck_assert_int_eq(o.reconnect_base_delay_ms, 13);
	ck_assert_int_eq(o.reconnect_max_delay_ms, 14);
	ck_assert_int_eq(o.host_down_after, 15);
	ck_assert_int_eq(o.stop_grace_ms, 16000);

	config_host(cfg, "not-h", &o);
	ck_assert_str_eq(o.user, cfg->global.user);
	ck_assert_int_eq(o.port, 22);
	ck_assert_uint_eq(o.n_identity_files, 3);
	ck_assert_str_eq(o.identity_files[0], cfg->global.identity_files[0]);
	ck_assert_str_eq(o.identity_passphrase_file, "/g/pass");
	ck_assert_str_eq(o.known_hosts_file, cfg->global.known_hosts_file);
	ck_assert_int_eq(o.strict, CONFIG_STRICT_YES);
	ck_assert_int_eq(o.connect_timeout_ms, 10000);
	ck_assert_int_eq(o.max_sessions, 4);
	ck_assert_int_eq(o.max_channels, 8);
	ck_assert_int_eq(o.server_alive_interval_ms, 15000);
	ck_assert_int_eq(o.server_alive_count_max, 3);
	ck_assert_int_eq(o.connection_attempts, 1);
	ck_assert_int_eq(o.reconnect_base_delay_ms, 1000);
	ck_assert_int_eq(o.reconnect_max_delay_ms, 60000);
	ck_assert_int_eq(o.host_down_after, 3);
	ck_assert_int_eq(o.stop_grace_ms, 2000);
	config_free(cfg);

	/* The first matching block wins; a block's 0 (off) beats the
	 * global value, an unset block does not. */
	cfg = load_ok("ServerAliveInterval 30s\n"
		      "Host quiet\n"
		      "ServerAliveInterval 0\n"
		      "Host q*\n"
		      "ServerAliveInterval 1s\n"
		      "StopGraceTime 5s\n"
		      "Host *\n"
		      "User x\n");
	config_host(cfg, "quiet", &o);
	ck_assert_int_eq(o.server_alive_interval_ms, 0);
	ck_assert_int_eq(o.stop_grace_ms, 5000);
	config_host(cfg, "qq", &o);
	ck_assert_int_eq(o.server_alive_interval_ms, 1000);
	config_host(cfg, "zz", &o);
	ck_assert_int_eq(o.server_alive_interval_ms, 30000);
	ck_assert_int_eq(o.stop_grace_ms, 2000);
	ck_assert_int_eq(cfg->blocks[2].opts.server_alive_interval_ms, -1);
	config_free(cfg);
}
END_TEST

/* config_hostname(value, host) must be want. */
static void
assert_expands(const char *value, const char *host, const char *want)
{
	char *got = config_hostname(value, host);

	ck_assert_msg(strcmp(got, want) == 0, "%s for %s: \"%s\", want \"%s\"",
		      value != NULL ? value : "(unset)", host, got, want);
	free(got);
}

/* The HostName a host resolves to, expanded, must be want. */
static void
assert_hostname(const struct config *cfg, const char *host, const char *want)
{
	struct config_host_opts o;

	config_host(cfg, host, &o);
	assert_expands(o.hostname, host, want);
}

/*
 * HostName globally and in Host blocks: Host patterns match the name
 * given, %h is that name, the first value of a scope wins, the first
 * matching block beats the global value, unset is the name itself.
 */
START_TEST(test_hostname)
{
	struct config *cfg;
	char *big, *expanded;

	cfg = load_ok("# nothing\n");
	ck_assert_ptr_null(cfg->global.hostname);
	assert_hostname(cfg, "web1", "web1");
	config_free(cfg);

	cfg = load_ok("HostName 10.1.2.3\n");
	ck_assert_str_eq(cfg->global.hostname, "10.1.2.3");
	assert_hostname(cfg, "anything", "10.1.2.3");
	config_free(cfg);

	cfg = load_ok("HostName %h.global.example\n"
		      "Host web1\n"
		      "HostName 10.1.2.3\n"
		      "Host *.prod\n"
		      "HostName=%h.example.net\n"
		      "Host v6\n"
		      "HostName fe80::1%%eth0\n"
		      "Host *\n"
		      "Port 2222\n");
	assert_hostname(cfg, "web1", "10.1.2.3");
	assert_hostname(cfg, "WEB1", "10.1.2.3"); /* patterns ignore case */
	assert_hostname(cfg, "a.prod", "a.prod.example.net");
	assert_hostname(cfg, "v6", "fe80::1%eth0");
	assert_hostname(cfg, "db", "db.global.example");
	ck_assert_ptr_null(cfg->blocks[3].opts.hostname);
	config_free(cfg);

	/* First value of a scope, first matching block. */
	cfg = load_ok("HostName g1\n"
		      "HostName g2\n"
		      "Host h\n"
		      "HostName b1\n"
		      "HostName b2\n"
		      "Host h *\n"
		      "HostName star\n");
	ck_assert_str_eq(cfg->global.hostname, "g1");
	assert_hostname(cfg, "h", "b1");
	assert_hostname(cfg, "other", "star");
	config_free(cfg);

	/* A later duplicate is checked all the same. */
	assert_one_error("HostName a\nHostName %x\n",
			 "2: HostName: \"%x\": % must be followed by h (the "
			 "host name given) or %");

	/* Expansion: %h every time, %% once, nothing else touched. */
	assert_expands("%h", "web1", "web1");
	assert_expands("%h-%h.example", "a", "a-a.example");
	assert_expands("100%%", "a", "100%");
	assert_expands("%%h", "a", "%h");
	assert_expands("%%%h", "a", "%a");
	assert_expands(NULL, "a.b", "a.b");
	/* Past CONFIG_MAX_HOSTNAME once expanded: kept whole, never cut to
	 * another name; such a name does not resolve. */
	big = malloc(CONFIG_MAX_HOSTNAME + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', CONFIG_MAX_HOSTNAME);
	big[CONFIG_MAX_HOSTNAME] = '\0';
	expanded = config_hostname("%h.%h", big);
	free(big);
	ck_assert_uint_eq(strlen(expanded), 2 * CONFIG_MAX_HOSTNAME + 1);
	free(expanded);
}
END_TEST

/*
 * ForwardAgent yes in a file that names no IdentityAgent loads, with a
 * warning per place (a Host block's naming its line); with an agent
 * anywhere, none.
 */
START_TEST(test_forward_agent_warning)
{
	struct config_errors w = {NULL, 0};
	struct config *cfg;

	cfg = load_ok("ForwardAgent yes\nHost web*\n\tForwardAgent yes\n");
	config_warnings(cfg, &w);
	ck_assert_uint_eq(w.n, 2);
	ck_assert_ptr_nonnull(strstr(w.lines[0], ": ForwardAgent yes (global)"
						 ": no IdentityAgent applies"));
	ck_assert_ptr_nonnull(
	    strstr(w.lines[1], ":2: ForwardAgent yes in this Host block"));
	config_errors_free(&w);
	config_free(cfg);
	cfg = load_ok("Host web*\n\tForwardAgent yes\nHost db*\n"
		      "\tIdentityAgent /run/agent.sock\n");
	config_warnings(cfg, &w);
	ck_assert_uint_eq(w.n, 0);
	config_errors_free(&w);
	config_free(cfg);
}
END_TEST

/* Bad HostName values, each one error naming its line. */
START_TEST(test_hostname_errors)
{
	static const char *const bad_chars[] = {
	    "\"a b\"", "\"a\tb\"", "\"a\x01\"", "a,b",    "*",  "web?",
	    "!web",    "[::1]",    "a/b",       "u@host", "a#b"};
	char text[CONFIG_MAX_HOSTNAME + 64], want[CONFIG_MAX_HOSTNAME + 128];
	char value[CONFIG_MAX_HOSTNAME + 2], *unquoted;
	struct config *cfg;
	size_t i;

	assert_one_error("HostName \"\"\n", "1: HostName: empty value");
	assert_one_error("Host h\nHostName \"\"\n", "2: HostName: empty value");

	/* The length limit, crossed by one byte. */
	memset(value, 'a', sizeof(value));
	value[CONFIG_MAX_HOSTNAME] = '\0';
	snprintf(text, sizeof(text), "HostName %s\n", value);
	cfg = load_ok(text);
	ck_assert_uint_eq(strlen(cfg->global.hostname), CONFIG_MAX_HOSTNAME);
	config_free(cfg);
	value[CONFIG_MAX_HOSTNAME] = 'a';
	value[CONFIG_MAX_HOSTNAME + 1] = '\0';
	snprintf(text, sizeof(text), "Host h\nHostName %s\n", value);
	snprintf(want, sizeof(want),
		 "2: HostName: name too long (max %d bytes)",
		 CONFIG_MAX_HOSTNAME);
	assert_one_error(text, want);

	/* % takes h or % only. */
	assert_one_error("HostName %d.example\n",
			 "1: HostName: \"%d.example\": % must be followed by "
			 "h (the host name given) or %");
	assert_one_error("HostName a%\n",
			 "1: HostName: \"a%\": % must be followed by h (the "
			 "host name given) or %");
	assert_one_error("HostName %H\n",
			 "1: HostName: \"%H\": % must be followed by h (the "
			 "host name given) or %");

	assert_one_error("HostName -oProxyCommand=x\n",
			 "1: HostName: \"-oProxyCommand=x\" must not start "
			 "with \"-\"");
	for (i = 0; i < sizeof(bad_chars) / sizeof(bad_chars[0]); i++) {
		snprintf(text, sizeof(text), "HostName %s\n", bad_chars[i]);
		unquoted = strdup(bad_chars[i]);
		ck_assert_ptr_nonnull(unquoted);
		if (unquoted[0] == '"') {
			memmove(unquoted, unquoted + 1, strlen(unquoted));
			unquoted[strlen(unquoted) - 1] = '\0';
		}
		snprintf(want, sizeof(want),
			 "1: HostName: bad character in \"%s\" (letters, "
			 "digits, \".\", \"-\", \"_\", \":\", %%h and %%%%)",
			 unquoted);
		free(unquoted);
		assert_one_error(text, want);
	}
}
END_TEST

static int
match1(const char *list, const char *host)
{
	char *p = (char *)list;

	return config_match_patterns(&p, 1, host);
}

/* The ProxyJump a host resolves to, NULL for unset. */
static void
assert_jump(const struct config *cfg, const char *host, const char *want)
{
	struct config_host_opts o;

	config_host(cfg, host, &o);
	if (want == NULL)
		ck_assert_ptr_null(o.proxy_jump);
	else
		ck_assert_str_eq(o.proxy_jump, want);
}

/*
 * ProxyJump: hops in order, user and port optional, IPv6 in brackets;
 * the first value obtained wins, so a Host block's "none" overrides a
 * later global chain, as in OpenSSH.
 */
START_TEST(test_proxy_jump)
{
	struct config *cfg;

	cfg = load_ok("# nothing\n");
	ck_assert_ptr_null(cfg->global.proxy_jump);
	assert_jump(cfg, "web1", NULL);
	config_free(cfg);

	cfg = load_ok("Host *.prod\n"
		      "\tProxyJump bastion\n"
		      "Host inner\n"
		      "\tProxyJump ops@b1:2222,b2,[::1]:22,[fe80::2]\n"
		      "Host direct\n"
		      "\tProxyJump none\n"
		      "Host *\n"
		      "\tProxyJump gw\n"
		      "Host *.prod\n"
		      "\tProxyJump later\n");
	assert_jump(cfg, "a.prod", "bastion");
	assert_jump(cfg, "inner", "ops@b1:2222,b2,[::1]:22,[fe80::2]");
	assert_jump(cfg, "direct", "none");
	assert_jump(cfg, "other", "gw");
	config_free(cfg);

	/* Global: first value wins; a block's none still overrides it. */
	cfg = load_ok("ProxyJump g1\n"
		      "ProxyJump g2\n"
		      "Host direct\n"
		      "\tProxyJump none\n");
	ck_assert_str_eq(cfg->global.proxy_jump, "g1");
	assert_jump(cfg, "x", "g1");
	assert_jump(cfg, "direct", "none");
	config_free(cfg);

	/* Exactly CONFIG_MAX_JUMP_HOPS hops load. */
	ck_assert_int_eq(CONFIG_MAX_JUMP_HOPS, 8);
	cfg = load_ok("ProxyJump h1,h2,h3,h4,h5,h6,h7,h8\n");
	config_free(cfg);
}
END_TEST

/* Bad ProxyJump values: one error each, with the line and the hop. */
START_TEST(test_proxy_jump_errors)
{
	assert_one_error("ProxyJump h1,h2,h3,h4,h5,h6,h7,h8,h9\n",
			 "1: ProxyJump: too many jump hosts (max 8)");
	assert_one_error("Host x\n\tProxyJump a,,b\n",
			 "2: ProxyJump: jump host 2: empty");
	assert_one_error("ProxyJump a,\n", "1: ProxyJump: jump host 2: empty");
	assert_one_error("ProxyJump ,a\n", "1: ProxyJump: jump host 1: empty");
	assert_one_error("ProxyJump \"\"\n",
			 "1: ProxyJump: empty jump host list");
	assert_one_error("ProxyJump a:0\n",
			 "1: ProxyJump: jump host 1 \"a:0\": port out of "
			 "range (1..65535)");
	assert_one_error("ProxyJump good,b:x\n",
			 "1: ProxyJump: jump host 2 \"b:x\": port is not a "
			 "number");
	assert_one_error("ProxyJump [::1\n",
			 "1: ProxyJump: jump host 1 \"[::1\": missing ']' in "
			 "host spec");
	assert_one_error("ProxyJump a,none\n",
			 "1: ProxyJump: jump host 2: \"none\" is not a host");
	assert_one_error("ProxyJump @web\n",
			 "1: ProxyJump: jump host 1: \"@web\" is not a host");
	/* A later duplicate is checked all the same. */
	assert_one_error("ProxyJump a\nProxyJump a:99999\n",
			 "2: ProxyJump: jump host 1 \"a:99999\": port out of "
			 "range (1..65535)");
}
END_TEST

/* MaxTunnelsPerSession: 1..CONFIG_MAX_TUNNELS_PER_SESSION, default 64. */
START_TEST(test_max_tunnels)
{
	struct config_host_opts o;
	struct config *cfg;
	char text[128], want[128];

	cfg = load_ok("# nothing\n");
	ck_assert_int_eq(cfg->global.max_tunnels, 64);
	config_free(cfg);

	snprintf(text, sizeof(text),
		 "MaxTunnelsPerSession 1\nHost b\n\tMaxTunnelsPerSession %d\n",
		 CONFIG_MAX_TUNNELS_PER_SESSION);
	cfg = load_ok(text);
	ck_assert_int_eq(cfg->global.max_tunnels, 1);
	config_host(cfg, "b", &o);
	ck_assert_int_eq(o.max_tunnels, CONFIG_MAX_TUNNELS_PER_SESSION);
	config_host(cfg, "c", &o);
	ck_assert_int_eq(o.max_tunnels, 1);
	config_free(cfg);

	assert_one_error("MaxTunnelsPerSession 0\n",
			 "1: MaxTunnelsPerSession: 0 is out of range "
			 "(1..1024)");
	snprintf(text, sizeof(text), "Host b\nMaxTunnelsPerSession %d\n",
		 CONFIG_MAX_TUNNELS_PER_SESSION + 1);
	snprintf(want, sizeof(want),
		 "2: MaxTunnelsPerSession: %d is out of range (1..%d)",
		 CONFIG_MAX_TUNNELS_PER_SESSION + 1,
		 CONFIG_MAX_TUNNELS_PER_SESSION);
	assert_one_error(text, want);
	assert_one_error("MaxTunnelsPerSession x\n",
			 "1: MaxTunnelsPerSession: bad number \"x\"");
}
END_TEST

START_TEST(test_match_patterns)
{
	char *two[] = {"web*", "!web3"};
	char *only_neg[] = {"!a", "!b"};

	ck_assert_int_eq(match1("*", "anything"), 1);
	ck_assert_int_eq(match1("*", ""), 1);
	ck_assert_int_eq(match1("web?", "web1"), 1);
	ck_assert_int_eq(match1("web?", "web10"), 0);
	ck_assert_int_eq(match1("web?", "web"), 0);
	ck_assert_int_eq(match1("*.example.com", "a.b.example.com"), 1);
	ck_assert_int_eq(match1("*.example.com", "example.com"), 0);
	ck_assert_int_eq(match1("a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaac"),
			 0);
	ck_assert_int_eq(match1("a*a*a*b", "aaaaaaab"), 1);
	ck_assert_int_eq(match1("**x", "x"), 1);
	ck_assert_int_eq(match1("Web1", "wEB1"), 1);
	ck_assert_int_eq(match1("10.0.0.*", "10.0.0.5"), 1);
	ck_assert_int_eq(match1("exact", "exactly"), 0);
	ck_assert_int_eq(match1("a,b,c", "b"), 1);
	ck_assert_int_eq(match1("a,,b", "b"), 1);
	ck_assert_int_eq(match1("*,!b", "b"), 0);
	ck_assert_int_eq(match1("!b,*", "b"), 0);
	ck_assert_int_eq(match1("!b,*", "c"), 1);
	ck_assert_int_eq(match1("!b", "c"), 0);

	ck_assert_int_eq(config_match_patterns(two, 2, "web1"), 1);
	ck_assert_int_eq(config_match_patterns(two, 2, "web3"), 0);
	ck_assert_int_eq(config_match_patterns(two, 2, "db"), 0);
	ck_assert_int_eq(config_match_patterns(only_neg, 2, "c"), 0);
	ck_assert_int_eq(config_match_patterns(only_neg, 2, "a"), 0);
	ck_assert_int_eq(config_match_patterns(two, 0, "web1"), 0);
	ck_assert_int_eq(config_match_patterns(two, 2, NULL), 0);
}
END_TEST

START_TEST(test_strict_name)
{
	ck_assert_str_eq(config_strict_name(CONFIG_STRICT_YES), "yes");
	ck_assert_str_eq(config_strict_name(CONFIG_STRICT_ACCEPT_NEW),
			 "accept-new");
	ck_assert_str_eq(config_strict_name(-1), "unknown");
}
END_TEST

/* rel (e.g. "conf/sshpoold.conf") in the source tree. */
static void
source_file(const char *rel, char *buf, size_t size)
{
	const char *src = getenv("SSHPOOL_SOURCE_DIR");
	const char *file = __FILE__, *slash;

	if (src != NULL && *src != '\0') {
		snprintf(buf, size, "%s/%s", src, rel);
		return;
	}
	/* __FILE__ is ".../tests/test_config.c" when CMake passes it whole. */
	if (file[0] == '/' && (slash = strrchr(file, '/')) != NULL) {
		snprintf(buf, size, "%.*s/../%s", (int)(slash - file), file,
			 rel);
		return;
	}
	/* ctest runs the binary in <build>/tests. */
	snprintf(buf, size, "../../%s", rel);
}

/* conf/sshpoold.conf in the source tree. */
static void
shipped_conf_path(char *buf, size_t size)
{
	source_file("conf/sshpoold.conf", buf, size);
}

START_TEST(test_shipped_conf)
{
	struct config_errors errs = {NULL, 0};
	struct config *cfg, *def;
	char path[PATH_MAX];

	shipped_conf_path(path, sizeof(path));
	cfg = config_load(path, &errs);
	if (errs.n > 0)
		ck_abort_msg("%s", errs.lines[0]);
	ck_assert_ptr_nonnull(cfg);
	def = config_default();
	ck_assert_str_eq(cfg->socket_path, def->socket_path);
	ck_assert_str_eq(cfg->global.user, def->global.user);
	assert_default_values(cfg);
	config_free(def);
	config_free(cfg);
}
END_TEST

/*
 * Uncommenting every "#Keyword value" line of the global part of the
 * shipped file must give the defaults again: the file documents them.
 * The paths shown are root's, so this runs as root only.
 */
START_TEST(test_shipped_conf_documents_defaults)
{
	struct config *cfg;
	char path[PATH_MAX], line[1024], *text = NULL;
	size_t len = 0, n;
	FILE *f;

	if (geteuid() != 0)
		return;
	shipped_conf_path(path, sizeof(path));
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "#Host ", 6) == 0)
			break;
		if (line[0] != '#' || line[1] < 'A' || line[1] > 'Z')
			continue;
		n = strlen(line + 1);
		text = realloc(text, len + n + 1);
		memcpy(text + len, line + 1, n + 1);
		len += n;
	}
	fclose(f);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "MaxChannelsPerSession 8\n"));
	ck_assert_ptr_nonnull(strstr(text, "MaxHandshakeRate 100\n"));
	ck_assert_ptr_nonnull(strstr(text, "ServerAliveInterval 15s\n"));
	ck_assert_ptr_nonnull(strstr(text, "ServerAliveCountMax 3\n"));
	ck_assert_ptr_nonnull(strstr(text, "ConnectionAttempts 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "ReconnectBaseDelay 1s\n"));
	ck_assert_ptr_nonnull(strstr(text, "ReconnectMaxDelay 60s\n"));
	ck_assert_ptr_nonnull(strstr(text, "HostDownAfter 3\n"));
	ck_assert_ptr_nonnull(strstr(text, "StopGraceTime 2s\n"));
	ck_assert_ptr_nonnull(strstr(text, "ProxyJump none\n"));
	ck_assert_ptr_nonnull(strstr(text, "MaxTunnelsPerSession 64\n"));
	ck_assert_ptr_nonnull(strstr(text, "MaxConnectionsPerUser 64\n"));
	ck_assert_ptr_nonnull(strstr(text, "MaxRequestsPerClient 1024\n"));
	ck_assert_ptr_nonnull(strstr(text, "MaxJobsPerClient 100000\n"));
	ck_assert_ptr_nonnull(strstr(text, "MaxJobs 1000000\n"));
	ck_assert_ptr_nonnull(strstr(text, "MaxEnvEntries 64\n"));
	ck_assert_ptr_nonnull(strstr(text, "MaxJsonDepth 16\n"));
	ck_assert_ptr_nonnull(strstr(text, "ClientQueueLowWater 1M\n"));
	ck_assert_ptr_nonnull(strstr(text, "ClientQueueHighWater 4M\n"));
	ck_assert_ptr_nonnull(strstr(text, "ClientQueueHardLimit 64M\n"));
	ck_assert_ptr_nonnull(strstr(text, "ClientQueueHardTime 30s\n"));
	ck_assert_ptr_nonnull(strstr(text, "AuditCommandLength 200\n"));
	ck_assert_ptr_nonnull(strstr(text, "ShutdownTimeout 30s\n"));
	cfg = load_ok(text);
	ck_assert_str_eq(cfg->socket_path, "/run/sshpool/sshpoold.sock");
	ck_assert_str_eq(cfg->global.user, "root");
	assert_defaults_for_dir(cfg, "/etc/sshpool");
	ck_assert_str_eq(cfg->global.identity_passphrase_file,
			 "/etc/sshpool/passphrase");
	free(cfg->global.identity_passphrase_file);
	cfg->global.identity_passphrase_file = NULL;
	assert_default_values(cfg);
	config_free(cfg);
	free(text);
}
END_TEST

START_TEST(test_limit_keywords)
{
	struct config *cfg;

	cfg = load_ok("AllowUsers alice 1001\n"
		      "AllowUsers bob.x_y-z\n"
		      "AllowGroups wheel 27\n"
		      "SocketGroup sshpool\n"
		      "SocketGroup ignored\n"
		      "MaxConnectionsPerUser 5\n"
		      "MaxRequestsPerClient 6\n"
		      "MaxJobsPerClient 7\n"
		      "MaxJobs 8\n"
		      "MaxEnvEntries 0\n"
		      "MaxJsonDepth 2\n"
		      "ClientQueueLowWater 64K\n"
		      "ClientQueueHighWater 128k\n"
		      "ClientQueueHardLimit 1G\n"
		      "ClientQueueHardTime 0\n"
		      "AuditCommandLength 0\n"
		      "ShutdownTimeout 1.5s\n"
		      "MaxJobs 9\n"
		      "Host x\n"
		      "\tPort 2\n");
	ck_assert_uint_eq(cfg->n_allow_users, 3);
	ck_assert_str_eq(cfg->allow_users[0], "alice");
	ck_assert_str_eq(cfg->allow_users[1], "1001");
	ck_assert_str_eq(cfg->allow_users[2], "bob.x_y-z");
	ck_assert_uint_eq(cfg->n_allow_groups, 2);
	ck_assert_str_eq(cfg->allow_groups[0], "wheel");
	ck_assert_str_eq(cfg->allow_groups[1], "27");
	ck_assert_str_eq(cfg->socket_group, "sshpool");
	ck_assert_int_eq(cfg->max_connections_per_user, 5);
	ck_assert_int_eq(cfg->max_requests_per_client, 6);
	ck_assert_uint_eq(cfg->max_jobs_per_client, 7);
	ck_assert_uint_eq(cfg->max_jobs, 8); /* the first value wins */
	ck_assert_uint_eq(cfg->max_env, 0);
	ck_assert_int_eq(cfg->max_json_depth, 2);
	ck_assert_uint_eq(cfg->client_queue_low, 64 * 1024);
	ck_assert_uint_eq(cfg->client_queue_high, 128 * 1024);
	ck_assert_uint_eq(cfg->client_queue_hard, 1024UL * 1024 * 1024);
	ck_assert_int_eq(cfg->client_queue_hard_time_ms, 0);
	ck_assert_uint_eq(cfg->audit_command_max, 0);
	ck_assert_int_eq(cfg->shutdown_timeout_ms, 1500);
	ck_assert_uint_eq(cfg->n_blocks, 1);
	config_free(cfg);

	cfg = load_ok("ClientQueueHardTime 1h\nShutdownTimeout 0\n"
		      "AuditCommandLength 1k\n");
	ck_assert_int_eq(cfg->client_queue_hard_time_ms, 3600000);
	ck_assert_int_eq(cfg->shutdown_timeout_ms, 0);
	ck_assert_uint_eq(cfg->audit_command_max, 1024);
	ck_assert_uint_eq(cfg->client_queue_low, 1024 * 1024);
	ck_assert_uint_eq(cfg->client_queue_high, 4 * 1024 * 1024);
	config_free(cfg);

	/* config_default agrees with the header's defaults. */
	cfg = config_default();
	assert_default_values(cfg);
	config_free(cfg);
}
END_TEST

START_TEST(test_limit_keywords_global_only)
{
	static const char *const kw[] = {
	    "AllowUsers a",
	    "AllowGroups a",
	    "SocketGroup a",
	    "MaxConnectionsPerUser 1",
	    "MaxRequestsPerClient 1",
	    "MaxJobsPerClient 1",
	    "MaxJobs 1",
	    "MaxEnvEntries 1",
	    "MaxJsonDepth 2",
	    "ClientQueueLowWater 64K",
	    "ClientQueueHighWater 2M",
	    "ClientQueueHardLimit 1G",
	    "ClientQueueHardTime 1",
	    "AuditCommandLength 1",
	    "UserHosts a b",
	    "GroupHosts a b",
	    "ShutdownTimeout 1",
	    "HostGroup g h",
	};
	char text[256], want[256], name[64];
	size_t i;

	for (i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
		snprintf(text, sizeof(text), "Host a\n%s\n", kw[i]);
		sscanf(kw[i], "%63s", name);
		snprintf(want, sizeof(want),
			 "2: %s is not allowed in a Host block", name);
		assert_one_error(text, want);
		/* Keywords are case-insensitive. */
		for (size_t k = 0; name[k] != '\0'; k++)
			text[k] = (char)tolower((unsigned char)kw[i][k]);
		snprintf(text + strlen(name), sizeof(text) - strlen(name),
			 "%s\n", kw[i] + strlen(name));
		config_free(load_ok(text));
	}
}
END_TEST

START_TEST(test_client_queue_order)
{
	struct config *cfg;

	cfg = load_ok("ClientQueueLowWater 100K\nClientQueueHighWater 200K\n"
		      "ClientQueueHardLimit 300K\n");
	ck_assert_uint_eq(cfg->client_queue_low, 100 * 1024);
	ck_assert_uint_eq(cfg->client_queue_high, 200 * 1024);
	ck_assert_uint_eq(cfg->client_queue_hard, 300 * 1024);
	config_free(cfg);

	/* Equal is not enough; defaults complete the triple. */
	assert_one_error("ClientQueueLowWater 4M\n",
			 "1: ClientQueueLowWater < ClientQueueHighWater < "
			 "ClientQueueHardLimit is required (4M, 4M, 64M)");
	assert_one_error("ClientQueueHighWater 64M\nPort 22\n",
			 "1: ClientQueueLowWater < ClientQueueHighWater < "
			 "ClientQueueHardLimit is required (1M, 64M, 64M)");
	assert_one_error("ClientQueueHardLimit 4000000\n",
			 "1: ClientQueueLowWater < ClientQueueHighWater < "
			 "ClientQueueHardLimit is required (1M, 4M, 4000000)");
	/* Checked when the global section ends, at the last line set. */
	assert_one_error("ClientQueueHardLimit 2M\nClientQueueLowWater 64K\n"
			 "# c\nHost x\n\tPort 1\n",
			 "2: ClientQueueLowWater < ClientQueueHighWater < "
			 "ClientQueueHardLimit is required (64K, 4M, 2M)");
	assert_one_error("ClientQueueLowWater 8M\nClientQueueHighWater 2M\n"
			 "ClientQueueHardLimit 1G\nHost a\nHost b\n",
			 "3: ClientQueueLowWater < ClientQueueHighWater < "
			 "ClientQueueHardLimit is required (8M, 2M, 1G)");
	/* A later duplicate does not count: the first value wins. */
	cfg = load_ok("ClientQueueLowWater 2M\nClientQueueLowWater 8M\n");
	ck_assert_uint_eq(cfg->client_queue_low, 2 * 1024 * 1024);
	config_free(cfg);
}
END_TEST

START_TEST(test_account_names)
{
	char text[CONFIG_MAX_LINE], name[80];
	struct config *cfg;
	size_t off, i;

	assert_one_error("AllowUsers\n", "1: AllowUsers: missing value");
	assert_one_error("AllowGroups\n", "1: AllowGroups: missing value");
	assert_one_error("SocketGroup\n", "1: SocketGroup: missing value");
	assert_one_error("SocketGroup a b\n",
			 "1: SocketGroup: extra argument \"b\"");
	assert_one_error(
	    "AllowUsers al!ce\n",
	    "1: AllowUsers: bad name \"al!ce\" (letters, digits, "
	    "\".\", \"_\", \"-\", \"*\" and \"?\", or a numeric id)");
	assert_one_error(
	    "AllowUsers a,b\n",
	    "1: AllowUsers: bad name \"a,b\" (letters, digits, "
	    "\".\", \"_\", \"-\", \"*\" and \"?\", or a numeric id)");
	/* SocketGroup names one group: no patterns. */
	assert_one_error("SocketGroup op*\n",
			 "1: SocketGroup: bad name \"op*\" (letters, digits, "
			 "\".\", \"_\" and \"-\", or a numeric id)");
	assert_one_error("SocketGroup \"\"\n", "1: SocketGroup: empty name");
	assert_one_error("AllowGroups 4294967295\n",
			 "1: AllowGroups: id 4294967295 is out of range "
			 "(0..4294967294)");
	assert_one_error("SocketGroup 99999999999999999999999\n",
			 "1: SocketGroup: id 99999999999999999999999 is out "
			 "of range (0..4294967294)");
	cfg = load_ok("AllowGroups 4294967294 0\nSocketGroup 0\n");
	ck_assert_str_eq(cfg->allow_groups[0], "4294967294");
	ck_assert_str_eq(cfg->socket_group, "0");
	config_free(cfg);

	memset(name, 'n', 65);
	name[65] = '\0';
	snprintf(text, sizeof(text), "AllowUsers ok %s\n", name);
	assert_one_error(text, "1: AllowUsers: name too long (max 64 bytes)");
	name[64] = '\0';
	snprintf(text, sizeof(text), "AllowUsers %s\n", name);
	config_free(load_ok(text));

	/* 256 names over several lines, then one more. */
	off = 0;
	for (i = 0; i < CONFIG_MAX_ALLOW; i++)
		off +=
		    (size_t)snprintf(text + off, sizeof(text) - off, "%su%zu%s",
				     i % 100 == 0 ? "AllowUsers " : "", i,
				     i % 100 == 99 ? "\n" : " ");
	text[off++] = '\n';
	text[off] = '\0';
	cfg = load_ok(text);
	ck_assert_uint_eq(cfg->n_allow_users, CONFIG_MAX_ALLOW);
	ck_assert_str_eq(cfg->allow_users[255], "u255");
	config_free(cfg);
	snprintf(text + off, sizeof(text) - off, "AllowUsers one-more\n");
	assert_one_error(text, "4: AllowUsers: too many names (max 256)");
}
END_TEST

START_TEST(test_policies)
{
	struct config *cfg;
	const struct config_host_policy *pol;
	char *text;
	size_t i, off;

	cfg = load_ok("UserHosts alice web-* !web-test\n"
		      "GroupHosts 1001 db1,db2 cache?\n"
		      "UserHosts alice extra\n");
	ck_assert_uint_eq(cfg->n_policies, 3);
	pol = &cfg->policies[0];
	ck_assert_int_eq(pol->is_group, 0);
	ck_assert_str_eq(pol->name, "alice");
	ck_assert_uint_eq(pol->n_patterns, 2);
	ck_assert_str_eq(pol->patterns[0], "web-*");
	ck_assert_str_eq(pol->patterns[1], "!web-test");
	ck_assert_int_eq(pol->line, 1);
	pol = &cfg->policies[1];
	ck_assert_int_eq(pol->is_group, 1);
	ck_assert_str_eq(pol->name, "1001");
	ck_assert_uint_eq(pol->n_patterns, 3);
	ck_assert_str_eq(pol->patterns[0], "db1");
	ck_assert_str_eq(pol->patterns[1], "db2");
	ck_assert_str_eq(pol->patterns[2], "cache?");
	ck_assert_int_eq(pol->line, 2);
	ck_assert_str_eq(cfg->policies[2].patterns[0], "extra");
	for (i = 0; i < cfg->n_policies; i++) {
		ck_assert_uint_eq(cfg->policies[i].n_users, 0);
		ck_assert_ptr_null(cfg->policies[i].users);
	}
	config_free(cfg);

	/* users=: remote user patterns, anywhere on the line, accumulating. */
	cfg = load_ok("UserHosts alice web* users=deploy,ww? db1\n"
		      "GroupHosts ops users=x,,y cache* users=*\n");
	pol = &cfg->policies[0];
	ck_assert_uint_eq(pol->n_patterns, 2);
	ck_assert_str_eq(pol->patterns[0], "web*");
	ck_assert_str_eq(pol->patterns[1], "db1");
	ck_assert_uint_eq(pol->n_users, 2);
	ck_assert_str_eq(pol->users[0], "deploy");
	ck_assert_str_eq(pol->users[1], "ww?");
	pol = &cfg->policies[1];
	ck_assert_uint_eq(pol->n_patterns, 1);
	ck_assert_str_eq(pol->patterns[0], "cache*");
	ck_assert_uint_eq(pol->n_users, 3);
	ck_assert_str_eq(pol->users[0], "x");
	ck_assert_str_eq(pol->users[1], "y");
	ck_assert_str_eq(pol->users[2], "*");
	config_free(cfg);

	assert_one_error("UserHosts alice web* users=\n",
			 "1: UserHosts: users= without names");
	assert_one_error("GroupHosts ops web* users=,\n",
			 "1: GroupHosts: users= without names");
	assert_one_error("UserHosts alice web* users=deploy,ro!t\n",
			 "1: UserHosts users=: bad name \"ro!t\" (letters, "
			 "digits, \".\", \"_\", \"-\", \"*\" and \"?\", or a "
			 "numeric id)");
	assert_one_error("UserHosts alice web* user=root\n",
			 "1: UserHosts: unknown option \"user=root\" (users=)");
	assert_one_error("UserHosts alice web*=x\n",
			 "1: UserHosts: unknown option \"web*=x\" (users=)");
	assert_one_error("UserHosts alice users=deploy\n",
			 "1: UserHosts: missing host patterns for \"alice\"");
	text = malloc(CONFIG_MAX_PATTERNS * 8 + 64);
	off = (size_t)sprintf(text, "UserHosts u h users=u0");
	for (i = 1; i <= CONFIG_MAX_PATTERNS; i++)
		off += (size_t)sprintf(text + off, ",u%zu", i);
	sprintf(text + off, "\n");
	assert_one_error(text, "1: UserHosts: too many users= names (max 64)");
	free(text);

	assert_one_error("UserHosts\n", "1: UserHosts: missing value");
	assert_one_error("GroupHosts ops\n",
			 "1: GroupHosts: missing host patterns for \"ops\"");
	assert_one_error("GroupHosts ops ,\n",
			 "1: GroupHosts: missing host patterns for \"ops\"");
	assert_one_error("UserHosts alice a !\n",
			 "1: UserHosts: empty negated pattern");
	assert_one_error("UserHosts a/b x\n",
			 "1: UserHosts: bad name \"a/b\" (letters, digits, "
			 "\".\", \"_\" and \"-\", or a numeric id)");

	/* Policy lines and patterns per line are bounded. */
	text = malloc((CONFIG_MAX_POLICIES + 2) * 32);
	for (i = 0, off = 0; i < CONFIG_MAX_POLICIES; i++)
		off += (size_t)sprintf(text + off, "%s u%zu h\n",
				       i % 2 ? "GroupHosts" : "UserHosts", i);
	cfg = load_ok(text);
	ck_assert_uint_eq(cfg->n_policies, CONFIG_MAX_POLICIES);
	config_free(cfg);
	sprintf(text + off, "UserHosts x y\n");
	assert_one_error(text, "1025: too many UserHosts and GroupHosts lines "
			       "(max 1024)");
	off = (size_t)sprintf(text, "UserHosts u");
	for (i = 0; i <= CONFIG_MAX_PATTERNS; i++)
		off += (size_t)sprintf(text + off, " p%zu", i);
	sprintf(text + off, "\n");
	assert_one_error(text, "1: UserHosts: too many patterns (max 64)");
	free(text);
}
END_TEST

START_TEST(test_host_groups)
{
	struct config *cfg;
	const struct config_group *g;
	char *text;
	size_t i, off;

	cfg = load_ok("HostGroup web web1 root@web2:2222,web3\n"
		      "HostGroup db [::1]:22 ::1\n"
		      "HostGroup web web4\n"
		      "HostGroup 1.a_b-C h\n");
	ck_assert_uint_eq(cfg->n_groups, 3);
	g = config_group_find(cfg, "web");
	ck_assert_ptr_eq(g, &cfg->groups[0]);
	ck_assert_int_eq(g->line, 1);
	ck_assert_uint_eq(g->n_hosts, 4);
	ck_assert_str_eq(g->hosts[0], "web1");
	ck_assert_str_eq(g->hosts[1], "root@web2:2222");
	ck_assert_str_eq(g->hosts[2], "web3");
	ck_assert_str_eq(g->hosts[3], "web4");
	g = config_group_find(cfg, "db");
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(g->n_hosts, 2);
	ck_assert_str_eq(g->hosts[0], "[::1]:22");
	ck_assert_str_eq(g->hosts[1], "::1");
	ck_assert_ptr_nonnull(config_group_find(cfg, "1.a_b-C"));
	ck_assert_ptr_null(config_group_find(cfg, "WEB"));
	ck_assert_ptr_null(config_group_find(cfg, "we"));
	ck_assert_ptr_null(config_group_find(cfg, ""));
	ck_assert_ptr_null(config_group_find(cfg, NULL));
	config_free(cfg);

	assert_one_error("HostGroup\n", "1: HostGroup: missing value");
	assert_one_error("HostGroup web\n",
			 "1: HostGroup: missing hosts for \"web\"");
	assert_one_error("HostGroup w@b h\n",
			 "1: HostGroup: bad name \"w@b\" (letters, digits, "
			 "\".\", \"_\" and \"-\")");
	assert_one_error("HostGroup \"\" h\n",
			 "1: HostGroup: bad name \"\" (letters, digits, "
			 "\".\", \"_\" and \"-\")");
	assert_one_error("HostGroup g ok @web\n",
			 "1: HostGroup g: \"@web\": a group cannot contain a "
			 "group");
	assert_one_error("HostGroup g h:0\n",
			 "1: HostGroup g: \"h:0\": port out of range "
			 "(1..65535)");

	/* 1024 groups, then one more. */
	text = malloc((CONFIG_MAX_GROUPS + 2) * 32);
	for (i = 0, off = 0; i < CONFIG_MAX_GROUPS; i++)
		off += (size_t)sprintf(text + off, "HostGroup g%zu h\n", i);
	cfg = load_ok(text);
	ck_assert_uint_eq(cfg->n_groups, CONFIG_MAX_GROUPS);
	ck_assert_str_eq(config_group_find(cfg, "g1023")->hosts[0], "h");
	config_free(cfg);
	sprintf(text + off, "HostGroup g0 more\nHostGroup new h\n");
	assert_one_error(text, "1026: HostGroup: too many groups (max 1024)");
	free(text);

	/* 10000 hosts in one group, over several lines, then one more. */
	text = malloc(CONFIG_MAX_GROUP_HOSTS * 8 + 64);
	for (i = 0, off = 0; i < CONFIG_MAX_GROUP_HOSTS; i++)
		off += (size_t)sprintf(text + off, "%sh%zu%s",
				       i % 500 == 0 ? "HostGroup big " : "", i,
				       i % 500 == 499 ? "\n" : " ");
	cfg = load_ok(text);
	ck_assert_uint_eq(config_group_find(cfg, "big")->n_hosts,
			  CONFIG_MAX_GROUP_HOSTS);
	config_free(cfg);
	sprintf(text + off, "HostGroup big x y\n");
	assert_one_error(text, "21: HostGroup big: too many hosts (max 10000)");
	free(text);
}
END_TEST

/* The table is sorted for bsearch and finds every row in any case. */
START_TEST(test_table_sorted)
{
	char name[64];
	size_t i, j;

	ck_assert_uint_ge(config_table_n, 40);
	for (i = 0; i < config_table_n; i++) {
		if (i > 0)
			ck_assert_int_lt(strcasecmp(config_table[i - 1].name,
						    config_table[i].name),
					 0);
		ck_assert_ptr_eq(config_table_find(config_table[i].name),
				 &config_table[i]);
		for (j = 0; config_table[i].name[j] != '\0'; j++)
			name[j] = (char)toupper(
			    (unsigned char)config_table[i].name[j]);
		name[j] = '\0';
		ck_assert_ptr_eq(config_table_find(name), &config_table[i]);
		/* Rows without a member describe themselves. */
		if (config_table[i].kind == CONFIG_KIND_CUSTOM ||
		    config_table[i].kind == CONFIG_KIND_ENUM ||
		    config_table[i].kind == CONFIG_KIND_STRING)
			ck_assert_ptr_nonnull(config_table[i].parse);
	}
	ck_assert_ptr_null(config_table_find("Portt"));
	ck_assert_ptr_null(config_table_find(""));
}
END_TEST

/* Every default lies in its row's range, and is what the config holds. */
START_TEST(test_table_defaults)
{
	const struct config_keyword *kw;
	struct config *def, *cfg;
	size_t i;

	def = config_default();
	cfg = load_ok("# nothing\n");
	for (i = 0; i < config_table_n; i++) {
		kw = &config_table[i];
		if (kw->scope == CONFIG_SCOPE_ANY || !config_table_numeric(kw))
			continue;
		if (kw->def != 0 || !(kw->flags & CONFIG_F_ZERO_OFF)) {
			ck_assert_msg(kw->min <= kw->def && kw->def <= kw->max,
				      "%s: default %llu not in %llu..%llu",
				      kw->name, kw->def, kw->min, kw->max);
		}
		ck_assert_msg(
		    config_table_load(
			kw, config_table_base(kw, def, &def->global)) ==
			(long long)kw->def,
		    "%s: config_default has another value", kw->name);
		ck_assert_msg(
		    config_table_load(
			kw, config_table_base(kw, cfg, &cfg->global)) ==
			(long long)kw->def,
		    "%s: config_load has another value", kw->name);
	}
	config_free(cfg);
	config_free(def);
}
END_TEST

/*
 * What the codec enforces under lim, for the row of kw at value v: a
 * request with v entries of env (bytes of stdin) parses, one with v + 1 is
 * a "limit" error, and the hello announces v.
 */
static void
assert_codec_enforces(const char *name, const struct proto_limits *lim,
		      unsigned long long v)
{
	char line[4096], b64[64];
	struct proto_request *req = NULL;
	struct proto_error err;
	struct proto_buf b;
	size_t i, o;
	int n;

	if (strcmp(name, "MaxEnvEntries") == 0) {
		for (n = 0; n <= 1; n++) {
			o = (size_t)snprintf(line, sizeof(line),
					     "{\"v\":1,\"id\":\"r\",\"op\":"
					     "\"run\",\"hosts\":[\"h\"],"
					     "\"command\":\"true\",\"env\":{");
			for (i = 0; i < v + (unsigned)n; i++)
				o += (size_t)snprintf(
				    line + o, sizeof(line) - o,
				    "%s\"E%zu\":\"x\"", i ? "," : "", i);
			snprintf(line + o, sizeof(line) - o, "}}");
			ck_assert_msg(
			    proto_request_parse(line, strlen(line), lim, &req,
						&err) == (n ? -1 : 0),
			    "MaxEnvEntries %llu: %llu entries %s", v,
			    v + (unsigned)n, n ? "accepted" : err.message);
			if (n)
				ck_assert_int_eq(err.code, PROTO_E_LIMIT);
			proto_request_free(req);
			req = NULL;
		}
		proto_buf_init(&b);
		ck_assert_int_eq(proto_ev_hello(&b, "1", 1, "s", lim), 0);
		snprintf(line, sizeof(line), "\"max_env\":%llu,", v);
		ck_assert_msg(strstr(b.data, line) != NULL,
			      "hello announces %s for MaxEnvEntries %llu",
			      b.data, v);
		proto_buf_free(&b);
	}
	if (strcmp(name, "MaxStdinBytes") == 0 && v <= 2) {
		static const char *const data[] = {"", "AA==", "AAA=", "AAAA"};

		for (n = 0; n <= 1; n++) {
			snprintf(b64, sizeof(b64), "%s", data[v + (unsigned)n]);
			snprintf(line, sizeof(line),
				 "{\"v\":1,\"id\":\"r\",\"op\":\"run\","
				 "\"hosts\":[\"h\"],\"command\":\"cat\","
				 "\"stdin\":\"%s\"}",
				 b64);
			ck_assert_msg(
			    proto_request_parse(line, strlen(line), lim, &req,
						&err) == (n ? -1 : 0),
			    "MaxStdinBytes %llu: %llu bytes %s", v,
			    v + (unsigned)n, n ? "accepted" : err.message);
			if (n)
				ck_assert_int_eq(err.code, PROTO_E_LIMIT);
			proto_request_free(req);
			req = NULL;
		}
	}
}

/* The value the running daemon enforces for the limit row kw. */
static long long
enforced(const struct config_keyword *kw, struct config *cfg)
{
	struct config_host_opts opts;
	struct proto_limits lim;

	config_proto_limits(cfg, &lim);
	if (strcmp(kw->name, "MaxLineLength") == 0)
		return (long long)lim.max_line;
	if (strcmp(kw->name, "MaxHostsPerRequest") == 0)
		return (long long)lim.max_hosts;
	if (strcmp(kw->name, "MaxStdinBytes") == 0)
		return (long long)lim.max_stdin;
	if (strcmp(kw->name, "MaxEnvEntries") == 0)
		return (long long)lim.max_env;
	if (strcmp(kw->name, "MaxJsonDepth") == 0)
		return lim.max_depth;
	if (kw->scope == CONFIG_SCOPE_BOTH) {
		config_host(cfg, "some-host", &opts);
		return config_table_load(kw, &opts);
	}
	/* The control thread's getters return the member itself. */
	return config_table_load(kw, cfg);
}

/*
 * The rows the cross checks tie a row to, at their widest: the least low
 * water and base delay, the greatest hard limit and maximum delay.  The
 * row itself is left out.
 */
static void
room_text(const struct config_keyword *kw, char *text, size_t len)
{
	static const char *const rows[] = {
	    "ClientQueueLowWater", "ClientQueueHardLimit", "ReconnectBaseDelay",
	    "ReconnectMaxDelay"};
	const struct config_keyword *r;
	size_t i, j, o = 0;

	text[0] = '\0';
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (strcmp(rows[i], kw->name) == 0)
			continue;
		for (j = 0; j < config_table_n; j++) {
			r = &config_table[j];
			if (strcmp(r->name, rows[i]) != 0)
				continue;
			o += (size_t)snprintf(
			    text + o, len - o, "%s %llu%s\n", r->name,
			    (unsigned long long)(i % 2 == 0 ? r->min : r->max),
			    r->kind == CONFIG_KIND_TIME ? "ms" : "");
		}
	}
}

/*
 * Every number, size and time row, at its least and greatest value, one
 * step inside them, and 0 where 0 is allowed: the value in force is the
 * value written, and for the request limits the codec enforces exactly
 * that.  A value is tried alone, then with the rows a cross check ties it
 * to at their widest (LowWater < HighWater < HardLimit, BaseDelay <=
 * MaxDelay); one that loads neither way is skipped, and every row must be
 * tried at least once.
 */
START_TEST(test_table_values_enforced)
{
	const struct config_keyword *kw;
	struct config_errors errs = {NULL, 0};
	struct proto_limits lim;
	struct config *cfg;
	unsigned long long vals[5], v;
	char text[512], room[256];
	size_t i, j, nvals, tried;

	for (i = 0; i < config_table_n; i++) {
		kw = &config_table[i];
		if (kw->scope == CONFIG_SCOPE_ANY ||
		    (kw->kind != CONFIG_KIND_NUMBER &&
		     kw->kind != CONFIG_KIND_SIZE &&
		     kw->kind != CONFIG_KIND_TIME))
			continue;
		nvals = 0;
		if ((kw->flags & CONFIG_F_ZERO_OFF) && kw->min > 0)
			vals[nvals++] = 0;
		vals[nvals++] = kw->min;
		if (kw->max - kw->min >= 2) {
			vals[nvals++] = kw->min + 1;
			vals[nvals++] = kw->max - 1;
		}
		vals[nvals++] = kw->max;
		room_text(kw, room, sizeof(room));
		for (j = tried = 0; j < nvals; j++) {
			v = vals[j];
			snprintf(text, sizeof(text), "%s %llu%s\n", kw->name, v,
				 kw->kind == CONFIG_KIND_TIME ? "ms" : "");
			cfg = load_text(text, &errs);
			config_errors_free(&errs);
			if (cfg == NULL) {
				/* The first value of a row wins: room's
				 * lines come after the row's. */
				snprintf(text + strlen(text),
					 sizeof(text) - strlen(text), "%s",
					 room);
				cfg = load_text(text, &errs);
				config_errors_free(&errs);
			}
			if (cfg == NULL)
				continue;
			tried++;
			ck_assert_msg(enforced(kw, cfg) == (long long)v,
				      "%s %llu: %lld in force", kw->name, v,
				      enforced(kw, cfg));
			config_proto_limits(cfg, &lim);
			assert_codec_enforces(kw->name, &lim, v);
			config_free(cfg);
		}
		ck_assert_msg(tried > 0, "%s: no value loads", kw->name);
	}
}
END_TEST

/* sshpoold.conf(5) has an entry for every keyword and for no other. */
START_TEST(test_table_man_page)
{
	char path[PATH_MAX], line[512], name[128];
	FILE *f;
	size_t i, n = 0;
	int *seen;

	source_file("man/sshpoold.conf.5", path, sizeof(path));
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	seen = calloc(config_table_n, sizeof(*seen));
	ck_assert_ptr_nonnull(seen);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, ".It Cm %127[A-Za-z]", name) != 1 ||
		    !isupper((unsigned char)name[0]))
			continue;
		for (i = 0; i < config_table_n; i++) {
			if (strcmp(config_table[i].name, name) == 0)
				break;
		}
		ck_assert_msg(i < config_table_n,
			      "sshpoold.conf.5 documents unknown %s", name);
		seen[i] = 1;
		n++;
	}
	fclose(f);
	for (i = 0; i < config_table_n; i++)
		ck_assert_msg(seen[i], "sshpoold.conf.5 lacks %s",
			      config_table[i].name);
	ck_assert_uint_ge(n, config_table_n);
	free(seen);
}
END_TEST

/* Scope and argument count are checked from the rows, for every keyword. */
START_TEST(test_table_scope_and_arguments)
{
	const struct config_keyword *kw;
	char text[256], want[256];
	size_t i;

	for (i = 0; i < config_table_n; i++) {
		kw = &config_table[i];
		snprintf(text, sizeof(text), "%s\n", kw->name);
		snprintf(want, sizeof(want), "1: %s: missing value", kw->name);
		assert_one_error(text, want);
		if (kw->scope == CONFIG_SCOPE_GLOBAL) {
			snprintf(text, sizeof(text), "Host h\n%s x\n",
				 kw->name);
			snprintf(want, sizeof(want),
				 "2: %s is not allowed in a Host block",
				 kw->name);
			assert_one_error(text, want);
		}
		if (!config_table_many(kw)) {
			snprintf(text, sizeof(text), "%s a b\n", kw->name);
			snprintf(want, sizeof(want),
				 "1: %s: extra argument \"b\"", kw->name);
			assert_one_error(text, want);
		}
	}
}
END_TEST

/* A value near the default of a number, size or time row, as written. */
static long long
table_other_value(const struct config_keyword *kw, char *buf, size_t size)
{
	long long v = (long long)kw->def + 1;

	if ((unsigned long long)v > kw->max)
		v = (long long)kw->def - 1;
	snprintf(buf, size, "%lld%s", v,
		 kw->kind == CONFIG_KIND_TIME ? "ms" : "");
	return v;
}

/* For every number, size and time row: the first value of a scope wins. */
START_TEST(test_table_first_value_wins)
{
	const struct config_keyword *kw;
	struct config_host_opts o;
	struct config *cfg;
	char text[256], other[64], def[64];
	long long v;
	size_t i;

	for (i = 0; i < config_table_n; i++) {
		kw = &config_table[i];
		if (kw->kind != CONFIG_KIND_NUMBER &&
		    kw->kind != CONFIG_KIND_SIZE &&
		    kw->kind != CONFIG_KIND_TIME)
			continue;
		v = table_other_value(kw, other, sizeof(other));
		snprintf(def, sizeof(def), "%llu%s", kw->def,
			 kw->kind == CONFIG_KIND_TIME ? "ms" : "");
		snprintf(text, sizeof(text), "%s %s\n%s %s\n", kw->name, other,
			 kw->name, def);
		cfg = load_ok(text);
		ck_assert_msg(
		    config_table_load(
			kw, config_table_base(kw, cfg, &cfg->global)) == v,
		    "%s: first value lost", kw->name);
		config_free(cfg);
		if (kw->scope != CONFIG_SCOPE_BOTH)
			continue;
		snprintf(text, sizeof(text), "Host h\n%s %s\n%s %s\n", kw->name,
			 other, kw->name, def);
		cfg = load_ok(text);
		config_host(cfg, "h", &o);
		ck_assert_msg(config_table_load(kw, &o) == v,
			      "%s: first value lost in a Host block", kw->name);
		config_host(cfg, "other", &o);
		ck_assert_msg(config_table_load(kw, &o) == (long long)kw->def,
			      "%s: a Host block leaked", kw->name);
		ck_assert_msg(config_table_load(kw, &cfg->blocks[0].opts) == v,
			      "%s: block value", kw->name);
		config_free(cfg);
	}
}
END_TEST

/* A Host block leaves every member it does not set unset. */
START_TEST(test_table_block_unset)
{
	const struct config_keyword *kw;
	struct config *cfg;
	size_t i;

	cfg = load_ok("Host h\n");
	ck_assert_uint_eq(cfg->n_blocks, 1);
	for (i = 0; i < config_table_n; i++) {
		kw = &config_table[i];
		if (kw->scope == CONFIG_SCOPE_BOTH && config_table_numeric(kw))
			ck_assert_int_eq(
			    config_table_load(kw, &cfg->blocks[0].opts),
			    config_table_unset(kw));
	}
	ck_assert_int_eq(cfg->blocks[0].opts.port, 0);
	ck_assert_int_eq(cfg->blocks[0].opts.strict, -1);
	ck_assert_int_eq(cfg->blocks[0].opts.server_alive_interval_ms, -1);
	ck_assert_ptr_null(cfg->blocks[0].opts.user);
	ck_assert_uint_eq(cfg->blocks[0].opts.n_identity_files, 0);
	config_free(cfg);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults_root);
	tcase_add_test(tc, test_defaults_user_xdg);
	tcase_add_test(tc, test_defaults_user_no_xdg);
	tcase_add_test(tc, test_defaults_no_passwd_entry);
	tcase_add_test(tc, test_defaults_systemd_dirs);
	tcase_add_test(tc, test_every_keyword);
	tcase_add_test(tc, test_loglevel_names);
	tcase_add_test(tc, test_unset_takes_defaults);
	tcase_add_test(tc, test_first_value_wins);
	tcase_add_test(tc, test_syntax_variants);
	tcase_add_test(tc, test_tilde_expansion);
	tcase_add_test(tc, test_ranges);
	tcase_add_test(tc, test_stdin_fits_line);
	tcase_add_test(tc, test_identity_agent);
	tcase_add_test(tc, test_time_values);
	tcase_add_test(tc, test_reconnect_delays);
	tcase_add_test(tc, test_bad_numbers);
	tcase_add_test(tc, test_error_messages);
	tcase_add_test(tc, test_error_limits);
	tcase_add_test(tc, test_line_length);
	tcase_add_test(tc, test_host_limits);
	tcase_add_test(tc, test_errors_collected);
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_host_resolution);
	tcase_add_test(tc, test_host_every_member);
	tcase_add_test(tc, test_hostname);
	tcase_add_test(tc, test_forward_agent_warning);
	tcase_add_test(tc, test_hostname_errors);
	tcase_add_test(tc, test_proxy_jump);
	tcase_add_test(tc, test_proxy_jump_errors);
	tcase_add_test(tc, test_max_tunnels);
	tcase_add_test(tc, test_match_patterns);
	tcase_add_test(tc, test_strict_name);
	tcase_add_test(tc, test_shipped_conf);
	tcase_add_test(tc, test_shipped_conf_documents_defaults);
	tcase_add_test(tc, test_limit_keywords);
	tcase_add_test(tc, test_limit_keywords_global_only);
	tcase_add_test(tc, test_client_queue_order);
	tcase_add_test(tc, test_account_names);
	tcase_add_test(tc, test_policies);
	tcase_add_test(tc, test_host_groups);
	tcase_add_test(tc, test_table_sorted);
	tcase_add_test(tc, test_table_defaults);
	tcase_add_test(tc, test_table_values_enforced);
	tcase_add_test(tc, test_table_man_page);
	tcase_add_test(tc, test_table_scope_and_arguments);
	tcase_add_test(tc, test_table_first_value_wins);
	tcase_add_test(tc, test_table_block_unset);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(config_suite());
}
