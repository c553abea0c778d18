# SPDX-License-Identifier: ISC
# Integration tests of the sshpool CLI: the real binary against a real
# sshpoold and the loopback fleet (the "fleet" fixture of
# integration.cmake).  The progress-line test needs tmux, the sudo test
# needs sudo (and root, to write a sudoers entry it removes again), the
# Python example client python3.
sshpool_test(test_cli TIMEOUT 120
	SOURCES test_cli.c tclient.c tagent.c ../client/hostlist.c
	LIBS sshpool_proto PkgConfig::JSONC
	FIXTURES fleet)
target_include_directories(test_cli PRIVATE ${PROJECT_SOURCE_DIR}/client)
add_dependencies(test_cli sshpoold sshpool_cli sshpool_example_libevent)
set_tests_properties(test_cli PROPERTIES RUN_SERIAL TRUE
	ENVIRONMENT "CK_DEFAULT_TIMEOUT=120;SSHPOOL_FLEET_DIR=${SSHPOOL_FLEET_DIR};SSHPOOLD=$<TARGET_FILE:sshpoold>;SSHPOOL_CLI=$<TARGET_FILE:sshpool_cli>;SSHPOOL_PY_CLIENT=${PROJECT_SOURCE_DIR}/examples/python/sshpool_client.py;SSHPOOL_EXAMPLE_LIBEVENT=$<TARGET_FILE:sshpool_example_libevent>;SSHPOOL_COMPLETION=${PROJECT_SOURCE_DIR}/completion/sshpool.bash")
