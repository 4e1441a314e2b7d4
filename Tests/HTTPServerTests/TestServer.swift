import Dispatch
import Foundation
import HTTP1
@testable import HTTPServer
import Logging
import TestSupport

/// An in-process server on a free loopback port with a few routes that exercise the connection machinery.
final class TestServer: @unchecked Sendable {
    let server: HTTPServer
    let port: Int
    let cancelled = CancelLog()

    static let publicDirectory: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Public").standardized.path
    }()

    init(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in }, publicDirectory: String? = nil,
         tls: TLSContext? = nil) throws {
        var configuration = HTTPServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configure(&configuration)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        server = HTTPServer(configuration: configuration, publicDirectory: publicDirectory, tls: tls, logger: logger)
        let cancelled = self.cancelled
        server.router.add(.POST, "/echo") { request, responder in
            var headers = HTTPHeaders([("Content-Type", "application/octet-stream")])
            if let type = request.headers["Content-Type"] { headers.replaceOrAdd(name: "Content-Type", value: type) }
            responder.send(HTTPServerResponse(status: 200, headers: headers, body: request.body))
        }
        server.router.add(.GET, "/slow") { request, responder in
            let millis = request.queryItems.first { $0.0 == "ms" }.flatMap { Int($0.1) } ?? 300
            responder.onCancel { cancelled.record(request.requestID) }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(millis)) {
                responder.send(.text(200, "slept \(millis)"))
            }
        }
        server.router.add(.GET, "/big") { request, responder in
            let bytes = request.queryItems.first { $0.0 == "bytes" }.flatMap { Int($0.1) } ?? 1 << 20
            responder.send(HTTPServerResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/octet-stream")]),
                                              body: [UInt8](repeating: 0x61, count: bytes)))
        }
        server.router.add(.GET, "/forgetful") { _, _ in }  // drops its responder without answering
        server.router.add(.GET, "/json") { _, responder in
            let items = (0..<400).map { "{\"index\":\($0),\"text\":\"a small red circle\"}" }
            responder.send(.json(200, Array(("[" + items.joined(separator: ",") + "]").utf8)))
        }
        server.router.add(.GET, "/stream") { _, responder in
            responder.startStream(HTTPServerResponse(status: 200, headers: HTTPHeaders([("Content-Type", "text/event-stream")])))
            DispatchQueue.global().async {
                for index in 0..<3 {
                    responder.write(Array("data: \(index)\n\n".utf8))
                    usleep(20_000)
                }
                responder.finish()
            }
        }
        try server.start()
        guard let port = server.boundPorts.first else { throw RawHTTPError.noPort }
        self.port = port
        server.readiness = .ready
    }

    func connect() throws -> RawHTTPConnection { try RawHTTPConnection(port: port) }

    /// Shuts the server down and waits for the drain to finish.
    func stop() {
        let done = DispatchSemaphore(value: 0)
        server.shutdown { done.signal() }
        _ = done.wait(timeout: .now() + 10)
    }

    enum RawHTTPError: Error { case noPort }
}

/// Request ids whose responders saw the client disconnect.
final class CancelLog: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [String] = []
    func record(_ id: String) { lock.lock(); ids.append(id); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return ids }
}
