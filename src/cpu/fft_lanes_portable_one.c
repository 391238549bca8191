/* The portable lane FFT kernel for a frame alone: lane 0 only, in plain floats (the same
 * expressions as fft_lanes_portable.c, hence the same bits as in a block). */
#define LANES_EXECUTE melspec_lanes_execute_one_portable
#define LANES_EXECUTE_SQUARED melspec_lanes_execute_one_squared_portable
#define LANES_WIDTH 1
#define LANES_GROUPS 1
#include "fft_lanes_kernel.h"
