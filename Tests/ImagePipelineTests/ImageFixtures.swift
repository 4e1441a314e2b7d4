import Foundation
import ImagePipeline

/// The fixtures written by `Tests/Reference/make_image_fixtures.py`: encoded files plus PIL/transformers outputs.
struct ImageFixtures: Sendable {
    struct ArrayRef: Decodable, Sendable {
        let offset: Int
        let count: Int
    }

    struct Case: Decodable, Sendable, CustomStringConvertible {
        let name: String
        let file: String
        let mode: String
        let width: Int
        let height: Int
        let target: [Int]
        let resample: Int
        let resizedU8: ArrayRef
        let pixelValuesF32: ArrayRef
        let decodedU8: ArrayRef?
        let decodedDropAlphaU8: ArrayRef?

        enum CodingKeys: String, CodingKey {
            case name, file, mode, width, height, target, resample
            case resizedU8 = "resized_u8", pixelValuesF32 = "pixel_values_f32", decodedU8 = "decoded_u8"
            case decodedDropAlphaU8 = "decoded_drop_alpha_u8"
        }

        var description: String { name }
    }

    /// A PIL resize of a synthetic input (see `sweepPixels`).
    struct SweepCase: Decodable, Sendable, CustomStringConvertible {
        let `case`: Int
        let width: Int
        let height: Int
        let target: [Int]
        let resample: Int
        let resizedU8: ArrayRef

        enum CodingKeys: String, CodingKey {
            case `case`, width, height, target, resample
            case resizedU8 = "resized_u8"
        }

        var description: String { "\(width)x\(height)->\(target[1])x\(target[0]) resample \(resample)" }
    }

    struct Index: Decodable, Sendable {
        let cases: [Case]
        let resizeSweep: [SweepCase]

        enum CodingKeys: String, CodingKey {
            case cases, resizeSweep = "resize_sweep"
        }
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/images").standardizedFileURL

    /// Loaded once; a missing fixture fails the tests that use it with a readable message.
    static let shared: ImageFixtures? = try? ImageFixtures()

    let cases: [Case]
    let resizeSweep: [SweepCase]
    let arrays: [UInt8]

    init() throws {
        let index = try JSONDecoder().decode(
            Index.self, from: Data(contentsOf: Self.directory.appendingPathComponent("index.json")))
        cases = index.cases
        resizeSweep = index.resizeSweep
        arrays = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent("arrays.bin")))
    }

    static var caseNames: [String] { shared?.cases.map(\.name) ?? [] }

    /// The synthetic input of sweep case `number`, the same formula as `sweep_pixels` in the fixture script.
    static func sweepPixels(_ number: Int, width: Int, height: Int) -> RGBImage {
        var pixels = [UInt8]()
        pixels.reserveCapacity(width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    pixels.append(UInt8((x * 37 + y * 91 + c * 53 + (x * y % 7) * 29 + number * 13) % 256))
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    func lookup(_ name: String) -> Case? { cases.first { $0.name == name } }

    func file(_ c: Case) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(c.file)))
    }

    func bytes(_ ref: ArrayRef) -> [UInt8] { Array(arrays[ref.offset..<(ref.offset + ref.count)]) }

    func floats(_ ref: ArrayRef) -> [Float] {
        (0..<ref.count).map { i in
            let o = ref.offset + 4 * i
            let bits = UInt32(arrays[o]) | UInt32(arrays[o + 1]) << 8 | UInt32(arrays[o + 2]) << 16
                | UInt32(arrays[o + 3]) << 24
            return Float(bitPattern: bits)
        }
    }

    /// Reads one fixture file by name (for tests that mutate real images).
    static func file(named name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func config() throws -> ImageProcessorConfig {
        try ImageProcessorConfig.parse(Data(contentsOf: directory.appendingPathComponent("preprocessor_config.json")))
    }
}
