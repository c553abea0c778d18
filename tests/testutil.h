/*
 * Shared main() for the Check test binaries: runs the suite in fork mode and
 * fails when no test ran at all, since Check reports "100%: Checks: 0" as a
 * success.
 */
#ifndef SSHPOOL_TESTUTIL_H
#define SSHPOOL_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

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

#endif
