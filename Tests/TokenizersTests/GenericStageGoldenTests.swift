// Parity of the generic stages (the ones byte-level BPE and Unigram tokenizers will reuse) on tokenizer.json files
// built from them by make_tokenizer_fixtures.py.
import Foundation
import Testing
import Tokenizers

@Suite("Generic stage goldens")
struct GenericStageGoldenTests {
    static let variants = ["generic-split", "generic-whitespace", "generic-metaspace", "generic-metaspace-always",
                           "generic-added"]

    @Test("generic stages encode and decode like the Python library", arguments: variants)
    func genericStagesEncodeAndDecodeLikeThePythonLibrary(variant: String) throws {
        let tokenizer = try Tokenizer(directory: tokenizerFixtures.appendingPathComponent(variant))
        let golden = try GoldenFile.load(variant)
        for item in golden.goldens.single + golden.goldens.pair {
            let encoding = try tokenizer.encode(item.text, pair: item.pair)
            #expect(item.encoding.matches(encoding),
                    "\(variant) \(item.name): \(describe(encoding, against: item.encoding))")
            #expect(sameBytes(tokenizer.decode(encoding.ids), item.encoding.decoded), "\(variant) \(item.name)")
            #expect(sameBytes(tokenizer.decode(encoding.ids, skipSpecialTokens: true),
                              item.encoding.decodedSkipSpecial),
                    "\(variant) \(item.name)")
        }
    }
}
