// The `model` stage of tokenizer.json: turns one pre-tokenized piece into vocabulary tokens.
// WordPiece and BPE are implemented; Unigram (SentencePiece, Flan-T5) is not yet.

/// One token produced by a model: its id, its string, and the span of the original text it covers (in Unicode
/// scalars).
public struct Token: Sendable, Equatable {
    public var id: Int
    public var value: String
    public var offsets: Range<Int>

    public init(id: Int, value: String, offsets: Range<Int>) {
        self.id = id
        self.value = value
        self.offsets = offsets
    }
}

/// A vocabulary model (WordPiece, BPE; later Unigram).
public protocol TokenizerModel: Sendable {
    /// Tokens for one piece of normalized, pre-tokenized text.
    func tokenize(_ piece: NormalizedText) -> [Token]
    func tokenToId(_ token: String) -> Int?
    func idToToken(_ id: Int) -> String?
    /// Number of entries in the model's own vocabulary (added tokens not counted).
    var vocabularySize: Int { get }
}

/// The `type` strings of tokenizer.json models that this module implements.
public enum TokenizerModelType: String, Sendable, CaseIterable {
    case wordPiece = "WordPiece"
    case bpe = "BPE"
}

/// Builds the model a tokenizer.json `model` object describes. Older files omit `type`; a `vocab` object with
/// `merges` is then BPE, and one with a `continuing_subword_prefix` WordPiece, as the `tokenizers` library infers.
func makeModel(_ config: StageConfig) throws(TokenizerError) -> any TokenizerModel {
    let inferred = config.has("merges") ? TokenizerModelType.bpe.rawValue
        : (config.has("continuing_subword_prefix") ? TokenizerModelType.wordPiece.rawValue : "")
    let typeName = config.has("type") ? try config.type() : inferred
    guard let type = TokenizerModelType(rawValue: typeName) else {
        throw .unknownStageType(stage: config.stage, type: typeName.isEmpty ? "(none)" : typeName)
    }
    let entries = try readModelVocabulary(config)
    switch type {
    case .bpe:
        return try makeBPEModel(config, vocabulary: entries)
    case .wordPiece:
        return try WordPieceModel(
            entries: entries,
            unknownToken: try config.string("unk_token", default: WordPieceModel.defaultUnknownToken),
            continuingSubwordPrefix: try config.string("continuing_subword_prefix",
                                                       default: WordPieceModel.defaultContinuingSubwordPrefix),
            maxInputCharsPerWord: try config.int("max_input_chars_per_word",
                                                 default: WordPieceModel.defaultMaxInputCharsPerWord)
        )
    }
}

/// A tokenizer.json BPE model with the options the file sets.
func makeBPEModel(_ config: StageConfig, vocabulary entries: [(token: String, id: Int)])
    throws(TokenizerError) -> BPEModel {
    // Dropout makes encoding random; nothing served here wants that, and a checkpoint that sets it is refused
    // rather than encoded differently from its training.
    if let dropout = config.fields["dropout"]?.doubleValue, dropout > 0 {
        throw .invalidField(stage: config.stage, field: "dropout", reason: "BPE dropout is not supported")
    }
    return try BPEModel(
        vocabulary: entries, merges: try readBPEMerges(config), unknownToken: try config.optionalString("unk_token"),
        continuingSubwordPrefix: try config.optionalString("continuing_subword_prefix"),
        endOfWordSuffix: try config.optionalString("end_of_word_suffix"),
        fuseUnknown: try config.bool("fuse_unk", default: false),
        byteFallback: try config.bool("byte_fallback", default: false),
        ignoreMerges: try config.bool("ignore_merges", default: false))
}

/// The vocabulary of a tokenizer.json model object.
func readModelVocabulary(_ config: StageConfig) throws(TokenizerError) -> [(token: String, id: Int)] {
    var entries: [(token: String, id: Int)] = []
    for (token, value) in try config.object("vocab").pairs {
        guard let id = value.intValue, id >= 0 else {
            throw .invalidField(stage: config.stage, field: "vocab",
                                reason: "id of \"\(token)\" is not an integer >= 0")
        }
        entries.append((token: token, id: id))
    }
    return entries
}

/// The `merges` of a tokenizer.json BPE model: `"a b"` strings (older files) or `["a", "b"]` pairs.
func readBPEMerges(_ config: StageConfig) throws(TokenizerError) -> [BPEModel.Merge] {
    var merges: [BPEModel.Merge] = []
    for (index, element) in try config.array("merges").enumerated() {
        if let line = element.stringValue {
            guard let merge = BPEModel.Merge(line: Array(line.utf8)) else {
                throw .invalidField(stage: config.stage, field: "merges[\(index)]",
                                    reason: "expected two tokens separated by a space")
            }
            merges.append(merge)
        } else if let pair = element.arrayValue, pair.count == 2, let left = pair[0].stringValue,
                  let right = pair[1].stringValue {
            merges.append(BPEModel.Merge(left, right))
        } else {
            throw .invalidField(stage: config.stage, field: "merges[\(index)]", reason: "expected \"a b\" or [a, b]")
        }
    }
    return merges
}
