# SPDX-License-Identifier: ISC
# Agent forwarding (ForwardAgent) against the fleet, with a real ssh-agent
# the test starts itself as the daemon's IdentityAgent.

sshpool_test(test_forward TIMEOUT 120
	SOURCES test_forward.c tagent.c tclient.c tcollect.c tstatus.c
	LIBS sshpool_proto
	FIXTURES fleet)
add_dependencies(test_forward sshpoold)
set_tests_properties(test_forward PROPERTIES RUN_SERIAL TRUE
	ENVIRONMENT "CK_DEFAULT_TIMEOUT=120;SSHPOOL_FLEET_DIR=${SSHPOOL_FLEET_DIR};SSHPOOLD=$<TARGET_FILE:sshpoold>")
