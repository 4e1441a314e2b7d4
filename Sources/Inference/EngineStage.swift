import Dispatch
import Foundation

/// The driver of one `BatchScheduler`: it feeds the pure state machine events (submit, cancel, timer, batch
/// done) under a lock, arms one timer for it, sends each batch to the compute thread, and answers expired
/// entries. `run` gets the batch's live entries on the compute thread; entries whose request was cancelled or
/// whose deadline passed never reach it.
final class EngineStage<Item: Sendable>: @unchecked Sendable {
    typealias Entry = BatchScheduler<Item>.Entry

    let name: String
    private let lock = NSLock()
    private var scheduler: BatchScheduler<Item>
    private let compute: ComputeThread
    private let timerQueue: DispatchQueue
    private var timer: DispatchSourceTimer?
    private let metrics: EngineMetrics
    /// Runs a batch on the compute thread.
    private let run: @Sendable ([Item]) -> Void
    /// Answers an item that will not run (deadline passed: `.deadlineExceeded`; client gone: `.cancelled`).
    private let drop: @Sendable (Item, EngineError) -> Void
    private let isCancelled: @Sendable (Item) -> Bool

    init(name: String, configuration: EngineConfiguration.Stage, compute: ComputeThread, metrics: EngineMetrics,
         isCancelled: @escaping @Sendable (Item) -> Bool,
         drop: @escaping @Sendable (Item, EngineError) -> Void,
         run: @escaping @Sendable ([Item]) -> Void) {
        self.name = name
        self.scheduler = BatchScheduler(configuration: .init(
            maxBatchSize: configuration.maxBatchSize, maxBatchWait: configuration.maxBatchWait,
            queueCapacity: configuration.queueCapacity))
        self.compute = compute
        self.metrics = metrics
        self.timerQueue = DispatchQueue(label: "tiaoyu.stage.\(name)")
        self.isCancelled = isCancelled
        self.drop = drop
        self.run = run
    }

    static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }

    var queueDepth: Int { lock.withLock { scheduler.queueDepth } }

    /// Queues `item`; nil when the stage is full (the caller answers 429 with the returned seconds).
    func submit(_ item: Item, deadline: UInt64?, cancel: CancelToken) -> Int? {
        let now = Self.now
        let (admission, actions) = lock.withLock { scheduler.submit(item, deadline: deadline, now: now) }
        switch admission {
        case .rejected(let seconds):
            return seconds
        case .queued(let ticket):
            perform(actions)
            let isCancelled = self.isCancelled
            cancel.onCancel { [weak self] in
                // The item may still be wanted by someone else (an image other requests coalesced onto).
                if isCancelled(item) { self?.cancel(ticket, item: item) }
            }
            return nil
        }
    }

    /// Waiting items a running batch can absorb (continuous batching): up to `limit` that `accept` allows,
    /// oldest first; items whose client left are answered `.cancelled` instead.
    func takeWaiting(limit: Int, where accept: (Item) -> Bool) -> [Item] {
        let now = Self.now
        let entries = lock.withLock { scheduler.takeWaiting(limit: limit, now: now, where: accept) }
        var items: [Item] = []
        for entry in entries {
            if isCancelled(entry.item) {
                metrics.recordCancelled()
                drop(entry.item, .cancelled)
            } else {
                items.append(entry.item)
            }
        }
        return items
    }

    private func cancel(_ ticket: BatchScheduler<Item>.Ticket, item: Item) {
        let now = Self.now
        let (removed, actions) = lock.withLock { scheduler.cancel(ticket, now: now) }
        if removed {
            metrics.recordCancelled()
            drop(item, .cancelled)
        }
        perform(actions)
    }

    private func timerFired() {
        let now = Self.now
        let actions = lock.withLock { scheduler.timerFired(now: now) }
        perform(actions)
    }

    private func perform(_ actions: [BatchScheduler<Item>.Action]) {
        for action in actions {
            switch action {
            case .run(let entries):
                compute.submit { [self] in execute(entries) }
            case .expired(let entries):
                for entry in entries {
                    metrics.recordExpired()
                    drop(entry.item, .deadlineExceeded)
                }
            case .setTimer(let instant):
                setTimer(instant)
            }
        }
    }

    private func setTimer(_ instant: UInt64?) {
        lock.withLock {
            timer?.cancel()
            timer = nil
            guard let instant else { return }
            let source = DispatchSource.makeTimerSource(queue: timerQueue)
            source.schedule(deadline: DispatchTime(uptimeNanoseconds: max(instant, 1)), leeway: .microseconds(200))
            source.setEventHandler { [weak self] in self?.timerFired() }
            source.activate()
            timer = source
        }
    }

    /// On the compute thread: drops what no longer needs computing, runs the rest, reports completion.
    private func execute(_ entries: [Entry]) {
        let started = Self.now
        var live: [Item] = []
        for entry in entries {
            if isCancelled(entry.item) {
                metrics.recordCancelled()
                drop(entry.item, .cancelled)
            } else if let deadline = entry.deadline, deadline <= started {
                metrics.recordExpired()
                drop(entry.item, .deadlineExceeded)
            } else {
                live.append(entry.item)
            }
        }
        if !live.isEmpty {
            // The size is recorded first: answers go out from inside `run`, and a client that reads /metrics
            // right after its answer must see the batch that served it.
            metrics.recordBatch(stage: name, size: live.count)
            run(live)
            metrics.recordStageTime(stage: name, seconds: Double(Self.now - started) / 1e9)
        }
        let now = Self.now
        let actions = lock.withLock { scheduler.batchCompleted(count: entries.count, now: now) }
        perform(actions)
    }
}
