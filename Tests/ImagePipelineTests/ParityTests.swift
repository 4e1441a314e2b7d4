import Testing
@testable import ImagePipeline

/// Every fixture image, stage by stage, against PIL's decode, Pillow's resize and transformers' pixel values.
@Suite struct ParityTests {
    struct Failure: Error, CustomStringConvertible { let description: String }

    func fixture(_ name: String) throws -> (ImageFixtures, ImageFixtures.Case) {
        guard let fixtures = ImageFixtures.shared, let c = fixtures.lookup(name) else {
            throw Failure(description: "fixture \(name) missing; run Tests/Reference/make_image_fixtures.py")
        }
        return (fixtures, c)
    }

    @Test("the fixture index is present and lists the expected variety of images")
    func fixturesArePresent() throws {
        let names = ImageFixtures.caseNames
        #expect(names.count >= 38)
        #expect(names.contains("png_rgb_large"))
        #expect(names.contains("jpeg_cmyk_adobe"))
    }

    @Test("decoding gives PIL's RGB bytes (after EXIF transpose and convert_to_rgb)",
          arguments: ImageFixtures.caseNames)
    func decodeMatchesPIL(name: String) throws {
        let (fixtures, c) = try fixture(name)
        let image = try ImageDecoder.decode(try fixtures.file(c))
        #expect(image.width == c.width && image.height == c.height)
        guard let decoded = c.decodedU8 else { return }
        let expected = fixtures.bytes(decoded)
        let differing = zip(image.pixels, expected).filter { $0 != $1 }.count
        #expect(differing == 0, "\(name): \(differing) of \(expected.count) bytes differ")
    }

    @Test("with alpha dropped, decoding gives PIL's plain convert(\"RGB\") bytes", arguments: ImageFixtures.caseNames)
    func decodeDropAlphaMatchesPIL(name: String) throws {
        let (fixtures, c) = try fixture(name)
        guard let reference = c.decodedDropAlphaU8 else { return }
        let image = try ImageDecoder.decode(try fixtures.file(c), options: DecodeOptions(alphaHandling: .drop))
        let expected = fixtures.bytes(reference)
        let differing = zip(image.pixels, expected).filter { $0 != $1 }.count
        #expect(image.pixels.count == expected.count)
        #expect(differing == 0, "\(name): \(differing) of \(expected.count) bytes differ")
    }

    @Test("resizing gives Pillow's uint8 bytes exactly", arguments: ImageFixtures.caseNames)
    func resizeMatchesPillow(name: String) throws {
        let (fixtures, c) = try fixture(name)
        let image = try ImageDecoder.decode(try fixtures.file(c))
        let filter = try #require(PillowResampler.Filter(rawValue: c.resample))
        let resized = PillowResampler.resize(image, width: c.target[1], height: c.target[0], filter: filter)
        let expected = fixtures.bytes(c.resizedU8)
        let maxDiff = zip(resized.pixels, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(resized.pixels.count == expected.count)
        #expect(resized.pixels == expected, "\(name): max abs diff \(maxDiff)")
    }

    @Test("pixel values are bit-identical to BlipImageProcessorPil", arguments: ImageFixtures.caseNames)
    func pixelValuesMatchTransformers(name: String) throws {
        let (fixtures, c) = try fixture(name)
        var config = try ImageFixtures.config()
        config.size = .init(height: c.target[0], width: c.target[1])
        config.resample = c.resample
        let pixels = try ImagePreprocessor(config: config).pixelValues(from: try fixtures.file(c))
        let expected = fixtures.floats(c.pixelValuesF32)
        #expect(pixels.channels == 3 && pixels.height == c.target[0] && pixels.width == c.target[1])
        let maxDiff = zip(pixels.values, expected).map { abs($0 - $1) }.max() ?? 0
        let sameBits = zip(pixels.values, expected).allSatisfy { $0.bitPattern == $1.bitPattern }
        #expect(pixels.values.count == expected.count)
        #expect(sameBits, "\(name): max abs diff \(maxDiff)")
    }

    @Test("alpha over white matches PIL for all 65536 value/alpha pairs")
    func overWhiteTable() throws {
        let table = try ImageDecoder.decode(try ImageFixtures.file(named: "table_over_white.png"))
        var mismatches = 0
        for alpha in 0..<256 {
            for value in 0..<256 where PILColor.overWhite(UInt8(value), alpha: UInt8(alpha))
                != table.pixels[(alpha * 256 + value) * 3] {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test("CMYK to RGB matches PIL for all 65536 ink/black pairs")
    func cmykTable() throws {
        let table = try ImageDecoder.decode(try ImageFixtures.file(named: "table_cmyk_to_rgb.png"))
        var mismatches = 0
        for black in 0..<256 {
            for value in 0..<256 where PILColor.cmykChannel(UInt8(value), black: UInt8(black))
                != table.pixels[(black * 256 + value) * 3] {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test("resizing matches Pillow over a sweep of sizes, both filters and the pass-order boundary")
    func resizeSweep() throws {
        let fixtures = try #require(ImageFixtures.shared)
        #expect(fixtures.resizeSweep.count >= 40)
        for sweep in fixtures.resizeSweep {
            let input = ImageFixtures.sweepPixels(sweep.case, width: sweep.width, height: sweep.height)
            let filter = try #require(PillowResampler.Filter(rawValue: sweep.resample))
            let out = PillowResampler.resize(input, width: sweep.target[1], height: sweep.target[0], filter: filter)
            #expect(out.pixels == fixtures.bytes(sweep.resizedU8), "\(sweep)")
        }
    }
}
