// The tokenizer-file JSON parser: strict, bounded, byte-exact keys.
import Foundation
import Testing
@testable import Tokenizers

@Suite("JSON parser")
struct JSONParserTests {
    static func parse(_ text: String) throws(TokenizerError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8), file: "test.json")
    }

    @Test("values of every kind parse")
    func valuesOfEveryKindParse() throws {
        let text = #" {"a": [1, -2, 3.5, 1e3, true, false, null, "x\n\u00e9\ud83d\udc36\/"], "b": {}} "#
        let value = try Self.parse(text)
        guard case let .object(object) = value else {
            Issue.record("expected an object")
            return
        }
        #expect(object["a"] == .array([.int(1), .int(-2), .double(3.5), .double(1000), .bool(true), .bool(false), .null,
                                       .string("x\n\u{e9}\u{1F436}/")]))
        #expect(object["b"] == .object(JSONObject([])))
        #expect(try Self.parse("1e30").doubleValue == 1e30)
        #expect(try Self.parse("\u{FEFF}[]") == .array([]))
    }

    @Test("canonically equivalent keys stay distinct and in order")
    func canonicallyEquivalentKeysStayDistinct() throws {
        let value = try Self.parse("{\"\u{e9}\": 1, \"e\u{301}\": 2, \"a\": 3, \"a\": 4}")
        let pairs = value.objectValue?.pairs ?? []
        #expect(pairs.map { Array($0.key.unicodeScalars) } == [["\u{e9}"], ["e", "\u{301}"], ["a"], ["a"]])
        #expect(value.objectValue?["a"] == .int(4))
    }

    @Test("malformed input is rejected with a position", arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "{\"a\": 1,}", "\"unterminated", "\"bad \\q escape\"", "\"\\ud800\"",
        "\"\\udc00\"", "\"\\ud800\\u0041\"", "01x", "01", "-", "1.", "1e", "tru", "[1] 2", "\"tab\there\"", "{1: 2}",
    ])
    func malformedInputIsRejected(text: String) {
        #expect(throws: TokenizerError.self) { try Self.parse(text) }
    }

    @Test("invalid UTF-8 and deep nesting are rejected")
    func invalidUTF8AndDeepNestingAreRejected() {
        #expect(throws: TokenizerError.self) { try JSONParser.parse([0x22, 0xFF, 0x22], file: "x") }
        let deep = String(repeating: "[", count: JSONParser.maxNestingDepth + 2)
            + String(repeating: "]", count: JSONParser.maxNestingDepth + 2)
        #expect(throws: TokenizerError.self) { try Self.parse(deep) }
        let fine = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        #expect((try? Self.parse(fine)) != nil)
    }

    @Test("a vocabulary keeps composed and decomposed forms apart, as the Rust library does")
    func aVocabularyKeepsComposedAndDecomposedFormsApart() throws {
        let json = """
            {"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "\u{e9}": 1, "e\u{301}": 2}},
             "pre_tokenizer": {"type": "WhitespaceSplit"}}
            """
        let tokenizer = try Tokenizer(tokenizerJSON: Data(json.utf8))
        #expect(try tokenizer.encode("\u{e9} e\u{301}").ids == [1, 2])
        #expect(tokenizer.vocabularySize == 3)
    }
}
