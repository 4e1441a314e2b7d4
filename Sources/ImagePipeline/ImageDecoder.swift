/// Untrusted bytes → upright 8-bit RGB: sniff the format, check the header against the limits, decode, flatten
/// alpha/CMYK/16-bit the way transformers + PIL do, then apply the EXIF orientation.
public enum ImageDecoder {
    /// Decodes JPEG or PNG bytes.
    ///
    /// - Throws: `ImageError` for empty, unknown, oversized, truncated or corrupt input.
    public static func decode(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws -> RGBImage {
        let decoded: DecodedImage
        switch try ImageFormat.sniff(bytes) {
        case .jpeg: decoded = try JPEGDecoder.decode(bytes, options: options)
        case .png: decoded = try PNGDecoder.decode(bytes, options: options)
        }
        guard options.applyExifOrientation,
              let orientation = ExifOrientation.resolve(exif: decoded.exif, xmp: decoded.xmp) else {
            return decoded.image
        }
        return orientation.apply(to: decoded.image)
    }
}
