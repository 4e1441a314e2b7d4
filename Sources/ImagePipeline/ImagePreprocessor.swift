/// The whole image path of a request: bytes → decode → resize → rescale → normalize → `PixelValues`, matching
/// transformers' `BlipImageProcessorPil` (the PIL backend, used when torchvision is absent) bit for bit.
public struct ImagePreprocessor: Sendable {
    public let config: ImageProcessorConfig
    public let options: DecodeOptions

    /// - Throws: `ImageError.invalidConfig` if the config cannot be applied.
    public init(config: ImageProcessorConfig, options: DecodeOptions = DecodeOptions()) throws {
        try config.validate()
        self.config = config
        self.options = options
    }

    /// Decodes and preprocesses encoded image bytes.
    public func pixelValues(from bytes: [UInt8]) throws -> PixelValues {
        try pixelValues(from: try ImageDecoder.decode(bytes, options: options))
    }

    /// Preprocesses an already decoded image.
    public func pixelValues(from image: RGBImage) throws -> PixelValues {
        let resized = config.doResize
            ? PillowResampler.resize(image, width: config.size.width, height: config.size.height,
                                     filter: try config.filter())
            : image
        return normalize(resized)
    }

    /// Rescale then normalize, in transformers' order and precision: `float32(float64(u8) * rescale_factor)`, then
    /// `(v - float32(mean)) / float32(std)` in float32. Without rescale, normalize sees `float32(u8)`.
    func normalize(_ image: RGBImage) -> PixelValues {
        let plane = image.width * image.height
        var values = [Float](repeating: 0, count: 3 * plane)
        // A per-channel lookup over the 256 possible bytes: the same arithmetic, done once per value.
        var tables = [[Float]]()
        for channel in 0..<3 {
            let mean = config.doNormalize ? Float(config.imageMean[channel]) : 0
            let std = config.doNormalize ? Float(config.imageStd[channel]) : 1
            tables.append((0..<256).map { byte in
                let v = config.doRescale ? Float(Double(byte) * config.rescaleFactor) : Float(byte)
                return config.doNormalize ? (v - mean) / std : v
            })
        }
        image.pixels.withUnsafeBufferPointer { src in
            values.withUnsafeMutableBufferPointer { dst in
                for channel in 0..<3 {
                    tables[channel].withUnsafeBufferPointer { table in
                        for i in 0..<plane {
                            dst[channel * plane + i] = table[Int(src[3 * i + channel])]
                        }
                    }
                }
            }
        }
        return PixelValues(channels: 3, height: image.height, width: image.width, values: values)
    }
}
