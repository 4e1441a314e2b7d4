// Every code point classified as the `tokenizers` library classifies it (bert-character-classes.json, measured by
// the fixture script over all of Unicode).
import Foundation
import Testing
@testable import Tokenizers

@Suite("BERT character classes")
struct BertCharacterClassesTests {
    struct Classes: Decodable {
        var punctuation: [[UInt32]]
        var cleanTextDropped: [[UInt32]]
        var cleanTextToSpace: [[UInt32]]
        var chinese: [[UInt32]]
    }

    static func load() throws -> Classes {
        let data = try Data(contentsOf: tokenizerFixtures.appendingPathComponent("bert-character-classes.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Classes.self, from: data)
    }

    /// Code points of `ranges` as a membership table over all of Unicode.
    static func table(_ ranges: [[UInt32]]) -> [Bool] {
        var table = [Bool](repeating: false, count: 0x110000)
        for range in ranges where range.count == 2 {
            for value in range[0]...range[1] { table[Int(value)] = true }
        }
        return table
    }

    @Test("every code point splits, cleans and spaces like the Python library")
    func everyCodePointMatchesThePythonLibrary() throws {
        let classes = try Self.load()
        let punctuation = Self.table(classes.punctuation)
        let dropped = Self.table(classes.cleanTextDropped)
        let toSpace = Self.table(classes.cleanTextToSpace)
        let chinese = Self.table(classes.chinese)
        // The classifiers the normalizer and pre-tokenizer use, asked directly (running the whole pipeline over
        // 1.1 million code points takes a minute in debug builds); BertNormalizer's test below covers the wiring.
        var mismatches: [String] = []
        for value in UInt32(0)..<0x110000 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let index = Int(value)
            let isDropped = value == 0 || value == 0xFFFD || BertCharacterClasses.isControl(scalar)
            let isToSpace = !isDropped && BertCharacterClasses.isWhitespace(scalar) && scalar != " "
            let name = "U+" + String(value, radix: 16, uppercase: true)
            if BertCharacterClasses.isPunctuation(scalar) != punctuation[index] { mismatches.append("punct \(name)") }
            if isDropped != dropped[index] { mismatches.append("dropped \(name)") }
            if isToSpace != toSpace[index] { mismatches.append("to space \(name)") }
            if BertCharacterClasses.isChinese(scalar) != chinese[index] { mismatches.append("chinese \(name)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches: \(mismatches.prefix(40))")
    }

    @Test("the normalizer and pre-tokenizer use those classes")
    func theNormalizerAndPreTokenizerUseThoseClasses() {
        var text = NormalizedText("a\u{0}b\u{200B}c\u{3000}d\u{2E52}e\u{166D}f\u{4E00}g")
        BertNormalizer(cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: false)
            .normalize(&text)
        #expect(text.string == "abc d\u{2E52}e\u{166D}f \u{4E00} g")
        let pieces = BertPreTokenizer().preTokenize([text]).map(\.string)
        #expect(pieces == ["abc", "d\u{2E52}e", "\u{166D}", "f", "\u{4E00}", "g"])
    }
}
