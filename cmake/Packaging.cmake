# Debian packages (CPack DEB), one per component (docs/deployment.md):
#
#   sensorgate-gateway    /usr/bin/sensorgate-gateway, /etc/sensorgate/gateway.toml (conffile),
#                         /lib/systemd/system/sensorgate-gateway.service (+ the template
#                         sensorgate-gateway@.service for several gateways on one machine)
#   sensorgate-collector  /usr/bin/sensorgate-collector, /etc/sensorgate/collector.toml (conffile),
#                         /lib/systemd/system/sensorgate-collector.service
#   sensorgate-sim        /usr/bin/sensorgate-sim, /etc/sensorgate/sim.toml (conffile); no service
#   sensorgate-web        /usr/share/sensorgate/web, the dashboard both servers serve
#                         (Architecture: all; only from a native build, which bundles it)
#
#   cmake --build build && (cd build && cpack -G DEB)     # -> build/sensorgate-*_<ver>-1_<arch>.deb
#
# The packages lay their files out for prefix /usr whatever CMAKE_INSTALL_PREFIX the build
# was configured with (CPACK_SET_DESTDIR + CPACK_INSTALL_PREFIX below), so the build the tests
# use packages as it is. The /etc and /lib/systemd rules are EXCLUDE_FROM_ALL: a plain
# `cmake --install build` (prefix /usr/local) never writes into /etc or /lib/systemd;
# `cmake --install build --component gateway` or a package does.
#
# Dependencies: dpkg-shlibdeps derives them from what the binaries link, natively and in a
# multiarch cross build. A sysroot build (or a host without dpkg-dev) cannot ask the host's
# dpkg about the target's libraries, so it gets the lists written out below -- keep them in
# step with the derived ones (`dpkg-deb -f build/sensorgate-gateway_*.deb Depends`).

# ---- install rules of the packaged files that are not targets -----------------------------
set(SENSORGATE_PKG_DIR ${PROJECT_SOURCE_DIR}/packaging)

foreach(comp gateway collector sim)
  install(FILES ${PROJECT_SOURCE_DIR}/config/${comp}.toml DESTINATION /etc/sensorgate COMPONENT ${comp}
          EXCLUDE_FROM_ALL)
  install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/sensorgate-${comp} COMPONENT ${comp})
endforeach()
foreach(comp gateway collector)
  install(FILES ${SENSORGATE_PKG_DIR}/systemd/sensorgate-${comp}.service DESTINATION /lib/systemd/system
          COMPONENT ${comp} EXCLUDE_FROM_ALL)
  install(FILES ${PROJECT_SOURCE_DIR}/docs/deployment.md DESTINATION share/doc/sensorgate-${comp}
          COMPONENT ${comp})
endforeach()
if(TARGET sensorgate_web)  # the files themselves: web/CMakeLists.txt
  install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/sensorgate-web COMPONENT web)
endif()
# Several gateways on one machine: sensorgate-gateway@NAME (not enabled by the package).
install(FILES ${SENSORGATE_PKG_DIR}/systemd/sensorgate-gateway@.service DESTINATION /lib/systemd/system
        COMPONENT gateway EXCLUDE_FROM_ALL)
install(FILES ${SENSORGATE_PKG_DIR}/systemd/gateway-cuda.conf DESTINATION share/doc/sensorgate-gateway/examples
        RENAME cuda.conf COMPONENT gateway)

# ---- package metadata -------------------------------------------------------------------------
set(SENSORGATE_PACKAGE_CONTACT "sensorgate maintainers <sensorgate@example.org>"
    CACHE STRING "Maintainer field of the Debian packages")

set(CPACK_GENERATOR DEB)
set(CPACK_VERBATIM_VARIABLES ON)
set(CPACK_PACKAGE_NAME sensorgate)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${SENSORGATE_PACKAGE_CONTACT}")
# Empty: each package's own description supplies its summary line (a non-empty value would be
# prepended to every package's description).
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_SET_DESTDIR ON)  # absolute destinations (/etc, /lib/systemd) land in the package root
set(CPACK_STRIP_FILES ON)  # RelWithDebInfo builds would otherwise ship ~10x larger binaries
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <name>_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)  # maintainer scripts 0755, the rest 0644
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

set(CPACK_COMPONENTS_ALL gateway collector sim)
if(TARGET sensorgate_web)
  list(APPEND CPACK_COMPONENTS_ALL web)
endif()
set(_sg_deb_version "${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}")

set(CPACK_DEBIAN_GATEWAY_DESCRIPTION "edge gateway for real-time multichannel sensor streams (EEG)
sensorgate-gateway ingests FrameBatches from MQTT (plain or TLS) or a serial line
(sensorgate framing, OpenBCI Cyton/Daisy), computes event-time windowed statistics and an
online anomaly score per window, and uplinks summaries and anomaly events over ZeroMQ
(optionally CurveZMQ) to sensorgate-collector, with a disk spool for outages.
Installs the systemd unit sensorgate-gateway.service (enabled, not started) running as the
system user sensorgate with /etc/sensorgate/gateway.toml.")
set(CPACK_DEBIAN_COLLECTOR_DESCRIPTION "collector of sensorgate gateways' window summaries and events
sensorgate-collector receives the gateways' ZeroMQ uplink, stores every window summary,
anomaly event and captured frame exactly once (SQLite, or PostgreSQL where built with it),
trains models and pushes signed models to the gateways.
Installs the systemd unit sensorgate-collector.service (enabled, not started) running as the
system user sensorgate with /etc/sensorgate/collector.toml; the SQLite database lands in
/var/lib/sensorgate/collector.")
set(CPACK_DEBIAN_SIM_DESCRIPTION "simulated EEG headsets publishing to sensorgate over MQTT or serial
sensorgate-sim publishes deterministic synthetic EEG (or replays EDF/CSV recordings) with
labelled anomalies and injected transport faults, for testing and load-testing a
sensorgate gateway. A command-line tool: no service.")
set(CPACK_DEBIAN_WEB_DESCRIPTION "web dashboard of sensorgate-gateway and sensorgate-collector
Static files (live view, stages, fleet, compare report) served offline by the gateway's and
the collector's HTTP servers from /usr/share/sensorgate/web when [http] port is set.")
set(CPACK_DEBIAN_WEB_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_WEB_PACKAGE_SHLIBDEPS OFF)

# The dashboard is one arch-independent package that both servers Recommend (not Depend on):
# no two packages ship the same file, the servers work without it (it is only served when
# [http] port is set), and cross builds, which cannot bundle it, still install cleanly; apt
# installs recommended packages by default, so `apt install ./sensorgate-gateway_*.deb
# ./sensorgate-web_*.deb` gets both.
set(CPACK_DEBIAN_GATEWAY_PACKAGE_RECOMMENDS "sensorgate-web (= ${_sg_deb_version})")
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_RECOMMENDS "sensorgate-web (= ${_sg_deb_version})")
set(CPACK_DEBIAN_GATEWAY_PACKAGE_SUGGESTS "mosquitto, sensorgate-collector")

# ---- architecture and dependencies ------------------------------------------------------------
find_program(SENSORGATE_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(CMAKE_CROSSCOMPILING)
  # Debian's name for the target: from the multiarch triplet the toolchain file sets.
  if(CMAKE_LIBRARY_ARCHITECTURE STREQUAL "aarch64-linux-gnu" OR CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
  elseif(CMAKE_LIBRARY_ARCHITECTURE STREQUAL "arm-linux-gnueabihf")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE armhf)
  elseif(CMAKE_LIBRARY_ARCHITECTURE STREQUAL "x86_64-linux-gnu")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
  else()
    message(WARNING "Packaging: no Debian architecture known for '${CMAKE_LIBRARY_ARCHITECTURE}' "
                    "(${CMAKE_SYSTEM_PROCESSOR}); set CPACK_DEBIAN_PACKAGE_ARCHITECTURE")
  endif()
endif()
if(SENSORGATE_DPKG_SHLIBDEPS AND NOT CMAKE_SYSROOT)
  # CPack runs `file` and dpkg-shlibdeps on the packaged binaries. That works natively and in
  # a multiarch cross build (toolchains/aarch64-linux-gnu.cmake): the target's libraries are
  # installed <lib>:<arch> packages, whose shlibs/symbols files dpkg reads for that
  # architecture. A sysroot's libraries are unknown to the host's dpkg.
  set(_sg_shlibdeps ON)
else()
  set(_sg_shlibdeps OFF)
endif()

if(_sg_shlibdeps)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_GATEWAY_PACKAGE_DEPENDS "adduser")
  set(CPACK_DEBIAN_COLLECTOR_PACKAGE_DEPENDS "adduser")
  unset(CPACK_DEBIAN_SIM_PACKAGE_DEPENDS)
else()
  # What dpkg-shlibdeps writes for Debian 12 amd64 and arm64 builds, per executable (see the
  # top; libgcc-s1's version is the highest of the two).
  set(_sg_base "libc6 (>= 2.34), libgcc-s1 (>= 4.5), libstdc++6 (>= 11), libfmt9 (>= 9.1.0+ds1), libspdlog1.10-fmt9, libtomlplusplus3 (>= 3.2.0)")
  set(_sg_mqtt "libpaho-mqtt1.3 (>= 1.3.0), libpaho-mqttpp3-1 (>= 1.2.0), libedf1 (>= 1.16)")
  set(_sg_zmq "libzmq5 (>= 4.2.0), libsodium23 (>= 0.6.1)")
  set(_sg_collector "${_sg_base}, ${_sg_zmq}, libsqlite3-0 (>= 3.20.0)")
  if(SENSORGATE_POSTGRES)
    string(APPEND _sg_collector ", libpqxx-6.4 (>= 6.4)")
  endif()
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
  set(CPACK_DEBIAN_GATEWAY_PACKAGE_DEPENDS "adduser, ${_sg_base}, ${_sg_mqtt}, ${_sg_zmq}")
  set(CPACK_DEBIAN_COLLECTOR_PACKAGE_DEPENDS "adduser, ${_sg_collector}")
  set(CPACK_DEBIAN_SIM_PACKAGE_DEPENDS "${_sg_base}, ${_sg_mqtt}")
endif()

# ---- maintainer scripts and conffiles ---------------------------------------------------------
set(_sg_control_dir ${CMAKE_BINARY_DIR}/packaging/debian)
foreach(comp gateway collector sim)
  string(TOUPPER ${comp} COMP)
  set(dir ${_sg_control_dir}/${comp})
  file(MAKE_DIRECTORY ${dir})
  file(WRITE ${dir}/conffiles "/etc/sensorgate/${comp}.toml\n")
  set(extra ${dir}/conffiles)
  if(NOT comp STREQUAL "sim")  # the simulator is a command, not a service: no user, no unit
    set(SG_COMPONENT ${comp})
    foreach(script postinst prerm postrm)
      configure_file(${SENSORGATE_PKG_DIR}/debian/${script}.in ${dir}/${script} @ONLY
                     FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                      WORLD_READ WORLD_EXECUTE)
      list(APPEND extra ${dir}/${script})
    endforeach()
  endif()
  set(CPACK_DEBIAN_${COMP}_PACKAGE_CONTROL_EXTRA "${extra}")
endforeach()

include(CPack)

cpack_add_component(gateway DISPLAY_NAME "sensorgate-gateway")
cpack_add_component(collector DISPLAY_NAME "sensorgate-collector")
cpack_add_component(sim DISPLAY_NAME "sensorgate-sim")
if(TARGET sensorgate_web)
  cpack_add_component(web DISPLAY_NAME "sensorgate-web")
endif()
message(STATUS "Packaging: cpack -G DEB -> ${CPACK_COMPONENTS_ALL} "
               "(${_sg_deb_version}, shlibdeps ${_sg_shlibdeps})")
