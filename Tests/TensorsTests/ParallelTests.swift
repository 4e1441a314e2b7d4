import Foundation
import Testing

@testable import Tensors

/// Kernels are split over the cores this process may run on (its affinity mask), not every online core.
@Suite struct ParallelTests {
    /// The kernel's core count against the kernel's own account of the affinity mask in /proc/self/status
    /// (`Cpus_allowed_list: 0-3,6`), read independently of the C helper.
    @Test func coreCountIsTheAffinityMask() throws {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        let list = line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
        var allowed = 0
        for range in list.split(separator: ",") {
            let ends = range.split(separator: "-").compactMap { Int($0) }
            allowed += ends.count == 2 ? ends[1] - ends[0] + 1 : 1
        }
        #expect(allowed >= 1)
        #expect(Parallel.coreCount == allowed)
    }

    /// Every item is visited exactly once, whether the work stays inline or is split into chunks.
    @Test(arguments: [1, 7, 100_000]) func chunksCoverEveryItemOnce(count: Int) {
        let seen = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
        defer { seen.deallocate() }
        seen.initialize(repeating: 0)
        nonisolated(unsafe) let slots = seen
        Parallel.forEachChunk(count: count, elementsPerItem: 64) { range in
            for i in range { slots[i] += 1 }
        }
        #expect(seen.allSatisfy { $0 == 1 })
    }
}
