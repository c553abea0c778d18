/* SPDX-License-Identifier: ISC */
/*
 * The worker room's front door, for start-up and shutdown (main.c): start
 * n workers, each with its own copy of the keys and the control thread's
 * inbox to reply to, and get back the handle through which the control
 * thread reaches them.  Nothing else of worker/ is visible outside it.
 */
#ifndef SSHPOOL_WORKERS_H
#define SSHPOOL_WORKERS_H

struct inbox;
struct keystore;
struct shards;

/* NULL if n is out of range. */
const struct shards *workers_start(int n, const struct keystore *,
				   struct inbox *reply);
/* MSG_SHUTDOWN to all, then join and free them. */
void workers_stop(void);

#endif
