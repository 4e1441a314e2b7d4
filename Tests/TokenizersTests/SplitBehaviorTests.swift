// The Split pre-tokenizer's delimiter behaviors, inverted or not, against split-behaviors.json.
import Foundation
import Testing
import Tokenizers

@Suite("Split delimiter behaviors")
struct SplitBehaviorTests {
    struct Case: Decodable {
        var behavior: String
        var invert: Bool
        var text: String
        var pieces: [String]
        var offsets: [[Int]]
    }
    struct File: Decodable {
        var cases: [Case]
    }

    @Test("every behavior splits like the Python library")
    func everyBehaviorSplitsLikeThePythonLibrary() throws {
        let data = try Data(contentsOf: tokenizerFixtures.appendingPathComponent("split-behaviors.json"))
        let cases = try JSONDecoder().decode(File.self, from: data).cases
        #expect(cases.count == 60)
        let names: [String: SplitDelimiterBehavior] = [
            "removed": .removed, "isolated": .isolated, "merged_with_previous": .mergedWithPrevious,
            "merged_with_next": .mergedWithNext, "contiguous": .contiguous,
        ]
        for item in cases {
            guard let behavior = names[item.behavior] else {
                Issue.record("unknown behavior \(item.behavior)")
                continue
            }
            let splitter = SplitPreTokenizer(pattern: .string("-"), behavior: behavior, invert: item.invert)
            let pieces = splitter.preTokenize([NormalizedText(item.text)])
            let context = "\(item.behavior) invert=\(item.invert) \"\(item.text)\""
            #expect(pieces.map(\.string) == item.pieces, "\(context)")
            #expect(pieces.map { [$0.originalRange.lowerBound, $0.originalRange.upperBound] } == item.offsets,
                    "\(context)")
        }
    }
}
