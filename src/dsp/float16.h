/* float32 to the 16-bit output types, rounding to nearest even as the CUDA intrinsics
 * __float2half_rn and __float2bfloat16_rn do, so that both backends store the same bits. */
#ifndef MELSPEC_DSP_FLOAT16_H
#define MELSPEC_DSP_FLOAT16_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t melspec_float_to_half(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    const uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    const uint32_t magnitude = bits & 0x7fffffffu;
    if (magnitude > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);  /* NaN */
    if (magnitude >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520: infinity */
    if (magnitude < 0x38800000u) {
        /* below 2^-14: a subnormal half counts units of 2^-24; the product is exact and rintf
         * rounds to nearest even (1024 units is the smallest normal, encoded the same way) */
        const float units = rintf(fabsf(value) * 16777216.0f);
        return (uint16_t)(sign | (uint16_t)units);
    }
    const uint32_t exponent = (magnitude >> 23) - 127u + 15u;
    const uint32_t mantissa = magnitude & 0x7fffffu;
    uint32_t half = (exponent << 10) | (mantissa >> 13);
    const uint32_t rest = mantissa & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) half++; /* a carry bumps the exponent */
    return (uint16_t)(sign | half);
}

static inline uint16_t melspec_float_to_bfloat16(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40u); /* NaN */
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

/* n float values into out as dtype (melspec_dtype: FLOAT32 copies). */
static inline void melspec_store_dtype(const float *values, int64_t n, int32_t dtype, void *out)
{
    if (dtype == 0) {
        memmove(out, values, (size_t)n * sizeof *values);
        return;
    }
    uint16_t *half = out;
    for (int64_t i = 0; i < n; i++)
        half[i] = dtype == 1 ? melspec_float_to_half(values[i]) : melspec_float_to_bfloat16(values[i]);
}

#endif
