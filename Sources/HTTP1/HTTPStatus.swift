/// Reason phrases for the status codes the server sends (RFC 9110 §15 and RFC 6585 for 429/431).
public enum HTTPStatus {
    /// The registered reason phrase, or a class-generic one ("Client Error") for codes we never register.
    public static func reasonPhrase(for status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 411: return "Length Required"
        case 412: return "Precondition Failed"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 416: return "Range Not Satisfiable"
        case 417: return "Expectation Failed"
        case 422: return "Unprocessable Content"
        case 426: return "Upgrade Required"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        case 100..<200: return "Informational"
        case 200..<300: return "Success"
        case 300..<400: return "Redirection"
        case 400..<500: return "Client Error"
        default: return "Server Error"
        }
    }
}

/// A response status line and header fields, serialised as `HTTP/1.1 <code> <reason>` (always 1.1, J4).
public struct HTTPResponseHead: Sendable, Equatable {
    public var status: Int
    public var headers: HTTPHeaders

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.headers = headers
    }

    /// Appends the status line, the header fields and the blank line to `buffer`.
    ///
    /// CR, LF and NUL inside names or values are written as SP, so a value that reached a header by mistake can
    /// never split the response (the server builds headers itself; this is a last line of defence). Status codes
    /// outside 100...999 are written as 500.
    public func serialize(into buffer: inout [UInt8]) {
        let code = (100...999).contains(status) ? status : 500
        buffer.append(contentsOf: "HTTP/1.1 ".utf8)
        buffer.append(contentsOf: String(code).utf8)
        buffer.append(ASCII.space)
        buffer.append(contentsOf: HTTPStatus.reasonPhrase(for: code).utf8)
        buffer.append(contentsOf: ASCII.crlf)
        for (name, value) in headers {
            Self.appendSanitised(name, to: &buffer)
            buffer.append(ASCII.colon)
            buffer.append(ASCII.space)
            Self.appendSanitised(value, to: &buffer)
            buffer.append(contentsOf: ASCII.crlf)
        }
        buffer.append(contentsOf: ASCII.crlf)
    }

    /// The serialised head as a new array.
    public var bytes: [UInt8] {
        var buffer: [UInt8] = []
        serialize(into: &buffer)
        return buffer
    }

    private static func appendSanitised(_ text: String, to buffer: inout [UInt8]) {
        var text = text  // withUTF8 needs a var; for a native string this is a retain, not a copy
        text.withUTF8 { utf8 in
            if !utf8.contains(where: { $0 == ASCII.cr || $0 == ASCII.lf || $0 == 0 }) {
                buffer.append(contentsOf: utf8)  // the usual case, in one copy rather than byte by byte
                return
            }
            for byte in utf8 {
                buffer.append(byte == ASCII.cr || byte == ASCII.lf || byte == 0 ? ASCII.space : byte)
            }
        }
    }
}

/// Framing for streamed responses in the chunked transfer coding (RFC 9112 §7.1), for HTTP/1.1 clients only.
public enum HTTPChunkedEncoder {
    /// One chunk: hex size, CRLF, data, CRLF. Empty input gives no bytes, since a zero-size chunk would end the
    /// body.
    public static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 20)
        out.append(contentsOf: String(bytes.count, radix: 16).utf8)
        out.append(contentsOf: ASCII.crlf)
        out.append(contentsOf: bytes)
        out.append(contentsOf: ASCII.crlf)
        return out
    }

    /// The last chunk and the empty trailer section that end a chunked body.
    public static let last: [UInt8] = Array("0\r\n\r\n".utf8)
}
