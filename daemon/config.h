/* SPDX-License-Identifier: ISC */
/*
 * sshpoold configuration: defaults, the sshd_config-style file parser and the
 * per-host lookup through Host blocks.  A loaded struct config holds every
 * default the file did not override, is immutable and may be read from any
 * thread; it is replaced whole on reload.
 */
#ifndef SSHPOOL_CONFIG_H
#define SSHPOOL_CONFIG_H

#include <sys/types.h>

#include <stddef.h>

#include "../proto/proto.h"

/*
 * Limits the keyword table and its readers share.  Each keyword's default
 * and range are in its row (config_table.c), documented in
 * conf/sshpoold.conf and sshpoold.conf(5).
 */
#define CONFIG_MAX_SESSIONS_PER_HOST 64
#define CONFIG_MAX_CHANNELS_PER_SESSION 64
#define CONFIG_MAX_ALLOW 256 /* names on AllowUsers, DenyGroups, ... */
#define CONFIG_MAX_POLICIES 1024
#define CONFIG_MAX_GROUPS 1024
#define CONFIG_MAX_GROUP_HOSTS 10000
#define CONFIG_MAX_WORKERS 256
#define CONFIG_MAX_IDENTITY_FILES 16
#define CONFIG_MAX_CERTIFICATE_FILES 16
#define CONFIG_MAX_PATTERNS 64 /* patterns on one Host line */
#define CONFIG_MAX_HOST_BLOCKS 4096
#define CONFIG_MAX_ERRORS 100 /* errors collected before giving up */
#define CONFIG_MAX_LINE 4096  /* bytes of one config line */
/* Bytes of a request line left for all but its stdin (config_check_stdin) */
#define CONFIG_LINE_ROOM (128u * 1024)

/* Bytes of PreferredAuthentications, a comma list of method names. */
#define CONFIG_MAX_PREFERRED_AUTH 256
#define CONFIG_DEFAULT_PREFERRED_AUTH "publickey,keyboard-interactive,password"
#define CONFIG_MAX_PASSWORD_PROMPTS 100
#define CONFIG_DEFAULT_PASSWORD_PROMPTS 3 /* OpenSSH's */
/* Bytes of a HostName value, the longest host name a request may give. */
#define CONFIG_MAX_HOSTNAME 255
/* Hops of one ProxyJump chain: the codec's limit, one for every source. */
#define CONFIG_MAX_JUMP_HOPS PROTO_MAX_JUMP_HOPS
/* MaxTunnelsPerSession: direct-tcpip channels of one hop session. */
#define CONFIG_MAX_TUNNELS_PER_SESSION 1024
#define CONFIG_DEFAULT_TUNNELS_PER_SESSION 64

enum config_strict {
	CONFIG_STRICT_YES,        /* unknown and changed keys refused */
	CONFIG_STRICT_ACCEPT_NEW, /* unknown keys learnt, changed refused */
};

/*
 * Per-host settings.  In a Host block each member may be unset (as noted
 * below); the global section of a loaded config has every member set, and
 * config_host() resolves a host's blocks over it to a complete set.
 */
struct config_host_opts {
	char *user;     /* NULL = unset */
	char *hostname; /* HostName as written, "%h" and "%%" kept; NULL =
			 * unset (the name the request gave) */
	int port;       /* 0 = unset */
	char *identity_files[CONFIG_MAX_IDENTITY_FILES]; /* absolute paths */
	size_t n_identity_files;                         /* 0 = unset */
	char *identity_passphrase_file; /* NULL = unset / none */
	char *known_hosts_file;         /* UserKnownHostsFile; NULL = unset */
	int strict;                     /* enum config_strict, -1 = unset */
	int connect_timeout_ms;         /* 0 = unset */
	int max_sessions;               /* MaxSessionsPerHost, 0 = unset */
	int max_channels;               /* MaxChannelsPerSession, 0 = unset */
	int server_alive_interval_ms; /* ServerAliveInterval; -1 unset, 0 off */
	int server_alive_count_max;   /* ServerAliveCountMax, 0 = unset */
	int connection_attempts;      /* ConnectionAttempts, 0 = unset */
	int reconnect_base_delay_ms;  /* ReconnectBaseDelay, 0 = unset */
	int reconnect_max_delay_ms;   /* ReconnectMaxDelay, 0 = unset */
	int host_down_after;          /* HostDownAfter, 0 = unset */
	int stop_grace_ms;            /* StopGraceTime, 0 = unset */
	int idle_timeout_ms;          /* IdleTimeout; -1 unset, 0 never */
	int max_pools;                /* MaxPools, 0 = unset */

	/* Credentials besides the identities. */
	char *certificate_files[CONFIG_MAX_CERTIFICATE_FILES];
	size_t n_certificate_files; /* CertificateFile, 0 = unset */
	char *password_file;        /* PasswordFile; NULL = unset / none */
	char *identity_agent;       /* IdentityAgent: a socket path or
				     * "none"; NULL = unset (none) */
	char *preferred_auth;       /* PreferredAuthentications, NULL unset */
	int forward_agent;          /* ForwardAgent 0/1, -1 = unset; only
				     * with an IdentityAgent */
	int password_prompts;       /* NumberOfPasswordPrompts, -1 = unset */
	int identities_only;        /* IdentitiesOnly 0/1, -1 = unset */

	/* Jump hosts. */
	char *proxy_jump; /* ProxyJump as written (checked), "none" for
			   * direct; NULL = unset (direct) */
	int max_tunnels;  /* MaxTunnelsPerSession, 0 = unset */
};

struct config_host_block {
	char **patterns; /* "!" prefix kept for negated patterns */
	size_t n_patterns;
	int line; /* line of the Host keyword, for messages */
	struct config_host_opts opts;
};

struct config {
	char *path;             /* file read, NULL when running on defaults */
	char *socket_path;      /* Socket */
	int workers;            /* Workers; 0 = number of CPUs, at least 2 */
	int log_level;          /* LogLevel, enum log_level */
	size_t max_line;        /* MaxLineLength, bytes */
	size_t max_hosts;       /* MaxHostsPerRequest */
	size_t max_stdin;       /* MaxStdinBytes */
	int max_handshake_rate; /* MaxHandshakeRate, per second */

	/* Who may use the socket (DenyUsers, AllowUsers, DenyGroups,
	 * AllowGroups: name patterns or numeric ids; all empty = every local
	 * user).  Root and the daemon's own user are always allowed. */
	char **allow_users;
	size_t n_allow_users;
	char **allow_groups;
	size_t n_allow_groups;
	char **deny_users;
	size_t n_deny_users;
	char **deny_groups;
	size_t n_deny_groups;
	char *socket_group; /* SocketGroup: group of the socket and its dir */
	int max_connections_per_user; /* MaxConnectionsPerUser */
	int max_agents_per_user;      /* MaxAgentsPerUser: client agents
				       * held by one user's requests */
	int max_requests_per_client;  /* MaxRequestsPerClient, in flight */
	size_t max_jobs_per_client;   /* MaxJobsPerClient: host jobs running */
	size_t max_jobs;    /* MaxJobs: host jobs running, daemon-wide */
	size_t max_env;     /* MaxEnvEntries */
	int max_json_depth; /* MaxJsonDepth */
	/* Output queued for one client (ClientQueueLowWater/HighWater/
	 * HardLimit): reading its channels stops above high water, resumes
	 * below low water; above the hard limit for ClientQueueHardTime the
	 * client is disconnected and its jobs cancelled. */
	size_t client_queue_low;
	size_t client_queue_high;
	size_t client_queue_hard;
	int client_queue_hard_time_ms;
	size_t audit_command_max; /* AuditCommandLength: bytes logged */
	struct config_host_policy *policies; /* UserHosts, GroupHosts */
	size_t n_policies;

	int shutdown_timeout_ms; /* ShutdownTimeout */
	int agent_timeout_ms;    /* AgentTimeout: one ssh-agent request */
	int allow_client_creds;  /* AllowClientCredentials: 1 yes, 0 no */

	struct config_group *groups; /* HostGroup */
	size_t n_groups;

	struct config_host_opts global; /* every member set after loading */
	struct config_host_block *blocks;
	size_t n_blocks;
};

/*
 * "UserHosts NAME pattern... [users=USER,...]" / "GroupHosts NAME ...": a
 * client that one or more rules name (by its user, or any of its groups)
 * may only run on hosts matching a pattern of those rules, logging in as a
 * user the matching rule allows (no users=: only the host's User); others
 * get "forbidden".  Clients no rule names, root and the daemon's user are
 * not limited.
 */
struct config_host_policy {
	int is_group;
	char *name;      /* user or group: name or numeric id */
	char **patterns; /* ssh_config patterns, "!" negation */
	size_t n_patterns;
	char **users; /* remote user patterns ("*", "?"); NULL: the host's */
	size_t n_users;
	int line;
};

/* "HostGroup NAME host...": "@NAME" in a request means these hosts. */
struct config_group {
	char *name;
	char **hosts; /* host specs */
	size_t n_hosts;
	int line;
};

/* One error or warning with its place: "file:line: message". */
struct config_errors {
	char **lines;
	size_t n;
};
void config_errors_free(struct config_errors *);

/*
 * Defaults for the current user, from the environment:
 * - root: Socket /run/sshpool/sshpoold.sock, known hosts
 *   /etc/sshpool/known_hosts, identities /etc/sshpool/id_{ed25519,ecdsa,rsa};
 * - others: Socket $XDG_RUNTIME_DIR/sshpool/sshpoold.sock (or
 *   /tmp/sshpool-$UID/sshpoold.sock without XDG_RUNTIME_DIR),
 *   ~/.ssh/known_hosts, ~/.ssh/id_{ed25519,ecdsa,rsa};
 * - User: the login name of the daemon's uid.
 * Under systemd, $CREDENTIALS_DIRECTORY/id_{ed25519,ecdsa,rsa} come first
 * in the identity list, and known_hosts lives in $STATE_DIRECTORY.
 */
struct config *config_default(void);

/*
 * Read path over the defaults.  Returns NULL if there was any error; every
 * error found (up to CONFIG_MAX_ERRORS) is appended to errs as
 * "path:line: message".  A missing file is an error.
 */
struct config *config_load(const char *path, struct config_errors *errs);
void config_free(struct config *);

/*
 * The complete settings for a host name: for each member, the first Host block
 * (in file order) that matches the name and sets it wins, else the global
 * value.  Pointers in out borrow from the config.
 */
void config_host(const struct config *, const char *host,
		 struct config_host_opts *out);

/*
 * The name to resolve, connect to and look up in known_hosts for host:
 * the HostName value of its settings with "%h" replaced by host and "%%"
 * by "%", or host itself when value is NULL.  Allocated.
 */
char *config_hostname(const char *value, const char *host);

/*
 * What loads but does nothing, appended to warnings as "FILE:LINE: ..."
 * lines: ForwardAgent yes in a file that names no IdentityAgent at all,
 * since the daemon forwards only its own agent.
 */
void config_warnings(const struct config *, struct config_errors *warnings);

/* The HostGroup named name, or NULL. */
const struct config_group *config_group_find(const struct config *,
					     const char *name);

/* ssh_config pattern matching: "*", "?", comma lists, "!" negation. */
int config_match_patterns(char *const *patterns, size_t n, const char *host);

/* "yes" or "accept-new". */
const char *config_strict_name(int);

/*
 * The request limits cfg sets, as the codec enforces them: MaxLineLength,
 * MaxHostsPerRequest, MaxStdinBytes, MaxEnvEntries and MaxJsonDepth, each
 * the configured value (0 stays 0: no stdin, no env).
 */
struct proto_limits;
void config_proto_limits(const struct config *, struct proto_limits *);

/* AgentTimeout: how long the agent broker waits for one answer of an
 * ssh-agent, in milliseconds. */
int config_agent_timeout_ms(const struct config *);

#endif
