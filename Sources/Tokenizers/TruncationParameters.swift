// Truncation and padding settings: tokenizer.json's `truncation` and `padding` objects (tokenizers
// `utils/truncation.rs`, `utils/padding.rs`), also settable per call site with `Tokenizer.withTruncation` /
// `withPadding`.

/// How to cut encodings down to a maximum length. The length counts the post-processor's special tokens.
public struct TruncationParameters: Sendable, Equatable {
    public enum Strategy: String, Sendable {
        /// Remove from the longer of the two texts, one token at a time in effect.
        case longestFirst = "LongestFirst"
        case onlyFirst = "OnlyFirst"
        case onlySecond = "OnlySecond"
    }
    public enum Direction: String, Sendable {
        /// Drop tokens at the end.
        case right = "Right"
        /// Drop tokens at the start.
        case left = "Left"
    }

    public var maxLength: Int
    public var strategy: Strategy
    public var direction: Direction

    public init(maxLength: Int, strategy: Strategy = .longestFirst, direction: Direction = .right) {
        self.maxLength = maxLength
        self.strategy = strategy
        self.direction = direction
    }

    init(_ config: StageConfig) throws(TokenizerError) {
        let maxLength = try config.int("max_length")
        guard maxLength >= 0 else {
            throw .invalidField(stage: config.stage, field: "max_length", reason: "must be >= 0")
        }
        let strategyName = try config.string("strategy", default: Strategy.longestFirst.rawValue)
        guard let strategy = Strategy(rawValue: strategyName) else {
            throw .invalidField(stage: config.stage, field: "strategy", reason: "unknown strategy \"\(strategyName)\"")
        }
        let directionName = try config.string("direction", default: Direction.right.rawValue)
        guard let direction = Direction(rawValue: directionName) else {
            throw .invalidField(stage: config.stage, field: "direction", reason: "unknown direction \"\(directionName)\"")
        }
        self.init(maxLength: maxLength, strategy: strategy, direction: direction)
    }

    /// Truncates `first` (and `second`) so that together they hold at most `maxLength` tokens, exactly as the
    /// `tokenizers` library's `truncate_encodings` does (stride and overflow pieces are not kept).
    func truncate(_ first: inout Encoding, _ second: inout Encoding?, maxLength: Int) throws(TokenizerError) {
        let total = first.count + (second?.count ?? 0)
        guard total > maxLength else { return }
        switch strategy {
        case .longestFirst:
            guard var other = second else {
                first.truncate(to: maxLength, direction: direction)
                return
            }
            // Give the shorter text what it needs up to half, the longer one the rest.
            var shorter = first.count
            var longer = other.count
            let swapped = shorter > longer
            if swapped { swap(&shorter, &longer) }
            longer = shorter > maxLength ? shorter : max(shorter, maxLength - shorter)
            if shorter + longer > maxLength {
                shorter = maxLength / 2
                longer = shorter + maxLength % 2
            }
            if swapped { swap(&shorter, &longer) }
            first.truncate(to: shorter, direction: direction)
            other.truncate(to: longer, direction: direction)
            second = other
        case .onlyFirst, .onlySecond:
            let excess = total - maxLength
            if strategy == .onlyFirst {
                guard first.count > excess else {
                    throw .truncation("the first sequence is too short to remove \(excess) tokens")
                }
                first.truncate(to: first.count - excess, direction: direction)
            } else {
                guard var other = second else { throw .truncation("only_second needs a second sequence") }
                guard other.count > excess else {
                    throw .truncation("the second sequence is too short to remove \(excess) tokens")
                }
                other.truncate(to: other.count - excess, direction: direction)
                second = other
            }
        }
    }
}

/// How to pad encodings to a common length.
public struct PaddingParameters: Sendable, Equatable {
    public enum Strategy: Sendable, Equatable {
        /// To the longest encoding of the batch.
        case batchLongest
        /// To a fixed length.
        case fixed(Int)
    }
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
            throw .invalidField(stage: config.stage, field: "strategy", reason: "expected \"BatchLongest\" or {\"Fixed\": n}")
        }
        let directionName = try config.string("direction", default: Direction.right.rawValue)
        guard let direction = Direction(rawValue: directionName) else {
            throw .invalidField(stage: config.stage, field: "direction", reason: "unknown direction \"\(directionName)\"")
        }
        self.init(strategy: strategy, direction: direction, padToMultipleOf: try config.optionalInt("pad_to_multiple_of"),
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
