/* WIDEST_VECTORS before a function of element-wise loops: GCC (and Clang) builds it for AVX-512
 * (16 floats a vector), AVX2 and the baseline, and the loader picks the one the CPU runs (an
 * ifunc). The library is compiled
 * in ISO C mode, which never contracts a * b + c into a fused multiply-add, and such loops do
 * each element's arithmetic alone, so both builds give the same bits: streams, execute and
 * every CPU agree. Not for reductions whose order the vector width would change. */
#ifndef MELSPEC_WIDEST_VECTORS_H
#define MELSPEC_WIDEST_VECTORS_H

/* Not under ThreadSanitizer: the loader runs the clones' resolver while relocating the library,
 * before TSan's runtime is up, and the instrumented resolver crashes there. The baseline build
 * gives the same bits, so the TSan build still tests what ships. */
#if defined(__SANITIZE_THREAD__)
#define MELSPEC_NO_CLONES 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MELSPEC_NO_CLONES 1
#endif
#endif

#if defined(__x86_64__) && defined(__has_attribute) && !defined(MELSPEC_NO_CLONES)
#if __has_attribute(target_clones)
#define WIDEST_VECTORS __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef WIDEST_VECTORS
#define WIDEST_VECTORS
#endif

#endif
