/* What the fuzz targets share: a reader that turns the fuzzer's bytes into choices (running out
 * of bytes reads zeros, so every input is valid), the status check, and guard bytes. */
#ifndef MELSPEC_FUZZ_INPUT_H
#define MELSPEC_FUZZ_INPUT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "melspec.h"

typedef struct fuzz_input {
    const uint8_t *data;
    size_t size;
    size_t at;
} fuzz_input;

static inline uint8_t fuzz_u8(fuzz_input *in)
{
    return in->at < in->size ? in->data[in->at++] : 0;
}

static inline uint16_t fuzz_u16(fuzz_input *in)
{
    const uint16_t low = fuzz_u8(in);
    return (uint16_t)(low | (uint16_t)fuzz_u8(in) << 8);
}

static inline uint64_t fuzz_u64(fuzz_input *in)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) value |= (uint64_t)fuzz_u8(in) << (8 * i);
    return value;
}

/* One of n choices. */
static inline int32_t fuzz_pick(fuzz_input *in, int32_t n) { return (int32_t)(fuzz_u8(in) % n); }

/* A size in 0..max that is usually small: 7 times in 8 in 0..usual, else anywhere in 0..max
 * (max below 8192). The work of one execution grows with the sizes (n_fft, signal lengths,
 * scratch), so drawing them uniformly made the large ones the common case and the fuzzer slow;
 * the large ones stay reachable, just rarer. */
static inline int64_t fuzz_size(fuzz_input *in, int64_t usual, int64_t max)
{
    const uint16_t value = fuzz_u16(in);
    const int64_t bound = (value & 7) == 7 ? max : usual;
    return (int64_t)(value >> 3) % (bound + 1);
}

/* Any double, NaN, infinities and denormals included (the config checks must refuse them). */
static inline double fuzz_raw_double(fuzz_input *in)
{
    const uint64_t bits = fuzz_u64(in);
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* Either a sensible value from the list or (1 time in 8) any double. */
static inline double fuzz_double(fuzz_input *in, const double *sensible, int32_t n_sensible)
{
    const uint8_t choice = fuzz_u8(in);
    if (choice % 8 == 7) return fuzz_raw_double(in);
    return sensible[choice % n_sensible];
}

static inline size_t fuzz_remaining(const fuzz_input *in) { return in->size - in->at; }

/* The signal the rest of the input makes. EXTREME: the bytes as raw floats (NaN, Inf, denormals,
 * 1e38); otherwise int16 scaled to [-1, 1) (finite: the transform must give finite values). */
enum fuzz_signal_kind { FUZZ_SIGNAL_AUDIO, FUZZ_SIGNAL_EXTREME };

static inline float *fuzz_signal(fuzz_input *in, enum fuzz_signal_kind kind, int64_t n)
{
    float *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    if (!x) abort();
    for (int64_t i = 0; i < n; i++) {
        if (kind == FUZZ_SIGNAL_EXTREME) {
            uint32_t bits = 0;
            for (int b = 0; b < 4; b++) bits |= (uint32_t)fuzz_u8(in) << (8 * b);
            memcpy(&x[i], &bits, sizeof bits);
        } else {
            x[i] = (float)(int16_t)fuzz_u16(in) / 32768.0f;
        }
    }
    return x;
}

/* Every status the library returns is one of its own. */
static inline void fuzz_check_status(melspec_status status)
{
    if (status > 0 || strcmp(melspec_status_name(status), "MELSPEC_UNKNOWN_STATUS") == 0) abort();
}

/* Guard bytes after an output buffer: a write past the stated capacity changes them. */
enum { FUZZ_GUARD_BYTES = 64, FUZZ_GUARD_VALUE = 0xA5 };

static inline unsigned char *fuzz_guarded_alloc(size_t capacity)
{
    unsigned char *buffer = malloc(capacity + FUZZ_GUARD_BYTES);
    if (!buffer) abort();
    memset(buffer, FUZZ_GUARD_VALUE, capacity + FUZZ_GUARD_BYTES);
    return buffer;
}

static inline void fuzz_check_guard(const unsigned char *buffer, size_t capacity)
{
    for (size_t i = 0; i < FUZZ_GUARD_BYTES; i++)
        if (buffer[capacity + i] != FUZZ_GUARD_VALUE) abort();
}

#endif
