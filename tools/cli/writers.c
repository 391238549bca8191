/* .npy (numpy's format 1.0) and .csv, into a stream the caller opened (an atomic temporary or
 * stdout) and checks when it closes it. */
#include "writers.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"


int cli_result_shape(const cli_result *r, int64_t shape[3])
{
    int n = 0;
    if (r->channel_axis) shape[n++] = r->n_channels;
    shape[n++] = r->frames_major ? r->n_frames : r->n_bins;
    shape[n++] = r->frames_major ? r->n_bins : r->n_frames;
    return n;
}

static size_t result_floats(const cli_result *r)
{
    return (size_t)(r->n_channels * r->n_bins * r->n_frames) * (r->complex_values ? 2u : 1u);
}

static int checked(FILE *file, int ok, char *why, size_t capacity)
{
    if (!ok || ferror(file)) return cli_fail(why, capacity, "%s", strerror(errno));
    return 0;
}

/* ---- .npy ---------------------------------------------------------------------------------- */

static int little_endian_host(void)
{
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 1;
}

int cli_write_npy(FILE *file, const cli_result *r, char *why, size_t why_capacity)
{
    int64_t shape[3];
    const int n_axes = cli_result_shape(r, shape);
    const char order = little_endian_host() ? '<' : '>';
    char header[256];
    int length = snprintf(header, sizeof header, "{'descr': '%c%s', 'fortran_order': False, 'shape': (",
                          order, r->complex_values ? "c8" : "f4");
    for (int i = 0; i < n_axes; i++)
        length += snprintf(header + length, sizeof header - (size_t)length, "%lld, ",
                           (long long)shape[i]);
    length -= 2; /* numpy writes "(3, 4)" without a trailing comma for two or more axes */
    length += snprintf(header + length, sizeof header - (size_t)length, "), }");
    /* Magic (6) + version (2) + header length (2) + header, padded with spaces and ended by a
     * newline to a multiple of 64 bytes, as numpy does so that the data is aligned. */
    const int preamble = 10;
    const int total = ((preamble + length + 1 + 63) / 64) * 64;
    while (length < total - preamble - 1) header[length++] = ' ';
    header[length++] = '\n';

    const unsigned char magic[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                     (unsigned char)(length & 0xff),
                                     (unsigned char)((length >> 8) & 0xff)};
    int ok = fwrite(magic, 1, sizeof magic, file) == sizeof magic;
    ok = ok && fwrite(header, 1, (size_t)length, file) == (size_t)length;
    const size_t n = result_floats(r);
    ok = ok && fwrite(r->data, sizeof *r->data, n, file) == n;
    return checked(file, ok, why, why_capacity);
}

/* ---- .csv ---------------------------------------------------------------------------------- */

int cli_write_csv(FILE *file, const cli_result *r, char *why, size_t why_capacity)
{
    /* np.savetxt(a.reshape(-1, a.shape[-1]), delimiter=","): the last axis across. */
    int64_t shape[3];
    const int n_axes = cli_result_shape(r, shape);
    const int64_t columns = shape[n_axes - 1];
    const int64_t rows = (int64_t)(result_floats(r) / (r->complex_values ? 2u : 1u)) / columns;
    int ok = 1;
    for (int64_t row = 0; row < rows && ok; row++) {
        for (int64_t column = 0; column < columns; column++) {
            const int64_t i = row * columns + column;
            const char *separator = column + 1 < columns ? "," : "\n";
            if (r->complex_values) {
                ok = fprintf(file, "%.9g%+.9gj%s", (double)r->data[2 * i],
                             (double)r->data[2 * i + 1], separator) > 0;
            } else {
                ok = fprintf(file, "%.9g%s", (double)r->data[i], separator) > 0;
            }
        }
    }
    return checked(file, ok, why, why_capacity);
}

/* ---- values for figures -------------------------------------------------------------------- */

double cli_display_value(const cli_result *r, int64_t channel, int64_t bin, int64_t frame)
{
    const int64_t in_clip = r->frames_major ? frame * r->n_bins + bin : bin * r->n_frames + frame;
    const int64_t i = channel * r->n_bins * r->n_frames + in_clip;
    switch (r->kind) {
    case CLI_VALUES_POWER: {
        const double v = (double)r->data[i];
        return v > 0.0 ? 20.0 / r->power * log10(v) : -INFINITY;
    }
    case CLI_VALUES_COMPLEX: {
        const double re = (double)r->data[2 * i], im = (double)r->data[2 * i + 1];
        const double magnitude = sqrt(re * re + im * im);
        return magnitude > 0.0 ? 20.0 * log10(magnitude) : -INFINITY;
    }
    case CLI_VALUES_DB:
    case CLI_VALUES_LOG: return (double)r->data[i];
    }
    return 0.0;
}
