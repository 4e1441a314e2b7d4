// Matrix products through OpenBLAS `cblas_sgemm` (row-major). BLAS threads the GEMM itself over
// the cores (OPENBLAS_NUM_THREADS, default: all), so these entry points stay single-dispatch. The exception is
// `linear` on a few rows, which streams the weight through `ck_linear_rows` (CKernels) on our own threads.
import CBLAS
import CKernels

extension Kernels {
    /// Largest extent BLAS accepts: `blasint` is 32-bit in Debian's OpenBLAS.
    static let maxBLASExtent = Int(Int32.max)

    /// `C[m, n] = alpha · op(A) · op(B) + beta · C`, row-major, with leading dimensions (row
    /// strides) so heads can be read in place from `[T, H*D]` rows. Handles empty extents
    /// itself (BLAS rejects leading dimensions of 0).
    static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "negative GEMM extent")
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        for extent in [m, n, k, lda, ldb, ldc] {
            precondition(extent <= maxBLASExtent, "GEMM extent \(extent) exceeds BLAS's 32-bit range")
        }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `y[m] = A[m, n] · x[n] + beta · y`, row-major A with contiguous rows. Empty extents are handled here.
    static func sgemv(
        rows m: Int, columns n: Int, a: UnsafePointer<Float>, x: UnsafePointer<Float>, beta: Float,
        y: UnsafeMutablePointer<Float>
    ) {
        precondition(m >= 0 && n >= 0, "negative GEMV extent")
        if m == 0 { return }
        if n == 0 {
            for i in 0..<m { y[i] = beta == 0 ? 0 : beta * y[i] }
            return
        }
        precondition(m <= maxBLASExtent && n <= maxBLASExtent, "GEMV extent exceeds BLAS's 32-bit range")
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), 1, a, Int32(n), x, 1, beta, y, 1)
    }

    /// Matrix product of 2-D tensors: `op(a) · op(b)` where `op` transposes when asked.
    /// a: [M, K] (or [K, M] transposed), b: [K, N] (or [N, K] transposed) -> [M, N].
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul wants 2-D tensors, got \(a.shape) and \(b.shape)")
        let batched = batchedMatmul(
            a.reshaped([1] + a.shape), b.reshaped([1] + b.shape), transposeA: transposeA, transposeB: transposeB)
        return batched.reshaped(Array(batched.shape.dropFirst()))
    }

    /// A batch of independent matrix products (attention's QKᵀ and PV when heads are already
    /// split out). a: [G, M, K] (or [G, K, M]), b: [G, K, N] (or [G, N, K]) -> [G, M, N].
    public static func batchedMatmul(
        _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false
    ) -> Tensor {
        precondition(a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0],
                     "batchedMatmul wants [G, ., .] tensors, got \(a.shape) and \(b.shape)")
        let g = a.shape[0]
        let (m, k) = transposeA ? (a.shape[2], a.shape[1]) : (a.shape[1], a.shape[2])
        let (kb, n) = transposeB ? (b.shape[2], b.shape[1]) : (b.shape[1], b.shape[2])
        precondition(k == kb, "batchedMatmul: inner extents \(k) and \(kb) differ")
        var out = Tensor(zeros: [g, m, n])
        a.withUnsafeBufferPointer { ab in
            b.withUnsafeBufferPointer { bb in
                out.withUnsafeMutableBufferPointer { cb in
                    guard let ap = ab.baseAddress, let bp = bb.baseAddress, let cp = cb.baseAddress else { return }
                    for i in 0..<g {
                        sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                              a: ap + i * m * k, lda: a.shape[2], b: bp + i * k * n, ldb: b.shape[2],
                              beta: 0, c: cp + i * m * n, ldc: n)
                    }
                }
            }
        }
        return out
    }

    /// Most rows of x that `linear` sends through `ck_linear_rows` instead of sgemm (on CPUs with AVX2+FMA).
    /// For few rows sgemm spends most of its time packing the weight. Measured on the 2-core EPYC, OPT shapes
    /// (K×N 768×768, 768×3072, 3072×768, 768×50272), both on 2 threads: the row-streaming kernel is 1.3–2.8×
    /// faster at 8 and 12 rows, but OpenBLAS's Zen kernel works in 16-row panels and catches up exactly at 16
    /// (0.76–1.05×) and 32 (0.6–0.86×); 20–24 rows are only 1.05–1.26× faster. So: fewer than 16 rows.
    static let rowStreamingMaxRows = 15

    /// A linear layer with Hugging Face's weight layout: `y = x · Wᵀ + b`.
    /// x: [..., In], weight: [Out, In], bias: [Out] or nil -> [..., Out]. N = product of the leading dims:
    /// N = 1 is one sgemv; 2 ≤ N ≤ `rowStreamingMaxRows` (a decoding step of a small batch) streams each weight
    /// row once through `ck_linear_rows` when the CPU has AVX2+FMA; otherwise one sgemm over all rows, the bias
    /// written first and accumulated into.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(x.rank >= 1 && weight.rank == 2, "linear: x \(x.shape), weight \(weight.shape)")
        let inFeatures = weight.shape[1]
        let outFeatures = weight.shape[0]
        precondition(x.shape[x.rank - 1] == inFeatures, "linear: x \(x.shape) vs weight \(weight.shape)")
        if let bias { precondition(bias.shape == [outFeatures], "linear: bias \(bias.shape), want [\(outFeatures)]") }
        let rows = inFeatures == 0 ? x.count : x.count / inFeatures
        if rows >= 2 && rows <= rowStreamingMaxRows && inFeatures > 0 && KernelPath.hasAVX2FMA {
            return rowStreamingLinear(x, weight: weight, bias: bias, path: .automatic)
        }
        var out = Tensor(zeros: Array(x.shape.dropLast()) + [outFeatures])
        out.withUnsafeMutableBufferPointer { yb in
            guard let yp = yb.baseAddress else { return }
            if let bias {
                bias.withUnsafeBufferPointer { bb in
                    guard let bp = bb.baseAddress else { return }
                    for r in 0..<rows { (yp + r * outFeatures).update(from: bp, count: outFeatures) }
                }
            }
            x.withUnsafeBufferPointer { xb in
                weight.withUnsafeBufferPointer { wb in
                    guard let xp = xb.baseAddress, let wp = wb.baseAddress else { return }
                    if rows == 1 {
                        // One row (a decoding step of one sequence): a GEMV reads the weight once in place,
                        // where sgemm first copies (packs) all of it; the copy was ~40% of a batch-1 decode.
                        // ck_linear_rows measured the same here (batch-1 decode 1.20 vs 1.23 s), so sgemv stays.
                        sgemv(rows: outFeatures, columns: inFeatures, a: wp, x: xp, beta: bias == nil ? 0 : 1,
                              y: yp)
                        return
                    }
                    sgemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
                          a: xp, lda: inFeatures, b: wp, ldb: inFeatures,
                          beta: bias == nil ? 0 : 1, c: yp, ldc: outFeatures)
                }
            }
        }
        return out
    }

    /// `linear` through `ck_linear_rows`, any number of rows, with the body `path` picks (tests force each).
    /// The weight rows (N = out features) are split over the cores in whole register blocks; each thread reads
    /// its weight rows once and all of x, so x should be a few rows (see `rowStreamingMaxRows`).
    static func rowStreamingLinear(_ x: Tensor, weight: Tensor, bias: Tensor?, path: KernelPath) -> Tensor {
        let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
        precondition(x.rank >= 1 && x.shape[x.rank - 1] == inFeatures
                     && (bias?.shape ?? [outFeatures]) == [outFeatures],
                     "rowStreamingLinear: x \(x.shape), weight \(weight.shape), bias \(bias?.shape ?? [])")
        let rows = x.shape.dropLast().reduce(1, *)
        var out = Tensor(zeros: Array(x.shape.dropLast()) + [outFeatures])
        let block = Int(CK_LINEAR_ROW_BLOCK)
        let blocks = (outFeatures + block - 1) / block
        let noBias = Tensor(zeros: [1])
        x.withUnsafeBufferPointer { xb in
            weight.withUnsafeBufferPointer { wb in
                (bias ?? noBias).withUnsafeBufferPointer { bb in
                    out.withUnsafeMutableBufferPointer { yb in
                        guard let xp = xb.baseAddress, let wp = wb.baseAddress, let bp = bb.baseAddress,
                              let yp = yb.baseAddress else { return }
                        let biasPointer: UnsafePointer<Float>? = bias == nil ? nil : bp
                        Parallel.forEachChunk(count: blocks, elementsPerItem: block * inFeatures * rows) { range in
                            ck_linear_rows(xp, rows, inFeatures, wp, biasPointer, yp, outFeatures,
                                           range.lowerBound * block, min(range.upperBound * block, outFeatures),
                                           path.c)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Threads OpenBLAS uses for one GEMM (it defaults to all cores, or `OPENBLAS_NUM_THREADS`).
    public static var blasThreadCount: Int {
        get { Int(openblas_get_num_threads()) }
    }

    /// Sets the number of threads OpenBLAS uses for one GEMM (process-wide).
    public static func setBLASThreadCount(_ count: Int) {
        precondition(count >= 1, "BLAS needs at least one thread")
        openblas_set_num_threads(Int32(min(count, Int(Int32.max))))
    }
}
