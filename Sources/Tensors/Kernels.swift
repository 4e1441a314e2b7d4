// The numerical kernels the BLIP-2 layers are built from. Legend for shape comments in this
// module: B = batch, T = tokens (Tq queries, Tk keys), H = heads, D = head width, C = channels
// (last dim), N = rows (product of all leading dims), M/K = matmul extents.
//
// Every fast kernel here has a naive twin in `Kernels+Naive.swift` (single-threaded, plain
// index loops, f64 accumulation where it matters); tests compare the two on awkward shapes.

import CKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Namespace of the tensor kernels: GEMM through BLAS, normalisation, softmax, activations,
/// attention, patch embedding. Out-of-place forms return a fresh tensor; `...InPlace` forms
/// overwrite their first argument (copying it first only if its storage is shared).
public enum Kernels {}

// MARK: - broadcasting

extension Kernels {
    /// Element strides that read `shape` as if broadcast (numpy rules, aligned right) to `target`:
    /// 0 along every broadcast dimension.
    static func broadcastStrides(_ shape: [Int], to target: [Int], what: String) -> [Int] {
        precondition(shape.count <= target.count, "\(what) \(shape) has more dims than \(target)")
        var strides = [Int](repeating: 0, count: target.count)
        var step = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            let t = i + target.count - shape.count
            if shape[i] == target[t] {
                strides[t] = shape[i] == 1 ? 0 : step
            } else {
                precondition(shape[i] == 1, "\(what) \(shape) does not broadcast to \(target)")
            }
            step *= shape[i]
        }
        return strides
    }

    /// Offset of the row with flat row index `row` (over all dims but the last) in a tensor read
    /// with `strides` (from `broadcastStrides`) against `target`.
    static func broadcastRowOffset(row: Int, target: [Int], strides: [Int]) -> Int {
        var rest = row
        var off = 0
        var d = target.count - 2
        while d >= 0 {
            off += (rest % target[d]) * strides[d]
            rest /= target[d]
            d -= 1
        }
        return off
    }
}

// MARK: - elementwise

extension Kernels {
    /// `x += y` where `y` broadcasts to `x` (numpy rules): same shape for a residual add, `[C]`
    /// for a bias add, `[1, T, C]` for position embeddings added to `[B, T, C]`.
    public static func addInPlace(_ x: inout Tensor, _ y: Tensor) {
        let target = x.shape
        let strides = broadcastStrides(y.shape, to: target, what: "addend")
        let c = target.last ?? 1
        let rows = c == 0 ? 0 : x.count / c
        let lastStride = strides.last ?? 0
        y.withUnsafeBufferPointer { ySrc in
            x.withUnsafeMutableBufferPointer { xDst in
                guard let yp = ySrc.baseAddress, let xp = xDst.baseAddress else { return }
                Parallel.forEachChunk(count: rows, elementsPerItem: c) { range in
                    for r in range {
                        let yo = yp + broadcastRowOffset(row: r, target: target, strides: strides)
                        let xo = xp + r * c
                        if lastStride == 1 {
                            for j in 0..<c { xo[j] += yo[j] }
                        } else {
                            let v = yo[0]
                            for j in 0..<c { xo[j] += v }
                        }
                    }
                }
            }
        }
    }

    /// `x + y` where `y` broadcasts to `x` (see `addInPlace`).
    public static func add(_ x: Tensor, _ y: Tensor) -> Tensor {
        var out = x
        addInPlace(&out, y)
        return out
    }

    /// `x *= y` elementwise, same shapes (e.g. the gated FFN's `gelu(wi_0 x) ⊙ wi_1 x`).
    public static func multiplyInPlace(_ x: inout Tensor, _ y: Tensor) {
        precondition(x.shape == y.shape, "multiply: \(x.shape) vs \(y.shape)")
        y.withUnsafeBufferPointer { ys in
            x.withUnsafeMutableBufferPointer { xs in
                guard let yp = ys.baseAddress, let xp = xs.baseAddress else { return }
                Parallel.forEachChunk(count: xs.count, elementsPerItem: 1) { range in
                    for i in range { xp[i] *= yp[i] }
                }
            }
        }
    }

    /// `x *= factor` (e.g. OPT scales q by 80^-0.5 after its bias).
    public static func scaleInPlace(_ x: inout Tensor, by factor: Float) {
        mapInPlace(&x) { $0 * factor }
    }

    /// `max(x, 0)`, in place (OPT's FFN activation).
    public static func reluInPlace(_ x: inout Tensor) {
        mapInPlace(&x) { $0 > 0 ? $0 : 0 }
    }

    /// `max(x, 0)`.
    public static func relu(_ x: Tensor) -> Tensor {
        var out = x
        reluInPlace(&out)
        return out
    }

    /// Exact GELU, `0.5 x (1 + erf(x / √2))`, in place: torch's default `nn.GELU()` /
    /// `F.gelu(approximate="none")`, used by the ViT, the Q-Former and Flan-T5's gated FFN.
    /// Vectorised in `ck_gelu` (erf within ~1 ulp, 8 floats at a time with AVX2+FMA; scalar `erff` elsewhere).
    public static func geluInPlace(_ x: inout Tensor) {
        geluInPlace(&x, path: .automatic)
    }

    /// `geluInPlace` with a forced body (tests compare each with the naive twin).
    static func geluInPlace(_ x: inout Tensor, path: KernelPath) {
        x.withUnsafeMutableBufferPointer { xs in
            guard let xp = xs.baseAddress else { return }
            Parallel.forEachChunk(count: xs.count, elementsPerItem: 1) { range in
                ck_gelu(xp + range.lowerBound, range.count, path.c)
            }
        }
    }

    /// erf elementwise through `ck_erf` with the body `path` picks (the GELU's erf, exposed for its ulp tests).
    static func erfElementwise(_ x: Tensor, path: KernelPath) -> Tensor {
        mapThroughC(x) { ck_erf($0, $0, $1, path.c) }
    }

    /// exp elementwise through `ck_exp` with the body `path` picks (softmax's exp, exposed for its ulp tests).
    static func expElementwise(_ x: Tensor, path: KernelPath) -> Tensor {
        mapThroughC(x) { ck_exp($0, $0, $1, path.c) }
    }

    /// A copy of `x` rewritten in place by a C kernel given (pointer, count), on the calling thread.
    private static func mapThroughC(_ x: Tensor, _ kernel: (UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        var out = x
        out.withUnsafeMutableBufferPointer { ys in
            guard let yp = ys.baseAddress else { return }
            kernel(yp, ys.count)
        }
        return out
    }

    /// Exact GELU (see `geluInPlace`).
    public static func gelu(_ x: Tensor) -> Tensor {
        var out = x
        geluInPlace(&out)
        return out
    }

    static func mapInPlace(_ x: inout Tensor, _ f: (Float) -> Float) {
        x.withUnsafeMutableBufferPointer { xs in
            guard let xp = xs.baseAddress else { return }
            Parallel.forEachChunk(count: xs.count, elementsPerItem: 1) { range in
                for i in range { xp[i] = f(xp[i]) }
            }
        }
    }
}
