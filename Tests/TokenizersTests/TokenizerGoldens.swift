// Reading the goldens written by Tests/Reference/make_tokenizer_fixtures.py.
import Foundation
import Tokenizers

/// The fixture folder of this test target.
let tokenizerFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../Fixtures/tokenizers").standardizedFileURL

struct GoldenEncoding: Decodable {
    var ids: [Int]
    var tokens: [String]
    var typeIds: [Int]
    var attentionMask: [Int]
    var specialTokensMask: [Int]
    var offsets: [[Int]]
    var decoded: String
    var decodedSkipSpecial: String
    // transformers' decodes: only in the BERT goldens.
    var hfDecoded: String?
    var hfDecodedSkipSpecial: String?
    var hfVocabDecoded: String?
    var hfVocabDecodedSkipSpecial: String?

    func matches(_ encoding: Encoding) -> Bool {
        // Tokens compared byte for byte: `String` equality would accept a canonically equivalent form.
        encoding.ids == ids && encoding.tokens.map { Array($0.utf8) } == tokens.map { Array($0.utf8) }
            && encoding.typeIds == typeIds
            && encoding.attentionMask == attentionMask && encoding.specialTokensMask == specialTokensMask
            && encoding.offsets.map { [$0.lowerBound, $0.upperBound] } == offsets
    }
}

struct GoldenCase: Decodable {
    var name: String
    var text: String
    var pair: String?
    var addSpecialTokens: Bool?
    var maxLength: Int?
    var strategy: String?
    var direction: String?
    var encoding: GoldenEncoding

    enum CodingKeys: String, CodingKey {
        case name, text, pair, addSpecialTokens, maxLength, strategy, direction
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        text = try container.decode(String.self, forKey: .text)
        pair = try container.decodeIfPresent(String.self, forKey: .pair)
        addSpecialTokens = try container.decodeIfPresent(Bool.self, forKey: .addSpecialTokens)
        maxLength = try container.decodeIfPresent(Int.self, forKey: .maxLength)
        strategy = try container.decodeIfPresent(String.self, forKey: .strategy)
        direction = try container.decodeIfPresent(String.self, forKey: .direction)
        encoding = try GoldenEncoding(from: decoder)
    }
}

struct GoldenPadding: Decodable {
    var direction: String
    var length: Int?
    var padToMultipleOf: Int?
    var padId: Int
    var padTypeId: Int
    var padToken: String
}

struct GoldenBatch: Decodable {
    var name: String
    var texts: [String]
    var padding: GoldenPadding
    var truncationMaxLength: Int?
    var encodings: [GoldenEncoding]
}

struct GoldenFile: Decodable {
    struct Goldens: Decodable {
        var single: [GoldenCase]
        var pair: [GoldenCase]
        var truncation: [GoldenCase]
        var batch: [GoldenBatch]
    }
    var variant: String
    var goldens: Goldens

    static func load(_ variant: String) throws -> GoldenFile {
        let data = try Data(contentsOf: tokenizerFixtures.appendingPathComponent("goldens-\(variant).json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(GoldenFile.self, from: data)
    }
}

/// Byte-for-byte string equality (`==` on `String` is canonical equivalence).
func sameBytes(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

/// The ways a checkpoint ships a BERT tokenizer: tokenizer.json; vocab.txt with a tokenizer_config.json that lists
/// the added tokens (transformers >= 4.34); vocab.txt with added_tokens.json and special_tokens_map.json only.
enum LoadingRoute: String, CaseIterable, CustomStringConvertible {
    case tokenizerJSON
    case vocabularyText
    case legacyVocabularyText

    var description: String { rawValue }

    func load(_ variant: String) throws -> Tokenizer {
        let folder = switch self {
        case .tokenizerJSON: variant
        case .vocabularyText: variant + "-vocab"
        case .legacyVocabularyText: variant + "-legacy"
        }
        return try Tokenizer(directory: tokenizerFixtures.appendingPathComponent(folder))
    }
}

/// A readable account of how an encoding differs from its golden (for failure messages).
func describe(_ encoding: Encoding, against golden: GoldenEncoding) -> String {
    "got tokens \(encoding.tokens) ids \(encoding.ids) types \(encoding.typeIds) mask \(encoding.attentionMask) "
        + "special \(encoding.specialTokensMask) offsets \(encoding.offsets.map { [$0.lowerBound, $0.upperBound] })\n"
        + "expected tokens \(golden.tokens) ids \(golden.ids) types \(golden.typeIds) mask \(golden.attentionMask) "
        + "special \(golden.specialTokensMask) offsets \(golden.offsets)"
}
