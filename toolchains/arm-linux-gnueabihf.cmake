# CMake toolchain file: cross-compile for 32-bit ARM hard-float Linux (Debian armhf:
# ARMv7-A, VFPv3-D16, Thumb-2) on a Debian 12 amd64 host using Debian multiarch.
# Same layout as aarch64-linux-gnu.cmake (see the comments there); only the names differ.
#
# *** NOT VERIFIED. *** Written by analogy with the tested aarch64 file. On the mirror
# used to develop this, the bookworm-security armhf package index failed to download
# (size mismatch), so `apt-get update` fails once armhf is added and the armhf -dev
# packages cannot match the versions of their amd64 counterparts (Multi-Arch: same needs
# identical versions). If that persists, use an mmdebstrap armhf sysroot instead
# (see /work/shared/ENVIRONMENT.md, "Cross builds") and set CMAKE_SYSROOT,
# CMAKE_FIND_ROOT_PATH, PKG_CONFIG_SYSROOT_DIR and PKG_CONFIG_LIBDIR for it.
#
# Pass it with an ABSOLUTE path:
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=$PWD/toolchains/arm-linux-gnueabihf.cmake

set(CMAKE_SYSTEM_NAME Linux)        # setting this is what turns CMAKE_CROSSCOMPILING on
# "arm" is what Debian's own generator (/usr/share/cmake/debtoolchainfilegen armhf) uses;
# match with MATCHES "^arm" in project code, since devices report armv7l.
set(CMAKE_SYSTEM_PROCESSOR arm)

# Debian's cross compilers (package g++-arm-linux-gnueabihf). Their defaults already are
# the armhf ABI (-march=armv7-a+fp -mfpu=vfpv3-d16 -mthumb -mfloat-abi=hard), so no
# extra flags; they also search /usr/include/arm-linux-gnueabihf and
# /usr/lib/arm-linux-gnueabihf by themselves.
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)

# find_library/find_package then look in lib/arm-linux-gnueabihf (the armhf multiarch dir).
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)

# From pkgconf:armhf; reads only the armhf .pc files. Host pkg-config would give amd64 libs.
set(PKG_CONFIG_EXECUTABLE arm-linux-gnueabihf-pkg-config)

# Used for add_test(), try_run() and gtest_discover_tests(). Plain qemu-arm finds
# /lib/ld-linux-armhf.so.3 and the libraries in the multiarch dirs. Do NOT add
# "-L /usr/arm-linux-gnueabihf": two libc copies get mixed and threaded programs hang.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm)

# Multiarch: the target root is / (no sysroot), so ONLY re-roots nothing; the modes keep
# the file right if a CMAKE_FIND_ROOT_PATH/sysroot is added. Programs (flatc) come from
# the host, headers/libraries/CMake packages from the target.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Never pick up amd64 headers/libraries by accident.
set(CMAKE_IGNORE_PATH
    /usr/lib/x86_64-linux-gnu
    /lib/x86_64-linux-gnu
    /usr/include/x86_64-linux-gnu)

# FlatBuffers: flatbuffers::flatc from the armhf config resolves to /usr/bin/flatc, i.e.
# the host flatc (flatbuffers-compiler is Multi-Arch: foreign).
