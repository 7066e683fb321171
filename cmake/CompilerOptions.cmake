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

if(SENSORGATE_FUZZ)
  # libFuzzer ships with Clang only. Every sensorgate target is instrumented for coverage
  # (fuzzer-no-link) and built with ASan + UBSan; the fuzz targets themselves add
  # -fsanitize=fuzzer (libFuzzer's main) in fuzz/CMakeLists.txt.
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES Clang)
    message(FATAL_ERROR "SENSORGATE_FUZZ=ON needs Clang (libFuzzer is part of it), not ${CMAKE_CXX_COMPILER_ID}: "
                        "configure a fresh build directory with CC=clang-14 CXX=clang++-14 (Debian: clang-14 "
                        "libclang-rt-14-dev)")
  endif()
  if(SENSORGATE_SANITIZE)
    message(FATAL_ERROR "SENSORGATE_FUZZ=ON sets its own sanitizers (address,undefined): leave SENSORGATE_SANITIZE empty")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

if(SENSORGATE_SANITIZE)
  # Applied globally: a sanitized binary must not link unsanitized sensorgate code.
  add_compile_options(-fsanitize=${SENSORGATE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SENSORGATE_SANITIZE})
  # GCC 12's -Wmaybe-uninitialized reports false positives inside Boost.Beast's HTTP parser
  # (boost::optional) once ASan instruments it; the sanitizer checks real reads at run time.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
    # GCC 12 warns (-Wtsan) wherever a standalone atomic_thread_fence is inlined, which
    # Asio does in every handler (std_fenced_block), so any TU that includes Asio fails
    # under -Werror. TSan does not model such fences: ordering that relies on them alone
    # could be reported as a race, never hidden. The project's own code uses no fences
    # (the rings use acquire/release on the indices).
    if(SENSORGATE_SANITIZE MATCHES "thread")
      add_compile_options(-Wno-tsan)
    endif()
  endif()
endif()

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()
