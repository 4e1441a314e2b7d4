// Splitting row and elementwise kernels over the cores. GEMMs are threaded by BLAS itself.
import CLinux
import Dispatch

/// Runs a loop over `0..<count` items in contiguous chunks on all cores, or inline when the
/// work is small.
enum Parallel {
    /// Work (in elements touched) below which a kernel stays on the calling thread: dispatching
    /// a chunk costs a few microseconds, about what 32 Ki float operations take, so smaller jobs
    /// would spend more on dispatch than they save.
    static let minElementsToSplit = 1 << 15

    /// Chunks per core: a few more chunks than cores evens out uneven rows (masked attention
    /// rows, a core busy with something else) without much dispatch overhead.
    static let chunksPerCore = 4

    /// Cores the process may use (its affinity mask under taskset or a cpuset; at least 1): more chunks in
    /// flight than that would only take turns on the same cores.
    static let coreCount = Int(clinux_usable_cpu_count())

    /// Calls `body` on disjoint ranges covering `0..<count`, possibly concurrently.
    /// `elementsPerItem` estimates the work per item, to decide whether splitting pays.
    static func forEachChunk(count: Int, elementsPerItem: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let work = count.multipliedReportingOverflow(by: max(elementsPerItem, 1))
        if coreCount == 1 || count == 1 || (!work.overflow && work.partialValue < minElementsToSplit) {
            body(0..<count)
            return
        }
        let chunks = min(count, coreCount * chunksPerCore)
        withoutActuallyEscaping(body) { escapable in
            // Safe to share: concurrentPerform returns only after every chunk is done, and the
            // chunks are disjoint ranges, so callers write disjoint memory.
            nonisolated(unsafe) let work = escapable
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                work((c * count / chunks)..<((c + 1) * count / chunks))
            }
        }
    }
}
