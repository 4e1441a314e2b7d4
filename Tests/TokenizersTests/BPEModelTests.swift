// Byte-level BPE invariants and loading errors: what the goldens cannot show (bad files, long words, the byte map).
import Foundation
import Testing
@testable import Tokenizers

@Suite("Byte-level BPE model")
struct BPEModelTests {
    static let optFolder = tokenizerFixtures.appendingPathComponent("opt-bpe-vocab")

    static func optFile(_ name: String) throws -> Data {
        try Data(contentsOf: optFolder.appendingPathComponent(name))
    }

    static func loadError(_ body: () throws(TokenizerError) -> Void) -> TokenizerError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    @Test("the byte alphabet is a bijection onto printable, non-space characters")
    func theByteAlphabetIsABijection() {
        let table = ByteLevelAlphabet.scalarOfByte
        #expect(table.count == 256)
        #expect(Set(table).count == 256)
        for (byte, scalar) in table.enumerated() {
            #expect(ByteLevelAlphabet.byteOfScalar[scalar] == UInt8(byte))
            #expect(!scalar.properties.isWhitespace && scalar.properties.generalCategory != .control)
        }
        // Printable ASCII stands for itself, so ASCII vocabulary entries read as text.
        for byte in UInt8(ascii: "!")...UInt8(ascii: "~") { #expect(table[Int(byte)] == Unicode.Scalar(byte)) }
    }

    @Test("decoding an encoding gives the text back, whatever the bytes")
    func decodingGivesTheTextBack() throws {
        let tokenizer = try Tokenizer(directory: Self.optFolder)
        let golden = try BPEGoldenFile.load("opt-bpe")
        let specials = ["<image>", "</s>", "<pad>"]
        for item in golden.goldens.single + golden.goldens.random
        where !specials.contains(where: { item.text.contains($0) }) {
            let ids = try tokenizer.encode(item.text, addSpecialTokens: false).ids
            #expect(sameBytes(tokenizer.decode(ids), item.text), "\(item.name)")
        }
    }

    @Test("a very long word without spaces encodes in one pass and round-trips")
    func aVeryLongWordEncodes() throws {
        let tokenizer = try Tokenizer(directory: Self.optFolder)
        let word = String(repeating: "supercalifragilistic日本🐶", count: 2_000)  // about 50 KB, one piece
        let first = try tokenizer.encode(word, addSpecialTokens: false)
        #expect(sameBytes(tokenizer.decode(first.ids), word))
        // Too long for the cache: encoded again from scratch, with the same result.
        #expect(try tokenizer.encode(word, addSpecialTokens: false).ids == first.ids)
    }

    @Test("cached and uncached words encode the same")
    func cachedAndUncachedWordsAgree() throws {
        let tokenizer = try Tokenizer(directory: Self.optFolder)
        let text = "a woman sitting on the beach with her dog"
        let first = try tokenizer.encode(text)
        let second = try tokenizer.encode(text)
        #expect(first == second)
    }

    @Test("merges naming tokens outside the vocabulary are refused")
    func mergesOutsideTheVocabularyAreRefused() {
        let vocabulary: [(token: String, id: Int)] = [("a", 0), ("b", 1), ("ab", 2)]
        #expect(Self.loadError { () throws(TokenizerError) in
            _ = try BPEModel(vocabulary: vocabulary, merges: [.init("a", "c")])
        } == .unknownToken(stage: "model (BPE merge 1)", token: "c"))
        #expect(Self.loadError { () throws(TokenizerError) in
            _ = try BPEModel(vocabulary: vocabulary, merges: [.init("a", "b"), .init("b", "a")])
        } == .unknownToken(stage: "model (BPE merge 2)", token: "ba"))
        #expect(Self.loadError { () throws(TokenizerError) in
            _ = try BPEModel(vocabulary: vocabulary, merges: [], unknownToken: "<unk>")
        } == .unknownToken(stage: "model (BPE unk_token)", token: "<unk>"))
        #expect(Self.loadError { () throws(TokenizerError) in
            _ = try BPEModel(vocabulary: [("a", 1 << 40)], merges: [])
        } != nil)
    }

    @Test("malformed merges.txt and vocab.json are reported")
    func malformedFilesAreReported() throws {
        let vocabulary = try Self.optFile("vocab.json")
        let bad = Data("#version: 0.2\nĠ t\nthree parts here\n".utf8)
        #expect(Self.loadError { () throws(TokenizerError) in
            _ = try Tokenizer.gpt2(vocabulary: vocabulary, merges: bad)
        } == .malformedFile(file: "merges.txt", reason: "line 3 is not two UTF-8 tokens separated by a space"))
        #expect(Self.loadError { () throws(TokenizerError) in
            _ = try Tokenizer.gpt2(vocabulary: Data("[1, 2]".utf8), merges: Data())
        } == .malformedFile(file: "vocab.json", reason: "expected an object of token: id"))
        #expect(Self.loadError { () throws(TokenizerError) in
            _ = try Tokenizer.gpt2(vocabulary: Data(#"{"a": -1}"#.utf8), merges: Data())
        } == .malformedFile(file: "vocab.json", reason: "id of \"a\" is not an integer >= 0"))
        // CRLF line ends are read like LF ones.
        let crlf = Data("#version: 0.2\r\nĠ t\r\n".utf8)
        #expect(try BPEModel.readMerges(crlf) == [.init("Ġ", "t")])
    }

    @Test("a tokenizer.json BPE with dropout or bad merges is refused")
    func dropoutAndBadMergesAreRefused() throws {
        func json(_ model: [String: Any]) throws -> Data {
            try JSONSerialization.data(withJSONObject: ["model": model, "added_tokens": []])
        }
        let base: [String: Any] = ["type": "BPE", "vocab": ["a": 0, "b": 1, "ab": 2], "merges": ["a b"]]
        #expect(try Tokenizer(tokenizerJSON: try json(base)).encode("ab").tokens == ["ab"])
        var dropout = base
        dropout["dropout"] = 0.1
        let dropoutData = try json(dropout)
        #expect(Self.loadError { () throws(TokenizerError) in _ = try Tokenizer(tokenizerJSON: dropoutData) }
                == .invalidField(stage: "model", field: "dropout", reason: "BPE dropout is not supported"))
        var badMerge = base
        badMerge["merges"] = ["a b c"]
        let badMergeData = try json(badMerge)
        #expect(Self.loadError { () throws(TokenizerError) in _ = try Tokenizer(tokenizerJSON: badMergeData) }
                == .invalidField(stage: "model", field: "merges[0]",
                                 reason: "expected two tokens separated by a space"))
        var pairs = base
        pairs["merges"] = [["a", "b"]]
        pairs.removeValue(forKey: "type")  // older files: a model with merges is BPE
        #expect(try Tokenizer(tokenizerJSON: try json(pairs)).encode("ab").tokens == ["ab"])
    }

    @Test("every truncated prefix of merges.txt and vocab.json loads or fails cleanly")
    func truncatedFilesFailCleanly() throws {
        let vocabulary = try Self.optFile("vocab.json")
        let merges = try Self.optFile("merges.txt")
        // A stride keeps the test fast; every line boundary and mid-UTF-8 cut is still hit many times over.
        for length in stride(from: 0, to: merges.count, by: 37) {
            _ = try? Tokenizer.gpt2(vocabulary: vocabulary, merges: merges.prefix(length))
        }
        for length in stride(from: 0, to: vocabulary.count, by: 101) {
            #expect(Self.loadError { () throws(TokenizerError) in
                _ = try Tokenizer.gpt2(vocabulary: vocabulary.prefix(length), merges: merges)
            } != nil)
        }
    }
}
