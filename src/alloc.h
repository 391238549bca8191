/* Host allocation through a plan's allocator (the public melspec_allocator, include/melspec.h).
 * Every allocation the core and the backends make for a plan, its backend state and its streams
 * goes through these, with the plan's allocator; code that designs arrays before a plan exists
 * takes the allocator as a parameter (NULL: malloc and free). Static inline, so that the CUDA
 * plugin, which shares struct melspec_plan with the core, calls the same allocator without a
 * second copy of the rule. Not installed. */
#ifndef MELSPEC_SRC_ALLOC_H
#define MELSPEC_SRC_ALLOC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "melspec.h"

static inline int melspec_allocator_is_custom(const melspec_allocator *allocator)
{
    return allocator != NULL && allocator->alloc != NULL;
}

/* size bytes, not initialised; NULL when out of memory. A size of 0 asks for 1 byte, so that NULL
 * always means failure. */
static inline void *melspec_alloc(const melspec_allocator *allocator, size_t size)
{
    if (size == 0) size = 1;
    return melspec_allocator_is_custom(allocator) ? allocator->alloc(allocator->opaque, size)
                                                  : malloc(size);
}

/* count x size bytes, zeroed (calloc); NULL when out of memory or when the product overflows. */
static inline void *melspec_alloc_zeroed(const melspec_allocator *allocator, size_t count,
                                         size_t size)
{
    if (!melspec_allocator_is_custom(allocator)) return calloc(count ? count : 1, size ? size : 1);
    if (size != 0 && count > SIZE_MAX / size) return NULL;
    void *pointer = melspec_alloc(allocator, count * size);
    if (pointer != NULL) memset(pointer, 0, count * size);
    return pointer;
}

/* NULL is accepted. */
static inline void melspec_free(const melspec_allocator *allocator, void *pointer)
{
    if (pointer == NULL) return;
    if (melspec_allocator_is_custom(allocator))
        allocator->free(allocator->opaque, pointer);
    else
        free(pointer);
}

#endif
