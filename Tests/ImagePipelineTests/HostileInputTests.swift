import Testing
@testable import ImagePipeline

/// Untrusted bytes: every failure is a typed `ImageError`, decided before any large allocation where possible.
@Suite struct HostileInputTests {
    /// Runs the decoder and returns the error, failing the test on a non-`ImageError` throw.
    func decodeError(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) -> ImageError? {
        do {
            _ = try ImageDecoder.decode(bytes, options: options)
            return nil
        } catch let error as ImageError {
            return error
        } catch {
            Issue.record("untyped error \(error)")
            return nil
        }
    }

    @Test("empty data is refused as empty")
    func emptyData() {
        #expect(decodeError([]) == .empty)
    }

    @Test("non-image bytes are refused naming what they look like, without echoing them")
    func nonImageBytes() {
        let text = Array("{\"prompt\": \"a photo of\"}".utf8)
        #expect(decodeError(text) == .unsupportedFormat(seen: "text, \(text.count) bytes"))
        let gif = Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0]
        #expect(decodeError(gif) == .unsupportedFormat(seen: "GIF, 13 bytes"))
        let webp = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8)
        #expect(decodeError(webp) == .unsupportedFormat(seen: "WebP, 16 bytes"))
        #expect(decodeError([0x00, 0xFF, 0x13]) == .unsupportedFormat(seen: "unknown binary, 3 bytes"))
        #expect(decodeError([0xFF, 0xD8]) == .unsupportedFormat(seen: "truncated JPEG signature, 2 bytes"))
        let message = ImageError.unsupportedFormat(seen: "text, 24 bytes").description
        #expect(!message.contains("prompt"))
    }

    @Test("a JPEG cut in half is reported as truncated")
    func truncatedJPEG() throws {
        let jpeg = try ImageFixtures.file(named: "jpeg_baseline_420.jpg")
        #expect(decodeError(Array(jpeg.prefix(jpeg.count / 2))) == .truncated(format: .jpeg))
        #expect(decodeError(Array(jpeg.dropLast(2))) == .truncated(format: .jpeg))
    }

    @Test("a PNG cut in half is reported as truncated")
    func truncatedPNG() throws {
        let png = try ImageFixtures.file(named: "png_rgb_large.png")
        #expect(decodeError(Array(png.prefix(png.count / 2))) == .truncated(format: .png))
        #expect(decodeError(Array(png.prefix(20))) == .truncated(format: .png))
    }

    @Test("every prefix of a JPEG and a PNG fails cleanly or decodes, never crashes")
    func everyPrefixIsSafe() throws {
        for name in ["jpeg_progressive.jpg", "jpeg_cmyk_adobe.jpg", "png_palette_trns.png", "png_rgb16.png"] {
            let bytes = try ImageFixtures.file(named: name)
            for length in stride(from: 0, to: bytes.count, by: 37) {
                // Any result is fine; an untyped throw or a trap is not.
                _ = decodeError(Array(bytes.prefix(length)))
            }
        }
    }

    @Test("a corrupted PNG chunk is reported as corrupt")
    func corruptPNG() throws {
        var png = try ImageFixtures.file(named: "png_rgba.png")
        png[png.count / 2] ^= 0xFF  // inside IDAT: the chunk CRC no longer matches
        guard case .corrupt(format: .png, _)? = decodeError(png) else {
            Issue.record("expected a corrupt PNG error")
            return
        }
    }

    @Test("seeded random byte flips never crash either decoder")
    func randomCorruptionIsSafe() throws {
        var rng = SplitMix64(seed: 0x5EED)
        for name in ["jpeg_baseline_420.jpg", "jpeg_progressive.jpg", "png_palette.png", "png_gray_alpha16.png"] {
            let original = try ImageFixtures.file(named: name)
            for _ in 0..<60 {
                var bytes = original
                for _ in 0..<(1 + Int(rng.next() % 8)) {
                    let at = 2 + Int(rng.next() % UInt64(bytes.count - 2))  // keep the signature's first bytes
                    bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                }
                _ = decodeError(bytes)
            }
        }
    }

    @Test("a PNG header claiming 100000x100000 is refused before decoding")
    func pngBombByDimension() {
        let bomb = ImageBuilders.pngHeaderOnly(width: 100_000, height: 100_000)
        #expect(decodeError(bomb) == .dimensionTooLarge(width: 100_000, height: 100_000, limit: 16_384))
        let roomy = DecodeOptions(maxDimension: 200_000)
        #expect(decodeError(bomb, options: roomy) == .tooManyPixels(width: 100_000, height: 100_000,
                                                                     limit: DecodeOptions.defaultMaxPixels))
    }

    @Test("a PNG within the side limit but over the pixel budget is refused before decoding")
    func pngBombByPixels() {
        let bomb = ImageBuilders.pngHeaderOnly(width: 10_000, height: 10_000)
        #expect(decodeError(bomb) == .tooManyPixels(width: 10_000, height: 10_000, limit: 40_000_000))
    }

    @Test("a JPEG frame header claiming 60000x60000 is refused before decoding")
    func jpegBomb() throws {
        let jpeg = try ImageFixtures.file(named: "jpeg_baseline_420.jpg")
        let bomb = try #require(ImageBuilders.jpeg(jpeg, claimingWidth: 60_000, height: 60_000))
        #expect(decodeError(bomb) == .dimensionTooLarge(width: 60_000, height: 60_000, limit: 16_384))
        #expect(decodeError(bomb, options: DecodeOptions(maxDimension: 65_535))
            == .tooManyPixels(width: 60_000, height: 60_000, limit: 40_000_000))
    }

    @Test("the pixel limit is configurable and applies to real images")
    func configurablePixelLimit() throws {
        let png = try ImageFixtures.file(named: "png_rgba.png")  // 45x70
        #expect(decodeError(png, options: DecodeOptions(maxPixels: 3_000)) == .tooManyPixels(width: 45, height: 70,
                                                                                           limit: 3_000))
        #expect(decodeError(png, options: DecodeOptions(maxDimension: 60)) == .dimensionTooLarge(width: 45,
                                                                                               height: 70, limit: 60))
        #expect(decodeError(png, options: DecodeOptions(maxPixels: 3_150)) == nil)
    }

    @Test("zero-size headers are reported as zero size")
    func zeroSize() throws {
        #expect(decodeError(ImageBuilders.pngHeaderOnly(width: 0, height: 10)) == .zeroSize(format: .png))
        #expect(decodeError(ImageBuilders.pngHeaderOnly(width: 10, height: 0)) == .zeroSize(format: .png))
        let jpeg = try ImageFixtures.file(named: "jpeg_gray.jpg")
        let empty = try #require(ImageBuilders.jpeg(jpeg, claimingWidth: 50, height: 0))
        #expect(decodeError(empty) == .zeroSize(format: .jpeg))
    }

    @Test("error messages are human-readable")
    func messages() {
        #expect(ImageError.tooManyPixels(width: 10_000, height: 10_000, limit: 40_000_000).description
            == "image is 10000x10000 pixels, more than the limit of 40000000 pixels")
        #expect(ImageError.truncated(format: .png).description == "PNG data is truncated")
    }
}

/// A tiny deterministic generator so the corruption test is reproducible.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
