# dpst_add_tools(DIR LIBRARY): every DIR/*.cpp becomes the binary build/bin/<file name>,
# linked against LIBRARY (thin mains in src/apps/ and dataprep/). Each main is compiled
# once, as the object library <name>_main, so that dpst_add_device_tools can link it again.
function(dpst_add_tools dir library)
  file(GLOB sources CONFIGURE_DEPENDS "${dir}/*.cpp")
  foreach(src ${sources})
    get_filename_component(name ${src} NAME_WE)
    add_library(${name}_main OBJECT ${src})
    target_compile_options(${name}_main PRIVATE ${DPST_WARNING_FLAGS})
    target_link_libraries(${name}_main PRIVATE ${library})
    add_executable(${name} $<TARGET_OBJECTS:${name}_main>)
    target_link_libraries(${name} PRIVATE ${library})
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
  endforeach()
endfunction()

# dpst_add_device_tools(LIBRARY name...): the mains already added by dpst_add_tools, linked
# again against LIBRARY (dpst_device or dpst_core_device) as build/device/bin/<name>: the
# GPU bundle's binaries (src/CMakeLists.txt, launch/device/bundle.sh).
function(dpst_add_device_tools library)
  foreach(name ${ARGN})
    add_executable(device_${name} $<TARGET_OBJECTS:${name}_main>)
    target_link_libraries(device_${name} PRIVATE ${library})
    set_target_properties(device_${name} PROPERTIES OUTPUT_NAME ${name}
                          RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/device/bin)
  endforeach()
endfunction()
