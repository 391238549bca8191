/* minimal.c — the smallest complete use of melspec: one plan, one call, a few numbers.
 *
 * Builds a 1 s, 440 Hz test tone, computes its mel spectrogram with librosa's defaults
 * (librosa.feature.melspectrogram(y=y, sr=22050)) and prints the shape and the band where the
 * tone lands. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "melspec.h"

int main(void)
{
    const double sample_rate = 22050.0;
    const int64_t n_samples = 22050;
    float *samples = malloc((size_t)n_samples * sizeof *samples);
    if (samples == NULL) return 1;
    for (int64_t i = 0; i < n_samples; i++)
        samples[i] = 0.5f * (float)sin(2.0 * 3.14159265358979 * 440.0 * (double)i / sample_rate);

    /* 1. A config: librosa's defaults, then whatever differs (nothing here). */
    melspec_config config;
    melspec_config_init(&config);
    config.sample_rate = sample_rate;

    /* 2. A plan: everything is designed and allocated here, once. */
    char why[256];
    melspec_plan *plan = NULL;
    if (melspec_plan_create(&plan, &config, why, sizeof why) != MELSPEC_OK) {
        fprintf(stderr, "melspec_plan_create: %s\n", why);
        free(samples);
        return 1;
    }

    /* 3. The output's size, then one call. */
    int64_t n_mels = 0, n_frames = 0;
    size_t n_bytes = 0;
    float *mel = NULL;
    int exit_code = 1;
    if (melspec_plan_output_shape(plan, n_samples, &n_mels, &n_frames) != MELSPEC_OK ||
        melspec_plan_output_bytes(plan, 1, n_samples, &n_bytes) != MELSPEC_OK) {
        fprintf(stderr, "melspec: %s\n", melspec_plan_last_error(plan));
        goto done;
    }
    mel = malloc(n_bytes);
    if (mel == NULL) goto done;
    if (melspec_execute(plan, samples, 1, n_samples, mel, n_bytes) != MELSPEC_OK) {
        fprintf(stderr, "melspec_execute: %s\n", melspec_plan_last_error(plan));
        goto done;
    }

    /* 4. The result is (n_mels, n_frames), row-major, as librosa returns it. */
    printf("mel spectrogram shape (%lld, %lld)\n", (long long)n_mels, (long long)n_frames);
    const int64_t middle = n_frames / 2;
    int64_t loudest = 0;
    for (int64_t m = 0; m < n_mels; m++)
        if (mel[m * n_frames + middle] > mel[loudest * n_frames + middle]) loudest = m;
    printf("frame %lld: loudest band %lld (power %.4g); bands 0..3: %.3g %.3g %.3g %.3g\n",
           (long long)middle, (long long)loudest, (double)mel[loudest * n_frames + middle],
           (double)mel[0 * n_frames + middle], (double)mel[1 * n_frames + middle],
           (double)mel[2 * n_frames + middle], (double)mel[3 * n_frames + middle]);
    exit_code = 0;

done:
    free(mel);
    free(samples);
    melspec_plan_destroy(plan);
    return exit_code;
}
