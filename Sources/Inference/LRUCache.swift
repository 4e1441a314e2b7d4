import Synchronization

/// A least-recently-used cache bounded by a byte budget: each value states its cost, and inserting past the
/// budget evicts from the cold end. Used for query tokens (the ViT + Q-Former output of an image), so a repeated
/// image skips decoding and both models. Thread-safe.
public final class LRUCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    fileprivate struct Node {
        var key: Key
        var value: Value
        var cost: Int
        var newer: Int?
        var older: Int?
    }

    public struct Statistics: Sendable, Equatable {
        public var hits = 0
        public var misses = 0
        public var evictions = 0
        public var entries = 0
        public var bytes = 0
    }

    public let byteBudget: Int
    private let state = Mutex(LRUState<Key, Value>())

    /// A budget of 0 disables caching (every lookup misses, nothing is stored).
    public init(byteBudget: Int) {
        self.byteBudget = max(0, byteBudget)
    }

    public var statistics: Statistics { state.withLock { $0.stats } }

    /// The cached value, marked as most recently used.
    public func value(for key: Key) -> Value? {
        state.withLock { state in
            guard let slot = state.index[key], let node = state.nodes[slot] else {
                state.stats.misses += 1
                return nil
            }
            state.stats.hits += 1
            state.unlink(slot)
            state.pushNewest(slot)
            return node.value
        }
    }

    /// Stores `value`; a value costlier than the whole budget is not cached.
    public func insert(_ value: Value, for key: Key, cost: Int) {
        let budget = byteBudget
        state.withLock { state in
            if let slot = state.index[key] { state.remove(slot) }
            guard cost <= budget, budget > 0 else { return }
            while state.stats.bytes + cost > budget, let victim = state.oldest {
                state.remove(victim)
                state.stats.evictions += 1
            }
            let node = Node(key: key, value: value, cost: cost, newer: nil, older: nil)
            let slot: Int
            if let reused = state.free.popLast() {
                state.nodes[reused] = node
                slot = reused
            } else {
                state.nodes.append(node)
                slot = state.nodes.count - 1
            }
            state.index[key] = slot
            state.pushNewest(slot)
            state.stats.bytes += cost
            state.stats.entries += 1
        }
    }

    public func removeAll() {
        state.withLock { $0 = LRUState(stats: Statistics(hits: $0.stats.hits, misses: $0.stats.misses,
                                                          evictions: $0.stats.evictions)) }
    }
}

/// The cache's lists and index, only touched under the cache's mutex.
private struct LRUState<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    typealias Node = LRUCache<Key, Value>.Node
    var nodes: [Node?] = []
    var free: [Int] = []
    var index: [Key: Int] = [:]
    var newest: Int?
    var oldest: Int?
    var stats = LRUCache<Key, Value>.Statistics()

    mutating func remove(_ slot: Int) {
        guard let node = nodes[slot] else { return }
        unlink(slot)
        index[node.key] = nil
        nodes[slot] = nil
        free.append(slot)
        stats.bytes -= node.cost
        stats.entries -= 1
    }

    mutating func unlink(_ slot: Int) {
        guard let node = nodes[slot] else { return }
        if let newer = node.newer { nodes[newer]?.older = node.older } else { newest = node.older }
        if let older = node.older { nodes[older]?.newer = node.newer } else { oldest = node.newer }
        nodes[slot]?.newer = nil
        nodes[slot]?.older = nil
    }

    mutating func pushNewest(_ slot: Int) {
        nodes[slot]?.older = newest
        nodes[slot]?.newer = nil
        if let newest { nodes[newest]?.newer = slot }
        newest = slot
        if oldest == nil { oldest = slot }
    }
}
