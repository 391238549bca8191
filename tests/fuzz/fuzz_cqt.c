/* Fuzz target: a fuzzer-chosen constant-Q config (sensible or arbitrary numbers: fmin, tuning,
 * filter_scale, gamma, sparsity, bins above Nyquist, every norm, window, output and scaling),
 * plan creation, then execute on a fuzzer-chosen signal into a buffer with guard bytes. Checks as
 * in fuzz_plan.c. The sensible fmin values start at 110 Hz so that one execution stays short
 * (the basis of a 32 Hz bin is tens of thousands of taps); the arbitrary ones reach everywhere. */
#include "fuzz_input.h"

#include "../../src/config.h"   /* MELSPEC_MAX_N_FFT */
#include "../../src/dsp/cqt.h" /* the default fmin, window bandwidths, early downsampling */

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
    c->max_samples = 1 + fuzz_size(in, 1023, 8191); /* the scratch create allocates */
    c->res_type = fuzz_pick(in, 8) == 7 ? fuzz_pick(in, 7) : 0; /* issue 15, and one past */
}

/* The fuzzer's bound on a design's size: the taps of all its filters, each at its octave's rate
 * (the dense time-domain kernel of src/cpu/cqt.c, which is also what designing it costs, and what
 * every frame of the execution multiplies). Designs above it are skipped: with the size drawn
 * freely, 1 input in 20 designed a basis of 10^5 to 10^7 taps and the fuzzer ran at 4
 * executions/s; under the bound an input takes about a millisecond. The bound is the fuzzer's
 * only: the library accepts filters up to MELSPEC_MAX_N_FFT (src/config.h) and refuses longer
 * ones, and the fuzzer still reaches that refusal (it is not skipped). */
#define MAX_FUZZED_BASIS_TAPS 2048.0
/* and on one execution's kernel product (frames x taps): longer signals are cut to fit */
#define MAX_FUZZED_PRODUCT 1e6

/* The basis size as src/dsp/cqt.c lays it out, after create's defaults (src/cqt_plan.c):
 * Q = filter_scale / alpha with alpha from bins_per_octave (equal log spacing: the same for one
 * bin and for many), a filter's length Q rate / (f + gamma / alpha), the early downsampling
 * librosa's way (by the filters' cutoff and the hop's factors of two), then the bins taken an
 * octave (bins_per_octave filters) at a time from the top, each octave's n_fft the next power of
 * two of its lowest filter, the rate and hop halved after an octave while the hop is even. NaN
 * where create refuses the numbers (the lowest filter, at the full rate, longer than
 * MELSPEC_MAX_N_FFT or not a length at all, a top bin reaching above Nyquist): create decides
 * those, not this estimate. */
static double basis_taps(const melspec_cqt_config *c)
{
    const int64_t n_bins = c->n_bins == 0 ? 84 : c->n_bins;
    const int64_t bins_per_octave = c->bins_per_octave == 0 ? 12 : c->bins_per_octave;
    const double fmin = c->fmin == 0.0 ? MELSPEC_CQT_DEFAULT_FMIN : c->fmin;
    const double filter_scale = c->filter_scale == 0.0 ? 1.0 : c->filter_scale;
    int64_t hop = c->hop_length == 0 ? 512 : c->hop_length;
    if (n_bins <= 0 || bins_per_octave <= 0 || hop <= 0 || !isfinite(c->tuning) ||
        !(fmin > 0.0 && filter_scale > 0.0 && c->gamma >= 0.0 && c->sample_rate > 0.0) ||
        !isfinite(fmin + filter_scale + c->gamma + c->sample_rate))
        return NAN; /* create's checks refuse these */
    const double step = pow(2.0, 2.0 / (double)bins_per_octave);
    const double alpha = (step - 1.0) / (step + 1.0);
    const double gamma = c->gamma_mode == MELSPEC_VQT_GAMMA_ERB ? alpha * 24.7 / 0.108 : c->gamma;
    const double f0 = fmin * pow(2.0, c->tuning / (double)bins_per_octave);
    const double q = filter_scale / alpha;
    const double lowest = q * c->sample_rate / (f0 + gamma / alpha);
    if (!(lowest > 0.0 && lowest <= (double)MELSPEC_MAX_N_FFT)) return NAN;
    const double top = f0 * pow(2.0, (double)(n_bins - 1) / (double)bins_per_octave);
    const double bandwidth = melspec_dsp_cqt_window_bandwidth((melspec_window)c->window);
    const double cutoff = top * (1.0 + 0.5 * bandwidth / q) + 0.5 * gamma;
    /* above Nyquist, or bins that underflow to 0 Hz: refused */
    if (!(f0 > 0.0 && cutoff <= c->sample_rate / 2.0 && isfinite(c->sample_rate / cutoff)))
        return NAN;
    const int64_t n_octaves = (n_bins + bins_per_octave - 1) / bins_per_octave;
    const int64_t early =
        melspec_dsp_cqt_early_downsample_count(c->sample_rate / 2.0, cutoff, hop, n_octaves);
    if (early < 0 || early > 62) return NAN;
    hop >>= early;
    const int64_t per_octave = bins_per_octave < n_bins ? bins_per_octave : n_bins;
    double rate = c->sample_rate / (double)((int64_t)1 << early), taps = 0.0;
    for (int64_t first = n_bins; first > 0; first -= per_octave) {
        const int64_t bottom = first > per_octave ? first - per_octave : 0;
        const double f = f0 * pow(2.0, (double)bottom / (double)bins_per_octave);
        const double length = q * rate / (f + gamma / alpha);
        taps += (double)(first - bottom) * pow(2.0, ceil(log2(length > 1.0 ? length : 1.0)));
        if (hop % 2 == 0) {
            hop /= 2;
            rate /= 2.0;
        }
    }
    return taps;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size, 0};
    melspec_cqt_config config;
    fill_config(&in, &config);
    const double taps = basis_taps(&config);
    if (taps > MAX_FUZZED_BASIS_TAPS) return 0; /* valid, but too big to fuzz quickly */
    melspec_plan *plan = (melspec_plan *)&in; /* must be overwritten with NULL on failure */
    char message[256] = "";
    const melspec_status created = melspec_cqt_plan_create(&plan, &config, message, sizeof message);
    fuzz_check_status(created);
    if (created != MELSPEC_OK) {
        if (plan != NULL || message[0] == '\0') abort();
        return 0;
    }
    melspec_cqt_config resolved;
    if (melspec_cqt_plan_config(plan, &resolved) != MELSPEC_OK) abort();
    const int64_t n_signals = 1 + fuzz_pick(&in, 2);
    int64_t n_samples = fuzz_size(&in, 1023, 5999);
    const double hop = (double)resolved.hop_length;
    if (((double)n_samples / hop + 1.0) * taps > MAX_FUZZED_PRODUCT)
        n_samples = (int64_t)((MAX_FUZZED_PRODUCT / taps - 1.0) * hop);
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
        /* log of an exact 0 with a log_offset that is 0 in float32 (a denormal one too): -inf */
        const int may_be_infinite =
            resolved.scaling == MELSPEC_SCALING_LOG && (float)resolved.log_offset == 0.0f;
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
