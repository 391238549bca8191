# cmake -DPROGRAM=path -DEXPECT=regex [-DARGS=a;b] -P run_and_match.cmake
# Passes when PROGRAM exits 0 and its output matches EXPECT; exit 77 stays 77 (skipped). ctest's
# PASS_REGULAR_EXPRESSION replaces the exit-code check instead of adding to it, so a program that
# printed the right line and then failed would pass; this script checks both.
execute_process(COMMAND ${PROGRAM} ${ARGS} RESULT_VARIABLE status OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message("${out}${err}")
if(status EQUAL 77)
  # cmake -P has no exit(77); ctest's SKIP_REGULAR_EXPRESSION on this line marks it skipped
  message(FATAL_ERROR "run_and_match: SKIPPED (exit 77)")
endif()
if(NOT status EQUAL 0)
  message(FATAL_ERROR "run_and_match: ${PROGRAM} exited ${status}")
endif()
if(NOT "${out}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "run_and_match: output does not match '${EXPECT}'")
endif()
