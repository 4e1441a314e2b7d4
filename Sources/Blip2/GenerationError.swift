// Errors raised by the language bridge and text generation.

/// Why a generation request was rejected before (or while) decoding.
public enum GenerationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A generation option is out of range; `option` is its transformers name (`num_beams`, `top_p`, ...).
    case invalidOption(option: String, reason: String)
    /// A combination transformers supports that this port does not (named).
    case unsupported(String)
    /// Row `row` of the input ids holds `got` image placeholders where the model needs `expected`.
    case placeholderCount(row: Int, got: Int, expected: Int)
    /// A token id outside `0..<vocabSize`.
    case tokenOutOfRange(id: Int, vocabSize: Int)
    /// Prompt plus new tokens would pass the position table.
    case sequenceTooLong(length: Int, maxPositions: Int)
    /// The inputs disagree in shape (ids vs mask vs image features), described.
    case shapeMismatch(String)
    /// A sequence has no attended token to continue from.
    case emptyInput(row: Int)

    public var description: String {
        switch self {
        case let .invalidOption(option, reason):
            return "generation option \(option) is invalid: \(reason)"
        case let .unsupported(what):
            return "generation with \(what) is not supported"
        case let .placeholderCount(row, got, expected):
            return "input row \(row) has \(got) image placeholder tokens, expected \(expected)"
        case let .tokenOutOfRange(id, vocabSize):
            return "token id \(id) is outside the vocabulary (size \(vocabSize))"
        case let .sequenceTooLong(length, maxPositions):
            return "a sequence of \(length) tokens exceeds the model's \(maxPositions) positions"
        case let .shapeMismatch(what):
            return "generation inputs disagree: \(what)"
        case let .emptyInput(row):
            return "input row \(row) has no attended token"
        }
    }
}
