import HTTP1

/// The one error type of the HTTP layer: a status, a stable machine-readable code and a human message.
/// Rendered as `{"error": {"code", "message", "request_id"}}`; extra headers (e.g. `Allow`, `Retry-After`) ride along.
public struct HTTPServerError: Error, Sendable, Equatable {
    public var status: Int
    public var code: String
    public var message: String
    public var headers: HTTPHeaders

    public init(status: Int, code: String, message: String, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public init(_ parseError: HTTPParseError) {
        self.init(status: parseError.status, code: parseError.code, message: parseError.message)
    }

    public static func notFound(_ path: String) -> Self {
        HTTPServerError(status: 404, code: "not_found", message: "no route for this path")
    }

    public static func methodNotAllowed(allow: [HTTPMethod]) -> Self {
        HTTPServerError(
            status: 405, code: "method_not_allowed", message: "method not allowed for this path",
            headers: HTTPHeaders([("Allow", allow.map(\.rawValue).joined(separator: ", "))]))
    }

    /// The JSON error response for this error, tagged with the request id.
    public func response(requestID: String?) -> HTTPServerResponse {
        var json = "{\"error\":{\"code\":"
        JSONText.appendString(code, to: &json)
        json += ",\"message\":"
        JSONText.appendString(message, to: &json)
        if let requestID {
            json += ",\"request_id\":"
            JSONText.appendString(requestID, to: &json)
        }
        json += "}}"
        var headers = self.headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        return HTTPServerResponse(status: status, headers: headers, body: Array(json.utf8))
    }
}

/// Minimal JSON text helpers for the server's own small documents (errors, health), no Foundation on the hot path.
public enum JSONText {
    /// Appends `value` as a JSON string literal, escaping quotes, backslashes and control characters.
    public static func appendString(_ value: String, to out: inout String) {
        out.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}":
                let hex = String(scalar.value, radix: 16)
                out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }

    /// `value` as a JSON string literal.
    public static func string(_ value: String) -> String {
        var out = ""
        appendString(value, to: &out)
        return out
    }
}
