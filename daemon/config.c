/*
 * sshpoold configuration: the built-in defaults for the running user, the
 * sshd_config-style file parser and the per-host resolution through Host
 * blocks.  The parser reads lines of bounded length, splits them into
 * arguments (double quotes group words, "#" at the start of an argument
 * begins a comment), finds the keyword in a sorted table with bsearch and
 * hands the arguments to the keyword's parse function.  Every error is
 * collected as "path:line: message" so one run reports them all.
 *
 * Within one scope (the global section or one Host block) the first value of
 * a keyword wins, as in ssh_config; IdentityFile, AllowUsers, AllowGroups,
 * UserHosts, GroupHosts and HostGroup accumulate instead.  Later duplicates
 * are still checked, so a typo never hides behind a first value.
 *
 * It also answers the access questions the file settles (who may connect,
 * who may use which host), resolving account names when asked so that the
 * file parses the same whether or not the accounts exist yet.
 */
#include <sys/types.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "xmalloc.h"
#include "../proto/proto.h"

#define CONFIG_MIN_MAX_LINE 1024
#define CONFIG_MAX_MAX_HOSTS 100000
#define CONFIG_MAX_MAX_STDIN (64u * 1024 * 1024)
#define CONFIG_MS_PER_S 1000
#define CONFIG_MS_PER_M (60 * CONFIG_MS_PER_S)
#define CONFIG_MS_PER_H (60 * CONFIG_MS_PER_M)
#define CONFIG_MAX_TIME_MS (24LL * CONFIG_MS_PER_H) /* any time value */
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
#define CONFIG_TIME_FORM "500ms, 15, 1.5s, 2m or 1h"
#define CONFIG_MAX_USER 64 /* bytes of a User name */
#define CONFIG_MAX_ARGS (CONFIG_MAX_LINE / 2 + 1)
#define CONFIG_MAX_CONNECTIONS_PER_USER 100000
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
#define CONFIG_MAX_NAME 64 /* bytes of a user, group or HostGroup name */
#define CONFIG_MAX_ID 4294967294ULL /* (uid_t)-1 is never an id */

#define CONFIG_ROOT_SOCKET "/run/sshpool/sshpoold.sock"
#define CONFIG_ROOT_DIR "/etc/sshpool"

/* Identity files tried when none is configured, in this order. */
static const char *const config_default_ids[] = {
    "id_ed25519",
    "id_ecdsa",
    "id_rsa",
};
#define CONFIG_N_DEFAULT_IDS                                                   \
	(sizeof(config_default_ids) / sizeof(config_default_ids[0]))
/* The credential directory's identities and the usual ones. */
_Static_assert(2 * CONFIG_N_DEFAULT_IDS <= CONFIG_MAX_IDENTITY_FILES,
	       "default identity list does not fit");

enum config_scope {
	CONFIG_SCOPE_GLOBAL, /* global section only */
	CONFIG_SCOPE_HOST,   /* global section and Host blocks */
	CONFIG_SCOPE_ANY     /* Host itself */
};

/* Indexes into config_keywords, in its (sorted) order. */
enum config_kw {
	CONFIG_KW_ALLOWGROUPS,
	CONFIG_KW_ALLOWUSERS,
	CONFIG_KW_AUDITCOMMANDLENGTH,
	CONFIG_KW_CLIENTQUEUEHARDLIMIT,
	CONFIG_KW_CLIENTQUEUEHARDTIME,
	CONFIG_KW_CLIENTQUEUEHIGHWATER,
	CONFIG_KW_CLIENTQUEUELOWWATER,
	CONFIG_KW_CONNECTIONATTEMPTS,
	CONFIG_KW_CONNECTTIMEOUT,
	CONFIG_KW_GROUPHOSTS,
	CONFIG_KW_HOST,
	CONFIG_KW_HOSTDOWNAFTER,
	CONFIG_KW_HOSTGROUP,
	CONFIG_KW_IDENTITYFILE,
	CONFIG_KW_IDENTITYPASSPHRASEFILE,
	CONFIG_KW_LOGLEVEL,
	CONFIG_KW_MAXCHANNELSPERSESSION,
	CONFIG_KW_MAXCONNECTIONSPERUSER,
	CONFIG_KW_MAXENVENTRIES,
	CONFIG_KW_MAXHANDSHAKERATE,
	CONFIG_KW_MAXHOSTSPERREQUEST,
	CONFIG_KW_MAXJOBS,
	CONFIG_KW_MAXJOBSPERCLIENT,
	CONFIG_KW_MAXJSONDEPTH,
	CONFIG_KW_MAXLINELENGTH,
	CONFIG_KW_MAXREQUESTSPERCLIENT,
	CONFIG_KW_MAXSESSIONSPERHOST,
	CONFIG_KW_MAXSTDINBYTES,
	CONFIG_KW_PORT,
	CONFIG_KW_RECONNECTBASEDELAY,
	CONFIG_KW_RECONNECTMAXDELAY,
	CONFIG_KW_SERVERALIVECOUNTMAX,
	CONFIG_KW_SERVERALIVEINTERVAL,
	CONFIG_KW_SHUTDOWNTIMEOUT,
	CONFIG_KW_SOCKET,
	CONFIG_KW_SOCKETGROUP,
	CONFIG_KW_STOPGRACETIME,
	CONFIG_KW_STRICTHOSTKEYCHECKING,
	CONFIG_KW_USER,
	CONFIG_KW_USERHOSTS,
	CONFIG_KW_USERKNOWNHOSTSFILE,
	CONFIG_KW_WORKERS,
	CONFIG_N_KEYWORDS
};

struct config_parser;
struct config_keyword {
	const char *name;
	enum config_scope scope;
	int many; /* takes several arguments (Host) */
	int (*parse)(struct config_parser *, const struct config_keyword *,
		     char **, int, int);
};

struct config_parser {
	const char *path;
	int line;
	struct config *cfg;
	struct config_errors *errs;
	size_t nerrors;
	int stop; /* too many errors: give up */

	char *home;                     /* "~/" expands to this */
	struct config_host_opts *scope; /* global, a block or discard */
	int in_host;
	uint64_t global_seen; /* keywords given in the global section */
	uint64_t block_seen;  /* keywords given in the current Host block */
	struct config_host_opts discard; /* a Host block over the limit */
	int blocks_full;
	/* Lines of ReconnectBaseDelay / ReconnectMaxDelay in the current
	 * scope (0 = not there), checked when the scope ends. */
	int base_delay_line, max_delay_line;
	/* Lines of the ClientQueue* sizes (0 = not given), checked once when
	 * the global section ends. */
	int queue_low_line, queue_high_line, queue_hard_line;
	int global_done;

	char buf[CONFIG_MAX_LINE + 1];
	char *argv[CONFIG_MAX_ARGS];
};

static int config_parse_host(struct config_parser *,
			     const struct config_keyword *, char **, int, int);
static int config_parse_socket(struct config_parser *,
			       const struct config_keyword *, char **, int,
			       int);
static int config_parse_workers(struct config_parser *,
				const struct config_keyword *, char **, int,
				int);
static int config_parse_loglevel(struct config_parser *,
				 const struct config_keyword *, char **, int,
				 int);
static int config_parse_maxline(struct config_parser *,
				const struct config_keyword *, char **, int,
				int);
static int config_parse_maxhosts(struct config_parser *,
				 const struct config_keyword *, char **, int,
				 int);
static int config_parse_maxstdin(struct config_parser *,
				 const struct config_keyword *, char **, int,
				 int);
static int config_parse_user(struct config_parser *,
			     const struct config_keyword *, char **, int, int);
static int config_parse_port(struct config_parser *,
			     const struct config_keyword *, char **, int, int);
static int config_parse_identity(struct config_parser *,
				 const struct config_keyword *, char **, int,
				 int);
static int config_parse_passphrase(struct config_parser *,
				   const struct config_keyword *, char **, int,
				   int);
static int config_parse_knownhosts(struct config_parser *,
				   const struct config_keyword *, char **, int,
				   int);
static int config_parse_strict(struct config_parser *,
			       const struct config_keyword *, char **, int,
			       int);
static int config_parse_timeout(struct config_parser *,
				const struct config_keyword *, char **, int,
				int);
static int config_parse_sessions(struct config_parser *,
				 const struct config_keyword *, char **, int,
				 int);
static int config_parse_channels(struct config_parser *,
				 const struct config_keyword *, char **, int,
				 int);
static int config_parse_alive_interval(struct config_parser *,
				       const struct config_keyword *, char **,
				       int, int);
static int config_parse_alive_count(struct config_parser *,
				    const struct config_keyword *, char **, int,
				    int);
static int config_parse_attempts(struct config_parser *,
				 const struct config_keyword *, char **, int,
				 int);
static int config_parse_base_delay(struct config_parser *,
				   const struct config_keyword *, char **, int,
				   int);
static int config_parse_max_delay(struct config_parser *,
				  const struct config_keyword *, char **, int,
				  int);
static int config_parse_down_after(struct config_parser *,
				   const struct config_keyword *, char **, int,
				   int);
static int config_parse_stop_grace(struct config_parser *,
				   const struct config_keyword *, char **, int,
				   int);
static int config_parse_handshake_rate(struct config_parser *,
				       const struct config_keyword *, char **,
				       int, int);

static int config_parse_allow_groups(struct config_parser *,
				     const struct config_keyword *, char **,
				     int, int);
static int config_parse_allow_users(struct config_parser *,
				    const struct config_keyword *, char **, int,
				    int);
static int config_parse_audit_length(struct config_parser *,
				     const struct config_keyword *, char **,
				     int, int);
static int config_parse_queue_hard(struct config_parser *,
				   const struct config_keyword *, char **, int,
				   int);
static int config_parse_queue_hard_time(struct config_parser *,
					const struct config_keyword *, char **,
					int, int);
static int config_parse_queue_high(struct config_parser *,
				   const struct config_keyword *, char **, int,
				   int);
static int config_parse_queue_low(struct config_parser *,
				  const struct config_keyword *, char **, int,
				  int);
static int config_parse_group_hosts(struct config_parser *,
				    const struct config_keyword *, char **, int,
				    int);
static int config_parse_host_group(struct config_parser *,
				   const struct config_keyword *, char **, int,
				   int);
static int config_parse_max_conns(struct config_parser *,
				  const struct config_keyword *, char **, int,
				  int);
static int config_parse_max_env(struct config_parser *,
				const struct config_keyword *, char **, int,
				int);
static int config_parse_max_jobs(struct config_parser *,
				 const struct config_keyword *, char **, int,
				 int);
static int config_parse_max_client_jobs(struct config_parser *,
					const struct config_keyword *, char **,
					int, int);
static int config_parse_max_depth(struct config_parser *,
				  const struct config_keyword *, char **, int,
				  int);
static int config_parse_max_requests(struct config_parser *,
				     const struct config_keyword *, char **,
				     int, int);
static int config_parse_shutdown_timeout(struct config_parser *,
					 const struct config_keyword *, char **,
					 int, int);
static int config_parse_socket_group(struct config_parser *,
				     const struct config_keyword *, char **,
				     int, int);
static int config_parse_user_hosts(struct config_parser *,
				   const struct config_keyword *, char **, int,
				   int);

/*
 * Sorted case-insensitively (searched with bsearch); the seen masks in
 * struct config_parser need at most 64 entries.
 */
static const struct config_keyword config_keywords[CONFIG_N_KEYWORDS] = {
    [CONFIG_KW_ALLOWGROUPS] = {"AllowGroups", CONFIG_SCOPE_GLOBAL, 1,
			       config_parse_allow_groups},
    [CONFIG_KW_ALLOWUSERS] = {"AllowUsers", CONFIG_SCOPE_GLOBAL, 1,
			      config_parse_allow_users},
    [CONFIG_KW_AUDITCOMMANDLENGTH] = {"AuditCommandLength", CONFIG_SCOPE_GLOBAL,
				      0, config_parse_audit_length},
    [CONFIG_KW_CLIENTQUEUEHARDLIMIT] = {"ClientQueueHardLimit",
					CONFIG_SCOPE_GLOBAL, 0,
					config_parse_queue_hard},
    [CONFIG_KW_CLIENTQUEUEHARDTIME] = {"ClientQueueHardTime",
				       CONFIG_SCOPE_GLOBAL, 0,
				       config_parse_queue_hard_time},
    [CONFIG_KW_CLIENTQUEUEHIGHWATER] = {"ClientQueueHighWater",
					CONFIG_SCOPE_GLOBAL, 0,
					config_parse_queue_high},
    [CONFIG_KW_CLIENTQUEUELOWWATER] = {"ClientQueueLowWater",
				       CONFIG_SCOPE_GLOBAL, 0,
				       config_parse_queue_low},
    [CONFIG_KW_CONNECTIONATTEMPTS] = {"ConnectionAttempts", CONFIG_SCOPE_HOST,
				      0, config_parse_attempts},
    [CONFIG_KW_CONNECTTIMEOUT] = {"ConnectTimeout", CONFIG_SCOPE_HOST, 0,
				  config_parse_timeout},
    [CONFIG_KW_GROUPHOSTS] = {"GroupHosts", CONFIG_SCOPE_GLOBAL, 1,
			      config_parse_group_hosts},
    [CONFIG_KW_HOST] = {"Host", CONFIG_SCOPE_ANY, 1, config_parse_host},
    [CONFIG_KW_HOSTDOWNAFTER] = {"HostDownAfter", CONFIG_SCOPE_HOST, 0,
				 config_parse_down_after},
    [CONFIG_KW_HOSTGROUP] = {"HostGroup", CONFIG_SCOPE_GLOBAL, 1,
			     config_parse_host_group},
    [CONFIG_KW_IDENTITYFILE] = {"IdentityFile", CONFIG_SCOPE_HOST, 0,
				config_parse_identity},
    [CONFIG_KW_IDENTITYPASSPHRASEFILE] = {"IdentityPassphraseFile",
					  CONFIG_SCOPE_HOST, 0,
					  config_parse_passphrase},
    [CONFIG_KW_LOGLEVEL] = {"LogLevel", CONFIG_SCOPE_GLOBAL, 0,
			    config_parse_loglevel},
    [CONFIG_KW_MAXCHANNELSPERSESSION] = {"MaxChannelsPerSession",
					 CONFIG_SCOPE_HOST, 0,
					 config_parse_channels},
    [CONFIG_KW_MAXCONNECTIONSPERUSER] = {"MaxConnectionsPerUser",
					 CONFIG_SCOPE_GLOBAL, 0,
					 config_parse_max_conns},
    [CONFIG_KW_MAXENVENTRIES] = {"MaxEnvEntries", CONFIG_SCOPE_GLOBAL, 0,
				 config_parse_max_env},
    [CONFIG_KW_MAXHANDSHAKERATE] = {"MaxHandshakeRate", CONFIG_SCOPE_GLOBAL, 0,
				    config_parse_handshake_rate},
    [CONFIG_KW_MAXHOSTSPERREQUEST] = {"MaxHostsPerRequest", CONFIG_SCOPE_GLOBAL,
				      0, config_parse_maxhosts},
    [CONFIG_KW_MAXJOBS] = {"MaxJobs", CONFIG_SCOPE_GLOBAL, 0,
			   config_parse_max_jobs},
    [CONFIG_KW_MAXJOBSPERCLIENT] = {"MaxJobsPerClient", CONFIG_SCOPE_GLOBAL, 0,
				    config_parse_max_client_jobs},
    [CONFIG_KW_MAXJSONDEPTH] = {"MaxJsonDepth", CONFIG_SCOPE_GLOBAL, 0,
				config_parse_max_depth},
    [CONFIG_KW_MAXLINELENGTH] = {"MaxLineLength", CONFIG_SCOPE_GLOBAL, 0,
				 config_parse_maxline},
    [CONFIG_KW_MAXREQUESTSPERCLIENT] = {"MaxRequestsPerClient",
					CONFIG_SCOPE_GLOBAL, 0,
					config_parse_max_requests},
    [CONFIG_KW_MAXSESSIONSPERHOST] = {"MaxSessionsPerHost", CONFIG_SCOPE_HOST,
				      0, config_parse_sessions},
    [CONFIG_KW_MAXSTDINBYTES] = {"MaxStdinBytes", CONFIG_SCOPE_GLOBAL, 0,
				 config_parse_maxstdin},
    [CONFIG_KW_PORT] = {"Port", CONFIG_SCOPE_HOST, 0, config_parse_port},
    [CONFIG_KW_RECONNECTBASEDELAY] = {"ReconnectBaseDelay", CONFIG_SCOPE_HOST,
				      0, config_parse_base_delay},
    [CONFIG_KW_RECONNECTMAXDELAY] = {"ReconnectMaxDelay", CONFIG_SCOPE_HOST, 0,
				     config_parse_max_delay},
    [CONFIG_KW_SERVERALIVECOUNTMAX] = {"ServerAliveCountMax", CONFIG_SCOPE_HOST,
				       0, config_parse_alive_count},
    [CONFIG_KW_SERVERALIVEINTERVAL] = {"ServerAliveInterval", CONFIG_SCOPE_HOST,
				       0, config_parse_alive_interval},
    [CONFIG_KW_SHUTDOWNTIMEOUT] = {"ShutdownTimeout", CONFIG_SCOPE_GLOBAL, 0,
				   config_parse_shutdown_timeout},
    [CONFIG_KW_SOCKET] = {"Socket", CONFIG_SCOPE_GLOBAL, 0,
			  config_parse_socket},
    [CONFIG_KW_SOCKETGROUP] = {"SocketGroup", CONFIG_SCOPE_GLOBAL, 0,
			       config_parse_socket_group},
    [CONFIG_KW_STOPGRACETIME] = {"StopGraceTime", CONFIG_SCOPE_HOST, 0,
				 config_parse_stop_grace},
    [CONFIG_KW_STRICTHOSTKEYCHECKING] = {"StrictHostKeyChecking",
					 CONFIG_SCOPE_HOST, 0,
					 config_parse_strict},
    [CONFIG_KW_USER] = {"User", CONFIG_SCOPE_HOST, 0, config_parse_user},
    [CONFIG_KW_USERHOSTS] = {"UserHosts", CONFIG_SCOPE_GLOBAL, 1,
			     config_parse_user_hosts},
    [CONFIG_KW_USERKNOWNHOSTSFILE] = {"UserKnownHostsFile", CONFIG_SCOPE_HOST,
				      0, config_parse_knownhosts},
    [CONFIG_KW_WORKERS] = {"Workers", CONFIG_SCOPE_GLOBAL, 0,
			   config_parse_workers},
};
_Static_assert(CONFIG_N_KEYWORDS <= 64, "seen masks are 64 bits");

static void config_error(struct config_parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void config_check_delays(struct config_parser *);
static void config_check_queue(struct config_parser *);

static void
config_errors_add(struct config_errors *errs, char *line)
{
	if (errs == NULL) {
		free(line);
		return;
	}
	errs->lines =
	    xreallocarray(errs->lines, errs->n + 1, sizeof(*errs->lines));
	errs->lines[errs->n++] = line;
}

void
config_errors_free(struct config_errors *errs)
{
	size_t i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->lines[i]);
	free(errs->lines);
	errs->lines = NULL;
	errs->n = 0;
}

static void
config_error(struct config_parser *p, const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;

	if (p->stop)
		return;
	if (p->nerrors == CONFIG_MAX_ERRORS) {
		xasprintf(&line, "%s:%d: too many errors", p->path, p->line);
		config_errors_add(p->errs, line);
		p->nerrors++;
		p->stop = 1;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatalx("config_error: out of memory");
	va_end(ap);
	if (p->line > 0)
		xasprintf(&line, "%s:%d: %s", p->path, p->line, msg);
	else
		xasprintf(&line, "%s: %s", p->path, msg);
	free(msg);
	config_errors_add(p->errs, line);
	p->nerrors++;
}

static void
config_opts_init(struct config_host_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->strict = -1;
	o->server_alive_interval_ms = -1; /* 0 means off */
}

static void
config_opts_free(struct config_host_opts *o)
{
	size_t i;

	free(o->user);
	for (i = 0; i < o->n_identity_files; i++)
		free(o->identity_files[i]);
	free(o->identity_passphrase_file);
	free(o->known_hosts_file);
	config_opts_init(o);
}

/*
 * Room for element n of an array that holds n: the capacity is the next
 * power of two, so long lists (HostGroup hosts) grow in O(n) copies.
 */
static void *
config_grow(void *v, size_t n, size_t size)
{
	if (n != 0 && (n & (n - 1)) != 0)
		return v;
	return xreallocarray(v, n == 0 ? 1 : n * 2, size);
}

static void
config_strings_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
config_free(struct config *cfg)
{
	size_t i, j;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->socket_path);
	config_strings_free(cfg->allow_users, cfg->n_allow_users);
	config_strings_free(cfg->allow_groups, cfg->n_allow_groups);
	free(cfg->socket_group);
	for (i = 0; i < cfg->n_policies; i++) {
		free(cfg->policies[i].name);
		config_strings_free(cfg->policies[i].patterns,
				    cfg->policies[i].n_patterns);
	}
	free(cfg->policies);
	for (i = 0; i < cfg->n_groups; i++) {
		free(cfg->groups[i].name);
		config_strings_free(cfg->groups[i].hosts,
				    cfg->groups[i].n_hosts);
	}
	free(cfg->groups);
	config_opts_free(&cfg->global);
	for (i = 0; i < cfg->n_blocks; i++) {
		for (j = 0; j < cfg->blocks[i].n_patterns; j++)
			free(cfg->blocks[i].patterns[j]);
		free(cfg->blocks[i].patterns);
		config_opts_free(&cfg->blocks[i].opts);
	}
	free(cfg->blocks);
	free(cfg);
}

/*
 * The daemon user's login name and home directory.  The password database
 * is the authority because a service may run with a stale or empty
 * environment; the environment is only the fallback for a uid without an
 * entry (containers with an arbitrary uid).
 */
static void
config_whoami(char **user, char **home)
{
	struct passwd *pw;
	const char *s;
	uid_t uid = geteuid();

	pw = getpwuid(uid);
	if (pw != NULL && pw->pw_name != NULL && *pw->pw_name != '\0')
		*user = xstrdup(pw->pw_name);
	else if ((s = getenv("USER")) != NULL && *s != '\0')
		*user = xstrdup(s);
	else if ((s = getenv("LOGNAME")) != NULL && *s != '\0')
		*user = xstrdup(s);
	else
		xasprintf(user, "%lu", (unsigned long)uid);

	if (pw != NULL && pw->pw_dir != NULL && *pw->pw_dir == '/')
		*home = xstrdup(pw->pw_dir);
	else if ((s = getenv("HOME")) != NULL && *s == '/')
		*home = xstrdup(s);
	else
		*home = xstrdup("/");
}

/*
 * A directory systemd hands the service through the environment
 * (CREDENTIALS_DIRECTORY, STATE_DIRECTORY): absolute, and only the first of
 * a colon-separated list.  NULL when unset or unusable.
 */
static char *
config_systemd_dir(const char *name)
{
	const char *s = getenv(name);
	size_t len;

	if (s == NULL || *s != '/')
		return NULL;
	len = strcspn(s, ":");
	while (len > 1 && s[len - 1] == '/')
		len--;
	return xstrndup(s, len);
}

/* "~/rest" under home, without doubling the slash when home is "/". */
static char *
config_tilde(const char *home, const char *rest)
{
	size_t len = strlen(home);
	char *out;

	while (len > 0 && home[len - 1] == '/')
		len--;
	xasprintf(&out, "%.*s/%s", (int)len, home, rest);
	return out;
}

struct config *
config_default(void)
{
	struct config *cfg;
	char *user, *home, *dir, *sysdir;
	const char *xdg;
	size_t i, n;

	cfg = xcalloc(1, sizeof(*cfg));
	config_whoami(&user, &home);

	if (geteuid() == 0) {
		cfg->socket_path = xstrdup(CONFIG_ROOT_SOCKET);
		dir = xstrdup(CONFIG_ROOT_DIR);
	} else {
		/* XDG: a relative XDG_RUNTIME_DIR is invalid and ignored. */
		xdg = getenv("XDG_RUNTIME_DIR");
		if (xdg != NULL && *xdg == '/')
			xasprintf(&cfg->socket_path, "%s/sshpool/sshpoold.sock",
				  xdg);
		else
			xasprintf(&cfg->socket_path,
				  "/tmp/sshpool-%lu/sshpoold.sock",
				  (unsigned long)geteuid());
		dir = config_tilde(home, ".ssh");
	}

	cfg->workers = 0;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->max_line = PROTO_DEFAULT_MAX_LINE;
	cfg->max_hosts = PROTO_DEFAULT_MAX_HOSTS;
	cfg->max_stdin = PROTO_DEFAULT_MAX_STDIN;
	cfg->max_handshake_rate = CONFIG_DEFAULT_MAX_HANDSHAKE_RATE;
	cfg->allow_users = cfg->allow_groups = NULL;
	cfg->n_allow_users = cfg->n_allow_groups = 0;
	cfg->socket_group = NULL;
	cfg->max_connections_per_user = CONFIG_DEFAULT_MAX_CONNECTIONS_PER_USER;
	cfg->max_requests_per_client = CONFIG_DEFAULT_MAX_REQUESTS_PER_CLIENT;
	cfg->max_jobs_per_client = CONFIG_DEFAULT_MAX_JOBS_PER_CLIENT;
	cfg->max_jobs = CONFIG_DEFAULT_MAX_JOBS;
	cfg->max_env = PROTO_MAX_ENV;
	cfg->max_json_depth = PROTO_MAX_DEPTH;
	cfg->client_queue_low = CONFIG_DEFAULT_CLIENT_QUEUE_LOW;
	cfg->client_queue_high = CONFIG_DEFAULT_CLIENT_QUEUE_HIGH;
	cfg->client_queue_hard = CONFIG_DEFAULT_CLIENT_QUEUE_HARD;
	cfg->client_queue_hard_time_ms =
	    CONFIG_DEFAULT_CLIENT_QUEUE_HARD_TIME_MS;
	cfg->audit_command_max = CONFIG_DEFAULT_AUDIT_COMMAND_LENGTH;
	cfg->policies = NULL;
	cfg->n_policies = 0;
	cfg->shutdown_timeout_ms = CONFIG_DEFAULT_SHUTDOWN_TIMEOUT_MS;
	cfg->groups = NULL;
	cfg->n_groups = 0;

	config_opts_init(&cfg->global);
	cfg->global.user = user;
	cfg->global.port = CONFIG_DEFAULT_PORT;
	/* Under systemd the key comes as a credential (LoadCredential=): it
	 * is tried first, the usual files after it. */
	n = 0;
	if ((sysdir = config_systemd_dir("CREDENTIALS_DIRECTORY")) != NULL) {
		for (i = 0; i < CONFIG_N_DEFAULT_IDS; i++)
			xasprintf(&cfg->global.identity_files[n++], "%s/%s",
				  sysdir, config_default_ids[i]);
		free(sysdir);
	}
	for (i = 0; i < CONFIG_N_DEFAULT_IDS; i++)
		xasprintf(&cfg->global.identity_files[n++], "%s/%s", dir,
			  config_default_ids[i]);
	cfg->global.n_identity_files = n;
	cfg->global.identity_passphrase_file = NULL;
	/* StateDirectory= is the service's only writable place for the host
	 * keys it learns. */
	if ((sysdir = config_systemd_dir("STATE_DIRECTORY")) != NULL) {
		xasprintf(&cfg->global.known_hosts_file, "%s/known_hosts",
			  sysdir);
		free(sysdir);
	} else
		xasprintf(&cfg->global.known_hosts_file, "%s/known_hosts", dir);
	cfg->global.strict = CONFIG_STRICT_YES;
	cfg->global.connect_timeout_ms = CONFIG_DEFAULT_CONNECT_TIMEOUT_MS;
	cfg->global.max_sessions = CONFIG_DEFAULT_MAX_SESSIONS_PER_HOST;
	cfg->global.max_channels = CONFIG_DEFAULT_MAX_CHANNELS_PER_SESSION;
	cfg->global.server_alive_interval_ms =
	    CONFIG_DEFAULT_SERVER_ALIVE_INTERVAL_MS;
	cfg->global.server_alive_count_max =
	    CONFIG_DEFAULT_SERVER_ALIVE_COUNT_MAX;
	cfg->global.connection_attempts = CONFIG_DEFAULT_CONNECTION_ATTEMPTS;
	cfg->global.reconnect_base_delay_ms =
	    CONFIG_DEFAULT_RECONNECT_BASE_DELAY_MS;
	cfg->global.reconnect_max_delay_ms =
	    CONFIG_DEFAULT_RECONNECT_MAX_DELAY_MS;
	cfg->global.host_down_after = CONFIG_DEFAULT_HOST_DOWN_AFTER;
	cfg->global.stop_grace_ms = CONFIG_DEFAULT_STOP_GRACE_MS;

	free(dir);
	free(home);
	return cfg;
}

/*
 * Decimal number with an optional K, M or G suffix (powers of 1024) when
 * suffixes is set.  Returns 0, -1 when it is not a number, -2 when it does
 * not fit.
 */
static int
config_number(const char *s, int suffixes, unsigned long long *out)
{
	unsigned long long v = 0, mult = 1;
	const char *cp = s;

	if (!isdigit((unsigned char)*cp))
		return -1;
	for (; isdigit((unsigned char)*cp); cp++) {
		if (v > (ULLONG_MAX - (unsigned)(*cp - '0')) / 10)
			return -2;
		v = v * 10 + (unsigned)(*cp - '0');
	}
	if (*cp != '\0') {
		if (!suffixes || cp[1] != '\0')
			return -1;
		if (*cp == 'K' || *cp == 'k')
			mult = 1024;
		else if (*cp == 'M' || *cp == 'm')
			mult = 1024 * 1024;
		else if (*cp == 'G' || *cp == 'g')
			mult = 1024 * 1024 * 1024;
		else
			return -1;
		if (v > ULLONG_MAX / mult)
			return -2;
		v *= mult;
	}
	*out = v;
	return 0;
}

static int
config_range(struct config_parser *p, const struct config_keyword *kw,
	     const char *arg, int suffixes, unsigned long long min,
	     unsigned long long max, unsigned long long *out)
{
	int rc;

	rc = config_number(arg, suffixes, out);
	if (rc == -1) {
		config_error(p, "%s: bad number \"%s\"", kw->name, arg);
		return -1;
	}
	if (rc == -2 || *out < min || *out > max) {
		config_error(p, "%s: %s is out of range (%llu..%llu)", kw->name,
			     arg, min, max);
		return -1;
	}
	return 0;
}

/*
 * A time value: digits with an optional fraction and an optional unit, "ms",
 * "s" (the default), "m" or "h", in any case.  A fraction must come to whole
 * milliseconds, so it is allowed with s (at most 3 digits), m and h but not
 * with ms.  Returns 0, -1 when it is not a time, -2 when it is above
 * CONFIG_MAX_TIME_MS.
 */
static int
config_time_ms(const char *s, long long *out)
{
	const char *cp = s;
	long long whole = 0, frac = 0, fscale = 1, unit;
	int ndigits = 0, nfrac = 0;

	for (; isdigit((unsigned char)*cp); cp++, ndigits++) {
		if (whole > CONFIG_MAX_TIME_MS)
			return -2; /* keep going would only overflow */
		whole = whole * 10 + (*cp - '0');
	}
	if (*cp == '.') {
		for (cp++; isdigit((unsigned char)*cp); cp++, nfrac++) {
			if (nfrac >= 9)
				return -1; /* more precision than ms */
			frac = frac * 10 + (*cp - '0');
			fscale *= 10;
		}
		if (nfrac == 0)
			return -1;
	}
	if (ndigits == 0)
		return -1;
	if (strcasecmp(cp, "ms") == 0)
		unit = 1;
	else if (*cp == '\0' || strcasecmp(cp, "s") == 0)
		unit = CONFIG_MS_PER_S;
	else if (strcasecmp(cp, "m") == 0)
		unit = CONFIG_MS_PER_M;
	else if (strcasecmp(cp, "h") == 0)
		unit = CONFIG_MS_PER_H;
	else
		return -1;
	if (whole > CONFIG_MAX_TIME_MS / unit)
		return -2;
	/* The fraction must be a whole number of milliseconds. */
	if (nfrac > 0 && (frac * unit) % fscale != 0)
		return -1;
	*out = whole * unit + frac * unit / fscale;
	if (*out > CONFIG_MAX_TIME_MS)
		return -2;
	return 0;
}

/* Milliseconds in the largest unit that shows them exactly. */
static const char *
config_time_str(long long ms, char *buf, size_t size)
{
	if (ms != 0 && ms % CONFIG_MS_PER_H == 0)
		snprintf(buf, size, "%lldh", ms / CONFIG_MS_PER_H);
	else if (ms != 0 && ms % CONFIG_MS_PER_M == 0)
		snprintf(buf, size, "%lldm", ms / CONFIG_MS_PER_M);
	else if (ms % CONFIG_MS_PER_S == 0)
		snprintf(buf, size, "%llds", ms / CONFIG_MS_PER_S);
	else
		snprintf(buf, size, "%lldms", ms);
	return buf;
}

/*
 * A time value in min_ms..max_ms, or 0 when zero_ok (a switch that turns
 * the feature off).
 */
static int
config_time_range(struct config_parser *p, const struct config_keyword *kw,
		  const char *arg, int zero_ok, long long min_ms,
		  long long max_ms, int *out)
{
	char lo[32], hi[32];
	long long v;
	int rc;

	rc = config_time_ms(arg, &v);
	if (rc == -1) {
		config_error(p,
			     "%s: bad time \"%s\" (a number with an optional "
			     "unit ms, s, m or h, e.g. " CONFIG_TIME_FORM ")",
			     kw->name, arg);
		return -1;
	}
	if (rc == 0 && zero_ok && v == 0) {
		*out = 0;
		return 0;
	}
	if (rc == -2 || v < min_ms || v > max_ms) {
		config_error(p, "%s: %s is out of range (%s%s..%s)", kw->name,
			     arg, zero_ok ? "0 or " : "",
			     config_time_str(min_ms, lo, sizeof(lo)),
			     config_time_str(max_ms, hi, sizeof(hi)));
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* An absolute path, or "~/..." under the daemon user's home. */
static char *
config_path(struct config_parser *p, const struct config_keyword *kw,
	    const char *arg)
{
	char *path;

	if (arg[0] == '/')
		path = xstrdup(arg);
	else if (arg[0] == '~' && arg[1] == '/')
		path = config_tilde(p->home, arg + 2);
	else {
		config_error(
		    p, "%s: \"%s\" is not an absolute path (use /... or ~/...)",
		    kw->name, arg);
		return NULL;
	}
	if (strlen(path) >= PATH_MAX) {
		config_error(p, "%s: path too long (max %d bytes)", kw->name,
			     PATH_MAX - 1);
		free(path);
		return NULL;
	}
	return path;
}

/* Store a string member if it is the first in its scope. */
static void
config_set_string(char **member, char *value, int apply)
{
	if (apply && *member == NULL)
		*member = value;
	else
		free(value);
}

/*
 * Append the ssh_config patterns of argv, separated by whitespace and/or
 * commas, to *patterns.  Returns 0, or -1 after reporting an error.
 */
static int
config_add_patterns(struct config_parser *p, const struct config_keyword *kw,
		    char **argv, int argc, char ***patterns, size_t *n)
{
	char *cp, *piece;
	int i, rc = 0, full = 0;

	for (i = 0; i < argc; i++) {
		cp = argv[i];
		while ((piece = strsep(&cp, ",")) != NULL) {
			if (*piece == '\0')
				continue;
			if (strcmp(piece, "!") == 0) {
				config_error(p, "%s: empty negated pattern",
					     kw->name);
				rc = -1;
				continue;
			}
			if (*n >= CONFIG_MAX_PATTERNS) {
				if (!full)
					config_error(
					    p, "%s: too many patterns (max %d)",
					    kw->name, CONFIG_MAX_PATTERNS);
				full = 1;
				rc = -1;
				continue;
			}
			*patterns = xreallocarray(*patterns, *n + 1,
						  sizeof(**patterns));
			(*patterns)[(*n)++] = xstrdup(piece);
		}
	}
	return rc;
}

static int
config_parse_host(struct config_parser *p, const struct config_keyword *kw,
		  char **argv, int argc, int apply)
{
	struct config *cfg = p->cfg;
	struct config_host_block *b;
	int rc;

	/* A Host block lasts until the next Host line; the first one ends
	 * the global section. */
	config_check_delays(p);
	config_check_queue(p);
	p->in_host = 1;
	p->block_seen = 0;
	if (cfg->n_blocks >= CONFIG_MAX_HOST_BLOCKS) {
		if (!p->blocks_full)
			config_error(p, "too many Host blocks (max %d)",
				     CONFIG_MAX_HOST_BLOCKS);
		p->blocks_full = 1;
		config_opts_free(&p->discard);
		p->scope = &p->discard;
		return -1;
	}
	cfg->blocks =
	    xreallocarray(cfg->blocks, cfg->n_blocks + 1, sizeof(*cfg->blocks));
	b = &cfg->blocks[cfg->n_blocks++];
	memset(b, 0, sizeof(*b));
	b->line = p->line;
	config_opts_init(&b->opts);
	p->scope = &b->opts;

	rc = config_add_patterns(p, kw, argv, argc, &b->patterns,
				 &b->n_patterns);
	if (b->n_patterns == 0 && rc == 0) {
		config_error(p, "%s: missing value", kw->name);
		rc = -1;
	}
	return rc;
}

static int
config_parse_socket(struct config_parser *p, const struct config_keyword *kw,
		    char **argv, int argc, int apply)
{
	struct sockaddr_un sa;
	char *path;

	if ((path = config_path(p, kw, argv[0])) == NULL)
		return -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		config_error(
		    p, "%s: path too long for a Unix socket (max %zu bytes)",
		    kw->name, sizeof(sa.sun_path) - 1);
		free(path);
		return -1;
	}
	config_set_string(&p->cfg->socket_path, path, apply);
	return 0;
}

static int
config_parse_workers(struct config_parser *p, const struct config_keyword *kw,
		     char **argv, int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 0, 0, CONFIG_MAX_WORKERS, &v) != 0)
		return -1;
	if (apply)
		p->cfg->workers = (int)v;
	return 0;
}

static int
config_parse_loglevel(struct config_parser *p, const struct config_keyword *kw,
		      char **argv, int argc, int apply)
{
	enum log_level level;

	if (log_level_from_name(argv[0], &level) != 0) {
		config_error(p,
			     "%s: unknown level \"%s\" "
			     "(QUIET, ERROR, INFO, VERBOSE or DEBUG)",
			     kw->name, argv[0]);
		return -1;
	}
	if (apply)
		p->cfg->log_level = level;
	return 0;
}

static int
config_parse_maxline(struct config_parser *p, const struct config_keyword *kw,
		     char **argv, int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 1, CONFIG_MIN_MAX_LINE, PROTO_MAX_LINE,
			 &v) != 0)
		return -1;
	if (apply)
		p->cfg->max_line = v;
	return 0;
}

static int
config_parse_maxhosts(struct config_parser *p, const struct config_keyword *kw,
		      char **argv, int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 0, 1, CONFIG_MAX_MAX_HOSTS, &v) != 0)
		return -1;
	if (apply)
		p->cfg->max_hosts = v;
	return 0;
}

static int
config_parse_maxstdin(struct config_parser *p, const struct config_keyword *kw,
		      char **argv, int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 1, 0, CONFIG_MAX_MAX_STDIN, &v) != 0)
		return -1;
	if (apply)
		p->cfg->max_stdin = v;
	return 0;
}

static int
config_parse_user(struct config_parser *p, const struct config_keyword *kw,
		  char **argv, int argc, int apply)
{
	const char *cp;

	if (*argv[0] == '\0') {
		config_error(p, "%s: empty value", kw->name);
		return -1;
	}
	if (strlen(argv[0]) > CONFIG_MAX_USER) {
		config_error(p, "%s: name too long (max %d bytes)", kw->name,
			     CONFIG_MAX_USER);
		return -1;
	}
	for (cp = argv[0]; *cp != '\0'; cp++) {
		if (iscntrl((unsigned char)*cp) ||
		    isspace((unsigned char)*cp)) {
			config_error(p, "%s: bad character in \"%s\"", kw->name,
				     argv[0]);
			return -1;
		}
	}
	config_set_string(&p->scope->user, xstrdup(argv[0]), apply);
	return 0;
}

static int
config_parse_port(struct config_parser *p, const struct config_keyword *kw,
		  char **argv, int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 0, 1, 65535, &v) != 0)
		return -1;
	if (apply && p->scope->port == 0)
		p->scope->port = (int)v;
	return 0;
}

static int
config_parse_identity(struct config_parser *p, const struct config_keyword *kw,
		      char **argv, int argc, int apply)
{
	struct config_host_opts *o = p->scope;
	char *path;

	if ((path = config_path(p, kw, argv[0])) == NULL)
		return -1;
	if (o->n_identity_files >= CONFIG_MAX_IDENTITY_FILES) {
		config_error(p, "%s: too many files (max %d)", kw->name,
			     CONFIG_MAX_IDENTITY_FILES);
		free(path);
		return -1;
	}
	o->identity_files[o->n_identity_files++] = path;
	return 0;
}

static int
config_parse_passphrase(struct config_parser *p,
			const struct config_keyword *kw, char **argv, int argc,
			int apply)
{
	char *path;

	if ((path = config_path(p, kw, argv[0])) == NULL)
		return -1;
	config_set_string(&p->scope->identity_passphrase_file, path, apply);
	return 0;
}

static int
config_parse_knownhosts(struct config_parser *p,
			const struct config_keyword *kw, char **argv, int argc,
			int apply)
{
	char *path;

	if ((path = config_path(p, kw, argv[0])) == NULL)
		return -1;
	config_set_string(&p->scope->known_hosts_file, path, apply);
	return 0;
}

static int
config_parse_strict(struct config_parser *p, const struct config_keyword *kw,
		    char **argv, int argc, int apply)
{
	int v;

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
	if (apply && p->scope->strict == -1)
		p->scope->strict = v;
	return 0;
}

static int
config_parse_timeout(struct config_parser *p, const struct config_keyword *kw,
		     char **argv, int argc, int apply)
{
	int v;

	if (config_time_range(p, kw, argv[0], 0, CONFIG_MIN_CONNECT_TIMEOUT_MS,
			      CONFIG_MAX_CONNECT_TIMEOUT_MS, &v) != 0)
		return -1;
	if (apply && p->scope->connect_timeout_ms == 0)
		p->scope->connect_timeout_ms = v;
	return 0;
}

static int
config_parse_sessions(struct config_parser *p, const struct config_keyword *kw,
		      char **argv, int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 0, 1, CONFIG_MAX_SESSIONS_PER_HOST,
			 &v) != 0)
		return -1;
	if (apply && p->scope->max_sessions == 0)
		p->scope->max_sessions = (int)v;
	return 0;
}

static int
config_parse_channels(struct config_parser *p, const struct config_keyword *kw,
		      char **argv, int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 0, 1, CONFIG_MAX_CHANNELS_PER_SESSION,
			 &v) != 0)
		return -1;
	if (apply && p->scope->max_channels == 0)
		p->scope->max_channels = (int)v;
	return 0;
}

static int
config_parse_alive_interval(struct config_parser *p,
			    const struct config_keyword *kw, char **argv,
			    int argc, int apply)
{
	int v;

	if (config_time_range(p, kw, argv[0], 1, CONFIG_MIN_SERVER_ALIVE_MS,
			      CONFIG_MAX_SERVER_ALIVE_MS, &v) != 0)
		return -1;
	if (apply && p->scope->server_alive_interval_ms == -1)
		p->scope->server_alive_interval_ms = v;
	return 0;
}

/* An integer member of the current scope in min..max; 0 means unset. */
static int
config_parse_count(struct config_parser *p, const struct config_keyword *kw,
		   const char *arg, unsigned long long max, int apply,
		   int *member)
{
	unsigned long long v;

	if (config_range(p, kw, arg, 0, 1, max, &v) != 0)
		return -1;
	if (apply && *member == 0)
		*member = (int)v;
	return 0;
}

static int
config_parse_alive_count(struct config_parser *p,
			 const struct config_keyword *kw, char **argv, int argc,
			 int apply)
{
	return config_parse_count(p, kw, argv[0], CONFIG_MAX_SERVER_ALIVE_COUNT,
				  apply, &p->scope->server_alive_count_max);
}

static int
config_parse_attempts(struct config_parser *p, const struct config_keyword *kw,
		      char **argv, int argc, int apply)
{
	return config_parse_count(p, kw, argv[0],
				  CONFIG_MAX_CONNECTION_ATTEMPTS, apply,
				  &p->scope->connection_attempts);
}

static int
config_parse_down_after(struct config_parser *p,
			const struct config_keyword *kw, char **argv, int argc,
			int apply)
{
	return config_parse_count(p, kw, argv[0], CONFIG_MAX_HOST_DOWN_AFTER,
				  apply, &p->scope->host_down_after);
}

static int
config_parse_base_delay(struct config_parser *p,
			const struct config_keyword *kw, char **argv, int argc,
			int apply)
{
	int v;

	if (config_time_range(p, kw, argv[0], 0, CONFIG_MIN_RECONNECT_DELAY_MS,
			      CONFIG_MAX_RECONNECT_DELAY_MS, &v) != 0)
		return -1;
	if (apply && p->scope->reconnect_base_delay_ms == 0) {
		p->scope->reconnect_base_delay_ms = v;
		p->base_delay_line = p->line;
	}
	return 0;
}

static int
config_parse_max_delay(struct config_parser *p, const struct config_keyword *kw,
		       char **argv, int argc, int apply)
{
	int v;

	if (config_time_range(p, kw, argv[0], 0, CONFIG_MIN_RECONNECT_DELAY_MS,
			      CONFIG_MAX_RECONNECT_DELAY_MS, &v) != 0)
		return -1;
	if (apply && p->scope->reconnect_max_delay_ms == 0) {
		p->scope->reconnect_max_delay_ms = v;
		p->max_delay_line = p->line;
	}
	return 0;
}

static int
config_parse_stop_grace(struct config_parser *p,
			const struct config_keyword *kw, char **argv, int argc,
			int apply)
{
	int v;

	if (config_time_range(p, kw, argv[0], 0, CONFIG_MIN_STOP_GRACE_MS,
			      CONFIG_MAX_STOP_GRACE_MS, &v) != 0)
		return -1;
	if (apply && p->scope->stop_grace_ms == 0)
		p->scope->stop_grace_ms = v;
	return 0;
}

static int
config_parse_handshake_rate(struct config_parser *p,
			    const struct config_keyword *kw, char **argv,
			    int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 0, 1, CONFIG_MAX_HANDSHAKE_RATE, &v) !=
	    0)
		return -1;
	if (apply)
		p->cfg->max_handshake_rate = (int)v;
	return 0;
}

/*
 * A user or group as AllowUsers, AllowGroups, SocketGroup, UserHosts and
 * GroupHosts take it: a name of letters, digits, ".", "_" and "-", or a
 * numeric id.  Names are not looked up here: the file must load the same
 * whether or not the accounts exist yet.
 */
static int
config_account_ok(struct config_parser *p, const struct config_keyword *kw,
		  const char *arg)
{
	const char *cp;
	int digits = 1;

	if (*arg == '\0') {
		config_error(p, "%s: empty name", kw->name);
		return -1;
	}
	if (strlen(arg) > CONFIG_MAX_NAME) {
		config_error(p, "%s: name too long (max %d bytes)", kw->name,
			     CONFIG_MAX_NAME);
		return -1;
	}
	for (cp = arg; *cp != '\0'; cp++) {
		if (isdigit((unsigned char)*cp))
			continue;
		digits = 0;
		if (!isalpha((unsigned char)*cp) && *cp != '.' && *cp != '_' &&
		    *cp != '-') {
			config_error(p,
				     "%s: bad name \"%s\" (letters, digits, "
				     "\".\", \"_\" and \"-\", or a numeric id)",
				     kw->name, arg);
			return -1;
		}
	}
	if (digits && strtoull(arg, NULL, 10) > CONFIG_MAX_ID) {
		config_error(p, "%s: id %s is out of range (0..%llu)", kw->name,
			     arg, CONFIG_MAX_ID);
		return -1;
	}
	return 0;
}

/* AllowUsers / AllowGroups: every line adds its names to the list. */
static int
config_parse_allow(struct config_parser *p, const struct config_keyword *kw,
		   char **argv, int argc, char ***list, size_t *n)
{
	int i, rc = 0;

	if (argc == 0) {
		config_error(p, "%s: missing value", kw->name);
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (config_account_ok(p, kw, argv[i]) != 0) {
			rc = -1;
			continue;
		}
		if (*n >= CONFIG_MAX_ALLOW) {
			config_error(p, "%s: too many names (max %d)", kw->name,
				     CONFIG_MAX_ALLOW);
			return -1;
		}
		*list = config_grow(*list, *n, sizeof(**list));
		(*list)[(*n)++] = xstrdup(argv[i]);
	}
	return rc;
}

static int
config_parse_allow_users(struct config_parser *p,
			 const struct config_keyword *kw, char **argv, int argc,
			 int apply)
{
	return config_parse_allow(p, kw, argv, argc, &p->cfg->allow_users,
				  &p->cfg->n_allow_users);
}

static int
config_parse_allow_groups(struct config_parser *p,
			  const struct config_keyword *kw, char **argv,
			  int argc, int apply)
{
	return config_parse_allow(p, kw, argv, argc, &p->cfg->allow_groups,
				  &p->cfg->n_allow_groups);
}

static int
config_parse_socket_group(struct config_parser *p,
			  const struct config_keyword *kw, char **argv,
			  int argc, int apply)
{
	if (config_account_ok(p, kw, argv[0]) != 0)
		return -1;
	config_set_string(&p->cfg->socket_group, xstrdup(argv[0]), apply);
	return 0;
}

static int
config_parse_max_conns(struct config_parser *p, const struct config_keyword *kw,
		       char **argv, int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 0, 1, CONFIG_MAX_CONNECTIONS_PER_USER,
			 &v) != 0)
		return -1;
	if (apply)
		p->cfg->max_connections_per_user = (int)v;
	return 0;
}

static int
config_parse_max_requests(struct config_parser *p,
			  const struct config_keyword *kw, char **argv,
			  int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 0, 1, CONFIG_MAX_REQUESTS_PER_CLIENT,
			 &v) != 0)
		return -1;
	if (apply)
		p->cfg->max_requests_per_client = (int)v;
	return 0;
}

static int
config_parse_max_client_jobs(struct config_parser *p,
			     const struct config_keyword *kw, char **argv,
			     int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 0, 1, CONFIG_MAX_JOBS_PER_CLIENT,
			 &v) != 0)
		return -1;
	if (apply)
		p->cfg->max_jobs_per_client = (size_t)v;
	return 0;
}

static int
config_parse_max_jobs(struct config_parser *p, const struct config_keyword *kw,
		      char **argv, int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 0, 1, CONFIG_MAX_MAX_JOBS, &v) != 0)
		return -1;
	if (apply)
		p->cfg->max_jobs = (size_t)v;
	return 0;
}

static int
config_parse_max_env(struct config_parser *p, const struct config_keyword *kw,
		     char **argv, int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 0, 0, PROTO_MAX_ENV, &v) != 0)
		return -1;
	if (apply)
		p->cfg->max_env = (size_t)v;
	return 0;
}

static int
config_parse_max_depth(struct config_parser *p, const struct config_keyword *kw,
		       char **argv, int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 0, CONFIG_MIN_JSON_DEPTH,
			 PROTO_MAX_DEPTH, &v) != 0)
		return -1;
	if (apply)
		p->cfg->max_json_depth = (int)v;
	return 0;
}

/* One of the ClientQueue sizes; *line records where it was set. */
static int
config_parse_queue_size(struct config_parser *p,
			const struct config_keyword *kw, const char *arg,
			int apply, size_t *member, int *line)
{
	unsigned long long v;

	if (config_range(p, kw, arg, 1, CONFIG_MIN_CLIENT_QUEUE,
			 CONFIG_MAX_CLIENT_QUEUE, &v) != 0)
		return -1;
	if (apply) {
		*member = (size_t)v;
		*line = p->line;
	}
	return 0;
}

static int
config_parse_queue_low(struct config_parser *p, const struct config_keyword *kw,
		       char **argv, int argc, int apply)
{
	return config_parse_queue_size(p, kw, argv[0], apply,
				       &p->cfg->client_queue_low,
				       &p->queue_low_line);
}

static int
config_parse_queue_high(struct config_parser *p,
			const struct config_keyword *kw, char **argv, int argc,
			int apply)
{
	return config_parse_queue_size(p, kw, argv[0], apply,
				       &p->cfg->client_queue_high,
				       &p->queue_high_line);
}

static int
config_parse_queue_hard(struct config_parser *p,
			const struct config_keyword *kw, char **argv, int argc,
			int apply)
{
	return config_parse_queue_size(p, kw, argv[0], apply,
				       &p->cfg->client_queue_hard,
				       &p->queue_hard_line);
}

static int
config_parse_queue_hard_time(struct config_parser *p,
			     const struct config_keyword *kw, char **argv,
			     int argc, int apply)
{
	int v;

	if (config_time_range(p, kw, argv[0], 0, 0,
			      CONFIG_MAX_QUEUE_HARD_TIME_MS, &v) != 0)
		return -1;
	if (apply)
		p->cfg->client_queue_hard_time_ms = v;
	return 0;
}

static int
config_parse_audit_length(struct config_parser *p,
			  const struct config_keyword *kw, char **argv,
			  int argc, int apply)
{
	unsigned long long v;

	if (config_range(p, kw, argv[0], 1, 0, CONFIG_MAX_AUDIT_LENGTH, &v) !=
	    0)
		return -1;
	if (apply)
		p->cfg->audit_command_max = (size_t)v;
	return 0;
}

static int
config_parse_shutdown_timeout(struct config_parser *p,
			      const struct config_keyword *kw, char **argv,
			      int argc, int apply)
{
	int v;

	if (config_time_range(p, kw, argv[0], 0, 0,
			      CONFIG_MAX_SHUTDOWN_TIMEOUT_MS, &v) != 0)
		return -1;
	if (apply)
		p->cfg->shutdown_timeout_ms = v;
	return 0;
}

/* "UserHosts NAME pattern..." and "GroupHosts NAME pattern...". */
static int
config_parse_policy(struct config_parser *p, const struct config_keyword *kw,
		    char **argv, int argc, int is_group)
{
	struct config *cfg = p->cfg;
	struct config_host_policy *pol;
	int rc;

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
	rc = config_add_patterns(p, kw, argv + 1, argc - 1, &pol->patterns,
				 &pol->n_patterns);
	if (pol->n_patterns == 0 && rc == 0) {
		config_error(p, "%s: missing host patterns for \"%s\"",
			     kw->name, argv[0]);
		rc = -1;
	}
	return rc;
}

static int
config_parse_user_hosts(struct config_parser *p,
			const struct config_keyword *kw, char **argv, int argc,
			int apply)
{
	return config_parse_policy(p, kw, argv, argc, 0);
}

static int
config_parse_group_hosts(struct config_parser *p,
			 const struct config_keyword *kw, char **argv, int argc,
			 int apply)
{
	return config_parse_policy(p, kw, argv, argc, 1);
}

/*
 * "HostGroup NAME host...": a repeated NAME appends.  Hosts are separated
 * by whitespace and/or commas (a comma is never part of a host name) and
 * each must be a valid host spec; a group cannot name another group.
 */
static int
config_parse_host_group(struct config_parser *p,
			const struct config_keyword *kw, char **argv, int argc,
			int apply)
{
	struct config *cfg = p->cfg;
	struct config_group *g;
	struct proto_hostspec hs;
	struct proto_error perr;
	const char *cp;
	char *rest, *piece;
	size_t i;
	int rc = 0, full = 0, n;

	if (argc == 0) {
		config_error(p, "%s: missing value", kw->name);
		return -1;
	}
	if (strlen(argv[0]) > CONFIG_MAX_NAME) {
		config_error(p, "%s: name too long (max %d bytes)", kw->name,
			     CONFIG_MAX_NAME);
		return -1;
	}
	for (cp = argv[0]; *cp != '\0'; cp++) {
		if (!isalnum((unsigned char)*cp) && *cp != '.' && *cp != '_' &&
		    *cp != '-')
			break;
	}
	if (*argv[0] == '\0' || *cp != '\0') {
		config_error(p,
			     "%s: bad name \"%s\" (letters, digits, \".\", "
			     "\"_\" and \"-\")",
			     kw->name, argv[0]);
		return -1;
	}
	if (argc == 1) {
		config_error(p, "%s: missing hosts for \"%s\"", kw->name,
			     argv[0]);
		return -1;
	}
	g = NULL;
	for (i = 0; i < cfg->n_groups; i++) {
		if (strcmp(cfg->groups[i].name, argv[0]) == 0) {
			g = &cfg->groups[i];
			break;
		}
	}
	if (g == NULL) {
		if (cfg->n_groups >= CONFIG_MAX_GROUPS) {
			config_error(p, "%s: too many groups (max %d)",
				     kw->name, CONFIG_MAX_GROUPS);
			return -1;
		}
		cfg->groups = config_grow(cfg->groups, cfg->n_groups,
					  sizeof(*cfg->groups));
		g = &cfg->groups[cfg->n_groups++];
		memset(g, 0, sizeof(*g));
		g->name = xstrdup(argv[0]);
		g->line = p->line;
	}
	for (n = 1; n < argc; n++) {
		rest = argv[n];
		while ((piece = strsep(&rest, ",")) != NULL) {
			if (*piece == '\0')
				continue;
			if (*piece == '@') {
				config_error(p,
					     "%s %s: \"%s\": a group cannot "
					     "contain a group",
					     kw->name, g->name, piece);
				rc = -1;
				continue;
			}
			if (proto_hostspec_parse(piece, &hs, &perr) != 0) {
				config_error(p, "%s %s: \"%s\": %s", kw->name,
					     g->name, piece, perr.message);
				rc = -1;
				continue;
			}
			if (g->n_hosts >= CONFIG_MAX_GROUP_HOSTS) {
				if (!full)
					config_error(
					    p, "%s %s: too many hosts (max %d)",
					    kw->name, g->name,
					    CONFIG_MAX_GROUP_HOSTS);
				full = 1;
				rc = -1;
				continue;
			}
			g->hosts = config_grow(g->hosts, g->n_hosts,
					       sizeof(*g->hosts));
			g->hosts[g->n_hosts++] = xstrdup(piece);
		}
	}
	return rc;
}

/* Bytes in the largest unit (G, M, K) that shows them exactly. */
static const char *
config_size_str(unsigned long long v, char *buf, size_t size)
{
	static const char units[] = "GMK";
	unsigned long long mult = 1024ULL * 1024 * 1024;
	size_t i;

	for (i = 0; i < sizeof(units) - 1; i++, mult /= 1024) {
		if (v != 0 && v % mult == 0) {
			snprintf(buf, size, "%llu%c", v / mult, units[i]);
			return buf;
		}
	}
	snprintf(buf, size, "%llu", v);
	return buf;
}

/*
 * When the global section ends (the first Host line or the end of the
 * file): the client queue thresholds, completed from the defaults, must
 * rise strictly.  The error names the last line that set one of them.
 */
static void
config_check_queue(struct config_parser *p)
{
	const struct config *cfg = p->cfg;
	unsigned long long low, high, hard;
	char l[32], h[32], x[32];
	int line, saved = p->line;

	if (p->global_done)
		return;
	p->global_done = 1;
	low = p->queue_low_line != 0 ? cfg->client_queue_low
				     : CONFIG_DEFAULT_CLIENT_QUEUE_LOW;
	high = p->queue_high_line != 0 ? cfg->client_queue_high
				       : CONFIG_DEFAULT_CLIENT_QUEUE_HIGH;
	hard = p->queue_hard_line != 0 ? cfg->client_queue_hard
				       : CONFIG_DEFAULT_CLIENT_QUEUE_HARD;
	if (low < high && high < hard)
		return;
	line = p->queue_low_line;
	if (p->queue_high_line > line)
		line = p->queue_high_line;
	if (p->queue_hard_line > line)
		line = p->queue_hard_line;
	p->line = line;
	config_error(p,
		     "ClientQueueLowWater < ClientQueueHighWater < "
		     "ClientQueueHardLimit is required (%s, %s, %s)",
		     config_size_str(low, l, sizeof(l)),
		     config_size_str(high, h, sizeof(h)),
		     config_size_str(hard, x, sizeof(x)));
	p->line = saved;
}

/*
 * When a scope (the global section or a Host block) ends: its reconnect
 * delays, completed from the global section or the defaults, must not be
 * reversed.  The error names the later line of the scope that set one.
 * Hosts that match several blocks may still combine a base from one block
 * with a maximum from another; the daemon bounds the base by the maximum.
 */
static void
config_check_delays(struct config_parser *p)
{
	const struct config_host_opts *g = &p->cfg->global, *o = p->scope;
	long long base, max;
	char b[32], m[32];
	int line, saved = p->line;

	if (p->base_delay_line == 0 && p->max_delay_line == 0)
		return;
	base = o->reconnect_base_delay_ms;
	max = o->reconnect_max_delay_ms;
	if (base == 0)
		base = g->reconnect_base_delay_ms != 0
			   ? g->reconnect_base_delay_ms
			   : CONFIG_DEFAULT_RECONNECT_BASE_DELAY_MS;
	if (max == 0)
		max = g->reconnect_max_delay_ms != 0
			  ? g->reconnect_max_delay_ms
			  : CONFIG_DEFAULT_RECONNECT_MAX_DELAY_MS;
	line = p->base_delay_line > p->max_delay_line ? p->base_delay_line
						      : p->max_delay_line;
	p->base_delay_line = p->max_delay_line = 0;
	if (base <= max)
		return;
	p->line = line;
	config_error(p,
		     "ReconnectBaseDelay must not exceed ReconnectMaxDelay "
		     "(%s > %s)",
		     config_time_str(base, b, sizeof(b)),
		     config_time_str(max, m, sizeof(m)));
	p->line = saved;
}

static int
config_keyword_cmp(const void *key, const void *entry)
{
	const struct config_keyword *kw = entry;

	return strcasecmp(key, kw->name);
}

/*
 * Split line in place into the keyword and its arguments.  The keyword ends
 * at whitespace or "=" (one "=" may separate it from the value).  Double
 * quotes group words and are removed; "#" at the start of an argument ends
 * the line.  Returns the argument count (0 for a blank or comment line) or
 * -1 after reporting an error.
 */
static int
config_split(struct config_parser *p, char *line, char **argv)
{
	char *cp = line, *out;
	int argc = 0, quoted;

#define CONFIG_SPACE(c) ((c) == ' ' || (c) == '\t' || (c) == '\r')
	while (CONFIG_SPACE(*cp))
		cp++;
	if (*cp == '\0' || *cp == '#')
		return 0;

	argv[argc++] = cp;
	while (*cp != '\0' && !CONFIG_SPACE(*cp) && *cp != '=' && *cp != '"')
		cp++;
	if (*cp == '"') {
		config_error(p, "quote in keyword");
		return -1;
	}
	if (cp == argv[0]) {
		config_error(p, "missing keyword");
		return -1;
	}
	if (*cp != '\0') {
		if (*cp == '=') {
			*cp++ = '\0';
		} else {
			*cp++ = '\0';
			while (CONFIG_SPACE(*cp))
				cp++;
			if (*cp == '=')
				cp++;
		}
	}

	for (;;) {
		while (CONFIG_SPACE(*cp))
			cp++;
		if (*cp == '\0' || *cp == '#')
			break;
		argv[argc++] = out = cp;
		quoted = 0;
		while (*cp != '\0' && (quoted || !CONFIG_SPACE(*cp))) {
			if (*cp == '"') {
				quoted = !quoted;
				cp++;
				continue;
			}
			*out++ = *cp++;
		}
		if (quoted) {
			config_error(p, "unterminated quote");
			return -1;
		}
		if (*cp != '\0')
			cp++;
		*out = '\0';
	}
#undef CONFIG_SPACE
	return argc;
}

static void
config_line(struct config_parser *p, char *line)
{
	const struct config_keyword *kw;
	uint64_t bit, *seen;
	int argc;

	if ((argc = config_split(p, line, p->argv)) <= 0)
		return;
	kw = bsearch(p->argv[0], config_keywords, CONFIG_N_KEYWORDS,
		     sizeof(config_keywords[0]), config_keyword_cmp);
	if (kw == NULL) {
		config_error(p, "unknown keyword \"%s\"", p->argv[0]);
		return;
	}
	if (kw->scope == CONFIG_SCOPE_GLOBAL && p->in_host) {
		config_error(p, "%s is not allowed in a Host block", kw->name);
		return;
	}
	if (argc < 2 && !kw->many) {
		config_error(p, "%s: missing value", kw->name);
		return;
	}
	if (argc > 2 && !kw->many) {
		config_error(p, "%s: extra argument \"%s\"", kw->name,
			     p->argv[2]);
		return;
	}
	bit = UINT64_C(1) << (kw - config_keywords);
	seen = p->in_host ? &p->block_seen : &p->global_seen;
	if (kw->parse(p, kw, p->argv + 1, argc - 1, !(*seen & bit)) == 0)
		*seen |= bit;
}

/*
 * One line into p->buf.  Returns 1 for a line, 0 at end of file, -1 for a
 * line longer than CONFIG_MAX_LINE (skipped to its end), -2 on a read error.
 * Reading byte by byte keeps memory bounded whatever the file holds.
 */
static int
config_getline(FILE *f, char *buf, size_t *lenp)
{
	size_t len = 0;
	int c, toolong = 0;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (len == CONFIG_MAX_LINE)
			toolong = 1;
		else
			buf[len++] = (char)c;
	}
	if (c == EOF && ferror(f))
		return -2;
	if (c == EOF && len == 0 && !toolong)
		return 0;
	buf[len] = '\0';
	*lenp = len;
	return toolong ? -1 : 1;
}

static void
config_parse_file(struct config_parser *p, FILE *f)
{
	size_t len;
	int rc;

	while (!p->stop) {
		p->line++;
		rc = config_getline(f, p->buf, &len);
		if (rc == 0)
			break;
		if (rc == -2) {
			config_error(p, "read error: %s", strerror(errno));
			break;
		}
		if (rc == -1) {
			config_error(p, "line too long (max %d bytes)",
				     CONFIG_MAX_LINE);
			continue;
		}
		if (strlen(p->buf) != len) {
			config_error(p, "NUL byte in line");
			continue;
		}
		config_line(p, p->buf);
	}
}

/* Fill every global member the file left unset from the defaults. */
static void
config_merge_defaults(struct config *cfg, struct config *def, uint64_t seen)
{
	struct config_host_opts *g = &cfg->global, *d = &def->global;
	size_t i;

#define CONFIG_SEEN(kw) ((seen >> (kw)) & 1U)
	if (cfg->socket_path == NULL) {
		cfg->socket_path = def->socket_path;
		def->socket_path = NULL;
	}
	if (!CONFIG_SEEN(CONFIG_KW_WORKERS))
		cfg->workers = def->workers;
	if (!CONFIG_SEEN(CONFIG_KW_LOGLEVEL))
		cfg->log_level = def->log_level;
	if (!CONFIG_SEEN(CONFIG_KW_MAXLINELENGTH))
		cfg->max_line = def->max_line;
	if (!CONFIG_SEEN(CONFIG_KW_MAXHOSTSPERREQUEST))
		cfg->max_hosts = def->max_hosts;
	if (!CONFIG_SEEN(CONFIG_KW_MAXSTDINBYTES))
		cfg->max_stdin = def->max_stdin;
	if (!CONFIG_SEEN(CONFIG_KW_MAXHANDSHAKERATE))
		cfg->max_handshake_rate = def->max_handshake_rate;
	if (!CONFIG_SEEN(CONFIG_KW_MAXCONNECTIONSPERUSER))
		cfg->max_connections_per_user = def->max_connections_per_user;
	if (!CONFIG_SEEN(CONFIG_KW_MAXREQUESTSPERCLIENT))
		cfg->max_requests_per_client = def->max_requests_per_client;
	if (!CONFIG_SEEN(CONFIG_KW_MAXJOBSPERCLIENT))
		cfg->max_jobs_per_client = def->max_jobs_per_client;
	if (!CONFIG_SEEN(CONFIG_KW_MAXJOBS))
		cfg->max_jobs = def->max_jobs;
	if (!CONFIG_SEEN(CONFIG_KW_MAXENVENTRIES))
		cfg->max_env = def->max_env;
	if (!CONFIG_SEEN(CONFIG_KW_MAXJSONDEPTH))
		cfg->max_json_depth = def->max_json_depth;
	if (!CONFIG_SEEN(CONFIG_KW_CLIENTQUEUELOWWATER))
		cfg->client_queue_low = def->client_queue_low;
	if (!CONFIG_SEEN(CONFIG_KW_CLIENTQUEUEHIGHWATER))
		cfg->client_queue_high = def->client_queue_high;
	if (!CONFIG_SEEN(CONFIG_KW_CLIENTQUEUEHARDLIMIT))
		cfg->client_queue_hard = def->client_queue_hard;
	if (!CONFIG_SEEN(CONFIG_KW_CLIENTQUEUEHARDTIME))
		cfg->client_queue_hard_time_ms = def->client_queue_hard_time_ms;
	if (!CONFIG_SEEN(CONFIG_KW_AUDITCOMMANDLENGTH))
		cfg->audit_command_max = def->audit_command_max;
	if (!CONFIG_SEEN(CONFIG_KW_SHUTDOWNTIMEOUT))
		cfg->shutdown_timeout_ms = def->shutdown_timeout_ms;
#undef CONFIG_SEEN

	if (g->user == NULL) {
		g->user = d->user;
		d->user = NULL;
	}
	if (g->port == 0)
		g->port = d->port;
	if (g->n_identity_files == 0) {
		for (i = 0; i < d->n_identity_files; i++) {
			g->identity_files[i] = d->identity_files[i];
			d->identity_files[i] = NULL;
		}
		g->n_identity_files = d->n_identity_files;
		d->n_identity_files = 0;
	}
	if (g->known_hosts_file == NULL) {
		g->known_hosts_file = d->known_hosts_file;
		d->known_hosts_file = NULL;
	}
	if (g->strict == -1)
		g->strict = d->strict;
	if (g->connect_timeout_ms == 0)
		g->connect_timeout_ms = d->connect_timeout_ms;
	if (g->max_sessions == 0)
		g->max_sessions = d->max_sessions;
	if (g->max_channels == 0)
		g->max_channels = d->max_channels;
	if (g->server_alive_interval_ms == -1)
		g->server_alive_interval_ms = d->server_alive_interval_ms;
	if (g->server_alive_count_max == 0)
		g->server_alive_count_max = d->server_alive_count_max;
	if (g->connection_attempts == 0)
		g->connection_attempts = d->connection_attempts;
	if (g->reconnect_base_delay_ms == 0)
		g->reconnect_base_delay_ms = d->reconnect_base_delay_ms;
	if (g->reconnect_max_delay_ms == 0)
		g->reconnect_max_delay_ms = d->reconnect_max_delay_ms;
	if (g->host_down_after == 0)
		g->host_down_after = d->host_down_after;
	if (g->stop_grace_ms == 0)
		g->stop_grace_ms = d->stop_grace_ms;
}

/* Fill every unset member of out from o (one step of config_host). */
static void
config_host_fill(struct config_host_opts *out, const struct config_host_opts *o)
{
	if (out->user == NULL)
		out->user = o->user;
	if (out->port == 0)
		out->port = o->port;
	if (out->identity_passphrase_file == NULL)
		out->identity_passphrase_file = o->identity_passphrase_file;
	if (out->known_hosts_file == NULL)
		out->known_hosts_file = o->known_hosts_file;
	if (out->strict == -1)
		out->strict = o->strict;
	if (out->connect_timeout_ms == 0)
		out->connect_timeout_ms = o->connect_timeout_ms;
	if (out->max_sessions == 0)
		out->max_sessions = o->max_sessions;
	if (out->max_channels == 0)
		out->max_channels = o->max_channels;
	if (out->server_alive_interval_ms == -1)
		out->server_alive_interval_ms = o->server_alive_interval_ms;
	if (out->server_alive_count_max == 0)
		out->server_alive_count_max = o->server_alive_count_max;
	if (out->connection_attempts == 0)
		out->connection_attempts = o->connection_attempts;
	if (out->reconnect_base_delay_ms == 0)
		out->reconnect_base_delay_ms = o->reconnect_base_delay_ms;
	if (out->reconnect_max_delay_ms == 0)
		out->reconnect_max_delay_ms = o->reconnect_max_delay_ms;
	if (out->host_down_after == 0)
		out->host_down_after = o->host_down_after;
	if (out->stop_grace_ms == 0)
		out->stop_grace_ms = o->stop_grace_ms;
}

struct config *
config_load(const char *path, struct config_errors *errs)
{
	struct config_parser *p;
	struct config *cfg, *def;
	FILE *f;
	char *user;
	size_t nerrors;

	def = config_default();
	cfg = xcalloc(1, sizeof(*cfg));
	cfg->path = xstrdup(path);
	config_opts_init(&cfg->global);

	p = xcalloc(1, sizeof(*p));
	p->path = path;
	p->cfg = cfg;
	p->errs = errs;
	p->scope = &cfg->global;
	config_opts_init(&p->discard);
	config_whoami(&user, &p->home);
	free(user);

	if ((f = fopen(path, "re")) == NULL)
		config_error(p, "%s", strerror(errno));
	else {
		config_parse_file(p, f);
		fclose(f);
		p->line = 0;
		config_check_delays(p);
		config_check_queue(p);
	}

	config_merge_defaults(cfg, def, p->global_seen);
	nerrors = p->nerrors;
	config_opts_free(&p->discard);
	free(p->home);
	free(p);
	config_free(def);
	if (nerrors > 0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void
config_host(const struct config *cfg, const char *host,
	    struct config_host_opts *out)
{
	const struct config_host_opts *g = &cfg->global, *o;
	size_t i, j;
	int have_ids = 0;

	config_opts_init(out);
	for (i = 0; i < cfg->n_blocks; i++) {
		if (!config_match_patterns(cfg->blocks[i].patterns,
					   cfg->blocks[i].n_patterns, host))
			continue;
		o = &cfg->blocks[i].opts;
		if (!have_ids && o->n_identity_files > 0) {
			for (j = 0; j < o->n_identity_files; j++)
				out->identity_files[j] = o->identity_files[j];
			out->n_identity_files = o->n_identity_files;
			have_ids = 1;
		}
		config_host_fill(out, o);
	}

	if (!have_ids) {
		for (j = 0; j < g->n_identity_files; j++)
			out->identity_files[j] = g->identity_files[j];
		out->n_identity_files = g->n_identity_files;
	}
	config_host_fill(out, g);
}

/*
 * Glob match of pat (len bytes, "*" and "?") against s, ignoring ASCII case
 * like ssh_config does for host names.  Iterative: a "*" only remembers
 * where to resume, so patterns like "*a*a*a*b" cannot explode.
 */
static int
config_glob(const char *pat, size_t len, const char *s)
{
	size_t pi = 0, star = (size_t)-1;
	const char *resume = NULL;

	while (*s != '\0') {
		if (pi < len && pat[pi] == '*') {
			star = pi++;
			resume = s;
		} else if (pi < len &&
			   (pat[pi] == '?' || tolower((unsigned char)pat[pi]) ==
						  tolower((unsigned char)*s))) {
			pi++;
			s++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			s = ++resume;
		} else
			return 0;
	}
	while (pi < len && pat[pi] == '*')
		pi++;
	return pi == len;
}

int
config_match_patterns(char *const *patterns, size_t n, const char *host)
{
	const char *cp, *end;
	size_t i, len;
	int matched = 0, negated;

	if (host == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		for (cp = patterns[i]; cp != NULL; cp = end) {
			if ((end = strchr(cp, ',')) != NULL)
				len = end++ - cp;
			else
				len = strlen(cp);
			negated = len > 0 && *cp == '!';
			if (negated) {
				cp++;
				len--;
			}
			if (len == 0 || !config_glob(cp, len, host))
				continue;
			/* A negated match excludes the host outright. */
			if (negated)
				return 0;
			matched = 1;
		}
	}
	return matched;
}

const char *
config_strict_name(int strict)
{
	switch (strict) {
	case CONFIG_STRICT_YES:
		return "yes";
	case CONFIG_STRICT_ACCEPT_NEW:
		return "accept-new";
	default:
		return "unknown";
	}
}

const struct config_group *
config_group_find(const struct config *cfg, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < cfg->n_groups; i++) {
		if (strcmp(cfg->groups[i].name, name) == 0)
			return &cfg->groups[i];
	}
	return NULL;
}
