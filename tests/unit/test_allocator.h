/* A counting, failing melspec_allocator for the tests (allocation failures, the stream soak, the
 * CUDA fault paths): it counts calls, live blocks and bytes (and their peak), fails the n-th call
 * when asked, and catches a free of a block it did not hand out or a second free of one. Each
 * block carries a 16-byte header (so the memory stays aligned for any type, as malloc's).
 * One thread at a time, like the plans that use it. */
#ifndef MELSPEC_TEST_ALLOCATOR_H
#define MELSPEC_TEST_ALLOCATOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "melspec.h"

/* The injector may wrap malloc and free (test_alloc_failure): the allocator's own blocks must not
 * count as the library's, so it takes them from the real ones there. */
#ifdef TEST_ALLOCATOR_REAL_MALLOC
void *__real_malloc(size_t size);
void __real_free(void *pointer);
#define TEST_ALLOCATOR_MALLOC __real_malloc
#define TEST_ALLOCATOR_FREE __real_free
#else
#define TEST_ALLOCATOR_MALLOC malloc
#define TEST_ALLOCATOR_FREE free
#endif

typedef struct test_allocator {
    long n_calls;      /* alloc calls since the last test_allocator_arm */
    long fail_at;      /* the 1-based call that returns NULL; 0: none */
    long n_live;       /* blocks handed out and not yet freed */
    size_t live_bytes; /* their sizes */
    size_t peak_bytes; /* the most live_bytes has been */
    long bad_frees;    /* frees of a block this allocator did not hand out, or freed twice */
} test_allocator;

enum { TEST_BLOCK_HEADER = 16 };
#define TEST_BLOCK_LIVE 0x6d656c7370656331ull /* "melspec1" */
#define TEST_BLOCK_DEAD 0x6465616462656566ull

static inline void *test_allocator_alloc(void *opaque, size_t size)
{
    test_allocator *t = opaque;
    t->n_calls++;
    if (t->n_calls == t->fail_at || size > SIZE_MAX - TEST_BLOCK_HEADER) return NULL;
    unsigned char *block = TEST_ALLOCATOR_MALLOC(size + TEST_BLOCK_HEADER);
    if (block == NULL) return NULL;
    const uint64_t header[2] = {TEST_BLOCK_LIVE, size};
    memcpy(block, header, sizeof header);
    t->n_live++;
    t->live_bytes += size;
    if (t->live_bytes > t->peak_bytes) t->peak_bytes = t->live_bytes;
    return block + TEST_BLOCK_HEADER;
}

static inline void test_allocator_free(void *opaque, void *pointer)
{
    test_allocator *t = opaque;
    if (pointer == NULL) { /* the contract says never NULL */
        t->bad_frees++;
        return;
    }
    unsigned char *block = (unsigned char *)pointer - TEST_BLOCK_HEADER;
    uint64_t header[2];
    memcpy(header, block, sizeof header);
    if (header[0] != TEST_BLOCK_LIVE) {
        t->bad_frees++;
        return; /* not ours, or freed already: leave it alone */
    }
    header[0] = TEST_BLOCK_DEAD;
    memcpy(block, header, sizeof header);
    t->n_live--;
    t->live_bytes -= (size_t)header[1];
    TEST_ALLOCATOR_FREE(block);
}

static inline melspec_allocator test_allocator_hook(test_allocator *t)
{
    const melspec_allocator hook = {test_allocator_alloc, test_allocator_free, t};
    return hook;
}

/* Counts from 0 again and fails call fail_at (0: none). */
static inline void test_allocator_arm(test_allocator *t, long fail_at)
{
    t->n_calls = 0;
    t->fail_at = fail_at;
}

#endif
