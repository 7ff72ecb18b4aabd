# dpst_add_tools(DIR LIBRARY): every DIR/*.cpp becomes the binary build/bin/<file name>,
# linked against LIBRARY (thin mains in src/apps/ and dataprep/).
function(dpst_add_tools dir library)
  file(GLOB sources CONFIGURE_DEPENDS "${dir}/*.cpp")
  foreach(src ${sources})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE ${DPST_WARNING_FLAGS})
    target_link_libraries(${name} PRIVATE ${library})
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
  endforeach()
endfunction()
