/* Results out: numpy .npy and .csv (figures: figure.h). */
#ifndef MELSPEC_CLI_WRITERS_H
#define MELSPEC_CLI_WRITERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What the values are, for the picture (which is always in dB or log units). */
typedef enum cli_value_kind {
    CLI_VALUES_POWER,   /* |X|^power (mel or linear), shown as (20 / power) log10 */
    CLI_VALUES_COMPLEX, /* complex64 STFT, shown as 20 log10 |X| */
    CLI_VALUES_DB,      /* decibels already */
    CLI_VALUES_LOG      /* a log scale already (natural log, Whisper's log-mel) */
} cli_value_kind;

/* A result as the library wrote it for n_channels signals: each (n_bins, n_frames) row-major,
 * or (n_frames, n_bins) when frames_major; complex values are (re, im) float pairs. */
typedef struct cli_result {
    float *data;
    int64_t n_channels;
    int channel_axis; /* 1: the arrays have a leading channel axis (librosa's multichannel) */
    int64_t n_bins;
    int64_t n_frames;
    int frames_major;
    int complex_values;
    cli_value_kind kind;
    double power; /* for CLI_VALUES_POWER */
} cli_result;

/* The numpy shape of a result: returns the number of axes (2 or 3) and fills shape. */
int cli_result_shape(const cli_result *result, int64_t shape[3]);

/* Each writes to file and returns 0, or -1 with a one-line reason in why. */
int cli_write_npy(FILE *file, const cli_result *result, char *why, size_t why_capacity);
int cli_write_csv(FILE *file, const cli_result *result, char *why, size_t why_capacity);

/* The value at (channel, bin, frame) in the units a figure shows: dB for power, magnitude and
 * complex values ((20 / power) log10), dB and log values as they are. */
double cli_display_value(const cli_result *result, int64_t channel, int64_t bin, int64_t frame);

#endif
