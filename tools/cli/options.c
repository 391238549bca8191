/* Option table, presets and --help. One table: the parser and the help text cannot disagree. */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


enum option_id {
    OPT_SECTION = 0,
    OPT_HELP, OPT_VERSION, OPT_GENERATE_EXAMPLE,
    OPT_SR, OPT_RES_TYPE, OPT_MONO, OPT_KEEP_CHANNELS, OPT_OFFSET, OPT_DURATION,
    OPT_PRESET, OPT_TRANSFORM, OPT_N_FFT, OPT_HOP_LENGTH, OPT_WIN_LENGTH, OPT_WINDOW,
    OPT_CENTER, OPT_NO_CENTER, OPT_PAD_MODE, OPT_POWER,
    OPT_N_MELS, OPT_FMIN, OPT_FMAX, OPT_HTK, OPT_NORM,
    OPT_N_BINS, OPT_BINS_PER_OCTAVE, OPT_TUNING, OPT_FILTER_SCALE, OPT_SPARSITY,
    OPT_CQT_RES_TYPE,
    OPT_DB, OPT_SCALE, OPT_TOP_DB, OPT_REF, OPT_AMIN, OPT_LOG, OPT_LOG_OFFSET,
    OPT_OUTPUT, OPT_FORMAT, OPT_LAYOUT, OPT_STATS, OPT_QUIET, OPT_BATCH, OPT_DEVICE,
    OPT_JOBS, OPT_SKIP_EXISTING, OPT_OVERWRITE, OPT_FAILURES, OPT_STRICT,
    OPT_WIDTH, OPT_HEIGHT, OPT_DB_RANGE, OPT_CMAP,
    OPT_COUNT
};

typedef struct cli_option {
    int id;
    const char *long_name; /* without the dashes; for OPT_SECTION the heading */
    char short_name;       /* 0 when none */
    const char *argument;  /* NULL for a flag, else what the value looks like */
    const char *help;
} cli_option;

static const cli_option option_table[] = {
    {OPT_SECTION, "Loading (as librosa.load)", 0, NULL, NULL},
    {OPT_SR, "sr", 0, "HZ|native",
     "resample to HZ with libsoxr, as librosa.load(sr=...) (default 22050, or the preset's); "
     "'native' keeps each file's rate"},
    {OPT_RES_TYPE, "res-type", 0, "NAME",
     "the resampling's quality, as librosa.load(res_type=...): soxr_hq (default), soxr_vhq, "
     "soxr_mq, soxr_lq, soxr_qq"},
    {OPT_MONO, "mono", 0, NULL, "mix to one channel, the mean of the channels (default)"},
    {OPT_KEEP_CHANNELS, "keep-channels", 0, NULL,
     "keep the channels: output (channels, bins, frames) for files with more than one"},
    {OPT_OFFSET, "offset", 0, "SECONDS", "start reading this far into each file (default 0)"},
    {OPT_DURATION, "duration", 0, "SECONDS", "read at most this much audio (default: all)"},

    {OPT_SECTION, "Transform (librosa's parameter names)", 0, NULL, NULL},
    {OPT_PRESET, "preset", 0, "NAME",
     "start from a known configuration; explicit options override it: librosa, whisper, "
     "realtime, ccmusic-cqt (see Presets below)"},
    {OPT_TRANSFORM, "transform", 0, "KIND",
     "mel (default), linear (|STFT|^power), stft (complex64), cqt (complex64, or |C| when "
     "scaled; when the library has it)"},
    {OPT_N_FFT, "n-fft", 0, "N", "FFT size (default 2048)"},
    {OPT_HOP_LENGTH, "hop-length", 0, "N", "samples between frames (default win-length/4)"},
    {OPT_WIN_LENGTH, "win-length", 0, "N", "window length, zero-padded to n-fft (default n-fft)"},
    {OPT_WINDOW, "window", 0, "NAME", "hann (default), hamming, rectangular (boxcar, ones), "
                                      "scipy's other windows; NAME:P1,P2 gives parameters "
                                      "(kaiser:8, tukey:0.25)"},
    {OPT_CENTER, "center", 0, NULL, "pad n-fft/2 on both sides, frames centred (default)"},
    {OPT_NO_CENTER, "no-center", 0, NULL, "frames start at 0, no padding"},
    {OPT_PAD_MODE, "pad-mode", 0, "MODE", "constant (zeros, default), reflect, edge"},
    {OPT_POWER, "power", 0, "P", "exponent on |STFT|: 1 magnitude, 2 power (default)"},
    {OPT_N_MELS, "n-mels", 0, "N", "mel bands (default 128)"},
    {OPT_FMIN, "fmin", 0, "HZ", "lowest band edge (default 0)"},
    {OPT_FMAX, "fmax", 0, "HZ", "highest band edge (default sr/2)"},
    {OPT_HTK, "htk", 0, NULL, "HTK mel scale instead of Slaney's"},
    {OPT_NORM, "norm", 0, "NAME", "filter normalisation: slaney (area, default) or none"},

    {OPT_SECTION, "Constant-Q (--transform cqt; --sr, --hop-length, --fmin, --window, --pad-mode "
                  "and the scaling apply too)", 0, NULL, NULL},
    {OPT_N_BINS, "n-bins", 0, "N", "CQT bins (default 84)"},
    {OPT_BINS_PER_OCTAVE, "bins-per-octave", 0, "N", "default 12"},
    {OPT_TUNING, "tuning", 0, "BINS", "tuning offset in fractions of a bin (default 0)"},
    {OPT_FILTER_SCALE, "filter-scale", 0, "X", "filter length factor (default 1)"},
    {OPT_SPARSITY, "sparsity", 0, "X",
     "share of each filter's mass dropped (default 0.01; 0 keeps all)"},
    {OPT_CQT_RES_TYPE, "cqt-res-type", 0, "NAME",
     "how each octave is halved, as librosa.cqt(res_type=...): soxr_hq (default), soxr_vhq, "
     "soxr_mq, soxr_lq, soxr_qq, polyphase (scipy's resample_poly)"},

    {OPT_SECTION, "Scaling", 0, NULL, NULL},
    {OPT_DB, "db", 0, NULL,
     "decibels: power_to_db for --power 2, amplitude_to_db for --power 1 and the CQT"},
    {OPT_SCALE, "scale", 0, "KIND", "none (default), power_to_db, amplitude_to_db, log"},
    {OPT_TOP_DB, "top-db", 0, "DB|none", "clamp to each clip's maximum minus DB (default 80)"},
    {OPT_REF, "ref", 0, "VALUE|max", "dB reference: a value (default 1) or each clip's maximum"},
    {OPT_AMIN, "amin", 0, "VALUE",
     "dB floor (default 1e-10 for power_to_db, 1e-5 for amplitude_to_db)"},
    {OPT_LOG, "log", 0, NULL, "natural log: log(S + log-offset)"},
    {OPT_LOG_OFFSET, "log-offset", 0, "VALUE", "offset for --log (default 1e-6)"},

    {OPT_SECTION, "Output", 0, NULL, NULL},
    {OPT_OUTPUT, "output", 'o', "PATH",
     "a file (.npy, .csv, .png, .svg, .pdf; repeat -o for several) for one input; '-' for "
     "stdout (one input, --format npy or csv); else a directory (a name without an extension, "
     "or ending in '/'): the outputs mirror the input tree under it"},
    {OPT_FORMAT, "format", 0, "LIST",
     "npy, csv, png, svg, pdf or a comma list (default: the output's extension, else npy)"},
    {OPT_LAYOUT, "layout", 0, "ORDER",
     "bins (librosa's (n_bins, n_frames), default) or frames ((n_frames, n_bins))"},
    {OPT_STATS, "stats", 0, NULL,
     "print shape, min, max and mean of each result (the default when no -o is given)"},
    {OPT_QUIET, "quiet", 'q', NULL, "no progress bar and no summaries; errors only"},
    {OPT_BATCH, "batch", 0, "N",
     "files per library call when their lengths agree (default 16 on a GPU, 1 on the CPU)"},
    {OPT_DEVICE, "device", 0, "DEV",
     "auto (CUDA when present, default), cpu, cuda, cuda:N"},

    {OPT_SECTION, "Batch jobs", 0, NULL, NULL},
    {OPT_JOBS, "jobs", 'j', "N",
     "worker threads, one plan each (default: the cores available to the process)"},
    {OPT_SKIP_EXISTING, "skip-existing", 0, NULL,
     "skip inputs whose outputs all exist (complete: outputs are renamed into place when "
     "written), to resume an interrupted run"},
    {OPT_OVERWRITE, "overwrite", 'y', NULL,
     "replace outputs that exist (without it, existing outputs are an error before any work)"},
    {OPT_FAILURES, "failures", 0, "FILE",
     "write the inputs that failed to FILE, one 'path<TAB>reason' line each"},
    {OPT_STRICT, "strict", 0, NULL,
     "refuse damaged files (truncated, decoding errors) instead of reading what is there, "
     "as librosa.load does"},

    {OPT_SECTION, "Figures (.png, .svg, .pdf)", 0, NULL, NULL},
    {OPT_WIDTH, "width", 0, "PIXELS", "figure width (default 1000)"},
    {OPT_HEIGHT, "height", 0, "PIXELS", "figure height (default 400, +300 per extra channel)"},
    {OPT_DB_RANGE, "db-range", 0, "DB", "colour range below the maximum (default 80)"},
    {OPT_CMAP, "cmap", 0, "NAME",
     "colormap: default (perceptually uniform: lightness rises evenly from violet to pale "
     "yellow), gray, gray_r"},

    {OPT_SECTION, "Other", 0, NULL, NULL},
    {OPT_GENERATE_EXAMPLE, "generate-example", 0, "PATH",
     "write a 3 s test signal (chirp, tones, noise at 22050 Hz; format from the extension: "
     "wav, flac, ogg, mp3) and exit"},
    {OPT_HELP, "help", 'h', NULL, "this help"},
    {OPT_VERSION, "version", 'V', NULL, "versions of melspec, libsndfile and libsoxr"},
};

#define N_OPTIONS (sizeof option_table / sizeof option_table[0])

static const char help_header[] =
    "Usage: melspec [OPTIONS] INPUT... [-o OUTPUT]\n"
    "\n"
    "Computes mel spectrograms (or STFT magnitudes, complex STFTs) of audio files with librosa's\n"
    "numbers. INPUT is an audio file (WAV, FLAC, OGG/Vorbis, Opus, MP3 and the other formats of\n"
    "libsndfile) or a directory, searched recursively for audio files.\n"
    "\n"
    "Examples:\n"
    "  melspec --generate-example example.wav\n"
    "  melspec example.wav                              shape and statistics, no file written\n"
    "  melspec example.wav -o example.npy -o example.png\n"
    "  melspec --preset whisper speech.flac -o speech.npy\n"
    "  melspec --db --n-mels 64 dataset/ -o features/ --format npy,png\n";

static const char help_footer[] =
    "\n"
    "Presets (a preset sets defaults; options given explicitly override them):\n"
    "  librosa      librosa.feature.melspectrogram's defaults: 22050 Hz, n_fft 2048, hop 512,\n"
    "               128 mels, power 2, no scaling\n"
    "  whisper      OpenAI Whisper's log-mel: 16 kHz, n_fft 400, hop 160, 80 mels (--n-mels 128\n"
    "               for large-v3), power 2, reflect padding; the last STFT frame is dropped and\n"
    "               the values are log10(max(S, 1e-10)) clamped to max - 8, then (x + 4) / 4\n"
    "  realtime     TTS/avatar models: 16 kHz, n_fft 800, hop 200, 80 mels, 55-7600 Hz, power 1\n"
    "  ccmusic-cqt  22050 Hz, hop 512, 84 CQT bins, amplitude dB (needs the CQT transform)\n"
    "\n"
    "Outputs: .npy is numpy's format (float32, or complex64 for --transform stft) in librosa's\n"
    "layout, (n_bins, n_frames) or (channels, n_bins, n_frames): np.load gives what the librosa\n"
    "call gives on the same samples. .csv has one line per bin (per channel and bin), frames\n"
    "across. .png, .svg and .pdf are figures as librosa.display.specshow draws them: the\n"
    "values in dB, time in seconds, frequency in Hz (CQT: note names), a colour bar, a title,\n"
    "one panel per channel.\n"
    "\n"
    "A file that cannot be read or computed is reported on one line and skipped; the exit status\n"
    "is then 1 (2 for a usage error). See docs/cli.md for more.\n";

/* ---- small parsers ------------------------------------------------------------------------- */

static int usage_error(const char *format, const char *option, const char *value)
{
    fprintf(stderr, "melspec: ");
    fprintf(stderr, format, option, value);
    fprintf(stderr, "\nTry 'melspec --help'.\n");
    return -1;
}

static int parse_double(const char *option, const char *text, double *out)
{
    char *end;
    errno = 0;
    const double value = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(value))
        return usage_error("--%s: '%s' is not a finite number", option, text);
    *out = value;
    return 0;
}

static int parse_int64(const char *option, const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    const long long value = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE)
        return usage_error("--%s: '%s' is not an integer", option, text);
    *out = (int64_t)value;
    return 0;
}

/* Sizes given explicitly must be positive: the library reads 0 as "the default", but an
 * explicit 0 is a mistake, as librosa's ValueError for hop_length=0 says. */
static int parse_positive(const char *option, const char *text, int64_t *out)
{
    if (parse_int64(option, text, out) != 0) return -1;
    if (*out < 1) return usage_error("--%s: '%s' must be a positive integer", option, text);
    return 0;
}

/* name -> value among pairs; returns -1 and reports when text matches none. */
typedef struct name_value {
    const char *name;
    int value;
} name_value;

static int parse_choice(const char *option, const char *text, const name_value *choices,
                        size_t n_choices, int *out)
{
    for (size_t i = 0; i < n_choices; i++) {
        if (strcasecmp(text, choices[i].name) == 0) {
            *out = choices[i].value;
            return 0;
        }
    }
    fprintf(stderr, "melspec: --%s: '%s' is not one of", option, text);
    for (size_t i = 0; i < n_choices; i++) fprintf(stderr, "%s %s", i ? "," : "", choices[i].name);
    fprintf(stderr, "\nTry 'melspec --help'.\n");
    return -1;
}

#define CHOICES(array) array, sizeof array / sizeof array[0]

static const name_value transform_names[] = {
    {"mel", MELSPEC_TRANSFORM_MEL}, {"linear", MELSPEC_TRANSFORM_LINEAR},
    {"stft", MELSPEC_TRANSFORM_STFT}, {"cqt", -1}};
/* -- librosa's parameter space (issue 15): scipy's window names, NAME:P1,P2 for parameters -- */
typedef struct window_name {
    const char *name;
    int kind;
    int n_required;      /* parameters that must be given */
    int n_params;        /* parameters it takes */
    double defaults[3];  /* scipy's defaults of the optional ones */
} window_name;

static const window_name window_names[] = {
    {"hann", MELSPEC_WINDOW_HANN, 0, 0, {0}},
    {"hamming", MELSPEC_WINDOW_HAMMING, 0, 0, {0}},
    {"rectangular", MELSPEC_WINDOW_RECTANGULAR, 0, 0, {0}},
    {"boxcar", MELSPEC_WINDOW_RECTANGULAR, 0, 0, {0}},
    {"ones", MELSPEC_WINDOW_RECTANGULAR, 0, 0, {0}},
    {"blackman", MELSPEC_WINDOW_BLACKMAN, 0, 0, {0}},
    {"blackmanharris", MELSPEC_WINDOW_BLACKMANHARRIS, 0, 0, {0}},
    {"nuttall", MELSPEC_WINDOW_NUTTALL, 0, 0, {0}},
    {"flattop", MELSPEC_WINDOW_FLATTOP, 0, 0, {0}},
    {"bartlett", MELSPEC_WINDOW_BARTLETT, 0, 0, {0}},
    {"triang", MELSPEC_WINDOW_TRIANG, 0, 0, {0}},
    {"barthann", MELSPEC_WINDOW_BARTHANN, 0, 0, {0}},
    {"bohman", MELSPEC_WINDOW_BOHMAN, 0, 0, {0}},
    {"cosine", MELSPEC_WINDOW_COSINE, 0, 0, {0}},
    {"parzen", MELSPEC_WINDOW_PARZEN, 0, 0, {0}},
    {"lanczos", MELSPEC_WINDOW_LANCZOS, 0, 0, {0}},
    {"exponential", MELSPEC_WINDOW_EXPONENTIAL, 0, 0, {0}},
    {"kaiser", MELSPEC_WINDOW_KAISER, 1, 1, {0}},
    {"gaussian", MELSPEC_WINDOW_GAUSSIAN, 1, 1, {0}},
    {"general_hamming", MELSPEC_WINDOW_GENERAL_HAMMING, 1, 1, {0}},
    {"tukey", MELSPEC_WINDOW_TUKEY, 0, 1, {0.5}},
    {"general_gaussian", MELSPEC_WINDOW_GENERAL_GAUSSIAN, 2, 2, {0}},
    {"taylor", MELSPEC_WINDOW_TAYLOR, 0, 3, {4.0, 30.0, 1.0}}};

/* --window NAME or NAME:P1[,P2[,P3]] (kaiser:8, tukey:0.25, general_gaussian:1.5,9). */
static int parse_window(const char *option, const char *text, melspec_config *c)
{
    const char *colon = strchr(text, ':');
    const size_t name_length = colon != NULL ? (size_t)(colon - text) : strlen(text);
    const window_name *w = NULL;
    for (size_t i = 0; i < sizeof window_names / sizeof window_names[0]; i++)
        if (strlen(window_names[i].name) == name_length &&
            strncasecmp(text, window_names[i].name, name_length) == 0)
            w = &window_names[i];
    if (w == NULL) {
        fprintf(stderr, "melspec: --%s: '%s' is not one of", option, text);
        for (size_t i = 0; i < sizeof window_names / sizeof window_names[0]; i++)
            fprintf(stderr, "%s %s", i ? "," : "", window_names[i].name);
        fprintf(stderr, " (parameters as NAME:P1,P2, e.g. kaiser:8)\nTry 'melspec --help'.\n");
        return -1;
    }
    double params[3] = {w->defaults[0], w->defaults[1], w->defaults[2]};
    int n_given = 0;
    for (const char *at = colon; at != NULL && n_given <= w->n_params;) {
        char *end = NULL;
        errno = 0;
        const double value = strtod(at + 1, &end);
        if (end == at + 1 || errno != 0 || !isfinite(value) || (*end != ',' && *end != '\0'))
            return usage_error("--%s: '%s' has a parameter that is not a finite number", option,
                               text);
        if (n_given < 3) params[n_given] = value;
        n_given++;
        at = *end == ',' ? end : NULL;
    }
    if (n_given < w->n_required || n_given > w->n_params)
        return usage_error(w->n_params == 0 ? "--%s: '%s': this window takes no parameter"
                                            : "--%s: '%s': wrong number of window parameters",
                           option, text);
    c->window = w->kind;
    for (int i = 0; i < 3; i++) c->window_params[i] = i < w->n_params ? params[i] : 0.0;
    return 0;
}

/* librosa.cqt's res_type values (--cqt-res-type); librosa.load's (--res-type) are all but the
 * last: the loader resamples with libsoxr only, the polyphase halving is the CQT's. */
static const name_value res_type_names[] = {
    {"soxr_hq", MELSPEC_CQT_RES_SOXR_HQ}, {"soxr_vhq", MELSPEC_CQT_RES_SOXR_VHQ},
    {"soxr_mq", MELSPEC_CQT_RES_SOXR_MQ}, {"soxr_lq", MELSPEC_CQT_RES_SOXR_LQ},
    {"soxr_qq", MELSPEC_CQT_RES_SOXR_QQ}, {"polyphase", MELSPEC_CQT_RES_POLYPHASE}};
enum { LOADER_RES_TYPES = sizeof res_type_names / sizeof res_type_names[0] - 1 };
static const name_value pad_mode_names[] = {
    {"constant", MELSPEC_PAD_CONSTANT}, {"reflect", MELSPEC_PAD_REFLECT},
    {"edge", MELSPEC_PAD_EDGE}};
static const name_value cmap_names[] = {
    {"default", CLI_CMAP_DEFAULT}, {"gray", CLI_CMAP_GRAY},
    {"grey", CLI_CMAP_GRAY}, {"gray_r", CLI_CMAP_GRAY_REVERSED}};
static const name_value norm_names[] = {
    {"slaney", MELSPEC_MEL_NORM_SLANEY}, {"none", MELSPEC_MEL_NORM_NONE}};
static const name_value scale_names[] = {
    {"none", MELSPEC_SCALING_NONE}, {"power_to_db", MELSPEC_SCALING_POWER_TO_DB},
    {"amplitude_to_db", MELSPEC_SCALING_AMPLITUDE_TO_DB}, {"log", MELSPEC_SCALING_LOG}};
static const name_value layout_names[] = {
    {"bins", MELSPEC_LAYOUT_BINS_MAJOR}, {"bins-major", MELSPEC_LAYOUT_BINS_MAJOR},
    {"frames", MELSPEC_LAYOUT_FRAMES_MAJOR}, {"frames-major", MELSPEC_LAYOUT_FRAMES_MAJOR}};
static const name_value format_names[] = {
    {"npy", CLI_FORMAT_NPY}, {"csv", CLI_FORMAT_CSV}, {"png", CLI_FORMAT_PNG},
    {"svg", CLI_FORMAT_SVG}, {"pdf", CLI_FORMAT_PDF}};

unsigned cli_format_from_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot == NULL || (slash != NULL && dot < slash)) return 0;
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (strcasecmp(dot + 1, format_names[i].name) == 0) return (unsigned)format_names[i].value;
    return 0;
}

const char *cli_format_extension(unsigned format)
{
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if ((unsigned)format_names[i].value == format) return format_names[i].name;
    return "";
}

static int parse_formats(const char *text, unsigned *formats)
{
    char buffer[128];
    if (strlen(text) >= sizeof buffer) return usage_error("--%s: '%s' is too long", "format", text);
    strcpy(buffer, text);
    *formats = 0;
    for (char *item = strtok(buffer, ","); item != NULL; item = strtok(NULL, ",")) {
        int format;
        if (parse_choice("format", item, CHOICES(format_names), &format) != 0) return -1;
        *formats |= (unsigned)format;
    }
    if (*formats == 0) return usage_error("--%s: '%s' names no format", "format", text);
    return 0;
}

static int parse_device(const char *text, melspec_config *config)
{
    if (strcasecmp(text, "auto") == 0) {
        config->backend = MELSPEC_BACKEND_AUTO;
    } else if (strcasecmp(text, "cpu") == 0) {
        config->backend = MELSPEC_BACKEND_CPU;
    } else if (strncasecmp(text, "cuda", 4) == 0 && (text[4] == '\0' || text[4] == ':')) {
        config->backend = MELSPEC_BACKEND_CUDA;
        config->device_ordinal = 0;
        if (text[4] == ':') {
            int64_t ordinal;
            if (parse_int64("device", text + 5, &ordinal) != 0) return -1;
            if (ordinal < 0 || ordinal > 1024)
                return usage_error("--%s: '%s' is not a device number", "device", text);
            config->device_ordinal = (int32_t)ordinal;
        }
    } else {
        return usage_error("--%s: '%s' is not auto, cpu, cuda or cuda:N", "device", text);
    }
    return 0;
}

/* ---- presets ------------------------------------------------------------------------------- */

int cli_apply_preset(cli_options *o, const char *name)
{
    melspec_config *c = &o->config;
    melspec_config_init(c);
    cli_cqt_options_init(&o->cqt);
    o->transform_cqt = 0;
    o->whisper_log_mel = 0;
    if (strcasecmp(name, "librosa") == 0) {
        o->preset = CLI_PRESET_LIBROSA;
        cli_preset_librosa(c);
    } else if (strcasecmp(name, "whisper") == 0) {
        o->preset = CLI_PRESET_WHISPER;
        cli_preset_whisper(c);
        o->whisper_log_mel = 1;
    } else if (strcasecmp(name, "realtime") == 0) {
        o->preset = CLI_PRESET_REALTIME;
        cli_preset_realtime(c);
    } else if (strcasecmp(name, "ccmusic-cqt") == 0) {
        o->preset = CLI_PRESET_CCMUSIC_CQT;
        cli_preset_ccmusic_cqt(c, &o->cqt);
        o->transform_cqt = 1;
    } else {
        return usage_error("--%s: '%s' is not librosa, whisper, realtime or ccmusic-cqt", "preset",
                           name);
    }
    return 0;
}

/* ---- help ---------------------------------------------------------------------------------- */

/* Prints text wrapped at width, every line after the first indented by indent. */
static void print_wrapped(const char *text, int column, int indent, int width)
{
    const char *word = text;
    while (*word != '\0') {
        const char *end = word;
        while (*end != '\0' && *end != ' ') end++;
        const int length = (int)(end - word);
        if (column > indent && column + 1 + length > width) {
            printf("\n%*s", indent, "");
            column = indent;
        } else if (column > indent) {
            putchar(' ');
            column++;
        }
        printf("%.*s", length, word);
        column += length;
        word = *end == ' ' ? end + 1 : end;
    }
    putchar('\n');
}

static void print_help(void)
{
    fputs(help_header, stdout);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const cli_option *option = &option_table[i];
        if (option->id == OPT_SECTION) {
            printf("\n%s:\n", option->long_name);
            continue;
        }
        char left[64];
        int n = snprintf(left, sizeof left, "  %s%c%s--%s%s%s", option->short_name ? "-" : "",
                         option->short_name ? option->short_name : ' ',
                         option->short_name ? ", " : "  ", option->long_name,
                         option->argument ? " " : "", option->argument ? option->argument : "");
        if (!option->short_name) {
            /* "  " + the two columns a short option would take, without a stray space. */
            n = snprintf(left, sizeof left, "      --%s%s%s", option->long_name,
                         option->argument ? " " : "", option->argument ? option->argument : "");
        }
        const int help_column = 30;
        printf("%s", left);
        int column = n;
        if (column >= help_column) {
            printf("\n%*s", help_column, "");
        } else {
            printf("%*s", help_column - column, "");
        }
        print_wrapped(option->help, help_column, help_column, 96);
    }
    fputs(help_footer, stdout);
}

/* ---- parsing ------------------------------------------------------------------------------- */

static const char *option_table_name(int id)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (option_table[i].id == id) return option_table[i].long_name;
    return "?";
}

static const cli_option *find_long(const char *name, size_t length)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const cli_option *option = &option_table[i];
        if (option->id != OPT_SECTION && strlen(option->long_name) == length &&
            strncmp(option->long_name, name, length) == 0)
            return option;
    }
    return NULL;
}

static const cli_option *find_short(char name)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (option_table[i].id != OPT_SECTION && option_table[i].short_name == name)
            return &option_table[i];
    return NULL;
}

/* One argument of argv at *index: sets *option and *value (NULL for a flag, or for a
 * positional argument, where *option is NULL and *value the argument). Advances *index. */
static int next_argument(int argc, char **argv, int *index, int *only_positional,
                         const cli_option **option, const char **value)
{
    const char *arg = argv[(*index)++];
    *option = NULL;
    *value = NULL;
    if (*only_positional || arg[0] != '-' || arg[1] == '\0') {
        *value = arg;
        return 0;
    }
    if (strcmp(arg, "--") == 0) {
        *only_positional = 1;
        return 1; /* nothing to do */
    }
    const char *inline_value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *equals = strchr(name, '=');
        const size_t length = equals ? (size_t)(equals - name) : strlen(name);
        *option = find_long(name, length);
        if (*option == NULL) {
            usage_error("unknown option '%s'%s", arg, "");
            return -1;
        }
        if (equals != NULL) inline_value = equals + 1;
    } else {
        *option = find_short(arg[1]);
        if (*option == NULL) {
            usage_error("unknown option '%s'%s", arg, "");
            return -1;
        }
        if (arg[2] != '\0') inline_value = arg + 2;
    }
    if ((*option)->argument == NULL) {
        if (inline_value != NULL) {
            usage_error("--%s takes no value (got '%s')", (*option)->long_name, inline_value);
            return -1;
        }
        return 0;
    }
    if (inline_value != NULL) {
        *value = inline_value;
    } else if (*index < argc) {
        *value = argv[(*index)++];
    } else {
        usage_error("--%s needs a value (%s)", (*option)->long_name, (*option)->argument);
        return -1;
    }
    return 0;
}

static int push_string(const char ***list, size_t *count, const char *value)
{
    const char **grown = realloc(*list, (*count + 1) * sizeof *grown);
    if (grown == NULL) {
        fprintf(stderr, "melspec: out of memory\n");
        return -1;
    }
    grown[(*count)++] = value;
    *list = grown;
    return 0;
}

static int apply_option(cli_options *o, const cli_option *option, const char *value)
{
    melspec_config *c = &o->config;
    const char *name = option->long_name;
    int choice;
    switch ((enum option_id)option->id) {
    case OPT_SECTION:
    case OPT_HELP:
    case OPT_VERSION:
    case OPT_PRESET: return 0; /* handled in the first pass */
    case OPT_GENERATE_EXAMPLE: o->generate_example = value; return 0;
    case OPT_SR:
        if (strcasecmp(value, "native") == 0 || strcasecmp(value, "none") == 0) {
            o->native_rate = 1;
            return 0;
        }
        if (parse_double(name, value, &c->sample_rate) != 0) return -1;
        if (c->sample_rate <= 0.0) return usage_error("--%s: '%s' must be positive", name, value);
        o->native_rate = 0;
        return 0;
    case OPT_RES_TYPE:
        return parse_choice(name, value, res_type_names, LOADER_RES_TYPES, &o->res_type);
    case OPT_MONO: o->mono = 1; return 0;
    case OPT_KEEP_CHANNELS: o->mono = 0; return 0;
    case OPT_OFFSET:
        if (parse_double(name, value, &o->offset) != 0) return -1;
        if (o->offset < 0.0) return usage_error("--%s: '%s' must be >= 0", name, value);
        return 0;
    case OPT_DURATION:
        if (parse_double(name, value, &o->duration) != 0) return -1;
        if (o->duration <= 0.0) return usage_error("--%s: '%s' must be > 0", name, value);
        return 0;
    case OPT_TRANSFORM:
        if (parse_choice(name, value, CHOICES(transform_names), &choice) != 0) return -1;
        o->transform_cqt = choice < 0;
        if (choice >= 0) c->transform = choice;
        return 0;
    case OPT_N_FFT: return parse_positive(name, value, &c->n_fft);
    case OPT_HOP_LENGTH: return parse_positive(name, value, &c->hop_length);
    case OPT_WIN_LENGTH: return parse_positive(name, value, &c->win_length);
    case OPT_WINDOW:
        return parse_window(name, value, c);
    case OPT_CENTER: c->center = 1; return 0;
    case OPT_NO_CENTER: c->center = 0; return 0;
    case OPT_PAD_MODE:
        if (parse_choice(name, value, CHOICES(pad_mode_names), &choice) != 0) return -1;
        c->pad_mode = choice;
        return 0;
    case OPT_POWER: return parse_double(name, value, &c->power);
    case OPT_N_MELS: return parse_positive(name, value, &c->n_mels);
    case OPT_FMIN: return parse_double(name, value, &c->fmin);
    case OPT_FMAX: return parse_double(name, value, &c->fmax);
    case OPT_HTK: c->mel_scale = MELSPEC_MEL_SCALE_HTK; return 0;
    case OPT_N_BINS: return parse_positive(name, value, &o->cqt.n_bins);
    case OPT_BINS_PER_OCTAVE: return parse_positive(name, value, &o->cqt.bins_per_octave);
    case OPT_TUNING: return parse_double(name, value, &o->cqt.tuning);
    case OPT_FILTER_SCALE: return parse_double(name, value, &o->cqt.filter_scale);
    case OPT_SPARSITY: return parse_double(name, value, &o->cqt.sparsity);
    case OPT_CQT_RES_TYPE:
        if (parse_choice(name, value, CHOICES(res_type_names), &choice) != 0) return -1;
        o->cqt.res_type = choice;
        return 0;
    case OPT_NORM:
        if (parse_choice(name, value, CHOICES(norm_names), &choice) != 0) return -1;
        c->mel_norm = choice;
        return 0;
    case OPT_DB: o->scale_request = CLI_SCALE_DB; return 0;
    case OPT_SCALE:
        if (parse_choice(name, value, CHOICES(scale_names), &choice) != 0) return -1;
        c->scaling = choice;
        o->scale_request = CLI_SCALE_EXPLICIT;
        return 0;
    case OPT_LOG:
        c->scaling = MELSPEC_SCALING_LOG;
        o->scale_request = CLI_SCALE_EXPLICIT;
        return 0;
    case OPT_LOG_OFFSET: return parse_double(name, value, &c->log_offset);
    case OPT_TOP_DB:
        if (strcasecmp(value, "none") == 0 || strcasecmp(value, "inf") == 0) {
            c->top_db = INFINITY;
            return 0;
        }
        return parse_double(name, value, &c->top_db);
    case OPT_REF:
        if (strcasecmp(value, "max") == 0) {
            c->ref_mode = MELSPEC_REF_MAX;
            return 0;
        }
        c->ref_mode = MELSPEC_REF_VALUE;
        return parse_double(name, value, &c->ref);
    case OPT_AMIN: return parse_double(name, value, &c->amin);
    case OPT_OUTPUT: return push_string(&o->outputs, &o->n_outputs, value);
    case OPT_FORMAT: return parse_formats(value, &o->formats);
    case OPT_LAYOUT:
        if (parse_choice(name, value, CHOICES(layout_names), &choice) != 0) return -1;
        c->layout = choice;
        return 0;
    case OPT_STATS: o->stats = 1; return 0;
    case OPT_QUIET: o->quiet = 1; return 0;
    case OPT_BATCH:
        if (parse_int64(name, value, &o->batch_files) != 0) return -1;
        if (o->batch_files < 1 || o->batch_files > 4096)
            return usage_error("--%s: '%s' must be between 1 and 4096", name, value);
        return 0;
    case OPT_DEVICE: return parse_device(value, c);
    case OPT_JOBS:
        if (parse_positive(name, value, &o->jobs) != 0) return -1;
        if (o->jobs > 1024) return usage_error("--%s: '%s' must be at most 1024", name, value);
        return 0;
    case OPT_SKIP_EXISTING: o->skip_existing = 1; return 0;
    case OPT_OVERWRITE: o->overwrite = 1; return 0;
    case OPT_FAILURES: o->failures_path = value; return 0;
    case OPT_STRICT: o->strict = 1; return 0;
    case OPT_WIDTH:
    case OPT_HEIGHT: {
        int64_t pixels;
        if (parse_positive(name, value, &pixels) != 0) return -1;
        if (pixels < 200 || pixels > 20000)
            return usage_error("--%s: '%s' must be between 200 and 20000 pixels", name, value);
        *(option->id == OPT_WIDTH ? &o->figure.width : &o->figure.height) = (int)pixels;
        return 0;
    }
    case OPT_DB_RANGE:
        if (parse_double(name, value, &o->figure.db_range) != 0) return -1;
        if (o->figure.db_range <= 0.0) return usage_error("--%s: '%s' must be > 0", name, value);
        return 0;
    case OPT_CMAP:
        if (parse_choice(name, value, CHOICES(cmap_names), &choice) != 0) return -1;
        o->figure.cmap = choice;
        return 0;
    case OPT_COUNT: return 0;
    }
    return 0;
}

static int conflict(const char *what)
{
    fprintf(stderr, "melspec: %s\nTry 'melspec --help'.\n", what);
    return -1;
}

/* Options that mean nothing for the chosen transform or preset are mistakes, not defaults to
 * ignore silently: each is an error naming the conflict. given[id] says what was typed. */
static int check_conflicts(const cli_options *o, const unsigned char *given)
{
    static const int mel_only[] = {OPT_N_MELS, OPT_FMAX, OPT_HTK, OPT_NORM};
    static const int stft_family_only[] = {OPT_N_FFT, OPT_WIN_LENGTH, OPT_POWER, OPT_CENTER,
                                           OPT_NO_CENTER};
    static const int cqt_only[] = {OPT_N_BINS, OPT_BINS_PER_OCTAVE, OPT_TUNING, OPT_FILTER_SCALE,
                                   OPT_SPARSITY, OPT_CQT_RES_TYPE};
    static const int db_only[] = {OPT_TOP_DB, OPT_REF, OPT_AMIN};
    static const int figure_only[] = {OPT_WIDTH, OPT_HEIGHT, OPT_DB_RANGE, OPT_CMAP};
    const melspec_config *c = &o->config;
    const char *transform = o->transform_cqt ? "cqt"
                            : c->transform == MELSPEC_TRANSFORM_MEL    ? "mel"
                            : c->transform == MELSPEC_TRANSFORM_LINEAR ? "linear"
                                                                       : "stft";
    char text[256];
#define FOR_EACH(list) for (size_t k = 0; k < sizeof list / sizeof list[0]; k++)
#define NAME_OF(id) option_table_name(id)
    if (o->transform_cqt || c->transform != MELSPEC_TRANSFORM_MEL) {
        FOR_EACH(mel_only) if (given[mel_only[k]]) {
            snprintf(text, sizeof text, "--%s applies to --transform mel only (not %s)",
                     NAME_OF(mel_only[k]), transform);
            return conflict(text);
        }
    }
    if (o->transform_cqt) {
        FOR_EACH(stft_family_only) if (given[stft_family_only[k]]) {
            snprintf(text, sizeof text, "--%s does not apply to --transform cqt",
                     NAME_OF(stft_family_only[k]));
            return conflict(text);
        }
    } else {
        FOR_EACH(cqt_only) if (given[cqt_only[k]]) {
            snprintf(text, sizeof text, "--%s applies to --transform cqt only (not %s)",
                     NAME_OF(cqt_only[k]), transform);
            return conflict(text);
        }
    }
    if (!o->transform_cqt && c->transform == MELSPEC_TRANSFORM_STFT && given[OPT_POWER])
        return conflict("--power does not apply to --transform stft (complex values)");
    if (given[OPT_DB] + given[OPT_SCALE] + given[OPT_LOG] > 1)
        return conflict("--db, --scale and --log each choose the scaling: give one of them");
    const int db = c->scaling == MELSPEC_SCALING_POWER_TO_DB ||
                   c->scaling == MELSPEC_SCALING_AMPLITUDE_TO_DB;
    if (!db) {
        FOR_EACH(db_only) if (given[db_only[k]]) {
            snprintf(text, sizeof text, "--%s applies to decibels only (--db or --scale "
                     "power_to_db/amplitude_to_db)", NAME_OF(db_only[k]));
            return conflict(text);
        }
    }
    if (given[OPT_RES_TYPE] && o->native_rate)
        return conflict("--res-type is how --sr resamples: --sr native keeps each file's rate");
    if (given[OPT_LOG_OFFSET] && c->scaling != MELSPEC_SCALING_LOG)
        return conflict("--log-offset applies to --log only");
    if (o->preset == CLI_PRESET_WHISPER && (o->transform_cqt || c->transform != MELSPEC_TRANSFORM_MEL))
        return conflict("--preset whisper is a mel spectrogram: it takes no --transform other "
                        "than mel");
    if (o->preset == CLI_PRESET_CCMUSIC_CQT && !o->transform_cqt)
        return conflict("--preset ccmusic-cqt is a constant-Q transform: it takes no --transform "
                        "other than cqt");
    if (given[OPT_SKIP_EXISTING] && given[OPT_OVERWRITE])
        return conflict("--skip-existing keeps outputs that exist and --overwrite replaces them: "
                        "give one");
    if ((given[OPT_SKIP_EXISTING] || given[OPT_OVERWRITE]) && o->n_outputs == 0)
        return conflict("--skip-existing and --overwrite need -o");
    unsigned figures = o->formats & CLI_FORMAT_FIGURES;
    for (size_t i = 0; i < o->n_outputs; i++)
        figures |= cli_format_from_path(o->outputs[i]) & CLI_FORMAT_FIGURES;
    if (!figures) {
        FOR_EACH(figure_only) if (given[figure_only[k]]) {
            snprintf(text, sizeof text, "--%s applies to figures only (.png, .svg, .pdf outputs)",
                     NAME_OF(figure_only[k]));
            return conflict(text);
        }
    }
#undef FOR_EACH
#undef NAME_OF
    return 0;
}

/* What the options mean together, once all are read. */
static int resolve(cli_options *o, const unsigned char *given)
{
    melspec_config *c = &o->config;
    if (o->scale_request == CLI_SCALE_DB) {
        if (o->transform_cqt) {
            c->scaling = MELSPEC_SCALING_AMPLITUDE_TO_DB; /* |C| is a magnitude */
        } else if (c->power == 2.0) {
            c->scaling = MELSPEC_SCALING_POWER_TO_DB;
        } else if (c->power == 1.0) {
            c->scaling = MELSPEC_SCALING_AMPLITUDE_TO_DB;
        } else {
            fprintf(stderr,
                    "melspec: --db with --power %g: decibels need power 1 (amplitude_to_db) or 2 "
                    "(power_to_db); name one with --scale\n",
                    c->power);
            return -1;
        }
    }
    if (o->generate_example != NULL) return 0;
    if (check_conflicts(o, given) != 0) return -1;
    if (o->n_inputs == 0) {
        fprintf(stderr, "melspec: no input file or directory given\nTry 'melspec --help'.\n");
        return -1;
    }
    for (size_t i = 0; i < o->n_outputs; i++) {
        const unsigned format = cli_format_from_path(o->outputs[i]);
        if (o->n_outputs > 1 && format == 0) {
            fprintf(stderr,
                    "melspec: -o %s: with several -o, each must be a file ending in .npy, .csv, "
                    ".png, .svg or .pdf\n",
                    o->outputs[i]);
            return -1;
        }
    }
    return 0;
}

cli_parse_result cli_parse_options(int argc, char **argv, cli_options *o)
{
    memset(o, 0, sizeof *o);
    melspec_config_init(&o->config);
    cli_cqt_options_init(&o->cqt);
    o->mono = 1;
    o->duration = -1.0;
    o->batch_files = 0; /* by backend: see files_per_call in main.c */

    /* First pass: --help, --version and the preset, which must apply before the rest. */
    int only_positional = 0;
    for (int i = 1; i < argc;) {
        const cli_option *option;
        const char *value;
        const int step = next_argument(argc, argv, &i, &only_positional, &option, &value);
        if (step < 0) return CLI_PARSE_USAGE_ERROR;
        if (step > 0 || option == NULL) continue;
        if (option->id == OPT_HELP) {
            print_help();
            return CLI_PARSE_EXIT_OK;
        }
        if (option->id == OPT_VERSION) return CLI_PARSE_VERSION;
        if (option->id == OPT_PRESET && cli_apply_preset(o, value) != 0)
            return CLI_PARSE_USAGE_ERROR;
    }

    unsigned char given[OPT_COUNT] = {0};
    only_positional = 0;
    for (int i = 1; i < argc;) {
        const cli_option *option;
        const char *value;
        const int step = next_argument(argc, argv, &i, &only_positional, &option, &value);
        if (step < 0) return CLI_PARSE_USAGE_ERROR;
        if (step > 0) continue;
        if (option == NULL) {
            if (push_string(&o->inputs, &o->n_inputs, value) != 0) return CLI_PARSE_USAGE_ERROR;
            continue;
        }
        if (apply_option(o, option, value) != 0) return CLI_PARSE_USAGE_ERROR;
        given[option->id] = 1;
    }
    return resolve(o, given) == 0 ? CLI_PARSE_RUN : CLI_PARSE_USAGE_ERROR;
}

void cli_options_free(cli_options *o)
{
    free(o->inputs);
    free(o->outputs);
    o->inputs = NULL;
    o->outputs = NULL;
}
