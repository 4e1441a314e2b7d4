import HTTP1

/// The life of one HTTP/1.1 connection as a pure state machine: bytes, handler results, write progress and
/// timer ticks go in; `Action`s come out for `HTTPConnection` to perform on the socket. No I/O and no clock of
/// its own (time arrives with each event), so every keep-alive, pipelining, back-pressure and timeout rule is
/// unit-tested without sockets or sleeping.
///
/// Rules it implements (IDs from http-reference §1): responses in request order, one handler at a time (F1);
/// reading pauses while `maxPipelinedRequests` complete requests wait or the output is above the high-water mark
/// (F9, P6); a request with `Connection: close` is the last one parsed (E7); a parse error is answered after the
/// responses owed before it (E8), then the connection half-closes and lingers (K1, K2); head, body, idle, write
/// and linger deadlines (G1–G3, F6); graceful drain (F12).
struct HTTPConnectionStateMachine {
    /// A complete request waiting for (or being served by) a handler.
    struct ReceivedRequest: Equatable {
        var head: HTTPRequestHead
        var body: [UInt8]
        var receivedAt: UInt64
    }

    enum Action: Equatable {
        /// Run the handler for this request; answer with `responseReady` / `streamStarted`.
        case dispatch(ReceivedRequest)
        /// Serialise this error (with `Connection: close`) and answer with `responseReady`.
        case respondError(HTTPServerError)
        /// The head asks for `100-continue`: the driver checks route and method, then calls `continueChecked`.
        case checkContinue(HTTPRequestHead)
        /// Append these bytes to the output and flush what the socket takes.
        case write([UInt8])
        /// Stop / restart reading the socket (disarm it, not just skip reads: EPOLLHUP cannot be masked, P4).
        case pauseReading
        case resumeReading
        /// Output is flushed and no more will come: `shutdown(SHUT_WR)` and keep reading to discard until EOF.
        case shutdownWrite
        /// Tear down now (cancel sources; the last cancel handler closes the fd, P1).
        case close
        /// The one per-connection timer: fire at this monotonic instant, or never (nil).
        case setTimer(UInt64?)
    }

    let configuration: HTTPServerConfiguration
    private(set) var parser: HTTPRequestParser

    // Input side.
    private var headStartedAt: UInt64?
    private var currentHead: HTTPRequestHead?
    private var currentBody: [UInt8] = []
    private var currentReceivedAt: UInt64 = 0
    private var lastBodyReadAt: UInt64 = 0
    /// No more requests are parsed: after `Connection: close`, a parse error, EOF, or the draining decision.
    private var inputFinished = false
    private var peerClosed = false
    private var pendingError: HTTPServerError?
    private var readPaused = false

    // Request side.
    private var waiting: [ReceivedRequest] = []
    /// A handler (or an owed error response) is producing the response now.
    private var inFlight = false
    private var inFlightCloses = false
    private var streaming = false
    private var requestsStarted = 0

    // Output side.
    private var outputPending = 0
    private var lastWriteProgressAt: UInt64 = 0
    private var lastActivityAt: UInt64
    private var closingAfterFlush = false
    private var lingeringSince: UInt64?
    private var draining = false
    private(set) var isClosed = false

    init(configuration: HTTPServerConfiguration, now: UInt64) {
        self.configuration = configuration
        self.parser = HTTPRequestParser(limits: configuration.limits)
        self.lastActivityAt = now
    }

    /// True while nothing is owed and nothing is half-received: the state in which a draining server may cut it.
    var isIdle: Bool {
        !inFlight && waiting.isEmpty && currentHead == nil && headStartedAt == nil && outputPending == 0
            && pendingError == nil
    }

    /// Timer to arm right after the connection opens.
    mutating func start() -> [Action] { [.setTimer(deadline())] }

    // MARK: input

    /// Bytes arrived from the socket.
    mutating func bytesRead(_ bytes: UnsafeRawBufferPointer, now: UInt64) -> [Action] {
        guard !isClosed else { return [] }
        lastActivityAt = now
        if lingeringSince != nil || inputFinished { return [] }  // discard: lingering, or after the last request
        var actions: [Action] = []
        let events = parser.feed(bytes)
        for event in events {
            guard !inputFinished else { break }
            switch event {
            case .head(let head):
                currentHead = head
                currentBody = []
                currentReceivedAt = now
                lastBodyReadAt = now
                headStartedAt = nil
                if head.expectsContinue, head.framing != .none, head.framing != .contentLength(0) {
                    actions.append(.checkContinue(head))
                }
            case .body(let piece):
                currentBody.append(contentsOf: piece)
                lastBodyReadAt = now
            case .end:
                guard let head = currentHead else { continue }
                waiting.append(ReceivedRequest(head: head, body: currentBody, receivedAt: currentReceivedAt))
                currentHead = nil
                currentBody = []
                if !head.keepAlive || draining { inputFinished = true }  // E7: nothing after this is processed
            case .error(let error):
                pendingError = HTTPServerError(error)
                inputFinished = true
                currentHead = nil
                currentBody = []
            }
        }
        if currentHead == nil, !inputFinished, headStartedAt == nil, !parser.isIdle { headStartedAt = now }
        if parser.isIdle, currentHead == nil { headStartedAt = nil }
        actions += advance(now: now)
        return actions
    }

    /// The peer closed its sending side (read returned 0). Requests already complete are still answered (F7);
    /// a half-received one is dropped without a response (C9).
    mutating func readEOF(now: UInt64) -> [Action] {
        guard !isClosed else { return [] }
        peerClosed = true
        if lingeringSince != nil { return close() }
        inputFinished = true
        currentHead = nil
        headStartedAt = nil
        if !inFlight, waiting.isEmpty, pendingError == nil, outputPending == 0 { return close() }
        var actions = advance(now: now)
        if !readPaused {
            readPaused = true
            actions.append(.pauseReading)  // EOF keeps the fd readable: stop listening or spin (P4)
        }
        return actions
    }

    /// The answer to `.checkContinue`: nil lets the upload proceed (a `100 Continue` is sent when no earlier
    /// response is still owed); an error is the final answer, sent without reading the body (H3).
    mutating func continueChecked(_ rejection: HTTPServerError?, head: HTTPRequestHead, now: UInt64) -> [Action] {
        guard !isClosed, currentHead == head else { return [] }
        if let rejection {
            pendingError = rejection
            inputFinished = true
            currentHead = nil
            currentBody = []
            return advance(now: now)
        }
        if !inFlight, waiting.isEmpty, outputPending == 0 {
            outputPending += Self.continueBytes.count
            return [.write(Self.continueBytes), .setTimer(deadline())]
        }
        return []
    }

    static let continueBytes = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    // MARK: responses

    /// Whether the response now owed must carry `Connection: close` (so the driver can say so in the head).
    var currentResponseCloses: Bool { inFlightCloses || draining }

    /// The handler's full response for the in-flight request, already serialised by the driver.
    mutating func responseReady(_ bytes: [UInt8], closes: Bool, now: UInt64) -> [Action] {
        guard !isClosed, inFlight, !streaming else { return [] }
        outputPending += bytes.count
        if outputPending == bytes.count { lastWriteProgressAt = now }
        inFlight = false
        var actions: [Action] = [.write(bytes)]
        if closes || inFlightCloses { finishAfterFlush() }
        actions += advance(now: now)
        return actions
    }

    /// Streaming: the head (and any first bytes) of a response whose body follows in `streamChunk`s.
    mutating func streamStarted(_ bytes: [UInt8], now: UInt64) -> [Action] {
        guard !isClosed, inFlight, !streaming else { return [] }
        streaming = true
        return enqueueOutput(bytes, now: now)
    }

    mutating func streamChunk(_ bytes: [UInt8], now: UInt64) -> [Action] {
        guard !isClosed, streaming else { return [] }
        return enqueueOutput(bytes, now: now)
    }

    mutating func streamEnded(_ bytes: [UInt8], closes: Bool, now: UInt64) -> [Action] {
        guard !isClosed, streaming else { return [] }
        streaming = false
        inFlight = false
        var actions = enqueueOutput(bytes, now: now)
        if closes || inFlightCloses { finishAfterFlush() }
        actions += advance(now: now)
        return actions
    }

    /// A streaming handler failed after its head went out: the only honest signal left is to cut the
    /// connection without the terminating chunk (K3).
    mutating func abort() -> [Action] { close() }

    private mutating func enqueueOutput(_ bytes: [UInt8], now: UInt64) -> [Action] {
        if outputPending == 0 { lastWriteProgressAt = now }
        outputPending += bytes.count
        return [.write(bytes), .setTimer(deadline())] + flowControl()
    }

    // MARK: output progress

    /// The driver wrote `count` bytes to the socket; `remaining` are still queued.
    mutating func wrote(_ count: Int, remaining: Int, now: UInt64) -> [Action] {
        guard !isClosed else { return [] }
        outputPending = remaining
        if count > 0 {
            lastWriteProgressAt = now
            lastActivityAt = now
        }
        var actions: [Action] = []
        if remaining == 0, closingAfterFlush, lingeringSince == nil {
            if peerClosed { return close() }
            lingeringSince = now
            actions.append(.shutdownWrite)
            if readPaused {
                readPaused = false
                actions.append(.resumeReading)
            }
            actions.append(.setTimer(deadline()))
            return actions
        }
        actions += advance(now: now)
        return actions
    }

    /// Writing failed (EPIPE, ECONNRESET): nothing more can be delivered.
    mutating func writeFailed() -> [Action] { close() }

    // MARK: time and shutdown

    mutating func timerFired(now: UInt64) -> [Action] {
        guard !isClosed else { return [] }
        guard let due = deadline(), now >= due else { return [.setTimer(deadline())] }
        if lingeringSince != nil || outputPending > 0 { return close() }  // linger over, or a stalled reader (G3)
        if inFlight || !waiting.isEmpty { return [.setTimer(deadline())] }  // handlers own their deadlines
        if currentHead != nil || headStartedAt != nil {
            // A request is stuck mid-head (G1) or mid-body (G2): 408, then close.
            pendingError = HTTPServerError(
                status: 408, code: "request_timeout", message: "the request was not received in time")
            inputFinished = true
            currentHead = nil
            headStartedAt = nil
            return advance(now: now)
        }
        return close()  // idle keep-alive: silent close (F6)
    }

    /// Graceful shutdown: idle connections close now; busy ones finish what they are serving, with
    /// `Connection: close`, and parse nothing new. A request partly received (head or body) is still read, within
    /// its deadline, and served: it was sent before the client could know of the drain.
    mutating func drain(now: UInt64) -> [Action] {
        guard !isClosed else { return [] }
        draining = true
        if isIdle, !closingAfterFlush { return close() }
        if currentHead == nil, headStartedAt == nil { inputFinished = true }
        return advance(now: now)
    }

    // MARK: internals

    private mutating func finishAfterFlush() {
        closingAfterFlush = true
        inputFinished = true
        waiting.removeAll()
        pendingError = nil
        currentHead = nil
        headStartedAt = nil
    }

    private mutating func close() -> [Action] {
        guard !isClosed else { return [] }
        isClosed = true
        return [.close]
    }

    /// Starts the next handler or the owed error response, then settles flow control and the timer.
    private mutating func advance(now: UInt64) -> [Action] {
        var actions: [Action] = []
        if !inFlight, !closingAfterFlush {
            if !waiting.isEmpty {
                let next = waiting.removeFirst()
                inFlight = true
                requestsStarted += 1
                inFlightCloses = !next.head.keepAlive || draining
                    || requestsStarted >= configuration.maxRequestsPerConnection
                if inFlightCloses {
                    inputFinished = true
                    waiting.removeAll()
                    currentHead = nil
                    headStartedAt = nil
                }
                actions.append(.dispatch(next))
            } else if let error = pendingError {
                pendingError = nil
                inFlight = true
                inFlightCloses = true
                actions.append(.respondError(error))
            } else if peerClosed, outputPending == 0 {
                return actions + close()
            } else if draining, isIdle {
                return actions + close()
            }
        }
        actions += flowControl()
        actions.append(.setTimer(deadline()))
        return actions
    }

    private mutating func flowControl() -> [Action] {
        let shouldPause = waiting.count >= configuration.maxPipelinedRequests
            || outputPending > configuration.outputHighWaterMark
            || (inputFinished && lingeringSince == nil && !peerClosed)
        if shouldPause, !readPaused, !peerClosed {
            readPaused = true
            return [.pauseReading]
        }
        if !shouldPause, readPaused, !peerClosed {
            readPaused = false
            return [.resumeReading]
        }
        return []
    }

    /// The single deadline that applies now (P12: one timer per connection, rescheduled).
    func deadline() -> UInt64? {
        if isClosed { return nil }
        if let since = lingeringSince { return since &+ configuration.lingerTimeout.nanoseconds }
        if outputPending > 0 { return lastWriteProgressAt &+ configuration.writeTimeout.nanoseconds }
        if inFlight || !waiting.isEmpty { return nil }
        if currentHead != nil { return lastBodyReadAt &+ configuration.bodyTimeout.nanoseconds }
        if let since = headStartedAt { return since &+ configuration.headerTimeout.nanoseconds }
        if closingAfterFlush || pendingError != nil { return nil }
        return lastActivityAt &+ configuration.idleTimeout.nanoseconds
    }
}
