/* The melspec command, run as a user runs it, on audio files written here with libsndfile.
 *
 * Oracles: the library called directly on the same samples (decoded here with libsndfile,
 * resampled here with a direct libsoxr call), numpy's .npy format read back by hand, the PNG
 * decoded with libpng. librosa itself is the oracle of tests/cli_librosa_parity.py. */
#define _GNU_SOURCE /* mkdtemp, sched_getaffinity */
#include <math.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <png.h>
#include <sndfile.h>
#include <soxr.h>

#include "compare.h"
#include "melspec.h"

#ifndef MELSPEC_CLI_PATH
#error "MELSPEC_CLI_PATH must name the melspec executable"
#endif

static char work_dir[64];
static char out_text[1 << 16];
static char err_text[1 << 16];

/* ---- helpers ------------------------------------------------------------------------------- */

/* A path in the work directory. The result lives until eight more calls: copy it to keep it. */
static const char *path_in(const char *format, ...)
{
    static char paths[8][512];
    static int next = 0;
    char *path = paths[next++ % 8];
    char name[256];
    va_list args;
    va_start(args, format);
    vsnprintf(name, sizeof name, format, args);
    va_end(args);
    snprintf(path, sizeof paths[0], "%s/%s", work_dir, name);
    return path;
}

static void read_text(const char *path, char *text, size_t capacity)
{
    text[0] = '\0';
    FILE *file = fopen(path, "r");
    if (file == NULL) return;
    const size_t n = fread(text, 1, capacity - 1, file);
    text[n] = '\0';
    fclose(file);
}

/* Runs melspec with arguments; returns its exit status, its stdout and stderr in out_text and
 * err_text. */
static int run_cli(const char *format, ...)
{
    char arguments[2048], command[4096];
    va_list args;
    va_start(args, format);
    vsnprintf(arguments, sizeof arguments, format, args);
    va_end(args);
    snprintf(command, sizeof command, "'%s' %s >'%s/stdout.txt' 2>'%s/stderr.txt'",
             MELSPEC_CLI_PATH, arguments, work_dir, work_dir);
    const int status = system(command);
    char path[256];
    snprintf(path, sizeof path, "%s/stdout.txt", work_dir);
    read_text(path, out_text, sizeof out_text);
    snprintf(path, sizeof path, "%s/stderr.txt", work_dir);
    read_text(path, err_text, sizeof err_text);
    if (status == -1 || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

/* The command's exit status; when it is not the one expected, the failure shows what the command
 * said (a sanitizer's report among it: ThreadSanitizer exits 66). */
#define assert_exit(status, expected)                                                           \
    do {                                                                                        \
        const int got_status = (status);                                                        \
        if (got_status != (expected))                                                           \
            fail_msg("melspec exited %d, not %d; it said:\n%s", got_status, (expected), err_text); \
    } while (0)

/* A signal that is not zero anywhere in particular: two tones, a sweep and noise. */
static float *make_signal(int64_t n_frames, int channels, double sample_rate, unsigned seed)
{
    float *x = malloc((size_t)(n_frames * channels) * sizeof *x);
    assert_non_null(x);
    uint32_t state = 2463534242u + seed;
    for (int64_t t = 0; t < n_frames; t++) {
        const double time = (double)t / sample_rate;
        for (int c = 0; c < channels; c++) {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            const double noise = (double)state / 4294967296.0 - 0.5;
            const double f = 220.0 * (c + 1) + 30.0 * seed;
            x[t * channels + c] =
                (float)(0.3 * sin(2 * M_PI * f * time) + 0.2 * sin(2 * M_PI * 3000.0 * time * time) +
                        0.05 * noise);
        }
    }
    return x;
}

static void write_audio(const char *path, int format, int sample_rate, int channels,
                        const float *interleaved, int64_t n_frames)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = sample_rate;
    info.channels = channels;
    info.format = format;
    SNDFILE *file = sf_open(path, SFM_WRITE, &info);
    if (file == NULL) fail_msg("cannot write %s: %s", path, sf_strerror(NULL));
    assert_int_equal(sf_writef_float(file, interleaved, n_frames), n_frames);
    assert_int_equal(sf_close(file), 0);
}

/* Decodes path with libsndfile: interleaved floats, as soundfile.read gives them. */
static float *decode(const char *path, int *channels, int64_t *n_frames, int *sample_rate)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *file = sf_open(path, SFM_READ, &info);
    assert_non_null(file);
    float *x = malloc((size_t)(info.frames * info.channels) * sizeof *x);
    assert_non_null(x);
    *n_frames = sf_readf_float(file, x, info.frames);
    *channels = info.channels;
    *sample_rate = info.samplerate;
    sf_close(file);
    return x;
}

/* librosa.to_mono: the mean of the channels, summed in float32 in channel order. */
static float *mono_mix(const float *interleaved, int channels, int64_t n_frames)
{
    float *y = malloc((size_t)n_frames * sizeof *y);
    assert_non_null(y);
    for (int64_t t = 0; t < n_frames; t++) {
        float sum = interleaved[t * channels];
        for (int c = 1; c < channels; c++) sum += interleaved[t * channels + c];
        y[t] = channels == 1 ? sum : sum / (float)channels;
    }
    return y;
}

/* The library on n_signals signals: the reference for what the command writes. */
static float *library_result(const melspec_config *config, const float *x, int64_t n_signals,
                             int64_t n_samples, int64_t *n_bins, int64_t *n_frames)
{
    char why[256];
    melspec_plan *plan = NULL;
    if (melspec_plan_create(&plan, config, why, sizeof why) != MELSPEC_OK) fail_msg("%s", why);
    size_t bytes;
    assert_int_equal(melspec_plan_output_shape(plan, n_samples, n_bins, n_frames), MELSPEC_OK);
    assert_int_equal(melspec_plan_output_bytes(plan, n_signals, n_samples, &bytes), MELSPEC_OK);
    float *out = malloc(bytes);
    assert_non_null(out);
    assert_int_equal(melspec_execute(plan, x, n_signals, n_samples, out, bytes), MELSPEC_OK);
    melspec_plan_destroy(plan);
    return out;
}

typedef struct npy_array {
    char descr[8];
    int n_axes;
    int64_t shape[4];
    size_t n_values; /* product of shape */
    float *data;     /* n_values floats (2 n_values for complex) */
} npy_array;

/* Reads a .npy by the format's definition (magic, version 1.0, header dict, raw data). */
static npy_array read_npy(const char *path)
{
    npy_array a;
    memset(&a, 0, sizeof a);
    FILE *file = fopen(path, "rb");
    if (file == NULL) fail_msg("%s was not written", path);
    unsigned char preamble[10];
    assert_int_equal(fread(preamble, 1, 10, file), 10);
    assert_memory_equal(preamble, "\x93NUMPY\x01\x00", 8);
    const size_t header_length = (size_t)preamble[8] | (size_t)preamble[9] << 8;
    assert_int_equal((10 + header_length) % 64, 0); /* numpy aligns the data to 64 bytes */
    char header[1024];
    assert_true(header_length < sizeof header);
    assert_int_equal(fread(header, 1, header_length, file), header_length);
    header[header_length] = '\0';
    assert_int_equal(header[header_length - 1], '\n');
    assert_non_null(strstr(header, "'fortran_order': False"));
    const char *descr = strstr(header, "'descr': '");
    assert_non_null(descr);
    sscanf(descr + 10, "%3s", a.descr);
    const char *shape = strstr(header, "'shape': (");
    assert_non_null(shape);
    shape += 10;
    a.n_values = 1;
    while (*shape != ')') {
        char *end;
        a.shape[a.n_axes] = strtoll(shape, &end, 10);
        assert_true(end != shape);
        a.n_values *= (size_t)a.shape[a.n_axes++];
        shape = end;
        while (*shape == ',' || *shape == ' ') shape++;
    }
    const size_t floats = a.n_values * (strcmp(a.descr, "<c8") == 0 ? 2 : 1);
    a.data = malloc(floats * sizeof *a.data + 1);
    assert_non_null(a.data);
    assert_int_equal(fread(a.data, sizeof *a.data, floats, file), floats);
    char extra;
    assert_int_equal(fread(&extra, 1, 1, file), 0); /* nothing after the data */
    fclose(file);
    return a;
}

/* Two processes (the command and this one, or two runs of the command) compute the same bits,
 * except in FFTW builds, where each process plans its FFTs by timing them
 * (tests/cli/CMakeLists.txt). */
#ifdef MELSPEC_TEST_PLANS_VARY_ACROSS_PROCESSES
static const double across_processes = 1e-5; /* dB of quiet bins magnifies rounding */
#else
static const double across_processes = 0.0;
#endif

static void assert_close(const float *got, const float *want, size_t n, double tolerance)
{
    const compare_result r = compare_floats(got, want, n);
    if (!compare_ok(&r, tolerance)) {
        char text[256];
        fail_msg("%s > %g", compare_describe(&r, text, sizeof text), tolerance);
    }
}

static int file_exists(const char *path)
{
    struct stat status;
    return stat(path, &status) == 0 && S_ISREG(status.st_mode);
}

/* ---- setup --------------------------------------------------------------------------------- */

static int make_work_dir(void **state)
{
    (void)state;
    snprintf(work_dir, sizeof work_dir, "/tmp/melspec-test-cli-XXXXXX");
    return mkdtemp(work_dir) == NULL ? -1 : 0;
}

static int remove_work_dir(void **state)
{
    (void)state;
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", work_dir);
    return system(command) == 0 ? 0 : -1;
}

/* ---- the .npy output equals the library on the same samples -------------------------------- */

static void check_format_matches_library(int format, const char *extension, double tolerance)
{
    const int rate = 22050, channels = 2;
    const int64_t n = 2 * rate + 123;
    float *x = make_signal(n, channels, rate, 1);
    const char *audio = path_in("tone.%s", extension);
    write_audio(audio, format, rate, channels, x, n);
    const char *npy = path_in("tone_%s.npy", extension);
    assert_exit(run_cli("-q '%s' -o '%s'", audio, npy), 0);

    /* What the library gives on the decoded, mixed samples with librosa's defaults. */
    int decoded_channels, decoded_rate;
    int64_t decoded_frames;
    float *decoded = decode(audio, &decoded_channels, &decoded_frames, &decoded_rate);
    float *mono = mono_mix(decoded, decoded_channels, decoded_frames);
    melspec_config config;
    melspec_config_init(&config);
    int64_t n_bins, n_frames;
    float *want = library_result(&config, mono, 1, decoded_frames, &n_bins, &n_frames);

    npy_array got = read_npy(npy);
    assert_string_equal(got.descr, "<f4");
    assert_int_equal(got.n_axes, 2);
    assert_int_equal(got.shape[0], 128);
    assert_int_equal(got.shape[0], n_bins);
    assert_int_equal(got.shape[1], n_frames);
    assert_close(got.data, want, got.n_values, tolerance);
    free(got.data);
    free(want);
    free(mono);
    free(decoded);
    free(x);
}

static void test_wav_equals_library(void **state)
{
    (void)state;
    check_format_matches_library(SF_FORMAT_WAV | SF_FORMAT_PCM_16, "wav", across_processes);
}

static void test_flac_equals_library(void **state)
{
    (void)state;
    check_format_matches_library(SF_FORMAT_FLAC | SF_FORMAT_PCM_24, "flac", across_processes);
}

static void test_ogg_equals_library(void **state)
{
    (void)state;
    /* A lossy decoder: same decoder here and in the command, so the same samples. */
    check_format_matches_library(SF_FORMAT_OGG | SF_FORMAT_VORBIS, "ogg", across_processes);
}

/* ---- channels, offset/duration, layout, transforms ------------------------------------------ */

static void test_keep_channels(void **state)
{
    (void)state;
    const int rate = 16000, channels = 2;
    const int64_t n = rate;
    float *x = make_signal(n, channels, rate, 2);
    const char *audio = path_in("stereo.wav");
    write_audio(audio, SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, channels, x, n);
    const char *npy = path_in("stereo.npy");
    assert_exit(run_cli("-q --sr native --keep-channels --n-mels 40 '%s' -o '%s'", audio, npy),
                     0);
    /* librosa.load(mono=False): (channels, n) -> melspectrogram (channels, n_mels, frames). */
    float *planar = malloc((size_t)(channels * n) * sizeof *planar);
    for (int c = 0; c < channels; c++)
        for (int64_t t = 0; t < n; t++) planar[c * n + t] = x[t * channels + c];
    melspec_config config;
    melspec_config_init(&config);
    config.sample_rate = rate;
    config.n_mels = 40;
    int64_t n_bins, n_frames;
    float *want = library_result(&config, planar, channels, n, &n_bins, &n_frames);
    npy_array got = read_npy(npy);
    assert_int_equal(got.n_axes, 3);
    assert_int_equal(got.shape[0], 2);
    assert_int_equal(got.shape[1], 40);
    assert_int_equal(got.shape[2], n_frames);
    assert_close(got.data, want, got.n_values, across_processes);
    free(got.data);
    free(want);
    free(planar);
    free(x);
}

static void test_offset_duration_and_frames_layout(void **state)
{
    (void)state;
    const int rate = 22050;
    const int64_t n = 3 * rate;
    float *x = make_signal(n, 1, rate, 3);
    const char *audio = path_in("long.wav");
    write_audio(audio, SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, 1, x, n);
    const char *npy = path_in("slice.npy");
    assert_exit(run_cli("-q --offset 0.5 --duration 1.25 --layout frames --n-fft 1024 "
                             "--hop-length 256 --power 1 --db '%s' -o '%s'",
                             audio, npy),
                     0);
    /* soundfile: seek(int(0.5 * 22050)), read int(1.25 * 22050) frames. */
    const int64_t start = (int64_t)(0.5 * rate), length = (int64_t)(1.25 * rate);
    melspec_config config;
    melspec_config_init(&config);
    config.n_fft = 1024;
    config.hop_length = 256;
    config.power = 1.0;
    config.scaling = MELSPEC_SCALING_AMPLITUDE_TO_DB;
    config.layout = MELSPEC_LAYOUT_FRAMES_MAJOR;
    int64_t n_bins, n_frames;
    float *want = library_result(&config, x + start, 1, length, &n_bins, &n_frames);
    npy_array got = read_npy(npy);
    assert_int_equal(got.n_axes, 2);
    assert_int_equal(got.shape[0], n_frames); /* (n_frames, n_bins) */
    assert_int_equal(got.shape[1], n_bins);
    assert_close(got.data, want, got.n_values, across_processes);
    free(got.data);
    free(want);
    free(x);
}

/* -- librosa's parameter space (issue 15): --window NAME:PARAMS is the library's window -- */
static void test_window_with_parameters(void **state)
{
    (void)state;
    const int rate = 16000;
    const int64_t n = rate;
    float *x = make_signal(n, 1, rate, 5);
    const char *audio = path_in("window.wav");
    write_audio(audio, SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, 1, x, n);
    const char *npy = path_in("window.npy");
    assert_exit(run_cli("-q --sr native --n-fft 512 --window kaiser:8 '%s' -o '%s'", audio,
                             npy),
                     0);
    melspec_config config;
    melspec_config_init(&config);
    config.sample_rate = rate;
    config.n_fft = 512;
    config.window = MELSPEC_WINDOW_KAISER;
    config.window_params[0] = 8.0;
    int64_t n_bins, n_frames;
    float *want = library_result(&config, x, 1, n, &n_bins, &n_frames);
    npy_array got = read_npy(npy);
    assert_int_equal(got.n_values, n_bins * n_frames);
    assert_close(got.data, want, got.n_values, across_processes);
    free(got.data);
    free(want);
    free(x);

    assert_exit(run_cli("--window kaiser '%s'", audio), 2); /* beta is required */
    assert_non_null(strstr(err_text, "--window"));
    assert_exit(run_cli("--window hann:3 '%s'", audio), 2);
    assert_exit(run_cli("--window tukey:x '%s'", audio), 2);
    assert_exit(run_cli("--window nope '%s'", audio), 2);
    assert_non_null(strstr(err_text, "blackmanharris"));
}

static void test_stft_is_complex64(void **state)
{
    (void)state;
    const int rate = 8000;
    const int64_t n = 4000;
    float *x = make_signal(n, 1, rate, 4);
    const char *audio = path_in("short.wav");
    write_audio(audio, SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, 1, x, n);
    const char *npy = path_in("stft.npy");
    assert_exit(run_cli("-q --sr native --transform stft --n-fft 256 '%s' -o '%s'", audio, npy),
                     0);
    melspec_config config;
    melspec_config_init(&config);
    config.sample_rate = rate;
    config.transform = MELSPEC_TRANSFORM_STFT;
    config.n_fft = 256;
    int64_t n_bins, n_frames;
    float *want = library_result(&config, x, 1, n, &n_bins, &n_frames);
    npy_array got = read_npy(npy);
    assert_string_equal(got.descr, "<c8");
    assert_int_equal(got.shape[0], 129);
    assert_int_equal(got.shape[1], n_frames);
    assert_close(got.data, want, 2 * got.n_values, across_processes);
    free(got.data);
    free(want);
    free(x);
}

/* ---- resampling: libsoxr HQ, called directly here ------------------------------------------ */

static void test_resampling_is_soxr_hq(void **state)
{
    (void)state;
    const int native = 44100, target = 16000;
    const int64_t n = native + 777;
    float *x = make_signal(n, 1, native, 5);
    const char *audio = path_in("hirate.wav");
    write_audio(audio, SF_FORMAT_WAV | SF_FORMAT_FLOAT, native, 1, x, n);
    const char *npy = path_in("resampled.npy");
    assert_exit(run_cli("-q --sr %d --n-fft 512 --n-mels 64 '%s' -o '%s'", target, audio, npy),
                     0);

    /* soxr HQ in one shot, then librosa's fix_length to ceil(n * target / native). */
    const int64_t n_out = (int64_t)ceil((double)n * ((double)target / native));
    float *y = calloc((size_t)n_out + 64, sizeof *y);
    size_t done = 0;
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
    assert_null(soxr_oneshot(native, target, 1, x, (size_t)n, NULL, y, (size_t)n_out + 64, &done,
                             &io, &quality, NULL));
    assert_true(done >= (size_t)n_out - 1);
    for (size_t i = done; i < (size_t)n_out; i++) y[i] = 0.0f;

    melspec_config config;
    melspec_config_init(&config);
    config.sample_rate = target;
    config.n_fft = 512;
    config.n_mels = 64;
    int64_t n_bins, n_frames;
    float *want = library_result(&config, y, 1, n_out, &n_bins, &n_frames);
    npy_array got = read_npy(npy);
    assert_int_equal(got.shape[1], n_frames);
    assert_close(got.data, want, got.n_values, 1e-5);
    free(got.data);
    free(want);
    free(y);
    free(x);
}

/* ---- Whisper: the preset's post-processing against its definition, in double ------------- */

static void test_whisper_preset(void **state)
{
    (void)state;
    const int rate = 16000;
    const int64_t n = rate * 2 + 50;
    float *x = make_signal(n, 1, rate, 6);
    const char *audio = path_in("speech.wav");
    write_audio(audio, SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, 1, x, n);
    const char *npy = path_in("whisper.npy");
    assert_exit(run_cli("-q --preset whisper '%s' -o '%s'", audio, npy), 0);

    /* whisper.audio.log_mel_spectrogram: power mel (reflect padding), drop the last frame,
     * log10(max(S, 1e-10)), max(., max - 8), (x + 4) / 4. */
    melspec_config config;
    melspec_config_init(&config);
    config.sample_rate = rate;
    config.n_fft = 400;
    config.hop_length = 160;
    config.n_mels = 80;
    config.pad_mode = MELSPEC_PAD_REFLECT;
    int64_t n_bins, n_frames;
    float *mel = library_result(&config, x, 1, n, &n_bins, &n_frames);
    const int64_t kept = n_frames - 1;
    double *want = malloc((size_t)(n_bins * kept) * sizeof *want);
    double peak = -INFINITY;
    for (int64_t b = 0; b < n_bins; b++)
        for (int64_t f = 0; f < kept; f++) {
            const double v = log10(fmax((double)mel[b * n_frames + f], 1e-10));
            want[b * kept + f] = v;
            peak = fmax(peak, v);
        }
    for (int64_t i = 0; i < n_bins * kept; i++) want[i] = (fmax(want[i], peak - 8.0) + 4.0) / 4.0;

    npy_array got = read_npy(npy);
    assert_int_equal(got.shape[0], 80);
    assert_int_equal(got.shape[1], kept);
    const compare_result r = compare_floats_to_doubles(got.data, want, got.n_values);
    char text[256];
    if (!compare_ok(&r, 1e-5)) fail_msg("%s", compare_describe(&r, text, sizeof text));
    free(got.data);
    free(want);
    free(mel);
    free(x);
}

/* ---- .csv and .png ------------------------------------------------------------------------- */

static void test_csv_matches_npy(void **state)
{
    (void)state;
    const int rate = 22050;
    float *x = make_signal(rate / 2, 1, rate, 7);
    const char *audio = path_in("csv.wav");
    write_audio(audio, SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, 1, x, rate / 2);
    const char *npy = path_in("csv.npy");
    const char *csv = path_in("csv.csv");
    assert_exit(run_cli("-q --n-mels 32 --db '%s' -o '%s' -o '%s'", audio, npy, csv), 0);
    npy_array a = read_npy(npy);
    FILE *file = fopen(csv, "r");
    assert_non_null(file);
    float *values = malloc(a.n_values * sizeof *values);
    int64_t rows = 0;
    size_t count = 0;
    char line[1 << 15];
    while (fgets(line, sizeof line, file) != NULL) {
        int64_t columns = 0;
        for (char *p = line; *p != '\0' && *p != '\n';) {
            char *end;
            const float v = strtof(p, &end);
            assert_true(end != p);
            assert_true(count < a.n_values);
            values[count++] = v;
            columns++;
            p = *end == ',' ? end + 1 : end;
        }
        assert_int_equal(columns, a.shape[1]);
        rows++;
    }
    fclose(file);
    assert_int_equal(rows, a.shape[0]);
    assert_int_equal(count, a.n_values);
    assert_close(values, a.data, a.n_values, 0.0); /* %.9g round-trips float32 */
    free(values);
    free(a.data);
    free(x);
}

typedef struct png_picture {
    png_uint_32 width, height;
    int color_type, bit_depth;
    unsigned char *pixels; /* RGB rows, top first */
} png_picture;

static png_picture read_png(const char *path)
{
    png_picture picture;
    memset(&picture, 0, sizeof picture);
    FILE *file = fopen(path, "rb");
    if (file == NULL) fail_msg("%s was not written", path);
    unsigned char signature[8];
    assert_int_equal(fread(signature, 1, 8, file), 8);
    assert_int_equal(png_sig_cmp(signature, 0, 8), 0);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png))) fail_msg("libpng could not decode %s", path);
    png_init_io(png, file);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    picture.width = png_get_image_width(png, info);
    picture.height = png_get_image_height(png, info);
    picture.color_type = png_get_color_type(png, info);
    picture.bit_depth = png_get_bit_depth(png, info);
    assert_int_equal(picture.color_type, PNG_COLOR_TYPE_RGB);
    assert_int_equal(picture.bit_depth, 8);
    picture.pixels = malloc((size_t)picture.width * picture.height * 3);
    for (png_uint_32 y = 0; y < picture.height; y++)
        png_read_row(png, picture.pixels + (size_t)y * picture.width * 3, NULL);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(file);
    return picture;
}

/* The figure's layout, as tools/cli/figure.c draws it (margins in pixels). */
enum { FIG_LEFT = 78, FIG_RIGHT = 96, FIG_TOP = 36, FIG_BOTTOM = 50, FIG_GAP = 14, FIG_BAR_GAP = 16 };

static const unsigned char *pixel_at(const png_picture *p, double x, double y)
{
    return p->pixels + ((size_t)y * p->width + (size_t)x) * 3;
}

static void test_png_picture(void **state)
{
    (void)state;
    /* A low tone alone, drawn in gray so that each cell's shade is its value's. */
    const int rate = 22050;
    const int64_t n = rate;
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t t = 0; t < n; t++)
        x[t] = (float)(0.5 * sin(2 * M_PI * 150.0 * (double)t / rate) +
                       0.01 * sin(2 * M_PI * 3000.0 * (double)t * (double)t / rate / rate));
    const char *audio = path_in("low.wav");
    write_audio(audio, SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, 1, x, n);
    const char *png_path = path_in("low.png");
    const char *npy_path = path_in("low_values.npy");
    assert_exit(run_cli("-q --n-mels 64 --cmap gray '%s' -o '%s' -o '%s'", audio, png_path,
                             npy_path),
                     0);
    png_picture p = read_png(png_path);
    assert_int_equal(p.width, 1000);
    assert_int_equal(p.height, 400);
    const double pw = 1000 - FIG_LEFT - FIG_RIGHT, ph = 400 - FIG_TOP - FIG_BOTTOM;
    /* Axes: the frame around the data is black; the margins hold dark tick labels. */
    const unsigned char *corner = pixel_at(&p, FIG_LEFT - 1, FIG_TOP + ph / 2);
    assert_true(corner[0] < 80);
    int dark_left = 0, dark_below = 0, dark_title = 0;
    for (int yy = FIG_TOP; yy < FIG_TOP + (int)ph; yy++)
        for (int xx = 20; xx < FIG_LEFT - 8; xx++) dark_left += pixel_at(&p, xx, yy)[0] < 128;
    for (int yy = FIG_TOP + (int)ph + 8; yy < 400; yy++)
        for (int xx = FIG_LEFT; xx < FIG_LEFT + (int)pw; xx++)
            dark_below += pixel_at(&p, xx, yy)[0] < 128;
    for (int yy = 0; yy < FIG_TOP - 4; yy++)
        for (int xx = 0; xx < 1000; xx++) dark_title += pixel_at(&p, xx, yy)[0] < 128;
    assert_true(dark_left > 50);  /* Hz labels */
    assert_true(dark_below > 50); /* seconds and "Time (s)" */
    assert_true(dark_title > 50); /* the title */
    /* The colour bar: white at its top (the loudest, gray), black at its bottom. */
    const double bar_x = FIG_LEFT + pw + FIG_BAR_GAP + 9;
    assert_true(pixel_at(&p, bar_x, FIG_TOP + 3)[0] > 240);
    assert_true(pixel_at(&p, bar_x, FIG_TOP + ph - 3)[0] < 15);
    /* The data: each cell's centre has the shade of its value, 80 dB below the top to black. */
    npy_array values = read_npy(npy_path);
    const int64_t n_bins = values.shape[0], n_frames = values.shape[1];
    assert_int_equal(n_bins, 64);
    double top = -INFINITY;
    for (size_t i = 0; i < values.n_values; i++)
        top = fmax(top, 10.0 * log10(fmax((double)values.data[i], 1e-30)));
    int checked = 0;
    for (int64_t b = 0; b < n_bins; b++) {
        for (int64_t t = 0; t < n_frames; t++) {
            const double db = 10.0 * log10(fmax((double)values.data[b * n_frames + t], 1e-30));
            double shade = (db - (top - 80.0)) / 80.0;
            shade = shade < 0 ? 0 : shade > 1 ? 1 : shade;
            const double cx = FIG_LEFT + ((double)t + 0.5) * pw / (double)n_frames;
            const double cy = FIG_TOP + ph - ((double)b + 0.5) * ph / (double)n_bins;
            const int got = pixel_at(&p, cx, cy)[0];
            if (abs(got - (int)lround(shade * 255.0)) > 1)
                fail_msg("cell (bin %lld, frame %lld): shade %d, want %ld", (long long)b,
                         (long long)t, got, lround(shade * 255.0));
            checked++;
        }
    }
    assert_int_equal(checked, 64 * n_frames);
    free(values.data);
    free(p.pixels);

    /* With --keep-channels: one panel per channel, separated by a white gap. */
    float *stereo = make_signal(n, 2, rate, 8);
    const char *audio2 = path_in("stereo_png.wav");
    write_audio(audio2, SF_FORMAT_WAV | SF_FORMAT_PCM_16, rate, 2, stereo, n);
    const char *png2 = path_in("stereo.png");
    assert_exit(run_cli("-q --keep-channels --n-mels 50 --width 640 --height 600 '%s' -o '%s'",
                             audio2, png2),
                     0);
    p = read_png(png2);
    assert_int_equal(p.width, 640);
    assert_int_equal(p.height, 600);
    const double panel = (600.0 - FIG_TOP - FIG_BOTTOM - FIG_GAP) / 2.0;
    const unsigned char *gap = pixel_at(&p, FIG_LEFT + 100, FIG_TOP + panel + FIG_GAP / 2.0);
    assert_true(gap[0] == 255 && gap[1] == 255 && gap[2] == 255);
    const unsigned char *inside = pixel_at(&p, FIG_LEFT + 100, FIG_TOP + panel + FIG_GAP + 20);
    assert_false(inside[0] == 255 && inside[1] == 255 && inside[2] == 255);
    free(p.pixels);
    free(stereo);
    free(x);
}

/* Dark pixels over the colour bar, right of the title: where a log figure names its values. */
static int dark_over_the_bar(const png_picture *p)
{
    int dark = 0;
    for (int yy = FIG_TOP - 16; yy < FIG_TOP - 6; yy++) /* above the top tick's label */
        for (png_uint_32 xx = p->width - FIG_RIGHT; xx < p->width; xx++)
            dark += pixel_at(p, xx, yy)[0] < 128;
    return dark;
}

static void test_log_figures_name_their_values(void **state)
{
    (void)state;
    const int rate = 16000;
    float *x = make_signal(rate, 1, rate, 3);
    const char *audio = path_in("log_figure.wav");
    write_audio(audio, SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, 1, x, rate);
    free(x);
    /* Decibels say so at every tick; Whisper's values and a natural log are named over the bar. */
    const char *options[] = {"--db", "--preset whisper", "--log"};
    const int named[] = {0, 1, 1};
    for (size_t i = 0; i < sizeof options / sizeof *options; i++) {
        const char *figure = path_in("log_figure.png");
        assert_exit(run_cli("-q --overwrite %s '%s' -o '%s'", options[i], audio, figure), 0);
        png_picture p = read_png(figure);
        const int dark = dark_over_the_bar(&p);
        if (named[i] ? dark < 30 : dark != 0)
            fail_msg("%s: %d dark pixels over the colour bar", options[i], dark);
        free(p.pixels);
    }
}

/* ---- a directory of good and broken files -------------------------------------------------- */

static void write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(bytes, 1, n, file), n);
    fclose(file);
}

static void truncate_copy(const char *from, const char *to, double fraction)
{
    FILE *file = fopen(from, "rb");
    assert_non_null(file);
    static unsigned char bytes[1 << 20];
    const size_t n = fread(bytes, 1, sizeof bytes, file);
    fclose(file);
    write_bytes(to, bytes, (size_t)((double)n * fraction));
}

static int count_lines_naming(const char *text, const char *name)
{
    int count = 0;
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        const size_t length = end ? (size_t)(end - line) : strlen(line);
        char copy[1024];
        snprintf(copy, sizeof copy, "%.*s", (int)(length < sizeof copy ? length : sizeof copy - 1),
                 line);
        if (strstr(copy, name) != NULL) count++;
        line = end ? end + 1 : NULL;
    }
    return count;
}

static void test_directory_with_broken_files(void **state)
{
    (void)state;
    char root[512], out[512], command[1200];
    snprintf(root, sizeof root, "%s", path_in("corpus"));
    snprintf(command, sizeof command, "mkdir -p '%s/sub/deeper'", root);
    assert_int_equal(system(command), 0);
    const int rate = 22050;
    const int64_t n = rate;
    float *x = make_signal(n, 1, rate, 9);
    write_audio(path_in("corpus/good.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, rate, 1, x, n);
    write_audio(path_in("corpus/sub/good.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, rate, 1, x, n);
    write_audio(path_in("corpus/sub/deeper/good.ogg"), SF_FORMAT_OGG | SF_FORMAT_VORBIS, rate, 1,
                x, n);
    write_bytes(path_in("corpus/empty.wav"), "", 0);
    truncate_copy(path_in("corpus/good.wav"), path_in("corpus/cut.wav"), 0.5);
    truncate_copy(path_in("corpus/sub/good.flac"), path_in("corpus/sub/cut.flac"), 0.5);
    truncate_copy(path_in("corpus/good.wav"), path_in("corpus/header_only.wav"), 0.0005);
    unsigned char noise[4096];
    uint32_t state_bits = 12345u;
    for (size_t i = 0; i < sizeof noise; i++) {
        state_bits = state_bits * 1664525u + 1013904223u;
        noise[i] = (unsigned char)(state_bits >> 24);
    }
    write_bytes(path_in("corpus/random.mp3"), noise, sizeof noise);
    write_bytes(path_in("corpus/notes.txt"), "not audio, not looked at\n", 25);

    snprintf(out, sizeof out, "%s", path_in("features"));
    const int status = run_cli("'%s' -o '%s' --format npy,png --n-mels 32", root, out);
    assert_exit(status, 1);
    assert_true(file_exists(path_in("features/good.npy")));
    assert_true(file_exists(path_in("features/good.png")));
    assert_true(file_exists(path_in("features/sub/good.npy")));
    assert_true(file_exists(path_in("features/sub/deeper/good.npy")));
    assert_false(file_exists(path_in("features/empty.npy")));
    /* Cut short: what is there is read, as librosa.load does, with a warning. */
    assert_true(file_exists(path_in("features/cut.npy")));
    assert_true(file_exists(path_in("features/sub/cut.npy")));
    assert_false(file_exists(path_in("features/random.npy")));
    const char *broken[] = {"empty.wav", "cut.wav", "cut.flac", "header_only.wav", "random.mp3"};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++)
        if (count_lines_naming(err_text, broken[i]) != 1)
            fail_msg("%s is not reported on exactly one line:\n%s", broken[i], err_text);
    assert_int_equal(count_lines_naming(err_text, "good."), 0);
    assert_int_equal(count_lines_naming(err_text, "notes.txt"), 0);
    assert_non_null(strstr(err_text, "5 file(s) processed"));
    assert_non_null(strstr(err_text, "3 failed"));
    assert_int_equal(count_lines_naming(err_text, "warning: truncated"), 2);
    /* The good ones equal single-file runs. */
    npy_array whole = read_npy(path_in("features/sub/good.npy"));
    assert_exit(run_cli("-q '%s' -o '%s' --n-mels 32", path_in("corpus/sub/good.flac"),
                             path_in("single.npy")),
                     0);
    npy_array single = read_npy(path_in("single.npy"));
    assert_int_equal(whole.n_values, single.n_values);
    assert_close(whole.data, single.data, whole.n_values, across_processes);
    free(whole.data);
    free(single.data);
    free(x);
}

/* ---- batches of equal-length files give what files one by one give ------------------------ */

static void test_batches_equal_single_files(void **state)
{
    (void)state;
    char command[600];
    snprintf(command, sizeof command, "mkdir -p '%s/clips'", work_dir);
    assert_int_equal(system(command), 0);
    const int rate = 16000;
    for (unsigned i = 0; i < 5; i++) {
        const int64_t n = i == 3 ? rate / 2 : rate; /* one file of another length splits it */
        float *x = make_signal(n, 1, rate, 20 + i);
        write_audio(path_in("clips/clip%u.wav", i), SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, 1, x,
                    n);
        free(x);
    }
    assert_exit(run_cli("-q --preset realtime --batch 4 '%s/clips' -o '%s/batched'",
                             work_dir, work_dir),
                     0);
    assert_exit(run_cli("-q --preset realtime --batch 1 '%s/clips' -o '%s/single'",
                             work_dir, work_dir),
                     0);
    for (unsigned i = 0; i < 5; i++) {
        npy_array a = read_npy(path_in("batched/clip%u.npy", i));
        npy_array b = read_npy(path_in("single/clip%u.npy", i));
        assert_int_equal(a.shape[0], 80);
        assert_int_equal(a.n_values, b.n_values);
        assert_close(a.data, b.data, a.n_values, across_processes);
        free(a.data);
        free(b.data);
    }
}

/* ---- --jobs: any number of workers gives the same files, lines and file modes -------------- */

static void test_jobs_agree(void **state)
{
    (void)state;
    char command[600];
    snprintf(command, sizeof command, "mkdir -p '%s/many'", work_dir);
    assert_int_equal(system(command), 0);
    const int rate = 16000;
    enum { n_files = 23 };
    for (unsigned i = 0; i < n_files; i++) {
        /* runs of equal lengths broken by others, so that batches and claims end anywhere */
        const int64_t n = i % 5 == 0 ? rate / 2 + 37 * (int64_t)i : (int64_t)rate;
        float *x = make_signal(n, 1, rate, 40 + i);
        write_audio(path_in("many/clip%02u.wav", i), SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, 1,
                    x, n);
        free(x);
    }
    /* One worker, the default batch: one file per library call on the CPU backend. */
    setenv("MELSPEC_CLI_TIMING", "1", 1);
    assert_exit(run_cli("--stats --preset realtime --device cpu --jobs 1 '%s/many' -o '%s/j1'",
                             work_dir, work_dir),
                     0);
    static char stats_one_job[sizeof out_text];
    memcpy(stats_one_job, out_text, sizeof out_text);
    assert_non_null(strstr(stats_one_job, "clip22.wav: (80, 81) float32"));
    assert_non_null(strstr(err_text, "worker 0: 23 file(s) in 23 library call(s)"));

    /* Three workers (more than this machine may have cores), --batch 4, a umask. */
    const mode_t saved_mask = umask(027);
    const int status = run_cli("--stats --preset realtime --jobs 3 --batch 4 '%s/many' -o '%s/j3'",
                               work_dir, work_dir);
    unsetenv("MELSPEC_CLI_TIMING");
    umask(saved_mask);
    assert_exit(status, 0);
#ifndef MELSPEC_TEST_PLANS_VARY_ACROSS_PROCESSES
    assert_string_equal(out_text, stats_one_job); /* every line, in input order */
#else
    /* every line, in input order, up to the statistics, whose last digits may differ */
    for (const char *a = out_text, *b = stats_one_job; *a != '\0' || *b != '\0';) {
        const char *a_min = strstr(a, " min "), *b_min = strstr(b, " min ");
        assert_non_null(a_min);
        assert_non_null(b_min);
        assert_int_equal(a_min - a, b_min - b);
        assert_memory_equal(a, b, (size_t)(a_min - a));
        a = strchr(a_min, '\n');
        b = strchr(b_min, '\n');
        assert_non_null(a);
        assert_non_null(b);
        a++;
        b++;
    }
#endif
    assert_non_null(strstr(err_text, "melspec: 23 file(s) processed"));
    size_t files = 0, calls = 0;
    for (unsigned i = 0; i < 3; i++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "melspec: timing: worker %u: ", i);
        const char *line = strstr(err_text, prefix);
        assert_non_null(line);
        size_t f, c;
        assert_int_equal(sscanf(line + strlen(prefix), "%zu file(s) in %zu", &f, &c), 2);
        files += f;
        calls += c;
    }
    assert_int_equal(files, n_files);
    assert_true(calls < n_files); /* equal lengths next to each other went in one call */
    /* With two cores or more, worker 1 was started with the command (to make its plan while
     * the inputs were found): its steps come in order (the run may begin before its plan is
     * made: a thread placed on an idle core runs once that core wakes). */
    cpu_set_t cores;
    const int n_cores = sched_getaffinity(0, sizeof cores, &cores) == 0 ? CPU_COUNT(&cores) : 1;
    const char *early = strstr(err_text, "melspec: timing: worker 1, started with the command: ");
    if (n_cores >= 2) assert_non_null(early);
    if (early != NULL) {
        double running, plan, run;
        assert_int_equal(sscanf(strchr(early, ':') + 1,
                                " timing: worker 1, started with the command: running at %lf ms, "
                                "plan made at %lf ms (the run began at %lf ms)",
                                &running, &plan, &run),
                         3);
        assert_true(0 <= running && running <= plan && run > 0);
    }
    for (unsigned i = 0; i < n_files; i++) {
        npy_array a = read_npy(path_in("j1/clip%02u.npy", i));
        npy_array b = read_npy(path_in("j3/clip%02u.npy", i));
        assert_int_equal(a.n_values, b.n_values);
        assert_close(b.data, a.data, a.n_values, across_processes);
        free(a.data);
        free(b.data);
        struct stat status_of_output;
        assert_int_equal(stat(path_in("j3/clip%02u.npy", i), &status_of_output), 0);
        assert_int_equal(status_of_output.st_mode & 0777, 0640); /* 0666 less the umask */
    }
}

/* ---- the rest of the interface ------------------------------------------------------------- */

static void test_stats_when_no_output(void **state)
{
    (void)state;
    const char *audio = path_in("example.wav");
    assert_exit(run_cli("--generate-example '%s'", audio), 0);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *file = sf_open(audio, SFM_READ, &info);
    assert_non_null(file);
    assert_int_equal(info.samplerate, 22050);
    assert_int_equal(info.frames, 3 * 22050);
    sf_close(file);

    assert_exit(run_cli("'%s'", audio), 0);
    assert_non_null(strstr(out_text, "example.wav: (128, 130) float32"));
    assert_non_null(strstr(out_text, "max "));
    assert_non_null(strstr(out_text, "mean "));
}

/* Statistics (stdout) and warnings (stderr) sent to one log: each file's warning just before its
 * statistics, the files in input order (both streams are fully buffered then). */
static void test_warnings_beside_their_statistics_in_one_log(void **state)
{
    (void)state;
    const int rate = 16000;
    float *x = make_signal(rate, 1, rate, 4);
    write_audio(path_in("log_b.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, rate, 1, x, rate);
    truncate_copy(path_in("log_b.wav"), path_in("log_a.wav"), 0.5);
    truncate_copy(path_in("log_b.wav"), path_in("log_c.wav"), 0.7);
    char command[2048];
    for (int jobs = 1; jobs <= 2; jobs++) {
        snprintf(command, sizeof command, "'%s' --jobs %d '%s' '%s' '%s' >'%s' 2>&1",
                 MELSPEC_CLI_PATH, jobs, path_in("log_a.wav"), path_in("log_b.wav"),
                 path_in("log_c.wav"), path_in("log.txt"));
        assert_int_equal(system(command), 0);
        read_text(path_in("log.txt"), out_text, sizeof out_text);
        const char *expected[] = {"log_a.wav: warning: truncated", "log_a.wav: (128,",
                                  "log_b.wav: (128,", "log_c.wav: warning: truncated",
                                  "log_c.wav: (128,", "3 file(s) processed"};
        const char *after = out_text;
        for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
            const char *at = strstr(after, expected[i]);
            if (at == NULL) fail_msg("--jobs %d: '%s' not where expected in:\n%s", jobs,
                                     expected[i], out_text);
            after = at + strlen(expected[i]);
        }
    }
    free(x);
}

static void test_help_version_and_usage_errors(void **state)
{
    (void)state;
    assert_exit(run_cli("--help"), 0);
    const char *documented[] = {"--sr", "--mono", "--keep-channels", "--offset", "--duration",
                                "--n-fft", "--hop-length", "--win-length", "--window",
                                "--n-mels", "--fmin", "--fmax", "--power", "--htk", "--norm",
                                "--center", "--no-center", "--pad-mode", "--db", "--top-db",
                                "--ref", "--amin", "--log", "--layout", "--transform",
                                "--device", "--preset", "--format", "--quiet", "--stats",
                                "--generate-example", "--version", "whisper", "ccmusic-cqt"};
    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
        if (strstr(out_text, documented[i]) == NULL) fail_msg("--help lacks %s", documented[i]);

    assert_exit(run_cli("--version"), 0);
    assert_non_null(strstr(out_text, "melspec "));
    /* the CUDA line carries the library's own answer: why not, or which device */
    char why[512], cuda_line[700];
    const int cuda = melspec_backend_available(MELSPEC_BACKEND_CUDA, why, sizeof why) == MELSPEC_OK;
    snprintf(cuda_line, sizeof cuda_line, "  cuda: %s: %s\n", cuda ? "available" : "unavailable",
             why);
    if (strstr(out_text, cuda_line) == NULL) fail_msg("--version lacks \"%s\"", cuda_line);
    assert_non_null(strstr(out_text, "libsndfile"));
    assert_non_null(strstr(out_text, "libsoxr"));

    assert_exit(run_cli("--n-fft banana x.wav"), 2);
    assert_non_null(strstr(err_text, "--n-fft"));
    assert_exit(run_cli("--no-such-option x.wav"), 2);
    assert_exit(run_cli(""), 2);
    /* A bad config is caught once, before any file is read. */
    assert_exit(run_cli("--fmax 20000 --sr 16000 '%s'", path_in("example.wav")), 2);
    assert_non_null(strstr(err_text, "fmax"));
    /* A missing file: named, exit 1. */
    assert_exit(run_cli("-q '%s'", path_in("missing.wav")), 1);
    assert_non_null(strstr(err_text, "missing.wav"));
}

/* ---- the constant-Q transform, where the library has it ------------------------------------ */

static void test_cqt(void **state)
{
    (void)state;
    const int rate = 22050;
    const int64_t n = 2 * rate;
    float *x = make_signal(n, 1, rate, 11);
    const char *audio = path_in("cqt.wav");
    write_audio(audio, SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, 1, x, n);
    const char *npy = path_in("cqt.npy");
    /* ccmusic: amplitude_to_db(abs(cqt(y, sr=22050, hop_length=512, n_bins=84)), ref=np.max) */
    assert_exit(run_cli("-q --preset ccmusic-cqt '%s' -o '%s'", audio, npy), 0);
    melspec_cqt_config config;
    melspec_cqt_config_init(&config);
    config.sample_rate = rate;
    config.hop_length = 512;
    config.n_bins = 84;
    config.output = MELSPEC_CQT_OUTPUT_MAGNITUDE;
    config.scaling = MELSPEC_SCALING_AMPLITUDE_TO_DB;
    config.ref_mode = MELSPEC_REF_MAX;
    char why[256];
    melspec_plan *plan = NULL;
    if (melspec_cqt_plan_create(&plan, &config, why, sizeof why) != MELSPEC_OK) fail_msg("%s", why);
    int64_t n_bins, n_frames;
    size_t bytes;
    assert_int_equal(melspec_plan_output_shape(plan, n, &n_bins, &n_frames), MELSPEC_OK);
    assert_int_equal(melspec_plan_output_bytes(plan, 1, n, &bytes), MELSPEC_OK);
    float *want = malloc(bytes);
    assert_int_equal(melspec_execute(plan, x, 1, n, want, bytes), MELSPEC_OK);
    melspec_plan_destroy(plan);
    npy_array got = read_npy(npy);
    assert_string_equal(got.descr, "<f4");
    assert_int_equal(got.shape[0], 84);
    assert_int_equal(got.shape[1], n_frames);
    assert_close(got.data, want, got.n_values, across_processes);
    free(got.data);
    free(want);
    /* Unscaled, the CQT is complex, like librosa.cqt. */
    assert_exit(run_cli("-q --transform cqt --overwrite '%s' -o '%s'", audio, npy), 0);
    got = read_npy(npy);
    assert_string_equal(got.descr, "<c8");
    assert_int_equal(got.shape[0], 84);
    free(got.data);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wav_equals_library),
        cmocka_unit_test(test_flac_equals_library),
        cmocka_unit_test(test_ogg_equals_library),
        cmocka_unit_test(test_keep_channels),
        cmocka_unit_test(test_offset_duration_and_frames_layout),
        cmocka_unit_test(test_window_with_parameters),
        cmocka_unit_test(test_stft_is_complex64),
        cmocka_unit_test(test_resampling_is_soxr_hq),
        cmocka_unit_test(test_whisper_preset),
        cmocka_unit_test(test_csv_matches_npy),
        cmocka_unit_test(test_png_picture),
        cmocka_unit_test(test_log_figures_name_their_values),
        cmocka_unit_test(test_directory_with_broken_files),
        cmocka_unit_test(test_batches_equal_single_files),
        cmocka_unit_test(test_jobs_agree),
        cmocka_unit_test(test_stats_when_no_output),
        cmocka_unit_test(test_warnings_beside_their_statistics_in_one_log),
        cmocka_unit_test(test_help_version_and_usage_errors),
        cmocka_unit_test(test_cqt),
    };
    return cmocka_run_group_tests(tests, make_work_dir, remove_work_dir);
}
