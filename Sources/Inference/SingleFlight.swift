import Synchronization

/// Coalesces concurrent computations of the same key: the first caller computes, later callers for the same
/// key wait for that result instead of repeating the work (the same image posted by several clients at once
/// runs the ViT and Q-Former once). Thread-safe.
public final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    public typealias Waiter = @Sendable (Result<Value, any Error>) -> Void

    private struct State {
        var inFlight: [Key: [Waiter]] = [:]
        var coalesced = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Joins the computation for `key`. Returns true when the caller leads: it must compute and then call
    /// `complete`. Otherwise `waiter` runs when the leader completes.
    public func join(_ key: Key, waiter: @escaping Waiter) -> Bool {
        state.withLock { state in
            if state.inFlight[key] != nil {
                state.inFlight[key, default: []].append(waiter)
                state.coalesced += 1
                return false
            }
            state.inFlight[key] = [waiter]
            return true
        }
    }

    /// Delivers the leader's result to every waiter of `key` (the leader's own waiter included).
    public func complete(_ key: Key, with result: Result<Value, any Error>) {
        let waiters = state.withLock { $0.inFlight.removeValue(forKey: key) ?? [] }
        for waiter in waiters { waiter(result) }
    }

    /// Callers waiting on `key` now, the leader included (0 when nothing is in flight).
    public func waiterCount(_ key: Key) -> Int {
        state.withLock { $0.inFlight[key]?.count ?? 0 }
    }

    /// Requests that waited on another's computation instead of computing (a metric).
    public var coalesced: Int { state.withLock { $0.coalesced } }
}
