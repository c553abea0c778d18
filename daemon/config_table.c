/* SPDX-License-Identifier: ISC */
/*
 * The configuration keywords, one row each: name, scope, kind, range,
 * default and the member the keyword sets, sorted for bsearch.  A keyword
 * whose syntax no kind describes has its own parse function here: Host,
 * Socket, User, HostName, LogLevel, StrictHostKeyChecking,
 * PreferredAuthentications, ProxyJump, UserHosts, GroupHosts and
 * HostGroup.  Defaults that depend on the running user (Socket, User,
 * IdentityFile, UserKnownHostsFile) are worked out by config_default.
 */
#include <sys/types.h>
#include <sys/un.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_table.h"
#include "log.h"
#include "xmalloc.h"
#include "../proto/proto.h"

#define CONFIG_MIN_MAX_LINE 1024
#define CONFIG_MAX_MAX_HOSTS 100000
#define CONFIG_MAX_MAX_STDIN (8ULL * 1024 * 1024)
#define CONFIG_MIN_CONNECT_TIMEOUT_MS CONFIG_MS_PER_S
#define CONFIG_MAX_CONNECT_TIMEOUT_MS CONFIG_MS_PER_H
#define CONFIG_MIN_SERVER_ALIVE_MS 100 /* when not 0 (off) */
#define CONFIG_MAX_SERVER_ALIVE_MS CONFIG_MS_PER_H
#define CONFIG_MAX_SERVER_ALIVE_COUNT 1000
#define CONFIG_MAX_CONNECTION_ATTEMPTS 100
#define CONFIG_MIN_RECONNECT_DELAY_MS 1
#define CONFIG_MAX_RECONNECT_DELAY_MS CONFIG_MS_PER_H
#define CONFIG_MAX_HOST_DOWN_AFTER 1000
#define CONFIG_MIN_STOP_GRACE_MS 100
#define CONFIG_MAX_STOP_GRACE_MS CONFIG_MS_PER_H
#define CONFIG_MAX_HANDSHAKE_RATE 100000
#define CONFIG_MAX_USER 64 /* bytes of a User name */
#define CONFIG_MAX_CONNECTIONS_PER_USER 100000
#define CONFIG_MAX_AGENTS_PER_USER 256 /* AGENT_MAX_RELAYS, the broker's */
#define CONFIG_MAX_REQUESTS_PER_CLIENT 100000
#define CONFIG_MAX_JOBS_PER_CLIENT 10000000
#define CONFIG_MAX_MAX_JOBS 100000000
#define CONFIG_MIN_JSON_DEPTH 2 /* the request object and one level */
#define CONFIG_MIN_CLIENT_QUEUE (64ULL * 1024)
#define CONFIG_MAX_CLIENT_QUEUE                                                \
	(SIZE_MAX > 4ULL * 1024 * 1024 * 1024 ? 4ULL * 1024 * 1024 * 1024      \
					      : (unsigned long long)SIZE_MAX)
#define CONFIG_MAX_QUEUE_HARD_TIME_MS CONFIG_MS_PER_H
#define CONFIG_MAX_AUDIT_LENGTH 65536
#define CONFIG_MAX_SHUTDOWN_TIMEOUT_MS CONFIG_MS_PER_H
#define CONFIG_MIN_IDLE_TIMEOUT_MS CONFIG_MS_PER_S /* when not 0 (never) */
#define CONFIG_MAX_IDLE_TIMEOUT_MS CONFIG_MAX_TIME_MS
#define CONFIG_MAX_MAX_POOLS 1000000
#define CONFIG_MIN_AGENT_TIMEOUT_MS 100
#define CONFIG_MAX_AGENT_TIMEOUT_MS (10 * 60 * CONFIG_MS_PER_S)
#define CONFIG_KB 1024ULL
#define CONFIG_MB (1024ULL * 1024)

#define CONFIG_CTYPE(m)                                                        \
	_Generic((m), int                                                      \
		 : CONFIG_CTYPE_INT, size_t                                    \
		 : CONFIG_CTYPE_SIZE, default                                  \
		 : CONFIG_CTYPE_OTHER)
/* The member m of struct config (G) or struct config_host_opts (H), and of
 * a list with its length n. */
#define G(m)                                                                   \
	offsetof(struct config, m), CONFIG_CTYPE(((struct config *)0)->m), 0
#define H(m)                                                                   \
	offsetof(struct config_host_opts, m),                                  \
	    CONFIG_CTYPE(((struct config_host_opts *)0)->m), 0
#define GLIST(m, n)                                                            \
	offsetof(struct config, m), CONFIG_CTYPE_OTHER,                        \
	    offsetof(struct config, n)
#define HLIST(m, n)                                                            \
	offsetof(struct config_host_opts, m), CONFIG_CTYPE_OTHER,              \
	    offsetof(struct config_host_opts, n)
#define NOWHERE 0, CONFIG_CTYPE_OTHER, 0
#define MS(n) ((n) * (unsigned long long)CONFIG_MS_PER_S)

#define GLOBAL CONFIG_SCOPE_GLOBAL
#define BOTH CONFIG_SCOPE_BOTH
#define NUMBER CONFIG_KIND_NUMBER
#define SIZE CONFIG_KIND_SIZE
#define TIME CONFIG_KIND_TIME

static config_parse_fn config_table_host, config_table_socket,
    config_table_user, config_table_hostname, config_table_loglevel,
    config_table_strict, config_table_user_hosts, config_table_group_hosts,
    config_table_host_group, config_table_preferred_auth,
    config_table_identity_agent, config_table_yesno, config_table_proxy_jump;

/*
 * name, scope, kind, flags, min, max, default, member, own parser.  For
 * lists max is the number of entries.
 */
const struct config_keyword config_table[] = {
    {"AgentTimeout", GLOBAL, TIME, 0, CONFIG_MIN_AGENT_TIMEOUT_MS,
     CONFIG_MAX_AGENT_TIMEOUT_MS, MS(5), G(agent_timeout_ms), NULL},
    {"AllowClientCredentials", GLOBAL, CONFIG_KIND_ENUM, 0, 0, 1, 1,
     G(allow_client_creds), config_table_yesno},
    {"AllowGroups", GLOBAL, CONFIG_KIND_NAMES, CONFIG_F_PATTERNS, 0,
     CONFIG_MAX_ALLOW, 0, GLIST(allow_groups, n_allow_groups), NULL},
    {"AllowUsers", GLOBAL, CONFIG_KIND_NAMES, CONFIG_F_PATTERNS, 0,
     CONFIG_MAX_ALLOW, 0, GLIST(allow_users, n_allow_users), NULL},
    {"AuditCommandLength", GLOBAL, SIZE, 0, 0, CONFIG_MAX_AUDIT_LENGTH, 200,
     G(audit_command_max), NULL},
    {"CertificateFile", BOTH, CONFIG_KIND_PATHS, 0, 0,
     CONFIG_MAX_CERTIFICATE_FILES, 0,
     HLIST(certificate_files, n_certificate_files), NULL},
    {"ClientQueueHardLimit", GLOBAL, SIZE, 0, CONFIG_MIN_CLIENT_QUEUE,
     CONFIG_MAX_CLIENT_QUEUE, 64 * CONFIG_MB, G(client_queue_hard), NULL},
    {"ClientQueueHardTime", GLOBAL, TIME, 0, 0, CONFIG_MAX_QUEUE_HARD_TIME_MS,
     MS(30), G(client_queue_hard_time_ms), NULL},
    {"ClientQueueHighWater", GLOBAL, SIZE, 0, CONFIG_MIN_CLIENT_QUEUE,
     CONFIG_MAX_CLIENT_QUEUE, 4 * CONFIG_MB, G(client_queue_high), NULL},
    {"ClientQueueLowWater", GLOBAL, SIZE, 0, CONFIG_MIN_CLIENT_QUEUE,
     CONFIG_MAX_CLIENT_QUEUE, 1 * CONFIG_MB, G(client_queue_low), NULL},
    {"ConnectionAttempts", BOTH, NUMBER, 0, 1, CONFIG_MAX_CONNECTION_ATTEMPTS,
     1, H(connection_attempts), NULL},
    {"ConnectTimeout", BOTH, TIME, 0, CONFIG_MIN_CONNECT_TIMEOUT_MS,
     CONFIG_MAX_CONNECT_TIMEOUT_MS, MS(10), H(connect_timeout_ms), NULL},
    {"DenyGroups", GLOBAL, CONFIG_KIND_NAMES, CONFIG_F_PATTERNS, 0,
     CONFIG_MAX_ALLOW, 0, GLIST(deny_groups, n_deny_groups), NULL},
    {"DenyUsers", GLOBAL, CONFIG_KIND_NAMES, CONFIG_F_PATTERNS, 0,
     CONFIG_MAX_ALLOW, 0, GLIST(deny_users, n_deny_users), NULL},
    {"ForwardAgent", BOTH, CONFIG_KIND_ENUM, 0, 0, 1, 0, H(forward_agent),
     config_table_yesno},
    {"GroupHosts", GLOBAL, CONFIG_KIND_CUSTOM, 0, 0, 0, 0, NOWHERE,
     config_table_group_hosts},
    {"Host", CONFIG_SCOPE_ANY, CONFIG_KIND_CUSTOM, 0, 0, 0, 0, NOWHERE,
     config_table_host},
    {"HostDownAfter", BOTH, NUMBER, 0, 1, CONFIG_MAX_HOST_DOWN_AFTER, 3,
     H(host_down_after), NULL},
    {"HostGroup", GLOBAL, CONFIG_KIND_CUSTOM, 0, 0, 0, 0, NOWHERE,
     config_table_host_group},
    {"HostName", BOTH, CONFIG_KIND_STRING, 0, 0, 0, 0, H(hostname),
     config_table_hostname},
    {"IdentitiesOnly", BOTH, CONFIG_KIND_ENUM, 0, 0, 1, 0, H(identities_only),
     config_table_yesno},
    {"IdentityAgent", BOTH, CONFIG_KIND_STRING, 0, 0, 0, 0, H(identity_agent),
     config_table_identity_agent},
    {"IdentityFile", BOTH, CONFIG_KIND_PATHS, 0, 0, CONFIG_MAX_IDENTITY_FILES,
     0, HLIST(identity_files, n_identity_files), NULL},
    {"IdentityPassphraseFile", BOTH, CONFIG_KIND_PATH, 0, 0, 0, 0,
     H(identity_passphrase_file), NULL},
    {"IdleTimeout", BOTH, TIME, CONFIG_F_ZERO_OFF, CONFIG_MIN_IDLE_TIMEOUT_MS,
     CONFIG_MAX_IDLE_TIMEOUT_MS, MS(300), H(idle_timeout_ms), NULL},
    {"LogLevel", GLOBAL, CONFIG_KIND_ENUM, 0, LOG_LEVEL_ERROR, LOG_LEVEL_DEBUG,
     LOG_LEVEL_INFO, G(log_level), config_table_loglevel},
    {"MaxAgentsPerUser", GLOBAL, NUMBER, 0, 1, CONFIG_MAX_AGENTS_PER_USER, 16,
     G(max_agents_per_user), NULL},
    {"MaxChannelsPerSession", BOTH, NUMBER, 0, 1,
     CONFIG_MAX_CHANNELS_PER_SESSION, 8, H(max_channels), NULL},
    {"MaxConnectionsPerUser", GLOBAL, NUMBER, 0, 1,
     CONFIG_MAX_CONNECTIONS_PER_USER, 64, G(max_connections_per_user), NULL},
    {"MaxEnvEntries", GLOBAL, NUMBER, 0, 0, PROTO_MAX_ENV, PROTO_MAX_ENV,
     G(max_env), NULL},
    {"MaxHandshakeRate", GLOBAL, NUMBER, 0, 1, CONFIG_MAX_HANDSHAKE_RATE, 100,
     G(max_handshake_rate), NULL},
    {"MaxHostsPerRequest", GLOBAL, NUMBER, 0, 1, CONFIG_MAX_MAX_HOSTS,
     PROTO_DEFAULT_MAX_HOSTS, G(max_hosts), NULL},
    {"MaxJobs", GLOBAL, NUMBER, 0, 1, CONFIG_MAX_MAX_JOBS, 1000000, G(max_jobs),
     NULL},
    {"MaxJobsPerClient", GLOBAL, NUMBER, 0, 1, CONFIG_MAX_JOBS_PER_CLIENT,
     100000, G(max_jobs_per_client), NULL},
    {"MaxJsonDepth", GLOBAL, NUMBER, 0, CONFIG_MIN_JSON_DEPTH, PROTO_MAX_DEPTH,
     PROTO_MAX_DEPTH, G(max_json_depth), NULL},
    {"MaxLineLength", GLOBAL, SIZE, 0, CONFIG_MIN_MAX_LINE, PROTO_MAX_LINE,
     PROTO_DEFAULT_MAX_LINE, G(max_line), NULL},
    {"MaxPools", BOTH, NUMBER, 0, 1, CONFIG_MAX_MAX_POOLS, 10000, H(max_pools),
     NULL},
    {"MaxRequestsPerClient", GLOBAL, NUMBER, 0, 1,
     CONFIG_MAX_REQUESTS_PER_CLIENT, 1024, G(max_requests_per_client), NULL},
    {"MaxSessionsPerHost", BOTH, NUMBER, 0, 1, CONFIG_MAX_SESSIONS_PER_HOST, 4,
     H(max_sessions), NULL},
    {"MaxStdinBytes", GLOBAL, SIZE, 0, 0, CONFIG_MAX_MAX_STDIN,
     PROTO_DEFAULT_MAX_STDIN, G(max_stdin), NULL},
    {"MaxTunnelsPerSession", BOTH, NUMBER, 0, 1, CONFIG_MAX_TUNNELS_PER_SESSION,
     CONFIG_DEFAULT_TUNNELS_PER_SESSION, H(max_tunnels), NULL},
    {"NumberOfPasswordPrompts", BOTH, NUMBER, 0, 0, CONFIG_MAX_PASSWORD_PROMPTS,
     CONFIG_DEFAULT_PASSWORD_PROMPTS, H(password_prompts), NULL},
    {"PasswordFile", BOTH, CONFIG_KIND_PATH, 0, 0, 0, 0, H(password_file),
     NULL},
    {"Port", BOTH, NUMBER, 0, 1, 65535, 22, H(port), NULL},
    {"PreferredAuthentications", BOTH, CONFIG_KIND_STRING, 0, 0, 0, 0,
     H(preferred_auth), config_table_preferred_auth},
    {"ProxyJump", BOTH, CONFIG_KIND_STRING, 0, 0, 0, 0, H(proxy_jump),
     config_table_proxy_jump},
    {"ReconnectBaseDelay", BOTH, TIME, 0, CONFIG_MIN_RECONNECT_DELAY_MS,
     CONFIG_MAX_RECONNECT_DELAY_MS, MS(1), H(reconnect_base_delay_ms), NULL},
    {"ReconnectMaxDelay", BOTH, TIME, 0, CONFIG_MIN_RECONNECT_DELAY_MS,
     CONFIG_MAX_RECONNECT_DELAY_MS, MS(60), H(reconnect_max_delay_ms), NULL},
    {"ServerAliveCountMax", BOTH, NUMBER, 0, 1, CONFIG_MAX_SERVER_ALIVE_COUNT,
     3, H(server_alive_count_max), NULL},
    {"ServerAliveInterval", BOTH, TIME, CONFIG_F_ZERO_OFF,
     CONFIG_MIN_SERVER_ALIVE_MS, CONFIG_MAX_SERVER_ALIVE_MS, MS(15),
     H(server_alive_interval_ms), NULL},
    {"ShutdownTimeout", GLOBAL, TIME, 0, 0, CONFIG_MAX_SHUTDOWN_TIMEOUT_MS,
     MS(30), G(shutdown_timeout_ms), NULL},
    {"Socket", GLOBAL, CONFIG_KIND_PATH, 0, 0, 0, 0, G(socket_path),
     config_table_socket},
    {"SocketGroup", GLOBAL, CONFIG_KIND_NAME, 0, 0, 0, 0, G(socket_group),
     NULL},
    {"StopGraceTime", BOTH, TIME, 0, CONFIG_MIN_STOP_GRACE_MS,
     CONFIG_MAX_STOP_GRACE_MS, MS(2), H(stop_grace_ms), NULL},
    {"StrictHostKeyChecking", BOTH, CONFIG_KIND_ENUM, 0, CONFIG_STRICT_YES,
     CONFIG_STRICT_ACCEPT_NEW, CONFIG_STRICT_YES, H(strict),
     config_table_strict},
    {"User", BOTH, CONFIG_KIND_STRING, 0, 0, 0, 0, H(user), config_table_user},
    {"UserHosts", GLOBAL, CONFIG_KIND_CUSTOM, 0, 0, 0, 0, NOWHERE,
     config_table_user_hosts},
    {"UserKnownHostsFile", BOTH, CONFIG_KIND_PATH, 0, 0, 0, 0,
     H(known_hosts_file), NULL},
    {"Workers", GLOBAL, NUMBER, 0, 0, CONFIG_MAX_WORKERS, 0, G(workers), NULL},
};
const size_t config_table_n = sizeof(config_table) / sizeof(config_table[0]);

static int
config_table_cmp(const void *key, const void *entry)
{
	const struct config_keyword *kw = entry;

	return strcasecmp(key, kw->name);
}

const struct config_keyword *
config_table_find(const char *name)
{
	return bsearch(name, config_table, config_table_n,
		       sizeof(config_table[0]), config_table_cmp);
}

long long
config_table_unset(const struct config_keyword *kw)
{
	return kw->min == 0 || (kw->flags & CONFIG_F_ZERO_OFF) ? -1 : 0;
}

int
config_table_many(const struct config_keyword *kw)
{
	return kw->kind == CONFIG_KIND_NAMES || kw->kind == CONFIG_KIND_CUSTOM;
}

/* A Host line ends the scope before it and opens a block. */
static int
config_table_host(struct config_parser *p, const struct config_keyword *kw,
		  char **argv, int argc, int apply)
{
	struct config *cfg = p->cfg;
	struct config_host_block *b;
	int rc;

	(void)apply;
	/* A Host block lasts until the next Host line; the first one ends
	 * the global section. */
	config_scope_end(p);
	p->in_host = 1;
	memset(p->block_lines, 0, config_table_n * sizeof(*p->block_lines));
	if (cfg->n_blocks >= CONFIG_MAX_HOST_BLOCKS) {
		if (!p->blocks_full)
			config_error(p, "too many Host blocks (max %d)",
				     CONFIG_MAX_HOST_BLOCKS);
		p->blocks_full = 1;
		config_host_opts_free(&p->discard);
		p->scope = &p->discard;
		return -1;
	}
	cfg->blocks =
	    xreallocarray(cfg->blocks, cfg->n_blocks + 1, sizeof(*cfg->blocks));
	b = &cfg->blocks[cfg->n_blocks++];
	memset(b, 0, sizeof(*b));
	b->line = p->line;
	config_host_opts_init(&b->opts);
	p->scope = &b->opts;

	rc = config_add_patterns(p, kw, argv, argc, &b->patterns,
				 &b->n_patterns);
	if (b->n_patterns == 0 && rc == 0) {
		config_error(p, "%s: missing value", kw->name);
		rc = -1;
	}
	return rc;
}

/* arg as the path of a Unix socket, stored; 0 or -1 (reported). */
static int
config_table_socket_path(struct config_parser *p,
			 const struct config_keyword *kw, const char *arg,
			 int apply)
{
	struct sockaddr_un sa;
	char *path;

	if ((path = config_path(p, kw, arg)) == NULL)
		return -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		config_error(
		    p, "%s: path too long for a Unix socket (max %zu bytes)",
		    kw->name, sizeof(sa.sun_path) - 1);
		free(path);
		return -1;
	}
	config_set_string(p, kw, path, apply);
	return 0;
}

static int
config_table_socket(struct config_parser *p, const struct config_keyword *kw,
		    char **argv, int argc, int apply)
{
	(void)argc;
	return config_table_socket_path(p, kw, argv[0], apply);
}

static int
config_table_loglevel(struct config_parser *p, const struct config_keyword *kw,
		      char **argv, int argc, int apply)
{
	enum log_level level;

	(void)argc;
	if (log_level_from_name(argv[0], &level) != 0) {
		config_error(p,
			     "%s: unknown level \"%s\" "
			     "(QUIET, ERROR, INFO, VERBOSE or DEBUG)",
			     kw->name, argv[0]);
		return -1;
	}
	config_set_number(p, kw, level, apply);
	return 0;
}

/* A name of 1 to max bytes: 0, or -1 with the error reported. */
static int
config_table_name_len(struct config_parser *p, const struct config_keyword *kw,
		      const char *v, size_t max)
{
	if (*v == '\0') {
		config_error(p, "%s: empty value", kw->name);
		return -1;
	}
	if (strlen(v) > max) {
		config_error(p, "%s: name too long (max %zu bytes)", kw->name,
			     max);
		return -1;
	}
	return 0;
}

static int
config_table_user(struct config_parser *p, const struct config_keyword *kw,
		  char **argv, int argc, int apply)
{
	const char *cp;

	(void)argc;
	if (config_table_name_len(p, kw, argv[0], CONFIG_MAX_USER) == -1)
		return -1;
	for (cp = argv[0]; *cp != '\0'; cp++) {
		if (iscntrl((unsigned char)*cp) ||
		    isspace((unsigned char)*cp)) {
			config_error(p, "%s: bad character in \"%s\"", kw->name,
				     argv[0]);
			return -1;
		}
	}
	config_set_string(p, kw, xstrdup(argv[0]), apply);
	return 0;
}

/*
 * HostName as in ssh_config(5): the real name or address of the host, with
 * "%h" for the name the request gave and "%%" for "%" (an IPv6 zone).
 * Only the characters of host names and addresses are taken: the value
 * becomes a known_hosts name, where "," "*" "?" "!" and "[" would make a
 * pattern out of it, and a leading "-" would read as an option elsewhere.
 * Stored as written; config_hostname expands it for each host.
 */
static int
config_table_hostname(struct config_parser *p, const struct config_keyword *kw,
		      char **argv, int argc, int apply)
{
	const char *cp;

	(void)argc;
	if (config_table_name_len(p, kw, argv[0], CONFIG_MAX_HOSTNAME) == -1)
		return -1;
	if (argv[0][0] == '-') {
		config_error(p, "%s: \"%s\" must not start with \"-\"",
			     kw->name, argv[0]);
		return -1;
	}
	for (cp = argv[0]; *cp != '\0'; cp++) {
		if (*cp == '%') {
			if (cp[1] != 'h' && cp[1] != '%') {
				config_error(p,
					     "%s: \"%s\": %% must be followed "
					     "by h (the host name given) or %%",
					     kw->name, argv[0]);
				return -1;
			}
			cp++;
		} else if (!isalnum((unsigned char)*cp) && *cp != '.' &&
			   *cp != '-' && *cp != '_' && *cp != ':') {
			config_error(p,
				     "%s: bad character in \"%s\" (letters, "
				     "digits, \".\", \"-\", \"_\", \":\", "
				     "%%h and %%%%)",
				     kw->name, argv[0]);
			return -1;
		}
	}
	config_set_string(p, kw, xstrdup(argv[0]), apply);
	return 0;
}

/*
 * IdentityAgent as in ssh_config(5): "none", "SSH_AUTH_SOCK" or "$NAME"
 * (the socket named by that variable of the daemon's environment, taken
 * at load; unset is none), or a socket path.  Stored as the path or
 * "none".
 */
static int
config_table_identity_agent(struct config_parser *p,
			    const struct config_keyword *kw, char **argv,
			    int argc, int apply)
{
	const char *arg = argv[0], *env = NULL;

	(void)argc;
	if (strcmp(arg, "none") == 0) {
		config_set_string(p, kw, xstrdup("none"), apply);
		return 0;
	}
	if (strcmp(arg, "SSH_AUTH_SOCK") == 0)
		env = "SSH_AUTH_SOCK";
	else if (arg[0] == '$' && arg[1] != '\0')
		env = arg + 1;
	if (env != NULL) {
		arg = getenv(env);
		if (arg == NULL || *arg == '\0') {
			config_set_string(p, kw, xstrdup("none"), apply);
			return 0;
		}
	}
	return config_table_socket_path(p, kw, arg, apply);
}

/*
 * A comma list of method names, as ssh_config(5) has it.  Names the
 * daemon does not implement are kept and skipped when authenticating, as
 * OpenSSH skips them, so the same line fits both.
 */
static int
config_table_preferred_auth(struct config_parser *p,
			    const struct config_keyword *kw, char **argv,
			    int argc, int apply)
{
	const char *cp;

	(void)argc;
	if (*argv[0] == '\0' || strlen(argv[0]) > CONFIG_MAX_PREFERRED_AUTH) {
		config_error(p, "%s: empty or longer than %d bytes", kw->name,
			     CONFIG_MAX_PREFERRED_AUTH);
		return -1;
	}
	for (cp = argv[0]; *cp != '\0'; cp++) {
		if (!islower((unsigned char)*cp) &&
		    !isdigit((unsigned char)*cp) && *cp != '-' && *cp != '@' &&
		    *cp != '.' &&
		    (*cp != ',' || cp[1] == ',' || cp[1] == '\0' ||
		     cp == argv[0])) {
			config_error(p,
				     "%s: \"%s\" is not a comma list of "
				     "method names",
				     kw->name, argv[0]);
			return -1;
		}
	}
	config_set_string(p, kw, xstrdup(argv[0]), apply);
	return 0;
}

/*
 * ProxyJump as in ssh_config(5): "none", or the hops in order, each
 * "[user@]host[:port]" (an IPv6 address in brackets), at most
 * CONFIG_MAX_JUMP_HOPS of them.  Every hop is checked here so a bad one
 * is a load error with its line, not a failure of the first request.
 * Stored as written.
 */
static int
config_table_proxy_jump(struct config_parser *p,
			const struct config_keyword *kw, char **argv, int argc,
			int apply)
{
	struct proto_error err;
	struct proto_jump j;

	(void)argc;
	if (proto_jump_parse(argv[0], &j, &err) == -1) {
		config_error(p, "%s: %s", kw->name, err.message);
		return -1;
	}
	config_set_string(p, kw, xstrdup(argv[0]), apply);
	return 0;
}

/* yes (1) or no (0). */
static int
config_table_yesno(struct config_parser *p, const struct config_keyword *kw,
		   char **argv, int argc, int apply)
{
	int v;

	(void)argc;
	if (strcasecmp(argv[0], "yes") == 0)
		v = 1;
	else if (strcasecmp(argv[0], "no") == 0)
		v = 0;
	else {
		config_error(p, "%s: bad value \"%s\" (yes or no)", kw->name,
			     argv[0]);
		return -1;
	}
	config_set_number(p, kw, (unsigned long long)v, apply);
	return 0;
}

static int
config_table_strict(struct config_parser *p, const struct config_keyword *kw,
		    char **argv, int argc, int apply)
{
	int v;

	(void)argc;
	if (strcasecmp(argv[0], "yes") == 0)
		v = CONFIG_STRICT_YES;
	else if (strcasecmp(argv[0], "accept-new") == 0)
		v = CONFIG_STRICT_ACCEPT_NEW;
	else if (strcasecmp(argv[0], "no") == 0 ||
		 strcasecmp(argv[0], "off") == 0) {
		config_error(
		    p,
		    "%s: \"%s\" is not supported: sshpoold never accepts "
		    "unknown host keys silently; use accept-new to learn the "
		    "keys of new hosts",
		    kw->name, argv[0]);
		return -1;
	} else {
		config_error(p, "%s: bad value \"%s\" (yes or accept-new)",
			     kw->name, argv[0]);
		return -1;
	}
	config_set_number(p, kw, (unsigned long long)v, apply);
	return 0;
}

/* The remote user patterns of a "users=" argument. */
static int
config_table_policy_users(struct config_parser *p,
			  const struct config_keyword *kw,
			  struct config_host_policy *pol, char *list)
{
	/* Remote names are checked like local ones, patterns allowed. */
	struct config_keyword users_kw = *kw;
	char name[32];
	char *piece;
	int rc = 0;

	snprintf(name, sizeof(name), "%s users=", kw->name);
	users_kw.name = name;
	users_kw.flags = CONFIG_F_PATTERNS;
	while ((piece = strsep(&list, ",")) != NULL) {
		if (*piece == '\0')
			continue;
		if (config_account_ok(p, &users_kw, piece) != 0) {
			rc = -1;
			continue;
		}
		if (pol->n_users >= CONFIG_MAX_PATTERNS) {
			config_error(p, "%s: too many users= names (max %d)",
				     kw->name, CONFIG_MAX_PATTERNS);
			return -1;
		}
		pol->users =
		    config_grow(pol->users, pol->n_users, sizeof(*pol->users));
		pol->users[pol->n_users++] = xstrdup(piece);
	}
	if (pol->n_users == 0 && rc == 0) {
		config_error(p, "%s: users= without names", kw->name);
		rc = -1;
	}
	return rc;
}

/*
 * "UserHosts NAME pattern... [users=USER,...]" and the same for
 * GroupHosts.  "=" is never part of a host pattern, so a "users=" argument
 * cannot be mistaken for one.
 */
static int
config_table_policy(struct config_parser *p, const struct config_keyword *kw,
		    char **argv, int argc, int is_group)
{
	struct config *cfg = p->cfg;
	struct config_host_policy *pol;
	int rc = 0, i, nhosts = 0;

	if (argc == 0) {
		config_error(p, "%s: missing value", kw->name);
		return -1;
	}
	if (config_account_ok(p, kw, argv[0]) != 0)
		return -1;
	if (argc == 1) {
		config_error(p, "%s: missing host patterns for \"%s\"",
			     kw->name, argv[0]);
		return -1;
	}
	if (cfg->n_policies >= CONFIG_MAX_POLICIES) {
		config_error(p,
			     "too many UserHosts and GroupHosts lines (max %d)",
			     CONFIG_MAX_POLICIES);
		return -1;
	}
	cfg->policies =
	    config_grow(cfg->policies, cfg->n_policies, sizeof(*cfg->policies));
	pol = &cfg->policies[cfg->n_policies++];
	memset(pol, 0, sizeof(*pol));
	pol->is_group = is_group;
	pol->name = xstrdup(argv[0]);
	pol->line = p->line;
	/* The host patterns move to the front of argv + 1. */
	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "users=", 6) == 0) {
			if (config_table_policy_users(p, kw, pol,
						      argv[i] + 6) != 0)
				rc = -1;
		} else if (strchr(argv[i], '=') != NULL) {
			config_error(p, "%s: unknown option \"%s\" (users=)",
				     kw->name, argv[i]);
			rc = -1;
		} else
			argv[1 + nhosts++] = argv[i];
	}
	if (config_add_patterns(p, kw, argv + 1, nhosts, &pol->patterns,
				&pol->n_patterns) != 0)
		rc = -1;
	if (pol->n_patterns == 0 && rc == 0) {
		config_error(p, "%s: missing host patterns for \"%s\"",
			     kw->name, argv[0]);
		rc = -1;
	}
	return rc;
}

static int
config_table_user_hosts(struct config_parser *p,
			const struct config_keyword *kw, char **argv, int argc,
			int apply)
{
	(void)apply;
	return config_table_policy(p, kw, argv, argc, 0);
}

static int
config_table_group_hosts(struct config_parser *p,
			 const struct config_keyword *kw, char **argv, int argc,
			 int apply)
{
	(void)apply;
	return config_table_policy(p, kw, argv, argc, 1);
}

/* A HostGroup name: letters, digits, ".", "_" and "-". */
static int
config_table_group_name(struct config_parser *p,
			const struct config_keyword *kw, const char *name)
{
	const char *cp;

	if (strlen(name) > CONFIG_MAX_NAME) {
		config_error(p, "%s: name too long (max %d bytes)", kw->name,
			     CONFIG_MAX_NAME);
		return -1;
	}
	for (cp = name; *cp != '\0'; cp++) {
		if (!isalnum((unsigned char)*cp) && *cp != '.' && *cp != '_' &&
		    *cp != '-')
			break;
	}
	if (*name == '\0' || *cp != '\0') {
		config_error(p,
			     "%s: bad name \"%s\" (letters, digits, \".\", "
			     "\"_\" and \"-\")",
			     kw->name, name);
		return -1;
	}
	return 0;
}

/* A new HostGroup, or NULL after an error. */
static struct config_group *
config_table_group_new(struct config_parser *p, const struct config_keyword *kw,
		       const char *name)
{
	struct config *cfg = p->cfg;
	struct config_group *g;

	if (cfg->n_groups >= CONFIG_MAX_GROUPS) {
		config_error(p, "%s: too many groups (max %d)", kw->name,
			     CONFIG_MAX_GROUPS);
		return NULL;
	}
	cfg->groups =
	    config_grow(cfg->groups, cfg->n_groups, sizeof(*cfg->groups));
	g = &cfg->groups[cfg->n_groups++];
	memset(g, 0, sizeof(*g));
	g->name = xstrdup(name);
	g->line = p->line;
	return g;
}

/* One host of a HostGroup line.  Returns 0, or -1 after an error. */
static int
config_table_group_add(struct config_parser *p, const struct config_keyword *kw,
		       struct config_group *g, const char *piece, int *full)
{
	struct proto_hostspec hs;
	struct proto_error perr;

	if (*piece == '@') {
		config_error(p, "%s %s: \"%s\": a group cannot contain a group",
			     kw->name, g->name, piece);
		return -1;
	}
	if (proto_hostspec_parse(piece, &hs, &perr) != 0) {
		config_error(p, "%s %s: \"%s\": %s", kw->name, g->name, piece,
			     perr.message);
		return -1;
	}
	if (g->n_hosts >= CONFIG_MAX_GROUP_HOSTS) {
		if (!*full)
			config_error(p, "%s %s: too many hosts (max %d)",
				     kw->name, g->name, CONFIG_MAX_GROUP_HOSTS);
		*full = 1;
		return -1;
	}
	g->hosts = config_grow(g->hosts, g->n_hosts, sizeof(*g->hosts));
	g->hosts[g->n_hosts++] = xstrdup(piece);
	return 0;
}

/*
 * "HostGroup NAME host...": a repeated NAME appends.  Hosts are separated
 * by whitespace and/or commas (a comma is never part of a host name) and
 * each must be a valid host spec; a group cannot name another group.
 */
static int
config_table_host_group(struct config_parser *p,
			const struct config_keyword *kw, char **argv, int argc,
			int apply)
{
	struct config_group *g;
	char *rest, *piece;
	int rc = 0, full = 0, n;

	(void)apply;
	if (argc == 0) {
		config_error(p, "%s: missing value", kw->name);
		return -1;
	}
	if (config_table_group_name(p, kw, argv[0]) != 0)
		return -1;
	if (argc == 1) {
		config_error(p, "%s: missing hosts for \"%s\"", kw->name,
			     argv[0]);
		return -1;
	}
	g = (struct config_group *)config_group_find(p->cfg, argv[0]);
	if (g == NULL && (g = config_table_group_new(p, kw, argv[0])) == NULL)
		return -1;
	for (n = 1; n < argc; n++) {
		rest = argv[n];
		while ((piece = strsep(&rest, ",")) != NULL) {
			if (*piece == '\0')
				continue;
			if (config_table_group_add(p, kw, g, piece, &full) != 0)
				rc = -1;
		}
	}
	return rc;
}

void *
config_table_base(const struct config_keyword *kw, struct config *cfg,
		  struct config_host_opts *opts)
{
	return kw->scope == CONFIG_SCOPE_GLOBAL ? (void *)cfg : (void *)opts;
}

void
config_table_store(const struct config_keyword *kw, void *base, long long v)
{
	char *at = (char *)base + kw->offset;

	switch (kw->ctype) {
	case CONFIG_CTYPE_INT:
		*(int *)(void *)at = (int)v;
		break;
	case CONFIG_CTYPE_SIZE:
		*(size_t *)(void *)at = (size_t)v;
		break;
	default:
		fatalx("%s: %s is not a number", __func__, kw->name);
	}
}

long long
config_table_load(const struct config_keyword *kw, const void *base)
{
	const char *at = (const char *)base + kw->offset;

	switch (kw->ctype) {
	case CONFIG_CTYPE_INT:
		return *(const int *)(const void *)at;
	case CONFIG_CTYPE_SIZE:
		return (long long)*(const size_t *)(const void *)at;
	default:
		fatalx("%s: %s is not a number", __func__, kw->name);
	}
	return 0;
}

int
config_table_numeric(const struct config_keyword *kw)
{
	return kw->kind == CONFIG_KIND_NUMBER || kw->kind == CONFIG_KIND_SIZE ||
	       kw->kind == CONFIG_KIND_TIME || kw->kind == CONFIG_KIND_ENUM;
}

void
config_table_release(const struct config_keyword *kw, void *base)
{
	char *at = (char *)base + kw->offset, **list;
	size_t *n = (size_t *)(void *)((char *)base + kw->count), i;

	switch (kw->kind) {
	case CONFIG_KIND_PATH:
	case CONFIG_KIND_STRING:
	case CONFIG_KIND_NAME:
		free(*(char **)(void *)at);
		*(char **)(void *)at = NULL;
		break;
	case CONFIG_KIND_PATHS:
	case CONFIG_KIND_NAMES:
		list = kw->kind == CONFIG_KIND_PATHS ? (char **)(void *)at
						     : *(char ***)(void *)at;
		for (i = 0; i < *n; i++)
			free(list[i]);
		if (kw->kind == CONFIG_KIND_NAMES) {
			free(list);
			*(char ***)(void *)at = NULL;
		}
		*n = 0;
		break;
	default:
		break;
	}
}
