/* Planar rows: `rows` rows of samples side by side in one buffer, each `capacity` frames apart,
 * the first `filled` frames of each in use. The loader's result and the resampler's output grow
 * this way and are fitted to their length at the end (handed to numpy as they are). */
#ifndef MELSPEC_AUDIO_PLANAR_ROWS_H
#define MELSPEC_AUDIO_PLANAR_ROWS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* How many frames a row's first allocation holds at most: a header may claim more than the
 * file holds (FLAC's count of frames is any number, a WAV's data size too), so the first buffer
 * of all the rows together stays under 2^25 samples (128 MiB) and grows only as frames come.
 * One and two rows get 2^24 frames each; a file of hundreds of channels proportionally less (574
 * channels at 250 Hz upsampled to 22050 Hz asked for 13 GB at once). */
static inline int64_t planar_rows_first_limit(int64_t rows)
{
    const int64_t all_rows = (int64_t)1 << 25, one_row = (int64_t)1 << 24;
    const int64_t limit = rows > 0 ? all_rows / rows : one_row;
    return limit < 1 ? 1 : limit > one_row ? one_row : limit;
}

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
