@testable import Inference
import Testing

@Suite struct BatchSchedulerTests {
    typealias Scheduler = BatchScheduler<String>
    static let ms: UInt64 = 1_000_000

    static func scheduler(batch: Int = 4, waitMs: Int64 = 10, capacity: Int = 8) -> Scheduler {
        Scheduler(configuration: .init(maxBatchSize: batch, maxBatchWait: .milliseconds(waitMs), queueCapacity: capacity))
    }

    static func runs(_ actions: [Scheduler.Action]) -> [[String]] {
        actions.compactMap { if case .run(let batch) = $0 { return batch.map(\.item) } else { return nil } }
    }

    static func timer(_ actions: [Scheduler.Action]) -> UInt64?? {
        for action in actions.reversed() { if case .setTimer(let t) = action { return t } }
        return nil
    }

    @Test func aLoneRequestWaitsForCompanionsUntilTheMaxWait() {
        var scheduler = Self.scheduler()
        let (admission, actions) = scheduler.submit("a", deadline: nil, now: 0)
        #expect(admission == .queued(.init(id: 1)))
        #expect(Self.runs(actions).isEmpty)
        #expect(Self.timer(actions) == .some(10 * Self.ms))
        #expect(Self.runs(scheduler.timerFired(now: 10 * Self.ms)) == [["a"]])
    }

    @Test func aFullBatchStartsAtOnce() {
        var scheduler = Self.scheduler(batch: 3)
        _ = scheduler.submit("a", deadline: nil, now: 0)
        _ = scheduler.submit("b", deadline: nil, now: 1)
        let (_, actions) = scheduler.submit("c", deadline: nil, now: 2)
        #expect(Self.runs(actions) == [["a", "b", "c"]])
        #expect(scheduler.isBusy)
    }

    @Test func theWaitIsMeasuredFromTheOldestRequest() {
        var scheduler = Self.scheduler(batch: 8, waitMs: 10)
        _ = scheduler.submit("a", deadline: nil, now: 0)
        let (_, later) = scheduler.submit("b", deadline: nil, now: 9 * Self.ms)
        #expect(Self.timer(later) == .some(10 * Self.ms))
        #expect(Self.runs(scheduler.timerFired(now: 10 * Self.ms)) == [["a", "b"]])
    }

    @Test func requestsArrivingDuringABatchFormTheNextOneWhenItCompletes() {
        var scheduler = Self.scheduler(batch: 2, waitMs: 10)
        _ = scheduler.submit("a", deadline: nil, now: 0)
        _ = scheduler.submit("b", deadline: nil, now: 0)
        let (_, whileBusy) = scheduler.submit("c", deadline: nil, now: 1)
        #expect(Self.runs(whileBusy).isEmpty)
        _ = scheduler.submit("d", deadline: nil, now: 2)
        #expect(Self.runs(scheduler.batchCompleted(count: 2, now: 3)) == [["c", "d"]])
    }

    @Test func aFullQueueRejectsWithRetryAfterFromTheDrainRate() {
        var scheduler = Self.scheduler(batch: 2, waitMs: 0, capacity: 2)
        _ = scheduler.submit("a", deadline: nil, now: 0)  // runs at once (wait 0)
        _ = scheduler.batchCompleted(count: 1, now: 500 * Self.ms)  // 2 items/s
        _ = scheduler.submit("b", deadline: nil, now: 500 * Self.ms)  // running
        _ = scheduler.submit("c", deadline: nil, now: 500 * Self.ms)
        _ = scheduler.submit("d", deadline: nil, now: 500 * Self.ms)
        let (admission, _) = scheduler.submit("e", deadline: nil, now: 500 * Self.ms)
        guard case .rejected(let seconds) = admission else {
            Issue.record("expected a rejection, got \(admission)")
            return
        }
        #expect(scheduler.queueDepth == 2)
        #expect(seconds == 1)  // 2 waiting / 2 per second
    }

    @Test func expiredRequestsNeverReachTheModel() {
        var scheduler = Self.scheduler(batch: 4, waitMs: 10)
        _ = scheduler.submit("late", deadline: 5 * Self.ms, now: 0)
        _ = scheduler.submit("ok", deadline: 100 * Self.ms, now: 0)
        let actions = scheduler.timerFired(now: 10 * Self.ms)
        let expired = actions.compactMap { if case .expired(let e) = $0 { return e.map(\.item) } else { return nil } }
        #expect(expired == [["late"]])
        #expect(Self.runs(actions) == [["ok"]])
    }

    @Test func theTimerAlsoWakesForDeadlinesWhileBusy() {
        var scheduler = Self.scheduler(batch: 1, waitMs: 0)
        _ = scheduler.submit("a", deadline: nil, now: 0)
        let (_, actions) = scheduler.submit("b", deadline: 50 * Self.ms, now: 1)
        #expect(Self.timer(actions) == .some(50 * Self.ms))
    }

    @Test func cancelledRequestsLeaveTheQueue() {
        var scheduler = Self.scheduler(batch: 4, waitMs: 10)
        let (admission, _) = scheduler.submit("gone", deadline: nil, now: 0)
        _ = scheduler.submit("stays", deadline: nil, now: 0)
        guard case .queued(let ticket) = admission else { return }
        #expect(scheduler.cancel(ticket, now: 1).removed)
        #expect(!scheduler.cancel(ticket, now: 1).removed)
        #expect(Self.runs(scheduler.timerFired(now: 10 * Self.ms)) == [["stays"]])
    }

    @Test func aRunningBatchTakesMatchingWaitingRequestsOldestFirstButNotExpiredOnes() {
        var scheduler = Self.scheduler(batch: 1, capacity: 8)
        let (_, first) = scheduler.submit("run", deadline: nil, now: 0)
        #expect(Self.runs(first) == [["run"]])
        _ = scheduler.submit("x1", deadline: nil, now: 1)
        _ = scheduler.submit("y1", deadline: nil, now: 2)
        _ = scheduler.submit("x-late", deadline: 5, now: 2)
        _ = scheduler.submit("x2", deadline: nil, now: 3)
        _ = scheduler.submit("x3", deadline: nil, now: 4)
        let taken = scheduler.takeWaiting(limit: 2, now: 5) { $0.hasPrefix("x") }
        #expect(taken.map(\.item) == ["x1", "x2"])
        #expect(scheduler.queueDepth == 3)
        #expect(scheduler.takeWaiting(limit: 0, now: 5) { _ in true }.isEmpty)
        let after = scheduler.batchCompleted(count: 1, now: 6)
        let expired = after.compactMap { if case .expired(let e) = $0 { return e.map(\.item) } else { return nil } }
        #expect(expired == [["x-late"]])
        #expect(Self.runs(after) == [["y1"]])
    }
}

