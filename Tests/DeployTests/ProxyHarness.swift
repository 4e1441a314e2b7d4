import Dispatch
import Foundation
import HTTP1
import HTTPServer
import Logging
import Testing
import TestSupport

/// `tiaoyu serve` as a child process: the binary `swift test` built next to the test bundle (`.build/debug/
/// tiaoyu`; a release build would cost CI minutes and the proxy behaviour under test does not depend on it).
final class TiaoyuProcess: @unchecked Sendable {
    let process = Process()
    private let stderr = Pipe()
    private let lock = NSLock()
    private var collected = ""
    private(set) var port = 0

    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tiaoyu")
    }

    /// Starts `tiaoyu serve <arguments>` on loopback and waits for its "listening" line.
    init(arguments: [String]) throws {
        process.executableURL = Self.binary
        process.arguments = ["serve", "--host", "127.0.0.1"] + arguments
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let handle = stderr.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let data = handle.availableData  // drained continuously: a full pipe would block the server
                if data.isEmpty { break }
                lock.lock()
                collected += String(decoding: data, as: UTF8.self)
                lock.unlock()
            }
        }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, process.isRunning, port == 0 {
            if let range = log.range(of: "ports=") {
                port = Int(log[range.upperBound...].prefix { $0.isNumber }) ?? 0
            }
            usleep(20_000)
        }
        guard port > 0 else { throw HarnessError("tiaoyu serve did not start: \(log)") }
    }

    var log: String {
        lock.lock()
        defer { lock.unlock() }
        return collected
    }

    /// Waits until `text` shows up in the log (access-log lines follow the response by a moment).
    func waitForLog(_ text: String, timeout: Double = 3) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log.contains(text) { return true }
            usleep(20_000)
        }
        return log.contains(text)
    }

    func terminate() { kill(process.processIdentifier, SIGTERM) }

    /// Exit status, or nil if it is still running after `timeout`.
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A metric's value from the server itself (not through nginx).
    func metric(_ line: String) throws -> Double {
        let client = try RawHTTPConnection(port: port)
        client.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let text = client.readResponses(1).first?.text ?? ""
        let found = text.split(separator: "\n").first { $0.hasPrefix(line + " ") }
        return try #require(found.flatMap { Double($0.split(separator: " ").last ?? "") }, "no metric \(line)")
    }
}

/// A private nginx prefix: main config, temp paths and logs in a temporary directory.
struct NginxDirectory {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("tiaoyu-nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
    }

    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    /// Command-line arguments that run nginx on this directory only.
    var arguments: [String] { ["-p", root.path + "/", "-c", path("nginx.conf"), "-e", path("error.log")] }

    /// Writes the main config around `siteConfig` (an http-context file such as Deploy/nginx/tiaoyu.conf).
    func write(siteConfig: String) throws {
        try siteConfig.write(toFile: path("tiaoyu.conf"), atomically: true, encoding: .utf8)
        let main = """
            daemon off;
            worker_processes 1;
            pid \(path("nginx.pid"));
            error_log \(path("error.log")) info;
            events { worker_connections 256; }
            http {
                client_body_temp_path \(path("body"));
                proxy_temp_path \(path("proxy"));
                fastcgi_temp_path \(path("fastcgi"));
                uwsgi_temp_path \(path("uwsgi"));
                scgi_temp_path \(path("scgi"));
                access_log off;
                include \(path("tiaoyu.conf"));
            }

            """
        try main.write(toFile: path("nginx.conf"), atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

/// Debian's nginx running `Deploy/nginx/tiaoyu.conf` on loopback: only the listen address, the upstream ports and
/// the log path are changed, each where the file has exactly one occurrence (so the test notices config drift).
final class Nginx {
    let directory: NginxDirectory
    let port: Int
    private let process = Process()

    /// `upstreams`: one port (the `tiaoyu` upstream) or two (the `tiaoyu_replicas` example, then used).
    init(upstreams: [Int]) throws {
        directory = try NginxDirectory()
        port = try freePort()
        var config = try DeployTools.text("Deploy/nginx/tiaoyu.conf")
        func replaceOnce(_ original: String, _ replacement: String) throws {
            guard config.components(separatedBy: original).count == 2 else {
                throw HarnessError("Deploy/nginx/tiaoyu.conf no longer has exactly one '\(original)'")
            }
            config = config.replacingOccurrences(of: original, with: replacement)
        }
        try replaceOnce("listen 80;", "listen 127.0.0.1:\(port);")
        try replaceOnce("listen [::]:80;", "")
        try replaceOnce("/var/log/nginx/tiaoyu.access.log", directory.path("access.log"))
        let unused = 1  // never contacted: the upstream block that proxy_pass does not name
        if upstreams.count == 1 {
            try replaceOnce("server 127.0.0.1:8080 ", "server 127.0.0.1:\(upstreams[0]) ")
            try replaceOnce("server 127.0.0.1:8081 ", "server 127.0.0.1:\(unused) ")
            try replaceOnce("server 127.0.0.1:8082 ", "server 127.0.0.1:\(unused) ")
        } else {
            try replaceOnce("server 127.0.0.1:8080 ", "server 127.0.0.1:\(unused) ")
            try replaceOnce("server 127.0.0.1:8081 ", "server 127.0.0.1:\(upstreams[0]) ")
            try replaceOnce("server 127.0.0.1:8082 ", "server 127.0.0.1:\(upstreams[1]) ")
            try replaceOnce("proxy_pass http://tiaoyu;", "proxy_pass http://tiaoyu_replicas;")
        }
        try directory.write(siteConfig: config)

        process.executableURL = URL(fileURLWithPath: try DeployTools.require("nginx"))
        process.arguments = directory.arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if (try? RawHTTPConnection(port: port)) != nil { return }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        stop()
        throw HarnessError("nginx did not start: \(errorLog)")
    }

    var errorLog: String { (try? String(contentsOfFile: directory.path("error.log"), encoding: .utf8)) ?? "" }
    var accessLog: String { (try? String(contentsOfFile: directory.path("access.log"), encoding: .utf8)) ?? "" }

    /// Upstream failures in the middle of a response body: what a drain must never cause.
    var midResponseFailures: [Substring] {
        errorLog.split(separator: "\n").filter { $0.contains("while reading upstream") }
    }

    func connect() throws -> RawHTTPConnection { try RawHTTPConnection(port: port) }

    /// Makes nginx flush its access log (buffered per worker): a graceful stop writes everything out.
    func stopLogging() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGQUIT)
        process.waitUntilExit()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        directory.remove()
    }
}

/// A free loopback port (bound and released; nginx takes it a moment later).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else { throw HarnessError("bind: \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Our HTTPServer in this process, with the routes the binary does not have yet (an upload echo, a slow answer,
/// a server-sent-event stream), for the proxy behaviours that /caption will rely on.
final class InProcessServer: @unchecked Sendable {
    let server: HTTPServer
    let port: Int

    init() throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        var logger = Logger(label: "deploy-test")
        logger.logLevel = .critical
        server = HTTPServer(configuration: configuration, logger: logger)
        server.router.add(.POST, "/echo") { request, responder in
            responder.send(HTTPServerResponse(
                status: 200, headers: HTTPHeaders([("Content-Type", "application/octet-stream")]), body: request.body))
        }
        server.router.add(.GET, "/slow") { request, responder in
            let millis = request.queryItems.first { $0.0 == "ms" }.flatMap { Int($0.1) } ?? 500
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(millis)) {
                responder.send(.text(200, "slept \(millis)"))
            }
        }
        server.router.add(.GET, "/events") { request, responder in
            let gap = request.queryItems.first { $0.0 == "gap" }.flatMap { Int($0.1) } ?? 300
            responder.startStream(HTTPServerResponse(
                status: 200, headers: HTTPHeaders([("Content-Type", "text/event-stream")])))
            DispatchQueue.global().async {
                for index in 0..<3 {
                    if index > 0 { usleep(useconds_t(gap * 1000)) }
                    responder.write(Array("data: \(index)\n\n".utf8))
                }
                responder.finish()
            }
        }
        try server.start()
        port = try #require(server.boundPorts.first)
        server.readiness = .ready
    }

    /// The drain a SIGTERM starts in `tiaoyu serve`; calls back once every connection is closed.
    func shutdown(completion: @escaping @Sendable () -> Void) { server.shutdown(completion: completion) }
}
