import Dispatch
import Foundation
import Testing
import TestSupport

/// Tiaoyu behind Debian's nginx running `Deploy/nginx/tiaoyu.conf`, all on loopback: `tiaoyu serve` (the binary,
/// on the embedded default model) for captions, uploads and SIGTERM; our HTTPServer in-process where a test needs
/// an echo, deliberately slow answers or paced events.
@Suite(.serialized, .enabled(if: DeployTools.available("nginx"), DeployTools.skipNote))
struct NginxProxyTests {
    static func get(_ path: String, _ headers: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: tiaoyu.test\r\n\(headers)\r\n"
    }

    @Test func theRequestIdAndTheClientAddressSurviveTheRoundTrip() throws {
        let server = try TiaoyuProcess(arguments: ["--port", "0", "--trusted-proxies", "127.0.0.1/32"])
        defer { server.stop() }
        let nginx = try Nginx(upstreams: [server.port])
        defer { nginx.stop() }

        let client = try nginx.connect()
        client.send(Self.get("/healthz", "X-Request-Id: deploy-check-7\r\nX-Forwarded-For: 203.0.113.7\r\n"))
        let given = try #require(client.readResponses(1).first)
        #expect(given.status == 200)
        #expect(given.header("X-Request-Id") == "deploy-check-7")
        // nginx appended 127.0.0.1 (trusted); the hop left of it is the client.
        #expect(server.waitForLog("client=203.0.113.7"))
        #expect(server.log.contains("request_id=deploy-check-7"))
        #expect(server.log.contains("proto=http "))

        client.send(Self.get("/readyz"))
        let generated = try #require(client.readResponses(1).first)
        let id = try #require(generated.header("X-Request-Id"))
        #expect(id.count == 32 && id.allSatisfy(\.isHexDigit), "nginx's $request_id: \(id)")
        #expect(server.waitForLog("request_id=\(id)"))
        nginx.stopLogging()
        #expect(nginx.accessLog.contains("rid=deploy-check-7") && nginx.accessLog.contains("rid=\(id)"))
    }

    @Test func nginxKeepsItsConnectionsToTheServerAlive() throws {
        let server = try TiaoyuProcess(arguments: ["--port", "0"])
        defer { server.stop() }
        let nginx = try Nginx(upstreams: [server.port])
        defer { nginx.stop() }
        let requests = 30
        for _ in 0..<requests {  // a new client connection each time: only nginx's upstream side can be reused
            let client = try nginx.connect()
            client.send(Self.get("/healthz", "Connection: close\r\n"))
            #expect(client.readResponses(1).map(\.status) == [200])
        }
        // One upstream connection for all of them (plus this scrape's own).
        let accepted = try server.metric("tiaoyu_http_connections_total")
        #expect(accepted <= 3, "\(accepted) connections for \(requests) requests")
        #expect(try server.metric(#"tiaoyu_http_requests_total{route="/healthz",method="GET",status="200"}"#)
            == Double(requests))
    }

    /// 10 MiB of random bytes (read, not computed: a per-byte loop takes seconds in debug and sanitizer builds).
    static func tenMegabytes() throws -> [UInt8] {
        let handle = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? handle.close() }
        let data = try #require(try handle.read(upToCount: 10 << 20))
        return [UInt8](data)
    }

    static func post(_ path: String, _ body: [UInt8]) -> [UInt8] {
        let head = "POST \(path) HTTP/1.1\r\nHost: tiaoyu.test\r\nContent-Type: application/octet-stream\r\n"
            + "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }

    @Test func aTenMegabyteUploadPassesNginxAndGetsAnAnswerNotAReset() throws {
        let payload = try Self.tenMegabytes()
        let server = try TiaoyuProcess(arguments: ["--port", "0"])
        defer { server.stop() }
        let echo = try InProcessServer()
        defer { echo.shutdown {} }
        let nginx = try Nginx(upstreams: [server.port])
        defer { nginx.stop() }

        // Routes that take no body still read the 10 MB nginx forwards and answer with their JSON errors.
        let client = try nginx.connect()
        client.send(Self.post("/healthz", payload))
        let notAllowed = try #require(client.readResponses(1, timeout: 20).first,
                                      "nginx: \(nginx.errorLog)\nserver: \(server.log.suffix(2000))")
        #expect(notAllowed.status == 405)
        #expect(notAllowed.text.contains(#""code":"method_not_allowed""#))
        client.send(Self.post("/upload", payload))
        let notFound = try #require(client.readResponses(1, timeout: 20).first)
        #expect(notFound.status == 404)
        #expect(notFound.text.contains(#""code":"not_found""#))
        #expect(try server.metric("tiaoyu_http_received_bytes_total") >= Double(2 * payload.count))

        // Above client_max_body_size nginx answers 413 itself.
        let tooBig = try nginx.connect()
        tooBig.send(Array("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: \(40 << 20)\r\n\r\n".utf8))
        #expect(tooBig.readResponses(1).map(\.status) == [413])
        #expect(nginx.midResponseFailures.isEmpty, "\(nginx.errorLog)")

        // And the bytes arrive intact where a route takes them (in-process echo, as /caption will take images).
        let echoNginx = try Nginx(upstreams: [echo.port])
        defer { echoNginx.stop() }
        let uploader = try echoNginx.connect()
        uploader.send(Self.post("/echo", payload))
        let echoed = try #require(uploader.readResponses(1, timeout: 20).first)
        #expect(echoed.status == 200)
        #expect(echoed.body == payload)
    }

    /// Waits until the server's own /readyz says ready (models loaded and warmed up).
    static func waitUntilReady(_ server: TiaoyuProcess) throws {
        for _ in 0..<300 {
            let probe = try RawHTTPConnection(port: server.port)
            probe.send("GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if probe.readResponses(1).first?.status == 200 { return }
            usleep(100_000)
        }
        Issue.record("the server never became ready: \(server.log.suffix(2000))")
    }

    /// A PNG of random pixels just over 10 MB (stored, so it does not shrink).
    static func tenMegabytePNG() throws -> [UInt8] {
        let side = 1830
        let handle = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? handle.close() }
        let pixels = [UInt8](try #require(try handle.read(upToCount: side * side * 3)))
        return PNGWriter.rgb(width: side, height: side, pixels: pixels)
    }

    @Test func aTenMegabyteImageIsCaptionedThroughNginx() throws {
        let image = try Self.tenMegabytePNG()
        #expect(image.count > 10_000_000)
        let server = try TiaoyuProcess(arguments: ["--port", "0"])
        defer { server.stop() }
        try Self.waitUntilReady(server)
        let nginx = try Nginx(upstreams: [server.port])
        defer { nginx.stop() }
        let client = try nginx.connect()
        let head = "POST /caption HTTP/1.1\r\nHost: tiaoyu.test\r\nContent-Type: image/png\r\n"
            + "Content-Length: \(image.count)\r\n\r\n"
        client.send(Array(head.utf8) + image)
        let response = try #require(client.readResponses(1, timeout: 60).first,
                                    "nginx: \(nginx.errorLog)\nserver: \(server.log.suffix(2000))")
        #expect(response.status == 200, "\(response.text)")
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let item = (json?["data"] as? [[String: Any]])?.first
        let caption = (item?["captions"] as? [[String: Any]])?.first?["text"] as? String
        #expect(caption?.isEmpty == false)
        #expect((item?["image"] as? [String: Any])?["width"] as? Int == 1830)
        #expect(nginx.midResponseFailures.isEmpty, "\(nginx.errorLog)")
    }

    @Test func aStreamedCaptionPassesNginxAsServerSentEvents() throws {
        let server = try TiaoyuProcess(arguments: ["--port", "0"])
        defer { server.stop() }
        try Self.waitUntilReady(server)
        let nginx = try Nginx(upstreams: [server.port])
        defer { nginx.stop() }
        let image = PNGWriter.rgb(width: 48, height: 48, pixels: (0..<(48 * 48 * 3)).map { UInt8(truncatingIfNeeded: $0 * 7) },
                                  level: 6)
        let client = try nginx.connect()
        let head = "POST /caption HTTP/1.1\r\nHost: tiaoyu.test\r\nAccept: text/event-stream\r\n"
            + "Content-Type: image/png\r\nContent-Length: \(image.count)\r\n\r\n"
        client.send(Array(head.utf8) + image)
        let response = try #require(client.readResponses(1, timeout: 30).first, "\(nginx.errorLog)")
        #expect(response.status == 200)
        #expect(response.header("Content-Type")?.hasPrefix("text/event-stream") == true)
        let events = response.text.components(separatedBy: "\n\n").filter { $0.hasPrefix("event:") || $0.hasPrefix("data:") }
        #expect(events.count >= 2, "\(response.text)")
        #expect(nginx.midResponseFailures.isEmpty, "\(nginx.errorLog)")
    }

    @Test func aStreamPassesNginxEventByEvent() throws {
        let server = try InProcessServer()
        defer { server.shutdown {} }
        let nginx = try Nginx(upstreams: [server.port])
        defer { nginx.stop() }
        let client = try nginx.connect()
        let start = Date()
        client.send(Self.get("/events?gap=1000"))
        var arrivals: [Double] = []
        var seen = ""
        while arrivals.count < 3, Date().timeIntervalSince(start) < 10 {
            seen = String(decoding: client.readAvailable(timeout: 0.05), as: UTF8.self)
            while arrivals.count < 3, seen.contains("data: \(arrivals.count)\n\n") {
                arrivals.append(Date().timeIntervalSince(start))
            }
        }
        #expect(arrivals.count == 3, "\(seen)")
        // Buffered, every event would wait for the end and arrive together; unbuffered, they arrive a second
        // apart. Only the spacing is checked, so a slow start on a loaded machine does not matter.
        if arrivals.count == 3 {
            #expect(arrivals[2] - arrivals[0] > 1.5, "\(arrivals)")
        }
    }

    @Test func inFlightRequestsFinishThroughNginxWhenTheServerDrains() throws {
        let server = try InProcessServer()
        let nginx = try Nginx(upstreams: [server.port])
        defer { nginx.stop() }
        let clients = try (0..<3).map { _ in try nginx.connect() }
        for client in clients { client.send(Self.get("/slow?ms=800")) }
        usleep(300_000)  // all three are being served upstream
        let drained = DispatchSemaphore(value: 0)
        server.shutdown { drained.signal() }
        for client in clients {
            let response = client.readResponses(1, timeout: 5).first
            #expect(response?.status == 200)
            #expect(response?.text == "slept 800")
        }
        #expect(drained.wait(timeout: .now() + 5) == .success)
        // The listener is gone: nginx's next attempt is refused cleanly and it answers 502 itself.
        let late = try nginx.connect()
        late.send(Self.get("/healthz"))
        #expect(late.readResponses(1).map(\.status) == [502])
        #expect(nginx.errorLog.contains("(111: Connection refused)"))
        #expect(nginx.midResponseFailures.isEmpty, "\(nginx.errorLog)")
        #expect(!nginx.errorLog.contains("reset by peer"), "\(nginx.errorLog)")
    }

    /// Sends `request` from 4 clients through nginx (5 per keep-alive connection, then a new one) while the
    /// server is sent SIGTERM after `warmUp`; returns the server's exit status and what the clients saw.
    static func sigtermUnderLoad(server: TiaoyuProcess, port: Int, request: [UInt8], warmUp: useconds_t)
        -> (status: Int32?, results: LoadResults)
    {
        let results = LoadResults()
        let stop = LoadResults.Flag()
        let group = DispatchGroup()
        for _ in 0..<4 {
            DispatchQueue.global().async(group: group) {
                while !stop.isSet {
                    guard let client = try? RawHTTPConnection(port: port) else { continue }
                    for _ in 0..<5 where !stop.isSet {
                        client.send(request)
                        guard let response = client.readResponses(1, timeout: 10).first else {
                            results.record(status: nil, partial: client.unconsumed.count)
                            break
                        }
                        results.record(status: response.status, partial: 0)
                    }
                }
            }
        }
        usleep(warmUp)
        server.terminate()
        let status = server.waitForExit(timeout: 30)
        usleep(300_000)
        stop.set()
        group.wait()
        return (status, results)
    }

    @Test func sigtermDuringCaptionRequestsFinishesThemThenNginxGetsRefusals() throws {
        let server = try TiaoyuProcess(arguments: ["--port", "0"])
        defer { server.stop() }
        try Self.waitUntilReady(server)
        let nginx = try Nginx(upstreams: [server.port])
        defer { nginx.stop() }
        let image = PNGWriter.rgb(width: 64, height: 64, pixels: (0..<(64 * 64 * 3)).map { UInt8(truncatingIfNeeded: $0 * 13) },
                                  level: 6)
        let request = Array(("POST /caption HTTP/1.1\r\nHost: tiaoyu.test\r\nContent-Type: image/png\r\n"
            + "Content-Length: \(image.count)\r\n\r\n").utf8) + image
        let (status, results) = Self.sigtermUnderLoad(server: server, port: nginx.port, request: request,
                                                      warmUp: 600_000)
        #expect(status == 0, "server log tail: \(server.log.suffix(3000))")
        let summary = results.summary
        #expect(summary.statuses[200, default: 0] > 0, "\(summary)")
        #expect(Set(summary.statuses.keys).isSubset(of: [200, 502]), "\(summary)")
        #expect(summary.incomplete == 0, "\(summary)")
        #expect(nginx.midResponseFailures.isEmpty, "\(nginx.errorLog)")
    }

    @Test func sigtermUnderLoadEndsInCompleteResponsesThenRefusals() throws {
        let server = try TiaoyuProcess(arguments: ["--port", "0"])
        defer { server.stop() }
        let nginx = try Nginx(upstreams: [server.port])
        defer { nginx.stop() }
        let (status, results) = Self.sigtermUnderLoad(server: server, port: nginx.port,
                                                      request: Array(Self.get("/metrics").utf8), warmUp: 400_000)
        #expect(status == 0, "server log tail: \(server.log.suffix(3000))")
        let summary = results.summary
        #expect(summary.statuses[200, default: 0] > 0, "\(summary)")
        #expect(summary.statuses[502, default: 0] > 0, "\(summary)")
        #expect(Set(summary.statuses.keys).isSubset(of: [200, 502]), "\(summary)")
        #expect(summary.incomplete == 0, "\(summary)")
        #expect(nginx.errorLog.contains("(111: Connection refused)"))
        #expect(nginx.midResponseFailures.isEmpty, "\(nginx.errorLog)")
    }

    @Test func requestsSpreadOverReplicasAndADrainingOneIsSkipped() throws {
        let first = try TiaoyuProcess(arguments: ["--port", "0"])
        defer { first.stop() }
        let second = try TiaoyuProcess(arguments: ["--port", "0"])
        defer { second.stop() }
        let nginx = try Nginx(upstreams: [first.port, second.port])
        defer { nginx.stop() }
        let served = #"tiaoyu_http_requests_total{route="/healthz",method="GET",status="200"}"#
        for _ in 0..<20 {
            let client = try nginx.connect()
            client.send(Self.get("/healthz", "Connection: close\r\n"))
            #expect(client.readResponses(1).map(\.status) == [200])
        }
        #expect(try first.metric(served) + second.metric(served) == 20)
        #expect(try first.metric(served) > 0 && second.metric(served) > 0)

        first.terminate()
        #expect(first.waitForExit(timeout: 10) == 0)
        for _ in 0..<10 {  // refused by the stopped replica, so nginx passes each to the other one
            let client = try nginx.connect()
            client.send(Self.get("/healthz", "Connection: close\r\n"))
            #expect(client.readResponses(1).map(\.status) == [200])
        }
        #expect(nginx.midResponseFailures.isEmpty, "\(nginx.errorLog)")
    }
}

/// What the load generator saw, across its threads.
final class LoadResults: @unchecked Sendable {
    private let lock = NSLock()
    private var statuses: [Int: Int] = [:]
    private var incomplete = 0

    func record(status: Int?, partial: Int) {
        lock.lock()
        defer { lock.unlock() }
        if let status { statuses[status, default: 0] += 1 }
        if partial > 0 { incomplete += 1 }  // bytes of a response that never completed: a cut mid-response
    }

    var summary: (statuses: [Int: Int], incomplete: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (statuses, incomplete)
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
        func set() { lock.lock(); value = true; lock.unlock() }
    }
}
