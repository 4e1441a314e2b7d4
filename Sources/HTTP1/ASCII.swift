// Byte classes of RFC 9110 §5.6 (tchar, OWS, field-vchar) and helpers shared by the parsers in this module.
// Written as switches rather than tables: no global initialisation and no bounds checks in the hot loop.

/// Byte constants and character classes used by every parser in the module.
enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let comma: UInt8 = 0x2C
    static let slash: UInt8 = 0x2F
    static let question: UInt8 = 0x3F
    static let percent: UInt8 = 0x25
    static let dash: UInt8 = 0x2D
    static let crlf: [UInt8] = [0x0D, 0x0A]

    /// `tchar` of RFC 9110 §5.6.2: the bytes of a token (method, field name, coding, parameter name).
    @inline(__always)
    static func isTokenChar(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        // ! # $ % & ' * + - . ^ _ ` | ~
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
        default: return false
        }
    }

    /// SP or HTAB: the only optional whitespace (OWS/BWS) HTTP allows; never trim anything else (http-ref B12).
    @inline(__always)
    static func isWhitespace(_ b: UInt8) -> Bool { b == space || b == tab }

    /// Bytes allowed inside a field value: field-vchar, SP and HTAB. obs-text (0x80-0xFF) is accepted as opaque.
    @inline(__always)
    static func isFieldValueByte(_ b: UInt8) -> Bool { b == tab || (b >= 0x20 && b != 0x7F) }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    @inline(__always)
    static func isAlpha(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }

    /// Value of a hexadecimal digit, or nil.
    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    @inline(__always)
    static func lowercased(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }

    /// ASCII case-insensitive comparison of raw bytes with a lowercase literal.
    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        let literal = UnsafeRawBufferPointer(start: lower.utf8Start, count: lower.utf8CodeUnitCount)
        for i in 0..<bytes.count where lowercased(bytes[i]) != literal[i] {
            return false
        }
        return true
    }

    /// ASCII case-insensitive string equality (Unicode case folding deliberately not applied: HTTP names are ASCII).
    static func caseInsensitiveEquals(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }  // most header-name comparisons end here
        var ia = a.utf8.makeIterator()
        var ib = b.utf8.makeIterator()
        while true {
            switch (ia.next(), ib.next()) {
            case (nil, nil): return true
            case let (x?, y?) where lowercased(x) == lowercased(y): continue
            default: return false
            }
        }
    }

    /// `bytes` with leading and trailing SP/HTAB removed (only those: RFC 9110 §5.5).
    static func trimmingWhitespace(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end, isWhitespace(bytes[start]) { start += 1 }
        while end > start, isWhitespace(bytes[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// A String from bytes: UTF-8, with invalid sequences (obs-text) replaced by U+FFFD.
    @inline(__always)
    static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    /// Lowercase of the ASCII letters only.
    var asciiLowercased: String {
        var utf8 = Array(self.utf8)
        for i in utf8.indices { utf8[i] = ASCII.lowercased(utf8[i]) }
        return String(decoding: utf8, as: UTF8.self)
    }
}
