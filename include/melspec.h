/*
 * melspec.h — mel spectrograms, STFT magnitudes, the complex STFT and the constant-Q transform,
 * on the CPU and on NVIDIA GPUs, with librosa's numbers.
 *
 * Usage:
 *
 *     melspec_config config;
 *     melspec_config_init(&config);              // librosa's defaults
 *     config.sample_rate = 16000; config.n_fft = 400; config.hop_length = 160;
 *     config.n_mels = 80;
 *
 *     char why[256];
 *     melspec_plan *plan = NULL;
 *     if (melspec_plan_create(&plan, &config, why, sizeof why) != MELSPEC_OK) {
 *         fprintf(stderr, "melspec: %s\n", why);
 *         return 1;
 *     }
 *     int64_t n_bins, n_frames;
 *     melspec_plan_output_shape(plan, n_samples, &n_bins, &n_frames);
 *     size_t n_bytes;
 *     melspec_plan_output_bytes(plan, 1, n_samples, &n_bytes);
 *     float *mel = malloc(n_bytes);
 *     melspec_status status = melspec_execute(plan, samples, 1, n_samples, mel, n_bytes);
 *     if (status != MELSPEC_OK) fprintf(stderr, "melspec: %s\n", melspec_plan_last_error(plan));
 *     melspec_plan_destroy(plan);
 *
 * Threads: a plan is used by one call at a time; different plans may run in parallel. A call on
 * a plan (or on one of its streams) while another call on it is running returns
 * MELSPEC_ERROR_PLAN_BUSY at once, without touching the plan: share a plan between threads only
 * behind your own lock, or better, give each thread its own plan. The library keeps no global
 * mutable state (the CUDA backend's shared object is found and loaded once, thread-safely).
 *
 * Ownership: the library never writes past the capacity the caller states, never modifies its
 * inputs, never prints and never aborts. It keeps no pointer to a caller's buffer after a call
 * returns; the one handle it keeps is the CUDA stream given to melspec_plan_set_cuda_stream
 * (melspec_cuda.h), used until it is replaced. Buffer capacities are always in bytes.
 * Every fallible call returns a melspec_status; a plan remembers a detail message for its last
 * failed call (melspec_plan_last_error); the const queries return a status only.
 *
 * Semantics follow librosa >= 0.10 (see README.md): librosa.stft, librosa.feature.melspectrogram,
 * librosa.filters.mel, librosa.power_to_db and librosa.amplitude_to_db; librosa.cqt for the
 * constant-Q plans (melspec_cqt_plan_create, below).
 */
#ifndef MELSPEC_H
#define MELSPEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- export macro ---------------------------------------------------------------------------- */

#if defined(MELSPEC_STATIC)
#define MELSPEC_API
#elif defined(_WIN32)
#ifdef MELSPEC_BUILDING
#define MELSPEC_API __declspec(dllexport)
#else
#define MELSPEC_API __declspec(dllimport)
#endif
#else
#define MELSPEC_API __attribute__((visibility("default")))
#endif

/* ---- version --------------------------------------------------------------------------------- */

#define MELSPEC_VERSION_MAJOR 0
#define MELSPEC_VERSION_MINOR 2
#define MELSPEC_VERSION_PATCH 0
#define MELSPEC_VERSION_NUMBER \
    (MELSPEC_VERSION_MAJOR * 10000 + MELSPEC_VERSION_MINOR * 100 + MELSPEC_VERSION_PATCH)

/* The version of the library actually loaded (may differ from the header's at run time). */
MELSPEC_API unsigned melspec_version_number(void);
MELSPEC_API const char *melspec_version_string(void);

/* ---- status codes ---------------------------------------------------------------------------- */

/* X(name, value, description). Values are pinned: never renumbered, never reused. */
#define MELSPEC_STATUS_MAP(X)                                                                  \
    X(OK, 0, "success")                                                                        \
    X(ERROR_INVALID_ARGUMENT, -1, "invalid argument")                                          \
    X(ERROR_NULL_POINTER, -2, "null pointer")                                                  \
    X(ERROR_OUT_OF_MEMORY, -3, "out of memory")                                                \
    X(ERROR_SIZE_OVERFLOW, -4, "size overflows")                                               \
    X(ERROR_BUFFER_TOO_SMALL, -5, "output buffer too small")                                   \
    X(ERROR_INPUT_TOO_SHORT, -6, "input too short")                                            \
    X(ERROR_NON_FINITE_INPUT, -7, "input contains NaN or Inf")                                 \
    X(ERROR_BACKEND_UNAVAILABLE, -8, "backend unavailable")                                    \
    X(ERROR_DEVICE, -9, "device error")                                                        \
    X(ERROR_UNSUPPORTED, -10, "operation not supported by this plan")                          \
    X(ERROR_STRUCT_SIZE, -11, "config struct size not understood")                             \
    X(ERROR_EXCEEDS_PLAN, -12, "call exceeds the sizes the plan was made for")                 \
    X(ERROR_INTERNAL, -13, "internal error")                                                   \
    X(ERROR_PLAN_BUSY, -14, "plan is in use by another call")

typedef enum melspec_status {
#define MELSPEC_STATUS_ENUM_(name, value, text) MELSPEC_##name = value,
    MELSPEC_STATUS_MAP(MELSPEC_STATUS_ENUM_)
#undef MELSPEC_STATUS_ENUM_
} melspec_status;

/* A static description of a status ("unknown status" for values this version does not know). */
MELSPEC_API const char *melspec_status_string(melspec_status status);
/* The status's name, e.g. "MELSPEC_ERROR_INVALID_ARGUMENT". */
MELSPEC_API const char *melspec_status_name(melspec_status status);

/* ---- enums (explicit values; 0 is always the default) ---------------------------------------- */

typedef enum melspec_transform {
    MELSPEC_TRANSFORM_MEL = 0,    /* filterbank · |STFT|^power -> float (batch, n_mels, n_frames) */
    MELSPEC_TRANSFORM_LINEAR = 1, /* |STFT|^power -> float (batch, 1 + n_fft/2, n_frames) */
    MELSPEC_TRANSFORM_STFT = 2    /* complex STFT -> interleaved re,im float pairs (complex64) */
} melspec_transform;

/* Periodic windows, as scipy.signal.get_window(name or (name, params...), N, fftbins=True); the
 * parameters, where a window has any, are config.window_params in scipy's order. */
typedef enum melspec_window {
    MELSPEC_WINDOW_HANN = 0,           /* periodic (scipy.signal.get_window("hann", N, fftbins=True)) */
    MELSPEC_WINDOW_HAMMING = 1,        /* periodic */
    MELSPEC_WINDOW_RECTANGULAR = 2,    /* "boxcar", "ones" */
    MELSPEC_WINDOW_BLACKMAN = 3,
    MELSPEC_WINDOW_BLACKMANHARRIS = 4,
    MELSPEC_WINDOW_NUTTALL = 5,
    MELSPEC_WINDOW_FLATTOP = 6,
    MELSPEC_WINDOW_BARTLETT = 7,
    MELSPEC_WINDOW_TRIANG = 8,
    MELSPEC_WINDOW_BARTHANN = 9,
    MELSPEC_WINDOW_BOHMAN = 10,
    MELSPEC_WINDOW_COSINE = 11,
    MELSPEC_WINDOW_PARZEN = 12,
    MELSPEC_WINDOW_LANCZOS = 13,
    MELSPEC_WINDOW_EXPONENTIAL = 14,     /* centre (N-1)/2 of the symmetric window, tau 1 */
    MELSPEC_WINDOW_KAISER = 15,          /* params: beta */
    MELSPEC_WINDOW_GAUSSIAN = 16,        /* params: std (> 0) */
    MELSPEC_WINDOW_GENERAL_HAMMING = 17, /* params: alpha */
    MELSPEC_WINDOW_TUKEY = 18,           /* params: alpha (scipy's default 0.5 is not implied) */
    MELSPEC_WINDOW_GENERAL_GAUSSIAN = 19, /* params: p, sig (> 0) */
    MELSPEC_WINDOW_TAYLOR = 20,          /* params: nbar (integer >= 1), sll (dB >= 0), norm (0/1);
                                            scipy's defaults are 4, 30, 1 */
    MELSPEC_WINDOW_CUSTOM = 21 /* the caller's samples: melspec_plan_create_with_window */
} melspec_window;

/* Padding of the signal's ends when center is on (numpy.pad modes). */
typedef enum melspec_pad_mode {
    MELSPEC_PAD_CONSTANT = 0, /* zeros */
    MELSPEC_PAD_REFLECT = 1,  /* mirror without repeating the edge sample */
    MELSPEC_PAD_EDGE = 2      /* repeat the edge sample */
} melspec_pad_mode;

typedef enum melspec_mel_scale {
    MELSPEC_MEL_SCALE_SLANEY = 0, /* librosa default (htk=False) */
    MELSPEC_MEL_SCALE_HTK = 1     /* 2595 log10(1 + f/700) */
} melspec_mel_scale;

typedef enum melspec_mel_norm {
    MELSPEC_MEL_NORM_SLANEY = 0, /* each triangle divided by its width in Hz / 2 (area norm) */
    MELSPEC_MEL_NORM_NONE = 1,   /* peak 1 */
    MELSPEC_MEL_NORM_P = 2       /* librosa's numeric norm: each row divided by its p-norm
                                    (librosa.util.normalize, p = config.mel_norm_p: > 0, INFINITY
                                    (max), -INFINITY (min magnitude) or 0 (nonzero count)); a row
                                    whose norm is below the smallest normal float is kept as is */
} melspec_mel_norm;

typedef enum melspec_scaling {
    MELSPEC_SCALING_NONE = 0,            /* values as computed */
    MELSPEC_SCALING_POWER_TO_DB = 1,     /* librosa.power_to_db(S, ref, amin, top_db) */
    MELSPEC_SCALING_AMPLITUDE_TO_DB = 2, /* librosa.amplitude_to_db(S, ref, amin, top_db) */
    MELSPEC_SCALING_LOG = 3              /* natural log(S + log_offset) */
} melspec_scaling;

typedef enum melspec_ref_mode {
    MELSPEC_REF_VALUE = 0, /* ref is config.ref */
    MELSPEC_REF_MAX = 1    /* ref is each clip's maximum (librosa's ref=np.max) */
} melspec_ref_mode;

typedef enum melspec_layout {
    MELSPEC_LAYOUT_BINS_MAJOR = 0,  /* (batch, n_bins, n_frames), librosa's */
    MELSPEC_LAYOUT_FRAMES_MAJOR = 1 /* (batch, n_frames, n_bins), what models and streams use */
} melspec_layout;

typedef enum melspec_backend {
    MELSPEC_BACKEND_AUTO = 0, /* CUDA when built with it and a device exists, else CPU */
    MELSPEC_BACKEND_CPU = 1,
    MELSPEC_BACKEND_CUDA = 2
} melspec_backend;

typedef enum melspec_dtype {
    MELSPEC_DTYPE_FLOAT32 = 0,
    MELSPEC_DTYPE_FLOAT16 = 1, /* IEEE half, rounded to nearest even (every backend) */
    MELSPEC_DTYPE_BFLOAT16 = 2 /* bfloat16, rounded to nearest even (every backend) */
} melspec_dtype;

/* How the CUDA backend multiplies |X|^power by the mel filterbank (config.mel_product). The CPU
 * backend always uses its sparse product and accepts every value; the results agree within the
 * tests' float32 tolerances either way. */
typedef enum melspec_mel_product {
    MELSPEC_MEL_PRODUCT_AUTO = 0,   /* the backend's default: today SPARSE */
    MELSPEC_MEL_PRODUCT_SPARSE = 1, /* one fused kernel over each filter's run of bins */
    MELSPEC_MEL_PRODUCT_GEMM = 2    /* |X|^power to memory, then cuBLAS SGEMM with the dense
                                       float filterbank (TF32 off: full float32) */
} melspec_mel_product;

/* ---- features computed after the scaling (issue 15) ----------------------------------------- */

/*
 * config.feature adds one stage after the scaling, decided once at plan creation and applied to
 * each frame in time order, offline and in streams alike (a stream's frames equal execute's bit
 * for bit):
 *
 *   MFCC: librosa.feature.mfcc(y=...) is transform MEL, scaling POWER_TO_DB (ref 1, amin 1e-10,
 *   top_db 80: the defaults) and feature MFCC. Each frame's n_mels values x the n_mfcc x n_mels
 *   matrix of scipy.fft.dct (mfcc_dct_type, mfcc_norm) with the lifter folded in, summed in
 *   double. The output has n_mfcc rows (melspec_plan_output_shape's n_bins). Any scaling and
 *   LINEAR are accepted too (the DCT runs over whatever rows the plan has). Streams need
 *   top_db = INFINITY, as every dB plan.
 *
 *   PCEN: librosa.pcen(S) of the plan's unscaled (scaling NONE) mel or linear values S: per bin
 *   M[t] = b ref[t] + (1 - b) M[t-1] from librosa's initial state (zi=None), in double, then
 *   (S / (eps + M)^gain + bias)^power - bias^power. b is librosa's from pcen_time_constant,
 *   sample_rate and hop_length unless pcen_b is set (melspec_plan_config returns it resolved);
 *   pcen_max_size > 1 takes ref as the maximum over that many neighbouring bins of the frame.
 *   Each signal of a batch and each stream (after melspec_stream_reset too) starts from the
 *   initial state; a stream carries the state across pushes.
 *
 * Both backends have the stage (the CUDA backend as kernels after the scaling; its streams apply
 * the stage on the host like the CPU's). Bad feature fields are INVALID_ARGUMENT naming the
 * field (librosa's ParameterError conditions).
 */

/* config.feature: what the plan computes from its mel (or linear) values after the scaling. */
typedef enum melspec_feature {
    MELSPEC_FEATURE_NONE = 0, /* the values themselves */
    MELSPEC_FEATURE_MFCC = 1, /* librosa.feature.mfcc: a DCT over the bins of each frame (after
                                 the scaling; librosa's is POWER_TO_DB with top_db 80), n_mfcc
                                 rows out, then the lifter */
    MELSPEC_FEATURE_PCEN = 2  /* librosa.pcen on the (unscaled: SCALING_NONE) values: an IIR
                                 smoother over time per bin, carried across a stream's frames */
} melspec_feature;

/* config.mfcc_norm: scipy.fft.dct's norm. */
typedef enum melspec_dct_norm {
    MELSPEC_DCT_NORM_ORTHO = 0, /* norm="ortho", librosa's default */
    MELSPEC_DCT_NORM_NONE = 1   /* norm=None */
} melspec_dct_norm;

/* ---- configuration --------------------------------------------------------------------------- */

/*
 * Fill with melspec_config_init(), then change what you need. struct_size lets the library accept
 * configs from older and newer callers (fields a caller does not know are taken as zero, which
 * always means the default; a larger struct is accepted only if its unknown tail is zero).
 *
 * Fields documented "0 = ..." treat zero as "librosa's default derived from other fields".
 */
typedef struct melspec_config {
    uint32_t struct_size;      /* sizeof(melspec_config), set by melspec_config_init */
    int32_t transform;         /* melspec_transform; MEL */
    double sample_rate;        /* Hz; 22050 */
    int64_t n_fft;             /* 2048; any size >= 1 (even, odd, prime) */
    int64_t hop_length;        /* 0 = win_length / 4 */
    int64_t win_length;        /* 0 = n_fft; the window is zero-padded centred to n_fft */
    int32_t window;            /* melspec_window; HANN */
    int32_t center;            /* 1: pad n_fft/2 on both sides and centre frames on t*hop */
    int32_t pad_mode;          /* melspec_pad_mode; CONSTANT (librosa >= 0.10 default) */
    int32_t mel_scale;         /* melspec_mel_scale; SLANEY */
    double power;              /* exponent on |STFT|: 1 magnitude, 2 power (default), any > 0 */
    int64_t n_mels;            /* 128 */
    double fmin;               /* Hz; 0 */
    double fmax;               /* Hz; 0 = sample_rate / 2 */
    int32_t mel_norm;          /* melspec_mel_norm; SLANEY */
    int32_t scaling;           /* melspec_scaling; NONE */
    double ref;                /* reference for dB with ref_mode VALUE; 1.0 */
    double amin;               /* floor for dB; 0 = librosa's (1e-10 power, 1e-5 amplitude) */
    double top_db;             /* clamp dB to each clip's max - top_db; INFINITY = no clamp; 80 */
    double log_offset;         /* for SCALING_LOG: log(S + log_offset); 0 is allowed; 1e-6 */
    int32_t ref_mode;          /* melspec_ref_mode; VALUE */
    int32_t layout;            /* melspec_layout; BINS_MAJOR */
    int32_t backend;           /* melspec_backend; AUTO */
    int32_t device_ordinal;    /* CUDA device number; 0 */
    int32_t output_dtype;      /* melspec_dtype; FLOAT32 */
    int32_t fixed_memory;      /* 0: execute grows the plan's buffers when a call is larger than
                                  they are; 1: it never allocates and such a call is
                                  EXCEEDS_PLAN (see "Memory" above melspec_execute); 0 */
    int64_t max_batch;         /* signals per execute the plan is sized for at creation; 0 = 1 */
    int64_t max_samples;       /* samples per signal the plan is sized for at creation;
                                  0 = 60 s of audio */
    int32_t mel_product;       /* melspec_mel_product (MEL only; others ignore it); AUTO */

    /* Features (issue 15): read only when `feature` selects them, so the zeros of an older
     * caller's struct (feature NONE) mean what they always did; melspec_config_init sets
     * librosa's defaults. The output then has n_mfcc rows (MFCC) or n_bins rows (PCEN). */
    int32_t feature;           /* melspec_feature; NONE */
    int32_t mfcc_dct_type;     /* 1, 2 or 3 (scipy.fft.dct type); 2 */
    int32_t mfcc_norm;         /* melspec_dct_norm; ORTHO */
    int64_t n_mfcc;            /* coefficients kept, 1 .. n_bins (dct_type 1 needs n_bins >= 2); 20 */
    double mfcc_lifter;        /* >= 0; 0 = none; else row k times 1 + (L/2) sin(pi (k+1) / L) */
    double pcen_gain;          /* >= 0; 0.98 */
    double pcen_bias;          /* >= 0; 2 */
    double pcen_power;         /* >= 0 (0 is log1p compression); 0.5 */
    double pcen_time_constant; /* seconds, > 0; 0.4 */
    double pcen_eps;           /* > 0; 1e-6 */
    double pcen_b;             /* smoothing coefficient in [0, 1]; negative (-1, the default) =
                                  librosa's b from time_constant, sample_rate and hop_length */
    int64_t pcen_max_size;     /* >= 1: the reference is a maximum over max_size bins of each
                                  frame (scipy.ndimage.maximum_filter1d over frequency); 1 */
    /* -- librosa's parameter space (issue 15) -- */
    double window_params[3];   /* the window's parameters (see melspec_window); 0 */
    double mel_norm_p;         /* p of MELSPEC_MEL_NORM_P; 0 */
} melspec_config;

/* Fills *config with librosa's defaults and sets struct_size. NULL is ignored. */
MELSPEC_API void melspec_config_init(melspec_config *config);

/* sizeof(melspec_config) as this library was built (bindings check theirs against it). */
MELSPEC_API size_t melspec_config_size(void);

/* ---- plans ----------------------------------------------------------------------------------- */

typedef struct melspec_plan melspec_plan;

/*
 * Validates the whole config, designs the window and filterbank, creates FFT plans and allocates
 * all scratch. On failure *plan is NULL and, when message != NULL, a NUL-terminated explanation
 * naming the offending field is written to message (at most message_capacity bytes).
 */
MELSPEC_API melspec_status melspec_plan_create(melspec_plan **plan, const melspec_config *config,
                                               char *message, size_t message_capacity);

/* Frees everything the plan owns. NULL is accepted. */
MELSPEC_API void melspec_plan_destroy(melspec_plan *plan);

/* The detail message of the plan's last failed call ("" after a call that succeeded; the const
 * queries leave it alone). Valid until the next call on the plan. */
MELSPEC_API const char *melspec_plan_last_error(const melspec_plan *plan);

/* The config the plan runs with, every default resolved (hop_length, win_length, fmax, amin,
 * max_batch, max_samples, backend). UNSUPPORTED for constant-Q plans (melspec_cqt_plan_config). */
MELSPEC_API melspec_status melspec_plan_config(const melspec_plan *plan, melspec_config *config);

/* The backend actually chosen (CPU or CUDA, never AUTO). */
MELSPEC_API melspec_backend melspec_plan_backend(const melspec_plan *plan);

/*
 * Output shape for one signal of n_samples samples: n_bins (n_mels, or 1 + n_fft/2 for LINEAR and
 * STFT; n_mfcc with feature MFCC) and n_frames = 1 + (n_samples + 2 (n_fft/2) - n_fft) / hop centred (1 + n_samples/hop
 * for an even n_fft), 1 + (n_samples - n_fft)/hop otherwise, as librosa.stft. One
 * signal's output has n_bins * n_frames values; with STFT each value is two floats.
 * Errors: n_samples < 1 (INVALID_ARGUMENT), center off and n_samples < n_fft (INPUT_TOO_SHORT).
 */
MELSPEC_API melspec_status melspec_plan_output_shape(const melspec_plan *plan, int64_t n_samples,
                                                     int64_t *n_bins, int64_t *n_frames);

/* Bytes of output for n_signals signals of n_samples each, in the plan's output dtype. */
MELSPEC_API melspec_status melspec_plan_output_bytes(const melspec_plan *plan, int64_t n_signals,
                                                     int64_t n_samples, size_t *n_bytes);

/* Bytes of one frame of output (n_bins values in the output dtype): the unit of the streams. */
MELSPEC_API melspec_status melspec_plan_frame_bytes(const melspec_plan *plan, size_t *n_bytes);

/*
 * Computes the transform of n_signals signals of n_samples float samples each, stored one after
 * another in input (librosa's multichannel (..., n) input flattened to (n_signals, n)). Output is
 * written in the plan's layout and dtype; output_capacity is the size of output in bytes.
 * Each signal is scaled on its own (ref_mode MAX and top_db use that signal's maximum), so a
 * batch gives the same numbers as its signals one by one.
 *
 * Synchronous. NaN or Inf in the input is an error and leaves output unspecified.
 *
 * Memory, the same on every backend: a plan is created holding buffers for max_batch signals of
 * max_samples samples (config). A call within that allocates nothing. A larger call grows the
 * buffers first (the only allocation execute makes; later calls of that size allocate nothing),
 * unless the config set fixed_memory: then execute never allocates and a larger call is
 * MELSPEC_ERROR_EXCEEDS_PLAN; melspec_plan_reserve grows the plan ahead of time in both modes.
 * (The CPU constant-Q transform is the exception: libsoxr allocates inside it, see below.)
 */
MELSPEC_API melspec_status melspec_execute(melspec_plan *plan, const float *input,
                                           int64_t n_signals, int64_t n_samples, void *output,
                                           size_t output_capacity);

/*
 * Grows the plan's buffers so that execute runs n_signals x n_samples without allocating (CUDA
 * allocates device and pinned memory here). Never shrinks. The way to size a fixed_memory plan.
 */
MELSPEC_API melspec_status melspec_plan_reserve(melspec_plan *plan, int64_t n_signals,
                                                int64_t n_samples);

/*
 * The plan's mel filterbank, (n_mels, 1 + n_fft/2) row-major float32: the matrix
 * librosa.filters.mel returns for the same parameters, into filterbank (capacity_bytes bytes).
 * UNSUPPORTED for plans without a filterbank (LINEAR, STFT, constant-Q).
 */
MELSPEC_API melspec_status melspec_plan_mel_filterbank(const melspec_plan *plan,
                                                       float *filterbank, size_t capacity_bytes);

/* The plan's analysis window, n_fft float32 values (zero-padded centred when win_length <
 * n_fft), into window (capacity_bytes bytes). UNSUPPORTED for constant-Q plans. */
MELSPEC_API melspec_status melspec_plan_window(const melspec_plan *plan, float *window,
                                               size_t capacity_bytes);

/* ---- librosa's parameter space (issue 15): a caller's window, the float64 filterbank, empty
 * mel bands ---------------------------------------------------------------------------------- */

/*
 * melspec_plan_create with the caller's window samples (librosa's window=array, or a callable's
 * result): config->window must be MELSPEC_WINDOW_CUSTOM and window_length equal to win_length
 * (librosa's "window size mismatch" otherwise); the samples must be finite. They are copied (and
 * zero-padded centred to n_fft like every window): the plan keeps no pointer to them.
 * melspec_plan_create with MELSPEC_WINDOW_CUSTOM is INVALID_ARGUMENT.
 */
MELSPEC_API melspec_status melspec_plan_create_with_window(melspec_plan **plan,
                                                           const melspec_config *config,
                                                           const double *window,
                                                           int64_t window_length, char *message,
                                                           size_t message_capacity);

/* The mel filterbank as designed, in double (librosa.filters.mel(..., dtype=np.float64)):
 * n_mels x (1 + n_fft/2) doubles. Same rules as melspec_plan_mel_filterbank. */
MELSPEC_API melspec_status melspec_plan_mel_filterbank_f64(const melspec_plan *plan,
                                                           double *filterbank,
                                                           size_t capacity_bytes);

/*
 * The mel bands with no nonzero weight (more mels than the FFT bins can separate): they are
 * computed, as zero rows, where librosa warns "Empty filters detected in mel frequency basis".
 * *n_empty receives their number, and the first capacity_bytes / 8 band indices (increasing) are
 * written to bands (NULL with capacity 0 just counts). As librosa, the band whose lower edge is
 * 0 Hz (band 0 with fmin = 0) is not counted. UNSUPPORTED for plans without a filterbank.
 */
MELSPEC_API melspec_status melspec_plan_empty_mel_bands(const melspec_plan *plan, int64_t *bands,
                                                        size_t capacity_bytes, int64_t *n_empty);

/* ---- streaming ------------------------------------------------------------------------------ */

/*
 * A stream turns audio arriving in chunks of any size into the plan's frames as soon as each one
 * is complete. The concatenation of every frame a stream emits (pushes, then flush) equals
 * melspec_execute on the whole signal: the same number of frames and the same values (bit for bit
 * on the CPU), for every chunking, pad mode, transform and layout. A stream belongs to one plan
 * and must be destroyed before it; a plan may have many streams, used by one thread at a time
 * like the plan. Failures record their detail message on the plan (melspec_plan_last_error).
 *
 * Frames are written in the plan's layout and dtype for a clip of k frames: BINS_MAJOR (n_bins, k),
 * FRAMES_MAJOR (k, n_bins); STFT values are complex64 pairs. frames_bytes is the buffer's size in
 * bytes (melspec_plan_frame_bytes per frame); *n_frames counts frames. Scaling must not need the
 * whole clip: with dB scaling, ref_mode MAX and a finite top_db are refused (UNSUPPORTED) at
 * creation; use a fixed ref and top_db = INFINITY.
 *
 * Memory: each stream holds at most n_fft + hop_length samples, allocated by
 * melspec_stream_create; the plan's first stream allocates the backend's staging for a batch of
 * frames, shared by the plan's streams; push and flush never allocate. The frames of a call (of
 * all the streams of a melspec_stream_push_many) go to the backend in batches: the CPU computes
 * them with its offline code (bit for bit), the CUDA backend on the device, within float
 * rounding of the CPU's, and push and flush wait for it.
 *
 * Differences from melspec_execute: an uncentred stream that received fewer than n_fft samples
 * flushes zero frames (execute would say INPUT_TOO_SHORT), and a stream that received no samples
 * at all flushes zero frames.
 */
typedef struct melspec_stream melspec_stream;

/* Makes a stream for plan into *stream. UNSUPPORTED when the plan's scaling needs the whole clip,
 * and for constant-Q plans. */
MELSPEC_API melspec_status melspec_stream_create(melspec_stream **stream, melspec_plan *plan);

/* NULL is accepted. */
MELSPEC_API void melspec_stream_destroy(melspec_stream *stream);

/*
 * Appends n_samples samples (0 is allowed; samples may then be NULL) and writes the frames that
 * became complete into frames (frames_bytes bytes; frames may be NULL when that is 0).
 * *n_frames receives the number of frames written.
 * Atomic: when more frames would be ready than fit, nothing is consumed, *n_frames is set to the
 * number needed and BUFFER_TOO_SMALL is returned: call again with a larger buffer. NaN or Inf in
 * samples is NON_FINITE_INPUT, again consuming nothing. After flush, push is INVALID_ARGUMENT
 * until melspec_stream_reset.
 */
MELSPEC_API melspec_status melspec_stream_push(melspec_stream *stream, const float *samples,
                                               int64_t n_samples, void *frames,
                                               size_t frames_bytes, int64_t *n_frames);

/* Ends the input: writes the remaining frames (those that need the end padding, or that waited
 * for the signal's length). A second flush writes nothing. Same capacity rule as push. */
MELSPEC_API melspec_status melspec_stream_flush(melspec_stream *stream, void *frames,
                                                size_t frames_bytes, int64_t *n_frames);

/* Bytes of one frame the stream writes (what melspec_plan_frame_bytes says of its plan). */
MELSPEC_API melspec_status melspec_stream_frame_bytes(const melspec_stream *stream,
                                                      size_t *n_bytes);

/* Forgets all input, ready for a new signal (also after flush). */
MELSPEC_API melspec_status melspec_stream_reset(melspec_stream *stream);

/*
 * Algorithmic latency in samples. Frame t, whose time stamp is t * hop_length (its centre when
 * centred, its first sample otherwise: librosa.frames_to_samples), is emitted by the push that
 * brings the number of samples received to t * hop_length + latency: n_fft - n_fft/2 when centred
 * (n_fft/2 of look-ahead for an even n_fft), n_fft otherwise. With center and PAD_REFLECT the
 * first frames also wait for n_fft/2 + 1 samples (the reflection must not depend on the length).
 */
MELSPEC_API melspec_status melspec_stream_latency(const melspec_stream *stream,
                                                  int64_t *n_samples);

/*
 * Advances n_streams independent streams of one plan in one call: stream i receives
 * chunk_lengths[i] samples from chunks[i] and writes its ready frames to frames[i]
 * (frames_bytes[i] bytes), their number to n_frames[i]. Each stream behaves exactly as
 * melspec_stream_push on it. Atomic over all streams: when any stream's buffer is too small, no
 * stream consumes anything, n_frames[i] is set to what every stream needs and BUFFER_TOO_SMALL
 * is returned; any other error also leaves every stream unchanged. Every stream must belong to
 * the same plan and appear once. n_streams = 0 does nothing.
 */
MELSPEC_API melspec_status melspec_stream_push_many(melspec_stream *const *streams,
                                                    int64_t n_streams, const float *const *chunks,
                                                    const int64_t *chunk_lengths,
                                                    void *const *frames,
                                                    const size_t *frames_bytes, int64_t *n_frames);

/* ---- constant-Q transform ------------------------------------------------------------------- */

/*
 * librosa.cqt: a plan of the same family (melspec_plan, melspec_execute, melspec_plan_output_shape,
 * melspec_plan_output_bytes, melspec_plan_reserve, melspec_plan_destroy), made by
 * melspec_cqt_plan_create from a melspec_cqt_config.
 *
 *     melspec_cqt_config cqt;
 *     melspec_cqt_config_init(&cqt);             // librosa.cqt's defaults: 84 bins from C1
 *     cqt.sample_rate = 22050; cqt.hop_length = 512;
 *     melspec_plan *plan = NULL;
 *     if (melspec_cqt_plan_create(&plan, &cqt, why, sizeof why) != MELSPEC_OK) ...
 *     melspec_plan_output_shape(plan, n_samples, &n_bins, &n_frames);   // (84, 1 + n/512)
 *     melspec_plan_output_bytes(plan, 1, n_samples, &n_bytes);
 *     melspec_execute(plan, samples, 1, n_samples, out, n_bytes);              // complex64
 *
 * The algorithm is librosa's (vqt with gamma 0; other gammas give librosa.vqt): alpha-based Q, Hann-windowed complex wavelets of
 * length Q sr / f, normalized, an FFT-domain basis per octave sparsified at `sparsity` of each
 * row's mass, octaves computed from the top with a soxr_hq halving of the signal between them
 * (libsoxr's SOXR_HQ, as librosa's default res_type; config.res_type picks librosa's others),
 * early downsampling when the filters allow it, and the result trimmed to the shortest octave. Like librosa 0.10 and later, any hop_length
 * is accepted: the signal is halved only while the hop stays even, lower octaves then run at the
 * last rate with longer filters.
 *
 * Output: n_bins rows from fmin upwards and librosa's frame count, 1 + n/hop_length, or, after
 * an early downsampling by f, 1 + ceil(n/f) / (hop_length/f) (the least over octaves, as librosa
 * trims); n < f is INPUT_TOO_SHORT, as librosa raises. COMPLEX writes complex64 (interleaved re,
 * im float pairs, librosa's dtype for float32 input); MAGNITUDE writes float |C|, to which the
 * scaling stage applies (e.g. AMPLITUDE_TO_DB with ref_mode MAX is
 * librosa.amplitude_to_db(np.abs(C), ref=np.max)).
 *
 * Accuracy: within 1e-6 of librosa's peak typically, 1e-5 always but where a basis coefficient
 * lies on librosa's sparsity threshold (see docs/cqt.md).
 *
 * Backends: the CPU backend keeps the decimated signals for max_samples per signal (grown as
 * for every plan, see "Memory" above melspec_execute). It halves the signal with libsoxr, which allocates during execute:
 * resetting a resampler between signals (soxr_clear) frees and re-creates its state in libsoxr
 * 0.1.3, about 20 small blocks per halving and signal; melspec itself allocates nothing there.
 * It runs on the calling thread only. The CUDA backend (chosen as for the other plans, with
 * melspec_cuda.h's device pointers, streams and graph replay) applies libsoxr's measured impulse
 * response instead, as an FIR on the device, within 1e-5 of the CPU backend.
 */

typedef enum melspec_cqt_output {
    MELSPEC_CQT_OUTPUT_COMPLEX = 0,  /* complex64, like librosa.cqt */
    MELSPEC_CQT_OUTPUT_MAGNITUDE = 1 /* float |C| (np.abs(librosa.cqt(...))), then scaling */
} melspec_cqt_output;

/* Normalization of each wavelet (librosa.util.normalize's norm). */
typedef enum melspec_cqt_norm {
    MELSPEC_CQT_NORM_L1 = 0,  /* norm=1, librosa's default */
    MELSPEC_CQT_NORM_L2 = 1,  /* norm=2 */
    MELSPEC_CQT_NORM_MAX = 2, /* norm=np.inf: peak magnitude 1 */
    MELSPEC_CQT_NORM_NONE = 3 /* norm=None */
} melspec_cqt_norm;

/* The variable-Q transform (librosa.vqt): filter lengths Q sr / (f + gamma / alpha), so that low
 * bins get shorter filters; gamma 0 is the constant-Q transform. */
typedef enum melspec_vqt_gamma {
    MELSPEC_VQT_GAMMA_FIXED = 0, /* the config's gamma (0: librosa.cqt) */
    MELSPEC_VQT_GAMMA_ERB = 1    /* librosa.vqt's gamma=None: alpha 24.7 / 0.108 per bin, bandwidths
                                    a constant fraction of the equivalent rectangular bandwidth */
} melspec_vqt_gamma;

/* librosa's res_type: how the signal is halved between octaves (and early-downsampled). Every
 * value is reproduced, none is replaced by another resampler. */
typedef enum melspec_cqt_res_type {
    MELSPEC_CQT_RES_SOXR_HQ = 0,   /* "soxr_hq", librosa's default: libsoxr SOXR_HQ */
    MELSPEC_CQT_RES_SOXR_VHQ = 1,  /* "soxr_vhq": SOXR_VHQ */
    MELSPEC_CQT_RES_SOXR_MQ = 2,   /* "soxr_mq": SOXR_MQ */
    MELSPEC_CQT_RES_SOXR_LQ = 3,   /* "soxr_lq": SOXR_LQ */
    MELSPEC_CQT_RES_SOXR_QQ = 4,   /* "soxr_qq": SOXR_QQ (cubic, not band-limited) */
    MELSPEC_CQT_RES_POLYPHASE = 5  /* "polyphase": scipy.signal.resample_poly(x, 1, M), a
                                      Kaiser (beta 5) windowed-sinc FIR of 20 M + 1 taps */
} melspec_cqt_res_type;

/* Same ABI rules as melspec_config. Fields documented "0 = X" take zero as librosa's default X. */
typedef struct melspec_cqt_config {
    uint32_t struct_size;     /* sizeof(melspec_cqt_config), set by melspec_cqt_config_init */
    int32_t output;           /* melspec_cqt_output; COMPLEX */
    double sample_rate;       /* Hz; 22050 */
    int64_t hop_length;       /* samples between frames; 0 = 512 */
    double fmin;              /* Hz of the lowest bin; 0 = C1 = 32.703 Hz */
    int64_t n_bins;           /* 0 = 84 */
    int64_t bins_per_octave;  /* 0 = 12 */
    double tuning;            /* in fractions of a bin: fmin * 2^(tuning/bins_per_octave); 0 */
    double filter_scale;      /* > 0; 0 = 1 */
    double gamma;             /* librosa.vqt's bandwidth offset in Hz, >= 0; 0 = constant Q (cqt) */
    int32_t gamma_mode;       /* melspec_vqt_gamma; FIXED (the gamma field) */
    int32_t norm;             /* melspec_cqt_norm; L1 */
    int32_t window;           /* melspec_window of the wavelets, a kind without parameters; HANN */
    int32_t scale;            /* 1: divide each bin by sqrt(its filter length) (scale=True); 1 */
    double sparsity;          /* share of each basis row's mass dropped, [0, 1); 0.01 (0: none) */
    int32_t pad_mode;         /* melspec_pad_mode of the frames; CONSTANT */
    int32_t scaling;          /* melspec_scaling, MAGNITUDE output only; NONE */
    int32_t ref_mode;         /* melspec_ref_mode; VALUE */
    double ref;               /* 1.0 */
    double amin;              /* 0 = librosa's (1e-10 power, 1e-5 amplitude) */
    double top_db;            /* 80; INFINITY = no clamp */
    double log_offset;        /* for SCALING_LOG; 1e-6 */
    int32_t layout;           /* melspec_layout; BINS_MAJOR (n_bins, n_frames) */
    int32_t backend;          /* melspec_backend; AUTO */
    int32_t device_ordinal;   /* 0 */
    int32_t fixed_memory;     /* as melspec_config.fixed_memory; 0 */
    int64_t max_batch;        /* 0 = 1 */
    int64_t max_samples;      /* 0 = 60 s of audio */

    /* -- librosa's parameter space (issue 15) -- */
    int32_t res_type;         /* melspec_cqt_res_type; SOXR_HQ */
} melspec_cqt_config;

/* Fills *config with librosa.cqt's defaults and sets struct_size. NULL is ignored. */
MELSPEC_API void melspec_cqt_config_init(melspec_cqt_config *config);

/* sizeof(melspec_cqt_config) as this library was built. */
MELSPEC_API size_t melspec_cqt_config_size(void);

/*
 * Validates the config (librosa's errors become INVALID_ARGUMENT with a message: fmin <= 0, a top
 * filter reaching above Nyquist, filter_scale <= 0, sparsity outside [0, 1), ...), designs the
 * wavelet basis of every octave in double, and prepares the resamplers and all buffers. Same
 * out-parameter and message rules as melspec_plan_create.
 */
MELSPEC_API melspec_status melspec_cqt_plan_create(melspec_plan **plan,
                                                   const melspec_cqt_config *config,
                                                   char *message, size_t message_capacity);

/* The config a CQT plan runs with, every default resolved (UNSUPPORTED for other plans; and
 * melspec_plan_config is UNSUPPORTED for CQT plans: each kind has its own config struct, the plan
 * and everything else are one family). */
MELSPEC_API melspec_status melspec_cqt_plan_config(const melspec_plan *plan,
                                                   melspec_cqt_config *config);

/*
 * librosa.vqt(intervals=array) (issue 15): melspec_cqt_plan_create with the bins' frequency
 * ratios within an octave instead of equal temperament. n_intervals must equal
 * config->bins_per_octave (librosa's bins_per_octave = len(intervals)); the ratios, positive and
 * finite, are copied. The bins are librosa.interval_frequencies': the ratios times 2^octave, the
 * first n_bins of them sorted, times fmin * 2^(tuning / n_intervals); they must be distinct.
 */
MELSPEC_API melspec_status melspec_cqt_plan_create_with_intervals(melspec_plan **plan,
                                                                  const melspec_cqt_config *config,
                                                                  const double *intervals,
                                                                  int64_t n_intervals,
                                                                  char *message,
                                                                  size_t message_capacity);

/* The centre frequency of every bin in Hz (librosa.cqt_frequencies with tuning applied), n_bins
 * doubles, into frequencies (capacity_bytes bytes). */
MELSPEC_API melspec_status melspec_cqt_plan_frequencies(const melspec_plan *plan,
                                                        double *frequencies,
                                                        size_t capacity_bytes);

/* ---- allocator (issue 17; zstd's ZSTD_customMem) ---------------------------------------------
 *
 * A plan created with an allocator makes every host allocation of its own through it: the plan
 * and its designed arrays (window, filterbank, CQT basis), the CPU backend's state and buffers,
 * the KissFFT plans and scratch (KissFFT is handed the memory), the resampling filters of CQT
 * plans, the CUDA backend's host-side state (its structs, tables and host copies), and every
 * stream of the plan with its buffers; temporary arrays made while the plan is designed go
 * through it too. Growing a plan (melspec_plan_reserve, or an execute larger than the plan
 * holds) allocates through it; execute and stream push at sizes the plan holds allocate nothing.
 *
 * What cannot go through it, because those libraries take no allocator: FFTW's plans and buffers
 * (MELSPEC_FFTW=ON builds), libsoxr's resampler state (CPU constant-Q plans), and everything the
 * CUDA runtime, cuFFT and cuBLAS allocate, device memory and pinned host memory (cudaMallocHost)
 * included. The audio loader (melspec_audio.h) uses malloc.
 *
 * alloc returns memory aligned for any object type (as malloc does), or NULL when it cannot; a
 * NULL makes the call that needed it return MELSPEC_ERROR_OUT_OF_MEMORY with a message, having
 * freed what it had made. free receives only pointers alloc returned (never NULL). Both are
 * called from the thread that calls melspec, and for a plan's whole life: the opaque pointer and
 * whatever it points to must outlive the plan and its streams. Two plans may share an allocator
 * only if its functions are safe to call from the threads that use those plans.
 */
typedef struct melspec_allocator {
    void *(*alloc)(void *opaque, size_t size);
    void (*free)(void *opaque, void *pointer);
    void *opaque;
} melspec_allocator;

/* melspec_plan_create and melspec_cqt_plan_create with an allocator (copied; NULL or both
 * functions NULL = malloc and free). Only one of alloc and free set is INVALID_ARGUMENT. */
MELSPEC_API melspec_status melspec_plan_create_with_allocator(melspec_plan **plan,
                                                              const melspec_config *config,
                                                              const melspec_allocator *allocator,
                                                              char *message,
                                                              size_t message_capacity);
MELSPEC_API melspec_status melspec_cqt_plan_create_with_allocator(
    melspec_plan **plan, const melspec_cqt_config *config, const melspec_allocator *allocator,
    char *message, size_t message_capacity);

/* ---- backends -------------------------------------------------------------------------------- */

/* The CUDA backend is a plugin, libmelspec_cuda.so, that this library loads on the first call
 * that needs it (a plan with backend AUTO or CUDA, or one of the three queries below): from
 * $MELSPEC_CUDA_PLUGIN when set (a path), else beside libmelspec.so, else through the dynamic
 * linker's search. It is loaded once per process, thread-safely, and never unloaded; that one
 * load and its outcome are the only process-wide state, never changed afterwards. When it is
 * missing or cannot load (libcudart absent, another build's plugin), AUTO plans run on the CPU
 * and CUDA plans fail with MELSPEC_ERROR_BACKEND_UNAVAILABLE saying why. */

/* GPU faults (CUDA plans; issue 17, tests/gpu/test_cuda_faults.c on the CUDA emulator):
 *   - Out of device or pinned memory (cudaMalloc, cudaMallocHost, a cuFFT plan's or cuBLAS's
 *     allocations) returns MELSPEC_ERROR_OUT_OF_MEMORY; any other CUDA, cuFFT or cuBLAS failure
 *     MELSPEC_ERROR_DEVICE; both with a message naming the call and CUDA's error. A failed create
 *     returns no plan and frees all it made; a failed reserve leaves the plan as it was; a failed
 *     execute or stream push (its stream's state unchanged) leaves the plan usable: the next
 *     call, once memory is there again, gives the same results as if nothing had failed.
 *   - A sticky error (the device's context is lost: an illegal address, an uncorrectable ECC
 *     error, a failed launch...) returns MELSPEC_ERROR_DEVICE, and the plan that saw it is dead:
 *     every later call on it or its streams returns MELSPEC_ERROR_DEVICE saying so, and only
 *     melspec_stream_destroy and melspec_plan_destroy still work (they free every host block; the
 *     device memory goes with the lost context). CUDA accepts no more work in that process: the
 *     application must restart it to use the GPU again (CPU plans keep working).
 *   - No device (or no driver): CUDA plans fail with MELSPEC_ERROR_BACKEND_UNAVAILABLE, AUTO plans
 *     run on the CPU. */

/* 1 when the CUDA backend plugin is present and loaded, else 0. */
MELSPEC_API int melspec_cuda_compiled(void);

/* Number of usable CUDA devices (0 when none, when there is no driver, or no CUDA plugin). */
MELSPEC_API int melspec_cuda_device_count(void);

/* Whether `backend` is usable here: MELSPEC_OK or MELSPEC_ERROR_BACKEND_UNAVAILABLE
 * (INVALID_ARGUMENT for a value that is not a backend), with a sentence in message (may be
 * NULL) saying why: for CUDA the plugin's path, or the paths tried and the loader's error ("libcudart.so.13: cannot
 * open shared object file ..."), or the driver's answer when no device is usable. AUTO is always
 * usable; its message says which backend it picks and why. */
MELSPEC_API melspec_status melspec_backend_available(melspec_backend backend, char *message,
                                                     size_t message_capacity);

#ifdef __cplusplus
}
#endif

#endif /* MELSPEC_H */
