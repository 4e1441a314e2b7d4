// ck_linear_rows: y = x · Wᵀ + b for a few rows of x (a decoding step of a small batch).
//
// Why not sgemm: for M = 8 rows OpenBLAS first copies (packs) the whole weight into its panel layout, which was
// 40% of a batch-8 OPT decode step (the 154 MB lm_head included), and the multiply then reuses each packed panel
// only 8 times. Here each weight row is streamed once, straight from the row-major [N, K] checkpoint layout, and
// dotted with all M rows of x while it is in L1; x (M·K floats) stays in L1/L2 across the whole call.
//
// AVX2 register blocking: up to 4 rows of x × 3 weight rows = 12 ymm accumulators (+ 4 x + 1 w registers of the
// 16); 7 loads feed 12 FMAs per 8 k. Fewer x rows take more weight rows (2×6, 1×12) so that every block keeps
// 12 independent FMA chains in flight (FMA latency × throughput ≈ 8–10 on Zen).
#include "ck_internal.h"

static void linear_rows_portable(const float *x, size_t m, size_t k, const float *w, const float *bias, float *y,
                                 size_t ldy, size_t n0, size_t n1) {
    for (size_t j = n0; j < n1; j++) {
        const float *wj = w + j * k;
        for (size_t i = 0; i < m; i++) {
            const float *xi = x + i * k;
            // 4 partial sums: shorter dependency chains, and the compiler may vectorise them.
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            size_t p = 0;
            for (; p + 4 <= k; p += 4) {
                s0 += xi[p] * wj[p];
                s1 += xi[p + 1] * wj[p + 1];
                s2 += xi[p + 2] * wj[p + 2];
                s3 += xi[p + 3] * wj[p + 3];
            }
            for (; p < k; p++) s0 += xi[p] * wj[p];
            y[i * ldy + j] = (s0 + s1) + (s2 + s3) + (bias ? bias[j] : 0.0f);
        }
    }
}

#if CK_HAVE_X86
#include <immintrin.h>

/// Largest x-row and weight-row counts of one register block (their product stays <= 12 accumulators).
#define MAX_MR 4
#define MAX_NR 12

static inline __attribute__((always_inline)) CK_AVX2 float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// One register block: rows [0, mr) of x against weight rows [0, nr) of w; mr and nr are compile-time constants
/// at every call site, so the loops unroll and the accumulators live in registers.
static inline __attribute__((always_inline)) CK_AVX2 void
block(const float *x, size_t k, const float *w, const float *bias, float *y, size_t ldy, const int mr,
      const int nr) {
    __m256 acc[MAX_MR][MAX_NR];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) acc[i][j] = _mm256_setzero_ps();
    size_t p = 0;
    for (; p + 8 <= k; p += 8) {
        __m256 xv[MAX_MR];
        for (int i = 0; i < mr; i++) xv[i] = _mm256_loadu_ps(x + i * k + p);
        for (int j = 0; j < nr; j++) {
            __m256 wv = _mm256_loadu_ps(w + j * k + p);
            for (int i = 0; i < mr; i++) acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
        }
    }
    if (p < k) {
        // The last k % 8 columns through masked loads (lanes past k read as 0 and touch no memory).
        const int rest = (int)(k - p);
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(rest), lane);
        __m256 xv[MAX_MR];
        for (int i = 0; i < mr; i++) xv[i] = _mm256_maskload_ps(x + i * k + p, mask);
        for (int j = 0; j < nr; j++) {
            __m256 wv = _mm256_maskload_ps(w + j * k + p, mask);
            for (int i = 0; i < mr; i++) acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
        }
    }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) y[i * ldy + j] = hsum256(acc[i][j]) + (bias ? bias[j] : 0.0f);
}

/// All rows of x against weight rows [j, j + nr), nr <= MAX_NR; x rows go 4 at a time, then the remainder.
static inline __attribute__((always_inline)) CK_AVX2 void
row_group(const float *x, size_t m, size_t k, const float *w, const float *bias, float *y, size_t ldy,
          const int nr) {
    // 4 x rows at a time against 3 weight rows (12 accumulators); the weight rows outside, so their 3·K floats
    // stay in L1 while every 4-row chunk of x passes over them.
    const size_t full = m - m % 4;
    int jb = 0;
    for (; jb + 3 <= nr; jb += 3)
        for (size_t i = 0; i < full; i += 4)
            block(x + i * k, k, w + jb * k, bias ? bias + jb : 0, y + i * ldy + jb, ldy, 4, 3);
    for (; jb < nr; jb++)
        for (size_t i = 0; i < full; i += 4)
            block(x + i * k, k, w + jb * k, bias ? bias + jb : 0, y + i * ldy + jb, ldy, 4, 1);
    const size_t i = full, rest = m - full;
    const float *xr = x + i * k;
    float *yr = y + i * ldy;
    int j = 0;
    switch (rest) {
    case 3:
        for (; j + 4 <= nr; j += 4) block(xr, k, w + j * k, bias ? bias + j : 0, yr + j, ldy, 3, 4);
        for (; j < nr; j++) block(xr, k, w + j * k, bias ? bias + j : 0, yr + j, ldy, 3, 1);
        break;
    case 2:
        for (; j + 6 <= nr; j += 6) block(xr, k, w + j * k, bias ? bias + j : 0, yr + j, ldy, 2, 6);
        for (; j < nr; j++) block(xr, k, w + j * k, bias ? bias + j : 0, yr + j, ldy, 2, 1);
        break;
    case 1:
        for (; j + 12 <= nr; j += 12) block(xr, k, w + j * k, bias ? bias + j : 0, yr + j, ldy, 1, 12);
        for (; j + 4 <= nr; j += 4) block(xr, k, w + j * k, bias ? bias + j : 0, yr + j, ldy, 1, 4);
        for (; j < nr; j++) block(xr, k, w + j * k, bias ? bias + j : 0, yr + j, ldy, 1, 1);
        break;
    default:
        break;
    }
}

static CK_AVX2 void linear_rows_avx2(const float *x, size_t m, size_t k, const float *w, const float *bias,
                                     float *y, size_t ldy, size_t n0, size_t n1) {
    size_t j = n0;
    for (; j + CK_LINEAR_ROW_BLOCK <= n1; j += CK_LINEAR_ROW_BLOCK)
        row_group(x, m, k, w + j * k, bias ? bias + j : 0, y + j, ldy, CK_LINEAR_ROW_BLOCK);
    // The last n1 - j < 12 rows, one at a time through the same blocks.
    for (; j < n1; j++) row_group(x, m, k, w + j * k, bias ? bias + j : 0, y + j, ldy, 1);
}
#endif

void ck_linear_rows(const float *x, size_t m, size_t k, const float *w, const float *bias, float *y, size_t ldy,
                    size_t n0, size_t n1, ck_path path) {
    if (m == 0 || n0 >= n1) return;
#if CK_HAVE_X86
    if (ck_use_avx2(path)) {
        linear_rows_avx2(x, m, k, w, bias, y, ldy, n0, n1);
        return;
    }
#else
    (void)path;
#endif
    linear_rows_portable(x, m, k, w, bias, y, ldy, n0, n1);
}
