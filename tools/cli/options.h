/* The melspec command's options: one table drives parsing and --help. */
#ifndef MELSPEC_CLI_OPTIONS_H
#define MELSPEC_CLI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "melspec.h"
#include "presets.h"

enum {
    CLI_FORMAT_NPY = 1,
    CLI_FORMAT_CSV = 2,
    CLI_FORMAT_PNG = 4,
    CLI_FORMAT_SVG = 8,
    CLI_FORMAT_PDF = 16,
    CLI_FORMAT_LAST = CLI_FORMAT_PDF,
    CLI_FORMAT_FIGURES = CLI_FORMAT_PNG | CLI_FORMAT_SVG | CLI_FORMAT_PDF
};

typedef enum cli_cmap { CLI_CMAP_DEFAULT = 0, CLI_CMAP_GRAY, CLI_CMAP_GRAY_REVERSED } cli_cmap;

/* How figures are drawn (--width, --height, --db-range, --cmap). */
typedef struct cli_figure_options {
    int width, height; /* pixels; 0 = the defaults */
    double db_range;   /* colour range below the maximum; 0 = 80 dB */
    int cmap;          /* cli_cmap */
} cli_figure_options;

typedef enum cli_preset {
    CLI_PRESET_NONE = 0,
    CLI_PRESET_LIBROSA,
    CLI_PRESET_WHISPER,
    CLI_PRESET_REALTIME,
    CLI_PRESET_CCMUSIC_CQT
} cli_preset;

/* --db picks power_to_db or amplitude_to_db from --power once every option is read. */
typedef enum cli_scale_request {
    CLI_SCALE_UNSET = 0, /* keep config.scaling as the preset left it */
    CLI_SCALE_DB,        /* dB of whatever --power gives */
    CLI_SCALE_EXPLICIT   /* config.scaling was named with --scale */
} cli_scale_request;

typedef struct cli_options {
    melspec_config config; /* the library's config, sample_rate = --sr (when not native) */
    int transform_cqt;     /* --transform cqt (needs the CQT plan) */
    cli_cqt_options cqt;   /* its own parameters */
    cli_preset preset;
    int whisper_log_mel;   /* Whisper's last-frame drop and log-mel affine step (preset) */
    cli_scale_request scale_request;

    /* Loading, as librosa.load. */
    int native_rate; /* --sr native */
    int res_type;    /* --res-type: a melspec_cqt_res_type, one of libsoxr's qualities */
    int mono;        /* 1: mean of the channels (librosa's default); 0: --keep-channels */
    double offset;   /* seconds */
    double duration; /* seconds; < 0 = to the end */

    /* Inputs and outputs. */
    const char **inputs;
    size_t n_inputs;
    const char **outputs; /* -o, in order */
    size_t n_outputs;
    unsigned formats;     /* CLI_FORMAT_* from --format; 0 = from the output's extension */
    int stats;
    int quiet;
    int64_t batch_files;  /* files per execute when their shapes agree (0: by backend) */
    const char *generate_example; /* --generate-example PATH */

    /* Batch jobs. */
    int64_t jobs;              /* worker threads; 0 = the cores available */
    int skip_existing;         /* keep outputs that exist (complete: they are renamed in) */
    int overwrite;             /* replace outputs that exist */
    const char *failures_path; /* --failures FILE */
    int strict;                /* refuse damaged files rather than read what is there */
    cli_figure_options figure;
} cli_options;

/* Outcome of parsing: run, exit at once with success (--help printed), print the versions
 * (--version), or a usage error (already reported on stderr). */
typedef enum cli_parse_result {
    CLI_PARSE_RUN = 0,
    CLI_PARSE_EXIT_OK,
    CLI_PARSE_VERSION,
    CLI_PARSE_USAGE_ERROR
} cli_parse_result;

/* Parses argv into *options (allocating the input and output lists: free with
 * cli_options_free). Prints --help to stdout and usage errors to stderr. */
cli_parse_result cli_parse_options(int argc, char **argv, cli_options *options);
void cli_options_free(cli_options *options);

/* Applies a preset's defaults to *options (used before the explicit options). */
int cli_apply_preset(cli_options *options, const char *name);

/* The output extension for a path ("x/y.npy" -> CLI_FORMAT_NPY), 0 when none is known. */
unsigned cli_format_from_path(const char *path);
const char *cli_format_extension(unsigned format);

#endif
