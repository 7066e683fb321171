# Warnings and sanitizers, applied through one interface target so every sensorgate target
# gets the same flags and third-party code (generated FlatBuffers headers included as SYSTEM)
# does not.
add_library(sensorgate_warnings INTERFACE)
target_compile_options(sensorgate_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough>)
if(SENSORGATE_WERROR)
  target_compile_options(sensorgate_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()

if(SENSORGATE_SANITIZE)
  # Applied globally: a sanitized binary must not link unsanitized sensorgate code.
  add_compile_options(-fsanitize=${SENSORGATE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SENSORGATE_SANITIZE})
endif()

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()
