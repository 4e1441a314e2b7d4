// The parser must stay O(n) when bytes arrive one at a time (no re-scanning from the start of a line or message):
// http-reference §1 "Fragmentation", picohttpparser's slowloris test.
import HTTP1
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU seconds used by the calling thread: unlike wall time, not inflated when other jobs load the machine.
private func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Feeds `input` one byte at a time; returns the number of complete messages and the time taken.
private func feedByteByByte(_ input: [UInt8]) -> (messages: Int, bodyBytes: Int, failed: Bool, seconds: Double) {
    var parser = HTTPRequestParser()
    var messages = 0
    var bodyBytes = 0
    var failed = false
    let start = threadCPUSeconds()
    input.withUnsafeBytes { raw in
        for index in 0..<raw.count {
            for event in parser.feed(UnsafeRawBufferPointer(rebasing: raw[index..<index + 1])) {
                switch event {
                case .end: messages += 1
                case .body(let piece): bodyBytes += piece.count
                case .error: failed = true
                    case .head: break
                }
            }
        }
    }
    return (messages, bodyBytes, failed, threadCPUSeconds() - start)
}

/// Generous bound in thread CPU time for 1 MiB fed byte by byte in a debug build; quadratic behaviour would take
/// minutes, linear takes about a second.
private let maxSecondsPerMiB = 4.0

@Suite("Request parser stays linear")
struct RequestParserPerformanceTests {
    @Test("One MiB of pipelined requests fed one byte at a time is parsed quickly")
    func pipelinedRequestsByteByByte() {
        let request = Array(
            "GET /health?probe=1 HTTP/1.1\r\nHost: example\r\nAccept: */*\r\nUser-Agent: t\r\n\r\n".utf8)
        let count = (1 << 20) / request.count
        let input = Array([[UInt8]](repeating: request, count: count).joined())
        let result = feedByteByByte(input)
        #expect(!result.failed)
        #expect(result.messages == count)
        print("byte-by-byte: \(input.count) bytes in \(result.seconds) s of CPU")
        #expect(result.seconds < maxSecondsPerMiB, "took \(result.seconds) s")
    }

    @Test("A one MiB header-limit-sized stream and body fed one byte at a time are parsed quickly")
    func bodyByteByByte() {
        let head = "POST /caption HTTP/1.1\r\nHost: x\r\nContent-Length: \(1 << 20)\r\nX-Long: "
            + String(repeating: "v", count: 15_000) + "\r\n\r\n"
        let input = Array(head.utf8) + [UInt8](repeating: 0x61, count: 1 << 20)
        let result = feedByteByByte(input)
        #expect(!result.failed)
        #expect(result.messages == 1)
        #expect(result.bodyBytes == 1 << 20)
        print("byte-by-byte: \(input.count) bytes in \(result.seconds) s of CPU")
        #expect(result.seconds < maxSecondsPerMiB, "took \(result.seconds) s")
    }
}
