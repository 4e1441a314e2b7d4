import CLinux
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One I/O queue and the epoll set of the connections that live on it. A single Dispatch read source watches
/// the epoll descriptor; when it fires, the loop serves every ready connection on its queue, then keeps waiting
/// in epoll for more while they keep coming (`lingerNanoseconds`, at most `busyBudget` per turn) before it
/// hands the waiting back to the source.
///
/// Why not a Dispatch read source per socket: on Linux every socket event then takes two trips through
/// libdispatch's manager thread (epoll there, a wake-up of a worker for the handler, then a wake-up of the
/// manager again through an eventfd to re-arm the source, which re-arming is an `epoll_ctl` of its own). The
/// /healthz benchmark spent most of its kernel time on those hand-offs. Here the manager sees one event per
/// busy period of the whole loop, and under load the loop thread is woken by the kernel directly.
///
/// A socket stays armed, level-triggered, for the directions its connection wants (reading unless paused,
/// writing while output waits on EAGAIN), so a request costs no `epoll_ctl`: the set changes only when the
/// wanted directions do. Wanting nothing arms it EPOLLONESHOT with no direction, so a hung-up socket whose
/// connection is not reading (EPOLLHUP cannot be masked, P4) is reported once, not in a loop. Connections are
/// found by id, never by fd, so a reused fd number cannot reach the wrong connection (P1).
final class IOLoop: @unchecked Sendable {
    let queue: DispatchQueue
    let index: Int
    private let epfd: Int32
    private var source: DispatchSourceRead?
    private let events: UnsafeMutablePointer<epoll_event>
    /// An eventfd in the epoll set: `async` writes it while `poll` waits, so work queued from other threads (a
    /// handler's answer, a new connection) ends the wait at once instead of after `busyBudget`.
    private let wakeFD: Int32
    /// True while `poll` runs (it may be waiting in epoll): only then does `async` need to write `wakeFD`.
    private let polling = Atomic<Bool>(false)
    // Confined to `queue`.
    private var connections: [UInt64: HTTPConnection] = [:]

    /// Events taken per `epoll_wait`: up to this many connections are served per pass.
    static let eventsPerWait = 64
    /// Longest a busy loop keeps its queue before yielding (timers and other work queued behind it run, P15).
    /// Work queued from other threads through `async` does not wait for it: it wakes the loop.
    static let busyBudget: UInt64 = 2_000_000  // ns
    /// After serving events, how long the loop waits in epoll for more before handing the socket set back to
    /// libdispatch. Under load the next request arrives well within it, and the loop thread is woken by the
    /// kernel directly, as nginx's is; handing back costs two thread hand-offs through libdispatch's manager
    /// thread per wake-up (its epoll, then a worker) plus the re-arm of the source, which is what this saves.
    static let lingerNanoseconds = 500_000
    /// `epoll_event.data` of `wakeFD` (connection ids start at 1 and never reach it).
    static let wakeID = UInt64.max

    static let queueKey = DispatchSpecificKey<Int>()

    /// Nil when the kernel refuses an epoll descriptor (out of descriptors at start).
    init?(index: Int) {
        let epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epfd >= 0 else { return nil }
        let wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        var wakeEvent = epoll_event()
        wakeEvent.events = EPOLLIN.rawValue
        wakeEvent.data.u64 = Self.wakeID
        guard wakeFD >= 0, epoll_ctl(epfd, EPOLL_CTL_ADD, wakeFD, &wakeEvent) == 0 else {
            Glibc.close(epfd)
            if wakeFD >= 0 { Glibc.close(wakeFD) }
            return nil
        }
        self.epfd = epfd
        self.wakeFD = wakeFD
        self.index = index
        // Overcommit (no target), as a serial queue made without one is: on the non-overcommit global pool the
        // benchmark measured more context switches and more CPU per request, not fewer.
        self.queue = DispatchQueue(label: "tiaoyu.io.\(index)")
        self.events = .allocate(capacity: Self.eventsPerWait)
        queue.setSpecific(key: Self.queueKey, value: index)
        let source = DispatchSource.makeReadSource(fileDescriptor: epfd, queue: queue)
        source.setEventHandler { [weak self] in self?.poll() }
        source.setCancelHandler {  // only here (P1)
            Glibc.close(epfd)
            Glibc.close(wakeFD)
        }
        self.source = source
        source.activate()
    }

    deinit {
        source?.cancel()
        events.deallocate()
    }

    /// Runs `work` on the loop's queue, waking the loop if it is waiting in epoll. A wake can be missed when
    /// `poll` starts just as the work is queued; the work then waits at most `busyBudget` plus one linger.
    func async(_ work: @escaping @Sendable () -> Void) {
        queue.async(execute: work)
        if polling.load(ordering: .sequentiallyConsistent) {
            _ = eventfd_write(wakeFD, 1)
        }
    }

    /// True when the caller runs on this loop's queue.
    var isOnQueue: Bool { DispatchQueue.getSpecific(key: Self.queueKey) == index }

    /// Adds a connection (on `queue`); its socket wants nothing until `arm`.
    func register(_ connection: HTTPConnection) -> Bool {
        var event = epoll_event()
        event.events = EPOLLONESHOT.rawValue
        event.data.u64 = connection.id
        guard epoll_ctl(epfd, EPOLL_CTL_ADD, connection.fd, &event) == 0 else { return false }
        connections[connection.id] = connection
        return true
    }

    /// Arms `fd` for `interest` (EPOLLIN / EPOLLOUT bits), level-triggered; for 0, for one report of hang-up
    /// or error.
    func arm(_ connection: HTTPConnection, interest: UInt32) {
        var event = epoll_event()
        event.events = interest == 0 ? EPOLLONESHOT.rawValue : interest
        event.data.u64 = connection.id
        _ = epoll_ctl(epfd, EPOLL_CTL_MOD, connection.fd, &event)
    }

    /// Removes a connection (on `queue`), before its fd is closed.
    func deregister(_ connection: HTTPConnection) {
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, connection.fd, nil)
        connections.removeValue(forKey: connection.id)
    }

    /// Serves ready connections until none is ready for `lingerNanoseconds`, other work is queued (`wakeFD`), or
    /// `busyBudget` is spent; then returns, and the Dispatch source takes over the waiting.
    private func poll() {
        polling.store(true, ordering: .sequentiallyConsistent)
        defer { polling.store(false, ordering: .sequentiallyConsistent) }
        let deadline = DispatchTime.now().uptimeNanoseconds &+ Self.busyBudget
        var lingering = false
        while true {
            let count = waitForEvents(lingering: lingering)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            var woken = false
            for slot in 0..<Int(count) {
                let event = events[slot]
                if event.data.u64 == Self.wakeID {
                    var value: eventfd_t = 0
                    _ = eventfd_read(wakeFD, &value)
                    woken = true
                } else {
                    connections[event.data.u64]?.ready(event.events)
                }
            }
            if woken || DispatchTime.now().uptimeNanoseconds >= deadline { return }
            lingering = true
        }
    }

    /// False once the kernel said it has no epoll_pwait2 (before Linux 5.11): the linger then rounds up to
    /// epoll_wait's whole millisecond. Without this, a loop on such a kernel would return at once every time and
    /// the Dispatch source, its epoll set still readable, would fire again and again.
    private var hasPwait2 = true

    /// One epoll wait on the loop's set: no wait at all, or up to `lingerNanoseconds`.
    private func waitForEvents(lingering: Bool) -> Int32 {
        if hasPwait2 {
            var linger = timespec(tv_sec: 0, tv_nsec: lingering ? Self.lingerNanoseconds : 0)
            let count = epoll_pwait2(epfd, events, Int32(Self.eventsPerWait), &linger, nil)
            if count >= 0 || errno != ENOSYS { return count }
            hasPwait2 = false
        }
        return epoll_wait(epfd, events, Int32(Self.eventsPerWait), lingering ? 1 : 0)
    }
}
