/* SPDX-License-Identifier: ISC */
/*
 * Host files for the sshpool CLI: one [user@]host[:port] per line, '#'
 * starts a comment, blank lines are ignored.  Parsing only splits and trims;
 * host specs are validated by the library when the request is sent.
 */
#ifndef SSHPOOL_HOSTFILE_H
#define SSHPOOL_HOSTFILE_H

#include <stddef.h>

#define HOSTFILE_MAX_LINE 4096                /* bytes of one line */
#define HOSTFILE_MAX_SIZE (64u * 1024 * 1024) /* bytes of a whole file */

/* Called once per host in file order; return 0, or -1 after writing a
 * message to err to stop parsing. */
typedef int (*hostfile_add_fn)(void *arg, const char *host, char *err,
			       size_t errlen);

/* Parse text of len bytes; name prefixes error messages ("name:line: ..."). */
int hostfile_parse(const char *text, size_t len, const char *name,
		   hostfile_add_fn add, void *arg, char *err, size_t errlen);

/* Read and parse a file; "-" reads standard input. */
int hostfile_read(const char *path, hostfile_add_fn add, void *arg, char *err,
		  size_t errlen);

#endif
