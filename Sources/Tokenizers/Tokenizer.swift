// The tokenizer pipeline of huggingface/tokenizers (`tokenizer/mod.rs`, `TokenizerImpl`): added tokens split out,
// normalizer, pre-tokenizer, model, truncation, post-processor, padding; and the way back through the decoder.

/// A text tokenizer composed of the stages of a tokenizer.json file.
///
/// It is a value: `withTruncation` / `withPadding` give variants for one call site (for example LAVIS' 32-token
/// truncation) without touching the shared one.
///
/// ```swift
/// let tokenizer = try Tokenizer(directory: checkpoint)           // GPT-2 BPE, tokenizer.json, or vocab.txt
/// let batch = try tokenizer.withPadding(tokenizer.padding(to: .batchLongest))
///     .encodeBatch(["a photo of a cat", "two dogs"])              // ids, attentionMask, typeIds, offsets
/// let text = tokenizer.decode(batch[0].ids, skipSpecialTokens: true)
/// ```
public struct Tokenizer: Sendable {
    public let normalizer: (any Normalizer)?
    public let preTokenizer: (any PreTokenizer)?
    public let model: any TokenizerModel
    public let postProcessor: (any PostProcessor)?
    public let decoder: (any TokenDecoder)?
    /// Tokens added on top of the model vocabulary, specials included.
    public var addedTokens: [AddedToken] { addedVocabulary.tokens }
    public var truncation: TruncationParameters?
    public var padding: PaddingParameters?
    /// transformers' `clean_up_tokenization_spaces`: after decoding, remove spaces before punctuation and inside
    /// contractions (`tokenizer_config.json`; false when there is none).
    public var cleanUpTokenizationSpaces: Bool
    /// transformers' `model_max_length` from `tokenizer_config.json`, when it is a real bound.
    public var modelMaxLength: Int?
    /// Named special tokens (`cls_token` → `[CLS]`...) from `tokenizer_config.json` / `special_tokens_map.json`.
    public var specialTokenNames: [String: String]
    let addedVocabulary: AddedVocabulary

    public init(normalizer: (any Normalizer)?, preTokenizer: (any PreTokenizer)?, model: any TokenizerModel,
                postProcessor: (any PostProcessor)?, decoder: (any TokenDecoder)?, addedTokens: [AddedToken] = [],
                truncation: TruncationParameters? = nil, padding: PaddingParameters? = nil,
                cleanUpTokenizationSpaces: Bool = false, modelMaxLength: Int? = nil,
                specialTokenNames: [String: String] = [:]) {
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.truncation = truncation
        self.padding = padding
        self.cleanUpTokenizationSpaces = cleanUpTokenizationSpaces
        self.modelMaxLength = modelMaxLength
        self.specialTokenNames = specialTokenNames
        addedVocabulary = AddedVocabulary(tokens: addedTokens, normalizer: normalizer)
    }

    /// A copy that truncates (nil: does not).
    public func withTruncation(_ truncation: TruncationParameters?) -> Tokenizer {
        var copy = self
        copy.truncation = truncation
        return copy
    }

    /// A copy that pads (nil: does not).
    public func withPadding(_ padding: PaddingParameters?) -> Tokenizer {
        var copy = self
        copy.padding = padding
        return copy
    }

    /// Padding with this tokenizer's pad token (`pad_token` of tokenizer_config.json, else `[PAD]`), or nil
    /// when the vocabulary has no such token.
    public func padding(to strategy: PaddingParameters.Strategy,
                        direction: PaddingParameters.Direction = .right) -> PaddingParameters? {
        let token = specialTokenNames["pad_token"] ?? "[PAD]"
        guard let id = tokenToId(token) else { return nil }
        return PaddingParameters(strategy: strategy, direction: direction, padId: id, padToken: token)
    }

    // MARK: vocabulary

    /// The id of a token string, added tokens first.
    public func tokenToId(_ token: String) -> Int? {
        addedVocabulary.token(content: token)?.id ?? model.tokenToId(token)
    }

    /// The token string of an id, added tokens first.
    public func idToToken(_ id: Int) -> String? {
        addedVocabulary.token(id: id)?.content ?? model.idToToken(id)
    }

    /// Size of the model vocabulary plus the added tokens outside it.
    public var vocabularySize: Int {
        model.vocabularySize + addedTokens.filter { model.idToToken($0.id) == nil }.count
    }

    // MARK: encoding

    /// Tokens of one text, before truncation and special tokens.
    func encodeSequence(_ text: String, typeId: Int) -> Encoding {
        var tokens: [Token] = []
        for split in addedVocabulary.split(text, normalizer: normalizer) {
            if let added = split.token {
                // The token string is the matched text, whitespace swallowed by lstrip/rstrip included (as the Rust
                // library reports it; decoding uses the content).
                tokens.append(Token(id: added.id, value: split.text.string, offsets: split.text.originalRange))
                continue
            }
            let pieces = preTokenizer?.preTokenize([split.text]) ?? [split.text]
            for piece in pieces where !piece.isEmpty {
                tokens.append(contentsOf: model.tokenize(piece))
            }
        }
        return Encoding(modelTokens: tokens, typeId: typeId)
    }

    /// Encodes a text, or a pair of texts, with this tokenizer's truncation and padding.
    ///
    /// Throws only when truncation cannot be satisfied (`onlyFirst`/`onlySecond` with too short a sequence).
    public func encode(_ text: String, pair: String? = nil, addSpecialTokens: Bool = true)
        throws(TokenizerError) -> Encoding {
        var encoding = try encodeUnpadded(text, pair: pair, addSpecialTokens: addSpecialTokens)
        if let padding {
            var single = [encoding]
            padding.pad(&single)
            encoding = single[0]
        }
        return encoding
    }

    /// Encodes several texts; with batch-longest padding they all get the length of the longest.
    public func encodeBatch(_ texts: [String], addSpecialTokens: Bool = true) throws(TokenizerError) -> [Encoding] {
        var encodings: [Encoding] = []
        encodings.reserveCapacity(texts.count)
        for text in texts { encodings.append(try encodeUnpadded(text, pair: nil, addSpecialTokens: addSpecialTokens)) }
        padding?.pad(&encodings)
        return encodings
    }

    /// Encodes several text pairs, padded together like `encodeBatch`.
    public func encodeBatch(pairs: [(String, String)], addSpecialTokens: Bool = true)
        throws(TokenizerError) -> [Encoding] {
        var encodings: [Encoding] = []
        encodings.reserveCapacity(pairs.count)
        for (first, second) in pairs {
            encodings.append(try encodeUnpadded(first, pair: second, addSpecialTokens: addSpecialTokens))
        }
        padding?.pad(&encodings)
        return encodings
    }

    private func encodeUnpadded(_ text: String, pair: String?, addSpecialTokens: Bool)
        throws(TokenizerError) -> Encoding {
        var first = encodeSequence(text, typeId: 0)
        var second = pair.map { encodeSequence($0, typeId: 1) }
        if let truncation {
            // Room is reserved for the special tokens; when they alone exceed the limit the `tokenizers` library
            // leaves the texts whole, and so does this.
            let added = addSpecialTokens ? (postProcessor?.addedTokenCount(isPair: second != nil) ?? 0) : 0
            if truncation.maxLength >= added {
                try truncation.truncate(&first, &second, maxLength: truncation.maxLength - added)
            }
        }
        if let postProcessor {
            return postProcessor.process(first, second, addSpecialTokens: addSpecialTokens)
        }
        if let second { first.append(second) }
        return first
    }

    // MARK: decoding

    /// Text for token ids. Unknown ids are skipped; with `skipSpecialTokens`, special added tokens are too.
    /// `cleanUpTokenizationSpaces` defaults to the tokenizer's setting (transformers' behaviour).
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false, cleanUpTokenizationSpaces: Bool? = nil)
        -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if let added = addedVocabulary.token(id: id) {
                if skipSpecialTokens && added.special { continue }
                tokens.append(added.content)
            } else if let token = model.idToToken(id) {
                if skipSpecialTokens, addedVocabulary.token(content: token)?.special == true { continue }
                tokens.append(token)
            }
        }
        let text = decoder.map { $0.decodeChain(tokens).joined() } ?? tokens.joined(separator: " ")
        return cleanUpTokenizationSpaces ?? self.cleanUpTokenizationSpaces ? Self.cleanUpTokenization(text) : text
    }

    /// transformers' `clean_up_tokenization` (tokenization_utils_base.py), on the whole decoded text.
    static let tokenizationCleanups: [(String, String)] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
        (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ]

    static func cleanUpTokenization(_ text: String) -> String {
        tokenizationCleanups.reduce(text) { current, replacement in
            var normalized = NormalizedText(current)
            ReplaceNormalizer(pattern: .string(replacement.0), content: replacement.1).normalize(&normalized)
            return normalized.string
        }
    }
}
