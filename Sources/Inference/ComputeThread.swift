import Foundation

/// The one thread that runs model code. BLAS must not be entered from several threads at once (see
/// Sources/Tensors/README.md), so every batch of every stage runs here, in submission order (a caption decode
/// runs the batches queued meanwhile between its steps); BLAS itself spreads each GEMM over the cores.
final class ComputeThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var stopped = false
    private var thread: Thread?

    init(name: String) {
        let thread = Thread { self.loop() }  // the thread keeps us alive until `stop`
        thread.name = name
        thread.stackSize = 16 << 20  // deep generic model code; the default 512 KiB of secondary threads is tight
        self.thread = thread
        thread.start()
    }

    /// Queues `job`; it runs after every job queued before it.
    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Runs the jobs queued now, inline. Called by a long job (a caption decode) between its steps, so other
    /// stages' batches (a new image's ViT) interleave with it instead of waiting for it to end. Only from the
    /// compute thread.
    func runQueued() {
        condition.lock()
        let queued = jobs
        jobs = []
        condition.unlock()
        for job in queued { job() }
    }

    /// Jobs waiting to run (tests wait on it instead of sleeping).
    var queuedCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count
    }

    /// Lets the thread finish the queued jobs and exit.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty && stopped {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
