// Softmax over the last dim with an optional additive mask.
//
// Masked rows: a mask entry may be any large negative number (HF 4.x's −10000, torch's
// finfo.min) or −inf. Finite values behave exactly like torch. A row whose every entry is −inf
// (nothing to attend to) comes out as all zeros instead of torch's NaNs, so a padded query row
// yields a zero attention output rather than poisoning the batch.

import CKernels

extension Kernels {
    /// Softmax over the last dim of `x + mask`, in place. x: [..., C]; mask broadcasts to x
    /// (numpy rules, e.g. [B, 1, 1, Tk] or [1, 1, Tq, Tk] against scores [B, H, Tq, Tk]).
    /// A row that is entirely −inf becomes all zeros (see the file comment).
    public static func softmaxInPlace(_ x: inout Tensor, mask: Tensor? = nil) {
        softmaxInPlace(&x, mask: mask, path: .automatic)
    }

    /// `softmaxInPlace` with a forced body for the exp and the row sums (tests compare each with the naive twin).
    static func softmaxInPlace(_ x: inout Tensor, mask: Tensor?, path: KernelPath) {
        let target = x.shape
        let c = target.last ?? 1
        let rows = c == 0 ? 0 : x.count / c
        let zero = Tensor(zeros: [1])
        let m = mask ?? zero
        let strides = mask.map { broadcastStrides($0.shape, to: target, what: "mask") }
        let lastStride = strides?.last ?? 0
        m.withUnsafeBufferPointer { mb in
            x.withUnsafeMutableBufferPointer { xb in
                guard let mp = mb.baseAddress, let xp = xb.baseAddress else { return }
                Parallel.forEachChunk(count: rows, elementsPerItem: c) { range in
                    for r in range {
                        let xr = xp + r * c
                        if let strides {
                            let mr = mp + broadcastRowOffset(row: r, target: target, strides: strides)
                            for j in 0..<c { xr[j] += mr[j * lastStride] }
                        }
                        softmaxRow(xr, count: c, path: path)
                    }
                }
            }
        }
    }

    /// Softmax over the last dim of `x + mask` (see `softmaxInPlace`).
    public static func softmax(_ x: Tensor, mask: Tensor? = nil) -> Tensor {
        var out = x
        softmaxInPlace(&out, mask: mask)
        return out
    }

    /// Softmax of one row in place; an all −inf row becomes zeros. Vectorised in `ck_softmax_row` (exp within
    /// ~1 ulp, 8 floats at a time with AVX2+FMA; scalar `expf` elsewhere).
    @inline(__always)
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, count c: Int, path: KernelPath = .automatic) {
        ck_softmax_row(row, c, path.c)
    }
}
