import Dispatch
import Foundation
import HTTP1
@testable import HTTPServer
import Testing
import TestSupport

/// Protocol behaviour over real loopback sockets (http-reference §1 IDs in the test names).
@Suite struct HTTPServerIntegrationTests {
    static let host = "Host: x\r\n"

    @Test func healthzAnswersJSONWithDateAndKeepsTheConnectionOpen() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        let responses = client.readResponses(1)
        #expect(responses.map(\.status) == [200])
        #expect(responses.first?.text == #"{"status":"ok"}"#)
        #expect(responses.first?.header("Content-Type") == "application/json")
        #expect(responses.first?.header("Date")?.hasSuffix(" GMT") == true)
        #expect(responses.first?.header("X-Request-Id")?.isEmpty == false)
        #expect(!client.closedByPeer(within: 0.2))
    }

    @Test func requestIdFromTheClientIsEchoedAndHostileOnesAreReplaced() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET /healthz HTTP/1.1\r\n\(Self.host)X-Request-Id: abc-123.def\r\n\r\n")
        client.send("GET /healthz HTTP/1.1\r\n\(Self.host)X-Request-Id: <script>\r\n\r\n")
        let responses = client.readResponses(2)
        #expect(responses.first?.header("X-Request-Id") == "abc-123.def")
        #expect(responses.last?.header("X-Request-Id") != "<script>")
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        // F1: a slow first request must not let the fast second one overtake it.
        client.send("GET /slow?ms=200 HTTP/1.1\r\n\(Self.host)\r\nGET /healthz HTTP/1.1\r\n\(Self.host)\r\n"
            + "POST /echo HTTP/1.1\r\n\(Self.host)Content-Length: 5\r\n\r\nhello")
        let responses = client.readResponses(3)
        #expect(responses.map(\.status) == [200, 200, 200])
        #expect(responses.map(\.text) == ["slept 200", #"{"status":"ok"}"#, "hello"])
    }

    @Test func headHasTheHeadersOfGetAndNoBodySoThePipelinedGetParses() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("HEAD /healthz HTTP/1.1\r\n\(Self.host)\r\nGET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        let responses = client.readResponses(2, headIndices: [0])
        #expect(responses.map(\.status) == [200, 200])
        #expect(responses.first?.header("Content-Length") == "15")
        #expect(responses.first?.body == [])
        #expect(responses.last?.text == #"{"status":"ok"}"#)
    }

    @Test func http10ClosesUnlessKeepAliveIsAsked() throws {
        let server = try TestServer()
        defer { server.stop() }
        let plain = try server.connect()
        plain.send("GET /healthz HTTP/1.0\r\n\r\n")
        #expect(plain.readResponses(1).first?.header("Connection") == "close")
        #expect(plain.closedByPeer(within: 2))

        let keepAlive = try server.connect()
        keepAlive.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        keepAlive.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let responses = keepAlive.readResponses(2)
        #expect(responses.map(\.status) == [200, 200])
        #expect(responses.allSatisfy { $0.header("Connection") == "keep-alive" && $0.header("Content-Length") != nil })
        #expect(!keepAlive.closedByPeer(within: 0.2))
    }

    @Test func connectionCloseIsTheLastRequestProcessed() throws {
        // E7: the second request after `Connection: close` is never processed.
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET /healthz HTTP/1.1\r\n\(Self.host)Connection: close\r\n\r\nGET /metrics HTTP/1.1\r\n\(Self.host)\r\n")
        let responses = client.readResponses(2, timeout: 1)
        #expect(responses.map(\.status) == [200])
        #expect(responses.first?.header("Connection") == "close")
        #expect(client.closedByPeer(within: 2))
    }

    @Test(arguments: [
        ("E1 CL.TE", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX", 400),
        ("E2 TE.CL", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n", 400),
        ("C5 CL.CL", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
        ("D11 gzip TE", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        ("B1 no Host", "GET /healthz HTTP/1.1\r\n\r\n", 400),
        ("A5 HTTP/2.0", "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        ("B4 obs-fold", "GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400),
        ("A16 binary", "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}\r\n\r\n", 400),
    ])
    func framingErrorsGetOneJSONErrorThenEOF(name: String, request: String, status: Int) throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send(request)
        let responses = client.readResponses(2, timeout: 1)
        #expect(responses.map(\.status) == [status], "\(name)")
        #expect(responses.first?.header("Connection") == "close", "\(name)")
        #expect(responses.first?.text.contains(#""error":{"code":"#) == true, "\(name)")
        #expect(client.closedByPeer(within: 5), "\(name)")
        #expect(client.unconsumed.isEmpty, "\(name): E10, nothing after the error response")
    }

    @Test func aGoodRequestIsAnsweredBeforeTheGarbageAfterIt() throws {
        // E8
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET /healthz HTTP/1.1\r\n\(Self.host)\r\nInvalid\r\n\r\n")
        let responses = client.readResponses(2)
        #expect(responses.map(\.status) == [200, 400])
        #expect(client.closedByPeer(within: 5))
    }

    @Test func getWithAContentLengthBodyIsFramedNotParsedAsTheNextRequest() throws {
        // C10
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET /healthz HTTP/1.1\r\n\(Self.host)Content-Length: 10\r\n\r\n0123456789GET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        #expect(client.readResponses(2).map(\.status) == [200, 200])
    }

    @Test func chunkedBodiesAreDecoded() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("POST /echo HTTP/1.1\r\n\(Self.host)Transfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nX-T: v\r\n\r\n")
        #expect(client.readResponses(1).first?.text == "hello world")
    }

    @Test func routingAnswers404And405WithAllowAndOptions() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET /nope HTTP/1.1\r\n\(Self.host)\r\n")
        client.send("POST /healthz HTTP/1.1\r\n\(Self.host)Content-Length: 0\r\n\r\n")
        client.send("OPTIONS /echo HTTP/1.1\r\n\(Self.host)\r\n")
        client.send("OPTIONS * HTTP/1.1\r\n\(Self.host)\r\n")
        client.send("TRACE /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        let responses = client.readResponses(5)
        #expect(responses.map(\.status) == [404, 405, 204, 204, 405])
        #expect(responses[0].text.contains("not_found"))
        #expect(responses[1].header("Allow") == "GET, HEAD, OPTIONS")
        #expect(responses[2].header("Allow") == "POST, OPTIONS")
        #expect(responses[2].header("Content-Length") == nil)
        #expect(responses[3].header("Allow")?.contains("POST") == true)
        #expect(responses[4].header("Allow")?.contains("TRACE") == false)
    }

    @Test func unknownMethodIs501() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("FOO /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        #expect(client.readResponses(1).map(\.status) == [501])
    }

    @Test func limitsAnswer414And431And413BeforeReadingTheExcess() throws {
        let server = try TestServer { $0.limits.maxBodyBytes = 1000 }
        defer { server.stop() }
        let longLine = try server.connect()
        longLine.send("GET /" + String(repeating: "a", count: 20000) + " HTTP/1.1\r\n\(Self.host)\r\n")
        #expect(longLine.readResponses(1).map(\.status) == [414])

        let bigHeader = try server.connect()
        bigHeader.send("GET /healthz HTTP/1.1\r\n\(Self.host)X-Big: " + String(repeating: "b", count: 40000) + "\r\n\r\n")
        #expect(bigHeader.readResponses(1).map(\.status) == [431])

        // The 413 arrives although the client sent none of the announced body (C8).
        let bigBody = try server.connect()
        bigBody.send("POST /echo HTTP/1.1\r\n\(Self.host)Content-Length: 5000000\r\n\r\n")
        let responses = bigBody.readResponses(1, timeout: 2)
        #expect(responses.map(\.status) == [413])
        #expect(bigBody.closedByPeer(within: 5))
    }

    @Test func expectContinueGets100ThenTheFinalResponse() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("POST /echo HTTP/1.1\r\n\(Self.host)Content-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = client.readAvailable(timeout: 1)
        #expect(String(decoding: interim, as: UTF8.self).hasPrefix("HTTP/1.1 100 Continue\r\n\r\n"))
        client.send("hello")
        let responses = client.readResponses(1)
        #expect(responses.first?.text == "hello")
    }

    @Test func expectContinueOnAnUnknownRouteIsRefusedWithout100() throws {
        // H3
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("POST /nowhere HTTP/1.1\r\n\(Self.host)Content-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let bytes = String(decoding: client.readAvailable(timeout: 1), as: UTF8.self)
        #expect(bytes.hasPrefix("HTTP/1.1 404 "))
        #expect(!bytes.contains("100 Continue"))
    }

    @Test func unknownExpectationIs417() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("POST /echo HTTP/1.1\r\n\(Self.host)Content-Length: 5\r\nExpect: 200-ok\r\n\r\nhello")
        #expect(client.readResponses(1).map(\.status) == [417])
    }

    @Test func aStalledHeadGets408AndTheConnectionCloses() throws {
        let server = try TestServer { $0.headerTimeout = .milliseconds(300) }
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET /healthz HTTP/1.1\r\nHo")
        let responses = client.readResponses(1, timeout: 3)
        #expect(responses.map(\.status) == [408])
        #expect(client.closedByPeer(within: 5))
    }

    @Test func aTrickledHeadIsCutByTheTotalHeaderTimeout() throws {
        // G1: bytes keep coming, but the whole head must arrive within the header timeout.
        let server = try TestServer { $0.headerTimeout = .milliseconds(400) }
        defer { server.stop() }
        let client = try server.connect()
        let start = Date()
        for byte in "GET /healthz HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8 {
            client.send([byte])
            usleep(50_000)
            if client.closedByPeer(within: 0.001) { break }
        }
        #expect(client.closedByPeer(within: 3))
        #expect(Date().timeIntervalSince(start) < 2.5)
    }

    @Test func aStalledBodyGets408() throws {
        let server = try TestServer { $0.bodyTimeout = .milliseconds(300) }
        defer { server.stop() }
        let client = try server.connect()
        client.send("POST /echo HTTP/1.1\r\n\(Self.host)Content-Length: 100\r\n\r\n0123456789")
        #expect(client.readResponses(1, timeout: 3).map(\.status) == [408])
        #expect(client.closedByPeer(within: 5))
    }

    @Test func idleKeepAliveConnectionsCloseSilently() throws {
        let server = try TestServer { $0.idleTimeout = .milliseconds(300) }
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        #expect(client.readResponses(1).map(\.status) == [200])
        #expect(client.closedByPeer(within: 3))
        #expect(client.unconsumed.isEmpty)  // F6: no 408 for an idle connection
    }

    @Test func aBusyKeepAliveConnectionOutlivesItsFirstIdleDeadlineThenClosesWhenIdle() throws {
        // The timer is armed once and only moved earlier, never later: when it fires at the first deadline the
        // connection has been busy since, and must be given its real (later) idle deadline.
        let server = try TestServer { $0.idleTimeout = .milliseconds(400) }
        defer { server.stop() }
        let client = try server.connect()
        for _ in 0..<6 {
            client.send("GET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
            #expect(client.readResponses(1).map(\.status) == [200])
            usleep(150_000)
        }
        #expect(client.closedByPeer(within: 3))
        #expect(client.unconsumed.isEmpty)
    }

    @Test func aClientThatStopsReadingIsDroppedWithoutBlockingOthers() throws {
        // G3
        let server = try TestServer { $0.writeTimeout = .milliseconds(500) }
        defer { server.stop() }
        let slow = try server.connect()
        slow.setReceiveBuffer(4096)
        slow.send("GET /big?bytes=33554432 HTTP/1.1\r\n\(Self.host)\r\n")
        let other = try server.connect()
        for _ in 0..<5 {
            other.send("GET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
            #expect(other.readResponses(1).map(\.status) == [200])
        }
        usleep(1_500_000)
        #expect(server.server.metrics.openConnectionCount == 1)  // only `other` is left
    }

    @Test func maxConnectionsRefusesWith503() throws {
        let server = try TestServer { $0.maxConnections = 2 }
        defer { server.stop() }
        let first = try server.connect()
        let second = try server.connect()
        first.send("GET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        second.send("GET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        #expect(first.readResponses(1).map(\.status) == [200])
        #expect(second.readResponses(1).map(\.status) == [200])
        let third = try server.connect()
        let refused = third.readResponses(1, timeout: 2)
        #expect(refused.map(\.status) == [503])
        #expect(refused.first?.header("Retry-After") == "1")
    }

    @Test func aClientThatDisconnectsCancelsItsResponder() throws {
        let server = try TestServer()
        defer { server.stop() }
        do {
            let client = try server.connect()
            client.send("GET /slow?ms=1000 HTTP/1.1\r\n\(Self.host)X-Request-Id: gone-1\r\n\r\n")
            usleep(100_000)
        }  // closed here
        usleep(300_000)
        #expect(server.cancelled.all == ["gone-1"])
    }

    @Test func responsesAreGzippedWhenAcceptedAndWorthIt() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET /json HTTP/1.1\r\n\(Self.host)Accept-Encoding: br, gzip;q=0.8\r\n\r\n")
        client.send("GET /json HTTP/1.1\r\n\(Self.host)\r\n")
        client.send("GET /json HTTP/1.1\r\n\(Self.host)Accept-Encoding: gzip;q=0\r\n\r\n")
        let responses = client.readResponses(3)
        #expect(responses.count == 3)
        guard responses.count == 3 else { return }
        #expect(responses[0].header("Content-Encoding") == "gzip")
        #expect(responses[0].header("Vary") == "Accept-Encoding")
        #expect(responses[0].body.count < responses[1].body.count / 4)
        #expect(Gzip.decompress(responses[0].body) == responses[1].body)
        #expect(responses[1].header("Content-Encoding") == nil)
        #expect(responses[2].header("Content-Encoding") == nil)
    }

    @Test func streamedResponsesAreChunked() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET /stream HTTP/1.1\r\n\(Self.host)\r\nGET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        let responses = client.readResponses(2)
        #expect(responses.first?.header("Transfer-Encoding") == "chunked")
        #expect(responses.first?.text == "data: 0\n\ndata: 1\n\ndata: 2\n\n")
        #expect(responses.last?.status == 200)
    }

    @Test func metricsCountRequestsConnectionsAndBytes() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET /healthz HTTP/1.1\r\n\(Self.host)\r\nGET /nope HTTP/1.1\r\n\(Self.host)\r\n")
        _ = client.readResponses(2)
        client.send("GET /metrics HTTP/1.1\r\n\(Self.host)\r\n")
        let text = client.readResponses(1).first?.text ?? ""
        #expect(text.contains(#"tiaoyu_http_requests_total{route="/healthz",method="GET",status="200"} 1"#))
        #expect(text.contains(#"tiaoyu_http_requests_total{route="(unmatched)",method="GET",status="404"} 1"#))
        #expect(text.contains(#"tiaoyu_http_request_duration_seconds_count{route="/healthz"} 1"#))
        #expect(text.contains("tiaoyu_http_open_connections 1"))
        #expect(text.contains("tiaoyu_http_received_bytes_total"))
    }

    @Test func readinessFollowsTheApplicationAndDrain() throws {
        let server = try TestServer()
        let client = try server.connect()
        server.server.readiness = .loading
        client.send("GET /readyz HTTP/1.1\r\n\(Self.host)\r\n")
        let loading = client.readResponses(1).first
        #expect(loading?.status == 503)
        #expect(loading?.text == #"{"status":"loading"}"#)
        server.server.readiness = .ready
        client.send("GET /readyz HTTP/1.1\r\n\(Self.host)\r\n")
        #expect(client.readResponses(1).first?.status == 200)
        server.stop()
        #expect(server.server.readiness == .draining)
    }

    @Test func gracefulShutdownFinishesInFlightRequestsAndClosesIdleOnes() throws {
        // F12
        let server = try TestServer()
        let idle = try server.connect()
        idle.send("GET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        _ = idle.readResponses(1)
        let busy = try server.connect()
        busy.send("GET /slow?ms=500 HTTP/1.1\r\n\(Self.host)\r\n")
        usleep(100_000)
        let drained = DispatchSemaphore(value: 0)
        server.server.shutdown { drained.signal() }
        #expect(idle.closedByPeer(within: 1))
        let responses = busy.readResponses(1, timeout: 3)
        #expect(responses.map(\.status) == [200])
        #expect(responses.first?.header("Connection") == "close")
        #expect(drained.wait(timeout: .now() + 5) == .success)
        #expect(throws: (any Error).self) { try RawHTTPConnection(port: server.port) }
    }

    @Test func aConnectionAcceptedAsShutdownBeginsIsDrainedOrRefusedNeverMissed() throws {
        // F12: shutdown's list of open connections once raced a connection being accepted. The missed one was
        // never drained: it served keep-alive requests until the drain timeout cut it (seen once behind nginx).
        let server = try TestServer { $0.drainTimeout = .seconds(20) }
        let drained = DispatchSemaphore(value: 0)
        server.server.setAdmissionHook { [server] in server.server.shutdown { drained.signal() } }
        let client = try server.connect()
        client.send("GET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        // Refused (503), or drained: closed when idle, after answering the request if it was read first.
        let responses = client.readResponses(1, timeout: 2)
        #expect(responses.allSatisfy { [200, 503].contains($0.status) })
        #expect(client.closedByPeer(within: 2))
        #expect(drained.wait(timeout: .now() + 3) == .success)
    }

    @Test func theDrainTimeoutCutsRequestsThatDoNotFinish() throws {
        let server = try TestServer { $0.drainTimeout = .milliseconds(300) }
        let busy = try server.connect()
        busy.send("GET /slow?ms=5000 HTTP/1.1\r\n\(Self.host)\r\n")
        usleep(100_000)
        let drained = DispatchSemaphore(value: 0)
        let start = Date()
        server.server.shutdown { drained.signal() }
        #expect(drained.wait(timeout: .now() + 3) == .success)
        #expect(Date().timeIntervalSince(start) < 2)
        #expect(busy.closedByPeer(within: 1))
    }

    @Test func listensOnIPv6AndIPv4Together() throws {
        let server = try TestServer { $0.host = "*" }
        defer { server.stop() }
        let v4 = try RawHTTPConnection(port: server.port, host: "127.0.0.1")
        v4.send("GET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        #expect(v4.readResponses(1).map(\.status) == [200])
        // IPv6 loopback may be disabled in a sandbox; when it exists it must work.
        if let v6 = try? RawHTTPConnection(port: server.port, host: "::1") {
            v6.send("GET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
            #expect(v6.readResponses(1).map(\.status) == [200])
        }
    }

    @Test func aPeerThatResetsMidResponseDoesNotKillTheServer() throws {
        // P7: SIGPIPE is ignored and sends use MSG_NOSIGNAL.
        let server = try TestServer()
        defer { server.stop() }
        for _ in 0..<5 {
            let client = try server.connect()
            client.send("GET /big?bytes=8000000 HTTP/1.1\r\n\(Self.host)\r\n")
            var linger = linger(l_onoff: 1, l_linger: 0)  // close with RST
            setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        }
        usleep(200_000)
        let client = try server.connect()
        client.send("GET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        #expect(client.readResponses(1).map(\.status) == [200])
    }

    @Test func aHandlerThatForgetsToAnswerYields500NotAHang() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET /forgetful HTTP/1.1\r\n\(Self.host)\r\nGET /healthz HTTP/1.1\r\n\(Self.host)\r\n")
        let responses = client.readResponses(2)
        #expect(responses.map(\.status) == [500, 200])
        #expect(responses.first?.text.contains("internal_error") == true)
    }

    @Test func aClientThatHangsUpWhileItsPipelinedRequestsWaitIsClosedOnceTheyAreAnswered() throws {
        // Reading is paused (two complete requests wait) when the peer goes: the socket is not armed for
        // reading then, and must still be noticed and closed, not leak or spin (P4).
        let server = try TestServer { $0.maxPipelinedRequests = 2 }
        defer { server.stop() }
        do {
            let client = try server.connect()
            var burst = ""
            for _ in 0..<6 { burst += "GET /slow?ms=100 HTTP/1.1\r\n\(Self.host)\r\n" }
            client.send(burst)
            usleep(50_000)
        }  // closed here
        var open = server.server.metrics.openConnectionCount
        for _ in 0..<50 where open > 0 {
            usleep(100_000)
            open = server.server.metrics.openConnectionCount
        }
        #expect(open == 0)
    }

    @Test func aLongPipelinedBurstIsServedInOrderWithBoundedBuffering() throws {
        // F9: reading pauses and resumes many times while the burst drains.
        let server = try TestServer { $0.maxPipelinedRequests = 2 }
        defer { server.stop() }
        let client = try server.connect()
        var burst = ""
        for index in 0..<200 { burst += "GET /healthz HTTP/1.1\r\n\(Self.host)X-Request-Id: r\(index)\r\n\r\n" }
        client.send(burst)
        let responses = client.readResponses(200, timeout: 10)
        #expect(responses.count == 200)
        #expect(responses.map { $0.header("X-Request-Id") ?? "" } == (0..<200).map { "r\($0)" })
    }
}
