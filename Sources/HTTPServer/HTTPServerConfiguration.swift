import HTTP1

/// Everything an operator can tune about the HTTP server. Every value has a default that suits a BLIP-2
/// API behind nginx (see http-reference §2) and a `tiaoyu serve` flag with a `TIAOYU_*` twin.
public struct HTTPServerConfiguration: Sendable, Equatable {
    /// Address to bind: an IPv4/IPv6 literal, a host name, or `*` / empty for every local address (IPv4 and IPv6).
    public var host: String = "127.0.0.1"
    /// TCP port; 0 picks a free one (tests), read it back from `HTTPServer.boundPorts`.
    public var port: Int = 8080
    /// listen(2) backlog: SYNs the kernel queues while we are busy accepting.
    public var backlog: Int = 511

    /// Parser limits (request line 414, header section 431, body 413).
    public var limits: HTTPLimits = HTTPLimits()

    /// Whole request head must arrive within this, counted from its first byte (slowloris, G1).
    public var headerTimeout: Duration = .seconds(15)
    /// Longest silence allowed between two reads of a request body (slow uploads, G2).
    public var bodyTimeout: Duration = .seconds(30)
    /// Idle keep-alive connections close silently after this; above nginx's upstream 60 s (G6).
    public var idleTimeout: Duration = .seconds(75)
    /// A response that makes no write progress for this long drops the connection (slow readers, G3).
    public var writeTimeout: Duration = .seconds(60)
    /// After an error response: half-close, then discard input for at most this long (K2, lingering close).
    public var lingerTimeout: Duration = .seconds(3)
    /// Graceful shutdown: in-flight requests get this long to finish before connections are cut.
    public var drainTimeout: Duration = .seconds(30)

    /// Open connections above this are refused with a 503 and closed (G4).
    public var maxConnections: Int = 1024
    /// nginx's keepalive_requests: the response to the N-th request on a connection carries `Connection: close`.
    public var maxRequestsPerConnection: Int = 1000
    /// Complete requests queued behind the one being served; reading pauses above it (pipelining, F9).
    public var maxPipelinedRequests: Int = 16
    /// Unsent response bytes above which a connection stops reading new requests (back-pressure, P6).
    public var outputHighWaterMark: Int = 64 * 1024
    /// Bytes read per readiness event, so one fast client cannot starve the others on a shared queue (P15).
    public var readChunkSize: Int = 64 * 1024
    /// Serial queues the connections are spread over; 0 = one per core.
    public var ioQueueCount: Int = 0
    /// Responses smaller than this are not worth compressing.
    public var gzipMinimumBytes: Int = 1024

    /// Reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed (logs show the real client).
    /// Empty: nobody's, so a client cannot forge its logged address.
    public var trustedProxies: [IPAddressRange] = []
    /// Path the server is mounted under behind a proxy ("/tiaoyu"); removed before routing, outside it is 404.
    public var urlPrefix: URLPrefix = .root
    /// With TLS: the handshake must finish within this, so silent connections cannot hold descriptors.
    public var tlsHandshakeTimeout: Duration = .seconds(10)

    public init() {}
}
