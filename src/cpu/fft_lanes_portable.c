/* The lane-parallel FFT kernel for any CPU: 4-float vectors (SSE2 on x86-64, NEON on arm64),
 * the 8 lanes in two groups. */
#define LANES_EXECUTE melspec_lanes_execute_portable
#define LANES_EXECUTE_POWER melspec_lanes_execute_power_portable
#define LANES_EXECUTE_ONE melspec_lanes_execute_one_portable
#define LANES_EXECUTE_ONE_POWER melspec_lanes_execute_one_power_portable
#define LANES_MEL melspec_lanes_mel_portable
#define LANES_GATHER melspec_lanes_gather_portable
#define LANES_WIDTH 4
#include "fft_lanes_kernel.h"
