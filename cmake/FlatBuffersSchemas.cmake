# sensorgate_add_schemas(TARGET name SCHEMAS a.fbs b.fbs)
# Generates C++ headers with the host flatc at build time into the build tree and exposes
# them through an INTERFACE library. Generated code is included as SYSTEM so our warning
# flags do not apply to it.
function(sensorgate_add_schemas)
  cmake_parse_arguments(ARG "" "TARGET" "SCHEMAS" ${ARGN})
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/generated/sensorgate/wire)
  set(headers)
  foreach(schema IN LISTS ARG_SCHEMAS)
    get_filename_component(name ${schema} NAME_WE)
    get_filename_component(abs ${schema} ABSOLUTE)
    set(header ${out_dir}/${name}_generated.h)
    add_custom_command(
      OUTPUT ${header}
      COMMAND ${SENSORGATE_FLATC} --cpp --scoped-enums -o ${out_dir}
              -I ${CMAKE_CURRENT_SOURCE_DIR}/schemas ${abs}
      DEPENDS ${abs} ${ARG_SCHEMAS}
      COMMENT "flatc ${name}.fbs"
      VERBATIM)
    list(APPEND headers ${header})
  endforeach()
  add_custom_target(${ARG_TARGET}_codegen DEPENDS ${headers})
  add_library(${ARG_TARGET} INTERFACE)
  add_dependencies(${ARG_TARGET} ${ARG_TARGET}_codegen)
  target_include_directories(${ARG_TARGET} SYSTEM INTERFACE ${CMAKE_CURRENT_BINARY_DIR}/generated)
  target_link_libraries(${ARG_TARGET} INTERFACE flatbuffers::flatbuffers)
endfunction()
