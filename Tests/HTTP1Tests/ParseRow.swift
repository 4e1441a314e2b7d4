// Table rows for the request-parser conformance tests: raw bytes in, the expected messages or error out.
// Every row runs through HTTPParserVerifier, so each one is also checked whole, byte by byte and split everywhere.
import HTTP1
import Testing
import TestSupport

/// `Host: x\r\n`, the `H` of http-reference §1.
let hostLine = "Host: x\r\n"

/// UTF-8 bytes of a string (`\u{00}`-style escapes for control bytes).
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// What one complete (or, for `.incomplete`, partial) message must look like; nil fields are not checked.
struct ExpectedMessage: Sendable {
    var method: HTTPMethod = .GET
    var path: String = "/"
    var body: String = ""
    var query: String?
    var version: HTTPVersion?
    var framing: HTTPBodyFraming?
    var keepAlive: Bool?
    var expectsContinue: Bool?
    var header: (name: String, value: String)?
    var absentHeader: String?
    var trailers: [(String, String)]?
    var bodyBytes: [UInt8]?
}

/// Shorthand constructor for `ExpectedMessage`.
func message(
    _ method: HTTPMethod = .GET, _ path: String = "/", body: String = "", query: String? = nil,
    version: HTTPVersion? = nil, framing: HTTPBodyFraming? = nil, keepAlive: Bool? = nil,
    expectsContinue: Bool? = nil, header: (String, String)? = nil, absentHeader: String? = nil,
    trailers: [(String, String)]? = nil, bodyBytes: [UInt8]? = nil
) -> ExpectedMessage {
    ExpectedMessage(
        method: method, path: path, body: body, query: query, version: version, framing: framing,
        keepAlive: keepAlive, expectsContinue: expectsContinue, header: header.map { (name: $0.0, value: $0.1) },
        absentHeader: absentHeader, trailers: trailers, bodyBytes: bodyBytes)
}

enum ExpectedOutcome: Sendable {
    /// Exactly these complete messages and nothing else.
    case messages([ExpectedMessage])
    /// These complete messages, then an error with this status.
    case error(Int, after: [ExpectedMessage] = [])
    /// These complete messages, then one whose head (and body so far) arrived but not its end; no error.
    case incomplete(ExpectedMessage, after: [ExpectedMessage] = [])
}

struct ParseRow: Sendable, CustomTestStringConvertible {
    let id: String
    let input: [UInt8]
    let expected: ExpectedOutcome
    var limits = HTTPLimits()
    var testDescription: String { id }

    init(_ id: String, _ input: [UInt8], _ expected: ExpectedOutcome, limits: HTTPLimits = HTTPLimits()) {
        self.id = id
        self.input = input
        self.expected = expected
        self.limits = limits
    }

    init(_ id: String, _ input: String, _ expected: ExpectedOutcome, limits: HTTPLimits = HTTPLimits()) {
        self.init(id, bytes(input), expected, limits: limits)
    }
}

/// A message as reassembled from events.
struct ParsedMessage {
    var head: HTTPRequestHead
    var body: [UInt8] = []
    var trailers: HTTPHeaders?
}

/// Runs a row through the verifier and checks the outcome.
func check(_ row: ParseRow) throws {
    let events = try HTTPParserVerifier.verify(row.input, limits: row.limits)
    var complete: [ParsedMessage] = []
    var current: ParsedMessage?
    var error: HTTPParseError?
    for event in events {
        #expect(error == nil, "an event after .error")
        switch event {
        case .head(let head):
            #expect(current == nil, "a head inside a message")
            current = ParsedMessage(head: head)
        case .body(let piece):
            current?.body += piece
            #expect(current != nil, "a body outside a message")
        case .end(let trailers):
            current?.trailers = trailers
            if let done = current { complete.append(done) }
            #expect(current != nil, "an end outside a message")
            current = nil
        case .error(let failure):
            error = failure
            #expect(!failure.message.isEmpty)
        }
    }
    switch row.expected {
    case .messages(let expected):
        #expect(error == nil, "unexpected error \(String(describing: error))")
        #expect(current == nil, "a message was left incomplete")
        compare(complete, expected)
    case .error(let status, let before):
        #expect(error?.status == status, "expected \(status), got \(String(describing: error))")
        compare(complete, before)
    case .incomplete(let partial, let before):
        #expect(error == nil, "unexpected error \(String(describing: error))")
        compare(complete, before)
        if let current {
            compare([current], [partial])
        } else {
            Issue.record("expected an incomplete message")
        }
    }
}

private func compare(_ parsed: [ParsedMessage], _ expected: [ExpectedMessage]) {
    #expect(parsed.count == expected.count, "message count")
    for (got, want) in zip(parsed, expected) {
        let head = got.head
        #expect(head.method == want.method)
        #expect(head.path == want.path)
        #expect(got.body == (want.bodyBytes ?? bytes(want.body)))
        if let query = want.query { #expect(head.query == query) }
        if let version = want.version { #expect(head.version == version) }
        if let framing = want.framing { #expect(head.framing == framing) }
        if let keepAlive = want.keepAlive { #expect(head.keepAlive == keepAlive) }
        if let expectsContinue = want.expectsContinue { #expect(head.expectsContinue == expectsContinue) }
        if let header = want.header { #expect(head.headers[header.name] == header.value) }
        if let absent = want.absentHeader { #expect(!head.headers.contains(absent)) }
        if let trailers = want.trailers { #expect(got.trailers == HTTPHeaders(trailers)) }
    }
}
