/* SPDX-License-Identifier: ISC */
/*
 * The daemon's logger (daemon/log.c) seen from its output: stderr is
 * pointed at a file, messages whose arguments carry control characters
 * are logged, and the file must hold exactly one line per call with those
 * characters escaped, under a length bound, with and without the journald
 * priority prefix.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"

#define TL_READ_MAX (4 * LOG_LINE_MAX)

static char tl_path[64];
static int tl_saved = -1;

/* Send stderr to a fresh file until tl_read. */
static void
tl_capture(void)
{
	int fd;

	snprintf(tl_path, sizeof tl_path, "/tmp/test_log.XXXXXX");
	fd = mkstemp(tl_path);
	ck_assert_int_ge(fd, 0);
	tl_saved = dup(STDERR_FILENO);
	ck_assert_int_ge(tl_saved, 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

/* What was logged since tl_capture; stderr is restored.  Static buffer. */
static const char *
tl_read(size_t *len)
{
	static char buf[TL_READ_MAX + 1];
	ssize_t n;
	int fd;

	ck_assert_int_eq(dup2(tl_saved, STDERR_FILENO), STDERR_FILENO);
	close(tl_saved);
	fd = open(tl_path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, TL_READ_MAX);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	close(fd);
	unlink(tl_path);
	*len = (size_t)n;
	return buf;
}

static size_t
tl_count(const char *s, size_t len, char c)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

START_TEST(test_escape)
{
	static const char in[] = "a\nb\r\tc\x01\x1b[2J\x7f\\ \xc3\xa9";
	char out[64];
	size_t n;

	n = log_escape(out, sizeof out, in, sizeof in - 1);
	out[n] = '\0';
	/* Backslashes and UTF-8 are left alone; only control bytes change. */
	ck_assert_str_eq(out, "a\\nb\\r\\tc\\x01\\x1b[2J\\x7f\\ \xc3\xa9");
	/* Bounded, and an escape is never cut in half. */
	n = log_escape(out, 3, "a\nb", 3);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(memcmp(out, "a\\n", 3), 0);
	n = log_escape(out, 2, "a\nb", 3);
	ck_assert_uint_eq(n, 1);
	n = log_escape(out, 4, "\x02", 1);
	ck_assert_uint_eq(n, 4);
	n = log_escape(out, 3, "\x02", 1);
	ck_assert_uint_eq(n, 0);
}
END_TEST

/* A server's text with a newline stays inside its own line. */
START_TEST(test_one_line_per_call)
{
	const char *got;
	size_t len;

	log_init(LOG_TO_STDERR, LOG_LEVEL_DEBUG, "test_log");
	tl_capture();
	log_info("host=h conn=1: session closed: %s",
		 "bye\naudit: client uid=0 op=run command=\"forged\"");
	errno = ENOENT;
	log_warn("open %s", "a\rb");
	log_debug("tab\there, nul-free \x1b[31mred");
	got = tl_read(&len);
	ck_assert_str_eq(
	    got, "host=h conn=1: session closed: bye\\naudit: client uid=0 "
		 "op=run command=\"forged\"\n"
		 "open a\\rb: No such file or directory\n"
		 "tab\\there, nul-free \\x1b[31mred\n");
}
END_TEST

/* Long messages are cut to LOG_LINE_MAX, escapes included, never split
 * across lines. */
START_TEST(test_long_line)
{
	static char big[3 * LOG_LINE_MAX];
	const char *got;
	size_t len;

	memset(big, '\n', sizeof big - 1);
	log_init(LOG_TO_STDERR, LOG_LEVEL_INFO, "test_log");
	tl_capture();
	log_info("x%s", big);
	log_info("next");
	got = tl_read(&len);
	ck_assert_uint_eq(tl_count(got, len, '\n'), 2);
	ck_assert_ptr_nonnull(strchr(got, '\n'));
	ck_assert_uint_le((size_t)(strchr(got, '\n') - got) + 1, LOG_LINE_MAX);
	ck_assert_str_eq(strchr(got, '\n') + 1, "next\n");
	/* Only whole escapes: the cut line ends in "\n", not a lone '\'. */
	ck_assert_int_eq(got[strchr(got, '\n') - got - 1], 'n');
	ck_assert_int_eq(got[strchr(got, '\n') - got - 2], '\\');
}
END_TEST

START_TEST(test_journal_prefix)
{
	const char *got;
	size_t len;

	setenv("JOURNAL_STREAM", "8:1234", 1);
	log_init(LOG_TO_STDERR, LOG_LEVEL_INFO, "test_log");
	tl_capture();
	log_info("a\n<3>forged");
	log_warnx("b");
	got = tl_read(&len);
	unsetenv("JOURNAL_STREAM");
	ck_assert_str_eq(got, "<6>a\\n<3>forged\n<3>b\n");
}
END_TEST

/* Below the level nothing is written, and errno survives every call. */
START_TEST(test_levels_errno)
{
	const char *got;
	size_t len;

	log_init(LOG_TO_STDERR, LOG_LEVEL_ERROR, "test_log");
	tl_capture();
	errno = EPERM;
	log_info("hidden");
	ck_assert_int_eq(errno, EPERM);
	log_warnx("shown\n");
	ck_assert_int_eq(errno, EPERM);
	got = tl_read(&len);
	ck_assert_str_eq(got, "shown\\n\n");
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_one_line_per_call);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_journal_prefix);
	tcase_add_test(tc, test_levels_errno);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	unsetenv("JOURNAL_STREAM");
	return testutil_run(log_suite());
}
