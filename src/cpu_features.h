/* Which vector instructions the CPU runs: the one place the library asks. On x86 with glibc the
 * answer is glibc's (<sys/platform/x86.h>: what the dynamic loader found at start-up, AVX state
 * enabled by the OS included, and GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,... obeyed), which costs
 * nothing; libgcc's __builtin_cpu_supports and target_clones run a dozen cpuid instructions when
 * the library loads, and a virtual machine traps each (6 us apiece on this project's VMs: 85 us
 * of every process that loads libmelspec). Elsewhere __builtin_cpu_supports answers, or nothing
 * is wider than the baseline. Thread-safe. Not installed. */
#ifndef MELSPEC_SRC_CPU_FEATURES_H
#define MELSPEC_SRC_CPU_FEATURES_H

/* The widest vectors the element-wise loops of widest_vectors.h are built for and may run. */
typedef enum melspec_vector_width {
    MELSPEC_VECTORS_BASELINE = 0, /* the build's own (SSE2 on x86-64) */
    MELSPEC_VECTORS_AVX2 = 1,
    MELSPEC_VECTORS_AVX512 = 2 /* AVX-512F */
} melspec_vector_width;

melspec_vector_width melspec_cpu_vectors(void);

/* AVX2 and FMA both: the lane FFT's and the constant-Q product's AVX2 kernels need the two. */
int melspec_cpu_has_avx2_fma(void);

/* For tests: no wider than widest from now on (MELSPEC_VECTORS_AVX512: the CPU's own again), so
 * that each build of the loops runs on this CPU and can be compared with the others. */
void melspec_cpu_vectors_limit(melspec_vector_width widest);

#endif
