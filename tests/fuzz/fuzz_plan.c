/* Fuzz target: a fuzzer-chosen config (every transform, scaling, layout and dtype, sensible or
 * arbitrary numbers), plan creation, then execute on a fuzzer-chosen signal (0 to a few n_fft
 * samples, audio-like or raw floats with NaN/Inf/denormals/huge values) into a buffer with guard
 * bytes. Checks: every status is the library's own, a failed create leaves no plan and says why,
 * nothing is written past the stated capacity, finite audio gives finite float32 values where the
 * transform guarantees it. */
#include <stdio.h>

#include "fuzz_input.h"

static void fill_config(fuzz_input *in, melspec_config *c)
{
    static const double rates[] = {16000.0, 22050.0, 8000.0, 44100.0, 1000.0};
    static const double powers[] = {2.0, 1.0, 0.5, 1.5};
    static const double fmins[] = {0.0, 55.0, 300.0};
    static const double fmaxs[] = {0.0, 7600.0, 4000.0};
    static const double refs[] = {1.0, 0.5, 1e-3};
    static const double amins[] = {0.0, 1e-10, 1e-5};
    static const double top_dbs[] = {80.0, INFINITY, 8.0};
    static const double log_offsets[] = {1e-6, 1.0, 0.0};
    melspec_config_init(c);
    c->backend = MELSPEC_BACKEND_CPU;
    c->transform = fuzz_pick(in, 4) == 3 ? (int32_t)fuzz_u8(in) - 128 : fuzz_pick(in, 3);
    c->sample_rate = fuzz_double(in, rates, 5);
    c->n_fft = 1 + fuzz_size(in, 63, 511); /* mostly small: the FFTs are most of the time */
    c->hop_length = fuzz_u16(in) % (c->n_fft + 2);
    c->win_length = fuzz_u16(in) % (c->n_fft + 2);
    c->window = fuzz_pick(in, 4);
    c->center = fuzz_pick(in, 3);
    c->pad_mode = fuzz_pick(in, 4);
    c->mel_scale = fuzz_pick(in, 3);
    c->power = fuzz_double(in, powers, 4);
    c->n_mels = fuzz_u8(in) % 70;
    c->fmin = fuzz_double(in, fmins, 3);
    c->fmax = fuzz_double(in, fmaxs, 3);
    c->mel_norm = fuzz_pick(in, 3);
    c->scaling = fuzz_pick(in, 5);
    c->ref = fuzz_double(in, refs, 3);
    c->amin = fuzz_double(in, amins, 3);
    c->top_db = fuzz_double(in, top_dbs, 3);
    c->log_offset = fuzz_double(in, log_offsets, 3);
    c->ref_mode = fuzz_pick(in, 3);
    c->layout = fuzz_pick(in, 3);
    c->output_dtype = fuzz_pick(in, 4);
    c->fixed_memory = fuzz_pick(in, 2);
    c->max_batch = fuzz_pick(in, 4);
    /* the scratch create allocates; 0 would size the plan for 60 s: slow to fuzz */
    c->max_samples = fuzz_size(in, 255, 4095);
    if (c->max_samples == 0) c->max_samples = 1;
    c->mel_product = fuzz_pick(in, 4);
    /* the feature stage (issue 15), last so that older corpus inputs (which end before) keep
     * meaning what they did: feature NONE */
    static const double lifters[] = {0.0, 22.0, 3.5};
    static const double gains[] = {0.98, 0.0, 0.5};
    static const double biases[] = {2.0, 0.0, 10.0};
    static const double pcen_powers[] = {0.5, 0.0, 0.25};
    static const double time_constants[] = {0.4, 0.06, 1e-3};
    static const double epsilons[] = {1e-6, 1e-3, 1e-10};
    static const double bs[] = {-1.0, 0.3, 1.0};
    c->feature = fuzz_pick(in, 4);
    c->mfcc_dct_type = fuzz_pick(in, 5);
    c->mfcc_norm = fuzz_pick(in, 3);
    c->n_mfcc = fuzz_u8(in) % 140;
    c->mfcc_lifter = fuzz_double(in, lifters, 3);
    c->pcen_gain = fuzz_double(in, gains, 3);
    c->pcen_bias = fuzz_double(in, biases, 3);
    c->pcen_power = fuzz_double(in, pcen_powers, 3);
    c->pcen_time_constant = fuzz_double(in, time_constants, 3);
    c->pcen_eps = fuzz_double(in, epsilons, 3);
    c->pcen_b = fuzz_double(in, bs, 3);
    c->pcen_max_size = 1 + fuzz_pick(in, 6);
    /* issue 15: every window kind (and one past) with fuzzed parameters, numeric mel norms */
    static const double window_params[] = {0.0, 0.5, 8.0, 4.0, 30.0, 1.0};
    static const double norm_ps[] = {1.0, 2.0, INFINITY, -INFINITY, 0.0};
    if (fuzz_pick(in, 2)) {
        c->window = fuzz_pick(in, 23);
        for (int i = 0; i < 3; i++) c->window_params[i] = fuzz_double(in, window_params, 6);
    }
    if (fuzz_pick(in, 2)) {
        c->mel_norm = MELSPEC_MEL_NORM_P;
        c->mel_norm_p = fuzz_double(in, norm_ps, 5);
    }
}

/* What the transform guarantees for finite input in [-1, 1): finite float32 values, unless the
 * natural log of an exact zero is asked for (a log_offset that is 0 in float32: -inf by
 * definition), or the numbers
 * leave the physical range (a sample rate below 1 Hz: Slaney weights near FLT_MAX may overflow
 * once multiplied; a power above 2: |X|^power beyond float32). */
static int expects_finite(const melspec_config *c)
{
    /* features: PCEN's gain (eps + M)^-gain and a huge lifter can leave float32 as librosa's
     * would; MFCC of finite values with a physical lifter stays finite */
    if (c->feature == MELSPEC_FEATURE_PCEN ||
        (c->feature == MELSPEC_FEATURE_MFCC && !(c->mfcc_lifter <= 1e3)))
        return 0;
    /* general_hamming's alpha scales the window (samples alpha - (1 - alpha) cos): a window
     * that float32 holds can still square past it, as librosa's float32 output would */
    if (c->window == MELSPEC_WINDOW_GENERAL_HAMMING && !(fabs(c->window_params[0]) <= 1e6))
        return 0;
    return c->output_dtype == MELSPEC_DTYPE_FLOAT32 && c->sample_rate >= 1.0 && c->power <= 2.0 &&
           !(c->scaling == MELSPEC_SCALING_LOG && (float)c->log_offset == 0.0f);
}

static void check_finite(const melspec_plan *plan, const void *output, size_t n_bytes)
{
    melspec_config resolved;
    if (melspec_plan_config(plan, &resolved) != MELSPEC_OK) abort();
    if (!expects_finite(&resolved)) return;
    const float *values = output;
    for (size_t i = 0; i < n_bytes / sizeof(float); i++) {
        if (isfinite(values[i])) continue;
#ifdef FUZZ_PLAN_EXPLAIN
        fprintf(stderr, "value %zu = %g: transform %d n_fft %lld hop %lld win %lld power %g "
                "scaling %d ref %g amin %g top_db %g log_offset %g ref_mode %d fmin %g fmax %g "
                "sr %g n_mels %lld\n", i, (double)values[i], resolved.transform,
                (long long)resolved.n_fft, (long long)resolved.hop_length,
                (long long)resolved.win_length, resolved.power, resolved.scaling, resolved.ref,
                resolved.amin, resolved.top_db, resolved.log_offset, resolved.ref_mode,
                resolved.fmin, resolved.fmax, resolved.sample_rate, (long long)resolved.n_mels);
#endif
        abort();
    }
}

/* The most frames x n_fft one execute may transform: a long signal at hop 1 with a large n_fft
 * (a prime one goes through Bluestein: three FFTs of twice its size per frame) cost up to a
 * second under ASan, and the corpus came to favour such inputs (its rate fell from 20,000 to
 * 1,600 executions/s in half an hour); longer signals are cut to fit. */
#define MAX_FUZZED_FRAME_WORK 65536

static void run_execute(fuzz_input *in, melspec_plan *plan, const melspec_config *c)
{
    const int64_t n_signals = 1 + fuzz_pick(in, 3);
    int64_t n_samples = fuzz_u16(in) % (3 * c->n_fft + 8);
    melspec_config resolved;
    if (melspec_plan_config(plan, &resolved) != MELSPEC_OK) abort();
    const int64_t frame_work = n_signals * resolved.n_fft; /* per frame of every signal */
    if ((n_samples / resolved.hop_length + 1) * frame_work > MAX_FUZZED_FRAME_WORK)
        n_samples = (MAX_FUZZED_FRAME_WORK / frame_work - 1) * resolved.hop_length;
    const enum fuzz_signal_kind kind =
        fuzz_pick(in, 4) == 0 ? FUZZ_SIGNAL_EXTREME : FUZZ_SIGNAL_AUDIO;
    float *signal = fuzz_signal(in, kind, n_signals * n_samples);
    size_t n_bytes = 0;
    const melspec_status shape = melspec_plan_output_bytes(plan, n_signals, n_samples, &n_bytes);
    fuzz_check_status(shape);
    /* sometimes a buffer a little too small: must be refused without a write past it */
    const size_t short_by = shape == MELSPEC_OK && fuzz_pick(in, 8) == 0 ? 1 + fuzz_u8(in) : 0;
    const size_t capacity = n_bytes > short_by ? n_bytes - short_by : 0;
    unsigned char *output = fuzz_guarded_alloc(capacity);
    const melspec_status status =
        melspec_execute(plan, signal, n_signals, n_samples, output, capacity);
    fuzz_check_status(status);
    fuzz_check_guard(output, capacity);
    if (status == MELSPEC_OK) {
        if (short_by != 0 || shape != MELSPEC_OK) abort(); /* accepted what it had to refuse */
        if (kind == FUZZ_SIGNAL_AUDIO) check_finite(plan, output, n_bytes);
    } else if (melspec_plan_last_error(plan)[0] == '\0') {
        abort(); /* a failure without a reason */
    }
    free(output);
    free(signal);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size, 0};
    melspec_config config;
    fill_config(&in, &config);
    melspec_plan *plan = (melspec_plan *)&in; /* must be overwritten with NULL on failure */
    char message[256] = "";
    const melspec_status created = melspec_plan_create(&plan, &config, message, sizeof message);
    fuzz_check_status(created);
    if (created != MELSPEC_OK) {
        if (plan != NULL || message[0] == '\0') abort();
        return 0;
    }
    const int n_calls = 1 + fuzz_pick(&in, 3); /* a second call reuses (or grows) the buffers */
    for (int call = 0; call < n_calls; call++) run_execute(&in, plan, &config);
    melspec_plan_destroy(plan);
    return 0;
}
