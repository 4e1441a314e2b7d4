import HTTP1
import Testing
import TestSupport

@Suite("HTTP message types")
struct HTTPMessageTypesTests {
    @Test("A response head serialises as an HTTP/1.1 status line, fields and a blank line")
    func responseHead() {
        let head = HTTPResponseHead(status: 404, headers: HTTPHeaders([("Content-Length", "0"), ("X", "a\r\nb")]))
        #expect(String(decoding: head.bytes, as: UTF8.self)
            == "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nX: a  b\r\n\r\n")
        var buffer = Array("prefix".utf8)
        HTTPResponseHead(status: 431).serialize(into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "prefixHTTP/1.1 431 Request Header Fields Too Large\r\n\r\n")
    }

    @Test("Reason phrases cover the statuses the parser produces", arguments: [400, 413, 414, 417, 431, 501, 505])
    func reasonPhrases(status: Int) {
        #expect(!HTTPStatus.reasonPhrase(for: status).isEmpty)
        #expect(HTTPStatus.reasonPhrase(for: status) != "Client Error")
        #expect(HTTPStatus.reasonPhrase(for: status) != "Server Error")
    }

    @Test("Chunked encoder output decodes back through the request parser")
    func chunkedRoundTrip() {
        let pieces = [Array("hello ".utf8), [], Array(repeating: 0x41, count: 300)]
        var stream = Array("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for piece in pieces { stream += HTTPChunkedEncoder.chunk(piece) }
        stream += HTTPChunkedEncoder.last
        #expect(HTTPChunkedEncoder.chunk(Array("hi".utf8)) == Array("2\r\nhi\r\n".utf8))
        #expect(Array(HTTPChunkedEncoder.chunk(Array(repeating: 0, count: 300)).prefix(5)) == Array("12c\r\n".utf8))
        var parser = HTTPRequestParser()
        var body: [UInt8] = []
        var ended = false
        for event in parser.feed(stream) {
            if case .body(let piece) = event { body += piece }
            if case .end = event { ended = true }
        }
        #expect(ended)
        #expect(body == pieces.flatMap { $0 })
    }

    @Test("Headers keep order and look names up case-insensitively")
    func headers() {
        var headers = HTTPHeaders([("Accept", "a"), ("X", "1"), ("accept", "b")])
        #expect(headers["ACCEPT"] == "a")
        #expect(headers.values("Accept") == ["a", "b"])
        #expect(headers.combinedValue("accept") == "a, b")
        #expect(headers.contains("x"))
        headers.replaceOrAdd(name: "ACCEPT", value: "c")
        #expect(headers.map(\.name) == ["Accept", "X"])
        #expect(headers["accept"] == "c")
        headers.add(name: "Y", value: "2")
        headers.remove(name: "x")
        #expect(headers.count == 2)
        #expect(headers == HTTPHeaders([("Accept", "c"), ("Y", "2")]))
    }

    @Test("Media types parse case-insensitively with quoted parameters")
    func mediaTypes() throws {
        let json = try #require(HTTPMediaType.parse("Application/JSON ; charset=UTF-8"))
        #expect(json.type == "application")
        #expect(json.subtype == "json")
        #expect(json.parameter("CHARSET") == "UTF-8")
        let quoted = try #require(HTTPMediaType.parse("text/plain; a=\"x;y \\\"z\\\"\"; b=1;"))
        #expect(quoted.parameters.map(\.0) == ["a", "b"])
        #expect(quoted.parameter("a") == "x;y \"z\"")
        for bad in ["", "text", "text/", "/plain", "text/plain; a", "text/plain; a=\"x", "text/plain; a=1; A=2",
                    "text/plain junk", "te xt/plain"] {
            #expect(HTTPMediaType.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("The parser is idle only between messages and stays failed after an error")
    func parserState() {
        var parser = HTTPRequestParser()
        #expect(parser.isIdle)
        #expect(parser.feed(Array("GET / HTTP/1.1\r\nHo".utf8)).isEmpty)
        #expect(!parser.isIdle)
        #expect(parser.feed(Array("st: x\r\n\r\n".utf8)).count == 2)
        #expect(parser.isIdle)
        #expect(parser.feed(Array("\r\n".utf8)).isEmpty)
        #expect(!parser.isIdle)
        let failed = parser.feed(Array("BAD\u{01}".utf8))
        #expect(failed.count == 1)
        #expect(parser.feed(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)).isEmpty)
        #expect(!parser.isIdle)
    }

    @Test("Default limits are the ones http-reference §2 suggests")
    func defaultLimits() {
        let limits = HTTPLimits()
        #expect(limits.maxRequestLineBytes == 8 * 1024)
        #expect(limits.maxHeaderLineBytes == 16 * 1024)
        #expect(limits.maxHeaderBytes == 32 * 1024)
        #expect(limits.maxHeaderCount == 100)
        #expect(limits.maxBodyBytes == 32 * 1024 * 1024)
        #expect(limits.maxChunkLineBytes == 4 * 1024)
        #expect(limits.maxLeadingEmptyLines == 4)
    }

    @Test("Configured limits of Int.max or below zero cannot make the parser trap")
    func extremeLimits() throws {
        let request = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;a=b\r\nhello\r\n0\r\nT: v\r\n\r\n"
        let unlimited = HTTPLimits(
            maxRequestLineBytes: .max, maxHeaderLineBytes: .max, maxHeaderBytes: .max, maxHeaderCount: .max,
            maxBodyBytes: .max, maxChunkLineBytes: .max, maxLeadingEmptyLines: .max, maxChunkExtensionBytes: .max)
        #expect(try HTTPParserVerifier.verify(request, limits: unlimited).count == 3)
        let negative = HTTPLimits(
            maxRequestLineBytes: .min, maxHeaderLineBytes: -1, maxHeaderBytes: .min, maxHeaderCount: -5,
            maxBodyBytes: .min, maxChunkLineBytes: .min, maxLeadingEmptyLines: .min, maxChunkExtensionBytes: .min)
        let events = try HTTPParserVerifier.verify(request, limits: negative)
        #expect(events.count == 1)
        if case .error(let error)? = events.first { #expect(error.status == 414) }
    }

    @Test("Error messages never echo request bytes")
    func errorsDoNotEcho() {
        let marker = "XSS<script>"
        let inputs = ["GET /\(marker)\u{7f} HTTP/1.1\r\n\r\n",
                      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \(marker)\r\n\r\n",
                      "\(marker) / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: \(marker)\r\n\r\n"]
        for input in inputs {
            var parser = HTTPRequestParser()
            let events = parser.feed(Array(input.utf8))
            guard case .error(let error)? = events.last else {
                Issue.record("no error for \(input)")
                continue
            }
            #expect(!error.message.contains("XSS") && !error.code.contains("XSS"))
        }
    }
}
