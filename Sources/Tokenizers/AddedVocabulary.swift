// Added and special tokens, matched in the text before the model sees it. Follows huggingface/tokenizers
// `tokenizer/added_vocabulary.rs`: tokens with `normalized: false` are found in the raw text, the others in the
// normalized text; matching is leftmost-longest, and `single_word`, `lstrip`, `rstrip` refine a match.

/// A token added on top of the model's vocabulary (`[CLS]`, `[DEC]`, `<image>`...), as tokenizer.json's
/// `added_tokens` entries describe it.
public struct AddedToken: Sendable, Equatable {
    public var id: Int
    public var content: String
    /// Match only when not inside a word.
    public var singleWord: Bool
    /// Let the match swallow whitespace on its left / right.
    public var lstrip: Bool
    public var rstrip: Bool
    /// Match against the normalized text (true) or the raw text (false).
    public var normalized: Bool
    /// Special tokens are skipped by `decode(skipSpecialTokens: true)`.
    public var special: Bool

    public init(id: Int, content: String, singleWord: Bool = false, lstrip: Bool = false, rstrip: Bool = false,
                normalized: Bool, special: Bool) {
        self.id = id
        self.content = content
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized
        self.special = special
    }

    init(_ config: StageConfig, id: Int) throws(TokenizerError) {
        let special = try config.bool("special", default: false)
        self.init(id: id, content: try config.string("content"),
                  singleWord: try config.bool("single_word", default: false),
                  lstrip: try config.bool("lstrip", default: false), rstrip: try config.bool("rstrip", default: false),
                  normalized: try config.bool("normalized", default: !special), special: special)
    }
}

/// A piece of the input after added tokens are split out: either plain text for the model, or one added token.
struct AddedSplit {
    var text: NormalizedText
    var token: AddedToken?
}

/// The added tokens of a tokenizer and the two matchers (raw and normalized) built from them.
struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    private let byId: [Int: AddedToken]
    /// By UTF-8 bytes: `String` equality is canonical equivalence, the Rust library compares bytes.
    private let byContent: [[UInt8]: AddedToken]
    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher

    /// `normalizer` rewrites the contents of `normalized` tokens so they are matched in normalized text.
    init(tokens: [AddedToken], normalizer: (any Normalizer)?) {
        self.tokens = tokens
        var byId: [Int: AddedToken] = [:]
        var byContent: [[UInt8]: AddedToken] = [:]
        for token in tokens {
            byId[token.id] = token
            byContent[Array(token.content.utf8)] = token
        }
        self.byId = byId
        self.byContent = byContent
        rawMatcher = AddedTokenMatcher(tokens.filter { !$0.normalized }.map { ($0, Array($0.content.unicodeScalars)) })
        normalizedMatcher = AddedTokenMatcher(tokens.filter(\.normalized).map { token in
            var text = NormalizedText(token.content)
            normalizer?.normalize(&text)
            return (token, text.scalars)
        })
    }

    func token(id: Int) -> AddedToken? { byId[id] }
    func token(content: String) -> AddedToken? { byContent[Array(content.utf8)] }

    /// Splits `text` into plain pieces (normalized) and added tokens, in order.
    func split(_ text: String, normalizer: (any Normalizer)?) -> [AddedSplit] {
        var out: [AddedSplit] = []
        for rawSplit in rawMatcher.split(NormalizedText(text)) {
            if rawSplit.token != nil {
                out.append(rawSplit)
                continue
            }
            var piece = rawSplit.text
            normalizer?.normalize(&piece)
            out.append(contentsOf: normalizedMatcher.split(piece))
        }
        return out
    }
}

/// Leftmost-longest search for a set of token strings, with the added-token refinements.
struct AddedTokenMatcher: Sendable {
    private let patterns: [(token: AddedToken, scalars: [Unicode.Scalar])]
    /// Pattern indices by first scalar, longest first (so the first hit at a position is the longest).
    private let byFirstScalar: [Unicode.Scalar: [Int]]

    init(_ patterns: [(AddedToken, [Unicode.Scalar])]) {
        let kept = patterns.filter { !$0.1.isEmpty }
        self.patterns = kept.map { (token: $0.0, scalars: $0.1) }
        var index: [Unicode.Scalar: [Int]] = [:]
        for (position, pattern) in kept.enumerated() {
            if let first = pattern.1.first { index[first, default: []].append(position) }
        }
        byFirstScalar = index.mapValues { list in list.sorted { kept[$0].1.count > kept[$1].1.count } }
    }

    /// The pattern starting at `position` that is longest, if any.
    private func longestMatch(at position: Int, in scalars: [Unicode.Scalar]) -> Int? {
        guard let candidates = byFirstScalar[scalars[position]] else { return nil }
        for candidate in candidates {
            let pattern = patterns[candidate].scalars
            let end = position + pattern.count
            if end <= scalars.count, scalars[position..<end].elementsEqual(pattern) { return candidate }
        }
        return nil
    }

    /// Word characters for `single_word` (alphanumeric, as the Rust library's `is_alphanumeric`).
    private static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        if properties.isAlphabetic { return true }
        switch properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    func split(_ text: NormalizedText) -> [AddedSplit] {
        guard !patterns.isEmpty, !text.isEmpty else { return text.isEmpty ? [] : [AddedSplit(text: text)] }
        let scalars = text.scalars
        var out: [AddedSplit] = []
        var emitted = 0  // everything before this offset is already in `out`
        var position = 0
        while position < scalars.count {
            guard let found = longestMatch(at: position, in: scalars) else {
                position += 1
                continue
            }
            let token = patterns[found].token
            var start = position
            var stop = position + patterns[found].scalars.count
            position = stop
            if token.singleWord {
                let startsWord = start == 0 || !Self.isWordCharacter(scalars[start - 1])
                let endsWord = stop == scalars.count || !Self.isWordCharacter(scalars[stop])
                if !startsWord || !endsWord { continue }
            }
            if token.lstrip {
                while start > emitted, scalars[start - 1].properties.isWhitespace { start -= 1 }
            }
            if token.rstrip {
                while stop < scalars.count, scalars[stop].properties.isWhitespace { stop += 1 }
                position = stop
            }
            if start > emitted { out.append(AddedSplit(text: text.slice(emitted..<start))) }
            out.append(AddedSplit(text: text.slice(start..<stop), token: token))
            emitted = stop
        }
        if emitted < scalars.count { out.append(AddedSplit(text: text.slice(emitted..<scalars.count))) }
        return out
    }
}
