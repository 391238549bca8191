/* The lane-parallel FFT kernel for x86 CPUs with AVX2 and FMA: this file alone is compiled with
 * -mavx2 -mfma (CMakeLists.txt), and runs only where melspec_lanes_fft_create found both. */
#if defined(__x86_64__) || defined(__i386__)
#define LANES_EXECUTE melspec_lanes_execute_avx2
#define LANES_EXECUTE_POWER melspec_lanes_execute_power_avx2
#define LANES_EXECUTE_ONE melspec_lanes_execute_one_avx2
#define LANES_EXECUTE_ONE_POWER melspec_lanes_execute_one_power_avx2
#define LANES_MEL melspec_lanes_mel_avx2
#define LANES_GATHER melspec_lanes_gather_avx2
#define LANES_WIDTH 8
#include "fft_lanes_kernel.h"
#else
typedef int melspec_lanes_avx2_unused; /* other targets: the portable kernel only */
#endif
