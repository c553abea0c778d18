/* SPDX-License-Identifier: ISC */
/*
 * Logging in the OpenBSD style: log_warn appends strerror(errno), log_warnx
 * does not; fatal/fatalx log and exit(1).  errno is preserved.  Messages go
 * to stderr in the foreground (with "<N>" priority prefixes under journald)
 * or to syslog.  Control characters in messages are escaped, so one call is
 * always one line.  Safe to call from any thread.
 */
#ifndef SSHPOOL_LOG_H
#define SSHPOOL_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* Bytes of one log line at most, its newline included; longer messages
 * are cut. */
#define LOG_LINE_MAX 2048

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_INFO,
	LOG_LEVEL_VERBOSE,
	LOG_LEVEL_DEBUG
};

enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

void log_init(enum log_target, enum log_level, const char *ident);
void log_setlevel(enum log_level);
enum log_level log_getlevel(void);
int log_level_from_name(const char *, enum log_level *);
/* The escaping every line gets: control characters as \n, \r, \t or \xNN,
 * up to dstlen bytes, never cutting an escape.  Returns the bytes written
 * (dst is not terminated). */
size_t log_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
