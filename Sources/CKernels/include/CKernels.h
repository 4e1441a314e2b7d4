// CKernels: the few hot loops of Tiaoyu's forward pass that Swift cannot vectorise well on baseline x86-64 (the
// package compiles Swift for SSE2, without FMA): a small-M linear layer, exact GELU (erf), and exp/softmax rows.
//
// Each function has an AVX2+FMA body, compiled with __attribute__((target("avx2,fma"))) and chosen at run time
// (so the binary still runs on any x86-64), and a portable C body used on other CPUs and architectures. Callers
// normally pass CK_PATH_AUTO; tests pass CK_PATH_PORTABLE / CK_PATH_AVX2 to check both bodies against naive twins.
// Shapes: M = rows of x, K = inner extent, N = rows of the weight (output features).
#ifndef TIAOYU_CKERNELS_H
#define TIAOYU_CKERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Which body a kernel runs. CK_PATH_AVX2 on a CPU without AVX2+FMA runs the portable body (never a crash).
typedef enum {
    CK_PATH_AUTO = 0,
    CK_PATH_PORTABLE = 1,
    CK_PATH_AVX2 = 2,
} ck_path;

/// 1 when this CPU runs the AVX2+FMA bodies (x86-64 with both features), else 0.
int ck_has_avx2_fma(void);

/// Weight rows the AVX2 linear kernel handles per block; callers split N into multiples of it across threads.
#define CK_LINEAR_ROW_BLOCK 12

/// y[i, j] = sum_k x[i, k] * w[j, k] (+ bias[j]) for rows i < m and weight rows j in [n0, n1):
/// x [M, K] row-major, w [N, K] row-major (a Hugging Face Linear weight), bias [N] or NULL, y [M, ldy].
/// Each weight row is read from memory once and used for all M rows of x, which should be small (x stays in
/// cache). Single-threaded: callers split [0, N) into disjoint ranges over their threads.
void ck_linear_rows(const float *x, size_t m, size_t k, const float *w, const float *bias, float *y, size_t ldy,
                    size_t n0, size_t n1, ck_path path);

/// y[i] = erf(x[i]) for i < n (x == y allowed). AVX2 body: within 1.1 ulp of the f64 erf for every float (1.06 at
/// worst, checked over all 2^32); +-inf give +-1, NaN stays NaN. Portable body: libm erff.
void ck_erf(const float *x, float *y, size_t n, ck_path path);

/// x[i] = 0.5 x (1 + erf(x / sqrt 2)) in place for i < n: exact GELU (torch's default).
void ck_gelu(float *x, size_t n, ck_path path);

/// y[i] = exp(x[i]) for i < n (x == y allowed). AVX2 body: within 1.1 ulp of the f64 exp wherever the result is a
/// normal float (1.06 at worst over all 2^32); results below the smallest normal float (x < -87.34) are 0 rather
/// than subnormal, x > 88.72 gives +inf, NaN stays NaN. Portable body: libm expf.
void ck_exp(const float *x, float *y, size_t n, ck_path path);

/// Softmax of one row in place: exp(x - max) / sum. A row that is entirely -inf becomes all zeros.
void ck_softmax_row(float *row, size_t n, ck_path path);

#ifdef __cplusplus
}
#endif

#endif
