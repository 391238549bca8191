/* Planar rows: `rows` rows of samples side by side in one buffer, each `capacity` frames apart,
 * the first `filled` frames of each in use. The loader's result and the resampler's output grow
 * this way and are fitted to their length at the end (handed to numpy as they are). */
#ifndef MELSPEC_AUDIO_PLANAR_ROWS_H
#define MELSPEC_AUDIO_PLANAR_ROWS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The rows grown from capacity to grown frames apart; the filled frames of each move to its new
 * place, the last row first (each moves up, never over a row already moved). NULL when out of
 * memory, the buffer still the caller's. */
static inline float *planar_rows_grow(float *buffer, int64_t rows, int64_t capacity,
                                      int64_t grown, int64_t filled)
{
    float *bigger = realloc(buffer, (size_t)(rows * grown) * sizeof *bigger);
    if (bigger == NULL) return NULL;
    for (int64_t r = rows - 1; r >= 1; r--)
        memmove(bigger + r * grown, bigger + r * capacity, (size_t)filled * sizeof *bigger);
    return bigger;
}

/* The rows moved to length frames apart (0 < length <= capacity, each row's first length frames
 * kept) and the room left over given back, in place. */
static inline float *planar_rows_fit(float *buffer, int64_t rows, int64_t capacity,
                                     int64_t length)
{
    if (length <= 0 || length >= capacity) return buffer;
    for (int64_t r = 1; r < rows; r++)
        memmove(buffer + r * length, buffer + r * capacity, (size_t)length * sizeof *buffer);
    float *fitted = realloc(buffer, (size_t)(rows * length) * sizeof *fitted);
    return fitted != NULL ? fitted : buffer;
}

#endif
