# SENSORGATE_CUDA=AUTO builds the CUDA backend when a CUDA compiler is found, ON requires
# it, OFF never builds it. The CPU backend is always built and is what every test needs.
set(SENSORGATE_HAVE_CUDA OFF)
if(SENSORGATE_CUDA STREQUAL "AUTO" AND CMAKE_CROSSCOMPILING)
  # The toolkit here targets x86-64 only; a Jetson CUDA build happens on the device (or
  # with JetPack's cross toolkit), so AUTO means "no CUDA" in a cross build.
  message(STATUS "SENSORGATE_CUDA=AUTO: cross-compiling, CUDA backend not built")
elseif(NOT SENSORGATE_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # Turing (T4), Ampere (A100, RTX 30), Jetson Orin, Ada, Hopper. nvcc 13 has dropped
      # Xavier (sm_72) and older Jetsons; "native" fails on a machine without a GPU.
      set(CMAKE_CUDA_ARCHITECTURES 75 80 87 89 90)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    # CMake 3.25 does not know nvcc's C++20 flag, so device code is C++17 and sees only
    # the small C++17 header kernels/cuda/*.cuh; the backend class around it is C++20 host
    # code compiled by the C++ compiler.
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(SENSORGATE_HAVE_CUDA ON)
  elseif(SENSORGATE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "SENSORGATE_CUDA=ON but no CUDA compiler was found "
                        "(pass -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)")
  endif()
endif()
