/// How untrusted image bytes are decoded: resource limits and the orientation/alpha policy.
public struct DecodeOptions: Sendable, Equatable {
    /// Default pixel budget: 40 Mpx covers every phone/camera photo in common use (~12–50 Mpx is rare above 40),
    /// while bounding the decoded RGB buffer (3 bytes/px, plus 4 bytes/px transient) to well under 300 MB.
    public static let defaultMaxPixels = 40_000_000
    /// Default longest side: beyond 16384 px an image is a strip or a bomb, not a photo; it also bounds the
    /// resize coefficient tables, which grow with the input side.
    public static let defaultMaxDimension = 16_384
    /// Largest PNG chunk libspng may read (IDAT data is streamed and not bound by this): 8 MiB is far more than any
    /// legitimate ancillary chunk (ICC profiles, EXIF, text) needs.
    public static let defaultPNGChunkLimit = 8 << 20
    /// Total memory libspng may spend caching ancillary chunks (text, sPLT...), so a PNG with thousands of text
    /// chunks cannot grow memory without bound.
    public static let defaultPNGCacheLimit = 32 << 20

    /// What to do with transparency when converting to RGB.
    public enum AlphaHandling: Sendable, Equatable {
        /// Composite onto opaque white, as transformers 5.x `convert_to_rgb` does inside the image processor.
        case compositeOnWhite
        /// Drop alpha, as `PIL.Image.convert("RGB")` does (what `transformers.image_utils.load_image` returns).
        case drop
    }

    /// Most pixels (width × height) accepted, checked from the header before decoding.
    public var maxPixels: Int
    /// Longest side accepted, checked from the header before decoding.
    public var maxDimension: Int
    /// Apply the EXIF orientation (JPEG APP1 Exif, PNG eXIf), as `load_image` does with `exif_transpose`.
    public var applyExifOrientation: Bool
    /// How alpha (and PNG tRNS transparency) is turned into RGB.
    public var alphaHandling: AlphaHandling
    /// libspng chunk size limit in bytes.
    public var pngChunkLimit: Int
    /// libspng ancillary chunk cache limit in bytes.
    public var pngCacheLimit: Int

    public init(
        maxPixels: Int = DecodeOptions.defaultMaxPixels,
        maxDimension: Int = DecodeOptions.defaultMaxDimension,
        applyExifOrientation: Bool = true,
        alphaHandling: AlphaHandling = .compositeOnWhite,
        pngChunkLimit: Int = DecodeOptions.defaultPNGChunkLimit,
        pngCacheLimit: Int = DecodeOptions.defaultPNGCacheLimit
    ) {
        self.maxPixels = maxPixels
        self.maxDimension = maxDimension
        self.applyExifOrientation = applyExifOrientation
        self.alphaHandling = alphaHandling
        self.pngChunkLimit = pngChunkLimit
        self.pngCacheLimit = pngCacheLimit
    }

    /// Rejects header dimensions that are zero or over the limits; called before any pixel is decoded.
    func checkDimensions(width: Int, height: Int, format: ImageFormat) throws {
        if width <= 0 || height <= 0 { throw ImageError.zeroSize(format: format) }
        if width > maxDimension || height > maxDimension {
            throw ImageError.dimensionTooLarge(width: width, height: height, limit: maxDimension)
        }
        // Both sides are <= maxDimension here, so the product cannot overflow Int.
        if width * height > maxPixels {
            throw ImageError.tooManyPixels(width: width, height: height, limit: maxPixels)
        }
    }
}
