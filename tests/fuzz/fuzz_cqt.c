/* Fuzz target: a fuzzer-chosen constant-Q config (sensible or arbitrary numbers: fmin, tuning,
 * filter_scale, gamma, sparsity, bins above Nyquist, every norm, window, output and scaling),
 * plan creation, then execute on a fuzzer-chosen signal into a buffer with guard bytes. Checks as
 * in fuzz_plan.c. The sensible fmin values start at 110 Hz so that one execution stays short
 * (the basis of a 32 Hz bin is tens of thousands of taps); the arbitrary ones reach everywhere. */
#include "fuzz_input.h"

static void fill_config(fuzz_input *in, melspec_cqt_config *c)
{
    static const double rates[] = {22050.0, 16000.0, 8000.0, 44100.0};
    static const double fmins[] = {110.0, 220.0, 440.0, 1000.0, 3000.0};
    static const double tunings[] = {0.0, 0.3, -0.49};
    static const double filter_scales[] = {0.0, 1.0, 0.5, 2.0};
    static const double gammas[] = {0.0, 5.0, 30.0};
    static const double sparsities[] = {0.01, 0.0, 0.5};
    static const double refs[] = {1.0, 0.25};
    static const double top_dbs[] = {80.0, INFINITY};
    static const double log_offsets[] = {1e-6, 1.0};
    static const int64_t hops[] = {0, 512, 256, 64, 100, 1};
    melspec_cqt_config_init(c);
    c->backend = MELSPEC_BACKEND_CPU;
    c->output = fuzz_pick(in, 3);
    c->sample_rate = fuzz_double(in, rates, 4);
    c->hop_length = fuzz_pick(in, 8) == 7 ? (int64_t)fuzz_u16(in) - 8 : hops[fuzz_pick(in, 6)];
    c->fmin = fuzz_double(in, fmins, 5);
    c->n_bins = fuzz_u8(in) % 50;
    c->bins_per_octave = fuzz_u8(in) % 40;
    c->tuning = fuzz_double(in, tunings, 3);
    c->filter_scale = fuzz_double(in, filter_scales, 4);
    c->gamma = fuzz_double(in, gammas, 3);
    c->gamma_mode = fuzz_pick(in, 3);
    c->norm = fuzz_pick(in, 5);
    c->window = fuzz_pick(in, 4);
    c->scale = fuzz_pick(in, 3);
    c->sparsity = fuzz_double(in, sparsities, 3);
    c->pad_mode = fuzz_pick(in, 4);
    c->scaling = fuzz_pick(in, 5);
    c->ref_mode = fuzz_pick(in, 3);
    c->ref = fuzz_double(in, refs, 2);
    c->top_db = fuzz_double(in, top_dbs, 2);
    c->log_offset = fuzz_double(in, log_offsets, 2);
    c->layout = fuzz_pick(in, 3);
    c->fixed_memory = fuzz_pick(in, 2);
    c->max_batch = fuzz_pick(in, 3);
    c->max_samples = 1 + fuzz_u16(in) % 8192;
    c->res_type = fuzz_pick(in, 8) == 7 ? fuzz_pick(in, 7) : 0; /* issue 15, and one past */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size, 0};
    melspec_cqt_config config;
    fill_config(&in, &config);
    melspec_plan *plan = (melspec_plan *)&in; /* must be overwritten with NULL on failure */
    char message[256] = "";
    const melspec_status created = melspec_cqt_plan_create(&plan, &config, message, sizeof message);
    fuzz_check_status(created);
    if (created != MELSPEC_OK) {
        if (plan != NULL || message[0] == '\0') abort();
        return 0;
    }
    const int64_t n_signals = 1 + fuzz_pick(&in, 2);
    const int64_t n_samples = fuzz_u16(&in) % 6000;
    const enum fuzz_signal_kind kind =
        fuzz_pick(&in, 4) == 0 ? FUZZ_SIGNAL_EXTREME : FUZZ_SIGNAL_AUDIO;
    float *signal = fuzz_signal(&in, kind, n_signals * n_samples);
    size_t n_bytes = 0;
    const melspec_status shape = melspec_plan_output_bytes(plan, n_signals, n_samples, &n_bytes);
    fuzz_check_status(shape);
    unsigned char *output = fuzz_guarded_alloc(n_bytes);
    const melspec_status status =
        melspec_execute(plan, signal, n_signals, n_samples, output, n_bytes);
    fuzz_check_status(status);
    fuzz_check_guard(output, n_bytes);
    if (status == MELSPEC_OK) {
        if (shape != MELSPEC_OK) abort();
        melspec_cqt_config resolved;
        if (melspec_cqt_plan_config(plan, &resolved) != MELSPEC_OK) abort();
        const int may_be_infinite =
            resolved.scaling == MELSPEC_SCALING_LOG && resolved.log_offset == 0.0;
        if (kind == FUZZ_SIGNAL_AUDIO && !may_be_infinite) {
            const float *values = (const float *)output;
            for (size_t i = 0; i < n_bytes / sizeof(float); i++)
                if (!isfinite(values[i])) abort();
        }
    } else if (melspec_plan_last_error(plan)[0] == '\0') {
        abort();
    }
    free(output);
    free(signal);
    melspec_plan_destroy(plan);
    return 0;
}
