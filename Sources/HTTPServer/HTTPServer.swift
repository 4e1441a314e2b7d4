import CLinux
import Dispatch
import HTTP1
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Tiaoyu's HTTP/1.1 server: listeners on Dispatch sources, connections on non-blocking sockets in a few epoll
/// sets each watched by a Dispatch source (`IOLoop`), a router,
/// the operational endpoints (`/healthz`, `/readyz`, `/metrics`), static files, gzip, request ids, one access-log
/// line per request, and graceful shutdown. Handlers never block; they answer through their `HTTPResponder`.
public final class HTTPServer: @unchecked Sendable {
    public let configuration: HTTPServerConfiguration
    public let router = HTTPRouter()
    public let metrics = HTTPServerMetrics()
    public var logger: Logger
    /// Set when the server speaks HTTPS directly (no proxy in front).
    public let tls: TLSContext?
    let proxyTrust: ProxyTrust
    let dates = DateCache()
    private let clock: any ServerClock
    private let staticFiles: StaticFiles?

    private let lock = Lock()
    private var readinessState: HTTPServerReadiness = .loading
    private var connections: [UInt64: HTTPConnection] = [:]
    private var nextConnectionID: UInt64 = 0
    private var listeners: [(fd: Int32, source: DispatchSourceRead)] = []
    private var acceptPaused = false
    private var shuttingDown = false
    private var drainCompletion: (@Sendable () -> Void)?
    /// Generated request ids are numbered; an atomic, so the hot path does not share `lock` with accepting.
    private let requestCounter = Atomic<UInt64>(0)
    private let requestIDPrefix: String
    private var spareFD: Int32 = -1
    private var protocolErrorWindow = (second: 0, count: 0)
    private var lastDescriptorWarning = 0
    /// Re-enables accepting after a pause. Created and armed once at start: when the process is out of file
    /// descriptors libdispatch cannot create the timerfd a fresh `asyncAfter` would need, and the pause would
    /// never end.
    private var acceptResumeTimer: DispatchSourceTimer?

    /// Tests only: runs on the accept queue right after each connection is admitted (a shutdown can be put
    /// exactly there).
    private var admissionHook: (@Sendable () -> Void)?

    private let acceptQueue = DispatchQueue(label: "tiaoyu.accept")
    private let ioLoops: [IOLoop]

    /// Ports actually bound (one per listening socket), e.g. to learn the port picked for `port: 0`.
    public private(set) var boundPorts: [Int] = []

    /// Creates a server; nothing is bound until `start()`. `publicDirectory` is served at `/` when given; with
    /// `tls` every connection speaks HTTPS (handshake first, then HTTP/1.1 inside it).
    public init(configuration: HTTPServerConfiguration, publicDirectory: String? = nil, tls: TLSContext? = nil,
                logger: Logger = Logger(label: "tiaoyu.http"), clock: any ServerClock = SystemServerClock()) {
        self.configuration = configuration
        self.tls = tls
        self.proxyTrust = ProxyTrust(trustedProxies: configuration.trustedProxies)
        self.logger = logger
        self.clock = clock
        self.staticFiles = publicDirectory.flatMap(StaticFiles.init(root:))
        let count = configuration.ioQueueCount > 0 ? configuration.ioQueueCount : Self.usableCores()
        // One per core: more loops only meant more threads taking turns on the same cores (more context
        // switches per request).
        self.ioLoops = (0..<count).compactMap(IOLoop.init(index:))
        var random = SystemRandomNumberGenerator()
        self.requestIDPrefix = String(random.next() & 0xFFFF_FFFF, radix: 16)
        registerOperationalRoutes()
    }

    // MARK: lifecycle

    /// Cores this process may run on: its affinity mask (`taskset`, a container's cpuset), else every online core.
    /// A loop per core we cannot run on would only be another thread taking turns on the same core, and its
    /// connections would wait out the other loops' time slices (milliseconds of tail latency).
    static func usableCores() -> Int {
        Int(clinux_usable_cpu_count())
    }

    /// Binds the listeners and starts accepting. SIGPIPE is ignored process-wide (writes use MSG_NOSIGNAL too).
    public func start() throws(SocketError) {
        signal(SIGPIPE, SIG_IGN)
        guard !ioLoops.isEmpty else {
            throw SocketError(operation: "epoll_create1", address: "\(configuration.host):\(configuration.port)",
                              errno: EMFILE)
        }
        Self.raiseFileLimit()
        let fds = try Socket.listen(host: configuration.host, port: configuration.port,
                                    backlog: configuration.backlog)
        spareFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let resumeTimer = DispatchSource.makeTimerSource(queue: acceptQueue)
        resumeTimer.setEventHandler { [weak self] in self?.resumeAccepting() }
        resumeTimer.schedule(deadline: .now() + .milliseconds(1), leeway: .milliseconds(10))
        resumeTimer.activate()
        lock.withLock {
            acceptResumeTimer = resumeTimer
            for fd in fds {
                let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
                source.setEventHandler { [weak self] in self?.acceptConnections(on: fd) }
                source.setCancelHandler { Glibc.close(fd) }
                listeners.append((fd, source))
                source.activate()
            }
            boundPorts = fds.compactMap(Socket.localPort)
        }
        logger.info("listening", metadata: [
            "host": .string(configuration.host), "ports": .string(boundPorts.map(String.init).joined(separator: ",")),
            "scheme": .string(tls == nil ? "http" : "https"), "prefix": .string(configuration.urlPrefix.description),
        ])
    }

    /// What `/readyz` reports. The application sets `.ready` once its models are loaded and warmed up.
    public var readiness: HTTPServerReadiness {
        get { lock.withLock { readinessState } }
        set { lock.withLock { readinessState = newValue } }
    }

    /// Graceful shutdown (F12): stop accepting, report draining, close idle connections, let in-flight requests
    /// finish with `Connection: close`; after `drainTimeout` cut what is left. `completion` runs once every
    /// connection is closed.
    public func shutdown(completion: @escaping @Sendable () -> Void) {
        let (open, alreadyShuttingDown): ([HTTPConnection], Bool) = lock.withLock {
            let already = shuttingDown
            shuttingDown = true
            readinessState = .draining
            drainCompletion = completion
            for listener in listeners {
                if acceptPaused { listener.source.resume() }
                listener.source.cancel()
            }
            acceptPaused = false
            listeners.removeAll()
            acceptResumeTimer?.cancel()
            acceptResumeTimer = nil
            return (Array(connections.values), already)
        }
        if alreadyShuttingDown { return }
        logger.info("draining", metadata: ["connections": .stringConvertible(open.count)])
        if open.isEmpty {
            finishDrainIfDone()
            return
        }
        for connection in open { connection.drain() }
        acceptQueue.asyncAfter(deadline: .now() + .nanoseconds(Int(configuration.drainTimeout.nanoseconds))) {
            [weak self] in
            guard let self else { return }
            let left = self.lock.withLock { Array(self.connections.values) }
            if !left.isEmpty {
                self.logger.warning("drain timeout: closing connections", metadata: [
                    "connections": .stringConvertible(left.count),
                ])
            }
            for connection in left { connection.forceClose() }
        }
    }

    /// Tests only: see `admissionHook`.
    func setAdmissionHook(_ hook: (@Sendable () -> Void)?) { lock.withLock { admissionHook = hook } }

    // MARK: accepting

    private func acceptConnections(on listenFD: Int32) {
        // At most 64 accepts per event so a connect storm cannot monopolise the accept queue (P15).
        for _ in 0..<64 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Socket.accept(listenFD, $0, &length) }
            }
            if fd < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK: return
                case EINTR, ECONNABORTED, EPROTO: continue
                case EMFILE, ENFILE: refuseWithoutDescriptors(listenFD); return
                default: pauseAccepting(); return
                }
            }
            Socket.setNoDelay(fd)
            let remoteAddress = Socket.describe(&storage), peer = Socket.addressBytes(&storage)
            // Admitted, registered and started in one critical section: `shutdown` lists the connections to drain
            // under the same lock, so one accepted while it runs is either on that list or refused. (Admitted in
            // one section and registered in another, a connection could miss the drain and serve keep-alive
            // requests until the drain timeout cut it.) `start` only queues the start on the connection's loop,
            // ahead of any drain.
            let (admitted, hook): (Bool, (@Sendable () -> Void)?) = lock.withLock {
                guard !shuttingDown, connections.count < configuration.maxConnections else { return (false, nil) }
                nextConnectionID += 1
                let id = nextConnectionID
                let connection = HTTPConnection(
                    id: id, fd: fd, remoteAddress: remoteAddress, peer: peer, server: self,
                    loop: ioLoops[Int(id % UInt64(ioLoops.count))], clock: clock)
                connections[id] = connection
                metrics.connectionOpened()
                connection.start()
                return (true, admissionHook)
            }
            guard admitted else {
                refuse(fd)
                continue
            }
            hook?()
        }
    }

    /// The canned answer for a connection we cannot take: a complete 503 that asks the client to retry.
    private static let refusal: [UInt8] = {
        let body = #"{"error":{"code":"server_busy","message":"too many connections, retry shortly"}}"#
        return Array(("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
            + "Connection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
    }()

    private func refuse(_ fd: Int32) {
        metrics.connectionRefused()
        // A TLS client would read plain text as a broken record: it just sees the close.
        if tls == nil { sendRefusal(fd) }
        Glibc.close(fd)
    }

    private func sendRefusal(_ fd: Int32) {
        _ = Self.refusal.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
    }

    /// Out of file descriptors (P10): free the spare, accept the waiting client just to refuse it cleanly, take
    /// the spare back. Each event so makes progress through the backlog instead of spinning on a readable
    /// listener; only if the spare cannot be had back does accepting pause (until a connection closes or 100 ms).
    private func refuseWithoutDescriptors(_ listenFD: Int32) {
        let now = Int(time(nil))
        if now - lastDescriptorWarning >= 10 {  // accept queue only; at most one warning per 10 s
            lastDescriptorWarning = now
            logger.warning("out of file descriptors: refusing new connections")
        }
        if spareFD >= 0 {
            Glibc.close(spareFD)
            spareFD = -1
            let fd = Socket.accept(listenFD, nil, nil)
            if fd >= 0 { refuse(fd) }
            spareFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        }
        if spareFD < 0 { pauseAccepting() }
    }

    private func pauseAccepting() {
        lock.withLock {
            guard !acceptPaused, !shuttingDown else { return }
            acceptPaused = true
            for listener in listeners { listener.source.suspend() }
            acceptResumeTimer?.schedule(deadline: .now() + .milliseconds(100), leeway: .milliseconds(10))
        }
    }

    private func resumeAccepting() {
        lock.withLock {
            guard acceptPaused, !shuttingDown else { return }
            acceptPaused = false
            for listener in listeners { listener.source.resume() }
        }
        if spareFD < 0 { spareFD = open("/dev/null", O_RDONLY | O_CLOEXEC) }
    }

    func connectionClosed(_ connection: HTTPConnection) {
        lock.withLock { _ = connections.removeValue(forKey: connection.id) }
        metrics.connectionClosed()
        acceptQueue.async { [weak self] in self?.resumeAccepting() }  // a descriptor is free again
        finishDrainIfDone()
    }

    private func finishDrainIfDone() {
        let completion: (@Sendable () -> Void)? = lock.withLock {
            guard shuttingDown, connections.isEmpty, let completion = drainCompletion else { return nil }
            drainCompletion = nil
            return completion
        }
        completion?()
    }

    /// Raises the soft fd limit to the hard one, so `maxConnections` is reached before EMFILE is.
    private static func raiseFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    // MARK: requests

    /// Routes a complete request. Runs on the connection's queue; handlers must not block it. `matched` hears the
    /// route's name before its handler runs (a handler may answer, and be logged, before `handle` returns).
    func handle(_ request: HTTPServerRequest, responder: HTTPResponder, matched: (String) -> Void = { _ in }) {
        let head = request.head
        if head.method == .OPTIONS {
            let allow = head.path == "*" ? HTTPMethod.allCases.filter { $0 != .TRACE && $0 != .CONNECT }
                : router.allowedMethods(for: head.path) ?? (staticFiles != nil ? [.GET, .HEAD, .OPTIONS] : nil)
            guard let allow else { return responder.send(.notFound(head.path)) }
            let allowValue = allow.map(\.rawValue).joined(separator: ", ")
            return responder.send(HTTPServerResponse(status: 204, headers: HTTPHeaders([("Allow", allowValue)])))
        }
        if head.path == "*" {
            return responder.send(HTTPServerError(status: 400, code: "bad_request",
                                                  message: "the asterisk target is only valid with OPTIONS"))
        }
        switch router.resolve(head.method, path: head.path) {
        case .handler(let handler, let name):
            matched(name)
            handler(request, responder)
        case .methodNotAllowed(let allow):
            responder.send(.methodNotAllowed(allow: allow))
        case .notFound:
            if let staticFiles, head.method == .GET || head.method == .HEAD {
                if let response = staticFiles.response(for: request) { return responder.send(response) }
            } else if head.method == .CONNECT || head.method == .TRACE {
                // We are an origin server: never tunnel (A14) and never echo a request back (I5).
                return responder.send(.methodNotAllowed(allow: [.GET, .HEAD, .POST, .OPTIONS]))
            }
            responder.send(.notFound(head.path))
        }
    }

    /// Route and method checks for a request that waits on `100-continue`: an error here is the final answer
    /// and the body is never read (H3).
    func preflight(_ head: HTTPRequestHead) -> HTTPServerError? {
        let (mounted, mount) = self.mount(head)
        switch mount {
        case .inside: break
        case .redirect: return nil
        case .outside: return .notFound(head.path)
        }
        switch router.resolve(mounted.method, path: mounted.path) {
        case .handler: return nil
        case .methodNotAllowed(let allow): return .methodNotAllowed(allow: allow)
        case .notFound: return .notFound(head.path)
        }
    }

    /// The head as the routes see it (URL prefix removed) and where the request lands relative to the prefix.
    func mount(_ head: HTTPRequestHead) -> (HTTPRequestHead, URLPrefix.Mount) {
        let mount = configuration.urlPrefix.mount(
            path: head.path, query: head.query, redirectsBarePrefix: head.method == .GET || head.method == .HEAD)
        guard case .inside(let path) = mount, path != head.path else { return (head, mount) }
        var mounted = head
        mounted.path = path
        return (mounted, mount)
    }

    /// The complete request handed to handlers: prefix removed, client and scheme resolved through the proxies.
    func makeRequest(_ received: HTTPRequestHead, body: [UInt8], peer: [UInt8], peerText: String,
                     remoteAddress: String, receivedAt: UInt64) -> (HTTPServerRequest, URLPrefix.Mount) {
        let (head, mount) = self.mount(received)
        let resolution = proxyTrust.resolve(
            peer: peer, peerText: peerText, headers: received.headers, transportScheme: tls == nil ? "http" : "https")
        var request = HTTPServerRequest(
            head: head, body: body, requestID: requestID(for: received), remoteAddress: remoteAddress,
            receivedAt: receivedAt, clientAddress: resolution.clientAddress, scheme: resolution.scheme,
            originalPath: received.path)
        if case .outside = mount { request.isMounted = false }
        return (request, mount)
    }

    /// The server's finishing touches on a handler's response: request id, `Vary`, and gzip when the client
    /// accepts it and the body is worth compressing.
    func finish(_ response: HTTPServerResponse, for request: HTTPServerRequest, compress: Bool = true)
        -> HTTPServerResponse
    {
        var response = response
        response.headers.replaceOrAdd(name: "X-Request-Id", value: request.requestID)
        guard compress, response.body.count >= configuration.gzipMinimumBytes,
              !response.headers.contains("Content-Encoding"),
              let type = response.headers["Content-Type"], Gzip.isCompressible(contentType: type)
        else { return response }
        response.headers.add(name: "Vary", value: "Accept-Encoding")
        guard let accept = request.headers["Accept-Encoding"], Gzip.accepts(accept),
              let compressed = Gzip.compress(response.body), compressed.count < response.body.count
        else { return response }
        response.body = compressed
        response.headers.add(name: "Content-Encoding", value: "gzip")
        if let etag = response.headers["ETag"], etag.hasSuffix("\"") {
            // A different representation needs a different validator (RFC 9110 §8.8.3).
            response.headers.replaceOrAdd(name: "ETag", value: String(etag.dropLast()) + "-gzip\"")
        }
        return response
    }

    /// `X-Request-Id` from the client when it is short and plain (it is echoed and logged), otherwise ours.
    func requestID(for head: HTTPRequestHead) -> String {
        if let given = head.headers["X-Request-Id"], !given.isEmpty, given.utf8.count <= 128,
           given.utf8.allSatisfy({ byte in
               (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
                   || byte == 0x2D || byte == 0x5F || byte == 0x2E || byte == 0x3A
           })
        {
            return given
        }
        return generateRequestID()
    }

    func generateRequestID() -> String {
        let counter = requestCounter.wrappingAdd(1, ordering: .relaxed).newValue
        return requestIDPrefix + "-" + String(counter, radix: 16)
    }

    /// One structured line per request, and the request metrics. `matchedRoute` is the route `handle` found
    /// (nil: none matched, or the request never reached the router).
    func logAccess(_ request: HTTPServerRequest, route matchedRoute: String?, status: Int, bytes: Int, now: UInt64) {
        let seconds = Double(now &- request.receivedAt) / 1e9
        let route: String
        if let matchedRoute {
            route = matchedRoute
        } else {
            switch request.isMounted ? router.resolve(request.method, path: request.path) : .notFound {
            case .handler(_, let name): route = name
            case .methodNotAllowed: route = request.path
            case .notFound: route = staticFiles != nil && status < 400 && status != 308 ? "(static)" : "(unmatched)"
            }
        }
        metrics.recordRequest(route: route, method: request.method.rawValue, status: status, seconds: seconds)
        logger.info("request", metadata: [
            "request_id": .string(request.requestID),
            "method": .string(request.method.rawValue),
            "path": .string(String(request.originalPath.prefix(256))),
            "status": .stringConvertible(status),
            "bytes": .stringConvertible(bytes),
            "duration_ms": .string(String(format: seconds * 1000)),
            "remote": .string(request.remoteAddress),
            "client": .string(request.clientAddress),
            "proto": .string(request.scheme),
        ])
    }

    /// Malformed requests are logged at most 10 per second (K5: never a log flood driven by an attacker).
    func logProtocolError(_ error: HTTPServerError, remote: String, requestID: String) {
        let now = Int(time(nil))
        let shouldLog: Bool = lock.withLock {
            if protocolErrorWindow.second != now { protocolErrorWindow = (now, 0) }
            protocolErrorWindow.count += 1
            return protocolErrorWindow.count <= 10
        }
        guard shouldLog else { return }
        logger.notice("rejected request", metadata: [
            "request_id": .string(requestID), "status": .stringConvertible(error.status),
            "code": .string(error.code), "remote": .string(remote),
        ])
    }

    // MARK: operational endpoints

    private func registerOperationalRoutes() {
        router.add(.GET, "/healthz") { _, responder in
            responder.send(.json(200, Array(#"{"status":"ok"}"#.utf8)))
        }
        router.add(.GET, "/readyz") { [weak self] _, responder in
            let state = self?.readiness ?? .draining
            responder.send(.json(state == .ready ? 200 : 503, Array("{\"status\":\"\(state.rawValue)\"}".utf8)))
        }
        router.add(.GET, "/metrics") { [weak self] _, responder in
            let text = self?.metrics.render() ?? ""
            responder.send(.text(200, text, contentType: "text/plain; version=0.0.4; charset=utf-8"))
        }
    }
}

extension String {
    /// Milliseconds with three decimals, without Foundation's formatter.
    fileprivate init(format milliseconds: Double) {
        let micros = Int((milliseconds * 1000).rounded())
        let fraction = String(micros % 1000)
        self = "\(micros / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
