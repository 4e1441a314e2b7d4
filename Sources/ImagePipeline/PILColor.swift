/// Pillow's 8-bit colour conversions, re-derived from its documented fixed-point scheme and checked exhaustively
/// (all 65536 input pairs) against Pillow 13.0 by the fixture tests. They decide output bytes, so parity with
/// `transformers` needs them bit-exact.
enum PILColor {
    /// Pillow's alpha compositing works in 7 fractional bits.
    private static let blendShift: UInt32 = 7

    /// One channel of `Image.alpha_composite(white, rgba).convert("RGB")`, which is how transformers 5.x
    /// `convert_to_rgb` flattens alpha. Pillow blends with coefficients `a·2⁷` and `(255−a)·2⁷`, rounds, and
    /// divides by 255 with the shift trick `((x >> 8) + x) >> 8`.
    @inline(__always)
    static func overWhite(_ value: UInt8, alpha: UInt8) -> UInt8 {
        if alpha == 0 { return 255 }
        let a = UInt32(alpha)
        let blended = UInt32(value) * a << blendShift + 255 * (255 - a) << blendShift + (0x80 << blendShift)
        return UInt8(truncatingIfNeeded: (((blended >> 8) + blended) >> 8) >> blendShift)
    }

    /// One channel of Pillow's CMYK → RGB: `(255 − k) − round(v · (255 − k) / 255)`, the division done with the
    /// same shift trick. `v` is the ink value after Pillow's Adobe inversion (see `JPEGDecoder`).
    @inline(__always)
    static func cmykChannel(_ value: UInt8, black: UInt8) -> UInt8 {
        let notBlack = 255 - Int(black)
        let product = Int(value) * notBlack + 128
        let result = notBlack - (((product >> 8) + product) >> 8)
        return UInt8(clamping: result)
    }

    /// Converts interleaved RGBA bytes to RGB in place (the array shrinks to 3 bytes per pixel).
    static func rgbaToRGB(_ buffer: inout [UInt8], pixelCount: Int, alpha: DecodeOptions.AlphaHandling) {
        precondition(buffer.count == pixelCount * 4, "RGBA buffer size")
        buffer.withUnsafeMutableBufferPointer { p in
            // Forward compaction is safe: pixel i is read (bytes 4i..4i+3) before bytes 3i..3i+2 are written.
            for i in 0..<pixelCount {
                let r = p[4 * i], g = p[4 * i + 1], b = p[4 * i + 2], a = p[4 * i + 3]
                switch alpha {
                case .compositeOnWhite:
                    p[3 * i] = overWhite(r, alpha: a)
                    p[3 * i + 1] = overWhite(g, alpha: a)
                    p[3 * i + 2] = overWhite(b, alpha: a)
                case .drop:
                    p[3 * i] = r
                    p[3 * i + 1] = g
                    p[3 * i + 2] = b
                }
            }
        }
        buffer.removeLast(pixelCount)
    }

    /// Converts interleaved CMYK bytes as stored in a JPEG to RGB in place. Pillow reads every 4-channel JPEG as
    /// Adobe-inverted ("CMYK;I", "assume adobe conventions"), so the stored bytes are inverted first.
    static func invertedCMYKToRGB(_ buffer: inout [UInt8], pixelCount: Int) {
        precondition(buffer.count == pixelCount * 4, "CMYK buffer size")
        buffer.withUnsafeMutableBufferPointer { p in
            for i in 0..<pixelCount {
                let c = 255 - p[4 * i], m = 255 - p[4 * i + 1], y = 255 - p[4 * i + 2], k = 255 - p[4 * i + 3]
                p[3 * i] = cmykChannel(c, black: k)
                p[3 * i + 1] = cmykChannel(m, black: k)
                p[3 * i + 2] = cmykChannel(y, black: k)
            }
        }
        buffer.removeLast(pixelCount)
    }
}
