/// The encoded formats the pipeline decodes, recognised from their magic bytes (never from a file name or a
/// Content-Type, which clients get wrong).
public enum ImageFormat: String, Sendable, Equatable, CustomStringConvertible {
    case jpeg = "JPEG"
    case png = "PNG"

    public var description: String { rawValue }

    /// JPEG: SOI marker followed by the first byte of the next marker.
    static let jpegSignature: [UInt8] = [0xFF, 0xD8, 0xFF]
    /// PNG: the fixed 8-byte signature.
    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Recognises the format from the first bytes.
    ///
    /// - Throws: `ImageError.empty` or `ImageError.unsupportedFormat` naming what the bytes look like.
    public static func sniff(_ bytes: [UInt8]) throws -> ImageFormat {
        if bytes.isEmpty { throw ImageError.empty }
        if bytes.starts(with: jpegSignature) { return .jpeg }
        if bytes.starts(with: pngSignature) { return .png }
        throw ImageError.unsupportedFormat(seen: describe(bytes))
    }

    /// Names a few formats clients commonly send by mistake, so the error is actionable; no bytes are echoed.
    static func describe(_ bytes: [UInt8]) -> String {
        let known: [(prefix: [UInt8], name: String)] = [
            (Array("GIF8".utf8), "GIF"),
            (Array("BM".utf8), "BMP"),
            ([0x49, 0x49, 0x2A, 0x00], "TIFF"),
            ([0x4D, 0x4D, 0x00, 0x2A], "TIFF"),
            ([0x00, 0x00, 0x01, 0x00], "ICO"),
            (Array("%PDF".utf8), "PDF"),
            ([0xFF, 0xD8], "truncated JPEG signature"),
            ([0x89, 0x50, 0x4E, 0x47], "truncated PNG signature"),
        ]
        for (prefix, name) in known where bytes.starts(with: prefix) {
            return "\(name), \(bytes.count) bytes"
        }
        if bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WEBP".utf8) {
            return "WebP, \(bytes.count) bytes"
        }
        if bytes.count >= 12, bytes[4..<8].elementsEqual("ftyp".utf8) {
            return "ISO media (HEIC/AVIF/MP4), \(bytes.count) bytes"
        }
        let head = bytes.prefix(64)
        let printable = head.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        return printable ? "text, \(bytes.count) bytes" : "unknown binary, \(bytes.count) bytes"
    }
}
