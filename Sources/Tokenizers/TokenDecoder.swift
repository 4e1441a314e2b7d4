// The `decoder` stage of tokenizer.json: turns token strings back into text. Follows huggingface/tokenizers
// `decoders/` (wordpiece.rs, metaspace.rs, strip.rs, fuse.rs, sequence.rs) and `normalizers/replace.rs`:
// every decoder maps the list of token strings to a new list, and the final text is their concatenation.
// ByteLevel, ByteFallback and BPEDecoder are in ByteLevelDecoder.swift.

/// Rewrites decoded token strings (named so it does not clash with Swift's `Decoder`).
public protocol TokenDecoder: Sendable {
    func decodeChain(_ tokens: [String]) -> [String]
}

/// The `type` strings of tokenizer.json decoders that this module implements.
public enum TokenDecoderType: String, Sendable, CaseIterable {
    case wordPiece = "WordPiece"
    case metaspace = "Metaspace"
    case replace = "Replace"
    case strip = "Strip"
    case fuse = "Fuse"
    case sequence = "Sequence"
    case byteLevel = "ByteLevel"
    case byteFallback = "ByteFallback"
    case bpe = "BPEDecoder"
}

/// Builds the decoder a tokenizer.json `decoder` object describes.
func makeTokenDecoder(_ config: StageConfig) throws(TokenizerError) -> any TokenDecoder {
    let typeName = try config.type()
    guard let type = TokenDecoderType(rawValue: typeName) else {
        throw .unknownStageType(stage: config.stage, type: typeName)
    }
    switch type {
    case .wordPiece:
        return WordPieceDecoder(prefix: try config.string("prefix", default: "##"),
                                cleanup: try config.bool("cleanup", default: true))
    case .metaspace:
        let pre = try MetaspacePreTokenizer(config)
        return MetaspaceDecoder(replacement: pre.replacement, prependScheme: pre.prependScheme)
    case .replace:
        return ReplaceDecoder(pattern: try TextPattern(config, key: "pattern"), content: try config.string("content"))
    case .strip:
        let content = try config.string("content")
        guard content.unicodeScalars.count == 1, let scalar = content.unicodeScalars.first else {
            throw .invalidField(stage: config.stage, field: "content", reason: "expected one character")
        }
        return StripDecoder(content: scalar, start: max(0, try config.int("start", default: 0)),
                            stop: max(0, try config.int("stop", default: 0)))
    case .fuse: return FuseDecoder()
    case .sequence:
        var stages: [any TokenDecoder] = []
        for (index, element) in try config.array("decoders").enumerated() {
            stages.append(try makeTokenDecoder(try config.child("decoders[\(index)]", element)))
        }
        return SequenceTokenDecoder(stages: stages)
    case .byteLevel: return ByteLevelDecoder()
    case .byteFallback: return ByteFallbackDecoder()
    case .bpe: return BPEDecoder(suffix: try config.string("suffix", default: "</w>"))
    }
}

/// WordPiece: a token after the first gets a space in front unless it carries the continuation prefix, which is
/// removed; with `cleanup`, the spaces tokenization put before punctuation and contractions are taken out again.
public struct WordPieceDecoder: TokenDecoder {
    public var prefix: String
    public var cleanup: Bool
    public init(prefix: String = "##", cleanup: Bool = true) {
        self.prefix = prefix
        self.cleanup = cleanup
    }

    public func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { index, token in
            var text = token
            if index != 0 {
                // Compared by scalars, as the Rust library compares bytes (a `#` may carry a combining mark).
                let prefixScalars = prefix.unicodeScalars
                if !prefixScalars.isEmpty, token.unicodeScalars.starts(with: prefixScalars) {
                    text = String(token.unicodeScalars.dropFirst(prefixScalars.count))
                } else {
                    text = " " + token
                }
            }
            return cleanup ? Self.cleanUp(text) : text
        }
    }

    /// The `tokenizers` library's `cleanup` (decoders/wordpiece.rs), applied to each token string.
    static let cleanupReplacements: [(String, String)] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
        (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ]

    static func cleanUp(_ text: String) -> String {
        // Every pattern starts with a space: most tokens have none and skip the scan.
        guard text.contains(" ") else { return text }
        return cleanupReplacements.reduce(text) { current, replacement in
            var normalized = NormalizedText(current)
            ReplaceNormalizer(pattern: .string(replacement.0), content: replacement.1).normalize(&normalized)
            return normalized.string
        }
    }
}

/// SentencePiece: the replacement character ("▁") becomes a space, and the space it stands for at the very start
/// is dropped unless nothing was prepended.
public struct MetaspaceDecoder: TokenDecoder {
    public var replacement: Unicode.Scalar
    public var prependScheme: MetaspacePreTokenizer.PrependScheme
    public init(replacement: Unicode.Scalar = "\u{2581}",
                prependScheme: MetaspacePreTokenizer.PrependScheme = .always) {
        self.replacement = replacement
        self.prependScheme = prependScheme
    }
    public func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { index, token in
            var scalars = String.UnicodeScalarView()
            for scalar in token.unicodeScalars { scalars.append(scalar == replacement ? " " : scalar) }
            if index == 0, prependScheme != .never, scalars.first == " " { scalars.removeFirst() }
            return String(scalars)
        }
    }
}

/// Replaces a pattern in every token.
public struct ReplaceDecoder: TokenDecoder {
    public var pattern: TextPattern
    public var content: String
    public init(pattern: TextPattern, content: String) {
        self.pattern = pattern
        self.content = content
    }
    public func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            var text = NormalizedText(token)
            ReplaceNormalizer(pattern: pattern, content: content).normalize(&text)
            return text.string
        }
    }
}

/// Removes up to `start` leading and `stop` trailing copies of `content` from every token.
public struct StripDecoder: TokenDecoder {
    public var content: Unicode.Scalar
    public var start: Int
    public var stop: Int
    public init(content: Unicode.Scalar, start: Int, stop: Int) {
        self.content = content
        self.start = start
        self.stop = stop
    }
    public func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            var scalars = Array(token.unicodeScalars)
            var removed = 0
            while removed < start, scalars.first == content {
                scalars.removeFirst()
                removed += 1
            }
            removed = 0
            while removed < stop, scalars.last == content {
                scalars.removeLast()
                removed += 1
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            return String(view)
        }
    }
}

/// Joins all tokens into one.
public struct FuseDecoder: TokenDecoder {
    public init() {}
    public func decodeChain(_ tokens: [String]) -> [String] { [tokens.joined()] }
}

/// Applies decoders one after the other.
public struct SequenceTokenDecoder: TokenDecoder {
    public var stages: [any TokenDecoder]
    public init(stages: [any TokenDecoder]) { self.stages = stages }
    public func decodeChain(_ tokens: [String]) -> [String] {
        stages.reduce(tokens) { $1.decodeChain($0) }
    }
}
