import CTurboJPEG

/// Decodes JPEG (baseline, progressive, grayscale, CMYK/YCCK) to RGB through libjpeg-turbo's TurboJPEG API,
/// producing the bytes PIL's `Image.open(...).convert("RGB")` produces.
///
/// The installed TurboJPEG is 2.1 (no `tj3*` API), so this uses `tjDecompressHeader3`/`tjDecompress2` and reads
/// failures through `tjGetErrorCode`/`tjGetErrorStr2` (no setjmp on our side).
enum JPEGDecoder {
    /// Accurate integer DCT and fancy upsampling (TurboJPEG's defaults, made explicit) are what Pillow uses;
    /// LIMITSCANS caps progressive scans (500) so a crafted file cannot spin the decoder for minutes.
    static let flags = TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS

    /// libjpeg's warning for data that stops before the EOI marker. PIL refuses such files ("image file is
    /// truncated"), so it is an error here; other libjpeg warnings (e.g. extraneous bytes) PIL accepts, so do we.
    static let prematureEndWarning = "Premature end of JPEG file"

    static func decode(_ bytes: [UInt8], options: DecodeOptions) throws -> DecodedImage {
        guard let handle = tjInitDecompress() else {
            throw ImageError.corrupt(format: .jpeg, reason: "cannot initialise the JPEG decoder")
        }
        defer { tjDestroy(handle) }
        let segments = JPEGSegments(bytes)
        let image: RGBImage = try bytes.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress, !source.isEmpty else { throw ImageError.empty }
            let size = UInt(source.count)
            var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
            if tjDecompressHeader3(handle, base, size, &width, &height, &subsampling, &colorspace) != 0 {
                // libjpeg calls a zero height "Empty JPEG image"; name it like the PNG path does.
                if segments.frameWidth == 0 || segments.frameHeight == 0 { throw ImageError.zeroSize(format: .jpeg) }
                throw failure(handle)
            }
            // Bombs are refused here, before any scan is decoded.
            try options.checkDimensions(width: Int(width), height: Int(height), format: .jpeg)
            let pixelCount = Int(width) * Int(height)
            let isCMYK = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
            let channels = isCMYK ? 4 : 3
            let format = isCMYK ? TJPF_CMYK : TJPF_RGB
            var pixels = [UInt8](repeating: 0, count: pixelCount * channels)
            let status = pixels.withUnsafeMutableBufferPointer { destination in
                tjDecompress2(handle, base, size, destination.baseAddress, width, 0, height,
                              Int32(format.rawValue), Int32(flags))
            }
            if status != 0 {
                // A warning still leaves a complete picture; only truncation is treated as fatal (see above).
                let isWarning = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
                if !isWarning || errorString(handle).hasPrefix(prematureEndWarning) {
                    throw failure(handle)
                }
            }
            if isCMYK { PILColor.invertedCMYKToRGB(&pixels, pixelCount: pixelCount) }
            return RGBImage(width: Int(width), height: Int(height), pixels: pixels)
        }
        return DecodedImage(format: .jpeg, image: image, exif: segments.exif, xmp: segments.xmp)
    }

    private static func errorString(_ handle: tjhandle) -> String {
        guard let message = tjGetErrorStr2(handle) else { return "unknown error" }
        return String(cString: message)
    }

    /// Maps a TurboJPEG failure to a typed error. The message is libjpeg's (it names the problem, never input
    /// bytes).
    private static func failure(_ handle: tjhandle) -> ImageError {
        let message = errorString(handle)
        if message.contains("Premature end") || message.contains("premature end") {
            return .truncated(format: .jpeg)
        }
        return .corrupt(format: .jpeg, reason: message)
    }
}

/// A walk over the JPEG marker segments before the first scan, to find the Exif APP1 block and the frame size.
///
/// Every length is checked against the buffer; a malformed layout simply ends the walk (libjpeg then reports the
/// real error when decoding).
struct JPEGSegments {
    /// APP1 payloads that start with "Exif\0\0", prefix included; PIL appends later ones (minus their prefix).
    private(set) var exif: [UInt8]?
    /// The last XMP APP1 packet (PIL keeps the last), after its namespace header.
    private(set) var xmp: [UInt8]?
    /// Width and height from the first SOFn segment, if one was reached.
    private(set) var frameWidth: Int?
    private(set) var frameHeight: Int?

    /// Markers that stand alone, without a length field: TEM and RST0...RST7.
    private static func isStandalone(_ marker: UInt8) -> Bool { marker == 0x01 || (0xD0...0xD7).contains(marker) }
    /// Start of scan: entropy-coded data follows, no more metadata segments to look at.
    private static let startOfScan: UInt8 = 0xDA
    private static let endOfImage: UInt8 = 0xD9
    private static let app1: UInt8 = 0xE1
    private static let xmpHeader = Array("http://ns.adobe.com/xap/1.0/".utf8) + [0]

    /// SOF0...SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC) which share the range.
    private static func isStartOfFrame(_ marker: UInt8) -> Bool {
        (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
    }

    init(_ bytes: [UInt8]) {
        var offset = 2  // past SOI
        while offset + 1 < bytes.count {
            guard bytes[offset] == 0xFF else { return }
            let marker = bytes[offset + 1]
            if marker == 0xFF { offset += 1; continue }  // fill byte
            if Self.isStandalone(marker) { offset += 2; continue }
            if marker == Self.startOfScan || marker == Self.endOfImage { return }
            guard offset + 3 < bytes.count else { return }
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard length >= 2, offset + 2 + length <= bytes.count else { return }
            let payload = bytes[(offset + 4)..<(offset + 2 + length)]
            if marker == Self.app1, payload.starts(with: ExifOrientation.exifPrefix) {
                if exif == nil {
                    exif = Array(payload)
                } else {
                    exif? += payload.dropFirst(ExifOrientation.exifPrefix.count)
                }
            } else if marker == Self.app1, payload.starts(with: Self.xmpHeader) {
                xmp = Array(payload.dropFirst(Self.xmpHeader.count))
            }
            // SOF payload: precision (1), height (2), width (2), ...
            if Self.isStartOfFrame(marker), frameWidth == nil, payload.count >= 5 {
                let p = payload.startIndex
                frameHeight = Int(payload[p + 1]) << 8 | Int(payload[p + 2])
                frameWidth = Int(payload[p + 3]) << 8 | Int(payload[p + 4])
            }
            offset += 2 + length
        }
    }
}
