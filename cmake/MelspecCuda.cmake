# The CUDA plugin libmelspec_cuda.so (kernels/ and src/cuda/) compiled with nvcc, included by the
# root CMakeLists.txt when nvcc is found and MELSPEC_CUDA is not OFF. It alone links cudart,
# cuFFT and cuBLAS; libmelspec.so loads it at run time (src/plugin.c).
#
# Kernels are compiled for Turing (sm_75) through Hopper: machine code for each of 75, 80, 86,
# 89 and 90, plus compute_90 PTX that newer GPUs compile at load time. Override with
# -DCMAKE_CUDA_ARCHITECTURES=... or the CUDAARCHS environment variable.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
  set(CMAKE_CUDA_ARCHITECTURES 75-real 80-real 86-real 89-real 90)
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)

set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)

# MODULE: only dlopen loads it, nothing links against it.
add_library(melspec_cuda MODULE ${MELSPEC_CUDA_KERNEL_SOURCES} ${MELSPEC_CUDA_HOST_SOURCES})
melspec_cuda_plugin_target(melspec_cuda)
# The shared cudart, not nvcc's default static one: the GPU tests and the caller's own code use
# the same runtime as the plugin (one copy of its state in the process).
set_target_properties(melspec_cuda PROPERTIES
  CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}" CUDA_RUNTIME_LIBRARY Shared)
# Host-compiler warnings for the .cu files too (warnings, not errors: other toolchains may warn
# about the CUDA headers themselves).
target_compile_options(melspec_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Wshadow>)
# cuBLAS for the opt-in dense mel product (config.mel_product = GEMM); the plugin alone links it.
target_link_libraries(melspec_cuda PRIVATE CUDA::cudart CUDA::cufft CUDA::cublas)

# What the GPU tests link to call the runtime themselves (device memory, streams, graphs).
set(MELSPEC_CUDA_TEST_RUNTIME CUDA::cudart)
