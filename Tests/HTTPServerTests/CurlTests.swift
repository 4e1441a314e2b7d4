import Foundation
@testable import HTTPServer
import Testing
import TestSupport

/// The server as curl users meet it (curl is installed by Deploy/setup.sh).
@Suite struct CurlTests {
    /// Runs curl with `arguments`; returns stdout and stderr.
    static func curl(_ arguments: [String], stdin: Data? = nil) throws -> (stdout: Data, stderr: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-sS", "--max-time", "20"] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (stdout, stderr, process.terminationStatus)
    }

    @Test func curlReusesTheKeepAliveConnection() throws {
        let server = try TestServer()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/healthz"
        let result = try Self.curl(["-v", url, url, url])
        #expect(result.status == 0)
        #expect(String(decoding: result.stdout, as: UTF8.self) == String(repeating: #"{"status":"ok"}"#, count: 3))
        #expect(result.stderr.components(separatedBy: "Re-using existing connection").count - 1 == 2)
    }

    @Test func curlUploadsFiveMebibytesThrough100Continue() throws {
        let server = try TestServer()
        defer { server.stop() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tiaoyu-5mib-\(UUID().uuidString)")
        var payload = Data(count: 5 << 20)
        payload.withUnsafeMutableBytes { raw in
            for index in 0..<raw.count { raw[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 13) }
        }
        try payload.write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let start = Date()
        let result = try Self.curl([
            "-v", "--expect100-timeout", "5", "-H", "Expect: 100-continue", "-H", "Content-Type: application/octet-stream",
            "--data-binary", "@\(path.path)", "http://127.0.0.1:\(server.port)/echo",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("HTTP/1.1 100 Continue"))
        #expect(result.stdout == payload)
        #expect(Date().timeIntervalSince(start) < 4)  // no 5 s wait for a missing 100 (H7)
    }

    @Test func curlCompressedGetsGzip() throws {
        let server = try TestServer()
        defer { server.stop() }
        let plain = try Self.curl(["http://127.0.0.1:\(server.port)/json"])
        let compressed = try Self.curl(["-v", "--compressed", "http://127.0.0.1:\(server.port)/json"])
        #expect(compressed.status == 0)
        #expect(compressed.stderr.lowercased().contains("content-encoding: gzip"))
        #expect(compressed.stdout == plain.stdout)
        #expect(!plain.stdout.isEmpty)
    }

    @Test func curlSeesAJSONErrorFor404() throws {
        let server = try TestServer()
        defer { server.stop() }
        let result = try Self.curl(["-w", "%{http_code}", "http://127.0.0.1:\(server.port)/missing"])
        let text = String(decoding: result.stdout, as: UTF8.self)
        #expect(text.hasSuffix("404"))
        #expect(text.contains(#""code":"not_found""#))
        #expect(text.contains(#""request_id":"#))
    }
}
