/* .npy (numpy's format 1.0), .csv, .png (libpng). */
#include "writers.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "colormap.h"
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

static int close_checked(FILE *file, const char *path, int ok, char *why, size_t capacity)
{
    const int close_error = fclose(file);
    if (!ok || close_error != 0)
        return cli_fail(why, capacity, "cannot write %s: %s", path, strerror(errno));
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

int cli_write_npy(const char *path, const cli_result *r, char *why, size_t why_capacity)
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

    FILE *file = fopen(path, "wb");
    if (file == NULL) return cli_fail(why, why_capacity, "cannot create %s: %s", path, strerror(errno));
    const unsigned char magic[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                     (unsigned char)(length & 0xff),
                                     (unsigned char)((length >> 8) & 0xff)};
    int ok = fwrite(magic, 1, sizeof magic, file) == sizeof magic;
    ok = ok && fwrite(header, 1, (size_t)length, file) == (size_t)length;
    const size_t n = result_floats(r);
    ok = ok && fwrite(r->data, sizeof *r->data, n, file) == n;
    return close_checked(file, path, ok, why, why_capacity);
}

/* ---- .csv ---------------------------------------------------------------------------------- */

int cli_write_csv(const char *path, const cli_result *r, char *why, size_t why_capacity)
{
    FILE *file = fopen(path, "w");
    if (file == NULL) return cli_fail(why, why_capacity, "cannot create %s: %s", path, strerror(errno));
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
    return close_checked(file, path, ok, why, why_capacity);
}

/* ---- .png ---------------------------------------------------------------------------------- */

/* The value at (channel, bin, frame) in the units the picture shows. */
static double display_value(const cli_result *r, int64_t channel, int64_t bin, int64_t frame)
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

typedef struct png_failure {
    char message[200];
} png_failure;

static void png_error_handler(png_structp png, png_const_charp message)
{
    png_failure *failure = png_get_error_ptr(png);
    snprintf(failure->message, sizeof failure->message, "%s", message);
    png_longjmp(png, 1);
}

static void png_warning_handler(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message;
}

/* The libpng part on its own, so that nothing it changes lives across the setjmp. */
static int encode_png(FILE *file, const cli_result *r, double low, double high, uint8_t *row,
                      png_failure *failure)
{
    const int64_t width = r->n_frames, height = r->n_channels * r->n_bins;
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, failure, png_error_handler,
                                png_warning_handler);
    if (png == NULL) return -1;
    png_infop info = png_create_info_struct(png);
    if (info == NULL || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    cli_colormap map;
    cli_colormap_init(&map);
    png_init_io(png, file);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    const double span = high > low ? high - low : 1.0;
    for (int64_t y = 0; y < height; y++) {
        const int64_t channel = y / r->n_bins;
        const int64_t bin = r->n_bins - 1 - y % r->n_bins; /* low frequencies at the bottom */
        for (int64_t x = 0; x < width; x++) {
            const double v = display_value(r, channel, bin, x);
            double t = isnan(v) ? 0.0 : (v - low) / span;
            t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
            const uint8_t *rgb = map.rgb[(int)lround(t * 255.0)];
            memcpy(row + 3 * x, rgb, 3);
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int cli_write_png(const char *path, const cli_result *r, char *why, size_t why_capacity)
{
    const int64_t width = r->n_frames, height = r->n_channels * r->n_bins;
    if (width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff)
        return cli_fail(why, why_capacity, "a %lld x %lld picture cannot be a PNG",
                    (long long)width, (long long)height);
    /* The colour range: the finite values, at most 80 dB below the loudest for dB units. */
    double low = INFINITY, high = -INFINITY;
    for (int64_t c = 0; c < r->n_channels; c++)
        for (int64_t b = 0; b < r->n_bins; b++)
            for (int64_t f = 0; f < r->n_frames; f++) {
                const double v = display_value(r, c, b, f);
                if (!isfinite(v)) continue;
                low = v < low ? v : low;
                high = v > high ? v : high;
            }
    if (!isfinite(high)) low = high = 0.0;
    if (r->kind != CLI_VALUES_LOG && low < high - 80.0) low = high - 80.0;

    uint8_t *row = malloc((size_t)width * 3);
    if (row == NULL) return cli_fail(why, why_capacity, "out of memory for a PNG row");
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        free(row);
        return cli_fail(why, why_capacity, "cannot create %s: %s", path, strerror(errno));
    }
    png_failure failure = {"out of memory"};
    const int encoded = encode_png(file, r, low, high, row, &failure) == 0;
    free(row);
    if (!encoded) {
        fclose(file);
        return cli_fail(why, why_capacity, "cannot write %s: libpng: %s", path, failure.message);
    }
    return close_checked(file, path, 1, why, why_capacity);
}
