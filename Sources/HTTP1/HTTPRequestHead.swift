/// A parsed request head: request line, header fields and the facts the connection needs (framing, persistence,
/// 100-continue), all decided by the parser in one place so the server never re-interprets raw headers.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: HTTPMethod
    /// The request-target exactly as received.
    public var target: String
    /// Path of the target: origin-form up to `?`; the path part of an absolute-form target ("/" when empty);
    /// "*" for `OPTIONS *`; the authority (`host:port`) for CONNECT. Still percent-encoded.
    public var path: String
    /// Raw query after the first `?`, without it; nil when the target has no `?`.
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var framing: HTTPBodyFraming
    /// Whether the connection may carry another request: HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with
    /// a `keep-alive` token and no `close` token.
    public var keepAlive: Bool
    /// `Expect: 100-continue` on HTTP/1.1 or later. An HTTP/1.0 client never gets a 1xx, so its Expect is ignored.
    public var expectsContinue: Bool

    public init(
        method: HTTPMethod, target: String, path: String, query: String?, version: HTTPVersion,
        headers: HTTPHeaders, framing: HTTPBodyFraming, keepAlive: Bool, expectsContinue: Bool
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.framing = framing
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
    }
}

/// What the request parser reports as bytes arrive.
public enum HTTPParserEvent: Sendable, Equatable {
    /// A complete, validated request head.
    case head(HTTPRequestHead)
    /// A piece of decoded body; pieces may be split anywhere.
    case body([UInt8])
    /// The message is complete. Trailers are empty unless a chunked body carried some; they never influence
    /// framing and the server ignores them (http-reference D8).
    case end(trailers: HTTPHeaders)
    /// Terminal: the request is invalid; answer `status` and close. The parser produces nothing afterwards.
    case error(HTTPParseError)
}
