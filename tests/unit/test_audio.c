/* libmelspec_audio (include/melspec_audio.h), the one loader of melspec.load and the command, on
 * files this test writes with libsndfile: sound ones (the samples written are the oracle), cut
 * short ones (the frames that are there, with a warning; refused with strict), and every failure
 * with its status and message. Resampling against libsoxr's one-shot call. */
#define _DEFAULT_SOURCE /* mkdtemp, mkfifo */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>
#include <soxr.h>

#include "melspec_audio.h"

enum { RATE = 44100, CHANNELS = 2, N_FRAMES = RATE / 2 };

static char work_dir[64];
static float *written; /* N_FRAMES interleaved stereo frames, in every file written below */

static const char *path_in(const char *name)
{
    static char paths[4][512];
    static int next = 0;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof paths[0], "%s/%s", work_dir, name);
    return path;
}

static void write_audio(const char *path, int format)
{
    SF_INFO info = {.samplerate = RATE, .channels = CHANNELS, .format = format};
    SNDFILE *file = sf_open(path, SFM_WRITE, &info);
    if (file == NULL) fail_msg("cannot write %s: %s", path, sf_strerror(NULL));
    assert_int_equal(sf_writef_float(file, written, N_FRAMES), N_FRAMES);
    assert_int_equal(sf_close(file), 0);
}

static unsigned char *read_bytes(const char *path, size_t *n_bytes)
{
    FILE *file = fopen(path, "rb");
    assert_non_null(file);
    fseek(file, 0, SEEK_END);
    *n_bytes = (size_t)ftell(file);
    fseek(file, 0, SEEK_SET);
    unsigned char *bytes = malloc(*n_bytes + 1);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, *n_bytes, file), *n_bytes);
    fclose(file);
    return bytes;
}

static void write_bytes(const char *path, const void *bytes, size_t n_bytes)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(bytes, 1, n_bytes, file), n_bytes);
    fclose(file);
}

/* Writes the first fraction of from's bytes to to; returns how many. */
static size_t cut_copy(const char *from, const char *to, double fraction)
{
    size_t n_bytes;
    unsigned char *bytes = read_bytes(from, &n_bytes);
    const size_t kept = (size_t)((double)n_bytes * fraction);
    write_bytes(to, bytes, kept);
    free(bytes);
    return kept;
}

static int setup(void **state)
{
    (void)state;
    snprintf(work_dir, sizeof work_dir, "/tmp/melspec-test-audio-XXXXXX");
    if (mkdtemp(work_dir) == NULL) return -1;
    written = malloc(sizeof *written * N_FRAMES * CHANNELS);
    if (written == NULL) return -1;
    /* two tones per channel and a little noise: never zero, never clipped */
    uint32_t noise = 2463534242u;
    for (int t = 0; t < N_FRAMES; t++)
        for (int c = 0; c < CHANNELS; c++) {
            noise ^= noise << 13;
            noise ^= noise >> 17;
            noise ^= noise << 5;
            const double time = (double)t / RATE;
            written[t * CHANNELS + c] =
                (float)(0.4 * sin(2 * M_PI * (440.0 + 110.0 * c) * time) +
                        0.2 * sin(2 * M_PI * 3000.0 * time) +
                        0.05 * ((double)noise / 4294967296.0 - 0.5));
        }
    write_audio(path_in("float.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    write_audio(path_in("pcm16.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    write_audio(path_in("pcm16.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(written);
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", work_dir);
    return system(command) == 0 ? 0 : -1;
}

static melspec_audio_options options_at(double sample_rate, int mono)
{
    melspec_audio_options options;
    melspec_audio_options_init(&options);
    options.sample_rate = sample_rate;
    options.mono = mono;
    return options;
}

/* Loads path, failing the test with the message unless it loads. */
static melspec_audio load_ok(const char *path, const melspec_audio_options *options)
{
    melspec_audio audio;
    char why[256] = "";
    const melspec_status status = melspec_audio_load(path, options, &audio, why, sizeof why);
    if (status != MELSPEC_OK) fail_msg("%s: %s: %s", path, melspec_status_name(status), why);
    return audio;
}

/* Loads path expecting status and a message containing words. */
static void load_fails(const char *path, const melspec_audio_options *options,
                       melspec_status expected, const char *words)
{
    melspec_audio audio;
    char why[256] = "";
    const melspec_status status = melspec_audio_load(path, options, &audio, why, sizeof why);
    if (status != expected || strstr(why, words) == NULL)
        fail_msg("%s: %s (%s), expected %s with \"%s\"", path, melspec_status_name(status), why,
                 melspec_status_name(expected), words);
    assert_null(audio.samples);
    melspec_audio_free(&audio);
}

/* The decoded samples of path, as libsndfile gives them (the oracle for the cut files). */
static int64_t decode_directly(const char *path, float *frames, int64_t max_frames)
{
    SF_INFO info = {0};
    SNDFILE *file = sf_open(path, SFM_READ, &info);
    assert_non_null(file);
    const int64_t got = sf_readf_float(file, frames, max_frames);
    sf_close(file);
    return got;
}

/* ---- sound files ---------------------------------------------------------------------------- */

static void test_float_wav_gives_the_samples_written(void **state)
{
    (void)state;
    const melspec_audio_options keep = options_at(0.0, 0);
    melspec_audio audio = load_ok(path_in("float.wav"), &keep);
    assert_int_equal(audio.n_channels, CHANNELS);
    assert_int_equal(audio.n_samples, N_FRAMES);
    assert_int_equal(audio.native_frames, N_FRAMES);
    assert_true(audio.sample_rate == RATE && audio.native_rate == RATE);
    assert_string_equal(audio.warning, "");
    for (int c = 0; c < CHANNELS; c++)
        for (int t = 0; t < N_FRAMES; t++)
            if (audio.samples[c * N_FRAMES + t] != written[t * CHANNELS + c])
                fail_msg("channel %d frame %d: %g, written %g", c, t,
                         (double)audio.samples[c * N_FRAMES + t],
                         (double)written[t * CHANNELS + c]);
    melspec_audio_free(&audio);
    assert_null(audio.samples);
    melspec_audio_free(&audio); /* twice, and NULL: harmless */
    melspec_audio_free(NULL);

    /* mono: numpy's float32 mean of the channels */
    const melspec_audio_options mono = options_at(0.0, 1);
    audio = load_ok(path_in("float.wav"), &mono);
    assert_int_equal(audio.n_channels, 1);
    for (int t = 0; t < N_FRAMES; t++) {
        const float mean = (written[t * 2] + written[t * 2 + 1]) / 2.0f;
        if (audio.samples[t] != mean)
            fail_msg("frame %d: %g, mean %g", t, (double)audio.samples[t], (double)mean);
    }
    melspec_audio_free(&audio);
}

static void test_offset_and_duration_in_whole_frames(void **state)
{
    (void)state;
    melspec_audio_options options = options_at(0.0, 0);
    options.offset = 0.1;
    options.duration = 0.25;
    melspec_audio audio = load_ok(path_in("pcm16.flac"), &options);
    const int64_t start = (int64_t)(0.1 * RATE), length = (int64_t)(0.25 * RATE);
    assert_int_equal(audio.n_samples, length);
    float *whole = malloc(sizeof *whole * N_FRAMES * CHANNELS);
    assert_non_null(whole);
    assert_int_equal(decode_directly(path_in("pcm16.flac"), whole, N_FRAMES), N_FRAMES);
    for (int c = 0; c < CHANNELS; c++)
        for (int64_t t = 0; t < length; t++)
            assert_true(audio.samples[c * length + t] == whole[(start + t) * CHANNELS + c]);
    melspec_audio_free(&audio);
    free(whole);

    options.offset = 0.6; /* the file holds 0.5 s */
    options.duration = -1.0;
    load_fails(path_in("pcm16.flac"), &options, MELSPEC_ERROR_INVALID_ARGUMENT, "past the end");
    options.offset = 0.0;
    options.duration = 0.0;
    load_fails(path_in("pcm16.flac"), &options, MELSPEC_ERROR_INPUT_TOO_SHORT, "no audio samples");
}

/* The mono mix of float.wav resampled to 16 kHz at res_type: libsoxr's one-shot call at the
 * matching recipe (float32) is the reference, fixed to librosa's length. Returns the result. */
static melspec_audio check_resampling_at(int32_t res_type, unsigned long recipe)
{
    const double to = 16000.0;
    melspec_audio_options options = options_at(to, 1);
    options.res_type = res_type;
    melspec_audio audio = load_ok(path_in("float.wav"), &options);
    const int64_t n_out = (int64_t)ceil((double)N_FRAMES * to / RATE);
    assert_int_equal(audio.n_samples, n_out);
    assert_int_equal(melspec_audio_resampled_length(N_FRAMES, RATE, to), n_out);
    assert_true(audio.sample_rate == to && audio.native_rate == RATE);
    assert_int_equal(audio.native_frames, N_FRAMES);

    float *mono = malloc(sizeof *mono * N_FRAMES);
    float *reference = calloc((size_t)n_out + 64, sizeof *reference);
    assert_true(mono != NULL && reference != NULL);
    for (int t = 0; t < N_FRAMES; t++) mono[t] = (written[t * 2] + written[t * 2 + 1]) / 2.0f;
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t quality = soxr_quality_spec(recipe, 0);
    size_t produced = 0;
    assert_null(soxr_oneshot(RATE, to, 1, mono, N_FRAMES, NULL, reference, (size_t)n_out + 64,
                             &produced, &io, &quality, NULL));
    assert_true(produced >= (size_t)n_out - 1);
    double largest = 0.0, peak = 0.0;
    for (int64_t t = 0; t < (int64_t)produced && t < n_out; t++) {
        largest = fmax(largest, fabs((double)audio.samples[t] - reference[t]));
        peak = fmax(peak, fabs((double)reference[t]));
    }
    if (!(largest <= 1e-5) || !(peak > 0.3))
        fail_msg("res_type %d: largest difference to libsoxr's one-shot %g (peak %g)",
                 (int)res_type, largest, peak);
    free(mono);
    free(reference);
    return audio;
}

static void test_resampling_is_libsoxr_fixed_to_librosas_length(void **state)
{
    (void)state;
    melspec_audio hq = check_resampling_at(MELSPEC_CQT_RES_SOXR_HQ, SOXR_HQ);
    const struct { int32_t res_type; unsigned long recipe; } others[] = {
        {MELSPEC_CQT_RES_SOXR_VHQ, SOXR_VHQ}, {MELSPEC_CQT_RES_SOXR_MQ, SOXR_MQ},
        {MELSPEC_CQT_RES_SOXR_LQ, SOXR_LQ}, {MELSPEC_CQT_RES_SOXR_QQ, SOXR_QQ},
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        melspec_audio audio = check_resampling_at(others[i].res_type, others[i].recipe);
        /* another quality is another filter: the option reaches libsoxr */
        assert_memory_not_equal(audio.samples, hq.samples,
                                (size_t)hq.n_samples * sizeof *hq.samples);
        melspec_audio_free(&audio);
    }
    melspec_audio_free(&hq);
}

/* ---- damaged files: what is there, with a warning; refused with strict ------------------- */

/* Loads a cut copy of a sound file: the frames that decode, equal to the sound file's first
 * frames, and a warning naming the damage; strict refuses it with the same words. */
static void check_cut_file(const char *sound, const char *cut, int64_t expected_frames,
                           const char *words)
{
    const melspec_audio_options keep = options_at(0.0, 0);
    melspec_audio audio = load_ok(cut, &keep);
    if (strstr(audio.warning, words) == NULL)
        fail_msg("%s: warning \"%s\", expected \"%s\"", cut, audio.warning, words);
    if (expected_frames > 0) assert_int_equal(audio.n_samples, expected_frames);
    assert_true(audio.n_samples > 0 && audio.n_samples < N_FRAMES);
    assert_int_equal(audio.native_frames, audio.n_samples);
    float *whole = malloc(sizeof *whole * N_FRAMES * CHANNELS);
    assert_non_null(whole);
    assert_int_equal(decode_directly(sound, whole, N_FRAMES), N_FRAMES);
    const int64_t n = audio.n_samples;
    for (int c = 0; c < CHANNELS; c++)
        for (int64_t t = 0; t < n; t++)
            if (audio.samples[c * n + t] != whole[t * CHANNELS + c])
                fail_msg("%s: channel %d frame %lld differs from the sound file", cut, c,
                         (long long)t);
    free(whole);
    melspec_audio_free(&audio);
    assert_string_equal(audio.warning, "");

    melspec_audio_options strict = keep;
    strict.strict = 1;
    char why[256] = "";
    assert_int_equal(melspec_audio_load(cut, &strict, &audio, why, sizeof why),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_null(audio.samples);
    assert_non_null(strstr(why, words));
    assert_string_equal(audio.warning, why); /* how a caller tells this refusal from others */
    melspec_audio_free(&audio);
}

static void test_truncated_wav_reads_what_is_there(void **state)
{
    (void)state;
    const size_t kept = cut_copy(path_in("pcm16.wav"), path_in("cut.wav"), 0.5);
    /* what soundfile reads: the whole frames after the 44-byte header */
    check_cut_file(path_in("pcm16.wav"), path_in("cut.wav"),
                   (int64_t)((kept - 44) / (2 * CHANNELS)), "truncated: the header declares");
}

static void test_truncated_flac_reads_what_decodes(void **state)
{
    (void)state;
    cut_copy(path_in("pcm16.flac"), path_in("cut.flac"), 0.5);
    check_cut_file(path_in("pcm16.flac"), path_in("cut.flac"), 0, "frames");
}

static void test_sound_files_have_no_warning(void **state)
{
    (void)state;
    const char *names[] = {"pcm16.wav", "pcm16.flac"};
    melspec_audio_options strict = options_at(16000.0, 1);
    strict.strict = 1;
    for (size_t i = 0; i < 2; i++) {
        melspec_audio audio = load_ok(path_in(names[i]), &strict);
        assert_string_equal(audio.warning, "");
        assert_int_equal(audio.native_frames, N_FRAMES);
        melspec_audio_free(&audio);
    }
}

/* A file of several reads (libsndfile is read in blocks of 65,536 frames, 16-bit PCM in chunks
 * of 8,192 samples converted here): every frame once, in order, as libsndfile's own float
 * conversion gives it, and a duration that ends inside a block. */
static void test_a_long_file_is_read_whole(void **state)
{
    (void)state;
    enum { REPEATS = 7, N_LONG = N_FRAMES * REPEATS }; /* two whole blocks and part of a third */
    const struct {
        const char *name;
        int format, channels;
    } files[] = {
        {"long.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2},
        {"long.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 2},
        {"long16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2},
        {"long16.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 3}, /* 8,192 is no multiple of 3 */
        {"long16.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1},
    };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        const int channels = files[f].channels;
        const char *path = path_in(files[f].name);
        SF_INFO info = {.samplerate = RATE, .channels = channels, .format = files[f].format};
        SNDFILE *file = sf_open(path, SFM_WRITE, &info);
        assert_non_null(file);
        float *frames = malloc(sizeof *frames * N_FRAMES * (size_t)channels);
        assert_non_null(frames);
        for (int t = 0; t < N_FRAMES; t++) /* the written stereo frames, channel c from c % 2 */
            for (int c = 0; c < channels; c++)
                frames[t * channels + c] = written[t * CHANNELS + c % CHANNELS] * (c < 2 ? 1 : -1);
        for (int r = 0; r < REPEATS; r++)
            assert_int_equal(sf_writef_float(file, frames, N_FRAMES), N_FRAMES);
        assert_int_equal(sf_close(file), 0);
        free(frames);

        float *whole = malloc(sizeof *whole * N_LONG * (size_t)channels);
        assert_non_null(whole);
        assert_int_equal(decode_directly(path, whole, N_LONG), N_LONG);
        melspec_audio_options options = options_at(0.0, 0);
        for (int cut = 0; cut < 2; cut++) {
            const int64_t n = cut ? 100003 : N_LONG;
            options.duration = cut ? (double)n / RATE + 0.1 / RATE : -1.0;
            melspec_audio audio = load_ok(path, &options);
            assert_int_equal(audio.n_channels, channels);
            assert_int_equal(audio.n_samples, n);
            assert_string_equal(audio.warning, "");
            for (int c = 0; c < channels; c++)
                for (int64_t t = 0; t < n; t++)
                    if (audio.samples[c * n + t] != whole[t * channels + c])
                        fail_msg("%s: channel %d frame %lld: %g, libsndfile %g", path, c,
                                 (long long)t, (double)audio.samples[c * n + t],
                                 (double)whole[t * channels + c]);
            melspec_audio_free(&audio);
        }
        free(whole);
    }
}

/* A file longer than the loader's first allocation may be (2^24 frames, src/audio/audio_load.c):
 * the result's rows grow as frames come, each channel's row moving to its new place, and are
 * packed side by side at the end. 8-bit PCM keeps the file small (32 MiB) and every sample exact:
 * (t * 7 + c * 3) % 256. */
static float u8_sample(int64_t t, int64_t c)
{
    return (float)((t * 7 + c * 3) % 256 - 128) / 128.0f;
}

static void test_rows_grow_past_the_first_allocation(void **state)
{
    (void)state;
    enum { LONG_CHANNELS = 2, CHUNK = 65536 };
    const int64_t n = ((int64_t)1 << 24) + 12345;
    const char *path = path_in("beyond.wav");
    SF_INFO info = {.samplerate = RATE, .channels = LONG_CHANNELS,
                    .format = SF_FORMAT_WAV | SF_FORMAT_PCM_U8};
    SNDFILE *file = sf_open(path, SFM_WRITE, &info);
    assert_non_null(file);
    static short chunk[CHUNK * LONG_CHANNELS];
    for (int64_t start = 0; start < n; start += CHUNK) {
        const int64_t count = n - start < CHUNK ? n - start : CHUNK;
        for (int64_t t = 0; t < count; t++)
            for (int c = 0; c < LONG_CHANNELS; c++) /* libsndfile's shorts: the byte << 8 */
                chunk[t * LONG_CHANNELS + c] =
                    (short)(((start + t) * 7 + c * 3) % 256 - 128) * 256;
        assert_int_equal(sf_writef_short(file, chunk, count), count);
    }
    assert_int_equal(sf_close(file), 0);

    for (int mono = 0; mono <= 1; mono++) {
        const melspec_audio_options options = options_at(0.0, mono);
        melspec_audio audio = load_ok(path, &options);
        assert_int_equal(audio.n_channels, mono ? 1 : LONG_CHANNELS);
        assert_int_equal(audio.n_samples, n);
        for (int64_t t = 0; t < n; t++) {
            if (mono) {
                const float mean = (u8_sample(t, 0) + u8_sample(t, 1)) / 2.0f;
                if (audio.samples[t] != mean)
                    fail_msg("mono frame %lld: %g, not %g", (long long)t,
                             (double)audio.samples[t], (double)mean);
                continue;
            }
            for (int c = 0; c < LONG_CHANNELS; c++)
                if (audio.samples[c * n + t] != u8_sample(t, c))
                    fail_msg("channel %d frame %lld: %g, not %g", c, (long long)t,
                             (double)audio.samples[c * n + t], (double)u8_sample(t, c));
        }
        melspec_audio_free(&audio);
    }
    remove(path);
}

/* ---- failures: a status and a message for each -------------------------------------------- */

static void test_inputs_that_are_not_audio(void **state)
{
    (void)state;
    const melspec_audio_options options = options_at(22050.0, 1);
    load_fails(path_in("missing.wav"), &options, MELSPEC_ERROR_INVALID_ARGUMENT,
               "No such file");
    load_fails(work_dir, &options, MELSPEC_ERROR_INVALID_ARGUMENT, "is a directory");
    write_bytes(path_in("empty.wav"), "", 0);
    load_fails(path_in("empty.wav"), &options, MELSPEC_ERROR_INVALID_ARGUMENT, "empty");
    unsigned char garbage[4096];
    uint32_t bits = 12345u;
    for (size_t i = 0; i < sizeof garbage; i++) {
        bits = bits * 1664525u + 1013904223u;
        garbage[i] = (unsigned char)(bits >> 24);
    }
    write_bytes(path_in("garbage.wav"), garbage, sizeof garbage);
    load_fails(path_in("garbage.wav"), &options, MELSPEC_ERROR_INVALID_ARGUMENT,
               "not a readable audio file");
    write_bytes(path_in("text.mp3"), "not an mp3 at all\n", 18);
    load_fails(path_in("text.mp3"), &options, MELSPEC_ERROR_INVALID_ARGUMENT,
               "not a readable audio file");
    /* a header and no data: nothing to read, strict or not */
    size_t n_bytes;
    unsigned char *wav = read_bytes(path_in("pcm16.wav"), &n_bytes);
    write_bytes(path_in("header_only.wav"), wav, 44);
    free(wav);
    load_fails(path_in("header_only.wav"), &options, MELSPEC_ERROR_INPUT_TOO_SHORT,
               "no audio samples");
}

static void test_bad_arguments(void **state)
{
    (void)state;
    melspec_audio audio;
    char why[256];
    melspec_audio_options options = options_at(22050.0, 1);
    const char *path = path_in("pcm16.wav");
    assert_int_equal(melspec_audio_load(NULL, &options, &audio, why, sizeof why),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_audio_load(path, NULL, &audio, why, sizeof why),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_audio_load(path, &options, NULL, NULL, 0),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_audio_load_memory(NULL, 10, &options, &audio, why, sizeof why),
                     MELSPEC_ERROR_NULL_POINTER);
    options.struct_size = 0;
    load_fails(path, &options, MELSPEC_ERROR_STRUCT_SIZE, "melspec_audio_options_init");
    struct { const char *field; double value; const char *words; } cases[] = {
        {"mono", 2, "options.mono"},         {"strict", -1, "options.strict"},
        {"sample_rate", -8000, "sample_rate"}, {"offset", -1, "options.offset"},
        {"duration", NAN, "NaN"},           {"res_type", MELSPEC_CQT_RES_POLYPHASE, "polyphase"},
        {"res_type", 99, "options.res_type = 99"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        options = options_at(22050.0, 1);
        if (strcmp(cases[i].field, "mono") == 0) options.mono = (int32_t)cases[i].value;
        if (strcmp(cases[i].field, "strict") == 0) options.strict = (int32_t)cases[i].value;
        if (strcmp(cases[i].field, "sample_rate") == 0) options.sample_rate = cases[i].value;
        if (strcmp(cases[i].field, "offset") == 0) options.offset = cases[i].value;
        if (strcmp(cases[i].field, "duration") == 0) options.duration = cases[i].value;
        if (strcmp(cases[i].field, "res_type") == 0) options.res_type = (int32_t)cases[i].value;
        load_fails(path, &options, MELSPEC_ERROR_INVALID_ARGUMENT, cases[i].words);
    }
    /* a message buffer of any size, or none */
    options = options_at(22050.0, 1);
    assert_int_equal(melspec_audio_load(path_in("missing.wav"), &options, &audio, NULL, 0),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    char tiny[4] = "xyz";
    assert_int_equal(melspec_audio_load(path_in("missing.wav"), &options, &audio, tiny, 1),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(tiny[0], '\0');
}

/* ---- memory buffers, pipes, threads ------------------------------------------------------- */

static void assert_same_audio(const melspec_audio *a, const melspec_audio *b)
{
    assert_int_equal(a->n_channels, b->n_channels);
    assert_int_equal(a->n_samples, b->n_samples);
    assert_true(a->sample_rate == b->sample_rate);
    assert_string_equal(a->warning, b->warning);
    assert_memory_equal(a->samples, b->samples,
                        sizeof *a->samples * (size_t)(a->n_channels * a->n_samples));
}

static void test_memory_gives_what_the_file_gives(void **state)
{
    (void)state;
    const char *names[] = {"pcm16.flac", "cut.wav"};
    const melspec_audio_options options = options_at(16000.0, 0);
    for (size_t i = 0; i < 2; i++) {
        if (i == 1) cut_copy(path_in("pcm16.wav"), path_in("cut.wav"), 0.5);
        melspec_audio from_file = load_ok(path_in(names[i]), &options), from_memory;
        size_t n_bytes;
        unsigned char *bytes = read_bytes(path_in(names[i]), &n_bytes);
        char why[256] = "";
        assert_int_equal(melspec_audio_load_memory(bytes, n_bytes, &options, &from_memory, why,
                                                   sizeof why),
                         MELSPEC_OK);
        assert_same_audio(&from_file, &from_memory);
        melspec_audio_free(&from_memory);
        melspec_audio_free(&from_file);
        assert_int_equal(melspec_audio_load_memory(bytes, 0, &options, &from_memory, why,
                                                   sizeof why),
                         MELSPEC_ERROR_INVALID_ARGUMENT);
        assert_non_null(strstr(why, "empty"));
        assert_int_equal(melspec_audio_load_memory(bytes, 20, &options, &from_memory, why,
                                                   sizeof why),
                         MELSPEC_ERROR_INVALID_ARGUMENT);
        assert_non_null(strstr(why, "not a readable audio file"));
        free(bytes);
    }
}

typedef struct fifo_writer {
    const char *path;
    unsigned char *bytes;
    size_t n_bytes;
} fifo_writer;

static void *write_fifo(void *argument)
{
    fifo_writer *w = argument;
    FILE *fifo = fopen(w->path, "wb"); /* blocks until the loader opens it */
    if (fifo != NULL) {
        fwrite(w->bytes, 1, w->n_bytes, fifo);
        fclose(fifo);
    }
    return NULL;
}

static void test_a_fifo_is_read_to_its_end(void **state)
{
    (void)state;
    const char *fifo_path = path_in("pipe.wav");
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s", fifo_path);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    fifo_writer writer = {fifo, NULL, 0};
    writer.bytes = read_bytes(path_in("pcm16.flac"), &writer.n_bytes);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, write_fifo, &writer), 0);
    const melspec_audio_options options = options_at(22050.0, 1);
    melspec_audio piped = load_ok(fifo, &options);
    pthread_join(thread, NULL);
    melspec_audio direct = load_ok(path_in("pcm16.flac"), &options);
    assert_same_audio(&piped, &direct);
    melspec_audio_free(&piped);
    melspec_audio_free(&direct);
    free(writer.bytes);
}

typedef struct parallel_load {
    const char *path;
    melspec_audio audio;
    melspec_status status;
} parallel_load;

static void *load_in_thread(void *argument)
{
    parallel_load *job = argument;
    const melspec_audio_options options = options_at(16000.0, 1);
    job->status = melspec_audio_load(job->path, &options, &job->audio, NULL, 0);
    return NULL;
}

static void test_threads_load_in_parallel(void **state)
{
    (void)state;
    enum { N_THREADS = 4 };
    static char paths[2][512];
    snprintf(paths[0], sizeof paths[0], "%s", path_in("pcm16.flac"));
    snprintf(paths[1], sizeof paths[1], "%s", path_in("float.wav"));
    parallel_load jobs[N_THREADS];
    pthread_t threads[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        jobs[i] = (parallel_load){.path = paths[i % 2]};
        assert_int_equal(pthread_create(&threads[i], NULL, load_in_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) pthread_join(threads[i], NULL);
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(jobs[i].status, MELSPEC_OK);
        if (i >= 2) assert_same_audio(&jobs[i].audio, &jobs[i - 2].audio);
    }
    for (int i = 0; i < N_THREADS; i++) melspec_audio_free(&jobs[i].audio);
}

/* libsndfile keeps the reason an open failed in globals that every open writes (sf_errno,
 * sf_parselog: libsndfile issue 279), so the loader makes a failed open again alone to read
 * its reason. Without that, a failing open's message can be another thread's, or "No Error."
 * (4 of 5 runs of this test). */
enum { OPENS_PER_THREAD = 200 };

typedef struct open_storm {
    const unsigned char *bytes;
    size_t n_bytes;
    const char *expected; /* the message a lone load gives; NULL: the load must succeed */
    int wrong;            /* loads that did not give what a lone load gives */
    char first_wrong[320];
} open_storm;

static void *open_repeatedly(void *argument)
{
    open_storm *storm = argument;
    const melspec_audio_options options = options_at(16000.0, 1);
    for (int i = 0; i < OPENS_PER_THREAD; i++) {
        melspec_audio audio;
        char message[256] = "";
        const melspec_status status = melspec_audio_load_memory(
            storm->bytes, storm->n_bytes, &options, &audio, message, sizeof message);
        const int right = storm->expected == NULL ? status == MELSPEC_OK
                                                  : status != MELSPEC_OK &&
                                                        strcmp(message, storm->expected) == 0;
        if (!right && storm->wrong++ == 0)
            snprintf(storm->first_wrong, sizeof storm->first_wrong, "status %d: %s", (int)status,
                     message);
        melspec_audio_free(&audio);
    }
    return NULL;
}

static void test_failed_opens_in_parallel_keep_their_reasons(void **state)
{
    (void)state;
    unsigned char garbage[2048];
    uint32_t bits = 2024u;
    for (size_t i = 0; i < sizeof garbage; i++) {
        bits = bits * 1664525u + 1013904223u;
        garbage[i] = (unsigned char)(bits >> 24);
    }
    size_t n_wav;
    unsigned char *wav = read_bytes(path_in("pcm16.wav"), &n_wav);
    /* a WAV header cut inside its chunks: libsndfile parses, logs and gives up */
    const size_t n_cut_header = 30;
    char garbage_reason[256] = "", cut_reason[256] = "";
    const melspec_audio_options options = options_at(16000.0, 1);
    melspec_audio audio;
    assert_int_not_equal(melspec_audio_load_memory(garbage, sizeof garbage, &options, &audio,
                                                   garbage_reason, sizeof garbage_reason),
                         MELSPEC_OK);
    assert_int_not_equal(melspec_audio_load_memory(wav, n_cut_header, &options, &audio,
                                                   cut_reason, sizeof cut_reason),
                         MELSPEC_OK);
    assert_null(strstr(garbage_reason, "No Error"));
    assert_null(strstr(cut_reason, "No Error"));
    enum { N_THREADS = 4 };
    open_storm storms[N_THREADS] = {
        {.bytes = garbage, .n_bytes = sizeof garbage, .expected = garbage_reason},
        {.bytes = wav, .n_bytes = n_cut_header, .expected = cut_reason},
        {.bytes = wav, .n_bytes = n_wav, .expected = NULL},
        {.bytes = garbage, .n_bytes = sizeof garbage, .expected = garbage_reason},
    };
    pthread_t threads[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, open_repeatedly, &storms[i]), 0);
    for (int i = 0; i < N_THREADS; i++) pthread_join(threads[i], NULL);
    for (int i = 0; i < N_THREADS; i++)
        if (storms[i].wrong != 0)
            fail_msg("thread %d: %d of %d loads differ from a lone load, first: %s", i,
                     storms[i].wrong, OPENS_PER_THREAD, storms[i].first_wrong);
    free(wav);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_wav_gives_the_samples_written),
        cmocka_unit_test(test_offset_and_duration_in_whole_frames),
        cmocka_unit_test(test_resampling_is_libsoxr_fixed_to_librosas_length),
        cmocka_unit_test(test_truncated_wav_reads_what_is_there),
        cmocka_unit_test(test_truncated_flac_reads_what_decodes),
        cmocka_unit_test(test_sound_files_have_no_warning),
        cmocka_unit_test(test_a_long_file_is_read_whole),
        cmocka_unit_test(test_rows_grow_past_the_first_allocation),
        cmocka_unit_test(test_inputs_that_are_not_audio),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_memory_gives_what_the_file_gives),
        cmocka_unit_test(test_a_fifo_is_read_to_its_end),
        cmocka_unit_test(test_threads_load_in_parallel),
        cmocka_unit_test(test_failed_opens_in_parallel_keep_their_reasons),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
