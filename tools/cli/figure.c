/* Figures with cairo, in the manner of librosa.display.specshow(..., x_axis="time",
 * y_axis="mel"|"linear"|"cqt_note") plus plt.colorbar(format="%+2.0f dB") and a title:
 *
 *   title (file, transform, key parameters)
 *   +--------------------------------------------+  +--+
 *   | data: one cell per frame and bin,           |  |  | colour bar, dB
 *   | low frequencies at the bottom               |  |  |
 *   +--------------------------------------------+  +--+
 *   Hz ticks on the left, seconds below; one panel per channel, stacked.
 *
 * Cells are drawn by scaling an image of one pixel per frame and bin: nearest-neighbour when
 * the panel is larger than the data (each cell a flat rectangle, as pcolormesh draws it), a box
 * filter when smaller (ten minutes of frames averaged into the panel's width, not aliased). */
#include "figure.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

#include "colormap.h"
#include "message.h"

/* Margins around the panels, in pixels: room for the title, the tick labels and axis names on
 * the left and below, and the colour bar with its labels on the right. */
enum {
    MARGIN_LEFT = 78,
    MARGIN_RIGHT = 96,
    MARGIN_TOP = 36,
    MARGIN_BOTTOM = 50,
    PANEL_GAP = 14,
    BAR_GAP = 16,
    BAR_WIDTH = 18
};

void cli_figure_layout(int width, int height, int n_channels, int channel, double *x, double *y,
                       double *w, double *h)
{
    const double panels_height =
        (double)(height - MARGIN_TOP - MARGIN_BOTTOM - PANEL_GAP * (n_channels - 1));
    *x = MARGIN_LEFT;
    *w = width - MARGIN_LEFT - MARGIN_RIGHT;
    *h = panels_height / n_channels;
    *y = MARGIN_TOP + channel * (*h + PANEL_GAP);
}

/* ---- colours ------------------------------------------------------------------------------- */

static void colour_table(int cmap, uint8_t rgb[256][3])
{
    if (cmap == CLI_CMAP_DEFAULT) {
        cli_colormap map;
        cli_colormap_init(&map);
        memcpy(rgb, map.rgb, sizeof map.rgb);
        return;
    }
    for (int i = 0; i < 256; i++) {
        const uint8_t v = (uint8_t)(cmap == CLI_CMAP_GRAY_REVERSED ? 255 - i : i);
        rgb[i][0] = rgb[i][1] = rgb[i][2] = v;
    }
}

static int colour_index(double v, double low, double high)
{
    if (isnan(v)) return 0;
    double t = high > low ? (v - low) / (high - low) : 0.0;
    t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
    return (int)lround(t * 255.0);
}

/* ---- axes ---------------------------------------------------------------------------------- */

static double mel_of(double hz, int htk)
{
    if (htk) return 2595.0 * log10(1.0 + hz / 700.0);
    const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
    const double logstep = log(6.4) / 27.0;
    return hz >= min_log_hz ? min_log_mel + log(hz / min_log_hz) / logstep : hz / f_sp;
}

/* Position of frequency hz on the axis, in bins (bin k is centred on k + 0.5); NAN when the
 * axis cannot show it. */
static double bin_of_frequency(const cli_figure *f, double hz, int64_t n_bins)
{
    switch (f->axis) {
    case CLI_AXIS_LINEAR: return hz * f->n_fft / f->sample_rate + 0.5;
    case CLI_AXIS_MEL: {
        /* Band i is centred on mel_frequencies(n + 2)[i + 1]: evenly spaced mels. */
        const double low = mel_of(f->fmin, f->htk), high = mel_of(f->fmax, f->htk);
        const double step = (high - low) / (double)(n_bins + 1);
        return (mel_of(hz, f->htk) - low) / step - 1.0 + 0.5;
    }
    case CLI_AXIS_CQT:
        return hz > 0.0 ? f->bins_per_octave * log2(hz / f->fmin) + 0.5 : NAN;
    }
    return NAN;
}

/* A step of 1, 2 or 5 times a power of ten giving about target ticks over span. */
static double nice_step(double span, double target)
{
    const double raw = span / target;
    const double power = pow(10.0, floor(log10(raw)));
    const double m = raw / power;
    return power * (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0);
}

static void set_font(cairo_t *cr, double size)
{
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* Text anchored at (x, y): ax, ay in [0, 1] pick the point of its box (0 left/top). */
static void text_at(cairo_t *cr, const char *text, double x, double y, double ax, double ay)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, text, &e);
    cairo_move_to(cr, x - e.x_bearing - ax * e.width, y - e.y_bearing - ay * e.height);
    cairo_show_text(cr, text);
}

static void tick_line(cairo_t *cr, double x0, double y0, double x1, double y1)
{
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x1, y1);
    cairo_stroke(cr);
}

/* Frequency ticks on the left of a panel (py: top, ph: height). */
static void frequency_ticks(cairo_t *cr, const cli_figure *f, int64_t n_bins, double px,
                            double py, double ph)
{
    double last_y = INFINITY;
    char label[32];
    const double pixels_per_bin = ph / (double)n_bins;
    if (f->axis == CLI_AXIS_CQT) {
        for (int octave = -1; octave <= 10; octave++) {
            const double hz = 440.0 * pow(2.0, (12.0 * (octave + 1) - 69.0) / 12.0); /* C */
            const double b = bin_of_frequency(f, hz, n_bins);
            if (!(b >= 0.0 && b <= (double)n_bins)) continue;
            const double y = py + ph - b * pixels_per_bin;
            if (last_y - y < 14.0) continue;
            snprintf(label, sizeof label, "C%d", octave);
            tick_line(cr, px - 5, y, px, y);
            text_at(cr, label, px - 8, y, 1.0, 0.5);
            last_y = y;
        }
        return;
    }
    /* specshow's mel axis ticks at 0 and powers of two from 64 Hz; a linear axis at 1-2-5. */
    double ticks[64];
    int n_ticks = 0;
    const double top = f->axis == CLI_AXIS_MEL ? f->fmax : f->sample_rate / 2.0;
    if (f->axis == CLI_AXIS_MEL) {
        if (f->fmin <= 0.0) ticks[n_ticks++] = 0.0;
        for (double hz = 64.0; hz <= top && n_ticks < 64; hz *= 2.0)
            if (hz >= f->fmin) ticks[n_ticks++] = hz;
    } else {
        const double step = nice_step(top, 6.0);
        for (double hz = 0.0; hz <= top + 1e-9 && n_ticks < 64; hz += step) ticks[n_ticks++] = hz;
    }
    for (int i = 0; i < n_ticks; i++) {
        const double b = bin_of_frequency(f, ticks[i], n_bins);
        if (!(b >= 0.0 && b <= (double)n_bins)) continue;
        const double y = py + ph - b * pixels_per_bin;
        if (last_y - y < 14.0) continue;
        if (ticks[i] >= 1000.0 && fmod(ticks[i], 1000.0) == 0.0) {
            snprintf(label, sizeof label, "%gk", ticks[i] / 1000.0);
        } else {
            snprintf(label, sizeof label, "%g", ticks[i]);
        }
        tick_line(cr, px - 5, y, px, y);
        text_at(cr, label, px - 8, y, 1.0, 0.5);
        last_y = y;
    }
}

static void time_ticks(cairo_t *cr, double seconds, double px, double pw, double y)
{
    const double step = nice_step(seconds, 8.0);
    char label[32];
    for (double t = 0.0; t <= seconds + 1e-9; t += step) {
        const double x = px + t / seconds * pw;
        tick_line(cr, x, y, x, y + 5);
        snprintf(label, sizeof label, "%g", round(t / step) * step);
        text_at(cr, label, x, y + 8, 0.5, 0.0);
    }
}

/* ---- the figure ---------------------------------------------------------------------------- */

typedef struct value_range {
    double low, high;
} value_range;

static value_range colour_range(const cli_result *r, double db_range)
{
    value_range range = {INFINITY, -INFINITY};
    for (int64_t c = 0; c < r->n_channels; c++)
        for (int64_t b = 0; b < r->n_bins; b++)
            for (int64_t t = 0; t < r->n_frames; t++) {
                const double v = cli_display_value(r, c, b, t);
                if (!isfinite(v)) continue;
                range.low = v < range.low ? v : range.low;
                range.high = v > range.high ? v : range.high;
            }
    if (!isfinite(range.high)) range.low = range.high = 0.0;
    /* dB: the loudest down to db_range below it; log units as they are. */
    if (r->kind != CLI_VALUES_LOG && range.low < range.high - db_range)
        range.low = range.high - db_range;
    return range;
}

/* One channel's cells as an image, one pixel per frame and bin, low bins at the bottom. */
static cairo_surface_t *cells_image(const cli_result *r, int64_t channel, value_range range,
                                    uint8_t rgb[256][3])
{
    cairo_surface_t *image = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)r->n_frames,
                                                        (int)r->n_bins);
    if (cairo_surface_status(image) != CAIRO_STATUS_SUCCESS) return image;
    cairo_surface_flush(image);
    unsigned char *pixels = cairo_image_surface_get_data(image);
    const int stride = cairo_image_surface_get_stride(image);
    for (int64_t b = 0; b < r->n_bins; b++) {
        uint32_t *row = (uint32_t *)(void *)(pixels + (size_t)(r->n_bins - 1 - b) * (size_t)stride);
        for (int64_t t = 0; t < r->n_frames; t++) {
            const uint8_t *c = rgb[colour_index(cli_display_value(r, channel, b, t), range.low,
                                                range.high)];
            row[t] = (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
        }
    }
    cairo_surface_mark_dirty(image);
    return image;
}

static int draw(cairo_t *cr, const cli_result *r, const cli_figure *f, int width, int height,
                char *why, size_t why_capacity)
{
    const double db_range = f->options.db_range > 0.0 ? f->options.db_range : 80.0;
    const value_range range = colour_range(r, db_range);
    uint8_t rgb[256][3];
    colour_table(f->options.cmap, rgb);
    const double seconds = (double)r->n_frames * f->hop_length / f->sample_rate;

    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_line_width(cr, 1.0);
    set_font(cr, 15);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text_at(cr, f->title, MARGIN_LEFT + (width - MARGIN_LEFT - MARGIN_RIGHT) / 2.0, 10, 0.5, 0.0);
    set_font(cr, 11);

    double px = 0, py = 0, pw = 0, ph = 0;
    for (int64_t c = 0; c < r->n_channels; c++) {
        cli_figure_layout(width, height, (int)r->n_channels, (int)c, &px, &py, &pw, &ph);
        cairo_surface_t *image = cells_image(r, c, range, rgb);
        if (cairo_surface_status(image) != CAIRO_STATUS_SUCCESS) {
            cairo_surface_destroy(image);
            return cli_fail(why, why_capacity, "cairo: %s",
                            cairo_status_to_string(cairo_surface_status(image)));
        }
        cairo_save(cr);
        cairo_rectangle(cr, px, py, pw, ph);
        cairo_clip(cr);
        cairo_translate(cr, px, py);
        cairo_scale(cr, pw / (double)r->n_frames, ph / (double)r->n_bins);
        cairo_set_source_surface(cr, image, 0, 0);
        const int enlarged = pw >= (double)r->n_frames && ph >= (double)r->n_bins;
        cairo_pattern_set_filter(cairo_get_source(cr),
                                 enlarged ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
        cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
        cairo_paint(cr);
        cairo_restore(cr);
        cairo_surface_destroy(image);

        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_rectangle(cr, px - 0.5, py - 0.5, pw + 1, ph + 1);
        cairo_stroke(cr);
        frequency_ticks(cr, f, r->n_bins, px, py, ph);
        if (r->n_channels > 1) {
            char label[32];
            snprintf(label, sizeof label, "channel %lld", (long long)c);
            cairo_set_source_rgb(cr, 1, 1, 1);
            text_at(cr, label, px + 6, py + 5, 0.0, 0.0);
            cairo_set_source_rgb(cr, 0, 0, 0);
        }
    }
    /* Axis names: frequency along the left, time under the last panel. */
    const double all_top = MARGIN_TOP, all_bottom = py + ph;
    cairo_save(cr);
    cairo_translate(cr, 16, (all_top + all_bottom) / 2.0);
    cairo_rotate(cr, -0.5 * 3.14159265358979323846);
    text_at(cr, f->axis == CLI_AXIS_CQT ? "Note" : "Hz", 0, 0, 0.5, 0.5);
    cairo_restore(cr);
    time_ticks(cr, seconds, px, pw, all_bottom + 1);
    text_at(cr, "Time (s)", px + pw / 2.0, height - 6, 0.5, 1.0);

    /* The colour bar: the range from low (bottom) to high, with its own ticks. */
    const double bx = px + pw + BAR_GAP, bh = all_bottom - all_top;
    cairo_pattern_t *gradient = cairo_pattern_create_linear(0, all_bottom, 0, all_top);
    for (int i = 0; i < 256; i++)
        cairo_pattern_add_color_stop_rgb(gradient, i / 255.0, rgb[i][0] / 255.0,
                                         rgb[i][1] / 255.0, rgb[i][2] / 255.0);
    cairo_rectangle(cr, bx, all_top, BAR_WIDTH, bh);
    cairo_set_source(cr, gradient);
    cairo_fill(cr);
    cairo_pattern_destroy(gradient);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, bx - 0.5, all_top - 0.5, BAR_WIDTH + 1, bh + 1);
    cairo_stroke(cr);
    const int decibels = r->kind != CLI_VALUES_LOG;
    const double span = range.high > range.low ? range.high - range.low : 1.0;
    const double step = decibels ? (span > 40.0 ? 10.0 : nice_step(span, 6.0)) : nice_step(span, 6.0);
    char label[32];
    for (double v = ceil(range.low / step) * step; v <= range.high + 1e-9; v += step) {
        const double y = all_bottom - (v - range.low) / span * bh;
        tick_line(cr, bx + BAR_WIDTH, y, bx + BAR_WIDTH + 4, y);
        if (decibels) {
            snprintf(label, sizeof label, "%+.0f dB", v);
        } else {
            snprintf(label, sizeof label, "%+.3g", v);
        }
        text_at(cr, label, bx + BAR_WIDTH + 7, y, 0.0, 0.5);
    }
    if (f->value_caption != NULL) text_at(cr, f->value_caption, width - 6, all_top - 5, 1.0, 1.0);
    return 0;
}

typedef struct stream_sink {
    FILE *file;
} stream_sink;

static cairo_status_t write_to_file(void *closure, const unsigned char *data, unsigned int length)
{
    FILE *file = ((stream_sink *)closure)->file;
    return fwrite(data, 1, length, file) == length ? CAIRO_STATUS_SUCCESS
                                                   : CAIRO_STATUS_WRITE_ERROR;
}

int cli_write_figure(FILE *file, unsigned format, const cli_result *r, const cli_figure *f,
                     char *why, size_t why_capacity)
{
    if (r->n_frames < 1 || r->n_bins < 1 || r->n_frames > 32767 * 64 || r->n_bins > 32767)
        return cli_fail(why, why_capacity, "a %lld x %lld result cannot be drawn",
                        (long long)r->n_frames, (long long)r->n_bins);
    const int width = f->options.width > 0 ? f->options.width : CLI_FIGURE_WIDTH;
    const int height = f->options.height > 0
                           ? f->options.height
                           : CLI_FIGURE_PANEL_HEIGHT + (int)(r->n_channels - 1) * 300;
    const double panel_height =
        (double)(height - MARGIN_TOP - MARGIN_BOTTOM - PANEL_GAP * (int)(r->n_channels - 1)) /
        (double)r->n_channels;
    if (panel_height < 40.0)
        return cli_fail(why, why_capacity, "--height %d leaves no room for %lld channel panels",
                        height, (long long)r->n_channels);
    /* A frame wider than 32767 pixels is a cairo limit: such results are drawn in pieces of
     * columns averaged first would be needed; the check above keeps far below it. */
    stream_sink sink = {file};
    cairo_surface_t *surface;
    if (format == CLI_FORMAT_SVG) {
        surface = cairo_svg_surface_create_for_stream(write_to_file, &sink, width, height);
    } else if (format == CLI_FORMAT_PDF) {
        surface = cairo_pdf_surface_create_for_stream(write_to_file, &sink, width, height);
    } else {
        surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    }
    cairo_t *cr = cairo_create(surface);
    int result = draw(cr, r, f, width, height, why, why_capacity);
    cairo_destroy(cr);
    if (result == 0 && format == CLI_FORMAT_PNG) {
        const cairo_status_t status = cairo_surface_write_to_png_stream(surface, write_to_file,
                                                                        &sink);
        if (status != CAIRO_STATUS_SUCCESS)
            result = cli_fail(why, why_capacity, "cannot write the PNG: %s",
                              cairo_status_to_string(status));
    }
    cairo_surface_finish(surface);
    const cairo_status_t status = cairo_surface_status(surface);
    if (result == 0 && status != CAIRO_STATUS_SUCCESS)
        result = cli_fail(why, why_capacity, "cairo: %s", cairo_status_to_string(status));
    cairo_surface_destroy(surface);
    return result;
}
