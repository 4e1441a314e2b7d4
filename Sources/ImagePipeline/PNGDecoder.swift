import CSpng

/// Decodes PNG (every colour type and bit depth, interlaced or not) to RGB through libspng, producing the bytes
/// transformers' `convert_to_rgb` produces from the PIL image `Image.open` returns.
///
/// PIL's modes decide the numbers: 16-bit RGB/RGBA/gray+alpha are read by their most significant byte (what
/// libspng's 8-bit formats do); 16-bit gray is PIL mode "I;16", whose RGB conversion clips at 255 (not a shift);
/// 1/2/4-bit gray is scaled to 8 bits; palette and tRNS give alpha, which `DecodeOptions.alphaHandling` flattens
/// (tRNS colour keys follow PIL's own comparison rules, see `decode`).
enum PNGDecoder {
    /// Offsets of width and height inside the file: signature (8) + chunk length (4) + "IHDR" (4).
    private static let ihdrWidthOffset = 16
    private static let ihdrHeightOffset = 20

    static func decode(_ bytes: [UInt8], options: DecodeOptions) throws -> DecodedImage {
        guard let ctx = spng_ctx_new(0) else {
            throw ImageError.corrupt(format: .png, reason: "cannot initialise the PNG decoder")
        }
        defer { spng_ctx_free(ctx) }
        return try bytes.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress, !source.isEmpty else { throw ImageError.empty }
            // libspng's own limits are a second line of defence behind checkDimensions.
            let side = UInt32(clamping: options.maxDimension)
            try check(spng_set_image_limits(ctx, side, side), bytes, options)
            try check(spng_set_chunk_limits(ctx, options.pngChunkLimit, options.pngCacheLimit), bytes, options)
            try check(spng_set_png_buffer(ctx, base, source.count), bytes, options)

            var ihdr = spng_ihdr()
            try check(spng_get_ihdr(ctx, &ihdr), bytes, options)
            let width = Int(ihdr.width), height = Int(ihdr.height)
            try options.checkDimensions(width: width, height: height, format: .png)
            let pixelCount = width * height

            var trns = spng_trns()
            let hasTRNS = spng_get_trns(ctx, &trns) == 0
            let colorType = Int(ihdr.color_type)
            let hasAlpha = hasTRNS || colorType == Int(SPNG_COLOR_TYPE_GRAYSCALE_ALPHA.rawValue)
                || colorType == Int(SPNG_COLOR_TYPE_TRUECOLOR_ALPHA.rawValue)
            let alpha: DecodeOptions.AlphaHandling = hasAlpha ? options.alphaHandling : .drop

            let image: RGBImage
            let isGray = colorType == Int(SPNG_COLOR_TYPE_GRAYSCALE.rawValue)
            let isTruecolor = colorType == Int(SPNG_COLOR_TYPE_TRUECOLOR.rawValue)
            if isGray && ihdr.bit_depth == 16 {
                let samples = try decodeImage(ctx, format: SPNG_FMT_PNG, samplesPerPixel: 1, as: UInt16.self,
                                              pixelCount: pixelCount, bytes: bytes, options: options)
                // PIL "I;16" -> "RGB" clips at 255. With a tRNS key PIL compares the clipped value with the key's
                // low byte (key 300 makes 44 transparent); a transparent pixel composites to white.
                let key = hasTRNS && alpha == .compositeOnWhite ? Int(trns.gray & 0xFF) : nil
                var rgb = [UInt8](repeating: 0, count: pixelCount * 3)
                for i in 0..<pixelCount {
                    let clipped = UInt8(clamping: samples[i])
                    let v = Int(clipped) == key ? 255 : clipped
                    rgb[3 * i] = v
                    rgb[3 * i + 1] = v
                    rgb[3 * i + 2] = v
                }
                image = RGBImage(width: width, height: height, pixels: rgb)
            } else if hasTRNS && (isGray || isTruecolor) {
                // A colour key. libspng compares raw samples; PIL compares its 8-bit pixel with the key as stored
                // in `info["transparency"]`, which differs for 1/2/4-bit gray (scaled pixel vs raw key, except
                // 1-bit whose key PIL scales) and 16-bit RGB (most significant byte vs the key's low byte). Apply
                // PIL's rule ourselves on the 8-bit decode.
                var rgba = try decodeImage(ctx, format: SPNG_FMT_RGBA8, samplesPerPixel: 4, as: UInt8.self,
                                           pixelCount: pixelCount, bytes: bytes, options: options)
                let key: (Int, Int, Int)
                if isGray {
                    let g = ihdr.bit_depth == 1 ? Int(trns.gray) * 255 : Int(trns.gray)
                    key = (g, g, g)
                } else if ihdr.bit_depth == 16 {
                    key = (Int(trns.red & 0xFF), Int(trns.green & 0xFF), Int(trns.blue & 0xFF))
                } else {
                    key = (Int(trns.red), Int(trns.green), Int(trns.blue))
                }
                for i in 0..<pixelCount {
                    let matches = Int(rgba[4 * i]) == key.0 && Int(rgba[4 * i + 1]) == key.1
                        && Int(rgba[4 * i + 2]) == key.2
                    rgba[4 * i + 3] = matches ? 0 : 255
                }
                PILColor.rgbaToRGB(&rgba, pixelCount: pixelCount, alpha: alpha)
                image = RGBImage(width: width, height: height, pixels: rgba)
            } else if isTruecolor && ihdr.bit_depth == 8 {
                // The common case: the file's own layout, no conversion (and 3 bytes per pixel at peak, not 7).
                let rgb = try decodeImage(ctx, format: SPNG_FMT_RGB8, samplesPerPixel: 3, as: UInt8.self,
                                          pixelCount: pixelCount, bytes: bytes, options: options)
                image = RGBImage(width: width, height: height, pixels: rgb)
            } else {
                // Palette alpha (tRNS per index) is applied by libspng exactly as PIL does.
                let flags = Int32(SPNG_DECODE_TRNS.rawValue)
                var rgba = try decodeImage(ctx, format: SPNG_FMT_RGBA8, flags: flags, samplesPerPixel: 4, as: UInt8.self,
                                           pixelCount: pixelCount, bytes: bytes, options: options)
                PILColor.rgbaToRGB(&rgba, pixelCount: pixelCount, alpha: alpha)
                image = RGBImage(width: width, height: height, pixels: rgba)
            }
            return DecodedImage(format: .png, image: image, exif: readExif(ctx), xmp: readXMP(ctx))
        }
    }

    /// The whole image in libspng's `format`: `samplesPerPixel` samples of `Sample` per pixel (SPNG_FMT_PNG keeps
    /// the file's layout, one 16-bit sample per pixel for 16-bit gray, in host byte order).
    private static func decodeImage<Sample: FixedWidthInteger>(
        _ ctx: OpaquePointer, format: spng_format, flags: Int32 = 0, samplesPerPixel: Int, as _: Sample.Type,
        pixelCount: Int, bytes: [UInt8], options: DecodeOptions
    ) throws -> [Sample] {
        let format = Int32(format.rawValue)
        var length = 0
        try check(spng_decoded_image_size(ctx, format, &length), bytes, options)
        let count = pixelCount * samplesPerPixel
        guard length == count * MemoryLayout<Sample>.size else {
            throw ImageError.corrupt(format: .png, reason: "unexpected decoded size")
        }
        var samples = [Sample](repeating: 0, count: count)
        let status = samples.withUnsafeMutableBytes { out in
            spng_decode_image(ctx, out.baseAddress, length, format, flags)
        }
        try check(status, bytes, options)
        return samples
    }

    /// The eXIf chunk, if any (read after decoding, so one placed after IDAT is seen too).
    private static func readExif(_ ctx: OpaquePointer) -> [UInt8]? {
        var exif = spng_exif()
        guard spng_get_exif(ctx, &exif) == 0, let data = exif.data, exif.length > 0 else { return nil }
        return data.withMemoryRebound(to: UInt8.self, capacity: exif.length) {
            Array(UnsafeBufferPointer(start: $0, count: exif.length))
        }
    }

    /// The text chunk PIL reads XMP from ("XML:com.adobe.xmp", normally iTXt), if any.
    private static func readXMP(_ ctx: OpaquePointer) -> [UInt8]? {
        var count: UInt32 = 0
        guard spng_get_text(ctx, nil, &count) == 0, count > 0 else { return nil }
        var texts = [spng_text](repeating: spng_text(), count: Int(count))
        guard spng_get_text(ctx, &texts, &count) == 0 else { return nil }
        for var text in texts.prefix(Int(count)) {
            let keyword = withUnsafeBytes(of: &text.keyword) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard keyword == xmpKeyword, let data = text.text else { continue }
            return data.withMemoryRebound(to: UInt8.self, capacity: text.length) {
                Array(UnsafeBufferPointer(start: $0, count: text.length))
            }
        }
        return nil
    }

    /// The keyword of the text chunk holding XMP.
    private static let xmpKeyword = "XML:com.adobe.xmp"

    /// Turns a libspng status into a typed error.
    private static func check(_ status: Int32, _ bytes: [UInt8], _ options: DecodeOptions) throws {
        if status == 0 { return }
        if status == Int32(SPNG_EUSER_WIDTH.rawValue) || status == Int32(SPNG_EUSER_HEIGHT.rawValue) {
            // libspng refused the IHDR against our limit: report the header's numbers the usual way.
            let reader = ByteReader(bytes: bytes, bigEndian: true)
            let width = Int(reader.u32(at: ihdrWidthOffset) ?? 0), height = Int(reader.u32(at: ihdrHeightOffset) ?? 0)
            try options.checkDimensions(width: width, height: height, format: .png)
        }
        if status == Int32(SPNG_EWIDTH.rawValue) || status == Int32(SPNG_EHEIGHT.rawValue) {
            // libspng rejects a zero side as an invalid IHDR; name it like the JPEG path does.
            let reader = ByteReader(bytes: bytes, bigEndian: true)
            if reader.u32(at: ihdrWidthOffset) == 0 || reader.u32(at: ihdrHeightOffset) == 0 {
                throw ImageError.zeroSize(format: .png)
            }
        }
        let truncation: Set<Int32> = [
            Int32(SPNG_IO_EOF.rawValue), Int32(SPNG_EOF.rawValue), Int32(SPNG_EIDAT_TOO_SHORT.rawValue),
        ]
        if truncation.contains(status) { throw ImageError.truncated(format: .png) }
        let reason = spng_strerror(status).map { String(cString: $0) } ?? "error \(status)"
        throw ImageError.corrupt(format: .png, reason: reason)
    }
}
