import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking loopback TCP client for protocol tests: sends exact bytes (smuggling, pipelining, slowloris shapes)
/// and reads back whatever the server says, with a timeout, so tests can assert "exactly these responses, then
/// EOF or still open".
public final class RawHTTPConnection {
    public let fd: Int32
    private var buffered: [UInt8] = []
    public private(set) var sawEOF = false

    public struct ConnectError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Connects to `host` (an IPv4 or IPv6 literal) on `port`.
    public init(port: Int, host: String = "127.0.0.1") throws {
        let isV6 = host.contains(":")
        // Close-on-exec: servers spawned by the tests must not inherit the test runner's client sockets.
        fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConnectError(description: "socket: \(errno)") }
        var rc: Int32
        if isV6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = UInt16(port).bigEndian
            inet_pton(AF_INET6, host, &addr.sin6_addr)
            rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(port).bigEndian
            inet_pton(AF_INET, host, &addr.sin_addr)
            rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard rc == 0 else {
            let error = errno
            close(fd)
            throw ConnectError(description: "connect to \(host):\(port): \(String(cString: strerror(error)))")
        }
    }

    deinit { close(fd) }

    public func send(_ text: String) { send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Half-closes our side, as `nc -N` does.
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Sets SO_RCVBUF small before reading nothing, to make the server's writes stall (slow-reader tests).
    public func setReceiveBuffer(_ bytes: Int32) {
        var value = bytes
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Reads whatever arrives until EOF or until `timeout` passes without new bytes.
    @discardableResult
    public func readAvailable(timeout: Double) -> [UInt8] {
        var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var chunk = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        while !sawEOF {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { break }
            let ready = poll(&pollfd, 1, Int32(max(1, remaining * 1000)))
            if ready <= 0 { break }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffered.append(contentsOf: chunk[0..<n])
            } else {
                sawEOF = true  // 0 = orderly EOF; < 0 = reset: either way the server is done with us
            }
        }
        return buffered
    }

    /// Reads until `count` complete responses are buffered (or EOF / timeout) and returns them, consuming them.
    /// `headIndices` marks which responses answer HEAD requests (no body despite Content-Length).
    public func readResponses(_ count: Int, timeout: Double = 5, headIndices: Set<Int> = []) -> [HTTPTestResponse] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let (responses, _) = HTTPTestResponse.parse(buffered, headIndices: headIndices)
            if responses.count >= count || sawEOF || deadline.timeIntervalSinceNow <= 0 {
                let (all, consumed) = HTTPTestResponse.parse(buffered, headIndices: headIndices, limit: count)
                buffered.removeFirst(consumed)
                return all
            }
            var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pollfd, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { buffered.append(contentsOf: chunk[0..<n]) } else { sawEOF = true }
        }
    }

    /// True if the server closed the connection within `timeout` (reading and discarding anything it sent).
    public func closedByPeer(within timeout: Double) -> Bool {
        _ = readAvailable(timeout: timeout)
        return sawEOF
    }

    /// Bytes received but not consumed by `readResponses`.
    public var unconsumed: [UInt8] { buffered }
}

/// A response parsed by the test client (Content-Length, chunked, or no body for 1xx/204/304/HEAD).
public struct HTTPTestResponse: Equatable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public static func == (a: Self, b: Self) -> Bool {
        a.status == b.status && a.body == b.body && a.headers.map { "\($0):\($1)" } == b.headers.map { "\($0):\($1)" }
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Parses complete responses from `bytes`; returns them and the bytes consumed.
    public static func parse(_ bytes: [UInt8], headIndices: Set<Int> = [], limit: Int = .max)
        -> ([HTTPTestResponse], Int)
    {
        var responses: [HTTPTestResponse] = []
        var offset = 0
        let crlfcrlf: [UInt8] = [13, 10, 13, 10]
        while responses.count < limit {
            guard let headEnd = find(crlfcrlf, in: bytes, from: offset) else { break }
            let headText = String(decoding: bytes[offset..<headEnd], as: UTF8.self)
            var lines = headText.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, let status = Int(statusLine[1]) else { break }
            let headers = lines.compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            var response = HTTPTestResponse(status: status, headers: headers, body: [])
            var cursor = headEnd + 4
            if (100..<200).contains(status) {
                offset = cursor
                continue  // interim responses are skipped, as clients do
            }
            let isHead = headIndices.contains(responses.count)
            if isHead || status == 204 || status == 304 {
                // no body
            } else if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
                var body: [UInt8] = []
                var complete = false
                while let lineEnd = find([13, 10], in: bytes, from: cursor) {
                    let sizeText = String(decoding: bytes[cursor..<lineEnd], as: UTF8.self)
                    guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else { break }
                    cursor = lineEnd + 2
                    if size == 0 {
                        guard let end = find([13, 10], in: bytes, from: cursor) else { break }
                        cursor = end + 2
                        complete = true
                        break
                    }
                    guard cursor + size + 2 <= bytes.count else { break }
                    body.append(contentsOf: bytes[cursor..<cursor + size])
                    cursor += size + 2
                }
                guard complete else { break }
                response.body = body
            } else if let length = response.header("Content-Length").flatMap(Int.init) {
                guard cursor + length <= bytes.count else { break }
                response.body = Array(bytes[cursor..<cursor + length])
                cursor += length
            }
            responses.append(response)
            offset = cursor
        }
        return (responses, offset)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], Array(haystack[index..<index + needle.count]) == needle { return index }
            index += 1
        }
        return nil
    }
}
