# Regenerates ${DPST_GENERATED_DIR}/dpst_git_sha.h at every build (not just at
# configure time), touching it only when the SHA changes so nothing rebuilds needlessly.
set(DPST_GENERATED_DIR "${CMAKE_BINARY_DIR}/generated")
file(MAKE_DIRECTORY "${DPST_GENERATED_DIR}")
add_custom_target(dpst_git_sha
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUT=${DPST_GENERATED_DIR}/dpst_git_sha.h
          -P ${CMAKE_SOURCE_DIR}/cmake/WriteGitSha.cmake
  BYPRODUCTS ${DPST_GENERATED_DIR}/dpst_git_sha.h
  COMMENT "Recording git SHA")
