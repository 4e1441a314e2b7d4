import HTTP1
@testable import HTTPServer
import Testing

/// Trusted proxies: CIDR parsing and the rightmost-untrusted-hop rule for `X-Forwarded-For` / `-Proto`.
@Suite struct ProxyTrustTests {
    static func address(_ text: String) -> [UInt8] { IPAddressRange.parseAddress(text) ?? [] }

    @Test(arguments: [
        ("10.0.0.0/8", "10.255.1.2", true), ("10.0.0.0/8", "11.0.0.1", false),
        ("192.168.1.7", "192.168.1.7", true), ("192.168.1.7", "192.168.1.8", false),
        ("172.16.0.0/12", "172.31.255.255", true), ("172.16.0.0/12", "172.32.0.0", false),
        ("0.0.0.0/0", "8.8.8.8", true), ("fd00::/8", "fd12::1", true), ("fd00::/8", "fe80::1", false),
        ("::1", "::1", true), ("10.0.0.0/8", "::ffff:10.1.2.3", true), ("10.0.0.0/8", "fd00::1", false),
        ("10.1.2.3/8", "10.9.9.9", true),
    ])
    func rangesContainTheAddressesOfTheirNetwork(range: String, address: String, expected: Bool) throws {
        let parsed = try IPAddressRange(range)
        #expect(parsed.contains(Self.address(address)) == expected)
    }

    @Test(arguments: ["", "10.0.0.0/33", "::/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/-1", "host.example",
                      "fe80::1%eth0", "10.0.0.0/8/8", "1.2.3.4 ", "[::1", "10.0.0.0/+8"])
    func malformedRangesAreRejected(text: String) {
        #expect(throws: IPAddressRange.ParseError.self) { try IPAddressRange(text) }
    }

    @Test func aListTakesCommasAndSpacesAndNamesTheBadItem() throws {
        let ranges = try IPAddressRange.parseList("10.0.0.0/8, 127.0.0.1  fd00::/8")
        #expect(ranges.map(\.description) == ["10.0.0.0/8", "127.0.0.1/32", "fd00::/8"])
        #expect(throws: IPAddressRange.ParseError.badAddress("nonsense")) {
            try IPAddressRange.parseList("10.0.0.0/8,nonsense")
        }
        #expect(try IPAddressRange.parseList("").isEmpty)
    }

    let trust: ProxyTrust

    init() throws {
        trust = ProxyTrust(trustedProxies: try IPAddressRange.parseList("127.0.0.1, 10.0.0.0/8"))
    }

    func resolve(peer: String, _ headers: [(String, String)], scheme: String = "http") -> ProxyTrust.Resolution {
        trust.resolve(peer: Self.address(peer), peerText: peer, headers: HTTPHeaders(headers), transportScheme: scheme)
    }

    @Test func anUntrustedPeerIsTheClientWhateverItClaims() {
        let result = resolve(peer: "203.0.113.9", [("X-Forwarded-For", "1.1.1.1"), ("X-Forwarded-Proto", "https")])
        #expect(result == .init(clientAddress: "203.0.113.9", scheme: "http"))
    }

    @Test func aTrustedPeerHandsOverToTheRightmostUntrustedHop() {
        // The client wrote "6.6.6.6" itself; the proxies appended what they saw.
        let result = resolve(peer: "127.0.0.1", [("X-Forwarded-For", "6.6.6.6, 198.51.100.4, 10.1.1.1"),
                                                 ("X-Forwarded-Proto", "https")])
        #expect(result == .init(clientAddress: "198.51.100.4", scheme: "https"))
    }

    @Test func repeatedHeaderLinesAreOneList() {
        let result = resolve(peer: "10.0.0.2", [("X-Forwarded-For", "198.51.100.4"), ("X-Forwarded-For", "10.9.9.9")])
        #expect(result.clientAddress == "198.51.100.4")
    }

    @Test func aChainOfOnlyTrustedHopsEndsAtTheLeftmost() {
        #expect(resolve(peer: "127.0.0.1", [("X-Forwarded-For", "10.0.0.5, 10.0.0.6")]).clientAddress == "10.0.0.5")
    }

    @Test func garbageInTheChainStopsTheWalkAtTheLastProxyWeVouchFor() {
        let result = resolve(peer: "127.0.0.1", [("X-Forwarded-For", "198.51.100.4, <script>, 10.0.0.7")])
        #expect(result.clientAddress == "10.0.0.7")
    }

    @Test func withoutForwardingHeadersTheTrustedPeerIsTheClient() {
        #expect(resolve(peer: "127.0.0.1", [], scheme: "https") == .init(clientAddress: "127.0.0.1", scheme: "https"))
    }

    @Test func onlyHTTPAndHTTPSAreTakenAsTheScheme() {
        #expect(resolve(peer: "127.0.0.1", [("X-Forwarded-Proto", "gopher")]).scheme == "http")
        #expect(resolve(peer: "127.0.0.1", [("X-Forwarded-Proto", "HTTPS")]).scheme == "https")
        #expect(resolve(peer: "127.0.0.1", [("X-Forwarded-Proto", "http, https")]).scheme == "https")
    }

    @Test func bracketedAndMappedAddressesAreUnderstood() {
        #expect(resolve(peer: "127.0.0.1", [("X-Forwarded-For", "[2001:db8::1]")]).clientAddress == "2001:db8::1")
        #expect(resolve(peer: "127.0.0.1", [("X-Forwarded-For", "::ffff:198.51.100.4")]).clientAddress
            == "198.51.100.4")
    }
}
