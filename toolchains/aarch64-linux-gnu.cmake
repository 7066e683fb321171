# CMake toolchain file: cross-compile for 64-bit ARM Linux (arm64/aarch64) on a Debian 12
# amd64 host using Debian multiarch -- target headers and libraries are ordinary arm64
# packages installed next to the amd64 ones (scripts/install-cross-deps.sh aarch64).
# No sysroot is needed.
#
# Pass it with an ABSOLUTE path (a relative path is resolved against the build directory,
# and again inside try_compile projects):
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=$PWD/toolchains/aarch64-linux-gnu.cmake
#   cmake --build build-aarch64 && ctest --test-dir build-aarch64   # runs via qemu-aarch64
#
# Verified on Debian 12 (CMake 3.25, GCC 12.2 cross, qemu-user 7.2): Boost, Paho MQTT C/C++,
# ZeroMQ/cppzmq, Eigen, FlatBuffers, SQLite, CLI11, spdlog/fmt, toml++, GTest/GMock,
# libsodium, with ccache as compiler launcher. PostgreSQL (libpq/libpqxx) is NOT
# available: libpq-dev:arm64 conflicts with libpq-dev:amd64, so it is native-only.

set(CMAKE_SYSTEM_NAME Linux)        # setting this is what turns CMAKE_CROSSCOMPILING on
set(CMAKE_SYSTEM_PROCESSOR aarch64)

# Debian's cross compilers (package g++-aarch64-linux-gnu). They already search the
# multiarch dirs /usr/include/aarch64-linux-gnu and /usr/lib/aarch64-linux-gnu, so
# nothing like -isystem/-L is needed, and ccache works via CMAKE_<LANG>_COMPILER_LAUNCHER.
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Makes find_library/find_package look in lib/aarch64-linux-gnu (and its cmake/ dir) under
# each prefix, i.e. the arm64 multiarch dir. CMake would detect this from the compiler
# too; setting it explicitly keeps it right even before the compiler check runs.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# pkgconf:arm64 provides this wrapper; it reads only the arm64 .pc files
# (/usr/lib/aarch64-linux-gnu/pkgconfig + /usr/share/pkgconfig). The plain host
# pkg-config would return amd64 libraries.
set(PKG_CONFIG_EXECUTABLE aarch64-linux-gnu-pkg-config)

# add_test() commands, try_run() and gtest_discover_tests() prefix target executables with
# this. Plain qemu-aarch64 (user mode) finds the arm64 dynamic loader and libraries in
# the multiarch dirs (/lib/ld-linux-aarch64.so.1, /usr/lib/aarch64-linux-gnu).
# Do NOT add "-L /usr/aarch64-linux-gnu": that mixes the cross-toolchain's libc copy with
# the multiarch one and any threaded program hangs.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)

# Find-root-path modes. With multiarch the "root" of the target is / itself (no
# CMAKE_SYSROOT / CMAKE_FIND_ROOT_PATH), so ONLY does not re-root anything; the
# arm64/amd64 separation comes from CMAKE_LIBRARY_ARCHITECTURE above. The modes are
# still set so the file stays correct if someone adds CMAKE_FIND_ROOT_PATH (e.g. an
# mmdebstrap sysroot) and to document intent:
#   programs (flatc, protoc, ...) must be HOST executables -> never re-rooted;
#   headers, libraries, CMake packages must be target ones -> only from the root path.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Belt and braces: never let find_library/find_path pick up the amd64 multiarch dirs
# (an amd64 .so there would only fail at link time with "file in wrong format").
set(CMAKE_IGNORE_PATH
    /usr/lib/x86_64-linux-gnu
    /lib/x86_64-linux-gnu
    /usr/include/x86_64-linux-gnu)

# FlatBuffers note: find_package(FlatBuffers CONFIG) loads the arm64 config
# (/usr/lib/aarch64-linux-gnu/cmake/flatbuffers), whose flatbuffers::flatc target points
# at <prefix>/bin/flatc = /usr/bin/flatc. flatbuffers-compiler is Multi-Arch: foreign, so
# that is the HOST (amd64) flatc from the installed amd64 package -- usable as is.
