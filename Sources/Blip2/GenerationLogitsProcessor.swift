// Logits processors and warpers with transformers' semantics (generation/logits_process.py, 5.23.0), one
// small type per upstream class, applied per sequence in upstream's order (see `GenerationLogitsProcessors`).
// Legend: V = vocabulary (the logits row).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a processor may look at besides the scores: the sequence so far, as upstream's `input_ids` row.
public struct GenerationContext: Sendable {
    /// Every id of the sequence: the input row (image placeholders and padding included, as transformers
    /// sees it) followed by the generated tokens.
    public var tokens: [Int]
    /// Length of the input row (upstream `input_ids_seq_length`).
    public var promptLength: Int
    /// Leading positions the repetition penalty ignores: upstream's `prompt_ignore_length`, the index of the
    /// first attended position (0 for BLIP-2, whose rows start with image placeholders).
    public var ignoredPrefix: Int

    public init(tokens: [Int], promptLength: Int, ignoredPrefix: Int = 0) {
        self.tokens = tokens
        self.promptLength = promptLength
        self.ignoredPrefix = ignoredPrefix
    }

    /// Tokens generated so far.
    public var newTokenCount: Int { tokens.count - promptLength }
}

/// Rewrites one row of next-token scores [V] in place.
public protocol GenerationLogitsProcessor: Sendable {
    func process(_ scores: inout [Float], context: GenerationContext)
}

/// Upstream `RepetitionPenaltyLogitsProcessor`: every id present in the sequence (once, however often it
/// occurs) has its score divided by the penalty when positive, multiplied when negative.
public struct RepetitionPenaltyProcessor: GenerationLogitsProcessor {
    public let penalty: Float
    public init(penalty: Float) { self.penalty = penalty }

    public func process(_ scores: inout [Float], context: GenerationContext) {
        var seen = Set<Int>()
        for id in context.tokens.dropFirst(context.ignoredPrefix) where id >= 0 && id < scores.count {
            guard seen.insert(id).inserted else { continue }
            let s = scores[id]
            scores[id] = s < 0 ? s * penalty : s / penalty
        }
    }
}

/// Upstream `NoRepeatNGramLogitsProcessor`: bans every token that would complete an n-gram already present
/// in the sequence (image placeholders and prompt included).
public struct NoRepeatNGramProcessor: GenerationLogitsProcessor {
    public let size: Int
    public init(size: Int) { self.size = size }

    public func process(_ scores: inout [Float], context: GenerationContext) {
        let t = context.tokens
        guard size >= 1, t.count >= size else { return }
        // The last n − 1 tokens; a window whose first n − 1 tokens equal them bans its last token.
        let prefixStart = t.count - (size - 1)
        for start in 0...(t.count - size) {
            var matches = true
            for k in 0..<(size - 1) where t[start + k] != t[prefixStart + k] {
                matches = false
                break
            }
            let banned = t[start + size - 1]
            if matches, banned >= 0, banned < scores.count { scores[banned] = -.infinity }
        }
    }
}

/// Upstream `MinNewTokensLengthLogitsProcessor`: EOS ids are impossible until `minNewTokens` are generated.
public struct MinNewTokensProcessor: GenerationLogitsProcessor {
    public let minNewTokens: Int
    public let eosTokenIDs: [Int]
    public init(minNewTokens: Int, eosTokenIDs: [Int]) {
        self.minNewTokens = minNewTokens
        self.eosTokenIDs = eosTokenIDs
    }

    public func process(_ scores: inout [Float], context: GenerationContext) {
        guard context.newTokenCount < minNewTokens else { return }
        for id in eosTokenIDs where id >= 0 && id < scores.count { scores[id] = -.infinity }
    }
}

/// Upstream `TemperatureLogitsWarper`: scores / temperature.
public struct TemperatureWarper: GenerationLogitsProcessor {
    public let temperature: Float
    public init(temperature: Float) { self.temperature = temperature }

    public func process(_ scores: inout [Float], context: GenerationContext) {
        for i in scores.indices { scores[i] /= temperature }
    }
}

/// Upstream `TopKLogitsWarper`: scores below the k-th largest become −inf (ties with it survive).
public struct TopKWarper: GenerationLogitsProcessor {
    public let k: Int
    public init(k: Int, minTokensToKeep: Int = 1) { self.k = max(k, minTokensToKeep) }

    public func process(_ scores: inout [Float], context: GenerationContext) {
        let kept = min(k, scores.count)
        guard kept >= 1 else { return }
        let threshold = scores.sorted(by: >)[kept - 1]
        for i in scores.indices where scores[i] < threshold { scores[i] = -.infinity }
    }
}

/// Upstream `TopPLogitsWarper`: in ascending order, drops tokens while the cumulative probability stays
/// ≤ 1 − p, always keeping the `minTokensToKeep` best.
public struct TopPWarper: GenerationLogitsProcessor {
    public let p: Float
    public let minTokensToKeep: Int
    public init(p: Float, minTokensToKeep: Int = 1) {
        self.p = p
        self.minTokensToKeep = minTokensToKeep
    }

    public func process(_ scores: inout [Float], context: GenerationContext) {
        let order = scores.indices.sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let probs = GenerationMath.softmax(order.map { scores[$0] })
        var cumulative: Float = 0
        let protectedFrom = order.count - minTokensToKeep
        for (rank, index) in order.enumerated() {
            cumulative += probs[rank]
            if rank < protectedFrom, cumulative <= 1 - p { scores[index] = -.infinity }
        }
    }
}

/// Builds the processor chain `generate` applies, in transformers' order.
public enum GenerationLogitsProcessors {
    /// Penalties and constraints (every strategy), then the sampling warpers (sampling only).
    public static func make(_ options: GenerationOptions) -> [any GenerationLogitsProcessor] {
        var chain: [any GenerationLogitsProcessor] = []
        if options.repetitionPenalty != 1 {
            chain.append(RepetitionPenaltyProcessor(penalty: Float(options.repetitionPenalty)))
        }
        if options.noRepeatNgramSize > 0 { chain.append(NoRepeatNGramProcessor(size: options.noRepeatNgramSize)) }
        if options.minNewTokens > 0, !options.eosTokenIDs.isEmpty {
            chain.append(MinNewTokensProcessor(minNewTokens: options.minNewTokens, eosTokenIDs: options.eosTokenIDs))
        }
        if options.doSample {
            if options.temperature != 1 { chain.append(TemperatureWarper(temperature: Float(options.temperature))) }
            if options.topK != 0 { chain.append(TopKWarper(k: options.topK)) }
            if options.topP < 1 { chain.append(TopPWarper(p: Float(options.topP))) }
        }
        return chain
    }
}

/// Row-wise float32 helpers shared by the search strategies (torch computes these in f32 too).
enum GenerationMath {
    /// softmax of a row; −inf entries get 0.
    static func softmax(_ x: [Float]) -> [Float] {
        guard let top = x.max(), top > -.infinity else { return [Float](repeating: 0, count: x.count) }
        var e = x.map { expf($0 - top) }
        let sum = e.reduce(0, +)
        for i in e.indices { e[i] /= sum }
        return e
    }

    /// log_softmax of a row: x − max − log Σ exp(x − max).
    static func logSoftmax(_ x: [Float]) -> [Float] {
        guard let top = x.max(), top > -.infinity else { return x }
        let sum = x.reduce(Float(0)) { $0 + expf($1 - top) }
        let shift = top + logf(sum)
        return x.map { $0 - shift }
    }

    /// Index of the largest score, the first one on ties (torch.argmax).
    static func argmax(_ x: [Float]) -> Int {
        var best = 0
        for i in x.indices where x[i] > x[best] || (x[best].isNaN && !x[i].isNaN) { best = i }
        return best
    }

    /// Draws an index with probability softmax(scores) (torch.multinomial over the processed scores).
    static func sample(_ scores: [Float], using random: inout GenerationRandom) -> Int {
        let probs = softmax(scores)
        let u = random.nextUnit()
        var cumulative = 0.0
        var last = argmax(scores)
        for (i, p) in probs.enumerated() where p > 0 {
            cumulative += Double(p)
            last = i
            if u < cumulative { return i }
        }
        return last
    }
}
