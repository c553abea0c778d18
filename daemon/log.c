/* SPDX-License-Identifier: ISC */
/*
 * Process-wide logging.  One line per event, written with a single write(2)
 * (stderr) or syslog(3) call so lines from different threads never mix.
 * Control characters in a message are escaped here, for every caller, so
 * text a client or a server supplied cannot forge lines of its own.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static enum log_target log_target = LOG_TO_STDERR;
static volatile enum log_level log_level = LOG_LEVEL_INFO;
static int log_journal; /* stderr is connected to journald */

static const struct {
	const char *name;
	enum log_level level;
} log_names[] = {
    {"ERROR", LOG_LEVEL_ERROR}, {"QUIET", LOG_LEVEL_ERROR},
    {"INFO", LOG_LEVEL_INFO},   {"VERBOSE", LOG_LEVEL_VERBOSE},
    {"DEBUG", LOG_LEVEL_DEBUG},
};

void
log_init(enum log_target target, enum log_level level, const char *ident)
{
	log_target = target;
	log_level = level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	if (target == LOG_TO_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setlevel(enum log_level level)
{
	log_level = level;
}

enum log_level
log_getlevel(void)
{
	return log_level;
}

int
log_level_from_name(const char *name, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strcasecmp(name, log_names[i].name) == 0) {
			*out = log_names[i].level;
			return 0;
		}
	}
	return -1;
}

/*
 * Copy src into dst with every control character escaped (\n, \r, \t,
 * \xNN), so text from clients and servers cannot start a line of its own
 * or rewrite the terminal.  Never cuts an escape; returns the bytes
 * written, dst is not terminated.
 */
size_t
log_escape(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < srclen; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c != 0x7f) {
			if (o + 1 > dstlen)
				break;
			dst[o++] = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			if (o + 2 > dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else {
			if (o + 4 > dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		}
	}
	return o;
}

static void log_vwrite(int, const char *, va_list, const char *)
    __attribute__((format(printf, 2, 0)));

/*
 * Every line is formatted whole, then escaped, then written: whatever the
 * arguments hold, one call is one line.
 */
static void
log_vwrite(int prio, const char *fmt, va_list ap, const char *suffix)
{
	char raw[LOG_LINE_MAX], line[LOG_LINE_MAX];
	int n, rawlen;
	size_t off = 0;

	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n < 0)
		return;
	rawlen = n < (int)sizeof(raw) ? n : (int)sizeof(raw) - 1;
	if (suffix != NULL && rawlen < (int)sizeof(raw) - 1) {
		n = snprintf(raw + rawlen, sizeof(raw) - rawlen, ": %s",
			     suffix);
		if (n > 0)
			rawlen += n < (int)sizeof(raw) - rawlen
				      ? n
				      : (int)sizeof(raw) - rawlen - 1;
	}
	if (log_target != LOG_TO_SYSLOG && log_journal)
		off = (size_t)snprintf(line, sizeof(line), "<%d>", prio);
	off +=
	    log_escape(line + off, LOG_LINE_MAX - 1 - off, raw, (size_t)rawlen);
	if (log_target == LOG_TO_SYSLOG) {
		line[off] = '\0';
		syslog(prio, "%s", line);
		return;
	}
	line[off++] = '\n';
	(void)!write(STDERR_FILENO, line, off);
}

#define LOG_BODY(prio, minlevel, suffix)                                       \
	do {                                                                   \
		va_list ap;                                                    \
		int saved = errno;                                             \
		if (log_level < (minlevel))                                    \
			break;                                                 \
		va_start(ap, fmt);                                             \
		log_vwrite((prio), fmt, ap, (suffix));                         \
		va_end(ap);                                                    \
		errno = saved;                                                 \
	} while (0)

void
log_warn(const char *fmt, ...)
{
	char err[256];

	snprintf(err, sizeof(err), "%s", strerror(errno));
	LOG_BODY(LOG_ERR, LOG_LEVEL_ERROR, err);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, LOG_LEVEL_ERROR, NULL);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, LOG_LEVEL_INFO, NULL);
}

void
log_verbose(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, LOG_LEVEL_VERBOSE, NULL);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_DEBUG, LOG_LEVEL_DEBUG, NULL);
}

void
fatal(const char *fmt, ...)
{
	char err[256];

	snprintf(err, sizeof(err), "%s", strerror(errno));
	LOG_BODY(LOG_CRIT, LOG_LEVEL_ERROR, err);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, LOG_LEVEL_ERROR, NULL);
	exit(1);
}
