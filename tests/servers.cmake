# SPDX-License-Identifier: ISC
# sshpoold against SSH servers other than OpenSSH (TinySSH, started by
# fleet.sh tinyssh-start), with the fleet fixture's user key.  The binary
# exits 77, a skip, only when a server program is not installed.

sshpool_test(test_servers TIMEOUT 120
	SOURCES test_servers.c tclient.c tcollect.c tstatus.c
	LIBS sshpool_proto
	FIXTURES fleet)
add_dependencies(test_servers sshpoold)
set_tests_properties(test_servers PROPERTIES RUN_SERIAL TRUE
	SKIP_RETURN_CODE 77
	ENVIRONMENT "CK_DEFAULT_TIMEOUT=120;SSHPOOL_FLEET_DIR=${SSHPOOL_FLEET_DIR};SSHPOOL_FLEET_SH=${SSHPOOL_FLEET_SH};SSHPOOL_TINYSSH_DIR=${CMAKE_BINARY_DIR}/tinyssh;SSHPOOLD=$<TARGET_FILE:sshpoold>")
