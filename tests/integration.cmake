# SPDX-License-Identifier: ISC
# Integration tests: sshpoold against a fleet of real OpenSSH servers on
# loopback.  The fleet is a CTest fixture, so `ctest -R test_integration`
# starts it first and stops it afterwards, even when tests fail.

set(SSHPOOL_FLEET_DIR ${CMAKE_BINARY_DIR}/fleet)
set(SSHPOOL_FLEET_SH ${CMAKE_CURRENT_SOURCE_DIR}/fleet/fleet.sh)

add_test(NAME fleet_start
	COMMAND bash ${SSHPOOL_FLEET_SH} start ${SSHPOOL_FLEET_DIR} --hosts 60)
set_tests_properties(fleet_start PROPERTIES FIXTURES_SETUP fleet
	TIMEOUT 120)
add_test(NAME fleet_stop
	COMMAND bash ${SSHPOOL_FLEET_SH} stop ${SSHPOOL_FLEET_DIR})
set_tests_properties(fleet_stop PROPERTIES FIXTURES_CLEANUP fleet TIMEOUT 60)

sshpool_test(test_integration TIMEOUT 300
	SOURCES test_integration.c tclient.c tcollect.c tstatus.c
	LIBS sshpool_proto
	FIXTURES fleet)
# The tests run the daemon binary: build it with them.
add_dependencies(test_integration sshpoold)
# Timing and memory assertions want the machine to themselves.
# ENVIRONMENT replaces what sshpool_test() set, so CK_DEFAULT_TIMEOUT is
# repeated.
set(SSHPOOL_INTEGRATION_ENV
	CK_DEFAULT_TIMEOUT=300
	SSHPOOL_FLEET_DIR=${SSHPOOL_FLEET_DIR}
	SSHPOOLD=$<TARGET_FILE:sshpoold>)
set_tests_properties(test_integration PROPERTIES RUN_SERIAL TRUE
	ENVIRONMENT "${SSHPOOL_INTEGRATION_ENV}")

# The same tests with the daemon under valgrind's memcheck: any error or a
# definite leak at exit makes sshpoold's exit status non-zero, which fails
# the test that stopped it.  Waits are stretched by SSHPOOL_TEST_SLOWDOWN.
# Not in a sanitizer build: valgrind cannot run ASan binaries.
find_program(SSHPOOL_VALGRIND valgrind)
if(SSHPOOL_VALGRIND AND NOT SSHPOOL_SANITIZE)
	add_test(NAME test_integration_valgrind COMMAND test_integration)
	string(JOIN " " SSHPOOL_VALGRIND_WRAPPER ${SSHPOOL_VALGRIND}
		--error-exitcode=99 --leak-check=full
		--errors-for-leak-kinds=definite --track-fds=no --num-callers=30
		-q)
	set(SSHPOOL_VALGRIND_ENV ${SSHPOOL_INTEGRATION_ENV}
		"SSHPOOL_TEST_WRAPPER=${SSHPOOL_VALGRIND_WRAPPER}"
		SSHPOOL_TEST_SLOWDOWN=4)
	# About 50 s on two idle cores, twice that on a loaded machine.
	set_tests_properties(test_integration_valgrind PROPERTIES
		FIXTURES_REQUIRED fleet RUN_SERIAL TRUE TIMEOUT 360
		ENVIRONMENT "${SSHPOOL_VALGRIND_ENV}")
endif()
