#if canImport(Glibc)
import Glibc
#endif
import HTTP1

/// The `Date` header value, formatted at most once per second and shared by every connection (J1).
final class DateCache: @unchecked Sendable {
    private let lock = Lock()
    private var second = -1
    private var value = ""

    func current() -> String {
        let now = Int(time(nil))
        return lock.withLock {
            if now != second {
                second = now
                value = HTTPDate.imfFixdate(epochSeconds: now)
            }
            return value
        }
    }
}
