import HTTP1

/// A complete request as handlers see it: the parsed head, the whole (bounded) body, and per-request context.
public struct HTTPServerRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    /// `X-Request-Id` from the client when it is sane, otherwise generated; echoed on the response.
    public var requestID: String
    /// Peer address as "ip:port" (the proxy's, when behind one).
    public var remoteAddress: String
    /// Monotonic nanoseconds when the head was complete; latency is measured from here.
    public var receivedAt: UInt64
    /// The client's IP: from `X-Forwarded-For` when the peer is a trusted proxy, else the peer's (`ProxyTrust`).
    public var clientAddress: String
    /// "https" or "http" as the client used it: `X-Forwarded-Proto` from a trusted proxy, else our transport's.
    public var scheme: String
    /// The path as the client sent it; `path` has the URL prefix removed (logs show this one).
    public var originalPath: String
    /// False when the path lies outside the URL prefix (answered 404, counted as unmatched).
    var isMounted = true

    public var method: HTTPMethod { head.method }
    public var path: String { head.path }
    public var headers: HTTPHeaders { head.headers }
    /// Decoded query parameters in order of appearance.
    public var queryItems: [(String, String)] { head.query.map(HTTPQuery.parse) ?? [] }

    public init(head: HTTPRequestHead, body: [UInt8], requestID: String, remoteAddress: String, receivedAt: UInt64,
                clientAddress: String? = nil, scheme: String = "http", originalPath: String? = nil) {
        self.head = head
        self.body = body
        self.requestID = requestID
        self.remoteAddress = remoteAddress
        self.receivedAt = receivedAt
        self.clientAddress = clientAddress ?? remoteAddress
        self.scheme = scheme
        self.originalPath = originalPath ?? head.path
    }
}

/// A response as handlers produce it. The server adds framing (`Content-Length`, `Connection`, `Date`),
/// `X-Request-Id`, and gzip where the client accepts it.
public struct HTTPServerResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response from already-encoded bytes.
    public static func json(_ status: Int = 200, _ body: [UInt8], headers: HTTPHeaders = HTTPHeaders()) -> Self {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        return HTTPServerResponse(status: status, headers: headers, body: body)
    }

    /// A plain-text response.
    public static func text(_ status: Int = 200, _ text: String, contentType: String = "text/plain; charset=utf-8")
        -> Self
    {
        HTTPServerResponse(status: status, headers: HTTPHeaders([("Content-Type", contentType)]), body: Array(text.utf8))
    }
}
