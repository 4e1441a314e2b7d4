// The post-processors that come with byte-level BPE, after huggingface/tokenizers `pre_tokenizers/byte_level.rs`
// (ByteLevel as a post-processor: offset trimming only) and `processors/roberta.rs` (`<s> A </s></s> B </s>`).

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

/// RoBERTa's template: `<s> A </s>` and `<s> A </s> </s> B </s>`, all of segment 0, with ByteLevel's offset
/// trimming.
public struct RobertaProcessing: PostProcessor {
    public var cls: TemplateProcessing.SpecialToken
    public var sep: TemplateProcessing.SpecialToken
    public var trimOffsets: Bool
    public var addPrefixSpace: Bool

    public init(cls: TemplateProcessing.SpecialToken, sep: TemplateProcessing.SpecialToken, trimOffsets: Bool = true,
                addPrefixSpace: Bool = true) {
        self.cls = cls
        self.sep = sep
        self.trimOffsets = trimOffsets
        self.addPrefixSpace = addPrefixSpace
    }

    public func addedTokenCount(isPair: Bool) -> Int { isPair ? 4 : 2 }

    public func process(_ first: Encoding, _ second: Encoding?, addSpecialTokens: Bool) -> Encoding {
        var a = trimOffsets ? ByteLevelPostProcessor.trimmed(first, addPrefixSpace: addPrefixSpace) : first
        var b = second.map { trimOffsets ? ByteLevelPostProcessor.trimmed($0, addPrefixSpace: addPrefixSpace) : $0 }
        guard addSpecialTokens else {
            if let b { a.append(b) }
            return a
        }
        a.typeIds = Array(repeating: 0, count: a.count)
        if let count = b?.count { b?.typeIds = Array(repeating: 0, count: count) }
        let template = TemplateProcessing(
            single: [.special(cls, typeId: 0), .sequence(second: false, typeId: 0), .special(sep, typeId: 0)],
            pair: [.special(cls, typeId: 0), .sequence(second: false, typeId: 0), .special(sep, typeId: 0),
                   .special(sep, typeId: 0), .sequence(second: true, typeId: 0), .special(sep, typeId: 0)])
        return template.process(a, b, addSpecialTokens: true)
    }
}
