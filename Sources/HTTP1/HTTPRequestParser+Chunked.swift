// Chunk-size lines of the chunked transfer coding (RFC 9112 §7.1):
//   chunk-size [ chunk-ext ] CRLF, chunk-size = 1*HEXDIG,
//   chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), chunk-ext-val = token / quoted-string
// Extensions are validated, counted against a limit, and ignored (§7.1.1).

extension HTTPRequestParser {
    /// Most hex digits in a chunk size: 16 fit 64 bits (picohttpparser rejects more too, D5).
    static let maxChunkSizeDigits = 16

    mutating func chunkSizeLine(_ line: UnsafeRawBufferPointer, _ events: inout [HTTPParserEvent]) {
        var index = 0
        var size: UInt64 = 0
        while index < line.count, let digit = ASCII.hexValue(line[index]) {
            guard index < Self.maxChunkSizeDigits else {
                fail(.badChunk("chunk size has too many digits"), &events)
                return
            }
            size = size << 4 | UInt64(digit)
            index += 1
        }
        guard index > 0 else {
            fail(.badChunk("missing or invalid chunk size"), &events)
            return
        }
        let extensions = UnsafeRawBufferPointer(rebasing: line[index...])
        chunkExtensionBytes += extensions.count
        guard chunkExtensionBytes <= limits.maxChunkExtensionBytes else {
            fail(.badChunk("chunk extensions are too long"), &events)
            return
        }
        guard Self.isValidChunkExtensions(extensions) else {
            fail(.badChunk("malformed chunk extension"), &events)
            return
        }
        if size == 0 {
            state = .trailerLine
            return
        }
        let budget = UInt64(max(0, limits.maxBodyBytes - chunkedBodyBytes))
        guard size <= budget else {
            fail(.bodyTooLarge, &events)
            return
        }
        chunkedBodyBytes += Int(size)
        state = .chunkData(remaining: Int(size))
    }

    /// True when `bytes` is a well-formed (possibly empty) `chunk-ext`.
    static func isValidChunkExtensions(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        func skipWhitespace() {
            while index < count, ASCII.isWhitespace(bytes[index]) { index += 1 }
        }
        func token() -> Bool {
            let start = index
            while index < count, ASCII.isTokenChar(bytes[index]) { index += 1 }
            return index > start
        }
        while index < count {
            skipWhitespace()
            guard index < count, bytes[index] == ASCII.semicolon else { return false }
            index += 1
            skipWhitespace()
            guard token() else { return false }
            let afterName = index
            skipWhitespace()
            guard index < count, bytes[index] == ASCII.equals else {
                index = afterName
                continue
            }
            index += 1
            skipWhitespace()
            if index < count, bytes[index] == ASCII.quote {
                guard let end = QuotedString.end(of: bytes, openingAt: index) else { return false }
                index = end
            } else {
                guard token() else { return false }
            }
        }
        return true
    }
}

/// RFC 9110 §5.6.4 quoted-string scanning and unescaping, shared by chunk extensions and media-type parameters.
enum QuotedString {
    /// Index just after the closing quote of the quoted-string opening at `start`, or nil when it is unbalanced
    /// or holds a byte that is neither qdtext nor a valid quoted-pair.
    static func end(of bytes: UnsafeRawBufferPointer, openingAt start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.quote { return index + 1 }
            if byte == ASCII.backslash {
                index += 1
                guard index < bytes.count, ASCII.isFieldValueByte(bytes[index]) else { return nil }
            } else if !ASCII.isFieldValueByte(byte) {
                return nil
            }
            index += 1
        }
        return nil
    }

    /// The content of a well-formed quoted-string (quotes removed, quoted-pairs unescaped).
    static func unescape(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 1
        while index < bytes.count - 1 {
            if bytes[index] == ASCII.backslash { index += 1 }
            if index < bytes.count - 1 { out.append(bytes[index]) }
            index += 1
        }
        return out
    }
}
