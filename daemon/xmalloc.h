/* SPDX-License-Identifier: ISC */
/*
 * Allocation wrappers that abort on out-of-memory: the daemon cannot serve
 * anyone once malloc fails, and checking every small allocation would bury
 * the real error paths.
 */
#ifndef SSHPOOL_XMALLOC_H
#define SSHPOOL_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));

#endif
