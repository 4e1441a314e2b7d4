// Every code point classified by the GPT-2 split as the `tokenizers` library classifies it
// (gpt2-character-classes.json, measured by make_bpe_fixtures.py over all of Unicode).
import Foundation
import Testing
@testable import Tokenizers

@Suite("GPT-2 split character classes")
struct GPT2CharacterClassesTests {
    struct Classes: Decodable {
        var letters: [[UInt32]]
        var numbers: [[UInt32]]
        var whitespace: [[UInt32]]
    }

    @Test("every code point is a letter, number, space or other as in the Python library")
    func everyCodePointMatchesThePythonLibrary() throws {
        let data = try Data(contentsOf: tokenizerFixtures.appendingPathComponent("gpt2-character-classes.json"))
        let classes = try JSONDecoder().decode(Classes.self, from: data)
        var expected = [ByteLevelPreTokenizer.CharacterClass](repeating: .other, count: 0x110000)
        for (ranges, kind) in [(classes.letters, ByteLevelPreTokenizer.CharacterClass.letter),
                               (classes.numbers, .number), (classes.whitespace, .space)] {
            for range in ranges where range.count == 2 {
                for value in range[0]...range[1] { expected[Int(value)] = kind }
            }
        }
        var mismatches: [String] = []
        for value in UInt32(0)..<0x110000 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let got = ByteLevelPreTokenizer.characterClass(scalar)
            if got != expected[Int(value)] {
                mismatches.append("U+\(String(value, radix: 16, uppercase: true)) \(got) vs \(expected[Int(value)])")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches: \(mismatches.prefix(40))")
    }
}
