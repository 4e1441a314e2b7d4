import Foundation

/// The fields of a checkpoint's `preprocessor_config.json` (BlipImageProcessor) that decide pixel values.
///
/// Absent fields take `BlipImageProcessor`'s class defaults (transformers 5.23), as `from_pretrained` does; note the
/// class default size is 384 while the BLIP-2 checkpoints say 224. Unknown fields are ignored.
public struct ImageProcessorConfig: Codable, Sendable, Equatable {
    /// Output size in pixels; transformers resizes straight to it (no aspect ratio kept, no crop).
    public struct Size: Codable, Sendable, Equatable {
        public var height: Int
        public var width: Int

        public init(height: Int, width: Int) {
            self.height = height
            self.width = width
        }
    }

    /// OpenAI CLIP's channel means, transformers' `OPENAI_CLIP_MEAN` (BlipImageProcessor's default).
    public static let openAIClipMean = [0.48145466, 0.4578275, 0.40821073]
    /// OpenAI CLIP's channel standard deviations, `OPENAI_CLIP_STD`.
    public static let openAIClipStd = [0.26862954, 0.26130258, 0.27577711]
    /// BlipImageProcessor's class default side.
    public static let defaultSide = 384
    /// Largest output side accepted from a config: ViT inputs are a few hundred pixels; this only stops a typo
    /// from allocating gigabytes.
    public static let maxOutputSide = 4_096

    public var doResize: Bool
    public var size: Size
    /// PIL resampling id: 3 = BICUBIC, 2 = BILINEAR (the only two implemented).
    public var resample: Int
    public var doRescale: Bool
    public var rescaleFactor: Double
    public var doNormalize: Bool
    public var imageMean: [Double]
    public var imageStd: [Double]
    public var doConvertRGB: Bool

    enum CodingKeys: String, CodingKey {
        case doResize = "do_resize", size, resample, doRescale = "do_rescale", rescaleFactor = "rescale_factor"
        case doNormalize = "do_normalize", imageMean = "image_mean", imageStd = "image_std"
        case doConvertRGB = "do_convert_rgb"
    }

    public init(
        doResize: Bool = true, size: Size = Size(height: defaultSide, width: defaultSide), resample: Int = 3,
        doRescale: Bool = true, rescaleFactor: Double = 1.0 / 255.0, doNormalize: Bool = true,
        imageMean: [Double] = openAIClipMean, imageStd: [Double] = openAIClipStd, doConvertRGB: Bool = true
    ) {
        self.doResize = doResize
        self.size = size
        self.resample = resample
        self.doRescale = doRescale
        self.rescaleFactor = rescaleFactor
        self.doNormalize = doNormalize
        self.imageMean = imageMean
        self.imageStd = imageStd
        self.doConvertRGB = doConvertRGB
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ImageProcessorConfig()
        doResize = try c.decodeIfPresent(Bool.self, forKey: .doResize) ?? defaults.doResize
        size = try c.decodeIfPresent(Size.self, forKey: .size) ?? defaults.size
        resample = try c.decodeIfPresent(Int.self, forKey: .resample) ?? defaults.resample
        doRescale = try c.decodeIfPresent(Bool.self, forKey: .doRescale) ?? defaults.doRescale
        rescaleFactor = try c.decodeIfPresent(Double.self, forKey: .rescaleFactor) ?? defaults.rescaleFactor
        doNormalize = try c.decodeIfPresent(Bool.self, forKey: .doNormalize) ?? defaults.doNormalize
        imageMean = try Self.decodeChannels(c, .imageMean) ?? defaults.imageMean
        imageStd = try Self.decodeChannels(c, .imageStd) ?? defaults.imageStd
        doConvertRGB = try c.decodeIfPresent(Bool.self, forKey: .doConvertRGB) ?? defaults.doConvertRGB
    }

    /// transformers accepts one number for all channels as well as a per-channel list.
    private static func decodeChannels(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> [Double]? {
        if let single = try? c.decodeIfPresent(Double.self, forKey: key) { return [single, single, single] }
        return try c.decodeIfPresent([Double].self, forKey: key)
    }

    /// transformers 5.x `save_pretrained` writes `processor_config.json` with the image-processor settings nested
    /// under this key (published checkpoints have a flat `preprocessor_config.json`); `parse` reads either.
    private struct NestedProcessorConfig: Decodable {
        let imageProcessor: ImageProcessorConfig?
        enum CodingKeys: String, CodingKey { case imageProcessor = "image_processor" }
    }

    /// Parses and validates `preprocessor_config.json` (flat) or `processor_config.json` (nested) bytes.
    ///
    /// - Throws: `ImageError.invalidConfig` with the reason (malformed JSON, wrong types, unusable values).
    public static func parse(_ json: Data) throws -> ImageProcessorConfig {
        let config: ImageProcessorConfig
        do {
            let nested = try JSONDecoder().decode(NestedProcessorConfig.self, from: json)
            config = try nested.imageProcessor ?? JSONDecoder().decode(ImageProcessorConfig.self, from: json)
        } catch {
            throw ImageError.invalidConfig("cannot decode preprocessor_config.json (\(Self.describe(error)))")
        }
        try config.validate()
        return config
    }

    /// The resampling filter, or a typed error for ids other than bicubic and bilinear.
    public func filter() throws -> PillowResampler.Filter {
        guard let filter = PillowResampler.Filter(rawValue: resample) else {
            throw ImageError.invalidConfig("resample \(resample) is not supported (3 = bicubic, 2 = bilinear)")
        }
        return filter
    }

    /// Checks the values the pipeline relies on.
    public func validate() throws {
        if doResize {
            for side in [size.height, size.width] where side < 1 || side > Self.maxOutputSide {
                throw ImageError.invalidConfig("size \(size.height)x\(size.width) is outside 1...\(Self.maxOutputSide)")
            }
            _ = try filter()
        }
        if doNormalize {
            guard imageMean.count == 3, imageStd.count == 3 else {
                throw ImageError.invalidConfig("image_mean and image_std need 3 values (RGB)")
            }
            guard imageStd.allSatisfy({ $0 != 0 && $0.isFinite }), imageMean.allSatisfy(\.isFinite) else {
                throw ImageError.invalidConfig("image_std must be non-zero and all values finite")
            }
        }
        if doRescale && !rescaleFactor.isFinite {
            throw ImageError.invalidConfig("rescale_factor must be finite")
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard let decodingError = error as? DecodingError else { return "invalid JSON" }
        switch decodingError {
        case .keyNotFound(let key, let context):
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            return "missing value at \(path)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "invalid JSON" : "bad value at \(path)"
        @unknown default:
            return "invalid JSON"
        }
    }
}
