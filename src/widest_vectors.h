/* WIDEST_VECTORS before a function of element-wise loops: GCC (and Clang) builds it for AVX2 and
 * for the baseline, and the loader picks the one the CPU runs (an ifunc). The library is compiled
 * in ISO C mode, which never contracts a * b + c into a fused multiply-add, and such loops do
 * each element's arithmetic alone, so both builds give the same bits: streams, execute and
 * every CPU agree. Not for reductions whose order the vector width would change. */
#ifndef MELSPEC_WIDEST_VECTORS_H
#define MELSPEC_WIDEST_VECTORS_H

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define WIDEST_VECTORS __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef WIDEST_VECTORS
#define WIDEST_VECTORS
#endif

#endif
