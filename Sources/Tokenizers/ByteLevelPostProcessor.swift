// ByteLevel as a post-processor, after huggingface/tokenizers `pre_tokenizers/byte_level.rs` (`process_offsets`):
// no tokens added, only the spans of tokens trimmed of the spaces at their edges.

/// ByteLevel as a post-processor: adds no tokens; with `trimOffsets`, the spans of tokens stop covering the
/// spaces (`Ġ`) at their edges.
public struct ByteLevelPostProcessor: PostProcessor {
    public var trimOffsets: Bool
    /// Whether the pre-tokenizer added a space in front (the first token then keeps its single leading space).
    public var addPrefixSpace: Bool

    public init(trimOffsets: Bool = true, addPrefixSpace: Bool = true) {
        self.trimOffsets = trimOffsets
        self.addPrefixSpace = addPrefixSpace
    }

    public func addedTokenCount(isPair: Bool) -> Int { 0 }

    public func process(_ first: Encoding, _ second: Encoding?, addSpecialTokens: Bool) -> Encoding {
        var merged = trimOffsets ? Self.trimmed(first, addPrefixSpace: addPrefixSpace) : first
        if let second { merged.append(trimOffsets ? Self.trimmed(second, addPrefixSpace: addPrefixSpace) : second) }
        return merged
    }

    /// Is this a space as the byte-level alphabet writes it (`Ġ`), or plain whitespace?
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == ByteLevelAlphabet.scalarOfByte[Int(UInt8(ascii: " "))] || scalar.properties.isWhitespace
    }

    /// Moves each span's start past the token's leading spaces and its end before the trailing ones (never
    /// crossing). The first token keeps one leading space that the pre-tokenizer added.
    static func trimmed(_ encoding: Encoding, addPrefixSpace: Bool) -> Encoding {
        var out = encoding
        for index in out.offsets.indices {
            let scalars = Array(out.tokens[index].unicodeScalars)
            var leading = scalars.prefix { isSpace($0) }.count
            let trailing = scalars.reversed().prefix { isSpace($0) }.count
            guard leading > 0 || trailing > 0 else { continue }
            var lower = out.offsets[index].lowerBound
            var upper = out.offsets[index].upperBound
            if leading > 0 {
                let isFirst = index == 0 || lower == 0
                if isFirst, addPrefixSpace, leading == 1 { leading = 0 }
                lower = min(lower + leading, upper)
            }
            if trailing > 0, upper >= trailing {
                upper = max(upper - trailing, lower)
            }
            out.offsets[index] = lower..<upper
        }
        return out
    }
}
