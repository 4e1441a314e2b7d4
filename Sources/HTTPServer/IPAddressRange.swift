#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `fd00::/8`, or a single address), as operators list
/// the reverse proxies whose `X-Forwarded-*` headers the server may believe.
public struct IPAddressRange: Sendable, Equatable, CustomStringConvertible {
    /// Network address in network byte order: 4 bytes (IPv4) or 16 (IPv6), host bits cleared.
    public let network: [UInt8]
    /// Leading bits that must match.
    public let prefixLength: Int

    /// Why a range did not parse; the message names the offending text.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case badAddress(String)
        case badPrefixLength(String)

        public var description: String {
            switch self {
            case .badAddress(let text): "'\(text)' is not an IPv4 or IPv6 address"
            case .badPrefixLength(let text): "'\(text)' has a prefix length outside the address size"
            }
        }
    }

    /// Parses `address` or `address/length`.
    public init(_ text: String) throws(ParseError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, let address = IPAddressRange.parseAddress(String(first)) else {
            throw .badAddress(text)
        }
        let bits = address.count * 8
        var length = bits
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.utf8.count <= 3, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let parsed = Int(digits),
                  (0...bits).contains(parsed)
            else { throw .badPrefixLength(text) }
            length = parsed
        }
        var masked = address
        for index in masked.indices {
            let keep = min(8, max(0, length - index * 8))
            masked[index] &= keep == 0 ? 0 : ~UInt8(0) << UInt8(8 - keep)
        }
        self.network = masked
        self.prefixLength = length
    }

    /// A list separated by commas and/or spaces, as `--trusted-proxies` and `TIAOYU_TRUSTED_PROXIES` take it.
    public static func parseList(_ text: String) throws(ParseError) -> [IPAddressRange] {
        var ranges: [IPAddressRange] = []
        for item in text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
            ranges.append(try IPAddressRange(String(item)))
        }
        return ranges
    }

    /// Whether `address` (4 or 16 bytes) lies in this network. IPv4-mapped IPv6 addresses count as IPv4.
    public func contains(_ address: [UInt8]) -> Bool {
        let candidate = Self.unmapped(address)
        guard candidate.count == network.count else { return false }
        var remaining = prefixLength
        for index in network.indices where remaining > 0 {
            let take = min(8, remaining)
            let mask: UInt8 = ~UInt8(0) << UInt8(8 - take)
            if candidate[index] & mask != network[index] { return false }
            remaining -= take
        }
        return true
    }

    public var description: String {
        (Self.format(network) ?? "?") + "/\(prefixLength)"
    }

    /// The bytes of a literal IPv4 or IPv6 address (brackets around IPv6 allowed), nil for anything else.
    public static func parseAddress(_ text: String) -> [UInt8]? {
        var literal = Substring(text)
        if literal.hasPrefix("["), literal.hasSuffix("]") { literal = literal.dropFirst().dropLast() }
        // inet_pton also reads zone ids and odd forms on some platforms: keep to plain literal characters.
        guard !literal.isEmpty, literal.utf8.count <= maxLiteralBytes,
              literal.utf8.allSatisfy({ $0 == 0x2E || $0 == 0x3A || ASCIIHex.value($0) != nil })
        else { return nil }
        let string = String(literal)
        if string.contains(":") {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, string, &raw) == 1 else { return nil }
            return withUnsafeBytes(of: &raw) { Array($0) }
        }
        var raw = in_addr()
        guard inet_pton(AF_INET, string, &raw) == 1 else { return nil }
        return withUnsafeBytes(of: &raw) { Array($0) }
    }

    /// Text form of a 4- or 16-byte address.
    public static func format(_ address: [UInt8]) -> String? {
        guard address.count == 4 || address.count == 16 else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = address.count == 4 ? AF_INET : AF_INET6
        let ok = address.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) != nil }
        guard ok else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `::ffff:a.b.c.d` as its 4 IPv4 bytes; anything else unchanged.
    static func unmapped(_ address: [UInt8]) -> [UInt8] {
        guard address.count == 16, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF
        else { return address }
        return Array(address[12..<16])
    }

    /// The longest address literal worth handing to inet_pton (a full IPv6 form with an embedded IPv4 is 45).
    static let maxLiteralBytes = 64
}

/// Hex digit values for address literals.
enum ASCIIHex {
    static func value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
