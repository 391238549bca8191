/* Functions shared by the C backends and the CUDA kernels are plain static inline functions in
 * headers under src/dsp/, compiled by the C compiler and by nvcc alike. */
#ifndef MELSPEC_DSP_HOST_DEVICE_H
#define MELSPEC_DSP_HOST_DEVICE_H

#ifdef __CUDACC__
#define MELSPEC_HOST_DEVICE __host__ __device__
#else
#define MELSPEC_HOST_DEVICE
#endif

/* Double arithmetic rounded after every operation. The C build never contracts a*b+c into one
 * fused multiply-add (ISO C mode, -ffp-contract=off); nvcc does unless told, so the device side
 * says it explicitly. Both then give the same bits. */
static inline MELSPEC_HOST_DEVICE double melspec_mul_rn(double a, double b)
{
#ifdef __CUDA_ARCH__
    return __dmul_rn(a, b);
#else
    return a * b;
#endif
}

static inline MELSPEC_HOST_DEVICE double melspec_add_rn(double a, double b)
{
#ifdef __CUDA_ARCH__
    return __dadd_rn(a, b);
#else
    return a + b;
#endif
}

static inline MELSPEC_HOST_DEVICE float melspec_fmul_rn(float a, float b)
{
#ifdef __CUDA_ARCH__
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}

static inline MELSPEC_HOST_DEVICE float melspec_fadd_rn(float a, float b)
{
#ifdef __CUDA_ARCH__
    return __fadd_rn(a, b);
#else
    return a + b;
#endif
}

#endif
