/* What a plan computes after its transform, decided once at plan creation from the caller's
 * config (STFT family or constant-Q) and read by every backend, the streams and the kernels: the
 * output's shape and type, |X|^power, the scaling, the frame geometry and the memory limits. No
 * other file derives any of these from a config. */
#ifndef MELSPEC_SRC_STAGES_H
#define MELSPEC_SRC_STAGES_H

#include <stddef.h>
#include <stdint.h>

#include "dsp/framing.h"
#include "dsp/pcen.h"
#include "dsp/scaling.h"
#include "melspec.h"

typedef enum melspec_plan_kind {
    MELSPEC_PLAN_KIND_SPECTRUM = 0, /* melspec_plan_create: mel, linear, STFT */
    MELSPEC_PLAN_KIND_CQT = 1       /* melspec_cqt_plan_create */
} melspec_plan_kind;

typedef struct melspec_stages {
    int32_t kind; /* melspec_plan_kind: which transform fills the values (backends branch on it
                     once, at create) */

    /* the output */
    int64_t n_bins;         /* rows: n_mels, 1 + n_fft/2, or the CQT's bins */
    int32_t complex_values; /* values are complex64 (STFT, complex CQT); else real */
    int32_t mel;            /* the spectrum goes through the mel filterbank */
    int32_t mel_product;    /* melspec_mel_product, AUTO resolved (SPARSE or GEMM; MEL only) */
    int32_t layout;         /* melspec_layout */
    int32_t dtype;          /* melspec_dtype of real values */
    size_t value_bytes;     /* one value: 8 complex64, 4 float32, 2 float16/bfloat16 */

    /* the element-wise stages */
    melspec_power_stage power; /* spectrum plans with real output */
    melspec_scale_stage scale;
    int32_t needs_clip_max;    /* the scaling reads each clip's maximum */

    /* frames (spectrum plans; CQT plans frame each octave themselves and set hop only) */
    melspec_frame_geometry frames;

    int32_t device_ordinal; /* the CUDA device */

    /* memory: what the plan is sized for at creation */
    int64_t max_batch;
    int64_t max_samples;
    int32_t fixed_memory; /* execute never grows: EXCEEDS_PLAN past max_batch x max_samples */

    /* The feature stage after the scaling (issue 15; spectrum plans). It reads spectrum_bins
     * float values per frame (the mel or linear rows, scaled) and writes n_bins: n_mfcc for MFCC
     * (the plan's mfcc_basis), the same rows for PCEN (state carried frame to frame). Streams
     * apply it themselves (src/stream.c keeps each stream's PCEN state): a backend's
     * stream_compute then writes the scaled float32 values before it, stream_frame_bytes per
     * frame, instead of output frames. */
    int32_t feature;          /* melspec_feature */
    int64_t spectrum_bins;    /* rows before the feature stage (n_bins when there is none) */
    size_t stream_frame_bytes; /* what stream_compute writes per frame */
    melspec_pcen_stage pcen;  /* PCEN */
} melspec_stages;

/* From a resolved spectrum config (src/config.c) / a resolved CQT config (src/cqt_plan.c). */
void melspec_stages_from_config(const melspec_config *config, melspec_stages *stages);
void melspec_stages_from_cqt_config(const melspec_cqt_config *config, melspec_stages *stages);

/* Frames of one signal of n_samples samples for a spectrum plan, as librosa.stft: -1 when there
 * is no frame (empty input, or shorter than n_fft with center off). */
int64_t melspec_stages_frame_count(const melspec_stages *stages, int64_t n_samples);

#endif
