import Foundation
@testable import Inference
import Testing

@Suite struct LRUCacheTests {
    @Test func evictsTheLeastRecentlyUsedWhenOverBudget() {
        let cache = LRUCache<String, Int>(byteBudget: 30)
        cache.insert(1, for: "a", cost: 10)
        cache.insert(2, for: "b", cost: 10)
        cache.insert(3, for: "c", cost: 10)
        #expect(cache.value(for: "a") == 1)  // a is now the newest
        cache.insert(4, for: "d", cost: 10)  // evicts b
        #expect(cache.value(for: "b") == nil)
        #expect(cache.value(for: "a") == 1)
        #expect(cache.value(for: "c") == 3)
        #expect(cache.value(for: "d") == 4)
        let stats = cache.statistics
        #expect(stats.evictions == 1)
        #expect(stats.bytes == 30)
        #expect(stats.entries == 3)
        #expect(stats.hits == 4)
        #expect(stats.misses == 1)
    }

    @Test func replacingAKeyUpdatesItsCost() {
        let cache = LRUCache<String, Int>(byteBudget: 100)
        cache.insert(1, for: "a", cost: 60)
        cache.insert(2, for: "a", cost: 20)
        #expect(cache.statistics.bytes == 20)
        #expect(cache.value(for: "a") == 2)
    }

    @Test func valuesLargerThanTheBudgetAndAZeroBudgetAreNotCached() {
        let small = LRUCache<String, Int>(byteBudget: 10)
        small.insert(1, for: "big", cost: 11)
        #expect(small.value(for: "big") == nil)
        let off = LRUCache<String, Int>(byteBudget: 0)
        off.insert(1, for: "a", cost: 0)
        #expect(off.value(for: "a") == nil)
    }

    @Test func survivesConcurrentUse() {
        let cache = LRUCache<Int, Int>(byteBudget: 1000)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in 0..<2000 {
                let key = (i * 7 + worker) % 300
                if cache.value(for: key) == nil { cache.insert(key, for: key, cost: 10) }
            }
        }
        let stats = cache.statistics
        #expect(stats.bytes <= 1000)
        #expect(stats.entries == stats.bytes / 10)
    }
}

@Suite struct SingleFlightTests {
    @Test func concurrentCallersForOneKeyShareOneComputation() {
        let flight = SingleFlight<String, Int>()
        let results = ResultBox()
        var leaders = 0
        for _ in 0..<5 {
            if flight.join("img", waiter: { results.add($0) }) { leaders += 1 }
        }
        #expect(leaders == 1)
        #expect(flight.coalesced == 4)
        flight.complete("img", with: .success(42))
        #expect(results.values == [42, 42, 42, 42, 42])
        let leadsAgain = flight.join("img", waiter: { _ in })
        #expect(leadsAgain)  // a later call computes afresh
    }

    final class ResultBox: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [Int] = []
        func add(_ result: Result<Int, any Error>) {
            lock.lock()
            if case .success(let value) = result { stored.append(value) }
            lock.unlock()
        }
        var values: [Int] { lock.lock(); defer { lock.unlock() }; return stored }
    }
}

@Suite struct SHA256Tests {
    @Test func matchesTheSystemSha256sum() throws {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 7) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let expected = String(output.prefix(64))
        #expect(SHA256.hex(bytes) == expected)
        #expect(SHA256.hex([]) != SHA256.hex([0]))
    }
}
