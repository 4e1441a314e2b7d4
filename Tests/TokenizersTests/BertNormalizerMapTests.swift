// BertNormalizer's lowercase and strip_accents steps on every assigned plane, against bert-normalizer-maps.json.
import Foundation
import Testing
import Tokenizers

@Suite("BERT normalizer maps")
struct BertNormalizerMapTests {
    struct Maps: Decodable {
        var lowercase: [Entry]
        var stripAccents: [Entry]
    }
    /// `[code point, output]` as the fixture writes it.
    struct Entry: Decodable {
        var scalar: UInt32
        var output: String
        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            scalar = try container.decode(UInt32.self)
            output = try container.decode(String.self)
        }
    }

    /// Planes 0–2 and 14 hold every code point that lowercases or decomposes; the others are unassigned or
    /// private use (checked by the fixture script's output: no entry lies outside these).
    static let checkedRanges: [Range<UInt32>] = [0..<0x30000, 0xE0000..<0xE1000]
    static let hangulSyllables: ClosedRange<UInt32> = 0xAC00...0xD7A3

    static func check(_ normalizer: BertNormalizer, against entries: [Entry]) -> [String] {
        var expected: [UInt32: [Unicode.Scalar]] = [:]
        for entry in entries { expected[entry.scalar] = Array(entry.output.unicodeScalars) }
        var mismatches: [String] = []
        for range in checkedRanges {
            for value in range where !hangulSyllables.contains(value) {
                guard let scalar = Unicode.Scalar(value) else { continue }
                // Unassigned code points and unified ideographs never lower or decompose (Unicode stability); skip
                // them unless the library changes them, to keep the test quick in debug builds.
                let properties = scalar.properties
                if expected[value] == nil, properties.generalCategory == .unassigned || properties.isUnifiedIdeograph {
                    continue
                }
                var text = NormalizedText(String(scalar))
                normalizer.normalize(&text)
                if text.scalars != (expected[value] ?? [scalar]) {
                    mismatches.append("U+\(String(value, radix: 16, uppercase: true)) -> \(text.scalars)")
                }
            }
        }
        return mismatches
    }

    static func load() throws -> Maps {
        let data = try Data(contentsOf: tokenizerFixtures.appendingPathComponent("bert-normalizer-maps.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Maps.self, from: data)
    }

    @Test("lowercasing maps every character like the Python library")
    func lowercasingMapsEveryCharacterLikeThePythonLibrary() throws {
        let maps = try Self.load()
        #expect(maps.lowercase.allSatisfy { entry in Self.checkedRanges.contains { $0.contains(entry.scalar) } })
        let lower = BertNormalizer(cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: true)
        let mismatches = Self.check(lower, against: maps.lowercase)
        #expect(mismatches.isEmpty, "\(mismatches.count): \(mismatches.prefix(30))")
    }

    @Test("accent stripping maps every character like the Python library")
    func accentStrippingMapsEveryCharacterLikeThePythonLibrary() throws {
        let maps = try Self.load()
        #expect(maps.stripAccents.allSatisfy { entry in Self.checkedRanges.contains { $0.contains(entry.scalar) } })
        let strip = BertNormalizer(cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false)
        let mismatches = Self.check(strip, against: maps.stripAccents)
        #expect(mismatches.isEmpty, "\(mismatches.count): \(mismatches.prefix(30))")
    }
}
