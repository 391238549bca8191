#include "cpu_features.h"

#include <stdatomic.h>
#include <stdlib.h> /* __GLIBC__ */

#if defined(__x86_64__) && defined(__GLIBC__) && defined(__has_include)
#if __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#define FEATURES_FROM_GLIBC 1
#endif
#endif

#if defined(FEATURES_FROM_GLIBC)
static int has_avx512f(void) { return CPU_FEATURE_ACTIVE(AVX512F); }
static int has_avx2(void) { return CPU_FEATURE_ACTIVE(AVX2); }
static int has_avx2_fma(void) { return CPU_FEATURE_ACTIVE(AVX2) && CPU_FEATURE_ACTIVE(FMA); }
#elif defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
/* no __builtin_cpu_init: libgcc's constructor has run it, and a call from plans created on two
 * threads at once would be a data race */
static int has_avx512f(void) { return __builtin_cpu_supports("avx512f"); }
static int has_avx2(void) { return __builtin_cpu_supports("avx2"); }
static int has_avx2_fma(void)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
static int has_avx512f(void) { return 0; }
static int has_avx2(void) { return 0; }
static int has_avx2_fma(void) { return 0; }
#endif

static atomic_int vectors_limit = MELSPEC_VECTORS_AVX512;

/* asked once (the loops ask at every call); threads that ask at once store the same answer */
static int widest_vectors(void)
{
    static atomic_int known = -1;
    int widest = atomic_load_explicit(&known, memory_order_relaxed);
    if (widest < 0) {
        widest = has_avx512f() ? MELSPEC_VECTORS_AVX512
                 : has_avx2()  ? MELSPEC_VECTORS_AVX2
                               : MELSPEC_VECTORS_BASELINE;
        atomic_store_explicit(&known, widest, memory_order_relaxed);
    }
    return widest;
}

melspec_vector_width melspec_cpu_vectors(void)
{
    const int limit = atomic_load_explicit(&vectors_limit, memory_order_relaxed);
    const int widest = widest_vectors();
    return (melspec_vector_width)(widest < limit ? widest : limit);
}

int melspec_cpu_has_avx2_fma(void) { return has_avx2_fma(); }

void melspec_cpu_vectors_limit(melspec_vector_width widest)
{
    atomic_store_explicit(&vectors_limit, (int)widest, memory_order_relaxed);
}
