// Host header and authority syntax (RFC 9112 §3.2, RFC 3986 §3.2.2), deliberately narrower than the URI grammar:
// sub-delims (`,` `;` `!` ...) and userinfo are rejected because no real client sends them and a proxy may read
// them differently (http-reference B2).

/// Validation of `uri-host [ ":" port ]` for Host fields, absolute-form targets and CONNECT targets.
enum HostSyntax {
    /// Longest port we accept: five digits (65535).
    static let maxPortDigits = 5

    /// True for `reg-name / IPv4 / "[" IPv6 "]"` optionally followed by `:port`; `requirePort` for CONNECT.
    static func isValid(_ bytes: UnsafeRawBufferPointer, requirePort: Bool) -> Bool {
        guard !bytes.isEmpty else { return false }
        var index = 0
        if bytes[0] == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1 else { return false }
            let inside = bytes[1..<close]
            guard inside.allSatisfy({ ASCII.hexValue($0) != nil || $0 == ASCII.colon || $0 == UInt8(ascii: ".") })
            else { return false }
            index = close + 1
        } else {
            while index < bytes.count, isRegNameByte(bytes[index]) { index += 1 }
            guard index > 0 else { return false }
        }
        if index == bytes.count { return !requirePort }
        guard bytes[index] == ASCII.colon else { return false }
        let port = bytes[(index + 1)...]
        guard port.count <= maxPortDigits, port.allSatisfy(ASCII.isDigit) else { return false }
        return !(requirePort && port.isEmpty)
    }

    private static func isRegNameByte(_ byte: UInt8) -> Bool {
        ASCII.isAlpha(byte) || ASCII.isDigit(byte) || byte == ASCII.dash || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~") || byte == ASCII.percent
    }
}
