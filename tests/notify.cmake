# SPDX-License-Identifier: ISC
# Unit test of daemon/notify.c (sd_notify and socket activation).  Paths are
# absolute so this file works from the top level and from tests/.
if(NOT TARGET PkgConfig::CHECK)
	pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check)
endif()
add_executable(test_notify ${PROJECT_SOURCE_DIR}/tests/test_notify.c)
target_include_directories(test_notify PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(test_notify PRIVATE sshpool_notify PkgConfig::CHECK
	Threads::Threads)
add_test(NAME test_notify COMMAND test_notify)
set_tests_properties(test_notify PROPERTIES TIMEOUT 30
	ENVIRONMENT "CK_DEFAULT_TIMEOUT=30" LABELS unit)
