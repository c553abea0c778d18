# SPDX-License-Identifier: ISC
# sshpoold's authentication methods against one OpenSSH server with a
# method set per address (fleet.sh auth-start, which the test runs itself).
# Root only: the binary exits 77, a skip, otherwise.

sshpool_test(test_auth TIMEOUT 240
	SOURCES test_auth.c tagent.c tclient.c tcollect.c tstatus.c
	LIBS sshpool_proto)
add_dependencies(test_auth sshpoold)
set_tests_properties(test_auth PROPERTIES RUN_SERIAL TRUE
	SKIP_RETURN_CODE 77
	ENVIRONMENT "CK_DEFAULT_TIMEOUT=240;SSHPOOL_FLEET_SH=${SSHPOOL_FLEET_SH};SSHPOOL_AUTH_DIR=${CMAKE_BINARY_DIR}/auth;SSHPOOLD=$<TARGET_FILE:sshpoold>;SSHPOOL_CLI=$<TARGET_FILE:sshpool_cli>")
