/// The request methods the parser recognises. Names are case-sensitive (RFC 9110 §9.1): `get` is an unknown
/// method and is answered 501, not treated as GET.
public enum HTTPMethod: String, Sendable, Equatable, CaseIterable {
    case GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, CONNECT

    /// Longest method token the parser reads before answering 501 (http-reference A9): ours are at most 7 bytes,
    /// and stopping early keeps a garbage "method" from filling the request-line buffer.
    public static let maxTokenBytes = 32
}

/// An HTTP version as received on the request line (`HTTP/<major>.<minor>`, one digit each).
public struct HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    /// True for HTTP/1.1 and any later 1.x, which RFC 9110 §2.5 lets us serve with 1.1 semantics.
    public var isAtLeast1_1: Bool { major > 1 || (major == 1 && minor >= 1) }

    public var description: String { "HTTP/\(major).\(minor)" }
}

/// How the body of a request is delimited (RFC 9112 §6.3).
public enum HTTPBodyFraming: Sendable, Equatable {
    /// No body: neither Content-Length nor Transfer-Encoding (a request never reads to EOF).
    case none
    /// Exactly this many bytes follow the head.
    case contentLength(Int)
    /// `Transfer-Encoding: chunked`; the parser delivers the decoded bytes.
    case chunked
}
