// RoBERTa's post-processor, after huggingface/tokenizers `processors/roberta.rs` (`<s> A </s></s> B </s>`), with
// ByteLevel's offset trimming.

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
