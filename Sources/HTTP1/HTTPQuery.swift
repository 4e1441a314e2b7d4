// application/x-www-form-urlencoded query decoding (WHATWG URL "urlencoded parser" semantics).

/// Decodes a raw query string into ordered (name, value) pairs.
public enum HTTPQuery {
    /// Splits on `&`, then on the first `=`; `+` becomes space and `%XX` is decoded. Empty pieces (`a=1&&b=2`)
    /// are skipped; a piece without `=` has an empty value. Invalid escapes (`%zz`, a trailing `%`) are kept
    /// literally, as browsers do, rather than failing the request; decoded bytes that are not UTF-8 become U+FFFD.
    public static func parse(_ raw: String) -> [(String, String)] {
        var pairs: [(String, String)] = []
        for piece in raw.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let name: Substring.UTF8View.SubSequence
            let value: Substring.UTF8View.SubSequence
            if let equals = piece.firstIndex(of: ASCII.equals) {
                name = piece[..<equals]
                value = piece[piece.index(after: equals)...]
            } else {
                name = piece
                value = piece[piece.endIndex...]
            }
            pairs.append((decode(name), decode(value)))
        }
        return pairs
    }

    private static func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        let plusAsSpace = bytes.map { $0 == UInt8(ascii: "+") ? ASCII.space : $0 }
        return String(decoding: PercentDecoding.decode(plusAsSpace, strict: false) ?? plusAsSpace, as: UTF8.self)
    }
}

/// `%XX` decoding shared by queries and paths.
enum PercentDecoding {
    /// Decoded bytes; an invalid escape is kept literally when `strict` is false and makes the result nil when
    /// it is true.
    static func decode(_ bytes: [UInt8], strict: Bool) -> [UInt8]? {
        guard bytes.contains(ASCII.percent) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.percent, index + 2 < bytes.count,
               let high = ASCII.hexValue(bytes[index + 1]), let low = ASCII.hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
                continue
            }
            if byte == ASCII.percent, strict { return nil }
            out.append(byte)
            index += 1
        }
        return out
    }
}

/// Safe decoding of a request path into segments for static files.
public enum HTTPPath {
    /// Percent-decodes an origin-form path (query already removed) into its segments, or nil when the path is
    /// unsafe to map onto a file system: it does not start with `/`, has an invalid escape, decodes to a NUL or
    /// other control byte, an encoded `/` or any `\`, a `.` or `..` segment (raw or encoded), or bytes that are not
    /// UTF-8. Empty segments (`//`, trailing `/`) are dropped, so "/" gives [].
    public static func decodeSegments(_ path: String) -> [String]? {
        let bytes = Array(path.utf8)
        guard bytes.first == ASCII.slash else { return nil }
        var segments: [String] = []
        for raw in bytes.split(separator: ASCII.slash, omittingEmptySubsequences: true) {
            guard let decoded = PercentDecoding.decode(Array(raw), strict: true) else { return nil }
            guard !decoded.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == ASCII.slash || $0 == ASCII.backslash })
            else { return nil }
            guard decoded != [0x2E], decoded != [0x2E, 0x2E] else { return nil }
            guard let segment = String(validating: decoded, as: UTF8.self) else { return nil }
            segments.append(segment)
        }
        return segments
    }
}
