/* SPDX-License-Identifier: ISC */
/*
 * Fault injection into the test fleet (tests/fleet/fleet.sh) for the fault
 * tests: finding the sshd processes that serve one pooled session, stopping
 * or killing them, restarting a whole sshd instance, and telling whether a
 * remote command still runs.
 *
 * Everything is found through /proc.  A fleet sshd instance N is the
 * listener named by DIR/sshd.N.pid whose command line still names
 * DIR/sshd.N.conf (a recycled pid is never signalled).  Each connection is
 * served by a child of that listener (the privileged monitor) and its
 * descendants (the unprivileged child after authentication, then the shell
 * and the command); a connection belongs to a host when one of its
 * processes holds an established TCP socket whose local address is that
 * host's address and port.
 */
#ifndef SSHPOOL_FAULTUTIL_H
#define SSHPOOL_FAULTUTIL_H

#include <sys/types.h>

#include <stddef.h>

#define FU_MAX_PROCS 8192   /* processes of one /proc snapshot */
#define FU_MAX_TREE 256     /* processes of the session trees of one host */
#define FU_MAX_INSTANCES 16 /* sshd instances of one fleet */
#define FU_CMD_MAX 256      /* command line bytes kept per process */
#define FU_START_WAIT_MS 10000

/* Processes of the per-connection trees that serve one host (or one sshd
 * instance), in tree order: a parent before its children. */
struct fu_tree {
	pid_t pid[FU_MAX_TREE];
	int is_sshd[FU_MAX_TREE]; /* comm is "sshd" */
	int authed[FU_MAX_TREE];  /* its connection passed authentication */
	size_t n;
	size_t sessions; /* connections (per-connection trees) */
};

/*
 * The per-connection process trees that serve addr:port in the fleet of
 * dir.  Returns the number of connections found (t->sessions), or -1 with
 * err on failure.
 */
int fu_host_tree(const char *dir, const char *addr, int port, struct fu_tree *t,
		 char *err, size_t errlen);

/* The listener of instance n and every process below it: 0, or -1 with err
 * (also when the listener is not running). */
int fu_instance_tree(const char *dir, const char *n, struct fu_tree *t,
		     char *err, size_t errlen);

/* Send sig to the processes of t; only the sshd ones if sshd_only.
 * Returns how many were signalled. */
int fu_signal(const struct fu_tree *t, int sig, int sshd_only);

/* Wait (bounded) until no process of t is alive (zombies count as gone).
 * 0, or -1 on timeout. */
int fu_wait_gone(const struct fu_tree *t, int timeout_ms);

/* The instance (the "N" of sshd.N.conf) that listens on addr, in name. */
int fu_instance_of(const char *dir, const char *addr, char *name,
		   size_t namelen);

/*
 * Start instance n again as the fleet did (/usr/sbin/sshd -f DIR/sshd.N.conf
 * -E DIR/sshd.N.log) and wait (bounded) until each of its ListenAddress
 * addresses accepts TCP on its port.  0, or -1 with err.
 */
int fu_instance_start(const char *dir, const char *n, char *err, size_t errlen);

/*
 * Put the fleet back in shape after a test that may have died half-way:
 * every instance whose listener is gone is started again, and every stopped
 * process below a listener is killed.  0, or -1 with err.
 */
int fu_fleet_heal(const char *dir, char *err, size_t errlen);

/* Live processes of user uid whose command line (arguments joined by single
 * spaces) is exactly cmd. */
int fu_count_cmd(uid_t uid, const char *cmd);

/* Milliseconds until no process of uid has command line cmd (bounded by
 * timeout_ms), or -1 if one still runs. */
long long fu_wait_cmd_gone(uid_t uid, const char *cmd, int timeout_ms);

#endif
