// Request line (RFC 9112 §3) and header fields (RFC 9112 §5, RFC 9110 §5) of `HTTPRequestParser`, and the
// decisions taken when the head completes: Host, framing (RFC 9112 §6.3), persistence (§9.3), Expect.

/// A request head being assembled, with the facts its interpreted fields established so far.
struct PendingHead: Sendable {
    var method: HTTPMethod
    var target: String
    var path: String
    var query: String?
    var version: HTTPVersion
    var headers = HTTPHeaders()
    var hasHost = false
    var contentLength: Int?
    var transferEncoding: TransferCoding?
    var connectionClose = false
    var connectionKeepAlive = false
    var expectsContinue: Bool?
    var hasContentType = false

    /// Fields reserved per head: curl sends 3, browsers 10-15; regrowth beyond that is rare and cheap.
    static let expectedFieldCount = 12

    init(method: HTTPMethod, target: String, path: String, query: String?, version: HTTPVersion) {
        headers.reserveCapacity(Self.expectedFieldCount)
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
    }
}

/// What one Transfer-Encoding field value means to us.
enum TransferCoding: Sendable {
    /// Exactly `chunked` (any case).
    case chunked
    /// Syntax error, or `chunked` not last: 400 (RFC 9112 §6.3).
    case malformed
    /// A coding we do not implement (gzip, identity, ...): 501 (RFC 9112 §6.1).
    case unsupported
}

/// Header fields the parser interprets; everything else is an opaque field (including `Content_Length`, B13).
private enum KnownField {
    case host, contentLength, transferEncoding, connection, expect, contentType

    init?(_ name: UnsafeRawBufferPointer) {
        switch name.count {
        case 4 where ASCII.equalsLowercase(name, "host"): self = .host
        case 6 where ASCII.equalsLowercase(name, "expect"): self = .expect
        case 10 where ASCII.equalsLowercase(name, "connection"): self = .connection
        case 12 where ASCII.equalsLowercase(name, "content-type"): self = .contentType
        case 14 where ASCII.equalsLowercase(name, "content-length"): self = .contentLength
        case 17 where ASCII.equalsLowercase(name, "transfer-encoding"): self = .transferEncoding
        default: return nil
        }
    }
}

extension HTTPRequestParser {
    // MARK: request line

    /// Parses `method SP request-target SP HTTP-version` with exactly one SP between parts (A3).
    func parseRequestLine(_ line: UnsafeRawBufferPointer) -> Result<PendingHead, HTTPParseError> {
        guard let firstSpace = line.firstIndex(of: ASCII.space), firstSpace > 0 else {
            return .failure(.badRequest("malformed request line"))
        }
        let rest = line[(firstSpace + 1)...]
        guard let secondSpace = rest.firstIndex(of: ASCII.space), secondSpace > firstSpace + 1 else {
            return .failure(.badRequest("malformed request line"))
        }
        let methodBytes = UnsafeRawBufferPointer(rebasing: line[..<firstSpace])
        let targetBytes = UnsafeRawBufferPointer(rebasing: line[(firstSpace + 1)..<secondSpace])
        let versionBytes = UnsafeRawBufferPointer(rebasing: line[(secondSpace + 1)...])
        guard methodBytes.allSatisfy(ASCII.isTokenChar) else {
            return .failure(.badRequest("invalid byte in the request method"))
        }
        // Visible ASCII only: no CTL, DEL, SP, raw UTF-8 (A15), and no fragment, which clients never send.
        guard targetBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x23 }) else {
            return .failure(.badRequest("invalid byte in the request target"))
        }
        let version: HTTPVersion
        switch Self.parseVersion(versionBytes) {
        case .success(let parsed): version = parsed
        case .failure(let error): return .failure(error)
        }
        guard let method = HTTPMethod(rawValue: ASCII.string(methodBytes)) else {
            return .failure(.methodNotImplemented)
        }
        let target = ASCII.string(targetBytes)
        guard let (path, query) = Self.splitTarget(targetBytes, method: method) else {
            return .failure(.badRequest("invalid request target"))
        }
        return .success(PendingHead(method: method, target: target, path: path, query: query, version: version))
    }

    /// `HTTP-version = "HTTP/" DIGIT "." DIGIT`, case-sensitive (RFC 9112 §2.3). Major 1 is served (1.2 and up as
    /// 1.1, RFC 9110 §2.5); any other major is 505 (A5).
    static func parseVersion(_ bytes: UnsafeRawBufferPointer) -> Result<HTTPVersion, HTTPParseError> {
        let prefix: [UInt8] = Array("HTTP/".utf8)
        guard bytes.count == 8, bytes.prefix(5).elementsEqual(prefix), ASCII.isDigit(bytes[5]),
              bytes[6] == UInt8(ascii: "."), ASCII.isDigit(bytes[7])
        else {
            return .failure(.badRequest("malformed HTTP version"))
        }
        let version = HTTPVersion(major: Int(bytes[5] - 0x30), minor: Int(bytes[7] - 0x30))
        guard version.major == 1 else { return .failure(.versionNotSupported) }
        return .success(version)
    }

    /// Path and query of a request target, or nil for a form not allowed with this method (RFC 9112 §3.2).
    static func splitTarget(
        _ target: UnsafeRawBufferPointer, method: HTTPMethod
    ) -> (path: String, query: String?)? {
        if method == .CONNECT {
            // authority-form only, and a port is required (RFC 9112 §3.2.3).
            guard HostSyntax.isValid(target, requirePort: true) else { return nil }
            return (ASCII.string(target), nil)
        }
        if target.count == 1, target[0] == UInt8(ascii: "*") {
            return method == .OPTIONS ? ("*", nil) : nil
        }
        if target[0] == ASCII.slash {
            return splitPathAndQuery(target)
        }
        // absolute-form: "http(s)://" authority path-abempty [ "?" query ] (RFC 9112 §3.2.2).
        let afterScheme: Int
        if target.count >= 7, ASCII.equalsLowercase(UnsafeRawBufferPointer(rebasing: target[..<7]), "http://") {
            afterScheme = 7
        } else if target.count >= 8,
                  ASCII.equalsLowercase(UnsafeRawBufferPointer(rebasing: target[..<8]), "https://") {
            afterScheme = 8
        } else {
            return nil
        }
        let rest = target[afterScheme...]
        let authorityEnd = rest.firstIndex { $0 == ASCII.slash || $0 == ASCII.question } ?? target.count
        guard HostSyntax.isValid(UnsafeRawBufferPointer(rebasing: target[afterScheme..<authorityEnd]),
                                 requirePort: false)
        else { return nil }
        guard authorityEnd < target.count else { return ("/", nil) }
        if target[authorityEnd] == ASCII.question {
            return ("/", ASCII.string(UnsafeRawBufferPointer(rebasing: target[(authorityEnd + 1)...])))
        }
        return splitPathAndQuery(UnsafeRawBufferPointer(rebasing: target[authorityEnd...]))
    }

    private static func splitPathAndQuery(_ bytes: UnsafeRawBufferPointer) -> (path: String, query: String?) {
        guard let mark = bytes.firstIndex(of: ASCII.question) else { return (ASCII.string(bytes), nil) }
        return (ASCII.string(UnsafeRawBufferPointer(rebasing: bytes[..<mark])),
                ASCII.string(UnsafeRawBufferPointer(rebasing: bytes[(mark + 1)...])))
    }

    // MARK: header fields

    /// `field-name ":" OWS field-value OWS`. The name is a token right up to the colon (no whitespace, B3); a line
    /// starting with whitespace is obs-fold or B5 and is rejected.
    static func splitField(
        _ line: UnsafeRawBufferPointer
    ) -> Result<(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer), HTTPParseError> {
        var colon = 0
        while colon < line.count, ASCII.isTokenChar(line[colon]) { colon += 1 }
        guard colon > 0, colon < line.count, line[colon] == ASCII.colon else {
            if let first = line.first, ASCII.isWhitespace(first) {
                return .failure(.badRequest("folded or whitespace-prefixed header line"))
            }
            return .failure(.badRequest("malformed header field name"))
        }
        let value = ASCII.trimmingWhitespace(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
        guard value.allSatisfy(ASCII.isFieldValueByte) else {
            return .failure(.badRequest("control character in a header field value"))
        }
        return .success((UnsafeRawBufferPointer(rebasing: line[..<colon]), value))
    }

    /// Validates one header or trailer field line and records it; interprets request header fields we act on.
    mutating func headerField(_ line: UnsafeRawBufferPointer, isTrailer: Bool, _ events: inout [HTTPParserEvent]) {
        headerCount += 1
        guard headerCount <= limits.maxHeaderCount else {
            fail(.tooManyHeaders, &events)
            return
        }
        let name: UnsafeRawBufferPointer
        let value: UnsafeRawBufferPointer
        switch Self.splitField(line) {
        case .success(let field): (name, value) = field
        case .failure(let error):
            fail(error, &events)
            return
        }
        if isTrailer {
            // Trailers never influence framing, routing or auth (D8): recorded, never interpreted.
            trailers.add(name: ASCII.string(name), value: ASCII.string(value))
            return
        }
        guard var head = pending else {
            preconditionFailure("header line without a request line")
        }
        pending = nil  // sole owner of the headers buffer while appending: no copy-on-write per field
        if let known = KnownField(name), let error = Self.interpret(known, value, into: &head) {
            fail(error, &events)
            return
        }
        head.headers.add(name: ASCII.string(name), value: ASCII.string(value))
        pending = head
    }

    /// Applies a field we act on to `head`; returns the error it causes, if any.
    private static func interpret(
        _ field: KnownField, _ value: UnsafeRawBufferPointer, into head: inout PendingHead
    ) -> HTTPParseError? {
        switch field {
        case .host:
            guard !head.hasHost else { return .badRequest("more than one Host header field") }
            guard HostSyntax.isValid(value, requirePort: false) else { return .badRequest("invalid Host header") }
            head.hasHost = true
        case .contentLength:
            guard head.contentLength == nil else { return .badRequest("more than one Content-Length field") }
            guard let length = parseContentLength(value) else { return .badRequest("invalid Content-Length") }
            head.contentLength = length
        case .transferEncoding:
            guard head.transferEncoding == nil else {
                return .badRequest("more than one Transfer-Encoding field")
            }
            head.transferEncoding = parseTransferCoding(value)
        case .connection:
            var valid = true
            forEachListElement(value) { token in
                guard token.allSatisfy(ASCII.isTokenChar) else {
                    valid = false
                    return
                }
                if ASCII.equalsLowercase(token, "close") { head.connectionClose = true }
                if ASCII.equalsLowercase(token, "keep-alive") { head.connectionKeepAlive = true }
            }
            guard valid else { return .badRequest("invalid Connection header") }
        case .expect:
            guard head.expectsContinue == nil else { return .badRequest("more than one Expect field") }
            head.expectsContinue = ASCII.equalsLowercase(value, "100-continue")
        case .contentType:
            guard !head.hasContentType else { return .badRequest("more than one Content-Type field") }
            head.hasContentType = true
        }
        return nil
    }

    /// `Content-Length = 1*DIGIT`, decimal, with overflow checks (C3, C4, C7). Lists such as `5, 5` are invalid.
    static func parseContentLength(_ value: UnsafeRawBufferPointer) -> Int? {
        guard !value.isEmpty else { return nil }
        var length = 0
        for byte in value {
            guard ASCII.isDigit(byte) else { return nil }
            let (shifted, overflow1) = length.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(Int(byte - 0x30))
            guard !overflow1, !overflow2 else { return nil }
            length = sum
        }
        return length
    }

    /// Classifies a Transfer-Encoding value (D11): exactly `chunked` is supported; `chunked` anywhere but last, an
    /// empty element or a non-token element is malformed; any other coding is unsupported.
    static func parseTransferCoding(_ value: UnsafeRawBufferPointer) -> TransferCoding {
        var codings = 0
        var malformed = value.isEmpty
        var chunkedAt: Int?
        var elements = 0
        forEachListElement(value, keepEmpty: true) { element in
            elements += 1
            guard !element.isEmpty, element.allSatisfy(ASCII.isTokenChar) else {
                malformed = true
                return
            }
            if ASCII.equalsLowercase(element, "chunked") {
                if chunkedAt != nil { malformed = true }
                chunkedAt = elements
            }
            codings += 1
        }
        if malformed { return .malformed }
        if let position = chunkedAt {
            guard position == elements else { return .malformed }
            return elements == 1 ? .chunked : .unsupported
        }
        return .unsupported
    }

    /// Calls `body` with each comma-separated element of a list value, OWS-trimmed; empty elements are skipped
    /// unless `keepEmpty` (RFC 9110 §5.6.1 lets recipients ignore them; framing fields do not).
    static func forEachListElement(
        _ value: UnsafeRawBufferPointer, keepEmpty: Bool = false, _ body: (UnsafeRawBufferPointer) -> Void
    ) {
        var start = 0
        for index in 0...value.count where index == value.count || value[index] == ASCII.comma {
            let element = ASCII.trimmingWhitespace(UnsafeRawBufferPointer(rebasing: value[start..<index]))
            if keepEmpty || !element.isEmpty { body(element) }
            start = index + 1
        }
    }

    // MARK: end of head

    /// Decides Host, framing, Expect and persistence, then emits `.head` (and `.end` when there is no body).
    mutating func finishHead(_ events: inout [HTTPParserEvent]) {
        guard let head = pending else {
            preconditionFailure("end of head without a request line")
        }
        let isHTTP11 = head.version.isAtLeast1_1
        guard head.hasHost || !isHTTP11 else {
            fail(.badRequest("missing Host header"), &events)
            return
        }
        let framing: HTTPBodyFraming
        if let coding = head.transferEncoding {
            guard isHTTP11 else {
                fail(.badRequest("Transfer-Encoding in an HTTP/1.0 request"), &events)
                return
            }
            guard head.contentLength == nil else {
                fail(.badRequest("both Transfer-Encoding and Content-Length"), &events)
                return
            }
            switch coding {
            case .chunked: framing = .chunked
            case .malformed:
                fail(.badRequest("malformed Transfer-Encoding"), &events)
                return
            case .unsupported:
                fail(.unsupportedTransferEncoding, &events)
                return
            }
        } else if let length = head.contentLength {
            guard length <= limits.maxBodyBytes else {
                fail(.bodyTooLarge, &events)
                return
            }
            framing = .contentLength(length)
        } else {
            framing = .none
        }
        var expectsContinue = false
        if isHTTP11, let isContinue = head.expectsContinue {
            guard isContinue else {
                fail(.expectationFailed, &events)
                return
            }
            expectsContinue = true
        }
        let keepAlive = isHTTP11 ? !head.connectionClose : head.connectionKeepAlive && !head.connectionClose
        events.append(.head(HTTPRequestHead(
            method: head.method, target: head.target, path: head.path, query: head.query, version: head.version,
            headers: head.headers, framing: framing, keepAlive: keepAlive, expectsContinue: expectsContinue)))
        pending = nil
        switch framing {
        case .none, .contentLength(0):
            events.append(.end(trailers: HTTPHeaders()))
            resetForNextMessage()
        case .contentLength(let length):
            state = .contentBody(remaining: length)
        case .chunked:
            state = .chunkSizeLine
        }
    }
}
