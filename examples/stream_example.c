/*
 * stream_example — feeds a sound file to a melspec stream in random-sized chunks, prints the
 * frames as they come, and checks them against the offline melspec_execute of the whole signal.
 *
 *     stream_example [sound-file] [seed]
 *
 * Without a file it streams a generated test signal (2 s of a gliding tone, clicks and noise at
 * 16 kHz). Several channels are averaged into one. The config is the real-time one (n_fft 50 ms,
 * hop 12.5 ms, 80 mels from 55 to 7600 Hz, magnitude), frame-major. Exits 1 when a streamed frame
 * differs from the offline one, 2 on any other failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "melspec.h"

/* Reads the whole file, channels averaged. */
static float *read_mono(const char *path, int64_t *n_samples, double *sample_rate)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *file = sf_open(path, SFM_READ, &info);
    if (file == NULL) {
        fprintf(stderr, "stream_example: %s: %s\n", path, sf_strerror(NULL));
        return NULL;
    }
    const int64_t n = (int64_t)info.frames, channels = info.channels;
    float *interleaved = malloc((size_t)(n * channels + 1) * sizeof *interleaved);
    float *mono = malloc((size_t)(n + 1) * sizeof *mono);
    if (interleaved == NULL || mono == NULL || sf_readf_float(file, interleaved, n) != n) {
        fprintf(stderr, "stream_example: %s: cannot read %lld frames\n", path, (long long)n);
        free(interleaved);
        free(mono);
        sf_close(file);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (int64_t c = 0; c < channels; c++) sum += interleaved[i * channels + c];
        mono[i] = (float)(sum / (double)channels);
    }
    free(interleaved);
    sf_close(file);
    *n_samples = n;
    *sample_rate = info.samplerate;
    return mono;
}

static float *make_test_signal(int64_t *n_samples, double *sample_rate)
{
    const int64_t n = 32000;
    float *x = malloc((size_t)n * sizeof *x);
    if (x == NULL) return NULL;
    uint32_t state = 12345u;
    for (int64_t i = 0; i < n; i++) {
        const double t = (double)i / 16000.0;
        state = state * 1664525u + 1013904223u;
        const double noise = (double)(state >> 8) / 16777216.0 - 0.5;
        x[i] = (float)(0.4 * sin(6.283185307179586 * (200.0 + 900.0 * t) * t) + 0.02 * noise +
                       (i % 4000 == 0 ? 0.8 : 0.0));
    }
    *n_samples = n;
    *sample_rate = 16000.0;
    return x;
}

int main(int argc, char **argv)
{
    int64_t n_samples = 0;
    double sample_rate = 0.0;
    float *signal = argc > 1 ? read_mono(argv[1], &n_samples, &sample_rate)
                             : make_test_signal(&n_samples, &sample_rate);
    if (signal == NULL) return 2;
    srand(argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1u);

    melspec_config config;
    melspec_config_init(&config);
    config.sample_rate = sample_rate;
    config.n_fft = (int64_t)lround(0.05 * sample_rate);
    config.hop_length = config.n_fft / 4;
    config.n_mels = 80;
    config.fmin = 55.0;
    config.fmax = sample_rate / 2.0 < 7600.0 ? sample_rate / 2.0 : 7600.0;
    config.power = 1.0;
    config.layout = MELSPEC_LAYOUT_FRAMES_MAJOR;
    config.backend = MELSPEC_BACKEND_CPU;

    int status_code = 2;
    char why[256];
    melspec_plan *plan = NULL;
    melspec_stream *stream = NULL;
    float *offline = NULL, *frames = NULL;
    if (melspec_plan_create(&plan, &config, why, sizeof why) != MELSPEC_OK) {
        fprintf(stderr, "stream_example: plan: %s\n", why);
        goto done;
    }
    int64_t n_bins, n_frames;
    size_t offline_bytes;
    if (melspec_plan_output_shape(plan, n_samples, &n_bins, &n_frames) != MELSPEC_OK ||
        melspec_plan_output_bytes(plan, 1, n_samples, &offline_bytes) != MELSPEC_OK ||
        (offline = malloc(offline_bytes)) == NULL ||
        melspec_execute(plan, signal, 1, n_samples, offline, offline_bytes) != MELSPEC_OK ||
        melspec_stream_create(&stream, plan) != MELSPEC_OK) {
        fprintf(stderr, "stream_example: %s\n", melspec_plan_last_error(plan));
        goto done;
    }
    int64_t latency;
    melspec_stream_latency(stream, &latency);
    printf("%lld samples at %g Hz: %lld frames of %lld mels; latency %lld samples (%.1f ms)\n",
           (long long)n_samples, sample_rate, (long long)n_frames, (long long)n_bins,
           (long long)latency, 1000.0 * (double)latency / sample_rate);

    /* The frame buffer starts small on purpose: a chunk that completes more frames than fit is
     * refused whole, and pushed again into a larger buffer. */
    int64_t capacity = 1;
    frames = malloc((size_t)(capacity * n_bins) * sizeof *frames);
    int64_t offset = 0, emitted = 0, mismatches = 0;
    while (frames != NULL && offset <= n_samples) {
        const int flush = offset == n_samples;
        int64_t chunk = flush ? 0 : 1 + rand() % (2 * config.n_fft);
        if (chunk > n_samples - offset) chunk = n_samples - offset;
        int64_t got = 0;
        const size_t frames_bytes = (size_t)(capacity * n_bins) * sizeof *frames;
        melspec_status status =
            flush ? melspec_stream_flush(stream, frames, frames_bytes, &got)
                  : melspec_stream_push(stream, signal + offset, chunk, frames, frames_bytes, &got);
        if (status == MELSPEC_ERROR_BUFFER_TOO_SMALL) {
            capacity = got;
            free(frames);
            frames = malloc((size_t)(capacity * n_bins) * sizeof *frames);
            continue;
        }
        if (status != MELSPEC_OK) {
            fprintf(stderr, "stream_example: %s\n", melspec_plan_last_error(plan));
            goto done;
        }
        for (int64_t j = 0; j < got; j++) {
            const int64_t t = emitted + j;
            const int same = t < n_frames && memcmp(frames + j * n_bins, offline + t * n_bins,
                                                    (size_t)n_bins * sizeof *frames) == 0;
            mismatches += !same;
            double energy = 0.0;
            for (int64_t b = 0; b < n_bins; b++) energy += frames[j * n_bins + b];
            printf("%s %6lld samples -> frame %5lld at %8.3f s  sum %10.4f  %s\n",
                   flush ? "flush" : "push ", (long long)chunk, (long long)t,
                   (double)(t * config.hop_length) / sample_rate, energy,
                   same ? "ok" : "MISMATCH");
        }
        emitted += got;
        offset += flush ? 1 : chunk;
    }
    if (frames == NULL) {
        fprintf(stderr, "stream_example: out of memory\n");
        goto done;
    }
    if (emitted != n_frames) {
        printf("streamed %lld frames, offline %lld\n", (long long)emitted, (long long)n_frames);
        mismatches++;
    }
    printf("%s: %lld frames streamed, %lld differ from the offline result\n",
           mismatches ? "FAILED" : "OK", (long long)emitted, (long long)mismatches);
    status_code = mismatches ? 1 : 0;

done:
    melspec_stream_destroy(stream);
    melspec_plan_destroy(plan);
    free(frames);
    free(offline);
    free(signal);
    return status_code;
}
