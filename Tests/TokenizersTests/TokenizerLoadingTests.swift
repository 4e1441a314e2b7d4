// Bad or unsupported tokenizer files fail with an error that names the problem; nothing crashes.
import Foundation
import Testing
import Tokenizers

@Suite("Tokenizer loading errors")
struct TokenizerLoadingTests {
    /// A minimal valid WordPiece tokenizer.json with `overrides` replacing top-level fields.
    static func tokenizerJSON(_ overrides: [String: Any] = [:]) throws -> Data {
        var root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": [],
            "normalizer": ["type": "BertNormalizer", "lowercase": true],
            "pre_tokenizer": ["type": "BertPreTokenizer"],
            "post_processor": NSNull(), "decoder": ["type": "WordPiece", "prefix": "##", "cleanup": true],
            "model": ["type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 100, "vocab": ["[UNK]": 0, "a": 1, "##b": 2]],
        ]
        for (key, value) in overrides { root[key] = value }
        return try JSONSerialization.data(withJSONObject: root)
    }

    static func loadError(_ data: Data) -> TokenizerError? {
        do {
            _ = try Tokenizer(tokenizerJSON: data)
            return nil
        } catch {
            return error
        }
    }

    @Test("a minimal tokenizer.json loads and encodes")
    func aMinimalTokenizerJSONLoads() throws {
        let tokenizer = try Tokenizer(tokenizerJSON: try Self.tokenizerJSON())
        #expect(try tokenizer.encode("AB a").tokens == ["a", "##b", "a"])
    }

    @Test("an unknown stage type is named in the error")
    func anUnknownStageTypeIsNamed() throws {
        let error = Self.loadError(try Self.tokenizerJSON(["normalizer": ["type": "Precompiled"]]))
        #expect(error == .unknownStageType(stage: "normalizer", type: "Precompiled"))
        #expect(error?.description.contains("Precompiled") == true)
        // (ByteLevel, BPE and RobertaProcessing are implemented now; these stay unimplemented.)
        #expect(Self.loadError(try Self.tokenizerJSON(["pre_tokenizer": ["type": "CharDelimiterSplit"]]))
                == .unknownStageType(stage: "pre_tokenizer", type: "CharDelimiterSplit"))
        #expect(Self.loadError(try Self.tokenizerJSON(["model": ["type": "Unigram", "vocab": [], "unk_id": 0]]))
                == .unknownStageType(stage: "model", type: "Unigram"))
        #expect(Self.loadError(try Self.tokenizerJSON(["decoder": ["type": "CTC"]]))
                == .unknownStageType(stage: "decoder", type: "CTC"))
        #expect(Self.loadError(try Self.tokenizerJSON(["post_processor": ["type": "Nope"]]))
                == .unknownStageType(stage: "post_processor", type: "Nope"))
        let nested = ["type": "Sequence", "normalizers": [["type": "NFD"], ["type": "Nope"]]] as [String: Any]
        #expect(Self.loadError(try Self.tokenizerJSON(["normalizer": nested]))
                == .unknownStageType(stage: "normalizer.normalizers[1]", type: "Nope"))
    }

    @Test("a missing model or unknown token is reported")
    func aMissingModelOrUnknownTokenIsReported() throws {
        #expect(Self.loadError(try Self.tokenizerJSON(["model": NSNull()]))
                == .missingVocabulary("tokenizer.json has no model"))
        let noUnk = ["type": "WordPiece", "unk_token": "[UNK]", "vocab": ["a": 0]] as [String: Any]
        #expect(Self.loadError(try Self.tokenizerJSON(["model": noUnk]))
                == .unknownToken(stage: "model (WordPiece unk_token)", token: "[UNK]"))
        let empty = ["type": "WordPiece", "vocab": [String: Int]()] as [String: Any]
        #expect(Self.loadError(try Self.tokenizerJSON(["model": empty]))
                == .missingVocabulary("the WordPiece vocabulary is empty"))
        let template: [String: Any] = [
            "type": "TemplateProcessing", "single": [["SpecialToken": ["id": "[CLS]", "type_id": 0]]], "pair": [],
            "special_tokens": [:],
        ]
        #expect(Self.loadError(try Self.tokenizerJSON(["post_processor": template]))
                == .unknownToken(stage: "post_processor.single[0].SpecialToken (not in special_tokens)",
                                 token: "[CLS]"))
    }

    @Test("fields of the wrong kind are reported with their stage")
    func fieldsOfTheWrongKindAreReported() throws {
        let badVocab = ["type": "WordPiece", "vocab": ["[UNK]": "zero"]] as [String: Any]
        let vocabError = Self.loadError(try Self.tokenizerJSON(["model": badVocab]))
        guard case let .invalidField(stage, field, _) = vocabError else {
            Issue.record("expected invalidField")
            return
        }
        #expect(stage == "model" && field == "vocab")
        let badFlag = ["type": "BertNormalizer", "lowercase": "yes"] as [String: Any]
        let flagError = Self.loadError(try Self.tokenizerJSON(["normalizer": badFlag]))
        guard case let .invalidField(stage2, field2, _) = flagError else {
            Issue.record("expected invalidField")
            return
        }
        #expect(stage2 == "normalizer" && field2 == "lowercase")
        let badPadding = ["strategy": ["Fixed": -3]] as [String: Any]
        guard case .invalidField = Self.loadError(try Self.tokenizerJSON(["padding": badPadding])) else {
            Issue.record("expected invalidField")
            return
        }
        let badRegex = ["type": "Replace", "pattern": ["Regex": "(unclosed"], "content": ""] as [String: Any]
        guard case .invalidField = Self.loadError(try Self.tokenizerJSON(["normalizer": badRegex])) else {
            Issue.record("expected invalidField")
            return
        }
    }

    @Test("every truncated prefix of a real tokenizer.json fails cleanly")
    func everyTruncatedPrefixFailsCleanly() throws {
        let data = try Data(contentsOf: tokenizerFixtures.appendingPathComponent("bert-uncased/tokenizer.json"))
        // Every 97th prefix keeps the test fast while cutting through every kind of token in the file.
        for length in stride(from: 0, to: data.count - 1, by: 97) {
            #expect(Self.loadError(data.prefix(length)) != nil, "prefix of \(length) bytes loaded")
        }
        #expect(Self.loadError(Data("[1, 2]".utf8)) == .malformedFile(file: "tokenizer.json",
                                                                      reason: "the top level is not a JSON object"))
    }

    @Test("a directory without vocabulary files is reported")
    func aDirectoryWithoutVocabularyIsReported() {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("tiaoyu-empty-\(UUID().uuidString)")
        #expect(throws: TokenizerError.self) { try Tokenizer(directory: empty) }
        do {
            _ = try Tokenizer(directory: empty)
        } catch {
            guard case .missingVocabulary = error else {
                Issue.record("expected missingVocabulary, got \(error)")
                return
            }
        }
    }

    @Test("vocab.txt problems are reported")
    func vocabTextProblemsAreReported() throws {
        #expect(throws: TokenizerError.missingVocabulary("the WordPiece vocabulary is empty")) {
            try Tokenizer.bert(vocabulary: Data())
        }
        #expect(throws: TokenizerError.malformedFile(file: "vocab.txt", reason: "not UTF-8")) {
            try Tokenizer.bert(vocabulary: Data([0x5B, 0xFF, 0xFE, 0x0A]))
        }
        #expect(throws: TokenizerError.unknownToken(stage: "model (WordPiece unk_token)", token: "[UNK]")) {
            try Tokenizer.bert(vocabulary: Data("a\nb\n".utf8))
        }
        // A vocabulary without BERT's special tokens gets them as new ids, in transformers' order (checked with
        // transformers 5.23: [SEP] 2, [PAD] 3, [CLS] 4, [MASK] 5; "a a" -> [4, 1, 1, 2]).
        let minimal = try? Tokenizer.bert(vocabulary: Data("[UNK]\na\n".utf8))
        #expect(["[SEP]", "[PAD]", "[CLS]", "[MASK]"].map { minimal?.tokenToId($0) } == [2, 3, 4, 5])
        #expect(try minimal?.encode("a a").ids == [4, 1, 1, 2])
        #expect(throws: TokenizerError.self) {
            try Tokenizer.bert(vocabulary: Data("[UNK]\n".utf8), config: Data("{\"do_lower_case\": 3}".utf8))
        }
    }
}
