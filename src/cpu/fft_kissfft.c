/* melspec_rfft on KissFFT (BSD). kiss_fftr needs an even size; odd sizes use the complex
 * transform with a zero imaginary part. */
#include <stdlib.h>

#include <kiss_fft.h>
#include <kiss_fftr.h>

#include "fft.h"

struct melspec_rfft {
    int64_t n;
    kiss_fftr_cfg real_plan;    /* even n */
    kiss_fft_cfg complex_plan;  /* odd n */
    float *input;               /* n */
    kiss_fft_cpx *complex_input; /* n, odd n only */
    kiss_fft_cpx *output;       /* n (odd) or 1 + n/2 (even) */
};

melspec_rfft *melspec_rfft_create(int64_t n)
{
    if (n < 1 || n > INT32_MAX) return NULL;
    melspec_rfft *fft = calloc(1, sizeof *fft);
    if (fft == NULL) return NULL;
    fft->n = n;
    const int even = n % 2 == 0;
    fft->input = calloc((size_t)n, sizeof *fft->input);
    fft->output = calloc((size_t)(even ? n / 2 + 1 : n), sizeof *fft->output);
    if (even) {
        fft->real_plan = kiss_fftr_alloc((int)n, 0, NULL, NULL);
    } else {
        fft->complex_plan = kiss_fft_alloc((int)n, 0, NULL, NULL);
        fft->complex_input = calloc((size_t)n, sizeof *fft->complex_input);
    }
    if (!fft->input || !fft->output || (even ? !fft->real_plan : !fft->complex_plan) ||
        (!even && !fft->complex_input)) {
        melspec_rfft_destroy(fft);
        return NULL;
    }
    return fft;
}

void melspec_rfft_destroy(melspec_rfft *fft)
{
    if (fft == NULL) return;
    kiss_fftr_free(fft->real_plan);
    kiss_fft_free(fft->complex_plan);
    free(fft->input);
    free(fft->complex_input);
    free(fft->output);
    free(fft);
}

float *melspec_rfft_input(melspec_rfft *fft) { return fft->input; }

const float *melspec_rfft_execute(melspec_rfft *fft)
{
    if (fft->real_plan != NULL) {
        kiss_fftr(fft->real_plan, fft->input, fft->output);
    } else {
        for (int64_t i = 0; i < fft->n; i++) {
            fft->complex_input[i].r = fft->input[i];
            fft->complex_input[i].i = 0.0f;
        }
        kiss_fft(fft->complex_plan, fft->complex_input, fft->output);
    }
    return (const float *)fft->output;
}

const char *melspec_rfft_library(void) { return "kissfft"; }
