/* Element-wise loops built for AVX-512 (16 floats a vector), AVX2 and the baseline, the widest
 * the CPU runs picked at each call (src/cpu_features.h). The library is compiled with
 * -ffp-contract=off, so that no compiler fuses a * b + c where one width has the instruction and
 * another not, and such loops do each element's arithmetic alone, so every build gives the same
 * bits: streams, execute and every CPU agree (tests/unit/test_vector_widths.c runs each build
 * here and compares). Not for reductions whose order the vector width would change.
 *
 * The loops are written once, as WIDEST_VECTORS_LOOPS static type name_loops(params) { ... };
 * then WIDEST_VECTORS(type, name, (params), (args)) defines static type name(params), which
 * runs them (or WIDEST_VECTORS_VOID(name, (params), (args)) for a void function). GCC's
 * target_clones did this before, but its resolver asks libgcc's CPU detection, which costs a
 * dozen trapped cpuid instructions at every load on a virtual machine (cpu_features.h). */
#ifndef MELSPEC_WIDEST_VECTORS_H
#define MELSPEC_WIDEST_VECTORS_H

#include "cpu_features.h"

/* inlined into each build, where the compiler vectorises it for that build's instructions */
#define WIDEST_VECTORS_LOOPS static inline __attribute__((always_inline))

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target)
#define WIDEST_VECTORS_X86 1
#endif
#endif

#if defined(WIDEST_VECTORS_X86)
#define WIDEST_VECTORS(type, name, params, args)                                           \
    __attribute__((target("avx512f"))) static type name##_avx512 params                    \
    {                                                                                      \
        return name##_loops args;                                                          \
    }                                                                                      \
    __attribute__((target("avx2"))) static type name##_avx2 params                         \
    {                                                                                      \
        return name##_loops args;                                                          \
    }                                                                                      \
    static type name params                                                                \
    {                                                                                      \
        switch (melspec_cpu_vectors()) {                                                   \
        case MELSPEC_VECTORS_AVX512: return name##_avx512 args;                            \
        case MELSPEC_VECTORS_AVX2: return name##_avx2 args;                                \
        default: return name##_loops args;                                                 \
        }                                                                                  \
    }
#define WIDEST_VECTORS_VOID(name, params, args)                                            \
    __attribute__((target("avx512f"))) static void name##_avx512 params { name##_loops args; } \
    __attribute__((target("avx2"))) static void name##_avx2 params { name##_loops args; }  \
    static void name params                                                                \
    {                                                                                      \
        switch (melspec_cpu_vectors()) {                                                   \
        case MELSPEC_VECTORS_AVX512: name##_avx512 args; break;                            \
        case MELSPEC_VECTORS_AVX2: name##_avx2 args; break;                                \
        default: name##_loops args; break;                                                 \
        }                                                                                  \
    }
#else
#define WIDEST_VECTORS(type, name, params, args)                                           \
    static type name params { return name##_loops args; }
#define WIDEST_VECTORS_VOID(name, params, args)                                            \
    static void name params { name##_loops args; }
#endif

#endif
