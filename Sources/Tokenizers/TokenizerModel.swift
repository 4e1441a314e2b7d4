// The `model` stage of tokenizer.json: turns one pre-tokenized piece into vocabulary tokens.
// WordPiece is implemented; BPE and Unigram plug in here later.

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

/// A vocabulary model (WordPiece, later BPE and Unigram).
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
}

/// Builds the model a tokenizer.json `model` object describes. Older files omit `type`; a `vocab` object with a
/// `continuing_subword_prefix` is then WordPiece, as the `tokenizers` library infers.
func makeModel(_ config: StageConfig) throws(TokenizerError) -> any TokenizerModel {
    let typeName = config.has("type") ? try config.type()
        : (config.has("continuing_subword_prefix") && !config.has("merges") ? TokenizerModelType.wordPiece.rawValue
            : "")
    guard let type = TokenizerModelType(rawValue: typeName) else {
        throw .unknownStageType(stage: config.stage, type: typeName.isEmpty ? "(none)" : typeName)
    }
    switch type {
    case .wordPiece:
        var entries: [(token: String, id: Int)] = []
        for (token, value) in try config.object("vocab").pairs {
            guard let id = value.intValue, id >= 0 else {
                throw .invalidField(stage: config.stage, field: "vocab",
                                    reason: "id of \"\(token)\" is not an integer >= 0")
            }
            entries.append((token: token, id: id))
        }
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
