// The `pre_tokenizer` stage of tokenizer.json. Follows huggingface/tokenizers `pre_tokenizers/` (bert.rs,
// whitespace.rs, punctuation.rs, split.rs, metaspace.rs, sequence.rs) and `SplitDelimiterBehavior`.
// ByteLevel (byte_level.rs) is in ByteLevelPreTokenizer.swift.

/// Splits normalized text into the pieces ("words") the model tokenizes one at a time.
public protocol PreTokenizer: Sendable {
    /// Splits every piece further; pieces keep their alignment to the original text.
    func preTokenize(_ pieces: [NormalizedText]) -> [NormalizedText]
}

/// The `type` strings of tokenizer.json pre-tokenizers that this module implements.
public enum PreTokenizerType: String, Sendable, CaseIterable {
    case bert = "BertPreTokenizer"
    case whitespace = "Whitespace"
    case whitespaceSplit = "WhitespaceSplit"
    case punctuation = "Punctuation"
    case split = "Split"
    case metaspace = "Metaspace"
    case sequence = "Sequence"
    case byteLevel = "ByteLevel"
}

/// What happens to a delimiter when text is split on it (tokenizers `SplitDelimiterBehavior`).
public enum SplitDelimiterBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    init(_ config: StageConfig, default value: SplitDelimiterBehavior) throws(TokenizerError) {
        guard config.has("behavior") else {
            self = value
            return
        }
        let name = try config.string("behavior")
        guard let behavior = SplitDelimiterBehavior(rawValue: name) else {
            throw .invalidField(stage: config.stage, field: "behavior", reason: "unknown behavior \"\(name)\"")
        }
        self = behavior
    }
}

/// Builds the pre-tokenizer a tokenizer.json `pre_tokenizer` object describes.
func makePreTokenizer(_ config: StageConfig) throws(TokenizerError) -> any PreTokenizer {
    let typeName = try config.type()
    guard let type = PreTokenizerType(rawValue: typeName) else {
        throw .unknownStageType(stage: config.stage, type: typeName)
    }
    switch type {
    case .bert: return BertPreTokenizer()
    case .whitespace: return WhitespacePreTokenizer()
    case .whitespaceSplit: return WhitespaceSplitPreTokenizer()
    case .punctuation:
        return PunctuationPreTokenizer(behavior: try SplitDelimiterBehavior(config, default: .isolated))
    case .split:
        return SplitPreTokenizer(pattern: try TextPattern(config, key: "pattern"),
                                 behavior: try SplitDelimiterBehavior(config, default: .removed),
                                 invert: try config.bool("invert", default: false))
    case .metaspace:
        return try MetaspacePreTokenizer(config)
    case .sequence:
        var stages: [any PreTokenizer] = []
        for (index, element) in try config.array("pretokenizers").enumerated() {
            stages.append(try makePreTokenizer(try config.child("pretokenizers[\(index)]", element)))
        }
        return SequencePreTokenizer(stages: stages)
    case .byteLevel:
        return try ByteLevelPreTokenizer(config)
    }
}

/// BERT's basic split: on whitespace (dropped), and around every punctuation character (each its own piece,
/// see BertCharacterClasses.isPunctuation).
public struct BertPreTokenizer: PreTokenizer {
    public init() {}
    public func preTokenize(_ pieces: [NormalizedText]) -> [NormalizedText] {
        pieces.flatMap { piece in
            split(piece, where: BertCharacterClasses.isWhitespace, behavior: .removed).flatMap {
                split($0, where: BertCharacterClasses.isPunctuation, behavior: .isolated)
            }
        }
    }
}

/// Splits on whitespace, dropping it.
public struct WhitespaceSplitPreTokenizer: PreTokenizer {
    public init() {}
    public func preTokenize(_ pieces: [NormalizedText]) -> [NormalizedText] {
        pieces.flatMap { split($0, where: { $0.properties.isWhitespace }, behavior: .removed) }
    }
}

/// Keeps runs of word characters and runs of other non-space characters (the regex `\w+|[^\w\s]+`).
public struct WhitespacePreTokenizer: PreTokenizer {
    public init() {}

    /// `\w` in Unicode mode: alphabetic, marks, decimal digits, connector punctuation, join controls.
    static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    public func preTokenize(_ pieces: [NormalizedText]) -> [NormalizedText] {
        pieces.flatMap { piece -> [NormalizedText] in
            var out: [NormalizedText] = []
            var start: Int?
            var startIsWord = false
            for (index, scalar) in piece.scalars.enumerated() {
                let isSpace = scalar.properties.isWhitespace
                let isWord = Self.isWord(scalar)
                if let runStart = start, isSpace || isWord != startIsWord {
                    out.append(piece.slice(runStart..<index))
                    start = nil
                }
                if start == nil, !isSpace {
                    start = index
                    startIsWord = isWord
                }
            }
            if let runStart = start { out.append(piece.slice(runStart..<piece.count)) }
            return out
        }
    }
}

/// Splits around punctuation (Unicode P* and BERT's ASCII set).
public struct PunctuationPreTokenizer: PreTokenizer {
    public var behavior: SplitDelimiterBehavior
    public init(behavior: SplitDelimiterBehavior = .isolated) { self.behavior = behavior }
    public func preTokenize(_ pieces: [NormalizedText]) -> [NormalizedText] {
        pieces.flatMap { split($0, where: BertCharacterClasses.isPunctuation, behavior: behavior) }
    }
}

/// Splits on a literal or regex pattern; with `invert`, the matches are the pieces and the rest are delimiters.
public struct SplitPreTokenizer: PreTokenizer {
    public var pattern: TextPattern
    public var behavior: SplitDelimiterBehavior
    public var invert: Bool
    public init(pattern: TextPattern, behavior: SplitDelimiterBehavior, invert: Bool) {
        self.pattern = pattern
        self.behavior = behavior
        self.invert = invert
    }
    public func preTokenize(_ pieces: [NormalizedText]) -> [NormalizedText] {
        pieces.flatMap { piece -> [NormalizedText] in
            let matches = pattern.matches(in: piece.scalars)
            guard invert else { return split(piece, delimiters: matches, behavior: behavior) }
            // Inverted: the matches are kept and the gaps between them are the delimiters.
            var segments: [(range: Range<Int>, isDelimiter: Bool)] = []
            var cursor = 0
            for match in matches {
                if match.lowerBound > cursor { segments.append((cursor..<match.lowerBound, true)) }
                segments.append((match, false))
                cursor = match.upperBound
            }
            if cursor < piece.count { segments.append((cursor..<piece.count, true)) }
            return splitSegments(segments, behavior: behavior).filter { !$0.isEmpty }.map { piece.slice($0) }
        }
    }
}

/// SentencePiece-style: spaces become `replacement` ("▁"), a replacement is prepended per `prependScheme`, and
/// with `split` each piece starts at a replacement.
public struct MetaspacePreTokenizer: PreTokenizer {
    /// When to put a replacement in front of a piece: always, only at the start of the text, never.
    public enum PrependScheme: String, Sendable {
        case always, first, never
    }
    public var replacement: Unicode.Scalar
    public var prependScheme: PrependScheme
    public var split: Bool

    public init(replacement: Unicode.Scalar = "\u{2581}", prependScheme: PrependScheme = .always, split: Bool = true) {
        self.replacement = replacement
        self.prependScheme = prependScheme
        self.split = split
    }

    init(_ config: StageConfig) throws(TokenizerError) {
        let replacement = try config.string("replacement", default: "\u{2581}")
        guard replacement.unicodeScalars.count == 1, let scalar = replacement.unicodeScalars.first else {
            throw .invalidField(stage: config.stage, field: "replacement", reason: "expected one character")
        }
        var scheme: PrependScheme = try config.bool("add_prefix_space", default: true) ? .always : .never
        if let name = try config.optionalString("prepend_scheme") {
            guard let parsed = PrependScheme(rawValue: name) else {
                throw .invalidField(stage: config.stage, field: "prepend_scheme", reason: "unknown scheme \"\(name)\"")
            }
            scheme = parsed
        }
        self.init(replacement: scalar, prependScheme: scheme, split: try config.bool("split", default: true))
    }

    public func preTokenize(_ pieces: [NormalizedText]) -> [NormalizedText] {
        pieces.flatMap { original -> [NormalizedText] in
            var piece = original
            piece.mapScalars { $0 == " " ? [replacement] : [$0] }
            let atTextStart = piece.alignments.first?.lowerBound == 0
            let prepend = prependScheme == .always || (prependScheme == .first && atTextStart)
            if prepend, let first = piece.scalars.first, first != replacement {
                piece.prepend([replacement])
            }
            guard split else { return [piece] }
            return MetaspacePreTokenizer.splitAtReplacement(piece, replacement: replacement)
        }
    }

    static func splitAtReplacement(_ piece: NormalizedText, replacement: Unicode.Scalar) -> [NormalizedText] {
        let delimiters = piece.scalars.indices.filter { piece.scalars[$0] == replacement }.map { $0..<($0 + 1) }
        return Tokenizers.split(piece, delimiters: delimiters, behavior: .mergedWithNext)
    }
}

/// Applies pre-tokenizers one after the other.
public struct SequencePreTokenizer: PreTokenizer {
    public var stages: [any PreTokenizer]
    public init(stages: [any PreTokenizer]) { self.stages = stages }
    public func preTokenize(_ pieces: [NormalizedText]) -> [NormalizedText] {
        stages.reduce(pieces) { $1.preTokenize($0) }
    }
}

// MARK: - splitting helpers

/// Splits where single characters satisfy `isDelimiter`.
func split(_ piece: NormalizedText, where isDelimiter: (Unicode.Scalar) -> Bool,
           behavior: SplitDelimiterBehavior) -> [NormalizedText] {
    var delimiters: [Range<Int>] = []
    for (index, scalar) in piece.scalars.enumerated() where isDelimiter(scalar) {
        delimiters.append(index..<(index + 1))
    }
    if delimiters.isEmpty { return piece.isEmpty ? [] : [piece] }
    return split(piece, delimiters: delimiters, behavior: behavior)
}

/// Splits around sorted, non-overlapping delimiter ranges; empty pieces are dropped.
///
/// As the Rust library (`NormalizedString::split`): the text becomes segments, each delimiter its own and each
/// gap between delimiters one, and the behavior merges or drops segments. Adjacent delimiters stay separate
/// segments, which matters for `mergedWith*` and for inverted patterns.
func split(_ piece: NormalizedText, delimiters: [Range<Int>], behavior: SplitDelimiterBehavior) -> [NormalizedText] {
    var segments: [(range: Range<Int>, isDelimiter: Bool)] = []
    var cursor = 0
    for delimiter in delimiters {
        if delimiter.lowerBound > cursor { segments.append((cursor..<delimiter.lowerBound, false)) }
        segments.append((delimiter, true))
        cursor = delimiter.upperBound
    }
    if cursor < piece.count { segments.append((cursor..<piece.count, false)) }
    return splitSegments(segments, behavior: behavior).filter { !$0.isEmpty }.map { piece.slice($0) }
}

/// Applies a delimiter behavior to segments (tokenizers `NormalizedString::split`).
func splitSegments(_ segments: [(range: Range<Int>, isDelimiter: Bool)],
                   behavior: SplitDelimiterBehavior) -> [Range<Int>] {
    switch behavior {
    case .removed:
        return segments.filter { !$0.isDelimiter }.map(\.range)
    case .isolated:
        return segments.map(\.range)
    case .mergedWithPrevious:
        var out: [Range<Int>] = []
        var previousIsDelimiter = false
        for segment in segments {
            if segment.isDelimiter, !previousIsDelimiter, let last = out.last {
                out[out.count - 1] = last.lowerBound..<segment.range.upperBound
            } else {
                out.append(segment.range)
            }
            previousIsDelimiter = segment.isDelimiter
        }
        return out
    case .mergedWithNext:
        var out: [Range<Int>] = []
        var nextIsDelimiter = false
        for segment in segments.reversed() {
            if segment.isDelimiter, !nextIsDelimiter, let last = out.last {
                out[out.count - 1] = segment.range.lowerBound..<last.upperBound
            } else {
                out.append(segment.range)
            }
            nextIsDelimiter = segment.isDelimiter
        }
        return out.reversed()
    case .contiguous:
        // Runs of delimiters become one, and so do runs of non-delimiters (only possible when inverted).
        var out: [Range<Int>] = []
        var previousIsDelimiter = false
        for segment in segments {
            if segment.isDelimiter == previousIsDelimiter, let last = out.last {
                out[out.count - 1] = last.lowerBound..<segment.range.upperBound
            } else {
                out.append(segment.range)
            }
            previousIsDelimiter = segment.isDelimiter
        }
        return out
    }
}
