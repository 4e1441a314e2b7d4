import HTTP1

/// Who the client really is behind reverse proxies. `X-Forwarded-For` and `X-Forwarded-Proto` are believed only
/// when the connection comes from a trusted proxy; otherwise any client could write its own log lines' address.
/// The client is the rightmost `X-Forwarded-For` hop that is not itself a trusted proxy (hops to its left were
/// written by the client and prove nothing), as nginx's `real_ip_recursive on` decides.
public struct ProxyTrust: Sendable, Equatable {
    public var trustedProxies: [IPAddressRange]

    public init(trustedProxies: [IPAddressRange]) {
        self.trustedProxies = trustedProxies
    }

    /// The client address and scheme of one request.
    public struct Resolution: Sendable, Equatable {
        /// The client's IP address (no port).
        public var clientAddress: String
        /// "http" or "https", as the client used it.
        public var scheme: String
    }

    /// Resolves a request that arrived from `peer` (4 or 16 bytes; `peerText` is its printable form) over a
    /// transport whose own scheme is `transportScheme`.
    public func resolve(peer: [UInt8], peerText: String, headers: HTTPHeaders, transportScheme: String) -> Resolution {
        var resolution = Resolution(clientAddress: peerText, scheme: transportScheme)
        guard isTrusted(peer) else { return resolution }
        let hops = headers.values("X-Forwarded-For").flatMap { $0.split(separator: ",") }.map(trimOWS)
        for hop in hops.reversed().prefix(Self.maxForwardedHops) {
            // A hop that is not an address ends the walk: the proxy to its right is the last one we can vouch for.
            guard let address = IPAddressRange.parseAddress(String(hop)) else { break }
            resolution.clientAddress = IPAddressRange.format(IPAddressRange.unmapped(address)) ?? String(hop)
            if !isTrusted(address) { break }
        }
        // The nearest proxy sets (or appends) the scheme it saw; only the two real values are taken.
        if let proto = headers.values("X-Forwarded-Proto").last?.split(separator: ",").last {
            let value = trimOWS(proto).lowercased()
            if value == "http" || value == "https" { resolution.scheme = value }
        }
        return resolution
    }

    public func isTrusted(_ address: [UInt8]) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    /// Hops examined from the right; a chain of proxies longer than this is not a deployment but an attack.
    static let maxForwardedHops = 32
}
