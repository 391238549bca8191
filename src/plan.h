/* Internal plan layout shared by the front end (plan.c) and the backends. Not installed. */
#ifndef MELSPEC_SRC_PLAN_H
#define MELSPEC_SRC_PLAN_H

#include <stdarg.h>
#include <stdatomic.h>

#include "dsp/mel.h"
#include "melspec.h"
#include "stages.h"

#define MELSPEC_MESSAGE_CAPACITY 512

/* The version of everything a backend plugin shares with the core (src/backend_plugin.h): the
 * layouts in this header (struct melspec_plan, melspec_sparse_rows, melspec_backend_ops), of
 * melspec_config and melspec_cqt_config, of the CQT design (src/dsp/cqt.h) and the decimator
 * (src/cqt_decimator.h), and the two tables of backend_plugin.h. Bump rule: add 1 in the same
 * commit as any change to one of them (a field added, removed, reordered or retyped, an entry's
 * meaning changed); a plugin of another number is then refused at load with a message instead
 * of misreading a plan. */
#define MELSPEC_BACKEND_ABI 6u /* 2: the stream ring ops, melspec_config.mel_product; 3: the
                                   feature stage (stages, config, mfcc_basis); 4: the plan's
                                   allocator, the decimator's allocator and res_type arguments;
                                   5: the filterbank as runs (mel_design), no dense matrix;
                                   6: ops.execute_checks_finite */

/* The mel filterbank stored as one contiguous run of nonzero weights per row, which is what
 * both backends multiply with (a triangle touches a handful of FFT bins). */
typedef struct melspec_sparse_rows {
    int64_t n_rows;
    int64_t n_columns;
    int64_t *first_column; /* n_rows: first nonzero column of each row */
    int64_t *row_length;   /* n_rows: number of columns in the run (0: an empty band) */
    int64_t *row_offset;   /* n_rows: where the row's run starts in weights */
    float *weights;        /* sum(row_length) values */
} melspec_sparse_rows;

struct melspec_stream_step;
struct melspec_stream_step_size;

typedef struct melspec_backend_ops {
    const char *name;
    /* Builds backend state in plan->backend_state from the plan's designed arrays. */
    melspec_status (*create)(melspec_plan *plan);
    void (*destroy)(melspec_plan *plan);
    /* Host buffers in and out; sizes already validated, output large enough. */
    melspec_status (*execute)(melspec_plan *plan, const float *input, int64_t n_signals,
                              int64_t n_samples, void *output);
    /* 1: execute finds NaN and Inf in its input itself (where its passes read the samples
     * anyway) and then returns MELSPEC_ERROR_NON_FINITE_INPUT, only then, without a message:
     * the front end names the sample. 0: the front end scans the input before execute. */
    int execute_checks_finite;
    /* May be NULL when the backend needs no size-dependent buffers. */
    melspec_status (*reserve)(melspec_plan *plan, int64_t n_signals, int64_t n_samples);
    /* Device buffers in and out, enqueued on the plan's stream (asynchronous); sizes already
     * validated, output large enough. NULL for backends without device memory (the front end,
     * src/device.c, then answers BACKEND_UNAVAILABLE). */
    melspec_status (*execute_device)(melspec_plan *plan, const float *device_input,
                                     int64_t n_signals, int64_t n_samples, void *device_output);
    /* The stream later calls run on (a cudaStream_t, NULL for the legacy default stream). NULL
     * for backends without streams. */
    melspec_status (*set_stream)(melspec_plan *plan, void *stream);
    /* Streaming (src/stream.c), required of every backend that streams: the front end keeps each
     * stream's samples and gathers each complete frame's n_fft raw samples (padding applied)
     * into raw_frames, at most max_frames at a time; stream_compute turns the first n_frames of
     * them into their scaled values, frame after frame in the output dtype, in values (both
     * host memory the backend owns), synchronously. stream_prepare makes them (at
     * melspec_stream_create; again returns the same). With a feature stage (stages.feature)
     * the values are the scaled float32 values before it, stages.stream_frame_bytes per frame:
     * src/stream.c applies the stage with each stream's state. */
    melspec_status (*stream_prepare)(melspec_plan *plan, float **raw_frames, const void **values,
                                     int64_t *max_frames);
    melspec_status (*stream_compute)(melspec_plan *plan, int64_t n_frames);

    /* ---- streams with each stream's ring in the backend (issue 12c; all NULL or all set) ----
     * Instead of gathered frames, the backend receives each stream's new samples plus the ring
     * state the front end decided (melspec_stream_step), and keeps the samples frames still to
     * come will read where it computes (the CUDA backend: on the device). src/stream.c keeps the
     * cursor, the padding decisions and the host copy of every stream's samples: the backend's
     * ring is a cache of them, which the front end refills (resend_from) whenever it may be
     * stale (a new ring, a reset, a failed step, a call that went through stream_compute), so a
     * failed step changes no stream's state.
     * stream_ring_create makes one stream's ring for `capacity` samples (n_fft + hop).
     * A step is begin (the call's totals; grows the backend's step buffers when may_grow, else
     * EXCEEDS_PLAN when they are too small, and nothing changed), one add per stream in call
     * order (host copies only), then run: computes every frame of the step, in add order, into
     * *values (host memory the backend owns, frame after frame, the output dtype), and rewrites
     * each ring to hold samples keep_from .. received + n_new - 1. Synchronous. */
    melspec_status (*stream_ring_create)(melspec_plan *plan, int64_t capacity, void **ring);
    void (*stream_ring_destroy)(melspec_plan *plan, void *ring); /* NULL-safe */
    melspec_status (*stream_step_begin)(melspec_plan *plan, const struct melspec_stream_step_size *size,
                                        int may_grow);
    melspec_status (*stream_step_add)(melspec_plan *plan, const struct melspec_stream_step *step);
    melspec_status (*stream_step_run)(melspec_plan *plan, const void **values);
} melspec_backend_ops;

/* One stream's part of a step (stream_step_add). Absolute sample indices of the stream. */
typedef struct melspec_stream_step {
    void *ring;              /* from stream_ring_create: holds ring_first .. resend_from - 1 */
    int64_t ring_first;      /* the ring's first sample (meaningless when resend_from = window_first) */
    int64_t window_first;    /* first sample the step's frames read (the stream's base) */
    int64_t resend_from;     /* first sample not in the ring: given here, up to received + n_new */
    const float *resend;     /* samples resend_from .. received - 1 (host copy), or NULL */
    const float *chunk;      /* the call's new samples received .. received + n_new - 1 */
    int64_t received;        /* samples before this call */
    int64_t n_new;
    int64_t first_frame;     /* frames first_frame .. first_frame + n_frames - 1 become final */
    int64_t n_frames;
    int64_t n_signal;        /* the length their padding sees: received + n_new, or at flush */
    int64_t keep_from;       /* the ring afterwards: keep_from .. received + n_new - 1 */
} melspec_stream_step;

/* A step's totals (stream_step_begin), so the backend can size its buffers once. */
typedef struct melspec_stream_step_size {
    int64_t n_streams;
    int64_t n_upload;  /* sum of received + n_new - resend_from */
    int64_t n_window;  /* sum of received + n_new - window_first */
    int64_t n_frames;  /* sum of n_frames (>= 1: a step without frames never reaches the backend) */
} melspec_stream_step_size;

struct melspec_cqt_design;

struct melspec_plan {
    melspec_stages stages;   /* what every backend computes, decided once (src/stages.h) */
    melspec_backend backend; /* CPU or CUDA */
    /* Every host allocation for the plan, its backend and its streams (src/alloc.h); the
     * caller's (melspec_*_create_with_allocator) or zeroed for malloc/free. */
    melspec_allocator allocator;
    const melspec_backend_ops *ops;
    void *backend_state;
    /* The sizes the backend's buffers hold now (max_batch x max_samples at creation, grown by
     * reserve); the front end grows them before a larger call, or refuses it in fixed-memory
     * mode. */
    int64_t reserved_batch;
    int64_t reserved_samples;
    atomic_flag busy; /* set while a call runs: a second thread gets PLAN_BUSY, not garbage */
    char last_error[MELSPEC_MESSAGE_CAPACITY];

    /* Spectrum plans (melspec_plan_create): the config, every default resolved, and its design. */
    melspec_config config;
    int64_t n_freq;               /* 1 + n_fft/2 */
    double *window;               /* n_fft, zero-padded centred */
    melspec_mel_runs mel_design;  /* the filterbank in double (no rows unless MEL) */
    melspec_sparse_rows mel_rows; /* the same matrix in float, what the backends multiply with */
    double *mfcc_basis;           /* feature MFCC: n_mfcc x spectrum_bins (src/dsp/mfcc.h) */

    /* Constant-Q plans (melspec_cqt_plan_create). */
    melspec_cqt_config cqt_config;   /* every default resolved */
    struct melspec_cqt_design *cqt;  /* the basis of every octave, in double (src/dsp/cqt.h) */
};

/* Whether any of the n floats is NaN or infinite (vectorised; the front end's input check). */
int melspec_any_non_finite(const float *x, int64_t n);

/* Records a formatted detail message on the plan and returns status (for `return fail(...)`). */
melspec_status melspec_fail(melspec_plan *plan, melspec_status status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* melspec_fail with a va_list (what backend plugins call through their services table). */
melspec_status melspec_vfail(melspec_plan *plan, melspec_status status, const char *format,
                             va_list args)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 0)))
#endif
    ;
/* The same into a caller's message buffer (may be NULL). */
melspec_status melspec_fail_message(char *message, size_t capacity, melspec_status status,
                                    const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Backend tables of the core. The CUDA backend's comes from its plugin (backend_plugin.h). */
extern const melspec_backend_ops melspec_cpu_ops;

/* Chooses the ops table for the requested backend; the only place that asks for the plugin.
 * Each backend's one table serves every kind of plan. */
melspec_status melspec_select_backend(melspec_backend wanted, int32_t device_ordinal,
                                      melspec_backend *chosen, const melspec_backend_ops **ops,
                                      char *message, size_t capacity);

/* The allocator rule of the create_with_allocator calls (INVALID_ARGUMENT for only one of alloc
 * and free), and a zeroed plan made with it that keeps a copy (NULL when out of memory). */
melspec_status melspec_check_allocator(const melspec_allocator *allocator, char *message,
                                       size_t capacity);
melspec_plan *melspec_plan_allocate(const melspec_allocator *allocator);

/* The last step of plan creation, shared by every kind: the backend's create. On failure destroys
 * the plan and writes the backend's message; on success stores it in *plan_out. */
melspec_status melspec_plan_finish_create(melspec_plan *plan, melspec_plan **plan_out,
                                          char *message, size_t capacity);

/* One call on a plan at a time: melspec_plan_enter marks the plan busy (PLAN_BUSY when it
 * already is, with no message written: the plan's message belongs to the call that holds it) and
 * clears its message; melspec_plan_leave releases it and returns status. */
melspec_status melspec_plan_enter(melspec_plan *plan);
melspec_status melspec_plan_leave(melspec_plan *plan, melspec_status status);
#define MELSPEC_ENTER_PLAN(plan)                                              \
    do {                                                                      \
        const melspec_status entered_ = melspec_plan_enter(plan);             \
        if (entered_ != MELSPEC_OK) return entered_;                          \
    } while (0)

/* The checks every execute makes (sizes, overflow, output capacity) and the memory rule: grows
 * the backend's buffers when the call is larger than they are, or refuses it (EXCEEDS_PLAN) in
 * fixed-memory mode. output_name names the buffer in messages. */
melspec_status melspec_check_call(melspec_plan *plan, int64_t n_signals, int64_t n_samples,
                                  size_t output_capacity, const char *output_name);
/* Just the memory rule, for n_signals x n_samples. */
melspec_status melspec_plan_fit_call(melspec_plan *plan, int64_t n_signals, int64_t n_samples);

/* Overflow-checked size arithmetic: return 0 on overflow. */
static inline int melspec_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

#endif
