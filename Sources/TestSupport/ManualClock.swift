import HTTPServer

/// A clock that only moves when a test says so: timeout logic is tested without sleeping.
public final class ManualClock: ServerClock, @unchecked Sendable {
    private var nanoseconds: UInt64

    public init(start: UInt64 = 1_000_000_000) { nanoseconds = start }

    public func now() -> UInt64 { nanoseconds }

    public func advance(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        nanoseconds += UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
