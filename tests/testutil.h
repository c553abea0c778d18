/* SPDX-License-Identifier: ISC */
/*
 * Shared main() for the Check test binaries: runs the suite in fork mode and
 * fails when no test ran at all, since Check reports "100%: Checks: 0" as a
 * success.  Also the tests' clock, testutil_now_ms.  A binary that defines
 * TESTUTIL_FAILURE_HOOK before including this also gets the assertion hook
 * below.
 */
#ifndef SSHPOOL_TESTUTIL_H
#define SSHPOOL_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC: every deadline and duration in tests. */
static inline long long
testutil_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int
testutil_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int ran, failed;

	srunner_run_all(sr, CK_NORMAL);
	ran = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (ran == 0) {
		fprintf(stderr, "no test ran: the suite is empty\n");
		return EXIT_FAILURE;
	}
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#ifdef TESTUTIL_FAILURE_HOOK
/*
 * In fork mode a failed assertion ends the test process with _exit(), so
 * neither teardown nor atexit runs.  Every ck_assert_* expands to
 * ck_assert_msg, which here first calls testutil_failed(): the binary's own
 * clean-up (restore what the test broke, show the daemon's log).
 */
void testutil_failed(void);
#undef ck_assert_msg
#define ck_assert_msg(expr, ...)                                               \
	((expr) ? _mark_point(__FILE__, __LINE__)                              \
		: (testutil_failed(),                                          \
		   _ck_assert_failed(__FILE__, __LINE__,                       \
				     "Assertion '" #expr "' failed",           \
				     ##__VA_ARGS__)))
#endif

#endif
