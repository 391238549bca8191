/* The lane-parallel FFT's kernel (fft_lanes.h), written once on GCC/Clang vector extensions and
 * compiled twice: fft_lanes_avx2.c (-mavx2 -mfma) and fft_lanes_portable.c. The includer
 * defines LANES_EXECUTE, LANES_EXECUTE_POWER (8 frames), LANES_EXECUTE_ONE,
 * LANES_EXECUTE_ONE_POWER (a frame alone), LANES_GATHER and LANES_MEL, the names of the entry
 * points, and LANES_WIDTH, the floats of one hardware vector: 8 (AVX2), or 4 (SSE2, NEON: the 8
 * lanes are then computed as two groups of 4, since compilers lower 8-float vectors on 4-float
 * hardware with stack spills).
 *
 * A complex vector is 16 floats: the real parts of the 8 lanes, then their imaginary parts. Every
 * operation is element-wise on whole vectors, so each lane sees exactly the arithmetic of the
 * scalar algorithm, whatever the other lanes hold or which group it is in. A frame alone runs the
 * same butterflies with a vector holding values of that one frame (below), so it gets the bits
 * it gets in a block (test_fft checks it). */
/* Clang, with -ffp-contract=fast, fuses a * b + c into FMAs across statements in its code
 * generator, where the result depended on what surrounded a butterfly: a frame alone and the
 * same frame in a block got different bits. Within one expression (C's FP_CONTRACT ON) the
 * fusion is decided by the source alone, the same in both drivers. GCC fuses on its GIMPLE,
 * which both drivers share; test_fft checks the bits under either compiler. */
#if defined(__clang__)
#pragma clang fp contract(on)
#endif

#include <math.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h> /* the __v8sf, __v4sf types of the sqrt builtins */
#endif
#include <stdint.h>
#include <string.h>

#include "fft_lanes.h"

#if LANES_WIDTH == 8 || LANES_WIDTH == 4
typedef float lanes_v __attribute__((vector_size(4 * LANES_WIDTH)));
typedef int32_t lanes_vi __attribute__((vector_size(4 * LANES_WIDTH)));
#else
#error "LANES_WIDTH must be 8 or 4"
#endif

#if defined(__clang__)
#define LANES_SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define LANES_SHUFFLE(a, b, ...) __builtin_shuffle(a, b, (lanes_vi){__VA_ARGS__})
#endif

typedef struct lanes_cv {
    lanes_v re, im;
} lanes_cv;

/* memcpy: vectors from float buffers without aliasing or alignment assumptions (one move each) */
static inline lanes_v v_load(const float *p)
{
    lanes_v v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void v_store(float *p, lanes_v v) { memcpy(p, &v, sizeof v); }

static inline lanes_v v_splat(float x)
{
    return (lanes_v){0.0f} + x; /* a compound literal of the vector (or float) type */
}

/* complex vector number `index` of a buffer */
static inline lanes_cv c_load(const float *buffer, int64_t index)
{
    const float *p = buffer + 2 * MELSPEC_FFT_LANES * index;
    return (lanes_cv){v_load(p), v_load(p + MELSPEC_FFT_LANES)};
}

static inline void c_store(float *buffer, int64_t index, lanes_cv c)
{
    float *p = buffer + 2 * MELSPEC_FFT_LANES * index;
    v_store(p, c.re);
    v_store(p + MELSPEC_FFT_LANES, c.im);
}

static inline lanes_cv c_add(lanes_cv a, lanes_cv b) { return (lanes_cv){a.re + b.re, a.im + b.im}; }
static inline lanes_cv c_sub(lanes_cv a, lanes_cv b) { return (lanes_cv){a.re - b.re, a.im - b.im}; }

/* a times the complex w (vectors: w's parts for each lane) */
static inline lanes_cv c_mulv(lanes_cv a, lanes_cv w)
{
    return (lanes_cv){a.re * w.re - a.im * w.im, a.re * w.im + a.im * w.re};
}

/* the scalar complex w in every lane */
static inline lanes_cv c_splat(const float *w) { return (lanes_cv){v_splat(w[0]), v_splat(w[1])}; }

/* -i a */
static inline lanes_cv c_mul_minus_i(lanes_cv a) { return (lanes_cv){a.im, -a.re}; }

/* ---- butterflies: y_j = w_j DFT_r(a)_j (w_0 = 1: w[j - 1] is w_j) ---------------------------
 * One copy of each radix's arithmetic, run by both drivers below: on the 8 frames of a block
 * (a vector is one value of 8 frames) and on a frame alone (a vector is 8 values of one frame).
 * The same expressions in the same file with the same flags: every value gets the same bits
 * either way, whichever driver, lane or vector element computes it. */

static inline void butterfly_2(const lanes_cv *a, const lanes_cv *w, lanes_cv *y)
{
    y[0] = c_add(a[0], a[1]);
    y[1] = c_mulv(c_sub(a[0], a[1]), w[0]);
}

static inline void butterfly_3(const lanes_cv *a, const lanes_cv *w, lanes_cv *y)
{
    const lanes_v half = v_splat(0.5f), sin60 = v_splat(0.866025403784438646763723170752936183f);
    const lanes_cv t = c_add(a[1], a[2]), d = c_sub(a[1], a[2]);
    const lanes_cv mid = {a[0].re - half * t.re, a[0].im - half * t.im};
    const lanes_cv rot = {sin60 * d.im, -(sin60 * d.re)}; /* -i sin60 d */
    y[0] = c_add(a[0], t);
    y[1] = c_mulv(c_add(mid, rot), w[0]);
    y[2] = c_mulv(c_sub(mid, rot), w[1]);
}

static inline void butterfly_4(const lanes_cv *a, const lanes_cv *w, lanes_cv *y)
{
    const lanes_cv t0 = c_add(a[0], a[2]), t1 = c_sub(a[0], a[2]), t2 = c_add(a[1], a[3]),
                   t3 = c_mul_minus_i(c_sub(a[1], a[3]));
    y[0] = c_add(t0, t2);
    y[1] = c_mulv(c_add(t1, t3), w[0]);
    y[2] = c_mulv(c_sub(t0, t2), w[1]);
    y[3] = c_mulv(c_sub(t1, t3), w[2]);
}

static inline void butterfly_5(const lanes_cv *a, const lanes_cv *w, lanes_cv *y)
{
    const lanes_v c1 = v_splat(0.309016994374947424102293417182819059f),   /* cos(2 pi/5) */
        c2 = v_splat(-0.809016994374947424102293417182819059f),            /* cos(4 pi/5) */
        s1 = v_splat(0.951056516295153572116439333379382143f),             /* sin(2 pi/5) */
        s2 = v_splat(0.587785252292473129168705954639072769f);             /* sin(4 pi/5) */
    const lanes_cv t1 = c_add(a[1], a[4]), t2 = c_add(a[2], a[3]), t3 = c_sub(a[1], a[4]),
                   t4 = c_sub(a[2], a[3]);
    const lanes_cv b1 = {a[0].re + c1 * t1.re + c2 * t2.re, a[0].im + c1 * t1.im + c2 * t2.im};
    const lanes_cv b2 = {a[0].re + c2 * t1.re + c1 * t2.re, a[0].im + c2 * t1.im + c1 * t2.im};
    /* e1 = -i (s1 t3 + s2 t4), e2 = -i (s2 t3 - s1 t4) */
    const lanes_cv e1 =
        c_mul_minus_i((lanes_cv){s1 * t3.re + s2 * t4.re, s1 * t3.im + s2 * t4.im});
    const lanes_cv e2 =
        c_mul_minus_i((lanes_cv){s2 * t3.re - s1 * t4.re, s2 * t3.im - s1 * t4.im});
    y[0] = c_add(a[0], c_add(t1, t2));
    y[1] = c_mulv(c_add(b1, e1), w[0]);
    y[2] = c_mulv(c_add(b2, e2), w[1]);
    y[3] = c_mulv(c_sub(b2, e2), w[2]);
    y[4] = c_mulv(c_sub(b1, e1), w[3]);
}

/* Any odd radix r: the pairs k, r - k share cosines and sines (y_j and y_(r-j) together). */
static inline void butterfly_odd(int64_t r, const float *roots, const lanes_cv *a,
                                 const lanes_cv *w, lanes_cv *y)
{
    const int64_t half = (r - 1) / 2;
    lanes_cv sums[MELSPEC_FFT_LANES_MAX_RADIX / 2 + 1], diffs[MELSPEC_FFT_LANES_MAX_RADIX / 2 + 1];
    lanes_cv total = a[0];
    for (int64_t k = 1; k <= half; k++) {
        sums[k] = c_add(a[k], a[r - k]);
        diffs[k] = c_sub(a[k], a[r - k]);
        total = c_add(total, sums[k]);
    }
    y[0] = total;
    for (int64_t j = 1; j <= half; j++) {
        lanes_cv even = a[0], odd = {v_splat(0.0f), v_splat(0.0f)};
        for (int64_t k = 1; k <= half; k++) {
            const float *root = roots + 2 * ((j * k) % r); /* cos, -sin */
            const lanes_v c = v_splat(root[0]), sn = v_splat(root[1]);
            even.re += c * sums[k].re;
            even.im += c * sums[k].im;
            odd.re += sn * diffs[k].re;
            odd.im += sn * diffs[k].im;
        }
        /* y_j = even + i odd, y_(r-j) = even - i odd */
        const lanes_cv i_odd = {-odd.im, odd.re};
        y[j] = c_mulv(c_add(even, i_odd), w[j - 1]);
        y[r - j] = c_mulv(c_sub(even, i_odd), w[r - j - 1]);
    }
}

/* radix r's butterfly; inlined where r is a constant, the switch then folds away */
static inline __attribute__((always_inline)) void butterfly(int64_t r, const float *roots,
                                                            const lanes_cv *a, const lanes_cv *w,
                                                            lanes_cv *y)
{
    switch (r) {
    case 2: butterfly_2(a, w, y); break;
    case 3: butterfly_3(a, w, y); break;
    case 4: butterfly_4(a, w, y); break;
    case 5: butterfly_5(a, w, y); break;
    default: butterfly_odd(r, roots, a, w, y); break;
    }
}

/* ---- Stockham passes: y[q + s (r p + j)] = w^(p j) DFT_r(x[q + s (p + k m)], k < r)_j ----
 * On a block: x, y in lane layout, complex value i at [16 i] (the 8 real parts) and [16 i + 8]
 * (the 8 imaginary parts); each (p, q) one butterfly of 8 frames at once. */
static inline __attribute__((always_inline)) void lanes_pass(const melspec_lanes_stage *st,
                                                             int64_t r, const float *x, float *y)
{
    const int64_t m = st->m, s = st->stride;
    lanes_cv w[MELSPEC_FFT_LANES_MAX_RADIX - 1], a[MELSPEC_FFT_LANES_MAX_RADIX],
        out[MELSPEC_FFT_LANES_MAX_RADIX];
    for (int64_t p = 0; p < m; p++) {
        for (int64_t j = 1; j < r; j++) w[j - 1] = c_splat(st->twiddles + 2 * ((r - 1) * p + j - 1));
        for (int64_t q = 0; q < s; q++) {
            for (int64_t k = 0; k < r; k++) a[k] = c_load(x, q + s * (p + k * m));
            butterfly(r, st->roots, a, w, out);
            for (int64_t j = 0; j < r; j++) c_store(y, q + s * (r * p + j), out[j]);
        }
    }
}

static void pass_2(const melspec_lanes_stage *st, const float *x, float *y) { lanes_pass(st, 2, x, y); }
static void pass_3(const melspec_lanes_stage *st, const float *x, float *y) { lanes_pass(st, 3, x, y); }
static void pass_4(const melspec_lanes_stage *st, const float *x, float *y) { lanes_pass(st, 4, x, y); }
static void pass_5(const melspec_lanes_stage *st, const float *x, float *y) { lanes_pass(st, 5, x, y); }
static void pass_odd(const melspec_lanes_stage *st, const float *x, float *y)
{
    lanes_pass(st, st->radix, x, y);
}

/* ---- in: windowed frames into lane layout, an 8 x 8 transpose per 8 samples ---------------- */

/* rows[f] = W samples of frame f; afterwards rows[i] = sample i of the W frames */
static inline void transpose(lanes_v rows[LANES_WIDTH])
{
#if LANES_WIDTH == 8
    lanes_v t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = LANES_SHUFFLE(rows[i], rows[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = LANES_SHUFFLE(rows[i], rows[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = LANES_SHUFFLE(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 1] = LANES_SHUFFLE(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[i + 2] = LANES_SHUFFLE(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 3] = LANES_SHUFFLE(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 4; i++) {
        rows[i] = LANES_SHUFFLE(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        rows[i + 4] = LANES_SHUFFLE(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
#elif LANES_WIDTH == 4
    const lanes_v t0 = LANES_SHUFFLE(rows[0], rows[1], 0, 4, 1, 5),
                  t1 = LANES_SHUFFLE(rows[0], rows[1], 2, 6, 3, 7),
                  t2 = LANES_SHUFFLE(rows[2], rows[3], 0, 4, 1, 5),
                  t3 = LANES_SHUFFLE(rows[2], rows[3], 2, 6, 3, 7);
    rows[0] = LANES_SHUFFLE(t0, t2, 0, 1, 4, 5);
    rows[1] = LANES_SHUFFLE(t0, t2, 2, 3, 6, 7);
    rows[2] = LANES_SHUFFLE(t1, t3, 0, 1, 4, 5);
    rows[3] = LANES_SHUFFLE(t1, t3, 2, 3, 6, 7);
#endif
}

/* Sample i of lane f (frames and out of one group of LANES_WIDTH lanes) goes to float
 * (i * spacing * 8 + f), windowed. */
static void gather_spaced(int64_t n, int64_t spacing, const float *const *frames,
                          const float *window, float *out)
{
    enum { W = LANES_WIDTH };
    const int64_t blocks = n / W;
    for (int64_t b = 0; b < blocks; b++) {
        const lanes_v w = v_load(window + W * b);
        lanes_v rows[W];
        for (int f = 0; f < W; f++) rows[f] = v_load(frames[f] + W * b) * w;
        transpose(rows);
        for (int i = 0; i < W; i++) v_store(out + (W * b + i) * spacing * 8, rows[i]);
    }
    for (int64_t i = W * blocks; i < n; i++)
        for (int f = 0; f < W; f++) out[i * spacing * 8 + f] = frames[f][i] * window[i];
}

/* Even n: sample i at (i * 8 + f), so that the pairs 2j, 2j + 1 are the complex point j; odd n:
 * at (2 i * 8 + f) with a zero imaginary part. */
static void gather(const melspec_lanes_plan *plan, const float *const *frames, const float *window,
                   float *out)
{
    gather_spaced(plan->n, plan->even ? 1 : 2, frames, window, out);
    if (!plan->even)
        for (int64_t i = 0; i < plan->n; i++) v_store(out + (2 * i + 1) * 8, v_splat(0.0f));
}

#ifdef LANES_GATHER
void LANES_GATHER(int64_t n, const float *const *frames, const float *window, float *out)
{
    for (int group = 0; group < MELSPEC_FFT_LANES; group += LANES_WIDTH)
        gather_spaced(n, 1, frames + group, window, out + group);
}
#endif

/* ---- out: the spectrum of the real input ------------------------------------------------- */

/* Even n: X_k = (Z_k + conj Z_(m-k)) / 2 + (w^k / 2) (-i) (Z_k - conj Z_(m-k)), k = 0..m;
 * a = Z_k, b = Z_(m-k) (Z_m is Z_0), rotation = w^k / 2. */
static inline lanes_cv split_value(lanes_cv a, lanes_cv b, lanes_cv rotation)
{
    const lanes_v half = v_splat(0.5f);
    const lanes_cv sum = {a.re + b.re, a.im - b.im}, diff = {a.re - b.re, a.im + b.im};
    const lanes_cv rotated = c_mulv(c_mul_minus_i(diff), rotation);
    return (lanes_cv){half * sum.re + rotated.re, half * sum.im + rotated.im};
}

static inline lanes_cv split_bin(const melspec_lanes_plan *plan, const float *z, int64_t k)
{
    const int64_t m = plan->m;
    return split_value(c_load(z, k == m ? 0 : k), c_load(z, k == 0 ? 0 : m - k),
                       c_splat(plan->half_rotation + 2 * k));
}

/* a * b, kept apart from the addition that follows: with -ffp-contract=fast (the AVX2 + FMA
 * builds) the compiler would fuse re * re + im * im into one FMA, which rounds otherwise than
 * melspec_power_value, the rest of the library's |X|^2 (compiled without contraction). */
static inline lanes_v v_mul_apart(lanes_v a, lanes_v b)
{
    lanes_v product = a * b;
#if defined(__FMA__) && (defined(__x86_64__) || defined(__i386__))
    __asm__("" : "+x"(product));
#endif
    return product;
}

static inline lanes_v squared_magnitude(lanes_cv x)
{
    return v_mul_apart(x.re, x.re) + v_mul_apart(x.im, x.im);
}

/* the square root of each element, correctly rounded as sqrtf */
static inline lanes_v v_sqrt(lanes_v v)
{
#if LANES_WIDTH == 8 && defined(__AVX__)
    return (lanes_v)__builtin_ia32_sqrtps256((__v8sf)v);
#elif LANES_WIDTH == 4 && defined(__SSE__)
    return (lanes_v)__builtin_ia32_sqrtps((__v4sf)v);
#else
    for (int i = 0; i < LANES_WIDTH; i++) v[i] = sqrtf(v[i]);
    return v;
#endif
}

/* |X|^2, or |X| where magnitude: melspec_power_value's SQUARED and MAGNITUDE, bit for bit */
static inline lanes_v bin_power(lanes_cv x, int magnitude)
{
    const lanes_v squared = squared_magnitude(x);
    return magnitude ? v_sqrt(squared) : squared;
}

/* The complex transform of the group of LANES_WIDTH lanes from `group` on: gathered into one
 * work buffer, the passes between the two; returns the buffer holding the result (the same
 * buffers for every group, LANES_WIDTH floats further). */
static const float *transform_group(const melspec_lanes_plan *plan, const float *const *frames,
                                    const float *window, int group)
{
    float *x = plan->work[0] + group, *y = plan->work[1] + group;
    gather(plan, frames + group, window, x);
    for (int s = 0; s < plan->n_stages; s++) {
        const melspec_lanes_stage *st = &plan->stages[s];
        switch (st->radix) {
        case 2: pass_2(st, x, y); break;
        case 3: pass_3(st, x, y); break;
        case 4: pass_4(st, x, y); break;
        case 5: pass_5(st, x, y); break;
        default: pass_odd(st, x, y); break;
        }
        float *swap = x;
        x = y;
        y = swap;
    }
    return x;
}

void LANES_EXECUTE(const melspec_lanes_plan *plan, const float *const *frames,
                   const float *window)
{
    for (int group = 0; group < MELSPEC_FFT_LANES; group += LANES_WIDTH) {
        const float *z = transform_group(plan, frames, window, group);
        float *out = plan->output + group;
        if (plan->even) {
            for (int64_t k = 0; k <= plan->m; k++) c_store(out, k, split_bin(plan, z, k));
        } else {
            for (int64_t k = 0; k <= plan->n / 2; k++) c_store(out, k, c_load(z, k));
        }
    }
}

/* |X_k|^2 (or |X_k| where magnitude) of every bin straight from the transform, at
 * out[k * 8 + f]: the bits of melspec_power_value (SQUARED, MAGNITUDE) on LANES_EXECUTE's
 * spectrum, without storing the spectrum and reading it back (music: 65 KB a block through L2,
 * twice). */
void LANES_EXECUTE_POWER(const melspec_lanes_plan *plan, const float *const *frames,
                         const float *window, int magnitude, float *out)
{
    for (int group = 0; group < MELSPEC_FFT_LANES; group += LANES_WIDTH) {
        const float *z = transform_group(plan, frames, window, group);
        if (plan->even) {
            for (int64_t k = 0; k <= plan->m; k++)
                v_store(out + k * MELSPEC_FFT_LANES + group,
                        bin_power(split_bin(plan, z, k), magnitude));
        } else {
            for (int64_t k = 0; k <= plan->n / 2; k++)
                v_store(out + k * MELSPEC_FFT_LANES + group, bin_power(c_load(z, k), magnitude));
        }
    }
}

/* ---- a frame alone (streams push one hop at a time), vectorised within the frame -----------
 * The same butterflies on vectors of LANES_WIDTH values of one frame, in the plan's flat
 * buffers: complex value i at [i] (real part) and [flat_span + i] (imaginary part). Butterfly
 * (p, q) of a pass is element e = q + s p of s m; its inputs are elements e + k s m, contiguous
 * in e. Where s is a multiple of the vector, the vector's elements share p: twiddles splat from
 * the stage's table, outputs contiguous. Elsewhere (the first passes: s = 1, 4, ...) each element
 * has its own twiddles (the stage's flat_twiddles, made with v_splat's addition so that their
 * bits are the splat ones) and the outputs are stored one by one. Lane 0 of the lane-layout
 * output gets the frame's result, with the bits it gets in a block (test_fft checks it). */

static inline lanes_cv f_load(const float *x, int64_t span, int64_t i)
{
    return (lanes_cv){v_load(x + i), v_load(x + span + i)};
}

static inline void f_store(float *y, int64_t span, int64_t i, lanes_cv c)
{
    v_store(y + i, c.re);
    v_store(y + span + i, c.im);
}

static inline __attribute__((always_inline)) void flat_pass(const melspec_lanes_stage *st,
                                                            int64_t r, int64_t span,
                                                            const float *x, float *y)
{
    enum { V = LANES_WIDTH };
    const int64_t m = st->m, s = st->stride, count = s * m;
    lanes_cv w[MELSPEC_FFT_LANES_MAX_RADIX - 1], a[MELSPEC_FFT_LANES_MAX_RADIX],
        out[MELSPEC_FFT_LANES_MAX_RADIX];
    if (s % V == 0) {
        for (int64_t p = 0; p < m; p++) {
            for (int64_t j = 1; j < r; j++)
                w[j - 1] = c_splat(st->twiddles + 2 * ((r - 1) * p + j - 1));
            for (int64_t q = 0; q < s; q += V) {
                for (int64_t k = 0; k < r; k++) a[k] = f_load(x, span, q + s * (p + k * m));
                butterfly(r, st->roots, a, w, out);
                for (int64_t j = 0; j < r; j++) f_store(y, span, q + s * (r * p + j), out[j]);
            }
        }
        return;
    }
    int64_t p = 0, q = 0; /* of the vector's first element */
    for (int64_t e = 0; e < count; e += V) {
        /* a last vector past count reads values of the next input, or the buffers' padding */
        for (int64_t k = 0; k < r; k++) a[k] = f_load(x, span, e + k * count);
        for (int64_t j = 1; j < r; j++)
            w[j - 1] = f_load(st->flat_twiddles + 2 * (j - 1) * span, span, e);
        butterfly(r, st->roots, a, w, out);
        const int64_t n = count - e < V ? count - e : V;
        for (int64_t i = 0; i < n; i++) {
            for (int64_t j = 0; j < r; j++) {
                const int64_t to = q + s * (r * p + j);
                y[to] = out[j].re[i];
                y[span + to] = out[j].im[i];
            }
            if (++q == s) q = 0, p++;
        }
    }
}

/* The frame, windowed, as complex values (even n: pairs of samples; odd n: imaginary parts 0)
 * and through the passes; returns the flat buffer holding the transform. */
static float *flat_transform(const melspec_lanes_plan *plan, const float *frame,
                             const float *window)
{
    enum { V = LANES_WIDTH };
    const int64_t span = plan->flat_span, m = plan->m;
    float *x = plan->flat_work[0], *y = plan->flat_work[1];
    int64_t j = 0;
    if (plan->even) {
        for (; j + V <= m; j += V) { /* samples 2j, 2j + 1: the real and imaginary parts */
            const lanes_v low = v_load(frame + 2 * j) * v_load(window + 2 * j),
                          high = v_load(frame + 2 * j + V) * v_load(window + 2 * j + V);
#if LANES_WIDTH == 8
            v_store(x + j, LANES_SHUFFLE(low, high, 0, 2, 4, 6, 8, 10, 12, 14));
            v_store(x + span + j, LANES_SHUFFLE(low, high, 1, 3, 5, 7, 9, 11, 13, 15));
#else
            v_store(x + j, LANES_SHUFFLE(low, high, 0, 2, 4, 6));
            v_store(x + span + j, LANES_SHUFFLE(low, high, 1, 3, 5, 7));
#endif
        }
        for (; j < m; j++) {
            x[j] = frame[2 * j] * window[2 * j];
            x[span + j] = frame[2 * j + 1] * window[2 * j + 1];
        }
    } else {
        for (; j + V <= m; j += V) {
            v_store(x + j, v_load(frame + j) * v_load(window + j));
            v_store(x + span + j, v_splat(0.0f));
        }
        for (; j < m; j++) {
            x[j] = frame[j] * window[j];
            x[span + j] = 0.0f;
        }
    }
    for (int s = 0; s < plan->n_stages; s++) {
        const melspec_lanes_stage *st = &plan->stages[s];
        switch (st->radix) {
        case 2: flat_pass(st, 2, span, x, y); break;
        case 3: flat_pass(st, 3, span, x, y); break;
        case 4: flat_pass(st, 4, span, x, y); break;
        case 5: flat_pass(st, 5, span, x, y); break;
        default: flat_pass(st, st->radix, span, x, y); break;
        }
        float *swap = x;
        x = y;
        y = swap;
    }
    return x;
}

static inline lanes_v v_reverse(lanes_v v)
{
#if LANES_WIDTH == 8
    return LANES_SHUFFLE(v, v, 7, 6, 5, 4, 3, 2, 1, 0);
#else
    return LANES_SHUFFLE(v, v, 3, 2, 1, 0);
#endif
}

/* Bins first .. first + n - 1 (n <= LANES_WIDTH) of the frame's spectrum from its transform z:
 * the split for even n (z[m] must hold z[0]), the transform itself for odd n. */
static inline lanes_cv flat_bins(const melspec_lanes_plan *plan, const float *z, int64_t first,
                                 int64_t n)
{
    enum { V = LANES_WIDTH };
    const int64_t span = plan->flat_span, m = plan->m;
    if (!plan->even) return f_load(z, span, first); /* past the bins: padding, never stored */
    if (n == V && first + V - 1 <= m) {
        const lanes_cv back = f_load(z, span, m - first - (V - 1)); /* Z_(m-k), k descending */
        return split_value(f_load(z, span, first),
                           (lanes_cv){v_reverse(back.re), v_reverse(back.im)},
                           f_load(plan->flat_half, span, first));
    }
    lanes_cv a = {v_splat(0.0f), v_splat(0.0f)}, b = a, rotation = a;
    for (int64_t i = 0; i < n; i++) {
        const int64_t k = first + i;
        a.re[i] = z[k], a.im[i] = z[span + k];
        b.re[i] = z[m - k], b.im[i] = z[span + m - k];
        rotation.re[i] = plan->flat_half[k], rotation.im[i] = plan->flat_half[span + k];
    }
    return split_value(a, b, rotation);
}

static float *flat_spectrum(const melspec_lanes_plan *plan, const float *frame,
                            const float *window)
{
    float *z = flat_transform(plan, frame, window);
    z[plan->m] = z[0]; /* Z_m = Z_0 for the split */
    z[plan->flat_span + plan->m] = z[plan->flat_span];
    return z;
}

void LANES_EXECUTE_ONE(const melspec_lanes_plan *plan, const float *const *frames,
                       const float *window)
{
    enum { V = LANES_WIDTH, STEP = MELSPEC_FFT_LANES };
    const float *z = flat_spectrum(plan, frames[0], window);
    const int64_t n_bins = plan->n / 2 + 1;
    for (int64_t first = 0; first < n_bins; first += V) {
        const int64_t n = n_bins - first < V ? n_bins - first : V;
        const lanes_cv x = flat_bins(plan, z, first, n);
        for (int64_t i = 0; i < n; i++) {
            plan->output[2 * (first + i) * STEP] = x.re[i];
            plan->output[(2 * (first + i) + 1) * STEP] = x.im[i];
        }
    }
}

void LANES_EXECUTE_ONE_POWER(const melspec_lanes_plan *plan, const float *const *frames,
                             const float *window, int magnitude, float *out)
{
    enum { V = LANES_WIDTH, STEP = MELSPEC_FFT_LANES };
    const float *z = flat_spectrum(plan, frames[0], window);
    const int64_t n_bins = plan->n / 2 + 1;
    for (int64_t first = 0; first < n_bins; first += V) {
        const int64_t n = n_bins - first < V ? n_bins - first : V;
        const lanes_v power = bin_power(flat_bins(plan, z, first, n), magnitude);
        for (int64_t i = 0; i < n; i++) out[(first + i) * STEP] = power[i];
    }
}

#ifdef LANES_MEL
/* w in every lane: the weights are never -0, so this is v_splat without its addition */
static inline lanes_v v_broadcast(float w)
{
#if LANES_WIDTH == 8
    return (lanes_v){w, w, w, w, w, w, w, w};
#else
    return (lanes_v){w, w, w, w};
#endif
}

/* The sparse filterbank on a block (lane layout in and out): each lane sums in row order. Four
 * rows at a time, each with its own sum: the additions of one row wait for each other (a
 * multiply-add's latency per weight), so four independent chains keep the units busy (two
 * still waited on that latency: whisper's 80 rows of 3 to 15 weights); each row's sum is still
 * in its order, so the bits are those of one row at a time. */
#define MEL_CHAINS 4
void LANES_MEL(const melspec_lanes_rows *rows, const float *x, float *out)
{
    enum { STEP = MELSPEC_FFT_LANES };
    int64_t r = 0;
    for (; r + MEL_CHAINS <= rows->n_rows; r += MEL_CHAINS) {
        const float *w[MEL_CHAINS], *xr[MEL_CHAINS];
        int64_t n[MEL_CHAINS], common = INT64_MAX;
        for (int c = 0; c < MEL_CHAINS; c++) {
            w[c] = rows->weights + rows->row_offset[r + c];
            xr[c] = x + rows->first_column[r + c] * STEP;
            n[c] = rows->row_length[r + c];
            common = n[c] < common ? n[c] : common;
        }
        for (int group = 0; group < MELSPEC_FFT_LANES; group += LANES_WIDTH) {
            lanes_v s0 = v_splat(0.0f), s1 = v_splat(0.0f), s2 = v_splat(0.0f),
                    s3 = v_splat(0.0f);
            int64_t k = 0;
            for (; k < common; k++) {
                s0 += v_broadcast(w[0][k]) * v_load(xr[0] + k * STEP + group);
                s1 += v_broadcast(w[1][k]) * v_load(xr[1] + k * STEP + group);
                s2 += v_broadcast(w[2][k]) * v_load(xr[2] + k * STEP + group);
                s3 += v_broadcast(w[3][k]) * v_load(xr[3] + k * STEP + group);
            }
            for (int64_t j = k; j < n[0]; j++)
                s0 += v_broadcast(w[0][j]) * v_load(xr[0] + j * STEP + group);
            for (int64_t j = k; j < n[1]; j++)
                s1 += v_broadcast(w[1][j]) * v_load(xr[1] + j * STEP + group);
            for (int64_t j = k; j < n[2]; j++)
                s2 += v_broadcast(w[2][j]) * v_load(xr[2] + j * STEP + group);
            for (int64_t j = k; j < n[3]; j++)
                s3 += v_broadcast(w[3][j]) * v_load(xr[3] + j * STEP + group);
            v_store(out + r * STEP + group, s0);
            v_store(out + (r + 1) * STEP + group, s1);
            v_store(out + (r + 2) * STEP + group, s2);
            v_store(out + (r + 3) * STEP + group, s3);
        }
    }
    for (; r < rows->n_rows; r++) {
        const float *w = rows->weights + rows->row_offset[r];
        const float *xr = x + rows->first_column[r] * STEP;
        for (int group = 0; group < MELSPEC_FFT_LANES; group += LANES_WIDTH) {
            lanes_v sum = v_splat(0.0f);
            for (int64_t k = 0; k < rows->row_length[r]; k++)
                sum += v_broadcast(w[k]) * v_load(xr + k * STEP + group);
            v_store(out + r * STEP + group, sum);
        }
    }
}
#undef MEL_CHAINS
#endif
