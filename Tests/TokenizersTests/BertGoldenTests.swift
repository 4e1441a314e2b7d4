// Parity with the `tokenizers` library and transformers on the goldens of make_tokenizer_fixtures.py, through
// both loading routes (tokenizer.json, and vocab.txt + tokenizer_config.json).
import Foundation
import Testing
import Tokenizers

let bertVariants = ["bert-uncased", "bert-cased"]

@Suite("BERT WordPiece goldens")
struct BertGoldenTests {
    @Test("single texts encode like the Python library", arguments: bertVariants, LoadingRoute.allCases)
    func singleTextsEncodeLikeThePythonLibrary(variant: String, route: LoadingRoute) throws {
        let tokenizer = try route.load(variant)
        let golden = try GoldenFile.load(variant)
        #expect(golden.goldens.single.count > 40)
        for item in golden.goldens.single {
            let encoding = try tokenizer.encode(item.text, addSpecialTokens: item.addSpecialTokens ?? true)
            let context = "\(item.name) special=\(item.addSpecialTokens ?? true)"
            #expect(item.encoding.matches(encoding), "\(context): \(describe(encoding, against: item.encoding))")
        }
    }

    @Test("seeded random texts encode and decode like the Python library", arguments: bertVariants,
          LoadingRoute.allCases)
    func randomTextsEncodeLikeThePythonLibrary(variant: String, route: LoadingRoute) throws {
        let tokenizer = try route.load(variant)
        let cases = try GoldenFile.load("random-" + variant).goldens.single
        #expect(cases.count == 80)
        for item in cases {
            let encoding = try tokenizer.encode(item.text, pair: item.pair)
            #expect(item.encoding.matches(encoding), "\(item.name): \(describe(encoding, against: item.encoding))")
            #expect(sameBytes(tokenizer.decode(encoding.ids, cleanUpTokenizationSpaces: false), item.encoding.decoded))
            let expected = route == .tokenizerJSON ? item.encoding.hfDecodedSkipSpecial
                : item.encoding.hfVocabDecodedSkipSpecial
            #expect(sameBytes(tokenizer.decode(encoding.ids, skipSpecialTokens: true), expected ?? ""), "\(item.name)")
        }
    }

    @Test("pairs encode with segment ids like the Python library", arguments: bertVariants, LoadingRoute.allCases)
    func pairsEncodeWithSegmentIds(variant: String, route: LoadingRoute) throws {
        let tokenizer = try route.load(variant)
        for item in try GoldenFile.load(variant).goldens.pair {
            let encoding = try tokenizer.encode(item.text, pair: item.pair,
                                                addSpecialTokens: item.addSpecialTokens ?? true)
            #expect(item.encoding.matches(encoding), "\(item.name): \(describe(encoding, against: item.encoding))")
        }
    }

    @Test("truncation keeps the same tokens as the Python library", arguments: bertVariants, LoadingRoute.allCases)
    func truncationKeepsTheSameTokens(variant: String, route: LoadingRoute) throws {
        let base = try route.load(variant)
        for item in try GoldenFile.load(variant).goldens.truncation {
            let strategy: TruncationParameters.Strategy = switch item.strategy {
            case "only_first": .onlyFirst
            case "only_second": .onlySecond
            default: .longestFirst
            }
            let parameters = TruncationParameters(maxLength: item.maxLength ?? 0, strategy: strategy,
                                                  direction: item.direction == "left" ? .left : .right)
            let encoding = try base.withTruncation(parameters).encode(item.text, pair: item.pair)
            #expect(item.encoding.matches(encoding), "\(item.name): \(describe(encoding, against: item.encoding))")
        }
    }

    @Test("batches pad like the Python library", arguments: bertVariants, LoadingRoute.allCases)
    func batchesPadLikeThePythonLibrary(variant: String, route: LoadingRoute) throws {
        let base = try route.load(variant)
        for batch in try GoldenFile.load(variant).goldens.batch {
            let padding = PaddingParameters(
                strategy: batch.padding.length.map { .fixed($0) } ?? .batchLongest,
                direction: batch.padding.direction == "left" ? .left : .right,
                padToMultipleOf: batch.padding.padToMultipleOf, padId: batch.padding.padId,
                padTypeId: batch.padding.padTypeId, padToken: batch.padding.padToken)
            let tokenizer = base.withPadding(padding)
                .withTruncation(batch.truncationMaxLength.map { TruncationParameters(maxLength: $0) })
            let encodings = try tokenizer.encodeBatch(batch.texts)
            #expect(encodings.count == batch.encodings.count)
            for (encoding, golden) in zip(encodings, batch.encodings) {
                #expect(golden.matches(encoding), "\(batch.name): \(describe(encoding, against: golden))")
            }
        }
    }

    @Test("decoding gives the texts of the Python library", arguments: bertVariants, LoadingRoute.allCases)
    func decodingGivesTheTextsOfThePythonLibrary(variant: String, route: LoadingRoute) throws {
        let tokenizer = try route.load(variant)
        let golden = try GoldenFile.load(variant)
        let encodings = golden.goldens.single.map(\.encoding) + golden.goldens.pair.map(\.encoding)
            + golden.goldens.truncation.map(\.encoding) + golden.goldens.batch.flatMap(\.encodings)
        for item in encodings {
            // The `tokenizers` library's own decode (no transformers clean-up).
            #expect(sameBytes(tokenizer.decode(item.ids, cleanUpTokenizationSpaces: false), item.decoded))
            #expect(sameBytes(tokenizer.decode(item.ids, skipSpecialTokens: true, cleanUpTokenizationSpaces: false),
                              item.decodedSkipSpecial))
            // transformers' decode, whose clean-up setting comes from the tokenizer_config.json of each route.
            let expected = route == .tokenizerJSON ? item.hfDecoded : item.hfVocabDecoded
            let expectedSkip = route == .tokenizerJSON ? item.hfDecodedSkipSpecial : item.hfVocabDecodedSkipSpecial
            #expect(sameBytes(tokenizer.decode(item.ids), expected ?? "(missing golden)"))
            #expect(sameBytes(tokenizer.decode(item.ids, skipSpecialTokens: true), expectedSkip ?? "(missing golden)"))
        }
    }

    @Test("every loading route builds the same vocabulary", arguments: bertVariants,
          [LoadingRoute.vocabularyText, .legacyVocabularyText])
    func everyLoadingRouteBuildsTheSameVocabulary(variant: String, route: LoadingRoute) throws {
        let fromJSON = try LoadingRoute.tokenizerJSON.load(variant)
        let fromText = try route.load(variant)
        #expect(fromJSON.vocabularySize == fromText.vocabularySize)
        for id in 0..<fromJSON.vocabularySize {
            #expect(fromJSON.idToToken(id) == fromText.idToToken(id), "id \(id)")
        }
        func summary(_ tokens: [AddedToken]) -> [String] {
            tokens.sorted { $0.id < $1.id }.map { "\($0.id) \($0.content) special=\($0.special) norm=\($0.normalized)" }
        }
        #expect(summary(fromJSON.addedTokens) == summary(fromText.addedTokens))
        #expect(fromJSON.tokenToId("[DEC]") == fromText.tokenToId("[DEC]"))
        #expect(fromText.modelMaxLength == 512)
        #expect(fromJSON.modelMaxLength == nil)
    }
}
