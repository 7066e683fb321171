# CMake toolchain file: 32-bit ARM hard-float (Debian armhf) against an mmdebstrap sysroot,
# for hosts where the armhf multiarch packages cannot be installed next to the amd64 ones
# (arm-linux-gnueabihf.cmake, which this file extends). Verified on Debian 12 (CMake 3.25,
# GCC 12.2 cross): the three executables build and their packages pass test_packages under
# qemu-arm. docs/deployment.md ("32-bit (armhf)") has the whole recipe:
#
#   apt-get install mmdebstrap g++-arm-linux-gnueabihf
#   mmdebstrap --mode=root --variant=extract --architectures=armhf --include=<dev packages> \
#     bookworm /srv/sysroots/armhf-bookworm
#   cmake -S . -B build-armhf -G Ninja -DSENSORGATE_SYSROOT=/srv/sysroots/armhf-bookworm \
#     -DCMAKE_TOOLCHAIN_FILE=$PWD/toolchains/arm-linux-gnueabihf-sysroot.cmake
#
# Pass it with an ABSOLUTE path. Tests run through qemu-arm; set QEMU_LD_PREFIX to the
# sysroot so it finds the armhf loader and libraries there.

include(${CMAKE_CURRENT_LIST_DIR}/arm-linux-gnueabihf.cmake)

# The sysroot: -DSENSORGATE_SYSROOT=DIR (kept in the cache) or the environment variable.
if(NOT SENSORGATE_SYSROOT)
  set(SENSORGATE_SYSROOT "$ENV{SENSORGATE_SYSROOT}")
endif()
if(NOT SENSORGATE_SYSROOT OR NOT EXISTS "${SENSORGATE_SYSROOT}/usr/lib/arm-linux-gnueabihf")
  message(FATAL_ERROR "arm-linux-gnueabihf-sysroot.cmake: set SENSORGATE_SYSROOT to an armhf sysroot "
                      "(mmdebstrap, docs/deployment.md); got '${SENSORGATE_SYSROOT}'")
endif()
set(SENSORGATE_SYSROOT "${SENSORGATE_SYSROOT}" CACHE PATH "armhf sysroot (mmdebstrap)")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SENSORGATE_SYSROOT)  # try_compile re-reads this file

# Headers, libraries and CMake packages from the sysroot (the find modes of the included file
# re-root them); the compiler and linker get --sysroot.
set(CMAKE_SYSROOT "${SENSORGATE_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${SENSORGATE_SYSROOT}")

# The sysroot has no arm-linux-gnueabihf-pkg-config wrapper the host can run: the host's
# pkg-config, reading only the sysroot's .pc files and prefixing their paths with it.
set(PKG_CONFIG_EXECUTABLE /usr/bin/pkg-config)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${SENSORGATE_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${SENSORGATE_SYSROOT}/usr/lib/arm-linux-gnueabihf/pkgconfig:${SENSORGATE_SYSROOT}/usr/share/pkgconfig")
