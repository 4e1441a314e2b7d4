#if canImport(Glibc)
import Glibc
#endif

/// Dynamic batching for one pipeline stage as a pure state machine: requests are admitted against a bounded
/// queue (or refused with a `Retry-After` computed from the queue depth and the recent drain rate), gathered
/// into batches of at most `maxBatchSize`, and a batch starts when it is full or when the oldest waiting request
/// has waited `maxBatchWait`. Requests whose deadline passed, or whose client left, never reach the model.
/// Time arrives with each event (monotonic nanoseconds), so every rule is unit-tested without sleeping.
public struct BatchScheduler<Item: Sendable>: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Most requests in one forward pass.
        public var maxBatchSize: Int
        /// Longest a request waits for companions, counted from the oldest waiting request.
        public var maxBatchWait: Duration
        /// Requests waiting beyond this are refused up front (429), before any decoding work.
        public var queueCapacity: Int

        public init(maxBatchSize: Int = 8, maxBatchWait: Duration = .milliseconds(5), queueCapacity: Int = 256) {
            self.maxBatchSize = max(1, maxBatchSize)
            self.maxBatchWait = maxBatchWait
            self.queueCapacity = max(1, queueCapacity)
        }
    }

    /// Identifies a submitted request for cancellation.
    public struct Ticket: Hashable, Sendable {
        public let id: UInt64
    }

    public struct Entry: Sendable {
        public let ticket: Ticket
        public let item: Item
        public let enqueuedAt: UInt64
        /// Monotonic deadline after which the request is answered 504 instead of computed.
        public let deadline: UInt64?
    }

    public enum Admission: Sendable, Equatable {
        case queued(Ticket)
        /// The queue is full: answer 429 with this `Retry-After` (seconds).
        case rejected(retryAfterSeconds: Int)
    }

    public enum Action: Sendable {
        /// Run this batch now; report `batchCompleted` when done.
        case run([Entry])
        /// These requests' deadlines passed while queued: answer them 504.
        case expired([Entry])
        /// Call `timerFired` at this monotonic instant (nil: no timer needed).
        case setTimer(UInt64?)
    }

    public let configuration: Configuration
    private var queue: [Entry] = []
    private var head = 0
    private var busy = false
    private var nextTicket: UInt64 = 0
    private var drain = DrainRate()

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Requests waiting (not yet in a running batch).
    public var queueDepth: Int { queue.count - head }
    /// A batch is running.
    public var isBusy: Bool { busy }

    /// Admits `item` or refuses it when the queue is full.
    public mutating func submit(_ item: Item, deadline: UInt64?, now: UInt64) -> (Admission, [Action]) {
        if queueDepth >= configuration.queueCapacity {
            return (.rejected(retryAfterSeconds: retryAfterSeconds(now: now)), [])
        }
        nextTicket += 1
        let ticket = Ticket(id: nextTicket)
        queue.append(Entry(ticket: ticket, item: item, enqueuedAt: now, deadline: deadline))
        return (.queued(ticket), advance(now: now))
    }

    /// Removes a request that is still waiting (its client disconnected). False if it already left the queue.
    public mutating func cancel(_ ticket: Ticket, now: UInt64) -> (removed: Bool, actions: [Action]) {
        guard let index = queue[head...].firstIndex(where: { $0.ticket == ticket }) else { return (false, []) }
        queue.remove(at: index)
        return (true, advance(now: now))
    }

    /// Takes up to `limit` waiting requests that `accept` allows, oldest first, out of the queue: a running batch
    /// absorbs them (continuous batching). Requests past their deadline stay for the next event to report.
    public mutating func takeWaiting(limit: Int, now: UInt64, where accept: (Item) -> Bool) -> [Entry] {
        guard limit > 0, queueDepth > 0 else { return [] }
        var taken: [Entry] = []
        var kept: [Entry] = []
        for entry in queue[head...] {
            if taken.count < limit, (entry.deadline ?? .max) > now, accept(entry.item) {
                taken.append(entry)
            } else {
                kept.append(entry)
            }
        }
        queue = kept
        head = 0
        return taken
    }

    /// The running batch of `count` requests finished.
    public mutating func batchCompleted(count: Int, now: UInt64) -> [Action] {
        busy = false
        drain.record(count, now: now)
        return advance(now: now)
    }

    public mutating func timerFired(now: UInt64) -> [Action] { advance(now: now) }

    /// Seconds until the queue is likely to have room: depth / recent drain rate, clamped to 1...60.
    public func retryAfterSeconds(now: UInt64) -> Int {
        guard let rate = drain.itemsPerSecond(now: now), rate > 0 else { return 1 }
        let seconds = (Double(queueDepth) / rate).rounded(.up)
        return Int(min(60, max(1, seconds)))
    }

    private mutating func advance(now: UInt64) -> [Action] {
        var actions: [Action] = []
        let expired = removeExpired(now: now)
        if !expired.isEmpty { actions.append(.expired(expired)) }
        compact()
        guard queueDepth > 0 else { return actions + [.setTimer(nil)] }
        guard !busy else { return actions + [.setTimer(nextDeadline())] }
        let oldest = queue[head].enqueuedAt
        let due = oldest &+ configuration.maxBatchWait.nanosecondCount
        if queueDepth >= configuration.maxBatchSize || now >= due {
            let end = head + min(queueDepth, configuration.maxBatchSize)
            let batch = Array(queue[head..<end])
            head = end
            busy = true
            compact()
            actions.append(.run(batch))
            return actions + [.setTimer(nextDeadline())]
        }
        return actions + [.setTimer(min(due, nextDeadline() ?? .max))]
    }

    /// The earliest request deadline among waiting requests (so expiry is noticed even while busy).
    private func nextDeadline() -> UInt64? {
        queue[head...].compactMap(\.deadline).min()
    }

    private mutating func removeExpired(now: UInt64) -> [Entry] {
        guard queue[head...].contains(where: { ($0.deadline ?? .max) <= now }) else { return [] }
        let waiting = queue[head...]
        let expired = waiting.filter { ($0.deadline ?? .max) <= now }
        queue = waiting.filter { ($0.deadline ?? .max) > now }
        head = 0
        return expired
    }

    private mutating func compact() {
        if head > 64, head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }
}

/// Items drained per second over the last few seconds (an exponentially weighted moving average).
struct DrainRate: Sendable {
    private var rate: Double?
    private var lastAt: UInt64?
    /// Seconds over which old observations fade.
    private static let horizon = 5.0

    mutating func record(_ count: Int, now: UInt64) {
        defer { lastAt = now }
        guard let lastAt, now > lastAt else { return }
        let seconds = Double(now - lastAt) / 1e9
        let instant = Double(count) / seconds
        let weight = 1 - exp(-seconds / Self.horizon)
        rate = rate.map { $0 + weight * (instant - $0) } ?? instant
    }

    func itemsPerSecond(now: UInt64) -> Double? { rate }
}

extension Duration {
    /// Whole nanoseconds, clamped to 0...UInt64.max/2 so deadline arithmetic cannot overflow.
    var nanosecondCount: UInt64 {
        UInt64(max(0, min(Double(UInt64.max / 2), (self / .nanoseconds(1)).rounded())))
    }
}
