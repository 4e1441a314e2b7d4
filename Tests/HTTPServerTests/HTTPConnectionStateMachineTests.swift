import HTTP1
@testable import HTTPServer
import Testing
import TestSupport

/// The connection rules without sockets or sleeping: time is a number handed to each event.
@Suite struct HTTPConnectionStateMachineTests {
    typealias Machine = HTTPConnectionStateMachine
    static let second: UInt64 = 1_000_000_000

    static func machine(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in }) -> Machine {
        var configuration = HTTPServerConfiguration()
        configure(&configuration)
        return Machine(configuration: configuration, now: 0)
    }

    static func feed(_ machine: inout Machine, _ text: String, now: UInt64 = 0) -> [Machine.Action] {
        Array(text.utf8).withUnsafeBytes { machine.bytesRead($0, now: now) }
    }

    static func dispatched(_ actions: [Machine.Action]) -> [String] {
        actions.compactMap { if case .dispatch(let request) = $0 { return request.head.path } else { return nil } }
    }

    @Test func anIdleConnectionClosesAtTheIdleDeadline() {
        var machine = Self.machine { $0.idleTimeout = .seconds(75) }
        #expect(machine.start() == [.setTimer(75 * Self.second)])
        #expect(machine.timerFired(now: 74 * Self.second) == [.setTimer(75 * Self.second)])
        #expect(machine.timerFired(now: 75 * Self.second) == [.close])
    }

    @Test func aPartialHeadGets408AtTheHeaderDeadline() {
        var machine = Self.machine { $0.headerTimeout = .seconds(15) }
        let actions = Self.feed(&machine, "GET / HT", now: Self.second)
        #expect(actions.last == .setTimer(16 * Self.second))
        let timeout = machine.timerFired(now: 16 * Self.second)
        #expect(timeout.contains { if case .respondError(let e) = $0 { return e.status == 408 } else { return false } })
    }

    @Test func pipelinedRequestsAreDispatchedOneAtATime() {
        var machine = Self.machine()
        let first = Self.feed(&machine, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(Self.dispatched(first) == ["/a"])
        let second = machine.responseReady(Array("r1".utf8), closes: false, now: 1)
        #expect(Self.dispatched(second) == ["/b"])
        #expect(second.first == .write(Array("r1".utf8)))
    }

    @Test func readingPausesWhenTooManyRequestsWait() {
        var machine = Self.machine { $0.maxPipelinedRequests = 2 }
        let burst = String(repeating: "GET /x HTTP/1.1\r\nHost: x\r\n\r\n", count: 4)
        let actions = Self.feed(&machine, burst)
        #expect(actions.contains(.pauseReading))
        _ = machine.responseReady([1], closes: false, now: 1)
        let next = machine.responseReady([2], closes: false, now: 2)
        #expect(next.contains(.resumeReading))
    }

    @Test func connectionCloseStopsParsingAndLingersAfterTheResponse() {
        var machine = Self.machine { $0.lingerTimeout = .seconds(3) }
        let actions = Self.feed(&machine, "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(Self.dispatched(actions) == ["/a"])
        #expect(machine.currentResponseCloses)
        let response = machine.responseReady([1, 2, 3], closes: true, now: 1)
        #expect(Self.dispatched(response).isEmpty)
        let flushed = machine.wrote(3, remaining: 0, now: 1)
        #expect(flushed.contains(.shutdownWrite))
        #expect(flushed.last == .setTimer(1 + 3 * Self.second))
        #expect(machine.timerFired(now: 1 + 3 * Self.second) == [.close])
    }

    @Test func aParseErrorIsAnsweredAfterTheResponsesOwedBeforeIt() {
        var machine = Self.machine()
        let actions = Self.feed(&machine, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nBAD\r\n\r\n")
        #expect(Self.dispatched(actions) == ["/a"])
        #expect(!actions.contains { if case .respondError = $0 { return true } else { return false } })
        let after = machine.responseReady([1], closes: false, now: 1)
        #expect(after.contains { if case .respondError(let e) = $0 { return e.status == 400 } else { return false } })
    }

    @Test func aStalledWriterIsClosedAtTheWriteDeadline() {
        var machine = Self.machine { $0.writeTimeout = .seconds(60) }
        _ = Self.feed(&machine, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = machine.responseReady([UInt8](repeating: 0, count: 100), closes: false, now: Self.second)
        let partial = machine.wrote(10, remaining: 90, now: 2 * Self.second)
        #expect(partial.last == .setTimer(62 * Self.second))
        #expect(machine.timerFired(now: 62 * Self.second) == [.close])
    }

    @Test func handlersAreNotCutByConnectionTimers() {
        // G5: a long inference has its own deadline; the idle and body timers do not apply while it runs.
        var machine = Self.machine()
        let actions = Self.feed(&machine, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(actions.last == .setTimer(nil))
    }

    @Test func drainClosesIdleConnectionsAndMarksBusyOnesToClose() {
        var idle = Self.machine()
        #expect(idle.drain(now: 0) == [.close])

        var busy = Self.machine()
        _ = Self.feed(&busy, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(!busy.drain(now: 0).contains(.close))
        #expect(busy.currentResponseCloses)
    }

    @Test func drainLetsAHalfReceivedHeadArriveAndAnswersItWithClose() {
        // F12: a head partly read when the drain begins is still read and served (with Connection: close), not
        // left unread until the header deadline answers 408. Nothing after it is parsed.
        var machine = Self.machine()
        _ = Self.feed(&machine, "GET /a HT")
        let drain = machine.drain(now: 1)
        #expect(!drain.contains(.close))
        #expect(!drain.contains(.pauseReading))
        let rest = Self.feed(&machine, "TP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", now: 2)
        #expect(Self.dispatched(rest) == ["/a"])
        #expect(rest.contains(.pauseReading))
        #expect(machine.currentResponseCloses)
    }

    @Test func eofAfterACompleteRequestStillGetsTheResponse() {
        // F7
        var machine = Self.machine()
        _ = Self.feed(&machine, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        let eof = machine.readEOF(now: 1)
        #expect(!eof.contains(.close))
        let response = machine.responseReady([1], closes: false, now: 2)
        #expect(response.contains(.write([1])))
        #expect(machine.wrote(1, remaining: 0, now: 3).contains(.close))
    }

    @Test func eofMidRequestClosesWithoutAResponse() {
        // C9
        var machine = Self.machine()
        _ = Self.feed(&machine, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
        #expect(machine.readEOF(now: 1) == [.close])
    }

    @Test func expectContinueWritesContinueOnlyWhenNothingIsOwed() {
        var machine = Self.machine()
        let actions = Self.feed(&machine, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        guard case .checkContinue(let head) = actions.first else {
            Issue.record("expected checkContinue, got \(actions)")
            return
        }
        let allowed = machine.continueChecked(nil, head: head, now: 1)
        #expect(allowed.first == .write(Machine.continueBytes))
    }

    @Test func theLastRequestAllowedOnAConnectionCloses() {
        var machine = Self.machine { $0.maxRequestsPerConnection = 2 }
        _ = Self.feed(&machine, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(!machine.currentResponseCloses)
        _ = machine.responseReady([1], closes: false, now: 1)
        _ = machine.wrote(1, remaining: 0, now: 1)
        _ = Self.feed(&machine, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(machine.currentResponseCloses)
    }
}
