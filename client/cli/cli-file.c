/* SPDX-License-Identifier: ISC */
/*
 * Reading a whole file or standard input into memory, bounded: the
 * argument files, --stdin, --stdin-file and -I.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int
cli_file_read_fd(int fd, const char *name, size_t max, char **out,
		 size_t *outlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (len == cap) {
			if (cap > max) {
				cli_warnx("%s: larger than %zu bytes", name,
					  max);
				free(buf);
				return -1;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			buf = cli_xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			cli_warnx("%s: %s", name, strerror(errno));
			free(buf);
			return -1;
		}
		len += (size_t)n;
	}
	if (len > max) {
		cli_warnx("%s: larger than %zu bytes", name, max);
		free(buf);
		return -1;
	}
	if (buf == NULL)
		buf = cli_xrealloc(NULL, 1);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

int
cli_file_read(const char *path, size_t max, char **out, size_t *outlen)
{
	int fd, rc;

	if (strcmp(path, "-") == 0)
		return cli_file_read_fd(STDIN_FILENO, "stdin", max, out,
					outlen);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cli_warnx("%s: %s", path, strerror(errno));
		return -1;
	}
	rc = cli_file_read_fd(fd, path, max, out, outlen);
	close(fd);
	return rc;
}
