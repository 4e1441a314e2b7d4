/// Size limits the request parser enforces while bytes arrive, so that no input can make it buffer without bound.
///
/// Defaults follow http-reference §2 (nginx, Kestrel and Go defaults). Each limit fails with its own status so the
/// server can answer precisely and then close.
public struct HTTPLimits: Sendable, Equatable {
    /// Longest request line (method, target, version; CRLF excluded). 8 KiB like nginx's
    /// `large_client_header_buffers` and Kestrel's `MaxRequestLineSize`; RFC 9112 §3 recommends at least 8000.
    /// Exceeding it fails with 414 as soon as the limit is passed, without buffering to the end of the line.
    public var maxRequestLineBytes: Int
    /// Longest single header (or trailer) field line, CRLF excluded. 16 KiB like Node's header cap. -> 431.
    public var maxHeaderLineBytes: Int
    /// Total bytes of the header section including CRLFs; trailers of a chunked body count into the same total.
    /// 32 KiB like nginx's 4 x 8k buffers and Kestrel's `MaxRequestHeadersTotalSize`. -> 431.
    public var maxHeaderBytes: Int
    /// Most header fields per message (trailers included). 100 like Kestrel's `MaxRequestHeaderCount`. -> 431.
    public var maxHeaderCount: Int
    /// Largest request body. 32 MiB fits the largest image we accept with room for multipart overhead. -> 413,
    /// checked when the head completes for Content-Length and as the running total grows for chunked bodies.
    public var maxBodyBytes: Int
    /// Longest chunk-size line including extensions. 4 KiB: real clients send none (Go CVE-2023-39326). -> 400.
    public var maxChunkLineBytes: Int
    /// Total chunk-extension bytes per message, so tiny chunks with long extensions cannot burn CPU and bandwidth
    /// for little body (http-reference D4; picohttpparser fails such streams too). -> 400.
    public var maxChunkExtensionBytes: Int
    /// Empty lines (CRLF) tolerated before a request line: RFC 9112 §2.2 says SHOULD ignore at least one. -> 400.
    public var maxLeadingEmptyLines: Int

    /// Default request-line cap: 8 KiB (nginx, Kestrel).
    public static let defaultMaxRequestLineBytes = 8 * 1024
    /// Default header-line cap: 16 KiB (Node).
    public static let defaultMaxHeaderLineBytes = 16 * 1024
    /// Default header-section cap: 32 KiB (nginx 4 x 8k, Kestrel).
    public static let defaultMaxHeaderBytes = 32 * 1024
    /// Default header count: 100 (Kestrel).
    public static let defaultMaxHeaderCount = 100
    /// Default body cap: 32 MiB (images plus multipart overhead).
    public static let defaultMaxBodyBytes = 32 * 1024 * 1024
    /// Default chunk-line cap: 4 KiB (http-reference §2).
    public static let defaultMaxChunkLineBytes = 4 * 1024
    /// Default total chunk-extension bytes per message: 16 KiB, four maximal chunk lines.
    public static let defaultMaxChunkExtensionBytes = 16 * 1024
    /// Default leading empty lines: 4 (http-reference A2).
    public static let defaultMaxLeadingEmptyLines = 4

    public init(
        maxRequestLineBytes: Int = HTTPLimits.defaultMaxRequestLineBytes,
        maxHeaderLineBytes: Int = HTTPLimits.defaultMaxHeaderLineBytes,
        maxHeaderBytes: Int = HTTPLimits.defaultMaxHeaderBytes,
        maxHeaderCount: Int = HTTPLimits.defaultMaxHeaderCount,
        maxBodyBytes: Int = HTTPLimits.defaultMaxBodyBytes,
        maxChunkLineBytes: Int = HTTPLimits.defaultMaxChunkLineBytes,
        maxLeadingEmptyLines: Int = HTTPLimits.defaultMaxLeadingEmptyLines,
        maxChunkExtensionBytes: Int = HTTPLimits.defaultMaxChunkExtensionBytes
    ) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderLineBytes = maxHeaderLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkLineBytes = maxChunkLineBytes
        self.maxChunkExtensionBytes = maxChunkExtensionBytes
        self.maxLeadingEmptyLines = maxLeadingEmptyLines
    }
}
