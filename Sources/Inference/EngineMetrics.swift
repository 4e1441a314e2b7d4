import Foundation

/// The engine's counters: per-stage batch sizes and latencies, admission refusals, expired and cancelled work,
/// generated tokens. Rendered as Prometheus text by `Engine.prometheusText()`; the API adds that as a collector
/// to the server's `/metrics`. Thread-safe.
public final class EngineMetrics: @unchecked Sendable {
    /// A snapshot for `/info`-style reports and tests.
    public struct Snapshot: Sendable, Equatable {
        /// Per stage: batch size → number of batches of that size.
        public var batchSizes: [String: [Int: Int]] = [:]
        /// Per stage: total seconds spent running batches.
        public var stageSeconds: [String: Double] = [:]
        /// Per stage: batches whose run took at most `EngineMetrics.latencyBuckets[i]` seconds (cumulative
        /// counts, Prometheus style; the total is the batch count).
        public var stageLatencyBuckets: [String: [Int]] = [:]
        public var rejected = 0
        public var expired = 0
        public var cancelled = 0
        public var generatedTokens = 0
        /// Caption requests that joined a running decode at a step boundary.
        public var joinedDecodes = 0
        public var completedRequests = 0

        /// The largest batch a stage has run (0 if none).
        public func largestBatch(_ stage: String) -> Int { batchSizes[stage]?.keys.max() ?? 0 }
    }

    /// Upper bounds (seconds) of the stage latency histogram: from a tiny model's millisecond batches to a
    /// ViT-g batch of 8 or a long beam search on two cores.
    public static let latencyBuckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    private let lock = NSLock()
    private var state = Snapshot()

    init() {}

    public var snapshot: Snapshot { lock.withLock { state } }

    func recordBatch(stage: String, size: Int) {
        lock.withLock { state.batchSizes[stage, default: [:]][size, default: 0] += 1 }
    }

    func recordStageTime(stage: String, seconds: Double) {
        lock.withLock {
            state.stageSeconds[stage, default: 0] += seconds
            var buckets = state.stageLatencyBuckets[stage] ?? [Int](repeating: 0, count: Self.latencyBuckets.count)
            for (index, bound) in Self.latencyBuckets.enumerated() where seconds <= bound { buckets[index] += 1 }
            state.stageLatencyBuckets[stage] = buckets
        }
    }

    func recordRejected() { lock.withLock { state.rejected += 1 } }
    func recordExpired() { lock.withLock { state.expired += 1 } }
    func recordCancelled() { lock.withLock { state.cancelled += 1 } }
    func recordJoined(_ count: Int) { lock.withLock { state.joinedDecodes += count } }
    func recordGenerated(_ tokens: Int) { lock.withLock { state.generatedTokens += tokens } }
    func recordCompleted() { lock.withLock { state.completedRequests += 1 } }
}
