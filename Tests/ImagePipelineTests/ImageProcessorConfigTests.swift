import Foundation
import Testing
@testable import ImagePipeline

/// `preprocessor_config.json` parsing and validation, and the pipeline options it drives.
@Suite struct ImageProcessorConfigTests {
    func parse(_ json: String) throws -> ImageProcessorConfig {
        try ImageProcessorConfig.parse(Data(json.utf8))
    }

    func configError(_ json: String) -> ImageError? {
        do {
            _ = try parse(json)
            return nil
        } catch {
            return error as? ImageError
        }
    }

    @Test("the BLIP-2 checkpoint config parses to its values")
    func blip2Config() throws {
        let config = try ImageFixtures.config()
        #expect(config.size == .init(height: 224, width: 224))
        #expect(config.resample == 3 && config.doResize && config.doRescale && config.doNormalize)
        #expect(config.rescaleFactor == 0.00392156862745098)
        #expect(config.imageMean == [0.48145466, 0.4578275, 0.40821073])
        #expect(config.imageStd == [0.26862954, 0.26130258, 0.27577711])
        #expect(try config.filter() == .bicubic)
    }

    @Test("a processor_config.json with the settings nested under image_processor parses the same")
    func nestedProcessorConfig() throws {
        let config = try parse(#"""
            {"processor_class": "Blip2Processor", "num_query_tokens": 32,
             "image_processor": {"size": {"height": 224, "width": 224}, "image_mean": [0.5, 0.5, 0.5]}}
            """#)
        #expect(config.size == .init(height: 224, width: 224) && config.imageMean == [0.5, 0.5, 0.5])
    }

    @Test("absent fields take BlipImageProcessor's class defaults")
    func defaults() throws {
        let config = try parse("{}")
        #expect(config == ImageProcessorConfig())
        #expect(config.size == .init(height: 384, width: 384))
    }

    @Test("a single mean or std number applies to all three channels")
    func scalarMeanStd() throws {
        let config = try parse(#"{"image_mean": 0.5, "image_std": 0.25}"#)
        #expect(config.imageMean == [0.5, 0.5, 0.5] && config.imageStd == [0.25, 0.25, 0.25])
    }

    @Test("unusable configs are rejected with a clear message")
    func rejected() {
        #expect(configError(#"{"resample": 1}"#)
            == .invalidConfig("resample 1 is not supported (3 = bicubic, 2 = bilinear)"))
        #expect(configError(#"{"size": {"height": 0, "width": 224}}"#)
            == .invalidConfig("size 0x224 is outside 1...4096"))
        #expect(configError(#"{"image_mean": [0.5, 0.5]}"#)
            == .invalidConfig("image_mean and image_std need 3 values (RGB)"))
        #expect(configError(#"{"image_std": [0.5, 0, 0.5]}"#)
            == .invalidConfig("image_std must be non-zero and all values finite"))
        #expect(configError(#"{"size": {"shortest_edge": 224}}"#)
            == .invalidConfig("cannot decode preprocessor_config.json (missing value at size.height)"))
        #expect(configError("not json") == .invalidConfig("cannot decode preprocessor_config.json (invalid JSON)"))
        #expect(configError(#"{"do_resize": "yes"}"#)
            == .invalidConfig("cannot decode preprocessor_config.json (bad value at do_resize)"))
    }

    @Test("without rescale and normalize the values are the resized bytes as floats")
    func rescaleAndNormalizeOff() throws {
        var config = try ImageFixtures.config()
        config.size = .init(height: 5, width: 7)
        config.doRescale = false
        config.doNormalize = false
        let bytes = try ImageFixtures.file(named: "png_palette.png")
        let image = try ImageDecoder.decode(bytes)
        let resized = PillowResampler.resize(image, width: 7, height: 5)
        let values = try ImagePreprocessor(config: config).pixelValues(from: bytes)
        #expect(values.channels == 3 && values.height == 5 && values.width == 7)
        for c in 0..<3 {
            for i in 0..<35 {
                #expect(values.values[c * 35 + i] == Float(resized.pixels[i * 3 + c]))
            }
        }
    }

    @Test("without resize the output keeps the decoded size")
    func resizeOff() throws {
        var config = try ImageFixtures.config()
        config.doResize = false
        let values = try ImagePreprocessor(config: config).pixelValues(from: ImageFixtures.file(named: "png_rgba.png"))
        #expect(values.width == 45 && values.height == 70 && values.values.count == 3 * 45 * 70)
    }

    @Test("the preprocessor refuses an invalid config at construction")
    func preprocessorValidates() throws {
        var config = try ImageFixtures.config()
        config.resample = 0
        #expect(throws: ImageError.self) { try ImagePreprocessor(config: config) }
    }
}
