// Errors of the Tokenizers module. Every malformed or unsupported input file ends here, never in a crash.

/// Why a tokenizer could not be loaded or could not encode a text.
///
/// Loading errors name the file or `tokenizer.json` stage involved so a bad checkpoint can be fixed without a
/// debugger; `description` is the human message.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file could not be read (missing, unreadable, not UTF-8).
    case unreadableFile(path: String, reason: String)
    /// A file is not the JSON (or text) shape expected.
    case malformedFile(file: String, reason: String)
    /// A stage names a `type` this module does not implement (yet).
    case unknownStageType(stage: String, type: String)
    /// A stage lacks a required field or has one of the wrong kind.
    case invalidField(stage: String, field: String, reason: String)
    /// A directory holds neither `tokenizer.json` nor `vocab.txt`, or a vocabulary is empty.
    case missingVocabulary(String)
    /// A token the configuration relies on (unk, template special token, pad) is not in the vocabulary.
    case unknownToken(stage: String, token: String)
    /// Truncation cannot satisfy its parameters (mirrors the `tokenizers` library's refusals).
    case truncation(String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): "cannot read \(path): \(reason)"
        case let .malformedFile(file, reason): "malformed \(file): \(reason)"
        case let .unknownStageType(stage, type): "unsupported \(stage) type \"\(type)\""
        case let .invalidField(stage, field, reason): "\(stage).\(field): \(reason)"
        case let .missingVocabulary(reason): "missing vocabulary: \(reason)"
        case let .unknownToken(stage, token): "\(stage): token \"\(token)\" is not in the vocabulary"
        case let .truncation(reason): "truncation: \(reason)"
        }
    }
}
