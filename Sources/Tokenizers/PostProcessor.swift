// The `post_processor` stage of tokenizer.json: wraps encoded texts in special tokens and sets segment ids.
// Follows huggingface/tokenizers `processors/template.rs`, `processors/bert.rs`, `processors/sequence.rs`.
// RobertaProcessing and ByteLevel have their own files.

/// Adds special tokens around one text or a pair (`[CLS] A [SEP] B [SEP]`).
public protocol PostProcessor: Sendable {
    /// How many tokens `process` adds with special tokens on, so truncation can reserve room for them.
    func addedTokenCount(isPair: Bool) -> Int
    func process(_ first: Encoding, _ second: Encoding?, addSpecialTokens: Bool) -> Encoding
}

/// The `type` strings of tokenizer.json post-processors that this module implements.
public enum PostProcessorType: String, Sendable, CaseIterable {
    case template = "TemplateProcessing"
    case bert = "BertProcessing"
    case sequence = "Sequence"
    case byteLevel = "ByteLevel"
    case roberta = "RobertaProcessing"
}

/// Builds the post-processor a tokenizer.json `post_processor` object describes.
func makePostProcessor(_ config: StageConfig) throws(TokenizerError) -> any PostProcessor {
    let typeName = try config.type()
    guard let type = PostProcessorType(rawValue: typeName) else {
        throw .unknownStageType(stage: config.stage, type: typeName)
    }
    /// A `[token, id]` field (BertProcessing, RobertaProcessing).
    func pair(_ key: String) throws(TokenizerError) -> TemplateProcessing.SpecialToken {
        let value = try config.array(key)
        guard value.count == 2, let token = value[0].stringValue, let id = value[1].intValue else {
            throw .invalidField(stage: config.stage, field: key, reason: "expected [token, id]")
        }
        return .init(ids: [id], tokens: [token])
    }
    switch type {
    case .template: return try TemplateProcessing(config)
    case .bert:
        return TemplateProcessing.bert(cls: try pair("cls"), sep: try pair("sep"))
    case .sequence:
        var stages: [any PostProcessor] = []
        for (index, element) in try config.array("processors").enumerated() {
            stages.append(try makePostProcessor(try config.child("processors[\(index)]", element)))
        }
        return SequencePostProcessor(stages: stages)
    case .byteLevel:
        return ByteLevelPostProcessor(trimOffsets: try config.bool("trim_offsets", default: true),
                                      addPrefixSpace: try config.bool("add_prefix_space", default: true))
    case .roberta:
        return RobertaProcessing(cls: try pair("cls"), sep: try pair("sep"),
                                 trimOffsets: try config.bool("trim_offsets", default: true),
                                 addPrefixSpace: try config.bool("add_prefix_space", default: true))
    }
}

/// Special tokens and sequences laid out by a template, e.g. `[CLS]:0 $A:0 [SEP]:0` and
/// `[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1` for BERT (the number is the segment id).
public struct TemplateProcessing: PostProcessor {
    /// One or more tokens a template name stands for.
    public struct SpecialToken: Sendable, Equatable {
        public var ids: [Int]
        public var tokens: [String]
        public init(ids: [Int], tokens: [String]) {
            self.ids = ids
            self.tokens = tokens
        }
    }
    /// One element of a template.
    public enum Piece: Sendable, Equatable {
        /// The first (`A`) or second (`B`) text.
        case sequence(second: Bool, typeId: Int)
        case special(SpecialToken, typeId: Int)
    }

    public var single: [Piece]
    public var pair: [Piece]

    public init(single: [Piece], pair: [Piece]) {
        self.single = single
        self.pair = pair
    }

    /// BERT's `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]` with segment 1 for `B [SEP]`.
    public static func bert(cls: SpecialToken, sep: SpecialToken) -> TemplateProcessing {
        TemplateProcessing(
            single: [.special(cls, typeId: 0), .sequence(second: false, typeId: 0), .special(sep, typeId: 0)],
            pair: [.special(cls, typeId: 0), .sequence(second: false, typeId: 0), .special(sep, typeId: 0),
                   .sequence(second: true, typeId: 1), .special(sep, typeId: 1)])
    }

    init(_ config: StageConfig) throws(TokenizerError) {
        var specials: [String: SpecialToken] = [:]
        for (name, value) in try config.object("special_tokens").pairs {
            let entry = try config.child("special_tokens[\(name)]", value)
            let ids = try entry.array("ids").compactMap(\.intValue)
            let tokens = try entry.array("tokens").compactMap(\.stringValue)
            guard ids.count == tokens.count, !ids.isEmpty else {
                throw .invalidField(stage: entry.stage, field: "ids", reason: "ids and tokens must pair up")
            }
            specials[name] = SpecialToken(ids: ids, tokens: tokens)
        }
        func pieces(_ key: String) throws(TokenizerError) -> [Piece] {
            var out: [Piece] = []
            for (index, element) in try config.array(key).enumerated() {
                let piece = try config.child("\(key)[\(index)]", element)
                if piece.has("Sequence") {
                    let sequence = try config.child("\(key)[\(index)].Sequence", .object(try piece.object("Sequence")))
                    let id = try sequence.string("id")
                    guard id == "A" || id == "B" else {
                        throw .invalidField(stage: sequence.stage, field: "id", reason: "expected A or B, got \(id)")
                    }
                    out.append(.sequence(second: id == "B", typeId: try sequence.int("type_id", default: 0)))
                } else if piece.has("SpecialToken") {
                    let special = try config.child("\(key)[\(index)].SpecialToken",
                                                   .object(try piece.object("SpecialToken")))
                    let id = try special.string("id")
                    guard let token = specials[id] else {
                        throw .unknownToken(stage: "\(special.stage) (not in special_tokens)", token: id)
                    }
                    out.append(.special(token, typeId: try special.int("type_id", default: 0)))
                } else {
                    throw .invalidField(stage: piece.stage, field: "", reason: "expected Sequence or SpecialToken")
                }
            }
            return out
        }
        self.init(single: try pieces("single"), pair: try pieces("pair"))
    }

    public func addedTokenCount(isPair: Bool) -> Int {
        (isPair ? pair : single).reduce(0) { count, piece in
            if case let .special(token, _) = piece { count + token.ids.count } else { count }
        }
    }

    public func process(_ first: Encoding, _ second: Encoding?, addSpecialTokens: Bool) -> Encoding {
        var out = Encoding()
        for piece in second == nil ? single : pair {
            switch piece {
            case let .sequence(isSecond, typeId):
                guard var encoding = isSecond ? second : first else { continue }
                encoding.typeIds = Array(repeating: typeId, count: encoding.count)
                out.append(encoding)
            case let .special(token, typeId):
                guard addSpecialTokens else { continue }
                let count = token.ids.count
                out.append(Encoding(ids: token.ids, tokens: token.tokens,
                                    typeIds: Array(repeating: typeId, count: count),
                                    attentionMask: Array(repeating: 1, count: count),
                                    specialTokensMask: Array(repeating: 1, count: count),
                                    offsets: Array(repeating: 0..<0, count: count)))
            }
        }
        return out
    }
}

/// Applies post-processors one after the other (each sees the previous one's single output).
public struct SequencePostProcessor: PostProcessor {
    public var stages: [any PostProcessor]
    public init(stages: [any PostProcessor]) { self.stages = stages }

    public func addedTokenCount(isPair: Bool) -> Int {
        stages.reduce(0) { $0 + $1.addedTokenCount(isPair: isPair) }
    }

    public func process(_ first: Encoding, _ second: Encoding?, addSpecialTokens: Bool) -> Encoding {
        guard let head = stages.first else {
            var merged = first
            if let second { merged.append(second) }
            return merged
        }
        var current = head.process(first, second, addSpecialTokens: addSpecialTokens)
        for stage in stages.dropFirst() {
            current = stage.process(current, nil, addSpecialTokens: addSpecialTokens)
        }
        return current
    }
}
