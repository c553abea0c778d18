# SPDX-License-Identifier: ISC
# Fault-injection tests: sshpoold against the same fleet fixture as the
# integration tests, with sshd processes stopped, killed and restarted under
# it.  They signal the fleet's own sshd processes, so they run alone.

sshpool_test(test_faults TIMEOUT 300
	SOURCES test_faults.c faultutil.c tclient.c tcollect.c tstatus.c
	LIBS sshpool_proto
	FIXTURES fleet)
add_dependencies(test_faults sshpoold)
set_tests_properties(test_faults PROPERTIES RUN_SERIAL TRUE
	ENVIRONMENT "CK_DEFAULT_TIMEOUT=300;SSHPOOL_FLEET_DIR=${SSHPOOL_FLEET_DIR};SSHPOOLD=$<TARGET_FILE:sshpoold>")
