#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the listener could not be set up; names the address and the system error.
public struct SocketError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var address: String
    public var errno: Int32

    public var description: String {
        "\(operation) \(address): \(String(cString: strerror(errno)))"
    }
}

/// Thin POSIX helpers; only `HTTPServer` touches sockets.
enum Socket {
    /// Binds and listens on every address `host` resolves to (both families for `*`/empty), non-blocking,
    /// with SO_REUSEADDR. IPv6 sockets are v6-only so an IPv4 socket can share the port.
    static func listen(host: String, port: Int, backlog: Int) throws(SocketError) -> [Int32] {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        let wildcard = host.isEmpty || host == "*"
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(wildcard ? nil : host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw SocketError(operation: "resolve", address: "\(host):\(port)", errno: EINVAL)
        }
        defer { freeaddrinfo(first) }

        var fds: [Int32] = []
        var lastError = SocketError(operation: "bind", address: "\(host):\(port)", errno: EADDRNOTAVAIL)
        var boundPort = port
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            let family = info.pointee.ai_family
            guard family == AF_INET || family == AF_INET6 else { continue }
            // With port 0 the first socket picks the port; the other family must take the same one.
            if boundPort != port, let addr = info.pointee.ai_addr { setPort(addr, family: family, port: boundPort) }
            let fd = socket(family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC_VALUE), info.pointee.ai_protocol)
            guard fd >= 0 else { lastError.errno = errno; continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if family == AF_INET6 {
                setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0,
                  Glibc.listen(fd, Int32(clamping: backlog)) == 0,
                  setNonBlocking(fd)
            else {
                lastError = SocketError(operation: "listen on", address: describe(info), errno: errno)
                Glibc.close(fd)
                continue
            }
            if boundPort == 0 || boundPort == port, let actual = localPort(fd) { boundPort = actual }
            fds.append(fd)
        }
        if fds.isEmpty { throw lastError }
        return fds
    }

    /// accept(2), then non-blocking and close-on-exec (Glibc's module does not expose accept4).
    static func accept(_ listenFD: Int32, _ address: UnsafeMutablePointer<sockaddr>?,
                       _ length: UnsafeMutablePointer<socklen_t>?) -> Int32 {
        let fd = Glibc.accept(listenFD, address, length)
        guard fd >= 0 else { return fd }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        guard setNonBlocking(fd) else {
            Glibc.close(fd)
            errno = ECONNABORTED
            return -1
        }
        return fd
    }

    static func setNonBlocking(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL, 0)
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0
    }

    /// Small writes must not wait for delayed ACKs (P13).
    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    static func localPort(_ fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        return port(of: &storage)
    }

    /// "ip:port" of an accepted peer.
    static func describe(_ storage: inout sockaddr_storage) -> String {
        var host = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = Int32(storage.ss_family)
        withUnsafePointer(to: &storage) { pointer in
            if family == AF_INET {
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var addr = sin.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &addr, &host, socklen_t(host.count))
                }
            } else if family == AF_INET6 {
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                    var addr = sin.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &addr, &host, socklen_t(host.count))
                }
            }
        }
        let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let port = port(of: &storage) ?? 0
        return family == AF_INET6 ? "[\(text)]:\(port)" : "\(text):\(port)"
    }

    /// The 4 (IPv4) or 16 (IPv6) address bytes of an accepted peer; empty for other families (never trusted).
    static func addressBytes(_ storage: inout sockaddr_storage) -> [UInt8] {
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer -> [UInt8] in
            if family == AF_INET {
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    withUnsafeBytes(of: sin.pointee.sin_addr) { Array($0) }
                }
            } else if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                    withUnsafeBytes(of: sin.pointee.sin6_addr) { Array($0) }
                }
            }
            return []
        }
    }

    private static func port(of storage: inout sockaddr_storage) -> Int? {
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer -> Int? in
            if family == AF_INET {
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            } else if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            }
            return nil
        }
    }

    private static func setPort(_ addr: UnsafeMutablePointer<sockaddr>, family: Int32, port: Int) {
        if family == AF_INET {
            addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port = UInt16(port).bigEndian }
        } else {
            addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_port = UInt16(port).bigEndian }
        }
    }

    private static func describe(_ info: UnsafeMutablePointer<addrinfo>) -> String {
        var storage = sockaddr_storage()
        if let addr = info.pointee.ai_addr {
            withUnsafeMutableBytes(of: &storage) { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(start: addr, count: Int(info.pointee.ai_addrlen)))
            }
        }
        return describe(&storage)
    }
}

#if canImport(Glibc)
let SOCK_CLOEXEC_VALUE = Int32(SOCK_CLOEXEC.rawValue)
#else
let SOCK_CLOEXEC_VALUE: Int32 = 0
#endif
