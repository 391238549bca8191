/* Figures of a result (cairo): the look of librosa.display.specshow with a colour bar. */
#ifndef MELSPEC_CLI_FIGURE_H
#define MELSPEC_CLI_FIGURE_H

#include <stddef.h>
#include <stdio.h>

#include "options.h"
#include "writers.h"

/* What the frequency axis is. */
typedef enum cli_frequency_axis {
    CLI_AXIS_LINEAR, /* STFT bins: k * sample_rate / n_fft Hz */
    CLI_AXIS_MEL,    /* mel bands between fmin and fmax (Slaney or HTK), labelled in Hz */
    CLI_AXIS_CQT     /* constant-Q bins from fmin, bins_per_octave, labelled with note names */
} cli_frequency_axis;

typedef struct cli_figure {
    const char *title;          /* e.g. "speech.wav: mel, 128 bands, n_fft 2048, hop 512" */
    double sample_rate;         /* Hz, of the samples transformed */
    double hop_length;          /* samples between frames */
    cli_frequency_axis axis;
    double n_fft;               /* CLI_AXIS_LINEAR */
    double fmin, fmax;          /* CLI_AXIS_MEL: band edges; CLI_AXIS_CQT: fmin */
    int htk;                    /* CLI_AXIS_MEL: HTK's scale instead of Slaney's */
    double bins_per_octave;     /* CLI_AXIS_CQT */
    const char *value_caption;  /* over the colour bar: what a log value is, e.g. "ln(S + 1e-06)";
                                   NULL for decibels, whose ticks say "dB" */
    cli_figure_options options; /* size, dB range, colormap (0 fields: defaults) */
} cli_figure;

/* Default figure size: 1000 pixels wide, 400 high per channel panel. */
enum { CLI_FIGURE_WIDTH = 1000, CLI_FIGURE_PANEL_HEIGHT = 400 };

/* Draws result (one panel per channel, channel 0 on top) as format (CLI_FORMAT_PNG, _SVG or
 * _PDF) into file. Returns 0, or -1 with a one-line reason in why. */
int cli_write_figure(FILE *file, unsigned format, const cli_result *result,
                     const cli_figure *figure, char *why, size_t why_capacity);

/* Where the data region of a PNG figure of this size lies (pixels, origin top left), for
 * tests and for the docs: the rectangle each channel's panel fills. */
void cli_figure_layout(int width, int height, int n_channels, int channel, double *x, double *y,
                       double *w, double *h);

#endif
