# SPDX-License-Identifier: ISC
# Install and packaging checks (tests/packaging.sh), label "packaging":
# packaging_docs is quick (manual pages, keyword lists, systemd units);
# packaging_deb configures and builds a /usr tree of its own and makes and
# inspects the .deb (about half a minute on two cores).
add_test(NAME packaging_docs
	COMMAND sh ${PROJECT_SOURCE_DIR}/tests/packaging.sh docs
		${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
add_test(NAME packaging_deb
	COMMAND sh ${PROJECT_SOURCE_DIR}/tests/packaging.sh deb
		${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/packaging)
set_tests_properties(packaging_docs PROPERTIES TIMEOUT 60
	LABELS packaging SKIP_RETURN_CODE 77)
set_tests_properties(packaging_deb PROPERTIES TIMEOUT 600
	LABELS packaging SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
