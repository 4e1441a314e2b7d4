// One row per case of http-reference §1 A–E, plus the parse-level F5, H and I rows. Row names start with the ID.
import HTTP1
import Testing
import TestSupport

private let h = hostLine

/// Request line (§1.A).
let requestLineRows: [ParseRow] = [
    ParseRow("A1 baseline GET", "GET / HTTP/1.1\r\n\(h)\r\n", .messages([message(keepAlive: true)])),
    ParseRow("A2 two leading empty lines are ignored", "\r\n\r\nGET / HTTP/1.1\r\n\(h)\r\n", .messages([message()])),
    ParseRow("A2 five leading empty lines exceed the cap", String(repeating: "\r\n", count: 5)
        + "GET / HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A3 two spaces after the method", "GET  / HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A3 tab after the method", "GET\t/ HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A3 trailing space after the version", "GET / HTTP/1.1 \r\n\(h)\r\n", .error(400)),
    ParseRow("A4 space inside the target", "GET /a b HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A5 HTTP/1.0 is served and closes", "GET / HTTP/1.0\r\n\r\n",
             .messages([message(version: .http1_0, keepAlive: false)])),
    ParseRow("A5 HTTP/1.0 with keep-alive stays open", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
             .messages([message(keepAlive: true)])),
    ParseRow("A5 HTTP/1.2 is served as 1.1", "GET / HTTP/1.2\r\n\(h)\r\n",
             .messages([message(version: HTTPVersion(major: 1, minor: 2), keepAlive: true)])),
    ParseRow("A5 HTTP/2.0 is 505", "GET / HTTP/2.0\r\n\(h)\r\n", .error(505)),
    ParseRow("A5 HTTP/3.0 is 505", "GET / HTTP/3.0\r\n\(h)\r\n", .error(505)),
    ParseRow("A5 lowercase http/1.1", "GET / http/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A5 HTTP/1 without minor", "GET / HTTP/1\r\n\(h)\r\n", .error(400)),
    ParseRow("A5 HTTP/01.1 leading zero", "GET / HTTP/01.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A5 HTTP/1.32 two-digit minor", "GET / HTTP/1.32\r\n\(h)\r\n", .error(400)),
    ParseRow("A5 HTTP/1.1.1", "GET / HTTP/1.1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A5 CRs inside the version", "GET / HTTP/\r\r1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A6 HTTP/0.9 request", "GET /\r\n\r\n", .error(400)),
    ParseRow("A7 lowercase method is 501", "get / HTTP/1.1\r\n\(h)\r\n", .error(501)),
    ParseRow("A7 unknown method is 501", "FOO / HTTP/1.1\r\n\(h)\r\n", .error(501)),
    ParseRow("A8 = in method", "G=T / HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A8 NUL in method", "G\u{00}T / HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A8 colon-prefixed method", ":GET / HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A8 empty method", " / HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A9 64-byte method is 501", String(repeating: "A", count: 64) + " / HTTP/1.1\r\n\(h)\r\n",
             .error(501)),
    ParseRow("A10 7900-byte path is accepted", "GET /" + String(repeating: "a", count: 7_899) + " HTTP/1.1\r\n\(h)\r\n",
             .messages([message(.GET, "/" + String(repeating: "a", count: 7_899))])),
    ParseRow("A11 16 KiB path is 414", "GET /" + String(repeating: "a", count: 16 * 1024) + " HTTP/1.1\r\n\(h)\r\n",
             .error(414)),
    ParseRow("A11 414 without waiting for the end of the line", "GET /" + String(repeating: "a", count: 9_000),
             .error(414)),
    ParseRow("A12 absolute-form routes by its path", "GET http://example.com/health HTTP/1.1\r\nHost: other\r\n\r\n",
             .messages([message(.GET, "/health", header: ("Host", "other"))])),
    ParseRow("A12 absolute-form with query and no path", "GET https://example.com:8443?a=1 HTTP/1.1\r\n\(h)\r\n",
             .messages([message(.GET, "/", query: "a=1")])),
    ParseRow("A12 absolute-form still needs a Host on HTTP/1.1", "GET http://example.com/health HTTP/1.1\r\n\r\n",
             .error(400)),
    ParseRow("A12 absolute-form still validates Host", "GET http://example.com/ HTTP/1.1\r\nHost: a b\r\n\r\n",
             .error(400)),
    ParseRow("A12 absolute-form with an invalid authority", "GET http://u@a/ HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A13 OPTIONS * is accepted", "OPTIONS * HTTP/1.1\r\n\(h)\r\n", .messages([message(.OPTIONS, "*")])),
    ParseRow("A13 GET * is 400", "GET * HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A14 CONNECT parses for the server to refuse", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
             .messages([message(.CONNECT, "a:443")])),
    ParseRow("A14 CONNECT with an origin-form target", "CONNECT / HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A15 DEL in target", "GET /\u{7f} HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A15 raw UTF-8 in target", "GET /\u{3b4} HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A15 fragment in target", "GET /a#frag HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ParseRow("A16 h2 prior-knowledge preface is 505", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", .error(505)),
    ParseRow("A16 TLS ClientHello is 400", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03],
             .error(400)),
    ParseRow("A16 random binary is 400", [0x47, 0x45, 0x54, 0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a], .error(400)),
    ParseRow("A query is split from the path", "GET /p/q?x=1&y=%20 HTTP/1.1\r\n\(h)\r\n",
             .messages([message(.GET, "/p/q", query: "x=1&y=%20")])),
]

/// Header fields (§1.B).
let headerRows: [ParseRow] = [
    ParseRow("B1 HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", .error(400)),
    ParseRow("B1 HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", .messages([message()])),
    ParseRow("B2 two identical Host lines", "GET / HTTP/1.1\r\n\(h)\(h)\r\n", .error(400)),
    ParseRow("B2 Host list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", .error(400)),
    ParseRow("B2 Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", .error(400)),
    ParseRow("B2 Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .error(400)),
    ParseRow("B2 Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", .error(400)),
    ParseRow("B2 empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", .error(400)),
    ParseRow("B2 Host with port and IPv6 literal are valid", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
             .messages([message(header: ("host", "[::1]:8080"))])),
    ParseRow("B3 space before the colon of Host", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", .error(400)),
    ParseRow("B3 space before the colon of Content-Length",
             "POST / HTTP/1.1\r\n\(h)Content-Length : 5\r\n\r\nhello", .error(400)),
    ParseRow("B4 obs-fold", "GET / HTTP/1.1\r\n\(h)X: a\r\n b\r\n\r\n", .error(400)),
    ParseRow("B4 folded Transfer-Encoding", "POST / HTTP/1.1\r\n\(h)Transfer-Encoding:\r\n chunked\r\n\r\n",
             .error(400)),
    ParseRow("B5 whitespace line before the first header", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", .error(400)),
    ParseRow("B6 line without a colon", "GET / HTTP/1.1\r\n\(h)Foo\r\n\r\n", .error(400)),
    ParseRow("B6 Content-Length without a colon", "GET / HTTP/1.1\r\n\(h)Content-Length 10\r\n\r\n", .error(400)),
    ParseRow("B6 empty name", "GET / HTTP/1.1\r\n\(h): v\r\n\r\n", .error(400)),
    ParseRow("B6 lone colon", "GET / HTTP/1.1\r\n\(h):\r\n\r\n", .error(400)),
    ParseRow("B7 brackets in a name", "GET / HTTP/1.1\r\n\(h)X-Invalid[]: t\r\n\r\n", .error(400)),
    ParseRow("B7 NUL in a name", "GET / HTTP/1.1\r\n\(h)a\u{00}b: c\r\n\r\n", .error(400)),
    ParseRow("B7 ESC in a name", "GET / HTTP/1.1\r\n\(h)a\u{1b}b: c\r\n\r\n", .error(400)),
    ParseRow("B7 tab in a name", "GET / HTTP/1.1\r\n\(h)a\tb: c\r\n\r\n", .error(400)),
    ParseRow("B7 obs-text in a name", bytes("GET / HTTP/1.1\r\n\(h)") + [0xef] + bytes("oo: bar\r\n\r\n"),
             .error(400)),
    ParseRow("B7 NEL after Content-Length", bytes("POST / HTTP/1.1\r\n\(h)Content-Length") + [0x85]
        + bytes(": 10\r\n\r\n"), .error(400)),
    ParseRow("B8 bare CR in a value", "GET / HTTP/1.1\r\n\(h)X: a\rb\r\n\r\n", .error(400)),
    ParseRow("B8 NUL in a value", "GET / HTTP/1.1\r\n\(h)X: a\u{00}b\r\n\r\n", .error(400)),
    ParseRow("B8 CR smuggling a Transfer-Encoding",
             "GET / HTTP/1.1\r\n\(h)X-Abc: \rxTransfer-Encoding: chunked\r\n\r\n",
             .error(400)),
    ParseRow("B9 SOH in a value", "GET / HTTP/1.1\r\n\(h)X: a\u{01}\r\n\r\n", .error(400)),
    ParseRow("B9 BEL in a value", "GET / HTTP/1.1\r\n\(h)X-Bad-Control-Char: test\u{07}\r\n\r\n", .error(400)),
    ParseRow("B9 VT in a value", "GET / HTTP/1.1\r\n\(h)X: a\u{0b}b\r\n\r\n", .error(400)),
    ParseRow("B9 DEL in a value", "GET / HTTP/1.1\r\n\(h)X: a\u{7f}\r\n\r\n", .error(400)),
    ParseRow("B9 obs-text in a value is opaque", bytes("GET / HTTP/1.1\r\n\(h)X: caf") + [0xc3, 0xa9, 0xff]
        + bytes("\r\n\r\n"), .messages([message(header: ("x", "caf\u{e9}\u{fffd}"))])),
    ParseRow("B10 bare LF line endings", "GET / HTTP/1.1\nHost: x\n\n", .error(400)),
    ParseRow("B11 bare CR between headers", "GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", .error(400)),
    ParseRow("B11 bare CR after the request line", "GET / HTTP/1.1\rLine: 1\r\n\(h)\r\n", .error(400)),
    ParseRow("B11 header block ended by CRLF CR", "GET / HTTP/1.1\r\n\(h)\rZ: y\r\n\r\n", .error(400)),
    ParseRow("B12 OWS is trimmed",
             "GET / HTTP/1.1\r\nHost:\tx \t\r\n\r\n", .messages([message(header: ("Host", "x"))])),
    ParseRow("B12 empty value is accepted", "GET / HTTP/1.1\r\n\(h)X-Empty:\r\n\r\n",
             .messages([message(header: ("X-Empty", ""))])),
    ParseRow("B12 NBSP is not trimmed", bytes("GET / HTTP/1.1\r\n\(h)X: ") + [0xc2, 0xa0] + bytes("a\r\n\r\n"),
             .messages([message(header: ("X", "\u{a0}a"))])),
    ParseRow("B13 name case does not matter", "POST / HTTP/1.1\r\nhoSt: x\r\ncOnTeNt-LeNgTh: 5\r\n\r\nhello",
             .messages([message(.POST, body: "hello", framing: .contentLength(5))])),
    ParseRow("B13 Content_Length is an unknown field", "POST / HTTP/1.1\r\n\(h)Content_Length: 5\r\n\r\n",
             .messages([message(.POST, framing: HTTPBodyFraming.none, header: ("Content_Length", "5"))])),
    ParseRow("B13 Transfer_Encoding is an unknown field", "POST / HTTP/1.1\r\n\(h)Transfer_Encoding: chunked\r\n\r\n",
             .messages([message(.POST, framing: HTTPBodyFraming.none)])),
    ParseRow("B14 101 header lines", "GET / HTTP/1.1\r\n\(h)" + (1...100).map { "X-\($0): v\r\n" }.joined() + "\r\n",
             .error(431)),
    ParseRow("B14 100 header lines are accepted",
             "GET / HTTP/1.1\r\n\(h)" + (1...99).map { "X-\($0): v\r\n" }.joined() + "\r\n", .messages([message()])),
    ParseRow("B14 one 20 KiB header line", "GET / HTTP/1.1\r\n\(h)X: " + String(repeating: "v", count: 20 * 1024)
        + "\r\n\r\n", .error(431)),
    ParseRow("B14 header section over 32 KiB", "GET / HTTP/1.1\r\n\(h)"
        + (1...5).map { "X-\($0): " + String(repeating: "v", count: 7 * 1024) + "\r\n" }.joined() + "\r\n",
             .error(431)),
    ParseRow("B15 two Content-Type fields", "POST / HTTP/1.1\r\n\(h)Content-Type: a/b\r\nContent-Type: a/b\r\n\r\n",
             .error(400)),
    ParseRow("B15 two Expect fields",
             "POST / HTTP/1.1\r\n\(h)Expect: 100-continue\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
             .error(400)),
    ParseRow("B15 repeated list fields stay separate", "GET / HTTP/1.1\r\n\(h)Accept: a\r\nAccept: b\r\n\r\n",
             .messages([message(header: ("accept", "a"))])),
]

/// Content-Length framing (§1.C).
let contentLengthRows: [ParseRow] = [
    ParseRow("C1 body then the next request",
             "POST /x HTTP/1.1\r\n\(h)Content-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\(h)\r\n",
             .messages([message(.POST, "/x", body: "hello", framing: .contentLength(5)), message()])),
    ParseRow("C2 neither CL nor TE means no body", "POST /caption HTTP/1.1\r\n\(h)\r\n",
             .messages([message(.POST, "/caption", framing: HTTPBodyFraming.none)])),
    ParseRow("C3 Content-Length 0", "POST / HTTP/1.1\r\n\(h)Content-Length: 0\r\n\r\n",
             .messages([message(.POST, framing: .contentLength(0))])),
    ParseRow("C3 Content-Length 007 is decimal 7", "POST / HTTP/1.1\r\n\(h)Content-Length: 007\r\n\r\n0123456",
             .messages([message(.POST, body: "0123456", framing: .contentLength(7))])),
    ParseRow("C3 Content-Length with tabs", "POST / HTTP/1.1\r\n\(h)Content-Length:\t42\t\r\n\r\n"
        + String(repeating: "z", count: 42), .messages([message(.POST, body: String(repeating: "z", count: 42))])),
] + ["+5", "-1", "-0", "0x5", "0o5", "5_0", "1 2", "4 2", "abc", "1Z", "", "5,6"].map { value in
    ParseRow("C4 invalid Content-Length \(value)", "POST / HTTP/1.1\r\n\(h)Content-Length: \(value)\r\n\r\n",
             .error(400))
} + [
    ParseRow("C5 two different Content-Lengths",
             "POST / HTTP/1.1\r\n\(h)Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
             .error(400)),
    ParseRow("C6 two identical Content-Length lines",
             "POST / HTTP/1.1\r\n\(h)Content-Length: 5\r\nContent-Length: 5\r\n\r\n",
             .error(400)),
    ParseRow("C6 Content-Length list 5, 5", "POST / HTTP/1.1\r\n\(h)Content-Length: 5, 5\r\n\r\nhello", .error(400)),
    ParseRow("C7 Content-Length overflow", "POST / HTTP/1.1\r\n\(h)Content-Length: 99999999999999999999999\r\n\r\n",
             .error(400)),
    ParseRow("C8 5 GiB Content-Length is 413 before any body",
             "POST / HTTP/1.1\r\n\(h)Content-Length: 5368709120\r\n\r\n",
             .error(413)),
    ParseRow("C9 partial body stays pending", "POST / HTTP/1.1\r\n\(h)Content-Length: 100\r\n\r\n0123456789",
             .incomplete(message(.POST, body: "0123456789", framing: .contentLength(100)))),
    ParseRow("C10 GET with a body is framed, not parsed as a request",
             "GET /health HTTP/1.1\r\n\(h)Content-Length: 10\r\n\r\n0123456789GET /health HTTP/1.1\r\n\(h)\r\n",
             .messages([message(.GET, "/health", body: "0123456789"), message(.GET, "/health")])),
]

/// Chunked transfer coding (§1.D).
let chunkedRows: [ParseRow] = {
    let head = "POST /x HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\n\r\n"
    let hello = message(.POST, "/x", body: "hello", framing: .chunked, trailers: [])
    var rows = [
        ParseRow("D1 chunked body", head + "5\r\nhello\r\n0\r\n\r\n", .messages([hello])),
        ParseRow("D1 uppercase hex size", head + "A\r\n0123456789\r\n0\r\n\r\n",
                 .messages([message(.POST, "/x", body: "0123456789")])),
        ParseRow("D1 000 as the last chunk", head + "5\r\nhello\r\n000\r\n\r\n", .messages([hello])),
        ParseRow("D1 Transfer-Encoding: Chunked", "POST /x HTTP/1.1\r\n\(h)Transfer-Encoding: Chunked\r\n\r\n"
            + "5\r\nhello\r\n0\r\n\r\n", .messages([hello])),
        ParseRow("D1 two chunks then a pipelined GET",
                 head + "2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\nGET / HTTP/1.1\r\n\(h)\r\n",
                 .messages([hello, message()])),
        ParseRow("D2 extensions with a quoted value", head + "5;a=b;c=\"d \\\"e\\\"\"\r\nhello\r\n0\r\n\r\n",
                 .messages([hello])),
        ParseRow("D2 BWS before the semicolon", head + "5 ;a\r\nhello\r\n0\r\n\r\n", .messages([hello])),
        ParseRow("D3 extension without a name", head + "2;\r\nhi\r\n0\r\n\r\n", .error(400)),
        ParseRow("D3 extension name with a bracket", head + "5;[=x\r\nhello\r\n0\r\n\r\n", .error(400)),
        ParseRow("D3 unbalanced quote", head + "5;a=\"b\r\nhello\r\n0\r\n\r\n", .error(400)),
        ParseRow("D3 NUL in an extension", head + "5;a=b\u{00}\r\nhello\r\n0\r\n\r\n", .error(400)),
        ParseRow("D3 bare CR in an extension", head + "5;a=\rb\r\nhello\r\n0\r\n\r\n", .error(400)),
        ParseRow("D3 text without a semicolon", head + "2 erfrferferf\r\nhi\r\n0\r\n\r\n", .error(400)),
        ParseRow("D4 64 KiB extension on one chunk line", head + "5;a=" + String(repeating: "b", count: 64 * 1024)
            + "\r\nhello\r\n0\r\n\r\n", .error(400)),
        ParseRow("D4 tiny chunks with long extensions", head
            + String(repeating: "1;x=" + String(repeating: "y", count: 4_000) + "\r\na\r\n", count: 5) + "0\r\n\r\n",
                 .error(400)),
        ParseRow("D5 17 hex digits", head + "00000000000000005\r\nhello\r\n0\r\n\r\n", .error(400)),
        ParseRow("D5 16 hex digits are fine", head + "0000000000000005\r\nhello\r\n0\r\n\r\n", .messages([hello])),
        ParseRow("D5 size larger than the body cap", head + "ffffffffffffffff\r\nhello\r\n0\r\n\r\n", .error(413)),
        ParseRow("D6 bare LF after the size", head + "5\nhello\r\n0\r\n\r\n", .error(400)),
        ParseRow("D6 CR CR after the size", head + "5\r\rhello\r\n0\r\n\r\n", .error(400)),
        ParseRow("D6 bare LF after the data", head + "5\r\nhello\n0\r\n\r\n", .error(400)),
        ParseRow("D6 data longer than declared", head + "5\r\nhelloXX\r\n0\r\n\r\n", .error(400)),
        ParseRow("D6 next size glued to the data", head + "5\r\nABCDE0\r\n\r\n", .error(400)),
        ParseRow("D7 missing last chunk", "PUT /x HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\n\r\n3\r\nfoo\r\n\r\n",
                 .error(400)),
        ParseRow("D8 trailers are returned", head + "5\r\nhello\r\n0\r\nX-T: v\r\n\r\n",
                 .messages([message(.POST, "/x", body: "hello", trailers: [("X-T", "v")])])),
        ParseRow("D8 framing trailers change nothing", head + "5\r\nhello\r\n0\r\nContent-Length: 50\r\n"
            + "Transfer-Encoding: gzip\r\n\r\nGET / HTTP/1.1\r\n\(h)\r\n",
                 .messages([message(.POST, "/x", body: "hello", framing: .chunked,
                                    trailers: [("Content-Length", "50"), ("Transfer-Encoding", "gzip")]),
                            message()])),
        ParseRow("D8 trailers follow the header rules", head + "5\r\nhello\r\n0\r\nX : v\r\n\r\n", .error(400)),
        ParseRow("D8 trailers count against the header section", head + "0\r\n"
            + (1...5).map { "X-\($0): " + String(repeating: "v", count: 7 * 1024) + "\r\n" }.joined() + "\r\n",
                 .error(431)),
        ParseRow("D9 chunked body over the cap is 413", head + "258\r\n" + String(repeating: "a", count: 600)
            + "\r\n258\r\n" + String(repeating: "b", count: 600) + "\r\n0\r\n\r\n",
                 .error(413, after: []), limits: HTTPLimits(maxBodyBytes: 1_000)),
        ParseRow("D10 chunked in HTTP/1.0",
                 "POST /x HTTP/1.0\r\n\(h)Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                 .error(400)),
        ParseRow("D12 two Transfer-Encoding lines", "POST /x HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .error(400)),
        ParseRow("D12 chunked plus identity lines", "POST /x HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\n"
            + "Transfer-Encoding: identity\r\n\r\n0\r\n\r\n", .error(400)),
    ]
    for size in ["0x5", "+5", "-5", "0_2e", " 5", "5 ", "Z", "", "1these-bytes"] {
        rows.append(ParseRow("D5 bad chunk size '\(size)'", head + size + "\r\nhello\r\n0\r\n\r\n", .error(400)))
    }
    let codings: [(String, Int)] = [
        ("gzip", 501), ("identity", 501), ("chunkedchunked", 501), ("chunked, chunked", 400),
        ("deflate, chunked", 501), (",chunked", 400), ("\u{0b}chunked", 400), ("\u{a0}chunked", 400), ("", 400),
        ("chunked, identity", 400),
    ]
    for (coding, status) in codings {
        rows.append(ParseRow("D11 Transfer-Encoding '\(coding)' is \(status)",
                             "POST /x HTTP/1.1\r\n\(h)Transfer-Encoding: \(coding)\r\n\r\n0\r\n\r\n", .error(status)))
    }
    return rows
}()

/// Smuggling shapes (§1.E).
let smugglingRows: [ParseRow] = {
    var rows = [
        ParseRow("E1 CL.TE", "POST / HTTP/1.1\r\n\(h)Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX",
                 .error(400)),
        ParseRow("E2 TE.CL", "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
            + "5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n", .error(400)),
        ParseRow("E3 underscore TE with CL frames by CL", "POST / HTTP/1.1\r\n\(h)Transfer_Encoding: chunked\r\n"
            + "Content-Length: 5\r\n\r\nhello", .messages([message(.POST, body: "hello", framing: .contentLength(5))])),
        ParseRow("E3 tab before chunked is valid OWS",
                 "POST / HTTP/1.1\r\n\(h)Transfer-Encoding:\tchunked \r\n\r\n0\r\n\r\n",
                 .messages([message(.POST, framing: .chunked)])),
        ParseRow("E4 CL.CL", "POST / HTTP/1.1\r\n\(h)Content-Length: 0\r\nContent-Length: 31\r\n\r\n", .error(400)),
        ParseRow("E5 empty CL then a real one", "POST / HTTP/1.1\r\n\(h)Content-Length: \r\nContent-Length: 43\r\n\r\n"
            + "POST /evil HTTP/1.1\r\n\(h)\r\n", .error(400)),
        ParseRow("E6 each message framed by its own headers", "POST / HTTP/1.1\r\n\(h)Content-Length: 0\r\n\r\n"
            + "POST / HTTP/1.1\r\n\(h)Content-Length: 34\r\n\r\nGET / HTTP/1.1\r\nHost: evil\r\n\r\nXXXX"
            + "GET / HTTP/1.1\r\n\(h)\r\n",
                 .messages([message(.POST, body: ""), message(.POST, body: "GET / HTTP/1.1\r\nHost: evil\r\n\r\nXXXX"),
                            message()])),
        ParseRow("E7 Connection: close marks the message final", "GET / HTTP/1.1\r\n\(h)Connection: close\r\n\r\n"
            + "GET /evil HTTP/1.1\r\n\(h)\r\n", .messages([message(keepAlive: false), message(.GET, "/evil")])),
        ParseRow("E8 good request then garbage",
                 "GET / HTTP/1.1\r\n\(h)\r\nInvalid\r\n\r\n", .error(400, after: [message()])),
        ParseRow("E9 LF-separated Transfer-Encoding", "GET / HTTP/1.1\r\n\(h)X: a\nTransfer-Encoding: chunked\r\n\r\n",
                 .error(400)),
        ParseRow("E9 LF-separated Content-Length", "GET / HTTP/1.1\r\n\(h)Dummy: x\nContent-Length: 23\r\n\r\n",
                 .error(400)),
        ParseRow("E10 nothing is parsed after a smuggling 400",
                 "POST / HTTP/1.1\r\n\(h)Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                 + "GET /second HTTP/1.1\r\n\(h)\r\n", .error(400)),
    ]
    let obfuscations: [(String, String, [Int])] = [
        ("space before colon", "Transfer-Encoding : chunked\r\n", [400]),
        ("folded", "Transfer-Encoding:\r\n chunked\r\n", [400]),
        ("xchunked", "Transfer-Encoding: xchunked\r\n", [400, 501]),
        ("chunked, identity", "Transfer-Encoding: chunked, identity\r\n", [400, 501]),
        ("VT before chunked", "Transfer-Encoding: \u{0b}chunked\r\n", [400, 501]),
    ]
    for (name, line, statuses) in obfuscations {
        for status in statuses.prefix(1) {
            rows.append(ParseRow("E3 \(name) with CL", "POST / HTTP/1.1\r\n\(h)\(line)Content-Length: 5\r\n\r\nhello",
                                 .error(status)))
        }
    }
    return rows
}()

/// Connection tokens (F5), Expect (H1, H4, H5, H6) and HEAD pipelining (I1).
let connectionExpectRows: [ParseRow] = [
    ParseRow("F5 Connection: Close",
             "GET / HTTP/1.1\r\n\(h)Connection: Close\r\n\r\n", .messages([message(keepAlive: false)])),
    ParseRow("F5 keep-alive, close", "GET / HTTP/1.1\r\n\(h)Connection: keep-alive, close\r\n\r\n",
             .messages([message(keepAlive: false)])),
    ParseRow("F5 close followed by a tab", "GET / HTTP/1.1\r\n\(h)Connection: close\t\r\n\r\n",
             .messages([message(keepAlive: false)])),
    ParseRow("F5 close in a second Connection line",
             "GET / HTTP/1.1\r\n\(h)Connection: upgrade\r\nConnection: close\r\n\r\n",
             .messages([message(keepAlive: false)])),
    ParseRow("F5 keep CR alive", "GET / HTTP/1.1\r\n\(h)Connection: keep\ralive\r\n\r\n", .error(400)),
    ParseRow("F5 HTTP/1.0 keep-alive, close", "GET / HTTP/1.0\r\nConnection: Keep-Alive, close\r\n\r\n",
             .messages([message(keepAlive: false)])),
    ParseRow("H1 100-continue on HTTP/1.1",
             "POST /caption HTTP/1.1\r\n\(h)Content-Length: 5\r\nExpect: 100-continue\r\n\r\n",
             .incomplete(message(.POST, "/caption", expectsContinue: true))),
    ParseRow("H4 100-continue on HTTP/1.0 is ignored", "POST / HTTP/1.0\r\n\(h)Expect: 100-continue\r\n"
        + "Content-Length: 5\r\n\r\nhello", .messages([message(.POST, body: "hello", expectsContinue: false)])),
    ParseRow("H5 100-Continue compares case-insensitively", "POST / HTTP/1.1\r\n\(h)Expect: 100-Continue\r\n"
        + "Content-Length: 5\r\n\r\nhello", .messages([message(.POST, body: "hello", expectsContinue: true)])),
    ParseRow("H5 unknown expectation is 417", "POST / HTTP/1.1\r\n\(h)Expect: 200-ok\r\nContent-Length: 5\r\n\r\nhello",
             .error(417)),
    ParseRow("H6 GET with 100-continue and no body", "GET / HTTP/1.1\r\n\(h)Expect: 100-continue\r\n\r\n",
             .messages([message(expectsContinue: true)])),
    ParseRow("I1 HEAD then a pipelined GET", "HEAD /health HTTP/1.1\r\n\(h)\r\nGET /health HTTP/1.1\r\n\(h)\r\n",
             .messages([message(.HEAD, "/health"), message(.GET, "/health")])),
]

@Suite("Request parser conformance (http-reference §1)")
struct RequestParserConformanceTests {
    @Test("Request lines are parsed or rejected as §1.A says", arguments: requestLineRows)
    func requestLine(row: ParseRow) throws { try check(row) }

    @Test("Header fields are parsed or rejected as §1.B says", arguments: headerRows)
    func headers(row: ParseRow) throws { try check(row) }

    @Test("Content-Length framing follows §1.C", arguments: contentLengthRows)
    func contentLength(row: ParseRow) throws { try check(row) }

    @Test("Chunked framing follows §1.D", arguments: chunkedRows)
    func chunked(row: ParseRow) throws { try check(row) }

    @Test("Smuggling shapes are rejected or framed safely as §1.E says", arguments: smugglingRows)
    func smuggling(row: ParseRow) throws { try check(row) }

    @Test("Connection tokens, Expect and HEAD behave as §1.F5, H and I say", arguments: connectionExpectRows)
    func connectionAndExpect(row: ParseRow) throws { try check(row) }
}
