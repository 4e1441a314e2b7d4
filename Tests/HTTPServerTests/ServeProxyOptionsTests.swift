import Foundation
import Testing
import TestSupport

/// `tiaoyu serve --trusted-proxies / --url-prefix` and their environment twins, as operators set them.
@Suite struct ServeProxyOptionsTests {
    @Test func theEnvironmentTwinsMountTheServerAndTrustTheProxy() throws {
        let child = try ServeCommandTests.Child(arguments: ["--port", "0"], environment: [
            "TIAOYU_URL_PREFIX": "/tiaoyu/", "TIAOYU_TRUSTED_PROXIES": "127.0.0.0/8, ::1",
        ])
        #expect(child.waitForListening())
        let client = try RawHTTPConnection(port: child.port)
        client.send("GET /tiaoyu/healthz HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.20\r\n"
            + "X-Forwarded-Proto: https\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.readResponses(2).map(\.status) == [200, 404])
        kill(child.process.processIdentifier, SIGTERM)
        #expect(child.waitForExit(timeout: 10) == 0)
        let log = child.remainingLog()
        #expect(log.contains("client=198.51.100.20"))
        #expect(log.contains("proto=https"))
        #expect(log.contains("prefix=/tiaoyu"))
    }

    @Test func aForwardedForFromAnUntrustedPeerIsIgnored() throws {
        let child = try ServeCommandTests.Child(arguments: ["--port", "0", "--trusted-proxies", "10.0.0.0/8"])
        #expect(child.waitForListening())
        let client = try RawHTTPConnection(port: child.port)
        client.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.20\r\n\r\n")
        #expect(client.readResponses(1).map(\.status) == [200])
        kill(child.process.processIdentifier, SIGTERM)
        #expect(child.waitForExit(timeout: 10) == 0)
        let log = child.remainingLog()
        #expect(log.contains("client=127.0.0.1 "))
        #expect(!log.contains("198.51.100.20"))
    }

    @Test(arguments: [
        (["--url-prefix", "tiaoyu"], "TIAOYU_URL_PREFIX"),
        (["--url-prefix", "/a/../b"], "TIAOYU_URL_PREFIX"),
        (["--trusted-proxies", "10.0.0.0/40"], "TIAOYU_TRUSTED_PROXIES"),
        (["--trusted-proxies", "proxy.internal"], "'proxy.internal' is not an IPv4 or IPv6 address"),
    ])
    func badValuesAreClearStartupErrors(arguments: [String], message: String) throws {
        let child = try ServeCommandTests.Child(arguments: ["--port", "0"] + arguments)
        #expect(child.waitForExit(timeout: 10) != 0)
        #expect(child.remainingLog().contains(message))
    }
}
