/// Why a request was rejected, with the status the server should answer before closing the connection.
///
/// `message` is fixed text chosen by the parser and never echoes request bytes (http-reference K5), so it is safe
/// to put in an error body or a log line.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400, 413, 414, 417, 431, 501 or 505.
    public var status: Int
    /// Short machine-readable code, e.g. `bad_request`, `header_too_large`, `unsupported_transfer_encoding`.
    public var code: String
    /// Human-readable text.
    public var message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status) \(code): \(message)" }

    static func badRequest(_ message: String) -> HTTPParseError {
        HTTPParseError(status: 400, code: "bad_request", message: message)
    }

    static func badChunk(_ message: String) -> HTTPParseError {
        HTTPParseError(status: 400, code: "bad_chunked_encoding", message: message)
    }

    static let requestLineTooLong = HTTPParseError(
        status: 414, code: "uri_too_long", message: "request line is longer than the server accepts")
    static let headerLineTooLarge = HTTPParseError(
        status: 431, code: "header_too_large", message: "a header field line is longer than the server accepts")
    static let headerSectionTooLarge = HTTPParseError(
        status: 431, code: "header_too_large", message: "the header section is larger than the server accepts")
    static let tooManyHeaders = HTTPParseError(
        status: 431, code: "header_too_large", message: "the request has more header fields than the server accepts")
    static let bodyTooLarge = HTTPParseError(
        status: 413, code: "body_too_large", message: "the request body is larger than the server accepts")
    static let methodNotImplemented = HTTPParseError(
        status: 501, code: "method_not_implemented", message: "the request method is not implemented")
    static let versionNotSupported = HTTPParseError(
        status: 505, code: "version_not_supported", message: "only HTTP/1.0 and HTTP/1.1 are supported")
    static let unsupportedTransferEncoding = HTTPParseError(
        status: 501, code: "unsupported_transfer_encoding",
        message: "only the chunked transfer coding is supported")
    static let expectationFailed = HTTPParseError(
        status: 417, code: "expectation_failed", message: "only the 100-continue expectation is supported")
}
