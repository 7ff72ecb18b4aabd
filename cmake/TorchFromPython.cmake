# LibTorch from the PyTorch wheel of the project's Python environment.
#
# Sets: DPST_PYTHON (the interpreter), Torch_VERSION, Torch_DIR, TORCH_LIBRARIES,
# TORCH_INCLUDE_DIRS, TORCH_CXX_FLAGS, DPST_TORCH_CPU_IMPORT (ON when the CUDA wheel is
# used without a CUDA toolkit) and the interface target dpst_torch.

set(DPST_PYTHON "" CACHE FILEPATH
    "Python whose torch provides LibTorch (default: .venv/bin/python, else \$DPST_VENV/bin/python, else python3)")
if(NOT DPST_PYTHON)
  if(DEFINED ENV{DPST_VENV} AND EXISTS "$ENV{DPST_VENV}/bin/python")
    set(DPST_PYTHON "$ENV{DPST_VENV}/bin/python" CACHE FILEPATH "" FORCE)
  elseif(EXISTS "${CMAKE_SOURCE_DIR}/.venv/bin/python")
    set(DPST_PYTHON "${CMAKE_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH "" FORCE)
  else()
    find_program(_dpst_python3 python3)
    if(_dpst_python3)
      set(DPST_PYTHON "${_dpst_python3}" CACHE FILEPATH "" FORCE)
    endif()
  endif()
endif()

# Where the wheel keeps LibTorch. A Torch_DIR of another LibTorch given by hand wins.
set(_dpst_torch_root "")
if(DPST_PYTHON)
  execute_process(
    COMMAND "${DPST_PYTHON}" -c "import os, torch; print(torch.utils.cmake_prefix_path); print(os.path.dirname(torch.__file__)); print(torch.__version__.split('+')[0]); print(int(torch._C._GLIBCXX_USE_CXX11_ABI)); print(int(torch.backends.cuda.is_built()))"
    OUTPUT_VARIABLE _dpst_torch_info OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_VARIABLE _dpst_torch_err RESULT_VARIABLE _dpst_torch_rc)
  if(NOT _dpst_torch_rc EQUAL 0)
    string(STRIP "${_dpst_torch_err}" _dpst_torch_err)
    string(REGEX REPLACE ".*\n" "" _dpst_torch_err "${_dpst_torch_err}")  # the exception line
    set(_dpst_torch_info "")
    message(STATUS "dpst: ${DPST_PYTHON} cannot import torch (${_dpst_torch_err}); looking for LibTorch on CMAKE_PREFIX_PATH")
  endif()
endif()
if(_dpst_torch_info)
  string(REPLACE "\n" ";" _dpst_torch_info "${_dpst_torch_info}")
  list(GET _dpst_torch_info 0 _dpst_torch_prefix)
  list(GET _dpst_torch_info 1 _dpst_torch_root)
  list(GET _dpst_torch_info 2 _dpst_torch_wheel_version)
  list(GET _dpst_torch_info 3 _dpst_torch_abi)
  list(GET _dpst_torch_info 4 _dpst_torch_built_cuda)
  if(Torch_DIR AND NOT Torch_DIR STREQUAL "${_dpst_torch_prefix}/Torch")
    set(_dpst_torch_root "")  # not this wheel's LibTorch
    set(_dpst_torch_wheel_version "")
  else()
    list(APPEND CMAKE_PREFIX_PATH "${_dpst_torch_prefix}")
  endif()
endif()

# A CUDA wheel's TorchConfig fails without a CUDA toolkit, so look for nvcc first.
find_program(DPST_NVCC nvcc HINTS ENV CUDA_HOME ENV CUDA_PATH ENV CUDAToolkit_ROOT PATH_SUFFIXES bin
             PATHS /usr/local/cuda/bin)
set(DPST_TORCH_CPU_IMPORT OFF)
if(_dpst_torch_root AND _dpst_torch_built_cuda AND (DPST_WITH_CUDA STREQUAL "OFF" OR NOT DPST_NVCC))
  set(DPST_TORCH_CPU_IMPORT ON)
endif()

if(DPST_TORCH_CPU_IMPORT)
  # The wheel's CPU half, imported by hand: c10 + torch_cpu carry every CPU kernel and the
  # C++ API; libtorch_cuda is never linked, so torch::cuda::is_available() is false.
  set(Torch_DIR "${_dpst_torch_prefix}/Torch")
  set(Torch_VERSION "${_dpst_torch_wheel_version}")
  set(TORCH_INCLUDE_DIRS "${_dpst_torch_root}/include" "${_dpst_torch_root}/include/torch/csrc/api/include")
  set(TORCH_LIBRARIES "")
  foreach(_lib c10 torch_cpu torch)
    set(_path "${_dpst_torch_root}/lib/lib${_lib}.so")
    if(NOT EXISTS "${_path}")
      message(FATAL_ERROR "dpst: the torch wheel at ${_dpst_torch_root} has no ${_path}")
    endif()
    if(NOT _lib STREQUAL "torch")  # libtorch.so would pull in libtorch_cuda
      list(APPEND TORCH_LIBRARIES "${_path}")
    endif()
  endforeach()
  set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=${_dpst_torch_abi}")
  set(Torch_FOUND ON)
  if(NOT DPST_NVCC)
    message(STATUS "dpst: no CUDA toolkit (nvcc) found: building for CPU against the wheel's torch_cpu")
  endif()
else()
  find_package(Torch QUIET)
  if(NOT Torch_FOUND)
    message(FATAL_ERROR "dpst: LibTorch not found. Run launch/install-deps.sh (it makes .venv with the pinned "
                        "torch wheel), or pass -DDPST_PYTHON=<a python with torch> or "
                        "-DCMAKE_PREFIX_PATH=<LibTorch's share/cmake>.")
  endif()
  if(_dpst_torch_wheel_version)
    set(Torch_VERSION "${_dpst_torch_wheel_version}")
  endif()
  # The toolkit compiles; at run time dpst uses the CUDA runtime the wheel ships (the one
  # libtorch_cuda was built and tested with), so one libcudart is loaded, not two versions.
  foreach(_cuda_lib cudart)
    file(GLOB _wheel_lib "${_dpst_torch_root}/../nvidia/cu*/lib/lib${_cuda_lib}.so.[0-9]*")
    list(FILTER _wheel_lib EXCLUDE REGEX "builtins|alt")
    if(_wheel_lib AND TARGET CUDA::${_cuda_lib})
      list(GET _wheel_lib 0 _wheel_lib)
      get_filename_component(_wheel_lib "${_wheel_lib}" REALPATH)
      set_target_properties(CUDA::${_cuda_lib} PROPERTIES IMPORTED_LOCATION "${_wheel_lib}")
      # ... and first in the binaries' search path, ahead of the toolkit's lib folder
      # that torch's link interface adds (for nvrtc).
      get_filename_component(_wheel_lib_dir "${_wheel_lib}" DIRECTORY)
      list(PREPEND CMAKE_BUILD_RPATH "${_wheel_lib_dir}")
    endif()
  endforeach()
endif()

# Torch ships its own fmt (12.x) under include/fmt, which would shadow Debian's fmt 9
# that libspdlog was built against. A folder holding only Debian's fmt goes first.
find_path(DPST_FMT_INCLUDE_DIR fmt/core.h PATHS /usr/include NO_DEFAULT_PATH)
if(NOT DPST_FMT_INCLUDE_DIR)
  find_path(DPST_FMT_INCLUDE_DIR fmt/core.h REQUIRED)
endif()
set(_dpst_fmt_shim "${CMAKE_BINARY_DIR}/system-fmt")
file(MAKE_DIRECTORY "${_dpst_fmt_shim}")
file(CREATE_LINK "${DPST_FMT_INCLUDE_DIR}/fmt" "${_dpst_fmt_shim}/fmt" SYMBOLIC)

if(NOT TARGET dpst_torch)
  add_library(dpst_torch INTERFACE)
  target_include_directories(dpst_torch SYSTEM INTERFACE "${_dpst_fmt_shim}" ${TORCH_INCLUDE_DIRS})
  target_link_libraries(dpst_torch INTERFACE ${TORCH_LIBRARIES})
  separate_arguments(_dpst_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
  target_compile_options(dpst_torch INTERFACE ${_dpst_torch_flags})
  # The wheel's libtorch.so and libtorch_cpu.so export copies of libstdc++'s
  # std::filesystem (and other) symbols, and the first library in the lookup order wins:
  # through libtorch's, std::filesystem::remove_all jumps to address 0. The system
  # libstdc++ is made the first NEEDED entry of every binary, so its definitions win.
  target_link_options(dpst_torch INTERFACE "LINKER:--push-state,--no-as-needed,-lstdc++,--pop-state")
  # The wheel's libraries find their CUDA/NCCL/cuDNN wheels through their own RUNPATH;
  # dpst's binaries find the wheel's torch/lib through theirs (CMake's build RPATH).
endif()
