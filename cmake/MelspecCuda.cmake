# The CUDA backend (kernels/ and src/cuda/), included by the root CMakeLists.txt when
# MELSPEC_WITH_CUDA is on (nvcc found, MELSPEC_CUDA not OFF).
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

target_sources(melspec_objects PRIVATE
  kernels/frame.cu kernels/spectrum.cu kernels/scale.cu kernels/cqt.cu
  src/cuda/cuda_backend.c src/cuda/cuda_buffers.c src/cuda/cuda_graph.c
  src/cuda/cuda_pipeline.c src/cuda/cqt_cuda.c src/cuda/cuda_stream.c)
# backend.c selects the backend; no other file tests this macro.
target_compile_definitions(melspec_objects PRIVATE MELSPEC_HAVE_CUDA)
target_include_directories(melspec_objects PRIVATE ${PROJECT_SOURCE_DIR}/kernels)
# Both targets exist before CUDA is enabled, so they take the architectures explicitly.
set_target_properties(melspec_objects melspec PROPERTIES
  CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}" CUDA_VISIBILITY_PRESET hidden)
# Host-compiler warnings for the .cu files too (warnings, not errors: other toolchains may warn
# about the CUDA headers themselves).
target_compile_options(melspec_objects PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Wshadow>)

# cuBLAS is not linked: the mel product is a fused sparse kernel (docs/cuda.md says why).
target_link_libraries(melspec_objects PUBLIC CUDA::cudart CUDA::cufft)
target_link_libraries(melspec PRIVATE CUDA::cudart CUDA::cufft)
