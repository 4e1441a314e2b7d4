/// The EXIF orientation tag (0x0112) and the transpose that undoes it, as `PIL.ImageOps.exif_transpose` applies it
/// (transformers' `load_image` calls that before preprocessing).
public enum ExifOrientation: Int, Sendable, CaseIterable {
    case normal = 1
    case mirrorHorizontal = 2
    case rotate180 = 3
    case mirrorVertical = 4
    case transpose = 5
    case rotate90Clockwise = 6
    case transverse = 7
    case rotate90CounterClockwise = 8

    /// TIFF tag number of Orientation in IFD0.
    static let orientationTag: UInt16 = 0x0112
    /// TIFF types SHORT (what the standard prescribes for Orientation) and LONG (which PIL reads as well).
    static let shortType: UInt16 = 3
    static let longType: UInt16 = 4
    /// Bytes of one IFD entry: tag, type, count, value/offset.
    static let ifdEntrySize = 12
    /// More IFD0 entries than this means a malformed block; real files have a few dozen.
    static let maxIFDEntries = 1_000
    /// The prefix of a JPEG APP1 Exif payload (also tolerated at the start of a PNG eXIf chunk).
    static let exifPrefix: [UInt8] = Array("Exif".utf8) + [0, 0]

    /// Reads the orientation from an EXIF block (TIFF header + IFD0), with every read bounds-checked.
    ///
    /// Returns nil when there is no usable tag (absent, malformed, or out of 1...8): the image is then left as is,
    /// like PIL does.
    public static func parse(exif: [UInt8]) -> ExifOrientation? {
        tagValue(exif: exif).flatMap { ExifOrientation(rawValue: $0) }
    }

    /// The orientation `PIL.ImageOps.exif_transpose` would use: the EXIF tag if the block has one (whatever its
    /// value), else the XMP `tiff:Orientation` (Pillow's `getexif` falls back to it), else none.
    static func resolve(exif: [UInt8]?, xmp: [UInt8]?) -> ExifOrientation? {
        if let exif, let value = tagValue(exif: exif) { return ExifOrientation(rawValue: value) }
        if let xmp, let value = xmpValue(xmp) { return ExifOrientation(rawValue: value) }
        return nil
    }

    /// The raw Orientation value in IFD0, or nil when the block has no readable tag.
    static func tagValue(exif: [UInt8]) -> Int? {
        let tiff = exif.starts(with: exifPrefix) ? Array(exif.dropFirst(exifPrefix.count)) : exif
        let reader: ByteReader
        if tiff.starts(with: [0x49, 0x49, 0x2A, 0x00]) {
            reader = ByteReader(bytes: tiff, bigEndian: false)
        } else if tiff.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) {
            reader = ByteReader(bytes: tiff, bigEndian: true)
        } else {
            return nil
        }
        guard let ifdOffset = reader.u32(at: 4), ifdOffset <= UInt32(Int32.max),
              let count = reader.u16(at: Int(ifdOffset)), Int(count) <= maxIFDEntries else { return nil }
        for entry in 0..<Int(count) {
            let at = Int(ifdOffset) + 2 + entry * ifdEntrySize
            guard let tag = reader.u16(at: at) else { return nil }
            guard tag == orientationTag else { continue }
            // PIL reads the tag whatever its integer type; SHORT is what the standard prescribes.
            switch reader.u16(at: at + 2) {
            case shortType: return reader.u16(at: at + 8).map(Int.init)
            case longType: return reader.u32(at: at + 8).map { Int($0) }
            default: return nil
            }
        }
        return nil
    }

    /// Pillow's XMP fallback: the first `tiff:Orientation="d` or `tiff:Orientation>d` (one ASCII digit).
    static func xmpValue(_ xmp: [UInt8]) -> Int? {
        let key = Array("tiff:Orientation".utf8)
        let quote = UInt8(ascii: "\""), equals = UInt8(ascii: "="), close = UInt8(ascii: ">")
        let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
        var start = 0
        while start + key.count < xmp.count {
            guard let found = firstIndex(of: key, in: xmp, from: start) else { return nil }
            var at = found + key.count
            if at + 1 < xmp.count, xmp[at] == equals, xmp[at + 1] == quote {
                at += 2
            } else if at < xmp.count, xmp[at] == close {
                at += 1
            } else {
                start = found + 1
                continue
            }
            if at < xmp.count, (zero...nine).contains(xmp[at]) { return Int(xmp[at] - zero) }
            start = found + 1
        }
        return nil
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var i = start
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// Returns the image turned upright.
    public func apply(to image: RGBImage) -> RGBImage {
        if self == .normal { return image }
        let w = image.width, h = image.height
        let swapsAxes = rawValue >= 5
        let outW = swapsAxes ? h : w, outH = swapsAxes ? w : h
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outH {
                    for x in 0..<outW {
                        // (sx, sy): the source pixel that lands at (x, y), per PIL's Transpose methods.
                        let sx: Int, sy: Int
                        switch self {
                        case .normal: (sx, sy) = (x, y)
                        case .mirrorHorizontal: (sx, sy) = (w - 1 - x, y)
                        case .rotate180: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case .mirrorVertical: (sx, sy) = (x, h - 1 - y)
                        case .transpose: (sx, sy) = (y, x)
                        case .rotate90Clockwise: (sx, sy) = (y, h - 1 - x)
                        case .transverse: (sx, sy) = (w - 1 - y, h - 1 - x)
                        case .rotate90CounterClockwise: (sx, sy) = (w - 1 - y, x)
                        }
                        let s = (sy * w + sx) * 3, d = (y * outW + x) * 3
                        dst[d] = src[s]
                        dst[d + 1] = src[s + 1]
                        dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(width: outW, height: outH, pixels: out)
    }
}

/// Bounds-checked big/little-endian reads over untrusted bytes; nil instead of a trap when out of range.
struct ByteReader {
    let bytes: [UInt8]
    let bigEndian: Bool

    func u16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset <= bytes.count - 2 else { return nil }
        let a = UInt16(bytes[offset]), b = UInt16(bytes[offset + 1])
        return bigEndian ? a << 8 | b : b << 8 | a
    }

    func u32(at offset: Int) -> UInt32? {
        guard let first = u16(at: offset), let second = u16(at: offset + 2) else { return nil }
        return bigEndian ? UInt32(first) << 16 | UInt32(second) : UInt32(second) << 16 | UInt32(first)
    }
}
