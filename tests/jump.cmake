# SPDX-License-Identifier: ISC
# Jump hosts: bastions and targets in a network namespace of their own
# (fleet.sh jump-start, which the test runs itself), proven with OpenSSH's
# ssh -J, and a sshpoold per test.  Root only, and only where network
# namespaces can be made: the binary exits 77, a skip, otherwise.  Serial:
# it starts a few sshd processes, creates the fleet's login user on first
# use and times out its logins.

sshpool_test(test_jump TIMEOUT 180
	SOURCES test_jump.c tclient.c tcollect.c
	LIBS sshpool_proto PkgConfig::JSONC)
add_dependencies(test_jump sshpoold)
set_tests_properties(test_jump PROPERTIES RUN_SERIAL TRUE
	SKIP_RETURN_CODE 77
	ENVIRONMENT "CK_DEFAULT_TIMEOUT=180;SSHPOOL_FLEET_SH=${SSHPOOL_FLEET_SH};SSHPOOL_JUMP_DIR=${CMAKE_BINARY_DIR}/jump;SSHPOOLD=$<TARGET_FILE:sshpoold>")
