# SPDX-License-Identifier: ISC
# Hostile-client and security tests: sshpoold against the loopback fleet
# with socket access control, host policy, audit log, limits and slow
# readers.  They measure latency and memory, so they run alone.

sshpool_test(test_hostile TIMEOUT 300
	SOURCES test_hostile.c tclient.c tcollect.c tstatus.c tagent.c
	LIBS sshpool_proto
	FIXTURES fleet)
add_dependencies(test_hostile sshpoold)
set_tests_properties(test_hostile PROPERTIES RUN_SERIAL TRUE
	ENVIRONMENT "CK_DEFAULT_TIMEOUT=300;SSHPOOL_FLEET_DIR=${SSHPOOL_FLEET_DIR};SSHPOOLD=$<TARGET_FILE:sshpoold>")
