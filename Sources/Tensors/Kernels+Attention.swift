// Scaled-dot-product multi-head attention on merged-head activations. Heads are read in place
// from [B, T, H*D] rows through BLAS leading dimensions, so no split/merge copies are made.
//
// Per (batch b, head h):  S[Tq, Tk] = scale · Q_bh K_bhᵀ + mask_bh ;  S = softmax(S) ;
//                         out_bh[Tq, D] = S V_bh
// Threads: the GEMMs run one after another, each threaded by OpenBLAS; the mask + softmax rows
// are split over the cores. BLAS is never called from inside `concurrentPerform`: concurrent
// callers contend for OpenBLAS's one thread pool (measured ~30x slower on the 2-core box).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Kernels {
    /// Multi-head scaled-dot-product attention.
    ///
    /// - query: [B, Tq, H*D]; key, value: [B, Tk, H*D] (head h is columns h*D..<(h+1)*D, like
    ///   torch's `view(B, T, H, D)`).
    /// - mask: additive, broadcastable to [B, H, Tq, Tk] (e.g. [B, 1, 1, Tk] padding,
    ///   [1, 1, Tq, Tk] causal, [1, H, Tq, Tk] T5 position bias); −inf or any large negative.
    ///   A query row with every key at −inf gets a zero output (see `softmaxInPlace`).
    /// - scale: multiplies QKᵀ; defaults to 1/√D (T5 passes 1).
    /// - keyLength: use only the first `keyLength` rows of each batch entry of key/value (default:
    ///   all). Lets a KV cache preallocated as [B, capacity, H*D] be attended without copying;
    ///   the mask then broadcasts to [B, H, Tq, keyLength].
    /// - returns: [B, Tq, H*D], heads merged.
    public static func attention(
        query: Tensor, key: Tensor, value: Tensor, heads: Int, scale: Float? = nil, mask: Tensor? = nil,
        keyLength: Int? = nil
    ) -> Tensor {
        let (b, tq, tk, d, scoreShape, maskStrides) = attentionShapes(
            query, key, value, heads: heads, mask: mask, keyLength: keyLength)
        let width = heads * d
        // rows between batch entries of key/value: the capacity, not the used length
        let kvBatchStride = key.shape[1] * width
        let alpha = scale ?? 1 / Float(d).squareRoot()
        var out = Tensor(zeros: [b, tq, width])
        let zero = Tensor(zeros: [1])
        let m = mask ?? zero
        query.withUnsafeBufferPointer { qb in
            key.withUnsafeBufferPointer { kb in
                value.withUnsafeBufferPointer { vb in
                    m.withUnsafeBufferPointer { mb in
                        out.withUnsafeMutableBufferPointer { ob in
                            guard let qp = qb.baseAddress, let kp = kb.baseAddress, let vp = vb.baseAddress,
                                  let mp = mb.baseAddress, let op = ob.baseAddress else { return }
                            // scores: [H, Tq, Tk] for one batch entry at a time
                            let scores = UnsafeMutablePointer<Float>.allocate(capacity: max(heads * tq * tk, 1))
                            defer { scores.deallocate() }
                            for bi in 0..<b {
                                for h in 0..<heads {
                                    // S_h[Tq, Tk] = alpha · Q_bh · K_bhᵀ
                                    sgemm(transposeA: false, transposeB: true, m: tq, n: tk, k: d, alpha: alpha,
                                          a: qp + bi * tq * width + h * d, lda: width,
                                          b: kp + bi * kvBatchStride + h * d, ldb: width,
                                          beta: 0, c: scores + h * tq * tk, ldc: tk)
                                }
                                Parallel.forEachChunk(count: heads * tq, elementsPerItem: tk) { rows in
                                    for r in rows {
                                        let row = scores + r * tk
                                        if let maskStrides {
                                            let mr = mp + broadcastRowOffset(
                                                row: bi * heads * tq + r, target: scoreShape, strides: maskStrides)
                                            let sk = maskStrides[3]
                                            for j in 0..<tk { row[j] += mr[j * sk] }
                                        }
                                        softmaxRow(row, count: tk)
                                    }
                                }
                                for h in 0..<heads {
                                    // out_bh[Tq, D] = S_h · V_bh
                                    sgemm(transposeA: false, transposeB: false, m: tq, n: d, k: tk, alpha: 1,
                                          a: scores + h * tq * tk, lda: tk,
                                          b: vp + bi * kvBatchStride + h * d, ldb: width,
                                          beta: 0, c: op + bi * tq * width + h * d, ldc: width)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Checks attention operand shapes; returns (B, Tq, Tk, D, score shape, mask strides).
    static func attentionShapes(
        _ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, mask: Tensor?, keyLength: Int?
    ) -> (Int, Int, Int, Int, [Int], [Int]?) {
        precondition(q.rank == 3 && k.rank == 3 && v.rank == 3,
                     "attention wants [B, T, H*D] operands, got \(q.shape), \(k.shape), \(v.shape)")
        precondition(heads >= 1 && q.shape[2] % heads == 0,
                     "attention: width \(q.shape[2]) not divisible by \(heads)")
        precondition(k.shape == v.shape, "attention: key \(k.shape) vs value \(v.shape)")
        precondition(k.shape[0] == q.shape[0] && k.shape[2] == q.shape[2],
                     "attention: query \(q.shape) vs key \(k.shape)")
        let tk = keyLength ?? k.shape[1]
        precondition(tk >= 0 && tk <= k.shape[1], "attention: keyLength \(tk) of \(k.shape[1]) rows")
        let (b, tq) = (q.shape[0], q.shape[1])
        let scoreShape = [b, heads, tq, tk]
        let strides = mask.map { broadcastStrides($0.shape, to: scoreShape, what: "attention mask") }
        return (b, tq, tk, q.shape[2] / heads, scoreShape, strides)
    }
}
