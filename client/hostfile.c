/* SPDX-License-Identifier: ISC */
/*
 * Host file parsing for the sshpool CLI.  Kept apart from the command code
 * so the unit tests can exercise it without a daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostfile.h"

static int
hostfile_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' ||
	       ch == '\v';
}

int
hostfile_parse(const char *text, size_t len, const char *name,
	       hostfile_add_fn add, void *arg, char *err, size_t errlen)
{
	char host[HOSTFILE_MAX_LINE + 1];
	const char *p = text, *end = text + len, *eol, *s, *e, *q;
	size_t lineno = 0, n;

	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: contains a NUL byte", name);
		return -1;
	}
	for (; p < end; p = eol + 1) {
		lineno++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if ((size_t)(eol - p) > HOSTFILE_MAX_LINE) {
			snprintf(err, errlen,
				 "%s:%zu: line longer than %d "
				 "bytes",
				 name, lineno, HOSTFILE_MAX_LINE);
			return -1;
		}
		if ((e = memchr(p, '#', (size_t)(eol - p))) == NULL)
			e = eol;
		for (s = p; s < e && hostfile_space(*s); s++)
			;
		while (e > s && hostfile_space(e[-1]))
			e--;
		if (s == e)
			continue;
		for (q = s; q < e; q++) {
			if (hostfile_space(*q)) {
				snprintf(err, errlen,
					 "%s:%zu: one host per "
					 "line expected",
					 name, lineno);
				return -1;
			}
		}
		n = (size_t)(e - s);
		memcpy(host, s, n);
		host[n] = '\0';
		if (add(arg, host, err, errlen) == -1) {
			char msg[512];

			snprintf(msg, sizeof msg, "%s", err);
			snprintf(err, errlen, "%s:%zu: %s", name, lineno, msg);
			return -1;
		}
		if (eol == end)
			break;
	}
	return 0;
}

int
hostfile_read(const char *path, hostfile_add_fn add, void *arg, char *err,
	      size_t errlen)
{
	char *buf = NULL, *p;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, r;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 65536 : cap * 2;
			if (cap > HOSTFILE_MAX_SIZE + 4096 ||
			    (p = realloc(buf, cap)) == NULL) {
				snprintf(err, errlen, "%s: too large", path);
				goto fail;
			}
			buf = p;
		}
		n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		len += (size_t)n;
		if (len > HOSTFILE_MAX_SIZE) {
			snprintf(err, errlen, "%s: too large", path);
			goto fail;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	r = hostfile_parse(buf != NULL ? buf : "", len, path, add, arg, err,
			   errlen);
	free(buf);
	return r;

fail:
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return -1;
}
