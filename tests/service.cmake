# SPDX-License-Identifier: ISC
# Service tests: sshpoold under a fake service manager (a NOTIFY_SOCKET
# listener, systemd-socket-activate), reloads and graceful stops against the
# fleet fixture.  They signal the daemon and count remote processes of the
# fleet's user, so they run alone.

find_program(SSHPOOL_SOCKET_ACTIVATE systemd-socket-activate
	PATHS /usr/bin /lib/systemd /usr/lib/systemd)
if(NOT SSHPOOL_SOCKET_ACTIVATE)
	set(SSHPOOL_SOCKET_ACTIVATE "")
endif()
sshpool_test(test_service TIMEOUT 180
	SOURCES test_service.c tclient.c tcollect.c
	LIBS sshpool_proto
	FIXTURES fleet)
add_dependencies(test_service sshpoold)
set_tests_properties(test_service PROPERTIES RUN_SERIAL TRUE
	ENVIRONMENT "CK_DEFAULT_TIMEOUT=180;SSHPOOL_FLEET_DIR=${SSHPOOL_FLEET_DIR};SSHPOOLD=$<TARGET_FILE:sshpoold>;SSHPOOL_SOCKET_ACTIVATE=${SSHPOOL_SOCKET_ACTIVATE}")
