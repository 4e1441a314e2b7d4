// Truncation settings: tokenizer.json's `truncation` object (tokenizers `utils/truncation.rs`), also settable per
// call site with `Tokenizer.withTruncation`.

/// How to cut encodings down to a maximum length. The length counts the post-processor's special tokens.
public struct TruncationParameters: Sendable, Equatable {
    /// Which text of a pair loses tokens (raw values as in tokenizer.json).
    public enum Strategy: String, Sendable {
        /// Remove from the longer of the two texts, one token at a time in effect.
        case longestFirst = "LongestFirst"
        case onlyFirst = "OnlyFirst"
        case onlySecond = "OnlySecond"
    }
    /// The side tokens are removed from (raw values as in tokenizer.json).
    public enum Direction: String, Sendable {
        /// Drop tokens at the end.
        case right = "Right"
        /// Drop tokens at the start.
        case left = "Left"
    }

    public var maxLength: Int
    public var strategy: Strategy
    public var direction: Direction

    /// A negative `maxLength` counts as 0.
    public init(maxLength: Int, strategy: Strategy = .longestFirst, direction: Direction = .right) {
        self.maxLength = max(0, maxLength)
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
            throw .invalidField(stage: config.stage, field: "direction",
                                reason: "unknown direction \"\(directionName)\"")
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
