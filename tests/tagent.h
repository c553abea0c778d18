/* SPDX-License-Identifier: ISC */
/*
 * A real ssh-agent(1) for a test (tagent.c): started in the foreground on
 * a socket the test names, dying with the test, stopped by its PID.
 */
#ifndef SSHPOOL_TAGENT_H
#define SSHPOOL_TAGENT_H

#include <sys/types.h>

#include <stddef.h>

/* Start ssh-agent -D -a sock and wait for its socket; its PID (asserts). */
pid_t tagent_start(const char *sock);
/* Stop it (TERM) and reap it; pid <= 0 is nothing. */
void tagent_stop(pid_t pid);
/* A new connection to the agent at sock, as a client passes one
 * (close-on-exec; asserts). */
int tagent_connect(const char *sock);
/* ssh-add ARGS against sock, quietly: 0 when it exits 0, else -1. */
int tagent_add(const char *sock, const char *args);
/* The public key blob of the .pub file at path ("TYPE BASE64 comment")
 * into blob (size bytes); its length (asserts). */
size_t tagent_pub_blob(const char *path, unsigned char *blob, size_t size);

#endif
