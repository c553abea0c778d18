/* SPDX-License-Identifier: ISC */
/*
 * The outdir output mode (-o DIR, -e DIR): standard output and standard
 * error per host in DIR/HOST, created empty for every host that gets a
 * result, as pssh.  It runs alongside the display mode.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Host specs never hold '/', but "." and ".." would name directories. */
void
out_outdir_path(char *buf, size_t size, const char *dir, const char *host)
{
	snprintf(buf, size, "%s/%s%s", dir, host[0] == '.' ? "_" : "", host);
}

static void
out_outdir_write(const char *dir, const char *host, int create,
		 const void *data, size_t len)
{
	char path[PATH_MAX];
	const char *p = data;
	ssize_t n;
	int fd;

	out_outdir_path(path, sizeof path, dir, host);
	fd =
	    open(path,
		 O_WRONLY | O_CREAT | O_CLOEXEC | (create ? O_TRUNC : O_APPEND),
		 0644);
	if (fd == -1) {
		cli_warnx("%s: %s", path, strerror(errno));
		return;
	}
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			cli_warnx("%s: %s", path, strerror(errno));
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

/* Files are made (empty) for every host that gets a result, as pssh. */
static void
out_outdir_make(struct cli *cli, struct cli_host *h)
{
	if (h->files_made)
		return;
	h->files_made = 1;
	if (cli->outdir != NULL)
		out_outdir_write(cli->outdir, h->name, 1, "", 0);
	if (cli->errdir != NULL)
		out_outdir_write(cli->errdir, h->name, 1, "", 0);
}

int
out_outdir_mkdir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		cli_warnx("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		cli_warnx("%s: not a directory", dir);
		return -1;
	}
	return 0;
}

static void
out_outdir_data(struct cli *cli, struct cli_host *h, int is_err,
		const void *data, size_t len)
{
	const char *dir = is_err ? cli->errdir : cli->outdir;

	out_outdir_make(cli, h);
	if (dir != NULL)
		out_outdir_write(dir, h->name, 0, data, len);
}

const struct cli_out out_outdir = {
    .name = "outdir",
    .start = out_outdir_make,
    .data = out_outdir_data,
    .done = out_outdir_make,
};
