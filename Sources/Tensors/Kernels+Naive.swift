// Naive twins of the fast kernels: single-threaded, plain index loops over arrays, f64
// accumulation. They are the readable definition of each kernel; tests compare the fast kernels
// against them. Never used on the serving path.
// Legend as in Kernels.swift.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Kernels {
    /// Twin of `matmul`: triple loop. a: [M, K] (or [K, M]), b: [K, N] (or [N, K]) -> [M, N].
    public static func naiveMatmul(
        _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false
    ) -> Tensor {
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == (transposeB ? b.shape[1] : b.shape[0]), "naiveMatmul: inner extents differ")
        let x = a.scalars, y = b.scalars
        var out = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for l in 0..<k {
                    let av = transposeA ? x[l * m + i] : x[i * k + l]
                    let bv = transposeB ? y[j * k + l] : y[l * n + j]
                    acc += Double(av) * Double(bv)
                }
                out[i * n + j] = Float(acc)
            }
        }
        return Tensor(shape: [m, n], scalars: out)
    }

    /// Twin of `batchedMatmul`: `naiveMatmul` per batch entry.
    public static func naiveBatchedMatmul(
        _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false
    ) -> Tensor {
        let parts = (0..<a.shape[0]).map { i in
            naiveMatmul(a.slice(axis: 0, i..<(i + 1)).reshaped(Array(a.shape.dropFirst())),
                        b.slice(axis: 0, i..<(i + 1)).reshaped(Array(b.shape.dropFirst())),
                        transposeA: transposeA, transposeB: transposeB)
        }
        let joined = Tensor.concatenate(parts, axis: 0)
        let (m, n) = (parts.first?.shape[0] ?? 0, parts.first?.shape[1] ?? 0)
        return joined.reshaped([a.shape[0], m, n])
    }

    /// Twin of `linear`: `y[r, o] = Σ_i x[r, i] · W[o, i] + b[o]`.
    public static func naiveLinear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        let (outF, inF) = (weight.shape[0], weight.shape[1])
        precondition(x.shape.last == inF, "naiveLinear: x \(x.shape) vs weight \(weight.shape)")
        let rows = inF == 0 ? x.count : x.count / inF
        let xs = x.scalars, w = weight.scalars, bs = bias?.scalars
        var out = [Float](repeating: 0, count: rows * outF)
        for r in 0..<rows {
            for o in 0..<outF {
                var acc = Double(bs?[o] ?? 0)
                for i in 0..<inF { acc += Double(xs[r * inF + i]) * Double(w[o * inF + i]) }
                out[r * outF + o] = Float(acc)
            }
        }
        return Tensor(shape: Array(x.shape.dropLast()) + [outF], scalars: out)
    }

    /// Twin of `layerNorm`.
    public static func naiveLayerNorm(_ x: Tensor, weight: Tensor, bias: Tensor?, eps: Float) -> Tensor {
        let c = x.shape.last ?? 1
        var v = x.scalars
        let w = weight.scalars, bs = bias?.scalars ?? [Float](repeating: 0, count: c)
        for r in 0..<(c == 0 ? 0 : v.count / c) {
            let row = v[(r * c)..<((r + 1) * c)].map(Double.init)
            let mean = row.reduce(0, +) / Double(c)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
            for j in 0..<c {
                let normalized = (row[j] - mean) / (variance + Double(eps)).squareRoot()
                v[r * c + j] = Float(normalized * Double(w[j]) + Double(bs[j]))
            }
        }
        return Tensor(shape: x.shape, scalars: v)
    }

    /// Twin of `rmsNorm`.
    public static func naiveRMSNorm(_ x: Tensor, weight: Tensor, eps: Float) -> Tensor {
        let c = x.shape.last ?? 1
        var v = x.scalars
        let w = weight.scalars
        for r in 0..<(c == 0 ? 0 : v.count / c) {
            let row = v[(r * c)..<((r + 1) * c)].map(Double.init)
            let ms = row.map { $0 * $0 }.reduce(0, +) / Double(c)
            for j in 0..<c { v[r * c + j] = Float(row[j] / (ms + Double(eps)).squareRoot() * Double(w[j])) }
        }
        return Tensor(shape: x.shape, scalars: v)
    }

    /// Twin of `l2Normalize`.
    public static func naiveL2Normalize(_ x: Tensor, eps: Float = l2NormalizeDefaultEps) -> Tensor {
        let c = x.shape.last ?? 1
        var v = x.scalars
        for r in 0..<(c == 0 ? 0 : v.count / c) {
            let norm = max(v[(r * c)..<((r + 1) * c)].map { Double($0) * Double($0) }.reduce(0, +).squareRoot(),
                           Double(eps))
            for j in 0..<c { v[r * c + j] = Float(Double(v[r * c + j]) / norm) }
        }
        return Tensor(shape: x.shape, scalars: v)
    }

    /// Twin of `softmax`: mask read by explicit broadcast index arithmetic, f64 exponentials.
    public static func naiveSoftmax(_ x: Tensor, mask: Tensor? = nil) -> Tensor {
        let c = x.shape.last ?? 1
        var v = x.scalars
        if let mask { v = naiveBroadcastAdd(v, shape: x.shape, mask) }
        for r in 0..<(c == 0 ? 0 : v.count / c) {
            let row = v[(r * c)..<((r + 1) * c)].map(Double.init)
            let top = row.max() ?? 0
            if top == -.infinity {
                for j in 0..<c { v[r * c + j] = 0 }
                continue
            }
            let e = row.map { exp($0 - top) }
            let s = e.reduce(0, +)
            for j in 0..<c { v[r * c + j] = Float(e[j] / s) }
        }
        return Tensor(shape: x.shape, scalars: v)
    }

    /// `x + y` with y broadcast to `shape` (numpy rules), by multi-index arithmetic.
    static func naiveBroadcastAdd(_ x: [Float], shape: [Int], _ y: Tensor) -> [Float] {
        let ys = y.scalars
        let lead = shape.count - y.rank
        var out = x
        for flat in 0..<x.count {
            var rest = flat
            var yIndex = 0
            var yStride = 1
            for d in stride(from: shape.count - 1, through: 0, by: -1) {
                let i = rest % shape[d]
                rest /= shape[d]
                if d >= lead {
                    let yd = y.shape[d - lead]
                    yIndex += (yd == 1 ? 0 : i) * yStride
                    yStride *= yd
                }
            }
            out[flat] += ys[yIndex]
        }
        return out
    }

    /// Twin of `add`.
    public static func naiveAdd(_ x: Tensor, _ y: Tensor) -> Tensor {
        Tensor(shape: x.shape, scalars: naiveBroadcastAdd(x.scalars, shape: x.shape, y))
    }

    /// Twin of `gelu`: f64 erf.
    public static func naiveGELU(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, scalars: x.scalars.map { v in
            let d = Double(v)
            return Float(0.5 * d * (1 + erf(d / 2.0.squareRoot())))
        })
    }

    /// Twin of `relu`.
    public static func naiveReLU(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, scalars: x.scalars.map { max($0, 0) })
    }

    /// Twin of `attention`: splits heads explicitly and loops over every (b, h, i, j) with f64
    /// dot products. Same shapes and mask rules.
    public static func naiveAttention(
        query: Tensor, key: Tensor, value: Tensor, heads: Int, scale: Float? = nil, mask: Tensor? = nil,
        keyLength: Int? = nil
    ) -> Tensor {
        if let keyLength, keyLength != key.shape[1] {
            return naiveAttention(query: query, key: key.slice(axis: 1, 0..<keyLength),
                                  value: value.slice(axis: 1, 0..<keyLength), heads: heads, scale: scale, mask: mask)
        }
        let (b, tq, tk, d, scoreShape, _) = attentionShapes(query, key, value, heads: heads, mask: mask, keyLength: nil)
        let width = heads * d
        let q = query.scalars, k = key.scalars, v = value.scalars
        let alpha = Double(scale ?? 1 / Float(d).squareRoot())
        var scores = [Float](repeating: 0, count: b * heads * tq * tk)
        for bi in 0..<b {
            for h in 0..<heads {
                for i in 0..<tq {
                    for j in 0..<tk {
                        var dot = 0.0
                        for e in 0..<d {
                            let qe = q[(bi * tq + i) * width + h * d + e]
                            dot += Double(qe) * Double(k[(bi * tk + j) * width + h * d + e])
                        }
                        scores[((bi * heads + h) * tq + i) * tk + j] = Float(alpha * dot)
                    }
                }
            }
        }
        let probs = naiveSoftmax(Tensor(shape: scoreShape, scalars: scores), mask: mask).scalars
        var out = [Float](repeating: 0, count: b * tq * width)
        for bi in 0..<b {
            for h in 0..<heads {
                for i in 0..<tq {
                    for e in 0..<d {
                        var acc = 0.0
                        for j in 0..<tk {
                            let p = probs[((bi * heads + h) * tq + i) * tk + j]
                            acc += Double(p) * Double(v[(bi * tk + j) * width + h * d + e])
                        }
                        out[(bi * tq + i) * width + h * d + e] = Float(acc)
                    }
                }
            }
        }
        return Tensor(shape: [b, tq, width], scalars: out)
    }

    /// Twin of `patchEmbedding`: a direct strided convolution.
    public static func naivePatchEmbedding(pixels: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let (b, ch, gh, gw, p, o) = patchShapes(pixels, weight)
        let (hp, wp) = (pixels.shape[2], pixels.shape[3])
        let x = pixels.scalars, w = weight.scalars, bs = bias?.scalars
        var out = [Float](repeating: 0, count: b * gh * gw * o)
        for bi in 0..<b {
            for gy in 0..<gh {
                for gx in 0..<gw {
                    for oc in 0..<o {
                        var acc = Double(bs?[oc] ?? 0)
                        for c in 0..<ch {
                            for ky in 0..<p {
                                for kx in 0..<p {
                                    let pixel = x[((bi * ch + c) * hp + gy * p + ky) * wp + gx * p + kx]
                                    acc += Double(pixel) * Double(w[((oc * ch + c) * p + ky) * p + kx])
                                }
                            }
                        }
                        out[((bi * gh + gy) * gw + gx) * o + oc] = Float(acc)
                    }
                }
            }
        }
        return Tensor(shape: [b, gh * gw, o], scalars: out)
    }
}
