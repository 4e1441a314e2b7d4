// Invariants of encoding over seeded random texts mixing scripts, marks, controls, emoji and special tokens:
// nothing crashes, every array has one entry per token, offsets stay inside the text.
import Foundation
import Testing
import Tokenizers

/// SplitMix64: a tiny seeded generator so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Tokenizer properties")
struct TokenizerPropertyTests {
    static let alphabet: [String] = [
        "a", "b", "the", "cat", " ", "  ", "\t", "\n", "\r\n", "\u{0}", "\u{7}", "\u{200B}", "\u{FFFD}", "é",
        "e\u{301}", "\u{301}", "Ñ", "İ", "ß", "Σ", "日", "本", "の", "😀", "👍🏽", "🏳️‍🌈", "!", "?", ".", "'", "-", "##",
        "[CLS]", "[MASK]", "[DEC]", "tiaoyu", "\u{2E52}", "\u{10FFFD}", "\u{E000}", "ﬁ", "①", "\u{2581}",
        String(repeating: "z", count: 120),
    ]

    static func randomText(_ generator: inout SeededGenerator) -> String {
        let length = Int.random(in: 0...12, using: &generator)
        return (0..<length).map { _ in alphabet.randomElement(using: &generator) ?? "" }.joined()
    }

    @Test("random texts encode and decode without breaking invariants",
          arguments: ["bert-uncased", "bert-cased", "generic-split", "generic-metaspace", "generic-added"])
    func randomTextsKeepInvariants(folder: String) throws {
        let tokenizer = try Tokenizer(directory: tokenizerFixtures.appendingPathComponent(folder))
            .withTruncation(TruncationParameters(maxLength: 9))
        var generator = SeededGenerator(state: 20_260_529)
        for _ in 0..<300 {
            let text = Self.randomText(&generator)
            let pair = Bool.random(using: &generator) ? Self.randomText(&generator) : nil
            let encoding = try tokenizer.encode(text, pair: pair)
            let count = encoding.ids.count
            #expect([encoding.tokens.count, encoding.typeIds.count, encoding.attentionMask.count,
                     encoding.specialTokensMask.count, encoding.offsets.count].allSatisfy { $0 == count })
            let longest = max(text.unicodeScalars.count, pair?.unicodeScalars.count ?? 0)
            #expect(encoding.offsets.allSatisfy { $0.lowerBound >= 0 && $0.upperBound <= longest }, "\(text)")
            #expect(encoding.ids.allSatisfy { tokenizer.idToToken($0) != nil })
            _ = tokenizer.decode(encoding.ids, skipSpecialTokens: true)
        }
    }

    @Test("the pad token comes from the configuration")
    func thePadTokenComesFromTheConfiguration() throws {
        let tokenizer = try LoadingRoute.vocabularyText.load("bert-uncased")
        let padding = tokenizer.padding(to: .fixed(6))
        #expect(padding?.padId == tokenizer.tokenToId("[PAD]"))
        let encoding = try tokenizer.withPadding(padding).encode("the cat")
        #expect(encoding.tokens == ["[CLS]", "the", "cat", "[SEP]", "[PAD]", "[PAD]"])
        #expect(encoding.attentionMask == [1, 1, 1, 1, 0, 0])
    }
}
