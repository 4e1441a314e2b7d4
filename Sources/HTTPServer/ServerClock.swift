#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic time in nanoseconds. Injected into the connection state machine so timeout tests never sleep.
public protocol ServerClock: Sendable {
    /// Monotonic nanoseconds; only differences mean anything.
    func now() -> UInt64
}

/// The process's monotonic clock (CLOCK_MONOTONIC).
public struct SystemServerClock: ServerClock {
    public init() {}
    public func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

extension Duration {
    /// Whole nanoseconds, saturating (a configured timeout never overflows the deadline arithmetic).
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let (ns, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return UInt64.max / 2 }
        return ns &+ UInt64(attoseconds / 1_000_000_000)
    }
}
