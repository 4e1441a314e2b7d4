// Row normalisations over the last dimension: LayerNorm (ViT, Q-Former, OPT), RMSNorm (T5's
// T5LayerNorm) and L2 normalisation (ITC embeddings, torch `F.normalize`).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Kernels {
    /// LayerNorm over the last dim, like torch `nn.LayerNorm(C, eps)`:
    /// `(x − mean) / sqrt(var + eps) · weight + bias`, biased variance (no Bessel correction).
    /// x: [..., C], weight: [C], bias: [C] or nil -> [..., C]. Mean and variance are accumulated
    /// in f64 (two passes), so the result is at least as accurate as torch's f32 kernel.
    public static func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor?, eps: Float) -> Tensor {
        let c = x.shape.last ?? 1
        precondition(x.rank >= 1 && weight.shape == [c], "layerNorm: x \(x.shape), weight \(weight.shape)")
        if let bias { precondition(bias.shape == [c], "layerNorm: bias \(bias.shape), want [\(c)]") }
        var out = Tensor(zeros: x.shape)
        let rows = c == 0 ? 0 : x.count / c
        let noBias = Tensor(zeros: [c])
        x.withUnsafeBufferPointer { xb in
            weight.withUnsafeBufferPointer { wb in
                (bias ?? noBias).withUnsafeBufferPointer { bb in
                    out.withUnsafeMutableBufferPointer { yb in
                        guard let xp = xb.baseAddress, let wp = wb.baseAddress, let bp = bb.baseAddress,
                              let yp = yb.baseAddress else { return }
                        Parallel.forEachChunk(count: rows, elementsPerItem: c) { range in
                            for r in range {
                                let xr = xp + r * c
                                let yr = yp + r * c
                                var sum = 0.0
                                for j in 0..<c { sum += Double(xr[j]) }
                                let mean = sum / Double(c)
                                var sq = 0.0
                                for j in 0..<c {
                                    let d = Double(xr[j]) - mean
                                    sq += d * d
                                }
                                let inv = Float(1 / (sq / Double(c) + Double(eps)).squareRoot())
                                let m = Float(mean)
                                for j in 0..<c { yr[j] = (xr[j] - m) * inv * wp[j] + bp[j] }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// RMSNorm over the last dim, like T5's `T5LayerNorm`: `x · rsqrt(mean(x²) + eps) · weight`
    /// (no mean subtraction, no bias). x: [..., C], weight: [C] -> [..., C].
    public static func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float) -> Tensor {
        let c = x.shape.last ?? 1
        precondition(x.rank >= 1 && weight.shape == [c], "rmsNorm: x \(x.shape), weight \(weight.shape)")
        var out = Tensor(zeros: x.shape)
        let rows = c == 0 ? 0 : x.count / c
        x.withUnsafeBufferPointer { xb in
            weight.withUnsafeBufferPointer { wb in
                out.withUnsafeMutableBufferPointer { yb in
                    guard let xp = xb.baseAddress, let wp = wb.baseAddress, let yp = yb.baseAddress else { return }
                    Parallel.forEachChunk(count: rows, elementsPerItem: c) { range in
                        for r in range {
                            let xr = xp + r * c
                            var sq = 0.0
                            for j in 0..<c { sq += Double(xr[j]) * Double(xr[j]) }
                            let inv = Float(1 / (sq / Double(c) + Double(eps)).squareRoot())
                            for j in 0..<c { yp[r * c + j] = xr[j] * inv * wp[j] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Default `eps` of `l2Normalize`: torch `F.normalize`'s 1e-12.
    public static let l2NormalizeDefaultEps: Float = 1e-12

    /// L2-normalises each row of the last dim: `x / max(‖x‖₂, eps)`, like torch `F.normalize`.
    public static func l2Normalize(_ x: Tensor, eps: Float = l2NormalizeDefaultEps) -> Tensor {
        let c = x.shape.last ?? 1
        var out = x
        let rows = c == 0 ? 0 : x.count / c
        out.withUnsafeMutableBufferPointer { yb in
            guard let yp = yb.baseAddress else { return }
            Parallel.forEachChunk(count: rows, elementsPerItem: c) { range in
                for r in range {
                    let yr = yp + r * c
                    var sq = 0.0
                    for j in 0..<c { sq += Double(yr[j]) * Double(yr[j]) }
                    let norm = Float(max(sq.squareRoot(), Double(eps)))
                    for j in 0..<c { yr[j] /= norm }
                }
            }
        }
        return out
    }
}
