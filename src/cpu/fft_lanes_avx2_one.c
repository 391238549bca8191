/* The lane FFT's AVX2 + FMA kernel for a frame alone (streams push one hop at a time): lane 0
 * only, in plain floats, compiled with the flags of fft_lanes_avx2.c so that its contractions
 * into FMA are the same, hence the same bits as in a block of 8. */
#if defined(__x86_64__) || defined(__i386__)
#define LANES_EXECUTE melspec_lanes_execute_one_avx2
#define LANES_EXECUTE_SQUARED melspec_lanes_execute_one_squared_avx2
#define LANES_WIDTH 1
#define LANES_GROUPS 1
#include "fft_lanes_kernel.h"
#else
typedef int melspec_lanes_avx2_one_unused; /* other targets: the portable kernel only */
#endif
