import HTTP1

/// Turns a handler's response into wire bytes: status line, the headers the server owns (`Date`, `Server`,
/// `Content-Length` or chunked framing, `Connection`), and the body unless the method or status forbids one.
enum ResponseSerializer {
    /// The context of the request being answered that decides framing.
    struct Context {
        var method: HTTPMethod
        var version: HTTPVersion
        /// The connection closes after this response.
        var closes: Bool
        var date: String
    }

    /// 1xx, 204 and 304 never carry content (RFC 9110 §6.4.1, I7).
    static func statusForbidsBody(_ status: Int) -> Bool {
        (100..<200).contains(status) || status == 204 || status == 304
    }

    static func complete(_ response: HTTPServerResponse, context: Context) -> [UInt8] {
        var head = HTTPResponseHead(status: response.status, headers: response.headers)
        prepare(&head, context: context)
        let noBody = statusForbidsBody(response.status)
        if noBody {
            head.headers.remove(name: "Content-Length")
        } else {
            head.headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + response.body.count)
        head.serialize(into: &bytes)
        if !noBody, context.method != .HEAD { bytes.append(contentsOf: response.body) }
        return bytes
    }

    /// The head of a streamed response: chunked for HTTP/1.1; close-delimited for HTTP/1.0, which must not
    /// receive Transfer-Encoding (I8). Returns the bytes and whether the body is chunk-framed.
    static func streamHead(_ response: HTTPServerResponse, context: Context) -> (bytes: [UInt8], chunked: Bool) {
        var head = HTTPResponseHead(status: response.status, headers: response.headers)
        var context = context
        let chunked = context.version != .http1_0
        if !chunked { context.closes = true }
        prepare(&head, context: context)
        head.headers.remove(name: "Content-Length")
        if chunked { head.headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked") }
        var bytes: [UInt8] = []
        head.serialize(into: &bytes)
        return (bytes, chunked)
    }

    private static func prepare(_ head: inout HTTPResponseHead, context: Context) {
        head.headers.remove(name: "Transfer-Encoding")
        head.headers.replaceOrAdd(name: "Date", value: context.date)
        if !head.headers.contains("Server") { head.headers.add(name: "Server", value: "tiaoyu") }
        if context.closes {
            head.headers.replaceOrAdd(name: "Connection", value: "close")
        } else if context.version == .http1_0 {
            head.headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        } else {
            head.headers.remove(name: "Connection")
        }
    }
}
