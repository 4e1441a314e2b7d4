import CLinux
import Dispatch
import HTTP1
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Performs a connection's `HTTPConnectionStateMachine` actions on a non-blocking socket that lives in the epoll
/// set of one of the server's `IOLoop`s, with one Dispatch timer, all on that loop's serial queue. The socket
/// is armed for the directions wanted (reading unless paused, writing while output waits on EAGAIN), and the
/// epoll set changes only when they do; the fd is closed only after it left the epoll set, and the connection
/// is released only once the timer's cancel handler ran.
///
/// With TLS the same readiness carries OpenSSL's non-blocking calls: the handshake runs first (bounded by
/// `tlsHandshakeTimeout`), SSL_read/SSL_write report WANT_READ/WANT_WRITE, which arm reading or writing
/// whichever call asked, and a graceful close sends close_notify before the TCP half-close.
final class HTTPConnection: @unchecked Sendable {
    let id: UInt64
    let fd: Int32
    let loop: IOLoop
    var queue: DispatchQueue { loop.queue }
    let remoteAddress: String
    /// Peer address bytes (4 or 16), for the trusted-proxy check.
    let peer: [UInt8]
    /// The peer's address as text, formatted once (inet_ntop is a sprintf) rather than per request.
    let peerText: String
    private unowned let server: HTTPServer
    private let tls: TLSSession?
    private let clock: any ServerClock

    // Confined to `queue`.
    private var machine: HTTPConnectionStateMachine
    private var timer: DispatchSourceTimer?
    /// Reading / writing not wanted now (the names of the source-based design: suspended = not armed).
    private var readSuspended = true
    private var writeSuspended = true
    /// The epoll interest armed in the kernel (level-triggered); nil when nothing is wanted (armed one-shot for
    /// hang-up only, or disarmed by that one report).
    private var armedInterest: UInt32?
    /// In the epoll set (until teardown).
    private var registered = false
    /// Handling a readiness event: interest changes are settled once, when it ends.
    private var inEvent = false
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var torndown = false
    private var readBuffer: [UInt8]
    /// The request being served. The responder is held weakly: if a handler drops it without answering, its
    /// deinit reports the abandonment and the client gets a 500 instead of a connection that hangs forever.
    private var current: InFlight?
    /// The route the router matched for `current` (nil when it matched none), so the access log and the
    /// metrics need no second lookup.
    private var currentRoute: String?
    private var nextToken: UInt64 = 0
    private var streamChunked = false
    private var streaming = false
    private var bytesIn = 0
    private var bytesOut = 0
    /// TLS: still handshaking (HTTP has not started; the timer holds the handshake deadline).
    private var handshaking = false
    /// TLS: the first byte has been looked at (a TLS record, or a plain HTTP request sent to the HTTPS port).
    private var sniffedFirstByte = false
    /// TLS: a read is waiting for the socket to become writable, or a write for it to become readable.
    private var readWantsWrite = false
    private var writeWantsRead = false
    /// The connection ends without a clean end of stream: no close_notify, so a close-delimited or chunked
    /// body that was cut short cannot look complete (K3).
    private var abortive = false

    init(id: UInt64, fd: Int32, remoteAddress: String, peer: [UInt8], server: HTTPServer, loop: IOLoop,
         clock: any ServerClock) {
        self.id = id
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.peer = peer
        self.peerText = IPAddressRange.format(IPAddressRange.unmapped(peer)) ?? remoteAddress
        self.server = server
        self.tls = server.tls.flatMap { TLSSession(context: $0, fd: fd) }
        self.clock = clock
        self.loop = loop
        self.machine = HTTPConnectionStateMachine(configuration: server.configuration, now: clock.now())
        self.readBuffer = [UInt8](repeating: 0, count: max(1024, server.configuration.readChunkSize))
    }

    /// True when the caller runs on this connection's queue (its loop's, shared with the loop's other
    /// connections).
    var isOnQueue: Bool { loop.isOnQueue }

    func start() {
        loop.async { [self] in
            let timer = DispatchSource.makeTimerSource(queue: queue)
            // Holds the connection until the timer is gone; then the server forgets it.
            timer.setCancelHandler { [self] in timerCancelled() }
            timer.setEventHandler { [weak self] in self?.timerFired() }
            self.timer = timer
            timer.schedule(deadline: .distantFuture)
            timer.activate()
            guard loop.register(self) else {
                abortive = true
                return teardown()  // epoll_ctl refused (out of memory): nothing can be served
            }
            registered = true
            readSuspended = false
            updateInterest()
            if server.tls != nil {
                guard tls != nil else { return teardown() }  // SSL_new failed: out of memory
                handshaking = true
                let deadline = clock.now() &+ server.configuration.tlsHandshakeTimeout.nanoseconds
                armedDeadline = deadline
                schedule(deadline)
                return
            }
            perform(machine.start())
        }
    }

    /// Advances the TLS handshake; on completion HTTP starts as on a plain connection.
    private func continueHandshake() {
        guard let tls else { return }
        if !sniffedFirstByte {
            var first: UInt8 = 0
            let count = recv(fd, &first, 1, Int32(MSG_PEEK))
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
            sniffedFirstByte = true
            // A TLS handshake record starts with 0x16; an uppercase letter is an HTTP method (http:// to an
            // https:// port): say so in plain HTTP, as nginx does, instead of a failed handshake.
            if count == 1, first >= 0x41, first <= 0x5A { return answerPlainHTTP() }
        }
        switch tls.handshake() {
        case .transferred:
            handshaking = false
            setWriteArmed(false)
            perform(machine.start())
            readable()  // the first request may have come with the handshake's last flight
        case .wantRead:
            setWriteArmed(false)
        case .wantWrite:
            setWriteArmed(true)
        case .endOfStream, .failed:
            abortive = true
            teardown()  // a port scan, garbage, an unsupported version or cipher: nothing to answer
        }
    }

    /// The one plain-text answer on a TLS port: a 400 naming the mistake, then a close.
    private func answerPlainHTTP() {
        let error = HTTPServerError(status: 400, code: "https_required",
                                    message: "this port speaks HTTPS: use an https:// URL")
        let requestID = server.generateRequestID()
        var response = error.response(requestID: requestID)
        response.headers.replaceOrAdd(name: "X-Request-Id", value: requestID)
        let bytes = ResponseSerializer.complete(response, context: .init(
            method: .GET, version: .http1_1, closes: true, date: server.dates.current()))
        server.logProtocolError(error, remote: remoteAddress, requestID: requestID)
        server.metrics.recordRequest(route: "(protocol)", method: "-", status: error.status, seconds: 0)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        shutdown(fd, Int32(SHUT_WR))
        // Discard what the client already sent, so the close is a FIN and not a reset that could destroy the
        // answer before the client reads it (K2, in miniature: the request is small).
        var scratch = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<Self.plainHTTPDiscardReads {
            guard scratch.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0
            else { break }
        }
        abortive = true
        teardown()
    }

    /// Reads of 4 KiB discarded after the plain-HTTP answer: a request head fits in the house limit of 32 KiB.
    static let plainHTTPDiscardReads = 8

    private func setWriteArmed(_ armed: Bool) {
        guard writeSuspended == armed else { return }
        writeSuspended = !armed
        updateInterest()
    }

    /// A readiness report from the loop. Hang-up and error go to whichever
    /// directions are wanted: the read or write then reports what happened.
    func ready(_ events: UInt32) {
        guard !torndown else { return }
        inEvent = true
        let trouble = events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
        if !readSuspended, trouble || events & EPOLLIN.rawValue != 0 { readable() }
        if !torndown, !writeSuspended, trouble || events & EPOLLOUT.rawValue != 0 { writable() }
        inEvent = false
        updateInterest()
    }

    /// Arms the socket for what is wanted now, when that changed. With nothing wanted it is armed for one
    /// report of hang-up at most, so a hung-up socket that nobody reads is not reported again and again (P4).
    private func updateInterest() {
        guard !inEvent, !torndown, registered else { return }
        var wanted: UInt32 = 0
        if !readSuspended { wanted |= EPOLLIN.rawValue }
        if !writeSuspended { wanted |= EPOLLOUT.rawValue }
        if armedInterest == wanted || (armedInterest == nil && wanted == 0) { return }
        loop.arm(self, interest: wanted)
        armedInterest = wanted == 0 ? nil : wanted
    }

    /// One non-blocking read from the socket or through TLS.
    private func transportRead() -> TransportResult {
        if let tls { return readBuffer.withUnsafeMutableBytes { tls.read(into: $0) } }
        while true {
            let count = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { return .transferred(count) }
            if count == 0 { return .endOfStream }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wantRead
            default: return .failed  // ECONNRESET and friends: nothing left to say to this peer
            }
        }
    }

    /// One non-blocking write of `bytes` (a prefix may be taken).
    private func transportWrite(_ bytes: UnsafeRawBufferPointer) -> TransportResult {
        if let tls { return tls.write(bytes) }
        while true {
            let count = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return .transferred(count) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wantWrite
            default: return .failed  // EPIPE / ECONNRESET: SIGPIPE is suppressed by MSG_NOSIGNAL (P7)
            }
        }
    }

    // MARK: events

    private func readable() {
        guard !torndown else { return }
        if handshaking { return continueHandshake() }
        if writeWantsRead {
            writeWantsRead = false
            flush()
            guard !torndown else { return }
        }
        switch transportRead() {
        case .transferred(let count):
            bytesIn += count
            server.metrics.addBytesIn(count)
            let now = clock.now()
            let actions = readBuffer.withUnsafeBytes { raw in
                machine.bytesRead(UnsafeRawBufferPointer(rebasing: raw[0..<count]), now: now)
            }
            perform(actions)
            scheduleBufferedPlaintext()
        case .endOfStream:
            // The client is gone (or half-closed): queued work for it can be dropped (F8). A handler that still
            // answers gets its response written before the connection closes (F7).
            current?.responder?.connectionClosed()
            perform(machine.readEOF(now: clock.now()))
        case .wantRead:
            return
        case .wantWrite:
            readWantsWrite = true  // TLS: the read must first send (e.g. a key update answer)
            setWriteArmed(true)
        case .failed:
            abortive = true
            teardown()
        }
    }

    /// TLS can hold decrypted bytes the socket will not announce again; read them while reading is wanted.
    private func scheduleBufferedPlaintext() {
        guard let tls, !torndown, !readSuspended, tls.hasBufferedPlaintext else { return }
        loop.async { [weak self] in self?.readable() }
    }

    private func writable() {
        guard !torndown else { return }
        if handshaking { return continueHandshake() }
        if readWantsWrite {
            readWantsWrite = false
            readable()
            guard !torndown else { return }
        }
        flush()
    }

    private func timerFired() {
        armedDeadline = nil  // one-shot: fired
        guard !torndown else { return }
        if handshaking {
            abortive = true
            return teardown()  // handshake took too long (a silent or trickling client)
        }
        perform(machine.timerFired(now: clock.now()))
    }

    /// Server shutdown: finish what is owed, then close (F12).
    func drain() {
        loop.async { [self] in
            guard !torndown else { return }
            perform(machine.drain(now: clock.now()))
        }
    }

    /// Drain deadline passed: cut the connection whatever it is doing.
    func forceClose() {
        loop.async { [self] in teardown() }
    }

    // MARK: actions

    /// Actions wait here while an earlier batch is being performed, so a handler answering synchronously (or a
    /// flush completing) never lets a stale action (e.g. an old timer) run after a newer one.
    private var pendingActions: [HTTPConnectionStateMachine.Action] = []
    private var performing = false

    /// The deadline the last `.setTimer` of the batch being performed asked for; applied once the batch is done.
    private var wantedDeadline: UInt64??
    /// The instant the dispatch timer is armed for (nil: not armed, or it has fired).
    private var armedDeadline: UInt64?

    private func perform(_ actions: [HTTPConnectionStateMachine.Action]) {
        guard !performing else {
            pendingActions.append(contentsOf: actions)
            return
        }
        performing = true
        defer {
            performing = false
            if let wanted = wantedDeadline, !torndown {
                wantedDeadline = nil
                rearmTimer(for: wanted)
            }
        }
        // The batch is walked in place; actions produced while performing it (a handler answering at once, a
        // flush completing) wait in `pendingActions` and run after it, in order.
        var batch = actions
        var next = 0
        while true {
            if next == batch.count {
                if pendingActions.isEmpty { break }
                swap(&batch, &pendingActions)
                pendingActions.removeAll(keepingCapacity: true)
                next = 0
                continue
            }
            let action = batch[next]
            next += 1
            guard !torndown else {
                pendingActions.removeAll()
                return
            }
            switch action {
            case .dispatch(let received):
                dispatch(received)
            case .respondError(let error):
                let requestID = current?.request.requestID ?? server.generateRequestID()
                let method = current?.request.method ?? .GET
                let version = current?.request.head.version ?? .http1_1
                current = nil
                let response = error.response(requestID: requestID)
                server.logProtocolError(error, remote: remoteAddress, requestID: requestID)
                server.metrics.recordRequest(route: "(protocol)", method: "-", status: error.status, seconds: 0)
                var withID = response
                withID.headers.replaceOrAdd(name: "X-Request-Id", value: requestID)
                let bytes = ResponseSerializer.complete(withID, context: .init(
                    method: method == .HEAD ? .HEAD : .GET, version: version, closes: true, date: server.dates.current()))
                perform(machine.responseReady(bytes, closes: true, now: clock.now()))
            case .checkContinue(let head):
                let rejection = server.preflight(head)
                perform(machine.continueChecked(rejection, head: head, now: clock.now()))
            case .write(let bytes):
                output.append(contentsOf: bytes)
                flush()
            case .pauseReading:
                if !readSuspended {
                    readSuspended = true
                    updateInterest()
                }
            case .resumeReading:
                if readSuspended {
                    readSuspended = false
                    updateInterest()
                    scheduleBufferedPlaintext()
                }
            case .shutdownWrite:
                tls?.sendCloseNotify()  // TLS's own end of stream first, then TCP's (RFC 8446 §6.1)
                shutdown(fd, Int32(SHUT_WR))
            case .close:
                teardown()
            case .setTimer(let deadline):
                wantedDeadline = .some(deadline)  // the timer runs on this queue: only the batch's last one counts
            }
        }
    }

    /// Slack when the wanted deadline is earlier than the armed one: within it the timer is left alone.
    static let timerTolerance: UInt64 = 50_000_000  // ns; the timer's leeway, so no precision is lost

    /// Re-arms the timer only when it would otherwise fire too late. Each `schedule` costs libdispatch a
    /// reconfiguration on its manager thread (an eventfd wake-up), and most requests only push the deadline
    /// later; a timer that fires early is harmless, because the state machine re-checks its deadline and asks
    /// for the real one (`timerFired`). A nil deadline leaves the timer armed for the same reason.
    private func rearmTimer(for deadline: UInt64?) {
        guard let deadline else { return }
        if let armed = armedDeadline, deadline &+ Self.timerTolerance >= armed { return }
        armedDeadline = deadline
        schedule(deadline)
    }

    private func schedule(_ deadline: UInt64) {
        guard let timer else { return }
        let now = clock.now()
        let delay = deadline > now ? deadline - now : 0
        timer.schedule(deadline: .now() + .nanoseconds(Int(min(delay, UInt64(Int.max / 2)))),
                       leeway: .nanoseconds(Int(Self.timerTolerance)))
    }

    /// Writes as much queued output as the socket takes; arms the write source for the rest (P6).
    private func flush() {
        var wroteNow = 0
        var waitForReadable = false
        while outputOffset < output.count {
            let result = output.withUnsafeBytes { raw in
                transportWrite(UnsafeRawBufferPointer(rebasing: raw[outputOffset...]))
            }
            if case .transferred(let n) = result, n > 0 {
                outputOffset += n
                wroteNow += n
                continue
            }
            if result == .wantWrite || result == .transferred(0) { break }
            if result == .wantRead {
                // TLS: the write waits for the peer's bytes; the read source (never paused by us for long while
                // output is pending) calls flush again.
                writeWantsRead = true
                waitForReadable = true
                break
            }
            abortive = true
            perform(machine.writeFailed())
            return
        }
        if wroteNow > 0 {
            bytesOut += wroteNow
            server.metrics.addBytesOut(wroteNow)
        }
        let remaining = output.count - outputOffset
        if remaining == 0 {
            output.removeAll(keepingCapacity: output.capacity <= 256 * 1024)
            outputOffset = 0
            setWriteArmed(false)
        } else {
            if outputOffset > 64 * 1024 {
                output.removeFirst(outputOffset)
                outputOffset = 0
            }
            setWriteArmed(!waitForReadable)
            if waitForReadable, readSuspended {
                // The state machine may have paused reading; TLS needs to read to make write progress.
                readSuspended = false
                updateInterest()
            }
        }
        perform(machine.wrote(wroteNow, remaining: remaining, now: clock.now()))
    }

    // MARK: handlers

    private func dispatch(_ received: HTTPConnectionStateMachine.ReceivedRequest) {
        let (request, mount) = server.makeRequest(
            received.head, body: received.body, peer: peer, peerText: peerText, remoteAddress: remoteAddress,
            receivedAt: received.receivedAt)
        nextToken += 1
        let responder = HTTPResponder(connection: self, requestID: request.requestID, token: nextToken)
        current = InFlight(request: request, responder: responder, token: nextToken)
        currentRoute = nil
        switch mount {
        case .inside:
            server.handle(request, responder: responder) { [self] route in currentRoute = route }
        case .redirect(let location):
            // 308 keeps the method; the body says where, for clients that show it.
            let headers = HTTPHeaders([("Location", location), ("Content-Type", "text/plain; charset=utf-8")])
            responder.send(HTTPServerResponse(status: 308, headers: headers, body: Array(location.utf8)))
        case .outside:
            responder.send(.notFound(request.path))
        }
    }

    /// A responder was released without answering: the handler lost it. Answer 500 rather than hang.
    func responderAbandoned(token: UInt64) {
        guard !torndown, let current, current.token == token else { return }
        server.logger.error("handler released its responder without answering", metadata: [
            "request_id": .string(current.request.requestID), "path": .string(String(current.request.path.prefix(256))),
        ])
        let error = HTTPServerError(status: 500, code: "internal_error", message: "the request was not answered")
        if streaming {
            self.current = nil
            abortive = true
            perform(machine.abort())
        } else {
            complete(error.response(requestID: current.request.requestID), token: token)
        }
    }

    /// Called on `queue` by the responder.
    func complete(_ response: HTTPServerResponse, token: UInt64) {
        guard !torndown, let current, current.token == token else { return }
        let request = current.request
        let finished = server.finish(response, for: request)
        let closes = machine.currentResponseCloses || Self.asksToClose(finished.headers)
        let bytes = ResponseSerializer.complete(finished, context: .init(
            method: request.method, version: request.head.version, closes: closes, date: server.dates.current()))
        self.current = nil
        server.logAccess(request, route: currentRoute, status: finished.status, bytes: finished.body.count,
                         now: clock.now())
        perform(machine.responseReady(bytes, closes: closes, now: clock.now()))
    }

    func startStream(_ response: HTTPServerResponse, token: UInt64) {
        guard !torndown, let current, current.token == token, !streaming else { return }
        streaming = true
        var finished = server.finish(response, for: current.request, compress: false)
        // A proxy in front (nginx) must pass a stream through as it comes, not buffer it (server-sent events).
        if !finished.headers.contains("X-Accel-Buffering") {
            finished.headers.add(name: "X-Accel-Buffering", value: "no")
        }
        let (bytes, chunked) = ResponseSerializer.streamHead(finished, context: .init(
            method: current.request.method, version: current.request.head.version,
            closes: machine.currentResponseCloses, date: server.dates.current()))
        streamChunked = chunked
        server.logAccess(current.request, route: currentRoute, status: finished.status, bytes: -1, now: clock.now())
        perform(machine.streamStarted(bytes, now: clock.now()))
    }

    func streamChunk(_ bytes: [UInt8], token: UInt64) {
        guard !torndown, let current, current.token == token, streaming, !bytes.isEmpty else { return }
        perform(machine.streamChunk(streamChunked ? HTTPChunkedEncoder.chunk(bytes) : bytes, now: clock.now()))
    }

    func endStream(token: UInt64, abort: Bool) {
        guard !torndown, let current, current.token == token, streaming else { return }
        self.current = nil
        streaming = false
        if abort {
            abortive = true
            perform(machine.abort())
            return
        }
        let closes = machine.currentResponseCloses || !streamChunked
        perform(machine.streamEnded(streamChunked ? HTTPChunkedEncoder.last : [], closes: closes, now: clock.now()))
    }

    private static func asksToClose(_ headers: HTTPHeaders) -> Bool {
        headers.values("Connection").contains { $0.lowercased().contains("close") }
    }

    // MARK: teardown

    private func teardown() {
        guard !torndown else { return }
        torndown = true
        // A graceful TLS close (idle timeout, drain, the peer's EOF) says so; an abort must not (K3).
        if !abortive, outputOffset >= output.count { tls?.sendCloseNotify() }
        if let current {
            current.responder?.connectionClosed()
            self.current = nil
        }
        if registered {
            loop.deregister(self)  // out of the epoll set before the fd number can be reused (P1)
            registered = false
        }
        Glibc.close(fd)
        if let timer {
            timer.cancel()
        } else {
            server.connectionClosed(self)
        }
    }

    private func timerCancelled() {
        timer = nil
        server.connectionClosed(self)
    }
}

/// Handed to a handler with its request: send exactly one response (or a stream), from any thread. If the client
/// goes away first, `isCancelled` turns true and the `onCancel` callbacks run, so queued inference can be dropped.
public final class HTTPResponder: @unchecked Sendable {
    private weak var connection: HTTPConnection?
    private let token: UInt64
    public let requestID: String
    /// Inline in the object (one responder is made per request: a `Lock` would be a second allocation).
    private let state = Mutex(State())

    private struct State {
        var done = false
        var cancelled = false
        var cancelHandlers: [@Sendable () -> Void] = []
    }

    init(connection: HTTPConnection, requestID: String, token: UInt64) {
        self.connection = connection
        self.requestID = requestID
        self.token = token
    }

    deinit {
        guard !state.withLock({ $0.done }), let connection else { return }
        let token = self.token
        connection.loop.async { connection.responderAbandoned(token: token) }
    }

    /// True once the client has disconnected or the server cut the connection.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Runs `handler` when the client disconnects before the response is complete (at once if it already has).
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let runNow: Bool = state.withLock { state in
            if state.cancelled { return true }
            if !state.done { state.cancelHandlers.append(handler) }
            return false
        }
        if runNow { handler() }
    }

    /// Sends the complete response. Later calls are ignored.
    public func send(_ response: HTTPServerResponse) {
        guard markDone() else { return }
        let token = self.token
        onQueue { $0.complete(response, token: token) }
    }

    /// Sends an error as the JSON error document.
    public func send(_ error: HTTPServerError) {
        send(error.response(requestID: requestID))
    }

    /// Starts a streamed response (chunked on HTTP/1.1); follow with `write` and `finish`.
    public func startStream(_ response: HTTPServerResponse) {
        let token = self.token
        onQueue { $0.startStream(response, token: token) }
    }

    public func write(_ bytes: [UInt8]) {
        let token = self.token
        onQueue { $0.streamChunk(bytes, token: token) }
    }

    /// Ends a stream; with `abort` the connection is cut without the final chunk (the body is known bad).
    public func finish(abort: Bool = false) {
        guard markDone() else { return }
        let token = self.token
        onQueue { $0.endStream(token: token, abort: abort) }
    }

    func connectionClosed() {
        let handlers: [@Sendable () -> Void] = state.withLock { state in
            guard !state.cancelled else { return [] }
            state.cancelled = true
            let handlers = state.cancelHandlers
            state.cancelHandlers = []
            return state.done ? [] : handlers
        }
        for handler in handlers { handler() }
    }

    private func markDone() -> Bool {
        state.withLock { state in
            if state.done { return false }
            state.done = true
            state.cancelHandlers = []
            return true
        }
    }

    /// Runs `body` on the connection's queue: inline when already there (a handler answering synchronously),
    /// otherwise asynchronously. Never captures `self`, so the responder can still be released and detected.
    private func onQueue(_ body: @escaping @Sendable (HTTPConnection) -> Void) {
        guard let connection else { return }
        if connection.isOnQueue {
            body(connection)
        } else {
            connection.loop.async { body(connection) }
        }
    }
}

/// The request a connection is serving. A class, so that looking it up (every answer, stream chunk and
/// check) copies one reference rather than the request's dozen strings and arrays.
private final class InFlight {
    let request: HTTPServerRequest
    /// Held weakly: if a handler drops it without answering, its deinit reports the abandonment.
    weak var responder: HTTPResponder?
    let token: UInt64

    init(request: HTTPServerRequest, responder: HTTPResponder, token: UInt64) {
        self.request = request
        self.responder = responder
        self.token = token
    }
}
