// The ByteLevel pre-tokenizer of huggingface/tokenizers (`pre_tokenizers/byte_level.rs`): text is split with GPT-2's
// pattern, then every UTF-8 byte becomes one printable character (ByteLevelAlphabet), so a byte-level BPE vocabulary
// covers any input without an unknown token.

/// GPT-2's pre-tokenizer: optionally a space in front, the GPT-2 split, and the byte-to-character map.
public struct ByteLevelPreTokenizer: PreTokenizer {
    /// Put a space in front of a piece that does not start with one, so its first word is encoded like the others.
    public var addPrefixSpace: Bool
    /// Split with GPT-2's pattern (false: each piece stays whole).
    public var useRegex: Bool
    /// Kept for the file's sake: trimming happens in the ByteLevel post-processor.
    public var trimOffsets: Bool

    public init(addPrefixSpace: Bool = true, useRegex: Bool = true, trimOffsets: Bool = true) {
        self.addPrefixSpace = addPrefixSpace
        self.useRegex = useRegex
        self.trimOffsets = trimOffsets
    }

    init(_ config: StageConfig) throws(TokenizerError) {
        self.init(addPrefixSpace: try config.bool("add_prefix_space", default: true),
                  useRegex: try config.bool("use_regex", default: true),
                  trimOffsets: try config.bool("trim_offsets", default: true))
    }

    public func preTokenize(_ pieces: [NormalizedText]) -> [NormalizedText] {
        var out: [NormalizedText] = []
        for original in pieces {
            var piece = original
            if addPrefixSpace, !piece.isEmpty, piece.scalars.first != " " { piece.prepend([" "]) }
            let words = useRegex ? Self.gpt2Split(piece.scalars).map { piece.slice($0) } : [piece]
            for var word in words where !word.isEmpty {
                word.editScalars { scalar in
                    // ASCII (the common case) is one byte: replaced in place, no array per character.
                    if scalar.isASCII { return .replace(ByteLevelAlphabet.scalarOfByte[Int(scalar.value)]) }
                    guard let bytes = UTF8.encode(scalar) else { return .remove }
                    return .expand(bytes.map { ByteLevelAlphabet.scalarOfByte[Int($0)] })
                }
                out.append(word)
            }
        }
        return out
    }

    // MARK: the GPT-2 split

    /// The pieces of GPT-2's pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
    /// matched by hand: at each position the first alternative that matches wins, as in a backtracking engine.
    /// Every scalar falls in some alternative, so the pieces cover the text.
    static func gpt2Split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var pieces: [Range<Int>] = []
        var start = 0
        let count = scalars.count
        while start < count {
            let end = matchEnd(scalars, at: start)
            pieces.append(start..<end)
            start = end
        }
        return pieces
    }

    enum CharacterClass { case letter, number, space, other }

    /// The Unicode version of the `tokenizers` library's regex tables (Oniguruma): characters assigned later are
    /// neither letters nor numbers to it. Measured over all code points (gpt2-character-classes.json): it agrees
    /// with Swift's tables on everything up to 16.0 and treats the 4657 letters and numbers of 17.0 as other.
    static let regexUnicodeVersion = (major: 16, minor: 0)

    /// `\p{L}`, `\p{N}`, `\s` or none of them, as the library's regex engine sees the character.
    static func characterClass(_ scalar: Unicode.Scalar) -> CharacterClass {
        if scalar.isASCII {
            // The hot path: ASCII letters, digits and the six ASCII White_Space characters.
            switch scalar.value {
            case 0x41...0x5A, 0x61...0x7A: return .letter
            case 0x30...0x39: return .number
            case 0x09...0x0D, 0x20: return .space
            default: return .other
            }
        }
        let properties = scalar.properties
        if properties.isWhitespace { return .space }
        let kind: CharacterClass
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: kind = .letter
        case .decimalNumber, .letterNumber, .otherNumber: kind = .number
        default: return .other
        }
        guard let age = properties.age, (age.major, age.minor) <= regexUnicodeVersion else { return .other }
        return kind
    }

    /// The contraction suffixes GPT-2 keeps whole (case-sensitive, as the pattern).
    static let contractions: [[Unicode.Scalar]] = ["s", "t", "re", "ve", "m", "ll", "d"].map {
        Array(("'" + $0).unicodeScalars)
    }

    /// Where the match starting at `start` (< count) ends.
    private static func matchEnd(_ scalars: [Unicode.Scalar], at start: Int) -> Int {
        let count = scalars.count
        // 's|'t|'re|'ve|'m|'ll|'d
        if scalars[start] == "'" {
            for contraction in contractions where start + contraction.count <= count {
                if scalars[start..<(start + contraction.count)].elementsEqual(contraction) {
                    return start + contraction.count
                }
            }
        }
        //  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+
        let body = scalars[start] == " " && start + 1 < count ? start + 1 : start
        let bodyClass = characterClass(scalars[body])
        if bodyClass != .space {
            var end = body + 1
            while end < count, characterClass(scalars[end]) == bodyClass { end += 1 }
            return end
        }
        // \s+(?!\S): the whitespace run, less its last character when a non-space follows (the run then ends
        // before whitespace); \s+ when that leaves nothing.
        var end = start
        while end < count, characterClass(scalars[end]) == .space { end += 1 }
        if end < count, end - start > 1 { return end - 1 }
        return end
    }
}
