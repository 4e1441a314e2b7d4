// GPT-2's `bytes_to_unicode` (openai/gpt-2 `encoder.py`), shared by the ByteLevel pre-tokenizer, decoder and
// post-processor.

/// GPT-2's reversible map between the 256 byte values and 256 printable Unicode characters.
///
/// Bytes that are printable Latin-1 (`!`...`~`, `¡`...`¬`, `®`...`ÿ`) stand for themselves; the other 68 (controls,
/// space, soft hyphen...) are given the characters U+0100, U+0101... in byte order. So a space is `Ġ` (U+0120)
/// and a newline `Ċ` (U+010A).
public enum ByteLevelAlphabet {
    /// The character standing for each byte value.
    public static let scalarOfByte: [Unicode.Scalar] = {
        var table: [Unicode.Scalar] = []
        table.reserveCapacity(256)
        var next: UInt32 = 256  // the first code point given to a byte that does not stand for itself
        for byte in 0..<256 {
            let value = UInt32(byte)
            if standsForItself(value) {
                table.append(Unicode.Scalar(UInt8(byte)))
            } else {
                // 256 + n stays below 0x0144: always a valid scalar.
                table.append(Unicode.Scalar(next) ?? "?")
                next += 1
            }
        }
        return table
    }()

    /// The byte a character stands for (nil for characters outside the alphabet).
    public static let byteOfScalar: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in scalarOfByte.enumerated() { map[scalar] = UInt8(byte) }
        return map
    }()

    /// The printable Latin-1 ranges GPT-2 keeps as they are.
    static func standsForItself(_ value: UInt32) -> Bool {
        (0x21...0x7E).contains(value) || (0xA1...0xAC).contains(value) || (0xAE...0xFF).contains(value)
    }
}
