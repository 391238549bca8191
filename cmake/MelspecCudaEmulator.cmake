# The CUDA plugin built on the CPU emulation of CUDA (tests/cuda_emulator/README.md), included by
# the root CMakeLists.txt when MELSPEC_CUDA_EMULATOR is ON: the same kernels/ (rewritten by
# convert.py, compiled as C++20 by the host compiler) and src/cuda/ (unchanged) as the nvcc
# plugin, linked against an emulated runtime (runtime.cpp, FFTW for cuFFT) instead of cudart and
# cuFFT. A test tool: it needs the CUDA toolkit's headers, never its libraries, nvcc or a driver.
enable_language(CXX)
find_package(Threads REQUIRED)
pkg_check_modules(EMU_FFTW3F REQUIRED IMPORTED_TARGET fftw3f)
find_program(MELSPEC_EMU_PYTHON NAMES python3 REQUIRED)

# The headers give the runtime's types and signatures, as a real build would see them.
find_path(MELSPEC_CUDA_HEADERS NAMES cuda_runtime_api.h
          HINTS $ENV{CUDA_HOME}/include /usr/local/cuda/include /usr/include)
if(NOT MELSPEC_CUDA_HEADERS OR NOT EXISTS ${MELSPEC_CUDA_HEADERS}/cufft.h)
  message(FATAL_ERROR "MELSPEC_CUDA_EMULATOR=ON needs the CUDA toolkit's headers "
                      "(cuda_runtime_api.h and cufft.h); set CUDA_HOME")
endif()
set(_emu ${PROJECT_SOURCE_DIR}/tests/cuda_emulator)

# The runtime stand-in, shared: the plugin and the GPU tests must see one copy of its state
# (allocations, streams, graphs), as they would see one libcudart.
add_library(melspec_cuda_emu_runtime SHARED ${_emu}/runtime.cpp)
target_include_directories(melspec_cuda_emu_runtime PRIVATE ${_emu})
target_include_directories(melspec_cuda_emu_runtime SYSTEM PUBLIC ${MELSPEC_CUDA_HEADERS})
target_compile_features(melspec_cuda_emu_runtime PRIVATE cxx_std_20)
target_compile_options(melspec_cuda_emu_runtime PRIVATE -Wall -Wextra)
target_link_libraries(melspec_cuda_emu_runtime PRIVATE PkgConfig::EMU_FFTW3F Threads::Threads)

# kernels/*.cu -> C++ with each <<<>>> launch rewritten into a call that runs the grid on the host
set(_emu_kernels "")
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/cuda_emulator)
foreach(cu ${MELSPEC_CUDA_KERNEL_SOURCES})
  get_filename_component(name ${cu} NAME_WE)
  set(cpp ${PROJECT_BINARY_DIR}/cuda_emulator/${name}.cpp)
  add_custom_command(OUTPUT ${cpp}
    COMMAND ${MELSPEC_EMU_PYTHON} ${_emu}/convert.py ${PROJECT_SOURCE_DIR}/${cu} ${cpp}
    DEPENDS ${PROJECT_SOURCE_DIR}/${cu} ${_emu}/convert.py
    COMMENT "cuda emulator: converting ${cu}" VERBATIM)
  list(APPEND _emu_kernels ${cpp})
endforeach()

add_library(melspec_cuda MODULE ${_emu_kernels} ${MELSPEC_CUDA_HOST_SOURCES})
melspec_cuda_plugin_target(melspec_cuda)
# the emulated cuda_runtime.h / cuda_fp16.h / cuda_bf16.h before the toolkit's, kernels only
target_include_directories(melspec_cuda BEFORE PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${_emu}>)
target_compile_features(melspec_cuda PRIVATE cxx_std_20)
# no fused multiply-add, like the CPU backend the tests compare with
target_compile_options(melspec_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CXX>:-ffp-contract=off -Wall -Wextra>)
target_link_libraries(melspec_cuda PRIVATE melspec_cuda_emu_runtime)

set(MELSPEC_CUDA_TEST_RUNTIME melspec_cuda_emu_runtime)
