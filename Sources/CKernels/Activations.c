// ck_erf / ck_gelu / ck_exp / ck_softmax_row: exact GELU and softmax's exp, 8 floats at a time.
//
// erf (AVX2 body), on a = |x|, sign restored at the end (erf is odd):
//   a < 1        erf = a + a·A(a²)          A: degree 6, so the rounding of A is scaled down by A/(1+A) <= 0.13
//   1 <= a < 2.25    erf = B1(a − 1.625)    degree 9
//   2.25 <= a < 3.9192   erf = B2(a − 3.085)  degree 8
//   a >= 3.9192  erf = 1                    erfc(3.9192) = 2^-25: every larger a rounds to 1 in float
// a − centre is exact in float on each piece (Sterbenz). The polynomials are our own least-squares fits on
// Chebyshev nodes against mpmath's erf (Tests/Reference/fit_kernel_polynomials.py, which also reports their
// error): each piece is within 1 ulp on its grid there; over all 2^32 floats the whole erf8 is within 1.06 ulp of
// the f64 erf (a one-off C sweep; the Swift tests sweep every 4099th float pattern).
// No exp is needed: on [1, 3.92] erf itself is smooth enough for a short polynomial in absolute error, and
// absolute error is what counts next to 1.
//
// exp (AVX2 body): n = round(x / ln 2), r = x − n·ln2 (two-part ln 2, so r is exact to ~1e-12), exp(r) by a
// degree-6 fit on [−ln2/2, ln2/2], times 2^n built in the exponent bits.
#include "ck_internal.h"

#include <math.h>

static const float inv_sqrt2 = 0.70710678118654752440f;

static void erf_portable(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = erff(x[i]);
}

static void gelu_portable(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * inv_sqrt2));
}

static void exp_portable(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = expf(x[i]);
}

static void softmax_row_portable(float *row, size_t n) {
    float top = -INFINITY;
    for (size_t j = 0; j < n; j++)
        if (row[j] > top) top = row[j];
    if (top == -INFINITY) {
        for (size_t j = 0; j < n; j++) row[j] = 0;
        return;
    }
    float sum = 0;
    for (size_t j = 0; j < n; j++) {
        row[j] = expf(row[j] - top);
        sum += row[j];
    }
    const float inv = 1.0f / sum;
    for (size_t j = 0; j < n; j++) row[j] *= inv;
}

#if CK_HAVE_X86
#include <immintrin.h>

#define POLY_STEP(acc, t, c) acc = _mm256_fmadd_ps(acc, t, _mm256_set1_ps(c))

/// erf of 8 floats (see the file comment).
static inline __attribute__((always_inline)) CK_AVX2 __m256 erf8(__m256 x) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 a = _mm256_andnot_ps(sign_bit, x);
    const __m256 sign = _mm256_and_ps(sign_bit, x);

    // a < 1: a + a·A(a²)
    const __m256 t = _mm256_mul_ps(a, a);
    __m256 pa = _mm256_set1_ps(7.898209878476337e-05f);
    POLY_STEP(pa, t, -0.0008024353883229196f);
    POLY_STEP(pa, t, 0.00519005348905921f);
    POLY_STEP(pa, t, -0.026854809373617172f);
    POLY_STEP(pa, t, 0.11283612251281738f);
    POLY_STEP(pa, t, -0.3761262893676758f);
    POLY_STEP(pa, t, 0.12837916612625122f);
    pa = _mm256_fmadd_ps(a, pa, a);

    // 1 <= a < 2.25
    const __m256 u1 = _mm256_sub_ps(a, _mm256_set1_ps(1.625f));
    __m256 p1 = _mm256_set1_ps(0.001273625297471881f);
    POLY_STEP(p1, u1, -0.0008722769562155008f);
    POLY_STEP(p1, u1, -0.006130521651357412f);
    POLY_STEP(p1, u1, 0.01451015193015337f);
    POLY_STEP(p1, u1, -0.0021441227290779352f);
    POLY_STEP(p1, u1, -0.0497317761182785f);
    POLY_STEP(p1, u1, 0.11484126001596451f);
    POLY_STEP(p1, u1, -0.13076680898666382f);
    POLY_STEP(p1, u1, 0.08047224581241608f);
    POLY_STEP(p1, u1, 0.9784437417984009f);

    // 2.25 <= a < 3.9192
    const __m256 u2 = _mm256_sub_ps(a, _mm256_set1_ps(3.085f));
    __m256 p2 = _mm256_set1_ps(-0.00010260932322125882f);
    POLY_STEP(p2, u2, 0.0003268916916567832f);
    POLY_STEP(p2, u2, -0.0005437312065623701f);
    POLY_STEP(p2, u2, 0.0006849667406640947f);
    POLY_STEP(p2, u2, -0.0006814064690843225f);
    POLY_STEP(p2, u2, 0.0005007614963687956f);
    POLY_STEP(p2, u2, -0.0002563837915658951f);
    POLY_STEP(p2, u2, 8.29372729640454e-05f);
    POLY_STEP(p2, u2, 0.9999871850013733f);
    // min(1, p2) keeps NaN (MINPS returns its second operand when either is NaN).
    p2 = _mm256_min_ps(one, p2);

    // Select by range; NaN fails every ordered compare and keeps p2, which is NaN.
    __m256 r = p2;
    r = _mm256_blendv_ps(r, p1, _mm256_cmp_ps(a, _mm256_set1_ps(2.25f), _CMP_LT_OQ));
    r = _mm256_blendv_ps(r, pa, _mm256_cmp_ps(a, one, _CMP_LT_OQ));
    r = _mm256_blendv_ps(r, one, _mm256_cmp_ps(a, _mm256_set1_ps(3.9192059f), _CMP_GE_OQ));
    return _mm256_or_ps(r, sign);
}

/// exp of 8 floats (see the file comment).
static inline __attribute__((always_inline)) CK_AVX2 __m256 exp8(__m256 x) {
    // exp overflows float above ln(FLT_MAX) and leaves the normal range below ln(FLT_MIN).
    const __m256 hi = _mm256_set1_ps(88.72283f);
    const __m256 lo = _mm256_set1_ps(-87.33654f);
    // Clamp so that n stays in [-126, 128]; max/min with x second keep NaN.
    const __m256 xc = _mm256_min_ps(hi, _mm256_max_ps(lo, x));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.4426950216293335f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06f), r);
    __m256 p = _mm256_set1_ps(0.0013829420786350965f);
    POLY_STEP(p, r, 0.008374771103262901f);
    POLY_STEP(p, r, 0.0416683591902256f);
    POLY_STEP(p, r, 0.1666642129421234f);
    POLY_STEP(p, r, 0.49999991059303284f);
    POLY_STEP(p, r, 1.0f);
    POLY_STEP(p, r, 1.0f);
    // 2^n as two factors, 2^(n - n/2) · 2^(n/2), so n = 128 (p < 1 there) does not overflow the exponent field.
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i half = _mm256_srai_epi32(ni, 1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), bias), 23));
    __m256 e = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    e = _mm256_blendv_ps(e, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
    e = _mm256_blendv_ps(e, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
    return e;
}

/// Lane mask for the first `rest` (< 8) lanes.
static inline __attribute__((always_inline)) CK_AVX2 __m256i tail_mask(size_t rest) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rest), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static CK_AVX2 void erf_avx2(const float *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, erf8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        const __m256i m = tail_mask(n - i);
        _mm256_maskstore_ps(y + i, m, erf8(_mm256_maskload_ps(x + i, m)));
    }
}

static inline __attribute__((always_inline)) CK_AVX2 __m256 gelu8(__m256 v) {
    const __m256 e = erf8(_mm256_mul_ps(v, _mm256_set1_ps(inv_sqrt2)));
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

static CK_AVX2 void gelu_avx2(float *x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        const __m256i m = tail_mask(n - i);
        _mm256_maskstore_ps(x + i, m, gelu8(_mm256_maskload_ps(x + i, m)));
    }
}

static CK_AVX2 void exp_avx2(const float *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, exp8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        const __m256i m = tail_mask(n - i);
        _mm256_maskstore_ps(y + i, m, exp8(_mm256_maskload_ps(x + i, m)));
    }
}

static CK_AVX2 void softmax_row_avx2(float *row, size_t n) {
    const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
    size_t i = 0;
    __m256 vmax = neg_inf;
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(row + i));
    __m256i m = _mm256_setzero_si256();
    if (i < n) {
        m = tail_mask(n - i);
        // Lanes past the row read as -inf so they cannot win the max.
        const __m256 v = _mm256_blendv_ps(neg_inf, _mm256_maskload_ps(row + i, m), _mm256_castsi256_ps(m));
        vmax = _mm256_max_ps(vmax, v);
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float top = _mm_cvtss_f32(m4);
    if (top == -INFINITY) {
        for (size_t j = 0; j < n; j++) row[j] = 0;
        return;
    }
    const __m256 vtop = _mm256_set1_ps(top);
    __m256 vsum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(row + i), vtop));
        _mm256_storeu_ps(row + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    if (i < n) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(row + i, m), vtop));
        _mm256_maskstore_ps(row + i, m, e);
        vsum = _mm256_add_ps(vsum, _mm256_and_ps(e, _mm256_castsi256_ps(m)));
    }
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(vsum), _mm256_extractf128_ps(vsum, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    const __m256 inv = _mm256_set1_ps(1.0f / _mm_cvtss_f32(s));
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(row + i, _mm256_mul_ps(_mm256_loadu_ps(row + i), inv));
    if (i < n) _mm256_maskstore_ps(row + i, m, _mm256_mul_ps(_mm256_maskload_ps(row + i, m), inv));
}
#endif

void ck_erf(const float *x, float *y, size_t n, ck_path path) {
#if CK_HAVE_X86
    if (ck_use_avx2(path)) {
        erf_avx2(x, y, n);
        return;
    }
#else
    (void)path;
#endif
    erf_portable(x, y, n);
}

void ck_gelu(float *x, size_t n, ck_path path) {
#if CK_HAVE_X86
    if (ck_use_avx2(path)) {
        gelu_avx2(x, n);
        return;
    }
#else
    (void)path;
#endif
    gelu_portable(x, n);
}

void ck_exp(const float *x, float *y, size_t n, ck_path path) {
#if CK_HAVE_X86
    if (ck_use_avx2(path)) {
        exp_avx2(x, y, n);
        return;
    }
#else
    (void)path;
#endif
    exp_portable(x, y, n);
}

void ck_softmax_row(float *row, size_t n, ck_path path) {
#if CK_HAVE_X86
    if (ck_use_avx2(path)) {
        softmax_row_avx2(row, n);
        return;
    }
#else
    (void)path;
#endif
    softmax_row_portable(row, n);
}
