// Padding settings: tokenizer.json's `padding` object (tokenizers `utils/padding.rs`), also settable per call site
// with `Tokenizer.withPadding`.

/// How to pad encodings to a common length.
public struct PaddingParameters: Sendable, Equatable {
    /// The length to pad to.
    public enum Strategy: Sendable, Equatable {
        /// To the longest encoding of the batch.
        case batchLongest
        /// To a fixed length.
        case fixed(Int)
    }
    /// The side padding goes on (raw values as in tokenizer.json).
    public enum Direction: String, Sendable {
        case right = "Right"
        case left = "Left"
    }

    public var strategy: Strategy
    public var direction: Direction
    /// Round the padded length up to a multiple of this (tensor-core friendly shapes).
    public var padToMultipleOf: Int?
    public var padId: Int
    public var padTypeId: Int
    public var padToken: String

    public init(strategy: Strategy = .batchLongest, direction: Direction = .right, padToMultipleOf: Int? = nil,
                padId: Int = 0, padTypeId: Int = 0, padToken: String = "[PAD]") {
        self.strategy = strategy
        self.direction = direction
        self.padToMultipleOf = padToMultipleOf
        self.padId = padId
        self.padTypeId = padTypeId
        self.padToken = padToken
    }

    init(_ config: StageConfig) throws(TokenizerError) {
        var strategy = Strategy.batchLongest
        switch config.fields["strategy"] {
        case .none, .null, .string("BatchLongest"): break
        case let .object(fixed):
            guard let length = fixed["Fixed"]?.intValue, length >= 0 else {
                throw .invalidField(stage: config.stage, field: "strategy", reason: "expected {\"Fixed\": length}")
            }
            strategy = .fixed(length)
        default:
            throw .invalidField(stage: config.stage, field: "strategy",
                                reason: "expected \"BatchLongest\" or {\"Fixed\": n}")
        }
        let directionName = try config.string("direction", default: Direction.right.rawValue)
        guard let direction = Direction(rawValue: directionName) else {
            throw .invalidField(stage: config.stage, field: "direction",
                                reason: "unknown direction \"\(directionName)\"")
        }
        self.init(strategy: strategy, direction: direction,
                  padToMultipleOf: try config.optionalInt("pad_to_multiple_of"),
                  padId: try config.int("pad_id", default: 0), padTypeId: try config.int("pad_type_id", default: 0),
                  padToken: try config.string("pad_token", default: "[PAD]"))
    }

    /// Pads every encoding to the target length of this batch.
    func pad(_ encodings: inout [Encoding]) {
        var length: Int
        switch strategy {
        case .batchLongest: length = encodings.map(\.count).max() ?? 0
        case let .fixed(fixed): length = fixed
        }
        if let multiple = padToMultipleOf, multiple > 0, length % multiple != 0 {
            length += multiple - length % multiple
        }
        for index in encodings.indices { encodings[index].pad(to: length, with: self) }
    }
}
