// Patch embedding = Conv2d with kernel = stride = patch size, done as patchify + one GEMM.
// Follows `Blip2VisionEmbeddings.patch_embedding` + `flatten(2).transpose(1, 2)` in transformers.
//
// Legend: B = batch, Ch = input channels, (Hp, Wp) = image size in pixels, p = patch size,
// (Gh, Gw) = patch grid (Hp / p, Wp / p, rounded down like torch), N = Gh·Gw, O = out channels.

extension Kernels {
    /// Conv2d(kernel = stride = p) over NCHW pixels, patches flattened in row-major (gy, gx) order.
    /// pixels: [B, Ch, Hp, Wp], weight: [O, Ch, p, p], bias: [O] or nil -> [B, N, O].
    /// Pixels past the last whole patch are ignored, as torch's convolution does.
    public static func patchEmbedding(pixels: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let (b, ch, gh, gw, p, o) = patchShapes(pixels, weight)
        let (hp, wp) = (pixels.shape[2], pixels.shape[3])
        let patchWidth = ch * p * p
        // cols: [B * N, Ch*p*p], each row one patch in the weight's (c, ky, kx) order
        var cols = Tensor(zeros: [b * gh * gw, patchWidth])
        pixels.withUnsafeBufferPointer { xb in
            cols.withUnsafeMutableBufferPointer { cb in
                guard let xp = xb.baseAddress, let cp = cb.baseAddress else { return }
                Parallel.forEachChunk(count: b * gh * gw, elementsPerItem: patchWidth) { range in
                    for patch in range {
                        let bi = patch / (gh * gw)
                        let gy = (patch / gw) % gh
                        let gx = patch % gw
                        var dst = cp + patch * patchWidth
                        for c in 0..<ch {
                            for ky in 0..<p {
                                let src = xp + ((bi * ch + c) * hp + gy * p + ky) * wp + gx * p
                                dst.update(from: src, count: p)
                                dst += p
                            }
                        }
                    }
                }
            }
        }
        let out = linear(cols, weight: weight.reshaped([o, patchWidth]), bias: bias)
        return out.reshaped([b, gh * gw, o])
    }

    /// Checks patch-embedding shapes; returns (B, Ch, Gh, Gw, p, O).
    static func patchShapes(_ pixels: Tensor, _ weight: Tensor) -> (Int, Int, Int, Int, Int, Int) {
        precondition(pixels.rank == 4 && weight.rank == 4,
                     "patchEmbedding: pixels \(pixels.shape), weight \(weight.shape)")
        let p = weight.shape[2]
        precondition(p >= 1 && weight.shape[3] == p, "patchEmbedding: square kernels only, got \(weight.shape)")
        precondition(weight.shape[1] == pixels.shape[1], "patchEmbedding: channels \(pixels.shape) vs \(weight.shape)")
        return (pixels.shape[0], pixels.shape[1], pixels.shape[2] / p, pixels.shape[3] / p, p, weight.shape[0])
    }
}
