# SPDX-License-Identifier: ISC
# Descriptors passed with requests (SCM_RIGHTS): sshpoold against the
# loopback fleet, counting the daemon's open descriptors.

sshpool_test(test_fds TIMEOUT 300
	SOURCES test_fds.c tclient.c tcollect.c tstatus.c
	LIBS sshpool_proto
	FIXTURES fleet)
add_dependencies(test_fds sshpoold)
set_tests_properties(test_fds PROPERTIES RUN_SERIAL TRUE
	ENVIRONMENT "CK_DEFAULT_TIMEOUT=300;SSHPOOL_FLEET_DIR=${SSHPOOL_FLEET_DIR};SSHPOOLD=$<TARGET_FILE:sshpoold>")
