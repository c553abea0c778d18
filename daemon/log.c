/*
 * Process-wide logging.  One line per event, written with a single write(2)
 * (stderr) or syslog(3) call so lines from different threads never mix.
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

static void log_vwrite(int, const char *, va_list, const char *)
    __attribute__((format(printf, 2, 0)));

static void
log_vwrite(int prio, const char *fmt, va_list ap, const char *suffix)
{
	char line[2048];
	int n, off = 0;

	if (log_target == LOG_TO_SYSLOG) {
		vsnprintf(line, sizeof(line), fmt, ap);
		if (suffix != NULL)
			syslog(prio, "%s: %s", line, suffix);
		else
			syslog(prio, "%s", line);
		return;
	}
	if (log_journal)
		off = snprintf(line, sizeof(line), "<%d>", prio);
	n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
	if (n < 0)
		return;
	off += n;
	if (off > (int)sizeof(line) - 2)
		off = sizeof(line) - 2;
	if (suffix != NULL)
		off += snprintf(line + off, sizeof(line) - off, ": %s", suffix);
	if (off > (int)sizeof(line) - 2)
		off = sizeof(line) - 2;
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
