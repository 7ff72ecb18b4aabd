# Finds every dependency. Required: LibTorch, MPI, HDF5 (C), yaml-cpp, spdlog, OpenCV,
# CLI11, nlohmann_json, TurboJPEG, libpng (+ GTest for tests). Optional: CUDA and NCCL.
#
# LibTorch is the PyTorch wheel of the project's Python environment (DPST_PYTHON, default
# .venv/bin/python as made by launch/install-deps.sh), found through its
# torch.utils.cmake_prefix_path. A wheel's LibTorch is built with CUDA, and its CMake
# config insists on a CUDA toolkit: where nvcc exists dpst builds the CUDA/NCCL path with
# it; where it does not (or DPST_WITH_CUDA=OFF) dpst imports the wheel's CPU libraries
# itself (cmake/TorchCpuImport.cmake) and builds for CPU.

find_package(Threads REQUIRED)
include(${CMAKE_CURRENT_LIST_DIR}/TorchFromPython.cmake)
# DPST_DEVICE_ONLY: only the GPU bundle's binaries (build/device/bin: no MPI, no OpenCV
# imgcodecs), for a machine that has neither: launch/device/build-there.sh.
option(DPST_DEVICE_ONLY "Build only the GPU bundle's binaries, without MPI and OpenCV imgcodecs" OFF)
if(NOT DPST_DEVICE_ONLY)
  find_package(MPI REQUIRED COMPONENTS C)
endif()
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
# Debian's split OpenCV packages (core, imgproc, imgcodecs) ship no CMake config;
# the libraries and headers are found directly.
find_path(OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
set(_dpst_opencv_modules core imgproc imgcodecs)
if(DPST_DEVICE_ONLY)
  set(_dpst_opencv_modules core imgproc)
endif()
foreach(_cv ${_dpst_opencv_modules})
  find_library(OPENCV_${_cv}_LIBRARY opencv_${_cv} REQUIRED)
  if(NOT TARGET opencv_${_cv})
    add_library(opencv_${_cv} UNKNOWN IMPORTED)
    set_target_properties(opencv_${_cv} PROPERTIES
      IMPORTED_LOCATION "${OPENCV_${_cv}_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${OPENCV_INCLUDE_DIR}")
  endif()
endforeach()
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
if(DPST_DEVICE_ONLY)
  # libjpeg-turbo's CMake package names absolute /usr paths, which a relocated copy (the
  # GPU bundle's sysroot) does not have: find the header and library themselves.
  find_path(TURBOJPEG_INCLUDE_DIR turbojpeg.h REQUIRED)
  find_library(TURBOJPEG_LIBRARY turbojpeg REQUIRED)
  add_library(libjpeg-turbo::turbojpeg UNKNOWN IMPORTED)
  set_target_properties(libjpeg-turbo::turbojpeg PROPERTIES
    IMPORTED_LOCATION "${TURBOJPEG_LIBRARY}" INTERFACE_INCLUDE_DIRECTORIES "${TURBOJPEG_INCLUDE_DIR}")
else()
  find_package(libjpeg-turbo REQUIRED)
endif()
find_package(PNG REQUIRED)
if(DPST_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# HDF5 as one imported target, so consumers get SYSTEM includes.
if(NOT TARGET dpst_hdf5)
  add_library(dpst_hdf5 INTERFACE)
  target_include_directories(dpst_hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
  target_link_libraries(dpst_hdf5 INTERFACE ${HDF5_C_LIBRARIES})
  target_compile_definitions(dpst_hdf5 INTERFACE ${HDF5_C_DEFINITIONS})
endif()

# --- CUDA / NCCL (optional) ---------------------------------------------------
set(DPST_HAVE_CUDA OFF)
set(DPST_HAVE_NCCL OFF)
set(DPST_CUDA_VERSION "off")
set(_dpst_torch_has_cuda OFF)
if(NOT DPST_TORCH_CPU_IMPORT AND (TARGET torch_cuda OR TORCH_CUDA_LIBRARIES OR CAFFE2_USE_CUDA))
  set(_dpst_torch_has_cuda ON)
endif()
if(NOT DPST_WITH_CUDA STREQUAL "OFF" AND _dpst_torch_has_cuda)
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND)
    set(DPST_HAVE_CUDA ON)
    set(DPST_CUDA_VERSION "${CUDAToolkit_VERSION}")
    # NCCL: the system's, or the one a PyTorch wheel ships under nvidia/nccl.
    set(_nccl_hints "$ENV{NCCL_ROOT}" "${NCCL_ROOT}")
    # The wheel's NCCL first: libtorch_cuda loads that one, so dpst must use the same.
    if(DPST_PYTHON)
      execute_process(
        COMMAND ${DPST_PYTHON} -c "import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__) if nvidia.nccl.__file__ else list(nvidia.nccl.__path__)[0])"
        OUTPUT_VARIABLE _wheel_nccl OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      if(_wheel_nccl)
        list(PREPEND _nccl_hints "${_wheel_nccl}")
      endif()
    endif()
    find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${_nccl_hints} PATH_SUFFIXES include)
    # (HINTS are searched before the system paths.)
    find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 NAMES_PER_DIR HINTS ${_nccl_hints} PATH_SUFFIXES lib lib64)
    if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
      set(DPST_HAVE_NCCL ON)
      add_library(dpst_nccl INTERFACE)
      target_include_directories(dpst_nccl SYSTEM INTERFACE ${NCCL_INCLUDE_DIR})
      target_link_libraries(dpst_nccl INTERFACE ${NCCL_LIBRARY} CUDA::cudart)
    endif()
  endif()
endif()
if(DPST_WITH_CUDA STREQUAL "ON" AND NOT DPST_HAVE_CUDA)
  message(FATAL_ERROR "DPST_WITH_CUDA=ON but the LibTorch found (${Torch_DIR}) has no CUDA, or no CUDA toolkit (nvcc) was found")
endif()
