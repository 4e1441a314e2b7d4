/// Resizes 8-bit RGB exactly like Pillow's `Image.resize(size, BICUBIC | BILINEAR)` (Pillow 13.0,
/// `libImaging/Resample.c`; model-reference §3.2): separable, two passes (order: see `verticalFirst`), each writing
/// rounded and clamped uint8; double-precision filter weights normalised per output pixel, then quantised to
/// 22-bit fixed point. Bit-exact with PIL on the fixtures.
public enum PillowResampler {
    /// The resampling filters transformers' BLIP processor can ask for (PIL enum values).
    public enum Filter: Int, Sendable {
        case bilinear = 2
        case bicubic = 3

        /// Half-width of the kernel at scale 1.
        var support: Double {
            switch self {
            case .bilinear: return 1
            case .bicubic: return 2
            }
        }

        /// Keys cubic convolution with a = −0.5 (Pillow's choice), or the triangle filter.
        /// The Horner forms follow Pillow's evaluation order, which matters for the last bit of the weights.
        func weight(_ x: Double) -> Double {
            let t = abs(x)
            switch self {
            case .bilinear:
                return t < 1 ? 1 - t : 0
            case .bicubic:
                let a = -0.5
                if t < 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
                if t < 2 { return (((t - 5) * t + 8) * t - 4) * a }
                return 0
            }
        }
    }

    /// Pillow's fixed-point precision for 8-bit images: 32 bits minus 8 for the pixel and 2 of headroom for the
    /// negative lobes, so the int32 accumulator cannot overflow.
    static let precisionBits = 22

    /// Fixed-point weights for one axis: output pixel `o` reads `count[o]` source pixels from `first[o]`, with
    /// weights `weights[o * stride ..< o * stride + count[o]]`.
    struct Coefficients {
        let first: [Int]
        let count: [Int]
        let stride: Int
        let weights: [Int32]

        init(inSize: Int, outSize: Int, filter: Filter) {
            precondition(inSize > 0 && outSize > 0, "resize sizes must be positive")
            let scale = Double(inSize) / Double(outSize)
            let filterScale = max(scale, 1)  // downscaling widens the kernel (antialiasing)
            let support = filter.support * filterScale
            let stride = Int(support.rounded(.up)) * 2 + 1
            let inverseScale = 1.0 / filterScale  // Pillow multiplies by the reciprocal; so do we, for the last bit
            var first = [Int](repeating: 0, count: outSize)
            var count = [Int](repeating: 0, count: outSize)
            var weights = [Int32](repeating: 0, count: outSize * stride)
            var raw = [Double](repeating: 0, count: stride)
            let one = Double(1 << PillowResampler.precisionBits)
            for o in 0..<outSize {
                let center = (Double(o) + 0.5) * scale
                // Int(_:) truncates toward zero, like C's (int) cast.
                let xmin = max(Int(center - support + 0.5), 0)
                let xmax = min(Int(center + support + 0.5), inSize)
                let n = xmax - xmin
                precondition(n >= 1 && n <= stride, "resize window")
                var total = 0.0
                for j in 0..<n {
                    let w = filter.weight((Double(j + xmin) - center + 0.5) * inverseScale)
                    raw[j] = w
                    total += w
                }
                for j in 0..<n {
                    let w = total != 0 ? raw[j] / total : raw[j]
                    weights[o * stride + j] = Int32(w < 0 ? (w * one - 0.5) : (w * one + 0.5))
                }
                first[o] = xmin
                count[o] = n
            }
            self.first = first
            self.count = count
            self.stride = stride
            self.weights = weights
        }
    }

    /// Resizes `image` to `width` × `height` (aspect ratio not kept, as transformers does for `{height, width}`).
    public static func resize(_ image: RGBImage, width: Int, height: Int, filter: Filter = .bicubic) -> RGBImage {
        precondition(width > 0 && height > 0, "resize target must be positive")
        let needsHorizontal = width != image.width, needsVertical = height != image.height
        let horizontalCoefficients = { Coefficients(inSize: image.width, outSize: width, filter: filter) }
        let verticalCoefficients = { Coefficients(inSize: image.height, outSize: height, filter: filter) }
        if needsHorizontal && needsVertical && verticalFirst(image: image, width: width, height: height) {
            let tall = vertical(image, coefficients: verticalCoefficients())
            return horizontal(tall, coefficients: horizontalCoefficients())
        }
        var current = image
        if needsHorizontal { current = horizontal(current, coefficients: horizontalCoefficients()) }
        if needsVertical { current = vertical(current, coefficients: verticalCoefficients()) }
        return current
    }

    /// The pass order changes the result (each pass rounds to uint8), so it must be Pillow's. Pillow 13.0 runs the
    /// vertical pass first when the height shrinks by more than twice as many pixels as the width does
    /// (python-pillow/Pillow#9549; read off the 13.0 wheel's `ImagingResample`, and checked on 389 random size
    /// pairs where the two orders differ); otherwise horizontal first, as model-reference §3.2 describes.
    static func verticalFirst(image: RGBImage, width: Int, height: Int) -> Bool {
        let heightDrop = image.height - height, widthDrop = image.width - width
        return heightDrop > 0 && heightDrop > 2 * widthDrop
    }

    /// `acc >> 22` clamped to a byte; `acc` starts at 2²¹ so the shift rounds to nearest.
    @inline(__always)
    private static func clip8(_ accumulator: Int32) -> UInt8 {
        UInt8(clamping: accumulator >> Int32(precisionBits))
    }

    // Both passes accumulate in Int32 like Pillow (its 2 bits of headroom make overflow impossible for normalised
    // weights), with wrapping operators so release builds carry no overflow checks in the inner loops.

    private static func horizontal(_ image: RGBImage, coefficients k: Coefficients) -> RGBImage {
        let outWidth = k.first.count, inWidth = image.width
        var out = [UInt8](repeating: 0, count: outWidth * image.height * 3)
        let half = Int32(1 << (precisionBits - 1))
        image.pixels.withUnsafeBufferPointer { src in
            k.weights.withUnsafeBufferPointer { weights in
                k.first.withUnsafeBufferPointer { first in
                    k.count.withUnsafeBufferPointer { count in
                        out.withUnsafeMutableBufferPointer { dst in
                            for y in 0..<image.height {
                                let row = y * inWidth * 3
                                for x in 0..<outWidth {
                                    var r = half, g = half, b = half
                                    let base = x * k.stride, start = row + first[x] * 3
                                    for j in 0..<count[x] {
                                        let w = weights[base + j], s = start + j * 3
                                        r = r &+ Int32(src[s]) &* w
                                        g = g &+ Int32(src[s + 1]) &* w
                                        b = b &+ Int32(src[s + 2]) &* w
                                    }
                                    let d = (y * outWidth + x) * 3
                                    dst[d] = clip8(r)
                                    dst[d + 1] = clip8(g)
                                    dst[d + 2] = clip8(b)
                                }
                            }
                        }
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: image.height, pixels: out)
    }

    private static func vertical(_ image: RGBImage, coefficients k: Coefficients) -> RGBImage {
        let outHeight = k.first.count, rowBytes = image.width * 3
        var out = [UInt8](repeating: 0, count: outHeight * rowBytes)
        let half = Int32(1 << (precisionBits - 1))
        // One accumulator per byte of the output row, filled tap by tap: every source row is read contiguously,
        // which keeps the pass cache-friendly and lets the compiler vectorise it. The sum per byte is the same
        // as Pillow's (integer addition is exact, only the order differs).
        var accumulator = [Int32](repeating: 0, count: rowBytes)
        image.pixels.withUnsafeBufferPointer { src in
            k.weights.withUnsafeBufferPointer { weights in
                accumulator.withUnsafeMutableBufferPointer { acc in
                    out.withUnsafeMutableBufferPointer { dst in
                        for y in 0..<outHeight {
                            let base = y * k.stride, firstRow = k.first[y]
                            for i in 0..<rowBytes { acc[i] = half }
                            for j in 0..<k.count[y] {
                                let w = weights[base + j], rowStart = (firstRow + j) * rowBytes
                                for i in 0..<rowBytes { acc[i] = acc[i] &+ Int32(src[rowStart + i]) &* w }
                            }
                            let outStart = y * rowBytes
                            for i in 0..<rowBytes { dst[outStart + i] = clip8(acc[i]) }
                        }
                    }
                }
            }
        }
        return RGBImage(width: image.width, height: outHeight, pixels: out)
    }
}
