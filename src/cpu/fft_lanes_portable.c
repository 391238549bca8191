/* The lane-parallel FFT kernel for any CPU (GCC/Clang vector extensions lower the 8-float
 * vectors to what the target has: SSE2 pairs on x86-64, NEON pairs on arm64). */
#define LANES_EXECUTE melspec_lanes_execute_portable
#include "fft_lanes_kernel.h"
