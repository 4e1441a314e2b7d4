// Beam search for one input, with the semantics of transformers 5.x `_beam_search` (generation/utils.py,
// 5.23.0): vectorised running/finished beams, top-K continuations with K = max(2, 1 + #EOS) · beams,
// length penalty applied when a hypothesis is finalised, and the early-stopping heuristic
// (`early_stopping` false / true / "never"). Scores are float32, added in upstream's order, so the same
// candidates win; the ±1e9 sentinels are upstream's too.
// Legend: N = num_beams, K = candidates kept per step, V = vocabulary.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The pure state of beam search over one input: feed it the processed log-probabilities of its running
/// beams each step; it says which beam each new running beam continues, and when the input is done.
public struct GenerationBeamSearch: Sendable {
    /// One hypothesis: its generated tokens and its score (running: log-prob sum; finished: length-penalised).
    public struct Hypothesis: Equatable, Sendable {
        public var tokens: [Int]
        public var score: Float
        /// For finished slots: whether a real hypothesis fills it (upstream `is_sent_finished`).
        public var isFinished: Bool
    }

    /// Upstream's "impossible" score, added to rule a candidate out.
    static let sentinel: Float = -1.0e9

    let numBeams: Int
    let candidatesPerStep: Int
    let promptLength: Int
    let maxLength: Int
    let lengthPenalty: Double
    let earlyStopping: GenerationConfig.EarlyStopping
    let eosTokenIDs: Set<Int>

    /// Running beams, best first.
    public private(set) var running: [Hypothesis]
    /// Finalised beams, best first.
    public private(set) var finished: [Hypothesis]
    /// Whether a running beam could still beat the worst finished one (upstream
    /// `is_early_stop_heuristic_unsatisfied`).
    private(set) var improvementPossible = true
    /// Total length so far (prompt + generated), upstream `cur_len`.
    private(set) var currentLength: Int
    /// Whether this input needs no more steps.
    public private(set) var isDone = false

    /// Starts from a prompt of `promptLength` ids (upstream counts padding too); all beams share the prompt
    /// and only beam 0 starts live, so the first step does not pick the same token N times.
    public init(options: GenerationOptions, promptLength: Int) {
        numBeams = options.numBeams
        candidatesPerStep = max(2, 1 + options.eosTokenIDs.count) * options.numBeams
        self.promptLength = promptLength
        maxLength = promptLength + options.maxNewTokens
        lengthPenalty = options.lengthPenalty
        earlyStopping = options.earlyStopping
        eosTokenIDs = Set(options.eosTokenIDs)
        running = (0..<numBeams).map { Hypothesis(tokens: [], score: $0 == 0 ? 0 : Self.sentinel, isFinished: false) }
        finished = (0..<numBeams).map { _ in Hypothesis(tokens: [], score: Self.sentinel, isFinished: false) }
        currentLength = promptLength
    }

    /// One step. `logProbs[j]` is the processed log-softmax row [V] of running beam j. Returns, for each new
    /// running beam, the index of the old running beam it extends (its KV cache must be that beam's).
    public mutating func step(logProbs: [[Float]]) -> [Int] {
        precondition(logProbs.count == numBeams && !isDone, "beam search step with \(logProbs.count) rows")
        // a. top-K of running score + log-prob over all N·V continuations, best first (ties: lower index).
        var top: [(score: Float, beam: Int, token: Int)] = []
        top.reserveCapacity(candidatesPerStep + 1)
        for (beam, row) in logProbs.enumerated() {
            let base = running[beam].score
            for (token, lp) in row.enumerated() {
                let s = lp + base
                if top.count == candidatesPerStep, let last = top.last, !(s > last.score) { continue }
                var at = top.count
                while at > 0, s > top[at - 1].score { at -= 1 }
                top.insert((s, beam, token), at: at)
                if top.count > candidatesPerStep { top.removeLast() }
            }
        }
        // b. which candidates end here (an EOS id, or the length limit).
        let atLimit = currentLength + 1 >= maxLength
        let hits = top.map { atLimit || eosTokenIDs.contains($0.token) }

        // c. next running beams: the best N candidates that did not end (ended ones sink by 1e9).
        let runningScores = zip(top, hits).map { $0.score + ($1 ? Self.sentinel : 0) }
        let nextRunning = Self.topIndices(runningScores, count: numBeams)
        let parents = nextRunning.map { top[$0].beam }
        let newRunning = nextRunning.map { i in
            Hypothesis(tokens: running[top[i].beam].tokens + [top[i].token], score: runningScores[i], isFinished: false)
        }

        // d. finalise: only the first N candidates may, penalised by length; merged with the old finished.
        let lengthFactor = Float(pow(Double(currentLength + 1 - promptLength), lengthPenalty))
        let beamsFull = finished.allSatisfy(\.isFinished) && earlyStopping == .whenBeamsDone
        var merged = finished
        for (i, candidate) in top.enumerated() {
            var s = candidate.score / lengthFactor
            if beamsFull { s += Self.sentinel }
            if !improvementPossible { s += Self.sentinel }
            let justFinished = hits[i] && i < numBeams
            if !justFinished { s += Self.sentinel }
            merged.append(Hypothesis(tokens: running[candidate.beam].tokens + [candidate.token], score: s,
                                     isFinished: justFinished))
        }
        finished = Self.topIndices(merged.map(\.score), count: numBeams).map { merged[$0] }
        running = newRunning
        currentLength += 1

        // e. early-stopping heuristic: can the best running beam still beat the worst finished one?
        let bestLength = earlyStopping == .never && lengthPenalty > 0
            ? maxLength - promptLength : currentLength - promptLength
        let bestPossible = running[0].score / Float(pow(Double(bestLength), lengthPenalty))
        let worstFinished = finished.map(\.score).min() ?? Self.sentinel
        let canImprove = finished.contains { bestPossible > ($0.isFinished ? worstFinished : Self.sentinel) }
        improvementPossible = improvementPossible && canImprove
        let allFinished = finished.allSatisfy(\.isFinished)
        isDone = !improvementPossible || (allFinished && earlyStopping == .whenBeamsDone) || hits.allSatisfy { $0 }
        return parents
    }

    /// Indices of the `count` largest values, best first; ties keep the lower index first.
    static func topIndices(_ values: [Float], count: Int) -> [Int] {
        Array(values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
            .prefix(count))
    }
}
