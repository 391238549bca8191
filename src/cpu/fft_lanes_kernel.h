/* The lane-parallel FFT's kernel (fft_lanes.h), written once on GCC/Clang vector extensions and
 * compiled twice: fft_lanes_avx2.c (-mavx2 -mfma) and fft_lanes_portable.c. The includer
 * defines LANES_EXECUTE, LANES_EXECUTE_SQUARED, LANES_GATHER and LANES_MEL, the names of the
 * entry points, and LANES_WIDTH, the floats of one hardware vector: 8 (AVX2), or 4 (SSE2, NEON:
 * the 8 lanes are then computed as two groups of 4, since compilers lower 8-float vectors on
 * 4-float hardware with stack spills).
 *
 * A complex vector is 16 floats: the real parts of the 8 lanes, then their imaginary parts. Every
 * operation is element-wise on whole vectors, so each lane sees exactly the arithmetic of the
 * scalar algorithm, whatever the other lanes hold or which group it is in. The one-frame builds
 * (LANES_WIDTH 1, LANES_GROUPS 1: lane 0 only, on plain floats) compile the same expressions
 * with the same flags, so a frame alone gets the bits it gets in a block (test_fft checks it). */
#include <stdint.h>
#include <string.h>

#include "fft_lanes.h"

#if LANES_WIDTH == 1
/* the one-frame builds (LANES_GROUPS 1): plain floats, the same expressions */
typedef float lanes_v;
#elif LANES_WIDTH == 8 || LANES_WIDTH == 4
typedef float lanes_v __attribute__((vector_size(4 * LANES_WIDTH)));
typedef int32_t lanes_vi __attribute__((vector_size(4 * LANES_WIDTH)));
#else
#error "LANES_WIDTH must be 8, 4 or 1"
#endif
/* lanes computed: all of them, or lane 0 alone (the one-frame builds) */
#ifndef LANES_GROUPS
#define LANES_GROUPS MELSPEC_FFT_LANES
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

/* a times the scalar complex w (broadcast) */
static inline lanes_cv c_mul(lanes_cv a, const float *w)
{
    const lanes_v wr = v_splat(w[0]), wi = v_splat(w[1]);
    return (lanes_cv){a.re * wr - a.im * wi, a.re * wi + a.im * wr};
}

/* -i a */
static inline lanes_cv c_mul_minus_i(lanes_cv a) { return (lanes_cv){a.im, -a.re}; }

/* ---- Stockham passes: y[q + s (r p + j)] = w^(p j) DFT_r(x[q + s (p + k m)], k < r)_j ---- */

static void pass_2(const melspec_lanes_stage *st, const float *x, float *y)
{
    const int64_t m = st->m, s = st->stride;
    for (int64_t p = 0; p < m; p++) {
        const float *w = st->twiddles + 2 * p;
        for (int64_t q = 0; q < s; q++) {
            const lanes_cv a0 = c_load(x, q + s * p), a1 = c_load(x, q + s * (p + m));
            c_store(y, q + s * (2 * p), c_add(a0, a1));
            c_store(y, q + s * (2 * p + 1), c_mul(c_sub(a0, a1), w));
        }
    }
}

static void pass_3(const melspec_lanes_stage *st, const float *x, float *y)
{
    const int64_t m = st->m, s = st->stride;
    const lanes_v half = v_splat(0.5f), sin60 = v_splat(0.866025403784438646763723170752936183f);
    for (int64_t p = 0; p < m; p++) {
        const float *w = st->twiddles + 4 * p;
        for (int64_t q = 0; q < s; q++) {
            const lanes_cv a0 = c_load(x, q + s * p), a1 = c_load(x, q + s * (p + m)),
                           a2 = c_load(x, q + s * (p + 2 * m));
            const lanes_cv t = c_add(a1, a2), d = c_sub(a1, a2);
            const lanes_cv mid = {a0.re - half * t.re, a0.im - half * t.im};
            const lanes_cv rot = {sin60 * d.im, -(sin60 * d.re)}; /* -i sin60 d */
            c_store(y, q + s * (3 * p), c_add(a0, t));
            c_store(y, q + s * (3 * p + 1), c_mul(c_add(mid, rot), w));
            c_store(y, q + s * (3 * p + 2), c_mul(c_sub(mid, rot), w + 2));
        }
    }
}

static void pass_4(const melspec_lanes_stage *st, const float *x, float *y)
{
    const int64_t m = st->m, s = st->stride;
    for (int64_t p = 0; p < m; p++) {
        const float *w = st->twiddles + 6 * p;
        for (int64_t q = 0; q < s; q++) {
            const lanes_cv a0 = c_load(x, q + s * p), a1 = c_load(x, q + s * (p + m)),
                           a2 = c_load(x, q + s * (p + 2 * m)),
                           a3 = c_load(x, q + s * (p + 3 * m));
            const lanes_cv t0 = c_add(a0, a2), t1 = c_sub(a0, a2), t2 = c_add(a1, a3),
                           t3 = c_mul_minus_i(c_sub(a1, a3));
            c_store(y, q + s * (4 * p), c_add(t0, t2));
            c_store(y, q + s * (4 * p + 1), c_mul(c_add(t1, t3), w));
            c_store(y, q + s * (4 * p + 2), c_mul(c_sub(t0, t2), w + 2));
            c_store(y, q + s * (4 * p + 3), c_mul(c_sub(t1, t3), w + 4));
        }
    }
}

static void pass_5(const melspec_lanes_stage *st, const float *x, float *y)
{
    const int64_t m = st->m, s = st->stride;
    const lanes_v c1 = v_splat(0.309016994374947424102293417182819059f),   /* cos(2 pi/5) */
        c2 = v_splat(-0.809016994374947424102293417182819059f),            /* cos(4 pi/5) */
        s1 = v_splat(0.951056516295153572116439333379382143f),             /* sin(2 pi/5) */
        s2 = v_splat(0.587785252292473129168705954639072769f);             /* sin(4 pi/5) */
    for (int64_t p = 0; p < m; p++) {
        const float *w = st->twiddles + 8 * p;
        for (int64_t q = 0; q < s; q++) {
            const lanes_cv a0 = c_load(x, q + s * p), a1 = c_load(x, q + s * (p + m)),
                           a2 = c_load(x, q + s * (p + 2 * m)),
                           a3 = c_load(x, q + s * (p + 3 * m)),
                           a4 = c_load(x, q + s * (p + 4 * m));
            const lanes_cv t1 = c_add(a1, a4), t2 = c_add(a2, a3), t3 = c_sub(a1, a4),
                           t4 = c_sub(a2, a3);
            const lanes_cv b1 = {a0.re + c1 * t1.re + c2 * t2.re, a0.im + c1 * t1.im + c2 * t2.im};
            const lanes_cv b2 = {a0.re + c2 * t1.re + c1 * t2.re, a0.im + c2 * t1.im + c1 * t2.im};
            /* e1 = -i (s1 t3 + s2 t4), e2 = -i (s2 t3 - s1 t4) */
            const lanes_cv e1 = c_mul_minus_i((lanes_cv){s1 * t3.re + s2 * t4.re,
                                                         s1 * t3.im + s2 * t4.im});
            const lanes_cv e2 = c_mul_minus_i((lanes_cv){s2 * t3.re - s1 * t4.re,
                                                         s2 * t3.im - s1 * t4.im});
            c_store(y, q + s * (5 * p), c_add(a0, c_add(t1, t2)));
            c_store(y, q + s * (5 * p + 1), c_mul(c_add(b1, e1), w));
            c_store(y, q + s * (5 * p + 2), c_mul(c_add(b2, e2), w + 2));
            c_store(y, q + s * (5 * p + 3), c_mul(c_sub(b2, e2), w + 4));
            c_store(y, q + s * (5 * p + 4), c_mul(c_sub(b1, e1), w + 6));
        }
    }
}

/* Any odd radix r: the pairs k, r - k share cosines and sines (y_j and y_(r-j) together). */
static void pass_odd(const melspec_lanes_stage *st, const float *x, float *y)
{
    const int64_t m = st->m, s = st->stride, r = st->radix, half = (r - 1) / 2;
    const float *roots = st->roots;
    lanes_cv sums[MELSPEC_FFT_LANES_MAX_RADIX / 2 + 1], diffs[MELSPEC_FFT_LANES_MAX_RADIX / 2 + 1];
    for (int64_t p = 0; p < m; p++) {
        const float *w = st->twiddles + 2 * (r - 1) * p;
        for (int64_t q = 0; q < s; q++) {
            const lanes_cv a0 = c_load(x, q + s * p);
            lanes_cv total = a0;
            for (int64_t k = 1; k <= half; k++) {
                const lanes_cv a = c_load(x, q + s * (p + k * m)),
                               b = c_load(x, q + s * (p + (r - k) * m));
                sums[k] = c_add(a, b);
                diffs[k] = c_sub(a, b);
                total = c_add(total, sums[k]);
            }
            c_store(y, q + s * (r * p), total);
            for (int64_t j = 1; j <= half; j++) {
                lanes_cv even = a0, odd = {v_splat(0.0f), v_splat(0.0f)};
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
                c_store(y, q + s * (r * p + j), c_mul(c_add(even, i_odd), w + 2 * (j - 1)));
                c_store(y, q + s * (r * p + r - j), c_mul(c_sub(even, i_odd), w + 2 * (r - j - 1)));
            }
        }
    }
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
#else
    (void)rows; /* one sample of one frame: already in place */
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

/* Even n: X_k = (Z_k + conj Z_(m-k)) / 2 + (w^k / 2) (-i) (Z_k - conj Z_(m-k)), k = 0..m. */
static inline lanes_cv split_bin(const melspec_lanes_plan *plan, const float *z, int64_t k)
{
    const int64_t m = plan->m;
    const lanes_v half = v_splat(0.5f);
    const lanes_cv a = c_load(z, k == m ? 0 : k), b = c_load(z, k == 0 ? 0 : m - k);
    const lanes_cv sum = {a.re + b.re, a.im - b.im}, diff = {a.re - b.re, a.im + b.im};
    const lanes_cv rotated = c_mul(c_mul_minus_i(diff), plan->half_rotation + 2 * k);
    return (lanes_cv){half * sum.re + rotated.re, half * sum.im + rotated.im};
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
    for (int group = 0; group < LANES_GROUPS; group += LANES_WIDTH) {
        const float *z = transform_group(plan, frames, window, group);
        float *out = plan->output + group;
        if (plan->even) {
            for (int64_t k = 0; k <= plan->m; k++) c_store(out, k, split_bin(plan, z, k));
        } else {
            for (int64_t k = 0; k <= plan->n / 2; k++) c_store(out, k, c_load(z, k));
        }
    }
}

#ifdef LANES_EXECUTE_SQUARED
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

/* |X_k|^2 of every bin straight from the transform, at out[k * 8 + f]: the bits of
 * melspec_power_value (MELSPEC_POWER_SQUARED) on LANES_EXECUTE's spectrum, without storing the
 * spectrum and reading it back (music: 65 KB a block through L2, twice). */
void LANES_EXECUTE_SQUARED(const melspec_lanes_plan *plan, const float *const *frames,
                           const float *window, float *out)
{
    for (int group = 0; group < LANES_GROUPS; group += LANES_WIDTH) {
        const float *z = transform_group(plan, frames, window, group);
        if (plan->even) {
            for (int64_t k = 0; k <= plan->m; k++)
                v_store(out + k * MELSPEC_FFT_LANES + group,
                        squared_magnitude(split_bin(plan, z, k)));
        } else {
            for (int64_t k = 0; k <= plan->n / 2; k++)
                v_store(out + k * MELSPEC_FFT_LANES + group, squared_magnitude(c_load(z, k)));
        }
    }
}
#endif

#ifdef LANES_MEL
/* w in every lane: the weights are never -0, so this is v_splat without its addition */
static inline lanes_v v_broadcast(float w)
{
#if LANES_WIDTH == 8
    return (lanes_v){w, w, w, w, w, w, w, w};
#elif LANES_WIDTH == 4
    return (lanes_v){w, w, w, w};
#else
    return w;
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
