import CEpoll
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// One I/O queue and the epoll set of the connections that live on it. A single Dispatch read source watches
/// the epoll descriptor; when it fires, the loop collects every ready connection with `epoll_wait(…, 0)` and
/// serves them in one pass on its queue.
///
/// Why not a Dispatch read source per socket: on Linux every socket event then takes two trips through
/// libdispatch's manager thread (epoll there, a wake-up of a worker for the handler, then a wake-up of the
/// manager again through an eventfd to re-arm the source, which re-arming is an `epoll_ctl` of its own). The
/// /healthz benchmark spent most of its kernel time on those hand-offs. Here the manager sees one event per
/// busy period of the whole loop, and a connection re-arms itself with one `epoll_ctl` on the worker thread.
///
/// Each socket is registered EPOLLONESHOT, like libdispatch's own sources: one delivery disarms it until its
/// connection re-arms, so a hung-up socket whose connection is not reading (EPOLLHUP cannot be masked, P4)
/// is reported once, not in a loop. Connections are found by id, never by fd, so a reused fd number cannot
/// reach the wrong connection (P1).
final class IOLoop: @unchecked Sendable {
    let queue: DispatchQueue
    let index: Int
    private let epfd: Int32
    private var source: DispatchSourceRead?
    private let events: UnsafeMutablePointer<epoll_event>
    // Confined to `queue`.
    private var connections: [UInt64: HTTPConnection] = [:]

    /// Events taken per `epoll_wait`: up to this many connections are served per pass.
    static let eventsPerWait = 64
    /// Passes per wake-up before yielding the queue (timers and handler answers queued behind us run, P15).
    static let passesPerWakeUp = 4

    static let queueKey = DispatchSpecificKey<Int>()

    /// Nil when the kernel refuses an epoll descriptor (out of descriptors at start).
    init?(index: Int) {
        let epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epfd >= 0 else { return nil }
        self.epfd = epfd
        self.index = index
        // Overcommit (no target), as a serial queue made without one is: on the non-overcommit global pool the
        // benchmark measured more context switches and more CPU per request, not fewer.
        self.queue = DispatchQueue(label: "tiaoyu.io.\(index)")
        self.events = .allocate(capacity: Self.eventsPerWait)
        queue.setSpecific(key: Self.queueKey, value: index)
        let source = DispatchSource.makeReadSource(fileDescriptor: epfd, queue: queue)
        source.setEventHandler { [weak self] in self?.poll() }
        source.setCancelHandler { Glibc.close(epfd) }  // only here (P1)
        self.source = source
        source.activate()
    }

    deinit {
        source?.cancel()
        events.deallocate()
    }

    /// True when the caller runs on this loop's queue.
    var isOnQueue: Bool { DispatchQueue.getSpecific(key: Self.queueKey) == index }

    /// Adds a connection (on `queue`); its socket starts disarmed until `arm`.
    func register(_ connection: HTTPConnection) -> Bool {
        var event = epoll_event()
        event.events = 0
        event.data.u64 = connection.id
        guard epoll_ctl(epfd, EPOLL_CTL_ADD, connection.fd, &event) == 0 else { return false }
        connections[connection.id] = connection
        return true
    }

    /// Arms `fd` for one delivery of `interest` (EPOLLIN / EPOLLOUT bits), or of hang-up and error only for 0.
    func arm(_ connection: HTTPConnection, interest: UInt32) {
        var event = epoll_event()
        event.events = interest | EPOLLONESHOT.rawValue
        event.data.u64 = connection.id
        _ = epoll_ctl(epfd, EPOLL_CTL_MOD, connection.fd, &event)
    }

    /// Removes a connection (on `queue`), before its fd is closed.
    func deregister(_ connection: HTTPConnection) {
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, connection.fd, nil)
        connections.removeValue(forKey: connection.id)
    }

    private func poll() {
        for _ in 0..<Self.passesPerWakeUp {
            let count = epoll_wait(epfd, events, Int32(Self.eventsPerWait), 0)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            for slot in 0..<Int(count) {
                let event = events[slot]
                connections[event.data.u64]?.ready(event.events)
            }
            if Int(count) < Self.eventsPerWait { return }
        }
    }
}
